"""Plumbing for :mod:`zgc_space.io`: id lists, header units, atomic writes, field names.

Nothing here is public API; :mod:`zgc_space.io` is the module users call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from geopandas.array import GeometryDtype

from zgc_space import schema
from zgc_space.errors import (
    ColumnError,
    CRSError,
    DataFileError,
    OverwriteInputError,
)

logger = logging.getLogger("zgc_space.io")

#: The fixed time written into file headers that would otherwise carry "now" (reproducible bytes).
FIXED_DATE = "2000-01-01"

# ---------------------------------------------------------------------------------------------
# messages


def ids_to_str(values: pd.Series) -> pd.Series:
    """Return ids as stripped strings (``str`` dtype): ``1.0`` becomes ``"1"``, missing stays."""
    out = [None if _missing(v) else _id_text(v) for v in values]
    return pd.Series(out, index=values.index, dtype="str", name=values.name)


def _id_text(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# headers: aliases and unit suffixes

_BRACKETS = str.maketrans({"（": "(", "）": ")", "[": "(", "]": ")", "【": "(", "】": ")", "\u3000": " "})
_UNIT_SUFFIX = re.compile(r"^(?P<base>.+?)\s*\((?P<unit>[^()]*)\)$")
#: A suffix that is a year, not a unit: ``税收(2023)``, ``税收（2022年度）``.
_YEAR_SUFFIX = re.compile(r"^(19|20)\d{2}\s*(年度|年末|年底|年)?$")
#: Units understood in a header suffix, by canonical unit: factor to the canonical unit.
_UNITS_AS_WRITTEN: dict[str, dict[str, float]] = {
    "m²": {
        "m²": 1.0, "m2": 1.0, "m^2": 1.0, "㎡": 1.0, "平方米": 1.0, "平米": 1.0, "sqm": 1.0,
        "万平方米": 1e4, "万平米": 1e4, "万㎡": 1e4, "万m²": 1e4, "万m2": 1e4,
        "亩": schema.MU_M2, "mu": schema.MU_M2, "万亩": 1e4 * schema.MU_M2,
        "公顷": 1e4, "ha": 1e4, "hectare": 1e4, "hectares": 1e4, "hm²": 1e4, "hm2": 1e4,
        "km²": 1e6, "km2": 1e6, "平方公里": 1e6, "平方千米": 1e6,
    },
    "万元": {
        "万元": 1.0, "万": 1.0, "万元人民币": 1.0, "10k CNY": 1.0, "10k yuan": 1.0,
        "元": 1e-4, "人民币元": 1e-4, "CNY": 1e-4, "yuan": 1e-4, "RMB": 1e-4,
        "千元": 0.1, "百万元": 100.0, "亿元": 1e4, "亿": 1e4,
    },
    "persons": {
        "persons": 1.0, "person": 1.0, "people": 1.0, "人": 1.0, "千人": 1e3, "万人": 1e4,
    },
    "enterprises": {"enterprises": 1.0, "个": 1.0, "家": 1.0, "户": 1.0},
    "units": {"units": 1.0, "个": 1.0, "家": 1.0, "户": 1.0},
    "": {"-": 1.0, "无量纲": 1.0},
}
#: Extra units for single columns whose canonical unit is "" (no unit).
_COLUMN_UNITS: dict[str, dict[str, float]] = {"year": {"年": 1.0}}


def _unit_key(unit: str) -> str:
    """Normalise a unit as written: no spaces or underscores, ASCII lower case, no final dot."""
    key = "".join(unit.split()).replace("_", "")
    return key.lower().rstrip(".") if key.isascii() else key


_UNIT_FACTORS: dict[str, dict[str, float]] = {
    target: {_unit_key(k): v for k, v in units.items()} for target, units in _UNITS_AS_WRITTEN.items()
}
_LOWER_NAMES: dict[str, str] = {
    k.lower(): v for k, v in ({c: c for c in schema.COLUMNS} | schema.ALIASES).items() if k.isascii()
}


def _lookup(name: str) -> str | None:
    if name in schema.COLUMNS:
        return name
    if name in schema.ALIASES:
        return schema.ALIASES[name]
    return _LOWER_NAMES.get(name.lower()) if name.isascii() else None


def accepted_units(column: str) -> list[str]:
    """Return the units a header suffix may name for a canonical column (as written)."""
    target = schema.COLUMNS[column].unit
    return list(_UNITS_AS_WRITTEN.get(target, {})) + list(_COLUMN_UNITS.get(column, {}))


def canonical_header(header: object) -> tuple[str | None, float, str]:
    """Return ``(canonical name or None, factor to the canonical unit, unit as written)``.

    ``"总建筑面积(m²)"`` and ``"总建筑面积 （m²）"`` give ``("gfa_m2", 1.0, "m²")``;
    ``"用地面积(亩)"`` gives ``("site_area_m2", 666.67, "亩")`` and ``"总建筑面积(万平方米)"``
    ``("gfa_m2", 10000.0, "万平方米")``. A year (``"税收(2022年)"``) is not a unit and is
    ignored, as is any suffix on an identity or text column (``"地块编号(唯一)"``). On a numeric
    column, a unit of the wrong kind or one that is not known raises ColumnError: a number in an
    unknown unit must never be read as if it were in the canonical unit.
    """
    if not isinstance(header, str):
        return None, 1.0, ""
    text = " ".join(header.translate(_BRACKETS).split())
    found = _lookup(text)
    if found is not None:
        return found, 1.0, ""
    match = _UNIT_SUFFIX.match(text)
    if match is None:
        return None, 1.0, ""
    found = _lookup(match["base"])
    if found is None:
        return None, 1.0, ""
    unit = match["unit"].strip()
    if _YEAR_SUFFIX.match(unit) or not schema.COLUMNS[found].numeric:
        return found, 1.0, unit
    key = _unit_key(unit)
    target_unit = schema.COLUMNS[found].unit
    factors = _UNIT_FACTORS.get(target_unit, {}) | {_unit_key(k): v for k, v in _COLUMN_UNITS.get(found, {}).items()}
    if key in factors:
        return found, factors[key], unit
    for other_unit, other in _UNIT_FACTORS.items():
        if key in other and other_unit != target_unit:
            raise ColumnError(
                f"column {header!r} is in {unit} but {found!r} is in {target_unit or 'no unit'}; "
                f"convert the values or rename the header so it is not read as {found!r}"
            )
    accepted = ", ".join(accepted_units(found)) or "none"
    raise ColumnError(
        f"column {header!r} would be read as {found!r} ({schema.label(found)}), but its suffix "
        f"({unit}) is not a unit zgc_space knows for it (accepted: {accepted}; a year such as "
        f"(2023) is also allowed); rename the header to one of the accepted units, or convert "
        f"the values to {target_unit or 'the canonical unit'} and rename the header to {found!r}"
    )


def in_file(source: object) -> contextlib.AbstractContextManager[None]:
    """Re-raise a ColumnError from reading ``source`` with the file's name in front."""
    return _named_errors(str(source))


