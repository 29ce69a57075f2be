"""``--zh`` on every command that prints results: no English word or code identifier on the terminal."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from zgc_space import cli

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data"
BLOCKS = SAMPLE / "zgc_blocks.gpkg"
ZGC = Path(sys.executable).parent / "zgc-space"
#: Words allowed in Chinese output: ids of the data (blocks, candidates, merged blocks, proposals),
#: paths, units and the names of rule sets the user chose.
ALLOWED = re.compile(r"(?:/|\b)[\w./-]+\.(?:gpkg|yaml|csv|xlsx|parquet)\b|\bkm²|\bm²|\b(?:M_)?[BC]\d{3}\b|\bC\d{2}\b"
                     r"|\bP0\d-[a-z-]+\b|\bexample_2024\b|\bOPT\b")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\[\].]*")


def _english(text: str, *extra: str) -> list[str]:
    for word in extra:
        text = text.replace(word, " ")
    return sorted(set(WORD.findall(ALLOWED.sub(" ", text))))


@pytest.mark.parametrize("argv", [
    ["rank", str(BLOCKS), "--target-rank", "30", "--zh"],
    ["rank", str(BLOCKS), "--missing", "drop-indicator", "--zh"],
    ["optimize", str(BLOCKS), "--candidates", str(SAMPLE / "candidates.gpkg"), "--max-changes", "2",
     "--must-keep", "B001,B002", "--max-distance-m", "5000", "--zh", "--out", "{tmp}/o.yaml"],
    ["pareto", str(BLOCKS), "--points", "2", "--max-changes", "2", "--zh"],
    ["consolidate", str(BLOCKS), "--zh"],
    ["dynamic", str(SAMPLE / "zgc_panel_2021_2023.gpkg"), "--rules", str(SAMPLE / "dynamic_rules.yaml"),
     "--simulate", "1", "--zh"],
    ["apply", str(SAMPLE / "proposals" / "p05_expand_haidian_no_release.yaml"), "--baseline", str(BLOCKS),
     "--candidates", str(SAMPLE / "candidates.gpkg"), "--out", "{tmp}/a.gpkg", "--zh"],
    ["compare", str(SAMPLE / "proposals"), "--baseline", str(BLOCKS), "--candidates",
     str(SAMPLE / "candidates.gpkg"), "--out", "{tmp}/cmp", "--zh"],
    ["indicators", str(BLOCKS), "--by", "分园", "--zh"],
    ["capacity", str(BLOCKS), "--by", "subpark", "--zh"],
], ids=lambda a: a[0] + ("-missing" if "--missing" in a else ""))
def test_chinese_terminal_output_has_no_english_word(argv, capsys, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(r"[\u4e00-\u9fff]", out)
    assert _english(out, *[a for a in argv if str(tmp_path) in a]) == []


def test_the_english_output_is_unchanged_by_the_option(capsys):
    assert cli.main(["rank", str(BLOCKS), "--target-rank", "30"]) == 0
    out = capsys.readouterr().out
    assert "rank 74 / 131 (73–77 at ±1 %) (synthetic peers)" in out
    assert "least-effort plan (lp" in out and not re.search(r"[\u4e00-\u9fff]", out)


def test_rank_in_chinese_names_the_interval(capsys):
    assert cli.main(["rank", str(BLOCKS), "--zh"]) == 0
    out = capsys.readouterr().out
    assert "第 74 位（共 131 个；数据误差 ±1% 时第 73–77 位）" in out
    assert "升一名需加 0.12 分" in out


def test_a_closed_pipe_stops_quietly():
    """``zgc-space ... | head -1``: no error message about a connection, the shell's 141."""
    run = subprocess.run(f"'{ZGC}' indicators '{BLOCKS}' --by block | head -1; exit ${{PIPESTATUS[0]}}",
                         shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120)
    assert run.stderr == ""
    assert run.returncode == 141
    assert len(run.stdout.splitlines()) == 1
