"""Tests for zgc_space.crs: the metric CRS policy, CRS guessing and GCJ-02 conversion."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box

import zgc_space
from zgc_space import crs
from zgc_space.errors import CRSError, CRSGuessWarning, ReprojectionWarning

# A 500 m x 400 m block near Zhongguancun in EPSG:4548: area 200,000 m2.
REF_BOUNDS = (441_000.0, 4_426_000.0, 441_500.0, 4_426_400.0)
REF_AREA_M2 = 200_000.0

LOCAL_CS_WKT = (
    'LOCAL_CS["Beijing local city system",LOCAL_DATUM["unknown",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
)
# A custom transverse Mercator of the kind local city systems use: matches no EPSG code.
CUSTOM_PROJ = "+proj=tmerc +lat_0=39.8666 +lon_0=116.35 +k=1 +x_0=500000 +y_0=300000 +ellps=krass +units=m +no_defs"
GK117 = "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0"


def reference() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"block_id": ["B1"], "gfa_m2": [123.0]}, geometry=[box(*REF_BOUNDS)], crs="EPSG:4548", index=[7]
    )


def without_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame.geometry))


def shared_data_dir() -> Path:
    """Locate the real reference data: $ZGC_SHARED_DATA, the copy shipped in the package, ../shared/data."""
    candidates = []
    if os.environ.get("ZGC_SHARED_DATA"):
        candidates.append(Path(os.environ["ZGC_SHARED_DATA"]))
    candidates += [
        Path(zgc_space.__file__).parent / "data",
        Path(__file__).resolve().parents[2] / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for path in candidates:
        if (path / "beijing_districts").is_dir():
            return path
    pytest.fail(
        "shared reference data not found (looked in "
        + ", ".join(str(p) for p in candidates)
        + "); set ZGC_SHARED_DATA to the directory holding beijing_districts/"
    )


# --- guess_crs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ((116.29, 39.96, 116.33, 40.00), "EPSG:4326"),
        ((115.42, 39.44, 117.51, 41.06), "EPSG:4326"),  # all of Beijing
        (REF_BOUNDS, "EPSG:4548"),
        ((39_441_000.0, 4_426_000.0, 39_441_500.0, 4_426_400.0), "EPSG:4527"),
    ],
)
def test_guess_crs_from_bounds(bounds, expected):
    assert crs.guess_crs(bounds) == expected


def test_guess_crs_from_frame_series_and_geometry():
    ref = reference()
    assert crs.guess_crs(without_crs(ref)) == "EPSG:4548"
    assert crs.guess_crs(ref.geometry) == "EPSG:4548"
    assert crs.guess_crs(Point(116.31, 39.98)) == "EPSG:4326"


@pytest.mark.parametrize(
    "bounds",
    [
        (20_000.0, 30_000.0, 25_000.0, 35_000.0),  # small local-system coordinates
        (441_000.0, 300_000.0, 442_000.0, 301_000.0),  # easting fits 4548, northing does not
        (121.40, 31.10, 121.50, 31.20),  # Shanghai in lon/lat
        (116.3, 39.9, 441_000.0, 4_426_000.0),  # degrees and metres mixed
        (38_441_000.0, 4_426_000.0, 38_442_000.0, 4_427_000.0),  # zone 38 prefix
    ],
)
def test_guess_crs_refuses_implausible_magnitudes(bounds):
    with pytest.raises(CRSError, match=r"cannot guess the CRS of 'f\.shp'.*set_crs\('EPSG:4548'\)"):
        crs.guess_crs(bounds, source="f.shp")


def test_guess_crs_message_gives_magnitudes():
    with pytest.raises(CRSError, match=r"x runs 20,000 to 25,000 and y runs 30,000 to 35,000"):
        crs.guess_crs((20_000.0, 30_000.0, 25_000.0, 35_000.0))


def test_guess_crs_empty_and_bad_input():
    with pytest.raises(CRSError, match="no coordinates"):
        crs.guess_crs(gpd.GeoSeries([], dtype="geometry"))
    with pytest.raises(TypeError, match="bounds"):
        crs.guess_crs((1.0, 2.0, 3.0))


# --- to_metric ------------------------------------------------------------------------------


def assert_matches_reference(metric: gpd.GeoDataFrame) -> None:
    assert metric.crs.to_epsg() == 4548
    assert metric.area.iloc[0] == pytest.approx(REF_AREA_M2, rel=1e-3)
    np.testing.assert_allclose(metric.total_bounds, REF_BOUNDS, atol=0.5)
    assert list(metric.index) == [7]
    assert list(metric["block_id"]) == ["B1"]


@pytest.mark.parametrize("epsg", [4326, 4490, 4527, 2436, 2415, 2384, 2363, 32650])
def test_to_metric_reprojects_accepted_crs(epsg):
    src = reference().to_crs(epsg)
    with pytest.warns(ReprojectionWarning, match=rf"'in\.gpkg' from EPSG:{epsg} .*to EPSG:4548") as rec:
        metric = crs.to_metric(src, source="in.gpkg")
    assert rec[0].filename == __file__  # stacklevel=2 points at the caller
    assert_matches_reference(metric)
    assert src.crs.to_epsg() == epsg  # input untouched


@pytest.mark.parametrize(("epsg", "datum"), [(2436, "Beijing 1954"), (2363, "Xian 1980")])
def test_to_metric_warns_that_legacy_datum_shift_is_approximate(epsg, datum):
    with pytest.warns(ReprojectionWarning, match=rf"no {datum} to CGCS2000 datum shift.*\+towgs84"):
        crs.to_metric(reference().to_crs(epsg))


def test_to_metric_legacy_datums_really_move_the_data():
    # Relabelling instead of reprojecting would leave Beijing 1954 ~78 m north of the truth.
    src = reference().to_crs(2436)
    assert abs(src.total_bounds[1] - REF_BOUNDS[1]) > 50
    with pytest.warns(ReprojectionWarning):
        assert_matches_reference(crs.to_metric(src))


@pytest.mark.parametrize(("epsg", "guess"), [(4326, "EPSG:4326"), (4548, "EPSG:4548"), (4527, "EPSG:4527")])
def test_to_metric_guesses_missing_crs(epsg, guess):
    src = without_crs(reference().to_crs(epsg))
    src.index = [7]
    with pytest.warns(CRSGuessWarning, match=rf"'blocks\.csv' has no CRS: guessed {guess}") as rec:
        metric = crs.to_metric(src, source="blocks.csv")
    assert len(rec) == 1  # one warning, even when the guess also reprojects
    assert rec[0].filename == __file__
    assert_matches_reference(metric)
    assert src.crs is None


def test_to_metric_already_metric_is_a_silent_copy():
    ref = reference()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric = crs.to_metric(ref)
    assert metric is not ref
    metric.loc[7, "gfa_m2"] = 0.0
    assert ref.loc[7, "gfa_m2"] == 123.0
    assert_matches_reference(metric)


def test_to_metric_recognises_esri_wkt_of_4548():
    from pyproj import CRS

    esri = CRS.from_wkt(CRS.from_epsg(4548).to_wkt("WKT1_ESRI"))
    src = reference().set_crs(esri, allow_override=True)
    metric = crs.to_metric(src)  # no warning: it is EPSG:4548 under another name
    assert metric.crs == "EPSG:4548"


def test_to_metric_accepts_geoseries():
    series = reference().geometry.to_crs(4326)
    with pytest.warns(ReprojectionWarning):
        metric = crs.to_metric(series)
    assert isinstance(metric, gpd.GeoSeries)
    assert metric.area.iloc[0] == pytest.approx(REF_AREA_M2, rel=1e-3)


def test_to_metric_no_guess_when_forbidden_or_impossible():
    with pytest.raises(CRSError, match=r"'a\.shp' has no CRS and allow_guess=False.*set_crs"):
        crs.to_metric(without_crs(reference()), source="a.shp", allow_guess=False)
    local = gpd.GeoDataFrame(geometry=[box(20_000, 30_000, 20_100, 30_100)])
    with pytest.raises(CRSError, match=r"cannot guess the CRS of 'a\.shp'"):
        crs.to_metric(local, source="a.shp")


def test_to_metric_refuses_cm114():
    src = reference().set_crs("EPSG:4547", allow_override=True)
    with pytest.raises(CRSError, match=r"'z\.shp'.*EPSG:4547.*CM 114E.*wrong zone for Beijing.*EPSG:4548"):
        crs.to_metric(src, source="z.shp")


def test_to_metric_refuses_local_engineering_crs():
    src = reference().set_crs(LOCAL_CS_WKT, allow_override=True)
    with pytest.raises(CRSError, match=r"'city\.dwg'.*local \(engineering\) system.*surveying authority"):
        crs.to_metric(src, source="city.dwg")


def test_to_metric_refuses_custom_proj_string():
    src = gpd.GeoDataFrame(geometry=[box(500_000, 300_000, 500_100, 300_100)], crs=CUSTOM_PROJ)
    with pytest.raises(CRSError, match=r"matches no EPSG system.*surveying authority"):
        crs.to_metric(src)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        # EPSG:4548 coordinates mislabelled as CM 120E (EPSG:4549) land 3 degrees east.
        (reference().set_crs("EPSG:4549", allow_override=True), r"do not lie in Beijing when read as EPSG:4549"),
        (gpd.GeoDataFrame(geometry=[Point(121.47, 31.23)], crs="EPSG:4326"), r"lon 121\.5 to 121\.5"),
    ],
)
def test_to_metric_refuses_crs_that_puts_data_outside_beijing(frame, match):
    with pytest.raises(CRSError, match=match):
        crs.to_metric(frame)


# --- to_display / check_crs -----------------------------------------------------------------


def test_to_display_and_check_crs():
    ref = reference()
    display = crs.to_display(ref)
    assert display.crs == "EPSG:4326"
    assert display.total_bounds[0] == pytest.approx(116.3094, abs=1e-4)
    again = crs.to_display(display)
    assert again is not display
    assert again.geom_equals(display).all()
    crs.check_crs(ref)
    with pytest.raises(CRSError, match=r"'p\.csv' has no CRS; set it"):
        crs.check_crs(without_crs(ref), source="p.csv")
    with pytest.raises(CRSError, match=r"'p\.csv' has no CRS"):
        crs.to_display(without_crs(ref), source="p.csv")
    with pytest.raises(CRSError, match="CM 114E"):
        crs.to_display(ref.set_crs("EPSG:4547", allow_override=True))


# --- GCJ-02 -----------------------------------------------------------------------------------


def beijing_points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(115.4, 117.6, n), rng.uniform(39.4, 41.1, n)


def metric_distance_m(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    a = gpd.GeoSeries(gpd.points_from_xy(lon_a, lat_a), crs="EPSG:4326").to_crs(4548)
    b = gpd.GeoSeries(gpd.points_from_xy(lon_b, lat_b), crs="EPSG:4326").to_crs(4548)
    return a.distance(b).to_numpy()


def test_gcj02_offset_at_zhongguancun():
    # REFERENCE.md section 4: about 540 m toward ENE at Zhongguancun.
    g_lon, g_lat = crs.wgs84_to_gcj02([116.31], [39.98])
    d = metric_distance_m([116.31], [39.98], g_lon, g_lat)[0]
    assert 450 < d < 650
    assert g_lon[0] > 116.31 and g_lat[0] > 39.98


def test_gcj02_round_trip_below_half_a_metre():
    lon, lat = beijing_points(2000)
    back_lon, back_lat = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    error = metric_distance_m(lon, lat, back_lon, back_lat)
    assert error.max() < 0.5
    assert error.max() < 1e-3  # six iterations reach well below a millimetre
    # one iteration is not enough: the test can tell a poor inversion
    one_lon, one_lat = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat), iterations=1)
    assert metric_distance_m(lon, lat, one_lon, one_lat).max() > 0.5


def test_gcj02_frame_conversion_all_geometry_types():
    shell = [(116.30, 39.97), (116.33, 39.97), (116.33, 40.00), (116.30, 40.00)]
    hole = [(116.31, 39.98), (116.32, 39.98), (116.32, 39.99), (116.31, 39.99)]
    geoms = [
        Polygon(shell, [hole]),
        MultiPolygon([box(116.20, 39.90, 116.21, 39.91), box(116.22, 39.90, 116.23, 39.91)]),
        LineString([(116.3, 39.9), (116.4, 40.0)]),
        Point(116.31, 39.98),
        Point(116.31, 39.98, 52.0),
        None,
    ]
    frame = gpd.GeoDataFrame({"name": list("abcdef")}, geometry=geoms, crs="EPSG:4490", index=list("uvwxyz"))
    out = crs.wgs84_to_gcj02(frame)
    assert out.crs == "EPSG:4326"
    assert frame.crs == "EPSG:4490"  # input untouched
    assert out.geometry.iloc[0] is not frame.geometry.iloc[0]
    assert list(out.index) == list("uvwxyz") and list(out["name"]) == list("abcdef")
    assert list(out.geom_type.iloc[:5]) == ["Polygon", "MultiPolygon", "LineString", "Point", "Point"]
    assert out.geometry.iloc[5] is None
    assert shapely.get_num_interior_rings(out.geometry.iloc[0]) == 1
    np.testing.assert_array_equal(
        shapely.get_num_coordinates(out.geometry.values), shapely.get_num_coordinates(frame.geometry.values)
    )
    assert out.geometry.iloc[4].has_z and out.geometry.iloc[4].z == 52.0
    # every vertex equals the array form
    xy = shapely.get_coordinates(frame.geometry.values)
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.values), np.column_stack(crs.wgs84_to_gcj02(*xy.T)))
    back = crs.gcj02_to_wgs84(out)
    np.testing.assert_allclose(shapely.get_coordinates(back.geometry.values), xy, atol=1e-8)


def test_gcj02_frame_without_crs_and_series():
    series = gpd.GeoSeries([Point(116.3161, 39.98128)], index=[3], name="geom")
    out = crs.gcj02_to_wgs84(series)
    assert isinstance(out, gpd.GeoSeries)
    assert out.crs == "EPSG:4326" and out.name == "geom" and list(out.index) == [3]
    assert out.iloc[0].x == pytest.approx(116.31, abs=1e-5)


def test_gcj02_frame_refuses_non_geographic_input():
    with pytest.raises(CRSError, match=r"gcj02_to_wgs84 needs longitude/latitude.*to_display"):
        crs.gcj02_to_wgs84(reference())
    with pytest.raises(CRSError, match=r"wgs84_to_gcj02 needs longitude/latitude in China.*x runs 441,000"):
        crs.wgs84_to_gcj02(without_crs(reference()))


def test_real_district_layer_gcj02_to_wgs84():
    """The real GCJ-02 district layer (labelled WGS84) matches the true WGS84 OSM boundary once converted."""
    folder = shared_data_dir() / "beijing_districts"
    districts = gpd.read_file(folder / "garybikini_beijing_districts_2020_gcj02.shp")
    fragment = gpd.read_file(folder / "osm_beijing_boundary_fragment_wgs84.geojson")
    assert districts.crs.to_epsg() == 4326  # the label lies: the coordinates are GCJ-02
    converted = crs.gcj02_to_wgs84(districts)
    assert len(converted) == 16

    def distances_m(layer: gpd.GeoDataFrame) -> np.ndarray:
        boundary = layer.to_crs(4548).geometry.boundary.union_all()
        vertices = shapely.points(shapely.get_coordinates(fragment.to_crs(4548).geometry.values))
        return shapely.distance(vertices, boundary)

    before, after = distances_m(districts), distances_m(converted)
    assert len(after) == 43
    # Measured: before median 263 m, max 575 m; after median 13.4 m, 90th percentile 26 m,
    # max 59 m (one vertex where the generalised district layer cuts a corner).
    assert np.median(before) > 150
    assert np.median(after) < 15
    assert np.percentile(after, 90) < 30
    assert after.max() < 75
    # converting the wrong way adds to the offset instead of removing it (measured median 385 m)
    assert np.median(distances_m(crs.wgs84_to_gcj02(districts))) > np.median(before) + 50


def test_to_metric_handles_crs84_and_compound_crs():
    src = reference().to_crs("OGC:CRS84")
    with pytest.warns(ReprojectionWarning, match=r"from EPSG:4326"):
        assert_matches_reference(crs.to_metric(src))
    compound = reference().set_crs("EPSG:4548+5773", allow_override=True)
    assert_matches_reference(crs.to_metric(compound))
    out = crs.gcj02_to_wgs84(gpd.GeoSeries([Point(116.3161, 39.98128)], crs="OGC:CRS84"))
    assert out.iloc[0].x == pytest.approx(116.31, abs=1e-5)


def test_to_metric_uses_datum_parameters_of_a_bound_crs():
    # Beijing 1954 GK CM 117E with explicit (made-up) datum shift parameters: accepted as
    # EPSG:2436 and reprojected with those parameters, not with the EPSG default.
    bound = f"{GK117} +ellps=krass +towgs84=12,-130,-75,0,0,0,0 +units=m +no_defs"
    src = reference().to_crs(4326).to_crs(bound)
    with pytest.warns(ReprojectionWarning, match=r"from EPSG:2436 \(Beijing 1954.*\+towgs84.*via WGS 84"):
        assert_matches_reference(crs.to_metric(src))
    assert np.abs(src.total_bounds - reference().to_crs(2436).total_bounds).max() > 1  # other shift


@pytest.mark.parametrize(
    ("definition", "epsg"),
    [
        (f"{GK117} +ellps=GRS80 +units=m +no_defs", 4548),  # PROJ alone cannot identify this one
        (f"{GK117} +ellps=krass +units=m +no_defs", 2436),
        (f"{GK117} +ellps=IAU76 +units=m +no_defs", 2384),
        ("+proj=longlat +ellps=WGS84 +no_defs", 4326),
    ],
)
def test_proj_strings_are_recognised_by_their_projection(definition, epsg):
    from pyproj import CRS

    assert crs._classify(CRS(definition).srs)[0] == epsg


@pytest.mark.parametrize(
    ("definition", "match"),
    [
        ("+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs", "CM 114E"),
        (CUSTOM_PROJ, "matches no EPSG system"),
    ],
)
def test_proj_strings_that_are_refused(definition, match):
    src = gpd.GeoDataFrame(geometry=[box(500_000, 300_000, 500_100, 300_100)], crs=definition)
    with pytest.raises(CRSError, match=match):
        crs.to_metric(src)


def test_to_metric_of_a_proj_string_4548_is_silent():
    src = reference().set_crs(f"{GK117} +ellps=GRS80 +units=m +no_defs", allow_override=True)
    assert_matches_reference(crs.to_metric(src))
