"""Reading plumbing for :mod:`zgc_space.io`: text encodings, format readers, attribute joins.

Nothing here is public API; :mod:`zgc_space.io` is the module users call. Header names, id
lists and the writers are in :mod:`zgc_space._io_private`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import struct
import warnings
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from zgc_space import schema
from zgc_space.errors import AttributeJoinError, ColumnError, DataFileError, ValidationWarning, list_ids
from zgc_space.io._common import canonical_header
from zgc_space.io._xlsx import units_row_of

logger = logging.getLogger("zgc_space.io")

# ---------------------------------------------------------------------------------------------
# text encodings (Shapefile .dbf and CSV)

_CPG_NAMES = {"88591": "latin-1", "ansi 936": "gb18030", "936": "gb18030"}
_LDID_GBK = {0x4D, 0x7A}  # dBase language driver ids of code page 936


def python_encoding(name: str) -> str | None:
    """Return the Python codec for an encoding name as written in a .cpg file, or None."""
    key = " ".join(name.strip().lower().split())
    if key in _CPG_NAMES:
        return _CPG_NAMES[key]
    try:
        codec = codecs.lookup(f"cp{key}" if key.isdigit() else key).name
    except LookupError:
        return None
    return "gb18030" if codec in {"gbk", "gb2312"} else codec


def dbf_strings(dbf: Path, *, max_bytes: int = 8 << 20) -> tuple[list[bytes], list[bytes], int]:
    """Return the raw field names, raw text values (up to ``max_bytes`` of records) and LDID."""
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            raise DataFileError(f"{dbf} is not a valid .dbf file (shorter than its header)")
        n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        ldid = head[29]
        descriptors = fh.read(max(header_len - 32, 0))
        fields: list[tuple[bytes, bytes, int]] = []
        for start in range(0, len(descriptors) - 31, 32):
            desc = descriptors[start : start + 32]
            if desc[0] == 0x0D:
                break
            fields.append((desc[:11].split(b"\x00", 1)[0], desc[11:12], desc[16]))
        n_read = min(n_records, max(max_bytes // max(record_len, 1), 1))
        records = fh.read(record_len * n_read)
    values: list[bytes] = []
    for row in range(len(records) // max(record_len, 1)):
        pos = row * record_len + 1  # first byte is the deletion flag
        for _, kind, width in fields:
            if kind in (b"C", b"M"):
                raw = records[pos : pos + width].rstrip(b" \x00")
                if raw and not raw.isascii():
                    values.append(raw)
            pos += width
    return [name for name, _, _ in fields], values, ldid


def decode_lenient(raw: bytes, encoding: str) -> tuple[str, bool]:
    """Decode ``raw``; a multi-byte character cut at the end is dropped. Return (text, was_cut)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    text = decoder.decode(raw, final=False)
    return text, bool(decoder.getstate()[0])


def _decodes(chunks: Iterable[bytes], encoding: str) -> bool:
    try:
        for raw in chunks:
            decode_lenient(raw, encoding)
    except UnicodeDecodeError:
        return False
    return True


def detect_dbf_encoding(dbf: Path) -> str:
    """Detect a .dbf's text encoding from its bytes: UTF-8 if every string decodes, else GBK.

    GB 18030 (a superset of GBK and GB 2312) is what Chinese GIS installs write without a
    .cpg. Pure ASCII files are reported as UTF-8.
    """
    names, values, ldid = dbf_strings(dbf)
    chunks = names + values
    if _decodes(chunks, "utf-8"):
        return "utf-8"
    if ldid in _LDID_GBK or _decodes(chunks, "gb18030"):
        return "gb18030"
    raise DataFileError(
        f"cannot tell the text encoding of {dbf}: it is neither UTF-8 nor GBK; pass encoding=... "
        "(e.g. encoding='big5') or add a .cpg file naming the code page"
    )


