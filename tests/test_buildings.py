"""Tests of zgc_space.buildings: hand-computed fixtures, agreement with sjoin, errors, CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

from zgc_space import buildings
from zgc_space.cli import main
from zgc_space.errors import ColumnError, CRSError, DataFileError, ParameterError, ZgcSpaceError

X0, Y0 = 441_000.0, 4_426_000.0


def two_blocks(**extra):
    return gpd.GeoDataFrame(
        {"block_id": ["A", "B"], **extra},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        crs="EPSG:4548",
    )


def footprints():
    # 20 × 20 m with 3 floors inside A; 40 × 10 m with 10 floors straddling A|B (10 m in A);
    # one 10 × 10 m building outside both blocks
    return gpd.GeoDataFrame(
        {"floors": [3, 10, 5], "height_m": [9.5, 31.0, 15.0]},
        geometry=[box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 30), box(X0 + 90, Y0 + 10, X0 + 130, Y0 + 20),
                  box(X0 + 500, Y0, X0 + 510, Y0 + 10)],
        crs="EPSG:4548",
    )


def test_centroid_rule_hand_computed():
    blocks = two_blocks(gfa_m2=[1.0, 2.0], gfa_source=["surveyed", "surveyed"])
    out = buildings.aggregate(blocks, footprints(), floors="floors")
    assert out["gfa_m2"].tolist() == [1200.0, 4000.0]
    assert out["footprint_m2"].tolist() == [400.0, 400.0]
    assert out["buildings"].tolist() == [1, 1]
    assert out["gfa_source"].tolist() == ["footprints"] * 2 and out["gfa_method"].tolist() == ["centroid"] * 2
    assert out["gfa_m2_previous"].tolist() == [1.0, 2.0]
    assert out["gfa_source_previous"].tolist() == ["surveyed"] * 2
    assert "gfa_method" not in blocks.columns  # input untouched


def test_split_rule_hand_computed():
    out = buildings.aggregate(two_blocks(), footprints(), floors="floors", assign="split")
    assert out["gfa_m2"].tolist() == pytest.approx([1200 + 100 * 10, 300 * 10])
    assert out["footprint_m2"].tolist() == pytest.approx([500.0, 300.0])
    assert out["buildings"].tolist() == [2, 1]


def test_height_column_gives_floors():
    # 9.5 m → 3 floors, 31 m → 10 floors (storey 3 m)
    out = buildings.aggregate(two_blocks(), footprints(), height="height_m")
    assert out["gfa_m2"].tolist() == [1200.0, 4000.0]
    out4 = buildings.aggregate(two_blocks(), footprints(), height="height_m", storey_height_m=4.0)
    assert out4["gfa_m2"].tolist() == [800.0, 2800.0]  # 2 and 7 floors


def test_footprints_in_another_crs_are_reprojected():
    fps = footprints().to_crs("EPSG:4326")
    out = buildings.aggregate(two_blocks(), fps, floors="floors")
    assert out["gfa_m2"].tolist() == pytest.approx([1200.0, 4000.0], rel=1e-6)


def test_centroid_rule_equals_sjoin_on_random_data():
    rng = np.random.default_rng(0)
    blocks = gpd.GeoDataFrame(
        {"block_id": [f"B{i}" for i in range(12)]},
        geometry=[shapely.Polygon(np.c_[X0 + i * 300 + 150 + 140 * np.cos(t), Y0 + 150 + 140 * np.sin(t)])
                  for i, t in enumerate([np.sort(rng.uniform(0, 2 * np.pi, 9)) for _ in range(12)])],
        crs="EPSG:4548",
    )
    n = 5000
    cx, cy = rng.uniform(X0, X0 + 3600, n), rng.uniform(Y0, Y0 + 300, n)
    w, h, a = rng.uniform(5, 30, n), rng.uniform(5, 30, n), rng.uniform(0, np.pi, n)
    geoms = [shapely.affinity.rotate(box(x - u / 2, y - v / 2, x + u / 2, y + v / 2), r, use_radians=True)
             for x, y, u, v, r in zip(cx, cy, w, h, a, strict=True)]
    geoms[0] = box(X0 + 140, Y0 + 140, X0 + 160, Y0 + 160).difference(box(X0 + 145, Y0 + 145, X0 + 150, Y0 + 150))
    geoms[1] = shapely.MultiPolygon([box(X0 + 440, Y0 + 140, X0 + 450, Y0 + 150),
                                     box(X0 + 455, Y0 + 140, X0 + 460, Y0 + 150)])
    fps = gpd.GeoDataFrame({"floors": rng.integers(1, 20, n)}, geometry=geoms, crs="EPSG:4548")
    mine = buildings.aggregate(blocks, fps, floors="floors").set_index("block_id")
    pts = gpd.GeoDataFrame({"gfa": fps.area * fps["floors"], "foot": fps.area}, geometry=fps.centroid, crs=fps.crs)
    joined = gpd.sjoin(pts, blocks, predicate="within").groupby("block_id")[["gfa", "foot"]].sum()
    np.testing.assert_allclose(mine["gfa_m2"], joined["gfa"].reindex(mine.index).fillna(0), rtol=1e-9)
    np.testing.assert_allclose(mine["footprint_m2"], joined["foot"].reindex(mine.index).fillna(0), rtol=1e-9)
    split = buildings.aggregate(blocks, fps, floors="floors", assign="split")
    inter = gpd.overlay(fps, blocks, how="intersection", keep_geom_type=True)
    expect = (inter.area * inter["floors"]).groupby(inter["block_id"]).sum()
    np.testing.assert_allclose(split.set_index("block_id")["gfa_m2"], expect.reindex(mine.index).fillna(0),
                               rtol=1e-9)


def test_area_and_centroid_matches_shapely():
    rng = np.random.default_rng(1)
    geoms = [shapely.Polygon(np.c_[4e5 + rng.uniform(0, 50, 6), 4.4e6 + rng.uniform(0, 50, 6)]).convex_hull
             for _ in range(50)]
    geoms += [box(0, 0, 4, 4).difference(box(1, 1, 2, 2)),
              shapely.MultiPolygon([box(0, 0, 1, 1), box(3, 0, 5, 1)]),
              shapely.Polygon(), shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])]
    arr = np.array(geoms, dtype=object)
    area, x, y = buildings.area_and_centroid(arr)
    np.testing.assert_allclose(area, shapely.area(arr), rtol=1e-9, atol=1e-9)
    cent = shapely.centroid(arr)
    ok = ~shapely.is_empty(cent)
    np.testing.assert_allclose(x[ok], shapely.get_x(cent[ok]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(y[ok], shapely.get_y(cent[ok]), rtol=0, atol=1e-6)
    assert np.isnan(x[~ok]).all()


def test_errors():
    blocks, fps = two_blocks(), footprints()
    with pytest.raises(DataFileError, match="`footprints` is empty"):
        buildings.aggregate(blocks, fps.iloc[:0], floors="floors")
    with pytest.raises(ValueError, match="exactly one of floors="):
        buildings.aggregate(blocks, fps)
    with pytest.raises(ValueError, match="exactly one of floors="):
        buildings.aggregate(blocks, fps, floors="floors", height="height_m")
    with pytest.raises(ColumnError, match="no column 'storeys'"):
        buildings.aggregate(blocks, fps, floors="storeys")
    with pytest.raises(ValueError, match="assign='nearest'"):
        buildings.aggregate(blocks, fps, floors="floors", assign="nearest")
    with pytest.raises(CRSError, match="footprints"):
        buildings.aggregate(blocks, fps.set_crs(None, allow_override=True), floors="floors")
    holes = fps.assign(floors=[3.0, np.nan, -1.0])
    with pytest.raises(ColumnError, match="2 missing, infinite or negative"):
        buildings.aggregate(blocks, holes, floors="floors")
    filled = buildings.aggregate(blocks, holes, floors="floors", default_floors=2)
    assert filled["gfa_m2"].tolist() == [1200.0, 800.0]


@pytest.mark.parametrize("value", [-3.0, 0.0, float("nan")])
def test_storey_height_must_be_positive(value):
    # -3 used to give GFA = footprint (max(1, floor(h / -3)) = 1) and 0 blamed the data
    with pytest.raises(ParameterError, match=r"storey_height_m must be a positive number of metres \(got "
                       + f"{value}" + r"\).*storey_height_m=3\.0"):
        buildings.aggregate(two_blocks(), footprints(), height="height_m", storey_height_m=value)


def test_bad_options_are_zgc_space_errors():
    blocks, fps = two_blocks(), footprints()
    with pytest.raises(ParameterError, match=r"default_floors must be a number >= 0 \(got -1\.0\)"):
        buildings.aggregate(blocks, fps.assign(floors=[3.0, np.nan, 1.0]), floors="floors", default_floors=-1.0)
    with pytest.raises(ZgcSpaceError, match="exactly one of floors="):
        buildings.aggregate(blocks, fps)
    with pytest.raises(ZgcSpaceError, match="assign='nearest' is not one of centroid, split"):
        buildings.aggregate(blocks, fps, floors="floors", assign="nearest")


def test_cli_bad_storey_height_is_one_error_line(tmp_path, capsys):
    bpath, fpath = tmp_path / "blocks.gpkg", tmp_path / "fps.gpkg"
    two_blocks().to_file(bpath)
    footprints().to_file(fpath)
    assert main(["buildings", str(bpath), str(fpath), "--height", "height_m", "--storey-height-m", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zgc-space buildings: error: storey_height_m must be a positive number")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a GeoPackage")
    assert main(["buildings", str(bpath), str(junk), "--floors", "floors"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"zgc-space buildings: error: cannot read footprint file {str(junk)!r}")
    assert len(err.strip().splitlines()) == 1


def test_cli_buildings(tmp_path, capsys):
    bpath, fpath = tmp_path / "blocks.gpkg", tmp_path / "fps.parquet"
    two_blocks().to_file(bpath)
    footprints().to_parquet(fpath)
    assert main(["buildings", str(bpath), str(fpath), "--floors", "floors", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["assign"] == "centroid" and payload["gfa_source"] == "footprints"
    assert [r["gfa_m2"] for r in payload["rows"]] == [1200.0, 4000.0]
    out = tmp_path / "enriched.gpkg"
    assert main(["buildings", str(bpath), str(fpath), "--height", "height_m", "--assign", "split",
                 "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    back = gpd.read_file(out)
    assert back["gfa_source"].tolist() == ["footprints"] * 2 and back["gfa_method"].tolist() == ["split"] * 2
    empty = tmp_path / "empty.gpkg"
    footprints().iloc[:0].to_file(empty)
    assert main(["buildings", str(bpath), str(empty), "--floors", "floors"]) == 1
    assert "holds no building" in capsys.readouterr().err
