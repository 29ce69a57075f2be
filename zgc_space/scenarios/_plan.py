"""The plan of one proposal (private plumbing of :mod:`zgc_space.scenarios`).

A :class:`Plan` describes a proposal's effect as a patch of the baseline: blocks removed, blocks
replaced by new values (and maybe a new geometry) and blocks added. :func:`materialise` turns it
into a block table; the vectorised path (:mod:`zgc_space._scenario_fast`) only sums its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from zgc_space import schema
from zgc_space.capacity import MERGED_OVER_CAP
from zgc_space.errors import ProposalError
from zgc_space.io import format_path
from zgc_space.scenarios._rows import (
    AREA_TOL_M2,
    LAND4,
    Base,
    Violation,
    area_violations,
    check_ids,
    empty_zone_error,
    far_cap_excess,
    far_cap_violation,
    merge_row,
    merge_text,
    metric,
    must_keep_violations,
    negative,
    nesting_broken,
    renew_rows,
    rezone_error,
    rezone_problem,
    rezone_rows,
    scale_rows,
)
from zgc_space.scenarios.proposal import LAND_CLASSES, Admit, Proposal, suggest_ids


@dataclass
class Added:
    """A new block: admitted land or the result of a merge."""

    block_id: str
    values: np.ndarray
    geometry: Any
    text: dict[str, Any]
    replaces: tuple[int, ...] = ()


@dataclass
class Plan:
    """A proposal's effect on the baseline, as a patch."""

    removed: list[int] = field(default_factory=list)
    replaced: dict[int, tuple[np.ndarray, Any]] = field(default_factory=dict)
    added: list[Added] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def _values(base: Base, i: int, plan: Plan) -> tuple[np.ndarray, Any]:
    return plan.replaced.get(i, (base.X[i], base.geoms[i]))


def _log(plan: Plan, p: Proposal, block: str, change: str, path: tuple[str | int, ...],
         before: np.ndarray | None, after: np.ndarray | None, base: Base, detail: str = "") -> None:
    def get(row: np.ndarray | None, c: str) -> float:
        return float(row[base.col[c]]) if row is not None and c in base.col else float("nan")

    plan.changes.append({
        "block_id": block, "change": change, "operation": format_path(path), "line": p.line_of(path),
        "site_area_m2_before": get(before, "site_area_m2"), "site_area_m2_after": get(after, "site_area_m2"),
        "gfa_m2_before": get(before, "gfa_m2"), "gfa_m2_after": get(after, "gfa_m2"), "detail": detail,
    })


def make_plan(
    base: Base,
    p: Proposal,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    protected: gpd.GeoDataFrame | None = None,
) -> Plan:
    """Work out the patch a proposal makes to the baseline (raises ProposalError if malformed)."""
    check_ids(base, p)
    plan = Plan()
    col, cols = base.col, base.cols
    released: set[int] = set()
    for i, r in enumerate(p.release):
        b = base.pos[r.block]
        path = ("release", i)
        if r.part is None:
            released.add(b)
            plan.removed.append(b)
            _log(plan, p, r.block, "released", path, base.X[b], None, base, r.reason)
            continue
        cut = _geometry(r.part, "EPSG:4548", p, path + ("part",))
        rest = shapely.difference(base.geoms[b], cut)
        area = float(shapely.area(rest))
        before = base.X[b]
        removed_m2 = before[col["site_area_m2"]] - area
        if removed_m2 <= AREA_TOL_M2:
            raise ProposalError(
                f"the part to release at {p.where(path + ('part',))} does not overlap block {r.block}; "
                "check its coordinates (EPSG:4548 metres)"
            )
        if area <= AREA_TOL_M2:
            released.add(b)
            plan.removed.append(b)
            _log(plan, p, r.block, "released", path, before, None, base, r.reason)
            continue
        kept = np.array([area / before[col["site_area_m2"]]])
        new = scale_rows(before[None, :], cols, kept)[0]
        new[col["site_area_m2"]] = area
        plan.replaced[b] = (new, shapely.normalize(rest))
        _log(plan, p, r.block, "part-released", path, before, new, base, r.reason)
    _must_keep(base, p, plan, released)
    for i, a in enumerate(p.admit):
        plan.added.append(_admit(base, p, a, ("admit", i), candidates, released, plan))
    _check_admitted(base, p, plan, released, protected)
    _rezone(base, p, plan)
    _renew(base, p, plan)
    for i, m in enumerate(p.merge):
        _merge(base, p, m, ("merge", i), plan)
    if len(base.ids) - len(set(plan.removed)) + len(plan.added) <= 0:
        raise empty_zone_error(p, len(base.ids))
    plan.violations += area_violations(base, p, zone_area(base, plan))
    return plan


