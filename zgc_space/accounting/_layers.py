"""Reading and checking the source layers: CRS, the columns that matter, ids, FAR caps, dates."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from zgc_space import crs as _crs
from zgc_space.accounting import _clip
from zgc_space.errors import AccountingError, ColumnError, CRSError, DataFileError

__all__ = ["COLUMN_CANDIDATES", "Layer", "Read", "find_column", "list_ids", "prepare", "read_any"]

#: Column names recognised in each layer (case-insensitive), first match wins.
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "survey_code": ("DLBM", "地类编码", "地类代码", "dlbm_code", "land_use_code", "landuse_code", "code"),
    "survey_id": ("BSM", "TBBH", "图斑编号", "标识码", "parcel_id", "id"),
    "czcsxm": ("CZCSXM", "城镇村属性码", "czcs"),
    "tbmj": ("TBMJ", "图斑面积", "tbmj_m2"),
    "plan_code": ("YDDM", "YDXZDM", "用地代码", "用地性质代码", "用地性质", "plan_code", "land_use", "YDXZ"),
    "plan_id": ("DKBH", "地块编号", "plot_id", "BSM", "id"),
    "far": ("RJL", "容积率上限", "容积率", "far_cap", "far", "plot_far"),
    "supply_id": ("GDBH", "供地编号", "电子监管号", "supply_id", "id"),
    "supply_mode": ("GDFS", "供地方式", "mode", "supply_mode"),
    "supply_hightech": ("hightech", "is_hightech", "高新技术产业", "GXJSCY"),
    "supply_date": ("GDRQ", "供地日期", "签订日期", "supply_date", "date"),
    "idle_id": ("RDBH", "认定书编号", "idle_id", "id"),
    "idle_date": ("RDRQ", "认定日期", "determined", "idle_date", "date"),
    "idle_disposed": ("CZRQ", "处置日期", "disposed", "disposal_date"),
    "serviced_id": ("CBBH", "储备编号", "serviced_id", "id"),
    "serviced_date": ("DDRQ", "达到供地条件日期", "ready_date", "date"),
    "building_id": ("building_id", "JZWBH", "建筑物编号", "BSM", "id"),
    "floors": ("floors", "CS", "层数", "地上层数", "DSCS"),
    "height": ("height_m", "height", "GD", "高度", "建筑高度"),
}


def list_ids(ids: Sequence[object], limit: int = 10) -> str:
    """Return ``"a, b, c (and 3 more)"``."""
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")


@dataclass
class Layer:
    """One source layer in EPSG:4548 with its ids and the columns found in it."""

    name: str
    source: str
    frame: gpd.GeoDataFrame
    ids: np.ndarray
    columns: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    known_rings: _clip.Rings | None = field(default=None, repr=False)

    @property
    def geoms(self) -> np.ndarray:
        """The geometries as a shapely array."""
        return np.asarray(self.frame.geometry.values, dtype=object)

    @property
    def rings(self) -> _clip.Rings:
        """The rings of :attr:`geoms` for the clipping kernel (read once)."""
        if self.known_rings is None:
            self.known_rings = _clip.Rings(self.geoms)
        return self.known_rings

    def where(self) -> str:
        """``"survey layer (DLTB.gpkg)"`` for messages."""
        return f"{self.name} layer ({self.source})"


def find_column(frame: pd.DataFrame, key: str, *, given: str | None = None) -> str | None:
    """Return the column of ``frame`` that holds ``key`` (see :data:`COLUMN_CANDIDATES`)."""
    if given is not None:
        return given if given in frame.columns else None
    lower = {str(c).lower(): c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)}
    for cand in COLUMN_CANDIDATES[key]:
        if cand.lower() in lower:
            return str(lower[cand.lower()])
    return None


@dataclass(frozen=True)
class Read:
    """A layer already read (e.g. one window of a file): its frame, source label and files."""

    frame: pd.DataFrame
    label: str
    files: list[str]


def read_any(obj: object, name: str) -> tuple[pd.DataFrame, str, list[str]]:
    """Return ``(frame, source label, files read)`` for a frame or a path (``path::layer`` picks a layer)."""
    if isinstance(obj, Read):
        return obj.frame, obj.label, obj.files
    if isinstance(obj, pd.DataFrame):
        return obj, f"the {name} GeoDataFrame" if isinstance(obj, gpd.GeoDataFrame) else f"the {name} table", []
    if not isinstance(obj, (str, os.PathLike)):
        raise AccountingError(f"`{name}` must be a GeoDataFrame or a file path, got {type(obj).__name__}")
    text = str(obj)
    layer = None
    if "::" in text:
        text, layer = text.rsplit("::", 1)
    path = Path(text)
    if not path.exists():
        raise DataFileError(f"`{name}` file {path} does not exist; check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".geoparquet"} or path.is_dir():  # a folder: a partitioned GeoParquet dataset
            try:
                frame: pd.DataFrame = gpd.read_parquet(path)
            except ValueError:  # a plain table (no geometry column)
                frame = pd.read_parquet(path)
        elif suffix in {".csv", ".txt", ".xlsx"}:
            from zgc_space import io as _io

            frame = _io.read_table(path)
        else:
            if layer is None and suffix in {".gpkg", ".gdb"}:
                layers = [str(row[0]) for row in pyogrio.list_layers(path)]
                if len(layers) > 1:
                    raise DataFileError(
                        f"`{name}` file {path} has {len(layers)} layers ({', '.join(layers)}); "
                        f"name one as {path}::{layers[0]}"
                    )
            frame = gpd.read_file(path, layer=layer, engine="pyogrio", **_shapefile_encoding(path))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        if isinstance(exc, DataFileError):
            raise
        raise DataFileError(f"cannot read `{name}` from {path}: {exc}") from exc
    label = f"{path}" + (f"::{layer}" if layer else "")
    files = [str(path.resolve())]
    if suffix == ".shp":
        files += [str(path.with_suffix(s).resolve()) for s in (".dbf", ".shx", ".prj", ".cpg")
                  if path.with_suffix(s).exists()]
    return frame, label, files


def _shapefile_encoding(path: Path) -> dict[str, str]:
    """Return ``{"encoding": "gbk"}`` for a Shapefile whose .dbf is not UTF-8 and has no .cpg.

    Chinese deliveries are often GBK without a .cpg file; GDAL would then read the text as
    ISO-8859-1. A .dbf whose bytes all decode as UTF-8 is read as UTF-8.
    """
    dbf = path.with_suffix(".dbf")
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists() or not dbf.exists():
        return {}
    try:
        dbf.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return {"encoding": "gbk"}
    return {}


def _metric(frame: gpd.GeoDataFrame, name: str, source: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError(
            f"{name} layer ({source}) has no CRS: its coordinates cannot be put in EPSG:4548 safely; "
            f"set it (e.g. gdf.set_crs('EPSG:4548'), or add the .prj of the delivery) and run again"
        )
    return _crs.to_metric(frame, source=f"{name} layer ({source})", allow_guess=False)


def prepare(obj: object, name: str, *, id_key: str | None, polygons: bool = True) -> Layer:
    """Read ``obj``, put it in EPSG:4548 and find its id column; empty geometries are dropped."""
    frame, source, files = read_any(obj, name)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise AccountingError(f"{name} layer ({source}) has no geometry column; give a polygon layer")
    frame = _metric(frame, name, source)
    id_col = find_column(frame, id_key) if id_key else None
    if id_col is not None:
        ids = frame[id_col].to_numpy(dtype=object).astype(str).astype(object)  # str() of each value
    else:
        ids = np.array([f"{name}#{i}" for i in range(len(frame))], dtype=object)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    rings: _clip.Rings | None = None
    if polygons and len(geoms):
        bad = ~np.isin(shapely.get_type_id(geoms), [3, 6, 7]) & ~shapely.is_missing(geoms)
        if bad.any():
            raise AccountingError(
                f"{name} layer ({source}) has {int(bad.sum())} non-polygon features (ids "
                f"{list_ids(ids[bad])}); give polygons (buffer points or lines first if they stand for areas)"
            )
        # simple convex rings (most parcels and plots) are valid: GEOS checks the others only
        invalid = np.zeros(len(geoms), bool)
        rings = _clip.Rings(geoms)
        check = np.flatnonzero(~rings.simple)
        invalid[check] = ~shapely.is_valid(geoms[check]) & ~shapely.is_missing(geoms[check])
        if invalid.any():
            rings = None
            fixed = shapely.make_valid(geoms[invalid])
            frame = frame.copy()
            frame.loc[frame.index[invalid], frame.geometry.name] = fixed
    now = np.asarray(frame.geometry.values, dtype=object)
    keep = ~(shapely.is_missing(now) | shapely.is_empty(now))
    if not keep.all():
        frame = frame.loc[keep]
        rings = None
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        frame = frame.reset_index(drop=True)
    return Layer(name=name, source=source, frame=frame, ids=ids[keep], files=files,
                 columns={} if id_col is None else {"id": id_col}, known_rings=rings)


def require(layer: Layer, key: str, what: str, *, given: str | None = None) -> str:
    """Return the column holding ``key`` or raise a ColumnError naming the layer and the fix."""
    col = find_column(layer.frame, key, given=given)
    if col is None:
        cands = ", ".join(COLUMN_CANDIDATES[key])
        raise ColumnError(
            f"{layer.where()} has no {what} column: none of {cands} among its columns "
            f"({', '.join(map(str, [c for c in layer.frame.columns if c != layer.frame.geometry.name]))}); "
            f"rename the column holding it to one of these names"
        )
    layer.columns[key] = col
    return col


def far_caps(layer: Layer, col: str) -> np.ndarray:
    """Return the plot FAR caps as floats; raise naming the plots whose cap is text or negative."""
    raw = layer.frame[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    text = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
    negative = values < 0
    problems = []
    if text.any():
        shown = ", ".join(f"{i} ({raw.iloc[k]!r})" for i, k in zip(layer.ids[text][:10], np.flatnonzero(text)[:10],
                                                                    strict=False))
        problems.append(f"{int(text.sum())} plot(s) with a FAR cap that is not a number: {shown}")
    if negative.any():
        problems.append(f"{int(negative.sum())} plot(s) with a negative FAR cap (ids {list_ids(layer.ids[negative])})")
    if problems:
        raise AccountingError(
            f"{layer.where()}, column {col!r}: " + "; ".join(problems)
            + "; give each plot's net FAR cap (容积率上限) as a number >= 0 "
            "(for a range such as '1.5-2.0' give its upper bound)"
        )
    return np.asarray(values, dtype=float)


def dates(layer: Layer, key: str) -> np.ndarray | None:
    """Return the column ``key`` as datetime64 (NaT where blank), or None when absent."""
    col = find_column(layer.frame, key)
    if col is None:
        return None
    layer.columns[key] = col
    parsed = pd.to_datetime(layer.frame[col], errors="coerce")
    bad = parsed.isna().to_numpy() & layer.frame[col].notna().to_numpy() & (
        layer.frame[col].astype(str).str.strip() != "").to_numpy()
    if bad.any():
        raise AccountingError(
            f"{layer.where()}, column {col!r}: {int(bad.sum())} value(s) are not dates (ids "
            f"{list_ids(layer.ids[bad])}); write them as YYYY-MM-DD"
        )
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]"))


#: Block geometry problems that would make an overlay count land wrong (a bow-tie as 0 m², a
#: nested shell twice, a hole outside its shell subtracted) or fail (NaN vertices).
_GEOMETRY_RULES = ("non-finite-vertex", "invalid-geometry", "geometry-type", "outside-crs-extent")


def check_block_geometry(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Return ``frame`` if its geometry can be overlaid; refuse bow-ties, NaN vertices, blocks outside the CRS."""
    from zgc_space.blocks import find_problems

    bad = [p for p in find_problems(frame, source=source) if p.rule in _GEOMETRY_RULES]
    if bad:
        raise AccountingError("`blocks` cannot be overlaid: " + "; ".join(f"{p.message} ({p.fix})" for p in bad))
    return frame
