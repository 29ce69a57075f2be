"""What run manifests record: the SHA-256 of a table given in memory, installed package versions (private).

Used by :mod:`zgc_space.batch` and :mod:`zgc_space.report`; files are hashed with
:func:`zgc_space.io.sha256_file`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import metadata

import geopandas as gpd
import pandas as pd

__all__ = ["frame_sha256", "installed_versions"]


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
