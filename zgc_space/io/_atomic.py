"""The one way zgc_space writes a file or a folder: beside the target, synced, then renamed over it.

Every writer of the package (tables, layers, maps, rasters, the sample cache, the hearing pack)
goes through :func:`commit`, so each output has one behaviour: the data are flushed to disk
(``fsync``), the file gets the mode an ordinary ``open()`` would give under the process's umask
(0644 under umask 022), the rename replaces the target in one step, and the folder entry is
synced too. A failure at any point leaves the previous target as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from zgc_space.errors import DataFileError

__all__ = ["atomic_files", "atomic_folder", "clean_stale", "commit", "current_umask", "write_atomic"]


def current_umask() -> int:
    """Return the process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a folder entry) to disk; folders that cannot be opened are skipped."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. folders on platforms that cannot open them
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _settle(temp: Path) -> None:
    """Give ``temp`` (and, for a folder, everything in it) the usual modes, and sync its data."""
    mask = current_umask()
    if temp.is_dir():
        for sub in [temp, *temp.rglob("*")]:
            if sub.is_dir():
                os.chmod(sub, 0o777 & ~mask)
            else:
                _fsync(sub)
        for sub in [p for p in temp.rglob("*") if p.is_dir()] + [temp]:
            _fsync(sub)
    else:
        os.chmod(temp, 0o666 & ~mask)  # mkstemp and some drivers create 0600
        _fsync(temp)


#: Temporary names carry the writing process's id, so a later run can tell a killed run's
#: leftovers (process gone) from another run's work in progress (process alive).
_TEMP_NAME = re.compile(r"^\.(?:zgc-tmp|(?P<name>.+)\.(?P<kind>[A-Za-z]+))-(?P<pid>\d+)-[A-Za-z0-9_]+$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove the temporary folders that killed zgc_space runs left in ``folder``; return them.

    A run killed while swapping a folder may have moved the old target aside (``.NAME.old-PID-*``)
    before the new one was in place: then the old one is put back, never deleted.
    """
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_dir() or int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        target = folder / match["name"] if match["name"] else None
        try:
            if match["kind"] == "old" and target is not None and not target.exists():
                os.replace(entry, target)  # the swap was cut between its two renames: undo it
                continue
            shutil.rmtree(entry)
            removed.append(entry)
        except OSError:
            continue
    return removed


def _temp_dir(parent: Path, prefix: str) -> Path:
    clean_stale(parent)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=parent))


def commit(temp: Path, target: Path) -> None:
    """Move the finished ``temp`` (a file or a folder, in ``target``'s folder) over ``target``.

    The data are synced first; a folder target is swapped (the old folder is moved aside and removed
    only after the new one is in place, and put back if the move fails); the containing folder is
    synced last, so after a crash ``target`` is either the old or the new content, never a mix.
    """
    _settle(temp)
    old: Path | None = None
    if temp.is_dir() and target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
        old.rmdir()
        os.replace(target, old)
    try:
        os.replace(temp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    _fsync(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_files(targets: Sequence[Path], *, copy_existing: bool = False) -> Iterator[list[Path]]:
    """Yield temporary paths (same folder, same names) for ``targets``; commit them on success.

    On any error the temporary folder is removed and the targets are untouched. Files are moved
    in order, so put the main file (e.g. ``.shp``) last. ``copy_existing`` starts each temporary
    file as a copy of its target (to add a layer to an existing GeoPackage).
    """
    targets = [Path(t) for t in targets]
    parent = targets[0].parent
    if not parent.is_dir():
        raise DataFileError(f"cannot write {targets[0]}: folder {parent} does not exist; create it first")
    tmpdir = _temp_dir(parent, ".zgc-tmp")
    try:
        temps = [tmpdir / t.name for t in targets]
        if copy_existing:
            for target, temp in zip(targets, temps, strict=True):
                if target.exists():
                    shutil.copy2(target, temp)
        yield temps
        for target, temp in zip(targets, temps, strict=True):
            if temp.exists():
                commit(temp, target)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating its folder), and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_files([target]) as (tmp,):
        tmp.write_bytes(data)
    return target


@contextlib.contextmanager
def atomic_folder(target: Path, *, prefix: str = "building") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it replaces ``target`` whole.

    The temporary folder is named ``.<target name>.<prefix>-<pid>-XXXX``; on any error it is removed
    and ``target`` is untouched. Leftovers of killed runs beside ``target`` are cleaned first
    (:func:`clean_stale`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_dir(target.parent, f".{target.name}.{prefix}")
    try:
        yield tmp
        commit(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