def _must_keep(base: Base, p: Proposal, plan: Plan, released: set[int]) -> None:
    touched = {base.ids[b] for b in released | set(plan.replaced)}
    plan.violations += must_keep_violations(p, touched)


def _geometry(geom: Any, crs: str, p: Proposal, path: tuple[str | int, ...]) -> Any:
    try:
        shape = geom.to_shapely()
        coords = shapely.get_coordinates(shape)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise ProposalError(f"malformed GeoJSON at {p.where(path)}: {exc}") from None
    if not np.isfinite(coords).all():
        raise ProposalError(
            f"the polygon at {p.where(path)} has NaN or infinite coordinates; give finite numbers for every vertex"
        )
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        raise ProposalError(
            f"the polygon at {p.where(path)} is not a valid area ({reason}): a ring crosses itself (a bow-tie), "
            "a hole lies outside its shell, or parts overlap; redraw it (shapely.make_valid shows one repair) "
            "so that its area is what you mean"
        )
    if crs.upper() != schema.METRIC_CRS:
        try:
            series = gpd.GeoSeries([shape], crs=crs)
        except (pyproj.exceptions.CRSError, ValueError, TypeError) as exc:
            raise ProposalError(
                f"unknown CRS {crs!r} at {p.where(path[:-1] + ('crs',))} ({exc}); give an EPSG code such as "
                "EPSG:4548 (CGCS2000 3° GK CM117E) or EPSG:4326 (longitude/latitude)"
            ) from exc
        shape = metric(gpd.GeoDataFrame(geometry=series), f"{p.where(path)}").geometry.iloc[0]
    if not shape.area > 0:
        raise ProposalError(f"the polygon at {p.where(path)} has no area; give at least three distinct vertices")
    return shape


