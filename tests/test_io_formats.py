"""Files for people: formatted XLSX (zgc_space.io._xlsx) and GeoPackage field aliases QGIS reads."""

from __future__ import annotations

import ctypes
import glob
import sqlite3
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
from shapely import box

from zgc_space import io, labels

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data" / "zgc_blocks.gpkg"


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "block_id": ["B001", "B002", "B003"],
        "year": [2021, 2022, 2023],
        "gfa_m2": [15_000.4, 8_000.5, 1_234_567.0],
        "far": [1.18, 0.00272, -0.000232],
        "far_change": [2.220446e-16, -0.0027, 0.0],
        "tax_10k_cny_per_ha": [686.5, 1_200.25, 12.0],
        "policy_zone": [True, False, True],
        "note": ["一", "二二二二二二二二二二二二二二二二二二二二", None],
    })


def test_xlsx_is_formatted_for_people(tmp_path):
    shown, units = labels.people_table(table(), "zh")
    path = io.write_table(shown, tmp_path / "t.xlsx", sheet="分园指标", units=units, inputs=[SAMPLE],
                          notes=[("评价方案", "国家级经开区综合评价")])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["分园指标", "说明"]
    ws = book["分园指标"]
    assert ws.freeze_panes == "A3"  # header and units rows stay in view
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["地块编号", "年份", "总建筑面积 (m²)", "综合容积率"]
    assert [c.value for c in ws[2]][:6] == [None, None, "m²", None, None, "万元/公顷"]
    formats = {h: ws.cell(row=3, column=k + 1).number_format for k, h in enumerate(headers)}
    assert formats["年份"] == "0"  # a year has no thousands separator
    assert formats["总建筑面积 (m²)"] == "#,##0"
    assert formats["综合容积率"] == "0.00"  # one precision for 1.18 and 0.0027 alike
    assert formats["综合容积率 变化"] == "0.0000"  # -0.0027 reads -0.0027, not -0.00
    assert formats["综合地均税收 (万元/公顷)"] == "#,##0"
    assert ws.cell(row=3, column=headers.index("综合容积率 变化") + 1).value == 0  # no 2.2e-16
    widths = {k: ws.column_dimensions[k].width for k in ("A", "C", "H")}
    assert widths["C"] >= len("1,234,567") + 2 and widths["H"] >= 40  # a Chinese character is two wide
    assert all(w and w >= 8 for w in widths.values())
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["工作表"] == "分园指标" and notes["单位行"] == "分园指标!2"
    assert notes["来源"] == f"zgc_blocks.gpkg（SHA-256 {io.sha256_file(SAMPLE)}）"
    assert notes["评价方案"] == "国家级经开区综合评价" and notes["软件"].startswith("zgc_space ")


def test_xlsx_round_trip_skips_the_units_row_and_bytes_repeat(tmp_path):
    first = io.write_table(table(), tmp_path / "a.xlsx")
    second = io.write_table(table(), tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes()
    back = io.read_table(first)
    assert back["block_id"].tolist() == ["B001", "B002", "B003"]
    assert back["gfa_m2"].tolist() == [15_000.4, 8_000.5, 1_234_567.0]
    assert openpyxl.load_workbook(first).sheetnames == ["数据", "说明"]


def test_decimals_for_is_one_implementation():
    assert labels.decimals_for is io.decimals_for
    assert io.decimals_for([1.18, 0.00272]) == 2 and io.decimals_for([0.05]) == 3
    assert io.decimals_for([0.0027, 0.0001]) == 4


def _gdal_alternative_names(path: Path, layer: str) -> dict[str, tuple[str, str]]:
    """Field → (alternative name, comment) as GDAL reads them (what QGIS shows as aliases)."""
    libs = glob.glob(str(Path(pyogrio.__file__).parent.parent / "pyogrio.libs" / "libgdal*"))
    assert libs, f"pyogrio's bundled GDAL library is not in {Path(pyogrio.__file__).parent.parent / 'pyogrio.libs'}"
    lib = ctypes.CDLL(libs[0])
    lib.GDALAllRegister()
    lib.GDALOpenEx.restype = ctypes.c_void_p
    lib.GDALOpenEx.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for name, res, args in [("GDALDatasetGetLayerByName", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
                            ("OGR_L_GetLayerDefn", ctypes.c_void_p, [ctypes.c_void_p]),
                            ("OGR_FD_GetFieldCount", ctypes.c_int, [ctypes.c_void_p]),
                            ("OGR_FD_GetFieldDefn", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]),
                            ("OGR_Fld_GetNameRef", ctypes.c_char_p, [ctypes.c_void_p]),
                            ("OGR_Fld_GetAlternativeNameRef", ctypes.c_char_p, [ctypes.c_void_p]),
                            ("OGR_Fld_GetComment", ctypes.c_char_p, [ctypes.c_void_p]),
                            ("GDALClose", None, [ctypes.c_void_p])]:
        getattr(lib, name).restype = res
        getattr(lib, name).argtypes = args
    ds = lib.GDALOpenEx(str(path).encode(), 0x04, None, None, None)  # GDAL_OF_VECTOR
    assert ds
    try:
        defn = lib.OGR_L_GetLayerDefn(lib.GDALDatasetGetLayerByName(ds, layer.encode()))
        out = {}
        for i in range(lib.OGR_FD_GetFieldCount(defn)):
            fld = lib.OGR_FD_GetFieldDefn(defn, i)
            out[lib.OGR_Fld_GetNameRef(fld).decode()] = (
                (lib.OGR_Fld_GetAlternativeNameRef(fld) or b"").decode(), (lib.OGR_Fld_GetComment(fld) or b"").decode())
        return out
    finally:
        lib.GDALClose(ds)


def test_geopackage_field_aliases_for_qgis(tmp_path):
    frame = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "far": [1.2, 0.8], "gfa_m2": [1.0, 2.0]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4548")
    path = tmp_path / "results.gpkg"
    io.write_blocks(frame, path, layer="other")
    io.write_blocks(frame, path, layer="blocks", aliases={"far": "综合容积率", "gfa_m2": "总建筑面积 (m²)"},
                    descriptions={"far": "comprehensive floor-area ratio"})
    io.write_blocks(frame, path, layer="blocks", aliases={"far": "综合容积率", "gfa_m2": "综合容积率"})  # replaced
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT table_name, column_name, name, title, description FROM gpkg_data_columns "
                           "ORDER BY column_name").fetchall()
        ext = con.execute("SELECT extension_name FROM gpkg_extensions "
                          "WHERE table_name = 'gpkg_data_columns'").fetchall()
    assert rows == [("blocks", "far", "综合容积率", "综合容积率", None),
                    ("blocks", "gfa_m2", "综合容积率 [gfa_m2]", "综合容积率 [gfa_m2]", None)]  # names unique per table
    assert ext == [("gpkg_schema",)]
    assert _gdal_alternative_names(path, "blocks")["far"] == ("综合容积率", "")
    io.write_blocks(frame, path, layer="blocks", aliases={"far": "综合容积率"}, descriptions={"far": "FAR"})
    assert _gdal_alternative_names(path, "blocks")["far"] == ("综合容积率", "FAR")
    assert list(io.read_blocks(path, layer="blocks").columns[:3]) == ["block_id", "far", "gfa_m2"]
    assert pyogrio.list_layers(path).tolist() == [["other", "Polygon"], ["blocks", "Polygon"]]
