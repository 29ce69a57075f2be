"""Coordinate reference systems: the metric CRS policy and GCJ-02 conversion.

All areas are computed in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548); maps are drawn
in EPSG:4326. The policy (Beijing's coordinate practice: CGCS2000 3° Gauss-Krüger):

* accepted and reprojected to EPSG:4548: EPSG:4527 (same projection, "39" zone prefix on
  eastings), EPSG:4490 (CGCS2000), EPSG:4326 (WGS 84), Beijing 1954 (EPSG:2436 / 2415), Xian 1980
  (EPSG:2384 / 2363) and any other EPSG geographic or projected CRS that puts the data in Beijing.
  Proj strings without a datum name are recognised by their projection and ellipsoid. PROJ has
  no Beijing 1954 / Xian 1980 to CGCS2000 datum shift for Beijing, so such positions may be off
  by tens of metres (areas are not affected) unless the CRS carries ``+towgs84`` parameters;
* refused: EPSG:4547 (CM 114E, the wrong zone for Beijing), local or engineering systems such as
  Beijing's local city system (its parameters come from the surveying authority), custom CRSs
  that match no EPSG code, and any CRS that puts the data outside Beijing;
* a missing CRS is guessed from coordinate magnitudes only where that is unambiguous
  (:func:`guess_crs`), with a warning naming the guess.

GCJ-02 is the obfuscated datum of Chinese web tiles (Gaode, Tencent): converting to it is for
display on such tiles only, never for areas. :func:`gcj02_to_wgs84` also repairs data that carry
GCJ-02 coordinates under a WGS 84 label.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import TypeVar, overload

import geopandas as gpd
import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from zgc_space.crs import _gcj02
from zgc_space.crs._guess import _GUESS_NOTES, _within, guess_crs
from zgc_space.errors import CRSError, CRSGuessWarning, ReprojectionWarning
from zgc_space.schema import METRIC_CRS

__all__ = [
    "DISPLAY_CRS",
    "METRIC_CRS",
    "check_crs",
    "gcj02_to_wgs84",
    "guess_crs",
    "to_display",
    "to_metric",
    "wgs84_to_gcj02",
]

#: The CRS maps are drawn in (longitude/latitude on WGS 84).
DISPLAY_CRS = "EPSG:4326"

_Frame = TypeVar("_Frame", gpd.GeoDataFrame, gpd.GeoSeries)

_METRIC_EPSG = 4548
_DISPLAY_EPSG = 4326
#: EPSG codes named by the policy, with a short description for messages.
_NAMED = {
    4548: "CGCS2000 / 3-degree GK CM 117E",
    4527: "CGCS2000 / 3-degree GK zone 39",
    4490: "CGCS2000 geographic",
    4326: "WGS 84 geographic",
    2436: "Beijing 1954 / 3-degree GK CM 117E",
    2415: "Beijing 1954 / 3-degree GK zone 39",
    2384: "Xian 1980 / 3-degree GK CM 117E",
    2363: "Xian 1980 / 3-degree GK zone 39",
}
#: Longitude/latitude window a frame must fall in after reprojection (Beijing plus a margin).
_REGION = (114.5, 118.5, 38.5, 42.0)
_FIX = "set the right CRS, e.g. gdf.set_crs('EPSG:4548', allow_override=True)"


def _label(source: str | None) -> str:
    return f"'{source}'" if source else "the data"


def _horizontal(crs: object) -> CRS:
    """Return the CRS itself, or the horizontal part of a compound CRS (e.g. EPSG:4548+5773)."""
    crs = CRS.from_user_input(crs)
    return crs.sub_crs_list[0] if crs.is_compound else crs


def _same_projection(crs: CRS) -> int | None:
    """EPSG code among the policy's systems whose projection and ellipsoid ``crs`` shares.

    Proj strings such as ``+proj=tmerc +lon_0=117 +k=1 +x_0=500000 +ellps=GRS80`` carry no
    datum name, so PROJ cannot identify them; they are recognised by projecting a grid over
    Beijing with both and comparing the coordinates (to 1 mm).
    """
    if crs.geodetic_crs is None or not (crs.is_geographic or crs.is_projected):
        return None
    lon, lat = np.meshgrid(np.linspace(115.4, 117.6, 3), np.linspace(39.4, 41.1, 3))

    def project(target: CRS) -> NDArray[np.float64]:
        to_target = Transformer.from_crs(target.geodetic_crs, target, always_xy=True)
        return np.column_stack(to_target.transform(lon.ravel(), lat.ravel()))

    mine = project(crs)
    for code in (4548, 4527, 4326, 4490, 2436, 2415, 2384, 2363, 4547):
        candidate = CRS.from_epsg(code)
        if candidate.is_geographic == crs.is_geographic and np.allclose(project(candidate), mine, atol=1e-3):
            return code
    return None


@functools.lru_cache(maxsize=64)
def _classify(srs: str) -> tuple[int | None, str]:
    """EPSG code of an accepted CRS and its name, or ``(None, reason)`` for a refused one.

    Keyed on the user's own definition (``CRS.srs``): an ESRI .prj is identified from its
    original text, which a WKT2 round trip would blur.
    """
    crs = _horizontal(srs)
    name = crs.name
    if crs.is_engineering or crs.type_name.startswith("Engineering"):
        return None, (
            f"it is a local (engineering) system ('{name}'), such as Beijing's local city "
            "coordinate system, whose link to CGCS2000 needs parameters from the surveying "
            "authority. Reproject the data to EPSG:4548 with those parameters in your GIS first"
        )
    # a bound CRS (e.g. Beijing 1954 with +towgs84) is identified by its source CRS and
    # reprojected with its own datum parameters
    base = crs.source_crs if crs.is_bound and crs.source_crs else crs
    epsg = base.to_epsg(min_confidence=70)
    if epsg is None and crs.to_authority("OGC", min_confidence=90) == ("OGC", "CRS84"):
        epsg = _DISPLAY_EPSG  # OGC:CRS84 is WGS 84 in longitude/latitude order
    if epsg is None:
        epsg = _same_projection(base)
    if epsg == 4547:
        return None, (
            "EPSG:4547 is CGCS2000 / 3-degree Gauss-Kruger CM 114E, the wrong zone for "
            "Beijing (115.4-117.6E lies in the CM 117E zone, EPSG:4548); such labels are "
            "usually a mix-up. If the coordinates are really CM 117E, relabel them with "
            "gdf.set_crs('EPSG:4548', allow_override=True); if they are really CM 114E, "
            "reproject them yourself with gdf.to_crs('EPSG:4548')"
        )
    if epsg is None:
        return None, (
            f"'{name}' matches no EPSG system: a custom or local system (e.g. Beijing's local "
            "city coordinate system) cannot be converted without parameters from the "
            "surveying authority. Reproject the data to EPSG:4548 with those parameters in "
            "your GIS first, or, if the coordinates are in fact EPSG:4548, "
            "gdf.set_crs('EPSG:4548', allow_override=True)"
        )
    if not (crs.is_geographic or crs.is_projected):
        return None, f"'{name}' (EPSG:{epsg}) is not a horizontal coordinate system; {_FIX}"
    return epsg, _NAMED.get(epsg, name)


def _source_crs(crs: object, epsg: int) -> CRS:
    """Return the CRS to reproject from: a bound CRS as given (its datum shift), else EPSG:``epsg``."""
    horizontal = _horizontal(crs)
    return horizontal if horizontal.is_bound else CRS.from_epsg(epsg)


def _datum_note(crs: CRS) -> str:
    """Say how a legacy datum was handled, or nothing for CGCS2000 / WGS 84."""
    datum = crs.source_crs.datum if crs.is_bound and crs.source_crs else crs.datum
    legacy = next((n for n in ("Beijing 1954", "Xian 1980") if datum and n in datum.name), None)
    if crs.is_bound:
        return " with the datum shift (+towgs84) of the given CRS, via WGS 84"
    if legacy is None:
        return ""
    return (
        f"; PROJ knows no {legacy} to CGCS2000 datum shift for Beijing, so positions may be off "
        "by tens of metres (areas are unaffected); for exact positions set a CRS carrying the "
        "surveying authority's 7 parameters (+towgs84=...)"
    )


def _accepted(crs: object, source: str | None) -> tuple[int, str]:
    """EPSG code and name of an accepted CRS; raise CRSError naming a refused one."""
    epsg, text = _classify(CRS.from_user_input(crs).srs)
    if epsg is None:
        raise CRSError(f"refusing the CRS of {_label(source)}: {text}")
    return epsg, text


def _check_region(frame: gpd.GeoDataFrame | gpd.GeoSeries, epsg: int, source: str | None) -> None:
    """Raise CRSError if ``frame`` (in EPSG:``epsg``) does not lie in or near Beijing."""
    bounds = frame.total_bounds
    if not np.isfinite(bounds).all():
        return  # empty: nothing to misplace
    transformer = Transformer.from_crs(frame.crs, "EPSG:4326", always_xy=True)
    lonlat = transformer.transform_bounds(bounds[0], bounds[1], bounds[2], bounds[3], densify_pts=5)
    if all(math.isfinite(v) for v in lonlat) and _within(lonlat, _REGION):
        return
    raise CRSError(
        f"the coordinates of {_label(source)} (x {bounds[0]:,.6g} to {bounds[2]:,.6g}, "
        f"y {bounds[1]:,.6g} to {bounds[3]:,.6g}) do not lie in Beijing when read as "
        f"EPSG:{epsg} (they map to lon {lonlat[0]:.4g} to {lonlat[2]:.4g}, lat {lonlat[1]:.4g} "
        f"to {lonlat[3]:.4g}): the CRS label is probably wrong; {_FIX}"
    )


def check_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, source: str | None = None) -> None:
    """Raise :class:`~zgc_space.errors.CRSError` if ``frame`` has no CRS.

    Parameters
    ----------
    frame
        The data to check.
    source
        Where the data come from (e.g. a file path), quoted in the error message.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> check_crs(gpd.GeoSeries([Point(116.3, 39.98)], crs="EPSG:4326"))
    >>> check_crs(gpd.GeoSeries([Point(116.3, 39.98)]), source="pts.csv")
    Traceback (most recent call last):
    ...
    zgc_space.errors.CRSError: 'pts.csv' has no CRS; ...
    """
    if frame.crs is None:
        raise CRSError(
            f"{_label(source)} has no CRS; set it, e.g. gdf.set_crs('EPSG:4548'), or let "
            "zgc_space.crs.to_metric guess it from the coordinates"
        )


def to_metric(frame: _Frame, *, source: str | None = None, allow_guess: bool = True) -> _Frame:
    """Return a new frame in the metric CRS, EPSG:4548, where every area is computed.

    Parameters
    ----------
    frame
        A GeoDataFrame or GeoSeries; it is not modified.
    source
        Where the data come from (e.g. a file path), named in warnings and errors.
    allow_guess
        If the CRS is missing, guess it with :func:`guess_crs` (and warn); if False, raise.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A copy in EPSG:4548 with the same index and columns.

    Raises
    ------
    CRSError
        If the CRS is missing and cannot (or may not) be guessed, is refused (EPSG:4547, a
        local or custom system), or puts the data outside Beijing.

    Warns
    -----
    CRSGuessWarning
        The CRS was missing and was guessed (the warning names the guess).
    ReprojectionWarning
        The data were in another accepted CRS and were reprojected (names both CRSs).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1"]},
    ...     geometry=[box(441_000, 4_426_000, 441_100, 4_426_100)], crs="EPSG:4548")
    >>> metric = to_metric(blocks)
    >>> metric.crs.to_epsg(), float(metric.area.iloc[0])
    (4548, 10000.0)
    """
    if frame.crs is None:
        if not allow_guess:
            raise CRSError(f"{_label(source)} has no CRS and allow_guess=False; set it, e.g. gdf.set_crs('EPSG:4548')")
        guess = guess_crs(frame, source=source)
        action = "" if guess == METRIC_CRS else f" and reprojected it to {METRIC_CRS}"
        warnings.warn(
            f"{_label(source)} has no CRS: guessed {guess} from coordinate magnitudes{action} "
            f"({_GUESS_NOTES[guess]}); set the CRS explicitly to silence this warning",
            CRSGuessWarning,
            stacklevel=2,
        )
        labelled = frame.set_crs(guess)
        return labelled if guess == METRIC_CRS else labelled.to_crs(METRIC_CRS)
    epsg, name = _accepted(frame.crs, source)
    if epsg == _METRIC_EPSG:
        return frame.set_crs(METRIC_CRS, allow_override=True)  # a copy, exact label
    src_crs = _source_crs(frame.crs, epsg)
    horizontal = frame.set_crs(src_crs, allow_override=True)
    _check_region(horizontal, epsg, source)
    warnings.warn(
        f"reprojected {_label(source)} from EPSG:{epsg} ({name}) to {METRIC_CRS} for metric "
        f"computations{_datum_note(src_crs)}",
        ReprojectionWarning,
        stacklevel=2,
    )
    if src_crs.is_bound:  # PROJ applies +towgs84 only on the way to WGS 84
        horizontal = horizontal.to_crs(DISPLAY_CRS)
    return horizontal.to_crs(METRIC_CRS)


def to_display(frame: _Frame, *, source: str | None = None) -> _Frame:
    """Return a new frame in the display CRS, EPSG:4326 (longitude/latitude on WGS 84).

    Parameters
    ----------
    frame
        A GeoDataFrame or GeoSeries with a CRS; it is not modified.
    source
        Where the data come from, quoted in error messages.

    Raises
    ------
    CRSError
        If the CRS is missing or refused (see :func:`to_metric`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoSeries([Point(441_000, 4_426_000)], crs="EPSG:4548")
    >>> p = to_display(pts).iloc[0]
    >>> round(p.x, 4), round(p.y, 4)
    (116.3094, 39.9662)
    """
    check_crs(frame, source=source)
    epsg, _ = _accepted(frame.crs, source)
    if epsg == _DISPLAY_EPSG:
        return frame.set_crs(DISPLAY_CRS, allow_override=True)  # a copy, exact label
    return frame.set_crs(_source_crs(frame.crs, epsg), allow_override=True).to_crs(DISPLAY_CRS)


# --- GCJ-02 (the mathematics is in zgc_space._gcj02) ---------------------------------------


def _convert_frame(obj: _Frame, func: _gcj02.PairFunc, what: str) -> _Frame:
    """Apply ``func`` to every vertex of a geographic frame; the result is in EPSG:4326."""
    if obj.crs is not None:
        epsg, _ = _classify(CRS.from_user_input(obj.crs).srs)
        if epsg not in (4326, 4490):
            raise CRSError(
                f"{what} needs longitude/latitude (EPSG:4326 or EPSG:4490), but the data are "
                f"in {obj.crs.name!r}; convert them with zgc_space.crs.to_display first"
            )
    bounds = obj.total_bounds
    china = _gcj02.CHINA
    if np.isfinite(bounds).all() and not _within(tuple(bounds), china):
        raise CRSError(
            f"{what} needs longitude/latitude in China (lon {china[0]} to {china[1]}, lat "
            f"{china[2]} to {china[3]}), but x runs {bounds[0]:,.6g} to {bounds[2]:,.6g} and "
            f"y runs {bounds[1]:,.6g} to {bounds[3]:,.6g}; reproject to EPSG:4326 first"
        )
    return _gcj02.convert_vertices(obj, func, crs=DISPLAY_CRS)


@overload
def wgs84_to_gcj02(lon: _Frame, lat: None = None) -> _Frame: ...
@overload
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def wgs84_to_gcj02(lon: object, lat: ArrayLike | None = None) -> object:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02, vectorised.

    For display on Chinese web tiles only; never compute areas on the result.

    Parameters
    ----------
    lon, lat
        Arrays of longitudes and latitudes; or a GeoDataFrame / GeoSeries in EPSG:4326 or
        EPSG:4490 (or without CRS, holding longitude/latitude) as ``lon`` alone, in which case
        a new one is returned with every vertex converted, labelled EPSG:4326.

    Returns
    -------
    tuple of ndarray, or GeoDataFrame / GeoSeries
        ``(lon, lat)`` in GCJ-02, or the converted frame.

    Raises
    ------
    CRSError
        If a frame is not in longitude/latitude or lies outside China.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.31], [39.98])
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (116.3161, 39.98128)
    """
    if lat is None and isinstance(lon, gpd.GeoDataFrame | gpd.GeoSeries):
        return _convert_frame(lon, _gcj02.to_gcj, "wgs84_to_gcj02")
    return _gcj02.to_gcj(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))