def _admit(base: Base, p: Proposal, a: Admit, path: tuple[str | int, ...], candidates: gpd.GeoDataFrame | None,
           released: set[int], plan: Plan) -> Added:
    text: dict[str, Any] = {}
    values = np.zeros(len(base.cols))
    if "far_cap" in base.col:
        values[base.col["far_cap"]] = np.nan
    if "year" in base.col:
        values[base.col["year"]] = np.nanmax(base.X[:, base.col["year"]])
    given: set[str] = set()
    if a.candidate is not None:
        if candidates is None:
            raise ProposalError(
                f"{p.where(path + ('candidate',))} admits candidate {a.candidate!r} but no candidate file was "
                "given; pass candidates= (e.g. sample_data/candidates.gpkg)"
            )
        ids = candidates["candidate_id"].astype(str).tolist()
        if a.candidate not in ids:
            close = suggest_ids(a.candidate, ids)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ProposalError(
                f"candidate {a.candidate!r} at {p.where(path + ('candidate',))} is not in the candidate file{hint}"
            )
        row = candidates.iloc[ids.index(a.candidate)]
        geom = row.geometry
        for c in candidates.columns:
            if c in base.col and c != "site_area_m2" and pd.notna(row[c]):
                values[base.col[c]] = float(row[c])
                given.add(c)
            elif c in schema.COLUMNS and not schema.COLUMNS[c].numeric and c != "block_id":
                text[c] = row[c]
    else:
        geom = _geometry(a.geometry, a.crs, p, path + ("geometry",))
    for key, value in a.attributes.items():
        where = p.where(path + ("attributes", key))
        if key not in schema.COLUMNS or key in ("block_id", "site_area_m2"):
            close = suggest_ids(key, [c for c in schema.COLUMNS if c not in ("block_id", "site_area_m2")])
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ProposalError(f"unknown or derived attribute {key!r} at {where}{hint}")
        if schema.COLUMNS[key].numeric:
            if key not in base.col:
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ProposalError(f"attribute {key!r} at {where} must be a number, got {value!r}")
            values[base.col[key]] = float(value)
            given.add(key)
        else:
            text[key] = value
    area = float(shapely.area(geom))
    if area <= AREA_TOL_M2:
        raise ProposalError(f"admitted land at {p.where(path)} has no area; check the geometry")
    values[base.col["site_area_m2"]] = area
    if not given & set(LAND4) and "unready_m2" in base.col:
        values[base.col["unready_m2"]] = area  # new land: constructible, not yet ready
    broken = nesting_broken(values[None, :], base.col)[0]
    if broken.any() or negative(values[None, :])[0]:
        rules = [rule.text for rule, bad in zip(schema.NESTING_RULES, broken, strict=True) if bad]
        raise ProposalError(
            f"admitted land {a.new_id} at {p.where(path)} has inconsistent land accounting: "
            f"{'; '.join(rules) or 'a negative value'} (site area {area:,.0f} m²); fix its attributes"
        )
    if "subpark" not in text or not isinstance(text.get("subpark"), str):
        text["subpark"] = _nearest_text(base, geom, released, "subpark")
    if a.new_id in base.pos and base.pos[a.new_id] not in released:
        raise ProposalError(
            f"admitted land at {p.where(path)} takes block_id {a.new_id!r}, which a kept block already has; "
            "give it a new block_id"
        )
    _log(plan, p, a.new_id, "admitted", path, None, values, base, a.reason)
    return Added(a.new_id, values, geom, text)


def _nearest_text(base: Base, geom: Any, released: set[int], column: str) -> Any:
    if column not in base.frame.columns:
        return None
    dist = shapely.distance(geom, base.geoms)
    dist[list(released)] = np.inf
    return base.frame[column].iloc[int(np.argmin(dist))]


def _kept_geoms(base: Base, plan: Plan, released: set[int], near: Any) -> tuple[list[int], np.ndarray]:
    hits = [int(i) for i in base.tree.query(near) if int(i) not in released]
    return hits, np.array([_values(base, i, plan)[1] for i in hits], dtype=object)


def _check_admitted(base: Base, p: Proposal, plan: Plan, released: set[int],
                    protected: gpd.GeoDataFrame | None) -> None:
    limit = p.constraints.max_distance_m
    for k, added in enumerate(plan.added):
        path = ("admit", k)
        hits, geoms = _kept_geoms(base, plan, released, added.geometry)
        if hits:
            overlap = shapely.area(shapely.intersection(added.geometry, geoms))
            bad = overlap > AREA_TOL_M2
            if bad.any():
                names = [f"{base.ids[h]} ({o:,.0f} m²)" for h, o, x in zip(hits, overlap, bad, strict=True) if x]
                raise ProposalError(
                    f"admitted land {added.block_id} at {p.where(path)} overlaps kept block(s) {', '.join(names)}; "
                    "cut the overlap from the admitted area, or release those blocks"
                )
        for other in plan.added[:k]:
            shared = float(shapely.area(shapely.intersection(added.geometry, other.geometry)))
            if shared > AREA_TOL_M2:
                raise ProposalError(
                    f"admitted land {added.block_id} at {p.where(path)} overlaps admitted land {other.block_id} "
                    f"({shared:,.0f} m²); admit each piece of land once"
                )
        if limit is not None:
            kept = [i for i in range(len(base.ids)) if i not in released]
            geoms = np.array([_values(base, i, plan)[1] for i in kept], dtype=object)
            dist = float(shapely.distance(added.geometry, geoms).min()) if kept else np.inf
            if dist > limit:
                plan.violations.append(Violation(
                    "max-distance", f"admitted land {added.block_id} ({p.where(path)}) lies {dist:,.0f} m from the "
                    f"nearest kept block, more than max_distance_m {limit:,.0f}", (added.block_id,), p.line_of(path),
                ))
        if protected is not None and len(protected):
            shared = float(shapely.area(shapely.intersection(added.geometry, protected.geometry.to_numpy())).sum())
            if shared > AREA_TOL_M2:
                plan.violations.append(Violation(
                    "protected", f"admitted land {added.block_id} ({p.where(path)}) overlaps the protected layer "
                    f"by {shared:,.0f} m²", (added.block_id,), p.line_of(path),
                ))


