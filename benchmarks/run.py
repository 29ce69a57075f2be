"""Side-by-side benchmarks: zgc_space against its peers on the same files, in the same run.

Usage::

    .venv/bin/python benchmarks/run.py            # full size (generates ~benchmarks/data once)
    .venv/bin/python benchmarks/run.py --quick    # small files, one repeat: a smoke test
    .venv/bin/python benchmarks/run.py --only zonal

Workloads
---------
zonal
    A float32 GeoTIFF (10,000 x 10,000 = 10^8 pixels, 10 m, tiled 512, DEFLATE) over a
    Beijing-sized extent and 164 blocks in six clusters covering ~3 % of it; count/sum/mean.
    Peers: rasterstats, exactextract, and the physical floor: rasterio reading and decoding
    just the internal tiles the blocks touch (one thread). Peak memory of our engine is
    measured in a child process.
zonal_stats
    The same raster and blocks: percentiles, majority, minority, unique (``center``) against
    rasterstats; ``exact`` median, quantiles, majority, variety, weighted mean and sum (a second
    10^8-pixel raster as weights) and ``min_coverage_frac`` against exactextract.
buildings
    1,000,000 building footprints (rotated rectangles) -> the 164 blocks by centroid.
    Peer: centroids + ``geopandas.sjoin(predicate="within")`` + groupby.
indicators, proposals, optimize, accounting, cli
    The scripts ``bench_indicators.py``, ``bench_proposals.py``, ``bench_optimize.py``,
    ``bench_accounting.py`` and ``bench_cli.py`` (start-up of ``zgc-space --version``/``--help``
    against ``python -c pass`` and ``rio --version``), run as child processes (their own peers
    and tables).

Data are generated under benchmarks/data/ (git-ignored) with a fixed seed and reused.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.windows import Window

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent))

from zgc_space import buildings, raster
from zgc_space.raster import (
    _tiles,
    _zonal,  # noqa: E402
)

X0, Y0, RES = 400_000.0, 4_450_000.0, 10.0  # top-left (EPSG:4548), Beijing-sized extent


def sizes(quick: bool) -> dict:
    if quick:
        return {"pixels": 4_000, "footprints": 100_000, "repeats": 1, "tag": "quick"}
    return {"pixels": 10_000, "footprints": 1_000_000, "repeats": 5, "tag": "full"}


# ---------------------------------------------------------------- data
def make_blocks(n_px: int, seed: int = 7) -> gpd.GeoDataFrame:
    """164 jittered blocks in six clusters, ~3 % of the raster's area."""
    rng = np.random.default_rng(seed)
    extent = n_px * RES
    side = np.sqrt(0.03 * extent**2 / 164)  # block size for 3 % cover
    geoms, ids = [], []
    per = [28, 28, 27, 27, 27, 27]
    centres = np.array([[0.2, 0.2], [0.5, 0.2], [0.8, 0.25], [0.25, 0.6], [0.55, 0.65], [0.8, 0.8]]) * extent
    for c, count in enumerate(per):
        cols = 6
        for k in range(count):
            i, j = divmod(k, cols)
            x = X0 + centres[c, 0] + (j - cols / 2) * side
            y = Y0 - centres[c, 1] - (i - 2.5) * side
            t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
            r = 0.42 * side * (1 + 0.025 * rng.standard_normal(48).clip(-3, 3))
            sq = np.c_[np.clip(np.cos(t) * 1.4, -1, 1), np.clip(np.sin(t) * 1.4, -1, 1)]
            geoms.append(shapely.Polygon(np.c_[x + sq[:, 0] * r, y + sq[:, 1] * r]))
            ids.append(f"B{len(ids) + 1:03d}")
    return gpd.GeoDataFrame({"block_id": ids}, geometry=geoms, crs="EPSG:4548")


