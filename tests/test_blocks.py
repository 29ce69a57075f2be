"""Validation and repair of block tables (zgc_space.blocks)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from zgc_space import blocks as zb
from zgc_space.errors import BlockValidationError, ColumnError, GeometryRepairWarning, ValidationWarning

X0, Y0 = 440_000.0, 4_430_000.0  # EPSG:4548 metres near Zhongguancun


def make_blocks(n: int = 3) -> gpd.GeoDataFrame:
    """n valid 100 m x 100 m blocks side by side, land accounting exact (site 10,000 m² each)."""
    geoms = [box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "block_id": [f"B{i + 1:03d}" for i in range(n)],
            "subpark": ["海淀园"] * n,
            "built_m2": [6000.0] * n,
            "built_residential_m2": [2000.0] * n,
            "built_industrial_m2": [1000.0] * n,
            "ready_m2": [2000.0] * n,
            "unready_m2": [1000.0] * n,
            "nonconstruction_m2": [1000.0] * n,
            "supplied_m2": [7000.0] * n,
            "idle_m2": [500.0] * n,
            "hightech_m2": [3000.0] * n,
            "gfa_m2": [7080.0] * n,
            "industrial_gfa_m2": [900.0] * n,
            "gfa_source": ["surveyed"] * n,
        },
        geometry=geoms,
        crs="EPSG:4548",
    )


def rules(problems):
    return [p.rule for p in problems]


def test_valid_blocks_have_no_problems_and_pass_through():
    blocks = make_blocks()
    assert zb.find_problems(blocks) == []
    assert zb.validate_blocks(blocks) is blocks


def test_missing_crs_is_an_error_naming_the_fix():
    blocks = make_blocks().set_crs(None, allow_override=True)
    with pytest.raises(BlockValidationError, match=r"has no CRS.*set_crs\(\"EPSG:4548\"\)"):
        zb.validate_blocks(blocks)


def test_geographic_crs_is_a_warning_and_areas_use_metres():
    blocks = make_blocks().to_crs("EPSG:4326")
    found = zb.find_problems(blocks)
    assert rules(found) == ["crs-geographic"]
    with pytest.warns(ValidationWarning, match="reprojection to EPSG:4548"):
        zb.validate_blocks(blocks)
    with pytest.raises(BlockValidationError, match="geographic"):
        zb.validate_blocks(blocks, strict=True)
    totals = zb.land_totals(blocks)
    assert totals.loc["合计 total", "site_area_km2"] == pytest.approx(0.03, rel=1e-6)


def test_duplicate_and_missing_ids():
    blocks = make_blocks(4)
    blocks.loc[1, "block_id"] = "B001"
    blocks.loc[2, "block_id"] = None
    with pytest.raises(BlockValidationError) as info:
        zb.validate_blocks(blocks)
    assert {"duplicate-id", "missing-id"} <= set(rules(info.value.problems))
    assert "B001" in str(info.value)


def test_self_intersecting_polygon_reported_then_repaired():
    blocks = make_blocks()
    # a square whose ring crosses its own bottom edge near one corner (a 1.5 m² loop)
    blocks.loc[1, "geometry"] = Polygon(
        [(X0 + 100, Y0), (X0 + 200, Y0), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 100), (X0 + 100, Y0 + 1),
         (X0 + 101, Y0 - 1), (X0 + 99, Y0 - 1)]
    )
    with pytest.raises(BlockValidationError, match=r"1 invalid geometry \(ids B002.*repair_geometries"):
        zb.validate_blocks(blocks)
    with pytest.warns(GeometryRepairWarning, match="B002"):
        fixed = zb.repair_geometries(blocks)
    assert fixed.geometry.iloc[1].geom_type == "MultiPolygon"  # the square and the small loop
    assert fixed.geometry.iloc[1].is_valid
    report = fixed.attrs["repairs"]
    assert list(report["block_id"]) == ["B002"]
    assert report["area_before_m2"].iloc[0] == pytest.approx(9998.5)  # signed ring area
    assert report["area_after_m2"].iloc[0] == pytest.approx(10_001.0)  # square − 0.25 m² + 1.25 m² loop
    assert zb.find_problems(fixed) == []
    # the input is untouched
    assert not blocks.geometry.iloc[1].is_valid


def test_bowtie_repairs_to_multipolygon_never_a_collection():
    blocks = make_blocks(1)
    blocks.loc[0, "geometry"] = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    with pytest.warns(GeometryRepairWarning, match=r"B001 \(\+5,000.0 m²\)"):
        fixed = zb.repair_geometries(blocks)
    assert fixed.geometry.iloc[0].geom_type == "MultiPolygon"
    assert fixed.geometry.iloc[0].area == pytest.approx(5000)


def test_geometry_collection_is_an_error_and_repair_keeps_polygons():
    blocks = make_blocks(2)
    blocks.loc[0, "geometry"] = GeometryCollection([box(X0, Y0, X0 + 100, Y0 + 100), LineString([(0, 0), (1, 1)])])
    with pytest.raises(BlockValidationError, match=r"not Polygon/MultiPolygon \(GeometryCollection\): B001"):
        zb.validate_blocks(blocks)
    fixed = zb.repair_geometries(blocks)  # area unchanged: no warning
    assert fixed.geometry.iloc[0].geom_type == "Polygon"
    assert zb.find_problems(fixed) == []


def test_empty_geometry_is_an_error_and_cannot_be_repaired():
    blocks = make_blocks(2)
    blocks.loc[1, "geometry"] = Polygon()
    with pytest.raises(BlockValidationError, match=r"empty or missing geometry: B002"):
        zb.validate_blocks(blocks)
    with pytest.raises(BlockValidationError, match="no polygonal area.*B002"):
        zb.repair_geometries(blocks)
    points = make_blocks(1)
    points.loc[0, "geometry"] = Point(X0, Y0)
    with pytest.raises(BlockValidationError, match="B001"):
        zb.repair_geometries(points)


def test_overlapping_blocks_listed_in_pairs_with_area():
    blocks = make_blocks(3)
    blocks.loc[1, "geometry"] = box(X0 + 50, Y0, X0 + 150, Y0 + 100)  # overlaps B001 by 5,000 m²
    with pytest.raises(BlockValidationError, match=r"overlap by more than 1 m²: B001/B002 \(5,000 m²\)"):
        zb.validate_blocks(blocks)
    # a sliver below the tolerance is digitising noise
    blocks.loc[1, "geometry"] = box(X0 + 99.995, Y0, X0 + 200, Y0 + 100)
    assert "overlap" not in rules(zb.find_problems(blocks))


def test_negative_areas_are_errors():
    blocks = make_blocks()
    blocks.loc[2, "gfa_m2"] = -1.0
    with pytest.raises(BlockValidationError, match=r"gfa_m2 is negative in blocks B003"):
        zb.validate_blocks(blocks)


def test_nesting_violation_built_above_supplied():
    blocks = make_blocks()
    blocks.loc[0, "supplied_m2"] = 5000.0  # built A = 6000 > supplied D
    with pytest.raises(BlockValidationError, match=r"built A must lie within supplied D.*B001: 6,000 > 5,000"):
        zb.validate_blocks(blocks)


def test_nesting_accounting_exceeds_site_area():
    blocks = make_blocks()
    blocks.loc[1, "nonconstruction_m2"] = 3000.0  # A+B+C = 12,000 > 10,000
    with pytest.raises(BlockValidationError, match=r"A \+ B \+ C must not exceed the site area.*B002"):
        zb.validate_blocks(blocks)


def test_every_problem_gathered_in_one_error():
    blocks = make_blocks(4)
    blocks.loc[0, "gfa_m2"] = -1.0
    blocks.loc[1, "block_id"] = "B003"
    blocks.loc[3, "geometry"] = box(X0 + 250, Y0, X0 + 350, Y0 + 100)
    blocks.loc[2, "idle_m2"] = 5000.0
    with pytest.raises(BlockValidationError) as info:
        zb.validate_blocks(blocks)
    assert {"negative", "duplicate-id", "overlap", "nesting"} <= set(rules(info.value.problems))
    assert str(info.value).startswith("`blocks` has 5 problem(s)")


def test_missing_required_columns_and_partial_land_accounting():
    blocks = make_blocks().drop(columns=["subpark", "supplied_m2"])
    with pytest.raises(BlockValidationError) as info:
        zb.validate_blocks(blocks)
    text = str(info.value)
    assert "lacks required column(s) subpark" in text
    assert "lacks supplied_m2" in text


def test_non_numeric_values_named():
    blocks = make_blocks()
    blocks["gfa_m2"] = pd.Series(["7080", "n/a", "7080"], dtype="object")
    with pytest.raises(BlockValidationError, match=r"gfa_m2 holds non-numbers in blocks B002"):
        zb.validate_blocks(blocks)


def test_unknown_subpark_warns_with_canonical_hint():
    blocks = make_blocks()
    blocks.loc[0, "subpark"] = "德胜园"
    blocks.loc[1, "subpark"] = "月球园"
    with pytest.warns(ValidationWarning, match="德胜园 → 西城园"):
        zb.validate_blocks(blocks)


def test_declared_site_area_mismatch_and_unaccounted_land_warn():
    blocks = make_blocks()
    blocks["site_area_m2"] = [10_000.0, 12_000.0, 10_000.0]
    blocks.loc[2, "nonconstruction_m2"] = 0.0
    assert rules(zb.find_problems(blocks)) == ["site-area-mismatch", "unaccounted-land"]


def test_multipolygon_blocks_are_valid():
    blocks = make_blocks(2)
    blocks.loc[0, "geometry"] = MultiPolygon([box(X0, Y0, X0 + 50, Y0 + 100), box(X0 - 200, Y0, X0 - 150, Y0 + 100)])
    assert "geometry-type" not in rules(zb.find_problems(blocks))


def test_land_totals_by_subpark_and_unknown_column():
    blocks = make_blocks(3)
    blocks.loc[2, "subpark"] = "西城园"
    totals = zb.land_totals(blocks)
    assert list(totals.index) == ["海淀园", "西城园", "合计 total"]
    assert totals.loc["海淀园", "blocks"] == 2
    assert totals.loc["合计 total", "remaining_km2"] == pytest.approx(0.009)
    with pytest.raises(ColumnError, match="no such column"):
        zb.land_totals(blocks, by="分区")


def test_land_totals_keep_blocks_without_a_group_and_refuse_text():
    blocks = make_blocks(3)
    blocks.loc[2, "subpark"] = None
    totals = zb.land_totals(blocks)
    assert list(totals.index) == ["(no subpark)", "海淀园", "合计 total"]
    groups = totals.drop(index="合计 total")
    assert groups["blocks"].sum() == 3
    assert groups["site_area_km2"].sum() == pytest.approx(totals.loc["合计 total", "site_area_km2"])
    blocks["gfa_m2"] = pd.Series(["7080", "lots", "7080"], dtype="object")
    with pytest.raises(BlockValidationError, match="gfa_m2"):
        zb.land_totals(blocks)