def _rezone(base: Base, p: Proposal, plan: Plan) -> None:
    col = base.col
    for i, z in enumerate(p.rezone):
        path = ("rezone", i)
        b = base.pos[z.block]
        src, dst = LAND_CLASSES[z.from_], LAND_CLASSES[z.to]
        if src not in col or dst not in col:
            raise ProposalError(f"{p.where(path)}: the baseline has no {src} / {dst} column to rezone")
        before, geom = _values(base, b, plan)
        amount = float(base.X[b, col[src]]) if z.area_m2 is None else z.area_m2
        new = rezone_rows(before[None, :], col, src, dst, np.array([amount]))[0]
        problem = rezone_problem(before, new, col)
        if problem:
            raise rezone_error(p, i, amount, problem)
        plan.replaced[b] = (new, geom)
        _log(plan, p, z.block, "rezoned", path, before, new, base,
             f"{amount:,.0f} m² {z.from_} → {z.to}" + (f"; {z.reason}" if z.reason else ""))


def _renew(base: Base, p: Proposal, plan: Plan) -> None:
    col = base.col
    for i, r in enumerate(p.renew):
        e = np.array([[r.elasticity.revenue, r.elasticity.tax, r.elasticity.employees]])
        target = np.array([np.nan if r.far_target is None else r.far_target])
        step = np.array([np.nan if r.far_step is None else r.far_step])
        for j, block in enumerate(r.blocks):
            b = base.pos[block]
            before, geom = _values(base, b, plan)
            new = renew_rows(before[None, :], col, target, step, e)[0]
            plan.replaced[b] = (new, geom)
            path = ("renew", i, "blocks", j)
            rule = f"FAR → {r.far_target}" if r.far_target is not None else f"FAR + {r.far_step}"
            _log(plan, p, block, "renewed", path, before, new, base, rule + (f"; {r.reason}" if r.reason else ""))
            over = far_cap_excess(before[None, :], new[None, :], col)[0]
            if over > AREA_TOL_M2:
                plan.violations.append(far_cap_violation(p, i, j, over))


def _merge(base: Base, p: Proposal, m: Any, path: tuple[str | int, ...], plan: Plan) -> None:
    idx = [base.pos[b] for b in m.blocks]
    if m.into in base.pos and m.into not in m.blocks and base.pos[m.into] not in plan.removed:
        raise ProposalError(
            f"merge at {p.where(path + ('into',))} names the combined block {m.into!r}, which a kept block "
            "already has; use a new id or one of the merged blocks' ids"
        )
    gaps = base.gaps(idx)
    linked = gaps <= m.max_gap_m + 1e-6
    reach = {0}
    frontier = [0]
    while frontier:
        k = frontier.pop()
        for j in np.flatnonzero(linked[k]):
            if int(j) not in reach:
                reach.add(int(j))
                frontier.append(int(j))
    apart = [m.blocks[k] for k in range(len(idx)) if k not in reach]
    if apart:
        raise ProposalError(
            f"merge at {p.where(path)}: block(s) {', '.join(apart)} do not neighbour {m.blocks[0]} "
            f"(within max_gap_m {m.max_gap_m:g} m); merge only neighbouring blocks or raise max_gap_m"
        )
    rows = np.array([_values(base, i, plan)[0] for i in idx])
    geoms = [_values(base, i, plan)[1] for i in idx]
    area = rows[:, base.col["site_area_m2"]]
    text = merge_text(base.frame.iloc[idx], m.blocks, area, name=m.name, allow_mixed=m.allow_mixed,
                      where=p.where(path))
    values = merge_row(rows, base.cols)
    geom = shapely.normalize(shapely.union_all(geoms))
    values[base.col["site_area_m2"]] = area.sum()
    for i, b in zip(idx, m.blocks, strict=True):
        plan.removed.append(i)
        plan.replaced.pop(i, None)
        _log(plan, p, b, "merged", path, base.X[i], None, base, f"into {m.into}")
    plan.added.append(Added(m.into, values, geom, text, replaces=tuple(idx)))
    _log(plan, p, m.into, "merged-into", path, None, values, base, m.reason)


