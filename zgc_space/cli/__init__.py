"""The ``zgc-space`` command line.

Each topic registers its subcommands from its own module (``zgc_space/cli/_<topic>.py``
defines ``register(subparsers)``); this module only assembles them and is the one error
boundary (:mod:`zgc_space.cli._errors`): every failure becomes one message saying what, where
and how to fix, and an exit code: 0 success, 1 bad input or problems found (e.g. ``validate``),
2 usage, 3 environment (permissions, disk, an unreachable scheduler, a locked folder). A
traceback is printed only with ``--debug`` (or ``ZGC_SPACE_DEBUG=1``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from zgc_space.cli._errors import DEBUG_FLAG, debug_requested, run_guarded

__all__ = ["COMMANDS", "build_parser", "main"]

#: Every subcommand, in the order listed: the topic module that registers it
#: (``zgc_space/cli/<module>.py`` defines ``register(subparsers)``) and its one-line help. Only the
#: module of the command being run is imported, so ``--help`` and ``--version`` load no
#: geopandas (tests check this table against what the modules register).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("_demo", 'run the main job on the bundled sample data (builds the hearing pack)'),
    "account": ("_account",
                 'land accounting by overlay: blocks × survey parcels × plan plots × supply/idle/serviced land'),
    "validate": ("_blocks", 'check a block file; print every problem (exit 1 if any error)'),
    "info": ("_blocks", 'blocks, sub-parks, CRS and land totals per sub-park'),
    "indicators": ("_indicators", 'TD/T 1029 indicators (ratios of sums) per block, sub-park or zone'),
    "capacity": ("_indicators", 'remaining and suppliable land, floor-area capacity under far_cap'),
    "map": ("_maps", 'map one column (or block indicator) of a block file as offline HTML'),
    "rank": ("_rank", 'composite score (TD/T 1029) of the whole zone, its rank among peers, gap to a target rank'),
    "zonal": ("_raster", 'zonal statistics of a raster per block'),
    "floor-area": ("_raster", 'floor area and footprint per block from a building-height raster'),
    "buildings": ("_raster", 'floor area and footprint per block from building footprints'),
    "apply": ("_scenarios", 'apply one proposal to a baseline and write the adjusted blocks'),
    "compare": ("_scenarios", 'evaluate proposals against a baseline; write results and a manifest'),
    "report": ("_report", 'write the hearing pack: offline index.html, maps, tables, manifest.json'),
    "diagnose": ("_diagnose", 'one diagnosis per sub-park (一分园一诊断书): Word and HTML documents'),
    "optimize": ("_optimize", 'search the best release/admit/renew adjustment; writes a proposal'),
    "pareto": ("_optimize", 'trade-off front between two objectives (epsilon-constraint)'),
    "consolidate": ("_optimize", 'groups of small neighbouring blocks as merge proposals (小散弱)'),
    "dynamic": ("_optimize", 'dynamic adjustment rules (优胜劣汰) on a panel: statuses, simulation'),
    "edit": ("_edit", "edit a proposal on the map in a local web page (127.0.0.1); indicators, score and rank "
                      "update per click"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser: every subcommand registered, or only ``command``'s module.

    With ``command``, the other subcommands are listed (name and help) but not built, so
    parsing stays quick; without it, every topic module is imported.
    """
    from zgc_space.cli._common import CHECKED_COMMANDS, add_allow_invalid_flag

    parser = argparse.ArgumentParser(
        prog="zgc-space",
        description="Land-use analysis of Zhongguancun's blocks to TD/T 1029.",
    )
    parser.add_argument("--version", action="version", version=f"zgc-space {_version()}")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="print the full traceback of an error (also accepted after the command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = None if command is None else COMMANDS.get(command, ("", ""))[0]
    registered: set[str] = set()
    for name, (module, text) in COMMANDS.items():
        if name in sub.choices:
            continue
        if wanted is None or module == wanted:
            before = set(sub.choices)
            importlib.import_module(f"zgc_space.cli.{module}").register(sub)
            registered |= set(sub.choices) - before
        else:
            sub.add_parser(name, help=text)
    for name in CHECKED_COMMANDS:
        if name in registered:
            add_allow_invalid_flag(sub.choices[name])
    return parser


def _version() -> str:
    """Return the installed version, read from the name of its ``.dist-info`` folder.

    The same record :mod:`importlib.metadata` reads, without importing it (it pulls in the email
    and zip packages: a tenth of a second on a loaded machine, for ``--version`` alone).
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("zgc_space-") and name.endswith(".dist-info"):
                return name.removeprefix("zgc_space-").removesuffix(".dist-info")
    from importlib import metadata

    try:
        return metadata.version("zgc_space")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def _command_of(args: Sequence[str]) -> str | None:
    """Return the subcommand named in ``args`` (the first word that is not an option), if any."""
    return next((a for a in args if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (argparse exits 2 itself on a usage error)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug, args_list = debug_requested(args_list)
    parser = build_parser(_command_of(args_list) or "")
    args = parser.parse_args(args_list)
    return run_guarded(_run, args, command=args.command, debug=debug or args.debug)


def _run(args: argparse.Namespace) -> int:
    from zgc_space.cli._common import refuse_overwriting_inputs
    from zgc_space.cli._progress import PROGRESS_COMMANDS, progress

    refuse_overwriting_inputs(args)  # before any work: no output path may be an input
    with progress(args.command, enabled=args.command in PROGRESS_COMMANDS and not getattr(args, "json", False)):
        return int(args.func(args) or 0)
