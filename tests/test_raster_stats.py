"""Zonal statistics at the edges, and the statistics users expect (issue 12, item 7).

Non-polygon blocks and NaN vertices refused; the empty sum is 0; percentiles, majority,
minority and unique equal rasterstats'; exact median/quantiles, majority, variety, weighted
statistics, min_coverage_frac and class fractions equal exactextract's; hand-computed fixtures
for every formula.
"""

from __future__ import annotations

import json
import math
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from exactextract import exact_extract
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterstats import zonal_stats as rs_zonal_stats
from shapely import LineString, MultiPoint, Point, Polygon, box

import zgc_space as zs
from zgc_space import raster
from zgc_space.cli import main
from zgc_space.errors import BlockValidationError, RasterCoverageWarning, RasterError
from zgc_space.raster import _distribution

X0, Y0 = 441_000.0, 4_428_000.0
RES = 10.0
N = 120


def grid():
    return Affine(RES, 0, X0, 0, -RES, Y0)


def write_tif(path, data, *, nodata=None, block=32, transform=None, **extra):
    data = np.asarray(data)
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1, "dtype": data.dtype,
               "crs": "EPSG:4548", "transform": transform or grid(), "nodata": nodata, "tiled": True,
               "blockxsize": block, "blockysize": block, "compress": "deflate", **extra}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return str(path)


