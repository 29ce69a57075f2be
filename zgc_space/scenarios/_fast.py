"""Vectorised evaluation of many proposals (private plumbing of :func:`zgc_space.scenarios.compare`).

Zone sums of a proposal are sums of the rows it keeps plus the rows it adds: ``S_p = Σ_i w_pi X_i
+ Σ (new rows)`` with ``w_pi = 0`` for the baseline rows the proposal removes or replaces and 1
otherwise. Nothing is ever subtracted, so no cancellation can occur (a proposal keeping one
block of 164 sums exactly that block, as :func:`~zgc_space.scenarios.apply` does; subtracting
163 blocks from the zone total left −1e-9 m² of land). Attribute-only proposals (whole
releases, renewals, rezonings) are flattened into arrays of (proposal, block) pairs and
transformed all at once with the row transforms of :mod:`zgc_space.scenarios._rows`; proposals
that change geometry (admissions, partial releases, merges) get a per-proposal
:class:`~zgc_space.scenarios._plan.Plan`. Either way the indicators, capacity, score and rank
of every proposal come from one vectorised call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import capacity
from zgc_space.errors import ProposalError
from zgc_space.scenarios import _plan as plans
from zgc_space.scenarios import _rows as ops
from zgc_space.scenarios.proposal import LAND_CLASSES, Proposal


@dataclass
class Outcome:
    """Zone sums and status of many proposals (rows in proposal order)."""

    sums: pd.DataFrame
    gfa_capacity_m2: np.ndarray
    block_count: np.ndarray
    errors: list[str | None]
    violations: list[list[ops.Violation]] = field(default_factory=list)


def row_capacity(rows: np.ndarray, cols: Sequence[str]) -> np.ndarray:
    """Floor-area capacity of each row (0 where unknown, as zone sums skip unknown caps)."""
    if not all(c in cols for c in (*capacity.LAND_BASE, "gfa_m2", "far_cap", "supplied_m2")) or not len(rows):
        return np.zeros(len(rows))
    ix = {c: i for i, c in enumerate(cols)}
    rows = np.asarray(rows, dtype=float)
    # plain arrays, no warning machinery: warnings.catch_warnings is not thread-safe
    land = np.sum([rows[:, ix[c]] for c in capacity.LAND_BASE], axis=0)
    carried = rows[:, ix[capacity.MERGED_OVER_CAP]] if capacity.MERGED_OVER_CAP in ix else None
    cap = capacity.gfa_capacity_m2(rows[:, ix["far_cap"]], land, rows[:, ix["gfa_m2"]], carried)
    return cast("np.ndarray", np.nan_to_num(cap))


def _nan_sum(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.nansum(X, axis=0), np.isnan(X).sum(axis=0).astype(float)


def sums_of(rows: np.ndarray, cols: Sequence[str]) -> tuple[pd.DataFrame, float]:
    """Zone sums of one block table's rows (NaN if any row is unknown) and its capacity."""
    total, nan = _nan_sum(rows)
    total = np.where(nan > 0, np.nan, total)
    return pd.DataFrame([total], columns=list(cols)), float(row_capacity(rows, cols).sum())


def base_capacity(base: ops.Base) -> float:
    """Return the baseline's floor-area capacity, computed once per prepared baseline."""
    if base._capacity_m2 is None:
        base._capacity_m2 = float(row_capacity(base.X, base.cols).sum())
    return base._capacity_m2


def base_sums(base: ops.Base) -> tuple[pd.DataFrame, float]:
    """Return the baseline's zone sums and capacity (as :func:`sums_of`, the capacity computed once)."""
    total, nan = _nan_sum(base.X)
    total = np.where(nan > 0, np.nan, total)
    return pd.DataFrame([total], columns=list(base.cols)), base_capacity(base)