def detect_text_encoding(raw: bytes) -> str:
    """Return the encoding of CSV bytes: UTF-8 with or without BOM, UTF-16 with BOM, or GBK."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnicodeError("neither UTF-8 nor GBK")


def redecode(frame: pd.DataFrame, encoding: str, *, source: Path) -> tuple[pd.DataFrame, list[str]]:
    """Decode names and text of a frame read as ISO-8859-1 (raw bytes) with ``encoding``.

    Returns the frame and the field names that fill the 10-byte .dbf limit (maybe cut).
    """

    def fix(text: str, what: str) -> tuple[str, bool]:
        raw = text.encode("latin-1")
        try:
            return decode_lenient(raw, encoding)
        except UnicodeDecodeError as exc:
            raise DataFileError(
                f"{source}: {what} {raw!r} is not valid {encoding}; pass the right "
                "encoding=... to read_blocks (or fix the .cpg file)"
            ) from exc

    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    renames: dict[str, str] = {}
    cut_names: list[str] = []
    for col in frame.columns:
        if col == geometry or not isinstance(col, str):
            continue
        name, cut = fix(col, "field name")
        renames[col] = name
        if cut or len(col) >= 10:  # 10 bytes is the .dbf limit: the name may have been cut
            cut_names.append(name)
    out = frame.rename(columns=renames)
    for col in out.columns:
        if col == geometry or not (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
            continue
        out[col] = [fix(v, f"a value of {col!r},")[0] if isinstance(v, str) else v for v in out[col]]
    return out, cut_names


def cut_name_candidates(name: str) -> tuple[str | None, list[str]]:
    """Return (the alias ``name`` is the start of, if only one column fits; those columns).

    For a .dbf field name cut at 10 bytes: ``"地块编"`` gives ``("地块编号", ["block_id"])``.
    """
    hits = sorted(key for key in schema.ALIASES if key.startswith(name) and key != name) if name else []
    targets = sorted({schema.ALIASES[key] for key in hits})
    return (hits[0] if len(targets) == 1 else None), targets


#: Accepted values of ``truncated_names`` (see :func:`zgc_space.io.read_blocks`).
TRUNCATED_NAMES = ("raise", "keep", "complete")

# ---------------------------------------------------------------------------------------------
# readers, joins and write checks used by zgc_space.io


def read_parquet(src: Path) -> gpd.GeoDataFrame:
    """Read GeoParquet; a plain Parquet table is a DataFileError."""
    try:
        return gpd.read_parquet(src)
    except ValueError as exc:
        if "geo metadata" in str(exc):
            raise DataFileError(
                f"{src} has no geometry (a plain Parquet table); read it with pandas.read_parquet "
                "and attach it with attach_attributes, or write the blocks with write_blocks"
            ) from exc
        raise DataFileError(f"cannot read {src} as GeoParquet: {exc}") from exc
    except OSError as exc:
        raise DataFileError(f"cannot read {src} as GeoParquet: {exc}") from exc


def read_ogr(src: Path, *, layer: str | None, kind: str) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage or GeoJSON file through GDAL."""
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(src)]
    except pyogrio.errors.DataSourceError as exc:
        raise DataFileError(f"cannot read {src} as {kind}: {exc}") from exc
    if layer is None:
        if len(layers) > 1 and "blocks" not in layers:
            raise DataFileError(f"{src} has {len(layers)} layers ({', '.join(layers)}); pass layer=...")
        layer = "blocks" if len(layers) > 1 else layers[0]
    elif layer not in layers:
        raise DataFileError(f"{src} has no layer {layer!r}; its layers are: {', '.join(layers)}")
    try:
        frame = pyogrio.read_dataframe(src, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError) as exc:
        raise DataFileError(f"cannot read layer {layer!r} of {src} as {kind}: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or (len(frame) and frame.geometry.isna().all()):
        raise DataFileError(
            f"layer {layer!r} of {src} has no geometry (an attribute table?); read the block "
            "polygons from a layer with geometry and join this one with attach_attributes"
        )
    return frame


def read_shapefile(
    src: Path, *, encoding: str | None, truncated_names: str = "raise"
) -> tuple[gpd.GeoDataFrame, list[Path]]:
    """Read a Shapefile, decoding its .dbf ourselves; return the frame and its other parts."""
    dbf, cpg = src.with_suffix(".dbf"), src.with_suffix(".cpg")
    if not dbf.is_file():
        raise DataFileError(f"{src} has no .dbf file next to it ({dbf.name}); copy all its parts")
    if encoding is None and cpg.is_file():
        encoding = python_encoding(cpg.read_text(encoding="ascii", errors="replace"))
        if encoding is None:
            logger.warning("%s names an unknown code page; detecting the encoding instead", cpg)
    if encoding is None:
        encoding = detect_dbf_encoding(dbf)
    logger.info("reading %s as %s", dbf, encoding)
    try:
        frame = pyogrio.read_dataframe(src, encoding="ISO-8859-1")  # raw bytes; decoded below
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise DataFileError(
            f"cannot read Shapefile {src} ({exc}); a Shapefile needs its .shp, .shx and .dbf parts side by side"
        ) from exc
    frame, maybe_cut = redecode(frame, encoding, source=dbf)
    sidecar = src.with_name(f"{src.stem}.aliases.json")
    if sidecar.is_file():
        frame = frame.rename(columns=read_sidecar(sidecar))
    else:
        frame = complete_cut_names(frame, maybe_cut, dbf, mode=truncated_names)
    parts = [p.resolve() for p in [dbf, src.with_suffix(".shx"), src.with_suffix(".prj"), cpg, sidecar]
             if p.is_file()]
    return frame, parts


def read_sidecar(sidecar: Path) -> dict[str, str]:
    """Return short name → full name from a ``.aliases.json`` sidecar."""
    try:
        fields = json.loads(sidecar.read_text(encoding="utf-8"))["fields"]
        return {str(short): str(entry["name"]) for short, entry in fields.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataFileError(
            f"{sidecar} is not a zgc_space alias file ({exc}); fix or delete it to read the raw names"
        ) from exc


def complete_cut_names(
    frame: gpd.GeoDataFrame, names: list[str], dbf: Path, *, mode: str = "raise"
) -> gpd.GeoDataFrame:
    """Complete cut .dbf field names, never guessing the unit of a numeric column.

    A cut name that is the start of one alias of an identity or text column (``地块编`` →
    ``地块编号``) is completed. One that may be a numeric column (``总建筑`` → 总建筑面积, but
    was it 总建筑面积(万平方米)?) raises ColumnError (``mode="raise"``), is left as it is
    (``"keep"``) or is completed in the canonical unit (``"complete"``). Every cut name is named
    in a ValidationWarning.
    """
    cut = [n for n in names if canonical_header(n)[0] is None]
    fixes: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    for name in cut:
        full, targets = cut_name_candidates(name)
        numeric = any(schema.COLUMNS[t].numeric for t in targets)
        if full is not None and (not numeric or mode == "complete"):
            fixes[name] = full
        elif numeric and mode == "raise":
            refused[name] = targets
    if refused:
        listed = "; ".join(
            f"{name!r} may be " + " or ".join(f"{t!r} ({schema.label(t)})" for t in targets)
            for name, targets in refused.items()
        )
        raise ColumnError(
            f"{dbf}: field name(s) cut at the 10-byte .dbf limit may hold numbers in an unknown unit "
            f"(the cut may have removed a suffix such as (万平方米)): {listed}. Fix: put a "
            f"{dbf.stem}.aliases.json sidecar with the full names next to the file (as "
            "zgc_space.io.write_shapefile writes it), or read with truncated_names='keep' and rename "
            "the field after reading (zgc_space.io.rename_aliases on a header with its unit, or "
            "frame.rename(columns=...) after converting the values), or save the layer as a "
            "GeoPackage; truncated_names='complete' reads it in the canonical unit"
        )
    if cut:
        done = ", ".join(f"{k!r} as {v!r}" for k, v in fixes.items()) or "none"
        warnings.warn(
            f"{dbf}: field names {cut} fill the 10-byte .dbf limit and may have been cut "
            f"(read {done}); write Shapefiles with zgc_space.io.write_shapefile, or use GeoPackage",
            ValidationWarning,
            stacklevel=4,
        )
    return frame.rename(columns=fixes)


def read_csv(src: Path, encoding: str | None) -> pd.DataFrame:
    """Read CSV text (encoding detected); id and text columns stay text."""
    raw = src.read_bytes()
    try:
        encoding = encoding or detect_text_encoding(raw)
        text = raw.decode(encoding)
    except (UnicodeError, LookupError) as exc:
        raise DataFileError(
            f"cannot decode {src} ({exc}); pass encoding=... (e.g. 'gb18030', 'utf-8-sig')"
        ) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    kinds = {h: schema.COLUMNS[name].kind for h in header if (name := canonical_header(h)[0])}
    as_text = {h: "str" for h, kind in kinds.items() if kind in ("id", "text")}
    try:
        return pd.read_csv(io.StringIO(text), dtype=as_text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFileError(f"cannot read {src} as CSV: {exc}") from exc


def read_xlsx(src: Path, sheet: str | None) -> pd.DataFrame:
    """Read one sheet of a workbook (the first by default)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(src, read_only=True, data_only=True)
        sheets = list(book.sheetnames)
        units_row = units_row_of(book, sheet or sheets[0])
        book.close()
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ... for broken files
        raise DataFileError(f"cannot read {src} as XLSX: {exc}") from exc
    if sheet is not None and sheet not in sheets:
        raise DataFileError(f"{src} has no sheet {sheet!r}; its sheets are: {', '.join(sheets)}")
    skip = [units_row - 1] if units_row else None  # the units row of a table write_table wrote
    return pd.read_excel(src, sheet_name=sheet or sheets[0], engine="openpyxl", skiprows=skip)


def check_table_ids(ids: pd.Series, origin: str) -> None:
    """Raise AttributeJoinError for missing or duplicate ids in an attribute table."""
    if ids.isna().any():
        rows = [int(i) for i in np.flatnonzero(ids.isna().to_numpy())]
        raise AttributeJoinError(
            f"{origin} has {len(rows)} rows without an id (rows {list_ids([r + 1 for r in rows])}, "
            "counting from 1 after the header); fill in the ids or delete those rows"
        )
    dup = ids[ids.duplicated(keep=False)].unique().tolist()
    if dup:
        raise AttributeJoinError(
            f"{origin} has {len(dup)} duplicate ids ({list_ids(dup)}); keep one row per block "
            "(e.g. aggregate with table.groupby(...).sum())"
        )


def report_unmatched(block_ids: pd.Series, table_ids: pd.Series, origin: str, how: str) -> None:
    """Raise (strict) or warn (left) about table ids without a block and blocks without a row."""
    known = set(block_ids.dropna())
    given = set(table_ids)
    orphans = [i for i in table_ids if i not in known]
    missing = list(dict.fromkeys(i for i in block_ids.dropna() if i not in given))
    if not orphans and not missing:
        return
    parts = []
    if orphans:
        parts.append(f"{len(orphans)} ids of {origin} match no block ({list_ids(orphans)})")
    if missing:
        parts.append(f"{len(missing)} blocks have no row in {origin} ({list_ids(missing)})")
    text = "; ".join(parts)
    if how == "strict":
        raise AttributeJoinError(
            f"{text}; correct the ids in {origin}, or pass how='left' (attributes_how='left' in "
            "read_blocks) to keep unmatched blocks with empty values"
        )
    warnings.warn(f"{text}; those blocks get empty values", ValidationWarning, stacklevel=3)


def agree(left: pd.Series, right: pd.Series) -> pd.Series:
    """Return True where the two values are equal (numbers to 1e-9) or either is missing."""
    both = left.notna() & right.notna()
    try:
        a, b = pd.to_numeric(left), pd.to_numeric(right)
        same = pd.Series(np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=0.0),
                         index=left.index)
    except (TypeError, ValueError):
        same = left.astype(str) == right.astype(str)
    return ~both | same


def merge_sources(*lists: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(s for items in lists for s in items))



def merge_columns(
    blocks: gpd.GeoDataFrame, aligned: pd.DataFrame, block_ids: pd.Series, *, origin: str, overlap: str
) -> gpd.GeoDataFrame:
    """Add the table's columns (aligned to the blocks) to a copy of the blocks; never overwrite."""
    out = blocks.copy()
    shared = [c for c in aligned.columns if c in out.columns]
    conflicts: dict[str, list[str]] = {}
    for col in aligned.columns:
        if col not in shared:
            out[col] = aligned[col]
        elif overlap == "suffix":
            if f"{col}_attr" in out.columns:
                raise ColumnError(f"blocks already have a column '{col}_attr'; rename it first")
            out[f"{col}_attr"] = aligned[col]
        else:
            differ = ~agree(out[col], aligned[col])
            if differ.any():
                conflicts[col] = block_ids[differ].tolist()
            else:
                out[col] = out[col].where(out[col].notna(), aligned[col])
    if conflicts:
        listed = "; ".join(f"{col!r} (ids {list_ids(ids)})" for col, ids in conflicts.items())
        raise ColumnError(
            f"blocks and {origin} hold different values in {listed}; pass overlap='suffix' to keep "
            "both (the table's as '<name>_attr'), or drop the column from one of them"
        )
    return out


def site_area(frame: gpd.GeoDataFrame, src: Path, *, tolerance: float) -> gpd.GeoDataFrame:
    """Set ``site_area_m2`` from the geometry; keep differing declared areas (and warn)."""
    area = frame.geometry.area
    if "site_area_m2" in frame.columns:
        given = frame["site_area_m2"]
        declared = pd.to_numeric(given, errors="coerce")
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = (declared - area).abs() / area
        differ = (rel > tolerance) | (declared.isna() & given.notna())
        if differ.any():
            frame["site_area_declared_m2"] = given
            ids = frame["block_id"][differ] if "block_id" in frame.columns else frame.index[differ]
            warnings.warn(
                f"{src}: the declared site area differs from the geometry's by more than "
                f"{tolerance:.1%} for {int(differ.sum())} blocks (ids {list_ids(list(ids))}); "
                "site_area_m2 now holds the geometry's area in EPSG:4548 and your values are kept "
                "as site_area_declared_m2: check the units (亩? 公顷?) or the geometries",
                ValidationWarning,
                stacklevel=3,
            )
    if "site_area_m2" in frame.columns:
        frame["site_area_m2"] = area
    else:
        frame.insert(list(frame.columns).index(frame.geometry.name), "site_area_m2", area)
    return frame
