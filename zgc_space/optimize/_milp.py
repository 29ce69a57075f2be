r"""Mixed-integer models behind :mod:`zgc_space.optimize` (private plumbing).

The decision variables are binaries: one per *item* (a baseline block, 1 = kept; a candidate
area, 1 = admitted) and one per renewable block (1 = renewed). Every zone-level sum of a block
column is then linear in the binaries, so every indicator is a ratio of two linear functions.

Three solvers share one model builder:

* a **linear** objective (areas, number of changes) is one MILP;
* a **ratio** objective ``N(x) / D(x)`` is solved exactly by Dinkelbach's method: solve
  ``max N(x) - λ D(x)``, set ``λ`` to the ratio of the solution, repeat until the optimum of
  the parametric MILP is 0 (finitely many steps for 0-1 problems);
* the **composite score** ``Σ_k w_k S_k`` (capped standardised ratios) is reformulated exactly.
  Each term is written ``100 w_k min(P_k(x), G_k(x)) / G_k(x)`` with linear ``P_k``, ``G_k``;
  terms that share ``G`` form a group with value ``t_g`` and the constraint
  ``t_g G_g(x) ≤ Σ_k w_k u_k`` (``u_k ≤ P_k``, ``u_k ≤ G_g``). The products ``t_g x_i`` of a
  bounded continuous and a binary variable are linearised exactly (McCormick envelopes are exact
  when one factor is binary), so the MILP optimum *is* the maximum score.

Three exact steps make the score MILP fast (164 blocks + 50 candidates in about a second):
parametric linear MILPs give a good choice and its score ``V`` (a heuristic, never the answer by
itself); each group value is then bounded over the relaxation restricted to scores ``≥ V``
(bound tightening, repeated while it shrinks the ranges), which tightens the envelopes; binaries
whose reduced cost in that relaxation exceeds ``bound − V`` are fixed (no choice scoring ``≥ V``
changes them), and their products are eliminated. If the relaxation bound already equals ``V``
within the requested gap, ``V``'s choice is returned as proved optimal.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_array

from zgc_space.optimize._highs import run_highs

log = logging.getLogger(__name__)

__all__: list[str] = []


@dataclass
class Expr:
    """A linear function ``coef · x + const`` of the binaries."""

    coef: np.ndarray
    const: float = 0.0

    def value(self, x: np.ndarray) -> float:
        return float(self.coef @ x + self.const)

    def __add__(self, other: Expr) -> Expr:
        return Expr(self.coef + other.coef, self.const + other.const)

    def __sub__(self, other: Expr) -> Expr:
        return Expr(self.coef - other.coef, self.const - other.const)

    def scaled(self, factor: float) -> Expr:
        return Expr(self.coef * factor, self.const * factor)


@dataclass
class ScoreTerm:
    """One standardised indicator of the score: ``100 · weight · min(P, G) / G``."""

    indicator: str
    weight: float
    capped: Expr  # P
    group: Expr  # G
    denominator: Expr  # the indicator's own denominator (must stay > 0)


@dataclass
class Ratio:
    """``N(x) / D(x)`` (the scale is folded into N)."""

    num: Expr
    den: Expr

    def value(self, x: np.ndarray) -> float:
        d = self.den.value(x)
        return self.num.value(x) / d if d != 0 else float("nan")


@dataclass
class ScoreGroup:
    """Score terms sharing a denominator ``g`` (scaled), with the range of the group's value."""

    g: Expr
    terms: list[tuple[float, Expr, float, float]]  # weight, capped numerator P, lo, hi of P/G
    low: float
    high: float

    def value(self, x: np.ndarray) -> float:
        den = self.g.value(x)
        if den <= 0:
            return float("nan")
        return sum(w * min(cap.value(x), den) / den if lo < 1.0 else w for w, cap, lo, _ in self.terms)


