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
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from zgc_space.errors import DataFileError

__all__ = ["atomic_files", "atomic_folder", "commit", "current_umask", "write_atomic"]


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


def commit(temp: Path, target: Path) -> None:
    """Move the finished ``temp`` (a file or a folder, in ``target``'s folder) over ``target``.

    The data are synced first; a folder target is swapped (the old folder is moved aside and removed
    only after the new one is in place, and put back if the move fails); the containing folder is
    synced last, so after a crash ``target`` is either the old or the new content, never a mix.
    """
    _settle(temp)
    old: Path | None = None
    if temp.is_dir() and target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
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
    tmpdir = Path(tempfile.mkdtemp(prefix=".zgc-tmp-", dir=parent))
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

    The temporary folder is named ``.<target name>.<prefix>-XXXX``; on any error it is removed and
    ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{prefix}-", dir=target.parent))
    try:
        yield tmp
        commit(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
