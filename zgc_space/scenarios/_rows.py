"""Plumbing of :mod:`zgc_space.scenarios` (private): prepared baseline, row transforms, messages.

The row transforms work on many rows at once and are shared by the single-proposal path
(:mod:`zgc_space._scenario_plan`) and the vectorised batch path (:mod:`zgc_space._scenario_fast`),
so both give the same numbers; so are the violation and error messages.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import crs as _crs
from zgc_space import schema
from zgc_space.capacity import LAND_BASE, MERGED_OVER_CAP, gfa_capacity_m2
from zgc_space.errors import ColumnError, ProposalError, ReprojectionWarning
from zgc_space.scenarios.proposal import Proposal, suggest_ids

#: Areas below this (m²) are digitising noise: overlaps, cap excess, nesting slack.
AREA_TOL_M2 = 1.0
#: Relative tolerance of the nesting checks (as zgc_space.blocks).
NEST_TOL = 0.005
#: The four land classes A, B21, other B and C.
LAND4 = ("built_m2", "ready_m2", "unready_m2", "nonconstruction_m2")

_COUNTS = ("owner_count", "enterprises", "hightech_enterprises")
_INTENSIVE = ("far_cap", "year")
#: The columns a renewal scales by ``elasticity × growth`` (revenue, tax, employees).
ECON = {
    "revenue": ("revenue_10k_cny", "industrial_revenue_10k_cny"),
    "tax": ("tax_10k_cny", "industrial_tax_10k_cny"),
    "employees": ("employees",),
}


@dataclass(frozen=True)
class Violation:
    """A constraint the adjusted zone breaks (reported, never raised)."""

    rule: str
    message: str
    block_ids: tuple[str, ...] = ()
    line: int | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict with stable keys."""
        return {"rule": self.rule, "message": self.message, "block_ids": list(self.block_ids), "line": self.line}

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass
class Base:
    """A baseline prepared once: metric geometry, numeric matrix, id lookup, spatial index."""

    frame: gpd.GeoDataFrame
    ids: list[str]
    pos: dict[str, int]
    cols: list[str]
    col: dict[str, int]
    X: np.ndarray
    geoms: np.ndarray
    tree: shapely.STRtree
    total_area_m2: float
    _gaps: np.ndarray | None = None
    _capacity_m2: float | None = None  # the baseline's floor-area capacity, set by _fast.base_capacity

    def gaps(self, idx: Sequence[int] | None = None) -> np.ndarray:
        """Pairwise distances between baseline blocks (m): all (computed once), or among ``idx`` only.

        A merge needs the distances among its few blocks; the full matrix of a large baseline
        is not worth computing for one proposal (the map editor evaluates one per click).
        """
        if idx is None:
            if self._gaps is None:
                self._gaps = shapely.distance(self.geoms[:, None], self.geoms[None, :])
            return self._gaps
        if self._gaps is not None:
            return self._gaps[np.ix_(idx, idx)]
        g = self.geoms[np.asarray(idx, dtype=np.intp)]
        return np.asarray(shapely.distance(g[:, None], g[None, :]), dtype=float)


