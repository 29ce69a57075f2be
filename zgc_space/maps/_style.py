"""Shared plumbing of the web and printed maps: class breaks, colours, labels, footer, writes.

Private: users reach these through :mod:`zgc_space.maps` and :mod:`zgc_space.static`.
Nothing here imports folium or matplotlib's pyplot, so both map modules can use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from zgc_space import labels
from zgc_space.errors import ColumnError, MapError

__all__ = ["ClassBreaks", "Footer", "class_breaks", "column_labels", "format_value"]

SCHEMES = ("quantiles", "natural_breaks", "equal_interval", "explicit")
#: Language settings of the maps (:data:`zgc_space.labels.LANGS`; ``"both"`` is ``"zh+en"``).
LABEL_MODES = ("zh", "zh+en", "en", "both")
NO_DATA_COLOUR = "#d9d9d9"
#: Jenks is exact up to this many distinct values; above it runs on evenly spaced quantiles.
JENKS_MAX_VALUES = 3000

@dataclass(frozen=True)
class Footer:
    """What a published map states at its foot; every field is optional and never defaulted.

    Parameters
    ----------
    review_number
        Map review number (审图号), when the map has been through review.
    data_source
        Where the data come from (数据来源).
    crs
        Coordinate reference system statement (坐标系), e.g. ``"CGCS2000 / EPSG:4548"``.
    date
        Date of the data or of the map (日期), as text: never filled in automatically, so the
        same inputs give the same file.
    note
        Any further line (e.g. the parameters or preset used).
    lang
        Language of the field labels: ``"zh"``, ``"zh+en"`` (default) or ``"en"``.

    Examples
    --------
    >>> Footer(review_number="京S(2024)001号", date="2024-07-24").text()
    '审图号 Map review no.: 京S(2024)001号 · 日期 Date: 2024-07-24'
    """

    review_number: str | None = None
    data_source: str | None = None
    crs: str | None = None
    date: str | None = None
    note: str | None = None
    lang: str = "zh+en"

    def items(self) -> list[tuple[str, str]]:
        """Return ``(label, value)`` pairs of the fields that are set, in a fixed order, in ``lang``."""
        pick = labels.pick
        pairs = (
            (pick("审图号", "Map review no.", self.lang), self.review_number),
            (pick("数据来源", "Data source", self.lang), self.data_source),
            (pick("坐标系", "CRS", self.lang), self.crs),
            (pick("日期", "Date", self.lang), self.date),
            (pick("说明", "Note", self.lang), self.note),
        )
        return [(k, str(v)) for k, v in pairs if v not in (None, "")]

    def text(self, *, sep: str = " · ") -> str:
        """Return the footer as one line of plain (unescaped) text."""
        return sep.join(f"{k}: {v}" for k, v in self.items())


@dataclass(frozen=True)
class ClassBreaks:
    """Classes of a choropleth: ``edges`` has one more entry than ``colours``.

    Class *i* holds values in ``(edges[i], edges[i + 1]]`` (the first class also holds
    ``edges[0]``). ``scheme`` records how the edges were found.
    """

    edges: tuple[float, ...]
    colours: tuple[str, ...]
    scheme: str

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.colours)

    def classify(self, values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
        """Return the class index of each value, ``-1`` for missing (NaN) values."""
        arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
        idx = np.searchsorted(np.asarray(self.edges[1:-1]), arr, side="left")
        return np.where(np.isnan(arr), -1, np.clip(idx, 0, self.k - 1))

    def colour_of(self, values: Sequence[float] | np.ndarray | pd.Series) -> list[str]:
        """Return the fill colour of each value (grey for missing values)."""
        lut = (*self.colours, NO_DATA_COLOUR)
        return [lut[i] for i in self.classify(values)]

    def labels(self, *, unit: str = "") -> list[str]:
        """Return one legend label per class, all edges with the same decimals, e.g. ``'0.50 – 1.20'``."""
        suffix = f" {unit}" if unit else ""
        edges = np.asarray(self.edges, dtype=float)
        gaps = np.diff(edges)
        gaps = gaps[gaps > 0]
        if np.abs(edges).max() >= 1000 or gaps.size == 0:
            decimals = 0 if np.abs(edges).max() >= 1000 else 2
        else:
            decimals = int(np.clip(1 - math.floor(math.log10(gaps.min())), 0, 4))
        text = [f"{e:,.{decimals}f}" for e in edges]
        return [
            (f"{a}" if lo == hi else f"{a} – {b}") + suffix
            for lo, hi, a, b in zip(edges[:-1], edges[1:], text[:-1], text[1:], strict=True)
        ]


def format_value(value: float | None, *, unit: str = "", lang: str = "zh+en") -> str:
    """Format a number for people: thousands separators, precision by magnitude, unit.

    The rules are :func:`zgc_space.labels.value`'s.

    Examples
    --------
    >>> format_value(1234567.891, unit="m²"), format_value(1.18), format_value(0.0312)
    ('1,234,568 m²', '1.18', '0.0312')
    >>> format_value(float("nan")), format_value(float("nan"), lang="zh"), format_value(-2.2e-16)
    ('无数据 no data', '无数据', '0.00')
    """
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        value = float(value)  # an integer count reads as any other number here
    return labels.value(value, lang, unit=unit)


def column_labels(
    column: str, *, label_zh: str | None = None, label_en: str | None = None, unit: str | None = None
) -> tuple[str, str, str, str]:
    """Return ``(zh, en, unit_zh, unit_en)`` for a column (schema or indicator) unless overridden.

    The names come from :mod:`zgc_space.labels`.

    Examples
    --------
    >>> column_labels("employees")
    ('从业人员', 'employees', '人', 'persons')
    >>> column_labels("tax_10k_cny_per_ha")
    ('综合地均税收', 'tax per hectare', '万元/公顷', '万元/ha')
    """
    zh = label_zh or labels.column_name(column, "zh")
    en = label_en or labels.column_name(column, "en")
    unit_en = unit if unit is not None else labels.unit_of(column)
    return zh, en, labels.unit(unit_en, "zh"), unit_en


def legend_title(column: str, lang: str, **overrides: str | None) -> str:
    """Return the legend title in Chinese, English or both, with units."""
    if lang not in LABEL_MODES:
        raise MapError(f"labels={lang!r} is not one of {LABEL_MODES}")
    zh, en, unit_zh, unit_en = column_labels(column, **overrides)
    zh_t = f"{zh} ({unit_zh})" if unit_zh else zh
    en_t = f"{en} ({unit_en})" if unit_en else en
    return {"zh": zh_t, "en": en_t}.get(lang, f"{zh_t} / {en_t}")


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return ``frame[column]`` as floats, raising a clear error when absent or not numeric."""
    if column not in frame.columns:
        numeric = [c for c in frame.columns if c != "geometry" and pd.api.types.is_numeric_dtype(frame[c])]
        raise ColumnError(
            f"column {column!r} is not in `blocks`; numeric columns available: {', '.join(map(str, numeric))}"
        )
    if not pd.api.types.is_numeric_dtype(frame[column]) and not frame[column].isna().all():
        raise ColumnError(f"column {column!r} is not numeric (dtype {frame[column].dtype}); map a number")
    return np.asarray(frame[column].astype("float64"), dtype=float)


