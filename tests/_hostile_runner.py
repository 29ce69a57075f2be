"""Run corpus cases (JSON on argv[1]) each in a forked child with memory and time limits.

Usage: ``python tests/_hostile_runner.py cases.json results.json [workers]``. The parent imports
zgc_space once, then forks one child per case (``workers`` at a time): the child limits its address
space to what it already uses plus ``MEMORY_LIMIT`` (so reading or building 2 GiB more fails with
MemoryError instead of exhausting the machine), sends stdout and stderr to files, and calls
``zgc_space.cli.main(argv)``. The parent kills a child that runs past its time limit and records
every child's exit, peak memory (``wait4`` rusage) and output, and whether any input file changed.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

MEMORY_LIMIT = 2 << 30  # bytes the command may add to what the imported library already maps


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(case: dict, folder: Path) -> None:
    from zgc_space.cli import main

    soft = _vm_size() + MEMORY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
    out = os.open(folder / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(folder / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = os.fdopen(2, "w", encoding="utf-8", closefd=False)
    result: dict = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # as a user's shell sees them
            code = main(case["argv"])
        result = {"code": code}
    except SystemExit as exc:
        result = {"code": exc.code if isinstance(exc.code, int) else 2}
    except BaseException as exc:  # a crash: the CLI let an exception through
        result = {"code": None, "crash": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    sys.stdout.flush()
    sys.stderr.flush()
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    os._exit(0)


def _snapshot(roots: list[Path]) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for root in roots for p in root.rglob("*") if p.is_file()}


def main() -> int:
    cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results_path = Path(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    roots = [Path(r) for r in json.loads(os.environ.get("ZGC_HOSTILE_INPUTS", "[]"))]
    import zgc_space.cli  # noqa: F401  (import once, before forking)
    from zgc_space.cli import build_parser

    build_parser()  # every command module imported before the first fork
    work = results_path.parent / "runs"
    work.mkdir(exist_ok=True)
    pending = list(enumerate(cases))
    running: dict[int, tuple[int, float, Path]] = {}
    results: dict[int, dict] = {}
    serial = [k for k, c in enumerate(cases) if c.get("serial")]
    while pending or running:
        while pending and len(running) < (1 if serial else workers):
            k, case = pending.pop(0)
            folder = work / f"{k:04d}"
            folder.mkdir(exist_ok=True)
            before = _snapshot(roots) if roots else {}
            (folder / "before.json").write_text(json.dumps(before), encoding="utf-8")
            pid = os.fork()
            if pid == 0:
                try:
                    _child(case, folder)
                finally:
                    os._exit(99)
            running[pid] = (k, time.monotonic(), folder)
        time.sleep(0.01)
        for pid, (k, start, folder) in list(running.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            elapsed = time.monotonic() - start
            if done == 0:
                if elapsed > cases[k]["limit_s"]:
                    os.kill(pid, signal.SIGKILL)
                    os.wait4(pid, 0)
                    results[k] = {"timeout": True, "seconds": elapsed, "code": None}
                    del running[pid]
                continue
            del running[pid]
            res_file = folder / "result.json"
            res = json.loads(res_file.read_text(encoding="utf-8")) if res_file.exists() else {
                "code": None, "crash": f"child died (status {status})"}
            res["seconds"] = elapsed
            res["maxrss_bytes"] = usage.ru_maxrss * 1024
            if k not in results:
                results[k] = res
        for k, res in results.items():
            if "stderr" in res or res.get("timeout") and "stderr" in res:
                continue
            folder = work / f"{k:04d}"
            res["stderr"] = (folder / "stderr").read_text(encoding="utf-8", errors="replace") \
                if (folder / "stderr").exists() else ""
            res["stdout_tail"] = (folder / "stdout").read_text(encoding="utf-8", errors="replace")[-2000:] \
                if (folder / "stdout").exists() else ""
            if roots:
                before = json.loads((folder / "before.json").read_text(encoding="utf-8"))
                after = _snapshot(roots)
                res["modified"] = sorted(p for p, v in before.items() if after.get(p) != tuple(v))
    out = [{**cases[k], **results[k]} for k in range(len(cases))]
    results_path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
