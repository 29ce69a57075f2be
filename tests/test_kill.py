"""SIGKILL during report, compare, apply and map, and two compare runs into one folder (issue 15).

After a kill the previous output is intact or the new one complete (never a mix), the next run
leaves no temporary folder behind, and a resumed batch equals an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zgc_space import io
from zgc_space.scenarios import batch

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data"
BLOCKS = SAMPLE / "zgc_blocks.gpkg"
TEMP_MARKS = (".zgc-tmp-", ".building-", ".old-")

pytestmark = pytest.mark.slow


def _cli(*argv: str | Path, log: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with (log.open("wb") if log is not None else open(os.devnull, "wb")) as err:
        return subprocess.Popen([sys.executable, "-m", "zgc_space", *map(str, argv)], stdout=subprocess.DEVNULL,
                                stderr=err, env=env, cwd=ROOT)


def _finish(*argv: str | Path) -> float:
    start = time.monotonic()
    log = Path(os.environ.get("PYTEST_TMP_LOG", "/tmp")) / f"zgc-kill-{os.getpid()}.log"
    proc = _cli(*argv, log=log)
    proc.wait(timeout=300)
    message = log.read_text(encoding="utf-8", errors="replace")
    log.unlink()
    assert proc.returncode == 0, message
    return time.monotonic() - start


def _kill_after(seconds: float, *argv: str | Path) -> None:
    proc = _cli(*argv)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if any(m in p.name for m in TEMP_MARKS))


def _sha(path: Path) -> str:
    return io.sha256_file(path)


def _proposals(tmp: Path, n: int = 40) -> Path:
    folder = tmp / "props"
    folder.mkdir()
    ids = [f"B{k:03d}" for k in range(1, 165)]
    for k in range(n):
        (folder / f"p{k:03d}.yaml").write_text(
            f"id: P{k:03d}\ntitle: t\nrenew:\n  - blocks: [{ids[k]}, {ids[k + 40]}]\n"
            f"    far_step: {0.1 * (k + 1):.1f}\n", encoding="utf-8")
    return folder


def test_kill_report_keeps_the_previous_pack_or_the_new_one(tmp_path):
    from zgc_space.report import _pack_mismatch

    out = tmp_path / "pack"
    full = _finish("report", BLOCKS, "--out", out, "--no-png", "--target-rank", "0", "--no-docx", "--title", "first")
    for fraction in (0.4, 0.9):
        _kill_after(full * fraction, "report", BLOCKS, "--out", out, "--no-png", "--target-rank", "0",
                    "--title", "second")
        assert _pack_mismatch(out) is None  # a whole pack: the first or the second, never a mix
        text = (out / "index.html").read_text(encoding="utf-8")
        assert ("first" in text) != ("second" in text)
    _finish("report", BLOCKS, "--out", out, "--no-png", "--target-rank", "0", "--no-docx", "--title", "third")
    assert _pack_mismatch(out) is None and "third" in (out / "index.html").read_text(encoding="utf-8")
    assert _leftovers(tmp_path) == []


def test_kill_compare_then_resume_equals_an_uninterrupted_run(tmp_path):
    props = _proposals(tmp_path)
    reference = tmp_path / "reference"
    full = _finish("compare", props, "--baseline", BLOCKS, "--out", reference)
    out = tmp_path / "out"
    for fraction in (0.5, 0.95):
        _kill_after(full * fraction, "compare", props, "--baseline", BLOCKS, "--out", out, "--no-resume")
        if (out / "manifest.json").exists():
            table = batch.load_results(out)  # complete, and its three files agree
            assert table.attrs["manifest"]["counts"]["proposals"] == len(table)
    _finish("compare", props, "--baseline", BLOCKS, "--out", out)
    got, want = batch.load_results(out), batch.load_results(reference)
    cols = [c for c in want.columns if c not in ("file", "source")]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["apply", "map"])
def test_kill_apply_and_map_leave_the_old_file_or_the_new_one(tmp_path, command):
    out = tmp_path / ("adjusted.gpkg" if command == "apply" else "far.html")
    if command == "apply":
        argv: list[str | Path] = ["apply", SAMPLE / "proposals" / "p02_renew_fengtai_chaoyang.yaml", "--baseline",
                                  BLOCKS, "--out", out]
    else:
        argv = ["map", BLOCKS, "--column", "far", "--out", out]
    full = _finish(*argv)
    before = _sha(out)
    _kill_after(full * 0.8, *argv)
    if command == "apply":
        assert len(io.read_blocks(out)) == 164
    else:
        assert _sha(out) == before  # same inputs, same bytes: the old file or an identical new one
    _finish(*argv)
    assert _leftovers(tmp_path) == []


def test_two_compare_runs_into_one_folder_are_serialised(tmp_path):
    props = _proposals(tmp_path, n=20)
    out = tmp_path / "out"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    runs = [_cli("compare", props, "--baseline", BLOCKS, "--out", out, log=log) for log in logs]
    codes = [p.wait(timeout=300) for p in runs]
    assert codes == [0, 0], [log.read_text(encoding="utf-8") for log in logs]
    table = batch.load_results(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(table) == 20 and manifest["counts"]["proposals"] == 20
    assert manifest["counts"]["evaluated"] + manifest["counts"]["reused"] == 20
    assert table["fingerprint"].tolist() == [p["fingerprint"] for p in manifest["inputs"]["proposals"]]