class _Deltas:
    """Baseline rows each proposal removes (weight 0) and the rows it adds."""

    #: Values per block of the kept-rows array (bounds its memory at 32 MB whatever the block count).
    CHUNK_VALUES = 4_000_000

    def __init__(self) -> None:
        self.p: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.rp: list[np.ndarray] = []
        self.rb: list[np.ndarray] = []

    def add(self, p: np.ndarray, rows: np.ndarray) -> None:
        """Add ``rows`` to the zone of proposal ``p`` (one entry per row)."""
        if len(p):
            self.p.append(np.asarray(p, dtype=np.intp))
            self.rows.append(np.asarray(rows, dtype=float).reshape(len(p), -1))

    def remove(self, p: np.ndarray, blocks: np.ndarray) -> None:
        """Drop baseline rows ``blocks`` from the zone of proposal ``p``."""
        if len(p):
            self.rp.append(np.asarray(p, dtype=np.intp))
            self.rb.append(np.asarray(blocks, dtype=np.intp))

    def apply(self, base: ops.Base, n: int) -> tuple[np.ndarray, np.ndarray]:
        # Each proposal's sums add its kept rows in block order (nothing subtracted, so no cancellation),
        # the same order as the baseline's sums: keeping every block gives the baseline's sums exactly,
        # and the result does not depend on how the proposals are chunked.
        X = np.nan_to_num(base.X, nan=0.0)
        M = np.isnan(base.X)
        rowcap = row_capacity(base.X, base.cols)
        S = np.empty((n, X.shape[1]))
        N = np.empty((n, X.shape[1]))
        cap = np.empty(n)
        rp = np.concatenate(self.rp) if self.rp else np.zeros(0, dtype=np.intp)
        rb = np.concatenate(self.rb) if self.rb else np.zeros(0, dtype=np.intp)
        step = max(1, self.CHUNK_VALUES // max(1, X.size))
        for a in range(0, n, step):
            b = min(n, a + step)
            keep = np.ones((b - a, len(X)), dtype=bool)
            inside = (rp >= a) & (rp < b)
            keep[rp[inside] - a, rb[inside]] = False
            S[a:b] = np.where(keep[:, :, None], X[None, :, :], 0.0).sum(axis=1)
            N[a:b] = (keep[:, :, None] & M[None, :, :]).sum(axis=1)
            cap[a:b] = np.where(keep, rowcap[None, :], 0.0).sum(axis=1)
        if self.p:
            p = np.concatenate(self.p)
            rows = np.concatenate(self.rows)
            missing = np.isnan(rows)
            np.add.at(N, p, missing.astype(float))
            np.add.at(S, p, np.where(missing, 0.0, rows))
            cap += np.bincount(p, weights=row_capacity(rows, base.cols), minlength=n)
        return np.where(N > 0.5, np.nan, S), cap


def evaluate_many(
    base: ops.Base,
    proposals: Sequence[Proposal | ProposalError],
    *,
    candidates: gpd.GeoDataFrame | None,
    protected: Sequence[gpd.GeoDataFrame | None],
) -> Outcome:
    """Zone sums, capacity, block counts, errors and violations of every proposal."""
    n = len(proposals)
    errors: list[str | None] = [None] * n
    violations: list[list[ops.Violation]] = [[] for _ in range(n)]
    count = np.full(n, len(base.ids), dtype=np.int64)
    deltas = _Deltas()
    rel_p: list[int] = []
    rel_b: list[int] = []
    pair: dict[tuple[int, int], int] = {}
    rz: list[tuple[int, int, int, int, float, int]] = []  # pair, src col, dst col, p, amount, op index
    rn: list[tuple[int, float, float, float, float, float, int, int, int]] = []
    col = base.col
    classes_ok = all(c in col for c in LAND_CLASSES.values())
    planned = np.zeros(n, dtype=bool)
    for k, prop in enumerate(proposals):
        if isinstance(prop, ProposalError):
            errors[k] = str(prop)
            continue
        try:
            ops.check_ids(base, prop)
            if prop.changes_geometry or _repeated_rezone(prop) or (prop.rezone and not classes_ok):
                planned[k] = True
                plan = plans.make_plan(base, prop, candidates=candidates, protected=protected[k])
                _plan_deltas(base, plan, k, deltas)
                violations[k] = plan.violations
                count[k] += len(plan.added) - len(plan.removed)
                continue
        except ProposalError as exc:
            errors[k] = str(exc)
            continue
        released: set[str] = set()
        for r in prop.release:
            released.add(r.block)
            rel_p.append(k)
            rel_b.append(base.pos[r.block])
        count[k] -= len(prop.release)
        violations[k] += ops.must_keep_violations(prop, released)
        for i, z in enumerate(prop.rezone):
            b = base.pos[z.block]
            src, dst = col[LAND_CLASSES[z.from_]], col[LAND_CLASSES[z.to]]
            amount = float(base.X[b, src]) if z.area_m2 is None else z.area_m2
            rz.append((pair.setdefault((k, b), len(pair)), src, dst, k, amount, i))
        for i, rn_op in enumerate(prop.renew):
            e = rn_op.elasticity
            for j, block in enumerate(rn_op.blocks):
                t = np.nan if rn_op.far_target is None else rn_op.far_target
                s = np.nan if rn_op.far_step is None else rn_op.far_step
                rn.append((pair.setdefault((k, base.pos[block]), len(pair)), t, s,
                           e.revenue, e.tax, e.employees, k, i, j))
    deltas.remove(np.array(rel_p, dtype=np.intp), np.array(rel_b, dtype=np.intp))
    _pair_deltas(base, proposals, pair, rz, rn, errors, violations, deltas)
    for k, prop in enumerate(proposals):
        if errors[k] is None and count[k] <= 0 and isinstance(prop, Proposal):
            errors[k] = str(ops.empty_zone_error(prop, len(base.ids)))
    S, cap = deltas.apply(base, n)
    _refuse_impossible_sums(S, base, proposals, errors)
    sums = pd.DataFrame(S, columns=base.cols)
    area = sums["site_area_m2"].to_numpy()
    for k, prop in enumerate(proposals):
        if errors[k] is None and isinstance(prop, Proposal) and not planned[k]:
            violations[k] += ops.area_violations(base, prop, float(area[k]))
    for k, err in enumerate(errors):
        if err is not None:
            violations[k] = []
    return Outcome(sums, cap, count, errors, violations)


def _refuse_impossible_sums(S: np.ndarray, base: ops.Base, proposals: Sequence[Proposal | ProposalError],
                            errors: list[str | None]) -> None:
    """Turn a proposal whose zone sums are negative or infinite into an error naming the proposal (not a row).

    Sums of kept and added rows cannot be negative when every row is valid, so this only
    catches rows made invalid by an operation; the broken proposal's sums are reset to the
    baseline's, as for any other broken proposal, so the others are still scored.
    """
    bad = ~np.isnan(S) & ((S < 0) | np.isinf(S))
    for k in np.flatnonzero(bad.any(axis=1)).tolist():
        cols = [base.cols[j] for j in np.flatnonzero(bad[k])]
        if errors[k] is None:
            pid = getattr(proposals[k], "id", k)
            errors[k] = (f"proposal {pid}: the adjusted zone's total of {', '.join(cols)} is negative or infinite "
                         f"({', '.join(f'{S[k, base.col[c]]:.6g}' for c in cols)}); check the operations that "
                         "change these columns")
    rows = np.flatnonzero([e is not None for e in errors])
    if len(rows):
        S[rows] = np.where(np.isnan(base.X).any(axis=0), np.nan, np.nansum(base.X, axis=0))


def _repeated_rezone(p: Proposal) -> bool:
    blocks = [z.block for z in p.rezone]
    return len(blocks) != len(set(blocks))


def _plan_deltas(base: ops.Base, plan: plans.Plan, k: int, deltas: _Deltas) -> None:
    removed = np.array(plan.removed, dtype=np.intp)
    deltas.remove(np.full(len(removed), k), removed)
    changed = [i for i in plan.replaced if i not in set(plan.removed)]
    if changed:
        new = np.array([plan.replaced[i][0] for i in changed])
        deltas.add(np.full(len(changed), k), new)
        deltas.remove(np.full(len(changed), k), np.array(changed, dtype=np.intp))
    if plan.added:
        deltas.add(np.full(len(plan.added), k), np.array([a.values for a in plan.added]))


def _pair_deltas(
    base: ops.Base,
    proposals: Sequence[Proposal | ProposalError],
    pair: dict[tuple[int, int], int],
    rz: list[tuple[int, int, int, int, float, int]],
    rn: list[tuple[int, float, float, float, float, float, int, int, int]],
    errors: list[str | None],
    violations: list[list[ops.Violation]],
    deltas: _Deltas,
) -> None:
    """Apply every rezoning, then every renewal, to all (proposal, block) pairs at once."""
    if not pair:
        return
    keys = np.array(list(pair.keys()), dtype=np.intp)
    owner, blocks = keys[:, 0], keys[:, 1]
    before = base.X[blocks]
    rows = before.copy()
    if rz:
        a = np.array(rz, dtype=float)
        k_idx, src, dst, amount = a[:, 0].astype(np.intp), a[:, 1].astype(np.intp), a[:, 2].astype(np.intp), a[:, 4]
        np.add.at(rows, (k_idx, src), -amount)
        np.add.at(rows, (k_idx, dst), amount)
        bad = np.zeros(len(rows), dtype=bool)
        bad[k_idx] = ops.negative(rows[k_idx]) | (
            ops.nesting_broken(rows[k_idx], base.col) & ~ops.nesting_broken(before[k_idx], base.col)
        ).any(axis=1)
        for k, _s, _d, p, amt, i in rz:
            if bad[k] and errors[p] is None:
                problem = ops.rezone_problem(before[k], rows[k], base.col) or "is invalid"
                errors[p] = str(ops.rezone_error(proposals[p], i, amt, problem))  # type: ignore[arg-type]
    if rn:
        a = np.array(rn, dtype=float)
        k_idx = a[:, 0].astype(np.intp)
        pre = rows[k_idx]
        rows[k_idx] = ops.renew_rows(pre, base.col, a[:, 1], a[:, 2], a[:, 3:6])
        over = ops.far_cap_excess(pre, rows[k_idx], base.col)
        for t in np.flatnonzero(over > ops.AREA_TOL_M2):
            _, _, _, _, _, _, p, i, j = rn[t]
            violations[p].append(ops.far_cap_violation(proposals[p], i, j, float(over[t])))  # type: ignore[arg-type]
    ok = np.array([errors[p] is None for p in owner], dtype=bool)
    deltas.add(owner[ok], rows[ok])
    deltas.remove(owner[ok], blocks[ok])
