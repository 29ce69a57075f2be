"""Geometry of the sample data: the district layer and the irregular, non-overlapping blocks.

Blocks are unions of a few rectangles aligned on a local street grid (L-, T- and U-shaped
plots), some with a hole, some in two parts, scaled to an exact target area and placed one by one
around their cluster's centre, inside their district (with an inner margin), never closer than
:data:`GAP_M` to another block.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from zgc_space.datasets._parks import ORDINALS, PARKS
from zgc_space.schema import METRIC_CRS, SUBPARKS

__all__: list[str] = []

logger = logging.getLogger(__name__)

#: The generalised district layer shipped with the package (built by :func:`build_districts`).
DISTRICTS_FILE = Path(__file__).parent / "data" / "beijing_districts.gpkg"
DISTRICTS_LICENSE = Path(__file__).parent / "data" / "districts.LICENSE.txt"
#: Minimum distance between two blocks (a road), metres.
GAP_M = 30.0
#: Blocks keep this distance from their district's (generalised) boundary, metres.
DISTRICT_MARGIN_M = 50.0
#: Tolerance of the district generalisation (shapely.coverage_simplify), metres.
SIMPLIFY_M = 20.0


def build_districts(shapefile: str | Path) -> gpd.GeoDataFrame:
    """Convert the GCJ-02 district shapefile to WGS84, project to EPSG:4548 and generalise it."""
    from zgc_space.crs import gcj02_to_wgs84

    raw = gpd.read_file(shapefile)[["name", "adcode", "geometry"]]

    def to_wgs(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    wgs = shapely.transform(raw.geometry.to_numpy(), to_wgs)
    metric = gpd.GeoSeries(wgs, crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    simple = shapely.coverage_simplify(metric, SIMPLIFY_M)
    simple = shapely.set_precision(simple, 0.01)
    frame = gpd.GeoDataFrame(
        {"name": raw["name"].astype(str), "adcode": raw["adcode"].astype(str)},
        geometry=gpd.GeoSeries(simple, crs=METRIC_CRS),
    )
    return frame.sort_values("adcode", ignore_index=True)


def load_districts() -> gpd.GeoDataFrame:
    """Read the packaged generalised district layer (EPSG:4548)."""
    frame = gpd.read_file(DISTRICTS_FILE)
    return frame.sort_values("adcode", ignore_index=True)


def _rect(rng: np.random.Generator, cx: float, cy: float, angle: float) -> shapely.Polygon:
    w = rng.uniform(0.6, 1.4)
    h = w * rng.uniform(0.35, 1.0)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 + rng.normal(0, 0.04, (4, 2))
    poly = shapely.Polygon(corners)
    return affinity.translate(affinity.rotate(poly, angle, origin=(0, 0)), cx, cy)


def _piece(rng: np.random.Generator, angle: float, n_rects: int) -> shapely.Geometry:
    shape = _rect(rng, 0.0, 0.0, angle + rng.normal(0, 4))
    for _ in range(n_rects - 1):
        cx, cy = rng.normal(0, 0.45, 2)
        turn = float(rng.choice([0.0, 90.0]))
        rect = _rect(rng, cx, cy, angle + turn + rng.normal(0, 4))
        if rect.intersection(shape).area > 0.05 * rect.area:  # keep one connected plot
            shape = shape.union(rect)
    # cut corners with a random polygon: diagonal roads, rivers, irregular old lots
    cx, cy = shapely.centroid(shape).coords[0]
    reach = np.sqrt(shape.area) * rng.uniform(0.55, 0.8)
    theta = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 10))))
    radius = reach * rng.uniform(0.8, 1.3, theta.size)
    knife = shapely.Polygon(np.column_stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)]))
    cut = shape.intersection(knife.buffer(0))
    if cut.geom_type == "Polygon" and cut.area > 0.6 * shape.area:
        shape = cut
    return shape


def _hole(rng: np.random.Generator, shape: shapely.Geometry) -> shapely.Geometry:
    """Cut a small rectangular hole (a village, a reservoir) well inside ``shape``."""
    size = np.sqrt(shape.area) * rng.uniform(0.12, 0.22)
    inner = shape.buffer(-size)
    if inner.is_empty:
        return shape
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(50):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if inner.contains(shapely.Point(x, y)):
            hole = shapely.box(x - size / 2, y - size / 3, x + size / 2, y + size / 3)
            return shape.difference(affinity.rotate(hole, rng.uniform(0, 90)))
    return shape


def random_shape(rng: np.random.Generator, area_m2: float, *, hole: bool, multi: bool) -> shapely.Geometry:
    """Return an irregular plot of exactly ``area_m2`` centred near (0, 0)."""
    angle = rng.uniform(0, 180)
    shape = _piece(rng, angle, int(rng.integers(1, 4)))
    if hole:
        shape = _hole(rng, shape)
    if multi:
        extra = _piece(rng, angle, int(rng.integers(1, 3)))
        extra = affinity.scale(extra, 0.45, 0.45, origin=(0, 0))
        theta = rng.uniform(0, 2 * np.pi)
        reach = np.sqrt(shape.area) + rng.uniform(0.15, 0.5)
        extra = affinity.translate(extra, reach * np.cos(theta), reach * np.sin(theta))
        if not extra.intersects(shape.buffer(0.05)):
            shape = shapely.union_all([shape, extra])
    scale = np.sqrt(area_m2 / shape.area)
    shape = affinity.scale(shape, scale, scale, origin=(0, 0))
    return shapely.normalize(shapely.set_precision(shape, 0.01))


def _sizes(rng: np.random.Generator, total_m2: float, n: int) -> np.ndarray:
    """Lognormal block sizes summing to ``total_m2``, each within [0.05, 30] km²."""
    lo, hi = 0.05e6, 30e6
    sizes = rng.lognormal(0.0, 1.25, n)
    for _ in range(50):
        sizes = np.clip(sizes * total_m2 / sizes.sum(), lo, hi)
    free = (sizes > lo) & (sizes < hi)
    sizes[free] *= (total_m2 - sizes[~free].sum()) / sizes[free].sum()
    return np.sort(sizes)[::-1]


class _Placer:
    """Place shapes one by one inside a region, away from every shape placed before."""

    def __init__(self) -> None:
        self.placed: list[shapely.Geometry] = []
        self._boxes = np.empty((0, 4))

    def fits(self, shape: shapely.Geometry, region: shapely.Geometry) -> bool:
        if not region.contains(shape):
            return False
        minx, miny, maxx, maxy = shape.bounds
        b = self._boxes
        near = (b[:, 0] < maxx + GAP_M) & (b[:, 2] > minx - GAP_M) & (b[:, 1] < maxy + GAP_M) & (
            b[:, 3] > miny - GAP_M
        )
        idx = np.flatnonzero(near)
        return not idx.size or not shapely.dwithin(np.array(self.placed, dtype=object)[idx], shape, GAP_M).any()

    def add(self, shape: shapely.Geometry) -> None:
        self.placed.append(shape)
        self._boxes = np.vstack([self._boxes, shape.bounds])

    def place(
        self, rng: np.random.Generator, shape: shapely.Geometry, region: shapely.Geometry,
        centre: tuple[float, float], sigma_m: float, *, what: str,
    ) -> shapely.Geometry:
        for attempt in range(3000):
            if attempt and attempt % 300 == 0:
                shape = affinity.rotate(shape, rng.uniform(0, 180), origin=(0, 0))
            spread = sigma_m * (1.0 + attempt / 60.0)
            x, y = np.asarray(centre) + rng.normal(0, spread, 2)
            moved = affinity.translate(shape, round(x, 2), round(y, 2))
            if self.fits(moved, region):
                self.add(moved)
                return moved
        raise RuntimeError(f"could not place {what} ({shape.area / 1e6:.2f} km²) without overlap")


def _project(lat: float, lon: float) -> tuple[float, float]:
    pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    return pt.x, pt.y


def _regions(districts: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    regions = {}
    for name, geom in zip(districts["name"], districts.geometry, strict=True):
        inner = geom.buffer(-DISTRICT_MARGIN_M)
        shapely.prepare(inner)
        regions[name] = inner
    return regions


def _cluster_centres(
    rng: np.random.Generator, centre: tuple[float, float], n: int, region: shapely.Geometry, area_m2: float
) -> list[tuple[float, float]]:
    centres = [centre]
    while len(centres) < n:
        for _ in range(200):
            r = np.sqrt(area_m2) * rng.uniform(0.5, 1.0)
            theta = rng.uniform(0, 2 * np.pi)
            x, y = centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)
            if region.contains(shapely.Point(x, y)):
                break
        centres.append((x, y))
    return centres


def place_blocks(
    rng: np.random.Generator, districts: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, _Placer, dict[str, shapely.Geometry]]:
    """Return the 164 block geometries with identity columns (block_id, name, subpark, ...)."""
    regions = _regions(districts)
    placer = _Placer()
    rows = []
    for park in PARKS.values():
        district = SUBPARKS[park.name].district
        region = regions[district]
        centre = _project(*SUBPARKS[park.name].centre)
        sizes = _sizes(rng, park.area_km2 * 1e6, park.n_blocks)
        n_clusters = min(len(park.places), max(1, park.n_blocks // 4))
        centres = _cluster_centres(rng, centre, n_clusters, region, park.area_km2 * 1e6)
        counters = [0] * n_clusters
        for i, size in enumerate(sizes):
            k = i % n_clusters
            hole = bool(size > 0.4e6 and rng.random() < 0.2)
            multi = bool(size > 0.2e6 and rng.random() < 0.1)
            shape = random_shape(rng, float(size), hole=hole, multi=multi)
            sigma = np.sqrt(park.area_km2 * 1e6 / n_clusters) * 0.35
            geom = placer.place(rng, shape, region, centres[k], sigma, what=f"a block of {park.name}")
            rows.append({
                "name": f"{park.places[k]}{ORDINALS[counters[k]]}区",
                "subpark": park.name,
                "cluster": f"{park.name}-{k + 1}",
                "district": district,
                "geometry": geom,
            })
            counters[k] += 1
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_CRS)
    order = np.lexsort((-frame.geometry.area.to_numpy(), frame["subpark"].map(list(PARKS).index).to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "block_id", [f"B{i + 1:03d}" for i in range(len(frame))])
    return frame, placer, regions


#: Where candidate areas go: (sub-park whose centre they start from, distance factor).
_CANDIDATE_SITES: tuple[tuple[str, float], ...] = (
    ("海淀园", 1.0), ("海淀园", 1.4), ("海淀园", 1.8), ("朝阳园", 1.2), ("朝阳园", 1.6),
    ("丰台园", 1.3), ("丰台园", 1.8), ("昌平园", 1.2), ("昌平园", 2.0), ("亦庄园", 1.5),
    ("通州园", 2.0), ("顺义园", 2.5), ("大兴园", 2.0), ("房山园", 2.5), ("门头沟园", 2.5),
    ("怀柔园", 3.0), ("密云园", 3.0), ("延庆园", 3.0), ("平谷园", 3.0), ("石景山园", 2.5),
)


def place_candidates(
    rng: np.random.Generator, placer: _Placer, regions: dict[str, shapely.Geometry]
) -> gpd.GeoDataFrame:
    """Return ~20 candidate areas outside every block, with identity columns."""
    rows = []
    for i, (park, spread) in enumerate(_CANDIDATE_SITES):
        district = SUBPARKS[park].district
        size = float(np.exp(rng.uniform(np.log(0.2e6), np.log(3.0e6))))
        shape = random_shape(rng, size, hole=False, multi=False)
        sigma = np.sqrt(PARKS[park].area_km2 * 1e6) * 0.4 * spread
        geom = placer.place(rng, shape, regions[district], _project(*SUBPARKS[park].centre), sigma,
                            what=f"candidate {i + 1}")
        rows.append({"candidate_id": f"C{i + 1:02d}", "district": district, "geometry": geom})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_CRS)