def blocks_fixture(seed=0):
    """Stars inside, two crossing the raster's edge, one touching it from outside, one outside."""
    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(8):
        cx, cy, r = X0 + rng.uniform(150, 1050), Y0 - rng.uniform(150, 1050), rng.uniform(40, 140)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = r * rng.uniform(0.4, 1.0, 9)
        geoms.append(Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
    geoms.append(box(X0 - 55, Y0 - 300, X0 + 47, Y0 - 212))  # partly outside (west)
    geoms.append(box(X0 + 500, Y0 - N * RES - 30, X0 + 613, Y0 - N * RES + 33))  # partly outside (south)
    geoms.append(box(X0 + 300, Y0, X0 + 400, Y0 + 50))  # touches the north edge from outside
    geoms.append(box(X0 + 5000, Y0 - 500, X0 + 5300, Y0 - 200))  # wholly outside
    return gpd.GeoDataFrame({"block_id": [f"B{i:02d}" for i in range(len(geoms))]}, geometry=geoms,
                            crs="EPSG:4548", index=np.arange(10, 10 + len(geoms)))


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rasters")
    rng = np.random.default_rng(7)
    ints = rng.integers(0, 300, (N, N)).astype("int16")
    ints[rng.random((N, N)) < 0.1] = -1
    floats = (rng.integers(0, 800, (N, N)) / 8).astype("float32")  # exact in float32
    floats[rng.random((N, N)) < 0.1] = np.nan
    classes = rng.integers(1, 7, (N, N)).astype("uint8")
    classes[rng.random((N, N)) < 0.05] = 0
    float_classes = classes.astype("float32")
    float_classes[classes == 0] = np.nan
    weights = rng.uniform(0, 5, (N, N)).astype("float32")
    holey = weights.copy()
    holey[rng.random((N, N)) < 0.05] = -9
    return {
        "int": write_tif(tmp / "int.tif", ints, nodata=-1),
        "float": write_tif(tmp / "float.tif", floats, nodata=np.nan),
        "class": write_tif(tmp / "class.tif", classes, nodata=0),
        "float_class": write_tif(tmp / "fclass.tif", float_classes, nodata=np.nan),
        "weights": write_tif(tmp / "w.tif", weights),
        "holey_weights": write_tif(tmp / "hw.tif", holey, nodata=-9),
    }


def quiet(func, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RasterCoverageWarning)
        return func(*args, **kw)


# --- blocks are areas with finite vertices ---------------------------------------------------

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns when it builds a ring with a NaN
    NAN_POLY = Polygon([(X0 + 10, Y0 - 10), (X0 + 100, Y0 - 10), (np.nan, Y0 - 100), (X0 + 10, Y0 - 100)])
    INF_POLY = Polygon([(X0 + 10, Y0 - 10), (X0 + 100, Y0 - 10), (X0 + 100, -np.inf), (X0 + 10, Y0 - 100)])


def test_points_and_lines_are_refused_naming_the_rows(rasters):
    blk = gpd.GeoDataFrame({"block_id": ["A", "P", "L", "M"]}, geometry=[
        box(X0, Y0 - 100, X0 + 100, Y0), Point(X0 + 55, Y0 - 55), LineString([(X0 + 5, Y0 - 5), (X0 + 95, Y0 - 95)]),
        MultiPoint([(X0 + 5, Y0 - 5), (X0 + 15, Y0 - 5)])], crs="EPSG:4548")
    for method in ("center", "all_touched", "exact"):
        with pytest.raises(BlockValidationError, match=r"3 block\(s\) are not Polygon/MultiPolygon "
                                                       r"\(LineString, MultiPoint, Point\): P, L, M; blocks are areas"):
            raster.zonal_stats(blk, rasters["int"], method=method)
    with pytest.raises(BlockValidationError) as info:
        raster.floor_area_from_height(blk, rasters["float"])
    assert info.value.problems[0].block_ids == ("P", "L", "M")


@pytest.mark.parametrize("bad", [NAN_POLY, INF_POLY], ids=["nan", "inf"])
def test_non_finite_vertices_are_refused_never_repaired(rasters, bad):
    blk = gpd.GeoDataFrame({"block_id": ["A", "N"], "subpark": ["海淀园"] * 2},
                           geometry=[box(X0, Y0 - 100, X0 + 100, Y0), bad], crs="EPSG:4548")
    for method in ("center", "exact"):
        with pytest.raises(BlockValidationError, match=r"1 block\(s\) have vertices with NaN or infinite "
                                                       r"coordinates: N"):
            raster.zonal_stats(blk, rasters["int"], method=method)
    with pytest.raises(BlockValidationError, match="vertices with NaN or infinite coordinates: N"):
        zs.validate_blocks(blk)
    # repair_geometries used to drop the vertex with no warning and a NaN area change
    with pytest.raises(BlockValidationError, match="will not guess a lost vertex.*: N;"):
        zs.repair_geometries(blk)
    assert [p.rule for p in zs.blocks.geometry_problems(blk)] == ["non-finite-vertex"]


def test_cli_zonal_refuses_points(tmp_path, capsys, rasters):
    blk = gpd.GeoDataFrame({"block_id": ["A", "P"], "subpark": ["海淀园"] * 2},
                           geometry=[box(X0, Y0 - 100, X0 + 100, Y0), Point(X0 + 55, Y0 - 55)], crs="EPSG:4548")
    path = tmp_path / "b.gpkg"
    blk.to_file(path)
    assert main(["zonal", str(path), rasters["int"], "--allow-invalid"]) == 1
    err = capsys.readouterr().err
    assert "are not Polygon/MultiPolygon (Point): P" in err and "Traceback" not in err


# --- the empty block ------------------------------------------------------------------------

def test_block_without_valid_pixels_sums_to_zero(tmp_path, rasters):
    data = np.full((8, 8), 3.0, dtype="float32")
    data[:4, :4] = -1  # nodata
    path = write_tif(tmp_path / "e.tif", data, nodata=-1, block=16)
    blk = gpd.GeoDataFrame({"block_id": ["nodata", "outside", "empty"]}, geometry=[
        box(X0, Y0 - 40, X0 + 40, Y0), box(X0 + 500, Y0 - 40, X0 + 540, Y0), Polygon()], crs="EPSG:4548")
    stats = "count sum mean min max std median range majority minority variety unique percentile_50 nodata"
    for method in ("center", "all_touched", "exact"):
        with pytest.warns(RasterCoverageWarning) as record:
            out = raster.zonal_stats(blk, path, stats=stats, method=method)
        text = str(record[0].message)
        assert "1 block(s) have an empty geometry (empty)" in text and "lie wholly outside the raster (outside)" in text
        assert "see only nodata pixels (nodata)" in text
        for col in ("count", "sum", "variety", "unique"):
            assert (out[col] == 0).all(), (method, col)
        for col in ("mean", "min", "max", "std", "median", "range", "majority", "minority", "percentile_50"):
            assert out[col].isna().all(), (method, col)
        assert out.loc[0, "nodata"] == 16
    weighted = quiet(raster.zonal_stats, blk, path, stats="weighted_sum,weighted_mean", weights=path,
                     default_weight=1.0)
    assert weighted["weighted_sum"].tolist() == [0.0, 0.0, 0.0] and weighted["weighted_mean"].isna().all()


# --- hand-computed formulas -----------------------------------------------------------------

def test_hand_computed_quantiles_majority_and_weights(tmp_path):
    # 4 x 4 pixels, row by row; block = columns 0-1.5 of rows 0-1 (coverage 1, 0.5, 1, 0.5)
    data = np.array([[2, 7, 0, 0], [2, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype="float32")
    wts = np.array([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype="float32")
    path = write_tif(tmp_path / "v.tif", data, block=16)
    wpath = write_tif(tmp_path / "w.tif", wts, block=16)
    blk = gpd.GeoDataFrame({"block_id": ["A"]}, geometry=[box(X0, Y0 - 20, X0 + 15, Y0)], crs="EPSG:4548")
    out = raster.zonal_stats(blk, path, method="exact", weights=wpath,
                             stats="median quantile(q=0.25) quantile(q=0.9) majority minority variety "
                                   "weighted_sum weighted_mean")
    # distinct values 2, 5, 7 with coverage 2, 0.5, 0.5 (m = 3, W = 3): s = 0, 1*0.5 + 2*2, 2*0.5 + 2*2.5
    s = [0.0, 4.5, 6.0]
    sn = 3 * 2

    def expect(q):
        t = q * sn
        if t >= s[2]:
            return 7.0
        k = 0 if t < s[1] else 1
        x = [2.0, 5.0, 7.0]
        return x[k] + (t - s[k]) * (x[k + 1] - x[k]) / (s[k + 1] - s[k])

    assert out.loc[0, "median"] == pytest.approx(expect(0.5)) == pytest.approx(2 + 3 * 3 / 4.5)
    assert out.loc[0, "quantile_25"] == pytest.approx(2 + 1.5 * 3 / 4.5)
    # t = 5.4 lies in (4.5, 6)
    assert out.loc[0, "quantile_90"] == pytest.approx(expect(0.9)) == pytest.approx(5 + 0.9 * 2 / 1.5)
    assert raster.zonal_stats(blk, path, method="exact", stats="quantile(q=1)").iloc[0, 0] == 7.0
    assert (out.loc[0, "majority"], out.loc[0, "minority"], out.loc[0, "variety"]) == (2.0, 5.0, 3)
    wsum = 1 * 1 * 2 + 0.5 * 2 * 7 + 1 * 3 * 2 + 0.5 * 4 * 5
    assert out.loc[0, "weighted_sum"] == pytest.approx(wsum)
    assert out.loc[0, "weighted_mean"] == pytest.approx(wsum / (1 + 0.5 * 2 + 3 + 0.5 * 4))
    # centre rule: the pixels 2, 7, 2, 5 (GDAL's rule keeps the centres at x = 15 m, on the right edge)
    centre = raster.zonal_stats(blk, path, stats="percentile_25 percentile_50 percentile_90 median majority minority "
                                                 "unique")
    # sorted 2, 2, 5, 7: h = 3q; q=0.25 → 2 + 0.75*0 = 2; q=0.5 → 2 + 0.5*3 = 3.5; q=0.9 → 5 + 0.7*2 = 6.4;
    # 5 and 7 tie for the minority: the lowest
    assert centre.loc[0].tolist() == pytest.approx([2.0, 3.5, 6.4, 3.5, 2.0, 5.0, 3])
    # ties: centre majority takes the lowest, exact majority the highest (exactextract)
    tie = gpd.GeoDataFrame({"block_id": ["T"]}, geometry=[box(X0 + 10, Y0 - 20, X0 + 20, Y0)], crs="EPSG:4548")
    assert raster.zonal_stats(tie, path, stats="majority").loc[0, "majority"] == 5.0
    assert raster.zonal_stats(tie, path, stats="majority", method="exact").loc[0, "majority"] == 7.0
    assert raster.zonal_stats(tie, path, stats="minority", method="exact").loc[0, "minority"] == 5.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=60), st.floats(0, 1))
def test_linear_quantile_of_a_histogram_is_numpys_percentile(values, q):
    x, counts = _distribution.histogram(np.array(values, dtype=float), None)
    assert _distribution.linear_quantile(x, counts, q) == pytest.approx(np.percentile(values, 100 * q), abs=1e-12)
    assert _distribution.median(x, counts) == np.median(values)
    # with unit weights exactextract's rule interpolates over the distinct values
    assert _distribution.weighted_quantile(x, np.ones(x.size), q) == pytest.approx(np.percentile(x, 100 * q),
                                                                                   abs=1e-9)


def test_histogram_memory_is_bounded(monkeypatch, rasters):
    monkeypatch.setattr(_distribution, "MAX_ENTRIES", 300)
    blocks = blocks_fixture()
    with pytest.raises(RasterError, match=r"would keep more than 300 distinct pixel values .* on fewer blocks"):
        quiet(raster.zonal_stats, blocks, rasters["float"], stats="median")
    quiet(raster.zonal_stats, blocks, rasters["class"], stats="median majority", method="exact")  # few values


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "uint32", "int64", "float32", "float64"])
def test_histogram_of_every_dtype_equals_numpy_unique(dtype):
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    for spread in ("narrow", "wide"):
        if info is None:
            v = rng.normal(0, 1e3 if spread == "wide" else 1, 500).round(1).astype(dtype)
        else:
            lo, hi = (0, 9) if spread == "narrow" else (max(info.min, -2**40), min(info.max, 2**40))
            v = rng.integers(lo, hi, 500, endpoint=True).astype(dtype)
            v[:2] = [lo, hi]  # the extremes of the dtype's range (int16: -32768 and 32767)
        mostly_whole = np.where(rng.random(v.size) < 0.7, 1.0, rng.uniform(0.1, 1, v.size))  # as coverage
        partial = rng.uniform(0.1, 1, v.size)
        keys, counts = np.unique(v.astype(np.float64), return_counts=True)
        for weights in (None, mostly_whole, partial, np.ones(v.size)):
            x, s = _distribution.histogram(v, weights)
            assert np.array_equal(x, keys), (dtype, spread)
            expect = counts if weights is None else np.array([weights[v.astype(np.float64) == k].sum() for k in keys])
            np.testing.assert_allclose(s, expect, rtol=1e-12)


