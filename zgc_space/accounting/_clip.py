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

import numpy as np
import shapely

__all__ = ["MAX_VERTICES", "clip_pairs"]

#: Pairs whose subject has more vertices than this go to GEOS (padding cost grows with it).
MAX_VERTICES = 256
#: Pairs clipped at once (bounds the temporary arrays: ~40 MB at 16 vertices).
_CHUNK = 65_536


def _rings(geoms: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``x, y`` of shape ``(m, n)`` (exterior rings, open, padded) and the vertex counts."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)  # single-ring polygons: the exterior
    cnt = np.bincount(idx, minlength=len(geoms)) - 1  # the closing vertex is not kept
    start = np.r_[0, np.cumsum(cnt + 1)[:-1]]
    sel = start[None, :] + np.minimum(np.arange(m)[:, None], (cnt - 1)[None, :])
    return coords[sel, 0], coords[sel, 1], cnt


def _turns(x: np.ndarray, y: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(convex, orientation)``: every turn of the ring one sign; +1 anticlockwise, -1 clockwise."""
    m, n = x.shape
    i = np.arange(m)[:, None]
    cols = np.arange(n)[None, :]
    nxt = np.where(i + 1 < cnt[None, :], i + 1, 0)
    prv = np.where(i > 0, i - 1, cnt[None, :] - 1)
    ex, ey = x - x[prv, cols], y - y[prv, cols]
    fx, fy = x[nxt, cols] - x, y[nxt, cols] - y
    cross = np.where(i < cnt[None, :], ex * fy - ey * fx, 0.0)
    convex = (cross >= 0).all(0) | (cross <= 0).all(0)
    twice_area = (x * np.roll(y, -1, 0) - np.roll(x, -1, 0) * y).sum(0)  # padding adds nothing
    return convex, np.where(twice_area >= 0, 1.0, -1.0)


def _clip(sx: np.ndarray, sy: np.ndarray, cx: np.ndarray, cy: np.ndarray, sign: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip padded subjects by padded convex clippers; return ``x, y, count`` of the results."""
    n_pairs = sx.shape[1]
    count = np.full(n_pairs, sx.shape[0])
    k_edges = cx.shape[0]
    cols = np.arange(n_pairs)
    for k in range(k_edges):
        ax, ay = cx[k], cy[k]
        ex, ey = cx[(k + 1) % k_edges] - ax, cy[(k + 1) % k_edges] - ay
        d = (ex * (sy - ay) - ey * (sx - ax)) * sign  # >= 0: on the inner side of this edge
        if not (d < 0).any():
            continue
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
        sx, sy = nx[pad, cols], ny[pad, cols]
    return sx, sy, count


def _polygons(x: np.ndarray, y: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Build polygons from padded rings (repeated vertices dropped; fewer than 3 left: empty)."""
    same = (x == np.roll(x, 1, 0)) & (y == np.roll(y, 1, 0))  # each vertex against the one before
    keep = ~same & (np.arange(x.shape[0])[:, None] < count[None, :])
    n = keep.sum(0)
    ok = n >= 3
    keep &= ok[None, :]
    out = np.empty(x.shape[1], dtype=object)
    out[~ok] = shapely.Polygon()
    if ok.any():
        c, r = np.nonzero(keep.T)  # pair-major order
        ends = np.cumsum(n[ok])
        # close every ring: its first vertex again at its end
        first = np.r_[0, ends[:-1]]
        px, py = x[r, c], y[r, c]
        cx = np.insert(px, ends, px[first])
        cy = np.insert(py, ends, py[first])
        offsets = (np.r_[0, ends + np.arange(1, len(ends) + 1)], np.arange(len(ends) + 1))
        out[ok] = shapely.from_ragged_array(shapely.GeometryType.POLYGON, np.column_stack([cx, cy]), offsets)
    return out


def _single(geoms: np.ndarray) -> np.ndarray:
    """Return ``geoms`` with one-part multipolygons replaced by their polygon."""
    one = (shapely.get_type_id(geoms) == 6) & (shapely.get_num_geometries(geoms) == 1)
    if not one.any():
        return geoms
    out = geoms.copy()
    out[one] = shapely.get_geometry(geoms[one], 0)
    return out


def clip_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(done, geoms)``: ``a ∩ b`` for the pairs this kernel handles (``done``), None elsewhere.

    The pairs not done must go to GEOS (see the module docstring for which they are).
    """
    a, b = _single(np.asarray(a, dtype=object)), _single(np.asarray(b, dtype=object))
    n = len(a)
    out = np.full(n, None, dtype=object)
    done = np.zeros(n, bool)
    if n == 0:
        return done, out
    na = shapely.get_num_coordinates(a) - 1
    nb = shapely.get_num_coordinates(b) - 1
    simple = ((shapely.get_type_id(a) == 3) & (shapely.get_type_id(b) == 3)
              & (shapely.get_num_interior_rings(a) == 0) & (shapely.get_num_interior_rings(b) == 0)
              & (na >= 3) & (nb >= 3) & (na <= MAX_VERTICES) & (nb <= MAX_VERTICES))
    idx = np.flatnonzero(simple)
    if not len(idx):
        return done, out
    # vertex count of each side, sorted so that each chunk pads to a similar width
    idx = idx[np.argsort(na[idx] + nb[idx], kind="stable")]
    for lo in range(0, len(idx), _CHUNK):
        part = idx[lo:lo + _CHUNK]
        done_part, geoms = _clip_chunk(a[part], b[part], na[part], nb[part])
        out[part[done_part]] = geoms[done_part]
        done[part[done_part]] = True
    return done, out


def _clip_chunk(a: np.ndarray, b: np.ndarray, na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ax, ay, _ = _rings(a, int(na.max()))
    bx, by, _ = _rings(b, int(nb.max()))
    a_convex, a_sign = _turns(ax, ay, na)
    b_convex, b_sign = _turns(bx, by, nb)
    # the convex side clips the other; of two convex sides the one with fewer edges clips
    b_clips = b_convex & (~a_convex | (nb <= na))
    a_clips = ~b_clips & a_convex
    done = b_clips | a_clips
    geoms = np.full(len(a), None, dtype=object)
    for clips, (sx, sy, s_n), (cx, cy, c_n, sign), s_convex in (
        (b_clips, (ax, ay, na), (bx, by, nb, b_sign), a_convex),
        (a_clips, (bx, by, nb), (ax, ay, na, a_sign), b_convex),
    ):
        sel = np.flatnonzero(clips)
        if not len(sel):
            continue
        ms, mc = int(s_n[sel].max()), int(c_n[sel].max())
        x, y, count = _clip(sx[:ms, sel], sy[:ms, sel], cx[:mc, sel], cy[:mc, sel], sign[sel])
        res = _polygons(x, y, count)
        check = np.flatnonzero(~s_convex[sel])
        if len(check):
            bad = check[~shapely.is_valid(res[check])]
            done[sel[bad]] = False
        geoms[sel] = res
    return done, geoms
