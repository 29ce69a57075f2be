"""Plumbing for :mod:`zgc_space.raster`.

Opening rasters, choosing bands, block geometries in the raster's CRS, the one coverage
warning, metric block areas and the ground area of a pixel in each block.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from zgc_space.blocks import geometry_problems
from zgc_space.crs import check_crs
from zgc_space.errors import BlockValidationError, CRSError, RasterCoverageWarning, RasterError, list_ids
from zgc_space.schema import METRIC_CRS

RasterLike = str | os.PathLike[str] | Any


@contextlib.contextmanager
def open_raster(raster: RasterLike) -> Iterator[Any]:
    """Open a path (or pass through an open rasterio dataset) and check it has a CRS."""
    ds: Any
    if hasattr(raster, "read") and hasattr(raster, "transform"):
        ds, owned = raster, False
    else:
        try:
            ds, owned = rasterio.open(raster), True
        except rasterio.errors.RasterioError as exc:
            raise RasterError(f"cannot open raster {str(raster)!r}: {exc}") from exc
    try:
        check_declared_size(ds)
        if ds.crs is None:
            raise CRSError(
                f"raster {ds.name!r} has no CRS; assign one first, e.g. "
                "`gdal_edit.py -a_srs EPSG:4548 FILE` (never guess the grid of a raster)"
            )
        yield ds
    finally:
        if owned:
            ds.close()


#: The most memory one internal tile or strip of a raster may need once decoded: reads go tile by tile.
MAX_TILE_BYTES = 256 << 20


def check_declared_size(ds: Any) -> None:
    """Refuse a raster whose header declares more than can be read, before reading any pixel.

    A hacked or truncated header can declare 10^12 pixels in a 1 kB file: an uncompressed raster
    must hold the bytes it declares, and one internal tile or strip must fit in
    :data:`MAX_TILE_BYTES` (windowed reads decode whole tiles).
    """
    name = ds.name
    itemsize = max(np.dtype(d).itemsize for d in ds.dtypes)
    rows, cols = ds.block_shapes[0] if ds.block_shapes else (ds.height, ds.width)
    tile = int(rows) * int(cols) * itemsize * (ds.count if ds.interleaving and ds.interleaving.name == "PIXEL" else 1)
    if tile > MAX_TILE_BYTES:
        raise RasterError(
            f"raster {name!r} declares {ds.width:,} x {ds.height:,} pixels in internal blocks of {cols:,} x {rows:,}, "
            f"so one block needs {tile / 2**30:.1f} GiB of memory (at most {MAX_TILE_BYTES >> 20} MiB is allowed); "
            "if the file is genuine, re-tile it (gdal_translate -co TILED=YES -co COMPRESS=ZSTD IN OUT), "
            "otherwise its header is corrupt"
        )
    declared = ds.width * ds.height * ds.count * itemsize
    compressed = ds.compression is not None
    try:
        size = os.path.getsize(name)
    except (OSError, TypeError):
        return
    if not compressed and declared > 2 * size + (1 << 20):
        raise RasterError(
            f"raster {name!r} declares {ds.width:,} x {ds.height:,} uncompressed pixels ({declared / 2**30:,.1f} GiB) "
            f"but the file holds {size:,} bytes: it is truncated or its header is corrupt; get the file again"
        )


def is_number(value: Any, *, above: float | None = None, at_least: float | None = None) -> bool:
    """Tell whether ``value`` is a finite real number > ``above`` (or >= ``at_least``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    number = float(value)
    return bool(np.isfinite(number) and (above is None or number > above) and (at_least is None or number >= at_least))


def bands(ds: Any, band: int | Sequence[int]) -> list[int]:
    bands = [band] if isinstance(band, (int, np.integer)) else list(band)
    bad = [b for b in bands if not 1 <= int(b) <= ds.count]
    if not bands or bad:
        raise RasterError(f"raster {ds.name!r} has bands 1..{ds.count}; band={band!r} is not among them")
    return [int(b) for b in bands]


def block_geoms(blocks: gpd.GeoDataFrame, ds: Any) -> np.ndarray:
    """Block geometries as a shapely array in the raster's CRS.

    Refuses blocks that are not areas (points and lines would count no pixel) and blocks with
    NaN or infinite vertices, before and after the reprojection (a vertex outside the raster
    CRS's domain becomes infinite). Empty geometries pass (count 0, named in the warning).
    """
    check_crs(blocks, source="blocks")
    problems = geometry_problems(blocks)
    if problems:
        raise BlockValidationError(
            "zonal statistics need polygon blocks with finite vertices: " + "; ".join(map(str, problems)), problems
        )
    geo = blocks.geometry
    if not geo.crs.equals(ds.crs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            geo = geo.to_crs(ds.crs)
        lost = [p for p in geometry_problems(gpd.GeoDataFrame(blocks.drop(columns=blocks.geometry.name), geometry=geo))
                if p.rule == "non-finite-vertex"]
        if lost:
            raise CRSError(
                f"reprojecting the blocks from {blocks.crs.to_string()} to the CRS of raster {ds.name!r} "
                f"({ds.crs.to_string()}) gives infinite coordinates: {lost[0].message.split(': ', 1)[1]}; "
                "they lie outside the area where the raster's CRS is defined: check both CRSs, or warp the raster"
            )
    return np.asarray(geo.values, dtype=object)


def _ids(blocks: gpd.GeoDataFrame, positions: np.ndarray) -> str:
    labels = blocks["block_id"] if "block_id" in blocks.columns else pd.Series(blocks.index, index=blocks.index)
    return list_ids([str(v) for v in labels.iloc[positions]])


def warn_coverage(blocks: gpd.GeoDataFrame, geoms: np.ndarray, ds: Any, seen: np.ndarray, valid: np.ndarray) -> None:
    """One warning naming blocks outside, partly outside, or with only nodata pixels."""
    left, bottom, right, top = ds.bounds
    # a box covers a geometry exactly when it covers the geometry's bounds (empty: NaN, not covered)
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    with np.errstate(invalid="ignore"):
        inside = ((x0 >= min(left, right)) & (x1 <= max(left, right))
                  & (y0 >= min(bottom, top)) & (y1 <= max(bottom, top)))
    if len(geoms) and not seen.any():
        raise RasterError(
            f"raster {ds.name!r} covers none of the {len(geoms)} blocks (raster bounds {left:,.0f}, {bottom:,.0f}, "
            f"{right:,.0f}, {top:,.0f} in {ds.crs.to_string()}; blocks {np.nanmin(x0):,.0f}, {np.nanmin(y0):,.0f}, "
            f"{np.nanmax(x1):,.0f}, {np.nanmax(y1):,.0f}), so every statistic would be empty or zero; check the "
            "raster's CRS and that it is the right area (and its nodata value)"
        )
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    outside = np.flatnonzero(~seen & ~empty)
    partly = np.flatnonzero(seen & ~inside)
    blank = np.flatnonzero(seen & ~valid)
    parts = []
    if empty.any():
        parts.append(f"{int(empty.sum())} block(s) have an empty geometry ({_ids(blocks, np.flatnonzero(empty))})")
    if outside.size:
        parts.append(f"{outside.size} block(s) lie wholly outside the raster ({_ids(blocks, outside)})")
    if partly.size:
        parts.append(f"{partly.size} block(s) lie partly outside it ({_ids(blocks, partly)})")
    if blank.size:
        parts.append(f"{blank.size} block(s) see only nodata pixels ({_ids(blocks, blank)})")
    if parts:
        warnings.warn(
            f"raster {ds.name!r}: " + "; ".join(parts) + ". Their statistics cover only the pixels "
            "inside (where none: count and sum 0, other statistics NaN); use a raster covering every block to "
            "silence this.",
            RasterCoverageWarning,
            stacklevel=3,
        )


def metric_area(blocks: gpd.GeoDataFrame) -> np.ndarray:
    geo = blocks.geometry
    if not geo.crs.equals(METRIC_CRS):
        geo = geo.to_crs(METRIC_CRS)
    return cast("np.ndarray", geo.area.to_numpy())


def pixel_ground_m2(blocks: gpd.GeoDataFrame, geoms: np.ndarray, ds: Any) -> np.ndarray:
    r"""Ground area (m²) of one raster pixel in each block, whatever the raster's CRS.

    A pixel covers :math:`|a \cdot e|` square raster-CRS units (degrees² on a geographic
    raster, "metres" of Web Mercator on EPSG:3857). The block's scale factor, its true area in
    EPSG:4548 divided by its area in the raster's CRS (``geoms``, the block reprojected),
    converts that to m². The factor does not depend on how much of the block the raster
    covers. Within a block the CRS's area distortion varies with latitude φ: for EPSG:3857 the
    error on one pixel is about :math:`2 \tan\varphi \, (\varphi - \bar\varphi)` (for a
    geographic CRS half that), i.e. under ±0.03 % for a block 2 km tall at Beijing's 40° N;
    block totals are an average of these and are closer still. Blocks with no area in the
    raster's CRS (empty) get NaN.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = metric_area(blocks) / shapely.area(geoms)
    return cast("np.ndarray", abs(ds.transform.a * ds.transform.e) * np.where(np.isfinite(scale), scale, np.nan))
