r"""Raster enrichment of blocks: zonal statistics, floor area from heights, built-up fraction.

The engine (:mod:`zgc_space._zonal`) streams the raster tile by tile and decodes only the
internal tiles the blocks intersect, so it works on Beijing-wide rasters larger than memory.
Blocks are reprojected to the raster's CRS; the raster is never resampled.

Three pixel rules (``method``): ``"center"`` (a pixel belongs to a block when its centre lies
inside, rasterstats' default), ``"all_touched"`` (every pixel the block touches counts in full)
and ``"exact"`` (every pixel counts with the fraction of its area the block covers,
exactextract's rule). :func:`zonal_stats` gives the statistics of :data:`STATS` and
:data:`PATTERNS` (percentiles, quantiles, majority, weighted means...), each following the
reference of its rule (rasterstats for ``center`` / ``all_touched``, exactextract for
``exact``); see :mod:`zgc_space.raster._stats` for the definitions.

Examples
--------
>>> import geopandas as gpd, numpy as np, rasterio, tempfile, os
>>> from affine import Affine
>>> from shapely import box
>>> tif = os.path.join(tempfile.mkdtemp(), "h.tif")
>>> with rasterio.open(tif, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
...                    crs="EPSG:4548", transform=Affine(10, 0, 441_000, 0, -10, 4_426_100)) as dst:
...     dst.write(np.full((1, 10, 10), 12.0, dtype="float32"))
>>> blocks = gpd.GeoDataFrame({"block_id": ["B1"]},
...     geometry=[box(441_000, 4_426_000, 441_050, 4_426_100)], crs="EPSG:4548")
>>> zonal_stats(blocks, tif, stats="count,mean")
   count  mean
0     50  12.0
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from rasterio.features import rasterize as _gdal_rasterize

from zgc_space import io
from zgc_space.crs import check_crs
from zgc_space.errors import ColumnError, RasterError
from zgc_space.raster._inputs import (
    RasterLike,
    block_geoms,
    is_number,
    metric_area,
    open_raster,
    pixel_ground_m2,
    warn_coverage,
)
from zgc_space.raster._inputs import bands as _bands
from zgc_space.raster._names import PATTERNS, STATS
from zgc_space.raster._reduce import FloorAccumulator
from zgc_space.raster._stats import CATEGORICAL, check_method, run, zonal_stats
from zgc_space.schema import METRIC_CRS

__all__ = ["CATEGORICAL", "HEIGHT_UNITS", "PATTERNS", "STATS", "built_fraction", "floor_area_from_height", "rasterize",
           "zonal_stats"]

logger = logging.getLogger(__name__)

#: Height units understood by :func:`floor_area_from_height`, in metres per unit.
HEIGHT_UNITS: dict[str, float] = {
    "m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0,
    "dm": 0.1, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "foot": 0.3048, "feet": 0.3048,
    "us-ft": 1200 / 3937,
}

def _height_factor(ds: Any, band: int, height_unit: str | None) -> float:
    unit = height_unit
    if unit is None:
        unit = (ds.units[band - 1] or "m") if ds.units else "m"
    key = str(unit).strip().lower()
    if key not in HEIGHT_UNITS:
        where = "height_unit" if height_unit is not None else f"the unit {unit!r} recorded in {ds.name!r}"
        raise RasterError(
            f"{where} is not a known height unit ({unit!r}); pass height_unit= one of "
            f"{', '.join(sorted(HEIGHT_UNITS))}"
        )
    return HEIGHT_UNITS[key]


def floor_area_from_height(
    blocks: gpd.GeoDataFrame,
    height_raster: RasterLike,
    *,
    storey_height_m: float = 3.0,
    min_height_m: float = 2.0,
    height_unit: str | None = None,
    method: str = "exact",
    band: int = 1,
    nodata: float | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    r"""Estimate floor area and footprint per block from a building-height raster.

    Every pixel with height :math:`h \geq` ``min_height_m`` is built; it carries
    :math:`\max(1, \lfloor h / s \rfloor)` storeys of height :math:`s` (the momepy rule), so

    .. math:: \mathrm{GFA} = \sum_i c_i \, a_i \max(1, \lfloor h_i / s \rfloor), \qquad
              \mathrm{footprint} = \sum_{i:\, h_i \ge h_{min}} c_i \, a_i

    with :math:`c_i` the pixel's coverage by the block (``method="exact"``) and :math:`a_i` its
    ground area in m², whatever the raster's CRS: the pixel's area in raster-CRS units times
    the block's scale factor (its area in EPSG:4548 ÷ its area in the raster's CRS). So a
    Web-Mercator (EPSG:3857) or longitude/latitude raster gives the same floor area as a
    EPSG:4548 one, and a block partly outside the raster is not inflated. The scale factor is
    one per block, so the error is the variation of the CRS's area distortion across the
    block: at Beijing's latitude about 0.013 % per km of the block's north-south extent for
    the pixels at its edge with EPSG:3857, half that with EPSG:4326, and nil with a metric
    CRS; block totals average these out.

    Parameters
    ----------
    blocks
        Blocks with a CRS; not modified.
    height_raster
        Building heights (nodata or 0 where there is no building).
    storey_height_m
        Storey height in metres.
    min_height_m
        Lower heights count as unbuilt (walls, noise).
    height_unit
        Unit of the raster's values (``"m"``, ``"dm"``, ``"cm"``, ``"ft"``...); by default the
        unit recorded in the raster, else metres.
    method, band, nodata, threads, progress
        As in :func:`zonal_stats`.

    Returns
    -------
    GeoDataFrame
        A copy of ``blocks`` with ``gfa_m2``, ``footprint_m2``, ``gfa_source = "height_raster"``,
        ``gfa_method`` (the pixel rule) and ``height_valid_fraction`` (share of the block's area
        covered by valid height pixels). Previous ``gfa_m2``, ``footprint_m2`` and ``gfa_source``
        values are kept in ``*_previous`` columns. Blocks with no valid pixel get NaN.

    Raises
    ------
    RasterError
        No valid height pixel under any block, an unknown height unit or ``method``, or a
        ``storey_height_m`` <= 0 or ``min_height_m`` < 0.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, rasterio, tempfile, os
    >>> from affine import Affine
    >>> from shapely import box
    >>> tif = os.path.join(tempfile.mkdtemp(), "h.tif")
    >>> with rasterio.open(tif, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
    ...                    crs="EPSG:4548", transform=Affine(10, 0, 441_000, 0, -10, 4_426_100)) as dst:
    ...     dst.write(np.full((1, 10, 10), 12.0, dtype="float32"))
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1"], "gfa_m2": [9000.0]},
    ...     geometry=[box(441_000, 4_426_000, 441_050, 4_426_100)], crs="EPSG:4548")
    >>> out = floor_area_from_height(blocks, tif)
    >>> out[["gfa_m2", "footprint_m2", "gfa_source", "gfa_m2_previous"]]
        gfa_m2  footprint_m2     gfa_source  gfa_m2_previous
    0  20000.0        5000.0  height_raster           9000.0
    """
    check_method(method)
    if not is_number(storey_height_m, above=0.0):
        raise RasterError(
            f"storey_height_m must be > 0 (got {storey_height_m!r}): it is the height of one storey in metres; "
            "pass e.g. storey_height_m=3.0 (--storey-height-m 3 on the command line)"
        )
    if not is_number(min_height_m, at_least=0.0):
        raise RasterError(
            f"min_height_m must be >= 0 (got {min_height_m!r}): heights below it count as unbuilt; "
            "pass e.g. min_height_m=2.0 (--min-height-m 2 on the command line)"
        )
    with open_raster(height_raster) as ds:
        (b,) = _bands(ds, band)
        geoms = block_geoms(blocks, ds)
        acc = FloorAccumulator(
            len(geoms), to_m=_height_factor(ds, b, height_unit), scale=float(ds.scales[b - 1]),
            offset=float(ds.offsets[b - 1]), storey_m=storey_height_m, min_m=min_height_m,
        )
        nd = ds.nodatavals[b - 1] if nodata is None else nodata
        run(ds, geoms, acc, band=b, method=method, nodata=nd, threads=threads, progress=progress)
        if acc.negative or acc.absurd:
            raise RasterError(
                f"height raster {ds.name!r} has {acc.negative:,} negative and {acc.absurd:,} infinite or absurd "
                f"(above 1000 m) height pixel(s) under the blocks (e.g. {acc.example:g} m), which would count as "
                "unbuilt (floor area 0); set them to nodata (--nodata) or correct the raster"
                " or its unit (--height-unit)"
            )
        if not (acc.valid > 0).any():
            raise RasterError(
                f"height raster {ds.name!r} has no valid pixel under any of the {len(geoms)} blocks "
                "(all nodata or outside); check its extent, CRS and nodata value"
            )
        warn_coverage(blocks, geoms, ds, (acc.valid + acc.nodata) > 0, acc.valid > 0)
        pixel_m2 = pixel_ground_m2(blocks, geoms, ds)
    out = blocks.copy()
    for col in ("gfa_m2", "footprint_m2", "gfa_source"):
        if col in out.columns:
            out[f"{col}_previous"] = out[col]
    empty = acc.valid <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gfa_m2"] = np.where(empty, np.nan, acc.floors * pixel_m2)
        out["footprint_m2"] = np.where(empty, np.nan, acc.built * pixel_m2)
        area = metric_area(blocks)
        out["height_valid_fraction"] = np.where(area > 0, np.minimum(acc.valid * pixel_m2 / area, 1.0), 0.0)
    out["gfa_source"] = "height_raster"
    out["gfa_method"] = method
    return out


def built_fraction(
    blocks: gpd.GeoDataFrame,
    landcover: RasterLike,
    *,
    classes: int | Sequence[int] = (50,),
    method: str = "exact",
    band: int = 1,
    nodata: float | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Share of each block's valid land-cover pixels in the built-up class(es).

    Parameters
    ----------
    blocks
        Blocks with a CRS; not modified.
    landcover
        Integer land-cover raster.
    classes
        Class code(s) counted as built-up (default 50, "Built-up" in ESA WorldCover).
    method, band, nodata, threads
        As in :func:`zonal_stats`.

    Returns
    -------
    DataFrame
        ``built_fraction`` (0-1 of the valid pixels) and ``built_area_m2`` (fraction × the
        block's area in EPSG:4548), aligned to ``blocks.index``.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, rasterio, tempfile, os
    >>> from affine import Affine
    >>> from shapely import box
    >>> tif = os.path.join(tempfile.mkdtemp(), "lc.tif")
    >>> data = np.full((1, 10, 10), 10, dtype="uint8"); data[0, :, :3] = 50
    >>> with rasterio.open(tif, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
    ...                    crs="EPSG:4548", transform=Affine(10, 0, 441_000, 0, -10, 4_426_100)) as dst:
    ...     dst.write(data)
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1"]},
    ...     geometry=[box(441_000, 4_426_000, 441_050, 4_426_100)], crs="EPSG:4548")
    >>> built_fraction(blocks, tif, classes=50)
       built_fraction  built_area_m2
    0             0.6         3000.0
    """
    wanted = [classes] if isinstance(classes, (int, np.integer)) else list(classes)
    counts = zonal_stats(blocks, landcover, categorical=True, method=method, band=band, nodata=nodata,
                         threads=threads)
    total = counts.sum(axis=1).to_numpy(dtype=np.float64)
    hit = counts[[c for c in counts.columns if c in set(wanted)]].sum(axis=1).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, hit / total, np.nan)
    return pd.DataFrame({"built_fraction": frac, "built_area_m2": frac * metric_area(blocks)}, index=blocks.index)


