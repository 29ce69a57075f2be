r"""Search for the best spatial adjustment under the rules planners must respect.

:func:`search` chooses which blocks to release (调出), which candidate areas to admit (调入) and
which blocks to renew (更新改造) so as to maximise one objective, and returns the answer as a
:class:`~zgc_space.proposal.Proposal` a planner can read, edit and re-run with
:func:`zgc_space.scenarios.apply`. :func:`pareto` traces the trade-off front between two
objectives by the epsilon-constraint method.

Every choice is a binary variable, so each zone-level sum of a block column is linear in the
choices and every indicator (ratio of sums) is a ratio of two linear functions. The programmes
are solved with scipy's ``milp`` (HiGHS):

* **ratio objectives** (``far`` = Σ floor area / Σ built land, ``tax_10k_cny_per_ha``,
  ``revenue_10k_cny_per_ha``, any indicator of :data:`zgc_space.indicators.INDICATORS`) exactly,
  by Dinkelbach's method: a sequence of MILPs ``max N(x) − λ D(x)`` with λ the ratio of the
  previous solution, stopping when the optimum is 0;
* the **composite score** (a weighted sum of capped standardised ratios) by an exact
  reformulation: each group of indicators sharing a denominator ``G`` gets a value ``t`` with
  ``t·G(x) ≤ Σ w·min(P(x), G(x))``; the products ``t·x_i`` of a bounded continuous variable and a
  binary are linearised exactly (McCormick envelopes are exact for binaries). No approximation:
  the MILP optimum is the best score, which the tests check against enumeration;
* **linear measures** (``released_area_m2``, ``admitted_area_m2``, ``total_area_m2``,
  ``changes``) directly.

**The default keeps the zone.** Ratios always favour the single best block, so with no floor
on the total site area the optimum is to dissolve the zone. Unless the user sets bounds, the
adjusted zone's total site area stays within ``[baseline − 2 %, baseline]`` (the area-neutral
rule of the adjustment, which TD/T 1029's evaluation presumes: the ranked area is the approved
zone). An explicit ``min_area_m2`` more than 5 % below the baseline (``0`` included) warns with
:class:`~zgc_space.errors.OptimizationWarning`. The bounds used are in
:attr:`SearchResult.area_bounds` and in the proposal's ``constraints`` (checked by
:func:`zgc_space.scenarios.apply`).

Solutions in which an indicator of the objective would become undefined (zero denominator,
e.g. no built land left) are excluded. The value reported is the one
:func:`zgc_space.scenarios.evaluate` gives for the proposal applied to the baseline.

Examples
--------
>>> from zgc_space import datasets, optimize
>>> blocks = datasets.load_blocks()
>>> res = optimize.search(blocks, None, objective="far",
...                       constraints=optimize.SearchConstraints(max_changes=3))
>>> res.status, len(res.proposal.release), res.value > res.baseline_value
('optimal', 3, True)
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space.errors import OptimizationError, OptimizationWarning
from zgc_space.evaluation import PresetLike, load_preset
from zgc_space.indicators import INDICATORS
from zgc_space.optimize import _milp, _milp_score
from zgc_space.optimize import _model as sm
from zgc_space.optimize._results import ParetoFront, SearchResult, constraints_text, summary_table
from zgc_space.optimize._settings import Renewal, SearchConstraints
from zgc_space.scenarios.proposal import Proposal

__all__ = [
    "LINEAR_OBJECTIVES",
    "AreaBounds",
    "ParetoFront",
    "Renewal",
    "SearchConstraints",
    "SearchResult",
    "constraints_text",
    "summary_table",
    "pareto",
    "search",
]

log = logging.getLogger(__name__)

AreaBounds = sm.AreaBounds
#: A progress callback: receives one line of text per step of a search or a Pareto front.
Progress = Callable[[str], None]

#: Objectives that are linear in the choices, with their default sense.
LINEAR_OBJECTIVES: dict[str, str] = {
    "released_area_m2": "min", "admitted_area_m2": "min", "total_area_m2": "min", "changes": "min",
}


def _sense(objective: str, sense: str | None) -> str:
    if sense is not None:
        if sense not in ("max", "min"):
            raise OptimizationError(f"sense must be 'max' or 'min', got {sense!r}")
        return sense
    if objective == "score":
        return "max"
    if objective in LINEAR_OBJECTIVES:
        return LINEAR_OBJECTIVES[objective]
    if objective in INDICATORS:
        return "min" if INDICATORS[objective].direction == "negative" else "max"
    known = ["score", *INDICATORS, *LINEAR_OBJECTIVES]
    raise OptimizationError(f"unknown objective {objective!r}; choose one of {', '.join(known)}")


def _build(baseline: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None, renewal: Renewal | None,
           c: SearchConstraints) -> sm.Problem:
    prob = sm.build(baseline, candidates, renewal, c)
    b = prob.bounds
    if b is not None and b.min_source == "user" and b.min_area_m2 < sm.WARN_FLOOR_SHARE * b.baseline_m2:
        share = 100.0 * b.min_area_m2 / b.baseline_m2 if b.baseline_m2 > 0 else 0.0
        warnings.warn(
            f"min_area_m2 {b.min_area_m2:,.0f} m² is {share:.0f} % of the baseline area {b.baseline_m2:,.0f} m²: the "
            "zone may shrink to its best blocks (ratio indicators favour the single best block); leave "
            "min_area_m2 unset for the default floor (baseline − 2 %)",
            OptimizationWarning, stacklevel=3,
        )
    return prob


def _say(progress: Progress | None, text: str) -> None:
    log.info("%s", text)
    if progress is not None:
        progress(text)


def _add_goal(prob: sm.Problem, objective: str, preset: PresetLike, bound: float, sense: str) -> float | None:
    """Constrain ``objective`` to be at least (max) or at most (min) ``bound``; score returns its minimum."""
    if objective == "score":
        return bound
    if objective in LINEAR_OBJECTIVES:
        e = prob.linear(objective)
        prob.rows.add(e, bound, np.inf, f"{objective} ≥ {bound}") if sense == "max" else \
            prob.rows.add(e, -np.inf, bound, f"{objective} ≤ {bound}")
        return None
    r = prob.indicator(objective)
    prob.positive_den(r, objective)
    e = r.num - r.den.scaled(bound)
    prob.rows.add(e, 0.0, np.inf, f"{objective} ≥ {bound}") if sense == "max" else \
        prob.rows.add(e, -np.inf, 0.0, f"{objective} ≤ {bound}")
    return None


def _solve(prob: sm.Problem, objective: str, sense: str, preset: PresetLike, *, score_min: float | None,
           time_limit: float, gap: float) -> tuple[_milp.Solution, str]:
    common: dict[str, Any] = {"n_bin": prob.n_bin, "fixed": prob.fixed, "rows": prob.rows,
                              "time_limit": time_limit, "gap": gap}
    needs_score = objective == "score" or score_min is not None
    terms = prob.score_terms(preset) if needs_score else None
    if objective == "score":
        if sense != "max":
            raise OptimizationError("the score can only be maximised")
        if score_min is not None:
            raise OptimizationError("score cannot be both the objective and the constraint")
        sol = _milp_score.solve_score(terms or [], start=prob.baseline_x, **common)
        return sol, "exact MILP reformulation of the capped score"
    if objective in LINEAR_OBJECTIVES:
        sol = _milp.solve_linear(prob.linear(objective), maximize=sense == "max", score_terms=terms,
                                 score_min=score_min, **common)
        return sol, "MILP (linear objective)"
    r = prob.indicator(objective)
    prob.positive_den(r, objective)
    sol = _milp.solve_ratio(r, maximize=sense == "max", start=prob.baseline_x, score_terms=terms,
                            score_min=score_min, **common)
    return sol, f"Dinkelbach ({sol.iterations} MILPs)"


def _evaluate(prob: sm.Problem, baseline: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None,
              proposal: Proposal, x: np.ndarray, preset: PresetLike, peers: Any) -> pd.DataFrame:
    from zgc_space import scenarios

    applied = scenarios.apply(baseline, proposal, candidates=candidates)
    if applied.violations:
        raise OptimizationError(
            "internal check failed: the optimised proposal breaks "
            + "; ".join(v.message for v in applied.violations) + "; please report this"
        )
    ev = scenarios.evaluate(applied.blocks, preset=preset, peers=peers)
    ev.attrs["areas"] = {
        "released_area_m2": prob.linear("released_area_m2").value(x),
        "admitted_area_m2": prob.linear("admitted_area_m2").value(x),
        "changes": prob.linear("changes").value(x),
    }
    return ev


def search(
    baseline: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    *,
    objective: str = "score",
    sense: Literal["max", "min"] | None = None,
    constraints: SearchConstraints | None = None,
    renewal: Renewal | None = None,
    preset: PresetLike = "cic_default",
    peers: Any = None,
    proposal_id: str = "OPT",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-7,
    progress: Progress | None = None,
) -> SearchResult:
    """Find the adjustment that optimises ``objective`` under ``constraints``.

    Parameters
    ----------
    baseline
        Block table (GeoDataFrame with CRS and the canonical columns the objective needs).
    candidates
        Candidate areas (GeoDataFrame or file) with ``candidate_id``; ``None`` for none.
    objective
        ``"score"`` (composite score of ``preset``), an indicator id (``"far"``,
        ``"tax_10k_cny_per_ha"``, ``"revenue_10k_cny_per_ha"``, ...) or a linear measure of
        :data:`LINEAR_OBJECTIVES`.
    sense
        ``"max"`` or ``"min"``; default: maximise the score and positive indicators, minimise
        negative indicators and the linear measures.
    constraints
        :class:`SearchConstraints` (default: total site area between 98 % of the baseline
        total and the baseline total, nothing else).
    renewal
        The renewal the search may apply (default: no renewal).
    preset, peers
        Evaluation preset and peer zones (rank) used for the score and the evaluation.
    proposal_id
        Id of the proposal returned.
    time_limit_s, mip_rel_gap
        HiGHS limits per MILP; with the defaults the answer is optimal (``status == "optimal"``).
    progress
        Called with one line of text per step (model built, solved, evaluated); the CLI prints
        them for runs over 2 s. The same lines go to the module's logger at INFO.

    Returns
    -------
    SearchResult

    Raises
    ------
    OptimizationError
        Unknown objective or ids, missing columns, or constraints no adjustment can meet.

    Warns
    -----
    zgc_space.errors.OptimizationWarning
        When ``min_area_m2`` is set more than 5 % below the baseline total (0 included).
    """
    t0 = time.perf_counter()
    c = constraints or SearchConstraints()
    s = _sense(objective, sense)
    load_preset(preset)
    _check_id(proposal_id)  # before solving: the id names the proposal written
    cands = _read_candidates(candidates)
    prob = _build(baseline, cands, renewal, c)
    _say(progress, f"search: {prob.n_bin} binaries, {len(prob.rows.a)} rows ({time.perf_counter() - t0:.1f} s)")
    sol, method = _solve(prob, objective, s, preset, score_min=None, time_limit=time_limit_s, gap=mip_rel_gap)
    _say(progress, f"search: {sol.status} after {sol.iterations} MILP(s) ({time.perf_counter() - t0:.1f} s)")
    res = _result(prob, sol, method, baseline, cands, renewal, c, objective, s, preset, peers, proposal_id)
    _say(progress, f"search: re-evaluated the proposal ({time.perf_counter() - t0:.1f} s)")
    return res


#: The most points of a Pareto front (each one is a MILP solve).
MAX_PARETO_POINTS = 200


def _check_id(proposal_id: str) -> None:
    try:
        Proposal(id=proposal_id, title="check")
    except ValueError as exc:  # pydantic's ValidationError
        raise OptimizationError(
            f"proposal_id {proposal_id!r} cannot name a proposal: 1-100 characters without spaces or path "
            "characters (/ \\ : * ? \" < > |), e.g. OPT-2024"
        ) from exc


def _read_candidates(candidates: gpd.GeoDataFrame | str | Path | None) -> gpd.GeoDataFrame | None:
    if candidates is None or isinstance(candidates, gpd.GeoDataFrame):
        return candidates
    try:
        return gpd.read_file(candidates)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise OptimizationError(f"cannot read the candidate file {candidates}: {exc}") from exc


def _result(prob: sm.Problem, sol: _milp.Solution, method: str, baseline: gpd.GeoDataFrame,
            cands: gpd.GeoDataFrame | None, renewal: Renewal | None, c: SearchConstraints, objective: str,
            s: str, preset: PresetLike, peers: Any, pid: str) -> SearchResult:
    if not len(sol.x):
        if sol.status == "time_limit":
            raise OptimizationError(
                f"HiGHS found no adjustment within the time limit ({sol.message}); raise time_limit_s"
            )
        raise OptimizationError(
            f"no adjustment meets the constraints ({sol.status}: {sol.message}); relax must_keep, the "
            f"sub-park area bounds, min_area_m2, max_changes or the distance limit (ran under "
            f"{'; '.join([prob.bounds.text()] if prob.bounds else [])})"
        )
    proposal = sm.proposal_of(prob, sol.x, renewal, c, objective, s, pid)
    ev = _evaluate(prob, baseline, cands, proposal, sol.x, preset, peers)
    base_prop = Proposal(id="BASE", title="baseline")
    base_ev = _evaluate(prob, baseline, cands, base_prop, prob.baseline_x, preset, peers)
    value = _value(ev, objective)
    both = pd.concat([base_ev.assign(case="baseline"), ev.assign(case="optimised")]).set_index("case")
    sel = {"release": [r.block for r in proposal.release], "admit": [a.new_id for a in proposal.admit],
           "renew": [b for r in proposal.renew for b in r.blocks]}
    return SearchResult(
        proposal=proposal, objective=objective, sense=s, value=value, baseline_value=_value(base_ev, objective),
        milp_value=sol.objective, bound=sol.bound, gap=sol.gap, status=sol.status, method=method,
        iterations=sol.iterations, seconds=sol.seconds, evaluation=both, selection=sel, constraints=c,
        renewal=renewal, area_bounds=prob.bounds,
    )


def _value(ev: pd.DataFrame, objective: str) -> float:
    if objective in ev.columns:
        return float(ev[objective].iloc[0])
    if objective == "total_area_m2":
        return float(ev["site_area_m2"].iloc[0])
    return float(ev.attrs["areas"][objective])


# ---------------------------------------------------------------------------------------------
# Pareto front


def pareto(
    baseline: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    *,
    objectives: tuple[str, str] = ("score", "released_area_m2"),
    senses: tuple[str | None, str | None] = (None, None),
    points: int = 20,
    constraints: SearchConstraints | None = None,
    renewal: Renewal | None = None,
    preset: PresetLike = "cic_default",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-7,
    progress: Progress | None = None,
) -> ParetoFront:
    r"""Trace the trade-off front between two objectives (epsilon-constraint method).

    The second objective is bounded at ``points`` values evenly spaced between its value at the
    first objective's optimum and its own optimum; at each bound the first objective is
    optimised exactly (as :func:`search` does). Dominated and repeated points are dropped.

    Parameters
    ----------
    objectives
        Two objectives (see :func:`search`), e.g. ``("score", "released_area_m2")``: the best
        score for each amount of land released.
    senses
        Their senses (``None``: the default of each objective).
    points
        Number of bounds on the second objective (≥ 2).
    constraints, renewal, preset, time_limit_s, mip_rel_gap, progress
        As for :func:`search` (the same default area bounds: baseline − 2 % to the baseline).

    Returns
    -------
    ParetoFront
        ``table``: one row per point (``point``, both objective values, ``bound`` on the second,
        ``released``, ``admitted``, ``renewed`` counts, ``status``, ``gap``, ``seconds``);
        ``proposals``: the proposal of each row (ids ``PARETO-01`` ...). Values come from the
        zone sums with the formulas of :mod:`zgc_space.indicators` and
        :mod:`zgc_space.evaluation`.

    Examples
    --------
    >>> from zgc_space import datasets
    >>> front = pareto(datasets.load_blocks(), None, objectives=("far", "released_area_m2"), points=3,
    ...                constraints=SearchConstraints(max_changes=4))
    >>> front.table["far"].is_monotonic_increasing, len(front.proposals) == len(front.table)
    (True, True)
    """
    if not 2 <= points <= MAX_PARETO_POINTS:  # each point is one MILP solve
        raise OptimizationError(f"points must be from 2 to {MAX_PARETO_POINTS}, got {points}")
    o1, o2 = objectives
    s1, s2 = _sense(o1, senses[0]), _sense(o2, senses[1])
    if o1 == o2:
        raise OptimizationError("the two objectives must differ")
    c = constraints or SearchConstraints()
    cands = _read_candidates(candidates)
    t0 = time.perf_counter()
    base = _build(baseline, cands, renewal, c)

    def run(obj: str, sense: str, bound: float | None) -> _milp.Solution:
        prob = sm.copy_problem(base)
        score_min = None
        if bound is not None:
            score_min = _add_goal(prob, o2, preset, bound, s2)
        sol, _ = _solve(prob, obj, sense, preset, score_min=score_min, time_limit=time_limit_s, gap=mip_rel_gap)
        return sol

    first = run(o1, s1, None)
    if not len(first.x):
        raise OptimizationError(f"no adjustment meets the constraints ({first.status}); relax them")
    worst = sm.zone_value(base, first.x, o2, preset)
    best = sm.zone_value(base, run(o2, s2, None).x, o2, preset)
    rows: list[dict[str, Any]] = []
    props: list[Proposal] = []
    seen: set[bytes] = set()
    for k, eps in enumerate(np.linspace(worst, best, points)):
        _say(progress, f"pareto: point {k + 1} of {points} ({time.perf_counter() - t0:.1f} s)")
        # a hair of slack keeps the end points feasible despite rounding
        slack = 1e-9 * max(1.0, abs(eps))
        sol = run(o1, s1, eps - slack if s2 == "max" else eps + slack)
        if not len(sol.x):
            continue
        key = sol.x.tobytes()
        if key in seen:
            continue
        seen.add(key)
        v1, v2 = sm.zone_value(base, sol.x, o1, preset), sm.zone_value(base, sol.x, o2, preset)
        p = sm.proposal_of(base, sol.x, renewal, c, o1, s1, f"PARETO-{len(props) + 1:02d}")
        rows.append({"point": len(props) + 1, o1: v1, o2: v2, "bound": eps, "released": len(p.release),
                     "admitted": len(p.admit), "renewed": sum(len(r.blocks) for r in p.renew),
                     "status": sol.status, "gap": sol.gap, "seconds": sol.seconds})
        props.append(p)
    table = pd.DataFrame(rows)
    keep = sm.non_dominated(table, (o1, o2), (s1, s2))
    rounded = table[[o1, o2]].apply(lambda col: col.map(lambda v: float(f"{v:.9g}")))
    keep &= ~rounded.duplicated().to_numpy()  # distinct choices with the same values: keep the first
    table = table[keep].reset_index(drop=True)
    props = [p for p, k in zip(props, keep, strict=True) if k]
    table = table.sort_values(o1, kind="stable").reset_index(drop=True)
    order = {p.id: p for p in props}
    props = [order[f"PARETO-{int(i):02d}"] for i in table["point"]]
    return ParetoFront(objectives=(o1, o2), senses=(s1, s2), table=table, proposals=props,
                       seconds=time.perf_counter() - t0, area_bounds=base.bounds)
