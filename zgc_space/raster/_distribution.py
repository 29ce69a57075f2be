r"""Value distributions of blocks for the zonal engine: histograms, quantiles, majority.

A block's valid pixels are kept as a *histogram*: its distinct values (sorted) and the summed
weight of each (a pixel count for ``center`` / ``all_touched``, summed coverage fractions for
``exact``). Distinct values are few on class or integer rasters, so the histogram is much
smaller than the pixels; it is compacted as chunks arrive.

Two quantile definitions, one per reference:

:func:`linear_quantile` (``center``, ``all_touched``)
    the order statistics of the :math:`n` pixels with linear interpolation, method 7 of
    Hyndman & Fan: position :math:`h = (n - 1)\,q`, value
    :math:`x_{\lfloor h \rfloor} + (h - \lfloor h \rfloor)(x_{\lfloor h \rfloor + 1} - x_{\lfloor h \rfloor})`.
    This is ``numpy.percentile``'s default, which rasterstats' ``percentile_N`` uses.
:func:`weighted_quantile` (``exact``)
    the weighted quantile exactextract uses (its ``median`` and ``quantile``): over the
    :math:`m` distinct values :math:`x_0 < \dots < x_{m-1}` with summed coverage :math:`w_k`
    and cumulative coverage :math:`S_k = \sum_{j \le k} w_j` (total :math:`W`), the
    positions :math:`s_0 = 0`, :math:`s_k = k\,w_k + (m - 1)\,S_{k-1}`; the quantile
    :math:`q` is read at :math:`t = q\,(m - 1)\,W` by linear interpolation between the
    neighbouring :math:`(s_k, x_k)`, and is :math:`x_{m-1}` beyond the last position. With
    unit weights it reduces to the linear rule over the distinct values.
"""

from __future__ import annotations

import numpy as np

from zgc_space.errors import RasterError

#: Parts kept per block before they are merged into one histogram.
_MERGE_EVERY = 32
#: The most histogram entries (distinct values per block, 16 bytes each: 1 GiB) kept at once.
MAX_ENTRIES = 1 << 26


def histogram(values: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (sorted, float64) and the summed weight of each (1 per pixel if ``weights`` is None).

    Integers of a small range are counted with one ``bincount`` (no sort); other values are
    sorted in their own dtype (float32 sorts faster than float64). With weights (coverage), the
    pixels of weight 1 (a block's interior: most of them) are sorted alone, the others by argsort.
    """
    v = np.asarray(values).ravel()
    if v.size == 0:
        return np.zeros(0), np.zeros(0)
    if v.dtype.kind in "iu" and v.dtype.itemsize <= 4:
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= max(4 * v.size, 1 << 16):
            offset = (v.astype(np.int64) - lo).astype(np.intp)
            present = np.bincount(offset, minlength=hi - lo + 1)
            keep = np.flatnonzero(present)
            sums = present if weights is None else np.bincount(offset, weights=weights, minlength=hi - lo + 1)
            return (keep + lo).astype(np.float64), sums[keep].astype(np.float64)
    if weights is None:
        s = np.sort(v)
        start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        return s[start].astype(np.float64), np.diff(np.r_[start, s.size]).astype(np.float64)
    w = np.asarray(weights, dtype=np.float64).ravel()
    whole = w == 1.0
    n_whole = int(np.count_nonzero(whole))
    if n_whole == v.size:
        return histogram(v, None)
    if n_whole > v.size // 2:
        k1, s1 = histogram(v[whole], None)
        k2, s2 = _by_argsort(v[~whole], w[~whole])
        return _by_argsort(np.r_[k1, k2], np.r_[s1, s2])
    return _by_argsort(v, w)


def _by_argsort(v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(v)
    s = v[order]
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return s[start].astype(np.float64), np.add.reduceat(w[order], start)


class Histograms:
    """One histogram per block, merged chunk by chunk."""

    def __init__(self, n: int) -> None:
        self.parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n)]
        self.entries = 0

    def add(self, block: int, values: np.ndarray, weights: np.ndarray | None) -> None:
        """Add the valid pixels of one chunk to block ``block``; refuse to hold more than :data:`MAX_ENTRIES`."""
        if values.size == 0:
            return
        parts = self.parts[block]
        parts.append(histogram(values, weights))
        self.entries += parts[-1][0].size
        if len(parts) >= _MERGE_EVERY:
            merged = self.get(block)
            self.entries += merged[0].size - sum(p[0].size for p in parts)
            self.parts[block] = [merged]
        if self.entries > MAX_ENTRIES:
            raise RasterError(
                f"the median, quantile and majority statistics would keep more than {MAX_ENTRIES:,} distinct pixel "
                f"values of the blocks in memory ({MAX_ENTRIES * 16 >> 30} GiB): ask for them on fewer blocks at a "
                "time, or on a raster whose values are rounded (e.g. heights to 0.1 m); sums, means and extremes "
                "need no such memory"
            )

    def get(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """Block ``block``'s distinct values and their summed weights (empty arrays when none)."""
        parts = self.parts[block]
        if not parts:
            return np.zeros(0), np.zeros(0)
        if len(parts) == 1:
            return parts[0]
        keys = np.concatenate([p[0] for p in parts])
        return histogram(keys, np.concatenate([p[1] for p in parts]))


def linear_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """Quantile ``q`` (0-1) of the pixels a histogram of counts stands for (``numpy.percentile``'s rule)."""
    if values.size == 0:
        return float("nan")
    cum = np.cumsum(counts)
    n = float(cum[-1])
    h = (n - 1.0) * q  # numpy's virtual index for its "linear" method, the same operations
    lo = min(max(np.floor(h), 0.0), n - 1.0)
    hi = min(lo + 1.0, n - 1.0)
    gamma = float(h - lo)
    a = float(values[np.searchsorted(cum, lo, side="right")])
    b = float(values[np.searchsorted(cum, hi, side="right")])
    return b - (b - a) * (1.0 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def median(values: np.ndarray, counts: np.ndarray) -> float:
    """Median of the pixels a histogram of counts stands for (the mean of the middle two when even)."""
    if values.size == 0:
        return float("nan")
    cum = np.cumsum(counts)
    n = int(round(float(cum[-1])))
    a = float(values[np.searchsorted(cum, (n - 1) // 2, side="right")])
    b = float(values[np.searchsorted(cum, n // 2, side="right")])
    return (a + b) / 2.0


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Return exactextract's weighted quantile ``q`` (0-1) of distinct sorted ``values`` (see the module notes)."""
    m = values.size
    if m == 0:
        return float("nan")
    cum = np.cumsum(weights)
    s = np.zeros(m)
    s[1:] = np.arange(1, m) * weights[1:] + (m - 1.0) * cum[:-1]
    target = q * (cum[-1] * (m - 1.0))
    right = int(np.searchsorted(s, target, side="right"))
    if right >= m:
        return float(values[-1])
    left = right - 1
    return float(values[left] + (target - s[left]) * (values[right] - values[left]) / (s[right] - s[left]))


def majority(values: np.ndarray, weights: np.ndarray, *, ties: str) -> float:
    """Return the value with the largest weight; on a tie the ``"lowest"`` or ``"highest"`` of the tied values."""
    if values.size == 0:
        return float("nan")
    top = np.flatnonzero(weights == weights.max())
    return float(values[top[0] if ties == "lowest" else top[-1]])


def minority(values: np.ndarray, weights: np.ndarray) -> float:
    """Return the value with the smallest weight; on a tie the lowest of the tied values."""
    if values.size == 0:
        return float("nan")
    return float(values[int(np.argmin(weights))])