@dataclass
class Rows:
    """Linear constraints over the binaries: ``lb ≤ A x ≤ ub``."""

    a: list[np.ndarray] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, expr: Expr, lb: float, ub: float, name: str) -> None:
        self.a.append(expr.coef.astype(float))
        self.lb.append(lb - expr.const)
        self.ub.append(ub - expr.const)
        self.names.append(name)

    def broken_rows(self, x: np.ndarray, *, tol: float = 1e-9) -> list[str]:
        """Names of the rows ``x`` breaks (relative tolerance)."""
        bad = []
        for a, lo, hi, name in zip(self.a, self.lb, self.ub, self.names, strict=True):
            v = float(a @ x)
            s = tol * max(1.0, abs(v), abs(lo) if np.isfinite(lo) else 0.0, abs(hi) if np.isfinite(hi) else 0.0)
            if v < lo - s or v > hi + s:
                bad.append(name)
        return bad


@dataclass
class Solution:
    x: np.ndarray
    status: str
    objective: float  # value claimed by the MILP (model units)
    bound: float  # dual bound of the last MILP (model units)
    gap: float  # relative gap of the last MILP
    iterations: int
    seconds: float
    nodes: int
    message: str


class _Model:
    """Binaries, extra continuous variables and rows, turned into one ``scipy.optimize.milp`` call."""

    def __init__(self, n_bin: int, fixed: dict[int, float], rows: Rows) -> None:
        self.n_bin = n_bin
        self.lb = [0.0] * n_bin
        self.ub = [1.0] * n_bin
        for i, v in fixed.items():
            self.lb[i] = self.ub[i] = v
        self.integrality = [1] * n_bin
        self.rows_i: list[np.ndarray] = []
        self.rows_v: list[np.ndarray] = []
        self.row_lb: list[float] = []
        self.row_ub: list[float] = []
        for a, lo, hi in zip(rows.a, rows.lb, rows.ub, strict=True):
            self.row(a, lo, hi)

    @property
    def n(self) -> int:
        return len(self.lb)

    def var(self, lb: float, ub: float) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.integrality.append(0)
        return len(self.lb) - 1

    def row(self, dense_bin: np.ndarray | None, lo: float, hi: float, extra: dict[int, float] | None = None) -> None:
        idx: list[int] = []
        val: list[float] = []
        if dense_bin is not None:
            nz = np.flatnonzero(dense_bin)
            idx += nz.tolist()
            val += dense_bin[nz].tolist()
        for k, v in (extra or {}).items():
            idx.append(k)
            val.append(v)
        # scale the row so its largest coefficient is 1 (areas in m² and money in 万元 differ by 1e6)
        big = max((abs(v) for v in val), default=1.0) or 1.0
        self.rows_i.append(np.asarray(idx, dtype=np.int64))
        self.rows_v.append(np.asarray(val, dtype=float) / big)
        self.row_lb.append(lo / big)
        self.row_ub.append(hi / big)

    def _ratio_range(self, num: Expr, den: Expr) -> tuple[float, float]:
        """Range of ``num/den`` over the LP relaxation (Charnes-Cooper: y = x/den, s = 1/den).

        Valid bounds for the binary problem, since its points lie in the relaxation; ``den`` must be
        positive on the relaxation (else the upper bound is ``inf``).
        """
        from scipy.optimize import linprog

        nb = self.n_bin
        rows, hi_v = [], []
        for idx, val, lo, hi in zip(self.rows_i, self.rows_v, self.row_lb, self.row_ub, strict=True):
            if (idx >= nb).any():
                continue
            a = np.zeros(nb + 1)
            a[idx] = val
            if np.isfinite(lo):
                r = a.copy()
                r[nb] = -lo
                rows.append(-r)
                hi_v.append(0.0)
            if np.isfinite(hi):
                r = a.copy()
                r[nb] = -hi
                rows.append(r)
                hi_v.append(0.0)
        lb, ub = np.asarray(self.lb[:nb]), np.asarray(self.ub[:nb])
        eye = np.eye(nb)
        a_ub = np.vstack(rows + [np.hstack([eye, -ub[:, None]]), np.hstack([-eye, lb[:, None]])])
        b_ub = np.concatenate([hi_v, np.zeros(2 * nb)])
        a_eq = np.concatenate([den.coef, [den.const]])[None, :]
        c = np.concatenate([num.coef, [num.const]])
        out = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                          bounds=[(0, None)] * (nb + 1), method="highs",
                          options={"disp": False})
            out.append(sign * res.fun if res.status == 0 else (-np.inf if sign > 0 else np.inf))
        return out[0], out[1]

    def score_groups(self, terms: list[ScoreTerm]) -> list[ScoreGroup]:
        """Group the terms by denominator and bound each ``P/G`` over the LP relaxation."""
        groups: dict[bytes, list[tuple[ScoreTerm, float, float]]] = {}
        for t in terms:
            if t.group.const:
                raise ValueError("a score denominator with a constant term")
            lo, hi = self._ratio_range(t.capped, t.group)
            lo, hi = max(0.0, min(lo, 1.0)), max(0.0, min(hi, 1.0))
            key = np.round(t.group.coef, 9).tobytes()
            groups.setdefault(key, []).append((t, lo, hi))
        out = []
        for members in groups.values():
            # measure P, G and u in units of the largest possible G (keeps coefficients near 1)
            norm = float(np.abs(members[0][0].group.coef).sum()) or 1.0
            out.append(ScoreGroup(
                g=members[0][0].group.scaled(1.0 / norm),
                terms=[(m.weight, m.capped.scaled(1.0 / norm), lo, hi) for m, lo, hi in members],
                low=sum(m.weight * lo for m, lo, _ in members), high=sum(m.weight * hi for m, _, hi in members),
            ))
        return out

    def _numerator(self, grp: ScoreGroup, extra: dict[int, float], sign: float) -> None:
        """Add ``sign · Σ w min(P, G)`` of a group to a row or objective (``u`` variables for the min)."""
        for w, cap, lo, hi in grp.terms:
            if lo >= 1.0:  # always capped: w·min(P, G) = w·G
                for i in np.flatnonzero(grp.g.coef):
                    extra[int(i)] = extra.get(int(i), 0.0) + sign * w * float(grp.g.coef[i])
                continue
            u = self.var(-np.inf, np.inf)
            self.row(cap.coef, -cap.const, np.inf, {u: -1.0})  # P(x) - u ≥ 0
            if hi >= 1.0:  # the cap may bind
                self.row(grp.g.coef, 0.0, np.inf, {u: -1.0})  # G(x) - u ≥ 0
            extra[u] = extra.get(u, 0.0) + sign * w

    def add_score(self, groups: list[ScoreGroup], bounds: list[tuple[float, float]] | None = None) -> np.ndarray:
        """Add the exact score reformulation; return objective coefficients giving the score (0-100).

        Group ``g`` gets ``t_g ∈ [L, U]`` with ``t_g·G(x) ≤ Σ w min(P(x), G(x))``; the products
        ``z_i = t_g·x_i`` are exact for binary ``x_i`` with ``z ≥ L x`` and ``z ≥ t − U (1 − x)``.
        """
        t_vars = []
        for k, grp in enumerate(groups):
            low, high = bounds[k] if bounds is not None else (grp.low, grp.high)
            tg = self.var(low, high)
            t_vars.append(tg)
            extra: dict[int, float] = {}
            self._numerator(grp, extra, -1.0)
            for i in np.flatnonzero(grp.g.coef):
                if self.lb[i] == self.ub[i]:  # a fixed binary: t·x_i is t or 0
                    if self.lb[i] == 1.0:
                        extra[tg] = extra.get(tg, 0.0) + float(grp.g.coef[i])
                    continue
                z = self.var(0.0, high)
                self.row(None, -high, np.inf, {z: 1.0, tg: -1.0, int(i): -high})
                if low > 0:
                    self.row(None, 0.0, np.inf, {z: 1.0, int(i): -low})
                extra[z] = extra.get(z, 0.0) + float(grp.g.coef[i])
            self.row(None, -np.inf, 0.0, extra)
        obj = np.zeros(self.n)
        obj[t_vars] = 100.0
        self.t_vars = t_vars
        return obj

    def solve_lp(self, c: np.ndarray) -> float | None:
        """Minimum of ``c·v`` over the continuous relaxation (None if not solved)."""
        self.integrality = [0] * self.n
        x, info = self.solve(c, maximize=False, time_limit=30.0, gap=1e-9)
        return float(info["objective"]) if info["status"] == "optimal" else None

    def fix_by_reduced_cost(self, c: np.ndarray, incumbent: float, *, margin: float) -> int:
        """Fix binaries that cannot be 0/1 in any choice scoring at least ``incumbent`` (maximising ``c``).

        Solves the continuous relaxation; a binary at a bound whose reduced cost exceeds
        ``bound − incumbent`` (+ ``margin``) keeps that value in every such choice. Returns the
        number fixed.
        """
        from scipy.optimize import linprog

        a = self._matrix()
        lo, hi = np.asarray(self.row_lb), np.asarray(self.row_ub)
        fin_hi, fin_lo = np.isfinite(hi), np.isfinite(lo)
        from scipy.sparse import vstack

        a_ub = vstack([a[fin_hi], -a[fin_lo]]).tocsr()
        b_ub = np.concatenate([hi[fin_hi], -lo[fin_lo]])
        cc = np.zeros(self.n)
        cc[: len(c)] = -c
        res = linprog(cc, A_ub=a_ub, b_ub=b_ub, bounds=list(zip(self.lb, self.ub, strict=True)), method="highs",
                      options={"disp": False})
        if res.status != 0:
            return 0
        slack = -res.fun - incumbent + margin
        fixed = 0
        x = res.x
        for i in range(self.n_bin):
            if self.lb[i] == self.ub[i]:
                continue
            if x[i] <= 1e-9 and res.lower.marginals[i] > slack:
                self.ub[i] = 0.0
                fixed += 1
            elif x[i] >= 1 - 1e-9 and -res.upper.marginals[i] > slack:
                self.lb[i] = 1.0
                fixed += 1
        return fixed

    def _matrix(self) -> csr_array:
        indptr = np.cumsum([0] + [len(i) for i in self.rows_i])
        return csr_array(
            (np.concatenate(self.rows_v) if self.rows_v else np.zeros(0),
             np.concatenate(self.rows_i) if self.rows_i else np.zeros(0, dtype=np.int64), indptr),
            shape=(len(self.rows_i), self.n),
        )

    def solve(
        self, c: np.ndarray, *, maximize: bool, time_limit: float, gap: float
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        c_full = np.zeros(self.n)
        c_full[: len(c)] = c
        if maximize:
            c_full = -c_full
        res = run_highs(c_full, integrality=np.asarray(self.integrality), lb=np.asarray(self.lb),
                        ub=np.asarray(self.ub), a=self._matrix(), row_lb=np.asarray(self.row_lb),
                        row_ub=np.asarray(self.row_ub), time_limit=time_limit, gap=gap)
        sign = -1.0 if maximize else 1.0
        bound = res["mip_dual_bound"]
        info = {
            "status": res["status"], "message": res["message"],
            "objective": sign * res["fun"] if res["fun"] is not None else float("nan"),
            "bound": sign * bound if np.isfinite(bound) and abs(bound) < 1e300 else float("nan"),
            "gap": float(res["mip_gap"]) if np.isfinite(res["mip_gap"]) else 0.0,
            "nodes": res["mip_node_count"],
        }
        if res["x"] is None:
            return None, info
        return np.round(res["x"][: self.n_bin]).astype(float), info


def _fresh(n_bin: int, fixed: dict[int, float], rows: Rows, score_terms: list[ScoreTerm] | None,
           score_min: float | None) -> tuple[_Model, np.ndarray | None]:
    model = _Model(n_bin, fixed, rows)
    score_obj = None
    if score_terms is not None:
        score_obj = model.add_score(model.score_groups(score_terms))
        if score_min is not None:
            nz = np.flatnonzero(score_obj)
            model.row(None, score_min, np.inf, {int(i): float(score_obj[i]) for i in nz})
    return model, score_obj


def solve_linear(
    objective: Expr, *, maximize: bool, n_bin: int, fixed: dict[int, float], rows: Rows,
    score_terms: list[ScoreTerm] | None = None, score_min: float | None = None,
    time_limit: float = 60.0, gap: float = 1e-7,
) -> Solution:
    """One MILP with a linear objective (optionally with a minimum composite score)."""
    t0 = time.perf_counter()
    model, _ = _fresh(n_bin, fixed, rows, score_terms, score_min)
    x, info = model.solve(objective.coef, maximize=maximize, time_limit=time_limit, gap=gap)
    return _solution(x, info, objective.const, 1, t0)


def solve_ratio(
    ratio: Ratio, *, maximize: bool, n_bin: int, fixed: dict[int, float], rows: Rows,
    start: np.ndarray, score_terms: list[ScoreTerm] | None = None, score_min: float | None = None,
    time_limit: float = 60.0, gap: float = 1e-7, max_iter: int = 50,
) -> Solution:
    """Dinkelbach's method: optimise ``N(x)/D(x)`` exactly through a sequence of MILPs.

    ``D(x) > 0`` must hold on the feasible set (the caller adds the row). ``start`` is a feasible
    point (any binary vector satisfying the rows, e.g. the baseline) giving the first λ.
    """
    t0 = time.perf_counter()
    if rows.broken_rows(start) or any(start[i] != v for i, v in fixed.items()):
        # the start breaks a constraint: any feasible choice gives a valid first λ
        model, _ = _fresh(n_bin, fixed, rows, score_terms, score_min)
        first, first_info = model.solve(np.zeros(n_bin), maximize=True, time_limit=time_limit, gap=gap)
        if first is None:
            return _solution(None, first_info, 0.0, 1, t0)
        start = first
    lam = ratio.value(start)
    if not np.isfinite(lam):
        lam = 0.0
    best_x: np.ndarray | None = None
    info: dict[str, Any] = {}
    it = 0
    scale = max(1.0, float(np.abs(ratio.den.coef).sum() + abs(ratio.den.const)))
    while it < max_iter:
        it += 1
        model, _ = _fresh(n_bin, fixed, rows, score_terms, score_min)
        param = ratio.num - ratio.den.scaled(lam)
        x, info = model.solve(param.coef, maximize=maximize, time_limit=time_limit, gap=gap)
        if x is None:
            return _solution(None, info, 0.0, it, t0)
        f = param.value(x)
        new = ratio.value(x)
        best_x = x
        log.debug("Dinkelbach iteration %d: lambda=%.10g F=%.6g ratio=%.10g", it, lam, f, new)
        improved = (new > lam) if maximize else (new < lam)
        if abs(f) <= 1e-9 * scale * max(1.0, abs(lam)) or not improved or new == lam:
            if improved:
                lam = new
            break
        lam = new
    assert best_x is not None
    info = dict(info)
    info["objective"] = ratio.value(best_x)
    # the parametric bound B ≥ max N - λD gives ratio ≤ λ + B / D_min (maximising)
    # (minimising: ratio ≥ λ + min(B, 0) / D_min)
    b = float(info.get("bound", np.nan))
    d_min = _min_positive_den(ratio.den, n_bin, fixed, rows)
    if np.isfinite(b) and d_min > 0:
        info["bound"] = lam + (max(b, 0.0) if maximize else min(b, 0.0)) / d_min
    else:
        info["bound"] = np.nan
    value = info["objective"]
    info["gap"] = abs(info["bound"] - value) / max(abs(value), 1e-12) if np.isfinite(info["bound"]) else np.nan
    return _solution(best_x, info, 0.0, it, t0, keep_objective=True)


def _min_positive_den(den: Expr, n_bin: int, fixed: dict[int, float], rows: Rows) -> float:
    """Smallest value of the denominator over the LP relaxation (a lower bound for the gap)."""
    model = _Model(n_bin, fixed, rows)
    model.integrality = [0] * model.n
    x, info = model.solve(den.coef, maximize=False, time_limit=10.0, gap=1e-9)
    if x is None:
        return float("nan")
    return max(float(info["objective"]) + den.const, 0.0)


def _solution(x: np.ndarray | None, info: dict[str, Any], const: float, it: int, t0: float, *,
              keep_objective: bool = False) -> Solution:
    obj = info.get("objective", np.nan)
    bound = info.get("bound", np.nan)
    if not keep_objective:
        obj = obj + const if obj is not None else np.nan
        bound = bound + const if bound is not None else np.nan
    return Solution(
        x=x if x is not None else np.zeros(0), status=info.get("status", "error"), objective=float(obj),
        bound=float(bound), gap=float(info.get("gap", np.nan)), iterations=it,
        seconds=time.perf_counter() - t0, nodes=int(info.get("nodes", 0)), message=str(info.get("message", "")),
    )
