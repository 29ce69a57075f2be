"""The block table: validation that gathers every problem, geometry repair, land totals.

:func:`find_problems` lists everything wrong with a block table; :func:`validate_blocks` raises
one :class:`~zgc_space.errors.BlockValidationError` carrying all of them (and warns about the
problems that do not make numbers wrong). :func:`repair_geometries` makes invalid polygons
valid, always returning Polygon/MultiPolygon, and reports each repaired block's area change.

Examples
--------
>>> import zgc_space as zs
>>> blocks = zs.datasets.load_blocks()
>>> zs.find_problems(blocks)
[]
>>> checked = zs.validate_blocks(blocks)  # returns the blocks, so it composes with .pipe()
>>> len(checked)
164
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import crs as _crs
from zgc_space import schema
from zgc_space.blocks._checks import (
    PLAUSIBLE_FAR,
    PLAUSIBLE_MAX,
    check_extent,
    check_flags,
    check_ids,
    check_labels,
    check_shapes,
    check_text,
)
from zgc_space.blocks._grouping import (
    ZONE_LABEL,
    block_ids,
    group_sums,
    index_name,
    numeric_columns,
    ratio,
    resolve_by,
)
from zgc_space.blocks._problems import Problem, _block_ids, _ids_text
from zgc_space.blocks._repair import repair_geometries
from zgc_space.errors import (
    BlockValidationError,
    ColumnError,
    CRSError,
    ValidationWarning,
)

__all__ = [
    "ZONE_LABEL",
    "Problem",
    "block_ids",
    "find_problems",
    "geometry_problems",
    "group_sums",
    "index_name",
    "land_totals",
    "numeric_columns",
    "ratio",
    "repair_geometries",
    "resolve_by",
    "validate_blocks",
]

log = logging.getLogger(__name__)

def find_problems(
    blocks: gpd.GeoDataFrame,
    *,
    overlap_tolerance_m2: float = 1.0,
    area_tolerance: float = 0.005,
    source: str | None = None,
) -> list[Problem]:
    """Return every problem of a block table, errors first; an empty list means valid.

    Checks: required columns; CRS (missing is an error, a geographic CRS a warning: areas are
    computed after reprojection to EPSG:4548); unique non-empty ids; non-empty, valid
    Polygon/MultiPolygon geometries; overlaps between blocks above ``overlap_tolerance_m2``;
    numeric, non-negative canonical columns; the land-accounting nesting of TD/T 1029
    (:data:`zgc_space.schema.NESTING_RULES`, with ``site_area_m2`` taken from the geometry);
    a declared ``site_area_m2`` that differs from the geometry by more than ``area_tolerance``;
    unknown sub-park names and ``gfa_source`` values; land left unaccounted (A + B + C below
    the site area).

    Parameters
    ----------
    blocks
        Block table with a geometry column.
    overlap_tolerance_m2
        Intersections up to this area (m²) between two blocks are digitising noise, not overlaps.
    area_tolerance
        Relative tolerance for comparing areas (nesting sums, declared site area).
    source
        File the blocks came from, named in messages.

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> bad = gpd.GeoDataFrame(
    ...     {"block_id": ["B1", "B1"], "subpark": ["海淀园", "海淀园"]},
    ...     geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100)], crs=None)
    >>> [p.rule for p in find_problems(bad)]
    ['duplicate-id', 'crs-missing']
    """
    where = f" in {source}" if source else ""
    problems: list[Problem] = []
    ids = _block_ids(blocks)

    missing = [c for c in schema.REQUIRED_COLUMNS if c not in blocks.columns]
    if missing:
        problems.append(Problem(
            "error", "missing-column",
            f"`blocks`{where} lacks required column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, blocks.columns))})",
            "rename the columns (Chinese headers such as 地块编号 and 分园 are mapped on read) "
            "or add them",
        ))
    if not isinstance(blocks, gpd.GeoDataFrame) or blocks.geometry.name not in blocks.columns:
        problems.append(Problem(
            "error", "no-geometry", f"`blocks`{where} has no geometry column",
            "read the blocks with zgc_space.read_blocks() from a spatial file",
        ))
        return _sorted(problems)

    problems += check_ids(blocks, ids, where)
    metric, crs_problems = _metric_copy(blocks, where)
    problems += crs_problems
    geom_problems, ok = _check_geometries(blocks, ids, where)
    problems += geom_problems
    if blocks.crs is not None:
        problems += check_extent(blocks, ids, ok, where)
    if metric is not None:
        problems += _check_overlaps(metric.geometry, ids, ok, overlap_tolerance_m2, where)
    problems += _check_columns(blocks, ids, where)
    with np.errstate(invalid="ignore"):  # a NaN vertex gives a NaN area, reported above
        site_area = metric.geometry.area if metric is not None else None
    problems += _check_land(blocks, ids, site_area, area_tolerance, where)
    problems += check_labels(blocks, ids, where)
    problems += check_flags(blocks, ids, where)
    problems += check_text(blocks, ids, where)
    return _sorted(problems)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.severity != "error")


def _metric_copy(blocks: gpd.GeoDataFrame, where: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    if blocks.crs is None:
        return None, [Problem(
            "error", "crs-missing", f"`blocks`{where} has no CRS, so areas cannot be trusted",
            'set it, e.g. blocks.set_crs("EPSG:4548") for CGCS2000 3° GK CM117E metres, '
            'or blocks.set_crs("EPSG:4326") for longitude/latitude',
        )]
    problems = []
    if blocks.crs.is_geographic:
        problems.append(Problem(
            "warning", "crs-geographic",
            f"`blocks`{where} are in geographic {blocks.crs.to_string()}; "
            "areas are computed after reprojection to EPSG:4548",
            "reproject once with zgc_space.to_metric(blocks) to avoid repeating it",
        ))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            valid = blocks.geometry.notna() & ~blocks.geometry.is_empty
            metric = _crs.to_metric(blocks[valid.to_numpy()], allow_guess=False)
    except CRSError as exc:
        return None, [Problem("error", "crs-refused", str(exc), "reproject to EPSG:4548 first")]
    full = gpd.GeoSeries([None] * len(blocks), index=blocks.index, crs=metric.crs)
    full[valid.to_numpy()] = metric.geometry.to_numpy()
    return gpd.GeoDataFrame(geometry=full, crs=metric.crs), problems


def _check_geometries(
    blocks: gpd.GeoDataFrame, ids: pd.Series, where: str
) -> tuple[list[Problem], np.ndarray]:
    geoms = blocks.geometry.to_numpy()
    out, missing, candidates = check_shapes(geoms, ids, where)
    if missing.any():
        bad = list(ids[missing])
        out.insert(0, Problem(
            "error", "empty-geometry", f"{len(bad)} block(s){where} have an empty or missing geometry: "
            f"{_ids_text(bad)}", "redraw them or drop them (blocks[~blocks.is_empty])", tuple(bad),
        ))
    valid = np.zeros(len(geoms), dtype=bool)
    valid[candidates] = shapely.is_valid(geoms[candidates])
    invalid = candidates & ~valid
    if invalid.any():
        idx = np.flatnonzero(invalid)
        bad = list(ids.iloc[idx])
        reasons = [shapely.is_valid_reason(geoms[i]) for i in idx[:3]]
        out.append(Problem(
            "error", "invalid-geometry",
            f"`blocks`{where} has {len(bad)} invalid geometr{'y' if len(bad) == 1 else 'ies'} "
            f"(ids {_ids_text(bad)}; e.g. {'; '.join(reasons)})",
            "repair them with zgc_space.repair_geometries(blocks)", tuple(bad),
        ))
    return out, valid


def _check_overlaps(
    geoms: gpd.GeoSeries, ids: pd.Series, ok: np.ndarray, tolerance_m2: float, where: str
) -> list[Problem]:
    arr = geoms.to_numpy()
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return []
    tree = shapely.STRtree(arr[idx])
    left, right = tree.query(arr[idx], predicate="intersects")
    keep = left < right
    left, right = idx[left[keep]], idx[right[keep]]
    if not len(left):
        return []
    areas = shapely.area(shapely.intersection(arr[left], arr[right]))
    over = areas > tolerance_m2
    if not over.any():
        return []
    pairs = [
        f"{ids.iloc[a]}/{ids.iloc[b]} ({area:,.0f} m²)"
        for a, b, area in zip(left[over], right[over], areas[over], strict=True)
    ]
    involved = sorted(set(ids.iloc[left[over]]) | set(ids.iloc[right[over]]))
    return [Problem(
        "error", "overlap",
        f"{len(pairs)} pair(s) of blocks{where} overlap by more than {tolerance_m2:g} m²: {_ids_text(pairs)}",
        "remove the shared area from one block of each pair (areas would be counted twice)",
        tuple(involved),
    )]


def _check_columns(blocks: pd.DataFrame, ids: pd.Series, where: str) -> list[Problem]:
    out = []
    for name, col in schema.COLUMNS.items():
        if name not in blocks.columns or not col.numeric:
            continue
        values = blocks[name]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            as_num = pd.to_numeric(values, errors="coerce")
            bad = list(ids[as_num.isna() & values.notna()])
            if bad:
                out.append(Problem(
                    "error", "non-numeric", f"column {name}{where} holds non-numbers in blocks {_ids_text(bad)}",
                    f"store plain numbers in {name} ({col.unit or 'no unit'})", tuple(bad), name,
                ))
                continue
            values = as_num
        infinite = np.isinf(values.astype("float64"))
        if infinite.any():
            bad = list(ids[infinite])
            out.append(Problem(
                "error", "non-finite", f"column {name}{where} is infinite in blocks {_ids_text(bad)}",
                f"give a finite {name} ({col.unit or 'count'}), or leave it empty (NaN) where unknown",
                tuple(bad), name,
            ))
            values = values.where(~infinite)
        limit = PLAUSIBLE_MAX.get(col.unit, PLAUSIBLE_MAX[""]) if name != "far_cap" else PLAUSIBLE_FAR
        absurd = values > limit
        if absurd.any():
            bad = list(ids[absurd])
            out.append(Problem(
                "error", "implausible",
                f"column {name}{where} is above {limit:.0e} {col.unit} in blocks {_ids_text(bad)} "
                f"(e.g. {values[absurd].iloc[0]:.3g}), more than any block can hold",
                f"correct the source values of {name} (a unit slip? the header's unit is read as {col.unit or 'none'})",
                tuple(bad), name,
            ))
        negative = values < 0
        if negative.any():
            bad = list(ids[negative])
            out.append(Problem(
                "error", "negative", f"column {name}{where} is negative in blocks {_ids_text(bad)}",
                f"{name} ({col.unit or 'count'}) cannot be negative; correct the source values",
                tuple(bad), name,
            ))
        if name in schema.LAND_COLUMNS and values.isna().any():
            bad = list(ids[values.isna()])
            out.append(Problem(
                "warning", "missing-value", f"column {name}{where} is empty in blocks {_ids_text(bad)}",
                "fill it; indicators that need it leave these blocks out of their sums",
                tuple(bad), name,
            ))
    return out


def _numeric(blocks: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(blocks[name], errors="coerce").astype("float64")


def _check_land(
    blocks: pd.DataFrame, ids: pd.Series, site_area: pd.Series | None, rel_tol: float, where: str
) -> list[Problem]:
    out = []
    core = schema.LAND_COLUMNS[:5]
    present = [c for c in core if c in blocks.columns]
    if present and len(present) < len(core):
        lacking = [c for c in core if c not in blocks.columns]
        out.append(Problem(
            "error", "missing-column",
            f"land accounting{where} is incomplete: has {', '.join(present)} but lacks {', '.join(lacking)}",
            "provide all of built_m2 (A), ready_m2 (B21), unready_m2 (other B), "
            "nonconstruction_m2 (C) and supplied_m2 (D), or none of them",
        ))
    values = {c: _numeric(blocks, c) for c in schema.COLUMNS if c in blocks.columns and schema.COLUMNS[c].numeric}
    if site_area is not None:
        geom_area = pd.Series(site_area.to_numpy(), index=blocks.index)
        if "site_area_m2" in values:
            declared = values["site_area_m2"]
            off = (declared - geom_area).abs() > rel_tol * geom_area + 1.0
            if off.any():
                bad = list(ids[off])
                out.append(Problem(
                    "warning", "site-area-mismatch",
                    f"site_area_m2{where} differs from the geometry's area by more than {rel_tol:.1%} "
                    f"in blocks {_ids_text(bad)}",
                    "site_area_m2 is derived from the geometry in EPSG:4548; check the geometry or the "
                    "declared value (read_blocks keeps a differing one as site_area_declared_m2)",
                    tuple(bad), "site_area_m2",
                ))
        values["site_area_m2"] = geom_area
    for rule in schema.NESTING_RULES:
        if not all(c in values for c in rule.larger) or not any(c in values for c in rule.smaller):
            continue
        zero = pd.Series(0.0, index=blocks.index)
        small = sum((values[c].fillna(0) for c in rule.smaller if c in values), start=zero)
        large = sum((values[c].fillna(0) for c in rule.larger), start=zero)
        broken = small > large * (1 + rel_tol) + 1.0
        if broken.any():
            bad = list(ids[broken])
            first = broken.to_numpy().nonzero()[0][0]
            out.append(Problem(
                "error", "nesting",
                f"land-accounting nesting broken{where}: {rule.text} "
                f"({' + '.join(rule.smaller)} ≤ {' + '.join(rule.larger)}) fails in blocks {_ids_text(bad)} "
                f"(e.g. {ids.iloc[first]}: {small.iloc[first]:,.0f} > {large.iloc[first]:,.0f} m²)",
                "correct the land-accounting figures of these blocks (TD/T 1029 §3.1)",
                tuple(bad), rule.smaller[0],
            ))
    if site_area is not None and all(c in values for c in core[:4]):
        accounted = values["built_m2"] + values["ready_m2"] + values["unready_m2"] + values["nonconstruction_m2"]
        gap = values["site_area_m2"] - accounted
        short = gap > rel_tol * values["site_area_m2"] + 1.0
        if short.any():
            bad = list(ids[short])
            out.append(Problem(
                "warning", "unaccounted-land",
                f"A + B + C{where} is below the site area by more than {rel_tol:.1%} in blocks {_ids_text(bad)}",
                "assign the remaining land to a class (often C, non-constructible)", tuple(bad),
            ))
    return out


def geometry_problems(blocks: gpd.GeoDataFrame, *, source: str | None = None) -> list[Problem]:
    """Return the blocks that are not areas (points, lines) or have NaN / infinite vertices.

    The geometry checks of :func:`find_problems` that no computation can work around, for the
    callers (zonal statistics) that need nothing else checked. Empty geometries are not listed.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"]},
    ...     geometry=[box(0, 0, 10, 10), Point(5, 5)], crs="EPSG:4548")
    >>> [(p.rule, p.block_ids) for p in geometry_problems(blocks)]
    [('geometry-type', ('B2',))]
    """
    where = f" in {source}" if source else ""
    return check_shapes(blocks.geometry.to_numpy(), _block_ids(blocks), where)[0]


def validate_blocks(
    blocks: gpd.GeoDataFrame,
    *,
    strict: bool = False,
    overlap_tolerance_m2: float = 1.0,
    area_tolerance: float = 0.005,
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Check a block table and return it unchanged; raise once listing every problem.

    Parameters
    ----------
    blocks
        Block table (see :mod:`zgc_space.schema`).
    strict
        Treat warnings (geographic CRS, unknown sub-park names, empty values, ...) as errors.
    overlap_tolerance_m2, area_tolerance, source
        As in :func:`find_problems`.

    Returns
    -------
    GeoDataFrame
        ``blocks`` itself, so the call composes with ``.pipe(validate_blocks)``.

    Raises
    ------
    BlockValidationError
        With ``.problems`` holding every :class:`Problem`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> bad = gpd.GeoDataFrame({"block_id": ["B1"], "subpark": ["海淀园"], "gfa_m2": [-5.0]},
    ...                        geometry=[box(440_000, 4_430_000, 440_100, 4_430_100)], crs="EPSG:4548")
    >>> validate_blocks(bad)
    Traceback (most recent call last):
    ...
    zgc_space.errors.BlockValidationError: `blocks` has 1 problem(s):
      - [error] column gfa_m2 is negative in blocks B1; ...
    """
    problems = find_problems(
        blocks, overlap_tolerance_m2=overlap_tolerance_m2, area_tolerance=area_tolerance, source=source
    )
    fatal = [p for p in problems if p.severity == "error" or strict]
    if fatal:
        where = f" ({source})" if source else ""
        lines = "\n".join(f"  - {p}" for p in fatal)
        raise BlockValidationError(f"`blocks`{where} has {len(fatal)} problem(s):\n{lines}", fatal)
    for p in problems:
        warnings.warn(str(p), ValidationWarning, stacklevel=2)
    return blocks


