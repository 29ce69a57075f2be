"""Tile reading for the zonal engine, and the run-length fast path of the ``center`` rule.

:func:`decoded` decodes, in row-major order, the part of every touched internal tile that
the blocks need (:func:`read_windows`), in the calling thread or in background threads.

:func:`iter_run_stats` reduces decoded tiles straight from the blocks' pixel runs (one run =
one raster row of one block, from :func:`zgc_space._zonal.center_spans`): per tile, nodata
pixels are found once, then ``numpy.ufunc.reduceat`` sums (in float64) and takes the minimum
and maximum of every run, whatever the number of blocks. No per-block mask is built and no
pixel is copied, so the work beyond decoding stays small.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window

#: Jobs touching at least this many tiles decode in two background threads by default.
THREADED_TILES = 128


def read_windows(the_plan: Any) -> list[tuple[int, int, int, int]]:
    """Per touched tile, the pixel window read: the tile clipped to its blocks' windows."""
    windows = the_plan.windows
    out = []
    for (tr0, tc0, tr1, tc1), blocks in the_plan.tiles:
        w = windows[blocks]
        out.append((max(tr0, int(w[:, 0].min())), max(tc0, int(w[:, 1].min())),
                    min(tr1, int(w[:, 2].max())), min(tc1, int(w[:, 3].max()))))
    return out


class _Reader:
    """Thread-local dataset handles on one raster file (the caller's own handle when serial)."""

    def __init__(self, ds: Any, *, serial: bool) -> None:
        self._path = ds.name
        self._serial = ds if serial else None
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def dataset(self) -> Any:
        if self._serial is not None:
            return self._serial
        ds = getattr(self._local, "ds", None)
        if ds is None:
            ds = rasterio.open(self._path)
            self._local.ds = ds
            with self._lock:
                self._opened.append(ds)
        return ds

    def close(self) -> None:
        for ds in self._opened:
            ds.close()


def uses_mask(ds: Any, band: int) -> bool:
    """Whether the band's validity comes from an internal mask or an alpha band."""
    flags = ds.mask_flag_enums[band - 1]
    return MaskFlags.per_dataset in flags or MaskFlags.alpha in flags


def decoded(ds: Any, the_plan: Any, *, band: int, threads: int | None = None,
            progress: bool = False) -> Iterator[tuple]:
    """Yield ``(k, (r0, c0, r1, c1), data, valid)`` per touched tile ``k``, in plan order.

    ``valid`` is the internal mask (``None`` when the band has none). ``threads`` background
    threads decode (``0``: the calling thread; ``None``: 0 below :data:`THREADED_TILES` tiles,
    else 2), each with its own dataset handle, a bounded number of tiles in flight.
    """
    if threads is None:
        threads = 0 if len(the_plan.tiles) < THREADED_TILES else 2
    reader = _Reader(ds, serial=threads <= 0)
    use_mask = uses_mask(ds, band)
    wins = read_windows(the_plan)

    def read(k: int) -> tuple:
        r0, c0, r1, c1 = wins[k]
        src = reader.dataset()
        win = Window(c0, r0, c1 - c0, r1 - r0)
        data = src.read(band, window=win)
        valid = src.read_masks(band, window=win) > 0 if use_mask else None
        return k, wins[k], data, valid

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(wins), desc="tiles", unit="tile")
    try:
        if threads <= 0:
            for k in range(len(wins)):
                yield read(k)
                if bar is not None:
                    bar.update()
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            pending: deque = deque(pool.submit(read, k) for k in range(min(len(wins), 4 * threads)))
            nxt = len(pending)
            while pending:
                tile = pending.popleft().result()
                if nxt < len(wins):
                    pending.append(pool.submit(read, nxt))
                    nxt += 1
                yield tile
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
        reader.close()


