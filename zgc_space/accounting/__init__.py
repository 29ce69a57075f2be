r"""Land accounting from the layers a planning bureau holds, by overlay.

The blocks are overlaid with the survey parcels (地类图斑 of the 三调 / 年度变更调查, DLBM codes of
GB/T 21010-2017), the plan plots (控规 planned use in GB 50137-2011, DB11/996 or the 2023
用地用海分类, net FAR caps), land-supply records (划拨/出让), idle-land determinations, serviced
land, building footprints and the enterprise register. Every intersection piece is kept (the
*land account layer*), classed into the TD/T 1029-2010 classes (A1-A6, B11, B12, B21, B22, C) and
summed by block, so every number of the block table can be traced to its source features.

Classes (TD/T 1029-2010 as revised 2014; GB/T 21010-2017 codes, 三调 work codes in brackets):

========= ================================================================================
A1 - A6   urban built construction land: 0701 住宅 (A1); 0601, 0604, 0508 工矿仓储 (A2); 1001-1009
          except 1006 交通 (A3); 05xx, 05H1 商服 (A4); 0801-0810, 08H1, 08H2, 08H2A, 0810A (A5); 09,
          1109, 0602 (A6)
B11, B12  rural construction land (0702, or construction codes with CZCSXM 203): remaining B
B21, B22  unbuilt construction land (1201, or non-construction current use the plan makes
          construction land): B21 where serviced or supplied, B22 otherwise
C         planned non-construction land (non-construction current use the plan keeps so)
D, G, H   supplied (supply polygons on A or B21), idle (determined, not disposed of, on supplied
          unbuilt land), high-tech (supplied land of parcels hosting a high-tech enterprise)
========= ================================================================================

Code tables are data files in ``zgc_space/accounting/codes/`` (see :func:`load_codes`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from zgc_space import accounting
>>> blocks = gpd.GeoDataFrame({"block_id": ["B1"], "subpark": ["海淀园"]},
...     geometry=[box(440_000, 4_430_000, 440_200, 4_430_100)], crs="EPSG:4548")
>>> survey = gpd.GeoDataFrame({"BSM": ["s1", "s2"], "DLBM": ["0601", "0103"]},
...     geometry=[box(440_000, 4_430_000, 440_100, 4_430_100), box(440_100, 4_430_000, 440_200, 4_430_100)],
...     crs="EPSG:4548")
>>> plan = gpd.GeoDataFrame({"DKBH": ["p1"], "YDDM": ["M4"], "RJL": [2.0]},
...     geometry=[box(440_000, 4_430_000, 440_200, 4_430_100)], crs="EPSG:4548")
>>> supply = gpd.GeoDataFrame({"GDBH": ["g1"]}, geometry=[box(440_000, 4_430_000, 440_100, 4_430_100)],
...     crs="EPSG:4548")
>>> acc = accounting.account(blocks, survey=survey, plan=plan, supply=supply)
>>> acc.blocks[["built_industrial_m2", "unready_m2", "supplied_m2", "permitted_gfa_plots_m2"]].iloc[0].tolist()
[10000.0, 10000.0, 10000.0, 40000.0]
>>> acc.pieces["class"].tolist()
['A2', 'B22']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from zgc_space.accounting._account import Accounting
from zgc_space.accounting._account import account as _account
from zgc_space.accounting._classify import CLASSES
from zgc_space.accounting._codes import CODES_DIR, CodeMapping, load_codes
from zgc_space.accounting._summary import TERMS

__all__ = [
    "CLASSES",
    "CODES_DIR",
    "CONFLICT_KINDS",
    "TERMS",
    "Accounting",
    "CodeMapping",
    "account",
    "load_codes",
    "panel",
    "write",
]

#: Kinds of rows in :attr:`Accounting.conflicts`.
CONFLICT_KINDS = (
    "built_unsupplied", "plan_survey", "plan_gap", "gap", "straddle", "overlap", "outside_blocks",
    "supply_outside_construction", "idle_misplaced", "unknown_code", "enterprise_outside",
)


def account(
    blocks: object,
    *,
    survey: object,
    plan: object | None = None,
    supply: object | None = None,
    idle: object | None = None,
    serviced: object | None = None,
    buildings: object | None = None,
    enterprises: object | None = None,
    codes: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = "gbt21010_2017",
    as_of: str | None = None,
    overlaps: str = "raise",
    unknown: str = "raise",
    sliver_m2: float = 1.0,
    threads: int = 1,
    partitions: int | None = None,
    scheduler: object = None,
    pieces_out: str | os.PathLike[str] | None = None,
) -> Accounting:
    """Account the land of each block from the source layers (TD/T 1029-2010 classes).

    Overlay: STRtree candidate pairs, then an intersection on those pairs only: pairs where one
    geometry covers the other need none, pairs of simple polygons one of which is convex are
    clipped in numpy over all pairs at once (Sutherland-Hodgman by the convex one's edges), the
    rest go to GEOS; pieces partition each block exactly.

    Parameters
    ----------
    blocks
        Block outlines (GeoDataFrame or file) with ``block_id``; identity columns, ``far_cap`` and
        ``year`` are kept; land, building and economy columns are recomputed from the layers.
    survey
        Survey parcels (地类图斑, DLTB) with a DLBM-like code column (DLBM, 地类编码, ...),
        optionally CZCSXM (城镇村属性码) and TBMJ (ellipsoidal area, compared with the planar area
        used). Required.
    plan
        Plan plots with a planned-use code (YDDM, 用地代码, ...) and optionally a net FAR cap
        (RJL, 容积率). Without them non-construction current use counts as C.
    supply, idle, serviced
        Polygons of supply records (D), idle-land determinations (G; with determination and
        disposal dates, RDRQ/CZRQ) and land ready to supply (B21). Overlaps inside each layer
        are resolved (the earlier record keeps the shared area) and reported.
    buildings
        Footprints with floors (floors, CS, 层数) or height (height_m, 高度): ``gfa_m2`` and
        ``footprint_m2`` by :func:`zgc_space.buildings.aggregate` (centroid rule); industrial floor
        area and footprint are those of buildings whose centroid lies on A2 land.
    enterprises
        Register with a point geometry, a ``building_id`` or a ``parcel_id`` (BSM) per site;
        revenue, tax, fixed assets and employees (canonical names or Chinese aliases) are summed
        per block; an ``industrial`` flag or a GB/T 4754 ``industry_code`` (sections B-D) gives
        the industrial parts; a ``hightech`` flag gives ``hightech_enterprises`` and H. An
        enterprise on several rows (sites) has its totals split by the floor area of each site's
        building (equally where unknown).
    codes
        Packaged survey table (``"gbt21010_2017"``, ``"ydyh_2023"``), a user mapping table
        (YAML/CSV: ``layer,code,use[,name]``) applied on top of it, or a list of them.
    as_of
        Evaluation date (ISO): supply and serviced records dated later, and idle determinations
        made later or disposed of before it, are left out.
    overlaps
        ``"raise"`` (default): overlapping survey parcels or plan plots are an error;
        ``"first"``: the earlier feature keeps the shared area (reported as conflicts).
    unknown
        ``"raise"`` (default): codes not in the mapping are an error listing each with its parcel
        count and area; ``"report"``: such parcels enter no land column (conflicts).
    sliver_m2
        Straddling and outside-block areas below this are not reported.
    threads
        Threads for the intersections (shapely releases the GIL); 1 by default, which is the
        better choice on a machine shared with other jobs.
    partitions
        Account the blocks in this many groups of neighbours, one after the other, each with the
        survey parcels, plan plots and buildings near it read as a window of their files
        (GeoPackage/Shapefile spatial index; GeoParquet folders with spatial partitions through
        dask-geopandas): the overlay's memory is that of one group, whatever the layers' size.
        Same blocks, pieces and conflicts as one run (pieces in partition order). Not with
        ``enterprises``. Layers need an id column (positional ids differ by window). The checks
        of the windowed layers (unknown codes, non-polygon features, overlaps) see the features
        near the blocks only, one partition at a time: an error names that partition's features.
    scheduler
        A ``dask.distributed`` scheduler address or Client: the partitions run on its workers,
        each reading its own windows (needs ``partitions``).
    pieces_out
        A folder: each partition's pieces are written there as soon as it is accounted
        (``part.NNNN.parquet``, GeoParquet with a bbox covering column, readable by
        ``geopandas.read_parquet(folder)`` or QGIS) instead of being held, so memory stays that of
        one partition however large the layers (needs ``partitions``). The folder is replaced
        whole once every partition is done; ``pieces`` then has the columns and no rows and
        ``pieces_files`` lists the parts. The blocks, conflicts and summary are the same.

    Returns
    -------
    Accounting
        ``blocks``, ``pieces``, ``conflicts``, ``summary``, the ``codes`` used, ``missing``
        columns, column ``sources``, ``notes`` and ``inputs``.

    Raises
    ------
    AccountingError
        Unknown codes, overlapping parcels, a text or negative FAR cap, an enterprise with no
        location, a layer that is not polygons; the message names the layer, ids and the fix.
    ColumnError
        No DLBM-like column in the survey layer, no plan-code column, no floors/height.
    CRSError
        A layer has no CRS or one that cannot be used. Layers in other accepted CRSs are
        reprojected to EPSG:4548 with a ReprojectionWarning.

    Examples
    --------
    See the module docstring.
    """
    if partitions is not None or scheduler is not None:
        from zgc_space.accounting._partition import account_partitioned
        from zgc_space.errors import AccountingError

        if partitions is None:
            raise AccountingError("scheduler= runs partitions on a cluster: give partitions= as well (e.g. 16)")
        layers = {"survey": survey, "plan": plan, "supply": supply, "idle": idle, "serviced": serviced,
                  "buildings": buildings, "enterprises": enterprises}
        options = {"codes": codes, "as_of": as_of, "overlaps": overlaps, "unknown": unknown, "sliver_m2": sliver_m2,
                   "threads": threads}
        return account_partitioned(blocks, partitions=partitions, scheduler=scheduler, layers=layers, options=options,
                                   pieces_out=pieces_out)
    if pieces_out is not None:
        from zgc_space.errors import AccountingError

        raise AccountingError("pieces_out= writes each partition's pieces as it is done: give partitions= as well "
                              "(e.g. partitions=16), or write acc.pieces yourself after one run")
    return _account(
        blocks, survey=survey, plan=plan, supply=supply, idle=idle, serviced=serviced, buildings=buildings,
        enterprises=enterprises, codes=codes, as_of=as_of, overlaps=overlaps, unknown=unknown, sliver_m2=sliver_m2,
        threads=threads,
    )


def panel(blocks: object, *, surveys: Mapping[int, object], **layers: object) -> gpd.GeoDataFrame:
    """Account each year's survey layer: the blocks × years panel of the dynamic mechanism.

    Parameters
    ----------
    blocks
        Block outlines, as for :func:`account`.
    surveys
        Year → that year's survey layer (三调 2019, then each 年度国土变更调查).
    **layers
        Other :func:`account` arguments; a mapping year → value gives one per year. ``as_of``
        defaults to the 31 December of each year.

    Returns
    -------
    GeoDataFrame
        One row per block and year (``year`` column), sorted by block_id then year.
    """
    frames = []
    for year in sorted(surveys):
        kwargs = {k: (v[year] if isinstance(v, Mapping) else v) for k, v in layers.items()}
        kwargs.setdefault("as_of", f"{year}-12-31")
        result = account(blocks, survey=surveys[year], **kwargs)  # type: ignore[arg-type]
        frame = result.blocks.copy()
        frame["year"] = int(year)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["block_id", "year"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs)


def write(
    result: Accounting,
    out: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    parameters: Mapping[str, object] | None = None,
) -> list[Path]:
    """Write the block table, the ``pieces`` and ``conflicts`` layers (GeoPackage), CSVs and a manifest.

    ``out`` is the GeoPackage (layers ``blocks``, ``pieces``, ``conflicts``; no ``pieces`` layer
    or CSV when they were written to ``pieces_out``, listed in the manifest); beside it go
    ``<stem>_blocks.csv``, ``<stem>_pieces.csv``, ``<stem>_conflicts.csv``, ``<stem>_codes.csv``
    (the code mapping used) and ``<stem>_manifest.json`` (input SHA-256s, library version,
    parameters, code tables). Every write is atomic; no input file is ever overwritten.

    Raises
    ------
    OverwriteInputError
        A target is one of the inputs (the layers read, ``inputs``).
    """
    import json

    from zgc_space import io as _io

    target = Path(out)
    read = [f for files in result.inputs.values() for f in files]
    protected = [*inputs, *read, *result.codes.sources]
    stem = target.with_suffix("")
    targets = [target, *(Path(f"{stem}_{n}") for n in ("blocks.csv", "pieces.csv", "conflicts.csv", "codes.csv",
                                                       "manifest.json"))]
    _io.refuse_inputs(targets, protected)  # refuse before writing anything
    streamed = bool(result.pieces_files)  # the pieces are in their GeoParquet parts already
    written = [
        _io.write_blocks(result.blocks, target, layer="blocks", inputs=protected),
        *([] if streamed else [_io.write_blocks(result.pieces, target, layer="pieces", inputs=protected)]),
        _io.write_blocks(result.conflicts, target, layer="conflicts", inputs=protected),
        _io.write_table(result.blocks.drop(columns="geometry"), targets[1], inputs=protected),
        *([] if streamed else [_io.write_table(result.pieces.drop(columns="geometry"), targets[2], inputs=protected)]),
        _io.write_table(result.conflicts.drop(columns="geometry"), targets[3], inputs=protected),
        _io.write_table(result.codes.table, targets[4], inputs=protected),
    ]
    manifest = {
        "pieces_files": list(result.pieces_files),
        "library": "zgc_space", "version": _io.package_version(), "parameters": dict(parameters or {}),
        "inputs": {str(Path(f)): _io.sha256_file(f) for f in dict.fromkeys(map(str, [*read, *inputs]))
                   if Path(f).is_file()},
        "code_tables": list(result.codes.sources), "code_entries": len(result.codes.table),
        "missing": list(result.missing), "notes": list(result.notes),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    written.append(_io.write_atomic(targets[5], text.encode("utf-8")))
    return list(dict.fromkeys(written))
