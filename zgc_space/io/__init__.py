"""Read and write block layers and attribute tables.

Readers map Chinese (and common English) headers to the canonical columns of
:mod:`zgc_space.schema`, put geometries in the metric CRS (EPSG:4548), derive ``site_area_m2``
from the geometry and record the files they read in ``frame.attrs["zgc_sources"]``. They do not
validate: :func:`zgc_space.blocks.validate_blocks` does that.

Writers are atomic (a temporary file in the target's folder, then a rename: on failure the
target is untouched) and refuse to overwrite any file the data were read from.

=============== ================================== ===========================================
format          read                               write
=============== ================================== ===========================================
GeoPackage      :func:`read_blocks` (any layer)    :func:`write_blocks` (default, per layer)
GeoParquet      :func:`read_blocks`                :func:`write_blocks`
GeoJSON         :func:`read_blocks`                :func:`write_blocks`
Shapefile       :func:`read_blocks` (UTF-8, GBK)   :func:`write_shapefile` (ASCII fields + sidecar)
CSV, XLSX       :func:`read_table`                 :func:`write_table`
=============== ================================== ===========================================
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from zgc_space import crs, schema
from zgc_space.errors import ColumnError, DataFileError, ParameterError
from zgc_space.io import _common as _p
from zgc_space.io import _readers as _r
from zgc_space.io._atomic import atomic_files, atomic_folder, commit, current_umask, write_atomic
from zgc_space.io._common import fixed_gdal_date, folder_lock, refuse_inputs
from zgc_space.io._provenance import (
    frame_sha256,
    installed_versions,
    layer_sha256,
    package_version,
    sha256_bytes,
    sha256_file,
)
from zgc_space.io._writers import source_notes, write_blocks, write_shapefile, write_table
from zgc_space.io._xlsx import NOTES_SHEET, decimals_for
from zgc_space.io._yaml import (
    DuplicateKeyError,
    UniqueKeyLoader,
    format_path,
    line_of,
    load_yaml,
    node_lines,
    read_yaml,
    read_yaml_text,
)

__all__ = [
    "NOTES_SHEET",
    "DuplicateKeyError",
    "UniqueKeyLoader",
    "atomic_files",
    "atomic_folder",
    "attach_attributes",
    "commit",
    "current_umask",
    "decimals_for",
    "fixed_gdal_date",
    "folder_lock",
    "format_path",
    "frame_sha256",
    "installed_versions",
    "layer_sha256",
    "line_of",
    "load_yaml",
    "node_lines",
    "package_version",
    "read_blocks",
    "read_table",
    "read_yaml",
    "read_yaml_text",
    "refuse_inputs",
    "rename_aliases",
    "sha256_bytes",
    "sha256_file",
    "source_notes",
    "write_atomic",
    "write_blocks",
    "write_shapefile",
    "write_table",
]

logger = logging.getLogger(__name__)

_PathLike = str | os.PathLike[str]
_BLOCK_FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
                  ".parquet": "parquet", ".geoparquet": "parquet"}
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")
#: Relative difference between a declared site area and the geometry's area that is reported.
AREA_TOLERANCE = 0.005


def rename_aliases(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with Chinese and English header aliases renamed to canonical columns.

    Headers are stripped; a unit suffix in ASCII or full-width brackets is understood
    (``总建筑面积(m²)``, ``税收（万元）``). A header in another unit of the same kind is converted
    (``用地面积(亩)`` is multiplied by 666.67 into ``site_area_m2``, ``总建筑面积(万平方米)`` by
    10,000 into ``gfa_m2``; ``税收(元)`` divided by 10,000, ``税收(亿元)`` multiplied by 10,000;
    ``从业人员(千人)`` by 1,000). Units understood: m², ㎡, 平方米, 万平方米, 万㎡, 亩, 公顷/ha,
    平方公里/km²; 元, 千元, 万元, 百万元, 亿元/亿; 人, 千人, 万人; 个, 家, 户. A year suffix
    (``税收(2023)``) is allowed. Unknown columns are kept unchanged.

    Raises
    ------
    ColumnError
        If two headers map to the same canonical column (both are named), or a header of a
        numeric column has a unit of the wrong kind (``税收(m²)``) or one that is not known
        (``税收(万美元)``): such values are never read as if they were in the canonical unit.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({" 地块编号": ["B1"], "税收（万元）": [12.5], "用地面积(亩)": [3.0], "备注": ["x"]})
    >>> out = rename_aliases(table)
    >>> list(out.columns), float(out["site_area_m2"].iloc[0])
    (['block_id', 'tax_10k_cny', 'site_area_m2', '备注'], 2000.0)
    """
    renames: dict[object, str] = {}
    owner: dict[str, object] = {}
    factors: dict[str, tuple[float, str]] = {}
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for col in frame.columns:
        if col == geometry:
            continue
        target, factor, unit = _p.canonical_header(col)
        if target is None:
            continue
        if target in owner:
            raise ColumnError(
                f"columns {owner[target]!r} and {col!r} both mean {target!r} "
                f"({schema.label(target)}); drop or rename one of them"
            )
        owner[target] = col
        renames[col] = target
        if factor != 1.0:
            factors[target] = (factor, unit)
    out = frame.rename(columns=renames)
    for target, (factor, unit) in factors.items():
        try:
            values = pd.to_numeric(out[target])
        except (TypeError, ValueError) as exc:
            raise ColumnError(
                f"column {owner[target]!r} is in {unit} and must be converted to "
                f"{schema.COLUMNS[target].unit}, but holds non-numbers; clean it first"
            ) from exc
        out[target] = values * factor
        logger.info("converted %r from %s to %s (x %g)", owner[target], unit, schema.COLUMNS[target].unit,
                    factor)
    return out


