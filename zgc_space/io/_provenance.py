"""What run manifests record: the SHA-256 of a table given in memory, installed package versions (private).

Used by :mod:`zgc_space.batch` and :mod:`zgc_space.report`; files are hashed with
:func:`zgc_space.io.sha256_file`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd

__all__ = [
    "SHAPEFILE_PARTS",
    "frame_sha256",
    "installed_versions",
    "layer_sha256",
    "package_version",
    "sha256_bytes",
    "sha256_file",
]

#: The sidecar files hashed together with a ``.shp``.
SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def sha256_bytes(data: bytes) -> str:
    """Return the SHA-256 hex digest of ``data``.

    Examples
    --------
    >>> sha256_bytes(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's values, column names, geometry (WKB) and CRS.

    Examples
    --------
    >>> import pandas as pd
    >>> a = frame_sha256(pd.DataFrame({"x": [1.0]}))
    >>> a == frame_sha256(pd.DataFrame({"x": [1.0]})), a == frame_sha256(pd.DataFrame({"x": [2.0]}))
    (True, False)
    """
    h = hashlib.sha256()
    plain = frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame
    h.update(pd.util.hash_pandas_object(plain.astype(str), index=False).to_numpy().tobytes())
    h.update(",".join(map(str, plain.columns)).encode())
    if isinstance(frame, gpd.GeoDataFrame):
        for wkb in frame.geometry.to_wkb():
            h.update(wkb)
        h.update(str(frame.crs).encode())
    return h.hexdigest()


def installed_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Version of each distribution, in the order given; None for one that is not installed.

    Examples
    --------
    >>> installed_versions(["pandas", "no-such-distribution"])["no-such-distribution"] is None
    True
    """
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file (read in 1 MiB chunks).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp, "x.txt")
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def layer_sha256(path: str | os.PathLike[str]) -> str | None:
    """SHA-256 of a layer file (None if missing); a shapefile's or a folder's parts are hashed together."""
    path = Path(path)
    if path.is_dir():
        parts = sorted(p for p in path.rglob("*") if p.is_file())
    elif path.is_file():
        sidecars = SHAPEFILE_PARTS if path.suffix.lower() == ".shp" else ()
        parts = [path, *(q for q in (path.with_suffix(s) for s in sidecars) if q.is_file())]
    else:
        return None
    if parts == [path]:
        return sha256_file(path)
    names = [f"{p.relative_to(path) if path.is_dir() else p.name}:{sha256_file(p)}" for p in parts]
    return sha256_bytes("\n".join(names).encode())


def package_version() -> str:
    """Return zgc_space's installed version (``0+unknown`` in a source tree that is not installed)."""
    try:
        return metadata.version("zgc_space")
    except metadata.PackageNotFoundError:
        return "0+unknown"
