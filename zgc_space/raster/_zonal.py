"""The zonal engine behind :mod:`zgc_space.raster`: plan, read touched tiles, yield pixel chunks.

Zonal statistics are decode-bound, so the engine

1. turns every block's bounds into a pixel window of the raster (blocks already in the
   raster's CRS),
2. lists the raster's *internal tiles* the block geometries intersect (never the whole raster),
3. decodes each of those tiles exactly once (:func:`zgc_space._tiles.decoded`, optionally in
   background threads, each with its own dataset handle),
4. either reduces the blocks' pixel runs straight from each tile (``center`` with sums, counts,
   minima and maxima: :func:`center_spans` + :func:`zgc_space._tiles.iter_run_stats`), or, in
   the calling thread, for every block touching a tile, selects the block's pixels inside that
   tile (a mask for ``center`` / ``all_touched``, exact pixel coverage fractions for ``exact``)
   and hands the valid values, their weights and the nodata weight to the caller, chunk by
   chunk, in a fixed order (so results are deterministic).

Pixel rules: ``center`` uses a numpy scanline fill with GDAL's rule (tested equal to
rasterio's rasteriser); ``all_touched`` uses rasterio's rasteriser; ``exact`` integrates the
polygon's rings over each pixel row (Green's theorem), giving every pixel's covered fraction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize

from zgc_space.errors import RasterError
from zgc_space.raster._exact import coverages
from zgc_space.raster._tiles import decoded

logger = logging.getLogger(__name__)

METHODS = ("center", "all_touched", "exact")

#: Blocks whose pixel window is at most this large get their mask computed once, whole.
_MAX_CACHED_PIXELS = 1 << 22
#: Masks of all blocks are computed in one pass when their windows hold at most this many pixels.
_MAX_BATCH_PIXELS = 1 << 26
#: Exact coverages (float64) likewise, up to this many pixels (128 MiB).
_MAX_BATCH_COVERAGE = 1 << 24


@dataclass(frozen=True)
class Chunk:
    """The pixels of one block inside one internal tile.

    ``values`` are the valid (not nodata, not masked) raw pixel values selected; ``weights``
    their coverage fractions (``None`` means 1 each); ``nodata`` the summed weight of the
    block's pixels that were nodata or masked; ``extra`` the weight raster's values there.
    """

    block: int
    values: np.ndarray
    weights: np.ndarray | None
    nodata: float
    extra: np.ndarray | None = None  # the weight raster's values at the same pixels (float64, NaN: nodata)


@dataclass(frozen=True)
class Plan:
    """Pixel windows per block and, per touched tile, the blocks that touch it."""

    windows: np.ndarray  # (n, 4) int64: row0, col0, row1, col1 (clipped; empty when row1 <= row0)
    tiles: list[tuple[tuple[int, int, int, int], list[int]]]  # tile window, blocks inside
    grid: tuple[int, int]  # tile (chunk) height and width
    reads: list[tuple[int, int, int, int]]  # per tile, the window read: the tile clipped to its blocks' windows


def _grid(ds: Any, band: int) -> tuple[int, int]:
    """Chunk height and width: the internal tiles, or bands of strips for striped files."""
    bh, bw = ds.block_shapes[band - 1]
    if bw >= ds.width and bh < 256:  # striped: group strips into ~256-row chunks
        bh = bh * max(1, -(-256 // bh))
    return int(bh), int(bw)


def check_transform(ds: Any) -> Affine:
    """Return the dataset transform; refuse rotated grids (the engine needs north-up pixels)."""
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise RasterError(
            f"raster {ds.name!r} has a rotated geotransform; warp it to a north-up grid first "
            "(gdalwarp) before computing zonal statistics"
        )
    return cast("Affine", t)


def plan(ds: Any, geoms: np.ndarray, *, band: int, method: str) -> Plan:
    """Compute every block's clipped pixel window and the tiles its geometry intersects."""
    t = check_transform(ds)
    a, c, e, f = t.a, t.c, t.e, t.f
    bounds = shapely.bounds(geoms)
    pad = 0 if method == "center" else 1  # all_touched / exact may reach the edge pixel
    th, tw = _grid(ds, band)
    with np.errstate(invalid="ignore"):
        cols = np.sort(np.c_[(bounds[:, 0] - c) / a, (bounds[:, 2] - c) / a], axis=1)
        rows = np.sort(np.c_[(bounds[:, 3] - f) / e, (bounds[:, 1] - f) / e], axis=1)
    finite = np.isfinite(cols).all(axis=1) & np.isfinite(rows).all(axis=1)  # empty geometries are not
    cols, rows = np.where(finite[:, None], cols, 0.0), np.where(finite[:, None], rows, 0.0)
    windows = np.c_[
        np.maximum(np.floor(rows[:, 0]) - pad, 0), np.maximum(np.floor(cols[:, 0]) - pad, 0),
        np.minimum(np.ceil(rows[:, 1]) + pad, ds.height), np.minimum(np.ceil(cols[:, 1]) + pad, ds.width),
    ].astype(np.int64)
    windows[~finite | (windows[:, 2] <= windows[:, 0]) | (windows[:, 3] <= windows[:, 1])] = 0
    # every (block, tile) pair of the blocks' windows, at once; blocks spanning several tiles keep
    # only the tiles their geometry intersects (L-shaped or sparse blocks)
    live = np.flatnonzero(windows[:, 2] > windows[:, 0])
    wl = windows[live]
    tr0, tr1 = wl[:, 0] // th, (wl[:, 2] - 1) // th + 1
    tc0, tc1 = wl[:, 1] // tw, (wl[:, 3] - 1) // tw + 1
    ncol = tc1 - tc0
    count = (tr1 - tr0) * ncol
    rep = np.repeat(np.arange(live.size), count)
    k = np.arange(rep.size) - np.repeat(np.cumsum(count) - count, count)
    blk, tr, tc = live[rep], tr0[rep] + k // ncol[rep], tc0[rep] + k % ncol[rep]
    multi = np.flatnonzero(count[rep] > 1)
    if multi.size:
        mr, mc = tr[multi], tc[multi]
        xa, xb = c + mc * tw * a, c + np.minimum((mc + 1) * tw, ds.width) * a
        ya, yb = f + mr * th * e, f + np.minimum((mr + 1) * th, ds.height) * e
        boxes = shapely.box(np.minimum(xa, xb), np.minimum(ya, yb), np.maximum(xa, xb), np.maximum(ya, yb))
        keep = np.ones(rep.size, dtype=bool)
        keep[multi] = shapely.intersects(geoms[blk[multi]], boxes)
        blk, tr, tc = blk[keep], tr[keep], tc[keep]
    key = tr * (-(-ds.width // tw)) + tc
    order = np.lexsort((blk, key))
    blk, tr, tc, key = blk[order], tr[order], tc[order], key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
    tiles = []
    for (a_, b_), members in zip(np.c_[tr[first], tc[first]].tolist(),
                                 np.split(blk, first[1:]) if first.size else [], strict=True):
        window = (a_ * th, b_ * tw, min((a_ + 1) * th, ds.height), min((b_ + 1) * tw, ds.width))
        tiles.append((window, members.tolist()))
    # per tile, the part read: the tile clipped to its blocks' windows
    reads = np.zeros((first.size, 4), dtype=np.int64)
    if first.size:
        wb = windows[blk]
        reads[:, 0] = np.maximum(tr[first] * th, np.minimum.reduceat(wb[:, 0], first))
        reads[:, 1] = np.maximum(tc[first] * tw, np.minimum.reduceat(wb[:, 1], first))
        reads[:, 2] = np.minimum(np.minimum((tr[first] + 1) * th, ds.height), np.maximum.reduceat(wb[:, 2], first))
        reads[:, 3] = np.minimum(np.minimum((tc[first] + 1) * tw, ds.width), np.maximum.reduceat(wb[:, 3], first))
    read = [(r0, c0, r1, c1) for r0, c0, r1, c1 in reads.tolist()]
    return Plan(windows=windows, tiles=tiles, grid=(th, tw), reads=read)


def _edges(geom: Any) -> np.ndarray:
    """All ring segments of a (multi)polygon as an (m, 4) array x1, y1, x2, y2."""
    parts = shapely.get_parts(geom)
    rings = list(shapely.get_exterior_ring(parts))
    for p in parts:
        rings += list(shapely.get_interior_ring(p, range(shapely.get_num_interior_rings(p))))
    xy, idx = shapely.get_coordinates(np.asarray(rings, dtype=object), return_index=True)
    same = idx[:-1] == idx[1:]
    return cast("np.ndarray", np.c_[xy[:-1][same], xy[1:][same]])


def center_mask(edges: np.ndarray, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Pixels of a window whose centre lies inside the polygon (even-odd scanline fill).

    The rule is GDAL's rasteriser's (``all_touched=False``): scanline through pixel centres,
    half-open edge spans ``y1 <= y < y2``, horizontal edges ignored, a pixel filled when
    ``floor(x_in + 0.5) <= col < floor(x_out + 0.5)``. Pure numpy: no GeoJSON round trip.
    """
    h, w = shape
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    x1 = (edges[:, 0] - c) / a
    x2 = (edges[:, 2] - c) / a
    y1 = (edges[:, 1] - f) / e
    y2 = (edges[:, 3] - f) / e
    flip = y1 > y2
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    keep = (y1 < y2) & (y2 > 0.5 - 1) & (y1 < h)
    x1, x2, y1, y2 = x1[keep], x2[keep], y1[keep], y2[keep]
    out = np.zeros((h, w), dtype=bool)
    if x1.size == 0:
        return out
    r_lo = np.minimum(np.maximum(np.ceil(y1 - 0.5), 0), h).astype(np.int64)  # first row with centre >= y1
    r_hi = np.minimum(np.maximum(np.ceil(y2 - 0.5), 0), h).astype(np.int64)  # rows with centre < y2
    counts = np.maximum(r_hi - r_lo, 0)
    total = int(counts.sum())
    if total == 0:
        return out
    edge = np.repeat(np.arange(x1.size), counts)
    row = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + r_lo[edge]
    yc = row + 0.5
    xs = (yc - y1[edge]) * (x2[edge] - x1[edge]) / (y2[edge] - y1[edge]) + x1[edge]
    order = np.lexsort((xs, row))
    row, xs = row[order], xs[order]
    # crossings per row are even (closed rings); pair them in order
    x_in, x_out, r = xs[0::2], xs[1::2], row[0::2]
    start = np.minimum(np.maximum(np.floor(x_in + 0.5), 0), w).astype(np.int64)
    end = np.minimum(np.maximum(np.floor(x_out + 0.5), 0), w).astype(np.int64)
    ok = start < end
    flat = np.zeros(h * (w + 1), dtype=np.int32)
    np.add.at(flat, r[ok] * (w + 1) + start[ok], 1)
    np.add.at(flat, r[ok] * (w + 1) + end[ok], -1)
    out[:] = np.cumsum(flat.reshape(h, w + 1), axis=1)[:, :w] > 0
    return out


def _sort_crossings(major: np.ndarray, minor: np.ndarray, x: np.ndarray, n_minor: int) -> np.ndarray:
    """Order of the crossings by ``major``, ``minor``, then x: one argsort of a combined key.

    (``np.lexsort`` on the three keys costs several times more.) x enters by its rank, so the
    key is exact; beyond int64 range the three-key sort is used.
    """
    n = x.size
    if n == 0 or (int(major.max()) + 1) * n_minor * n >= 1 << 62:
        return np.lexsort((x, minor, major))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(x)] = np.arange(n)
    return np.argsort((major * n_minor + minor) * n + rank)


def center_spans(geoms: np.ndarray, windows: np.ndarray, transform: Affine) -> tuple[np.ndarray, ...]:
    """Every block's pixels (centre rule) as runs along raster rows: ``block, row, col0, col1``.

    One vectorised pass over all blocks' ring segments: scanline crossings through the pixel
    centres of each block's window, sorted and paired (even-odd), each pair the half-open
    column run ``[col0, col1)`` of :func:`center_mask`. Rows and columns are the raster's, runs
    are clipped to the block's window, empty runs dropped; sorted by row, block and column.
    """
    live = np.flatnonzero(windows[:, 2] > windows[:, 0])
    if live.size == 0:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
    parts, part_of = shapely.get_parts(geoms[live], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    same = coord_of[:-1] == coord_of[1:]
    blk = live[part_of[ring_of[coord_of[:-1][same]]]]
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    r0, c0 = windows[blk, 0], windows[blk, 1]
    hh, ww = (windows[:, 2] - windows[:, 0]), (windows[:, 3] - windows[:, 1])
    x1 = (xy[:-1][same, 0] - c) / a - c0
    x2 = (xy[1:][same, 0] - c) / a - c0
    y1 = (xy[:-1][same, 1] - f) / e - r0
    y2 = (xy[1:][same, 1] - f) / e - r0
    flip = y1 > y2
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    h = hh[blk]
    keep = (y1 < y2) & (y2 > -0.5) & (y1 < h)
    x1, x2, y1, y2, blk, h = x1[keep], x2[keep], y1[keep], y2[keep], blk[keep], h[keep]
    r_lo = np.minimum(np.maximum(np.ceil(y1 - 0.5), 0), h).astype(np.int64)
    r_hi = np.minimum(np.maximum(np.ceil(y2 - 0.5), 0), h).astype(np.int64)
    counts = np.maximum(r_hi - r_lo, 0)
    edge = np.repeat(np.arange(x1.size), counts)
    row = np.arange(edge.size) - np.repeat(np.cumsum(counts) - counts, counts) + r_lo[edge]
    xs = (row + 0.5 - y1[edge]) * (x2[edge] - x1[edge]) / (y2[edge] - y1[edge]) + x1[edge]
    eb = blk[edge]
    row += windows[eb, 0]  # raster rows from here on
    order = _sort_crossings(row, eb, xs, windows.shape[0])
    row, xs, eb = row[order], xs[order], eb[order]
    x_in, x_out, r, b = xs[0::2], xs[1::2], row[0::2], eb[0::2]
    w = ww[b]
    start = np.minimum(np.maximum(np.floor(x_in + 0.5), 0), w).astype(np.int64)
    end = np.minimum(np.maximum(np.floor(x_out + 0.5), 0), w).astype(np.int64)
    ok = start < end
    b, r, start, end = b[ok], r[ok], start[ok], end[ok]
    return b, r, start + windows[b, 1], end + windows[b, 1]


def center_masks(geoms: np.ndarray, windows: np.ndarray, transform: Affine) -> dict[int, np.ndarray]:
    """:func:`center_mask` of many blocks at once, each over its own pixel window.

    The runs of :func:`center_spans` are marked +1/-1 in one flat buffer (row by row, each
    row's marks cancel within the row, so a single cumulative sum fills every window); the
    masks returned are views into it.
    """
    live = np.flatnonzero(windows[:, 2] > windows[:, 0])
    out: dict[int, np.ndarray] = {}
    if live.size == 0:
        return out
    b, row, start, end = center_spans(geoms, windows, transform)
    hh, ww = (windows[:, 2] - windows[:, 0]), (windows[:, 3] - windows[:, 1])
    sizes = np.where(windows[:, 2] > windows[:, 0], hh * (ww + 1), 0)
    offset = np.cumsum(sizes) - sizes
    flat = np.zeros(int(sizes.sum()), dtype=np.int8)
    base = offset[b] + (row - windows[b, 0]) * (ww[b] + 1) - windows[b, 1]
    np.add.at(flat, base + start, 1)
    np.add.at(flat, base + end, -1)
    filled = np.cumsum(flat, dtype=np.int8) > 0
    for i in live.tolist():
        o, hi, wi = int(offset[i]), int(hh[i]), int(ww[i])
        out[i] = filled[o:o + hi * (wi + 1)].reshape(hi, wi + 1)[:, :wi]
    return out


def _coverage(geom: Any, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Exact fraction of each pixel of a window covered by ``geom`` (float64, 0..1).

    The one-block case of :func:`zgc_space._exact.coverages` (Green's theorem per pixel row),
    for blocks too large to cache whole, read window by window.
    """
    h, w = shape
    if h <= 0 or w <= 0:
        return np.zeros((max(h, 0), max(w, 0)))
    found = coverages(np.array([geom], dtype=object), np.array([[0, 0, h, w]]), transform)
    return found.get(0, np.zeros((h, w)))


def _valid(values: np.ndarray, nodata: float | None, floating: bool) -> np.ndarray | None:
    """Pixels that are not nodata and not NaN (``None`` when all are)."""
    nan_nodata = nodata is not None and np.isnan(nodata)
    if nodata is None or nan_nodata:
        ok = values == values if floating else None  # NaN != NaN
    else:
        ok = values != nodata
        if floating:
            ok &= values == values
    return None if ok is None or ok.all() else ok


def iter_chunks(
    ds: Any,
    geoms: np.ndarray,
    the_plan: Plan,
    *,
    band: int,
    method: str,
    nodata: float | None,
    threads: int | None = None,
    progress: bool = False,
    min_coverage: float = 0.0,
    weights: WeightSource | None = None,
) -> Iterator[Chunk]:
    """Yield one :class:`Chunk` per (tile, block) pair, tiles in row-major order.

    ``threads`` background threads decode tiles (see :func:`zgc_space._tiles.decoded`).
    With ``exact``, pixels covered by less than ``min_coverage`` are left out (kept from
    any coverage above 0 by default). ``weights`` is a second raster on the same grid whose
    values at the selected pixels come with each chunk (``Chunk.extra``).
    """
    floating = np.issubdtype(np.dtype(ds.dtypes[band - 1]), np.floating)
    windows = the_plan.windows
    t = ds.transform

    # per-block pixel weights over the block's whole window, computed once (while the worker
    # threads decode the next tiles) and dropped after the block's last tile
    remaining: dict[int, int] = {}
    for _, blocks in the_plan.tiles:
        for b in blocks:
            remaining[b] = remaining.get(b, 0) + 1
    cache: dict[int, np.ndarray] = {}
    hh, ww = windows[:, 2] - windows[:, 0], windows[:, 3] - windows[:, 1]
    cells = np.maximum(hh, 0) * (np.maximum(ww, 0) + 1)
    if method == "center" and int(cells.sum()) <= _MAX_BATCH_PIXELS:
        cache = center_masks(geoms, windows, t)
    elif method == "exact":  # float64: batch the blocks cached whole, up to a bound
        whole = np.where((hh * ww <= _MAX_CACHED_PIXELS)[:, None], windows, 0)
        if int(cells[whole[:, 2] > 0].sum()) <= _MAX_BATCH_COVERAGE:
            cache = coverages(geoms, whole, t)

    def pixel_weights(b: int, win: tuple[int, int, int, int]) -> np.ndarray:
        """Mask (bool) or coverage (float) of block ``b`` over pixel window ``win``."""
        br0, bc0, br1, bc1 = windows[b]
        whole = (br1 - br0) * (bc1 - bc0) <= _MAX_CACHED_PIXELS
        r0, c0, r1, c1 = (br0, bc0, br1, bc1) if whole else win
        arr = cache.get(b) if whole else None
        if arr is None:
            sub_t = Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e)
            shape = (r1 - r0, c1 - c0)
            if method == "exact":
                arr = _coverage(geoms[b], sub_t, shape)
            elif method == "center":
                arr = center_mask(_edges(geoms[b]), sub_t, shape)
            else:
                arr = rasterize([(geoms[b], 1)], out_shape=shape, transform=sub_t, all_touched=True,
                                dtype="uint8").astype(bool)
            if whole:
                cache[b] = arr
        return arr[win[0] - r0:win[2] - r0, win[1] - c0:win[3] - c0]

    def select(tile: tuple[Any, ...], wtile: tuple[Any, ...] | None) -> list[Chunk]:
        """Cut one decoded tile into per-block chunks.

        Runs in the calling thread: rasterio's rasterizer toggles warning filters, which is not
        thread-safe.
        """
        k, (r0, c0, r1, c1), data, valid = tile
        blocks = the_plan.tiles[k][1]
        out = []
        for b in blocks:
            br0, bc0, br1, bc1 = windows[b]
            rr0, cc0, rr1, cc1 = max(r0, br0), max(c0, bc0), min(r1, br1), min(c1, bc1)
            if rr1 > rr0 and cc1 > cc0:
                sl = (slice(rr0 - r0, rr1 - r0), slice(cc0 - c0, cc1 - c0))
                wgt = pixel_weights(b, (rr0, cc0, rr1, cc1))
                if method != "exact":
                    sel = wgt
                elif min_coverage > 0:  # compared in float32, as exactextract stores coverage
                    sel = (wgt > 0) & (wgt.astype(np.float32) >= np.float32(min_coverage))
                else:
                    sel = wgt > 0
                vals = data[sl][sel]
                # nodata tested on the block's pixels only (a fraction of the tile)
                ok = _valid(vals, nodata, floating)
                if valid is not None:
                    ok = valid[sl][sel] if ok is None else ok & valid[sl][sel]
                cw = wgt[sel] if method == "exact" else None
                extra = weights.values(wtile, sl, sel) if weights is not None else None
                if ok is None:
                    out.append(Chunk(b, vals, cw, 0.0, extra))
                elif cw is not None:
                    out.append(Chunk(b, vals[ok], cw[ok], float(cw[~ok].sum()), None if extra is None else extra[ok]))
                else:
                    out.append(Chunk(b, vals[ok], None, float(ok.size - np.count_nonzero(ok)),
                                     None if extra is None else extra[ok]))
            remaining[b] -= 1
            if remaining[b] == 0:
                cache.pop(b, None)
        return out

    tiles = decoded(ds, the_plan, band=band, threads=threads, progress=progress)
    if weights is None:
        for tile in tiles:
            yield from select(tile, None)
        return
    wtiles = _named(decoded(weights.ds, the_plan, band=weights.band, threads=threads), weights.ds.name)
    for tile, wtile in zip(tiles, wtiles, strict=True):
        yield from select(tile, wtile)


def _named(tiles: Iterator[tuple[Any, ...]], name: str) -> Iterator[tuple[Any, ...]]:
    """Yield the tiles of the weights raster; a read failure names that file."""
    try:
        yield from tiles
    except rasterio.errors.RasterioError as exc:
        raise RasterError(
            f"cannot read the pixels of weights raster {name!r} ({exc}); the file is truncated or corrupt: get it "
            "again, or check it with gdalinfo -checksum"
        ) from exc


@dataclass(frozen=True)
class WeightSource:
    """A weight raster on the value raster's grid: its dataset, band, nodata, scale and offset."""

    ds: Any
    band: int
    nodata: float | None
    scale: float = 1.0
    offset: float = 0.0

    def values(self, wtile: tuple[Any, ...] | None, sl: tuple[slice, slice], sel: np.ndarray) -> np.ndarray:
        """Return the weights (float64; NaN where nodata, NaN or masked) of the pixels ``sel`` of window ``sl``."""
        assert wtile is not None
        _, _, data, valid = wtile
        raw = data[sl][sel]
        out: np.ndarray = raw.astype(np.float64) * self.scale + self.offset
        ok = _valid(raw, self.nodata, raw.dtype.kind == "f")
        if valid is not None:
            ok = valid[sl][sel] if ok is None else ok & valid[sl][sel]
        if ok is not None:
            out[~ok] = np.nan
        return out
