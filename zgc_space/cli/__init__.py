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
import sys
from collections.abc import Sequence

from zgc_space.cli._common import CHECKED_COMMANDS, add_allow_invalid_flag, refuse_overwriting_inputs
from zgc_space.cli._errors import DEBUG_FLAG, debug_requested, run_guarded
from zgc_space.io import package_version

__all__ = ["build_parser", "main"]

#: Topic modules under ``zgc_space.cli``, in the order their commands are listed.
_COMMAND_MODULES: tuple[str, ...] = (
    "_demo", "_account", "_blocks", "_indicators", "_maps", "_rank", "_raster", "_scenarios", "_report", "_diagnose",
    "_optimize",
    "_edit",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="zgc-space",
        description="Land-use analysis of Zhongguancun's blocks to TD/T 1029.",
    )
    parser.add_argument("--version", action="version", version=f"zgc-space {package_version()}")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="print the full traceback of an error (also accepted after the command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"zgc_space.cli.{name}").register(sub)
    for name in CHECKED_COMMANDS:
        add_allow_invalid_flag(sub.choices[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (argparse exits 2 itself on a usage error)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug, args_list = debug_requested(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    return run_guarded(_run, args, command=args.command, debug=debug or args.debug)


def _run(args: argparse.Namespace) -> int:
    refuse_overwriting_inputs(args)  # before any work: no output path may be an input
    return int(args.func(args) or 0)
