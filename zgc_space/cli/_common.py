"""Helpers shared by the subcommands: JSON output with stable keys, table printing."""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd


def _plain(value: Any) -> Any:
    """Turn numpy/pandas scalars and containers into JSON-safe Python values (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.reset_index().to_dict(orient="records")]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as JSON (sorted keys, UTF-8, no NaN)."""
    json.dump(_plain(payload), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
    sys.stdout.write("\n")


def print_table(frame: pd.DataFrame, *, float_format: str = "{:,.2f}") -> None:
    """Print a DataFrame as plain text with formatted numbers."""
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
        print(frame.to_string(float_format=float_format.format))


@contextmanager
def collecting_notes() -> Iterator[list[str]]:
    """Collect the warnings raised inside the block as notes for the user (unique, in order).

    The list is filled when the block ends; commands print the notes or put them in JSON.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    notes.extend(dict.fromkeys(str(w.message) for w in caught))


def noted(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``func(*args, **kwargs)``; return its result and the notes of the warnings it raised."""
    with collecting_notes() as notes:
        result = func(*args, **kwargs)
    return result, notes


def add_json_flag(parser: Any) -> None:
    """Add the ``--json`` flag every result-printing subcommand takes."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON (stable keys)")
