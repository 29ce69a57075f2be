"""Guessing the CRS of data in Beijing from coordinate magnitudes (private to zgc_space.crs)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from zgc_space.errors import CRSError

_FIX = "set the right CRS, e.g. gdf.set_crs('EPSG:4548', allow_override=True)"


def _label(source: str | None) -> str:
    return f"'{source}'" if source else "the data"


#: Coordinate ranges that identify a CRS for data in Beijing (lon 115.4-117.6, lat 39.4-41.1),
#: as (x_min, x_max, y_min, y_max).
_GUESS_RANGES = {
    "EPSG:4326": (115.0, 118.0, 39.0, 41.5),
    "EPSG:4548": (300_000.0, 700_000.0, 4_300_000.0, 4_600_000.0),
    "EPSG:4527": (39_300_000.0, 39_700_000.0, 4_300_000.0, 4_600_000.0),
}
_GUESS_NOTES = {
    "EPSG:4326": "GCJ-02 web-map coordinates look the same; if the data come from Gaode or "
    "Tencent, convert them with zgc_space.crs.gcj02_to_wgs84",
    "EPSG:4548": "Beijing 1954 (EPSG:2436), Xian 1980 (EPSG:2384) and UTM 50N look the same",
    "EPSG:4527": "Beijing 1954 (EPSG:2415) and Xian 1980 (EPSG:2363) look the same",
}

def _bounds(obj: object) -> tuple[float, float, float, float]:
    """Total bounds of a frame, series or geometry array, or a 4-sequence taken as bounds."""
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        values = obj.total_bounds
    elif isinstance(obj, shapely.Geometry):
        values = np.asarray(obj.bounds, dtype=float)
    else:
        values = np.asarray(obj, dtype=float).ravel()
        if values.size != 4:
            raise TypeError(
                "guess_crs expects a GeoDataFrame, GeoSeries, geometry or "
                f"(minx, miny, maxx, maxy) bounds, got {type(obj).__name__} of size {values.size}"
            )
    minx, miny, maxx, maxy = (float(v) for v in values)
    return minx, miny, maxx, maxy


def _within(bounds: tuple[float, float, float, float], window: tuple[float, ...]) -> bool:
    minx, miny, maxx, maxy = bounds
    x0, x1, y0, y1 = window
    return x0 <= minx <= maxx <= x1 and y0 <= miny <= maxy <= y1


def guess_crs(bounds_or_frame: object, *, source: str | None = None) -> str:
    """Guess the CRS of data in Beijing from coordinate magnitudes.

    Only three systems are told apart, and only when every coordinate fits one of them:
    longitude/latitude ("EPSG:4326": lon 115.0-118.0, lat 39.0-41.5), CGCS2000 3-degree
    Gauss-Kruger CM 117E ("EPSG:4548": eastings 300-700 km, northings 4.3-4.6e6 m) and the same
    projection with the "39" zone prefix ("EPSG:4527": eastings 3.93e7-3.97e7 m). Systems with
    the same magnitudes (Beijing 1954, Xian 1980, GCJ-02) cannot be told apart; set the CRS
    yourself when you know it.

    Parameters
    ----------
    bounds_or_frame
        A GeoDataFrame, GeoSeries, shapely geometry or ``(minx, miny, maxx, maxy)``.
    source
        Where the data come from (e.g. a file path), quoted in the error message.

    Returns
    -------
    str
        ``"EPSG:4326"``, ``"EPSG:4548"`` or ``"EPSG:4527"``.

    Raises
    ------
    CRSError
        If the data are empty, or the magnitudes fit none of the three systems (a local city
        system, another zone, or data outside Beijing).

    Examples
    --------
    >>> guess_crs((116.29, 39.96, 116.33, 40.00))
    'EPSG:4326'
    >>> guess_crs((441_000.0, 4_426_000.0, 444_000.0, 4_429_000.0))
    'EPSG:4548'
    >>> guess_crs((39_441_000.0, 4_426_000.0, 39_444_000.0, 4_429_000.0))
    'EPSG:4527'
    """
    bounds = _bounds(bounds_or_frame)
    if not all(math.isfinite(v) for v in bounds):
        raise CRSError(f"cannot guess the CRS of {_label(source)}: it has no coordinates (empty data); {_FIX}")
    for name, window in _GUESS_RANGES.items():
        if _within(bounds, window):
            return name
    minx, miny, maxx, maxy = bounds
    expected = "; ".join(
        f"{name}: x {w[0]:,.0f} to {w[1]:,.0f}, y {w[2]:,.0f} to {w[3]:,.0f}" for name, w in _GUESS_RANGES.items()
    )
    raise CRSError(
        f"cannot guess the CRS of {_label(source)}: x runs {minx:,.6g} to {maxx:,.6g} and "
        f"y runs {miny:,.6g} to {maxy:,.6g}, which fits none of the systems used for Beijing "
        f"({expected}). It may be a local city system, another zone or data outside Beijing; "
        "find out the CRS from the data provider and set it, "
        "e.g. gdf.set_crs('EPSG:4548')"
    )