@overload
def gcj02_to_wgs84(lon: _Frame, lat: None = None, *, iterations: int = 6) -> _Frame: ...
@overload
def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, iterations: int = 6
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def gcj02_to_wgs84(lon: object, lat: ArrayLike | None = None, *, iterations: int = 6) -> object:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84 by fixed-point iteration.

    Each iteration refines ``wgs = gcj - offset(wgs)``; six iterations bring the round trip
    well below a millimetre in Beijing.

    Parameters
    ----------
    lon, lat
        Arrays of GCJ-02 longitudes and latitudes; or a GeoDataFrame / GeoSeries holding GCJ-02
        longitude/latitude (labelled EPSG:4326, EPSG:4490 or without CRS, as web-map data
        usually are) as ``lon`` alone, in which case a new one is returned with every vertex
        converted, labelled EPSG:4326.
    iterations
        Number of fixed-point iterations.

    Returns
    -------
    tuple of ndarray, or GeoDataFrame / GeoSeries
        ``(lon, lat)`` in WGS84, or the converted frame.

    Raises
    ------
    CRSError
        If a frame is not in longitude/latitude or lies outside China.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02([116.31], [39.98]))
    >>> round(float(lon[0]), 7), round(float(lat[0]), 7)
    (116.31, 39.98)
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> p = gcj02_to_wgs84(gpd.GeoSeries([Point(116.3161, 39.98128)], crs="EPSG:4326")).iloc[0]
    >>> round(p.x, 4), round(p.y, 4)
    (116.31, 39.98)
    """
    if lat is None and isinstance(lon, gpd.GeoDataFrame | gpd.GeoSeries):
        return _convert_frame(lon, lambda x, y: _gcj02.from_gcj(x, y, iterations), "gcj02_to_wgs84")
    return _gcj02.from_gcj(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), iterations)
