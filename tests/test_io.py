"""Tests for zgc_space.io: readers, alias mapping, attribute joins, atomic writers."""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely import box

from zgc_space import io
from zgc_space.errors import (
    AttributeJoinError,
    ColumnError,
    CRSError,
    CRSGuessWarning,
    DataFileError,
    OverwriteInputError,
    ReprojectionWarning,
    ValidationWarning,
)
from zgc_space.io import _common as _io_private
from zgc_space.io import _readers as _io_readers
from zgc_space.io import _xlsx as _xlsx_private

X0, Y0 = 440_000.0, 4_430_000.0


def square(i: int, size: float = 100.0):
    """A size x size square, the i-th along the x axis near (440000, 4430000) in EPSG:4548."""
    return box(X0 + i * size, Y0, X0 + (i + 1) * size, Y0 + size)


def chinese_frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "地块编号": [f"B{i:03d}" for i in range(1, n + 1)],
            "分园": ["海淀园", "东城园", "昌平园"][:n],
            "总建筑面积": [15_000.0, 8_000.5, 0.0][:n],
            "备注": ["研发", "商务", "预留"][:n],
        },
        geometry=[square(i) for i in range(n)],
        crs="EPSG:4548",
    )


def canonical_frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "block_id": [f"B{i:03d}" for i in range(1, n + 1)],
            "subpark": ["海淀园", "东城园", "昌平园"][:n],
            "gfa_m2": [15_000.0, 8_000.5, 0.0][:n],
            "built_residential_m2": [100.0, 0.0, 2.5][:n],
            "industrial_footprint_m2": [1.0, 2.0, 3.0][:n],
            "policy_zone": [True, False, True][:n],
            "备注": ["研发", "商务", "预留"][:n],
        },
        geometry=[square(i) for i in range(n)],
        crs="EPSG:4548",
    )


