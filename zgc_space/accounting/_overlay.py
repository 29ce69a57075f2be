"""The overlay engine: STRtree candidate pairs, then vectorised shapely intersection on the pairs only.

:func:`split` cuts every piece by a layer of disjoint polygons into the parts inside each polygon
and the remainder inside none, so the pieces always partition what they started from. Pairs where
one geometry covers the other need no intersection (the smaller geometry is the part); only the
pairs whose boundaries cross are intersected. :func:`make_disjoint` resolves overlaps inside a
layer (the earlier feature keeps the shared area) and reports each overlap with its area.
"""

from __future__ import annotations

import numpy as np
import shapely

from zgc_space.accounting import _clip

__all__ = ["MIN_AREA_M2", "make_disjoint", "polygonal", "split"]

#: Parts smaller than this (m²) are float noise of the overlay and are dropped.
MIN_AREA_M2 = 1e-4
#: Pieces cut by more polygons than this get their remainder by one union instead of rounds.
_ROUNDS = 8


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Return the polygonal part of each geometry (collections lose their points and lines)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    tid = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(~np.isin(tid, [3, 6]) & ~shapely.is_empty(geoms))
    if len(mixed):
        parts, index = shapely.get_parts(geoms[mixed], return_index=True)
        parts2, index2 = shapely.get_parts(parts, return_index=True)  # flatten multipolygon members
        parts, index = parts2, index[index2]
        poly = shapely.get_type_id(parts) == 3
        sub = np.full(len(mixed), shapely.Polygon(), dtype=object)  # one empty polygon (immutable) for all
        if poly.any():
            present, inverse = np.unique(index[poly], return_inverse=True)
            sub[present] = shapely.multipolygons(parts[poly], indices=inverse)
        out[mixed] = sub
    return out