def rasterize(
    blocks: gpd.GeoDataFrame,
    column: str,
    *,
    resolution_m: float,
    path: str | os.PathLike[str],
    nodata: float = -9999.0,
    all_touched: bool = False,
) -> Path:
    """Burn a numeric block column into a tiled, DEFLATE-compressed float32 GeoTIFF (EPSG:4548).

    Pixels whose centre lies in no block get ``nodata``; where blocks overlap, the later row
    wins. The file is written to a temporary name and renamed (atomic).

    Examples
    --------
    >>> import geopandas as gpd, rasterio, tempfile, os
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"far": [1.5]},
    ...     geometry=[box(441_000, 4_426_000, 441_100, 4_426_100)], crs="EPSG:4548")
    >>> out = rasterize(blocks, "far", resolution_m=10, path=os.path.join(tempfile.mkdtemp(), "far.tif"))
    >>> with rasterio.open(out) as ds:
    ...     ds.shape, ds.crs.to_epsg(), float(ds.read(1).mean()), ds.nodata
    ((10, 10), 4548, 1.5, -9999.0)
    """
    if column not in blocks.columns:
        raise ColumnError(f"`blocks` has no column {column!r}; choose one of {list(blocks.columns)}")
    values = pd.to_numeric(blocks[column], errors="coerce").to_numpy(dtype=np.float64)
    if not is_number(resolution_m, above=0.0):
        raise RasterError(
            f"resolution_m must be positive (got {resolution_m!r}): it is the pixel size in metres of the "
            f"raster written for column {column!r}; pass e.g. resolution_m=10"
        )
    check_crs(blocks, source="blocks")
    geo = blocks.geometry if blocks.crs.equals(METRIC_CRS) else blocks.geometry.to_crs(METRIC_CRS)
    minx, miny, maxx, maxy = geo.total_bounds
    x0 = np.floor(minx / resolution_m) * resolution_m
    y1 = np.ceil(maxy / resolution_m) * resolution_m
    width = max(1, int(np.ceil((maxx - x0) / resolution_m)))
    height = max(1, int(np.ceil((y1 - miny) / resolution_m)))
    transform = Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1)
    shapes = [(g, v) for g, v in zip(geo.values, values, strict=True) if g is not None and np.isfinite(v)]
    data = _gdal_rasterize(shapes, out_shape=(height, width), transform=transform, fill=nodata,
                           all_touched=all_touched, dtype="float32") if shapes else \
        np.full((height, width), nodata, dtype="float32")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
        "crs": METRIC_CRS, "transform": transform, "nodata": nodata, "compress": "deflate",
        "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    with io.atomic_files([target]) as (tmp,), rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(1, column=column)
    return target
