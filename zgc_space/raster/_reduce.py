"""Per-block accumulators for the zonal engine: statistics merged chunk by chunk.

Sums, counts, minima and maxima are merged exactly; the standard deviation uses Chan's
parallel update of (weight, mean, M2); weighted sums multiply coverage by the weight raster's
value; medians, quantiles and majorities keep a histogram per block
(:mod:`zgc_space.raster._distribution`); categorical counts a dict per block.
Values are accumulated in float64 whatever the raster's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zgc_space.raster._distribution import (
    Histograms,
    linear_quantile,
    majority,
    median,
    minority,
    weighted_quantile,
)
from zgc_space.raster._names import DISTRIBUTION, RUN_STATS, Stat
from zgc_space.raster._zonal import Chunk


class StatsAccumulator:
    """Accumulate weighted statistics of ``n`` blocks from :class:`Chunk` objects.

    ``stats`` are parsed statistics (:func:`zgc_space.raster._names.parse_stats`); ``exact``
    says the chunk weights are coverage fractions (quantiles and majority then follow
    exactextract, else rasterstats); ``default_weight`` replaces a missing weight-raster value
    (``None``: the weighted statistics of that block are NaN, as in exactextract); ``integer``
    says the raster holds integers (no scale or offset): exactextract returns quantiles in the
    raster's type, so ``exact`` quantiles are then truncated toward zero as it does.
    """

    def __init__(self, n: int, stats: tuple[Stat, ...], *, scale: float = 1.0, offset: float = 0.0,
                 exact: bool = False, default_weight: float | None = None, integer: bool = False) -> None:
        self.stats = stats
        kinds = {s.kind for s in stats}
        self.kinds = kinds
        self.scale, self.offset, self.exact, self.default_weight = scale, offset, exact, default_weight
        self.integer = integer and scale == 1.0 and offset == 0.0
        self.weight = np.zeros(n)
        self.total = np.zeros(n)
        self.mean = np.zeros(n)
        self.m2 = np.zeros(n)
        self.min = np.full(n, np.inf)
        self.max = np.full(n, -np.inf)
        self.nodata = np.zeros(n)
        self.w_weight, self.w_total = np.zeros(n), np.zeros(n)
        #: pixels per block whose weight-raster value is nodata
        self.w_missing = np.zeros(n, dtype=np.int64)
        self.hist = Histograms(n) if kinds & DISTRIBUTION else None

    def add(self, chunk: Chunk) -> None:
        """Merge one chunk into its block's running statistics."""
        b = chunk.block
        self.nodata[b] += chunk.nodata
        if chunk.values.size == 0:
            return
        v = chunk.values
        w = chunk.weights
        if self.scale != 1.0 or self.offset != 0.0 or w is not None or "std" in self.kinds or chunk.extra is not None:
            v = v.astype(np.float64)
            if self.scale != 1.0 or self.offset != 0.0:
                v = v * self.scale + self.offset
        if w is None:
            n_c, s_c = float(v.size), float(v.sum(dtype=np.float64))  # raw dtype read, float64 sum
        else:
            n_c, s_c = float(w.sum()), float((v * w).sum())
        self.min[b] = min(self.min[b], float(v.min()))
        self.max[b] = max(self.max[b], float(v.max()))
        if "std" in self.kinds and n_c > 0:
            m_c = s_c / n_c
            d = v - m_c
            q_c = float((d * d * w).sum()) if w is not None else float((d * d).sum())
            n_a = self.weight[b]
            delta = m_c - self.mean[b]
            tot = n_a + n_c
            self.mean[b] += delta * n_c / tot
            self.m2[b] += q_c + delta * delta * n_a * n_c / tot
        self.weight[b] += n_c
        self.total[b] += s_c
        if chunk.extra is not None:
            ww = chunk.extra
            missing = np.isnan(ww)
            if missing.any():
                self.w_missing[b] += int(np.count_nonzero(missing))
                if self.default_weight is not None:
                    ww = np.where(missing, self.default_weight, ww)
            cw = ww if w is None else ww * w
            self.w_weight[b] += float(cw.sum())
            self.w_total[b] += float((cw * v).sum())
        if self.hist is not None:  # raw values unless scaled: float32 sorts faster than float64
            self.hist.add(b, chunk.values if self.scale == 1.0 and self.offset == 0.0 else v, w)

    @property
    def takes_runs(self) -> bool:
        """Whether :meth:`add_runs` can compute the statistics (sums, counts, extremes; no scale/offset)."""
        return self.kinds <= RUN_STATS and self.scale == 1.0 and self.offset == 0.0

    def add_runs(self, parts: list[tuple[Any, ...]]) -> None:
        """Merge the per-run results of :func:`zgc_space._tiles.iter_run_stats` (all tiles)."""
        if not parts:
            return
        n = self.weight.size
        blk = np.concatenate([p[0] for p in parts])
        count = np.concatenate([p[1] for p in parts])
        self.weight += np.bincount(blk, weights=count, minlength=n)
        self.total += np.bincount(blk, weights=np.concatenate([p[2] for p in parts]), minlength=n)
        self.nodata += np.bincount(blk, weights=np.concatenate([p[3] for p in parts]), minlength=n)
        if parts[0][4] is not None:
            some = count > 0
            np.minimum.at(self.min, blk[some], np.concatenate([p[4] for p in parts])[some].astype(np.float64))
            np.maximum.at(self.max, blk[some], np.concatenate([p[5] for p in parts])[some].astype(np.float64))

    def _one(self, stat: Stat, x: np.ndarray, w: np.ndarray) -> float:
        if stat.kind in {"variety", "unique"}:
            return float(x.size)
        if stat.kind == "majority":
            return majority(x, w, ties="highest" if self.exact else "lowest")
        if stat.kind == "minority":
            return minority(x, w)
        if stat.kind == "median" and not self.exact:
            return median(x, w)
        q = 0.5 if stat.kind == "median" else stat.q  # median, percentile, quantile
        if not self.exact:
            return linear_quantile(x, w, q)
        value = weighted_quantile(x, w, q)
        return float(np.trunc(value)) if self.integer else value

    def _distributions(self) -> dict[str, np.ndarray]:
        """Every histogram statistic, block by block (each block's histogram merged once)."""
        assert self.hist is not None
        wanted = [s for s in self.stats if s.kind in DISTRIBUTION]
        table = np.empty((len(wanted), self.weight.size))
        for b in range(self.weight.size):
            x, w = self.hist.get(b)
            for i, stat in enumerate(wanted):
                table[i, b] = self._one(stat, x, w)
        return {s.column: table[i].astype(np.int64) if s.kind in {"variety", "unique"} else table[i]
                for i, s in enumerate(wanted)}

    def result(self, *, integer_count: bool) -> dict[str, np.ndarray]:
        """One array per requested statistic, keyed by column name.

        A block with no valid pixel gets count, sum, weighted sum, variety and unique 0 (the
        empty sum), every other statistic NaN.
        """
        empty = self.weight <= 0
        out: dict[str, np.ndarray] = {}
        found = self._distributions() if self.hist is not None else {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for stat in self.stats:
                s, col = stat.kind, stat.column
                if s == "count":
                    out[col] = np.rint(self.weight).astype(np.int64) if integer_count else self.weight.copy()
                elif s == "sum":
                    out[col] = self.total.copy()
                elif s == "mean":
                    out[col] = np.where(empty, np.nan, self.total / self.weight)
                elif s == "min":
                    out[col] = np.where(empty, np.nan, self.min)
                elif s == "max":
                    out[col] = np.where(empty, np.nan, self.max)
                elif s == "range":
                    out[col] = np.where(empty, np.nan, self.max - self.min)
                elif s == "std":
                    out[col] = np.where(empty, np.nan, np.sqrt(np.maximum(self.m2, 0.0) / self.weight))
                elif s == "nodata":
                    out[col] = np.rint(self.nodata).astype(np.int64) if integer_count else self.nodata.copy()
                elif s == "weighted_sum":
                    out[col] = self.w_total.copy()
                elif s == "weighted_mean":
                    out[col] = np.where(self.w_weight != 0, self.w_total / self.w_weight, np.nan)
                else:
                    out[col] = found[col]
        return out


class CategoryAccumulator:
    """Count (or coverage-weight) each class value per block (integer rasters, or floats holding whole numbers)."""

    def __init__(self, n: int) -> None:
        self.counts: list[dict[int, float]] = [{} for _ in range(n)]
        self.nodata = np.zeros(n)
        #: valid pixels of a float raster that are not whole numbers (then refused), and one of them
        self.fractional = 0
        self.example: float | None = None

    def add(self, chunk: Chunk) -> None:
        """Merge one chunk's class counts into its block."""
        self.nodata[chunk.block] += chunk.nodata
        if chunk.values.size == 0:
            return
        keys, inv = np.unique(chunk.values, return_inverse=True)
        sums = np.bincount(inv.ravel(), weights=chunk.weights, minlength=keys.size)
        if keys.dtype.kind == "f":  # a float raster may hold class codes: whole numbers only
            whole = np.isfinite(keys) & (keys == np.round(keys)) & (np.abs(keys) < 2.0**53)
            if not whole.all():
                self.fractional += int(np.count_nonzero(~whole[inv.ravel()]))
                self.example = float(keys[~whole][0]) if self.example is None else self.example
                keys, sums = keys[whole], sums[whole]
        acc = self.counts[chunk.block]
        for k, s in zip(keys.tolist(), sums.tolist(), strict=True):
            acc[int(k)] = acc.get(int(k), 0.0) + s


#: The highest building height a height raster may hold (the tallest building is 828 m).
MAX_HEIGHT_M = 1000.0


class FloorAccumulator:
    """Per block: Σ coverage × floors, Σ coverage of built pixels, of valid and of all pixels."""

    def __init__(self, n: int, *, to_m: float, scale: float, offset: float, storey_m: float, min_m: float) -> None:
        self.floors, self.built, self.valid, self.nodata = (np.zeros(n) for _ in range(4))
        self.to_m, self.scale, self.offset, self.storey, self.min_m = to_m, scale, offset, storey_m, min_m
        #: pixels under the blocks whose height is negative, infinite or above MAX_HEIGHT_M (then refused)
        self.negative = self.absurd = 0
        self.example: float | None = None

    def add(self, chunk: Chunk) -> None:
        b, w = chunk.block, chunk.weights
        self.nodata[b] += chunk.nodata
        if chunk.values.size == 0:
            return
        h = (chunk.values.astype(np.float64) * self.scale + self.offset) * self.to_m
        negative, absurd = h < 0, ~np.isfinite(h) | (h > MAX_HEIGHT_M)
        if negative.any() or absurd.any():
            self.negative += int(np.count_nonzero(negative))
            self.absurd += int(np.count_nonzero(absurd))
            self.example = float(h[negative | absurd][0])
            h = np.where(negative | absurd, 0.0, h)
        built = h >= self.min_m
        floors = np.where(built, np.maximum(1.0, np.floor(h / self.storey + 1e-9)), 0.0)
        one = np.ones(h.size) if w is None else w
        self.floors[b] += float((floors * one).sum())
        self.built[b] += float(one[built].sum())
        self.valid[b] += float(one.sum())