@contextlib.contextmanager
def _named_errors(source: str) -> Iterator[None]:
    try:
        yield
    except ColumnError as exc:
        if source in str(exc):
            raise
        raise ColumnError(f"{source}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# writing: inputs are never overwritten, every write is atomic


def _same(a: Path, b: Path) -> bool:
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(targets: Sequence[Path], sources: Iterable[object]) -> None:
    """Raise OverwriteInputError if a target is (or links to) one of ``sources``."""
    protected = [Path(str(s)) for s in sources]
    for target in targets:
        for src in protected:
            if _same(target, src):
                safer = target.with_name(f"{target.stem}_out{target.suffix}")
                raise OverwriteInputError(
                    f"refusing to write {target}: it is an input of this data ({src}); "
                    f"write to another path, e.g. {safer}"
                )


@contextlib.contextmanager
def folder_lock(folder: Path, *, what: str, timeout_s: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (flock on the folder itself: nothing is left behind).

    A second run writing into the same folder waits up to ``timeout_s`` seconds for the first to
    finish, then raises :class:`~zgc_space.errors.EnvironmentProblemError`. The lock dies with
    its process, so a killed run never leaves the folder locked.
    """
    import fcntl
    import time

    from zgc_space.errors import EnvironmentProblemError

    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EnvironmentProblemError(
                        f"{folder} is in use by another {what} run (still running after {timeout_s:g} s of "
                        "waiting); wait for it to finish, or write to another folder"
                    ) from None
                logger.info("waiting for another %s run writing into %s", what, folder)
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def fixed_gdal_date(day: str = FIXED_DATE) -> Iterator[None]:
    """Make GDAL write ``day`` (ISO date) instead of "now" (GeoPackage timestamps)."""
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{day}T00:00:00.000Z"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the attribute table to write: a named index becomes columns, geometry is dropped."""
    out = frame
    if any(name is not None for name in out.index.names):
        out = out.reset_index()
    geo = [c for c in out.columns if isinstance(out[c].dtype, GeometryDtype)]
    if geo:
        logger.info("table writer leaves out geometry column(s) %s", geo)
    return pd.DataFrame(out.drop(columns=geo)).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Shapefile field names


def short_field_names(names: Sequence[str], *, limit: int = 10) -> list[str]:
    """Return unique ASCII .dbf field names of at most ``limit`` bytes, deterministically.

    A name that fits is kept; a longer ASCII name loses letters from its longest word first
    (``built_residential_m2`` → ``bui_res_m2``); a non-ASCII name becomes ``col<N>`` (its
    position). Clashes (case-insensitive, as in dBase) get a numeric tail.
    """
    out: list[str] = []
    used: set[str] = set()
    for pos, name in enumerate(names, start=1):
        text = re.sub(r"[^0-9A-Za-z_]", "_", name) if name.isascii() else ""
        short = _squeeze(text, limit) if text.strip("_") else f"col{pos}"
        candidate, k = short, 1
        while candidate.lower() in used:
            tail = str(k)
            candidate = short[: limit - len(tail)] + tail
            k += 1
        used.add(candidate.lower())
        out.append(candidate)
    return out


def _squeeze(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    parts = [p for p in name.split("_") if p]
    if len(parts) * 2 - 1 > limit:
        return "".join(p[0] for p in parts)[:limit]
    while len("_".join(parts)) > limit:
        longest = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
        parts[longest] = parts[longest][:-1]
    return "_".join(parts)


def with_named_index(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if any(name is not None for name in frame.index.names):
        return frame.reset_index()
    return frame.reset_index(drop=True)


def check_geo(frame: pd.DataFrame, target: Path) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataFileError(f"cannot write {target}: a GeoDataFrame is needed; use write_table for tables")
    if frame.crs is None:
        raise CRSError(f"cannot write {target}: the blocks have no CRS; set it first, e.g. "
                       "frame.set_crs('EPSG:4548'), or read them with read_blocks")


def write_data_columns(path: Path, layer: str, columns: Sequence[str], aliases: dict[str, str],
                       descriptions: dict[str, str]) -> None:
    """Record field aliases and descriptions of ``layer`` in a GeoPackage's ``gpkg_data_columns``.

    The GeoPackage schema extension: GDAL reads ``name`` as a field's alternative name (QGIS's
    alias) and ``description`` as its comment; ``title`` holds the alias too. Names are unique per
    table, as the standard requires (a repeated alias gets the column's id appended).
    """
    import sqlite3

    rows, used = [], set()
    for col in columns:
        alias = aliases.get(col)
        if alias is not None and alias in used:
            alias = f"{alias} [{col}]"
        if alias is None and col not in descriptions:
            continue
        used.add(alias)
        rows.append((layer, col, alias, alias, descriptions.get(col)))
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
                "name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
                "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))"
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT "
                "NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
                "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
            )
            known = con.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = 'gpkg_data_columns' "
                                "AND extension_name = 'gpkg_schema'").fetchone()
            if known is None:
                con.execute("INSERT INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, 'gpkg_schema', "
                            "'http://www.geopackage.org/spec121/#extension_schema', 'read-write')")
            con.execute("DELETE FROM gpkg_data_columns WHERE table_name = ?", (layer,))
            con.executemany("INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description) "
                            "VALUES (?, ?, ?, ?, ?)", rows)
    finally:
        con.close()


def check_dbf_text(frame: gpd.GeoDataFrame, names: list[object], target: Path) -> None:
    for col in names:
        values = frame[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            size = values.map(lambda v: len(v.encode("utf-8")) if isinstance(v, str) else 0)
            if (size > 254).any():
                raise DataFileError(
                    f"cannot write {target}: column {col!r} has text longer than a .dbf field "
                    f"(254 bytes) in {int((size > 254).sum())} rows; write a GeoPackage instead"
                )


@contextlib.contextmanager
def failure_as_data_error(target: Path) -> Iterator[None]:
    """Turn low-level write failures (GDAL, file system) into DataFileError naming the target."""
    try:
        yield
    except DataFileError:
        raise
    except (OSError, RuntimeError) as exc:
        raise DataFileError(f"writing {target} failed ({exc}); the file was left unchanged") from exc
