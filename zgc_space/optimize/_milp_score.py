"""The exact composite-score search of :mod:`zgc_space.optimize` (private plumbing).

See :mod:`zgc_space._milp` for the reformulation. This module adds the three exact steps that
make it fast: a heuristic choice, bound tightening and reduced-cost fixing.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from zgc_space.optimize._milp import Rows, ScoreGroup, ScoreTerm, Solution, _Model, _solution

__all__: list[str] = []

log = logging.getLogger(__name__)


def _score_of(groups: list[ScoreGroup], x: np.ndarray) -> float:
    return 100.0 * sum(g.value(x) for g in groups)


def _incumbent(groups: list[ScoreGroup], n_bin: int, fixed: dict[int, float], rows: Rows, start: np.ndarray | None,
               time_limit: float) -> tuple[np.ndarray | None, float]:
    """Find a good feasible choice by parametric linear MILPs (a Dinkelbach step per group), or None.

    At ``x_k`` each group's ratio is replaced by ``(F_g(x) − λ_g G_g(x)) / G_g(x_k)`` with
    ``λ_g`` its value at ``x_k``: a linear objective whose optimum improves the score unless
    ``x_k`` is a fixed point. Used only to tighten the exact model, never as the answer.
    """
    x = start if start is not None and not rows.broken_rows(start, tol=1e-9) else None
    best_x, best = (x, _score_of(groups, x)) if x is not None else (None, -np.inf)
    for _ in range(8):
        model = _Model(n_bin, fixed, rows)
        obj: dict[int, float] = {}
        for grp in groups:
            den = grp.g.value(x) if x is not None else float(np.abs(grp.g.coef).sum()) / 2
            lam = grp.value(x) if x is not None else (grp.low + grp.high) / 2
            part: dict[int, float] = {}
            model._numerator(grp, part, 1.0)
            for i in np.flatnonzero(grp.g.coef):
                part[int(i)] = part.get(int(i), 0.0) - lam * float(grp.g.coef[i])
            for k, v in part.items():
                obj[k] = obj.get(k, 0.0) + v / den
        c = np.zeros(model.n)
        for k, v in obj.items():
            c[k] = v
        new, _ = model.solve(c, maximize=True, time_limit=time_limit, gap=1e-6)
        if new is None:
            break
        val = _score_of(groups, new)
        if not val > best + 1e-12:
            break
        best_x, best, x = new, val, new
    return best_x, best


def _tighten(groups: list[ScoreGroup], n_bin: int, fixed: dict[int, float], rows: Rows,
             floor: float) -> list[tuple[float, float]]:
    """Bounds of each group's value over the relaxation restricted to scores ≥ ``floor``."""
    bounds = [(g.low, g.high) for g in groups]
    model = _Model(n_bin, fixed, rows)
    obj = model.add_score(groups, bounds)
    nz = np.flatnonzero(obj)
    model.row(None, floor, np.inf, {int(i): float(obj[i]) for i in nz})
    model.integrality = [0] * model.n
    out = []
    for k, tg in enumerate(model.t_vars):
        c = np.zeros(model.n)
        c[tg] = 1.0
        lo_res = model.solve_lp(c)
        hi_res = model.solve_lp(-c)
        lo = max(bounds[k][0], lo_res - 1e-9) if lo_res is not None else bounds[k][0]
        hi = min(bounds[k][1], -hi_res + 1e-9) if hi_res is not None else bounds[k][1]
        out.append((lo, hi) if lo <= hi else bounds[k])
    return out


def _relaxation_bound(groups: list[ScoreGroup], n_bin: int, fixed: dict[int, float], rows: Rows) -> float | None:
    """Maximum score over the continuous relaxation of the exact model (an upper bound)."""
    model = _Model(n_bin, fixed, rows)
    obj = model.add_score(groups, [(g.low, g.high) for g in groups])
    value = model.solve_lp(-obj)
    return None if value is None else -value


def solve_score(
    terms: list[ScoreTerm], *, n_bin: int, fixed: dict[int, float], rows: Rows,
    time_limit: float = 60.0, gap: float = 1e-7, start: np.ndarray | None = None,
) -> Solution:
    """Maximise the composite score exactly (see the module notes).

    A heuristic choice (:func:`_incumbent`) gives a score every optimum reaches; the group
    values are then bounded over the relaxation restricted to that score (valid for every
    optimum), which tightens the envelopes of the exact model before HiGHS solves it.
    """
    t0 = time.perf_counter()
    groups = _Model(n_bin, fixed, rows).score_groups(terms)
    x_inc, v_inc = _incumbent(groups, n_bin, fixed, rows, start, time_limit)
    bounds = None
    if x_inc is not None:
        floor = v_inc - 1e-7 * max(1.0, abs(v_inc))
        tight = [ScoreGroup(g.g, g.terms, g.low, g.high) for g in groups]
        for _ in range(6):  # bound tightening until the ranges stop shrinking
            new = _tighten(tight, n_bin, fixed, rows, floor)
            width = sum(g.high - g.low for g in tight)
            for g, (lo, hi) in zip(tight, new, strict=True):
                g.low, g.high = lo, hi
            if sum(hi - lo for lo, hi in new) > 0.9 * width:
                break
        bounds = [(g.low, g.high) for g in tight]
        proof = _relaxation_bound(tight, n_bin, fixed, rows)
        if proof is not None and proof - v_inc <= gap * max(1.0, abs(v_inc)):
            info = {"status": "optimal", "message": "the relaxation bound equals the heuristic choice's score",
                    "objective": v_inc, "bound": max(proof, v_inc), "gap": max(proof - v_inc, 0.0) / max(1.0, v_inc),
                    "nodes": 0}
            return _solution(x_inc, info, 0.0, 1, t0)
    model = _Model(n_bin, fixed, rows)
    obj = model.add_score(groups, bounds)
    if x_inc is not None:
        n_fixed = model.fix_by_reduced_cost(obj, v_inc, margin=1e-7 * max(1.0, abs(v_inc)))
        log.debug("score search: %d of %d binaries fixed by reduced costs", n_fixed, n_bin)
        more = {i: model.lb[i] for i in range(n_bin) if model.lb[i] == model.ub[i]}
        model = _Model(n_bin, more, rows)  # rebuilt without the products of fixed binaries
        obj = model.add_score(groups, bounds)
    x, info = model.solve(obj, maximize=True, time_limit=time_limit, gap=gap)
    if x is None and bounds is not None:  # numerical trouble with the tightened bounds: solve plainly
        model = _Model(n_bin, fixed, rows)
        obj = model.add_score(groups)
        x, info = model.solve(obj, maximize=True, time_limit=time_limit, gap=gap)
    return _solution(x, info, 0.0, 1, t0)
