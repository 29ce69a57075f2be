"""Pairwise intersection of simple polygons by a convex one, vectorised over the pairs in numpy.

GEOS's overlay costs 15-30 µs per pair even for two quadrilaterals: building its topology graph
dominates. Most straddling pairs of an overlay of parcel layers are small simple polygons one of
which is convex (a plan plot, a rectangular parcel). For those, clipping the other polygon by the
convex one's half-planes (Sutherland-Hodgman) gives the intersection with a few array operations
per clip edge for every pair at once.

Correctness, and what falls back to GEOS:

- The clipper must be convex (every turn of its ring the same sign, collinear allowed; exact
  arithmetic on the input coordinates, no tolerance) and both polygons single-ring polygons.
- Convex subject: the result is the convex intersection, always a valid polygon.
- Non-convex subject: the result is right unless it should fall apart into several polygons, in
  which case the ring runs back along the clip edge between them; such rings are invalid, so
  every result of a non-convex subject is checked with ``shapely.is_valid`` and the invalid ones
  go to GEOS.
- Pairs with holes, multipolygons, more than :data:`MAX_VERTICES` vertices, or no convex side go
  to GEOS.

Vertices are held as ``(vertices, pairs)`` arrays padded by repeating the last vertex (a
zero-length edge changes nothing in the clipping), so that each operation runs along the pairs.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import shapely

__all__ = ["JIT_MIN_PAIRS", "MAX_VERTICES", "Deferred", "Rings", "clip_pairs"]

logger = logging.getLogger("zgc_space.accounting")

#: Pairs whose subject has more vertices than this go to GEOS (padding cost grows with it).
MAX_VERTICES = 256
#: Once this process has clipped this many pairs, the compiled kernel (:mod:`._clip_jit`) is loaded
#: where numba is installed (``zgc_space[fast]``) and takes every call after. Its start-up (0.2-0.3 s
#: import, 0.4-0.5 s to load its cache, 1.5 s to compile the first time) is repaid by about 1.5 µs
#: a pair: a one-shot run of 50,000 parcels (~100,000 pairs) would lose by it, a Beijing-sized
#: run, a partitioned one or a notebook accounting again and again gains.
JIT_MIN_PAIRS = 400_000
_PAIRS_SEEN = [0]
#: Pairs clipped at once (bounds the temporary arrays: ~40 MB at 16 vertices).
_CHUNK = 65_536


def _clip(sx: np.ndarray, sy: np.ndarray, cx: np.ndarray, cy: np.ndarray, sign: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clip padded subjects by padded convex clippers; return ``x, y, count, touched`` of the results.

    ``touched`` is False where no clip edge cut the subject (it lies in the clipper).

    Each clip edge works on the pairs it cuts only (a piece straddling one edge of a plot is
    untouched by the other three).
    """
    count = np.full(sx.shape[1], sx.shape[0])
    touched = np.zeros(sx.shape[1], bool)
    k_edges = cx.shape[0]
    for k in range(k_edges):
        ax, ay = cx[k], cy[k]
        ex, ey = cx[(k + 1) % k_edges] - ax, cy[(k + 1) % k_edges] - ay
        d = (ex * (sy - ay) - ey * (sx - ax)) * sign  # >= 0: on the inner side of this edge
        act = np.flatnonzero((d < 0).any(0) & (count > 0))
        if not len(act):
            continue
        nx, ny, n_act = _half_plane(sx[:, act], sy[:, act], d[:, act])
        width = max(sx.shape[0], nx.shape[0])
        if width > sx.shape[0]:  # widen everyone, repeating the last row (the padding rule)
            grow = width - sx.shape[0]
            sx = np.concatenate([sx, np.repeat(sx[-1:], grow, 0)])
            sy = np.concatenate([sy, np.repeat(sy[-1:], grow, 0)])
        elif width > nx.shape[0]:
            grow = width - nx.shape[0]
            nx = np.concatenate([nx, np.repeat(nx[-1:], grow, 0)])
            ny = np.concatenate([ny, np.repeat(ny[-1:], grow, 0)])
        sx[:, act], sy[:, act] = nx, ny
        count[act] = n_act
        touched[act] = True
    return sx, sy, count, touched


