"""Land accounting: 164 blocks × 50,000 survey parcels × 10,000 plan plots (issue 11: >= 5x geopandas).

Engines, on the same frames in the same run:

ours
    ``zgc_space.accounting.account(blocks, survey=..., plan=...)``: codes mapped, overlaps checked,
    every piece kept (remainders included), block table, conflicts and summary.
geopandas
    the plain route: ``geopandas.overlay(blocks, survey, how="intersection")``, then
    ``overlay(..., plan, how="intersection")``, then a class per piece and ``groupby`` by block.
floor
    shapely only: STRtree candidate pairs and vectorised ``intersection`` on those pairs, twice
    (blocks × survey, then pieces × plan), areas summed by block: the physical floor of the overlay.

Each engine runs ``--warmup`` times before it is timed (the steady state of a long-lived process: a
notebook, a batch, the partitions of a big run; ours loads its compiled kernel once the process has
clipped 400,000 pairs). The child process that measures peak memory (max RSS) also times one call
in a fresh interpreter: the one-shot figure (a CLI run), imports excluded. Run:
``python benchmarks/bench_accounting.py [--parcels 50000 --plots 10000 --repeats 3]``; the scale runs:
``--parcels 1000000 --plots 200000 --repeats 1 --engines "ours,ours partitioned,ours streamed" --partitions 16``
(``ours partitioned``: ``account(..., partitions=16)`` on GeoParquet folders with spatial partitions
written by dask-geopandas, read one window at a time; ``ours streamed``: the same writing each
partition's pieces to a GeoParquet folder as it goes, ``pieces_out=``, so they are never all held).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zgc_space import accounting, datasets  # noqa: E402

CODES = np.array(["0701", "0601", "05H1", "0810", "08H2", "1004", "0103", "0301", "1201", "0702"], dtype=object)
PLAN = np.array(["R2", "M4", "B2", "G1", "E2", "100101"], dtype=object)


def grid_layer(blocks: gpd.GeoDataFrame, n: int, seed: int, *, clip: bool) -> gpd.GeoDataFrame:
    """About ``n`` grid cells over the blocks (clipped to them when ``clip``), jittered and shifted."""
    rng = np.random.default_rng(seed)
    total = float(blocks.area.sum())
    side = np.sqrt(total / n) * (1.15 if not clip else 1.075)
    if not clip:  # plan plots: one grid over the whole zone, the cells that touch a block
        x0, y0, x1, y1 = blocks.total_bounds
        xs = np.arange(x0 - rng.uniform(0, side), x1 + side, side)
        ys = np.arange(y0 - rng.uniform(0, side), y1 + side, side)
        xx, yy = np.meshgrid(xs[:-1], ys[:-1])
        boxes = shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + side, yy.ravel() + side)
        hit = np.unique(shapely.STRtree(boxes).query(np.asarray(blocks.geometry.values), predicate="intersects")[1])
        return gpd.GeoDataFrame(geometry=boxes[hit], crs=blocks.crs)
    parts = []
    for geom in blocks.geometry:
        x0, y0, x1, y1 = geom.bounds
        xs = np.arange(x0 - rng.uniform(0, side), x1 + side, side)
        ys = np.arange(y0 - rng.uniform(0, side), y1 + side, side)
        xx, yy = np.meshgrid(xs[:-1], ys[:-1])
        boxes = shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + side, yy.ravel() + side)
        boxes = boxes[shapely.intersects(boxes, geom)]
        parts.append(shapely.intersection(boxes, geom))
    geoms = np.concatenate(parts)
    geoms = geoms[shapely.area(geoms) > 0.0]
    return gpd.GeoDataFrame(geometry=geoms, crs=blocks.crs)


def make_data(parcels: int, plots: int) -> dict[str, gpd.GeoDataFrame]:
    blocks = datasets.load_blocks()[["block_id", "subpark", "geometry"]]
    survey = grid_layer(blocks, parcels, 1, clip=True)
    rng = np.random.default_rng(2)
    survey.insert(0, "BSM", [f"S{i:07d}" for i in range(len(survey))])
    survey.insert(1, "DLBM", rng.choice(CODES, len(survey)))
    plan = grid_layer(blocks, plots, 3, clip=False)
    plan.insert(0, "DKBH", [f"P{i:06d}" for i in range(len(plan))])
    plan.insert(1, "YDDM", rng.choice(PLAN, len(plan)))
    plan.insert(2, "RJL", np.round(rng.uniform(0.5, 3.0, len(plan)), 1))
    return {"blocks": blocks, "survey": survey, "plan": plan}


def ours(d: dict) -> pd.DataFrame:
    return accounting.account(d["blocks"], survey=d["survey"], plan=d["plan"]).blocks


def ours_threads(d: dict) -> pd.DataFrame:
    return accounting.account(d["blocks"], survey=d["survey"], plan=d["plan"], threads=2).blocks


def plain_geopandas(d: dict) -> pd.DataFrame:
    mapping = accounting.load_codes()
    one = gpd.overlay(d["blocks"], d["survey"], how="intersection", keep_geom_type=True)
    two = gpd.overlay(one, d["plan"], how="intersection", keep_geom_type=True)
    two["use"] = mapping.survey_use(two["DLBM"].to_numpy())
    two["area"] = two.area
    return two.groupby(["block_id", "use"])["area"].sum().unstack(fill_value=0.0)


def floor(d: dict) -> np.ndarray:
    b = np.asarray(d["blocks"].geometry.values, dtype=object)
    s = np.asarray(d["survey"].geometry.values, dtype=object)
    p = np.asarray(d["plan"].geometry.values, dtype=object)
    bi, si = shapely.STRtree(s).query(b, predicate="intersects")
    pieces = shapely.intersection(b[bi], s[si])
    qi, pj = shapely.STRtree(p).query(pieces, predicate="intersects")
    parts = shapely.intersection(pieces[qi], p[pj])
    return np.bincount(bi[qi], weights=shapely.area(parts), minlength=len(b))


def ours_partitioned(d: dict) -> pd.DataFrame:
    """Ours with ``partitions=``: the layers stay on disk (GeoParquet folders), read one window at a time."""
    paths = d["paths"]
    return accounting.account(paths["blocks"], survey=paths["survey"], plan=paths["plan"],
                              partitions=d["partitions"]).blocks


def ours_streamed(d: dict) -> pd.DataFrame:
    """``ours partitioned`` writing each partition's pieces to a GeoParquet folder (``pieces_out=``) as it goes."""
    paths = d["paths"]
    return accounting.account(paths["blocks"], survey=paths["survey"], plan=paths["plan"],
                              partitions=d["partitions"], pieces_out=paths["pieces"]).blocks


