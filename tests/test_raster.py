"""Tests of zgc_space.raster: correctness against rasterstats and exactextract, bad input, CLI."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from exactextract import exact_extract
from pyproj import Transformer
from rasterstats import zonal_stats as rs_zonal_stats
from shapely import box

from zgc_space import raster
from zgc_space.cli import main
from zgc_space.errors import ColumnError, CRSError, RasterCoverageWarning, RasterError

X0, Y0 = 441_000.0, 4_428_000.0  # top-left of the synthetic grid, EPSG:4548 (Zhongguancun)
RES = 10.0
N = 200  # pixels per side


def write_tif(path, data, *, transform, crs="EPSG:4548", nodata=None, block=64, **extra):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    profile = {
        "driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
        "dtype": data.dtype, "transform": transform, "nodata": nodata, "tiled": True,
        "blockxsize": block, "blockysize": block, "compress": "deflate",
    }
    if crs is not None:
        profile["crs"] = crs
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return str(path)


def star(rng, cx, cy, r, k=9):
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = r * rng.uniform(0.4, 1.0, k)
    return shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)])


def random_blocks(seed=0, n=12):
    """Random star polygons: most inside the grid, two straddling its edge, one far outside."""
    rng = np.random.default_rng(seed)
    geoms = [star(rng, X0 + rng.uniform(300, 1700), Y0 - rng.uniform(300, 1700), rng.uniform(60, 260))
             for _ in range(n - 3)]
    geoms.append(star(rng, X0 + 5, Y0 - 900, 150))  # partly outside (west edge)
    geoms.append(star(rng, X0 + 1000, Y0 - N * RES + 20, 120))  # partly outside (south edge)
    geoms.append(box(X0 + 5000, Y0 - 500, X0 + 5300, Y0 - 200))  # wholly outside
    ids = [f"B{i:03d}" for i in range(n)]
    return gpd.GeoDataFrame({"block_id": ids}, geometry=geoms, crs="EPSG:4548", index=np.arange(100, 100 + n))


def grid_transform():
    return Affine(RES, 0, X0, 0, -RES, Y0)


@pytest.fixture
def blocks():
    return random_blocks()


@pytest.fixture
def int_raster(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.integers(0, 500, (N, N)).astype("int16")
    data[rng.random((N, N)) < 0.1] = -1  # nodata holes
    return write_tif(tmp_path / "int.tif", data, transform=grid_transform(), nodata=-1)


@pytest.fixture
def float_raster(tmp_path):
    rng = np.random.default_rng(2)
    data = (rng.integers(0, 400, (N, N)) / 4).astype("float32")  # exact in float32 sums
    data[rng.random((N, N)) < 0.1] = np.nan
    return write_tif(tmp_path / "float.tif", data, transform=grid_transform(), nodata=np.nan)


def peer(blocks_in_raster_crs, path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = rs_zonal_stats(list(blocks_in_raster_crs.geometry), path,
                              stats=["count", "sum", "mean", "min", "max"], **kw)
    frame = pd.DataFrame(rows, index=blocks_in_raster_crs.index).astype(float)
    frame.loc[frame["count"] == 0, "sum"] = 0.0  # rasterstats gives None; the empty sum is 0 (ours, exactextract)
    return frame


def ours(blocks, path, **kw):
    with pytest.warns(RasterCoverageWarning, match="B011"):
        return raster.zonal_stats(blocks, path, **kw)


def assert_frame_equal_stats(mine, theirs, *, mean_rtol=0.0):
    cols = ["count", "sum", "min", "max"]
    np.testing.assert_array_equal(mine[cols].to_numpy(float), theirs[cols].to_numpy(float))
    np.testing.assert_allclose(mine["mean"].to_numpy(float), theirs["mean"].to_numpy(float), rtol=mean_rtol)


@pytest.mark.parametrize("method", ["center", "all_touched"])
def test_integer_raster_equals_rasterstats_exactly(blocks, int_raster, method):
    mine = ours(blocks, int_raster, method=method)
    theirs = peer(blocks, int_raster, all_touched=method == "all_touched")
    assert_frame_equal_stats(mine, theirs)
    assert mine.index.equals(blocks.index) and mine["count"].dtype == np.int64
    assert mine.loc[111, "count"] == 0 and math.isnan(mine.loc[111, "mean"])  # wholly outside


@pytest.mark.parametrize("method", ["center", "all_touched"])
def test_float_raster_with_nan_nodata_equals_rasterstats(blocks, float_raster, method):
    mine = ours(blocks, float_raster, method=method)
    theirs = peer(blocks, float_raster, all_touched=method == "all_touched")
    # rasterstats' mean of a float32 raster is rounded to float32; everything else is exact
    assert_frame_equal_stats(mine, theirs, mean_rtol=1e-7)


def test_nodata_override_equals_rasterstats(blocks, int_raster):
    mine = ours(blocks, int_raster, nodata=7)
    theirs = peer(blocks, int_raster, nodata=7)
    # rasterstats fills pixels beyond the edge with the file's nodata (-1), which the override
    # makes valid: it counts them. Compare the blocks wholly inside; ours ignore outside pixels.
    assert_frame_equal_stats(mine.iloc[:9], theirs.iloc[:9])
    assert mine.loc[111, "count"] == 0 and theirs.loc[111, "count"] == 900


def exact_peer(blocks_in_raster_crs, path):
    frame = exact_extract(path, blocks_in_raster_crs.reset_index(drop=True),
                          ["count", "sum", "mean", "min", "max"], output="pandas")
    return frame.set_index(blocks_in_raster_crs.index).astype(float)


@pytest.mark.parametrize("fixture", ["int_raster", "float_raster"])
def test_exact_matches_exactextract(blocks, fixture, request):
    path = request.getfixturevalue(fixture)
    mine = ours(blocks, path, method="exact")
    theirs = exact_peer(blocks, path)
    inside = mine["count"] > 0
    for col in ["count", "sum", "mean", "min", "max"]:
        np.testing.assert_allclose(mine.loc[inside, col], theirs.loc[inside, col], rtol=1e-6, err_msg=col)
    assert theirs.loc[~inside, "count"].fillna(0).eq(0).all()


@pytest.mark.parametrize("epsg", [4326, 3857])
def test_crs_mismatch_blocks_reprojected_to_raster(tmp_path, blocks, epsg):
    # a raster in another CRS over the same area; blocks stay in EPSG:4548
    tr = Transformer.from_crs("EPSG:4548", f"EPSG:{epsg}", always_xy=True)
    left, bottom, right, top = tr.transform_bounds(X0, Y0 - N * RES, X0 + N * RES, Y0)
    w, h = 180, 150
    transform = Affine((right - left) / w, 0, left, 0, -(top - bottom) / h, top)
    rng = np.random.default_rng(3)
    data = rng.integers(1, 1000, (h, w)).astype("int32")
    path = write_tif(tmp_path / f"r{epsg}.tif", data, transform=transform, crs=f"EPSG:{epsg}", nodata=0)
    moved = blocks.to_crs(epsg)
    for method in ("center", "all_touched"):
        mine = ours(blocks, path, method=method)
        assert_frame_equal_stats(mine, peer(moved, path, all_touched=method == "all_touched"))
    mine = ours(blocks, path, method="exact")
    theirs = exact_peer(moved, path)
    inside = mine["count"] > 0
    np.testing.assert_allclose(mine.loc[inside, ["count", "sum", "mean"]], theirs.loc[inside, ["count", "sum", "mean"]],
                               rtol=1e-6)


def test_threads_and_tile_sizes_give_identical_results(tmp_path, blocks):
    rng = np.random.default_rng(4)
    data = rng.integers(0, 100, (N, N)).astype("uint8")
    small = write_tif(tmp_path / "a.tif", data, transform=grid_transform(), block=16)
    striped = str(tmp_path / "b.tif")
    with rasterio.open(striped, "w", driver="GTiff", width=N, height=N, count=1, dtype="uint8",
                       crs="EPSG:4548", transform=grid_transform()) as dst:
        dst.write(data, 1)
    a = ours(blocks, small, stats="count,sum,std,median", threads=1)
    b = ours(blocks, small, stats="count,sum,std,median", threads=2)
    c = ours(blocks, striped, stats="count,sum,std,median")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    theirs = peer(blocks, small)
    np.testing.assert_array_equal(a["sum"], theirs["sum"])  # the block outside too: the empty sum is 0


@pytest.mark.parametrize("kind", ["float_nodata_and_nan", "nan_nodata", "int_with_mask"])
def test_run_length_path_equals_mask_path(tmp_path, blocks, kind):
    # count/sum/mean/min/max reduce pixel runs straight from the tiles; adding "std" takes the
    # per-block mask path. Overlapping blocks, a block ending at the raster's corner (a run
    # ending at the last pixel read), 16-pixel tiles (runs cut at tile edges).
    rng = np.random.default_rng(12)
    extra = [box(X0 + 300, Y0 - 700, X0 + 900, Y0 - 300), box(X0 + 1500, Y0 - N * RES, X0 + N * RES, Y0 - 1500)]
    more = gpd.GeoDataFrame({"block_id": ["O1", "C1"]}, geometry=extra, crs="EPSG:4548", index=[900, 901])
    both = pd.concat([blocks, more])
    data = (rng.integers(-20, 400, (N, N)) / 4).astype("float32")
    extra_kw = {}
    if kind == "float_nodata_and_nan":
        data[rng.random((N, N)) < 0.1] = -5.0
        data[rng.random((N, N)) < 0.01] = np.nan
        nodata = -5.0
    elif kind == "nan_nodata":
        data[rng.random((N, N)) < 0.1] = np.nan
        nodata = np.nan
    else:
        data, nodata = (data * 4).astype("int16"), None
    path = write_tif(tmp_path / f"{kind}.tif", data, transform=grid_transform(), nodata=nodata, block=16,
                     **extra_kw)
    if kind == "int_with_mask":
        with rasterio.open(path, "r+") as dst:
            dst.write_mask(np.where(rng.random((N, N)) < 0.1, 0, 255).astype("uint8"))
    cols = ["count", "sum", "mean", "min", "max", "range", "nodata"]
    runs = ours(both, path, stats=cols, threads=0)
    runs2 = ours(both, path, stats=cols, threads=2)
    masks = ours(both, path, stats=[*cols, "std"])[cols]
    pd.testing.assert_frame_equal(runs, masks)
    pd.testing.assert_frame_equal(runs2, masks)
    assert runs.loc[901, "count"] > 0 and runs["nodata"].sum() > 0


def test_runs_ending_at_the_last_pixel_read(tmp_path):
    # one-pixel and longer runs ending at the last pixel of the window read, nodata or not
    data = np.arange(16, dtype="float32").reshape(4, 4)
    data[3, 3] = -1.0
    path = write_tif(tmp_path / "c.tif", data, transform=grid_transform(), nodata=-1.0, block=16)
    corner = box(X0 + 31, Y0 - 39, X0 + 39, Y0 - 31)  # the centre of pixel (3, 3) only
    row = box(X0 + 1, Y0 - 39, X0 + 39, Y0 - 31)  # pixels (3, 0..3)
    for geoms, count, total, nodata in [([corner], [0], [0.0], [1]), ([row], [3], [12 + 13 + 14], [1]),
                                        ([row, corner], [3, 0], [39, 0.0], [1, 1])]:  # the empty sum is 0
        blk = gpd.GeoDataFrame({"block_id": [f"B{i}" for i in range(len(geoms))]}, geometry=geoms,
                               crs="EPSG:4548")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RasterCoverageWarning)
            out = raster.zonal_stats(blk, path, stats="count,sum,nodata")
            masks = raster.zonal_stats(blk, path, stats="count,sum,nodata,std")
        assert out["count"].tolist() == count and out["nodata"].tolist() == nodata
        np.testing.assert_array_equal(out["sum"], total)
        pd.testing.assert_frame_equal(out, masks[["count", "sum", "nodata"]])


def test_decode_threads_are_kept_and_stop_cleanly(blocks, int_raster):
    from zgc_space.raster import _tiles, _zonal

    with rasterio.open(int_raster) as ds:
        the_plan = _zonal.plan(ds, np.asarray(blocks.geometry.values), band=1, method="center")
        gen = _tiles.decoded(ds, the_plan, band=1, threads=1)
        assert next(gen)[0] == 0
        gen.close()  # reads in flight finish before their dataset handles close
        keys = [t[0] for t in _tiles.decoded(ds, the_plan, band=1, threads=1)]
        serial = [t[2] for t in _tiles.decoded(ds, the_plan, band=1, threads=0)]
        threaded = [t[2] for t in _tiles.decoded(ds, the_plan, band=1, threads=1)]
    assert keys == list(range(len(the_plan.tiles))) and len(keys) > 4  # more tiles than reads in flight
    assert all(np.array_equal(a, b) for a, b in zip(serial, threaded, strict=True))
    assert _tiles._pool(1) is _tiles._pool(1)


def test_hand_computed_exact_coverage_and_extra_stats(tmp_path):
    # 4 × 4 pixels of 10 m, values 0..15 row by row; a block covering columns 0-1.5 of rows 0-1
    data = np.arange(16, dtype="float32").reshape(4, 4)
    path = write_tif(tmp_path / "h.tif", data, transform=grid_transform(), block=16)
    blk = gpd.GeoDataFrame({"block_id": ["A"]}, geometry=[box(X0, Y0 - 20, X0 + 15, Y0)], crs="EPSG:4548")
    out = raster.zonal_stats(blk, path, method="exact", stats="count,sum,mean,min,max,range,std,nodata")
    # coverage: pixels (0,0),(1,0): 1; (0,1),(1,1): 0.5 → values 0,4 full; 1,5 half
    assert out.loc[0, "count"] == pytest.approx(3.0)
    assert out.loc[0, "sum"] == pytest.approx(0 + 4 + 0.5 * 1 + 0.5 * 5)
    assert out.loc[0, "mean"] == pytest.approx(7.0 / 3.0)
    assert (out.loc[0, "min"], out.loc[0, "max"], out.loc[0, "range"]) == (0.0, 5.0, 5.0)
    mean = 7 / 3
    var = (mean**2 + (4 - mean) ** 2 + 0.5 * (1 - mean) ** 2 + 0.5 * (5 - mean) ** 2) / 3
    assert out.loc[0, "std"] == pytest.approx(math.sqrt(var))
    assert out.loc[0, "nodata"] == 0.0


def test_scale_offset_mask_and_bands(tmp_path):
    data = np.stack([np.full((32, 32), 10, dtype="uint16"), np.full((32, 32), 3, dtype="uint16")])
    path = str(tmp_path / "s.tif")
    with rasterio.open(path, "w", driver="GTiff", width=32, height=32, count=2, dtype="uint16",
                       crs="EPSG:4548", transform=grid_transform(), tiled=True, blockxsize=16,
                       blockysize=16) as dst:
        dst.write(data)
        dst.scales = (0.5, 1.0)
        dst.offsets = (1.0, 0.0)
        mask = np.full((32, 32), 255, dtype="uint8")
        mask[:, :5] = 0  # internal mask hides the first 5 columns
        dst.write_mask(mask)
    blk = gpd.GeoDataFrame({"block_id": ["A"]}, geometry=[box(X0, Y0 - 100, X0 + 100, Y0)], crs="EPSG:4548")
    out = raster.zonal_stats(blk, path, band=[1, 2], stats=["count", "mean", "nodata"])
    assert list(out.columns) == ["b1_count", "b1_mean", "b1_nodata", "b2_count", "b2_mean", "b2_nodata"]
    assert out.loc[0, "b1_count"] == 50 and out.loc[0, "b1_nodata"] == 50
    assert out.loc[0, "b1_mean"] == 6.0 and out.loc[0, "b2_mean"] == 3.0


def test_categorical_counts(tmp_path):
    data = np.zeros((8, 8), dtype="uint8")
    data[:, 4:] = 50
    data[0, 0] = 255
    path = write_tif(tmp_path / "c.tif", data, transform=grid_transform(), nodata=255, block=16)
    blk = gpd.GeoDataFrame({"block_id": ["A"]}, geometry=[box(X0, Y0 - 80, X0 + 80, Y0)], crs="EPSG:4548")
    out = raster.zonal_stats(blk, path, categorical=True)
    assert list(out.columns) == [0, 50] and out.loc[0, 0] == 31 and out.loc[0, 50] == 32
    frac = raster.built_fraction(blk, path, classes=[50])
    assert frac.loc[0, "built_fraction"] == pytest.approx(32 / 63)
    assert frac.loc[0, "built_area_m2"] == pytest.approx(6400 * 32 / 63)


def test_bad_inputs(tmp_path, blocks, int_raster):
    nocrs = write_tif(tmp_path / "nocrs.tif", np.ones((16, 16), "uint8"), transform=grid_transform(), crs=None)
    with pytest.raises(CRSError, match="has no CRS"):
        raster.zonal_stats(blocks, nocrs)
    with pytest.raises(CRSError, match="has no CRS"):
        raster.zonal_stats(blocks.set_crs(None, allow_override=True), int_raster)
    floats = write_tif(tmp_path / "f.tif", np.full((N, N), 2.5, "float32"), transform=grid_transform())
    with pytest.raises(RasterError, match=r"not whole numbers \(e.g. 2.5\); categorical statistics need integer"):
        raster.zonal_stats(blocks, floats, categorical=True)
    with pytest.raises(RasterError, match="band=3"):
        raster.zonal_stats(blocks, int_raster, band=3)
    with pytest.raises(ValueError, match="unknown statistic"):
        raster.zonal_stats(blocks, int_raster, stats="mean,mode")
    with pytest.raises(ValueError, match="method='nearest'"):
        raster.zonal_stats(blocks, int_raster, method="nearest")
    with pytest.raises(RasterError, match="cannot open raster"):
        raster.zonal_stats(blocks, tmp_path / "missing.tif")
    rotated = write_tif(tmp_path / "rot.tif", np.ones((16, 16), "uint8"), transform=Affine(10, 1, X0, 1, -10, Y0))
    with pytest.raises(RasterError, match="rotated"):
        raster.zonal_stats(blocks, rotated)


def test_all_nodata_raster_warns_and_gives_nan(tmp_path, blocks):
    path = write_tif(tmp_path / "nd.tif", np.full((N, N), -9, "int16"), transform=grid_transform(), nodata=-9)
    with pytest.warns(RasterCoverageWarning, match="see only nodata pixels"):
        out = raster.zonal_stats(blocks, path, stats="count,mean,nodata")
    assert (out["count"] == 0).all() and out["mean"].isna().all() and out["nodata"].iloc[0] > 0
    with pytest.raises(RasterError, match="no valid pixel under any"):
        raster.floor_area_from_height(blocks, path)


def heights_fixture(tmp_path, *, unit_scale=1.0, units=None):
    # 10 × 10 pixels of 10 m: left half 12 m (4 storeys), right half 1 m (unbuilt), one nodata
    data = np.full((10, 10), 12.0, dtype="float32")
    data[:, 5:] = 1.0
    data[0, 0] = -1
    path = write_tif(tmp_path / "heights.tif", data / unit_scale, transform=grid_transform(), nodata=-1 / unit_scale,
                     block=16)
    if units:
        with rasterio.open(path, "r+") as ds:
            ds.units = (units,)
    blk = gpd.GeoDataFrame({"block_id": ["A", "B"], "gfa_m2": [1.0, 2.0], "gfa_source": ["surveyed"] * 2},
                           geometry=[box(X0, Y0 - 100, X0 + 54, Y0), box(X0 + 60, Y0 - 100, X0 + 100, Y0)],
                           crs="EPSG:4548")
    return path, blk


def test_floor_area_from_height_hand_computed(tmp_path):
    path, blk = heights_fixture(tmp_path)
    out = raster.floor_area_from_height(blk, path)
    # block A: 49 valid 12 m pixels fully inside (4 floors × 100 m²) + 10 pixels 40 % covered of 1 m (unbuilt)
    assert out.loc[0, "gfa_m2"] == pytest.approx(49 * 4 * 100)
    assert out.loc[0, "footprint_m2"] == pytest.approx(4900)
    assert out.loc[0, "height_valid_fraction"] == pytest.approx(5300 / 5400)  # one nodata pixel
    assert out.loc[1, "gfa_m2"] == 0.0
    assert list(out["gfa_source"]) == ["height_raster"] * 2
    assert list(out["gfa_m2_previous"]) == [1.0, 2.0] and list(out["gfa_source_previous"]) == ["surveyed"] * 2
    assert "gfa_m2_previous" not in blk.columns  # input untouched
    half = blk.iloc[:1].set_geometry([box(X0 - 50, Y0 - 100, X0 + 50, Y0)], crs="EPSG:4548")
    with pytest.warns(RasterCoverageWarning, match="partly outside it"):
        outside = raster.floor_area_from_height(half, path)
    assert outside.loc[0, "height_valid_fraction"] == pytest.approx(4900 / 10_000)
    out5 = raster.floor_area_from_height(blk, path, storey_height_m=5.0, method="center")
    assert out5.loc[0, "gfa_m2"] == pytest.approx(49 * 2 * 100)


def test_floor_area_units(tmp_path):
    path, blk = heights_fixture(tmp_path, unit_scale=0.3048)  # stored in feet
    metres = raster.floor_area_from_height(blk, path, height_unit="ft")
    assert metres.loc[0, "gfa_m2"] == pytest.approx(49 * 4 * 100)
    wrong = raster.floor_area_from_height(blk, path)  # read as metres: 39 m → 13 storeys, 3.3 m → 1
    assert wrong.loc[0, "gfa_m2"] == pytest.approx(49 * 13 * 100 + 4 * 100)
    with pytest.raises(RasterError, match="height_unit is not a known height unit"):
        raster.floor_area_from_height(blk, path, height_unit="furlong")
    (tmp_path / "u").mkdir()
    path2, _ = heights_fixture(tmp_path / "u", units="decimetre-ish")
    with pytest.raises(RasterError, match="unit 'decimetre-ish' recorded"):
        raster.floor_area_from_height(blk, path2)
    with pytest.raises(ValueError, match="storey_height_m must be > 0"):
        raster.floor_area_from_height(blk, path, storey_height_m=0)


def test_floor_area_on_geographic_raster(tmp_path):
    tr = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
    left, bottom, right, top = tr.transform_bounds(X0 - 200, Y0 - 400, X0 + 400, Y0 + 200)
    transform = Affine((right - left) / 300, 0, left, 0, -(top - bottom) / 300, top)
    path = write_tif(tmp_path / "geo.tif", np.full((300, 300), 7.0, "float32"), transform=transform, crs="EPSG:4326")
    blk = gpd.GeoDataFrame({"block_id": ["A"]}, geometry=[box(X0, Y0 - 100, X0 + 100, Y0)], crs="EPSG:4548")
    out = raster.floor_area_from_height(blk, path)
    assert out.loc[0, "gfa_m2"] == pytest.approx(2 * 10_000, rel=1e-6)  # 7 m → 2 storeys everywhere


def ground_heights_tif(path, crs, *, ground=(X0, Y0 - 1500, X0 + 1500, Y0), n=300):
    """A height raster in ``crs`` whose pixels hold heights of the ground point (EPSG:4548) under their centre.

    Heights vary over the ground (2.5 to 42.5 m); pixels west of X0 + 100 are nodata and pixels
    south of Y0 - 1200 are 1 m (unbuilt), so every CRS sees the same city up to pixel size.
    """
    to_crs = Transformer.from_crs("EPSG:4548", crs, always_xy=True)
    left, bottom, right, top = to_crs.transform_bounds(*ground)
    transform = Affine((right - left) / n, 0, left, 0, -(top - bottom) / n, top)
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    px, py = transform.c + cols * transform.a, transform.f + rows * transform.e
    gx, gy = Transformer.from_crs(crs, "EPSG:4548", always_xy=True).transform(px, py)
    h = 2.5 + 40.0 * (0.5 + 0.5 * np.sin(2 * np.pi * gx / 700.0) * np.cos(2 * np.pi * gy / 500.0))
    h = np.where(gy < Y0 - 1200, 1.0, h)
    h = np.where(gx < X0 + 100, -1.0, h).astype("float32")
    return write_tif(path, h, transform=transform, crs=crs, nodata=-1.0, block=64)


def test_floor_area_is_ground_area_in_any_raster_crs(tmp_path):
    # the same city as a height raster in EPSG:4548, Web Mercator and longitude/latitude: floor area,
    # footprint and valid fraction are areas on the ground, so they must agree (1 % tolerance; the
    # per-block scale factor is exact to ~0.01 %, the rest is pixels resampled on another grid)
    inner = shapely.Polygon([(X0 + 300, Y0 - 1100), (X0 + 1250, Y0 - 1000), (X0 + 1100, Y0 - 250),
                             (X0 + 500, Y0 - 180), (X0 + 350, Y0 - 600)])
    straddling = box(X0 - 300, Y0 - 900, X0 + 500, Y0 - 300)  # its west part is off the raster
    blk = gpd.GeoDataFrame({"block_id": ["IN", "EDGE"]}, geometry=[inner, straddling], crs="EPSG:4548")
    results = {}
    for crs in ("EPSG:4548", "EPSG:3857", "EPSG:4326"):
        path = ground_heights_tif(tmp_path / f"h{crs[5:]}.tif", crs)
        with pytest.warns(RasterCoverageWarning, match="EDGE"):
            results[crs] = raster.floor_area_from_height(blk, path)
    truth = results["EPSG:4548"]
    assert truth.loc[0, "height_valid_fraction"] == pytest.approx(1.0)
    assert truth.loc[1, "height_valid_fraction"] == pytest.approx(400 * 600 / (800 * 600), rel=0.01)
    assert truth.loc[0, "gfa_m2"] > 5 * inner.area  # a built-up fixture, not zeros
    for crs in ("EPSG:3857", "EPSG:4326"):
        for col in ("gfa_m2", "footprint_m2", "height_valid_fraction"):
            np.testing.assert_allclose(results[crs][col], truth[col], rtol=0.01, err_msg=f"{crs} {col}")


def test_rasterize_roundtrip(tmp_path):
    cells = [box(X0 + i * 200, Y0 - j * 200 - 190, X0 + i * 200 + 190, Y0 - j * 200)
             for i in range(3) for j in range(2)]
    frame = gpd.GeoDataFrame({"block_id": list("ABCDEF"), "far": np.linspace(0.5, 3.0, 6)}, geometry=cells,
                             crs="EPSG:4548")
    out = raster.rasterize(frame, "far", resolution_m=10, path=tmp_path / "sub" / "far.tif")
    assert sorted(p.name for p in out.parent.iterdir()) == ["far.tif"]  # no temp file left
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 4548 and ds.nodata == -9999.0 and ds.profile["tiled"]
        assert ds.compression.value == "DEFLATE" and ds.block_shapes[0] == (256, 256)
    back = raster.zonal_stats(frame, out, stats="mean")
    np.testing.assert_allclose(back["mean"], frame["far"], rtol=1e-6)
    with pytest.raises(ColumnError, match="no column 'nope'"):
        raster.rasterize(frame, "nope", resolution_m=10, path=tmp_path / "x.tif")
    with pytest.raises(ValueError, match="resolution_m must be positive"):
        raster.rasterize(frame, "far", resolution_m=0, path=tmp_path / "x.tif")


def test_cli_zonal_and_floor_area(tmp_path, capsys, blocks, int_raster):
    gpkg = tmp_path / "blocks.gpkg"
    blocks.iloc[:9].to_file(gpkg)
    out_csv = tmp_path / "z.csv"
    assert main(["zonal", str(gpkg), int_raster, "--stats", "mean,sum", "--out", str(out_csv), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["method"] == "center" and len(payload["rows"]) == 9
    table = pd.read_csv(out_csv)
    assert list(table.columns) == ["block_id", "mean", "sum"] and len(table) == 9
    path, blk = heights_fixture(tmp_path)
    hg = tmp_path / "h.gpkg"
    blk.to_file(hg)
    assert main(["floor-area", str(hg), path, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[0]["block_id"] == "A" and rows[0]["gfa_m2"] == pytest.approx(19600)
    assert main(["zonal", str(gpkg), str(tmp_path / "none.tif")]) == 1
    assert "cannot open raster" in capsys.readouterr().err


def test_bad_options_are_raster_errors(tmp_path, blocks, int_raster):
    path, blk = heights_fixture(tmp_path)
    with pytest.raises(RasterError, match=r"stats='mean,mode': unknown statistic\(s\) \['mode'\]; choose among"):
        raster.zonal_stats(blocks, int_raster, stats="mean,mode")
    with pytest.raises(RasterError, match=r"method='nearest' is not one of center, all_touched, exact"):
        raster.floor_area_from_height(blk, path, method="nearest")
    for bad in (0.0, -3.0, float("nan")):
        with pytest.raises(RasterError, match=r"storey_height_m must be > 0 \(got " + f"{bad}" + r"\).*=3\.0"):
            raster.floor_area_from_height(blk, path, storey_height_m=bad)
    with pytest.raises(RasterError, match=r"min_height_m must be >= 0 \(got -1\.0\)"):
        raster.floor_area_from_height(blk, path, min_height_m=-1.0)
    with pytest.raises(RasterError, match=r"resolution_m must be positive \(got 0\)"):
        raster.rasterize(blk, "gfa_m2", resolution_m=0, path=tmp_path / "x.tif")


@pytest.mark.parametrize("argv, message", [
    (["floor-area", "{blocks}", "{heights}", "--storey-height-m", "0"], "storey_height_m must be > 0 (got 0.0)"),
    (["zonal", "{blocks}", "{heights}", "--stats", "mean,foo"], "unknown statistic(s) ['foo']"),
])
def test_cli_bad_option_is_one_error_line(tmp_path, capsys, argv, message):
    path, blk = heights_fixture(tmp_path)
    gpkg = tmp_path / "b.gpkg"
    blk.to_file(gpkg)
    code = main([a.format(blocks=gpkg, heights=path) for a in argv])
    err = capsys.readouterr().err
    assert code == 1 and message in err
    assert err.startswith(f"zgc-space {argv[0]}: error: ") and len(err.strip().splitlines()) == 1


def random_shapes(seed, n):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        g = star(rng, X0 + 100, Y0 - 100, rng.uniform(30, 95), k=int(rng.integers(4, 40)))
        if k % 2:
            g = g.difference(shapely.Point(X0 + 100, Y0 - 100).buffer(rng.uniform(5, 20)))
        if k % 3 == 0:
            g = shapely.reverse(g)  # orientation must not matter
        if k % 5 == 0:
            g = shapely.union(g, box(X0 + 160, Y0 - 20, X0 + 187.3, Y0 - 5))
        out.append(g)
    return [g for g in out if g.is_valid]


def test_center_rule_equals_gdal_rasterizer():
    from rasterio.features import rasterize

    from zgc_space.raster._zonal import _edges, center_mask

    rng = np.random.default_rng(9)
    for g in random_shapes(5, 120):
        t = Affine(3.7, 0, X0 - 5 + rng.uniform(0, 5), 0, -3.7, Y0 + 5 - rng.uniform(0, 5))
        shape = (int(rng.integers(20, 70)), int(rng.integers(20, 70)))
        gdal = rasterize([(g, 1)], out_shape=shape, transform=t, dtype="uint8").astype(bool)
        np.testing.assert_array_equal(center_mask(_edges(g), t, shape), gdal)


def test_exact_coverage_equals_polygon_clipping():
    from zgc_space.raster._zonal import _coverage

    rng = np.random.default_rng(10)
    for g in random_shapes(6, 25):
        res = rng.uniform(8, 15)
        t = Affine(res, 0, X0 - 3, 0, -res, Y0 + 3)
        shape = (20, 22)
        rows, cols = np.indices(shape)
        left, top = X0 - 3 + cols * res, Y0 + 3 - rows * res
        boxes = shapely.box(left, top - res, left + res, top)
        expect = shapely.area(shapely.intersection(g, boxes)) / res**2
        np.testing.assert_allclose(_coverage(g, t, shape), expect, rtol=0, atol=1e-9)


def test_batched_centre_masks_equal_single_masks():
    from zgc_space.raster._zonal import _edges, center_mask, center_masks

    geoms = np.array(random_shapes(7, 30) + [shapely.Polygon()], dtype=object)
    t = Affine(2.5, 0, X0 - 40, 0, -2.5, Y0 + 40)
    rng = np.random.default_rng(3)
    windows = np.array([[r, c, r + int(rng.integers(5, 90)), c + int(rng.integers(5, 90))]
                        for r, c in rng.integers(0, 60, (len(geoms), 2))])
    windows[-1] = 0
    masks = center_masks(geoms, windows, t)
    assert set(masks) == set(range(len(geoms) - 1))
    for i, m in masks.items():
        r0, c0, r1, c1 = windows[i]
        sub = Affine(2.5, 0, X0 - 40 + c0 * 2.5, 0, -2.5, Y0 + 40 - r0 * 2.5)
        np.testing.assert_array_equal(m, center_mask(_edges(geoms[i]), sub, (r1 - r0, c1 - c0)))


def test_batched_exact_coverages_equal_single_coverages():
    from zgc_space.raster._exact import coverages
    from zgc_space.raster._zonal import _coverage

    geoms = np.array(random_shapes(7, 30) + [shapely.Polygon()], dtype=object)
    t = Affine(2.5, 0, X0 - 40, 0, -2.5, Y0 + 40)
    rng = np.random.default_rng(5)
    windows = np.array([[r, c, r + int(rng.integers(5, 90)), c + int(rng.integers(5, 90))]
                        for r, c in rng.integers(0, 60, (len(geoms), 2))])  # some cut through shapes
    windows[-1] = 0
    covs = coverages(geoms, windows, t)
    assert set(covs) == set(range(len(geoms) - 1))
    for i, cov in covs.items():
        r0, c0, r1, c1 = windows[i]
        sub = Affine(2.5, 0, X0 - 40 + c0 * 2.5, 0, -2.5, Y0 + 40 - r0 * 2.5)
        np.testing.assert_allclose(cov, _coverage(geoms[i], sub, (r1 - r0, c1 - c0)), rtol=0, atol=1e-12)
        assert ((cov > 0) == (_coverage(geoms[i], sub, (r1 - r0, c1 - c0)) > 0)).all()
