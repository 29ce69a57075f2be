"""A generated corpus of hostile and broken inputs for every ``zgc-space`` subcommand.

:func:`build` writes the inputs into a folder (nothing binary is committed) and returns the cases:
each is a command line, the exit codes it may end with, and the names (file or option) a refusal
must mention. ``tests/_hostile_runner.py`` runs each case in a forked child under a memory limit
and a time limit; ``tests/test_hostile.py`` checks the results.
"""

from __future__ import annotations

import json
import math
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import MultiPolygon, Point, Polygon, box

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data"
BLOCKS = SAMPLE / "zgc_blocks.gpkg"


@dataclass
class Case:
    """One command line of the corpus."""

    id: str
    argv: list[str]
    codes: tuple[int, ...] = (1,)  # the exit codes allowed
    names: list[str] = field(default_factory=list)  # a non-zero exit must mention one of these
    limit_s: float = 30.0

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "argv": self.argv, "codes": list(self.codes), "names": self.names,
                "limit_s": self.limit_s}


# ---------------------------------------------------------------------------------------------
# block files


def _good(n: int = 6) -> gpd.GeoDataFrame:
    """Six real sample blocks of one sub-park (every canonical column present)."""
    frame = gpd.read_file(BLOCKS)
    return frame[frame["subpark"] == frame["subpark"].iloc[0]].head(n).reset_index(drop=True)


def _bowtie(x: float, y: float) -> Polygon:
    return Polygon([(x, y), (x + 500, y + 500), (x + 500, y), (x, y + 500), (x, y)])


