"""Tests for zgc_space.capacity: land left, FAR-cap capacity edge cases, years of supply, 小散弱."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from zgc_space import capacity, datasets
from zgc_space.cli import main
from zgc_space.errors import BlockValidationError, ColumnError, ReprojectionWarning, ValidationWarning

X0, Y0 = 440_000.0, 4_425_000.0  # near Zhongguancun in EPSG:4548


def two_blocks() -> pd.DataFrame:
    return pd.DataFrame({
        "block_id": ["B1", "B2"],
        "subpark": ["海淀园", "朝阳园"],
        "built_m2": [6_000.0, 8_000.0],
        "ready_m2": [2_000.0, 0.0],
        "unready_m2": [1_000.0, 2_000.0],
        "supplied_m2": [7_000.0, 8_000.0],
        "gfa_m2": [9_000.0, 20_000.0],
        "far_cap": [2.0, 2.5],
    })


def cap_cases() -> pd.DataFrame:
    """1-ha built blocks: missing cap, zero cap with and without floor area, over cap, room left."""
    n = 5
    return pd.DataFrame({
        "block_id": ["C1", "C2", "C3", "C4", "C5"],
        "subpark": ["海淀园"] * n,
        "built_m2": [10_000.0] * n,
        "ready_m2": [0.0] * n,
        "unready_m2": [0.0] * n,
        "supplied_m2": [10_000.0] * n,
        "gfa_m2": [20_000.0, 5_000.0, 0.0, 15_000.0, 20_000.0],
        "far_cap": [np.nan, 0.0, 0.0, 1.0, 3.0],
    })


def test_land_and_capacity_by_hand_per_block():
    res = capacity.compute(two_blocks(), by="block")
    b1, b2 = res.loc["B1"], res.loc["B2"]
    # B1: A + B = 6000 + 2000 + 1000; E = A + B21 - D = 8000 - 7000; cap 2 x 9000 - 9000
    assert b1[["constructible_m2", "developed_m2", "remaining_m2", "ready_m2", "unready_m2"]].tolist() == [
        9_000.0, 8_000.0, 3_000.0, 2_000.0, 1_000.0]
    assert b1[["supplied_m2", "suppliable_m2", "unsupplied_m2"]].tolist() == [7_000.0, 1_000.0, 2_000.0]
    assert b1[["permitted_gfa_m2", "gfa_capacity_m2", "over_cap_m2"]].tolist() == [18_000.0, 9_000.0, 0.0]
    # B2: A + B = 10000, E = 8000 - 8000 = 0, cap 2.5 x 10000 - 20000 = 5000
    assert b2[["constructible_m2", "remaining_m2", "suppliable_m2", "unsupplied_m2"]].tolist() == [
        10_000.0, 2_000.0, 0.0, 2_000.0]
    assert b2[["permitted_gfa_m2", "gfa_capacity_m2", "over_cap_m2"]].tolist() == [25_000.0, 5_000.0, 0.0]
    assert res.attrs["land_base"].startswith("constructible land A + B")
    assert res.attrs["missing"] == {}


def test_zone_totals_and_years_of_supply():
    res = capacity.compute(two_blocks(), by="zone", annual_supply_m2=500.0)
    z = res.loc["ZGC"]
    assert z["remaining_m2"] == 5_000.0
    assert z["ready_m2"] == 2_000.0
    assert z["unready_m2"] == 3_000.0
    assert z["suppliable_m2"] == 1_000.0
    assert z["gfa_capacity_m2"] == 14_000.0
    assert z["years_of_supply_left"] == 2.0  # E / annual supply
    assert z["years_of_supply_left_incl_unready"] == 8.0  # (A + B - D) / annual supply
    assert z["block_count"] == 2
    assert res.columns[-1] == "years_of_supply_left_incl_unready"


def test_annual_supply_per_group():
    with pytest.warns(ValidationWarning, match=r"annual_supply_m2 gives no value for 1 group\(s\) \(朝阳园\)"):
        res = capacity.compute(two_blocks(), by="subpark", annual_supply_m2={"海淀园": 250.0})
    assert res.loc["海淀园", "years_of_supply_left"] == 4.0
    assert math.isnan(res.loc["朝阳园", "years_of_supply_left"])
    assert res.loc["朝阳园", "suppliable_m2"] == 0.0


def test_annual_supply_key_matching_no_group_is_an_error():
    with pytest.raises(ColumnError, match=r"key\(s\) ZGX that match no group; the groups are ZGC"):
        capacity.compute(two_blocks(), by="zone", annual_supply_m2={"ZGX": 1.0})
    with pytest.raises(ColumnError, match=r"key\(s\) 海定园 that match no group; the groups are 朝阳园, 海淀园"):
        capacity.compute(two_blocks(), by="subpark", annual_supply_m2={"海定园": 1.0, "朝阳园": 1.0})


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), {"海淀园": 0.0}])
def test_annual_supply_must_be_positive(bad):
    with pytest.raises(ValueError, match="annual_supply_m2 must be a positive finite area"):
        capacity.compute(two_blocks(), by="subpark", annual_supply_m2=bad)


def test_missing_zero_and_over_caps_per_block():
    with pytest.warns(ValidationWarning, match=r"far_cap is missing in 1 block\(s\) \(ids C1\)"):
        res = capacity.compute(cap_cases(), by="block")
    assert math.isnan(res.loc["C1", "gfa_capacity_m2"])  # missing cap: unknown, not zero
    assert math.isnan(res.loc["C1", "over_cap_m2"])
    assert res.loc["C1", "missing_cap_blocks"] == 1
    assert res.loc["C2", "gfa_capacity_m2"] == 0.0  # zero cap: zero capacity ...
    assert res.loc["C2", "over_cap_m2"] == 5_000.0  # ... and its floor area is over the cap
    assert res.loc["C2", "over_cap_blocks"] == 1
    assert res.loc["C3", ["gfa_capacity_m2", "over_cap_m2", "over_cap_blocks", "zero_cap_blocks"]].tolist() == [
        0.0, 0.0, 0, 1]
    assert res.loc["C4", ["gfa_capacity_m2", "over_cap_m2"]].tolist() == [0.0, 5_000.0]
    assert res.loc["C5", ["gfa_capacity_m2", "over_cap_m2"]].tolist() == [10_000.0, 0.0]
    assert res.attrs["missing_cap"] == ["C1"]
    assert res.attrs["zero_cap"] == ["C2", "C3"]
    assert res.attrs["over_cap"] == ["C2", "C4"]


def test_group_capacity_sums_known_caps_and_counts_the_rest():
    with pytest.warns(ValidationWarning, match="far_cap is missing"):
        res = capacity.compute(cap_cases(), by="subpark")
    row = res.loc["海淀园"]
    assert row["gfa_capacity_m2"] == 10_000.0
    assert row["over_cap_m2"] == 10_000.0
    assert row["permitted_gfa_m2"] == 40_000.0
    assert row[["missing_cap_blocks", "unknown_capacity_blocks", "zero_cap_blocks", "over_cap_blocks"]].tolist() == [
        1, 1, 2, 2]
    assert row["block_count"] == 5


def test_group_capacity_columns_cover_the_same_blocks_by_hand():
    # K1: cap 2 on 1 ha, gfa 10,000: permitted 20,000, capacity 10,000
    # K2: cap unknown, gfa 50,000: left out of every capacity column
    # K3: cap 1 on 1 ha, gfa 15,000: permitted 10,000, over by 5,000
    # K4: cap 3 on 1 ha, gfa unknown: capacity unknown, left out too
    blocks = pd.DataFrame({
        "block_id": ["K1", "K2", "K3", "K4"], "built_m2": [10_000.0] * 4, "ready_m2": [0.0] * 4,
        "unready_m2": [0.0] * 4, "supplied_m2": [10_000.0] * 4,
        "gfa_m2": [10_000.0, 50_000.0, 15_000.0, np.nan], "far_cap": [2.0, np.nan, 1.0, 3.0],
    })
    with pytest.warns(ValidationWarning, match="far_cap is missing|gfa_m2 or the land base is missing"):
        row = capacity.compute(blocks, by="zone").loc["ZGC"]
    assert row["gfa_m2"] == 75_000.0  # every block with a value
    assert row["gfa_capped_blocks_m2"] == 25_000.0  # K1 + K3
    assert row["permitted_gfa_m2"] == 30_000.0  # 2 x 10,000 + 1 x 10,000
    assert row["gfa_capacity_m2"] == 10_000.0  # max(0, 20,000 - 10,000) + max(0, 10,000 - 15,000)
    assert row["over_cap_m2"] == 5_000.0
    assert row["gfa_capacity_m2"] - row["over_cap_m2"] == row["permitted_gfa_m2"] - row["gfa_capped_blocks_m2"]
    assert row["unknown_capacity_blocks"] == 2


def test_group_with_only_missing_caps_is_nan():
    blocks = cap_cases().iloc[[0]]
    with pytest.warns(ValidationWarning, match="far_cap is missing"):
        res = capacity.compute(blocks, by="zone")
    assert math.isnan(res.loc["ZGC", "gfa_capacity_m2"])
    assert res.loc["ZGC", "remaining_m2"] == 0.0


def test_missing_gfa_value_gives_unknown_capacity():
    blocks = two_blocks()
    blocks.loc[0, "gfa_m2"] = np.nan
    with pytest.warns(ValidationWarning, match=r"gfa_m2 or the land base is missing in 1 block\(s\) \(ids B1\)"):
        res = capacity.compute(blocks, by="zone")
    assert res.loc["ZGC", "gfa_capacity_m2"] == 5_000.0
    assert res.loc["ZGC", "unknown_capacity_blocks"] == 1
    assert res.loc["ZGC", "missing_cap_blocks"] == 0


def test_negative_cap_is_an_error():
    blocks = two_blocks()
    blocks.loc[1, "far_cap"] = -1.0
    with pytest.raises(BlockValidationError, match=r"far_cap is negative in 1 block\(s\) \(ids B2\)"):
        capacity.compute(blocks)


def test_negative_or_infinite_land_is_refused():
    blocks = two_blocks()
    blocks.loc[0, "ready_m2"] = -5.0
    with pytest.raises(BlockValidationError, match=r"ready_m2 is negative in 1 block\(s\) \(ids B1\).*validate_blocks"):
        capacity.compute(blocks, by="zone")
    blocks.loc[0, "ready_m2"] = np.inf
    with pytest.raises(BlockValidationError, match=r"ready_m2 is infinite \(±inf\) in 1 block\(s\) \(ids B1\)"):
        capacity.compute(blocks, by="zone")
    blocks.loc[0, "ready_m2"] = 2_000.0
    blocks.loc[1, "gfa_m2"] = -1e9
    with pytest.raises(BlockValidationError, match=r"gfa_m2 is negative in 1 block\(s\) \(ids B2\)"):
        capacity.compute(blocks, by="zone")


def test_supplied_above_developed_warns_and_clips():
    blocks = two_blocks()
    blocks.loc[1, "supplied_m2"] = 9_000.0  # > A + B21 = 8000
    with pytest.warns(ValidationWarning, match=r"1 block\(s\) have supplied land D above developed.*ids B2"):
        res = capacity.compute(blocks, by="block")
    assert res.loc["B2", "suppliable_m2"] == 0.0
    assert res.loc["B2", "unsupplied_m2"] == 1_000.0


def test_absent_columns_are_reported():
    blocks = two_blocks().drop(columns="far_cap")
    with pytest.warns(ValidationWarning, match=r"lacks column\(s\) \['far_cap'\]"):
        res = capacity.compute(blocks, by="zone")
    assert "gfa_capacity_m2" not in res.columns
    assert res.attrs["missing"]["gfa_capacity_m2"] == ["far_cap"]
    assert res.loc["ZGC", "remaining_m2"] == 5_000.0

    land_less = two_blocks()[["block_id", "gfa_m2"]]
    with pytest.warns(ValidationWarning, match="cannot be computed"):
        res = capacity.compute(land_less, by="zone")
    assert list(res.columns) == ["block_count"]
    assert set(res.attrs["missing"]) >= {"remaining_m2", "suppliable_m2", "gfa_capacity_m2"}


def test_unknown_by_and_input_untouched():
    blocks = two_blocks()
    before = blocks.copy()
    with pytest.raises(ColumnError, match="available columns: block_id, subpark"):
        capacity.compute(blocks, by="cluster")
    capacity.compute(blocks, by="subpark", annual_supply_m2=100.0)
    pd.testing.assert_frame_equal(blocks, before)


# ------------------------------------------------------------------------------- fragmentation


def frag_blocks(crs: str = "EPSG:4548") -> gpd.GeoDataFrame:
    """海淀园: two 1-km² squares 500 m apart + a 1000 m x 250 m strip far away; 朝阳园: one square."""
    x, y = X0, Y0
    geoms = [
        box(x, y, x + 1000, y + 1000),
        box(x + 1500, y, x + 2500, y + 1000),
        box(x, y + 5000, x + 1000, y + 5250),
        box(x + 2000, y + 1500, x + 2500, y + 2000),
    ]
    frame = gpd.GeoDataFrame(
        {"block_id": ["F1", "F2", "F3", "F4"], "subpark": ["海淀园", "海淀园", "海淀园", "朝阳园"],
         "owner_count": [3, 1, 5, 4]},
        geometry=geoms, crs="EPSG:4548",
    )
    return frame.to_crs(crs)


def test_fragmentation_by_hand():
    res = capacity.fragmentation(frag_blocks())
    h, c = res.loc["海淀园"], res.loc["朝阳园"]
    assert h["block_count"] == 3
    assert h["area_km2"] == pytest.approx(2.25)
    assert h[["min_block_km2", "median_block_km2", "max_block_km2"]].tolist() == pytest.approx([0.25, 1.0, 1.0])
    assert h["mean_block_km2"] == pytest.approx(0.75)
    assert h["small_block_share_pct"] == pytest.approx(100 / 3)  # only the strip is < 1 km²
    square, strip = math.pi / 4, 4 * math.pi * 250_000 / 2_500**2
    assert h["polsby_popper_mean"] == pytest.approx((2 * square + strip) / 3)
    assert h["polsby_popper_area_weighted"] == pytest.approx((2 * square + 0.25 * strip) / 2.25)
    # nearest other 海淀园 block: F1-F2 500 m, F2-F1 500 m, F3-F1 4000 m → median 500 m
    assert h["nearest_distance_median_m"] == pytest.approx(500.0)
    assert h["blocks_per_km2"] == pytest.approx(3 / 2.25)
    assert h["owners_per_km2"] == pytest.approx(9 / 2.25)
    assert c["block_count"] == 1
    assert math.isnan(c["nearest_distance_median_m"])  # a group of one has no other block
    assert c["owners_per_km2"] == pytest.approx(16.0)


def test_fragmentation_zone_uses_every_block():
    res = capacity.fragmentation(frag_blocks(), by="zone")
    z = res.loc["ZGC"]
    assert z["block_count"] == 4
    # F1 500, F2 500 (F4 is 500 m above F2 too), F3 4000, F4 500 → median 500
    assert z["nearest_distance_median_m"] == pytest.approx(500.0)
    assert z["owners_per_km2"] == pytest.approx(13 / 2.5)


def test_fragmentation_reprojects_geographic_input():
    with pytest.warns(ReprojectionWarning, match="EPSG:4326"):
        res = capacity.fragmentation(frag_blocks("EPSG:4326"))
    assert res.loc["海淀园", "area_km2"] == pytest.approx(2.25, rel=1e-6)
    assert res.loc["海淀园", "nearest_distance_median_m"] == pytest.approx(500.0, rel=1e-4)


def test_fragmentation_errors_and_missing_owners():
    with pytest.raises(ColumnError, match="needs block geometry"):
        capacity.fragmentation(pd.DataFrame(frag_blocks().drop(columns="geometry")))
    with pytest.raises(ValueError, match="small_km2 must be > 0"):
        capacity.fragmentation(frag_blocks(), small_km2=0)
    with pytest.raises(ColumnError, match="available columns"):
        capacity.fragmentation(frag_blocks(), by="cluster")
    with pytest.warns(ValidationWarning, match="owners_per_km2 cannot be computed"):
        res = capacity.fragmentation(frag_blocks().drop(columns="owner_count"))
    assert "owners_per_km2" not in res.columns
    assert res.attrs["missing"] == {"owners_per_km2": ["owner_count"]}


def test_fragmentation_no_warning_on_metric_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = capacity.fragmentation(frag_blocks(), by="block")
    assert list(res.index) == ["F1", "F2", "F3", "F4"]
    assert res["nearest_distance_median_m"].isna().all()


# ------------------------------------------------------------------------------------------ CLI


@pytest.fixture
def block_file(tmp_path):
    frame = frag_blocks().iloc[:2].copy()
    for col, values in two_blocks().drop(columns=["block_id", "subpark"]).items():
        frame[col] = values.to_numpy()
    path = tmp_path / "blocks.gpkg"
    frame.to_file(path)
    return path


def test_cli_capacity_json(block_file, capsys):
    args = ["capacity", str(block_file), "--annual-supply-m2", "500", "--fragmentation", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"blocks", "by", "file", "fragmentation", "land_base", "missing", "missing_cap",
                        "notes", "over_cap", "rows", "zero_cap", "zone_land"}
    (row,) = out["rows"]
    assert row["zone"] == "ZGC"
    assert row["remaining_m2"] == 5_000.0
    assert row["gfa_capacity_m2"] == 14_000.0
    assert row["years_of_supply_left"] == 2.0
    (frag,) = out["fragmentation"]
    assert frag["block_count"] == 2
    assert frag["nearest_distance_median_m"] == pytest.approx(500.0)
    assert out["zone_land"]["remaining_developable_km2"] == pytest.approx(0.005)


def test_cli_capacity_reports_missing_caps(block_file, tmp_path, capsys):
    frame = gpd.read_file(block_file)
    frame.loc[0, "far_cap"] = np.nan
    path = tmp_path / "nocap.gpkg"
    frame.to_file(path)
    assert main(["capacity", str(path), "--by", "block", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["missing_cap"] == ["F1"]
    assert any("far_cap is missing" in note for note in out["notes"])
    assert main(["capacity", str(path), "--by", "subpark"]) == 0
    captured = capsys.readouterr()
    assert "gfa_capacity_m2" in captured.out and "far_cap is missing" in captured.err


def test_cli_capacity_bad_input(block_file, capsys):
    assert main(["capacity", str(block_file), "--by", "nope"]) == 1
    assert "available columns" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["capacity", str(block_file), "--annual-supply-m2", "-5"])
    assert "must be a positive area" in capsys.readouterr().err


# ------------------------------------------------------------------------------ sample data


@pytest.fixture(scope="module")
def sample():
    return datasets.load_blocks()


def test_sample_remaining_land_is_27_km2(sample):
    zone = capacity.compute(sample, by="zone")
    assert zone.loc["ZGC", "remaining_m2"] / 1e6 == pytest.approx(27, abs=0.2)
    parks = capacity.compute(sample, by="subpark")
    assert parks["remaining_m2"].sum() == pytest.approx(zone.loc["ZGC", "remaining_m2"], rel=1e-12)
    assert parks["gfa_capacity_m2"].sum() == pytest.approx(zone.loc["ZGC", "gfa_capacity_m2"], rel=1e-12)
    assert (zone[["suppliable_m2", "gfa_capacity_m2"]] >= 0).all(axis=None)


def test_sample_fragmentation(sample):
    frag = capacity.fragmentation(sample)
    assert frag["block_count"].sum() == 164
    assert frag["area_km2"].sum() == pytest.approx(488, abs=0.5)
    assert frag["polsby_popper_mean"].between(0, 1).all()
    assert (frag["nearest_distance_median_m"] >= 0).all()


def test_cli_capacity_text_headline_on_sample(capsys):
    assert main(["capacity", str(datasets.path("zgc_blocks.gpkg"))]) == 0
    text = capsys.readouterr().out
    assert "remaining developable land B: 27.00 km² (ready B21 18.61, not ready 8.39)" in text


# ---- TD/T 1029 potential --------------------------------------------------------------------


def _potential_fixture():
    import pandas as pd

    # B1: A 10,000, FAR 1.0; B2: A 10,000, FAR 3.0; T = 2.0
    return pd.DataFrame({
        "block_id": ["B1", "B2"], "subpark": ["P", "P"], "built_m2": [10_000.0, 10_000.0],
        "ready_m2": [2_000.0, 0.0], "unready_m2": [1_000.0, 500.0], "supplied_m2": [11_000.0, 10_000.0],
        "idle_m2": [500.0, 0.0], "gfa_m2": [10_000.0, 30_000.0], "tax_10k_cny": [5.0, 100.0],
    })


def test_potential_by_block_hand_values():
    from zgc_space import capacity

    out = capacity.potential(_potential_fixture(), far_ideal=2.0, by="block", low_tax_10k_cny_per_ha=10.0)
    b1, b2 = out.loc["B1"], out.loc["B2"]
    assert b1["expansion_remaining_m2"] == 3_000.0 and b2["expansion_remaining_m2"] == 500.0
    assert b1["expansion_suppliable_m2"] == 1_000.0 and b2["expansion_suppliable_m2"] == 0.0  # E = A + B21 - D
    assert b1["intensity_land_m2"] == 5_000.0  # 10,000 × (1 - 1.0 / 2.0)
    assert b2["intensity_land_m2"] == 0.0  # FAR 3.0 is above T
    assert b1["intensity_gfa_m2"] == 10_000.0 and b2["intensity_gfa_m2"] == 0.0  # T·A - gfa
    assert b1["management_idle_m2"] == 500.0
    assert b1["management_low_efficiency_m2"] == 10_000.0  # 5 万元 / 1 ha < 10
    assert b2["management_low_efficiency_m2"] == 0.0  # 100 万元/ha
    assert np.isnan(b1["structural_m2"]) and out.attrs["far_ideal"] == 2.0
    assert any("structural_m2 is unknown" in n for n in out.attrs["notes"])


def test_potential_of_a_group_uses_its_ratio_of_sums():
    from zgc_space import capacity

    zone = capacity.potential(_potential_fixture(), far_ideal=2.5, by="subpark").loc["P"]
    # group FAR = 40,000 / 20,000 = 2.0 < 2.5: ΔA = 20,000 × (1 - 2.0 / 2.5) = 4,000, not 6,000 + 0
    assert zone["far"] == 2.0 and abs(zone["intensity_land_m2"] - 4_000.0) < 1e-9
    assert zone["intensity_gfa_m2"] == 10_000.0 and np.isnan(zone["management_low_efficiency_m2"])


def test_potential_structural_from_pieces_and_bad_options():
    import pandas as pd
    import pytest

    from zgc_space import capacity
    from zgc_space.errors import ColumnError, ParameterError

    pieces = pd.DataFrame({"block_id": ["B1", "B1", "B2"], "class": ["B11", "A1", "A6"],
                           "area_m2": [700.0, 9_000.0, 300.0]})
    out = capacity.potential(_potential_fixture(), far_ideal=2.0, by="block", pieces=pieces)
    assert out["structural_m2"].tolist() == [700.0, 300.0]
    with pytest.raises(ParameterError, match="far_ideal must be a positive FAR"):
        capacity.potential(_potential_fixture(), far_ideal=0.0)
    with pytest.raises(ColumnError, match=r"lacks column\(s\) \['class'\]"):
        capacity.potential(_potential_fixture(), far_ideal=2.0, pieces=pieces.drop(columns="class"))
    with pytest.raises(ColumnError, match="potential needs column"):
        capacity.potential(_potential_fixture().drop(columns="idle_m2"), far_ideal=2.0)


def test_capacity_cli_potential(capsys):
    import json

    from zgc_space.cli import main

    assert main(["capacity", str(datasets.path("zgc_blocks.gpkg")), "--by", "zone", "--potential", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["far_ideal"] == 2.5  # the cic_default preset's ideal FAR
    row = payload["potential"][0] if isinstance(payload["potential"], list) else payload["potential"]
    assert round(row["expansion_remaining_m2"] / 1e6) == 27
