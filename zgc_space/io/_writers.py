"""Writers of :mod:`zgc_space.io`: block layers, tables and Shapefiles, atomic and input-safe."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from zgc_space import schema
from zgc_space.errors import DataFileError
from zgc_space.io import _common as _p
from zgc_space.io import _xlsx as _x
from zgc_space.io._atomic import atomic_files
from zgc_space.io._provenance import SHAPEFILE_PARTS, package_version, sha256_file

logger = logging.getLogger("zgc_space.io")

_PathLike = str | os.PathLike[str]
_BLOCK_FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
                  ".parquet": "parquet", ".geoparquet": "parquet"}


def write_blocks(
    frame: gpd.GeoDataFrame,
    path: _PathLike,
    *,
    layer: str = "blocks",
    inputs: Iterable[_PathLike] = (),
    aliases: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write a block layer atomically: GeoPackage (default), GeoParquet or GeoJSON.

    A GeoPackage keeps its other layers; ``layer`` is replaced. GeoJSON keeps the frame's CRS
    (named in the file; pass ``frame.to_crs(4326)`` for web use). A ``.shp`` path is handed to
    :func:`write_shapefile`. A named index is written as columns. GeoPackage, GeoParquet and
    GeoJSON bytes depend only on the data (GeoPackage timestamps are fixed).

    Parameters
    ----------
    frame
        The blocks, in any CRS (written as they are, never reprojected).
    path
        Target file; its folder must exist.
    layer
        GeoPackage layer name.
    inputs
        Further files that must not be overwritten, besides ``frame.attrs["zgc_sources"]``.
    aliases
        GeoPackage only: column → the name people see (e.g. ``{"far": "综合容积率"}``), written to
        the ``gpkg_data_columns`` table (GeoPackage schema extension), which GDAL reads as the
        fields' alternative names, so QGIS shows them as aliases.
    descriptions
        GeoPackage only: column → a longer description (GDAL's field comment).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OverwriteInputError
        ``path`` is one of the inputs.
    CRSError
        ``frame`` has no CRS.
    DataFileError
        Unsupported extension, missing folder, or the write failed (the target is untouched).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import box
    >>> frame = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_blocks(frame, f"{tmp}/out.parquet").name
    'out.parquet'
    """
    target = Path(path)
    kind = _BLOCK_FORMATS.get(target.suffix.lower())
    if kind == "ESRI Shapefile":
        return write_shapefile(frame, target, inputs=inputs)
    if kind is None:
        raise DataFileError(f"cannot write blocks to {target}: use .gpkg, .parquet, .geojson or .shp")
    _p.check_geo(frame, target)
    _p.refuse_inputs([target], _protected(frame, inputs))
    data = _p.with_named_index(frame)
    with _p.failure_as_data_error(target), atomic_files([target], copy_existing=kind == "GPKG") as (tmp,):
        if kind == "parquet":
            data.to_parquet(tmp, index=False)
        else:
            with _p.fixed_gdal_date():
                pyogrio.write_dataframe(data, tmp, layer=layer if kind == "GPKG" else None, driver=kind)
            if kind == "GPKG" and (aliases or descriptions):
                _p.write_data_columns(tmp, layer, [str(c) for c in data.columns if c != data.geometry.name],
                                      dict(aliases or {}), dict(descriptions or {}))
    logger.info("wrote %d blocks to %s", len(frame), target)
    return target