def zone_area(base: Base, plan: Plan) -> float:
    """Total site area after the plan."""
    j = base.col["site_area_m2"]
    total = base.total_area_m2 - sum(base.X[i, j] for i in plan.removed if not _merged(plan, i))
    total += sum(v[0][j] - base.X[i, j] for i, v in plan.replaced.items())
    total += sum(a.values[j] for a in plan.added if not a.replaces)
    return float(total)


def _merged(plan: Plan, i: int) -> bool:
    return any(i in a.replaces for a in plan.added)


def materialise(base: Base, plan: Plan) -> gpd.GeoDataFrame:
    """Build the adjusted block table: kept blocks in baseline order, then the new ones."""
    frame = base.frame
    gone = set(plan.removed)
    keep = [i for i in range(len(frame)) if i not in gone]
    out = frame.iloc[keep].copy()
    row_of = {i: r for r, i in enumerate(keep)}
    present = [c for c in base.cols if c in frame.columns]
    for i, (values, geom) in plan.replaced.items():
        if i in gone:
            continue
        for c in present:
            out.iloc[row_of[i], out.columns.get_loc(c)] = _cast(frame[c], values[base.col[c]])
        if geom is not base.geoms[i]:
            out.iloc[row_of[i], out.columns.get_loc(out.geometry.name)] = geom
    if plan.added:
        rows = []
        for a in plan.added:
            row: dict[str, Any] = {c: a.text.get(c) for c in frame.columns if c in a.text}
            row["block_id"] = a.block_id
            row.update({c: _cast(frame[c], a.values[base.col[c]]) for c in present})
            row[frame.geometry.name] = a.geometry
            rows.append(row)
        new = gpd.GeoDataFrame(rows, geometry=frame.geometry.name, crs=frame.crs)
        if pd.api.types.is_integer_dtype(frame.index.dtype):
            start = int(frame.index.max()) + 1 if len(frame) else 0
            new.index = pd.RangeIndex(start, start + len(new))
        else:
            new.index = pd.Index([a.block_id for a in plan.added], name=frame.index.name)
        columns = list(frame.columns)
        carried = base.col.get(MERGED_OVER_CAP)
        if MERGED_OVER_CAP not in present and carried is not None and any(a.values[carried] > 0 for a in plan.added):
            # a merge carried over-cap floor area: the column keeps its parts' capacities in the table
            new[MERGED_OVER_CAP] = [float(a.values[carried]) for a in plan.added]
            out[MERGED_OVER_CAP] = 0.0
            columns.append(MERGED_OVER_CAP)
        out = pd.concat([out, new.reindex(columns=columns)])
        for c in frame.columns:
            if c == frame.geometry.name or out[c].dtype == frame[c].dtype:
                continue
            if pd.api.types.is_bool_dtype(frame[c].dtype):
                out[c] = out[c].fillna(False).astype(bool)
            elif not pd.api.types.is_integer_dtype(frame[c].dtype) or out[c].notna().all():
                out[c] = out[c].astype(frame[c].dtype)
    return out


def _cast(series: pd.Series, value: float) -> Any:
    if pd.api.types.is_integer_dtype(series.dtype) and np.isfinite(value):
        return round(value)
    return value
