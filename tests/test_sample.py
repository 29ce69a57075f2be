"""The seeded sample generator (zgc_space.sample) and the committed sample_data/ files."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from geopandas.testing import assert_geodataframe_equal
from rasterio import features

from zgc_space import schema
from zgc_space.datasets import _parks as _sample_parks
from zgc_space.datasets import _raster as _sample_raster
from zgc_space.datasets import _readme as _sample_readme
from zgc_space.datasets import _shapes as _sample_shapes
from zgc_space.datasets import sample

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
CENTRAL = ["东城园", "西城园", "朝阳园", "海淀园"]
OUTER = ["延庆园", "密云园", "平谷园", "怀柔园", "房山园", "门头沟园"]
LAND_TOL = 1e-9  # relative: float sums of exactly nested parts


@pytest.fixture(scope="module")
def blocks() -> gpd.GeoDataFrame:
    return sample.make_blocks()


@pytest.fixture(scope="module")
def panel() -> gpd.GeoDataFrame:
    return sample.make_panel()


@pytest.fixture(scope="module")
def candidates() -> gpd.GeoDataFrame:
    return sample.make_candidates()


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return sample.make_districts()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    paths = sample.generate(out)
    assert paths == [out / name for name in sample.FILES]
    return out


def _nesting_violations(frame: pd.DataFrame) -> dict[str, list[str]]:
    bad = {}
    for rule in schema.NESTING_RULES:
        small = frame[list(rule.smaller)].sum(axis=1)
        large = frame[list(rule.larger)].sum(axis=1)
        over = small > large * (1 + LAND_TOL) + 1e-6
        if over.any():
            bad[rule.text] = frame.index[over].astype(str).tolist()
    return bad


# --- the blocks -------------------------------------------------------------------------------


def test_counts_ids_and_crs(blocks: gpd.GeoDataFrame) -> None:
    assert len(blocks) == 164
    assert blocks.crs.to_epsg() == 4548
    assert blocks["block_id"].tolist() == [f"B{i:03d}" for i in range(1, 165)]
    assert set(blocks["subpark"]) == set(schema.SUBPARKS)
    assert blocks["name"].is_unique and blocks["name"].str.contains(r"[\u4e00-\u9fff]").all()
    assert blocks["cluster"].str.fullmatch(r"\w+园-\d").all()
    assert (blocks["district"] == blocks["subpark"].map(lambda p: schema.SUBPARKS[p].district)).all()


def test_zone_totals_reproduce_the_report(blocks: gpd.GeoDataFrame) -> None:
    area_km2 = blocks["site_area_m2"].sum() / 1e6
    far = blocks["gfa_m2"].sum() / blocks["built_m2"].sum()
    b_km2 = (blocks["ready_m2"] + blocks["unready_m2"]).sum() / 1e6
    c_km2 = blocks["nonconstruction_m2"].sum() / 1e6
    assert area_km2 == pytest.approx(488.0, rel=0.005)
    assert far == pytest.approx(1.18, abs=0.005)
    assert b_km2 == pytest.approx(27.0, abs=0.2)
    assert c_km2 == pytest.approx(24.0, abs=0.2)


def test_every_canonical_column_filled(blocks: gpd.GeoDataFrame) -> None:
    assert list(blocks.columns) == [*schema.COLUMNS, "geometry"]
    assert not blocks.drop(columns="geometry").isna().any().any()
    numeric = [c for c, col in schema.COLUMNS.items() if col.numeric]
    assert (blocks[numeric] >= 0).all().all()
    assert (blocks["far_cap"] > 0).all()
    assert (blocks["year"] == sample.SAMPLE_YEAR).all()
    assert set(blocks["gfa_source"]) <= set(schema.GFA_SOURCES)
    assert (blocks["gfa_source"] == "surveyed").mean() > 0.9
    assert blocks["policy_zone"].dtype == bool and 0 < blocks["policy_zone"].sum() < 164
    assert blocks["owner_type"].nunique() >= 3 and blocks["owner_count"].max() >= 20


def test_site_area_is_the_geometry_area(blocks: gpd.GeoDataFrame) -> None:
    np.testing.assert_array_equal(blocks["site_area_m2"].to_numpy(), blocks.geometry.area.to_numpy())


def test_land_accounting_nests_and_adds_up(blocks: gpd.GeoDataFrame) -> None:
    assert _nesting_violations(blocks) == {}
    parts = blocks[["built_m2", "ready_m2", "unready_m2", "nonconstruction_m2"]].sum(axis=1)
    np.testing.assert_allclose(parts, blocks["site_area_m2"], rtol=1e-12)
    assert (blocks["gfa_m2"] >= blocks["footprint_m2"]).all()
    assert (blocks["industrial_footprint_m2"] <= blocks["built_industrial_m2"]).all()
    assert (blocks["industrial_tax_10k_cny"] <= blocks["tax_10k_cny"]).all()
    assert (blocks["industrial_revenue_10k_cny"] <= blocks["revenue_10k_cny"]).all()
    assert (blocks["industrial_fixed_asset_10k_cny"] <= blocks["fixed_asset_10k_cny"]).all()
    assert (blocks["hightech_enterprises"] <= blocks["enterprises"]).all()


def test_geometries_valid_irregular_and_disjoint(blocks: gpd.GeoDataFrame) -> None:
    geoms = blocks.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    types = set(blocks.geom_type)
    assert types == {"Polygon", "MultiPolygon"}
    holes = sum(shapely.get_num_interior_rings(p) for g in geoms for p in shapely.get_parts(g))
    assert holes >= 5
    assert (blocks.geom_type == "MultiPolygon").sum() >= 5
    area_km2 = blocks["site_area_m2"] / 1e6
    assert area_km2.min() >= 0.05 - 1e-6 and area_km2.min() < 0.1
    assert area_km2.max() <= 30 * (1 + 1e-5) and area_km2.max() > 20
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    assert (left == right).all(), "blocks must not overlap or touch"


def test_blocks_inside_their_district(blocks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> None:
    outline = dict(zip(districts["name"], districts.geometry.buffer(5.0), strict=True))
    outside = [bid for bid, d, g in zip(blocks["block_id"], blocks["district"], blocks.geometry, strict=True)
               if not outline[d].contains(g)]
    assert outside == []


def test_subpark_areas_published_and_assumed(blocks: gpd.GeoDataFrame) -> None:
    table = sample.subpark_table()
    assert table["area_km2"].sum() == pytest.approx(488.0)
    assert table["n_blocks"].sum() == 164
    by_park = blocks.groupby("subpark")["site_area_m2"].sum() / 1e6
    counts = blocks.groupby("subpark").size()
    for row in table.itertuples():
        assert by_park[row.subpark] == pytest.approx(row.area_km2, rel=1e-4)
        assert counts[row.subpark] == row.n_blocks
        published = schema.SUBPARKS[row.subpark].published_area_km2
        assert row.published == (published is not None)
        if published is not None:
            assert row.area_km2 == published and row.source.startswith("http")
    assert by_park.idxmax() == "海淀园" and counts.idxmax() == "海淀园"


def test_zone_is_city_industry_integrated(blocks: gpd.GeoDataFrame) -> None:
    a = blocks["built_m2"].sum()
    assert blocks["built_industrial_m2"].sum() / a <= 0.30
    assert blocks["built_residential_m2"].sum() / a >= 0.25
    density = blocks["footprint_m2"].sum() / a
    assert 0.25 <= density <= 0.35


def test_central_dense_outer_loose(blocks: gpd.GeoDataFrame) -> None:
    g = blocks.assign(b=blocks["ready_m2"] + blocks["unready_m2"]).groupby(
        blocks["subpark"].map(lambda p: "central" if p in CENTRAL else "outer" if p in OUTER else "middle")
    ).sum(numeric_only=True)
    b_share = g["b"] / g["site_area_m2"]
    tax_per_ha = g["tax_10k_cny"] / (g["built_m2"] / 1e4)
    revenue_per_worker = g["revenue_10k_cny"] / g["employees"]
    far = g["gfa_m2"] / g["built_m2"]
    assert b_share["central"] < 0.02 < 0.1 < b_share["outer"]
    assert tax_per_ha["central"] > 3 * tax_per_ha["middle"] > 3 * tax_per_ha["outer"]
    assert revenue_per_worker["central"] > 2 * revenue_per_worker["outer"]
    assert far["central"] > far["middle"] > far["outer"]


def test_economy_of_the_published_order(blocks: gpd.GeoDataFrame) -> None:
    # published: ≈ 2,970 bn CNY revenue in Jan-May 2021; 1.74 m employees and 46.5 bn CNY tax in 2015 Q1
    assert 4e8 < blocks["revenue_10k_cny"].sum() < 1.5e9  # 万元: 4,000-15,000 bn CNY
    assert 1_700_000 < blocks["employees"].sum() < 4_000_000
    assert 1e7 < blocks["tax_10k_cny"].sum() < 1e8
    tax_per_ha = blocks["tax_10k_cny"].sum() / (blocks["built_m2"].sum() / 1e4)
    assert 300 < tax_per_ha < 1500  # national mean 540 万元/ha (2020): mid-table, not off the scale


def test_far_caps_mostly_above_current(blocks: gpd.GeoDataFrame) -> None:
    over = blocks["far_cap"] * blocks["site_area_m2"] < blocks["gfa_m2"]
    assert 0 < over.sum() <= 5
    assert (blocks["far_cap"] > 0).all()


def test_same_seed_same_frames_other_seed_differs() -> None:
    first = sample._build.__wrapped__(7)
    second = sample._build.__wrapped__(7)
    assert_geodataframe_equal(first["blocks"], second["blocks"])
    assert_geodataframe_equal(first["candidates"], second["candidates"])
    other = sample._build.__wrapped__(8)["blocks"]
    assert not other.geometry.geom_equals(first["blocks"].geometry).all()
    assert other["gfa_m2"].sum() / other["built_m2"].sum() == pytest.approx(1.18, abs=0.005)


def test_placement_failure_is_reported() -> None:
    placer = _sample_shapes._Placer()
    big = shapely.box(0, 0, 1000, 1000)
    with pytest.raises(RuntimeError, match="could not place a test plot"):
        placer.place(np.random.default_rng(0), big, shapely.box(0, 0, 10, 10), (0, 0), 10.0, what="a test plot")


# --- panel, candidates, rasters -----------------------------------------------------------------


def test_panel_years_and_consistency(panel: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame) -> None:
    assert len(panel) == 3 * 164
    assert all(years == [2021, 2022, 2023] for years in panel.groupby("block_id")["year"].apply(list))
    last = panel[panel["year"] == 2023].reset_index(drop=True)
    assert_geodataframe_equal(last, blocks)
    assert _nesting_violations(panel) == {}
    wide = panel.pivot(index="block_id", columns="year", values="revenue_10k_cny")
    assert (wide[2023] < wide[2022]).sum() >= 10  # decliners for the 优胜劣汰 rules
    assert (wide[2023] > wide[2021]).mean() > 0.8
    built = panel.pivot(index="block_id", columns="year", values="built_m2")
    assert (built.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert panel.groupby("year")["gfa_m2"].sum().is_monotonic_increasing


def test_candidates_outside_blocks_inside_beijing(
    candidates: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    assert candidates["candidate_id"].tolist() == [f"C{i:02d}" for i in range(1, 21)]
    assert candidates.crs.to_epsg() == 4548 and shapely.is_valid(candidates.geometry.to_numpy()).all()
    geoms = candidates.geometry.to_numpy()
    assert shapely.distance(geoms[:, None], blocks.geometry.to_numpy()[None, :]).min() >= 29.9
    assert shapely.union_all(districts.geometry.to_numpy()).buffer(5).contains(shapely.union_all(geoms))
    assert set(candidates["subpark"]) <= set(schema.SUBPARKS)
    assert _nesting_violations(candidates) == {}
    np.testing.assert_array_equal(candidates["site_area_m2"], candidates.geometry.area)
    b_share = (candidates["ready_m2"] + candidates["unready_m2"]) / candidates["site_area_m2"]
    assert (b_share > 0.6).all() and (candidates["far_cap"] > 0).all()
    assert not candidates.drop(columns="geometry").isna().any().any()


def test_rasters_match_block_floor_area(blocks: gpd.GeoDataFrame) -> None:
    rasters = sample.make_rasters()
    heights, profile = rasters["building_height_10m"]
    cover, _ = rasters["landcover_10m"]
    covered = np.flatnonzero(_sample_raster.covered(blocks))
    assert set(blocks.loc[covered, "subpark"]) >= set(_sample_raster.RASTER_SUBPARKS)
    assert len(covered) >= 17
    np.testing.assert_array_equal(heights % 3, 0)
    shapes = [(blocks.geometry.iloc[i], i + 1) for i in covered]
    labels = features.rasterize(shapes, out_shape=heights.shape, transform=profile["transform"], dtype="int32")
    for i in covered:
        row = blocks.iloc[i]
        mask = labels == i + 1
        gfa = (heights[mask] / 3.0).sum() * 100.0
        built = (cover[mask] == 1).sum() * 100.0
        assert gfa == pytest.approx(row.gfa_m2, rel=0.01), row.block_id
        assert built == pytest.approx(row.built_m2, rel=0.02), row.block_id
        assert set(np.unique(cover[mask])) <= {1, 2, 3, 4}


# --- files --------------------------------------------------------------------------------------


def test_generate_writes_every_file(generated: Path) -> None:
    for name in sample.FILES:
        assert (generated / name).is_file(), name
    assert not [p for p in generated.rglob(".*")], "no temporary files left behind"
    total = sum(p.stat().st_size for p in generated.rglob("*") if p.is_file())
    assert total < 30e6


def test_main_prints_the_paths_and_writes_the_same_bytes(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sample.main([str(tmp_path), "--seed", str(sample.DEFAULT_SEED)]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).relative_to(tmp_path).as_posix() for p in printed] == list(sample.FILES)
    for name in sample.FILES:  # same seed, same bytes
        assert (generated / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_main_rejects_a_bad_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sample.main(["out", "--seed", "abc"])
    assert "invalid int value: 'abc'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "maker"),
    [("zgc_blocks.gpkg", sample.make_blocks), ("zgc_panel_2021_2023.gpkg", sample.make_panel),
     ("candidates.gpkg", sample.make_candidates), ("districts.gpkg", sample.make_districts)],
)
def test_committed_layers_equal_a_fresh_generation(name: str, maker: object) -> None:
    committed = gpd.read_file(SAMPLE_DIR / name)
    fresh = maker()  # type: ignore[operator]
    assert_geodataframe_equal(committed, fresh, check_less_precise=False)


def test_committed_tables_and_rasters_equal_a_fresh_generation(blocks: gpd.GeoDataFrame) -> None:
    table = pd.read_csv(SAMPLE_DIR / "subparks.csv")
    pd.testing.assert_frame_equal(table, sample.subpark_table(), check_dtype=False)
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert readme == _sample_readme.render(blocks, sample.subpark_table(), seed=sample.DEFAULT_SEED)
    assert re.search(r"\| 海淀园 \| 海淀区 \| 133\.00 \| assumed", readme)
    assert "GaryBikini" in readme and "MIT" in (SAMPLE_DIR / "districts.LICENSE.txt").read_text()
    for name, (array, profile) in sample.make_rasters().items():
        with rasterio.open(SAMPLE_DIR / "rasters" / f"{name}.tif") as src:
            np.testing.assert_array_equal(src.read(1), array)
            assert src.crs.to_epsg() == 4548 and src.res == (10.0, 10.0)
            assert src.nodata == profile["nodata"] and src.block_shapes == [(256, 256)]
            assert src.compression is not None


def test_copied_files_are_the_package_data_and_the_committed_files(generated: Path) -> None:
    shipped = [f"proposals/{p.name}" for p in (sample.PACKAGE_DATA / "proposals").glob("*.yaml")]
    assert sorted(_sample_parks.COPIED) == sorted([*shipped, "dynamic_rules.yaml"])
    for name in _sample_parks.COPIED:
        packaged = (sample.PACKAGE_DATA / name).read_bytes()
        assert (generated / name).read_bytes() == packaged == (SAMPLE_DIR / name).read_bytes(), name


def test_sample_data_is_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert total < 30e6