def _half_plane(sx: np.ndarray, sy: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Sutherland-Hodgman step: keep the part of each ring where ``d >= 0``."""
    n_pairs = sx.shape[1]
    xj, yj, dj = np.roll(sx, -1, 0), np.roll(sy, -1, 0), np.roll(d, -1, 0)
    inside_j = dj >= 0
    crosses = (d >= 0) != inside_j
    t = np.divide(d, d - dj, out=np.zeros_like(d), where=crosses)
    m = sx.shape[0]
    ox, oy = np.empty((2 * m, n_pairs)), np.empty((2 * m, n_pairs))
    ox[0::2], ox[1::2] = sx + t * (xj - sx), xj
    oy[0::2], oy[1::2] = sy + t * (yj - sy), yj
    keep = np.empty((2 * m, n_pairs), bool)
    keep[0::2], keep[1::2] = crosses, inside_j
    rank = np.cumsum(keep, axis=0, dtype=np.int32)
    count = rank[-1]
    width = max(int(count.max()), 1)
    r, c = np.nonzero(keep)
    nx, ny = np.zeros((width, n_pairs)), np.zeros((width, n_pairs))
    nx[rank[r, c] - 1, c] = ox[r, c]
    ny[rank[r, c] - 1, c] = oy[r, c]
    pad = np.minimum(np.arange(width)[:, None], np.maximum(count - 1, 0)[None, :])
    cols = np.arange(n_pairs)[None, :]
    return nx[pad, cols], ny[pad, cols], count


def _polygons(x: np.ndarray, y: np.ndarray, count: np.ndarray, defer: np.ndarray | None = None,
              store: Deferred | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Build polygons from padded rings (repeated vertices dropped; fewer than 3 left: empty); and their areas.

    The area is the shoelace sum on coordinates taken relative to the ring's first vertex (as
    GEOS does), so that the products stay small in a projected CRS.
    """
    same = (x == np.roll(x, 1, 0)) & (y == np.roll(y, 1, 0))  # each vertex against the one before
    keep = ~same & (np.arange(x.shape[0])[:, None] < count[None, :])
    n = keep.sum(0)
    ok = n >= 3
    keep &= ok[None, :]
    out = np.empty(x.shape[1], dtype=object)
    out[~ok] = shapely.Polygon()
    area = np.zeros(x.shape[1])
    if ok.any():
        c, r = np.nonzero(keep.T)  # pair-major order
        out[ok], area[ok] = _emit(x[r, c], y[r, c], n[ok], None if defer is None else defer[ok], store)
    return out, area


def _emit(px: np.ndarray, py: np.ndarray, n: np.ndarray, defer: np.ndarray | None, store: Deferred | None
          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_ring_polygons`, except that the rings where ``defer`` is set go to ``store`` (their slots come back)."""
    if store is None or defer is None or not defer.any():
        return _ring_polygons(px, py, n)
    first = np.r_[0, np.cumsum(n)[:-1]]
    area = _ring_areas(px, py, first, n)
    out = np.empty(len(n), dtype=object)
    by_vertex = np.repeat(defer, n)
    out[defer] = store.add(px[by_vertex], py[by_vertex], n[defer])
    if not defer.all():
        out[~defer] = _ring_polygons(px[~by_vertex], py[~by_vertex], n[~defer])[0]
    return out, area


class Deferred:
    """Polygons of the clipping kernel not built yet: their open rings, one after another.

    A deferred result stands in its geometry array as a Python ``int`` (its slot here) until
    :meth:`build` replaces the slots by polygons, so that the overlay's index arithmetic (select,
    sort, concatenate) runs on it unchanged. Building a GEOS polygon costs about 0.7 µs, freeing it
    0.2 µs: the pieces of the last overlay step are built only when they are read.
    """

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._n: list[np.ndarray] = []
        self.count = 0
        self._lock = threading.Lock()

    def add(self, px: np.ndarray, py: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Keep the rings ``px, py`` (``n`` vertices each); return their slots (object array of ints)."""
        with self._lock:  # the overlay may clip in threads
            slots = np.arange(self.count, self.count + len(n)).astype(object)
            self.count += len(n)
            self._x.append(px)
            self._y.append(py)
            self._n.append(np.asarray(n, dtype=np.int64))
        return slots

    def reset(self) -> None:
        """Forget every ring (the results that held their slots were discarded)."""
        with self._lock:
            self._x, self._y, self._n, self.count = [], [], [], 0

    def build(self, geoms: np.ndarray) -> np.ndarray:
        """Return ``geoms`` with every slot replaced by its polygon (a new array; ``geoms`` is left as it is)."""
        geoms = np.asarray(geoms, dtype=object)
        at = np.flatnonzero(~shapely.is_geometry(geoms))
        if len(at):
            at = at[np.fromiter((type(g) is int for g in geoms[at]), bool, len(at))]
        if not len(at):
            return geoms
        slots = geoms[at].astype(np.int64)
        with self._lock:  # one array each from now on: later builds (conflicts, then the pieces) reuse it
            self._x, self._y, self._n = ([np.concatenate(v)] for v in (self._x, self._y, self._n))
        x, y, n = self._x[0], self._y[0], self._n[0]
        take = _ragged_take(np.r_[0, np.cumsum(n)[:-1]][slots], n[slots])
        out = geoms.copy()
        out[at] = _ring_polygons(x[take], y[take], n[slots])[0]
        return out

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _ragged_take(starts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Positions of ``n[k]`` consecutive items from ``starts[k]``, for every ``k`` one after another."""
    return np.repeat(starts - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(n.sum())


def _ring_polygons(px: np.ndarray, py: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygons and areas of open rings stored one after another (``n`` vertices each, all >= 3)."""
    ends = np.cumsum(n)
    # close every ring: its first vertex again at its end
    first = np.r_[0, ends[:-1]]
    cx = np.insert(px, ends, px[first])
    cy = np.insert(py, ends, py[first])
    offsets = (np.r_[0, ends + np.arange(1, len(ends) + 1)], np.arange(len(ends) + 1))
    return (shapely.from_ragged_array(shapely.GeometryType.POLYGON, np.column_stack([cx, cy]), offsets),
            _ring_areas(px, py, first, n))


def _ring_areas(px: np.ndarray, py: np.ndarray, first: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Unsigned areas of open rings stored one after another (``first`` vertex and ``n`` vertices each)."""
    ring = np.repeat(np.arange(len(n)), n)
    x, y = px - px[first][ring], py - py[first][ring]
    nxt = np.arange(len(px)) + 1
    last = first + n - 1
    nxt[last] = first  # each ring's last vertex is followed by its first
    twice = x * y[nxt] - x[nxt] * y
    return np.abs(np.add.reduceat(twice, first)) / 2 if len(first) else np.zeros(0)


def _single(geoms: np.ndarray) -> np.ndarray:
    """Return ``geoms`` with one-part multipolygons replaced by their polygon."""
    one = (shapely.get_type_id(geoms) == 6) & (shapely.get_num_geometries(geoms) == 1)
    if not one.any():
        return geoms
    out = geoms.copy()
    out[one] = shapely.get_geometry(geoms[one], 0)
    return out


class Rings:
    """Exterior rings of single-ring polygons, flat: coordinates, first vertex, vertex count.

    Also whether each ring is convex (every turn one sign, collinear allowed), its orientation
    (+1 anticlockwise) and ``simple``: convex, finite, turning once around (the turns add up to
    ±2π, no spike turning back on itself) and of non-zero area. Such a polygon is valid, so
    :func:`shapely.is_valid` need only look at the others. Built once per layer; pairs gather
    from it.
    """

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        geoms = _single(self.geoms)
        n = len(geoms)
        nv = shapely.get_num_coordinates(geoms) - 1
        self.ok = ((shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
                   & (nv >= 3) & (nv <= MAX_VERTICES))
        self.count = np.where(self.ok, nv, 0)
        self.convex = np.zeros(n, bool)
        self.simple = np.zeros(n, bool)
        self.sign = np.ones(n)
        self.area = np.zeros(n)
        idx = np.flatnonzero(self.ok)
        self.start = np.zeros(n, dtype=np.int64)
        if not len(idx):
            self.x = self.y = np.zeros(0)
            return
        coords = shapely.get_coordinates(geoms[idx])  # single-ring polygons: the exterior ring, closed
        c = self.count[idx]
        first = np.r_[0, np.cumsum(c + 1)[:-1]]
        self.start[idx] = first
        self.x, self.y = coords[:, 0], coords[:, 1]
        # turn at every open vertex: (v - prev) × (next - v), prev/next wrapping inside the ring
        ring = np.repeat(np.arange(len(idx)), c)
        j = np.arange(len(ring)) - np.repeat(np.r_[0, np.cumsum(c)[:-1]], c)
        at = first[ring] + j
        prv = first[ring] + (j - 1) % c[ring]
        nxt = first[ring] + (j + 1) % c[ring]
        x, y = self.x, self.y
        cross = (x[at] - x[prv]) * (y[nxt] - y[at]) - (y[at] - y[prv]) * (x[nxt] - x[at])
        lo = np.r_[0, np.cumsum(c)[:-1]]
        self.convex[idx] = (np.minimum.reduceat(cross, lo) >= 0) | (np.maximum.reduceat(cross, lo) <= 0)
        x0, y0 = x[first][ring], y[first][ring]  # relative to the first vertex: small products
        twice = (x[at] - x0) * (y[at + 1] - y0) - (x[at + 1] - x0) * (y[at] - y0)
        area2 = np.add.reduceat(twice, lo)
        self.sign[idx] = np.where(area2 >= 0, 1.0, -1.0)
        self.area[idx] = np.abs(area2) / 2
        dot = (x[at] - x[prv]) * (x[nxt] - x[at]) + (y[at] - y[prv]) * (y[nxt] - y[at])
        # a repeated vertex turns by atan2(0, 0) = 0 and loses its corner's turn: such rings go to GEOS
        turn = np.add.reduceat(np.arctan2(cross, dot), lo)
        spike = np.add.reduceat(((cross == 0) & (dot < 0)).astype(np.int64), lo) > 0
        finite = np.add.reduceat((~np.isfinite(x[at] + y[at])).astype(np.int64), lo) == 0
        self.simple[idx] = (self.convex[idx] & finite & ~spike & (area2 != 0)
                            & (np.abs(np.abs(turn) - 2 * np.pi) < 1e-6))

    @classmethod
    def reuse(cls, geoms: np.ndarray, parent: Rings, parent_idx: np.ndarray) -> Rings:
        """Rings of ``geoms``, taken from ``parent`` where ``geoms[k]`` is ``parent.geoms[parent_idx[k]]`` itself.

        Pieces that are whole survey parcels are the parcel objects: their rings are not read again.
        """
        geoms = np.asarray(geoms, dtype=object)
        pidx = np.asarray(parent_idx, dtype=np.int64)
        has = np.flatnonzero(pidx >= 0)
        same = np.zeros(len(geoms), bool)
        if len(has):
            same[has] = (np.fromiter(map(id, geoms[has]), np.int64, len(has))
                         == np.fromiter(map(id, parent.geoms[pidx[has]]), np.int64, len(has)))
        new = np.flatnonzero(~same)
        fresh = cls(geoms[new])
        out = cls.__new__(cls)
        out.geoms = geoms
        take = np.maximum(pidx, 0)
        for name in ("ok", "count", "convex", "simple", "sign", "area", "start"):
            kind = getattr(fresh, name).dtype
            values = getattr(parent, name)[take] if len(parent.geoms) else np.zeros(len(geoms), kind)
            values[new] = getattr(fresh, name) + len(parent.x) if name == "start" else getattr(fresh, name)
            setattr(out, name, values)
        out.x, out.y = np.concatenate([parent.x, fresh.x]), np.concatenate([parent.y, fresh.y])
        return out

    def padded(self, which: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``x, y`` of shape ``(m, len(which))``, each ring padded with its last vertex."""
        sel = self.start[which][None, :] + np.minimum(np.arange(m)[:, None], (self.count[which] - 1)[None, :])
        return self.x[sel], self.y[sel]


def clip_pairs(ra: Rings, ia: np.ndarray, rb: Rings, ib: np.ndarray, *, store: Deferred | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(done, geoms, area)``: ``a[ia] ∩ b[ib]`` and its area for the pairs this kernel handles.

    ``geoms`` is None and ``area`` NaN for the others. ``ra`` and ``rb`` are the :class:`Rings`
    of the two layers ``a`` and ``b``. Where one lies inside the other, the result is that
    geometry object itself.

    The pairs not done must go to GEOS (see the module docstring for which they are). With
    ``store``, the results of convex subjects cut by the clipper are not built: they hold their
    slot in ``store`` (see :class:`Deferred`).
    """
    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    n = len(ia)
    out = np.full(n, None, dtype=object)
    done = np.zeros(n, bool)
    area = np.full(n, np.nan)
    if n == 0:
        return done, out, area
    na, nb = ra.count[ia], rb.count[ib]
    ca, cb = ra.convex[ia], rb.convex[ib]
    # the convex side clips the other; of two convex sides the larger clips (a polygon inside the
    # other then comes back untouched, as itself, with nothing built), of two equal ones the one
    # with fewer edges
    sa, sb = ra.area[ia], rb.area[ib]
    b_clips = ra.ok[ia] & rb.ok[ib] & cb & (~ca | (sb > sa) | ((sb == sa) & (nb <= na)))
    a_clips = ra.ok[ia] & rb.ok[ib] & ~b_clips & ca
    for clips, (rs, i_s, ns, s_convex), (rc, i_c, nc) in (
        (b_clips, (ra, ia, na, ca), (rb, ib, nb)),
        (a_clips, (rb, ib, nb, cb), (ra, ia, na)),
    ):
        sel = np.flatnonzero(clips)
        _PAIRS_SEEN[0] += len(sel)
        # the compiled kernel gives the numpy kernel's results bit for bit: once loaded, it takes every call
        if len(sel) and (_JIT or _PAIRS_SEEN[0] >= JIT_MIN_PAIRS) and _jit() is not None:
            for lo in range(0, len(sel), _CHUNK):
                part = sel[lo:lo + _CHUNK]
                ok, res, res_area = _clip_compiled(rs, i_s[part], rc, i_c[part], s_convex[part], store)
                out[part[ok]], area[part[ok]], done[part[ok]] = res[ok], res_area[ok], True
            continue
        # sorted by size, so that each chunk pads to a similar width
        sel = sel[np.argsort(ns[sel] + nc[sel], kind="stable")]
        for lo in range(0, len(sel), _CHUNK):
            part = sel[lo:lo + _CHUNK]
            sx, sy = rs.padded(i_s[part], int(ns[part].max()))
            cx, cy = rc.padded(i_c[part], int(nc[part].max()))
            x, y, count, touched = _clip(sx, sy, cx, cy, rc.sign[i_c[part]])
            res = np.empty(len(part), dtype=object)
            res_area = np.empty(len(part))
            res[~touched] = rs.geoms[i_s[part[~touched]]]  # lies in the clipper: the subject itself
            res_area[~touched] = rs.area[i_s[part[~touched]]]
            res[touched], res_area[touched] = _polygons(x[:, touched], y[:, touched], count[touched],
                                                        s_convex[part][touched], store)
            ok = np.ones(len(part), bool)
            check = np.flatnonzero(~s_convex[part] & touched)
            if len(check):
                ok[check] = shapely.is_valid(res[check])
            out[part[ok]] = res[ok]
            area[part[ok]] = res_area[ok]
            done[part[ok]] = True
    return done, out, area


_JIT: list[object] = []


def _jit() -> object:
    """Return the compiled kernel's module, or None where numba is not installed or does not compile here.

    The first call compiles it (or loads it from numba's cache) on two squares.
    """
    if not _JIT:
        try:
            from zgc_space.accounting import _clip_jit

            sq = np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)], dtype=object)
            _clip_jit.clip(Rings(sq), np.array([0]), Rings(sq), np.array([1]))
            _JIT.append(_clip_jit)
        except ImportError:
            _JIT.append(None)
        except Exception as exc:  # numba installed but unable to compile here: the numpy kernel does the work
            logger.warning("the compiled clipping kernel is not available (%s); using the numpy one", exc)
            _JIT.append(None)
    return _JIT[0]


def _clip_compiled(rs: Rings, i_s: np.ndarray, rc: Rings, i_c: np.ndarray, s_convex: np.ndarray,
                   store: Deferred | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`clip_pairs`'s work for one kind of pairs by the compiled kernel: ``(ok, geoms, area)``."""
    from zgc_space.accounting import _clip_jit

    x, y, offsets, n, res_area, touched, fits = _clip_jit.clip(rs, i_s, rc, i_c)
    res = np.empty(len(i_s), dtype=object)
    inside = fits & ~touched
    res[inside] = rs.geoms[i_s[inside]]  # lies in the clipper: the subject itself
    res_area[inside] = rs.area[i_s[inside]]
    built = np.flatnonzero(fits & touched & (n >= 3))
    res[fits & touched & (n < 3)] = shapely.Polygon()
    if len(built):
        take = _ragged_take(offsets[built], n[built])
        res[built], res_area[built] = _emit(x[take], y[take], n[built], s_convex[built], store)
    ok = fits.copy()
    check = np.flatnonzero(~s_convex & touched & fits)
    if len(check):
        ok[check] = shapely.is_valid(res[check])
    return ok, res, res_area
