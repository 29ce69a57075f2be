"""Benchmark: start-up time of the command line (``zgc-space --version`` and ``--help``).

Standalone script (not a test). Each command runs as a fresh process, as a user types it, and
is compared in the same run with its peers on this machine:

* ``python -c pass``: the floor (the interpreter's own start-up);
* ``python -c "import geopandas"``: what a command costs that loads the geo stack first;
* ``rio --version`` (rasterio's CLI, a click app), where installed.

Target: ``zgc-space --version`` and ``--help`` under 0.3 s. Prints the median and the best of
``--repeat`` runs and the ratio to the floor.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeat 7] [--json]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str], repeat: int) -> list[float]:
    """Return the wall-clock seconds of ``repeat`` runs of ``cmd`` (one warm-up run first)."""
    subprocess.run(cmd, check=True, capture_output=True)
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    """Run the benchmark; print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    zgc = shutil.which("zgc-space", path=str(BIN)) or "zgc-space"
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "zgc-space --version": [zgc, "--version"],
        "zgc-space --help": [zgc, "--help"],
        "zgc-space map --help": [zgc, "map", "--help"],
        'python -c "import geopandas"': [sys.executable, "-c", "import geopandas"],
    }
    rio = shutil.which("rio", path=str(BIN))
    if rio:
        cases["rio --version"] = [rio, "--version"]
    rows = {}
    for name, cmd in cases.items():
        times = timed(cmd, args.repeat)
        rows[name] = {"median_s": statistics.median(times), "best_s": min(times)}
    floor = rows["python -c pass"]["median_s"]
    for row in rows.values():
        row["vs_python"] = row["median_s"] / floor
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'command':32s} {'median s':>9s} {'best s':>8s} {'× python':>9s}")
    for name, row in rows.items():
        print(f"{name:32s} {row['median_s']:9.3f} {row['best_s']:8.3f} {row['vs_python']:9.1f}")
    target = max(rows["zgc-space --version"]["median_s"], rows["zgc-space --help"]["median_s"])
    print(f"target: --version and --help under 0.3 s: {'met' if target < 0.3 else 'NOT met'} ({target:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