@pytest.fixture
def gbk_shp(tmp_path: Path) -> Path:
    """A Shapefile as Chinese GIS installs write it: GBK .dbf, Chinese field names, no .cpg."""
    path = tmp_path / "gbk_blocks.shp"
    pyogrio.write_dataframe(chinese_frame(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


def tmp_dirs(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".zgc-tmp-")]


# --------------------------------------------------------------------------------- Shapefiles


def test_gbk_shapefile_with_chinese_field_names(gbk_shp: Path) -> None:
    raw = gbk_shp.with_suffix(".dbf").read_bytes()
    assert "地块编号".encode("gbk") in raw and not gbk_shp.with_suffix(".cpg").exists()
    assert _io_readers.detect_dbf_encoding(gbk_shp.with_suffix(".dbf")) == "gb18030"
    blocks = io.read_blocks(gbk_shp)
    assert list(blocks.columns) == ["block_id", "subpark", "gfa_m2", "备注", "site_area_m2", "geometry"]
    assert blocks["subpark"].tolist() == ["海淀园", "东城园", "昌平园"]
    assert blocks["备注"].tolist() == ["研发", "商务", "预留"]
    assert blocks["block_id"].tolist() == ["B001", "B002", "B003"]
    assert pd.api.types.is_string_dtype(blocks["block_id"])
    assert blocks["site_area_m2"].tolist() == [10_000.0] * 3
    assert blocks.crs.to_epsg() == 4548
    names = [Path(p).name for p in blocks.attrs["zgc_sources"]]
    assert names[0] == "gbk_blocks.shp" and "gbk_blocks.dbf" in names
    assert all(Path(p).is_absolute() for p in blocks.attrs["zgc_sources"])


def test_gbk_shapefile_with_cpg_code_page(gbk_shp: Path) -> None:
    gbk_shp.with_suffix(".cpg").write_text("936")
    assert io.read_blocks(gbk_shp)["subpark"].iloc[0] == "海淀园"


def test_wrong_encoding_override_is_reported(gbk_shp: Path) -> None:
    with pytest.raises(DataFileError, match=r"not valid utf-8; pass the right encoding="):
        io.read_blocks(gbk_shp, encoding="utf-8")


def test_utf8_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "utf8.shp"
    frame = chinese_frame().rename(columns={"地块编号": "编号", "总建筑面积": "gfa_m2"})
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    assert _io_readers.detect_dbf_encoding(path.with_suffix(".dbf")) == "utf-8"
    blocks = io.read_blocks(path)
    assert blocks["subpark"].tolist() == ["海淀园", "东城园", "昌平园"]
    assert blocks["block_id"].tolist() == ["B001", "B002", "B003"]


def cut_shapefile(tmp_path: Path, frame: gpd.GeoDataFrame | None = None) -> Path:
    """A UTF-8 Shapefile whose Chinese field names GDAL cut at 10 bytes (3 characters)."""
    path = tmp_path / "cut.shp"
    with warnings.catch_warnings():  # GDAL's own complaint while cutting the names, not ours
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(chinese_frame() if frame is None else frame, path, encoding="UTF-8")
    return path


def test_cut_numeric_field_name_is_refused_by_default(tmp_path: Path) -> None:
    # 总建筑面积(万平方米) is cut to 总建筑: completing it would read 万平方米 as m²
    path = cut_shapefile(tmp_path, chinese_frame().rename(columns={"总建筑面积": "总建筑面积(万平方米)"}))
    with pytest.raises(
        ColumnError,
        match=r"cut\.dbf: field name\(s\) cut at the 10-byte .* '总建筑' may be 'gfa_m2' \(总建筑面积 \(m²\)\)"
        r".*cut\.aliases\.json sidecar.*truncated_names='keep'.*rename_aliases.*GeoPackage",
    ):
        io.read_blocks(path)


def test_cut_names_keep_completes_identity_columns_only(tmp_path: Path) -> None:
    path = cut_shapefile(tmp_path)
    with pytest.warns(ValidationWarning, match=r"10-byte \.dbf limit.*\(read '地块编' as '地块编号'\)"):
        blocks = io.read_blocks(path, truncated_names="keep")
    assert {"block_id", "subpark", "总建筑"} <= set(blocks.columns)
    assert "gfa_m2" not in blocks.columns
    assert blocks["总建筑"].tolist() == [15_000.0, 8_000.5, 0.0]


def test_cut_names_complete_on_request(tmp_path: Path) -> None:
    path = cut_shapefile(tmp_path)
    pattern = r"10-byte \.dbf limit.*'地块编' as '地块编号'.*'总建筑' as '总建筑面积'"
    with pytest.warns(ValidationWarning, match=pattern):
        blocks = io.read_blocks(path, truncated_names="complete")
    assert {"block_id", "subpark", "gfa_m2"} <= set(blocks.columns)
    assert blocks["gfa_m2"].tolist() == [15_000.0, 8_000.5, 0.0]
    with pytest.raises(ValueError, match=r"truncated_names must be one of \('raise', 'keep', 'complete'\)"):
        io.read_blocks(path, truncated_names="guess")


def test_cut_names_with_sidecar_need_no_guess(tmp_path: Path) -> None:
    path = cut_shapefile(tmp_path)
    sidecar = {"fields": {"地块编": {"name": "地块编号"}, "总建筑": {"name": "总建筑面积(万平方米)"}}}
    (tmp_path / "cut.aliases.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    blocks = io.read_blocks(path)
    assert blocks["gfa_m2"].tolist() == [1.5e8, 8.0005e7, 0.0]


def test_shapefile_round_trip_restores_names(tmp_path: Path) -> None:
    frame = canonical_frame()
    path = io.write_shapefile(frame, tmp_path / "out.shp")
    fields = list(pyogrio.read_info(path)["fields"])
    assert all(f.isascii() and len(f.encode()) <= 10 for f in fields)
    assert len({f.lower() for f in fields}) == len(fields)
    assert path.with_suffix(".cpg").read_text().strip() == "UTF-8"
    sidecar = json.loads((tmp_path / "out.aliases.json").read_text(encoding="utf-8"))["fields"]
    assert sidecar["bui_res_m2"] == {"name": "built_residential_m2", "label": "住宅用地 (m²)"}
    back = io.read_blocks(path)
    assert list(back.columns) == [*frame.columns[:-1], "site_area_m2", "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns=["geometry", "site_area_m2"])),
        pd.DataFrame(frame.drop(columns="geometry")),
        check_dtype=False,
    )


def test_shapefile_writer_is_deterministic_and_refuses_long_text(tmp_path: Path) -> None:
    frame = canonical_frame()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    io.write_shapefile(frame, a / "x.shp")
    io.write_shapefile(frame, b / "x.shp")
    for part in sorted(a.iterdir()):
        assert part.read_bytes() == (b / part.name).read_bytes(), part.name
    long = frame.assign(备注=["长" * 100, "x", "y"])
    with pytest.raises(DataFileError, match=r"'备注' has text longer than a \.dbf field \(254 bytes\)"):
        io.write_shapefile(long, tmp_path / "long.shp")
    assert not (tmp_path / "long.shp").exists() and not tmp_dirs(tmp_path)


def test_shapefile_overwrite_removes_stale_index(tmp_path: Path) -> None:
    path = io.write_shapefile(canonical_frame(), tmp_path / "x.shp")
    path.with_suffix(".qix").write_bytes(b"old index")
    io.write_shapefile(canonical_frame(2), path)
    assert not path.with_suffix(".qix").exists() and len(io.read_blocks(path)) == 2


# --------------------------------------------------------------------- other block formats


def test_geojson_in_wgs84_is_reprojected_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "blocks.geojson"
    pyogrio.write_dataframe(canonical_frame().to_crs("EPSG:4326"), path, driver="GeoJSON")
    with pytest.warns(ReprojectionWarning, match="EPSG:4326"):
        blocks = io.read_blocks(path)
    assert blocks.crs.to_epsg() == 4548
    np.testing.assert_allclose(blocks["site_area_m2"], 10_000.0, rtol=1e-6)


def test_missing_crs_is_guessed_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():  # pyogrio's "crs was not provided": the point of this fixture
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.write_dataframe(canonical_frame().set_crs(None, allow_override=True), path)
    with pytest.warns(CRSGuessWarning, match="guessed EPSG:4548"):
        blocks = io.read_blocks(path)
    assert blocks.crs.to_epsg() == 4548


def test_geoparquet_integer_ids_become_strings(tmp_path: Path) -> None:
    path = tmp_path / "blocks.parquet"
    canonical_frame().assign(block_id=[1, 2, 3]).to_parquet(path)
    blocks = io.read_blocks(path)
    assert blocks["block_id"].tolist() == ["1", "2", "3"]
    assert pd.api.types.is_string_dtype(blocks["block_id"])


def test_plain_parquet_has_no_geometry(tmp_path: Path) -> None:
    path = tmp_path / "table.parquet"
    pd.DataFrame({"block_id": ["B1"]}).to_parquet(path)
    with pytest.raises(DataFileError, match=r"has no geometry \(a plain Parquet table\)"):
        io.read_blocks(path)


def test_geopackage_layers(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(canonical_frame(), path, layer="blocks")
    pyogrio.write_dataframe(canonical_frame(1), path, layer="parks")
    assert len(io.read_blocks(path)) == 3
    assert len(io.read_blocks(path, layer="parks")) == 1
    with pytest.raises(DataFileError, match=r"no layer 'roads'; its layers are: blocks, parks"):
        io.read_blocks(path, layer="roads")
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(canonical_frame(), other, layer="a")
    pyogrio.write_dataframe(canonical_frame(1), other, layer="b")
    with pytest.raises(DataFileError, match=r"has 2 layers \(a, b\); pass layer="):
        io.read_blocks(other)


def test_attribute_only_layer_has_no_geometry(tmp_path: Path) -> None:
    path = tmp_path / "attrs.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"block_id": ["B1"]}), path, layer="attrs")
    with pytest.raises(DataFileError, match=r"layer 'attrs' of .* has no geometry"):
        io.read_blocks(path)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"nope\.gpkg: no such file"):
        io.read_blocks(tmp_path / "nope.gpkg")
    with pytest.raises(DataFileError, match=r"use one of \.geojson, \.geoparquet, \.gpkg"):
        io.read_blocks(tmp_path / "blocks.kml")
    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a geopackage")
    with pytest.raises(DataFileError, match="cannot read .*broken.gpkg as GPKG"):
        io.read_blocks(broken)
    shp = tmp_path / "lonely.shp"
    shp.write_bytes(b"")
    with pytest.raises(DataFileError, match=r"has no \.dbf file next to it"):
        io.read_blocks(shp)


def test_declared_area_that_differs_is_kept_and_reported(tmp_path: Path) -> None:
    frame = chinese_frame().assign(用地面积=[15.0, 10_020.0, 10_000.0])  # 15 亩 ≈ 10,000 m²
    path = tmp_path / "declared.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.warns(ValidationWarning, match=r"more than 0\.5% for 1 blocks \(ids B001\)"):
        blocks = io.read_blocks(path)
    assert blocks["site_area_m2"].tolist() == [10_000.0] * 3
    assert blocks["site_area_declared_m2"].tolist() == [15.0, 10_020.0, 10_000.0]
    within = chinese_frame().assign(用地面积=[10_040.0, 9_960.0, 10_000.0])  # within 0.5 %
    pyogrio.write_dataframe(within, tmp_path / "ok.gpkg")
    blocks = io.read_blocks(tmp_path / "ok.gpkg")
    assert "site_area_declared_m2" not in blocks and blocks["site_area_m2"].tolist() == [10_000.0] * 3


def test_id_column(tmp_path: Path) -> None:
    path = tmp_path / "ids.gpkg"
    pyogrio.write_dataframe(canonical_frame().rename(columns={"block_id": "DKBH"}), path)
    blocks = io.read_blocks(path, id_column="DKBH")
    assert blocks["block_id"].tolist() == ["B001", "B002", "B003"] and "DKBH" not in blocks
    with pytest.raises(ColumnError, match=r"no column 'CODE' for id_column"):
        io.read_blocks(path, id_column="CODE")
    both = tmp_path / "both.gpkg"
    pyogrio.write_dataframe(canonical_frame().assign(DKBH=["1", "2", "3"]), both)
    with pytest.raises(ColumnError, match=r"id_column='DKBH', but column 'block_id' also holds block ids"):
        io.read_blocks(both, id_column="DKBH")


def test_unknown_cpg_falls_back_to_detection_and_bad_sidecar_is_reported(gbk_shp: Path) -> None:
    gbk_shp.with_suffix(".cpg").write_text("NO-SUCH-CODEPAGE")
    assert io.read_blocks(gbk_shp)["subpark"].iloc[0] == "海淀园"
    gbk_shp.with_name("gbk_blocks.aliases.json").write_text("[1, 2]")
    with pytest.raises(DataFileError, match=r"gbk_blocks\.aliases\.json is not a zgc_space alias file"):
        io.read_blocks(gbk_shp)


def test_attach_attributes_maps_table_aliases() -> None:
    assert io.attach_attributes(canonical_frame(1), pd.DataFrame({"编号": ["B001"], "人口": [5]}))[
        "population"
    ].tolist() == [5]


# --------------------------------------------------------------------- aliases and tables


def test_rename_aliases_units_and_unknown_columns() -> None:
    table = pd.DataFrame(
        {" 地块编号 ": ["B1"], "总建筑面积(m²)": [1.0], "税收（万元）": [2.0], "用地面积（亩）": [3.0],
         "营业收入(元)": [50_000.0], "某个指标": [4], "Unknown": ["u"]}
    )
    out = io.rename_aliases(table)
    assert list(out.columns) == ["block_id", "gfa_m2", "tax_10k_cny", "site_area_m2", "revenue_10k_cny",
                                 "某个指标", "Unknown"]
    assert out["site_area_m2"].iloc[0] == pytest.approx(2_000.0)
    assert out["revenue_10k_cny"].iloc[0] == pytest.approx(5.0)
    assert list(table.columns)[0] == " 地块编号 "  # input untouched


@pytest.mark.parametrize(
    ("header", "factor"),
    [("总建筑面积(万平方米)", 1e4), ("建筑面积（万㎡）", 1e4), ("总建筑面积(万m²)", 1e4), ("总建筑面积(㎡)", 1.0),
     ("总建筑面积(平方米)", 1.0), ("用地面积(公顷)", 1e4), ("用地面积(hectare)", 1e4), ("用地面积(亩)", 10_000 / 15),
     ("用地面积(平方公里)", 1e6), ("用地面积(km²)", 1e6)],
)
def test_area_units_are_converted_to_m2(header: str, factor: float) -> None:
    out = io.rename_aliases(pd.DataFrame({header: [3.0]}))
    assert out.iloc[0, 0] == pytest.approx(3.0 * factor)


@pytest.mark.parametrize(
    ("header", "column", "factor"),
    [("税收(元)", "tax_10k_cny", 1e-4), ("税收(万元)", "tax_10k_cny", 1.0), ("税收(千元)", "tax_10k_cny", 0.1),
     ("纳税总额(亿元)", "tax_10k_cny", 1e4), ("税收(亿)", "tax_10k_cny", 1e4),
     ("营业收入(10k CNY)", "revenue_10k_cny", 1.0),
     ("从业人员(人)", "employees", 1.0), ("从业人员(千人)", "employees", 1e3), ("常住人口(万人)", "population", 1e4),
     ("税收(2023)", "tax_10k_cny", 1.0), ("税收（2022年度）", "tax_10k_cny", 1.0), ("地块编号(唯一)", "block_id", 1.0)],
)
def test_money_and_people_units(header: str, column: str, factor: float) -> None:
    out = io.rename_aliases(pd.DataFrame({header: [3.0]}))
    assert list(out.columns) == [column]
    assert out.iloc[0, 0] == pytest.approx(3.0 * factor)


@pytest.mark.parametrize("header", ["税收(万美元)", "从业人员(%)", "总建筑面积(sq ft)", "规划容积率(%)"])
def test_unknown_unit_on_numeric_column_is_an_error(header: str) -> None:
    pattern = rf"column '{re.escape(header)}' would be read as .* not a unit zgc_space knows .*accepted: .*rename"
    with pytest.raises(ColumnError, match=pattern):
        io.rename_aliases(pd.DataFrame({header: [3.0]}))


def test_unknown_unit_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("地块编号,总建筑面积(万平方米),税收(万美元)\nB1,3.0,1\n".encode("gb18030"))
    with pytest.raises(ColumnError, match=r"gbk\.csv: column '税收\(万美元\)' would be read as 'tax_10k_cny'"):
        io.read_table(path)
    path.write_bytes("地块编号,总建筑面积(万平方米)\nB1,3.0\n".encode("gb18030"))
    assert io.read_table(path)["gfa_m2"].tolist() == [30_000.0]


def test_conflicting_alias_headers() -> None:
    table = pd.DataFrame({"地块编号": ["B1"], "编号": ["B1"]})
    with pytest.raises(ColumnError, match=r"columns '地块编号' and '编号' both mean 'block_id'"):
        io.rename_aliases(table)
    with pytest.raises(ColumnError, match=r"'税收\(m²\)' is in m² but 'tax_10k_cny' is in 万元"):
        io.rename_aliases(pd.DataFrame({"税收(m²)": [1.0]}))
    with pytest.raises(ColumnError, match=r"'用地面积\(亩\)' is in 亩 .* holds non-numbers"):
        io.rename_aliases(pd.DataFrame({"用地面积(亩)": ["三"]}))


def test_csv_with_chinese_headers_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "attrs.csv"
    text = "地块编号,税收（万元）,总建筑面积(m²),分园,备注\n007,1.5,100,海淀园,a\nB002,2,200,东城园,b\n"
    path.write_bytes(text.encode("utf-8-sig"))
    table = io.read_table(path)
    assert list(table.columns) == ["block_id", "tax_10k_cny", "gfa_m2", "subpark", "备注"]
    assert table["block_id"].tolist() == ["007", "B002"]
    assert table["tax_10k_cny"].tolist() == [1.5, 2.0]
    assert table.attrs["zgc_sources"] == [str(path.resolve())]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(text.replace("m²", "平方米").encode("gbk"))
    assert io.read_table(gbk)["subpark"].tolist() == ["海淀园", "东城园"]
    with pytest.raises(DataFileError, match=r"cannot decode .*gbk\.csv.*pass encoding="):
        io.read_table(gbk, encoding="utf-8")


def test_xlsx_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "attrs.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "汇总"
    book.active.append(["地块编号", "从业人员", "说明"])
    book.active.append([1, 120, "x"])
    book.active.append([2, 80.5, None])
    book.create_sheet("备用")
    book.save(path)
    table = io.read_table(path)
    assert table["block_id"].tolist() == ["1", "2"]
    assert table["employees"].tolist() == [120.0, 80.5] and "说明" in table
    with pytest.raises(DataFileError, match=r"no sheet '数据'; its sheets are: 汇总, 备用"):
        io.read_table(path, sheet="数据")
    with pytest.raises(DataFileError, match=r"use one of \.csv, \.txt, \.xlsm, \.xlsx"):
        io.read_table(tmp_path / "old.xls")


# ----------------------------------------------------------------------- attribute joins


def attr_table(ids: list[str], tax: list[float], name: str = "税收.csv") -> pd.DataFrame:
    table = pd.DataFrame({"地块编号": ids, "税收": tax})
    table.attrs["zgc_sources"] = [f"/data/{name}"]
    return table


def test_attach_attributes_matches_ids_as_text() -> None:
    blocks = canonical_frame().assign(block_id=["1", "2", "3"])
    table = pd.DataFrame({"block_id": [3, 1, 2], "tax_10k_cny": [3.0, 1.0, 2.0]})
    out = io.attach_attributes(blocks, table)
    assert out["tax_10k_cny"].tolist() == [1.0, 2.0, 3.0]
    assert out.index.equals(blocks.index) and "tax_10k_cny" not in blocks


def test_unmatched_ids_strict_is_an_error() -> None:
    table = attr_table(["B001", "B002", "X9"], [1.0, 2.0, 9.0])
    with pytest.raises(AttributeJoinError, match=(
        r"1 ids of table 税收\.csv match no block \(X9\); 1 blocks have no row in table 税收\.csv "
        r"\(B003\); correct the ids .* how='left'"
    )):
        io.attach_attributes(canonical_frame(), table)


def test_unmatched_ids_list_is_capped() -> None:
    table = attr_table([f"Z{i}" for i in range(25)], [0.0] * 25)
    with pytest.raises(AttributeJoinError, match=r"25 ids .*Z9 \(and 15 more\)"):
        io.attach_attributes(canonical_frame(), table)


def test_unmatched_ids_left_warns_and_leaves_missing() -> None:
    table = attr_table(["B001", "X9"], [1.0, 9.0])
    with pytest.warns(ValidationWarning, match=r"match no block \(X9\).*no row in .* \(B002, B003\)"):
        out = io.attach_attributes(canonical_frame(), table, how="left")
    assert out["tax_10k_cny"].iloc[0] == 1.0 and out["tax_10k_cny"].iloc[1:].isna().all()


def test_duplicate_and_missing_table_ids() -> None:
    with pytest.raises(AttributeJoinError, match=r"税收\.csv has 1 duplicate ids \(B001\)"):
        io.attach_attributes(canonical_frame(), attr_table(["B001", "B001", "B002", "B003"], [1, 2, 3, 4]))
    with pytest.raises(AttributeJoinError, match=r"1 rows without an id \(rows 2,"):
        io.attach_attributes(canonical_frame(), attr_table(["B001", None, "B002"], [1, 2, 3]))
    with pytest.raises(ColumnError, match=r"the attribute table has no id column 'block_id'"):
        io.attach_attributes(canonical_frame(), pd.DataFrame({"code": ["B001"]}))
    with pytest.raises(ValueError, match="how must be 'strict' or 'left'"):
        io.attach_attributes(canonical_frame(), attr_table(["B001"], [1.0]), how="inner")


def test_overlapping_columns_merge_conflict_or_suffix() -> None:
    blocks = canonical_frame().assign(tax_10k_cny=[1.0, np.nan, 3.0])
    agreeing = attr_table(["B001", "B002", "B003"], [1.0, 2.0, np.nan])
    assert io.attach_attributes(blocks, agreeing)["tax_10k_cny"].tolist() == [1.0, 2.0, 3.0]
    clashing = attr_table(["B001", "B002", "B003"], [1.0, 2.0, 4.0])
    with pytest.raises(ColumnError, match=r"different values in 'tax_10k_cny' \(ids B003\).*overlap='suffix'"):
        io.attach_attributes(blocks, clashing)
    both = io.attach_attributes(blocks, clashing, overlap="suffix")
    assert both["tax_10k_cny"].tolist()[::2] == [1.0, 3.0] and both["tax_10k_cny_attr"].tolist() == [1, 2, 4]


def test_read_blocks_with_attribute_file(tmp_path: Path, gbk_shp: Path) -> None:
    csv = tmp_path / "attrs.csv"
    csv.write_bytes("地块编号,税收（万元）\nB001,1\nB002,2\nB009,9\n".encode("utf-8-sig"))
    with pytest.raises(AttributeJoinError, match=r"attrs\.csv match no block \(B009\)"):
        io.read_blocks(gbk_shp, attributes=csv)
    with pytest.warns(ValidationWarning, match=r"no row in table attrs\.csv \(B003\)"):
        blocks = io.read_blocks(gbk_shp, attributes=[csv], attributes_how="left")
    assert blocks["tax_10k_cny"].tolist()[:2] == [1.0, 2.0]
    assert str(csv.resolve()) in blocks.attrs["zgc_sources"]


# ------------------------------------------------------------------------------- writers


def test_write_blocks_round_trips_and_keeps_other_layers(tmp_path: Path) -> None:
    path = tmp_path / "out.gpkg"
    io.write_blocks(canonical_frame(1), path, layer="parks")
    io.write_blocks(canonical_frame(), path)
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == ["blocks", "parks"]
    for target in (path, tmp_path / "out.parquet", tmp_path / "out.geojson"):
        io.write_blocks(canonical_frame(), target)
        back = io.read_blocks(target)
        assert back["block_id"].tolist() == ["B001", "B002", "B003"]
        assert back["policy_zone"].tolist() == [True, False, True]
    assert not tmp_dirs(tmp_path)


def test_writers_are_deterministic(tmp_path: Path) -> None:
    frame = canonical_frame()
    for name in ("x.gpkg", "x.parquet", "x.geojson", "x.csv", "x.xlsx"):
        first, second = tmp_path / f"1{name}", tmp_path / "sub" / f"1{name}"
        second.parent.mkdir(exist_ok=True)
        write = io.write_blocks if name.endswith(("gpkg", "parquet", "geojson")) else io.write_table
        write(frame, first)
        write(frame, second)
        assert first.read_bytes() == second.read_bytes(), name
    with zipfile.ZipFile(tmp_path / "1x.xlsx") as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def test_write_table_csv_and_xlsx_round_trip(tmp_path: Path) -> None:
    frame = canonical_frame().set_index("block_id")
    csv = io.write_table(frame, tmp_path / "t.csv", chinese_headers=True)
    raw = csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("地块编号,分园,总建筑面积 (m²),住宅用地 (m²)")
    xlsx = io.write_table(frame, tmp_path / "t.xlsx", chinese_headers=True, sheet="地块")
    for path in (csv, xlsx):
        back = io.read_table(path)
        assert list(back.columns) == list(canonical_frame().columns.drop("geometry")), path
        assert back["block_id"].tolist() == ["B001", "B002", "B003"]
        assert back["gfa_m2"].tolist() == [15_000.0, 8_000.5, 0.0]
    assert openpyxl.load_workbook(xlsx).sheetnames == ["地块", "说明"]
    with pytest.raises(DataFileError, match=r"use \.csv or \.xlsx"):
        io.write_table(frame, tmp_path / "t.ods")


def test_overwrite_input_is_refused(tmp_path: Path, gbk_shp: Path) -> None:
    path = tmp_path / "in.gpkg"
    io.write_blocks(canonical_frame(), path)
    blocks = io.read_blocks(path)
    before = path.read_bytes()
    with pytest.raises(OverwriteInputError, match=r"refusing to write .*in\.gpkg: it is an input .*in_out\.gpkg"):
        io.write_blocks(blocks, path)
    with pytest.raises(OverwriteInputError, match=r"in\.gpkg"):
        io.write_blocks(blocks, tmp_path / "." / "in.gpkg")
    with pytest.raises(OverwriteInputError, match=r"t\.csv"):
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", inputs=[tmp_path / "t.csv"])
    shp_blocks = io.read_blocks(gbk_shp)
    with pytest.raises(OverwriteInputError, match=r"gbk_blocks\.shp: it is an input"):
        io.write_shapefile(shp_blocks, gbk_shp)
    assert path.read_bytes() == before


def test_failed_write_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.gpkg"
    io.write_blocks(canonical_frame(), path)
    table = io.write_table(canonical_frame(), tmp_path / "t.xlsx")
    before, table_before = path.read_bytes(), table.read_bytes()

    def half_write(frame: object, target: Path, **kwargs: object) -> None:
        Path(target).write_bytes(b"half a file")
        raise RuntimeError("disk full")

    def no_xlsx(*args: object, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", half_write)
    monkeypatch.setattr(_xlsx_private, "xlsx_bytes", no_xlsx)
    with pytest.raises(DataFileError, match=r"writing .*out\.gpkg failed \(disk full\); the file was left unchanged"):
        io.write_blocks(canonical_frame(1), path)
    with pytest.raises(DataFileError, match=r"t\.xlsx failed"):
        io.write_table(canonical_frame(1), table)
    with pytest.raises(DataFileError, match=r"new\.shp failed"):
        io.write_shapefile(canonical_frame(1), tmp_path / "new.shp")
    assert path.read_bytes() == before and table.read_bytes() == table_before
    assert not tmp_dirs(tmp_path) and not list(tmp_path.glob("new.*"))


def test_write_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"folder .*missing does not exist; create it first"):
        io.write_blocks(canonical_frame(), tmp_path / "missing" / "x.gpkg")
    with pytest.raises(DataFileError, match=r"use \.gpkg, \.parquet, \.geojson or \.shp"):
        io.write_blocks(canonical_frame(), tmp_path / "x.kml")
    with pytest.raises(DataFileError, match="a GeoDataFrame is needed"):
        io.write_blocks(pd.DataFrame({"a": [1]}), tmp_path / "x.gpkg")
    with pytest.raises(CRSError, match=r"have no CRS; set it first"):
        io.write_shapefile(canonical_frame().set_crs(None, allow_override=True), tmp_path / "x.shp")
    with pytest.raises(DataFileError, match=r"must end in \.shp"):
        io.write_shapefile(canonical_frame(), tmp_path / "x.dbf")


def test_short_field_names_are_unique_ascii() -> None:
    names = ["block_id", "built_residential_m2", "Built_Residential_m2", "总建筑面积", "industrial_gfa_m2",
             "industrial_fixed_asset_10k_cny"]
    short = _io_private.short_field_names(names)
    assert short == ["block_id", "bui_res_m2", "Bui_Res_m1", "col4", "ind_gfa_m2", "i_f_a_1_cn"]
    assert _io_private.short_field_names(names) == short


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert io.sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