def land_totals(blocks: gpd.GeoDataFrame, *, by: str | None = "subpark") -> pd.DataFrame:
    """Sum site area and land-accounting classes per group, in km², with a zone total row.

    Site area comes from the geometry in EPSG:4548 (never from a declared column). Blocks with
    no value in ``by`` form their own row ``"(no <by>)"``, so the rows always add up to the total.
    A column that is absent is left out; text that is not a number is an error.

    Examples
    --------
    >>> import zgc_space as zs
    >>> totals = land_totals(zs.datasets.load_blocks())
    >>> round(float(totals.loc["合计 total", "site_area_km2"]))
    488
    """
    if by is not None and by not in blocks.columns:
        raise ColumnError(
            f"cannot total by {by!r}: no such column (columns: {', '.join(map(str, blocks.columns))})"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)
        metric = _crs.to_metric(blocks, allow_guess=False)
    frame = pd.DataFrame({"site_area_km2": metric.geometry.area.to_numpy() / 1e6}, index=blocks.index)
    frame["blocks"] = 1
    present = [c for c in schema.LAND_COLUMNS + ("gfa_m2",) if c in blocks.columns]
    values = numeric_columns(blocks, present)  # text that is not a number is an error, not NaN
    for c in present:
        frame[c.removesuffix("_m2") + "_km2"] = values[c].to_numpy() / 1e6
    if "ready_km2" in frame and "unready_km2" in frame:
        frame["remaining_km2"] = frame["ready_km2"] + frame["unready_km2"]
    # blocks without a group value get their own row, so the groups add up to the total
    key = blocks[by].astype("string").fillna(f"(no {by})").to_numpy() if by else np.full(len(blocks), "ZGC")
    grouped = frame.groupby(key, sort=True).sum(min_count=1)
    grouped.index.name = by or "zone"
    grouped.loc["合计 total"] = frame.sum(min_count=1)
    grouped["blocks"] = grouped["blocks"].astype("int64")
    return grouped
