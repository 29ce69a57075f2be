"""The ``zgc-space`` command line.

Each topic registers its subcommands from its own module (``zgc_space/cli/_<topic>.py``
defines ``register(subparsers)``); this module only assembles them and maps errors to exit
codes: 0 success, 1 problems found (e.g. ``validate``), 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from zgc_space.errors import ZgcSpaceError
from zgc_space.io import package_version

__all__ = ["build_parser", "main"]

#: Topic modules under ``zgc_space.cli``, in the order their commands are listed.
_COMMAND_MODULES: tuple[str, ...] = (
    "_demo", "_account", "_blocks", "_indicators", "_maps", "_rank", "_raster", "_scenarios", "_report", "_optimize",
    "_edit",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="zgc-space",
        description="Land-use analysis of Zhongguancun's blocks to TD/T 1029.",
    )
    parser.add_argument("--version", action="version", version=f"zgc-space {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"zgc_space.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except ZgcSpaceError as exc:
        print(f"zgc-space {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(code or 0)
