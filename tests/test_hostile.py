"""The hostile-input corpus (tests/hostile_corpus.py) through every subcommand.

Every case must end with one of its allowed exit codes and no traceback, no crash, no internal
error, within 30 s and 2 GiB, without changing any input file, and a refusal must name the file
or option at fault.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import SAMPLE, build

RUNNER = Path(__file__).with_name("_hostile_runner.py")
MEMORY_LIMIT = 2 << 30


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _problems(res: dict) -> list[str]:
    err = res.get("stderr", "")
    out = []
    if res.get("timeout"):
        out.append(f"timed out after {res['seconds']:.0f} s")
    if res.get("crash"):
        out.append(f"crash: {res['crash']}")
    if "Traceback (most recent call last)" in err:
        out.append("traceback printed")
    if "internal error" in err:
        out.append("internal error")
    if res.get("maxrss_bytes", 0) > MEMORY_LIMIT:
        out.append(f"peak memory {res['maxrss_bytes'] / 2**30:.1f} GiB")
    if res.get("modified"):
        out.append(f"modified inputs {res['modified']}")
    code = res.get("code")
    if code is not None and code not in res["codes"]:
        out.append(f"exit {code}, expected one of {res['codes']}")
    said = err + res.get("stdout_tail", "")
    if code not in (None, 0) and res["names"] and not any(n in said for n in res["names"]):
        out.append(f"refusal names none of {res['names']}")
    return out


@pytest.mark.slow
def test_hostile_corpus(tmp_path):
    cases = build(tmp_path)
    assert len(cases) >= 150
    commands = {c.argv[0] for c in cases}
    assert commands >= {"account", "demo", "edit", "validate", "info", "indicators", "capacity", "map", "rank", "zonal",
                        "floor-area", "buildings", "apply", "compare", "report", "optimize", "pareto", "consolidate",
                        "dynamic"}
    before = {**_hashes(tmp_path / "in"), **_hashes(SAMPLE)}
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([c.to_dict() for c in cases]), encoding="utf-8")
    results_path = tmp_path / "results.json"
    env = {**os.environ, "ZGC_HOSTILE_INPUTS": json.dumps([str(tmp_path / "in"), str(SAMPLE)]),
           "PYTHONWARNINGS": "default"}
    env.pop("ZGC_SPACE_DEBUG", None)
    subprocess.run([sys.executable, str(RUNNER), str(spec), str(results_path), "2"], check=True, env=env,
                   cwd=tmp_path, timeout=900)
    results = json.loads(results_path.read_text(encoding="utf-8"))
    failures = {r["id"]: (_problems(r), r.get("stderr", "")[-600:]) for r in results if _problems(r)}
    assert not failures, "\n".join(f"{k}: {p}\n    {e!r}" for k, (p, e) in failures.items())
    assert {**_hashes(tmp_path / "in"), **_hashes(SAMPLE)} == before