def make_raster(path: Path, n_px: int, seed: int = 11) -> None:
    """Smooth heights plus noise, float32, tiled 512, DEFLATE; written strip by strip."""
    rng = np.random.default_rng(seed)
    profile = {
        "driver": "GTiff", "width": n_px, "height": n_px, "count": 1, "dtype": "float32",
        "crs": "EPSG:4548", "transform": Affine(RES, 0, X0, 0, -RES, Y0), "nodata": -9999.0,
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "IF_SAFER",
    }
    coarse = rng.gamma(2.0, 6.0, (n_px // 64 + 2, n_px // 64 + 2)).astype("float32")
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, n_px, 512):
            h = min(512, n_px - r0)
            rows = np.arange(r0, r0 + h) // 64
            base = np.repeat(coarse[rows][:, np.arange(n_px) // 64], 1, axis=0)
            noise = rng.normal(0, 2.0, (h, n_px)).astype("float32")
            data = np.round(np.maximum(base + noise, 0), 1).astype("float32")
            data[rng.random((h, n_px)) < 0.02] = -9999.0
            dst.write(data, 1, window=Window(0, r0, n_px, h))
    tmp.replace(path)


def make_footprints(blocks: gpd.GeoDataFrame, n: int, seed: int = 5) -> gpd.GeoDataFrame:
    """Rotated rectangles, 85 % near the blocks, the rest scattered."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.bounds(blocks.geometry.values).T
    pick = rng.integers(0, len(blocks), n)
    near = rng.random(n) < 0.85
    cx = np.where(near, rng.uniform(minx[pick], maxx[pick]), rng.uniform(minx.min(), maxx.max(), n))
    cy = np.where(near, rng.uniform(miny[pick], maxy[pick]), rng.uniform(miny.min(), maxy.max(), n))
    w, h = rng.uniform(8, 40, n), rng.uniform(8, 30, n)
    a = rng.uniform(0, np.pi, n)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float) / 2
    dx = corners[None, :, 0] * w[:, None]
    dy = corners[None, :, 1] * h[:, None]
    xs = cx[:, None] + dx * np.cos(a)[:, None] - dy * np.sin(a)[:, None]
    ys = cy[:, None] + dx * np.sin(a)[:, None] + dy * np.cos(a)[:, None]
    geoms = shapely.polygons(np.stack([xs, ys], axis=-1))
    floors = rng.integers(1, 25, n)
    return gpd.GeoDataFrame({"floors": floors}, geometry=geoms, crs="EPSG:4548")


def ensure_data(cfg: dict) -> dict:
    DATA.mkdir(parents=True, exist_ok=True)
    tag = cfg["tag"]
    blocks_path = DATA / f"blocks_{tag}.gpkg"
    tif = DATA / f"heights_{tag}.tif"
    fps = DATA / f"footprints_{tag}.parquet"
    wts = DATA / f"weights_{tag}.tif"
    blocks = make_blocks(cfg["pixels"])
    if not blocks_path.exists():
        blocks.to_file(blocks_path)
    if not tif.exists():
        t = time.perf_counter()
        make_raster(tif, cfg["pixels"])
        print(f"generated {tif.name} in {time.perf_counter() - t:.1f} s", flush=True)
    if not wts.exists():
        make_raster(wts, cfg["pixels"], seed=12)  # a second raster on the same grid, as weights
    if not fps.exists():
        make_footprints(blocks, cfg["footprints"]).to_parquet(fps)
    return {"blocks": blocks_path, "raster": tif, "footprints": fps, "weights": wts}


# ---------------------------------------------------------------- timing
def interleaved(funcs: dict, repeats: int, *, mins: dict | None = None) -> tuple[dict, dict]:
    """Median time per engine, running the engines in turn each round (so load spikes on a
    shared machine hit them alike), after one untimed warm-up round. ``mins`` (if given)
    receives each engine's fastest round."""
    times: dict = {k: [] for k in funcs}
    results: dict = {}
    for k, f in funcs.items():
        results[k] = f()
    for _ in range(repeats):
        for k, f in funcs.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    if mins is not None:
        mins.update({k: min(v) for k, v in times.items()})
    return {k: statistics.median(v) for k, v in times.items()}, results


def touched_windows(blocks: gpd.GeoDataFrame, tif: Path) -> list[tuple[int, int, int, int]]:
    """The pixel windows our engine reads: one per internal tile the blocks touch (the tile
    clipped to its blocks' windows). Computed once, outside the floor's timing."""
    with rasterio.open(tif) as ds:
        plan = _zonal.plan(ds, np.asarray(blocks.geometry.values), band=1, method="center")
    return _tiles.read_windows(plan)


def read_touched_tiles(tif: Path, windows: list[tuple[int, int, int, int]]) -> int:
    """The physical floor: open the file (as our engine does) and decode exactly the windows
    the engine decodes, the same way (``DatasetReader.read``), one thread, no arithmetic, no
    planning (the list of windows is given)."""
    with rasterio.open(tif) as ds:
        for r0, c0, r1, c1 in windows:
            ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
    return len(windows)


def child_peak(files: dict) -> float:
    """Peak RSS (MiB) of a fresh process running our zonal statistics once."""
    code = (
        "import resource, sys, geopandas as gpd; sys.path.insert(0, {!r})\n"
        "from zgc_space import raster\n"
        "import warnings; warnings.simplefilter('ignore')\n"
        "b = gpd.read_file({!r})\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "raster.zonal_stats(b, {!r}, stats='count,sum,mean')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base)\n"
    ).format(str(HERE.parent), str(files["blocks"]), str(files["raster"]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024.0


def bench_zonal(files: dict, repeats: int) -> list[dict]:
    from exactextract import exact_extract
    from rasterstats import zonal_stats as rs_zonal

    blocks = gpd.read_file(files["blocks"])
    tif = str(files["raster"])
    rows = []

    def ours(method: str = "center", threads: int | None = None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return raster.zonal_stats(blocks, tif, stats="count,sum,mean", method=method, threads=threads)

    def rs():
        return pd.DataFrame(rs_zonal(list(blocks.geometry), tif, stats=["count", "sum", "mean"]))

    def ee():
        return exact_extract(tif, blocks, ["count", "sum", "mean"], output="pandas")

    windows = touched_windows(blocks, tif)
    rounds = repeats if repeats == 1 else max(repeats, 9)  # a shared machine: at least 9 rounds
    mins: dict = {}
    med, res = interleaved({
        "floor": lambda: read_touched_tiles(tif, windows), "ours": ours, "ours2": lambda: ours(threads=2),
        "exact": lambda: ours("exact"), "rs": rs, "ee": ee,
    }, rounds, mins=mins)
    t_ours = med["ours"]
    ntiles, r_ours, r_exact, r_rs, r_ee = (res[k] for k in ("floor", "ours", "exact", "rs", "ee"))
    # same answers, or the timing means nothing
    assert np.array_equal(r_ours["count"].to_numpy(), r_rs["count"].to_numpy())
    np.testing.assert_allclose(r_ours["sum"], r_rs["sum"], rtol=1e-5)
    np.testing.assert_allclose(r_exact["sum"], r_ee["sum"], rtol=1e-6)
    peak = child_peak(files)
    with rasterio.open(tif) as ds:
        size = f"{ds.width * ds.height / 1e6:.0f} Mpx, {ntiles} of {(-(-ds.width // 512)) ** 2} tiles touched"
    for name, key in [
        ("zgc_space center (count,sum,mean)", "ours"),
        ("zgc_space center, 2 background decode threads", "ours2"),
        ("zgc_space exact", "exact"),
        ("rasterstats", "rs"),
        ("exactextract", "ee"),
        ("floor: rasterio decode touched tiles (1 thread)", "floor"),
    ]:
        rows.append({"workload": f"zonal ({size})", "engine": name, "median_s": med[key],
                     "ratio_to_ours": med[key] / t_ours, "min_s": mins[key]})
    rows.append({"workload": "zonal", "engine": "zgc_space center: peak RSS MiB (child process)",
                 "median_s": float("nan"), "ratio_to_ours": float("nan"), "value": peak})
    return rows


def bench_zonal_stats(files: dict, repeats: int) -> list[dict]:
    """The statistics beyond count/sum/mean, each against the peer it is tested equal to."""
    from exactextract import exact_extract
    from rasterstats import zonal_stats as rs_zonal

    blocks = gpd.read_file(files["blocks"])
    tif, wts = str(files["raster"]), str(files["weights"])
    rs_stats = ["percentile_10", "percentile_50", "percentile_90", "majority", "minority", "unique"]
    ee_quant = ["median", "quantile(q=0.1)", "quantile(q=0.9)", "majority", "variety"]
    ee_weighted = ["weighted_mean(default_weight=1)", "weighted_sum(default_weight=1)"]
    ee_cover = ["count(min_coverage_frac=0.5)", "mean(min_coverage_frac=0.5)", "median(min_coverage_frac=0.5)"]

    def ours(stats, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return raster.zonal_stats(blocks, tif, stats=stats, **kw)

    def ee(ops, **kw):
        return exact_extract(tif, blocks, ops, output="pandas", **kw)

    def rs():
        return pd.DataFrame(rs_zonal(list(blocks.geometry), tif, stats=rs_stats))[rs_stats]

    rounds = repeats if repeats == 1 else max(repeats, 7)
    med, res = interleaved({
        "ours_pct": lambda: ours(rs_stats), "rs_pct": rs,
        "ours_q": lambda: ours(ee_quant, method="exact"), "ee_q": lambda: ee(ee_quant),
        "ours_w": lambda: ours("weighted_mean weighted_sum", method="exact", weights=wts, default_weight=1.0),
        "ee_w": lambda: ee(ee_weighted, weights=wts),
        "ours_c": lambda: ours("count mean median", method="exact", min_coverage_frac=0.5),
        "ee_c": lambda: ee(ee_cover),
    }, rounds)
    # same answers, or the timing means nothing (float32 raster: the peers round to float32)
    np.testing.assert_allclose(res["ours_pct"].to_numpy(float), res["rs_pct"].to_numpy(float), rtol=1e-6)
    for a, b in (("ours_q", "ee_q"), ("ours_w", "ee_w"), ("ours_c", "ee_c")):
        np.testing.assert_allclose(res[a].to_numpy(float), res[b].to_numpy(float), rtol=1e-6, err_msg=a)
    rows = []
    for label, mine, peer, name in [
        ("percentile_10/50/90, majority, minority, unique (center)", "ours_pct", "rs_pct", "rasterstats"),
        ("exact median, quantile 0.1/0.9, majority, variety", "ours_q", "ee_q", "exactextract"),
        ("exact weighted_mean, weighted_sum (weights: a second raster, same grid)", "ours_w", "ee_w", "exactextract"),
        ("exact count/mean/median, min_coverage_frac=0.5", "ours_c", "ee_c", "exactextract"),
    ]:
        rows.append({"workload": f"zonal {label}", "engine": "zgc_space", "median_s": med[mine],
                     "ratio_to_ours": 1.0})
        rows.append({"workload": f"zonal {label}", "engine": name, "median_s": med[peer],
                     "ratio_to_ours": med[peer] / med[mine]})
    return rows


def bench_buildings(files: dict, repeats: int) -> list[dict]:
    blocks = gpd.read_file(files["blocks"])
    fps = gpd.read_parquet(files["footprints"])

    def ours():
        return buildings.aggregate(blocks, fps, floors="floors")

    def peer():
        pts = gpd.GeoDataFrame({"gfa": fps.area * fps["floors"], "foot": fps.area}, geometry=fps.centroid,
                               crs=fps.crs)
        joined = gpd.sjoin(pts, blocks[["block_id", "geometry"]], predicate="within", how="inner")
        return joined.groupby("block_id")[["gfa", "foot"]].sum()

    med, res = interleaved({"ours": ours, "peer": peer}, repeats)
    t_ours, t_peer, r_ours, r_peer = med["ours"], med["peer"], res["ours"], res["peer"]
    mine = r_ours.set_index("block_id")["gfa_m2"]
    theirs = r_peer["gfa"].reindex(mine.index).fillna(0.0)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9)
    label = f"buildings ({len(fps):,} footprints -> {len(blocks)} blocks, centroid)"
    return [
        {"workload": label, "engine": "zgc_space buildings.aggregate", "median_s": t_ours, "ratio_to_ours": 1.0},
        {"workload": label, "engine": "geopandas centroid + sjoin + groupby", "median_s": t_peer,
         "ratio_to_ours": t_peer / t_ours},
    ]


def script(name: str, quick_args: list[str]):
    """A workload kept in its own script (added by later issues), run as a child process."""

    def run(files: dict, repeats: int, *, quick: bool = False) -> list[dict]:
        cmd = [sys.executable, str(HERE / name), *(quick_args if quick else [])]
        print(f"--- {name} ---", flush=True)
        subprocess.run(cmd, check=True)
        return []

    return run


WORKLOADS = {
    "zonal": bench_zonal,
    "zonal_stats": bench_zonal_stats,
    "buildings": bench_buildings,
    "indicators": script("bench_indicators.py", ["--blocks", "10000", "--repeats", "1"]),
    "proposals": script("bench_proposals.py", ["--repeat", "1"]),
    "optimize": script("bench_optimize.py", ["--repeat", "1", "--points", "5"]),
    "editor": script("bench_editor.py", ["--clicks", "30"]),
    "accounting": script("bench_accounting.py", ["--parcels", "5000", "--plots", "1000", "--repeats", "1",
                                                 "--warmup", "1"]),
    "cli": script("bench_cli.py", ["--repeat", "5"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, one repeat")
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="run one workload")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    cfg = sizes(args.quick)
    wanted = [name for name in WORKLOADS if not args.only or name == args.only]
    ours = [name for name in wanted if name in ("zonal", "zonal_stats", "buildings")]
    rows = []
    if ours:
        files = ensure_data(cfg)
        for name in ours:
            rows.extend(WORKLOADS[name](files, cfg["repeats"]))
        table = pd.DataFrame(rows)
        if args.json:
            records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
            print(json.dumps(records, indent=2, default=float, allow_nan=False))
        else:
            with pd.option_context("display.width", 200, "display.max_colwidth", 60):
                print(f"median of {cfg['repeats']} run(s); ratio = peer time / our time (> 1: we are faster)")
                print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
    for name in wanted:
        if name not in ours and (HERE / f"bench_{name}.py").exists():
            WORKLOADS[name]({}, cfg["repeats"], quick=args.quick)
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