def _jenks(values: np.ndarray, k: int) -> list[float]:
    """Fisher-Jenks optimal breaks (minimum within-class sum of squares), weighted by counts."""
    x, w = np.unique(values, return_counts=True)
    if len(x) > JENKS_MAX_VALUES:
        x = np.unique(np.quantile(values, np.linspace(0, 1, JENKS_MAX_VALUES)))
        w = np.ones_like(x)
    n = len(x)
    if n <= k:
        return [float(v) for v in x]
    w = w.astype(float)
    cw = np.concatenate([[0.0], np.cumsum(w)])
    cwx = np.concatenate([[0.0], np.cumsum(w * x)])
    cwxx = np.concatenate([[0.0], np.cumsum(w * x * x)])

    def ssd(i: np.ndarray, j: int) -> np.ndarray:  # cost of the class x[i..j] (inclusive)
        sw = cw[j + 1] - cw[i]
        sx = cwx[j + 1] - cwx[i]
        return cast("np.ndarray", (cwxx[j + 1] - cwxx[i]) - sx * sx / sw)

    cost = np.array([ssd(np.array([0]), j)[0] for j in range(n)])
    starts = np.zeros((k, n), dtype=int)
    for m in range(1, k):
        new = np.full(n, np.inf)
        for j in range(m, n):
            i = np.arange(m, j + 1)  # first value of the last class
            total = cost[i - 1] + ssd(i, j)
            best = int(np.argmin(total))
            new[j] = total[best]
            starts[m, j] = i[best]
        cost = new
    edges, j = [], n - 1
    for m in range(k - 1, 0, -1):
        i = starts[m, j]
        edges.append(float(x[i - 1]))
        j = i - 1
    return [float(x[0]), *reversed(edges), float(x[-1])]