def test_histograms_merge_chunks(monkeypatch):
    monkeypatch.setattr(_distribution, "_MERGE_EVERY", 3)
    h = _distribution.Histograms(1)
    rng = np.random.default_rng(0)
    chunks = [rng.integers(0, 9, 20).astype(float) for _ in range(10)]
    for c in chunks:
        h.add(0, c, np.full(c.size, 0.5))
    x, w = h.get(0)
    keys, counts = np.unique(np.concatenate(chunks), return_counts=True)
    assert len(h.parts[0]) < 3 and np.array_equal(x, keys) and np.allclose(w, counts * 0.5)


# --- rasterstats -------------------------------------------------------------------------------

RS_STATS = ["percentile_10", "percentile_50", "percentile_90", "percentile_2.5", "median", "majority", "minority",
            "unique"]


@pytest.mark.parametrize("kind", ["int", "float", "class"])
@pytest.mark.parametrize("method", ["center", "all_touched"])
def test_percentiles_and_categorical_stats_equal_rasterstats(rasters, kind, method):
    blocks = blocks_fixture()
    mine = quiet(raster.zonal_stats, blocks, rasters[kind], stats=RS_STATS, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = rs_zonal_stats(list(blocks.geometry), rasters[kind], stats=RS_STATS, all_touched=method != "center")
    theirs = pd.DataFrame(rows, index=blocks.index).astype(float)
    theirs["unique"] = theirs["unique"].fillna(0)  # None for the blocks with no pixel; ours 0
    assert mine["unique"].dtype == np.int64 and (mine["unique"] > 0).sum() >= 10
    # float32 rasters: rasterstats interpolates in float32, ours in float64
    np.testing.assert_allclose(mine[RS_STATS].to_numpy(float), theirs[RS_STATS].to_numpy(), rtol=1e-6 if kind ==
                               "float" else 0.0, atol=0.0)


@pytest.mark.parametrize("method", ["center", "all_touched"])
def test_categorical_counts_of_float_classes_equal_rasterstats(rasters, method):
    blocks = blocks_fixture()
    mine = quiet(raster.zonal_stats, blocks, rasters["float_class"], categorical=True, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = rs_zonal_stats(list(blocks.geometry), rasters["float_class"], categorical=True,
                              all_touched=method != "center")
    theirs = pd.DataFrame(rows, index=blocks.index).fillna(0)
    theirs.columns = [int(c) for c in theirs.columns]
    assert list(mine.columns) == [1, 2, 3, 4, 5, 6] and (mine.dtypes == np.int64).all()
    pd.testing.assert_frame_equal(mine, theirs[mine.columns].astype(np.int64))
    same = quiet(raster.zonal_stats, blocks, rasters["class"], categorical="count", method=method)
    pd.testing.assert_frame_equal(mine, same)
    share = quiet(raster.zonal_stats, blocks, rasters["class"], categorical="fraction", method=method)
    total = mine.sum(axis=1)
    np.testing.assert_allclose(share[total > 0], mine[total > 0].div(total[total > 0], axis=0))
    assert share[total == 0].isna().all().all()


# --- exactextract ------------------------------------------------------------------------------

EE = ["median", "quantile(q=0.1)", "quantile(q=0.33)", "quantile(q=0.9)", "majority", "minority", "variety",
      "weighted_mean", "weighted_sum", "count", "sum"]
OUR_COLS = ["median", "quantile_10", "quantile_33", "quantile_90", "majority", "minority", "variety",
            "weighted_mean", "weighted_sum", "count", "sum"]


def exact_peer(blocks, path, ops, **kw):
    frame = exact_extract(path, blocks.reset_index(drop=True), ops, output="pandas", **kw)
    return frame.set_index(blocks.index).astype(float)


@pytest.mark.parametrize("kind", ["int", "float", "class"])
def test_exact_quantiles_majority_and_weights_equal_exactextract(rasters, kind):
    blocks = blocks_fixture()
    mine = quiet(raster.zonal_stats, blocks, rasters[kind], stats=EE, method="exact", weights=rasters["weights"])
    assert list(mine.columns) == OUR_COLS
    theirs = exact_peer(blocks, rasters[kind], EE, weights=rasters["weights"])
    theirs.columns = OUR_COLS
    assert mine["count"].gt(0).sum() == 10  # the north block only touches the raster, the last is outside
    np.testing.assert_allclose(mine.to_numpy(float), theirs.to_numpy(), rtol=1e-6)


def test_weights_nodata_and_default_weight_follow_exactextract(rasters):
    blocks = blocks_fixture()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        mine = raster.zonal_stats(blocks, rasters["int"], stats="weighted_mean,weighted_sum", method="exact",
                                  weights=rasters["holey_weights"])
    assert len(record) == 2 and all(r.category is RasterCoverageWarning for r in record)
    assert re.search(r"weights raster .*hw.tif' is nodata at [\d,]+ valid pixel\(s\) of \d+ block\(s\) \(B00, "
                     r".*pass default_weight=", str(record[1].message))
    theirs = exact_peer(blocks, rasters["int"], ["weighted_mean", "weighted_sum"], weights=rasters["holey_weights"])
    np.testing.assert_allclose(mine.to_numpy(float), theirs.to_numpy(), rtol=1e-6)  # NaN where a weight is missing
    assert mine["weighted_sum"].isna().sum() >= 5
    mine = quiet(raster.zonal_stats, blocks, rasters["int"], stats="weighted_mean", method="exact",
                 weights=rasters["holey_weights"], default_weight=2.5)
    theirs = exact_peer(blocks, rasters["int"], ["weighted_mean(default_weight=2.5)"],
                        weights=rasters["holey_weights"])
    np.testing.assert_allclose(mine.to_numpy(float), theirs.to_numpy(), rtol=1e-6)
    assert mine["weighted_mean"].notna().sum() == 10


@pytest.mark.parametrize("frac", [0.25, 0.5, 0.9, 1.0])
def test_min_coverage_frac_equals_exactextract(rasters, frac):
    blocks = blocks_fixture()
    ops = ["count", "sum", "mean", "median", "majority", "variety"]
    mine = quiet(raster.zonal_stats, blocks, rasters["int"], stats=ops, method="exact", min_coverage_frac=frac)
    theirs = exact_peer(blocks, rasters["int"], [f"{o}(min_coverage_frac={frac})" for o in ops])
    np.testing.assert_allclose(mine.to_numpy(float), theirs.to_numpy(), rtol=1e-6)
    full = quiet(raster.zonal_stats, blocks, rasters["int"], stats="count", method="exact")
    assert (mine["count"] <= full["count"]).all() and (mine["count"] < full["count"]).sum() >= 8
    if frac == 1.0:  # whole pixels only: the count is a whole number, and not zero
        assert np.allclose(mine["count"], mine["count"].round()) and (mine["count"].iloc[:8] > 0).all()


def test_class_fractions_equal_exactextract_frac(rasters):
    blocks = blocks_fixture()
    mine = quiet(raster.zonal_stats, blocks, rasters["float_class"], categorical="fraction", method="exact")
    theirs = exact_extract(rasters["float_class"], blocks.reset_index(drop=True), ["unique", "frac"], output="pandas")
    for i, (keys, fracs) in enumerate(zip(theirs["unique"], theirs["frac"], strict=True)):
        row = mine.iloc[i]
        if len(keys) == 0:
            assert row.isna().all()
            continue
        np.testing.assert_allclose([row[int(k)] for k in keys], fracs, rtol=1e-6)
        assert row.drop([int(k) for k in keys]).fillna(0).eq(0).all()


# --- options --------------------------------------------------------------------------------

def test_stats_separated_by_spaces_or_commas(rasters):
    blocks = blocks_fixture()
    a = quiet(raster.zonal_stats, blocks, rasters["int"], stats="min max")
    b = quiet(raster.zonal_stats, blocks, rasters["int"], stats="min,max")
    c = quiet(raster.zonal_stats, blocks, rasters["int"], stats=" min , max ")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert list(a.columns) == ["min", "max"]


def test_bad_options_name_what_to_do(tmp_path, rasters):
    blocks = blocks_fixture()
    other = write_tif(tmp_path / "o.tif", np.ones((N, N), "float32"), transform=Affine(20, 0, X0, 0, -20, Y0))
    cases = [
        (dict(stats="weighted_mean"), r"stats weighted_mean need a weights raster: pass weights="),
        (dict(stats="mean", weights=rasters["weights"]), r"no weighted statistic is asked for"),
        (dict(stats="weighted_sum", weights=other), r"weights raster .*o.tif' .* is not on the grid of raster"),
        (dict(min_coverage_frac=0.5), r"min_coverage_frac=0.5 needs method=\"exact\""),
        (dict(min_coverage_frac=1.5, method="exact"), r"min_coverage_frac=1.5 must be a number from 0 to 1"),
        (dict(min_coverage_frac=math.nan, method="exact"), r"min_coverage_frac=nan must be a number from 0 to 1"),
        (dict(categorical="share"), r"categorical='share': pass True or \"count\""),
        (dict(stats="percentile_101"), r"unknown statistic\(s\) \['percentile_101'\]"),
        (dict(stats="quantile(q=1.5)"), r"unknown statistic\(s\) \['quantile\(q=1.5\)'\]"),
        (dict(stats="weighted_sum", weights=rasters["weights"], default_weight=math.inf),
         r"default_weight=inf must be a finite number"),
    ]
    for kw, message in cases:
        with pytest.raises(RasterError, match=message):
            raster.zonal_stats(blocks, rasters["int"], **kw)


def test_cli_new_stats_weights_and_coverage(tmp_path, capsys, rasters):
    blocks = blocks_fixture().iloc[:8].assign(subpark="海淀园")
    path = tmp_path / "b.gpkg"
    blocks.to_file(path)
    argv = ["zonal", str(path), rasters["int"], "--stats", "percentile_90 majority weighted_mean", "--method",
            "exact", "--weights", rasters["weights"], "--min-coverage-frac", "0.5", "--json"]
    assert main(argv) == 0
    rows = pd.DataFrame(json.loads(capsys.readouterr().out)["rows"])
    api = raster.zonal_stats(blocks, rasters["int"], stats="percentile_90 majority weighted_mean", method="exact",
                             weights=rasters["weights"], min_coverage_frac=0.5)
    cols = ["percentile_90", "majority", "weighted_mean"]
    np.testing.assert_allclose(rows[cols].to_numpy(float), api.to_numpy(float))
    assert main(["zonal", str(path), rasters["class"], "--categorical", "fraction", "--json"]) == 0
    shares = pd.DataFrame(json.loads(capsys.readouterr().out)["rows"]).drop(columns="block_id")
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    with pytest.raises(SystemExit) as exc:
        main(["zonal", str(path), rasters["int"], "--min-coverage-frac", "2"])
    assert exc.value.code == 2
    assert "--min-coverage-frac: must be a finite number (≥ 0, ≤ 1), got 2" in capsys.readouterr().err
    assert main(["zonal", str(path), rasters["int"], "--min-coverage-frac", "0.5"]) == 1
    assert "needs method=\"exact\"" in capsys.readouterr().err
    assert shapely.is_valid(blocks.geometry).all()