def _runs_per_tile(runs: tuple[np.ndarray, ...], the_plan: Any, tile_shape: tuple[int, int],
                   ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Cut the runs at tile column edges and group them by plan tile.

    Returns the cut runs (block, row, col0, col1) sorted by plan tile, and the offsets of each
    plan tile's runs (``len(tiles) + 1``).
    """
    blk, row, c0, c1 = runs
    th, tw = tile_shape
    first, last = c0 // tw, (c1 - 1) // tw
    n = last - first + 1
    rep = np.repeat(np.arange(blk.size), n)
    tcol = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n) + first[rep]
    blk, row = blk[rep], row[rep]
    c0, c1 = np.maximum(c0[rep], tcol * tw), np.minimum(c1[rep], (tcol + 1) * tw)
    keys = np.array([(r // th) * (1 << 32) + (c // tw) for (r, c, _, _), _ in the_plan.tiles], dtype=np.int64)
    key = (row // th) * (1 << 32) + tcol
    order = np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.asarray(np.searchsorted(key, np.r_[keys, np.iinfo(np.int64).max]))
    # runs in a tile the plan does not list cannot occur (a pixel centre inside a block lies
    # in a tile the block intersects); the searchsorted bounds skip them if they did
    return (blk[order], row[order], c0[order], c1[order]), bounds


def _reduce_runs(flat: np.ndarray, ls: np.ndarray, le: np.ndarray, op: Any, dtype: Any) -> np.ndarray:
    """``op`` over ``flat[ls[i]:le[i]]`` for every run (all runs non-empty)."""
    n = flat.size
    idx = np.empty(2 * ls.size, dtype=np.intp)
    idx[0::2] = ls
    idx[1::2] = np.minimum(le, n - 1)  # reduceat needs indices < n: runs ending at n fixed below
    out = op.reduceat(flat, idx, dtype=dtype)[0::2]
    tail = (le == n) & (ls < n - 1)
    if tail.any():
        out[tail] = op(out[tail], flat[n - 1])
    return out


def _zero_bad(flat: np.ndarray, bad: np.ndarray | None, ls: np.ndarray, le: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Zero the ``bad`` pixels in place; return their number per run and their positions."""
    where = np.flatnonzero(bad) if bad is not None else np.zeros(0, dtype=np.intp)
    if where.size == 0:
        return np.zeros(ls.size, dtype=np.int64), where
    flat[where] = 0
    pos = np.searchsorted(where, np.concatenate([le, ls]))
    return pos[:ls.size] - pos[ls.size:], where


def iter_run_stats(ds: Any, the_plan: Any, runs: tuple[np.ndarray, ...], *, band: int, nodata: float | None,
                   minmax: bool, threads: int | None = None, progress: bool = False) -> Iterator[tuple]:
    """Yield per tile ``(block, count, total, n_nodata, vmin, vmax)`` arrays, one entry per run.

    ``total`` is the float64 sum of the run's valid pixels; ``vmin`` / ``vmax`` (``None`` unless
    ``minmax``) are meaningless where ``count`` is 0.
    """
    dtype = np.dtype(ds.dtypes[band - 1])
    floating = np.issubdtype(dtype, np.floating)
    check_nodata = nodata is not None and not np.isnan(nodata)
    if floating:
        lo, hi = -np.inf, np.inf
    else:
        info = np.iinfo(dtype)
        lo, hi = info.min, info.max
    (blk, row, c0, c1), bounds = _runs_per_tile(runs, the_plan, the_plan.grid)
    for k, (r0, col0, _, _), data, valid in decoded(ds, the_plan, band=band, threads=threads, progress=progress):
        i, j = bounds[k], bounds[k + 1]
        if i == j:
            continue
        w = data.shape[1]
        flat = data.reshape(-1)
        ls = (row[i:j] - r0) * w + (c0[i:j] - col0)
        le = ls + (c1[i:j] - c0[i:j])
        # nodata pixels are zeroed in place (the buffer is ours); NaNs are searched only when
        # they are nodata or when a run's sum comes out NaN (a pass saved on most rasters)
        bad = flat == nodata if check_nodata else None
        if floating and not check_nodata:
            bad = np.isnan(flat)
        if valid is not None:
            bad = ~valid.reshape(-1) if bad is None else bad | ~valid.reshape(-1)
        n_bad, where = _zero_bad(flat, bad, ls, le)
        total = _reduce_runs(flat, ls, le, np.add, np.float64)
        if floating and check_nodata and np.isnan(total).any():
            bad = np.isnan(flat) if bad is None else bad | np.isnan(flat)
            n_bad, where = _zero_bad(flat, bad, ls, le)
            total = _reduce_runs(flat, ls, le, np.add, np.float64)
        length = le - ls
        vmin = vmax = None
        if minmax:
            if where.size:
                flat[where] = hi
            vmin = _reduce_runs(flat, ls, le, np.minimum, None)
            if where.size:
                flat[where] = lo
            vmax = _reduce_runs(flat, ls, le, np.maximum, None)
        yield blk[i:j], length - n_bad, total, n_bad, vmin, vmax
