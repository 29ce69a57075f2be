"""Synthetic source layers behind the sample blocks, reproduced by :func:`zgc_space.accounting.account`.

Survey parcels, plan plots, supply, idle and serviced land, buildings and enterprises, such that
the accounting of them gives back the sample block table.

Each block is cut, in a frame rotated by a random angle, into stripes whose areas are the block's
land classes (found by bisection on the cut position), in this order::

    B21x | A2 | Ao | A1 | gap | Aou | B21 idle | B21 supplied | B21 serviced | B22 | B11 | B12 | C

(``B21x`` is supplied unbuilt land that makes up for the unsupplied built stripe ``Aou`` of the
few blocks with an A ⊄ D conflict; ``gap`` is the one block area left without survey parcel).
Stripes are cut into parcels by a jittered grid (0.1-20 ha), plan plots and supply/idle/serviced
records by a coarser one; high-tech land H is the first ``hightech_m2`` of the supplied stripes,
flagged on the supply records and hosting the high-tech enterprises. Buildings stand on a grid of
sites in the built parcels with footprints and whole storeys that give each block's footprint and
floor area; enterprises split each block's economy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space.datasets import _parks
from zgc_space.datasets._source_tables import (
    USER_CODES,
    finish_firms,
    finish_idle,
    finish_plan,
    finish_serviced,
    finish_supply,
    finish_survey,
)
from zgc_space.schema import METRIC_CRS

__all__: list[str] = []

#: Files written under ``sources/`` (relative to the sample directory).
FILES: tuple[str, ...] = _parks.SOURCE_FILES
_ORDER = ("B21x", "A2", "Ao", "A1", "gap", "Aou", "B21i", "B21s", "B21v", "B22", "B11", "B12", "C")
_SUPPLIED = {"B21x", "A2", "Ao", "A1", "B21i", "B21s"}
_BUILT = {"A2", "Ao", "A1", "Aou"}
@dataclass
class _Parts:
    """Polygons of one kind for all blocks, with their attributes."""

    geoms: list[np.ndarray]
    rows: list[pd.DataFrame]

    def frame(self) -> gpd.GeoDataFrame:
        rows = pd.concat(self.rows, ignore_index=True)
        return gpd.GeoDataFrame(rows, geometry=np.concatenate(self.geoms), crs=METRIC_CRS)


def _rotation(theta: float, cx: float, cy: float, inverse: bool) -> Callable[[np.ndarray], np.ndarray]:
    c, s = np.cos(theta), np.sin(theta)
    if inverse:
        s = -s

    def f(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - cx, xy[:, 1] - cy
        return np.asarray(np.c_[c * x - s * y + cx, s * x + c * y + cy], dtype=float)

    return f


def _cuts(rot: shapely.Geometry, targets: np.ndarray) -> np.ndarray:
    """Positions u where the area of ``rot`` left of u equals each target (vectorised bisection)."""
    minx, miny, maxx, maxy = rot.bounds
    shapely.prepare(rot)

    def left_of(u: np.ndarray) -> np.ndarray:
        return np.asarray(shapely.area(shapely.intersection(rot, shapely.box(minx - 1, miny - 1, u, maxy + 1))))

    grid = np.linspace(minx, maxx, 129)  # bracket each target on a coarse grid, then bisect
    k = np.clip(np.searchsorted(left_of(grid), targets) - 1, 0, 127)
    lo, hi = grid[k], grid[k + 1]
    for _ in range(40):
        mid = (lo + hi) / 2
        left = left_of(mid) < targets
        lo = np.where(left, mid, lo)
        hi = np.where(left, hi, mid)
    return (lo + hi) / 2


def _grid(rng: np.random.Generator, stripe: shapely.Geometry, u0: float, u1: float, cell_u: float,
          cell_v: float, min_m2: float) -> np.ndarray:
    """Cut ``stripe`` (u0 <= x <= u1 in the rotated frame) into cells; merge cells below ``min_m2``."""
    _, miny, _, maxy = stripe.bounds
    n_u = max(1, int(round((u1 - u0) / cell_u)))
    ue = np.linspace(u0, u1, n_u + 1)
    ve = np.arange(miny - rng.uniform(0, cell_v), maxy + cell_v, cell_v)
    nv = len(ve) - 1
    boxes = shapely.box(np.repeat(ue[:-1], nv), np.tile(ve[:-1], n_u), np.repeat(ue[1:], nv), np.tile(ve[1:], n_u))
    cells = shapely.intersection(boxes, stripe).reshape(n_u, nv)
    out: list[list[shapely.Geometry]] = []
    for col in cells:
        col = col[shapely.area(col) > 1e-6]
        groups: list[list[shapely.Geometry]] = []
        acc = 0.0
        for g in col:
            if not groups or acc >= min_m2:
                groups.append([])
                acc = 0.0
            groups[-1].append(g)
            acc += g.area
        if len(groups) > 1 and acc < min_m2:
            groups[-2].extend(groups.pop())
        out.extend(groups)
    merged = [g[0] if len(g) == 1 else shapely.union_all(g) for g in out]
    return np.array(merged, dtype=object)


def _segments(row: pd.Series, flags: dict[str, float]) -> dict[str, float]:
    a, a1, a2 = row["built_m2"], row["built_residential_m2"], row["built_industrial_m2"]
    ready, unready, c, d, g = row["ready_m2"], row["unready_m2"], row["nonconstruction_m2"], row["supplied_m2"], \
        row["idle_m2"]
    ds = max(d - a, 0.0)
    u, gap = flags.get("u", 0.0), flags.get("gap", 0.0)
    return {
        "B21x": u, "A2": a2, "Ao": a - a1 - a2 - u - gap, "A1": a1, "gap": gap, "Aou": u, "B21i": g,
        "B21s": ds - g, "B21v": ready - ds - u, "B22": 0.6 * unready, "B11": 0.25 * unready, "B12": 0.15 * unready,
        "C": c,
    }


def _choose_flags(rng: np.random.Generator, blocks: gpd.GeoDataFrame) -> list[dict[str, float]]:
    """Which blocks carry the realistic conflicts (unsupplied built land, a gap, unknown codes, ...)."""
    flags: list[dict[str, float]] = [{} for _ in range(len(blocks))]
    a = blocks["built_m2"].to_numpy()
    h = blocks["hightech_m2"].to_numpy()
    spare = blocks["ready_m2"].to_numpy() - (blocks["supplied_m2"].to_numpy() - a)
    ok = np.flatnonzero((spare > 4_000) & (h < 0.85 * a) & (a > 3e5))
    for i in rng.choice(ok, min(5, len(ok)), replace=False):
        flags[i]["u"] = float(min(0.3 * spare[i], 0.01 * a[i], 20_000.0))
    big = np.flatnonzero((a > 2e6) & (h < 0.85 * a) & np.array([not f for f in flags]))
    gi = int(rng.choice(big))
    flags[gi]["gap"] = float(0.0005 * a[gi])
    for i in rng.choice(np.flatnonzero(a > 1e6), 4, replace=False):
        flags[i]["plan_conflict"] = 1.0
    for i in rng.choice(np.flatnonzero(a > 5e5), 2, replace=False):
        flags[i]["unknown"] = 1.0
    with_c = np.flatnonzero(blocks["nonconstruction_m2"].to_numpy() > 5e4)
    for i in rng.choice(with_c, min(6, len(with_c)), replace=False):
        flags[i]["straddle"] = 1.0
    return flags


def make_sources(seed: int, blocks: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    """Return the source layers (name → frame) behind ``blocks``; the same seed gives the same layers."""
    rng = np.random.default_rng([seed, 11])
    blocks = blocks.reset_index(drop=True)
    flags = _choose_flags(rng, blocks)
    parts = {k: _Parts([], []) for k in ("survey", "plan", "supply", "idle", "serviced", "buildings")}
    sites: list[pd.DataFrame] = []
    offset = 0
    for i, row in blocks.iterrows():
        offset += _block(rng, int(i), row, flags[int(i)], parts, sites, offset)
    survey = finish_survey(rng, parts["survey"].frame())
    return {
        "blocks": blocks[["block_id", "name", "subpark", "cluster", "district", "owner_type", "owner_count",
                          "policy_zone", "far_cap", "year", "geometry"]].copy(),
        "survey": survey,
        "plan": finish_plan(rng, parts["plan"].frame()),
        "supply": finish_supply(rng, parts["supply"].frame(), blocks),
        "idle": finish_idle(rng, parts["idle"].frame()),
        "serviced": finish_serviced(rng, parts["serviced"].frame()),
        "buildings": parts["buildings"].frame().drop(columns=["block"]),
        "enterprises": finish_firms(rng, pd.concat(sites, ignore_index=True), blocks, survey),
    }


def _add(part: _Parts, geoms: np.ndarray, rows: pd.DataFrame) -> None:
    part.geoms.append(geoms)
    part.rows.append(rows.reset_index(drop=True))


def _block(rng: np.random.Generator, i: int, row: pd.Series, flag: dict[str, float], parts: dict[str, _Parts],
           sites: list[pd.DataFrame], offset: int) -> int:
    """Generate every layer of block ``i``; return its number of survey parcels."""
    geom = row["geometry"]
    theta = float(rng.uniform(0, np.pi / 2))
    cx, cy = geom.centroid.x, geom.centroid.y
    to_rot, back = _rotation(-theta, cx, cy, False), _rotation(theta, cx, cy, False)
    rot = shapely.transform(geom, to_rot)
    seg = _segments(row, flag)
    names = [n for n in _ORDER if seg[n] > 1e-6]
    cum = np.cumsum([seg[n] for n in names])
    hcut = float(row["hightech_m2"])
    targets = np.unique(np.r_[cum[:-1], hcut])
    targets = targets[(targets > 1e-6) & (targets < cum[-1] - 1e-6)]
    minx, miny, maxx, maxy = rot.bounds
    edges = np.r_[minx - 1, _cuts(rot, targets), maxx + 1]
    bounds = np.r_[0, targets, cum[-1]]
    mids = (bounds[:-1] + bounds[1:]) / 2
    seg_of = np.searchsorted(cum, mids)
    cell = float(np.sqrt(rng.uniform(0.9e4, 2.2e4)))
    s_geoms: list[np.ndarray] = []
    p_geoms: list[np.ndarray] = []
    s_rows: list[tuple[str, bool, int]] = []
    p_rows: list[tuple[str, bool, int]] = []
    rec: dict[str, tuple[list[np.ndarray], list[tuple[str, bool, int]]]] = {
        k: ([], []) for k in ("supply", "idle", "serviced")}
    for k in range(len(edges) - 1):
        name, is_h = names[seg_of[k]], bool(mids[k] < hcut)
        strip = shapely.intersection(rot, shapely.box(edges[k], miny - 1, edges[k + 1], maxy + 1))
        if strip.is_empty or strip.area < 1e-6:
            continue
        u0, u1 = max(edges[k], minx), min(edges[k + 1], maxx)
        if name != "gap":
            big = 2.0 if name in ("C", "B22") else 1.0
            cells = _grid(rng, strip, u0, u1, cell * big * rng.uniform(0.8, 1.3), cell * big * rng.uniform(0.6, 1.0),
                          1_000.0)
            s_geoms.append(cells)
            s_rows.append((name, is_h, len(cells)))
        coarse = _grid(rng, strip, u0, u1, 320.0, 280.0, 5_000.0)
        p_geoms.append(coarse)
        p_rows.append((name, False, len(coarse)))
        if name in _SUPPLIED:
            rec["supply"][0].append(coarse)
            rec["supply"][1].append((name, is_h, len(coarse)))
        if name == "B21i":
            rec["idle"][0].append(coarse)
            rec["idle"][1].append((name, False, len(coarse)))
        if name == "B21s" and i % 23 == 0:  # an old determination, disposed of since (left out as of 2023)
            rec["idle"][0].append(coarse[:1])
            rec["idle"][1].append((name, True, 1))
        if name == "B21v":
            rec["serviced"][0].append(coarse)
            rec["serviced"][1].append((name, False, len(coarse)))
    sg = np.concatenate(s_geoms)
    srow = _rows(s_rows, "hightech")
    if flag.get("straddle"):
        c_idx = np.flatnonzero(srow["segment"].to_numpy() == "C")
        if len(c_idx):
            j = int(c_idx[np.argmax(shapely.length(shapely.intersection(sg[c_idx], rot.boundary)))])
            sg[j] = shapely.union(sg[j], shapely.difference(shapely.buffer(sg[j], 12.0, join_style="mitre"), rot))
    _buildings(rng, row, sg, srow, parts["buildings"], back, sites, i, offset)
    _add(parts["survey"], shapely.transform(sg, back), srow.assign(unknown_flag=bool(flag.get("unknown"))))
    prow = _rows(p_rows, "flag").assign(conflict=False, far_cap=float(row["far_cap"]))
    if flag.get("plan_conflict"):
        ao = np.flatnonzero(prow["segment"].to_numpy() == "Ao")
        if len(ao):
            prow.loc[int(ao[len(ao) // 2]), "conflict"] = True
    _add(parts["plan"], shapely.transform(np.concatenate(p_geoms), back), prow)
    for key, (gs, rs) in rec.items():
        if gs:
            _add(parts[key], shapely.transform(np.concatenate(gs), back),
                 _rows(rs, {"supply": "hightech", "idle": "disposed"}.get(key, "flag")))
    return len(sg)


def _rows(items: list[tuple[str, bool, int]], flag: str) -> pd.DataFrame:
    counts = [n for _, _, n in items]
    return pd.DataFrame({"segment": np.repeat([s for s, _, _ in items], counts),
                         flag: np.repeat(np.array([f for _, f, _ in items], dtype=bool), counts)})


def _split(total: float, weights: np.ndarray) -> np.ndarray:
    return np.asarray(total * weights / weights.sum(), dtype=float)


def _storeys(rng: np.random.Generator, m: int, f: float, g: float) -> tuple[np.ndarray, np.ndarray]:
    """Footprints and whole storeys of ``m`` buildings with Σ footprint = f and Σ footprint × storeys = g."""
    f = min(f, g)  # at least one storey
    r = g / f
    w = rng.lognormal(0.0, 0.35, m)
    if m == 1:
        return np.array([f]), np.array([max(1, int(round(r)))])
    lo = max(1, int(np.floor(r)) - int(rng.integers(0, 3)))
    hi = int(np.floor(r)) + 1 + int(rng.integers(0, 3))
    f_hi = (g - lo * f) / (hi - lo)
    n_up = int(np.clip(round(m * f_hi / f), 1, m - 1))
    up = np.zeros(m, bool)
    up[rng.choice(m, n_up, replace=False)] = True
    foot = np.zeros(m)
    foot[up] = _split(f_hi, w[up])
    foot[~up] = _split(f - f_hi, w[~up])
    return foot, np.where(up, hi, lo)


def _buildings(rng: np.random.Generator, row: pd.Series, sg: np.ndarray, srow: pd.DataFrame, bld: _Parts,
               back: object, sites: list[pd.DataFrame], i: int, offset: int) -> None:
    """Put buildings on a 65 m grid of sites in the built parcels (one per parcel too small for a site)."""
    seg = srow["segment"].to_numpy()
    built = np.flatnonzero(np.isin(seg, list(_BUILT)))
    spacing = 65.0
    minx, miny, maxx, maxy = shapely.total_bounds(sg[built])
    gx = np.arange(minx + rng.uniform(0, spacing), maxx, spacing)
    gy = np.arange(miny + rng.uniform(0, spacing), maxy, spacing)
    xx, yy = np.meshgrid(gx, gy)
    pts = shapely.points(xx.ravel(), yy.ravel())
    pi, pj = shapely.STRtree(sg[built]).query(pts, predicate="within")
    parcel = built[pj]
    x, y = shapely.get_x(pts[pi]), shapely.get_y(pts[pi])
    lonely = np.setdiff1d(built, parcel)
    if len(lonely):
        rp = shapely.point_on_surface(sg[lonely])
        x, y, parcel = np.r_[x, shapely.get_x(rp)], np.r_[y, shapely.get_y(rp)], np.r_[parcel, lonely]
    is_ind = seg[parcel] == "A2"
    f_tot, g_tot = float(row["footprint_m2"]), float(row["gfa_m2"])
    if is_ind.all() or not is_ind.any():
        groups = [(np.ones(len(parcel), bool), f_tot, g_tot)]
    else:
        f_ind = min(float(row["industrial_footprint_m2"]), 0.9 * f_tot)
        g_ind = min(float(row["industrial_gfa_m2"]), 0.9 * g_tot)
        groups = [(is_ind, f_ind, g_ind), (~is_ind, f_tot - f_ind, g_tot - g_ind)]
    foot = np.zeros(len(parcel))
    floors = np.ones(len(parcel), dtype=np.int64)
    for mask, f, g in groups:
        idx = np.flatnonzero(mask)
        foot[idx], floors[idx] = _storeys(rng, len(idx), f, g)
    keep = foot > 0
    x, y, parcel, foot, floors = x[keep], y[keep], parcel[keep], foot[keep], floors[keep]
    aspect = rng.uniform(0.6, 1.6, len(foot))
    hx, hy = np.sqrt(foot * aspect) / 2, np.sqrt(foot / aspect) / 2
    boxes = shapely.box(x - hx, y - hy, x + hx, y + hy)
    prefix = str(row["block_id"])
    bid = np.array([f"{prefix}-J{k:05d}" for k in range(len(foot))], dtype=object)
    _add(bld, shapely.transform(boxes, back), pd.DataFrame({
        "building_id": bid, "floors": floors, "height_m": np.round(floors * 3.0 + rng.uniform(0, 2.5, len(foot)), 1),
        "block": i,
    }))
    sx, sy = shapely.get_coordinates(shapely.transform(shapely.points(x, y), back)).T
    sites.append(pd.DataFrame({"block": i, "parcel": offset + parcel, "x": sx, "y": sy, "building_id": bid,
                               "hightech_site": srow["hightech"].to_numpy()[parcel]}))


def _parquet(frame: pd.DataFrame, tmp: Path) -> None:
    frame.to_parquet(tmp, index=False, compression="zstd")


def write(out_dir: Path, blocks: gpd.GeoDataFrame, *, seed: int, gpkg: Callable[[gpd.GeoDataFrame, Path, str], None],
          atomic: Callable[[Path, Callable[[Path], object]], None]) -> None:
    """Write :data:`FILES` under ``out_dir`` (GeoPackage for the small layers, GeoParquet for the big ones)."""
    src = make_sources(seed, blocks)
    folder = out_dir / "sources"
    gpkg(src["blocks"], folder / "blocks.gpkg", "blocks")
    for name, layer in (("plan_plots", "plan"), ("supply", "supply"), ("idle", "idle"), ("serviced", "serviced")):
        gpkg(src[layer], folder / f"{name}.gpkg", name)
    for name, layer in (("survey_dltb_2023", "survey"), ("buildings", "buildings"), ("enterprises", "enterprises")):
        frame = src[layer]
        atomic(folder / f"{name}.parquet", functools.partial(_parquet, frame))
    atomic(folder / "user_codes.csv", lambda tmp: tmp.write_text(USER_CODES, encoding="utf-8"))
