"""Subcommand ``map``: one column of a block file as an offline HTML map (and a printed PNG/PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path

from zgc_space import labels, maps
from zgc_space.cli._common import (
    add_footer_flags,
    add_json_flag,
    collecting_notes,
    emit_json,
    footer_from,
    read_checked,
    read_layer,
)
from zgc_space.cli._options import CLASSES_RANGE, DPI_RANGE, finite_float, int_in
from zgc_space.indicators import INDICATORS, attach
from zgc_space.maps import static


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``map``."""
    p = sub.add_parser("map", help="map one column (or block indicator) of a block file as offline HTML")
    p.add_argument("file", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    p.add_argument("--column", required=True,
                   help="column or indicator to map, by id or Chinese name (e.g. far, 综合容积率, gfa_m2)")
    p.add_argument("--out", required=True, help="HTML file to write")
    p.add_argument("--scheme", default="quantiles",
                   choices=["quantiles", "natural_breaks", "equal_interval", "explicit"])
    p.add_argument("-k", type=int_in(*CLASSES_RANGE), default=5, help="number of classes (default 5, at most 20)")
    p.add_argument("--bins", type=finite_float(), nargs="+", help="inner class breaks with --scheme explicit")
    p.add_argument("--labels", default="both", choices=["zh", "en", "both"], help="legend language")
    p.add_argument("--title", help="map title")
    p.add_argument("--districts", help="optional district boundary file drawn as context")
    p.add_argument("--tiles", choices=sorted(maps.TILES), help="web tiles (need the network)")
    p.add_argument("--tianditu-key", help="key for --tiles tianditu")
    add_footer_flags(p)
    p.add_argument("--date", help="footer: date of the data or map (日期)")
    p.add_argument("--png", action="store_true", help="also write a printed map (PNG and PDF) next to --out")
    p.add_argument("--paper", default="A4", choices=sorted(static.PAPER_MM), help="paper for --png")
    p.add_argument("--dpi", type=int_in(*DPI_RANGE), default=200, help="PNG resolution for --png (20-1200)")
    add_json_flag(p)
    p.set_defaults(func=_map)


def _map(args: argparse.Namespace) -> int:
    with collecting_notes() as notes:
        blocks = read_checked(args, args.file, layer=args.layer)
        if args.column not in blocks.columns:  # a Chinese name (综合容积率, 总建筑面积) names its id
            args.column = labels.canonical(args.column, choices=[*blocks.columns, *INDICATORS])
        derived = args.column not in blocks.columns and args.column in INDICATORS
        if derived:
            blocks = attach(blocks, args.column)
        districts = read_layer(args.districts, "--districts") if args.districts else None
    footer = footer_from(args)
    options = {"scheme": args.scheme, "k": args.k, "bins": args.bins, "labels": args.labels}
    m = maps.choropleth(blocks, args.column, title=args.title, districts=districts, tiles=args.tiles,
                        tianditu_key=args.tianditu_key, **options)
    html_path = maps.save_html(m, args.out, footer=footer)
    printed: tuple[Path, ...] = ()
    if args.png:
        printed = static.static_map(blocks, args.column, path=Path(args.out).with_suffix(".png"),
                                    formats=("png", "pdf"), paper=args.paper, dpi=args.dpi, footer=footer,
                                    title=args.title, districts=districts, **options)
    breaks = maps.class_breaks(blocks[args.column], scheme=args.scheme, k=args.k, bins=args.bins)
    if args.json:
        emit_json({
            "file": args.file,
            "column": args.column,
            "derived_indicator": derived,
            "blocks": len(blocks),
            "scheme": breaks.scheme,
            "breaks": list(breaks.edges),
            "html": str(html_path),
            "html_bytes": html_path.stat().st_size,
            "printed": [str(p) for p in printed],
            "read_notes": notes,
        })
    else:
        for note in notes:
            print(f"note: {note}")
        print(f"{html_path} ({html_path.stat().st_size:,} bytes, {len(blocks)} blocks, {breaks.k} classes)")
        for p in printed:
            print(p)
    return 0
