"""zgc_space.accounting on a hand-built fixture: every class area, every conflict, every bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from zgc_space import accounting
from zgc_space.errors import AccountingError, ColumnError, CRSError, ReprojectionWarning

X0, Y0 = 440_000.0, 4_430_000.0
CRS = "EPSG:4548"


def b(x0: float, y0: float, x1: float, y1: float):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def gdf(rows: list[dict], geoms: list, crs: str | None = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)


@pytest.fixture()
def layers() -> dict[str, gpd.GeoDataFrame]:
    blocks = gdf([{"block_id": "B1", "subpark": "海淀园", "far_cap": 2.0}, {"block_id": "B2", "subpark": "海淀园",
                                                                          "far_cap": 1.0}],
                 [b(0, 0, 200, 100), b(200, 0, 300, 100)])
    survey = gdf(
        [{"BSM": "s1", "DLBM": "0701", "CZCSXM": "201"}, {"BSM": "s2", "DLBM": "0601", "CZCSXM": "201"},
         {"BSM": "s3", "DLBM": "0103", "CZCSXM": None}, {"BSM": "s4", "DLBM": "0702", "CZCSXM": "203"},
         {"BSM": "s5", "DLBM": "0601", "CZCSXM": "203"}, {"BSM": "s6", "DLBM": "0301", "CZCSXM": None},
         {"BSM": "s7", "DLBM": "0805", "CZCSXM": "201"}],
        [b(0, 0, 100, 50), b(100, 0, 220, 50), b(0, 50, 100, 100), b(100, 50, 150, 100), b(150, 50, 200, 100),
         b(220, 0, 290, 50), b(200, 50, 300, 100)],
    )
    plan = gdf(
        [{"DKBH": "p1", "YDDM": "R2", "RJL": 2.5}, {"DKBH": "p2", "YDDM": "M1", "RJL": 1.5},
         {"DKBH": "p3", "YDDM": "E2", "RJL": None}, {"DKBH": "p4", "YDDM": "A5", "RJL": 2.0},
         {"DKBH": "p5", "YDDM": "E2", "RJL": None}],
        [b(0, 0, 200, 100), b(200, 0, 220, 50), b(220, 0, 300, 50), b(200, 50, 250, 100), b(250, 50, 300, 100)],
    )
    supply = gdf([{"GDBH": f"g{i}"} for i in range(1, 6)],
                 [b(0, 0, 100, 50), b(100, 0, 200, 50), b(0, 50, 25, 100), b(200, 50, 300, 100),
                  b(1000, 1000, 1100, 1100)])
    idle = gdf([{"RDBH": "i1", "RDRQ": "2021-05-01", "CZRQ": None}], [b(0, 50, 25, 100)])
    serviced = gdf([{"CBBH": "v1"}], [b(0, 50, 50, 100)])
    buildings = gdf([{"building_id": "bd1", "floors": 5}, {"building_id": "bd2", "floors": 2},
                     {"building_id": "bd3", "floors": 4}],
                    [b(10, 10, 30, 30), b(110, 10, 150, 30), b(210, 60, 240, 90)])
    enterprises = gdf(
        [{"enterprise_id": "e1", "hightech": True, "industry_code": "I65", "revenue_10k_cny": 100.0,
          "tax_10k_cny": 10.0, "employees": 50.0, "parcel_id": None},
         {"enterprise_id": "e2", "hightech": False, "industry_code": "C39", "revenue_10k_cny": 200.0,
          "tax_10k_cny": 20.0, "employees": 30.0, "parcel_id": None},
         {"enterprise_id": "e3", "hightech": True, "industry_code": "I65", "revenue_10k_cny": 1000.0,
          "tax_10k_cny": 100.0, "employees": 5.0, "parcel_id": None},
         {"enterprise_id": "e4", "hightech": True, "industry_code": "M73", "revenue_10k_cny": 50.0,
          "tax_10k_cny": 5.0, "employees": 10.0, "parcel_id": "s7"}],
        [Point(X0 + 20, Y0 + 20), Point(X0 + 220, Y0 + 70), Point(X0 + 5000, Y0 + 5000), None],
    )
    return {"blocks": blocks, "survey": survey, "plan": plan, "supply": supply, "idle": idle,
            "serviced": serviced, "buildings": buildings, "enterprises": enterprises}


def run(layers: dict, **kwargs: object) -> accounting.Accounting:
    parts = {k: v for k, v in layers.items() if k != "blocks"}
    return accounting.account(layers["blocks"], **parts | kwargs)  # type: ignore[arg-type]


EXPECTED = {
    "B1": {"built_m2": 10_000, "built_residential_m2": 5_000, "built_industrial_m2": 5_000, "ready_m2": 2_500,
           "unready_m2": 7_500, "nonconstruction_m2": 0, "supplied_m2": 11_250, "idle_m2": 1_250,
           "hightech_m2": 5_000, "gfa_m2": 3_600, "footprint_m2": 1_200, "industrial_gfa_m2": 1_600,
           "industrial_footprint_m2": 800, "revenue_10k_cny": 100, "industrial_revenue_10k_cny": 0,
           "enterprises": 1, "hightech_enterprises": 1, "permitted_gfa_plots_m2": 50_000,
           "permitted_gfa_far_cap_m2": 2.0 * 20_000},
    "B2": {"built_m2": 6_000, "built_residential_m2": 0, "built_industrial_m2": 1_000, "ready_m2": 0,
           "unready_m2": 0, "nonconstruction_m2": 3_500, "supplied_m2": 5_000, "idle_m2": 0, "hightech_m2": 5_000,
           "gfa_m2": 3_600, "footprint_m2": 900, "industrial_gfa_m2": 0, "industrial_footprint_m2": 0,
           "revenue_10k_cny": 250, "industrial_revenue_10k_cny": 200, "tax_10k_cny": 25, "employees": 40,
           "enterprises": 2, "hightech_enterprises": 1, "permitted_gfa_plots_m2": 1_500 + 5_000,
           "permitted_gfa_far_cap_m2": 1.0 * 6_000},
}


def test_every_class_area_equals_the_hand_value(layers: dict) -> None:
    acc = run(layers)
    table = acc.blocks.set_index("block_id")
    for block, values in EXPECTED.items():
        for col, value in values.items():
            assert table.loc[block, col] == pytest.approx(value, abs=1e-6), (block, col)
    assert set(acc.missing) == {"fixed_asset_10k_cny", "industrial_fixed_asset_10k_cny", "population"}
    assert set(table["gfa_source"]) == {"footprints"}


def test_pieces_sum_to_blocks_exactly(layers: dict) -> None:
    acc = run(layers)
    p = acc.pieces
    by_block = p.groupby("block_id")["area_m2"].sum()
    np.testing.assert_allclose(by_block.to_numpy(), acc.blocks.set_index("block_id")["site_area_m2"].to_numpy(),
                               atol=1e-6)
    classes = p.pivot_table(index="block_id", columns="class", values="area_m2", aggfunc="sum", fill_value=0.0)
    blocks = acc.blocks.set_index("block_id")
    built = classes[[c for c in classes.columns if c.startswith("A")]].sum(axis=1)
    np.testing.assert_array_equal(built.to_numpy(), blocks["built_m2"].to_numpy())
    np.testing.assert_array_equal(classes["C"].reindex(blocks.index, fill_value=0).to_numpy(),
                                  blocks["nonconstruction_m2"].to_numpy())
    assert set(p["class"]) <= set(accounting.CLASSES)
    assert p.crs.to_epsg() == 4548


def conflict(acc: accounting.Accounting, kind: str) -> pd.DataFrame:
    return acc.conflicts[acc.conflicts["kind"] == kind]


def test_conflicts_have_the_right_ids_and_areas(layers: dict) -> None:
    acc = run(layers)
    c = conflict(acc, "built_unsupplied")
    assert c[["block_id", "feature_id"]].values.tolist() == [["B2", "s2"]]
    assert c["area_m2"].iloc[0] == pytest.approx(1_000)
    c = conflict(acc, "plan_survey")
    assert c[["block_id", "feature_id", "other_id"]].values.tolist() == [["B2", "s7", "p5"]]
    assert c["area_m2"].iloc[0] == pytest.approx(2_500)
    c = conflict(acc, "straddle")
    assert c[["block_id", "feature_id"]].values.tolist() == [["B1;B2", "s2"]]
    assert c["area_m2"].iloc[0] == pytest.approx(1_000)
    c = conflict(acc, "gap")
    assert c["block_id"].tolist() == ["B2"] and c["area_m2"].iloc[0] == pytest.approx(500)
    c = conflict(acc, "outside_blocks")
    assert c[["layer", "feature_id"]].values.tolist() == [["supply", "g5"]]
    assert c["area_m2"].iloc[0] == pytest.approx(10_000)
    assert conflict(acc, "enterprise_outside")["feature_id"].tolist() == ["e3"]
    assert set(acc.conflicts["kind"]) <= set(accounting.CONFLICT_KINDS)
    assert set(acc.conflicts["kind"]) == {"built_unsupplied", "plan_survey", "straddle", "gap", "outside_blocks",
                                          "enterprise_outside"}


def test_summary_zone_row_and_terms(layers: dict) -> None:
    acc = run(layers)
    zone = acc.summary[acc.summary["level"] == "zone"].iloc[0]
    assert zone["built_km2"] == pytest.approx(0.016)
    assert zone["remaining_developable_km2"] == pytest.approx(0.01)
    assert zone["nonconstruction_km2"] == pytest.approx(0.0035)
    assert acc.summary.attrs["terms"]["remaining_developable_km2"].startswith("可开发利用面积剩余")
    assert set(acc.summary["level"]) == {"zone", "subpark", "block"}


def test_as_of_leaves_out_later_and_disposed_records(layers: dict) -> None:
    acc = run(layers, as_of="2020-12-31")  # the idle determination is dated 2021-05-01
    assert acc.blocks["idle_m2"].sum() == 0
    layers["idle"]["CZRQ"] = "2022-01-01"
    acc = run(layers, as_of="2023-12-31")  # disposed of before the date
    assert acc.blocks["idle_m2"].sum() == 0


def test_missing_layers_leave_columns_nan_and_listed(layers: dict) -> None:
    acc = accounting.account(layers["blocks"], survey=layers["survey"])
    for col in ("supplied_m2", "idle_m2", "ready_m2", "unready_m2", "hightech_m2", "gfa_m2", "revenue_10k_cny"):
        assert acc.blocks[col].isna().all(), col
        assert col in acc.missing
    assert acc.blocks["built_m2"].tolist() == [10_000, 6_000]
    # without a plan, farmland and forest are C
    assert acc.blocks["nonconstruction_m2"].tolist() == [5_000, 3_500]


def test_unknown_codes_are_an_error_listing_each(layers: dict) -> None:
    layers["survey"].loc[[0, 1], "DLBM"] = ["X1", "X1"]
    layers["survey"].loc[5, "DLBM"] = "9999"
    with pytest.raises(AccountingError, match=r"'9999' \(1 parcels, 3,500 m²\).*'X1' \(2 parcels, 11,000 m²\)"):
        run(layers)
    acc = run(layers, unknown="report")
    assert set(conflict(acc, "unknown_code")["feature_id"]) == {"s1", "s2", "s6"}


def test_a_user_table_maps_unknown_codes_and_is_recorded(layers: dict, tmp_path: Path) -> None:
    layers["survey"].loc[0, "DLBM"] = "0701X"
    table = tmp_path / "my_codes.csv"
    table.write_text("layer,code,use,name\nsurvey,0701X,A1,城镇住宅 (local)\n", encoding="utf-8")
    acc = run(layers, codes=table)
    assert acc.blocks["built_residential_m2"].iloc[0] == 5_000
    rows = acc.codes.table[acc.codes.table["code"] == "0701X"]
    assert rows["source"].tolist() == ["my_codes.csv"]


def test_no_dlbm_like_column(layers: dict) -> None:
    layers["survey"] = layers["survey"].rename(columns={"DLBM": "LANDTYPE"})
    with pytest.raises(ColumnError, match=r"survey layer .* has no DLBM-like land-use code .*DLBM, 地类编码"):
        run(layers)


def test_overlapping_survey_parcels(layers: dict) -> None:
    layers["survey"].loc[3, "geometry"] = b(90, 50, 150, 100)  # s4 now overlaps s3 by 10 x 50 m
    with pytest.raises(AccountingError, match=r"overlapping pair.*s3 and s4 \(500.0 m²\).*overlaps='first'"):
        run(layers)
    acc = run(layers, overlaps="first")
    c = conflict(acc, "overlap")
    assert c[["feature_id", "other_id"]].values.tolist() == [["s3", "s4"]]


def test_layers_in_other_crs_are_reprojected_with_a_warning(layers: dict) -> None:
    expected = run(layers).blocks
    layers["survey"] = layers["survey"].to_crs("EPSG:4527")
    with pytest.warns(ReprojectionWarning, match="survey layer"):
        acc = run(layers)
    np.testing.assert_allclose(acc.blocks["built_m2"], expected["built_m2"], rtol=1e-6)


def test_a_layer_with_no_crs(layers: dict) -> None:
    layers["plan"] = layers["plan"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"plan layer .* has no CRS.*set_crs"):
        run(layers)


def test_enterprises_with_no_location(layers: dict) -> None:
    layers["enterprises"].loc[3, "parcel_id"] = None
    with pytest.raises(AccountingError, match=r"1 enterprise\(s\) have no location \(ids e4\).*building_id"):
        run(layers)


@pytest.mark.parametrize(("value", "message"), [(-1.0, r"negative FAR cap \(ids p2\)"),
                                                ("2.0-3.0", r"not a number: p2 \('2.0-3.0'\)")])
def test_plan_plot_with_a_bad_far_cap(layers: dict, value: object, message: str) -> None:
    layers["plan"]["RJL"] = layers["plan"]["RJL"].astype(object)
    layers["plan"].loc[1, "RJL"] = value
    with pytest.raises(AccountingError, match=message):
        run(layers)


def test_inputs_are_not_modified_and_write_refuses_inputs(layers: dict, tmp_path: Path) -> None:
    before = {k: v.copy() for k, v in layers.items()}
    acc = run(layers)
    for k, v in layers.items():
        pd.testing.assert_frame_equal(pd.DataFrame(v), pd.DataFrame(before[k]))
    survey_file = tmp_path / "survey.gpkg"
    layers["survey"].to_file(survey_file, layer="DLTB")
    acc = accounting.account(layers["blocks"], survey=survey_file, plan=layers["plan"])
    assert acc.inputs["survey"] == [str(survey_file.resolve())]
    from zgc_space.errors import OverwriteInputError

    with pytest.raises(OverwriteInputError):
        accounting.write(acc, survey_file)
    written = accounting.write(acc, tmp_path / "out.gpkg")
    assert {p.name for p in written} >= {"out.gpkg", "out_pieces.csv", "out_conflicts.csv", "out_codes.csv"}
    assert gpd.read_file(tmp_path / "out.gpkg", layer="pieces")["area_m2"].sum() == pytest.approx(30_000)


def test_panel_years(layers: dict) -> None:
    later = layers["survey"].copy()
    later.loc[2, "DLBM"] = "0601"  # the farmland is built on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = accounting.panel(layers["blocks"], surveys={2022: layers["survey"], 2023: later},
                                 plan=layers["plan"], supply=layers["supply"], serviced=layers["serviced"])
    assert frame[["block_id", "year"]].values.tolist() == [["B1", 2022], ["B1", 2023], ["B2", 2022], ["B2", 2023]]
    assert frame.loc[(frame["block_id"] == "B1"), "built_m2"].tolist() == [10_000, 15_000]


def test_codes_tables() -> None:
    m = accounting.load_codes("ydyh_2023")
    assert m.survey_use(["070101", "100102", "0703", "2301", "0101"]).tolist() == ["A1", "A2", "B11", "vacant",
                                                                                   "nonconstruction"]
    m = accounting.load_codes()
    assert m.survey_use(["08H2A", "0810A", "0508", "1006", "1109"]).tolist() == ["A5", "A5", "A2",
                                                                                  "nonconstruction", "A6"]
    assert m.czcsxm_use(["201", "202", "203", "205"]).tolist() == ["urban", "urban", "rural", "urban"]
    with pytest.raises(AccountingError, match="neither a packaged code table"):
        accounting.load_codes("gbt9999")


def test_code_tables_are_remembered_but_each_call_gets_its_own_and_an_edited_file_is_read_again(
        tmp_path: Path) -> None:
    first = accounting.load_codes()
    first.table.loc[0, "use"] = "edited"
    first.survey["0701"] = "A2"
    again = accounting.load_codes()
    assert again.survey["0701"] == "A1" and "edited" not in set(again.table["use"])
    user = tmp_path / "mine.csv"
    user.write_text("layer,code,use\nsurvey,9901,A3\n", encoding="utf-8")
    assert accounting.load_codes(["gbt21010_2017", user]).survey_use(["9901"]).tolist() == ["A3"]
    user.write_text("layer,code,use\nsurvey,9901,vacant\n", encoding="utf-8")  # another size: read again
    assert accounting.load_codes(["gbt21010_2017", user]).survey_use(["9901"]).tolist() == ["vacant"]


def test_a_multi_site_enterprise_is_split_by_floor_area(layers: dict) -> None:
    e = layers["enterprises"]
    two = gpd.GeoDataFrame(pd.DataFrame([
        {"enterprise_id": "m1", "hightech": False, "industry_code": "I65", "revenue_10k_cny": 720.0,
         "tax_10k_cny": 72.0, "employees": 72.0, "parcel_id": None, "building_id": "bd1"},
        {"enterprise_id": "m1", "hightech": False, "industry_code": "I65", "revenue_10k_cny": 720.0,
         "tax_10k_cny": 72.0, "employees": 72.0, "parcel_id": None, "building_id": "bd3"},
    ]), geometry=[None, None], crs=CRS)
    layers["enterprises"] = pd.concat([e.assign(building_id=None), two], ignore_index=True)
    acc = run(layers)
    rev = acc.blocks.set_index("block_id")["revenue_10k_cny"]
    # bd1 has 2,000 m² of floor area (B1), bd3 3,600 m² (B2): the 720 split 2,000 : 3,600
    assert rev["B1"] == pytest.approx(100 + 720 * 2_000 / 5_600)
    assert rev["B2"] == pytest.approx(250 + 720 * 3_600 / 5_600)
    assert acc.blocks.set_index("block_id")["enterprises"].tolist() == [2, 3]


def test_a_gbk_shapefile_without_cpg_is_read(layers: dict, tmp_path: Path) -> None:
    survey = layers["survey"].assign(DLMC="城镇住宅用地")
    path = tmp_path / "DLTB.shp"
    survey.to_file(path, encoding="gbk", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    acc = accounting.account(layers["blocks"], survey=path)
    assert acc.blocks["built_residential_m2"].iloc[0] == 5_000
    assert str(path.with_suffix(".dbf").resolve()) in acc.inputs["survey"]
    from zgc_space.accounting import _layers

    frame, _, _ = _layers.read_any(path, "survey")
    assert frame["DLMC"].iloc[0] == "城镇住宅用地"


def test_extra_columns_and_the_index_of_the_blocks_are_kept(layers: dict) -> None:
    layers["blocks"] = layers["blocks"].set_index(pd.Index([10, 20])).assign(note=["a", "b"], built_m2=-1.0)
    acc = run(layers)
    assert acc.blocks.index.tolist() == [10, 20]
    assert acc.blocks["note"].tolist() == ["a", "b"]
    assert acc.blocks["built_m2"].tolist() == [10_000, 6_000]  # recomputed, never taken from the input


def test_without_serviced_land_the_notes_say_what_b21_counts(layers: dict) -> None:
    acc = accounting.account(layers["blocks"], survey=layers["survey"], plan=layers["plan"], supply=layers["supply"])
    assert any("ready_m2 (B21) counts supplied unbuilt land only" in n for n in acc.notes)
    assert acc.blocks["ready_m2"].tolist() == [1_250, 0]


def test_threads_give_the_same_pieces(layers: dict) -> None:
    from zgc_space.accounting import _overlay

    rng = np.random.default_rng(0)
    a = np.array([box(x, y, x + 10, y + 10) for x, y in rng.uniform(0, 1000, (3000, 2))], dtype=object)
    b = np.array([box(x + 3, y + 4, x + 13, y + 14) for x, y in rng.uniform(0, 1000, (3000, 2))], dtype=object)
    pairs = np.arange(len(a))
    one, one_area = _overlay.intersection(a, pairs, b, pairs, threads=1)
    two, two_area = _overlay.intersection(a, pairs, b, pairs, threads=2)
    np.testing.assert_array_equal(shapely_area(one), shapely_area(two))
    np.testing.assert_array_equal(one_area, two_area)
    pd.testing.assert_frame_equal(run(layers, threads=2).blocks.drop(columns="geometry"),
                                  run(layers).blocks.drop(columns="geometry"))


def shapely_area(g: np.ndarray) -> np.ndarray:
    import shapely

    return shapely.area(g)


def test_demo_accounting_reproduces_the_sample_table_within_a_tenth_of_a_percent():
    from zgc_space import demo

    check = demo.accounting_check(demo.sample_accounting())
    assert (check["max_block_rel_diff"] <= 1e-3).all(), check
    assert round(check.loc["nonconstruction_m2", "accounted_km2"]) == 24
    assert round(check.loc["ready_m2", "accounted_km2"] + check.loc["unready_m2", "accounted_km2"]) == 27


def test_pieces_are_built_when_first_read_and_equal_their_areas(layers: dict) -> None:
    import importlib

    import shapely

    _account = importlib.import_module("zgc_space.accounting._account")  # the package's name is the function
    crs = layers["blocks"].crs
    blocks = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[box(440_000, 4_430_000, 440_300, 4_430_200)], crs=crs)
    survey = gpd.GeoDataFrame({"BSM": ["s1", "s2", "s3"], "DLBM": ["0701", "0601", "1201"]},
                              geometry=[box(440_000, 4_430_000, 440_100, 4_430_200),
                                        box(440_100, 4_430_000, 440_200, 4_430_200),
                                        box(440_200, 4_430_000, 440_300, 4_430_200)], crs=crs)
    plan = gpd.GeoDataFrame({"DKBH": ["p1", "p2"], "YDDM": ["R2", "G1"], "RJL": [2.0, 0.5]},
                            geometry=[box(439_900, 4_430_000, 440_150, 4_430_300),
                                      box(440_150, 4_430_000, 440_400, 4_430_300)], crs=crs)
    acc = accounting.account(blocks, survey=survey, plan=plan)
    lazy = acc._pieces
    assert isinstance(lazy, _account._LazyPieces)
    assert not shapely.is_geometry(lazy.geoms).all()  # the block table came without the cut polygons
    pieces = acc.pieces
    assert acc.pieces is pieces  # built once
    geoms = np.asarray(pieces.geometry.values, dtype=object)
    assert len(pieces) == 4 and shapely.is_geometry(geoms).all() and shapely.is_valid(geoms).all()
    np.testing.assert_allclose(shapely.area(geoms), pieces["area_m2"].to_numpy(), rtol=1e-12)
    assert sorted(pieces["area_m2"].round(6)) == [10_000.0, 10_000.0, 20_000.0, 20_000.0]
    # the same pieces when they are needed during the run (buildings are placed in them)
    buildings = gpd.GeoDataFrame({"building_id": ["b1"], "floors": [3]},
                                 geometry=[box(440_010, 4_430_010, 440_030, 4_430_030)], crs=crs)
    other = accounting.account(blocks, survey=survey, plan=plan, buildings=buildings).pieces
    pd.testing.assert_frame_equal(other.drop(columns="geometry"), pieces.drop(columns="geometry"))
    assert (shapely.to_wkb(other.geometry.values) == shapely.to_wkb(geoms)).all()


def test_the_garbage_collector_is_paused_during_a_run_and_restored_after(layers: dict,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import importlib

    core = importlib.import_module("zgc_space.accounting._account")
    seen = []
    real = core._blocks_metric  # called inside the run

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "_blocks_metric", spy)
    assert gc.isenabled()
    run(layers)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(AccountingError):
        accounting.account(layers["blocks"], survey=layers["survey"], overlaps="maybe")
    assert gc.isenabled()  # restored after an error too
    gc.disable()
    try:
        run(layers)
        assert not gc.isenabled()  # a caller who had paused it keeps it paused
    finally:
        gc.enable()
