"""Sample rasters: 10 m building height and land cover over 石景山园 and 丰台园.

For every block lying wholly inside the grid, the rasters agree with its table row:

* land cover: ``round(built_m2 / 100)`` pixels of class 1 (built), ``round(B / 100)`` of class 4
  (bare), the rest vegetation (2) or water (3); counted on pixels whose centre is in the block;
* building height: whole storeys of 3 m on ``round(footprint_m2 / 100)`` built pixels, all at least
  15 m inside the block (so centre-of-pixel and coverage-weighted zonal sums agree), with
  ``Σ height / 3 m × 100 m² = round(gfa_m2 / 100) × 100 m²``.

Outside the blocks both rasters show a plausible urban background.
"""

from __future__ import annotations

from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage

from zgc_space.schema import METRIC_CRS

__all__: list[str] = []

#: Sub-parks the rasters cover.
RASTER_SUBPARKS = ("石景山园", "丰台园")
PIXEL_M = 10.0
STOREY_M = 3.0
HEIGHT_NODATA = -9999.0
LANDCOVER_NODATA = 0
#: Land-cover class codes.
LANDCOVER_CLASSES = {1: "built", 2: "vegetation", 3: "water", 4: "bare"}
_INTERIOR_M = 15.0
_MARGIN_M = 300.0


def _field(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Smooth standard-normal noise with a correlation length of about ``cell`` pixels."""
    coarse = rng.normal(size=(shape[0] // cell + 3, shape[1] // cell + 3))
    fine = ndimage.zoom(coarse, cell, order=3, prefilter=False)[: shape[0], : shape[1]]
    return cast("np.ndarray", (fine - fine.mean()) / fine.std())


def _storeys(rng: np.random.Generator, total: int, n: int) -> np.ndarray:
    """Split ``total`` storeys over ``n`` pixels, at least one each (largest remainder)."""
    weights = rng.lognormal(0.0, 0.6, n)
    share = (total - n) * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    rest = int(total - n - out.sum())
    if rest > 0:
        out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return cast("np.ndarray", out + 1)


def grid(blocks: gpd.GeoDataFrame) -> tuple[Affine, int, int]:
    """Return (transform, width, height) of the 10 m grid over :data:`RASTER_SUBPARKS`."""
    sel = blocks[blocks["subpark"].isin(RASTER_SUBPARKS)]
    minx, miny, maxx, maxy = sel.total_bounds
    minx = np.floor((minx - _MARGIN_M) / 1000) * 1000
    miny = np.floor((miny - _MARGIN_M) / 1000) * 1000
    maxx = np.ceil((maxx + _MARGIN_M) / 1000) * 1000
    maxy = np.ceil((maxy + _MARGIN_M) / 1000) * 1000
    width, height = int((maxx - minx) / PIXEL_M), int((maxy - miny) / PIXEL_M)
    return Affine(PIXEL_M, 0.0, float(minx), 0.0, -PIXEL_M, float(maxy)), width, height


def covered(blocks: gpd.GeoDataFrame) -> np.ndarray:
    """Boolean mask of the blocks lying wholly inside the raster grid."""
    transform, width, height = grid(blocks)
    box = shapely.box(transform.c, transform.f - height * PIXEL_M, transform.c + width * PIXEL_M, transform.f)
    return cast("np.ndarray", shapely.contains(box, blocks.geometry.to_numpy()))


def make_rasters(rng: np.random.Generator, blocks: gpd.GeoDataFrame) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
    """Return ``{"building_height_10m": (array, profile), "landcover_10m": (array, profile)}``."""
    transform, width, height = grid(blocks)
    shape = (height, width)
    box = shapely.box(transform.c, transform.f - height * PIXEL_M, transform.c + width * PIXEL_M, transform.f)
    geoms = blocks.geometry.to_numpy()
    touching = np.flatnonzero(shapely.intersects(box, geoms))
    inside = shapely.contains(box, geoms)
    labels = features.rasterize(
        [(geoms[i], i + 1) for i in touching], out_shape=shape, transform=transform, fill=0, dtype="int32"
    ).ravel()
    inner = [(g, 1) for g in shapely.buffer(geoms[touching], -_INTERIOR_M) if not g.is_empty]
    interior = features.rasterize(inner, out_shape=shape, transform=transform, fill=0, dtype="uint8").ravel() > 0
    score, tall, wet, ground = (_field(rng, shape, c).ravel() for c in (12, 6, 25, 40))

    cover = np.where(ground > -0.1, 1, 2).astype(np.uint8)
    cover[(ground > -0.35) & (ground <= -0.1)] = 4
    cover[wet > 1.9] = 3
    heights = np.zeros(cover.size, dtype=np.float32)
    town = (cover == 1) & (tall > 0.3)
    heights[town] = STOREY_M * np.clip(np.round(np.exp(1.2 + 0.6 * tall[town])), 1, 30)

    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(len(blocks) + 2))
    cols = ["site_area_m2", "built_m2", "ready_m2", "unready_m2", "nonconstruction_m2", "footprint_m2", "gfa_m2"]
    values = blocks[cols].to_numpy()
    px = PIXEL_M * PIXEL_M
    for i in touching:
        pix = order[starts[i + 1]: starts[i + 2]]
        if pix.size == 0:
            continue
        site, built, ready, unready, nonc, foot, gfa = values[i]
        scale = 1.0 if inside[i] else pix.size * px / site
        n_built = min(int(round(built * scale / px)), pix.size)
        n_bare = min(int(round((ready + unready) * scale / px)), pix.size - n_built)
        ranked = pix[np.argsort(-(score[pix] + 3.0 * interior[pix]), kind="stable")]
        built_px, rest = ranked[:n_built], ranked[n_built:]
        rest = rest[np.argsort(-ground[rest], kind="stable")]
        cover[built_px] = 1
        cover[rest[:n_bare]] = 4
        green = rest[n_bare:]
        cover[green] = np.where((wet[green] > 1.0) & (nonc > 0), 3, 2)
        heights[pix] = 0.0
        n_bldg = min(int(round(foot * scale / px)), n_built)
        if n_bldg == 0:
            continue
        bldg = built_px[np.argsort(-(tall[built_px] + 10.0 * interior[built_px]), kind="stable")[:n_bldg]]
        total = max(int(round(gfa * scale / px)), n_bldg)
        heights[bldg] = STOREY_M * _storeys(rng, total, n_bldg)

    base = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "crs": METRIC_CRS,
        "transform": transform, "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "ZSTD",
    }
    return {
        "building_height_10m": (
            heights.reshape(shape), base | {"dtype": "float32", "nodata": HEIGHT_NODATA, "predictor": 3}
        ),
        "landcover_10m": (cover.reshape(shape), base | {"dtype": "uint8", "nodata": LANDCOVER_NODATA}),
    }
