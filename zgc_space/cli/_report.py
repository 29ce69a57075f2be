"""Subcommand ``report``: the hearing pack (index.html, maps, tables, manifest) in one folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from zgc_space import report
from zgc_space.cli._common import add_footer_flags, add_json_flag, emit_json, footer_from, read_checked, read_layer
from zgc_space.cli._options import DPI_RANGE, int_in
from zgc_space.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``report``."""
    p = sub.add_parser("report", help="write the hearing pack: offline index.html, maps, tables, manifest.json")
    p.add_argument("blocks", nargs="?", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--sample", action="store_true",
                   help="build the full pack from the bundled sample (proposals, optimisation, dynamic adjustment)")
    p.add_argument("--out", required=True, help="folder of the pack (new, empty, or a previous pack: replaced)")
    p.add_argument("--layer", help="layer name in a multi-layer block file")
    p.add_argument("--proposals", nargs="+", default=[], help="proposal YAML files (or folders) to compare")
    p.add_argument("--candidates", help="candidate areas the proposals may admit")
    p.add_argument("--preset", default="cic_default", help="evaluation preset (default cic_default)")
    p.add_argument("--peers", help="peer zones CSV for the rank (default: the shipped synthetic peers)")
    p.add_argument("--target-rank", type=int_in(0, 100_000), default=30,
                   help="rank for the gap analysis (default 30; 0: none)")
    p.add_argument("--districts", help="district boundaries drawn under the maps")
    p.add_argument("--title", help="title of the index page")
    p.add_argument("--date", help="date printed and recorded (never taken from the clock)")
    add_footer_flags(p)
    p.add_argument("--no-png", action="store_true", help="skip the printed (PNG) maps")
    p.add_argument("--dpi", type=int_in(*DPI_RANGE), default=150, help="PNG resolution (default 150; 20-1200)")
    p.add_argument("--docx", action="store_true",
                   help="write the Word report (report.docx) and one diagnosis per sub-park (diagnoses/), as PDF "
                        "too where LibreOffice is installed: the default; kept for scripts that pass it")
    p.add_argument("--no-docx", action="store_true", help="leave out the Word report and the diagnoses")
    p.add_argument("--docx-template", help="bureau Word template (.docx) whose styles the documents use")
    p.add_argument("--no-docx-pdf", action="store_true",
                   help="no PDF of the documents (default: made when LibreOffice is installed)")
    add_json_flag(p)
    p.set_defaults(func=_report)


def _documents(args: argparse.Namespace) -> dict[str, Any]:
    """Return the Word report and diagnoses options of ``hearing_pack`` (written unless ``--no-docx``)."""
    if args.no_docx:
        if args.docx or args.docx_template:
            raise UsageError("--no-docx leaves the documents out; it cannot go with --docx or --docx-template")
        return {"documents": False}
    out: dict[str, Any] = {"documents": True, "documents_pdf": False if args.no_docx_pdf else None}
    if args.docx_template:
        out["docx_template"] = args.docx_template
    return out


def _report(args: argparse.Namespace) -> int:
    if args.sample == bool(args.blocks):
        raise UsageError("give either a block file or --sample (not both, not neither)")
    if args.sample:
        from zgc_space import demo

        index = demo.demo_pack(args.out, png=not args.no_png, **_documents(args))
    else:

        from zgc_space.scenarios import batch

        blocks = read_checked(args, args.blocks, layer=args.layer)
        footer = footer_from(args)
        options = {"title": args.title} if args.title else {}
        index = report.hearing_pack(
            blocks, out_dir=args.out, preset=args.preset, peers=args.peers,
            proposals=batch.expand_paths(args.proposals) or None, candidates=args.candidates, footer=footer,
            inputs=[args.blocks, *([args.districts] if args.districts else [])],
            target_rank=args.target_rank or None, date=args.date,
            districts=read_layer(args.districts, "--districts") if args.districts else None,
            png=not args.no_png, dpi=args.dpi, **options, **_documents(args),
        )
    manifest = json.loads((index.parent / report.MANIFEST).read_text(encoding="utf-8"))
    if args.json:
        emit_json({
            "index": str(index),
            "out": str(index.parent),
            "files": [f["path"] for f in manifest["files"]],
            "inputs": manifest["inputs"],
            "preset": manifest["preset"],
        })
    else:
        print(f"{len(manifest['files']) + 1} files in {index.parent}")
        print(Path(index))
    return 0
