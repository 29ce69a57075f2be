"""Vectorised evaluation of many proposals (private plumbing of :func:`zgc_space.scenarios.compare`).

Zone sums of a proposal are the baseline sums plus the proposal's deltas: ``S_p = S_0 + Σ (new
rows) − Σ (removed rows)``. Attribute-only proposals (whole releases, renewals, rezonings) are
flattened into arrays of (proposal, block) pairs and transformed all at once with the row
transforms of :mod:`zgc_space._scenario_ops`; proposals that change geometry (admissions,
partial releases, merges) get a per-proposal :class:`~zgc_space._scenario_plan.Plan`. Either way
the indicators, capacity, score and rank of every proposal come from one vectorised call.
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
    cap = capacity.gfa_capacity_m2(rows[:, ix["far_cap"]], land, rows[:, ix["gfa_m2"]])
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
    """Signed rows added to the zone sums of proposal ``p``."""

    def __init__(self) -> None:
        self.p: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.sign: list[np.ndarray] = []

    def add(self, p: np.ndarray, rows: np.ndarray, sign: float) -> None:
        if len(p):
            self.p.append(np.asarray(p, dtype=np.intp))
            self.rows.append(np.asarray(rows, dtype=float).reshape(len(p), -1))
            self.sign.append(np.full(len(p), sign))

    def apply(self, base: ops.Base, n: int) -> tuple[np.ndarray, np.ndarray]:
        total0, nan0 = _nan_sum(base.X)
        S = np.tile(total0, (n, 1))
        N = np.tile(nan0, (n, 1))
        cap = np.full(n, base_capacity(base))
        if self.p:
            p = np.concatenate(self.p)
            rows = np.concatenate(self.rows)
            sign = np.concatenate(self.sign)
            missing = np.isnan(rows)
            if missing.any():
                np.add.at(N, p, missing * sign[:, None])
                rows = np.where(missing, 0.0, rows)
            np.add.at(S, p, rows * sign[:, None])
            cap += np.bincount(p, weights=row_capacity(rows, base.cols) * sign, minlength=n)
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
    deltas.add(np.array(rel_p, dtype=np.intp), base.X[np.array(rel_b, dtype=np.intp)], -1.0)
    _pair_deltas(base, proposals, pair, rz, rn, errors, violations, deltas)
    S, cap = deltas.apply(base, n)
    sums = pd.DataFrame(S, columns=base.cols)
    area = sums["site_area_m2"].to_numpy()
    for k, prop in enumerate(proposals):
        if errors[k] is None and isinstance(prop, Proposal) and not planned[k]:
            violations[k] += ops.area_violations(base, prop, float(area[k]))
    for k, err in enumerate(errors):
        if err is not None:
            violations[k] = []
    return Outcome(sums, cap, count, errors, violations)


def _repeated_rezone(p: Proposal) -> bool:
    blocks = [z.block for z in p.rezone]
    return len(blocks) != len(set(blocks))


def _plan_deltas(base: ops.Base, plan: plans.Plan, k: int, deltas: _Deltas) -> None:
    removed = np.array(plan.removed, dtype=np.intp)
    deltas.add(np.full(len(removed), k), base.X[removed], -1.0)
    changed = [i for i in plan.replaced if i not in set(plan.removed)]
    if changed:
        new = np.array([plan.replaced[i][0] for i in changed])
        deltas.add(np.full(len(changed), k), new, 1.0)
        deltas.add(np.full(len(changed), k), base.X[np.array(changed, dtype=np.intp)], -1.0)
    if plan.added:
        deltas.add(np.full(len(plan.added), k), np.array([a.values for a in plan.added]), 1.0)


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
    deltas.add(owner[ok], rows[ok], 1.0)
    deltas.add(owner[ok], before[ok], -1.0)
