"""Benchmark: update latency of the map editor, per click, on the 164 sample blocks.

Standalone script (not a test). A seeded sequence of clicks (blocks cycled keep → release →
renew → keep, candidate areas admitted and taken out, merges, undo/redo) is sent through
``EditSession.handle``, the call the widget and the local page make per click. Two times per
update:

* ``compare``: the evaluation alone (one ``scenarios.compare`` of the proposal);
* ``update``: the whole update (validation, evaluation, the state the front end draws), as
  wall-clock and as CPU time of the process (steadier on a shared machine).

Target: median update < 30 ms and p95 < 60 ms (the issue: well under 100 ms). Prints median
and p95 (and max), by kind of click: attribute-only proposals, proposals that admit land or merge
(geometry work), and updates whose panel the session remembered (undo/redo back to a state
already evaluated).

The peer in the same run is ``scenarios.compare`` of the same proposal (what the panel used to
call per click, and what the panel must equal): its median and p95, and the ratio.

Transport, measured apart from the update: the state sent to the front end as JSON (size and
``json.dumps`` time per update, the widget's and the page's serialisation), the page's HTTP round
trip on 127.0.0.1 (``EditorServer``, minus the update itself), and the page's HTML (size and
build time, once per load).

Run: ``.venv/bin/python benchmarks/bench_editor.py [--clicks 200] [--json]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zgc_space import datasets, scenarios  # noqa: E402
from zgc_space.editor import EditorServer, EditSession  # noqa: E402


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


def transport(session: EditSession, messages: list[dict]) -> dict:
    """JSON size and dump time per update, the page's HTTP round trip minus the update, the HTML."""
    dump_ms, sizes, http_ms = [], [], []
    with EditorServer(session, port=0) as server:
        t0 = time.perf_counter()
        html = server.page()
        page_ms = (time.perf_counter() - t0) * 1000
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for message in messages:
            body = json.dumps(message).encode()
            t0 = time.perf_counter()
            conn.request("POST", "/api/command", body=body,
                         headers={"Content-Type": "application/json", "X-ZGC-Token": server.token})
            state = json.loads(conn.getresponse().read())
            total = (time.perf_counter() - t0) * 1000
            http_ms.append(total - state["handle_ms"])
            t0 = time.perf_counter()
            text = json.dumps(state, ensure_ascii=False, allow_nan=False)
            dump_ms.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(text.encode("utf-8")))
        conn.close()
    return {"state_json": {**stats(dump_ms), "median_kb": round(float(np.median(sizes)) / 1024, 1)},
            "http_round_trip_minus_update": stats(http_ms),
            "page_html": {"kb": round(len(html.encode("utf-8")) / 1024, 1), "build_ms": round(page_ms, 1)}}


def peer(session: EditSession, proposals: list) -> dict:
    """``scenarios.compare`` of each proposal the clicks produced (the panel's reference)."""
    times = []
    for p in proposals:
        t0 = time.process_time()
        scenarios.compare(session.blocks, [p], candidates=session.candidates, errors="report")
        times.append((time.process_time() - t0) * 1000)
    return stats(times)


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
    evaluated = []
    messages = clicks(session, args.clicks)
    for message in messages:
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
            evaluated.append(session.proposal)
        update[kind].append(ms)
        cpu[kind].append(cpu_ms)
    result = {
        "clicks": args.clicks, "refused": refused,
        "update": {"all": stats([x for v in update.values() for x in v]), **{k: stats(v) for k, v in update.items()}},
        "update_cpu": {"all": stats([x for v in cpu.values() for x in v]), **{k: stats(v) for k, v in cpu.items()}},
        "compare": {"all": stats(evaluation["attributes"] + evaluation["geometry"]),
                    **{k: stats(v) for k, v in evaluation.items()}},
        "target": "median update < 30 ms, p95 < 60 ms",
    }
    result["peer_compare_cpu"] = peer(session, evaluated[: min(len(evaluated), 60)])
    ours = result["update_cpu"]["all"]
    result["ratio_compare_over_update_cpu_median"] = round(
        result["peer_compare_cpu"]["median_ms"] / max(ours["median_ms"], 1e-9), 1)
    fresh = EditSession(datasets.load_blocks(), candidates=datasets.load_candidates())
    result["transport"] = transport(fresh, messages[:60])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"editor, {args.clicks} clicks on the 164 sample blocks ({refused} refused with a message)")
        for what in ("update", "update_cpu", "compare"):
            for kind, s in result[what].items():
                if s["n"]:
                    print(f"  {what:10s} {kind:10s} n={s['n']:4d}  median {s['median_ms']:7.1f} ms  "
                          f"p95 {s['p95_ms']:7.1f} ms  max {s['max_ms']:7.1f} ms")
        pc = result["peer_compare_cpu"]
        print(f"  peer: scenarios.compare per proposal (CPU) n={pc['n']:4d}  median {pc['median_ms']:7.1f} ms  "
              f"p95 {pc['p95_ms']:7.1f} ms  ({result['ratio_compare_over_update_cpu_median']}x the update's median)")
        t = result["transport"]
        sj, rt, ph = t["state_json"], t["http_round_trip_minus_update"], t["page_html"]
        print(f"  transport: state JSON {sj['median_kb']} KB, dump median {sj['median_ms']} ms p95 {sj['p95_ms']} ms; "
              f"page HTTP round trip minus update median {rt['median_ms']} ms p95 {rt['p95_ms']} ms; "
              f"page HTML {ph['kb']} KB built in {ph['build_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
