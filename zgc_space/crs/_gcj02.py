"""GCJ-02 mathematics: the published offset formula, its inverse and a per-vertex transform.

Users call :func:`zgc_space.crs.wgs84_to_gcj02` and :func:`zgc_space.crs.gcj02_to_wgs84`,
which check the CRS and extent of their input and then use these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

_Frame = TypeVar("_Frame", gpd.GeoDataFrame, gpd.GeoSeries)
_Pair = tuple[NDArray[np.float64], NDArray[np.float64]]
#: A vectorised conversion of (longitude, latitude) arrays.
PairFunc = Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair]

#: Longitude/latitude window where GCJ-02 is defined (mainland China), as (x0, x1, y0, y1).
CHINA = (73.0, 136.0, 3.0, 54.0)

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323


def offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 coordinates."""
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    sin_x6 = np.sin(6.0 * x * np.pi)
    sin_x2 = np.sin(2.0 * x * np.pi)
    common = (20.0 * sin_x6 + 20.0 * sin_x2) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def to_gcj(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    """WGS84 to GCJ-02: add the offset."""
    dlon, dlat = offset(lon, lat)
    return lon + dlon, lat + dlat


def from_gcj(lon: NDArray[np.float64], lat: NDArray[np.float64], iterations: int) -> _Pair:
    """GCJ-02 to WGS84: ``iterations`` fixed-point steps of ``wgs = gcj - offset(wgs)``."""
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(iterations):
        dlon, dlat = offset(w_lon, w_lat)
        w_lon = lon - dlon
        w_lat = lat - dlat
    return w_lon, w_lat


def convert_vertices(obj: _Frame, func: PairFunc, *, crs: str) -> _Frame:
    """Apply ``func`` to the (x, y) of every vertex (z kept); return a copy labelled ``crs``."""

    def on_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    geoms = np.asarray(obj.geometry.array, dtype=object)
    has_z = shapely.has_z(geoms)
    converted = shapely.transform(geoms, on_coords, include_z=False)
    if has_z.any():
        converted[has_z] = shapely.transform(geoms[has_z], on_coords, include_z=True)
    series = gpd.GeoSeries(converted, index=obj.index, crs=crs, name=obj.geometry.name)
    if isinstance(obj, gpd.GeoSeries):
        return series
    out = obj.copy()
    out[obj.geometry.name] = series
    return out.set_crs(crs, allow_override=True)
