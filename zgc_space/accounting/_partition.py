"""Partitioned accounting: groups of neighbouring blocks, each with the features of the big layers near it.

The blocks are cut into ``partitions`` groups along a Hilbert curve (neighbouring blocks stay
together). Each group is accounted alone with the survey parcels, plan plots and buildings whose
geometry meets the group's bounding box, read as a window of the file: a GeoPackage/Shapefile
through its spatial index (``pyogrio`` ``bbox=``), a GeoParquet dataset (a folder of parts with
spatial partitions, as dask-geopandas writes it) through ``dask_geopandas.read_parquet(...).cx``,
which reads only the parts whose extent meets the window. So one partition's overlay is in memory
at a time, whatever the size of the layers. Every feature that meets a block is in the window of
that block's group, so each block's pieces are the same as in one run.

The supply, idle and serviced layers (small) are read whole by every partition: their
outside-block conflicts need every polygon. The merge recomputes what spans partitions: survey
parcels straddling blocks of two groups, flag polygons outside every block, overlaps found in
two groups (kept once), and the summary. Pieces come partition after partition.

With ``scheduler`` (a ``dask.distributed`` address or Client) the partitions run on the cluster's
workers, each reading its own windows; otherwise one after the other in this process.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from zgc_space import schema
from zgc_space.accounting import _classify, _layers
from zgc_space.accounting._account import Accounting, _blocks_metric, _conflict_frame
from zgc_space.accounting._account import account as account_one
from zgc_space.accounting._summary import summary as _summary
from zgc_space.errors import AccountingError

__all__ = ["Source", "account_partitioned", "group_blocks", "source", "window"]

#: One partition's result, the ids and areas of its survey and flag layers as used, and (when its
#: pieces were written to a file) the few piece columns the merge needs.
_Result = tuple[Accounting, dict[str, tuple[np.ndarray, np.ndarray]], pd.DataFrame | None]
#: Piece columns the merge reads (straddles, outside-block polygons); areas summed over the others.
_MERGE_COLUMNS = ("block_id", "survey_id", "supply_id", "idle_id", "serviced_id", "area_m2")
#: Layers read as a window per partition; the others are read whole.
WINDOWED = ("survey", "plan", "buildings")


def group_blocks(blocks: gpd.GeoDataFrame, partitions: int) -> list[np.ndarray]:
    """Return the row positions of each group: blocks in Hilbert order of their extents, cut in ``partitions``."""
    if partitions < 1:
        raise AccountingError(f"partitions must be a positive whole number, got {partitions!r}")
    order = np.argsort(blocks.geometry.hilbert_distance().to_numpy(), kind="stable")
    return [g for g in np.array_split(order, min(partitions, len(blocks))) if len(g)]


def _boxes_in(crs: object, boxes: np.ndarray) -> np.ndarray:
    """``boxes`` (rows x0, y0, x1, y1 in EPSG:4548) in ``crs``, each widened to hold its edges (densified)."""
    # PROJJSON (a dict, from GeoParquet metadata) as its text: the cache needs a hashable key
    t = None if crs is None else _from_metric(json.dumps(crs, sort_keys=True) if isinstance(crs, dict) else crs)
    if t is None:
        return boxes
    out = [t.transform_bounds(b[0], b[1], b[2], b[3], densify_pts=21) for b in boxes]
    return np.asarray(out, dtype=np.float64).reshape(-1, 4)


@functools.lru_cache(maxsize=32)
def _from_metric(crs: object) -> Any:
    """Return the transformer from EPSG:4548 to ``crs`` (text or hashable), None if it is EPSG:4548 (once per CRS).

    Every window of every partition asks: parsing a CRS costs milliseconds.
    """
    from pyproj import CRS, Transformer

    target = CRS.from_user_input(json.loads(crs) if isinstance(crs, str) and crs.startswith("{") else crs)
    if target.equals(CRS.from_user_input(schema.METRIC_CRS)):
        return None
    return Transformer.from_crs(schema.METRIC_CRS, target, always_xy=True)


@dataclass(frozen=True)
class Source:
    """A windowed layer: a GeoDataFrame, a vector file, or GeoParquet parts with their extents."""

    name: str
    obj: object
    label: str = ""
    layer: str | None = None
    parts: tuple[tuple[str, tuple[float, float, float, float] | None], ...] = ()
    crs: object = None
    files: tuple[str, ...] = ()
    covered: frozenset[str] = frozenset()


def _parquet_parts(path: Path) -> tuple[list[tuple[str, tuple[float, float, float, float] | None]], object,
                                        frozenset[str]]:
    """Return the GeoParquet files of ``path`` (a file or a folder of parts) with the extent each declares.

    The extent is the ``bbox`` of the primary geometry column in the file's GeoParquet metadata
    (dask-geopandas and geopandas write it); a part without one is always read.
    """
    import pyarrow.parquet as pq

    files = sorted(path.glob("*.parquet"), key=lambda f: (len(f.name), f.name)) if path.is_dir() else [path]
    if not files:
        raise AccountingError(f"{path} holds no .parquet files; give a GeoParquet file or a folder of parts")
    parts: list[tuple[str, tuple[float, float, float, float] | None]] = []
    covered: set[str] = set()
    crs: object = None
    for f in files:
        meta = pq.read_schema(f).metadata or {}
        geo = json.loads(meta.get(b"geo", b"{}"))
        col = geo.get("columns", {}).get(geo.get("primary_column", "geometry"), {})
        bbox = col.get("bbox")
        parts.append((str(f.resolve()), tuple(bbox[:4]) if bbox and len(bbox) == 4 else None))
        crs = crs or col.get("crs", "OGC:CRS84")  # GeoParquet: no "crs" key means OGC:CRS84
        if "bbox" in col.get("covering", {}):
            covered.add(parts[-1][0])
    return parts, crs, frozenset(covered)


def source(obj: object, name: str) -> object:
    """Open layer ``obj`` for windowed reads (files are listed once); tables are returned as given."""
    if isinstance(obj, gpd.GeoDataFrame):
        return Source(name, obj, label=f"the {name} GeoDataFrame", crs=obj.crs)
    if not isinstance(obj, (str, os.PathLike)):
        return obj
    text = str(obj)
    layer = None
    if "::" in text:
        text, layer = text.rsplit("::", 1)
    path = Path(text)
    suffix = path.suffix.lower()
    if not path.exists() or suffix in {".csv", ".txt", ".xlsx"}:
        return obj
    if path.is_dir() or suffix in {".parquet", ".geoparquet"}:
        parts, crs, covered = _parquet_parts(path)
        return Source(name, path, label=str(path), parts=tuple(parts), crs=crs, files=tuple(p for p, _ in parts),
                      covered=covered)
    info = pyogrio.read_info(path, layer=layer)
    files = [str(path.resolve())]
    if suffix == ".shp":
        files += [str(path.with_suffix(s).resolve()) for s in (".dbf", ".shx", ".prj", ".cpg")
                  if path.with_suffix(s).exists()]
    return Source(name, path, label=f"{path}" + (f"::{layer}" if layer else ""), layer=layer, crs=info.get("crs"),
                  files=tuple(files))


def window(src: object, blocks: gpd.GeoSeries) -> object:
    """Return the features of ``src`` that meet one of ``blocks`` (EPSG:4548), in their order, as read.

    Only what may meet the blocks is read: GeoParquet parts whose extent meets the blocks' box,
    rows of a GeoPackage/Shapefile through its spatial index (pyogrio ``bbox=``); the rows read
    are then kept if they meet a block. Anything but a :class:`Source` is returned as given.
    """
    if not isinstance(src, Source):
        return src
    if src.crs is None and isinstance(src.obj, gpd.GeoDataFrame):
        return src.obj  # no CRS: the accounting refuses it with its own message
    pad = 1.0  # metre: features touching the box edge stay in
    x0, y0, x1, y1 = blocks.total_bounds
    box = tuple(_boxes_in(src.crs, np.array([[x0 - pad, y0 - pad, x1 + pad, y1 + pad]]))[0])
    if isinstance(src.obj, gpd.GeoDataFrame):
        frame = src.obj.cx[box[0]:box[2], box[1]:box[3]]
    elif src.parts:
        # a part is read if its extent meets the box of one of the blocks (not only the group's box)
        boxes = _boxes_in(src.crs, shapely.bounds(np.asarray(blocks.values, dtype=object)) + [-pad, -pad, pad, pad])
        hit = [f for f, b in src.parts if b is None or bool(np.any((boxes[:, 0] <= b[2]) & (boxes[:, 2] >= b[0])
                                                                   & (boxes[:, 1] <= b[3]) & (boxes[:, 3] >= b[1])))]
        # parts with a bbox covering column (GeoParquet 1.1, ``write_covering_bbox=True``) decode only the
        # rows whose box meets the window's
        frames = _read_parts(hit, box, src.covered)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0] if frames else \
            gpd.read_parquet(src.parts[0][0]).iloc[:0]
        frame = gpd.GeoDataFrame(frame, geometry=frames[0].geometry.name if frames else "geometry",
                                 crs=frames[0].crs if frames else None)
    else:
        frame = gpd.read_file(src.obj, layer=src.layer, engine="pyogrio", bbox=box,
                              **_layers._shapefile_encoding(Path(str(src.obj))))
    if len(frame) and frame.crs is not None:
        shapes = blocks.to_crs(frame.crs) if not blocks.crs.equals(frame.crs) else blocks
        near = np.unique(frame.sindex.query(np.asarray(shapes.values, dtype=object), predicate="intersects")[1])
        frame = frame.iloc[near]
    return _layers.Read(frame.reset_index(drop=True), src.label, list(src.files))


def _read_parts(files: list[str], box: tuple[float, ...], covered: frozenset[str]) -> list[gpd.GeoDataFrame]:
    """Read GeoParquet ``files`` in their order, those in ``covered`` only where their bbox column meets ``box``.

    Files in a row of the same kind are read as one dataset (metadata, CRS and geometry decoded
    once, not per part; the order of files and rows is kept); parts whose schemas differ are
    read one by one.
    """
    import pyarrow

    frames: list[gpd.GeoDataFrame] = []
    for cov, run in itertools.groupby(files, key=lambda f: f in covered):
        group = list(run)
        try:
            frames.append(gpd.read_parquet(group if len(group) > 1 else group[0], bbox=box if cov else None))
        except (pyarrow.ArrowException, ValueError, TypeError):
            if len(group) == 1:
                raise
            frames += [gpd.read_parquet(f, bbox=box if cov else None) for f in group]
    return frames


def _run_one(blocks: _layers.Read, layers: dict[str, object], options: dict[str, Any], out_file: str | None = None
             ) -> _Result:
    """Account one group of blocks (runs in this process or on a dask worker).

    With ``out_file`` the pieces are written there (GeoParquet with a bbox covering column) and
    only the columns the merge needs are returned with the (emptied) result.
    """
    shapes = gpd.GeoSeries(blocks.frame.geometry.values, crs=schema.METRIC_CRS)
    given: dict[str, Any] = {k: (window(v, shapes) if k in WINDOWED else v) for k, v in layers.items()}
    areas: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    acc = account_one(blocks, **given, **options, _areas=areas, _partial=True)
    if out_file is None:
        _ = acc.pieces  # built here (on the worker): the merge reads them
        return acc, areas, None
    acc.pieces.to_parquet(out_file, write_covering_bbox=True)
    # the merge only sums areas by these ids: one row per combination (a parcel cut by several plan
    # plots is one row), held as pyarrow strings; a new frame, so that no slice keeps the pieces'
    # arrays, geometries included, alive
    keys = [c for c in _MERGE_COLUMNS if c != "area_m2"]
    slim = acc.pieces.groupby(keys, dropna=False, sort=False)["area_m2"].sum().reset_index()
    return replace(acc, _pieces=acc.pieces.iloc[:0].copy(deep=True)), areas, slim


def account_partitioned(blocks: object, *, partitions: int, scheduler: object = None,
                        layers: dict[str, object], options: dict[str, Any],
                        pieces_out: str | os.PathLike[str] | None = None) -> Accounting:
    """:func:`zgc_space.accounting.account` one group of blocks at a time (see the module docstring).

    With ``pieces_out`` (a folder) each partition's pieces are written there as it finishes
    (``part.NNNN.parquet``, GeoParquet with a bbox covering column) instead of being kept: memory
    stays that of one partition however many pieces there are. The folder is replaced whole
    when every partition is done (nothing is left half-written); ``pieces`` is then empty (its
    columns only) and ``pieces_files`` lists the parts.
    """
    if layers.get("enterprises") is not None:
        raise AccountingError(
            "enterprises cannot be accounted by partition: an enterprise with sites in several partitions is "
            "split by the floor area of all its sites; run account without partitions= (the register is small), "
            "or account the land by partition and the enterprises in a second run without it")
    bl, bsource, bfiles = _blocks_metric(blocks)
    groups = group_blocks(bl, partitions)
    tasks = [_layers.Read(bl.iloc[g], bsource, bfiles) for g in groups]
    present = {k: (source(v, k) if k in WINDOWED else v) for k, v in layers.items() if v is not None}
    if pieces_out is None:
        return _run_all(bl, groups, tasks, present, options, scheduler, partitions, None)
    from zgc_space import io as _io

    target = Path(pieces_out)
    read = [*bfiles, *(f for v in present.values() if isinstance(v, Source) for f in v.files),
            *(str(v).split("::")[0] for v in present.values() if isinstance(v, (str, os.PathLike)))]
    _io.refuse_inputs([target], read)
    if target.exists():  # replaced whole: only an earlier pieces folder may be
        other = [f.name for f in target.iterdir()] if target.is_dir() else [target.name]
        other = [n for n in other if not (n.startswith("part.") and n.endswith(".parquet"))]
        if other:
            raise AccountingError(
                f"pieces_out {target} exists and holds other files ({', '.join(sorted(other)[:5])}); the pieces folder "
                "is replaced whole: give a new or empty folder, or one an earlier run wrote (part.NNNN.parquet only)")
    with _io.atomic_folder(target, prefix="pieces") as tmp:
        acc = _run_all(bl, groups, tasks, present, options, scheduler, partitions, tmp)
    files = tuple(str(target / Path(f).name) for f in acc.pieces_files)
    return replace(acc, pieces_files=files, notes=(*acc.notes, f"pieces written to {target} ({len(files)} "
                                                               "GeoParquet parts), not held in memory"))


def _run_all(bl: gpd.GeoDataFrame, groups: list[np.ndarray], tasks: list[_layers.Read], present: dict[str, object],
             options: dict[str, Any], scheduler: object, partitions: int, folder: Path | None) -> Accounting:
    outs = [None if folder is None else str(folder / f"part.{i:04d}.parquet") for i in range(len(tasks))]
    if scheduler is None:
        results = [_run_one(b, present, options, o) for b, o in zip(tasks, outs, strict=True)]
    else:
        results = _run_dask(tasks, present, options, scheduler, outs)
    try:
        acc = _merge(bl, groups, results, options.get("sliver_m2", 1.0), partitions)
    except ValueError as exc:  # pragma: no cover - defensive: the merge of consistent partitions
        raise AccountingError(f"merging {len(groups)} partitions failed: {exc}") from exc
    return acc if folder is None else replace(acc, pieces_files=tuple(o for o in outs if o))


def _run_dask(tasks: list[_layers.Read], layers: dict[str, object], options: dict[str, Any], scheduler: object,
              outs: list[str | None]) -> list[_Result]:
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - dask is a test dependency
        raise ImportError("scheduler= needs dask.distributed: pip install 'zgc_space[dask]'") from exc
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = [client.submit(_run_one, b, layers, options, o, pure=False) for b, o in zip(tasks, outs, strict=True)]
        return list(client.gather(futures))
    finally:
        if client is not scheduler:
            client.close()


def _merge(bl: gpd.GeoDataFrame, groups: list[np.ndarray], results: list[_Result],
           sliver_m2: float, partitions: int) -> Accounting:
    accs = [r[0] for r in results]
    used = [r[1] for r in results]
    slims = [r[2] for r in results]
    back = np.argsort(np.concatenate(groups), kind="stable")
    blocks = pd.concat([a.blocks for a in accs]).iloc[back]
    blocks = gpd.GeoDataFrame(blocks, geometry="geometry", crs=schema.METRIC_CRS)
    bids = bl["block_id"].astype(str).to_numpy()
    pieces = gpd.GeoDataFrame(pd.concat([a.pieces for a in accs], ignore_index=True), geometry="geometry",
                              crs=schema.METRIC_CRS)  # partition after partition (no rows if written out)
    # what the merge reads of the pieces: the pieces themselves, or the columns kept of those written out
    table: pd.DataFrame = pieces if slims[0] is None else pd.concat(slims, ignore_index=True)
    # the partitions' own pieces are not needed any more: let them go before the conflicts are merged
    results.clear()
    accs = [replace(a, _pieces=a.pieces.iloc[:0].copy(deep=True)) for a in accs]
    b_idx = _positions(pd.Index(bids), table["block_id"].to_numpy(dtype=object))
    area = table["area_m2"].to_numpy(dtype=float)

    parts = [a.conflicts[~a.conflicts["kind"].isin(["straddle", "outside_blocks"])] for a in accs]
    conflicts = pd.concat(parts, ignore_index=True)
    overlap = conflicts["kind"] == "overlap"
    dup = overlap & conflicts.duplicated(["kind", "layer", "feature_id", "other_id"])
    conflicts = conflicts[~dup]
    extra: list[pd.DataFrame] = []
    # survey parcels straddling blocks (maybe of two partitions): from the merged pieces
    ids, p_area = _merged_areas([u.get("survey") for u in used])
    if len(ids):
        sid = table["survey_id"].to_numpy(dtype=object)
        known = pd.notna(sid)
        s_idx = np.full(len(table), -1)
        s_idx[known] = _positions(pd.Index(ids), sid[known])
        extra += _classify.straddle_conflicts(s_idx, b_idx, area, p_area, ids, bids, sliver_m2)
    for name in ("supply", "idle", "serviced"):
        ids, f_area = _merged_areas([u.get(name) for u in used])
        if not len(ids):
            continue
        col = table[f"{name}_id"].to_numpy(dtype=object)
        known = pd.notna(col)
        inside = pd.Series(area[known]).groupby(col[known]).sum().reindex(ids, fill_value=0.0).to_numpy()
        extra += _classify.outside_conflicts(name, ids, f_area - inside, sliver_m2)
    conflicts = _conflict_frame([conflicts, *extra])

    notes = [n for n in dict.fromkeys(n for a in accs for n in a.notes) if "TBMJ" not in n]
    notes.insert(0, f"accounted in {len(groups)} partitions of neighbouring blocks (partitions={partitions}); "
                    "areas are planar in EPSG:4548 (the TBMJ comparison is made in one run only)")
    inputs: dict[str, list[str]] = {}
    for a in accs:
        for k, files in a.inputs.items():
            inputs[k] = list(dict.fromkeys([*inputs.get(k, []), *files]))
    return replace(accs[0], blocks=blocks, _pieces=pieces, conflicts=conflicts, summary=_summary(blocks),
                   notes=tuple(notes), inputs=inputs)


def _merged_areas(found: list[tuple[np.ndarray, np.ndarray] | None]) -> tuple[np.ndarray, np.ndarray]:
    """Ids and areas over the partitions (the smallest where overlaps were resolved in one only)."""
    frames = [pd.DataFrame({"id": ids, "area": a}) for ids, a in (f for f in found if f is not None)]
    if not frames:
        return np.empty(0, dtype=object), np.empty(0)
    t = pd.concat(frames, ignore_index=True).groupby("id", sort=False)["area"].min()
    return t.index.to_numpy(dtype=object), t.to_numpy(dtype=float)


def _positions(index: pd.Index, values: np.ndarray) -> np.ndarray:
    """Positions of ``values`` in ``index`` (unique); every value must be there."""
    pos = index.get_indexer(values)
    if (pos < 0).any():  # pragma: no cover - defensive: the partitions' ids come from the same layers
        raise ValueError(f"{int((pos < 0).sum())} ids not found, e.g. {values[pos < 0][0]!r}")
    return np.asarray(pos)
