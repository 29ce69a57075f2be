"""Tests for zgc_space.indicators: hand-computed fixtures, ratio-of-sums property, errors, CLI."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from zgc_space import datasets, indicators, schema
from zgc_space.cli import main
from zgc_space.errors import BlockValidationError, ColumnError, ValidationWarning

X0, Y0 = 440_000.0, 4_425_000.0  # near Zhongguancun in EPSG:4548


def two_blocks() -> gpd.GeoDataFrame:
    """Two 100 m x 100 m blocks with every column set to round, nested numbers."""
    data = {
        "block_id": ["B1", "B2"],
        "subpark": ["海淀园", "海淀园"],
        "cluster": ["西区", "东区"],
        "owner_count": [2, 3],
        "built_m2": [6_000.0, 8_000.0],
        "built_residential_m2": [1_000.0, 0.0],
        "built_industrial_m2": [3_000.0, 2_000.0],
        "ready_m2": [2_000.0, 0.0],
        "unready_m2": [1_000.0, 2_000.0],
        "nonconstruction_m2": [1_000.0, 0.0],
        "supplied_m2": [7_000.0, 8_000.0],
        "idle_m2": [500.0, 0.0],
        "hightech_m2": [2_000.0, 0.0],
        "gfa_m2": [9_000.0, 20_000.0],
        "footprint_m2": [2_400.0, 3_200.0],
        "industrial_gfa_m2": [4_500.0, 2_000.0],
        "industrial_footprint_m2": [1_500.0, 1_000.0],
        "revenue_10k_cny": [3_000.0, 8_000.0],
        "industrial_revenue_10k_cny": [1_200.0, 800.0],
        "tax_10k_cny": [300.0, 900.0],
        "industrial_tax_10k_cny": [90.0, 30.0],
        "industrial_fixed_asset_10k_cny": [2_400.0, 1_600.0],
        "employees": [150.0, 400.0],
        "population": [60.0, 200.0],
        "far_cap": [2.0, 2.5],
    }
    geoms = [box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 100)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4548")


# Hand computation. B1: A = 6000 m² = 0.6 ha = 9 mu, A2 = 0.3 ha, A + B = 9000, A + B21 = 8000.
B1 = {
    "development_rate_pct": 100 * 8_000 / 9_000,
    "supply_rate_pct": 87.5,
    "completion_rate_pct": 100 * 6 / 7,
    "industrial_share_pct": 50.0,
    "residential_share_pct": 100 / 6,
    "far": 1.5,
    "building_density_pct": 40.0,
    "industrial_far": 1.5,
    "industrial_coverage_pct": 50.0,
    "industrial_fixed_asset_10k_cny_per_ha": 8_000.0,
    "industrial_tax_10k_cny_per_ha": 300.0,
    "tax_10k_cny_per_ha": 500.0,
    "population_per_ha": 100.0,
    "idle_rate_pct": 100 / 14,
    "industrial_revenue_10k_cny_per_ha": 4_000.0,
    "awaiting_construction_pct": 100 * 2 / 9,
    "revenue_10k_cny_per_ha": 5_000.0,
    "employment_per_ha": 250.0,
    "revenue_per_employee_10k_cny": 20.0,
    "tax_per_employee_10k_cny": 2.0,
    "revenue_10k_cny_per_mu": 3_000 / 9,
    "tax_10k_cny_per_mu": 300 / 9,
}
# Zone: A = 14000 m² = 1.4 ha = 21 mu, A2 = 5000 = 0.5 ha, A + B = 19000, A + B21 = 16000, D = 15000.
ZONE = {
    "development_rate_pct": 100 * 16 / 19,
    "supply_rate_pct": 93.75,
    "completion_rate_pct": 100 * 14 / 15,
    "industrial_share_pct": 100 * 5 / 14,
    "residential_share_pct": 100 / 14,
    "far": 29 / 14,
    "building_density_pct": 40.0,
    "industrial_far": 1.3,
    "industrial_coverage_pct": 50.0,
    "industrial_fixed_asset_10k_cny_per_ha": 8_000.0,
    "industrial_tax_10k_cny_per_ha": 240.0,
    "tax_10k_cny_per_ha": 1_200 / 1.4,
    "population_per_ha": 260 / 1.4,
    "idle_rate_pct": 100 / 30,
    "industrial_revenue_10k_cny_per_ha": 4_000.0,
    "awaiting_construction_pct": 100 * 2 / 19,
    "revenue_10k_cny_per_ha": 11_000 / 1.4,
    "employment_per_ha": 550 / 1.4,
    "revenue_per_employee_10k_cny": 20.0,
    "tax_per_employee_10k_cny": 1_200 / 550,
    "revenue_10k_cny_per_mu": 11_000 / 21,
    "tax_10k_cny_per_mu": 1_200 / 21,
}


def test_fixture_covers_every_indicator():
    assert set(B1) == set(indicators.INDICATORS) == set(ZONE)


@pytest.mark.parametrize("ind", sorted(B1))
def test_block_values_by_hand(ind):
    res = indicators.compute(two_blocks(), by="block")
    assert res.loc["B1", ind] == pytest.approx(B1[ind], rel=1e-12)


@pytest.mark.parametrize("ind", sorted(ZONE))
def test_zone_values_by_hand(ind):
    res = indicators.compute(two_blocks(), by="zone")
    assert list(res.index) == [indicators.ZONE_LABEL]
    assert res.index.name == "zone"
    assert res.loc["ZGC", ind] == pytest.approx(ZONE[ind], rel=1e-12)


def test_sub_park_equals_zone_and_is_not_a_mean_of_ratios():
    res = indicators.compute(two_blocks(), by="subpark")
    assert res.index.name == "subpark"
    assert res.loc["海淀园", "far"] == pytest.approx(29 / 14)
    mean_of_ratios = (1.5 + 2.5) / 2
    assert res.loc["海淀园", "far"] != pytest.approx(mean_of_ratios)
    assert res.loc["海淀园", "block_count"] == 2
    assert res.loc["海淀园", "gfa_m2"] == 29_000.0
    assert res.loc["海淀园", "built_m2"] == 14_000.0


def test_components_and_order():
    res = indicators.compute(two_blocks(), by="zone")
    ids = list(indicators.INDICATORS)
    assert list(res.columns[: len(ids)]) == ids
    assert res.columns[-1] == "block_count"
    components = list(res.columns[len(ids) : -1])
    assert components == [c for c in schema.COLUMNS if c in components]
    assert "nonconstruction_m2" not in components  # no indicator uses C
    assert res.attrs["missing"] == {}
    assert res.attrs["nan_reasons"] == {}


def test_by_none_keeps_input_index_and_rows():
    blocks = two_blocks().set_index(pd.Index([10, 20], name="row"))
    res = indicators.compute(blocks)
    assert list(res.index) == [10, 20]
    assert res.loc[10, "far"] == 1.5
    assert res.loc[20, "far"] == 2.5


def test_by_list_gives_multiindex():
    res = indicators.compute(two_blocks(), by=["subpark", "cluster"], indicators=["far"])
    assert res.index.names == ["subpark", "cluster"]
    assert res.loc[("海淀园", "西区"), "far"] == 1.5


def test_plain_dataframe_and_geographic_crs_need_no_geometry():
    plain = pd.DataFrame(two_blocks().drop(columns="geometry"))
    geographic = two_blocks().to_crs("EPSG:4326")
    a = indicators.compute(plain, by="zone")
    b = indicators.compute(geographic, by="zone")
    pd.testing.assert_frame_equal(a, b)


def test_input_not_mutated():
    blocks = two_blocks()
    before = blocks.copy()
    indicators.compute(blocks, by="subpark")
    pd.testing.assert_frame_equal(blocks, before)


def test_empty_group_key_forms_its_own_group():
    blocks = two_blocks()
    blocks.loc[1, "subpark"] = None
    res = indicators.compute(blocks, by="subpark", indicators=["far"])
    assert res["block_count"].sum() == 2
    assert res["gfa_m2"].sum() == 29_000.0


def test_zero_denominator_gives_nan_with_reason_never_inf():
    blocks = two_blocks()
    blocks.loc[1, ["built_industrial_m2", "industrial_gfa_m2", "industrial_footprint_m2"]] = 0.0
    blocks.loc[1, ["industrial_revenue_10k_cny", "industrial_tax_10k_cny"]] = 0.0
    blocks.loc[1, "industrial_fixed_asset_10k_cny"] = 0.0
    res = indicators.compute(blocks, by="block")
    values = res[list(indicators.INDICATORS)].to_numpy()
    assert not np.isinf(values).any()
    assert math.isnan(res.loc["B2", "industrial_far"])
    assert res.loc["B1", "industrial_far"] == 1.5
    assert "built_industrial_m2 is zero in 1 of 2 rows" in res.attrs["nan_reasons"]["industrial_far"]
    reasons = indicators.nan_reasons(res)
    row = reasons[(reasons["group"] == "B2") & (reasons["indicator"] == "industrial_far")]
    assert row["reason"].tolist() == ["denominator built_industrial_m2 is zero"]
    assert set(reasons["group"]) == {"B2"}


def test_missing_value_makes_group_nan_with_reason():
    blocks = two_blocks()
    blocks.loc[0, "tax_10k_cny"] = np.nan
    res = indicators.compute(blocks, by="zone")
    assert math.isnan(res.loc["ZGC", "tax_10k_cny_per_ha"])
    assert res.loc["ZGC", "far"] == pytest.approx(29 / 14)
    assert "missing values" in res.attrs["nan_reasons"]["tax_10k_cny_per_ha"]
    reasons = indicators.nan_reasons(res)
    assert "missing values in tax_10k_cny" in reasons["reason"].tolist()


def test_missing_column_is_reported_never_silently_dropped():
    blocks = two_blocks().drop(columns=["population", "footprint_m2"])
    with pytest.warns(ValidationWarning, match=r"lacks column\(s\) \['footprint_m2', 'population'\]"):
        res = indicators.compute(blocks, by="zone")
    assert res.attrs["missing"] == {
        "building_density_pct": ["footprint_m2"],
        "population_per_ha": ["population"],
    }
    assert "population_per_ha" not in res.columns
    assert "building_density_pct" not in res.columns
    assert res.loc["ZGC", "far"] == pytest.approx(29 / 14)


def test_selected_indicators_warn_only_about_their_columns():
    blocks = two_blocks().drop(columns=["population"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = indicators.compute(blocks, by="zone", indicators=["far", "far"])
    assert list(res.columns) == ["far", "built_m2", "gfa_m2", "block_count"]


def test_unknown_by_names_available_columns():
    with pytest.raises(ColumnError, match=r"\['district'\].*available columns: block_id, subpark"):
        indicators.compute(two_blocks(), by="district")
    with pytest.raises(ColumnError, match="empty list"):
        indicators.compute(two_blocks(), by=[])
    with pytest.raises(ColumnError, match=r"\['block_id'\]"):
        indicators.compute(two_blocks().drop(columns="block_id"), by="block")


def test_unknown_indicator_id():
    with pytest.raises(ColumnError, match=r"unknown indicator id\(s\) \['fra'\]; known ids: development_rate"):
        indicators.compute(two_blocks(), indicators=["fra"])


def test_text_that_is_not_a_number():
    blocks = pd.DataFrame({"built_m2": ["1000", "n/a"], "gfa_m2": [1.0, 2.0]})
    with pytest.raises(BlockValidationError, match="column 'built_m2' must be numeric"):
        indicators.compute(blocks, indicators=["far"])
    ok = pd.DataFrame({"built_m2": ["1000", "500"], "gfa_m2": [1_000.0, 1_500.0]})
    assert indicators.compute(ok, by="zone", indicators=["far"]).loc["ZGC", "far"] == pytest.approx(2500 / 1500)


@pytest.mark.parametrize(
    ("value", "what"), [(-1e9, "negative"), (math.inf, r"infinite \(±inf\)"), (-math.inf, r"infinite \(±inf\)")]
)
def test_negative_or_infinite_amount_is_refused_with_ids(value, what):
    blocks = two_blocks()
    blocks.loc[1, "gfa_m2"] = value
    with pytest.raises(
        BlockValidationError,
        match=rf"gfa_m2 is {what} in 1 block\(s\) \(ids B2\).*zgc_space\.validate_blocks",
    ) as info:
        indicators.compute(blocks, by="zone", indicators=["far"])
    assert info.value.problems == ["B2"]


def test_missing_amount_stays_allowed():
    blocks = two_blocks()
    blocks.loc[1, "gfa_m2"] = np.nan
    far = indicators.compute(blocks, by="block", indicators=["far"])["far"]
    assert far.loc["B1"] == 1.5
    assert math.isnan(far.loc["B2"])


def test_cluster_shared_by_sub_parks_warns():
    blocks = two_blocks()
    blocks["subpark"] = ["海淀园", "朝阳园"]
    blocks["cluster"] = ["北区", "北区"]
    with pytest.warns(ValidationWarning, match=r"by=\['subpark', 'cluster'\]"):
        indicators.compute(blocks, by="cluster", indicators=["far"])


def test_catalog():
    cat = indicators.indicator_catalog()
    assert list(cat.index) == list(indicators.INDICATORS)
    assert cat.index.name == "id"
    assert {"zh", "en", "unit", "direction", "formula", "numerator", "denominator", "source"} <= set(cat.columns)
    assert set(cat["direction"]) <= {"positive", "negative", "neutral"}
    assert cat.loc["idle_rate_pct", "direction"] == "negative"
    assert cat.loc["far", "zh"] == "综合容积率"
    assert cat.loc["industrial_coverage_pct", "zh"] == "工业用地建筑系数"
    assert cat.loc["development_rate_pct", "numerator"] == ("built_m2", "ready_m2")
    assert cat.loc["development_rate_pct", "denominator"] == ("built_m2", "ready_m2", "unready_m2")
    for num, den in zip(cat["numerator"], cat["denominator"], strict=True):
        assert set(num) | set(den) <= set(schema.COLUMNS)  # every input is a canonical column
    assert cat.loc["revenue_10k_cny_per_mu", "scale"] == pytest.approx(schema.MU_M2)


# ----------------------------------------------------------------------------------- properties

_area = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)
_gfa = st.floats(min_value=0.0, max_value=5e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_area, _gfa, st.integers(0, 3)), min_size=1, max_size=25))
def test_far_of_any_partition_is_ratio_of_sums(rows):
    built, gfa, group = (list(v) for v in zip(*rows, strict=True))
    blocks = pd.DataFrame({"built_m2": built, "gfa_m2": gfa, "g": group})
    res = indicators.compute(blocks, by="g", indicators=["far"])
    for key, part in blocks.groupby("g"):
        expected = part["gfa_m2"].sum() / part["built_m2"].sum()
        assert res.loc[key, "far"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        ratios = part["gfa_m2"] / part["built_m2"]
        tol = 1e-9 * max(1.0, ratios.max())
        assert ratios.min() - tol <= res.loc[key, "far"] <= ratios.max() + tol
    assert res["block_count"].sum() == len(blocks)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 30), st.integers(1, 5))
def test_every_indicator_aggregates_as_ratio_of_sums(seed, n, k):
    rng = np.random.default_rng(seed)
    columns = sorted({c for ind in indicators.INDICATORS.values() for c in ind.columns})
    blocks = pd.DataFrame({c: rng.uniform(0, 1_000, n) for c in columns})
    blocks.loc[rng.random(n) < 0.2, "built_industrial_m2"] = 0.0  # some zero denominators
    blocks["g"] = rng.integers(0, k, n)
    res = indicators.compute(blocks, by="g")
    for ind in indicators.INDICATORS.values():
        num = blocks[list(ind.numerator)].sum(axis=1).groupby(blocks["g"]).sum()
        den = blocks[list(ind.denominator)].sum(axis=1).groupby(blocks["g"]).sum()
        expected = (ind.scale * num / den).where(den != 0)
        np.testing.assert_allclose(res[ind.id].to_numpy(), expected.to_numpy(), rtol=1e-9)
    zone = indicators.compute(blocks, by="zone")
    regrouped = indicators.compute(res.assign(z=1), by="z")  # sums of group sums = zone sums
    for ind in indicators.INDICATORS:
        np.testing.assert_allclose(regrouped[ind].to_numpy(), zone[ind].to_numpy(), rtol=1e-9)


# ------------------------------------------------------------------------------------------ CLI


@pytest.fixture
def block_file(tmp_path):
    path = tmp_path / "two.gpkg"
    two_blocks().to_file(path)
    return path


def test_cli_zone_json(block_file, capsys):
    assert main(["indicators", str(block_file), "--by", "zone", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"blocks", "by", "file", "missing", "nan_reasons", "notes", "out", "rows", "units",
                        "zone_land"}
    (row,) = out["rows"]
    assert row["zone"] == "ZGC"
    assert row["far"] == pytest.approx(29 / 14)
    assert row["development_rate_pct"] == pytest.approx(100 * 16 / 19)
    assert out["units"]["tax_10k_cny_per_ha"] == "万元/ha"
    assert out["zone_land"]["remaining_developable_km2"] == pytest.approx(0.005)
    assert out["zone_land"]["nonconstruction_km2"] == pytest.approx(0.001)


def test_cli_by_block_text(block_file, capsys):
    assert main(["indicators", str(block_file), "--by", "block", "--indicators", "far,idle_rate_pct"]) == 0
    text = capsys.readouterr().out
    assert "far" in text and "B1" in text and "1.50" in text and "2.50" in text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cli_writes_table(block_file, tmp_path, capsys, suffix):
    target = tmp_path / f"table{suffix}"
    assert main(["indicators", str(block_file), "--by", "subpark,cluster", "--out", str(target)]) == 0
    if suffix == ".csv":  # for programs: canonical ids
        table = pd.read_csv(target)
        assert list(table.columns[:3]) == ["subpark", "cluster", "development_rate_pct"]
        assert table.set_index("cluster").loc["西区", "far"] == pytest.approx(1.5)
    else:  # for people: Chinese headers with units over a units row
        table = pd.read_excel(target, skiprows=[1])
        assert list(table.columns[:3]) == ["分园", "组团", "土地开发率 (%)"]
        assert table.set_index("组团").loc["西区", "综合容积率"] == pytest.approx(1.5)
    assert f"wrote {target}" in capsys.readouterr().out


def test_cli_chinese_headers(block_file, tmp_path):
    target = tmp_path / "table.csv"
    assert main(["indicators", str(block_file), "--by", "subpark", "--out", str(target), "--zh"]) == 0
    header = target.read_text(encoding="utf-8-sig").splitlines()[0]
    assert "综合容积率" in header and "土地开发率 (%)" in header and "总建筑面积 (m²)" in header


def test_cli_errors(block_file, capsys):
    assert main(["indicators", str(block_file), "--by", "district"]) == 1
    assert "available columns" in capsys.readouterr().err
    assert main(["indicators", str(block_file), "--out", str(block_file)]) == 1
    assert "indicators: error" in capsys.readouterr().err


def test_cli_reports_missing_columns(tmp_path, capsys):
    path = tmp_path / "lean.gpkg"
    two_blocks().drop(columns=["population"]).to_file(path)
    assert main(["indicators", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["missing"] == {"population_per_ha": ["population"]}
    assert any("population" in note for note in out["notes"])


# ------------------------------------------------------------------------------ sample data


@pytest.fixture(scope="module")
def sample():
    return datasets.load_blocks()


def test_sample_zone_far_and_sub_parks_add_up(sample):
    zone = indicators.compute(sample, by="zone")
    assert zone.loc["ZGC", "far"] == pytest.approx(1.18, abs=0.005)
    assert zone.loc["ZGC", "block_count"] == 164
    parks = indicators.compute(sample, by="subpark")
    assert len(parks) == sample["subpark"].nunique()
    assert parks["gfa_m2"].sum() / parks["built_m2"].sum() == pytest.approx(zone.loc["ZGC", "far"], rel=1e-12)
    assert parks["far"].min() < zone.loc["ZGC", "far"] < parks["far"].max()
    assert not np.isinf(parks[list(indicators.INDICATORS)].to_numpy()).any()


def test_cli_on_sample_shows_the_report_figures(capsys):
    path = datasets.path("zgc_blocks.gpkg")
    assert main(["indicators", str(path), "--by", "zone", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"][0]["far"] == pytest.approx(1.18, abs=0.005)
    assert out["zone_land"]["remaining_developable_km2"] == pytest.approx(27, abs=0.2)
    assert out["zone_land"]["nonconstruction_km2"] == pytest.approx(24, abs=0.2)
    assert out["missing"] == {}