def class_breaks(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    cmap: str = "YlOrRd",
) -> ClassBreaks:
    """Find class edges for a choropleth and give each class a colour.

    Parameters
    ----------
    values
        The mapped values; missing values are ignored (they get a grey "no data" class).
    scheme
        ``"quantiles"`` (equal counts), ``"natural_breaks"`` (Fisher-Jenks: the edges that
        minimise the within-class sum of squares; exact up to 3,000 distinct values, on
        evenly spaced quantiles above), ``"equal_interval"``, or ``"explicit"`` (``bins``).
    k
        Number of classes (fewer when the data have fewer distinct values).
    bins
        With ``scheme="explicit"``: the increasing inner break values; classes are
        ``≤ bins[0]``, ``(bins[0], bins[1]]``, ..., ``> bins[-1]``.
    cmap
        A matplotlib colormap name.

    Examples
    --------
    >>> cb = class_breaks([1, 2, 3, 10, 11, 12, 30], scheme="natural_breaks", k=3)
    >>> cb.edges, cb.classify([2, 11, 30]).tolist()
    ((1.0, 3.0, 12.0, 30.0), [0, 1, 2])
    >>> class_breaks([0.2, 0.8, 1.5], scheme="explicit", bins=[0.5, 1.0]).labels(unit="m²")
    ['0.20 – 0.50 m²', '0.50 – 1.00 m²', '1.00 – 1.50 m²']
    """
    from matplotlib import colormaps

    if scheme not in SCHEMES:
        raise MapError(f"scheme={scheme!r} is not one of {SCHEMES}")
    if cmap not in colormaps:
        raise MapError(f"cmap={cmap!r} is not a matplotlib colormap name (e.g. 'YlOrRd', 'viridis')")
    arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise MapError("no finite values to classify: every value of the mapped column is missing")
    lo, hi = float(arr.min()), float(arr.max())
    if scheme == "explicit":
        if bins is None or len(bins) == 0:
            raise MapError('scheme="explicit" needs bins=[...] (increasing inner break values)')
        inner = [float(b) for b in bins]
        if any(b >= c for b, c in zip(inner, inner[1:], strict=False)):
            raise MapError(f"bins must increase strictly, got {list(bins)}")
        edges = [min(lo, inner[0]), *inner, max(hi, inner[-1])]
    else:
        if bins is not None:
            raise MapError(f'bins are only used with scheme="explicit", not {scheme!r}')
        if not isinstance(k, int) or k < 1:
            raise MapError(f"k must be a positive integer, got {k!r}")
        if scheme == "quantiles":
            edges = [float(v) for v in np.quantile(arr, np.linspace(0, 1, k + 1))]
        elif scheme == "equal_interval":
            edges = [float(v) for v in np.linspace(lo, hi, k + 1)]
        else:
            edges = _jenks(arr, k)
        # the first class may hold the minimum alone (edges[0] == edges[1]); other ties merge
        edges = [edges[0], *sorted(set(edges[1:]))] if hi > lo else [lo, hi]
    colours = colormaps[cmap].resampled(max(len(edges) - 1, 1))
    from matplotlib.colors import to_hex

    hexes = tuple(to_hex(colours(i)) for i in range(len(edges) - 1))
    return ClassBreaks(edges=tuple(edges), colours=hexes, scheme=scheme)
