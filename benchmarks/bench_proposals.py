"""Benchmark: evaluating adjustment proposals, vectorised versus a naive per-proposal loop.

Standalone script (not a test). Prints medians and ratios:

* 10,000 attribute-only proposals (release / renew / rezone over the 164 sample blocks) with
  ``scenarios.compare`` (vectorised deltas) — target under 1 s;
* the naive loop (copy the GeoDataFrame per proposal, apply, recompute indicators and score)
  on a sample of proposals, extrapolated to 10,000 — target ≥ 100× slower than the above;
* 1,000 proposals with admissions (geometry work) — target under 20 s.

Run: ``.venv/bin/python benchmarks/bench_proposals.py [--repeat 5] [--naive 200] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zgc_space import evaluation, indicators, io, scenarios
from zgc_space.scenarios import _fast as _scenario_fast
from zgc_space.scenarios import _rows as _scenario_ops  # noqa: E402
from zgc_space.scenarios.proposal import Admit, Elasticity, Proposal, Release, Renew, Rezone  # noqa: E402


def attribute_only(ids: list[str], n: int, seed: int = 1) -> list[Proposal]:
    """Random proposals: 1-2 releases, a renewal of 1-4 blocks, 0-2 rezonings."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        chosen = rng.choice(ids, 8, replace=False).tolist()
        n_rel, n_ren, n_rez = int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(0, 3))
        out.append(Proposal(
            id=f"A{k:05d}", title="attribute-only",
            release=[Release(block=b) for b in chosen[:n_rel]],
            renew=[Renew(blocks=chosen[n_rel:n_rel + n_ren], far_step=float(rng.uniform(0.05, 0.8)),
                         elasticity=Elasticity(revenue=0.8, tax=0.7, employees=0.5))],
            rezone=[Rezone(block=b, **{"from": "nonconstruction"}, to="unready")
                    for b in chosen[n_rel + n_ren:n_rel + n_ren + n_rez]],
        ))
    return out


def with_admissions(ids: list[str], candidate_ids: list[str], n: int, seed: int = 2) -> list[Proposal]:
    """Random proposals releasing 1-3 blocks and admitting 1-2 candidate areas."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        rel = rng.choice(ids, int(rng.integers(1, 4)), replace=False).tolist()
        adm = rng.choice(candidate_ids, int(rng.integers(1, 3)), replace=False).tolist()
        out.append(Proposal(id=f"G{k:04d}", title="with admissions", release=[Release(block=b) for b in rel],
                            admit=[Admit(candidate=c) for c in adm]))
    return out


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive", type=int, default=200, help="proposals in the naive loop sample")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    blocks = io.read_blocks(ROOT / "sample_data/zgc_blocks.gpkg")
    candidates = gpd.read_file(ROOT / "sample_data/candidates.gpkg")
    peers = scenarios.peer_scores()
    ids = blocks["block_id"].tolist()

    props = attribute_only(ids, 10_000)
    vec_s, table = timed(lambda: scenarios.compare(blocks, props, peers=None), args.repeat)
    assert (table["status"] != "error").all()
    base = _scenario_ops.prepare(blocks)
    sums_s, _ = timed(lambda: _scenario_fast.evaluate_many(base, props, candidates=None, protected=[None] * len(props)),
                      args.repeat)

    sample = props[: args.naive]
    preset = evaluation.load_preset("cic_default")

    def naive() -> list[float]:
        """The lean naive loop: copy the GeoDataFrame, edit it with pandas, recompute, score."""
        out = []
        for p in sample:
            g = blocks.copy()
            g = g[~g["block_id"].isin([r.block for r in p.release])].copy()
            for z in p.rezone:
                m = g["block_id"] == z.block
                amount = g.loc[m, "nonconstruction_m2"].to_numpy()
                g.loc[m, "nonconstruction_m2"] -= amount
                g.loc[m, "unready_m2"] += amount
            for r in p.renew:
                m = g["block_id"].isin(r.blocks)
                old = g.loc[m, "gfa_m2"].to_numpy()
                new = old + r.far_step * g.loc[m, "built_m2"].to_numpy()
                growth = np.where(old > 0, new / np.where(old > 0, old, 1) - 1, 0)
                g.loc[m, "gfa_m2"] = new
                g.loc[m, "industrial_gfa_m2"] *= 1 + growth
                for cols, e in ((("revenue_10k_cny", "industrial_revenue_10k_cny"), r.elasticity.revenue),
                                (("tax_10k_cny", "industrial_tax_10k_cny"), r.elasticity.tax),
                                (("employees",), r.elasticity.employees)):
                    for c in cols:
                        g.loc[m, c] *= 1 + e * growth
            zone = indicators.compute(g, by="zone")
            out.append(float(evaluation.score(zone, preset=preset)["score"].iloc[0]))
        return out

    def naive_apply() -> list[float]:
        """The library's single-proposal path per proposal: apply (copy) then evaluate."""
        return [float(scenarios.evaluate(scenarios.apply(blocks, p).blocks, peers=peer_table)["score"].iloc[0])
                for p in sample[: max(1, len(sample) // 4)]]

    peer_table = pd.DataFrame({"score": peers})
    naive_s, naive_scores = timed(naive, max(1, args.repeat // 2))
    assert np.allclose(naive_scores, table["score"].to_numpy(float)[: args.naive], rtol=1e-9)
    naive_10k = naive_s / len(sample) * 10_000
    apply_s, _ = timed(naive_apply, 1)
    apply_10k = apply_s / max(1, len(sample) // 4) * 10_000

    geo = with_admissions(ids, candidates["candidate_id"].tolist(), 1_000)
    geo_s, geo_table = timed(lambda: scenarios.compare(blocks, geo, candidates=candidates, errors="report"),
                             max(1, args.repeat // 2))
    result = {
        "attribute_only_10000_s": round(vec_s, 4),
        "of_which_zone_sums_s": round(sums_s, 4),
        "naive_per_proposal_ms": round(naive_s / len(sample) * 1e3, 3),
        "naive_10000_extrapolated_s": round(naive_10k, 2),
        "speedup": round(naive_10k / vec_s, 1),
        "apply_evaluate_per_proposal_ms": round(apply_10k / 10, 3),
        "apply_evaluate_10000_extrapolated_s": round(apply_10k, 2),
        "admissions_1000_s": round(geo_s, 3),
        "admissions_errors": int((geo_table["status"] == "error").sum()),
        "repeat": args.repeat,
        "naive_sample": len(sample),
        "peer_zones": int(len(peers)),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"10,000 attribute-only proposals, vectorised compare: median {vec_s:.3f} s (target < 1 s); "
              f"of which flattening the proposals and summing the deltas: {sums_s:.3f} s")
        print(f"naive loop (copy the GeoDataFrame, edit with pandas, indicators + score per proposal): "
              f"{result['naive_per_proposal_ms']} ms each, {naive_10k:.1f} s for 10,000 (extrapolated from "
              f"{len(sample)}; same scores)")
        print(f"speed-up: {result['speedup']}x (target >= 100x)")
        print(f"(scenarios.apply + scenarios.evaluate per proposal: {result['apply_evaluate_per_proposal_ms']} ms "
              f"each, {apply_10k:.0f} s for 10,000)")
        print(f"1,000 proposals with admissions: median {geo_s:.2f} s (target < 20 s); "
              f"{result['admissions_errors']} rejected (overlaps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
