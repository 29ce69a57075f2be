"""Option types with bounds: a value out of range is a usage error (exit 2) naming the option.

argparse puts the option's name in front of the message (``argument --dpi: must be ...``).
Every bound says why it is there: the work a value asks for grows with it (pixels, solver runs,
simulated years), so an absurd value is refused before anything is read.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

#: Limits of the options that set the amount of work.
DPI_RANGE = (20, 1200)  # a 1200-dpi A0 page is already 1.6 gigapixel
CLASSES_RANGE = (1, 20)  # more classes than a legend can show are unreadable
POINTS_RANGE = (2, 200)  # each point of a Pareto front is one MILP solve
SIMULATE_RANGE = (1, 100)  # years simulated after the panel
JOBS_RANGE = (1, 256)
TIME_LIMIT_S = 24 * 3600.0
SCHEDULER_TIMEOUT_S = 600.0


def int_in(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """Return an argparse type accepting whole numbers in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} from {low} to {high}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {what} from {low} to {high}, got {value}")
        return value

    return parse


def finite_float(*, low: float = -math.inf, high: float = math.inf, strict_low: bool = False,
                 what: str = "number") -> Callable[[str], float]:
    """Return an argparse type accepting finite numbers in a range (``strict_low``: above ``low``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {what}, got {text!r}") from None
        below = value <= low if strict_low else value < low
        if not math.isfinite(value) or below or value > high:
            bounds = []
            if math.isfinite(low):
                bounds.append(f"{'>' if strict_low else '≥'} {low:g}")
            if math.isfinite(high):
                bounds.append(f"≤ {high:g}")
            rng = f" ({', '.join(bounds)})" if bounds else ""
            raise argparse.ArgumentTypeError(f"must be a finite {what}{rng}, got {text}")
        return value

    return parse


_ID = re.compile(r"^[^\s/\\:*?\"<>|]{1,100}$")


def identifier(text: str) -> str:
    """Accept an id written into files and file names: 1-100 characters, no spaces or path characters."""
    if not _ID.match(text) or text in {".", ".."}:
        raise argparse.ArgumentTypeError(
            f"must be 1-100 characters without spaces or any of / \\ : * ? \" < > |, got {text!r}; e.g. OPT-2024"
        )
    return text
