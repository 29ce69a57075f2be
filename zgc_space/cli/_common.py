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

from zgc_space.maps import Footer


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


def add_footer_flags(parser: Any) -> None:
    """Add the map footer's ``--review-number``, ``--data-source`` and ``--crs-note`` (each command adds ``--date``)."""
    parser.add_argument("--review-number", help="footer: map review number (审图号)")
    parser.add_argument("--data-source", help="footer: data source (数据来源)")
    parser.add_argument("--crs-note", help="footer: coordinate system statement (坐标系)")


def footer_from(args: Any) -> Footer:
    """Return the map footer given by the flags of :func:`add_footer_flags` and ``--date``."""
    return Footer(review_number=args.review_number, data_source=args.data_source, crs=args.crs_note, date=args.date)
