"""Per-block accumulators for the zonal engine: statistics merged chunk by chunk.

Sums, counts, minima and maxima are merged exactly; the standard deviation uses Chan's
parallel update of (weight, mean, M2); medians and categorical counts keep what they need.
Values are accumulated in float64 whatever the raster's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zgc_space.raster._zonal import Chunk

#: Statistics :func:`zgc_space.raster.zonal_stats` knows, in output order.
STATS = ("count", "sum", "mean", "min", "max", "std", "median", "range", "nodata")


class StatsAccumulator:
    """Accumulate weighted statistics of ``n`` blocks from :class:`Chunk` objects."""

    def __init__(self, n: int, stats: tuple[str, ...], *, scale: float = 1.0, offset: float = 0.0) -> None:
        self.stats = stats
        self.scale, self.offset = scale, offset
        self.weight = np.zeros(n)
        self.total = np.zeros(n)
        self.mean = np.zeros(n)
        self.m2 = np.zeros(n)
        self.min = np.full(n, np.inf)
        self.max = np.full(n, -np.inf)
        self.nodata = np.zeros(n)
        self.values: list[list[tuple[np.ndarray, np.ndarray | None]]] | None = (
            [[] for _ in range(n)] if "median" in stats else None
        )

    def add(self, chunk: Chunk) -> None:
        """Merge one chunk into its block's running statistics."""
        b = chunk.block
        self.nodata[b] += chunk.nodata
        if chunk.values.size == 0:
            return
        v = chunk.values
        w = chunk.weights
        if self.scale != 1.0 or self.offset != 0.0 or w is not None or self.values is not None or "std" in self.stats:
            v = v.astype(np.float64)
            if self.scale != 1.0 or self.offset != 0.0:
                v = v * self.scale + self.offset
        if w is None:
            n_c, s_c = float(v.size), float(v.sum(dtype=np.float64))  # raw dtype read, float64 sum
        else:
            n_c, s_c = float(w.sum()), float((v * w).sum())
        self.min[b] = min(self.min[b], float(v.min()))
        self.max[b] = max(self.max[b], float(v.max()))
        if "std" in self.stats and n_c > 0:
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
        if self.values is not None:
            self.values[b].append((v, w))

    @property
    def takes_runs(self) -> bool:
        """Whether :meth:`add_runs` can compute the statistics (no std/median, no scale/offset)."""
        return (self.values is None and "std" not in self.stats and self.scale == 1.0 and self.offset == 0.0)

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

    def _median(self, b: int) -> float:
        parts = self.values[b] if self.values is not None else []
        if not parts:
            return float("nan")
        v = np.concatenate([p[0] for p in parts])
        if all(p[1] is None for p in parts):
            return float(np.median(v))
        w = np.concatenate([p[1] if p[1] is not None else np.ones(p[0].size) for p in parts])
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order])
        return float(v[order][np.searchsorted(cum, cum[-1] / 2.0)])

    def result(self, *, integer_count: bool) -> dict[str, np.ndarray]:
        """Return one array per requested statistic (NaN where a block has no valid pixel)."""
        empty = self.weight <= 0
        out: dict[str, np.ndarray] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for s in self.stats:
                if s == "count":
                    out[s] = np.rint(self.weight).astype(np.int64) if integer_count else self.weight.copy()
                elif s == "sum":
                    out[s] = np.where(empty, np.nan, self.total)
                elif s == "mean":
                    out[s] = np.where(empty, np.nan, self.total / self.weight)
                elif s == "min":
                    out[s] = np.where(empty, np.nan, self.min)
                elif s == "max":
                    out[s] = np.where(empty, np.nan, self.max)
                elif s == "range":
                    out[s] = np.where(empty, np.nan, self.max - self.min)
                elif s == "std":
                    out[s] = np.where(empty, np.nan, np.sqrt(np.maximum(self.m2, 0.0) / self.weight))
                elif s == "median":
                    out[s] = np.array([self._median(b) for b in range(len(self.weight))])
                elif s == "nodata":
                    out[s] = np.rint(self.nodata).astype(np.int64) if integer_count else self.nodata.copy()
        return out


class CategoryAccumulator:
    """Count (or coverage-weight) each class value per block."""

    def __init__(self, n: int) -> None:
        self.counts: list[dict[int, float]] = [{} for _ in range(n)]
        self.nodata = np.zeros(n)

    def add(self, chunk: Chunk) -> None:
        """Merge one chunk's class counts into its block."""
        self.nodata[chunk.block] += chunk.nodata
        if chunk.values.size == 0:
            return
        keys, inv = np.unique(chunk.values, return_inverse=True)
        sums = np.bincount(inv.ravel(), weights=chunk.weights, minlength=keys.size)
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