def _write_blocks(root: Path) -> dict[str, Path]:
    good = _good()
    x0, y0 = good.total_bounds[:2]
    out: dict[str, Path] = {}

    def save(name: str, frame: gpd.GeoDataFrame, ext: str = ".gpkg") -> None:
        path = root / f"b_{name}{ext}"
        if ext == ".gpkg":
            frame.to_file(path, layer="blocks", driver="GPKG")
        elif ext == ".geojson":
            frame.to_file(path, driver="GeoJSON")
        else:
            frame.to_file(path, driver="ESRI Shapefile")
        out[name] = path

    save("good", good)
    (root / "b_empty0.gpkg").write_bytes(b"")
    out["empty0"] = root / "b_empty0.gpkg"
    (root / "b_garbage.gpkg").write_bytes(np.random.default_rng(1).bytes(4096))
    out["garbage"] = root / "b_garbage.gpkg"
    (root / "b_badjson.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    out["badjson"] = root / "b_badjson.geojson"
    (root / "b_nofeat.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    out["nofeat"] = root / "b_nofeat.geojson"
    feats = [{"type": "Feature", "properties": {"block_id": f"B{i}"}, "geometry": None} for i in range(3)]
    (root / "b_idsonly.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                                            encoding="utf-8")
    out["idsonly"] = root / "b_idsonly.geojson"
    (root / "b_text.gpkg").write_text("this is not a GeoPackage\n", encoding="utf-8")
    out["text"] = root / "b_text.gpkg"
    (root / "b_wrongext.txt").write_text("block_id\nB1\n", encoding="utf-8")
    out["wrongext"] = root / "b_wrongext.txt"
    (root / "b_folder.gpkg").mkdir()
    out["folder"] = root / "b_folder.gpkg"
    out["missing"] = root / "b_missing.gpkg"

    f = good.copy()
    f.loc[1, "geometry"] = _bowtie(x0 - 2000, y0 - 2000)
    save("bowtie", f)
    f = good.copy()
    f.loc[1, "geometry"] = Polygon([(x0 - 3000, y0), (math.nan, y0), (x0 - 3000, y0 + 400), (x0 - 3000, y0)])
    save("nanvertex", f)
    f = good.copy()
    outer = box(x0 - 6000, y0 - 6000, x0 - 4000, y0 - 4000)
    f.loc[1, "geometry"] = MultiPolygon([outer, box(x0 - 5500, y0 - 5500, x0 - 4500, y0 - 4500)])
    save("nested", f)
    f = good.copy()
    f.loc[1, "geometry"] = Polygon(box(x0 - 9000, y0, x0 - 8000, y0 + 1000).exterior.coords,
                                   [box(x0 - 7000, y0, x0 - 6500, y0 + 500).exterior.coords])
    save("holeout", f)
    for name, value in (("inf", math.inf), ("huge", 1e308), ("neg", -5e4), ("nan", math.nan)):
        f = good.copy()
        f.loc[0, "gfa_m2"] = value
        f.loc[1, "built_m2"] = value
        f.loc[2, "tax_10k_cny"] = value
        save(name, f)
    f = good.copy()
    f["geometry"] = [box(i * 120, 0, i * 120 + 100, 100) for i in range(len(f))]
    save("falseorigin", f)
    f = good.copy()
    f["geometry"] = [box(116.3 + i * 0.01, 39.9, 116.305 + i * 0.01, 39.905) for i in range(len(f))]
    save("lonlat4548", f)
    f = good.copy().set_crs(None, allow_override=True)
    f["geometry"] = [box(i * 120, 0, i * 120 + 100, 100) for i in range(len(f))]
    save("nocrs", f, ".geojson")
    f = good.to_crs("+proj=tmerc +lat_0=0 +lon_0=116.35 +k=1 +x_0=50000 +y_0=-4000000 +ellps=krass +units=m")
    save("localcrs", f)
    f = good.copy()
    f["policy_zone"] = ["True", "False", "False", "True", "no", "yes"]
    save("policystr", f)
    f = good.copy()
    f["policy_zone"] = pd.array([True, None, False, None, True, False], dtype="boolean")
    save("policynan", f)
    f = good.copy()
    f.loc[1, "block_id"] = f.loc[0, "block_id"]
    save("dupids", f)
    f = good.copy()
    f["block_id"] = f["block_id"].astype(object)
    f.loc[1, "block_id"] = None
    save("nullids", f)
    f = good.copy()
    f["geometry"] = [Point(x0 + i * 100, y0) for i in range(len(f))]
    save("points", f)
    f = good.copy()
    f["name"] = [n + "\x00x" for n in f["name"]]
    save("nultext", f, ".geojson")
    f = good.copy()
    f.loc[0, "geometry"] = box(0, 0, 1e300, 1e300)
    save("hugecoords", f)
    f = good.copy()
    f.loc[:, "far_cap"] = -3.0
    f.loc[:, "employees"] = math.inf
    save("absurd", f)
    f = good.copy()
    f["block_id"] = ["../../etc", "a b", "<script>", "B\tx", "", "B6"]
    save("weirdids", f)
    # a GBK .dbf whose .cpg says Latin-1: every Chinese name decodes as mojibake
    shp = good[["block_id", "name", "subpark", "geometry"]].copy()
    shp_dir = root / "b_gbk"
    shp_dir.mkdir()
    shp.to_file(shp_dir / "blocks.shp", driver="ESRI Shapefile", encoding="gbk")
    (shp_dir / "blocks.cpg").write_text("ISO-8859-1", encoding="ascii")
    out["mojibake"] = shp_dir / "blocks.shp"
    shp_dir = root / "b_noshx"
    shp_dir.mkdir()
    shp.to_file(shp_dir / "blocks.shp", driver="ESRI Shapefile", encoding="utf-8")
    (shp_dir / "blocks.shx").unlink()
    out["noshx"] = shp_dir / "blocks.shp"
    return out


# ---------------------------------------------------------------------------------------------
# proposals, rules, constraints

_LOL = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def _proposals(root: Path, block: str) -> dict[str, Path]:
    head = "id: X1\ntitle: hostile\n"
    texts: dict[str, str | bytes] = {
        "lol": head + "renew:\n  - blocks: [" + block + "]\n    far_step: 1\n"
        + _LOL.replace("a:", "description_extra:", 1),
        "lol_coords": head + _LOL.replace("\n", "\n  ") .replace("a: &a", "  a: &a", 1)
        + "admit:\n  - geometry: {type: Polygon, coordinates: *i}\n    block_id: N1\n",
        "deep": head + "renew: " + "[" * 20000 + "]" * 20000 + "\n",
        "deepmap": head + "renew:\n" + "".join("  " * i + "- a:\n" for i in range(1, 400)),
        "nul": "id: X1\x00\ntitle: t\n",
        "badutf8": b"id: X1\ntitle: \xb5\xf7\xb3\xf6\n",  # GBK bytes
        "bom": "\ufeff" + head + f"renew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "date": head + f"date: 2024-13-45\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "date2": head + f"date: 99999-01-01\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "inf": head + f"renew:\n  - blocks: [{block}]\n    far_target: .inf\n",
        "infstr": head + f"renew:\n  - blocks: [{block}]\n    far_target: inf\n",
        "nan": head + f"renew:\n  - blocks: [{block}]\n    far_step: .nan\n",
        "e308": head + f"renew:\n  - blocks: [{block}]\n    far_target: 1e308\n",
        "elast": head + f"renew:\n  - blocks: [{block}]\n    far_step: 1\n    elasticity: {{revenue: 1e308}}\n",
        "rezone_inf": head + f"rezone:\n  - block: {block}\n    from: unready\n    to: ready\n    area_m2: .inf\n",
        "cap_inf": head + f"renew:\n  - blocks: [{block}]\n    far_step: 1\nconstraints:\n  area_cap_m2: .inf\n",
        "crs999": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]]}\n"
        "    crs: EPSG:999999\n    block_id: N1\n",
        "crsevil": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]]}\n"
        "    crs: '+proj=evil'\n    block_id: N1\n",
        "crsgeo_far": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]]}\n"
        "    crs: EPSG:4326\n    block_id: N1\n",
        "geom_bowtie": head + "admit:\n  - geometry: {type: Polygon, coordinates: "
        "[[[440000, 4430000], [440500, 4430500], [440500, 4430000], [440000, 4430500], [440000, 4430000]]]}\n"
        "    block_id: N1\n",
        "geom_nan": head + "admit:\n  - geometry: {type: Polygon, coordinates: "
        "[[[440000, 4430000], [.nan, 4430000], [440500, 4430500], [440000, 4430000]]]}\n    block_id: N1\n",
        "geom_str": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[a, b], [c, d], [e, f]]]}\n"
        "    block_id: N1\n",
        "geom_2pts": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[0, 0], [1, 1]]]}\n"
        "    block_id: N1\n",
        "geom_3d": head + "admit:\n  - geometry: {type: Polygon, coordinates: [[[[[0]]]]]}\n    block_id: N1\n",
        "part_outside": head + f"release:\n  - block: {block}\n    part: {{type: Polygon, coordinates: "
        "[[[0, 0], [10, 0], [10, 10], [0, 0]]]}\n",
        "attr_inf": head + "admit:\n  - geometry: {type: Polygon, coordinates: "
        "[[[440000, 4430000], [440500, 4430000], [440500, 4430500], [440000, 4430000]]]}\n    block_id: N1\n"
        "    attributes: {gfa_m2: .inf, tax_10k_cny: 1e308}\n",
        "unknown_block": head + "release:\n  - block: NOPE999\n",
        "pyobj": head + "renew: !!python/object/apply:os.system ['true']\n",
        "list": "- a\n- b\n",
        "scalar": "just a string\n",
        "empty": "",
        "dupkey": head + "title: again\n",
        "binary": bytes(range(256)) * 4,
        "longid": f"id: {'X' * 100000}\ntitle: t\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "pathid": f"id: ../../evil\ntitle: t\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "tabs": "id: X1\n\ttitle: t\n",
        "numid": f"id: 12\ntitle: 3\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "boolid": f"id: true\ntitle: t\nrenew:\n  - blocks: [{block}]\n    far_step: 1\n",
        "protected_missing": head + f"renew:\n  - blocks: [{block}]\n    far_step: 1\n"
        "constraints:\n  protected: nowhere/red_line.gpkg\n",
        "protected_garbage": head + f"renew:\n  - blocks: [{block}]\n    far_step: 1\n"
        "constraints:\n  protected: b_garbage.gpkg\n",
    }
    out: dict[str, Path] = {}
    for name, text in texts.items():
        path = root / f"p_{name}.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        out[name] = path
    big = root / "p_big.yaml"  # just over the size cap: refused before it is parsed
    with big.open("w", encoding="utf-8") as fh:
        fh.write(head + "description: |\n")
        line = "  " + "x" * 98 + "\n"
        for _ in range((2 << 20) // len(line)):
            fh.write(line)
    out["big"] = big
    near = root / "p_nearcap.yaml"  # just under the cap: parsed within the time limit
    coords = ", ".join(f"[{440_000 + k % 700}.5, {4_430_000 + k // 700}.25]" for k in range(18_000))
    near.write_text(head + "admit:\n  - geometry: {type: Polygon, coordinates: [[" + coords + "]]}\n"
                    "    block_id: N1\n", encoding="utf-8")
    out["nearcap"] = near
    return out


def _rules(root: Path) -> dict[str, Path]:
    texts = {
        "lol": "warning: {bottom_pct: 10}\n" + _LOL,
        "deep": "warning: " + "[" * 20000 + "]" * 20000 + "\n",
        "nul": "warning:\x00 {bottom_pct: 10}\n",
        "list": "- warning\n",
        "inf": "warning: {below_score: .inf}\n",
        "badkey": "warnings: {bottom_pct: 10}\n",
        "empty": "",
    }
    out = {}
    for name, text in texts.items():
        path = root / f"r_{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


def _constraints(root: Path) -> dict[str, Path]:
    texts = {
        "lol": "max_changes: 1\n" + _LOL,
        "deep": "must_keep: " + "[" * 20000 + "]" * 20000 + "\n",
        "list": "- 1\n- 2\n",
        "inf": "area_cap_m2: .inf\nmax_changes: 1\n",
        "neg": "max_changes: -4\n",
        "unknown": "max_chnages: 2\n",
        "renewal_bad": "max_changes: 1\nrenewal: [1, 2]\n",
        "nul": "max_changes: 1\x00\n",
    }
    out = {}
    for name, text in texts.items():
        path = root / f"c_{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


# ---------------------------------------------------------------------------------------------
# rasters


def _hack_size(raw: bytes, width: int, height: int) -> bytes:
    """Return a little-endian TIFF whose first IFD declares ``width`` x ``height`` pixels (data unchanged)."""
    data = bytearray(raw)
    assert data[:4] == b"II*\x00"
    ifd = struct.unpack_from("<I", data, 4)[0]
    (count,) = struct.unpack_from("<H", data, ifd)
    for k in range(count):
        at = ifd + 2 + 12 * k
        tag = struct.unpack_from("<H", data, at)[0]
        if tag in (256, 257):
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    return bytes(data)


def _rasters(root: Path, good: gpd.GeoDataFrame) -> dict[str, Path]:
    import rasterio
    from rasterio.transform import from_origin

    out: dict[str, Path] = {}
    x0, y0, x1, y1 = good.total_bounds
    w, h = int((x1 - x0) // 50) + 2, int((y1 - y0) // 50) + 2

    def write(name: str, data: np.ndarray, *, crs: str | None = "EPSG:4548", origin: tuple[float, float] | None = None,
              nodata: float | None = None) -> None:
        path = root / f"t_{name}.tif"
        ox, oy = origin or (x0 - 50, y1 + 50)
        with rasterio.open(path, "w", driver="GTiff", tiled=False, width=data.shape[1], height=data.shape[0], count=1,
                           dtype=data.dtype, crs=crs, transform=from_origin(ox, oy, 50, 50), nodata=nodata) as dst:
            dst.write(data, 1)
        out[name] = path

    heights = np.full((h, w), 12.0, dtype="float32")
    write("good", heights)
    write("far", heights, origin=(100_000.0, 1_000_000.0))
    write("nocrs", heights, crs=None)
    write("allnodata", np.full((h, w), -9999.0, dtype="float32"), nodata=-9999.0)
    write("nonfinite", np.where(np.arange(w) % 2 == 0, np.inf, np.nan)[None, :].repeat(h, 0).astype("float32"))
    write("negative", np.full((h, w), -30.0, dtype="float32"))
    write("absurd", np.full((h, w), 3.0e38, dtype="float32"))
    write("lonlat", heights, crs="EPSG:4326", origin=(116.3, 39.99))
    raw = out["good"].read_bytes()
    (root / "t_truncated.tif").write_bytes(raw[: len(raw) // 3])
    out["truncated"] = root / "t_truncated.tif"
    (root / "t_hacked.tif").write_bytes(_hack_size(raw, 1_000_000, 1_000_000))
    out["hacked"] = root / "t_hacked.tif"
    (root / "t_hugetall.tif").write_bytes(_hack_size(raw, 3, 2_000_000_000))
    out["hugetall"] = root / "t_hugetall.tif"
    (root / "t_garbage.tif").write_bytes(zlib.compress(b"not a tiff" * 100))
    out["garbage"] = root / "t_garbage.tif"
    (root / "t_empty.tif").write_bytes(b"")
    out["empty"] = root / "t_empty.tif"
    return out


# ---------------------------------------------------------------------------------------------
# footprints, tables, panels


def _footprints(root: Path, good: gpd.GeoDataFrame) -> dict[str, Path]:
    out: dict[str, Path] = {}
    cx, cy = good.geometry.iloc[0].representative_point().coords[0]
    base = gpd.GeoDataFrame({"floors": [5.0, 8.0], "height_m": [15.0, 24.0]},
                            geometry=[box(cx, cy, cx + 20, cy + 20), box(cx + 30, cy, cx + 50, cy + 20)],
                            crs="EPSG:4548")

    def save(name: str, frame: gpd.GeoDataFrame) -> None:
        path = root / f"f_{name}.gpkg"
        frame.to_file(path, driver="GPKG")
        out[name] = path

    save("good", base)
    save("far", base.set_geometry(base.geometry.translate(-300_000, -3_000_000)))
    save("points", base.set_geometry(base.geometry.centroid))
    lonlat = base.to_crs("EPSG:4326")
    save("lonlat4548", lonlat.set_crs("EPSG:4548", allow_override=True))
    save("floors_1e9", base.assign(floors=[1e9, 5.0]))
    save("floors_inf", base.assign(floors=[math.inf, 5.0], height_m=[math.inf, 5.0]))
    save("negative", base.assign(floors=[-5.0, 3.0], height_m=[-15.0, 9.0]))
    save("nan", base.assign(floors=[math.nan, math.nan], height_m=[math.nan, math.nan]))
    save("strings", base.assign(floors=["five", "6"], height_m=["tall", "x"]))
    save("bowtie", base.set_geometry([_bowtie(cx, cy), box(cx + 30, cy, cx + 50, cy + 20)]))
    save("empty", base.iloc[:0])
    (root / "f_garbage.gpkg").write_bytes(b"\x00" * 1000)
    out["garbage"] = root / "f_garbage.gpkg"
    return out


def _tables(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    peers = pd.read_csv(SAMPLE / "peers_cic_131.csv")

    def save(name: str, frame: pd.DataFrame | str) -> None:
        path = root / f"peers_{name}.csv"
        if isinstance(frame, str):
            path.write_text(frame, encoding="utf-8")
        else:
            frame.to_csv(path, index=False)
        out[name] = path

    save("empty", "")
    save("header", ",".join(peers.columns) + "\n")
    num = peers.select_dtypes("number").columns
    three = peers.head(3).copy()
    three[num[0]] = [math.nan, math.inf, -5.0]
    save("nan_inf_neg", three)
    dup = peers.head(4).copy()
    dup.loc[1, "zone_id"] = dup.loc[0, "zone_id"]
    save("dupids", dup)
    null = peers.head(4).copy()
    null.loc[1, "zone_id"] = None
    save("nullids", null)
    save("garbage", "\x00\x01\x02,,,\n\"unclosed\n")
    save("wrongcols", "a,b\n1,2\n")
    save("text", peers.head(4).astype(str).assign(**{num[0]: "lots"}))
    save("huge", peers.head(4).assign(**{num[0]: 1e308}))
    return out


def _panels(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    panel = gpd.read_file(SAMPLE / "zgc_panel_2021_2023.gpkg")

    def save(name: str, frame: gpd.GeoDataFrame) -> None:
        path = root / f"panel_{name}.gpkg"
        frame.to_file(path, driver="GPKG")
        out[name] = path

    save("year_text", panel.assign(year=panel["year"].astype(str) + "年"))
    dup = panel.copy()
    dup.loc[dup.index[1], "block_id"] = dup.loc[dup.index[0], "block_id"]
    dup.loc[dup.index[1], "year"] = dup.loc[dup.index[0], "year"]
    save("dupids", dup)
    save("nullids", panel.assign(block_id=[None] * len(panel)))
    save("noyear", panel.drop(columns=["year"]))
    save("empty", panel.iloc[:0])
    save("policystr", panel.assign(policy_zone=panel["policy_zone"].map({True: "True", False: "False"})))
    save("inf", panel.assign(tax_10k_cny=math.inf))
    (root / "panel_garbage.gpkg").write_bytes(b"\xff" * 500)
    out["garbage"] = root / "panel_garbage.gpkg"
    return out


# ---------------------------------------------------------------------------------------------
# the cases


def build(root: Path) -> list[Case]:
    """Write the corpus inputs under ``root / "in"``; return the cases (outputs go to ``root / "out"``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writing broken data warns, on purpose
        return _build(root)


def _build(root: Path) -> list[Case]:
    src, dst = root / "in", root / "out"
    src.mkdir(parents=True)
    dst.mkdir()
    blocks = _write_blocks(src)
    good = gpd.read_file(blocks["good"])
    block = str(good["block_id"].iloc[0])
    props = _proposals(src, block)
    rules = _rules(src)
    cons = _constraints(src)
    rasters = _rasters(src, good)
    fps = _footprints(src, good)
    peers = _tables(src)
    panels = _panels(src)
    good_b, cands = str(blocks["good"]), str(SAMPLE / "candidates.gpkg")
    cases: list[Case] = []

    def add(cid: str, argv: list[str], codes: tuple[int, ...] = (1,), names: list[str] | None = None) -> None:
        cases.append(Case(cid, [str(a) for a in argv], codes, names or []))

    # every block variant through the commands that read a block file
    lenient = ("good", "bowtie", "nested", "holeout", "policystr", "policynan", "weirdids", "absurd", "nan",
               "mojibake", "neg", "inf", "huge", "nanvertex", "dupids", "nullids", "falseorigin", "lonlat4548",
               "localcrs", "nultext", "nocrs", "points", "hugecoords")
    every_command = {"garbage", "nofeat", "idsonly", "bowtie", "nanvertex", "inf", "falseorigin", "policystr",
                     "mojibake", "noshx", "points", "missing"}
    for name, path in blocks.items():
        codes = (0, 1) if name in lenient else (1,)
        names = [path.name, path.parent.name]
        add(f"validate-{name}", ["validate", path], codes, names)
        add(f"indicators-{name}", ["indicators", path, "--by", "block"], codes, names)
        if name not in every_command:
            continue
        add(f"info-{name}", ["info", path], codes, names)
        add(f"capacity-{name}", ["capacity", path], codes, names)
        add(f"map-{name}", ["map", path, "--column", "far", "--out", dst / f"map-{name}.html"], codes, names)
        add(f"rank-{name}", ["rank", path], codes, names)
    for name in ("garbage", "bowtie", "nanvertex", "inf", "falseorigin", "nofeat"):
        path = blocks[name]
        names = [path.name]
        codes = (0, 1) if name in lenient else (1,)
        add(f"apply-baseline-{name}", ["apply", props["bom"], "--baseline", path, "--out", dst / f"a-{name}.gpkg"],
            codes, names)
        add(f"compare-baseline-{name}", ["compare", props["bom"], "--baseline", path, "--out", dst / f"c-{name}"],
            codes, names)
        add(f"zonal-{name}", ["zonal", path, rasters["good"]], codes, names)
        add(f"floor-area-{name}", ["floor-area", path, rasters["good"]], codes, names)
        add(f"buildings-{name}", ["buildings", path, fps["good"], "--floors", "floors"], codes, names)
        add(f"consolidate-{name}", ["consolidate", path], codes, names)
        add(f"optimize-{name}", ["optimize", path, "--max-changes", "1", "--time-limit", "5"], codes, names)
        add(f"report-{name}", ["report", path, "--out", dst / f"r-{name}", "--no-png", "--target-rank", "0",
                               "--no-docx-pdf"],
            codes, names)
    add("pareto-garbage", ["pareto", blocks["garbage"], "--points", "3"], (1,), [blocks["garbage"].name])

    # proposals through apply, and all of them in one compare batch
    accepted = {"bom", "numid", "protected_missing"}
    for name, path in props.items():
        add(f"apply-{name}", ["apply", path, "--baseline", good_b, "--out", dst / f"ap-{name}.gpkg",
                              "--candidates", cands], (0, 1) if name in accepted else (1,), [path.name])
    add("compare-all-hostile", ["compare", *props.values(), "--baseline", good_b, "--out", dst / "cmp-all",
                                "--candidates", cands], (0,), [])
    add("compare-only-bad", ["compare", props["lol"], props["deep"], "--baseline", good_b, "--out",
                             dst / "cmp-bad"], (1,), ["p_lol.yaml", "p_deep.yaml", "error"])
    add("report-hostile-proposals", ["report", good_b, "--out", dst / "r-props", "--no-png", "--target-rank", "0",
                                     "--no-docx-pdf",
                                     "--proposals", props["lol"], props["inf"], props["bom"]], (0, 1),
        ["p_lol.yaml", "p_inf.yaml"])

    # rules and dynamic panels
    panel = str(SAMPLE / "zgc_panel_2021_2023.gpkg")
    for name, path in rules.items():
        add(f"dynamic-rules-{name}", ["dynamic", panel, "--rules", path], (1,), [path.name])
    for name, path in panels.items():
        add(f"dynamic-panel-{name}", ["dynamic", path, "--rules", SAMPLE / "dynamic_rules.yaml"], (1,), [path.name])
    add("dynamic-simulate-huge", ["dynamic", panel, "--rules", SAMPLE / "dynamic_rules.yaml", "--simulate",
                                  "100000"], (2,), ["--simulate"])
    add("dynamic-simulate-neg", ["dynamic", panel, "--rules", SAMPLE / "dynamic_rules.yaml", "--simulate", "-3"],
        (2,), ["--simulate"])
    add("dynamic-out-is-panel", ["dynamic", panel, "--rules", SAMPLE / "dynamic_rules.yaml", "--out", panel],
        (1,), ["zgc_panel_2021_2023.gpkg"])

    # optimiser constraints
    for name, path in cons.items():
        add(f"optimize-constraints-{name}", ["optimize", good_b, "--constraints", path, "--time-limit", "5"], (1,),
            [path.name])
    add("pareto-constraints-lol", ["pareto", good_b, "--constraints", cons["lol"]], (1,), ["c_lol.yaml"])

    # rasters through zonal and floor-area
    raster_ok = {"good", "far", "allnodata", "nonfinite", "negative", "absurd", "lonlat"}
    for name, path in rasters.items():
        codes = (0, 1) if name in raster_ok else (1,)
        add(f"zonal-raster-{name}", ["zonal", good_b, path], codes, [path.name])
        add(f"floor-area-raster-{name}", ["floor-area", good_b, path], codes, [path.name])
    for name, path in rasters.items():  # every hostile raster as the weights of a weighted mean
        add(f"zonal-weights-{name}", ["zonal", good_b, rasters["good"], "--stats", "weighted_mean", "--method", "exact",
                                      "--weights", path], (0, 1) if name in raster_ok else (1,), [path.name])
    add("zonal-min-coverage-2", ["zonal", good_b, rasters["good"], "--method", "exact", "--min-coverage-frac", "2"],
        (2,), ["--min-coverage-frac"])
    add("zonal-percentile-1e400", ["zonal", good_b, rasters["good"], "--stats", "percentile_1e400"], (1,),
        ["percentile_1e400"])
    add("zonal-quantile-nan", ["zonal", good_b, rasters["good"], "--stats", "quantile(q=nan)"], (1,), ["quantile"])
    add("zonal-points-allow-invalid", ["zonal", blocks["points"], rasters["good"], "--allow-invalid"], (1,),
        ["Polygon"])
    add("zonal-nanvertex-allow-invalid", ["zonal", blocks["nanvertex"], rasters["good"], "--allow-invalid"], (1,),
        ["NaN"])
    add("zonal-band-99", ["zonal", good_b, rasters["good"], "--band", "99"], (1, 2), ["band"])
    add("zonal-band-0", ["zonal", good_b, rasters["good"], "--band", "0"], (1, 2), ["band"])

    # footprints through buildings
    for name, path in fps.items():
        codes = (0, 1) if name in {"good", "bowtie"} else (1,)
        add(f"buildings-floors-{name}", ["buildings", good_b, path, "--floors", "floors"], codes, [path.name])
        if name not in {"floors_1e9", "good", "bowtie"}:  # their heights are fine
            add(f"buildings-height-{name}", ["buildings", good_b, path, "--height", "height_m"], codes, [path.name])

    # peers tables through rank
    for name, path in peers.items():
        add(f"rank-peers-{name}", ["rank", good_b, "--peers", path], (1,), [path.name])

    # options out of range
    html = dst / "o.html"
    add("map-dpi-0", ["map", good_b, "--column", "far", "--out", html, "--png", "--dpi", "0"], (2,), ["--dpi"])
    add("map-dpi-huge", ["map", good_b, "--column", "far", "--out", html, "--png", "--dpi", "100000"], (2,), ["--dpi"])
    add("map-k-0", ["map", good_b, "--column", "far", "--out", html, "-k", "0"], (2,), ["-k"])
    add("map-k-huge", ["map", good_b, "--column", "far", "--out", html, "-k", "100000"], (2,), ["-k"])
    add("map-bins-nan", ["map", good_b, "--column", "far", "--out", html, "--scheme", "explicit", "--bins", "nan"],
        (1, 2), ["--bins", "bins"])
    add("map-out-dir", ["map", good_b, "--column", "far", "--out", dst], (1, 2), [str(dst), "--out"])
    add("map-out-missing-dir", ["map", good_b, "--column", "far", "--out", dst / "no" / "such" / "m.html"], (0, 1),
        ["no/such"])
    add("map-out-is-input", ["map", good_b, "--column", "far", "--out", good_b], (1,), [Path(good_b).name])
    add("map-districts-garbage", ["map", good_b, "--column", "far", "--out", html, "--districts",
                                  blocks["garbage"]], (1,), [blocks["garbage"].name])
    add("map-districts-yaml", ["map", good_b, "--column", "far", "--out", html, "--districts", props["nul"]], (1,),
        [props["nul"].name])
    add("report-dpi-0", ["report", good_b, "--out", dst / "r-dpi", "--dpi", "0"], (2,), ["--dpi"])
    add("report-dpi-huge", ["report", good_b, "--out", dst / "r-dpi2", "--dpi", "100000"], (2,), ["--dpi"])
    add("report-districts-garbage", ["report", good_b, "--out", dst / "r-d", "--no-png", "--districts",
                                     blocks["garbage"]], (1,), [blocks["garbage"].name])
    add("report-out-is-file", ["report", good_b, "--out", good_b, "--no-png"], (1,), [Path(good_b).name])
    add("pareto-points-huge", ["pareto", good_b, "--points", "100000"], (2,), ["--points"])
    add("pareto-points-0", ["pareto", good_b, "--points", "0"], (2,), ["--points"])
    add("optimize-id-path", ["optimize", good_b, "--id", "../../x y", "--max-changes", "1"], (2,), ["--id"])
    add("optimize-time-inf", ["optimize", good_b, "--time-limit", "inf"], (2,), ["--time-limit"])
    add("optimize-out-is-input", ["optimize", good_b, "--out", good_b, "--max-changes", "1"], (1,),
        [Path(good_b).name])
    add("compare-out-file", ["compare", props["bom"], "--baseline", good_b, "--out", props["date"]], (1,),
        [props["date"].name])
    add("compare-out-is-baseline", ["compare", props["bom"], "--baseline", good_b, "--out", good_b], (1,),
        [Path(good_b).name])
    add("compare-scheduler-closed", ["compare", props["bom"], "--baseline", good_b, "--out", dst / "sched",
                                     "--scheduler", "tcp://127.0.0.1:1", "--scheduler-timeout", "2"], (3,),
        ["tcp://127.0.0.1:1", "--scheduler"])
    add("compare-scheduler-garbage", ["compare", props["bom"], "--baseline", good_b, "--out", dst / "sched2",
                                      "--scheduler", "not a url", "--scheduler-timeout", "2"], (2, 3),
        ["not a url", "--scheduler"])
    add("compare-jobs-0", ["compare", props["bom"], "--baseline", good_b, "--out", dst / "j0", "--jobs", "0"], (2,),
        ["--jobs"])
    add("compare-no-proposals", ["compare", src / "nothing_here", "--baseline", good_b, "--out", dst / "none"],
        (1,), ["nothing_here"])
    add("apply-out-is-candidates", ["apply", props["bom"], "--baseline", good_b, "--candidates", cands, "--out",
                                    cands], (1,), ["candidates.gpkg"])
    add("apply-out-is-proposal", ["apply", props["bom"], "--baseline", good_b, "--out", props["bom"]], (1,),
        [props["bom"].name])
    add("apply-changes-is-baseline", ["apply", props["bom"], "--baseline", good_b, "--out", dst / "ok.gpkg",
                                      "--changes", good_b], (1,), [Path(good_b).name])
    add("indicators-out-is-input", ["indicators", good_b, "--out", good_b], (1,), [Path(good_b).name])
    add("zonal-out-is-raster", ["zonal", good_b, rasters["good"], "--out", rasters["good"]], (1,),
        [rasters["good"].name])
    add("floor-area-out-is-blocks", ["floor-area", good_b, rasters["good"], "--out", good_b], (1,),
        [Path(good_b).name])
    add("buildings-out-is-footprints", ["buildings", good_b, fps["good"], "--floors", "floors", "--out",
                                        fps["good"]], (1,), [fps["good"].name])
    add("pareto-out-is-constraints", ["pareto", good_b, "--constraints", cons["inf"], "--out", cons["inf"]], (1,),
        [cons["inf"].name])
    add("report-sample-and-file", ["report", good_b, "--sample", "--out", dst / "x"], (2,), ["--sample"])
    add("capacity-supply-inf", ["capacity", good_b, "--annual-supply-m2", "inf"], (2,), ["--annual-supply-m2"])
    add("validate-tolerance-nan", ["validate", good_b, "--overlap-tolerance-m2", "nan"], (2,),
        ["--overlap-tolerance-m2"])
    add("unknown-command", ["frobnicate"], (2,), ["frobnicate"])
    add("demo-out-is-file", ["demo", "--out", good_b, "--no-png"], (1,), [Path(good_b).name])
    survey = SAMPLE / "sources" / "survey_dltb_2023.parquet"
    for name in ("garbage", "nofeat", "bowtie"):
        add(f"account-blocks-{name}", ["account", "--blocks", blocks[name], "--survey", survey, "--out",
                                       dst / f"acc-{name}.gpkg"], (1,), [blocks[name].name])
    add("account-survey-garbage", ["account", "--blocks", good_b, "--survey", blocks["garbage"], "--out",
                                   dst / "acc-s.gpkg"], (1,), [blocks["garbage"].name])
    for name in ("lol", "deep", "nul"):
        add(f"account-codes-{name}", ["account", "--blocks", good_b, "--survey", survey, "--codes", rules[name],
                                      "--out", dst / f"acc-c-{name}.gpkg"], (1,), [rules[name].name])
    add("account-out-is-blocks", ["account", "--blocks", good_b, "--survey", survey, "--out", good_b], (1,),
        [Path(good_b).name])
    # edit: every refusal happens before the server starts
    add("edit-garbage", ["edit", blocks["garbage"], "--no-browser"], (1,), [blocks["garbage"].name])
    add("edit-port", ["edit", good_b, "--no-browser", "--port", "99999"], (2,), ["port"])
    add("edit-proposal-lol", ["edit", good_b, "--no-browser", "--proposal", props["lol"]], (1,), ["p_lol.yaml"])
    add("edit-proposal-deep", ["edit", good_b, "--no-browser", "--proposal", props["deep"]], (1,), ["p_deep.yaml"])
    return cases