def metric(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4548 (reprojection is logged by the caller's warnings filter)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ColumnError(f"`{what}` must be a GeoDataFrame with a geometry column, got {type(frame).__name__}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReprojectionWarning)
        return _crs.to_metric(frame, source=what, allow_guess=False)


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Canonical numeric columns of ``frame`` (plus ``site_area_m2``), in schema order."""
    cols = [c for c, spec in schema.COLUMNS.items() if spec.numeric and c in frame.columns]
    return cols if "site_area_m2" in cols else ["site_area_m2", *cols]


def prepare(baseline: gpd.GeoDataFrame) -> Base:
    """Prepare a baseline block table for applying proposals."""
    frame = metric(baseline, "baseline")
    if "block_id" not in frame.columns:
        raise ColumnError("`baseline` has no block_id column; proposals name blocks by block_id")
    ids = [str(i) for i in frame["block_id"].tolist()]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ColumnError(f"`baseline` has duplicate block_id(s) {dup[:10]}; make them unique first")
    # the excess a merged block's parts carried always travels with the rows (0 for other blocks),
    # so that a merge keeps the sum of its parts' capacities (capacity.MERGED_OVER_CAP)
    cols = [*numeric_columns(frame), MERGED_OVER_CAP]
    geoms = frame.geometry.to_numpy()
    X = np.empty((len(frame), len(cols)))
    for j, c in enumerate(cols):
        if c == "site_area_m2":
            X[:, j] = shapely.area(geoms)
        elif c == MERGED_OVER_CAP:
            X[:, j] = (pd.to_numeric(frame[c], errors="coerce").fillna(0.0).to_numpy(float)
                       if c in frame.columns else 0.0)
        else:
            X[:, j] = pd.to_numeric(frame[c]).to_numpy(float)
    return Base(
        frame=frame, ids=ids, pos={b: i for i, b in enumerate(ids)}, cols=cols,
        col={c: j for j, c in enumerate(cols)}, X=X, geoms=geoms, tree=shapely.STRtree(geoms),
        total_area_m2=float(X[:, cols.index("site_area_m2")].sum()),
    )


def check_ids(base: Base, p: Proposal) -> None:
    """Raise one ProposalError naming every unknown block id with its line and suggestions."""
    pos = base.pos
    if all(b in pos for b in p.block_ids()) and all(b in pos for b in p.constraints.must_keep):
        return
    proposal = p
    unknown = []
    for path, block in _id_paths(proposal):
        if block not in base.pos:
            close = suggest_ids(block, base.ids)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            unknown.append(f"{block!r} at {proposal.where(path)}{hint}")
    if unknown:
        raise ProposalError(
            f"proposal {proposal.id} names {len(unknown)} block id(s) not in the baseline: "
            + "; ".join(unknown) + ". Fix the ids (block_id column of the baseline)"
        )


def _id_paths(p: Proposal) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = [(("release", i, "block"), r.block) for i, r in enumerate(p.release)]
    out += [(("renew", i, "blocks", j), b) for i, r in enumerate(p.renew) for j, b in enumerate(r.blocks)]
    out += [(("rezone", i, "block"), z.block) for i, z in enumerate(p.rezone)]
    out += [(("merge", i, "blocks", j), b) for i, m in enumerate(p.merge) for j, b in enumerate(m.blocks)]
    out += [(("constraints", "must_keep", j), b) for j, b in enumerate(p.constraints.must_keep)]
    return out


def renew_rows(
    rows: np.ndarray, col: dict[str, int], target: np.ndarray, step: np.ndarray, elasticity: np.ndarray
) -> np.ndarray:
    """Raise FAR on ``rows`` (k × C): to ``target`` (never lowering) or by ``step`` (NaN = unused).

    ``elasticity`` is (k × 3): revenue, tax, employees. Economic columns change by
    ``e × (gfa_new / gfa − 1)`` relative; industrial floor area grows with the total.
    """
    out = rows.copy()
    if "gfa_m2" not in col or "built_m2" not in col:
        return out
    gfa, built = rows[:, col["gfa_m2"]], rows[:, col["built_m2"]]
    new = np.where(np.isnan(target), gfa + np.nan_to_num(step) * built, np.maximum(gfa, target * built))
    out[:, col["gfa_m2"]] = new
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(gfa > 0, new / gfa - 1.0, 0.0)
    if "industrial_gfa_m2" in col:
        out[:, col["industrial_gfa_m2"]] = rows[:, col["industrial_gfa_m2"]] * (1.0 + growth)
    for k, key in enumerate(("revenue", "tax", "employees")):
        for c in ECON[key]:
            if c in col:
                out[:, col[c]] = rows[:, col[c]] * (1.0 + elasticity[:, k] * growth)
    return out


def scale_rows(rows: np.ndarray, cols: Sequence[str], kept: np.ndarray) -> np.ndarray:
    """Keep the share ``kept`` of every extensive column (partial release, uniform density)."""
    out = rows.copy()
    for j, c in enumerate(cols):
        if c not in _COUNTS and c not in _INTENSIVE:
            out[:, j] = rows[:, j] * kept
    return out


def nesting_broken(rows: np.ndarray, col: dict[str, int]) -> np.ndarray:
    """Boolean (k × rules): which land-accounting nesting rules each row breaks."""
    out = np.zeros((len(rows), len(schema.NESTING_RULES)), dtype=bool)
    for r, rule in enumerate(schema.NESTING_RULES):
        if not all(c in col for c in rule.smaller + rule.larger):
            continue
        small = rows[:, [col[c] for c in rule.smaller]].sum(axis=1)
        large = rows[:, [col[c] for c in rule.larger]].sum(axis=1)
        with np.errstate(invalid="ignore"):
            out[:, r] = small > large * (1 + NEST_TOL) + AREA_TOL_M2
    return out


def negative(rows: np.ndarray) -> np.ndarray:
    """Rows with a value below zero (beyond the area tolerance)."""
    with np.errstate(invalid="ignore"):
        return np.asarray((rows < -AREA_TOL_M2).any(axis=1))


def merge_row(rows: np.ndarray, cols: Sequence[str]) -> np.ndarray:
    """One row for blocks combined: sums, with ``far_cap`` weighted by constructible land.

    The merged ``far_cap`` is the implied (land-weighted) value, reported but not a new cap: the
    parts' over-cap floor area is carried in :data:`~zgc_space.capacity.MERGED_OVER_CAP`, so the
    merged block's capacity is the sum of its parts' capacities.
    """
    out = rows.sum(axis=0)
    for j, c in enumerate(cols):
        if c == MERGED_OVER_CAP and all(x in cols for x in (*LAND_BASE, "gfa_m2", "far_cap")):
            land = rows[:, [cols.index(x) for x in LAND_BASE]].sum(axis=1)
            far_cap, gfa = rows[:, cols.index("far_cap")], rows[:, cols.index("gfa_m2")]
            part = gfa_capacity_m2(far_cap, land, gfa, rows[:, j])
            with np.errstate(invalid="ignore"):
                over = part - (far_cap * land - gfa)  # each part's excess (its own carried one included)
            out[j] = float(np.nansum(over))
        elif c == "year":
            out[j] = np.nanmax(rows[:, j]) if np.isfinite(rows[:, j]).any() else np.nan
        elif c == "far_cap":
            land_cols = [cols.index(x) for x in ("built_m2", "ready_m2", "unready_m2") if x in cols]
            weight = rows[:, land_cols].sum(axis=1) if land_cols else rows[:, cols.index("site_area_m2")]
            total = weight.sum()
            out[j] = float((rows[:, j] * weight).sum() / total) if total > 0 else np.nanmax(rows[:, j])
    return cast("np.ndarray", out)


#: Identity columns merged blocks must share (a management unit lies in one sub-park and is
#: either inside or outside the policy zones as a whole).
MERGE_SAME = ("subpark", "policy_zone")
#: Identity columns merged blocks share unless the merge lists them in ``allow_mixed``.
MERGE_ALLOWABLE = ("cluster", "district")


def merge_text(frame: pd.DataFrame, blocks: Sequence[str], area_m2: np.ndarray, *, name: str | None,
               allow_mixed: Sequence[str], where: str) -> dict[str, object]:
    """Identity columns of merged blocks (``frame``: their rows), or a ProposalError naming every conflict.

    ``subpark`` and ``policy_zone`` must agree; so must ``cluster`` and ``district`` unless in
    ``allow_mixed`` (then the largest block's value). ``owner_type``: the largest block's;
    ``gfa_source``: the least reliable (unknown if any is unknown); ``name``: ``name`` or the
    blocks' names joined with " + ".
    """
    text = [c for c in frame.columns if c in schema.COLUMNS and not schema.COLUMNS[c].numeric and c != "block_id"]
    largest = int(np.argmax(area_m2))
    out: dict[str, object] = {}
    conflicts: list[str] = []
    fixes: list[str] = []
    for c in text:
        values = frame[c].tolist()
        keys = ["<missing>" if _missing(v) else str(v) for v in values]
        if c in MERGE_SAME or (c in MERGE_ALLOWABLE and c not in allow_mixed):
            if len(set(keys)) > 1:
                groups = [f"{k}: " + ", ".join(b for b, x in zip(blocks, keys, strict=True) if x == k)
                          for k in dict.fromkeys(keys)]
                conflicts.append(f"{c} differs ({'; '.join(groups)})")
                fixes.append(_MERGE_FIX.get(c, f"add {c} to the merge's allow_mixed (the unit takes its largest "
                                               f"block's {c})"))
            out[c] = values[0]
        elif c == "gfa_source":
            rank = [GFA_RELIABILITY.get(k, len(GFA_RELIABILITY)) for k in keys]
            worst = int(np.argmax(rank))
            out[c] = values[worst] if rank[worst] < len(GFA_RELIABILITY) else None
        elif c == "name":
            out[c] = " + ".join(str(v) for v in values if not _missing(v)) or None
        else:  # owner_type (the main owner type), and cluster/district when allowed to differ
            out[c] = values[largest]
    if conflicts:
        raise ProposalError(
            f"merge at {where} combines blocks whose {' and '.join(conflicts)}; merge each group separately, "
            f"or: {'; '.join(fixes)}"
        )
    if name is not None:
        out["name"] = name
    return out


_MERGE_FIX = {
    "subpark": "a management unit belongs to one sub-park, so it cannot span them",
    "policy_zone": "a management unit lies wholly inside or wholly outside the policy zones; set the blocks' "
                   "policy_zone alike first if that is the decision",
}


#: gfa_source values from the most to the least reliable.
GFA_RELIABILITY = {s: k for k, s in enumerate(schema.GFA_SOURCES)}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT


def must_keep_violation(p: Proposal, j: int, block: str) -> Violation:
    """Report that the must-keep block ``block`` (constraints.must_keep[j]) is released."""
    path = ("constraints", "must_keep", j)
    return Violation("must-keep", f"block {block} must be kept ({p.where(path)}) but the proposal releases it "
                     "or part of it", (block,), p.line_of(path))


def must_keep_violations(p: Proposal, touched: set[str]) -> list[Violation]:
    """Report every must-keep block in ``touched`` (released or cut) once, at its first listing."""
    out: list[Violation] = []
    seen: set[str] = set()
    for j, block in enumerate(p.constraints.must_keep):
        if block in touched and block not in seen:
            out.append(must_keep_violation(p, j, block))
        seen.add(block)
    return out


def empty_zone_error(p: Proposal, n_blocks: int) -> ProposalError:
    """Return the error for a proposal that leaves the zone with no block at all."""
    return ProposalError(
        f"proposal {p.id} releases every block of the baseline ({n_blocks} of {n_blocks}) and admits none: an "
        "adjusted zone needs at least one block (its indicators would be 0/0); keep at least one block"
    )


def rezone_error(p: Proposal, i: int, amount: float, problem: str) -> ProposalError:
    """Return the error for rezone[i] moving ``amount`` m² and causing ``problem``."""
    z = p.rezone[i]
    return ProposalError(
        f"rezoning {amount:,.0f} m² of block {z.block} from {z.from_} to {z.to} at {p.where(('rezone', i))} "
        f"{problem}; move less land"
    )


def rezone_rows(rows: np.ndarray, col: dict[str, int], src: str, dst: str, amount: np.ndarray) -> np.ndarray:
    """Move ``amount`` m² from column ``src`` to ``dst`` on each row."""
    out = rows.copy()
    out[:, col[src]] -= amount
    out[:, col[dst]] += amount
    return out


def rezone_problem(before: np.ndarray, after: np.ndarray, col: dict[str, int]) -> str | None:
    """Why a rezoned row is invalid (negative land, or a nesting rule newly broken), or None."""
    if negative(after[None, :])[0]:
        return "leaves a negative area"
    newly = nesting_broken(after[None, :], col)[0] & ~nesting_broken(before[None, :], col)[0]
    if newly.any():
        return "breaks the land accounting: " + "; ".join(
            r.text for r, bad in zip(schema.NESTING_RULES, newly, strict=True) if bad
        )
    return None


def far_cap_violation(p: Proposal, i: int, j: int, over: float) -> Violation:
    """renew[i].blocks[j] puts ``over`` m² of floor area above the block's cap."""
    path = ("renew", i, "blocks", j)
    block = p.renew[i].blocks[j]
    return Violation("far-cap", f"renewing block {block} ({p.where(path)}) puts {over:,.0f} m² of floor area "
                     "above its planned maximum FAR (far_cap × constructible land)", (block,), p.line_of(path))


def far_cap_excess(before: np.ndarray, after: np.ndarray, col: dict[str, int]) -> np.ndarray:
    """Floor area (m²) a renewal adds above the planned cap (0 where within the cap or unknown)."""
    if not all(c in col for c in ("far_cap", "gfa_m2", "built_m2", "ready_m2", "unready_m2")):
        return np.zeros(len(after))
    land = sum(after[:, col[c]] for c in ("built_m2", "ready_m2", "unready_m2"))
    permitted = after[:, col["far_cap"]] * land
    limit = np.maximum(permitted, before[:, col["gfa_m2"]])
    with np.errstate(invalid="ignore"):
        return cast("np.ndarray", np.nan_to_num(np.maximum(after[:, col["gfa_m2"]] - limit, 0.0)))


def area_violations(base: Base, p: Proposal, total: float) -> list[Violation]:
    """Return the area-cap and area-floor violations of a zone whose total site area is ``total``."""
    out = []
    cap = p.constraints.area_cap_m2 or base.total_area_m2
    if total > cap + AREA_TOL_M2:
        label = "area_cap_m2" if p.constraints.area_cap_m2 else "the baseline total (area-neutral default)"
        out.append(Violation(
            "area-cap", f"total site area {total:,.0f} m² exceeds {label} {cap:,.0f} m² by {total - cap:,.0f} m²",
            (), p.line_of(("constraints", "area_cap_m2")) if p.constraints.area_cap_m2 else None,
        ))
    floor = p.constraints.min_area_m2
    if floor is not None and total < floor - AREA_TOL_M2:
        out.append(Violation(
            "area-floor", f"total site area {total:,.0f} m² is below min_area_m2 {floor:,.0f} m² by "
            f"{floor - total:,.0f} m²", (), p.line_of(("constraints", "min_area_m2")),
        ))
    return out


def protected_path(proposal: Proposal) -> Path | None:
    """Return the protected layer a proposal names, resolved against the proposal file's folder (None if none)."""
    path = proposal.constraints.protected
    if path is None:
        return None
    target = Path(path)
    if not target.is_absolute() and proposal.source:
        target = Path(proposal.source).parent / target
    return target


def repeated_ids(items: Sequence[object]) -> dict[int, ProposalError]:
    """Errors for the proposals (by position) whose id an earlier proposal already has.

    Results and violations are keyed by proposal id, so one run may hold each id once.
    """
    first: dict[str, int] = {}
    out: dict[int, ProposalError] = {}
    for k, p in enumerate(items):
        if not isinstance(p, Proposal):
            continue
        if p.id not in first:
            first[p.id] = k
            continue
        earlier = items[first[p.id]]
        here = p.source or f"#{k + 1}"
        there = getattr(earlier, "source", None) or f"proposal #{first[p.id] + 1}"
        out[k] = ProposalError(
            f"proposal {here} has id {p.id!r}, which {there} already has; results and violations are keyed "
            "by id, so give each proposal its own id"
        )
    return out


def read_protected(path: str, proposal: Proposal) -> gpd.GeoDataFrame:
    """Read the protected layer a proposal names (relative to the proposal's folder)."""
    target = protected_path(proposal) or Path(path)
    try:
        frame = gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise ProposalError(
            f"cannot read the protected layer {path!r} named at {proposal.where(('constraints', 'protected'))}: {exc}"
        ) from exc
    return metric(frame, str(target))


def isolate(outcome: Any, base_sums: pd.DataFrame, items: Sequence[Any]) -> None:
    """Turn a proposal whose adjusted zone cannot be scored into an error row; the others go on.

    A zone with no land left (every block released), or sums that are infinite or clearly
    negative, would make the vectorised indicators refuse the whole batch (and blame the data).
    Such a row becomes an error naming the proposal and the columns; its sums are replaced by the
    baseline's so the batch's arithmetic stays finite (its metrics are blanked in the table).
    Negative sums within rounding of zero (a release of every unit of a column) are set to 0.
    """
    sums = outcome.sums
    if not len(sums):
        return
    numeric = [c for c, dtype in sums.dtypes.items() if pd.api.types.is_numeric_dtype(dtype)]
    values = sums[numeric].to_numpy(dtype=float, copy=True)
    scale = np.abs(base_sums[numeric].to_numpy(dtype=float)).reshape(1, -1)
    tiny = (values < 0) & (values >= -(1e-9 * np.nan_to_num(scale, nan=0.0) + 1e-6))
    if tiny.any():  # written back only when something changed (a frame assignment costs ms per call)
        values[tiny] = 0.0
        sums[numeric] = values
    for k in range(len(sums)):
        if outcome.errors[k] is not None:
            continue
        row = values[k]
        name = getattr(items[k], "source", None) or getattr(items[k], "id", f"proposal {k}")
        problem = None
        if "site_area_m2" in numeric and not row[numeric.index("site_area_m2")] > 0 or outcome.block_count[k] == 0:
            problem = "releases every block: the adjusted zone has no land left to evaluate"
        elif np.isinf(row).any():
            cols = [c for c, v in zip(numeric, row, strict=True) if np.isinf(v)]
            problem = f"makes {', '.join(cols)} of the adjusted zone infinite"
        elif (row < 0).any():
            cols = [c for c, v in zip(numeric, row, strict=True) if v < 0]
            problem = f"makes {', '.join(cols)} of the adjusted zone negative"
        if problem is not None:
            outcome.errors[k] = f"proposal {name} {problem}; change the proposal (the other proposals are evaluated)"
            sums.iloc[k, [sums.columns.get_loc(c) for c in numeric]] = base_sums[numeric].to_numpy(float)[0]
            outcome.block_count[k] = max(int(outcome.block_count[k]), 1)