def write_table(
    frame: pd.DataFrame,
    path: _PathLike,
    *,
    chinese_headers: bool = False,
    sheet: str = "数据",
    units: Mapping[str, str] | None = None,
    notes: Sequence[tuple[str, str]] = (),
    inputs: Iterable[_PathLike] = (),
) -> Path:
    """Write a table atomically as CSV (UTF-8 with BOM, so Excel shows Chinese) or formatted XLSX.

    Geometry columns are left out (write them with :func:`write_blocks`); a named index is
    written as columns. The bytes depend only on the data (XLSX times are fixed).

    An XLSX has a header row, a units row, a number format per column from its unit and values
    (thousands separators, one precision per column), fitted column widths and both header rows
    frozen, and a second sheet ``说明`` saying what the table is, which files it came from (names
    and SHA-256 of ``frame.attrs["zgc_sources"]`` and ``inputs``) and which software wrote it.
    :func:`read_table` skips the units row when it reads such a file back.

    Parameters
    ----------
    frame
        The table.
    path
        ``.csv`` or ``.xlsx``.
    chinese_headers
        Write Chinese labels with units (``总建筑面积 (m²)``, from :func:`zgc_space.schema.label`)
        instead of canonical names; :func:`read_table` maps them back.
    sheet
        XLSX data sheet name.
    units
        XLSX units row: column → unit as shown (e.g. ``{"tax_10k_cny_per_ha": "万元/公顷"}``);
        a schema column not given gets its schema unit.
    notes
        More ``(item, text)`` rows for the ``说明`` sheet (e.g. the preset, the command).
    inputs
        Further files that must not be overwritten, besides ``frame.attrs["zgc_sources"]``; they
        are listed as sources in ``说明`` too.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OverwriteInputError, DataFileError
        As for :func:`write_blocks`.

    Examples
    --------
    >>> import codecs, tempfile, pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_table(pd.DataFrame({"gfa_m2": [10.0]}), f"{tmp}/t.csv", chinese_headers=True)
    ...     raw = path.read_bytes()
    >>> raw[:3] == codecs.BOM_UTF8, raw[3:].decode("utf-8").splitlines()
    (True, ['总建筑面积 (m²)', '10.0'])
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise DataFileError(f"cannot write a table to {target}: use .csv or .xlsx")
    protected = _protected(frame, inputs)
    _p.refuse_inputs([target], protected)
    data = _p.plain_table(frame)
    headers = [schema.label(c) if chinese_headers else str(c) for c in data.columns]
    if suffix == ".xlsx":
        given = dict(units or {})
        shown_units = [given.get(str(c), schema.COLUMNS[str(c)].unit if str(c) in schema.COLUMNS else "")
                       for c in data.columns]
        about = list(dict.fromkeys([*source_notes(protected), *notes, ("软件", f"zgc_space {package_version()}")]))
    with _p.failure_as_data_error(target), atomic_files([target]) as (tmp,):
        if suffix == ".csv":
            text = data.set_axis(headers, axis=1).to_csv(index=False, lineterminator="\n")
            tmp.write_bytes(text.encode("utf-8-sig"))
        else:
            tmp.write_bytes(_x.xlsx_bytes(data, headers, sheet=sheet, units=shown_units, notes=about))
    return target


def source_notes(paths: Iterable[_PathLike]) -> list[tuple[str, str]]:
    """Return the ``来源`` rows of a notes sheet (``说明``): each existing file's name and SHA-256.

    Pass them as ``notes`` to :func:`write_table` to list sources hashed once for many tables.
    """
    rows = []
    for raw in dict.fromkeys(os.fspath(p) for p in paths):
        path = Path(raw)
        if path.is_file():
            rows.append(("来源", f"{path.name}（SHA-256 {sha256_file(path)}）"))
    return rows


def write_shapefile(frame: gpd.GeoDataFrame, path: _PathLike, *, inputs: Iterable[_PathLike] = ()) -> Path:
    """Write a Shapefile with ASCII field names, UTF-8 text and an alias sidecar.

    A .dbf field name holds at most 10 bytes, so canonical names are shortened
    deterministically (``built_residential_m2`` → ``bui_res_m2``) and Chinese names become
    ``col<N>``. ``<stem>.aliases.json`` maps each short name to the full name and its Chinese
    label; :func:`read_blocks` reads it back, so a round trip restores the names. Text longer
    than a .dbf field (254 bytes) is refused rather than cut.

    Raises
    ------
    OverwriteInputError, CRSError, DataFileError
        As for :func:`write_blocks`; also text values too long for a .dbf field.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import box
    >>> from zgc_space.io import read_blocks
    >>> frame = gpd.GeoDataFrame({"block_id": ["B1"], "built_residential_m2": [5.0]},
    ...     geometry=[box(440_000, 4_430_000, 440_010, 4_430_010)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_shapefile(frame, f"{tmp}/b.shp")
    ...     list(read_blocks(f"{tmp}/b.shp").columns)
    ['block_id', 'built_residential_m2', 'site_area_m2', 'geometry']
    """
    target = Path(path)
    if target.suffix.lower() != ".shp":
        raise DataFileError(f"cannot write a Shapefile to {target}: the path must end in .shp")
    _p.check_geo(frame, target)
    sidecar = target.with_name(f"{target.stem}.aliases.json")
    parts = [target.with_suffix(ext) for ext in SHAPEFILE_PARTS] + [sidecar, target]
    _p.refuse_inputs([target, *parts[:-1]], _protected(frame, inputs))
    data = _p.with_named_index(frame)
    names = [c for c in data.columns if c != data.geometry.name]
    _p.check_dbf_text(data, names, target)
    short = _p.short_field_names([str(c) for c in names])
    aliases = {s: {"name": str(n), "label": schema.label(str(n))} for s, n in zip(short, names, strict=True)}
    data = data.rename(columns=dict(zip(names, short, strict=True)))
    with _p.failure_as_data_error(target), atomic_files(parts) as temps:
        pyogrio.write_dataframe(data, temps[-1], driver="ESRI Shapefile", encoding="UTF-8",
                                layer_options={"DBF_DATE_LAST_UPDATE": _p.FIXED_DATE})
        text = json.dumps({"zgc_space_aliases": 1, "fields": aliases}, ensure_ascii=False, indent=2)
        temps[-2].write_text(text + "\n", encoding="utf-8")
    for ext in (".qix", ".sbn", ".sbx"):  # spatial indexes of the old file would be wrong now
        target.with_suffix(ext).unlink(missing_ok=True)
    return target


def _protected(frame: pd.DataFrame, inputs: Iterable[_PathLike]) -> list[str]:
    return [*frame.attrs.get("zgc_sources", []), *(os.fspath(p) for p in inputs)]