def make_disjoint(geoms: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Return ``(disjoint geometries, overlaps)``; an overlap is ``(earlier, later, area_m2)``.

    The earlier feature (lower position) keeps the shared area; the later one loses it.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        return geoms, []
    tree = shapely.STRtree(geoms)
    # Interiors meet only if a feature shrunk by 1 cm still intersects the other: neighbours that
    # share an edge (nearly every candidate pair of a parcel layer) drop out before any
    # intersection is computed (overlaps thinner than 2 cm are not looked for).
    shrunk = shapely.buffer(geoms, -0.01, quad_segs=1, join_style="mitre")
    a, b = tree.query(shrunk, predicate="intersects")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo < hi
    key = np.unique(lo[keep] * len(geoms) + hi[keep])
    a, b = key // len(geoms), key % len(geoms)
    if not len(a):
        return geoms, []
    inter = shapely.intersection(geoms[a], geoms[b])
    area = shapely.area(inter)
    real = area > MIN_AREA_M2
    a, b, area = a[real], b[real], area[real]
    overlaps = [(int(i), int(j), float(s)) for i, j, s in zip(a, b, area, strict=True)]
    out = geoms.copy()
    for j in np.unique(b):
        earlier = a[b == j]
        out[j] = shapely.difference(out[j], shapely.union_all(geoms[earlier]))
    out = polygonal(out)
    return out, overlaps


def intersection(a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray, *, threads: int = 1,
                 rings: tuple[_clip.Rings, _clip.Rings] | None = None, store: _clip.Deferred | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return the polygonal part of ``a[ia] ∩ b[ib]`` and its area; with ``threads > 1`` in chunks on threads.

    Pairs of simple polygons one of which is convex are clipped by :func:`_clip.clip_pairs`
    (numpy, all pairs at once, areas from the clipped rings); the others go to GEOS. Shapely and
    numpy release the GIL in their vectorised functions, so the chunks run in parallel. With
    ``store`` the kernel's results of convex subjects are left unbuilt (:class:`_clip.Deferred`).
    """
    ra, rb = rings if rings is not None else (_clip.Rings(a), _clip.Rings(b))
    if threads <= 1 or len(ia) < 2_000:
        return _intersection(a, ia, b, ib, ra, rb, store)
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, len(ia), threads * 4 + 1).astype(int)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(lambda k: _intersection(a, ia[bounds[k]:bounds[k + 1]], b, ib[bounds[k]:bounds[k + 1]],
                                                      ra, rb, store),
                              range(len(bounds) - 1)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _intersection(a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray, ra: _clip.Rings, rb: _clip.Rings,
                  store: _clip.Deferred | None = None) -> tuple[np.ndarray, np.ndarray]:
    done, out, area = _clip.clip_pairs(ra, ia, rb, ib, store=store)
    for side in (0, 1):  # a multipolygon or a polygon with holes meeting the other only through one shell
        rest = np.flatnonzero(~done & ~(ra.ok[ia] if side == 0 else rb.ok[ib]))
        if not len(rest):
            continue
        geoms, gi, others, oi = (a, ia, b, ib) if side == 0 else (b, ib, a, ia)
        shells, which, chosen, empty = _one_shell(geoms, gi[rest], others[oi[rest]])
        out[rest[empty]], area[rest[empty]], done[rest[empty]] = shapely.Polygon(), 0.0, True
        if len(chosen):
            rs = _clip.Rings(shells)
            at = rest[chosen]
            d2, o2, a2 = (_clip.clip_pairs(rs, which, rb, ib[at], store=store) if side == 0
                          else _clip.clip_pairs(ra, ia[at], rs, which, store=store))
            out[at[d2]], area[at[d2]], done[at[d2]] = o2[d2], a2[d2], True
    rest = np.flatnonzero(~done)
    if len(rest):
        out[rest] = polygonal(shapely.intersection(a[ia[rest]], b[ib[rest]]))
        area[rest] = shapely.area(out[rest])
    return out, area


def _one_shell(geoms: np.ndarray, idx: np.ndarray, others: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stand-ins for pairs ``(geoms[idx[k]], others[k])`` of a multipolygon or a polygon with holes.

    Where the other's box meets the box of one polygon of the geometry and of none of that
    polygon's holes, the polygon's outer ring meets the other exactly as the geometry does.

    Returns ``(shells, which, chosen, empty)``: the outer rings as polygons, the shell standing
    for each chosen pair, the chosen pairs, and the pairs whose box meets no part (empty result).
    """
    none = np.empty(0, np.int64)
    uniq, pos = np.unique(idx, return_inverse=True)
    parts, owner = shapely.get_parts(geoms[uniq], return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[poly], owner[poly]
    if not len(parts):
        return np.empty(0, dtype=object), none, none, none
    other_box = shapely.box(*shapely.bounds(others).T)
    pair, part = shapely.STRtree(shapely.box(*shapely.bounds(parts).T)).query(other_box)
    mine = owner[part] == pos[pair]
    pair, part = pair[mine], part[mine]
    hits = np.bincount(pair, minlength=len(idx))
    chosen_part = np.full(len(idx), -1)
    one = hits[pair] == 1
    chosen_part[pair[one]] = part[one]
    ok = hits == 1
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    inner = np.r_[False, ring_part[1:] == ring_part[:-1]]  # each part's first ring is its shell
    if inner.any():
        hp, hh = shapely.STRtree(rings[inner]).query(other_box)
        ok[hp[ring_part[inner][hh] == chosen_part[hp]]] = False  # the box meets a hole of the chosen part
    chosen = np.flatnonzero(ok)
    shells = shapely.polygons(shapely.get_exterior_ring(parts))
    return shells, chosen_part[chosen], chosen, np.flatnonzero(hits == 0)


def split(pieces: np.ndarray, layer: np.ndarray, *, threads: int = 1, piece_area: np.ndarray | None = None,
          layer_area: np.ndarray | None = None, layer_rings: _clip.Rings | None = None,
          piece_rings: _clip.Rings | None = None, store: _clip.Deferred | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut ``pieces`` by ``layer`` (disjoint polygons).

    ``piece_area``, ``layer_area``, ``layer_rings`` and ``piece_rings`` may be given when known
    (they are computed otherwise). With ``store``, parts the kernel cut from convex pieces are
    not built: they hold their slot there (``store.build(geoms)`` builds them).

    Returns
    -------
    piece, feature, geoms, area
        For every part: the index of the piece it comes from, the index of the layer polygon it
        lies in (-1 for the remainder in none), its geometry and its area. Parts are sorted by piece.
    """
    pieces = np.asarray(pieces, dtype=object)
    layer = np.asarray(layer, dtype=object)
    n = len(pieces)
    piece_area = shapely.area(pieces) if piece_area is None else piece_area
    if len(layer) == 0 or n == 0:
        return np.arange(n), np.full(n, -1), pieces.copy(), piece_area.copy()
    tree = shapely.STRtree(layer)
    pi, li = tree.query(pieces)  # boxes that meet
    rings = (_clip.Rings(pieces) if piece_rings is None else piece_rings,
             _clip.Rings(layer) if layer_rings is None else layer_rings)
    # two convex polygons: the clipping kernel also tells whether one lies in the other, and
    # clips a pair that does not meet to nothing (dropped below), so they need no predicate
    convex = rings[0].convex[pi] & rings[1].convex[li]
    geoms = np.empty(len(pi), dtype=object)
    area = np.zeros(len(pi))
    if convex.any():
        geoms[convex], area[convex] = intersection(pieces, pi[convex], layer, li[convex], threads=threads,
                                                   rings=rings, store=store)
    other = np.flatnonzero(~convex)
    if len(other):
        po, lo = pi[other], li[other]
        # most pairs of boxes that meet are a piece inside a polygon or the other way round:
        # covers first (a polygon can only cover one no larger than itself), then whether the
        # rest meet at all, and only those are intersected
        layer_area = shapely.area(layer) if layer_area is None else layer_area
        could = layer_area[lo] >= piece_area[po]
        whole_piece = np.zeros(len(other), bool)
        whole_feat = np.zeros(len(other), bool)
        if could.any():
            shapely.prepare(layer)
            whole_piece[could] = shapely.covers(layer[lo[could]], pieces[po[could]])  # the piece lies in the polygon
        could = ~whole_piece & (piece_area[po] >= layer_area[lo])
        shapely.prepare(pieces)
        if could.any():
            whole_feat[could] = shapely.covers(pieces[po[could]], layer[lo[could]])  # the polygon lies in the piece
        geoms[other[whole_piece]] = pieces[po[whole_piece]]
        area[other[whole_piece]] = piece_area[po[whole_piece]]
        geoms[other[whole_feat]] = layer[lo[whole_feat]]
        area[other[whole_feat]] = layer_area[lo[whole_feat]]
        rest = np.flatnonzero(~(whole_piece | whole_feat))
        cut = rest[shapely.intersects(pieces[po[rest]], layer[lo[rest]])]  # boxes meet, do the polygons?
        if len(cut):
            geoms[other[cut]], area[other[cut]] = intersection(pieces, po[cut], layer, lo[cut], threads=threads,
                                                               rings=rings, store=store)
    keep = area > MIN_AREA_M2
    pi, li, geoms, area = pi[keep], li[keep], geoms[keep], area[keep]
    covered = np.bincount(pi, weights=area, minlength=n)
    deficit = piece_area - covered
    need = np.flatnonzero(deficit > np.maximum(MIN_AREA_M2, 1e-9 * piece_area))
    if store is not None and len(need):  # the remainders are cut with the parts of those pieces: build them
        of_need = np.flatnonzero(np.isin(pi, need))
        geoms[of_need] = store.build(geoms[of_need])
    rem_piece, rem_geom = _remainders(pieces, need, pi, geoms)
    ra = shapely.area(rem_geom) if len(rem_piece) else np.zeros(0)
    if len(rem_piece):
        ok = ra > MIN_AREA_M2
        rem_piece, rem_geom, ra = rem_piece[ok], rem_geom[ok], ra[ok]
    all_piece = np.concatenate([pi, rem_piece])
    all_feat = np.concatenate([li, np.full(len(rem_piece), -1)])
    all_geom = np.concatenate([geoms, rem_geom]) if len(rem_geom) else geoms
    all_area = np.concatenate([area, ra])
    order = np.lexsort((all_feat, all_piece))
    return all_piece[order], all_feat[order], all_geom[order], all_area[order]


def _remainders(
    pieces: np.ndarray, need: np.ndarray, pi: np.ndarray, parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the part of each piece in ``need`` that no part covers."""
    if not len(need):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    mask = np.isin(pi, need)
    pi_n, parts_n = pi[mask], parts[mask]
    counts = np.bincount(pi_n, minlength=len(pieces))
    rem = pieces[need].copy()
    pos = np.full(len(pieces), -1)
    pos[need] = np.arange(len(need))
    few = counts[need] <= _ROUNDS
    # few cutters: vectorised rounds of difference, one cutter per piece per round
    sel = few[pos[pi_n]]
    order = np.argsort(pi_n[sel], kind="stable")
    p_s, g_s = pi_n[sel][order], parts_n[sel][order]
    if len(p_s):
        starts = np.r_[0, np.flatnonzero(np.diff(p_s)) + 1]
        rank = np.arange(len(p_s)) - np.repeat(starts, np.diff(np.r_[starts, len(p_s)]))
        for r in range(int(rank.max()) + 1):
            at = rank == r
            idx = pos[p_s[at]]
            rem[idx] = shapely.difference(rem[idx], g_s[at])
    for k in np.flatnonzero(~few):  # many cutters: one union
        p = need[k]
        rem[k] = shapely.difference(rem[k], shapely.union_all(parts_n[pi_n == p]))
    return need, polygonal(rem)


def split_disjoint(
    pieces: np.ndarray, layer: np.ndarray, *, threads: int = 1, piece_area: np.ndarray | None = None,
    layer_rings: _clip.Rings | None = None, piece_rings: _clip.Rings | None = None,
    store: _clip.Deferred | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int, float]], np.ndarray, np.ndarray]:
    """:func:`split` for a layer that may overlap itself; overlaps are resolved and returned.

    The parts of a piece add up to its area unless features of the layer overlap inside it, so
    :func:`make_disjoint` runs only on the features of the pieces whose parts add up to more
    (overlaps outside every piece do not matter and are not looked for). Returns the parts (piece,
    feature, geometry, area), the overlaps ``(earlier, later, area_m2)`` and the layer as used
    (overlaps given to the earlier) with its areas.
    """
    pieces = np.asarray(pieces, dtype=object)
    layer = np.asarray(layer, dtype=object)
    piece_area = shapely.area(pieces) if piece_area is None else piece_area
    layer_area = shapely.area(layer)
    pi, fi, geoms, area = split(pieces, layer, threads=threads, piece_area=piece_area, layer_area=layer_area,
                                layer_rings=layer_rings, piece_rings=piece_rings, store=store)
    excess = np.bincount(pi, weights=area, minlength=len(pieces)) - piece_area
    bad = np.flatnonzero(excess > np.maximum(1e-3, 1e-9 * piece_area))
    if not len(bad):
        return pi, fi, geoms, area, [], layer, layer_area
    cand = np.unique(fi[np.isin(pi, bad) & (fi >= 0)])
    fixed, found = make_disjoint(layer[cand])
    if not found:
        return pi, fi, geoms, area, [], layer, layer_area
    used = layer.copy()
    used[cand] = fixed
    used_area = layer_area.copy()
    used_area[cand] = shapely.area(fixed)
    if store is not None:
        store.reset()  # the first cut is discarded
    pi, fi, geoms, area = split(pieces, used, threads=threads, piece_area=piece_area, layer_area=used_area,
                                piece_rings=piece_rings, store=store)
    return pi, fi, geoms, area, [(int(cand[i]), int(cand[j]), a) for i, j, a in found], used, used_area