ENGINES = {"ours": ours, "ours 2 threads": ours_threads, "ours partitioned": ours_partitioned,
           "ours streamed": ours_streamed, "geopandas": plain_geopandas, "floor": floor}
DEFAULT = ("ours", "ours 2 threads", "geopandas", "floor")


def write_partitioned(d: dict[str, gpd.GeoDataFrame], tmp: Path, rows_per_part: int) -> dict[str, Path]:
    """Write survey and plan as GeoParquet folders with spatial partitions (dask-geopandas, Hilbert order).

    Each part has ``rows_per_part`` features and a bbox covering column (GeoParquet 1.1), so a
    window decodes only the rows near it.
    """
    import dask_geopandas

    paths = {"blocks": tmp / "blocks.parquet"}
    for k in ("survey", "plan"):
        n = max(1, len(d[k]) // rows_per_part)
        folder = tmp / f"{k}_parts"
        folder.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # persisted once: each partition computed on its own would redo the whole shuffle
            parts = dask_geopandas.from_geopandas(d[k], npartitions=n).spatial_shuffle().persist()
            for i in range(parts.npartitions):  # geopandas writes the covering column dask-geopandas 0.5 does not
                parts.partitions[i].compute().to_parquet(folder / f"part.{i}.parquet", write_covering_bbox=True)
        paths[k] = tmp / f"{k}_parts"
    return paths


def timed(func, d: dict, repeats: int, warmup: int = 0) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (all its threads) over ``repeats`` runs after ``warmup``.

    On a machine shared with other jobs the wall time swings with their load; the CPU time of the
    process is steadier, so both are reported and the ratios are given on both.
    """
    for _ in range(warmup):
        func(d)
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        func(d)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(engine: str, data: Path, partitions: int) -> None:
    """Run one engine once on the saved layers; print its peak RSS and the peak over the loaded layers.

    The peak (VmHWM) is reset after the layers are read (``/proc/self/clear_refs``), so that the
    peak of reading the files does not hide the engine's own. The partitioned engine reads its
    layers itself: its peak includes them.
    """
    import gc

    if engine in ("ours partitioned", "ours streamed"):
        d: dict = {"paths": {"blocks": data / "blocks.parquet", "survey": data / "survey_parts",
                             "plan": data / "plan_parts", "pieces": data / "pieces_out"}, "partitions": partitions}
    else:
        d = {k: gpd.read_parquet(data / f"{k}.parquet") for k in ("blocks", "survey", "plan")}
    warnings.simplefilter("ignore")
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_mib("VmRSS")
    t = time.perf_counter()
    ENGINES[engine](d)
    once = time.perf_counter() - t
    peak = _status_mib("VmHWM")
    print(json.dumps({"peak_mib": peak, "extra_mib": peak - base, "one_shot_s": once}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=50_000)
    parser.add_argument("--plots", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5,
                        help="runs of each engine before it is timed (0: the first runs of the process are timed)")
    parser.add_argument("--engines", default=",".join(DEFAULT),
                        help=f"engines to time, comma-separated, of: {', '.join(ENGINES)} (e.g. 'ours' alone, or "
                             "'ours,ours partitioned' for the scale runs)")
    parser.add_argument("--partitions", type=int, default=16, help="partitions of the partitioned engine")
    parser.add_argument("--rows-per-part", type=int, default=5_000,
                        help="features per GeoParquet part of the partitioned engine's files")
    parser.add_argument("--child", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.partitions)
        return 0
    warnings.simplefilter("ignore")
    d = make_data(args.parcels, args.plots)
    tmp = Path(tempfile.mkdtemp(prefix="bench-accounting-"))
    for k, v in list(d.items()):
        v.to_parquet(tmp / f"{k}.parquet")
    print(f"accounting: {len(d['blocks'])} blocks × {len(d['survey']):,} survey parcels × {len(d['plan']):,} plan "
          f"plots, median of {args.repeats} after {args.warmup} warm-up run(s)")
    chosen = [e.strip() for e in args.engines.split(",") if e.strip()]
    if {"ours partitioned", "ours streamed"} & set(chosen):
        d["paths"] = write_partitioned(d, tmp, args.rows_per_part) | {"pieces": tmp / "pieces_out"}
        d["partitions"] = args.partitions
    if set(chosen) >= {"ours", "geopandas", "floor"}:
        check = ours(d)
        gp = plain_geopandas(d)
        fl = floor(d)
        built = check.set_index("block_id")["site_area_m2"]
        print(f"  same answer: Σ area ours {built.sum() / 1e6:.3f} km², geopandas {gp.to_numpy().sum() / 1e6:.3f} "
              f"km², floor {fl.sum() / 1e6:.3f} km²")
    times = {name: timed(ENGINES[name], d, args.repeats, args.warmup) for name in chosen}
    for name, (t, c) in times.items():
        out = subprocess.run([sys.executable, __file__, "--child", name, "--data", str(tmp),
                              "--partitions", str(args.partitions)],
                             check=True, capture_output=True, text=True)
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = times["geopandas"][0] / t if "geopandas" in times else float("nan")
        cratio = times["geopandas"][1] / c if "geopandas" in times else float("nan")
        print(f"  {name:16s} {t:7.2f} s (CPU {c:6.2f} s)   geopandas/this {ratio:5.2f}x (CPU {cratio:5.2f}x)   "
              f"peak RSS {mem['peak_mib']:6.0f} MiB (+{mem['extra_mib']:.0f} MiB over the loaded data)   "
              f"one-shot in a fresh process {mem['one_shot_s']:.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)
    if "geopandas" in times and "ours" in times:
        verdict = "OK" if times["geopandas"][0] / times["ours"][0] >= 5 else "MISSED"
        print(f"  target ours >= 5x faster than geopandas: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