def read_blocks(
    path: _PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    id_column: str | None = None,
    attributes: _PathLike | pd.DataFrame | Sequence[_PathLike | pd.DataFrame] | None = None,
    attributes_on: str = "block_id",
    attributes_how: str = "strict",
    truncated_names: str = "raise",
) -> gpd.GeoDataFrame:
    """Read a block layer: GeoPackage, GeoJSON, Shapefile or GeoParquet.

    Parameters
    ----------
    path
        ``.gpkg``, ``.geojson``/``.json``, ``.shp`` or ``.parquet``/``.geoparquet``.
    layer
        Layer of a multi-layer GeoPackage; if omitted, the only layer or the one named ``blocks``.
    encoding
        Text encoding of a Shapefile's .dbf. By default the .cpg file's, else detected from the
        .dbf bytes: UTF-8 if every name and text decodes as UTF-8, otherwise GBK (GB 18030).
    id_column
        The column holding the block ids, if it is not one of the known aliases (地块编号, ...).
    attributes
        One or more attribute tables (CSV/XLSX paths or DataFrames) joined by
        :func:`attach_attributes` on ``attributes_on`` with ``how=attributes_how``.
    attributes_on, attributes_how
        Passed to :func:`attach_attributes`.
    truncated_names
        Shapefile field names longer than 10 bytes are cut (after three Chinese characters in UTF-8), and
        a unit suffix goes with the cut: ``总建筑面积(万平方米)`` becomes ``总建筑``. A cut name
        that completes to one identity or text column (``地块编`` → ``block_id``) is always
        renamed. One that may be a numeric column raises ColumnError with ``"raise"`` (default),
        is kept as it is with ``"keep"`` (rename it yourself), or is read in the canonical unit
        with ``"complete"`` (only if you know the values are in m², 万元, persons, ...). An
        ``<name>.aliases.json`` sidecar (written by :func:`write_shapefile`) makes this moot.

    Returns
    -------
    GeoDataFrame
        In EPSG:4548, canonical column names, ``block_id`` as strings, ``site_area_m2`` from the
        geometry. A declared area column that differs from the geometry by more than 0.5 % is
        kept as ``site_area_declared_m2``. ``attrs["zgc_sources"]`` lists the files read (a
        Shapefile with its .dbf/.shx/.prj/.cpg and alias sidecar).

    Raises
    ------
    DataFileError
        Missing file, unsupported format, unknown layer, no geometry, undecodable text.
    ColumnError
        Conflicting aliases, ``id_column`` not found, a header unit that is unknown or of the
        wrong kind (``总建筑面积(万美元)``), or a cut Shapefile field name that may hold numbers
        (see ``truncated_names``).
    AttributeJoinError
        From :func:`attach_attributes` when ``attributes`` are given.
    CRSError
        The CRS is refused or cannot be guessed (see :func:`zgc_space.crs.to_metric`).

    Warns
    -----
    CRSGuessWarning, ReprojectionWarning
        From :func:`zgc_space.crs.to_metric`.
    ValidationWarning
        Declared areas differ from the geometry; .dbf field names were cut at 10 bytes.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import box
    >>> frame = gpd.GeoDataFrame({"地块编号": [7], "分园": ["海淀园"]},
    ...     geometry=[box(440_000, 4_430_000, 440_100, 4_430_100)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_blocks(frame, f"{tmp}/blocks.gpkg")
    ...     blocks = read_blocks(f"{tmp}/blocks.gpkg")
    >>> blocks[["block_id", "subpark", "site_area_m2"]].to_dict("records")
    [{'block_id': '7', 'subpark': '海淀园', 'site_area_m2': 10000.0}]
    """
    src = Path(path)
    if truncated_names not in _r.TRUNCATED_NAMES:
        raise ParameterError(f"truncated_names must be one of {_r.TRUNCATED_NAMES}, got {truncated_names!r}")
    kind = _check_readable(src, _BLOCK_FORMATS, "block layer")
    sources = [src.resolve()]
    if kind == "parquet":
        frame = _r.read_parquet(src)
    elif kind == "ESRI Shapefile":
        frame, extra = _r.read_shapefile(src, encoding=encoding, truncated_names=truncated_names)
        sources += extra
    else:
        frame = _r.read_ogr(src, layer=layer, kind=kind)
    with _p.in_file(src):
        if id_column is not None:
            frame = _use_id_column(frame, id_column, src)
        frame = rename_aliases(frame)
    if "block_id" in frame.columns:
        frame["block_id"] = _p.ids_to_str(frame["block_id"])
    frame = crs.to_metric(frame, source=str(src))
    frame = _r.site_area(frame, src, tolerance=AREA_TOLERANCE)
    frame.attrs["zgc_sources"] = [str(s) for s in sources]
    tables = [] if attributes is None else attributes
    if isinstance(tables, (str, os.PathLike, pd.DataFrame)):
        tables = [tables]
    for table in tables:
        table = table if isinstance(table, pd.DataFrame) else read_table(table)
        frame = attach_attributes(frame, table, on=attributes_on, how=attributes_how)
    return frame


