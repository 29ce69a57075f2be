"""Benchmark: update latency of the map editor, per click, on the 164 sample blocks.

Standalone script (not a test). A seeded sequence of clicks (blocks cycled keep → release →
renew → keep, candidate areas admitted and taken out, merges, undo/redo) is sent through
``EditSession.handle``, the call the widget and the local page make per click. Two times per
update:

* ``compare``: the evaluation alone (one ``scenarios.compare`` of the proposal);
* ``update``: the whole update (validation, evaluation, the state the front end draws), as
  wall-clock and as CPU time of the process (steadier on a shared machine).

Target: median update well under 100 ms. Prints median and p95 (and max), by kind of click:
attribute-only proposals, proposals that admit land or merge (geometry work), and updates whose
panel the session remembered (undo/redo back to a state already evaluated).

Run: ``.venv/bin/python benchmarks/bench_editor.py [--clicks 200] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zgc_space import datasets  # noqa: E402
from zgc_space.editor import EditSession  # noqa: E402


def clicks(session: EditSession, n: int, seed: int = 14) -> list[dict]:
    """A seeded mix: 60 % block clicks, 20 % candidate clicks, 10 % undo/redo, 10 % merges."""
    rng = np.random.default_rng(seed)
    ids = [str(b) for b in session.blocks["block_id"]]
    cands = [str(c) for c in session.candidates["candidate_id"]]
    pairs = [["B087", "B088"], ["B080", "B081"], ["B068", "B071"], ["B144", "B148"]]
    out: list[dict] = []
    for _ in range(n):
        u = rng.random()
        if u < 0.6:
            out.append({"op": "click_block", "id": str(rng.choice(ids[:30]))})
        elif u < 0.8:
            out.append({"op": "click_candidate", "id": str(rng.choice(cands))})
        elif u < 0.9:
            out.append({"op": "undo" if rng.random() < 0.6 else "redo"})
        else:
            out.append({"op": "merge", "ids": pairs[int(rng.integers(len(pairs)))]})
    return out


def stats(values: list[float]) -> dict:
    a = np.asarray(values)
    if not len(a):
        return {"n": 0}
    return {"n": int(len(a)), "median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    session = EditSession(datasets.load_blocks(), candidates=datasets.load_candidates())
    for _ in range(3):  # warm up (imports, caches)
        session.handle({"op": "click_block", "id": "B100"})
    kinds = ("attributes", "geometry", "remembered")
    update: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    evaluation: dict[str, list[float]] = {"attributes": [], "geometry": []}
    refused = 0
    for message in clicks(session, args.clicks):
        n_before = len(session.latencies_ms)
        t0, c0 = time.perf_counter(), time.process_time()
        state = session.handle(message)
        ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        refused += state["notice"]["level"] == "error"
        if len(session.latencies_ms) == n_before:
            kind = "remembered"  # nothing evaluated: a remembered panel, or a refused edit
        else:
            kind = "geometry" if session.proposal.changes_geometry else "attributes"
            evaluation[kind].append(session.latencies_ms[-1])
        update[kind].append(ms)
        cpu[kind].append(cpu_ms)
    result = {
        "clicks": args.clicks, "refused": refused,
        "update": {"all": stats([x for v in update.values() for x in v]), **{k: stats(v) for k, v in update.items()}},
        "update_cpu": {"all": stats([x for v in cpu.values() for x in v]), **{k: stats(v) for k, v in cpu.items()}},
        "compare": {"all": stats(evaluation["attributes"] + evaluation["geometry"]),
                    **{k: stats(v) for k, v in evaluation.items()}},
        "target": "median update < 100 ms",
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"editor, {args.clicks} clicks on the 164 sample blocks ({refused} refused with a message)")
        for what in ("update", "update_cpu", "compare"):
            for kind, s in result[what].items():
                if s["n"]:
                    print(f"  {what:10s} {kind:10s} n={s['n']:4d}  median {s['median_ms']:7.1f} ms  "
                          f"p95 {s['p95_ms']:7.1f} ms  max {s['max_ms']:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
