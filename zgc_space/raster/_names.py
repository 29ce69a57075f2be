"""Names of the zonal statistics and how a ``stats=`` argument is read.

``stats`` is a list of names or one string of names separated by commas and/or spaces
(``"min,max"``, ``"min max"``). Beyond the fixed names (:data:`STATS`) two families take a
number: ``percentile_N`` (N from 0 to 100, as in rasterstats, e.g. ``percentile_90``,
``percentile_2.5``) and ``quantile(q=Q)`` (Q from 0 to 1, as in exactextract; its column is
``quantile_`` followed by 100 Q, e.g. ``quantile_25``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from zgc_space.errors import RasterError

#: Statistics :func:`zgc_space.raster.zonal_stats` knows by name, in the order they are listed.
STATS = ("count", "sum", "mean", "min", "max", "std", "median", "range", "nodata", "majority", "minority",
         "variety", "unique", "weighted_mean", "weighted_sum")
#: The families of statistics that take a number.
PATTERNS = ("percentile_N", "quantile(q=Q)")
#: Statistics that need each block's histogram of values.
DISTRIBUTION = frozenset({"median", "percentile", "quantile", "majority", "minority", "variety", "unique"})
#: Statistics that need a weights raster.
WEIGHTED = frozenset({"weighted_mean", "weighted_sum"})
#: Statistics the run-length fast path of the ``center`` rule computes.
RUN_STATS = frozenset({"count", "sum", "mean", "min", "max", "range", "nodata"})

_TOKEN = re.compile(r"[^\s,()]+(?:\([^()]*\))?|[^\s,]")
_PERCENTILE = re.compile(r"percentile_(\d+(?:\.\d*)?|\.\d+)")
_QUANTILE = re.compile(r"quantile\(\s*q\s*=\s*([^()]*?)\s*\)")


@dataclass(frozen=True)
class Stat:
    """One requested statistic: its output ``column``, its ``kind`` and, for quantiles, ``q`` (0-1)."""

    column: str
    kind: str
    q: float = math.nan


def _one(name: str) -> Stat | None:
    if name in STATS:
        return Stat(name, name)
    if m := _PERCENTILE.fullmatch(name):
        pct = float(m.group(1))
        return Stat(name, "percentile", pct / 100.0) if pct <= 100.0 else None
    if m := _QUANTILE.fullmatch(name):
        try:
            q = float(m.group(1))
        except ValueError:
            return None
        return Stat(f"quantile_{q * 100:g}", "quantile", q) if 0.0 <= q <= 1.0 else None
    return None


def parse_stats(stats: str | Sequence[str]) -> tuple[Stat, ...]:
    """Read ``stats`` (names, or one string of names separated by commas or spaces); refuse unknown ones.

    Examples
    --------
    >>> [s.column for s in parse_stats("min max, percentile_90 quantile(q=0.25)")]
    ['min', 'max', 'percentile_90', 'quantile_25']
    """
    names = _TOKEN.findall(stats) if isinstance(stats, str) else [str(s).strip() for s in stats]
    names = [n for n in names if n]
    parsed = [_one(n) for n in names]
    unknown = [n for n, p in zip(names, parsed, strict=True) if p is None]
    if unknown or not names:
        raise RasterError(
            f"stats={stats!r}: unknown statistic(s) {unknown or names!r}; choose among {', '.join(STATS)}, "
            "percentile_N (N from 0 to 100) and quantile(q=Q) (Q from 0 to 1), as a list or one string "
            "separated by commas or spaces"
        )
    found = [p for p in parsed if p is not None]
    return tuple(dict.fromkeys(found))
