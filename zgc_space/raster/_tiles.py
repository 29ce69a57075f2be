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

import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, cast

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window

#: Jobs touching at least this many tiles decode in two background threads by default.
THREADED_TILES = 128


def read_windows(the_plan: Any) -> list[tuple[int, int, int, int]]:
    """Per touched tile, the pixel window read: the tile clipped to its blocks' windows."""
    return list(the_plan.reads)


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


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_PID = [os.getpid()]
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """Return the process-wide pool of ``threads`` decode threads (created once, then kept).

    A fresh thread pays ~10 ms of GDAL/PROJ set-up on its first ``rasterio.open``; a kept
    one does not (after a fork the child makes its own pool).
    """
    with _POOLS_LOCK:
        if _POOLS_PID[0] != os.getpid():
            _POOLS.clear()
            _POOLS_PID[0] = os.getpid()
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zgc-decode")
        return pool


def decoded(ds: Any, the_plan: Any, *, band: int, threads: int | None = None, progress: bool = False,
            wins: list[tuple[int, int, int, int]] | None = None) -> Iterator[tuple[Any, ...]]:
    """Yield ``(k, (r0, c0, r1, c1), data, valid)`` per touched tile ``k``, in plan order.

    ``valid`` is the internal mask (``None`` when the band has none). ``threads`` background
    threads decode (``0``: the calling thread; ``None``: 0 below :data:`THREADED_TILES` tiles,
    else 2), each with its own dataset handle, a bounded number of tiles in flight.
    """
    if threads is None:
        threads = 0 if len(the_plan.tiles) < THREADED_TILES else 2
    reader = _Reader(ds, serial=threads <= 0)
    pending: deque[Any] = deque()
    use_mask = uses_mask(ds, band)
    if wins is None:
        wins = read_windows(the_plan)

    def read(k: int) -> tuple[Any, ...]:
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
        pool = _pool(threads)
        pending = deque(pool.submit(read, k) for k in range(min(len(wins), 4 * threads)))
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
        # stopped early (error, generator closed): no worker may still read when the handles close
        if pending:
            for fut in pending:
                fut.cancel()
            wait(pending)
        if bar is not None:
            bar.close()
        reader.close()


