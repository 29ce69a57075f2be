"""Benchmark: the optimiser on the sample data (standalone script, not a test). Prints medians.

* ``search``: 164 sample blocks + 50 candidate areas (the 20 sample candidates and 30 more made
  by moving copies of them to free land, attributes jittered), area-neutral (total site area at
  most the baseline and at least the baseline minus ``--area-slack-km2``), maximum composite
  score, exact — target under 5 s;
* ``pareto``: a 20-point front, best score for each amount of land released, same instance with
  at most ``--max-changes`` changes — target under 60 s;
* ``ratio``: the same instance, maximum zone FAR by Dinkelbach (for comparison).

Run: ``.venv/bin/python benchmarks/bench_optimize.py [--repeat 3] [--points 20] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zgc_space import datasets, optimize  # noqa: E402


def candidates_50(seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The sample blocks and 50 candidate areas (20 sample + 30 moved, non-overlapping copies)."""
    blocks, cands = datasets.load_blocks(), datasets.load_candidates()
    rng = np.random.default_rng(seed)
    taken = shapely.STRtree(np.concatenate([blocks.geometry.to_numpy(), cands.geometry.to_numpy()]))
    placed: list[object] = []
    extra = []
    while len(extra) < 30:
        row = cands.iloc[int(rng.integers(len(cands)))].copy()
        geom = shapely.affinity.translate(row.geometry, *rng.uniform(-6000.0, 6000.0, 2))
        if len(taken.query(geom, predicate="intersects")) or any(geom.intersects(g) for g in placed):
            continue
        factor = rng.uniform(0.7, 1.3)
        for col in ("gfa_m2", "revenue_10k_cny", "tax_10k_cny", "employees", "population"):
            row[col] = row[col] * factor
        row["candidate_id"] = f"C{21 + len(extra):02d}"
        row["geometry"] = geom
        placed.append(geom)
        extra.append(row)
    more = gpd.GeoDataFrame(pd.DataFrame(extra), geometry="geometry", crs=cands.crs)
    return blocks, gpd.GeoDataFrame(pd.concat([cands, more], ignore_index=True), geometry="geometry", crs=cands.crs)


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--area-slack-km2", type=float, default=1.0)
    parser.add_argument("--max-changes", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    blocks, cands = candidates_50()
    total = float(blocks.geometry.area.sum())
    neutral = optimize.SearchConstraints(min_area_m2=total - args.area_slack_km2 * 1e6)
    results: dict[str, dict[str, object]] = {}

    t, res = _median(lambda: optimize.search(blocks, cands, objective="score", constraints=neutral), args.repeat)
    results["search_score"] = {
        "median_s": round(t, 3), "target_s": 5.0, "status": res.status, "gap": res.gap,
        "score_before": round(res.baseline_value, 4), "score_after": round(res.value, 4),
        "released": len(res.selection["release"]), "admitted": len(res.selection["admit"]),
        "milp_s": round(res.seconds, 3),
    }
    t, res = _median(lambda: optimize.search(blocks, cands, objective="far", constraints=neutral), args.repeat)
    results["search_far"] = {"median_s": round(t, 3), "status": res.status, "iterations": res.iterations,
                             "far_before": round(res.baseline_value, 4), "far_after": round(res.value, 4)}
    limited = optimize.SearchConstraints(max_changes=args.max_changes)
    t, front = _median(lambda: optimize.pareto(blocks, cands, objectives=("score", "released_area_m2"),
                                               points=args.points, constraints=limited), 1)
    results["pareto_score_released"] = {
        "median_s": round(t, 3), "target_s": 60.0, "points_asked": args.points, "points": len(front.table),
        "statuses": sorted(set(front.table["status"])),
        "score_range": [round(float(front.table["score"].min()), 4), round(float(front.table["score"].max()), 4)],
    }
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name, r in results.items():
            print(f"{name:24s} " + ", ".join(f"{k}={v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
