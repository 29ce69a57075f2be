"""Subcommands on a block file: ``validate`` and ``info``."""

from __future__ import annotations

import argparse

import geopandas as gpd

from zgc_space import blocks as _blocks
from zgc_space import indicators, io
from zgc_space.cli._common import add_json_flag, emit_json, noted, print_table, read_checked
from zgc_space.cli._options import finite_float


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``validate`` and ``info``."""
    p = sub.add_parser("validate", help="check a block file; print every problem (exit 1 if any error)")
    p.add_argument("file", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1)")
    p.add_argument("--overlap-tolerance-m2", type=finite_float(low=0), default=1.0,
                   help="ignore overlaps up to this area")
    add_json_flag(p)
    p.set_defaults(func=_validate)

    p = sub.add_parser("info", help="blocks, sub-parks, CRS and land totals per sub-park")
    p.add_argument("file", help="block file")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    p.add_argument("--by", default="subpark", help="column to total by (default: subpark)")
    add_json_flag(p)
    p.set_defaults(func=_info)


def read(path: str, *, layer: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a block file, returning the blocks and the warnings raised while reading."""
    frame, notes = noted(io.read_blocks, path, layer=layer)
    return frame, notes


def _validate(args: argparse.Namespace) -> int:
    frame, read_notes = read(args.file, layer=args.layer)
    problems = _blocks.find_problems(
        frame, overlap_tolerance_m2=args.overlap_tolerance_m2, source=args.file
    )
    errors = [p for p in problems if p.severity == "error" or args.strict]
    if args.json:
        emit_json({
            "file": args.file,
            "blocks": len(frame),
            "valid": not errors,
            "read_notes": read_notes,
            "problems": [p.to_dict() for p in problems],
        })
    else:
        for note in read_notes:
            print(f"note: {note}")
        for p in problems:
            print(p)
        verdict = "INVALID" if errors else "valid"
        print(f"{args.file}: {len(frame)} blocks, {verdict} "
              f"({sum(p.severity == 'error' for p in problems)} errors, "
              f"{sum(p.severity == 'warning' for p in problems)} warnings)")
    return 1 if errors else 0


def _zone_far(frame: gpd.GeoDataFrame) -> float | None:
    """Comprehensive FAR Σgfa / ΣA over the same blocks (NaN when a block lacks either)."""
    if not {"gfa_m2", "built_m2"} <= set(frame.columns):
        return None
    return float(indicators.compute(frame, by="zone", indicators=["far"])["far"].iloc[0])


def _info(args: argparse.Namespace) -> int:
    frame, read_notes = noted(read_checked, args, args.file, layer=args.layer)
    totals = _blocks.land_totals(frame, by=args.by)
    zone = totals.loc["合计 total"]
    headline = {
        "site_area_km2": zone["site_area_km2"],
        "built_km2": zone.get("built_km2"),
        "remaining_km2": zone.get("remaining_km2"),
        "nonconstruction_km2": zone.get("nonconstruction_km2"),
        "supplied_km2": zone.get("supplied_km2"),
        "gfa_km2": zone.get("gfa_km2"),
        "far": _zone_far(frame),
    }
    n_groups = int(frame[args.by].nunique()) if args.by in frame.columns else 0
    if args.json:
        emit_json({
            "file": args.file,
            "blocks": len(frame),
            "subparks": int(frame["subpark"].nunique()) if "subpark" in frame.columns else None,
            "groups": n_groups,
            "by": args.by,
            "crs": frame.crs.to_string() if frame.crs is not None else None,
            "read_notes": read_notes,
            "totals": headline,
            "per_group": totals.drop(index="合计 total"),
        })
        return 0
    print(f"{args.file}: {len(frame)} blocks in {n_groups} {args.by} groups, CRS {frame.crs.to_string()}")
    for note in read_notes:
        print(f"note: {note}")
    print_table(totals)
    if headline["far"] is not None and headline["far"] == headline["far"]:
        print(f"comprehensive FAR (Σ floor area / Σ built land A): {headline['far']:.3f}")
    return 0
