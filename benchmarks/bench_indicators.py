"""Indicators + composite score for 100,000 synthetic blocks (issue: under 2 s on 2 cores).

Compares ``zgc_space.indicators.compute`` + ``evaluation.score`` with the plain-pandas way a
planner would write the same ratios (``groupby().sum()`` then column arithmetic) on the same
frame, in the same run, and prints medians and ratios. Run: ``python benchmarks/bench_indicators.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zgc_space import evaluation, indicators, schema  # noqa: E402


def synthetic_blocks(n: int, seed: int = 11) -> pd.DataFrame:
    """n blocks with every land, building and economy column, nesting respected."""
    rng = np.random.default_rng(seed)
    site = rng.uniform(5e4, 3e6, n)
    built = site * rng.uniform(0.5, 0.95, n)
    ready = (site - built) * rng.uniform(0.1, 0.6, n)
    unready = (site - built - ready) * rng.uniform(0.1, 0.9, n)
    frame = pd.DataFrame({
        "block_id": [f"B{i:06d}" for i in range(n)],
        "subpark": rng.choice(list(schema.SUBPARKS), n),
        "built_m2": built,
        "built_residential_m2": built * rng.uniform(0.1, 0.4, n),
        "built_industrial_m2": built * rng.uniform(0.05, 0.4, n),
        "ready_m2": ready,
        "unready_m2": unready,
        "nonconstruction_m2": site - built - ready - unready,
        "supplied_m2": built + ready * rng.uniform(0, 1, n),
        "idle_m2": ready * rng.uniform(0, 0.1, n),
        "hightech_m2": built * rng.uniform(0, 0.5, n),
        "gfa_m2": built * rng.uniform(0.3, 3.0, n),
        "footprint_m2": built * rng.uniform(0.15, 0.45, n),
        "industrial_gfa_m2": built * rng.uniform(0.02, 0.3, n),
        "industrial_footprint_m2": built * rng.uniform(0.02, 0.2, n),
        "revenue_10k_cny": built * rng.uniform(0.5, 20, n),
        "industrial_revenue_10k_cny": built * rng.uniform(0.1, 5, n),
        "tax_10k_cny": built * rng.uniform(0.01, 0.3, n),
        "industrial_tax_10k_cny": built * rng.uniform(0.0, 0.05, n),
        "fixed_asset_10k_cny": built * rng.uniform(0.5, 5, n),
        "industrial_fixed_asset_10k_cny": built * rng.uniform(0.1, 2, n),
        "employees": built * rng.uniform(0.001, 0.02, n),
        "population": built * rng.uniform(0.001, 0.01, n),
    })
    return frame


def ours(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    ind = indicators.compute(frame, by=by)
    return evaluation.score(ind)


def plain_pandas(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """What a planner writes by hand: sums per group, then the preset's seven ratios and score."""
    g = frame.groupby(by).sum(numeric_only=True) if by else frame.select_dtypes("number")
    ha = g["built_m2"] / 1e4
    x = pd.DataFrame({
        "supply_rate_pct": 100 * g["supplied_m2"] / (g["built_m2"] + g["ready_m2"]),
        "completion_rate_pct": 100 * g["built_m2"] / g["supplied_m2"],
        "far": g["gfa_m2"] / g["built_m2"],
        "building_density_pct": 100 * g["footprint_m2"] / g["built_m2"],
        "tax_10k_cny_per_ha": g["tax_10k_cny"] / ha,
        "population_per_ha": g["population"] / ha,
        "idle_rate_pct": 100 * g["idle_m2"] / g["supplied_m2"],
    })
    return evaluation.score(x)


def timed(func, *args, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    frame = synthetic_blocks(args.blocks)
    warnings.simplefilter("ignore")
    print(f"indicators + score, {args.blocks:,} synthetic blocks, median of {args.repeats}")
    for by, label in ((None, "per block"), ("subpark", "per sub-park")):
        a = timed(ours, frame, by, repeats=args.repeats)
        b = timed(plain_pandas, frame, by, repeats=args.repeats)
        print(f"  {label:13s} zgc_space {a:7.3f} s   plain pandas (7 indicators) {b:7.3f} s   "
              f"ratio {a / b:5.2f}x   target < 2 s: {'OK' if a < 2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
