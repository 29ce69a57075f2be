"""Progress of long commands on stderr: one line that rewrites itself, on a terminal only.

A command that can run for seconds (``demo``, ``report``, ``pareto``, ``optimize``, ``compare``,
``account``) shows ``zgc-space report: 6.2 s · maps/far.png`` on stderr: the elapsed time and the
last step the library logged (``zgc_space`` loggers at INFO). Nothing is shown when stderr is
not a terminal (piped, redirected, in CI) or with ``--json``, so machine output stays clean; the
line is wiped when the command ends, leaving only the command's own output.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["PROGRESS_COMMANDS", "progress"]

#: Subcommands that show progress (each can take over ~2 s on the sample data).
PROGRESS_COMMANDS = ("demo", "report", "pareto", "optimize", "compare", "account")
#: Seconds before the line first appears (a quick run shows nothing) and between updates.
DELAY_S = 0.5
TICK_S = 0.2
_WIDTH = 78


class _Wiping:
    """A stream proxy: before the command writes to the terminal, the progress line is wiped."""

    def __init__(self, stream: TextIO, wipe: Callable[[], None]) -> None:
        self._stream = stream
        self._wipe = wipe

    def write(self, text: str) -> int:
        self._wipe()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _LastStep(logging.Handler):
    """Keep the last message the library logged, as the step shown."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("zgc_space.io"):  # the writers name temporary files: not a step
            return
        try:
            self.text = record.getMessage().splitlines()[0] if record.getMessage() else ""
        except Exception:  # a broken log call must not break the command  # noqa: BLE001
            self.text = ""


def _line(command: str, elapsed_s: float, step: str) -> str:
    text = f"zgc-space {command}: {elapsed_s:.1f} s" + (f" · {step}" if step else "")
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


@contextmanager
def progress(command: str, *, enabled: bool = True, stream: TextIO | None = None) -> Iterator[None]:
    """Show the progress of ``command`` on ``stream`` (stderr) while the block runs.

    Parameters
    ----------
    command
        The subcommand's name, shown first on the line.
    enabled
        ``False`` (e.g. with ``--json``) shows nothing.
    stream
        Where to write; default ``sys.stderr``. Nothing is written unless it is a terminal.
    """
    out = sys.stderr if stream is None else stream
    isatty = getattr(out, "isatty", None)
    if not enabled or isatty is None or not isatty():
        yield
        return
    handler = _LastStep()
    library = logging.getLogger("zgc_space")
    old_level = library.level
    library.addHandler(handler)
    if library.getEffectiveLevel() > logging.INFO:
        library.setLevel(logging.INFO)
    done = threading.Event()
    lock = threading.Lock()
    start = time.monotonic()
    shown = [0]

    def wipe() -> None:
        with lock:
            if shown[0]:
                out.write("\r" + " " * shown[0] + "\r")
                out.flush()
                shown[0] = 0

    def tick() -> None:
        if done.wait(DELAY_S):
            return
        while not done.is_set():
            text = _line(command, time.monotonic() - start, handler.text)
            with lock:
                out.write("\r" + text.ljust(shown[0]))
                out.flush()
                shown[0] = max(shown[0], len(text))
            done.wait(TICK_S)

    thread = threading.Thread(target=tick, name="zgc-space-progress", daemon=True)
    real_stdout = sys.stdout
    sys.stdout = _Wiping(real_stdout, wipe)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        sys.stdout = real_stdout
        library.removeHandler(handler)
        library.setLevel(old_level)
        wipe()
