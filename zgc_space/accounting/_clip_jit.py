"""The clipping kernel of :mod:`._clip`, compiled with numba (installed with ``zgc_space[fast]``).

Same arithmetic, same results: Sutherland-Hodgman of each subject ring by the half-planes of its
convex clipper, in the clipper's own edge order, crossing points interpolated as in
:func:`._clip._half_plane`, a vertex dropped where it repeats the one before it (cyclically, as
:func:`._clip._polygons` does) and the area summed relative to the first kept vertex. The numpy
kernel spends most of its time on temporaries of the padded ``(vertices, pairs)`` arrays; here each
pair is clipped in a small scratch buffer (about 10 ms for 93,000 pairs against 100-250 ms).

Numba compiles the function on its first call (about 1.5 s, then cached next to this file: about
0.4 s to load in a new process) and its import takes 0.3 s, so :mod:`._clip` loads it only once
the process has clipped many pairs (:data:`._clip.JIT_MIN_PAIRS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["clip"]


def _kernel(sx: np.ndarray, sy: np.ndarray, s_start: np.ndarray, s_count: np.ndarray,
            cx: np.ndarray, cy: np.ndarray, c_start: np.ndarray, c_count: np.ndarray, c_sign: np.ndarray,
            i_s: np.ndarray, i_c: np.ndarray, cap: np.ndarray, out_x: np.ndarray, out_y: np.ndarray,
            out_n: np.ndarray, out_area: np.ndarray, touched: np.ndarray, fits: np.ndarray) -> None:
    # compiled by numba (see _compiled); the tests compare its results with the numpy kernel's
    size = 4 * (int(s_count.max()) + int(c_count.max())) + 8 if len(s_count) and len(c_count) else 8
    bx = np.empty(size)
    by = np.empty(size)
    tx = np.empty(size)
    ty = np.empty(size)
    for k in range(len(i_s)):
        a = i_s[k]
        c = i_c[k]
        n = s_count[a]
        for j in range(n):
            bx[j] = sx[s_start[a] + j]
            by[j] = sy[s_start[a] + j]
        m = c_count[c]
        sign = c_sign[c]
        hit = False
        ok = True
        for e in range(m):
            ax = cx[c_start[c] + e]
            ay = cy[c_start[c] + e]
            ex = cx[c_start[c] + (e + 1) % m] - ax
            ey = cy[c_start[c] + (e + 1) % m] - ay
            outside = False
            for j in range(n):
                if (ex * (by[j] - ay) - ey * (bx[j] - ax)) * sign < 0:
                    outside = True
                    break
            if not outside:
                continue
            hit = True
            cnt = 0
            for j in range(n):
                jn = (j + 1) % n
                dj = (ex * (by[j] - ay) - ey * (bx[j] - ax)) * sign
                dn = (ex * (by[jn] - ay) - ey * (bx[jn] - ax)) * sign
                if cnt + 2 > size:
                    ok = False
                    break
                if (dj >= 0) != (dn >= 0):
                    t = dj / (dj - dn)
                    tx[cnt] = bx[j] + t * (bx[jn] - bx[j])
                    ty[cnt] = by[j] + t * (by[jn] - by[j])
                    cnt += 1
                if dn >= 0:
                    tx[cnt] = bx[jn]
                    ty[cnt] = by[jn]
                    cnt += 1
            if not ok:
                break
            n = cnt
            for j in range(n):
                bx[j] = tx[j]
                by[j] = ty[j]
            if n == 0:
                break
        touched[k] = hit
        fits[k] = ok
        out_n[k] = 0
        out_area[k] = 0.0
        if not ok or not hit:
            continue
        # keep a vertex unless it repeats the one before it (the last one before the first)
        w = 0
        base = cap[k]
        limit = cap[k + 1] - cap[k]
        for j in range(n):
            p = (j - 1) % n
            if bx[j] == bx[p] and by[j] == by[p]:
                continue
            if w >= limit:
                ok = False
                break
            out_x[base + w] = bx[j]
            out_y[base + w] = by[j]
            w += 1
        if not ok:
            fits[k] = False
            continue
        if w < 3:
            continue
        x0 = out_x[base]
        y0 = out_y[base]
        s = 0.0
        for j in range(w):
            jn = base + (j + 1) % w
            s += (out_x[base + j] - x0) * (out_y[jn] - y0) - (out_x[jn] - x0) * (out_y[base + j] - y0)
        out_area[k] = abs(s) / 2
        out_n[k] = w


_COMPILED: list[Any] = []


def _compiled() -> Any:
    if not _COMPILED:
        import numba

        _COMPILED.append(numba.njit(cache=True, nogil=True)(_kernel))
    return _COMPILED[0]


def clip(rs: Any, i_s: np.ndarray, rc: Any, i_c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Clip subjects ``rs[i_s]`` by convex clippers ``rc[i_c]`` (:class:`._clip.Rings`).

    Returns ``x, y, offsets, n, area, touched, fits``: the kept vertices of pair ``k`` are
    ``x[offsets[k]:offsets[k] + n[k]]`` (open ring; ``n`` 0 when fewer than 3 are left), its
    area, whether a clip edge cut it (False: the subject lies in the clipper) and whether it
    fitted the buffers (False: leave the pair to GEOS).
    """
    i_s = np.ascontiguousarray(i_s, dtype=np.int64)
    i_c = np.ascontiguousarray(i_c, dtype=np.int64)
    n = len(i_s)
    # a convex clip adds at most one vertex per clip edge to a convex subject; twice that for any
    cap = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(2 * (rs.count[i_s] + rc.count[i_c]) + 4, out=cap[1:])
    out_x = np.empty(int(cap[-1]))
    out_y = np.empty(int(cap[-1]))
    out_n = np.zeros(n, dtype=np.int64)
    area = np.zeros(n)
    touched = np.zeros(n, dtype=np.bool_)
    fits = np.zeros(n, dtype=np.bool_)
    # one signature (float64 coordinates, int64 counts) whatever the rings' dtypes: compiled and cached once
    _compiled()(_f8(rs.x), _f8(rs.y), _i8(rs.start), _i8(rs.count), _f8(rc.x), _f8(rc.y), _i8(rc.start), _i8(rc.count),
                _f8(rc.sign), i_s, i_c, cap, out_x, out_y, out_n, area, touched, fits)
    return out_x, out_y, cap, out_n, area, touched, fits


def _f8(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _i8(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)