class _TileRuns:
    """The runs cut at tile column edges, grouped by plan tile, as flat window positions.

    Positions are in the window :func:`read_windows` gives for the run's tile.
    ``bounds[k]:bounds[k + 1]`` are tile ``k``'s runs. ``idx[2 i], idx[2 i + 1]`` are run
    ``i``'s first and past-the-end positions, the end clipped to the window's last pixel
    (``ufunc.reduceat`` needs indices inside the array); ``at_end`` flags the runs ending at
    the window's last pixel, ``tail`` those of them whose reduceat misses it.
    """

    def __init__(self, runs: tuple[np.ndarray, ...], the_plan: Any, wins: list[tuple[int, int, int, int]]) -> None:
        blk, row, c0, c1 = runs
        th, tw = the_plan.grid
        first, last = c0 // tw, (c1 - 1) // tw
        n = last - first + 1
        rep = np.repeat(np.arange(blk.size), n)
        tcol = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n) + first[rep]
        blk, row = blk[rep], row[rep]
        c0, c1 = np.maximum(c0[rep], tcol * tw), np.minimum(c1[rep], (tcol + 1) * tw)
        # tile by tile (a stable sort of runs already in row order: row-major inside a tile,
        # so reduceat sweeps each window once and searchsorted gets increasing needles); the
        # order of each block's runs, and so its float sums, is deterministic
        ntc = int(the_plan.windows[:, 3].max()) // tw + 1
        keys = np.array([(r // th) * ntc + (c // tw) for (r, c, _, _), _ in the_plan.tiles], dtype=np.int64)
        tkey = (row // th) * ntc + tcol
        # (a pixel centre inside a block lies in a tile the block intersects, so every run's
        # tile is planned; runs elsewhere, if any, are dropped)
        tile = np.minimum(np.searchsorted(keys, tkey), max(keys.size - 1, 0))
        planned = keys[tile] == tkey if keys.size else np.zeros(tkey.size, dtype=bool)
        tile = np.where(planned, tile, keys.size)
        order = np.argsort(tile.astype(np.int16 if keys.size < 1 << 15 else np.int64), kind="stable")
        order = order[:int(planned.sum())]
        self.blk, row, c0, c1, tile = blk[order], row[order], c0[order], c1[order], tile[order]
        self.bounds = np.searchsorted(tile, np.arange(keys.size + 1))
        w = np.array(wins, dtype=np.int64).reshape(-1, 4)
        width = (w[:, 3] - w[:, 1])[tile]
        size = ((w[:, 2] - w[:, 0]) * (w[:, 3] - w[:, 1]))[tile]
        self.length = c1 - c0
        ls = row - w[tile, 0]  # in place from here: fewer large temporaries
        ls *= width
        ls += c0
        ls -= w[tile, 1]
        le = ls + self.length
        size -= 1
        self.idx = np.empty(2 * ls.size, dtype=np.intp)
        self.idx[0::2] = ls
        np.minimum(le, size, out=self.idx[1::2])
        self.at_end = le > size  # runs ending at the window's last pixel
        self.tail = self.at_end & (ls < size)  # ... whose reduceat misses that pixel

    def reduce(self, flat: np.ndarray, i: int, j: int, op: Any, dtype: Any) -> np.ndarray:
        """``op`` over every run of rows ``i:j`` (one tile; ``flat`` its window)."""
        out = op.reduceat(flat, self.idx[2 * i:2 * j], dtype=dtype)[0::2]
        tail = self.tail[i:j]
        if tail.any():
            out[tail] = op(out[tail], flat[-1])
        return cast("np.ndarray", out)

    def zero_bad(self, flat: np.ndarray, bad: np.ndarray | None, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero the ``bad`` pixels in place; return their number per run and their positions."""
        where = np.flatnonzero(bad) if bad is not None else np.zeros(0, dtype=np.intp)
        if where.size == 0:
            return np.zeros(j - i, dtype=np.int64), where
        flat[where] = 0
        pos = np.searchsorted(where, self.idx[2 * i:2 * j])
        n_bad = pos[1::2] - pos[0::2]
        if bad is not None and bad[-1]:  # the window's last pixel, cut from the runs ending there
            n_bad[self.at_end[i:j]] += 1
        return n_bad, where


def iter_run_stats(ds: Any, the_plan: Any, runs: tuple[np.ndarray, ...], *, band: int, nodata: float | None,
                   minmax: bool, threads: int | None = None, progress: bool = False) -> Iterator[tuple[Any, ...]]:
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
    wins = read_windows(the_plan)
    tr = _TileRuns(runs, the_plan, wins)
    for k, _, data, valid in decoded(ds, the_plan, band=band, threads=threads, progress=progress, wins=wins):
        i, j = int(tr.bounds[k]), int(tr.bounds[k + 1])
        if i == j:
            continue
        flat = data.reshape(-1)
        # nodata pixels are zeroed in place (the buffer is ours); NaNs are searched only when
        # they are nodata or when a run's sum comes out NaN (a pass saved on most rasters)
        bad = flat == nodata if check_nodata else None
        if floating and not check_nodata:
            bad = np.isnan(flat)
        if valid is not None:
            bad = ~valid.reshape(-1) if bad is None else bad | ~valid.reshape(-1)
        n_bad, where = tr.zero_bad(flat, bad, i, j)
        total = tr.reduce(flat, i, j, np.add, np.float64)
        if floating and check_nodata and np.isnan(total).any():
            bad = np.isnan(flat) if bad is None else bad | np.isnan(flat)
            n_bad, where = tr.zero_bad(flat, bad, i, j)
            total = tr.reduce(flat, i, j, np.add, np.float64)
        vmin = vmax = None
        if minmax:
            if where.size:
                flat[where] = hi
            vmin = tr.reduce(flat, i, j, np.minimum, None)
            if where.size:
                flat[where] = lo
            vmax = tr.reduce(flat, i, j, np.maximum, None)
        yield tr.blk[i:j], tr.length[i:j] - n_bad, total, n_bad, vmin, vmax
