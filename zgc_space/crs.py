"""Coordinate reference systems: the metric CRS policy and GCJ-02 conversion.

All areas are computed in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548).
GCJ-02 is the obfuscated datum of Chinese web tiles (Gaode, Tencent): converting to it is for
display on such tiles only, never for areas.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["gcj02_to_wgs84", "wgs84_to_gcj02"]

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
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


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02, vectorised.

    For display on Chinese web tiles only; never compute areas on the result.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.31], [39.98])
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (116.3161, 39.98128)
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    dlon, dlat = _offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, iterations: int = 6
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84 by fixed-point iteration.

    Each iteration refines ``wgs = gcj - offset(wgs)``; six iterations bring the round trip
    well below a millimetre in Beijing.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02([116.31], [39.98]))
    >>> round(float(lon[0]), 7), round(float(lat[0]), 7)
    (116.31, 39.98)
    """
    g_lon = np.asarray(lon, dtype=np.float64)
    g_lat = np.asarray(lat, dtype=np.float64)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(iterations):
        dlon, dlat = _offset(w_lon, w_lat)
        w_lon = g_lon - dlon
        w_lat = g_lat - dlat
    return w_lon, w_lat
