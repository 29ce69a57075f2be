"""The README's tour runs as written (so the first thing a planner copies works)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_readme_tour_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A short tour", 1)[1]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes such as coverage warnings are part of the tour's output
            exec(compile(code.replace('"far.html"', repr(str(tmp_path / "far.html"))), "README.md", "exec"),
                 namespace)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "far.html").stat().st_size > 100_000
    assert namespace["best"].status == "optimal"
    assert round(float(namespace["zone"]["far"].iloc[0]), 2) == 1.18
