"""A command line that reads well: quick start, progress on a terminal only, tables at display precision."""

from __future__ import annotations

import argparse
import io as _io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zgc_space import cli
from zgc_space.cli import _common, _progress

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data" / "zgc_blocks.gpkg"
ZGC = Path(sys.executable).parent / "zgc-space"


def test_version_and_help_load_no_geo_stack():
    code = ("import sys\nfrom zgc_space.cli import main\n"
            "for argv in (['--version'], ['--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('geopandas', 'pandas', 'numpy', 'folium', 'scipy', 'shapely') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "zgc-space " in out and "COMMAND" in out
    assert out.strip().splitlines()[-1] == "HEAVY []"


def _help_of(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.help for a in sub._choices_actions}


def test_the_command_table_says_what_the_modules_register():
    full = _help_of(cli.build_parser())
    assert full == {name: text for name, (_, text) in cli.COMMANDS.items()}
    lazy = cli.build_parser("map")
    assert _help_of(lazy) == full  # the top-level help lists every command either way
    assert lazy.parse_args(["map", str(SAMPLE), "--column", "far", "--out", "x.html"]).func.__module__ == \
        "zgc_space.cli._maps"
    assert lazy.format_help() == cli.build_parser().format_help()


def _run_on_pty(argv: list[str], timeout_s: float = 120.0) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout piped); return code, stdout, terminal text."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(ZGC), *argv], stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                            cwd=ROOT)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the follower side closed: the process ended
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    out = proc.communicate(timeout=timeout_s)[0].decode()
    os.close(leader)
    return proc.returncode, out, seen.decode(errors="replace")


@pytest.mark.slow
def test_progress_on_a_terminal_not_with_json(tmp_path):
    argv = ["pareto", str(SAMPLE), "--points", "3"]
    code, out, terminal = _run_on_pty(argv)
    assert code == 0, terminal
    assert "zgc-space pareto: " in terminal and " s" in terminal and "\r" in terminal
    last = terminal.rfind("zgc-space pareto: ")
    assert re.search(r"\r +\r", terminal[last:])  # the line is wiped when the command ends
    assert "zgc-space pareto" not in out  # progress never goes to stdout
    code, out, terminal = _run_on_pty([*argv, "--json"])
    assert code == 0 and "zgc-space pareto" not in terminal
    assert json.loads(out)["front"]


def test_progress_is_silent_when_piped():
    stream = _io.StringIO()
    with _progress.progress("demo", stream=stream):
        time.sleep(_progress.DELAY_S + 3 * _progress.TICK_S)
    assert stream.getvalue() == ""


class _Terminal(_io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_shows_the_last_step_and_is_wiped(capsys):
    import logging

    stream = _Terminal()
    with _progress.progress("report", stream=stream):
        logging.getLogger("zgc_space.report").info("maps/far.png")
        time.sleep(_progress.DELAY_S + 3 * _progress.TICK_S)
        print("result")  # the command's own output: the line is wiped first
        time.sleep(2 * _progress.TICK_S)
    text = stream.getvalue()
    assert "zgc-space report: " in text and "· maps/far.png" in text
    assert text.endswith("\r") and text.rsplit("\r", 2)[-2].strip() == ""  # wiped at the end
    assert capsys.readouterr().out == "result\n"
    with _progress.progress("report", stream=_Terminal(), enabled=False):
        pass


def test_tables_at_display_precision_and_in_chinese(capsys):
    frame = pd.DataFrame({"far": [1.18, -0.0000232, 2.220446e-16], "tax_10k_cny_per_ha": [686.5, 1234.56, 0.0],
                          "status": ["exit", "normal", "warning"]},
                         index=pd.Index(["海淀园", "朝阳园", "zone"], name="subpark"))
    _common.print_table(frame)
    text = capsys.readouterr().out
    assert "-0.00" not in text and "e-" not in text and "1.18" in text and "0.00" in text
    assert "1,235" in text and "686" in text  # one precision per column: no 686.50 beside 1,234.56
    _common.print_table(frame, lang="zh", transpose=True)
    text = capsys.readouterr().out
    assert "综合容积率" in text and "综合地均税收 (万元/公顷)" in text and "退出" in text and "范围" in text
    assert "far" not in text and "exit" not in text


def test_chinese_names_are_accepted(capsys, tmp_path):
    assert cli.main(["indicators", str(SAMPLE), "--by", "分园", "--indicators", "综合容积率,tax_10k_cny_per_ha",
                     "--zh"]) == 0
    text = capsys.readouterr().out
    assert "分园" in text and "海淀园" in text and "综合容积率" in text
    assert "built_m2" not in text and "总建筑面积" not in text  # the chosen indicators only, not their sums
    assert cli.main(["map", str(SAMPLE), "--column", "综合容积率", "--out", str(tmp_path / "m.html"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["column"] == "far"
