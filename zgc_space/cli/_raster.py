"""Subcommands enriching blocks from rasters and footprints: ``zonal``, ``floor-area``, ``buildings``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from zgc_space import buildings, io, raster
from zgc_space.cli._common import add_json_flag, emit_json, noted, print_table, read_checked, write_table
from zgc_space.cli._options import finite_float, int_in
from zgc_space.errors import DataFileError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``zonal``, ``floor-area`` and ``buildings``."""
    p = sub.add_parser("zonal", help="zonal statistics of a raster per block")
    p.add_argument("blocks", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("raster", help="GeoTIFF (any GDAL raster with a CRS)")
    p.add_argument("--stats", default="count,sum,mean,min,max",
                   help="separated by commas or spaces: " + ",".join(raster.STATS) + ", " + ", ".join(raster.PATTERNS))
    p.add_argument("--categorical", nargs="?", const="count", choices=raster.CATEGORICAL,
                   help="per class value instead: pixel counts (count, the default) or shares of the valid pixels "
                        "(fraction)")
    _pixel_options(p, default="center")
    p.add_argument("--weights", help="weights raster on the same grid, for weighted_mean and weighted_sum")
    p.add_argument("--weights-band", type=int_in(1, 65_535), default=1, help="band of the weights raster (default 1)")
    p.add_argument("--default-weight", type=finite_float(), help="weight where the weights raster is nodata "
                   "(default: those blocks' weighted statistics are NaN)")
    p.add_argument("--min-coverage-frac", type=finite_float(low=0.0, high=1.0), default=0.0,
                   help="with --method exact: leave out pixels covered less than this share (0-1)")
    p.add_argument("--out", help="write the table to .csv or .xlsx")
    add_json_flag(p)
    p.set_defaults(func=_zonal)

    p = sub.add_parser("floor-area", help="floor area and footprint per block from a building-height raster")
    p.add_argument("blocks", help="block file")
    p.add_argument("heights", help="building-height GeoTIFF")
    p.add_argument("--storey-height-m", type=float, default=3.0, help="storey height (default 3.0 m)")
    p.add_argument("--min-height-m", type=float, default=2.0, help="lower heights count as unbuilt (default 2.0)")
    p.add_argument("--height-unit", help="unit of the raster values (m, dm, cm, ft...; default: file's, else m)")
    _pixel_options(p, default="exact")
    p.add_argument("--out", help="write the blocks to .gpkg/.geojson/.parquet, or the table to .csv/.xlsx")
    add_json_flag(p)
    p.set_defaults(func=_floor_area)

    p = sub.add_parser("buildings", help="floor area and footprint per block from building footprints")
    p.add_argument("blocks", help="block file")
    p.add_argument("footprints", help="building footprints (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--floors", help="column of floor counts")
    group.add_argument("--height", help="column of building heights in metres")
    p.add_argument("--storey-height-m", type=float, default=3.0, help="storey height with --height")
    p.add_argument("--default-floors", type=float, help="floors assumed where the column is missing")
    p.add_argument("--assign", choices=buildings.ASSIGN_RULES, default="centroid",
                   help="centroid (default) or split straddling buildings by area")
    p.add_argument("--out", help="write the blocks to .gpkg/.geojson/.parquet, or the table to .csv/.xlsx")
    add_json_flag(p)
    p.set_defaults(func=_buildings)


def _pixel_options(p: argparse.ArgumentParser, *, default: str) -> None:
    p.add_argument("--method", choices=("center", "all_touched", "exact"), default=default,
                   help=f"pixel rule (default {default})")
    p.add_argument("--band", type=int_in(1, 65_535), default=1, help="band number (default 1)")
    p.add_argument("--nodata", type=float, help="nodata value overriding the file's")


def _read_footprints(path: str) -> gpd.GeoDataFrame:
    src = Path(path)
    if not src.exists():
        raise DataFileError(f"footprint file {path!r} does not exist")
    try:
        frame = gpd.read_parquet(src) if src.suffix.lower() in {".parquet", ".geoparquet"} else gpd.read_file(src)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        raise DataFileError(
            f"cannot read footprint file {path!r} ({exc}); give a GeoPackage, GeoJSON, Shapefile or GeoParquet "
            "of building polygons"
        ) from exc
    if len(frame) == 0:
        raise DataFileError(f"footprint file {path!r} holds no building (empty layer)")
    frame.attrs["zgc_source"] = path  # named in the messages of buildings.aggregate
    return frame


def _finish(args: argparse.Namespace, table: pd.DataFrame, blocks_out: gpd.GeoDataFrame | None,
            notes: list[str], extra: dict[str, Any]) -> int:
    written = None
    if args.out:
        suffix = Path(args.out).suffix.lower()
        if blocks_out is not None and suffix not in {".csv", ".xlsx"}:
            written = io.write_blocks(blocks_out, args.out)
        else:
            written = write_table(table, args.out, inputs=[], command=args.command, stem=args.command)
    if args.json:
        emit_json({**extra, "blocks": len(table), "notes": notes, "out": str(written) if written else None,
                   "rows": table.to_dict(orient="records")})
        return 0
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print_table(table.set_index("block_id"))
    if written:
        print(f"wrote {written}")
    return 0


def _with_ids(blocks: gpd.GeoDataFrame, table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out.columns = [str(c) for c in out.columns]
    out.insert(0, "block_id", blocks["block_id"].to_numpy())
    return out.reset_index(drop=True)


def _zonal(args: argparse.Namespace) -> int:
    (blocks, notes) = noted(lambda: read_checked(args, args.blocks))
    stats, more = noted(lambda: raster.zonal_stats(
        blocks, args.raster, stats=args.stats, categorical=args.categorical or False, method=args.method,
        band=args.band, nodata=args.nodata, weights=args.weights, weights_band=args.weights_band,
        default_weight=args.default_weight, min_coverage_frac=args.min_coverage_frac,
    ))
    table = _with_ids(blocks, stats)
    return _finish(args, table, None, notes + more, {"raster": args.raster, "method": args.method})


def _floor_area(args: argparse.Namespace) -> int:
    (blocks, notes) = noted(lambda: read_checked(args, args.blocks))
    out, more = noted(lambda: raster.floor_area_from_height(
        blocks, args.heights, storey_height_m=args.storey_height_m, min_height_m=args.min_height_m,
        height_unit=args.height_unit, method=args.method, band=args.band, nodata=args.nodata,
    ))
    cols = [c for c in ("block_id", "gfa_m2", "footprint_m2", "height_valid_fraction", "gfa_m2_previous")
            if c in out.columns]
    table = pd.DataFrame(out[cols]).reset_index(drop=True)
    return _finish(args, table, out, notes + more, {"raster": args.heights, "method": args.method,
                                                     "gfa_source": "height_raster"})


def _buildings(args: argparse.Namespace) -> int:
    (blocks, notes) = noted(lambda: read_checked(args, args.blocks))
    fps, more = noted(lambda: _read_footprints(args.footprints))
    out, more2 = noted(lambda: buildings.aggregate(
        blocks, fps, floors=args.floors, height=args.height, storey_height_m=args.storey_height_m,
        default_floors=args.default_floors, assign=args.assign,
    ))
    cols = [c for c in ("block_id", "gfa_m2", "footprint_m2", "buildings", "gfa_m2_previous") if c in out.columns]
    table = pd.DataFrame(out[cols]).reset_index(drop=True)
    return _finish(args, table, out, notes + more + more2,
                   {"footprints": args.footprints, "assign": args.assign, "gfa_source": "footprints"})
