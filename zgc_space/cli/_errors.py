"""The command line's one error boundary: every failure → one message and an exit code.

Exit codes: 1 bad input (any :class:`~zgc_space.errors.ZgcSpaceError`, a missing or wrong file),
2 usage (argparse, :class:`~zgc_space.errors.UsageError`, an option out of range:
:class:`~zgc_space.errors.ParameterError`), 3 environment (permissions, a full
or read-only disk, not enough memory, an unreachable scheduler, a folder locked by another run:
:class:`~zgc_space.errors.EnvironmentProblemError`). Anything else is a bug in zgc-space: it
is reported as an internal error (exit 1) that asks for the ``--debug`` traceback. The
traceback of any error is printed only with ``--debug`` or ``ZGC_SPACE_DEBUG=1``.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from zgc_space.errors import EnvironmentProblemError, ParameterError, UsageError, ZgcSpaceError

#: The flag asking for tracebacks; accepted anywhere before a ``--`` separator.
DEBUG_FLAG = "--debug"

EXIT_INPUT, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 1, 2, 3, 130
#: Exit code when standard output's reader closed the pipe (128 + SIGPIPE, as a shell reports it).
EXIT_PIPE_CLOSED = 141

#: OSError numbers that say "the given path is wrong" (bad input), not "the machine refuses".
_INPUT_ERRNOS = {errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP}


def debug_requested(argv: Sequence[str]) -> tuple[bool, list[str]]:
    """Return whether tracebacks are asked for, and ``argv`` without the ``--debug`` flags.

    Examples
    --------
    >>> debug_requested(["info", "b.gpkg", "--debug"])
    (True, ['info', 'b.gpkg'])
    >>> debug_requested(["info", "--", "--debug"])[1]
    ['info', '--', '--debug']
    """
    args = list(argv)
    cut = args.index("--") if "--" in args else len(args)
    head = [a for a in args[:cut] if a != DEBUG_FLAG]
    asked = len(head) != cut or os.environ.get("ZGC_SPACE_DEBUG", "") not in ("", "0")
    return asked, head + args[cut:]


def _path_of(exc: OSError) -> str:
    name = exc.filename2 if exc.filename2 is not None else exc.filename
    return f" {name}" if name is not None else ""


def classify(exc: BaseException) -> tuple[int, str]:
    """Return the exit code and the message (what, where, how to fix) for an exception.

    Examples
    --------
    >>> code, message = classify(PermissionError(13, "Permission denied", "out/x.html"))
    >>> code, message[:45]
    (3, 'cannot write or read out/x.html: permission d')
    >>> classify(UsageError("give a block file or --sample"))[0]
    2
    """
    if isinstance(exc, EnvironmentProblemError):
        return EXIT_ENVIRONMENT, str(exc)
    if isinstance(exc, (UsageError, ParameterError)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, ZgcSpaceError):
        return EXIT_INPUT, str(exc)
    if isinstance(exc, MemoryError):
        return EXIT_ENVIRONMENT, ("not enough memory to finish; close other programs, use a smaller input "
                                  "(or a window of it), or run on a machine with more memory")
    if isinstance(exc, PermissionError):
        return EXIT_ENVIRONMENT, (f"cannot write or read{_path_of(exc)}: permission denied; check the permissions "
                                  "of that file and its folder, or write elsewhere (--out)")
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return EXIT_ENVIRONMENT, (f"a connection failed ({exc}); check the address and that the service runs, "
                                  "or run without it")
    if isinstance(exc, OSError):
        reason = (exc.strerror or str(exc)).lower()
        if exc.errno in _INPUT_ERRNOS:
            return EXIT_INPUT, (f"{reason}:{_path_of(exc)}; check the path (a file where a file is expected, "
                                "a folder where a folder is expected)")
        return EXIT_ENVIRONMENT, (f"the system refused an operation on{_path_of(exc)}: {reason}; check free disk "
                                  "space, that the disk is writable, and the permissions")
    return EXIT_INPUT, (f"internal error ({type(exc).__name__}: {exc}); this is a bug in zgc-space, not in your "
                        f"input: rerun with {DEBUG_FLAG} and report the traceback")


def _stdout_closed() -> bool:
    """Return whether standard output is a pipe whose reader has gone (then point it at /dev/null).

    A pipe with no reader polls as an error on its write end; that tells ``| head`` closing our
    output from a broken socket, which is a real failure.
    """
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        if not any(ev & select.POLLERR for _, ev in poller.poll(0)):
            return False
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)  # so that the interpreter's last flush stays quiet
        return True
    except (OSError, ValueError, AttributeError):  # no real stdout (captured, closed): not a pipe's end
        return False


def run_guarded(func: Callable[[Any], int | None], args: Any, *, command: str, debug: bool) -> int:
    """Call ``func(args)``; turn any exception into a message on stderr and an exit code."""
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print(f"zgc-space {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError as exc:
        if not _stdout_closed():
            code, message = classify(exc)  # a socket, not the terminal's reader
            print(f"zgc-space {command}: error: {message}", file=sys.stderr)
            return code
        return EXIT_PIPE_CLOSED  # the reader (``| head``) has what it wanted: stop quietly, as cat does
    except Exception as exc:  # the boundary: every failure becomes a message
        code, message = classify(exc)
        if debug:
            traceback.print_exc(file=sys.stderr)
        print(f"zgc-space {command}: error: {message}", file=sys.stderr)
        return code
