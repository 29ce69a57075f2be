"""The numpy clipping kernel of the overlay (accounting/_clip.py) against GEOS, pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

from zgc_space.accounting import _clip, _overlay

X0, Y0 = 440_000.0, 4_430_000.0
#: The same tests run on the numpy kernel and on the compiled one (numba, ``zgc_space[fast]``).
KERNELS = ["numpy", "compiled"]


@pytest.fixture(params=KERNELS, autouse=True)
def which_kernel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_kernel(request.param, monkeypatch)
    return str(request.param)


def use_kernel(which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every clip call use the numpy kernel, or the compiled one."""
    if which == "compiled":
        pytest.importorskip("numba")
        assert _clip._jit() is not None
        monkeypatch.setattr(_clip, "JIT_MIN_PAIRS", 0)
    else:
        monkeypatch.setattr(_clip, "_JIT", [None])  # as without numba


def kernel(a: list, b: list) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's results; its areas (shoelace on the clipped rings) checked against GEOS's of the same polygons."""
    a_, b_ = np.array(a, dtype=object), np.array(b, dtype=object)
    pairs = np.arange(len(a_))
    done, out, area = _clip.clip_pairs(_clip.Rings(a_), pairs, _clip.Rings(b_), pairs)
    assert np.isnan(area[~done]).all()
    if done.any():
        np.testing.assert_allclose(area[done], shapely.area(out[done]), rtol=1e-12, atol=1e-9)
    return done, out


def assert_same_as_geos(a: list, b: list, done: np.ndarray, out: np.ndarray) -> None:
    ref = shapely.intersection(np.array(a, dtype=object), np.array(b, dtype=object))
    for i in np.flatnonzero(done):
        assert shapely.is_valid(out[i]), (i, out[i].wkt)
        assert abs(out[i].area - ref[i].area) <= 1e-6 * max(1.0, ref[i].area), (i, out[i].wkt, ref[i].wkt)
        if ref[i].area > 1e-6:
            assert shapely.symmetric_difference(out[i], ref[i]).area <= 1e-6 * ref[i].area, (i, out[i].wkt)


def convex(rng: np.random.Generator, cx: float, cy: float, r: float) -> Polygon:
    """A random convex polygon: the hull of random points in a disc."""
    pts = rng.uniform(-r, r, (rng.integers(3, 12), 2)) + (cx, cy)
    hull = shapely.convex_hull(shapely.multipoints(pts))
    return hull if hull.geom_type == "Polygon" else box(cx, cy, cx + r, cy + r)


def star(rng: np.random.Generator, cx: float, cy: float, r: float) -> Polygon:
    """A random non-convex (star-shaped) simple polygon."""
    n = int(rng.integers(5, 16))
    ang = (np.arange(n) + rng.uniform(0, 0.9, n)) * 2 * np.pi / n  # one vertex per sector: simple
    rad = rng.uniform(0.3 * r, r, n)
    return Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_pairs_match_geos(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = [], []
    for _ in range(60):
        x, y = X0 + rng.uniform(0, 50), Y0 + rng.uniform(0, 50)
        a.append(star(rng, x, y, 30) if rng.random() < 0.5 else convex(rng, x, y, 30))
        b.append(convex(rng, X0 + rng.uniform(0, 50), Y0 + rng.uniform(0, 50), 30))
        if rng.random() < 0.3:  # clockwise rings too
            b[-1] = shapely.reverse(b[-1])
    a, b = a + b, b + a  # the convex side on either hand
    done, out = kernel(a, b)
    assert done[len(done) // 2:].mean() > 0.5  # the kernel takes most pairs with a convex side
    assert_same_as_geos(a, b, done, out)


def test_degenerate_pairs() -> None:
    sq = box(X0, Y0, X0 + 100, Y0 + 100)
    cases = [
        (sq, box(X0 + 100, Y0, X0 + 200, Y0 + 100)),  # shared edge: empty
        (sq, box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)),  # shared corner: empty
        (sq, box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20)),  # one inside the other
        (box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20), sq),
        (sq, sq),  # identical
        (sq, box(X0 + 50, Y0, X0 + 150, Y0 + 100)),  # collinear edges
        (sq, Polygon([(X0 + 50, Y0 + 50), (X0 + 150, Y0 + 50), (X0 + 150, Y0 + 150)])),  # vertex on the edge
        (sq, Polygon([(X0, Y0), (X0 + 50, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100)])),  # collinear vertex
        (sq, box(X0 + 500, Y0, X0 + 600, Y0 + 100)),  # apart
    ]
    a, b = [c[0] for c in cases], [c[1] for c in cases]
    done, out = kernel(a, b)
    assert done.all()
    assert_same_as_geos(a, b, done, out)
    assert out[3] is a[3]  # lying in the clipper: the geometry object itself


def test_c_shape_split_in_two_goes_to_geos() -> None:
    # a U-shaped parcel cut by a band across its arms falls apart into two polygons:
    # Sutherland-Hodgman would join them along the clip edge, so the pair goes to GEOS
    u = Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    band = box(-5, 20, 35, 25)
    done, _ = kernel([u], [band])
    assert not done[0]
    out, area = _overlay.intersection(np.array([u], dtype=object), np.array([0]), np.array([band], dtype=object),
                                      np.array([0]))
    assert out[0].geom_type == "MultiPolygon" and abs(out[0].area - 100.0) < 1e-9 and area[0] == out[0].area


def test_holes_multiparts_and_big_rings_go_to_geos() -> None:
    holed = box(0, 0, 100, 100).difference(box(40, 40, 60, 60))
    two = shapely.union(box(0, 0, 10, 10), box(20, 0, 30, 10))
    one_part = shapely.MultiPolygon([box(0, 0, 50, 50)])
    big = shapely.Point(50, 50).buffer(60, quad_segs=80)  # 321 vertices > MAX_VERTICES
    clip = box(5, 5, 55, 55)
    a = [holed, two, one_part, big]
    done, out = kernel(a, [clip] * 4)
    assert done.tolist() == [False, False, True, False]
    assert abs(out[2].area - 2_025.0) < 1e-9


def test_holed_and_multipart_geometries_meeting_one_shell_are_clipped_by_the_kernel(monkeypatch) -> None:
    # a block with a hole, a block of two parts: a parcel whose box meets one part's shell and none
    # of its holes is clipped against that shell by the kernel; a parcel near the hole, or meeting
    # both parts, goes to GEOS; a parcel meeting no part gives nothing. All equal GEOS.
    holed = shapely.Polygon(box(X0, Y0, X0 + 100, Y0 + 100).exterior.coords,
                            [box(X0 + 40, Y0 + 40, X0 + 60, Y0 + 60).exterior.coords])
    two = shapely.MultiPolygon([box(X0 + 200, Y0, X0 + 230, Y0 + 30),
                                shapely.Polygon([(X0 + 260, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 40),
                                                 (X0 + 280, Y0 + 10)])])
    rng = np.random.default_rng(5)
    near_holed = rng.uniform(-20, 120, (200, 2))
    near_two = rng.uniform((190, -10), (310, 50), (200, 2))
    b = np.array([convex(rng, X0 + x, Y0 + y, 12) for x, y in np.r_[near_holed, near_two]], dtype=object)
    a = np.array([holed, two], dtype=object)
    ia = np.repeat([0, 1], 200)
    ib = np.arange(len(b))
    geos_pairs = []
    real = shapely.intersection

    def counting(x, y, *args, **kwargs):
        geos_pairs.append(len(np.atleast_1d(x)))
        return real(x, y, *args, **kwargs)

    monkeypatch.setattr(_overlay.shapely, "intersection", counting)
    out, area = _overlay.intersection(a, ia, b, ib)
    monkeypatch.undo()
    ref = shapely.intersection(a[ia], b[ib])
    np.testing.assert_allclose(area, shapely.area(ref), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(shapely.area(out), shapely.area(ref), rtol=1e-9, atol=1e-6)
    assert shapely.is_valid(out).all()
    near = shapely.area(shapely.symmetric_difference(out, ref))
    assert (near <= 1e-6 * np.maximum(1.0, shapely.area(ref))).all()
    assert (area > 0).sum() > 100 and sum(geos_pairs) < len(b) // 4  # most pairs never reach GEOS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_split_of_holed_and_multipart_pieces_matches_geos(seed: int) -> None:
    # blocks with holes and several parts (stars and convex shapes) cut by random convex and
    # star-shaped parcels: every part equals GEOS's intersection and the parts add up to each block
    rng = np.random.default_rng(seed)
    pieces = []
    for k in range(12):
        cx, cy = X0 + 150 * k, Y0
        shell = star(rng, cx, cy, 60) if rng.random() < 0.5 else convex(rng, cx, cy, 60)
        hole = shapely.Point(cx + rng.uniform(-8, 8), cy + rng.uniform(-8, 8)).buffer(rng.uniform(3, 12), quad_segs=3)
        g = shell.difference(hole) if rng.random() < 0.7 else shell
        if rng.random() < 0.5:  # a second part beside it
            g = shapely.union(g, convex(rng, cx + 70, cy + 40, 10))
        pieces.append(g)
    pieces_a = np.array(pieces, dtype=object)
    # parcels that tile the ground exactly: Voronoi cells, some notched (not convex)
    seeds = shapely.multipoints(rng.uniform((X0 - 80, Y0 - 80), (X0 + 1_800, Y0 + 80), (160, 2)))
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(seeds)), dtype=object)
    for i in np.flatnonzero(rng.random(len(cells)) < 0.3):
        cx, cy = shapely.get_coordinates(shapely.centroid(cells[i]))[0]
        cells[i] = shapely.difference(cells[i], box(cx, cy, cx + 40, cy + 40))
    layer_a = cells
    pi, fi, geoms, area = _overlay.split(pieces_a, layer_a)
    np.testing.assert_allclose(area, shapely.area(geoms), rtol=1e-9, atol=1e-6)
    # a sliver of a random cell below MIN_AREA_M2 is dropped as overlay noise (by design)
    np.testing.assert_allclose(np.bincount(pi, weights=area, minlength=len(pieces_a)), shapely.area(pieces_a),
                               rtol=1e-9, atol=2 * _overlay.MIN_AREA_M2)
    inside = fi >= 0
    ref = shapely.intersection(pieces_a[pi[inside]], layer_a[fi[inside]])
    np.testing.assert_allclose(area[inside], shapely.area(ref), rtol=1e-9, atol=1e-6)
    assert shapely.is_valid(geoms).all()


def test_overlay_split_uses_the_kernel_and_keeps_every_piece() -> None:
    rng = np.random.default_rng(7)
    pieces = np.array([convex(rng, X0 + x, Y0 + y, 20) for x, y in rng.uniform(0, 400, (300, 2))], dtype=object)
    pieces, _ = _overlay.make_disjoint(pieces)
    grid = np.array([box(X0 + x, Y0 + y, X0 + x + 37, Y0 + y + 41)
                     for x in np.arange(-50, 450, 37) for y in np.arange(-50, 450, 41)], dtype=object)
    pi, fi, geoms, _ = _overlay.split(pieces, grid)
    area = shapely.area(geoms)
    np.testing.assert_allclose(np.bincount(pi, weights=area, minlength=len(pieces)), shapely.area(pieces),
                               rtol=1e-9, atol=1e-6)
    ref = shapely.area(shapely.intersection(pieces[pi[fi >= 0]], grid[fi[fi >= 0]]))
    np.testing.assert_allclose(area[fi >= 0], ref, rtol=1e-9, atol=1e-6)


def test_simple_rings_are_exactly_the_valid_convex_ones_it_can_vouch_for() -> None:
    rng = np.random.default_rng(11)
    geoms = [convex(rng, X0, Y0, 30) for _ in range(400)] + [star(rng, X0, Y0, 30) for _ in range(200)]
    # random rings: often bow-ties
    geoms += [Polygon(rng.uniform(0, 10, (int(rng.integers(4, 9)), 2)) + (X0, Y0)) for _ in range(400)]
    angle = np.linspace(0, 4 * np.pi, 6)[:-1]
    geoms += [
        Polygon(np.c_[np.cos(angle), np.sin(angle)] + (X0, Y0)),  # pentagram: every turn one way, winds twice
        Polygon([(0, 0), (2, 0), (1, 0), (1, 1), (0, 1)]),  # a spike back along its own edge
        Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)]),  # a repeated vertex: left to GEOS
        Polygon([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0), (1, 0), (1, 1), (0, 1)]),  # the square twice round
        box(0, 0, 1, 1).difference(box(0.4, 0.4, 0.6, 0.6)),  # a hole
        Polygon([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0.5)]),  # a collinear vertex: simple
    ]
    g = np.array(geoms, dtype=object)
    rings = _clip.Rings(g)
    valid = shapely.is_valid(g)
    assert not (rings.simple & ~valid).any()  # never vouches for an invalid ring
    assert rings.simple[:400].all()  # every convex hull
    assert rings.simple[-1] and not rings.simple[-6:-1].any()
    assert not valid[[-6, -5, -3]].any() and valid[-4]  # the repeated vertex is valid, only not vouched for


def test_reused_rings_equal_rings_read_afresh() -> None:
    rng = np.random.default_rng(5)
    parents = np.array([convex(rng, X0 + x, Y0, 20) for x in range(0, 2000, 50)] + [star(rng, X0, Y0 + 99, 20)],
                       dtype=object)
    parent = _clip.Rings(parents)
    # pieces: some are the parent objects themselves, some new polygons, one with no parent
    pieces = np.array([parents[3], box(X0, Y0, X0 + 5, Y0 + 5), parents[40], parents[0], box(X0, Y0, X0 + 9, Y0 + 1),
                       shapely.Polygon([(X0, Y0), (X0 + 3, Y0), (X0, Y0 + 3)])], dtype=object)
    idx = np.array([3, 3, 40, 0, -1, 7])
    got, ref = _clip.Rings.reuse(pieces, parent, idx), _clip.Rings(pieces)
    for name in ("ok", "count", "convex", "simple", "sign", "area"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
    which = np.flatnonzero(ref.ok)
    m = int(ref.count[which].max())
    for a, b in zip(got.padded(which, m), ref.padded(which, m), strict=True):
        np.testing.assert_array_equal(a, b)


def test_compiled_kernel_gives_the_numpy_kernels_polygons_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    a = [star(rng, X0 + x, Y0 + y, 30) if k % 3 else convex(rng, X0 + x, Y0 + y, 30)
         for k, (x, y) in enumerate(rng.uniform(0, 60, (3_000, 2)))]
    b = [convex(rng, X0 + x, Y0 + y, 30) if k % 5 else box(X0 + x, Y0 + y, X0 + x + 25, Y0 + y + 20)
         for k, (x, y) in enumerate(rng.uniform(0, 60, (3_000, 2)))]
    a[:5] = [box(X0, Y0, X0 + 10, Y0 + 10)] * 5  # inside, on an edge, apart, identical, corner
    b[:5] = [box(X0 - 5, Y0 - 5, X0 + 20, Y0 + 20), box(X0 + 10, Y0, X0 + 20, Y0 + 10),
             box(X0 + 50, Y0, X0 + 60, Y0 + 10), box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 5, Y0 + 5, X0 + 15, Y0 + 15)]
    ra, rb = _clip.Rings(np.array(a, dtype=object)), _clip.Rings(np.array(b, dtype=object))
    pairs = np.arange(len(a))
    use_kernel("numpy", monkeypatch)
    done_np, out_np, area_np = _clip.clip_pairs(ra, pairs, rb, pairs)
    monkeypatch.undo()
    use_kernel("compiled", monkeypatch)
    done_jit, out_jit, area_jit = _clip.clip_pairs(ra, pairs, rb, pairs)
    assert done_np.sum() > 2_000
    np.testing.assert_array_equal(done_jit, done_np)
    np.testing.assert_array_equal(area_jit[done_np], area_np[done_np])
    assert (shapely.to_wkb(out_jit[done_np]) == shapely.to_wkb(out_np[done_np])).all()
    assert all(out_jit[i] is out_np[i] for i in np.flatnonzero(done_np) if out_np[i] is a[i] or out_np[i] is b[i])


def test_the_compiled_kernel_is_loaded_once_the_process_has_clipped_enough_pairs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(9)
    a = np.array([convex(rng, X0 + x, Y0 + y, 20) for x, y in rng.uniform(0, 50, (60, 2))], dtype=object)
    b = np.array([box(X0 + x, Y0 + y, X0 + x + 30, Y0 + y + 30) for x, y in rng.uniform(0, 50, (60, 2))],
                 dtype=object)
    ra, rb, pairs = _clip.Rings(a), _clip.Rings(b), np.arange(len(a))
    monkeypatch.setattr(_clip, "_JIT", [])  # not loaded yet, as in a new process
    monkeypatch.setattr(_clip, "_PAIRS_SEEN", [0])
    monkeypatch.setattr(_clip, "JIT_MIN_PAIRS", 100)
    first = _clip.clip_pairs(ra, pairs, rb, pairs)
    assert _clip._JIT == []  # 60 pairs: the numpy kernel, nothing loaded
    second = _clip.clip_pairs(ra, pairs, rb, pairs)
    assert _clip._JIT and _clip._JIT[0] is not None  # 120 pairs seen: loaded, and used from then on
    np.testing.assert_array_equal(first[2], second[2])
