"""Subcommand ``diagnose``: 一分园一诊断书, one diagnosis per sub-park (Word and HTML, PDF optional)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from zgc_space.cli._common import add_json_flag, emit_json, read_checked, read_layer
from zgc_space.cli._options import int_in
from zgc_space.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``diagnose``."""
    p = sub.add_parser("diagnose", help="one diagnosis per sub-park (一分园一诊断书): Word and HTML documents")
    p.add_argument("file", help="block file of the whole zone (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--subpark", action="append", metavar="NAME",
                       help="the sub-park to diagnose, e.g. 海淀园 (repeat for several)")
    which.add_argument("--all", action="store_true", help="diagnose every sub-park of the table")
    p.add_argument("--out", required=True, help="folder for <分园>.docx and .html (created when missing)")
    p.add_argument("--preset", default="cic_default", help="evaluation preset (default cic_default)")
    p.add_argument("--peers", help="peer zones CSV for the national comparison (default: the synthetic peers)")
    p.add_argument("--target-rank", type=int_in(0, 100_000), default=30,
                   help="national rank whose requirements each diagnosis states (default 30; 0: none)")
    p.add_argument("--panel", help="panel file (one row per block and year) for the dynamic-adjustment history")
    p.add_argument("--rules", help="dynamic-adjustment rules YAML (with --panel)")
    p.add_argument("--years", type=int_in(0, 100), default=2, help="years to simulate beyond the panel (default 2)")
    p.add_argument("--template", help="bureau Word template (.docx) whose styles the documents use")
    p.add_argument("--date", help="date printed on the cover (never taken from the clock)")
    p.add_argument("--lang", choices=("zh", "zh+en", "en"), default="zh", help="language (default zh)")
    p.add_argument("--pdf", action="store_true", help="also convert them to PDF with LibreOffice (one run)")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _dynamic(args: argparse.Namespace) -> Any:
    if bool(args.panel) != bool(args.rules):
        raise UsageError("--panel and --rules go together (the history is simulated from the panel by the rules)")
    if not args.panel:
        return None
    from zgc_space import dynamic

    panel = read_layer(args.panel, "--panel")
    panel.attrs["zgc_source"] = args.panel
    rules = dynamic.load_rules(args.rules)
    if args.years:
        return dynamic.simulate(panel, rules, years=args.years)
    return dynamic.evaluate_panel(panel, rules)


def _run(args: argparse.Namespace) -> int:
    from zgc_space import report

    blocks = read_checked(args, args.file, layer=args.layer)
    history = _dynamic(args)
    inputs = [p for p in (args.file, args.panel, args.rules, args.template) if p]
    blocks.attrs["zgc_sources"] = [*blocks.attrs.get("zgc_sources", []), *inputs]
    files = report.write_diagnoses(
        blocks, out_dir=args.out, subparks=None if args.all else args.subpark, preset=args.preset, peers=args.peers,
        dynamic=history, target_rank=args.target_rank or None, lang=args.lang, date=args.date,
        template=args.template, pdf=args.pdf,
    )
    if args.json:
        emit_json({"out": str(Path(args.out)), "files": [str(f) for f in files],
                   "subparks": [f.stem for f in files if f.suffix == ".docx"]})
        return 0
    docs = [f for f in files if f.suffix == ".docx"]
    print(f"{len(docs)} diagnosis(es) in {args.out}: {', '.join(f.stem for f in docs)}")
    for f in files:
        print(f)
    return 0