def read_table(path: _PathLike, *, sheet: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read an attribute table (CSV or XLSX) and map its header aliases.

    CSV text may be UTF-8 (with or without BOM, as Excel saves it) or GBK; ``encoding``
    overrides the detection. Columns that are ids or text in :mod:`zgc_space.schema` are read as
    text (``"007"`` keeps its zeros); ``block_id`` is returned as strings.

    Raises
    ------
    DataFileError
        Missing file, unsupported format, unknown sheet (the sheets are listed), bad encoding.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_table(pd.DataFrame({"block_id": ["007"], "tax_10k_cny": [3.5]}),
    ...                     f"{tmp}/t.csv", chinese_headers=True)
    ...     table = read_table(f"{tmp}/t.csv")
    >>> table.to_dict("records")
    [{'block_id': '007', 'tax_10k_cny': 3.5}]
    """
    src = Path(path)
    kind = _check_readable(src, {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"},
                           "attribute table")
    with _p.in_file(src):
        table = _r.read_csv(src, encoding) if kind == "csv" else _r.read_xlsx(src, sheet)
        table = rename_aliases(table)
    if "block_id" in table.columns:
        table["block_id"] = _p.ids_to_str(table["block_id"])
    table.attrs["zgc_sources"] = [str(src.resolve())]
    return table


def attach_attributes(
    blocks: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    on: str = "block_id",
    how: str = "strict",
    overlap: str = "error",
) -> gpd.GeoDataFrame:
    """Return ``blocks`` with the columns of an attribute table joined by id.

    Ids are compared as text (``7`` and ``"7"`` match). The blocks keep their order, index and
    geometry; the table's headers are mapped with :func:`rename_aliases` first.

    Parameters
    ----------
    blocks
        The block layer; not modified.
    table
        One row per id; its ``attrs["zgc_sources"]`` (set by :func:`read_table`) names the file.
    on
        The id column in both.
    how
        ``"strict"``: any table id without a block, or block without a row, is an error.
        ``"left"``: those are reported in a warning; blocks without a row get missing values.
    overlap
        Columns in both. With ``"error"``, values that agree (or are missing on one side) are
        merged, and any block where both sides hold different values raises. With
        ``"suffix"``, the block's column is kept as is and the table's is added as
        ``<name>_attr``. Nothing is overwritten either way.

    Raises
    ------
    AttributeJoinError
        Duplicate ids in the table; unmatched ids with ``how="strict"``.
    ColumnError
        ``on`` missing from either side; conflicting values with ``overlap="error"``.

    Warns
    -----
    ValidationWarning
        Unmatched ids with ``how="left"``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4548")
    >>> table = pd.DataFrame({"地块编号": ["B2", "B1"], "税收": [5.0, 3.0]})
    >>> attach_attributes(blocks, table)[["block_id", "tax_10k_cny"]].to_dict("records")
    [{'block_id': 'B1', 'tax_10k_cny': 3.0}, {'block_id': 'B2', 'tax_10k_cny': 5.0}]
    """
    if how not in ("strict", "left"):
        raise ParameterError(f"how must be 'strict' or 'left', not {how!r}")
    if overlap not in ("error", "suffix"):
        raise ParameterError(f"overlap must be 'error' or 'suffix', not {overlap!r}")
    origin = _origin(table)
    if isinstance(table, gpd.GeoDataFrame):
        table = pd.DataFrame(table.drop(columns=table.geometry.name))
    table = rename_aliases(table)
    for side, frame, fix in (("blocks", blocks, "pass id_column= to read_blocks"),
                             (origin, table, f"rename its id header to {on!r} or 地块编号")):
        if on not in frame.columns:
            raise ColumnError(f"{side} has no id column {on!r} (columns: {list(frame.columns)}); {fix}")
    block_ids = _p.ids_to_str(blocks[on])
    table_ids = _p.ids_to_str(table[on])
    _r.check_table_ids(table_ids, origin)
    _r.report_unmatched(block_ids, table_ids, origin, how)
    values = table.drop(columns=[on]).set_axis(table_ids.to_numpy(), axis=0)
    aligned = values.reindex(block_ids.to_numpy()).set_axis(blocks.index, axis=0)
    out = _r.merge_columns(blocks, aligned, block_ids, origin=origin, overlap=overlap)
    out.attrs["zgc_sources"] = _r.merge_sources(
        blocks.attrs.get("zgc_sources", []), table.attrs.get("zgc_sources", [])
    )
    return out


# ---------------------------------------------------------------------------------------------
# helpers (the plumbing is in zgc_space._io_private and zgc_space._io_readers)


def _check_readable(src: Path, formats: dict[str, str], what: str) -> str:
    kind = formats.get(src.suffix.lower())
    if kind is None:
        raise DataFileError(f"cannot read {src} as {what}: use one of {', '.join(sorted(formats))}")
    if not src.is_file():
        raise DataFileError(f"{src}: no such file (working folder {Path.cwd()}); check the path")
    return kind


def _use_id_column(frame: gpd.GeoDataFrame, id_column: str, src: Path) -> gpd.GeoDataFrame:
    if id_column not in frame.columns:
        raise ColumnError(f"{src} has no column {id_column!r} for id_column (columns: {list(frame.columns)})")
    if _p.canonical_header(id_column)[0] == "block_id":
        return frame
    others = [c for c in frame.columns if c != id_column and _p.canonical_header(c)[0] == "block_id"]
    if others:
        raise ColumnError(
            f"{src}: id_column={id_column!r}, but column {others[0]!r} also holds block ids; pass "
            f"id_column={others[0]!r}, or drop one of the two columns"
        )
    return frame.rename(columns={id_column: "block_id"})


def _origin(table: pd.DataFrame) -> str:
    files = table.attrs.get("zgc_sources") or []
    return f"table {Path(files[0]).name}" if files else "the attribute table"
