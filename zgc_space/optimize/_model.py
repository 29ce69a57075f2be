"""The search problem of :func:`zgc_space.optimize.search` as arrays (private plumbing).

Items are the baseline blocks (binary 1 = kept) followed by the candidate areas (1 = admitted);
after them come the renewable blocks (1 = renewed). Item values follow the rules of
:func:`zgc_space.scenarios.apply`: an admitted candidate brings its numeric columns (missing ones
are 0; with no land class given, its whole site is not-yet-ready land) and its site area from the
geometry in EPSG:4548; a renewal raises floor area by ``far_step × built_m2`` (or to
``far_target × built_m2``) and revenue, tax and employees by ``elasticity × growth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import crs as _crs
from zgc_space import labels
from zgc_space.errors import OptimizationError
from zgc_space.evaluation import PresetLike, load_preset, score
from zgc_space.indicators import INDICATORS
from zgc_space.indicators import compute as _compute
from zgc_space.optimize._milp import Expr, Ratio, Rows, ScoreTerm
from zgc_space.optimize._settings import Renewal, SearchConstraints
from zgc_space.scenarios import AREA_TOL_M2, ECON, LAND4
from zgc_space.scenarios.proposal import Admit, Constraints, Proposal, Release, Renew
from zgc_space.schema import COLUMNS

__all__: list[str] = []

#: Linear measures :meth:`Problem.linear` knows.
LINEAR = ("released_area_m2", "admitted_area_m2", "total_area_m2", "changes")
#: Default floor of the total site area, as a share of the cap (baseline − 2 %).
DEFAULT_FLOOR_SHARE = 0.98
#: An explicit floor further than this below the baseline total warns.
WARN_FLOOR_SHARE = 0.95


@dataclass(frozen=True)
class AreaBounds:
    """The total-site-area bounds a search runs under, and where each came from."""

    min_area_m2: float
    area_cap_m2: float
    baseline_m2: float
    min_source: str  # "default" or "user"
    cap_source: str  # "baseline" or "user"

    def text(self, lang: str = "en") -> str:
        """Return the bounds in words, in ``lang``."""
        default_lo, default_hi = self.min_source == "default", self.cap_source == "baseline"
        lo, hi = self.min_area_m2, self.area_cap_m2
        return labels.pick(
            f"总用地面积 {lo:,.0f} m²（{'现状减 2%，默认' if default_lo else '设定'}）至 {hi:,.0f} m²"
            f"（{'现状，默认面积不增' if default_hi else '设定'}）；现状 {self.baseline_m2:,.0f} m²",
            f"total site area {lo:,.0f} ({'baseline − 2 %' if default_lo else 'set'}) to {hi:,.0f} m² "
            f"({'baseline' if default_hi else 'set'}); baseline {self.baseline_m2:,.0f} m²", lang)


def area_bounds(c: SearchConstraints, baseline_m2: float) -> AreaBounds:
    """Resolve the area bounds: cap = ``area_cap_m2`` or the baseline; floor = ``min_area_m2`` or 98 % of that."""
    cap = c.area_cap_m2 if c.area_cap_m2 is not None else baseline_m2
    floor = c.min_area_m2 if c.min_area_m2 is not None else DEFAULT_FLOOR_SHARE * min(cap, baseline_m2)
    return AreaBounds(min_area_m2=float(floor), area_cap_m2=float(cap), baseline_m2=float(baseline_m2),
                      min_source="default" if c.min_area_m2 is None else "user",
                      cap_source="baseline" if c.area_cap_m2 is None else "user")


@dataclass
class Problem:
    """Items, renewals and constraint rows of one search."""

    ids: list[str]
    is_candidate: np.ndarray
    subpark: np.ndarray
    values: pd.DataFrame  # items × numeric columns
    renew_items: np.ndarray  # item positions of renewable blocks
    renew_delta: pd.DataFrame  # renewable × numeric columns: change when renewed
    renew_cost: np.ndarray  # 10k CNY per renewal
    geoms: np.ndarray
    rows: Rows
    fixed: dict[int, float]
    total_area_m2: float
    bounds: AreaBounds | None = None

    @property
    def n_items(self) -> int:
        return len(self.ids)

    @property
    def n_bin(self) -> int:
        return self.n_items + len(self.renew_items)

    @property
    def baseline_x(self) -> np.ndarray:
        x = np.zeros(self.n_bin)
        x[: self.n_items] = ~self.is_candidate
        return x

    def sum_expr(self, columns: tuple[str, ...]) -> Expr:
        coef = np.zeros(self.n_bin)
        for c in columns:
            coef[: self.n_items] += self.values[c].to_numpy(float)
            coef[self.n_items:] += self.renew_delta[c].to_numpy(float)
        return Expr(coef)

    def indicator(self, ind_id: str) -> Ratio:
        ind = INDICATORS[ind_id]
        self.need(ind.columns, ind_id)
        return Ratio(self.sum_expr(ind.numerator).scaled(ind.scale), self.sum_expr(ind.denominator))

    def need(self, columns: tuple[str, ...], what: str) -> None:
        missing = [c for c in columns if c not in self.values.columns]
        if missing:
            raise OptimizationError(f"{what} needs column(s) {missing}, which the baseline lacks")
        bad = [c for c in columns if self.values[c].isna().any()]
        if bad:
            where = [self.ids[i] for i in np.flatnonzero(self.values[bad].isna().any(axis=1).to_numpy())]
            raise OptimizationError(
                f"{what} needs column(s) {bad}, which have missing values in {where[:10]}; fill them first"
            )

    def linear(self, name: str) -> Expr:
        """Linear measures: released / admitted / total site area, number of changes."""
        area = self.values["site_area_m2"].to_numpy(float)
        n, blk = self.n_items, ~self.is_candidate
        coef = np.zeros(self.n_bin)
        if name == "released_area_m2":
            coef[:n] = np.where(blk, -area, 0.0)
            return Expr(coef, float(area[blk].sum()))
        if name == "admitted_area_m2":
            coef[:n] = np.where(blk, 0.0, area)
            return Expr(coef)
        if name == "total_area_m2":
            coef[:n] = area
            return Expr(coef)
        if name == "changes":
            coef[:n] = np.where(blk, -1.0, 1.0)
            coef[n:] = 1.0
            return Expr(coef, float(blk.sum()))
        raise KeyError(name)

    def positive_den(self, ratio: Ratio, name: str) -> None:
        """Add ``den(x) > 0`` (as ≥ half the smallest positive coefficient) to the rows."""
        coef = ratio.den.coef
        if (coef < 0).any():
            raise OptimizationError(f"{name}: a negative denominator coefficient; check the data for negative values")
        pos = coef[coef > 0]
        if not len(pos):
            raise OptimizationError(f"{name} is undefined for every selection (its denominator is zero everywhere)")
        self.rows.add(ratio.den, 0.5 * float(pos.min()), np.inf, f"{name} defined")

    def score_terms(self, preset: object) -> list[ScoreTerm]:
        """Return the preset's indicators as exact score terms (all indicators available)."""
        p = load_preset(preset)  # type: ignore[arg-type]
        ids = list(p.leaf_weights())
        from zgc_space.evaluation import effective_weights

        w = effective_weights(pd.DataFrame([[True] * len(ids)], columns=ids), p).iloc[0]
        terms = []
        for k in ids:
            r = self.indicator(k)
            spec = p.indicators[k]
            form, t = p.form(k), float(spec.ideal)
            if form == "positive":
                if t <= 0:
                    raise OptimizationError(f"preset {p.name}: ideal of {k} must be > 0 to be optimised")
                terms.append(ScoreTerm(k, float(w[k]), r.num.scaled(1.0 / t), r.den, r.den))
            elif form == "ratio":
                terms.append(ScoreTerm(k, float(w[k]), r.den.scaled(t), r.num, r.den))
            else:
                if t >= 100:
                    raise OptimizationError(f"preset {p.name}: complement form needs an ideal below 100 for {k}")
                capped = (r.den.scaled(100.0) - r.num).scaled(1.0 / (100.0 - t))
                if (capped.coef < -1e-9 * np.abs(r.den.coef).max()).any():
                    raise OptimizationError(
                        f"{k} exceeds 100 % for some block or candidate (e.g. idle land above supplied land); "
                        "validate the blocks (zgc_space.validate_blocks) before optimising"
                    )
                terms.append(ScoreTerm(k, float(w[k]), capped, r.den, r.den))
            self.positive_den(r, k)
        return terms


def numeric_values(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = {}
    for c in columns:
        out[c] = (pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() if c in frame.columns
                  else np.full(len(frame), np.nan))
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def candidate_values(cands: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    """Values an admitted candidate brings (the rules of scenarios.apply).

    As in apply, land classes are decided per row: a candidate whose land classes
    (:data:`~zgc_space._scenario_ops.LAND4`) are all missing, as columns or as values, is
    entirely not-yet-ready land.
    """
    raw = numeric_values(cands, columns)
    vals = raw.fillna(0.0)
    geoms = shapely.normalize(cands.geometry.to_numpy())
    vals["site_area_m2"] = shapely.area(geoms)
    land = [c for c in LAND4 if c in cands.columns and c in columns]
    given = raw[land].notna().any(axis=1).to_numpy() if land else np.zeros(len(cands), dtype=bool)
    if "unready_m2" in vals.columns:
        vals.loc[~given, "unready_m2"] = vals.loc[~given, "site_area_m2"]
    if "far_cap" in vals.columns:
        vals["far_cap"] = numeric_values(cands, ["far_cap"])["far_cap"].to_numpy()
    return vals


def renew_delta(values: pd.DataFrame, *, far_step: float | None, far_target: float | None,
                elasticity: tuple[float, float, float]) -> pd.DataFrame:
    """Change of every column when each row is renewed (scenarios' renewal rule)."""
    gfa = values["gfa_m2"].to_numpy(float)
    built = values["built_m2"].to_numpy(float)
    target = far_target if far_target is not None else 0.0
    new = gfa + far_step * built if far_step is not None else np.maximum(gfa, target * built)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(gfa > 0, new / gfa - 1.0, 0.0)
    delta = pd.DataFrame(0.0, index=values.index, columns=values.columns)
    delta["gfa_m2"] = new - gfa
    if "industrial_gfa_m2" in values.columns:
        delta["industrial_gfa_m2"] = values["industrial_gfa_m2"].to_numpy(float) * growth
    for e, key in zip(elasticity, ("revenue", "tax", "employees"), strict=True):
        for c in ECON[key]:
            if c in values.columns:
                delta[c] = values[c].to_numpy(float) * e * growth
    return delta


def metric_geoms(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise OptimizationError(f"`{what}` has no CRS; set it (e.g. frame.set_crs('EPSG:4548'))")
    return _crs.to_metric(frame)


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c in COLUMNS and COLUMNS[c].numeric and c not in ("year",)]


def _ids(frame: pd.DataFrame, column: str, what: str) -> list[str]:
    if column not in frame.columns:
        raise OptimizationError(f"`{what}` has no {column} column")
    ids = frame[column].astype(str).tolist()
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise OptimizationError(f"`{what}` repeats {column} {dup[:10]}; ids must be unique")
    return cast("list[str]", ids)


def _unknown(names: list[str], known: list[str], what: str) -> None:
    from zgc_space.scenarios.proposal import suggest_ids

    bad = [n for n in names if n not in known]
    if bad:
        hint = "; ".join(f"{b}: did you mean {', '.join(suggest_ids(b, known)) or '-'}?" for b in bad[:5])
        raise OptimizationError(f"{what} names unknown id(s) {bad[:10]} ({hint})")


def build(baseline: gpd.GeoDataFrame, cands: gpd.GeoDataFrame | None, renewal: Renewal | None,
          c: SearchConstraints) -> Problem:
    """Turn the inputs and the constraints into a :class:`Problem`."""
    base = metric_geoms(baseline, "baseline")
    block_ids = _ids(base, "block_id", "baseline")
    columns = numeric_columns(base)
    if "site_area_m2" not in columns:
        columns.append("site_area_m2")
    bvals = numeric_values(base, columns)
    bvals["site_area_m2"] = shapely.area(base.geometry.to_numpy())
    geoms = list(base.geometry.to_numpy())
    subpark = base["subpark"].astype(str).to_numpy() if "subpark" in base.columns else np.full(len(base), "")
    ids = list(block_ids)
    if cands is not None and len(cands):
        cm = metric_geoms(cands, "candidates")
        cand_ids = _ids(cm, "candidate_id", "candidates")
        clash = sorted(set(cand_ids) & set(block_ids))
        if clash:
            raise OptimizationError(f"candidate ids {clash[:10]} equal block ids; rename the candidates")
        cvals = candidate_values(cm, columns)
        cgeoms = shapely.normalize(cm.geometry.to_numpy())
        if "subpark" in cm.columns:
            csub = cm["subpark"].astype(str).to_numpy()
        else:
            near = shapely.STRtree(np.asarray(geoms, dtype=object)).query_nearest(cgeoms, all_matches=False)[1]
            csub = subpark[near]
        values = pd.concat([bvals, cvals], ignore_index=True)
        geoms += list(cgeoms)
        subpark = np.concatenate([subpark, csub])
        ids += cand_ids
    values = values if cands is not None and len(cands) else bvals
    n_blocks, n = len(block_ids), len(ids)
    is_cand = np.arange(n) >= n_blocks
    garr = np.asarray(geoms, dtype=object)

    renew_items = np.zeros(0, dtype=np.int64)
    delta = pd.DataFrame(columns=values.columns, dtype=float)
    cost = np.zeros(0)
    if renewal is not None:
        for col in ("gfa_m2", "built_m2"):
            if col not in values.columns:
                raise OptimizationError(f"renewal needs column {col}, which the baseline lacks")
        allowed = np.ones(n_blocks, dtype=bool)
        if renewal.blocks is not None:
            _unknown(list(renewal.blocks), block_ids, "renewal.blocks")
            allowed = np.isin(np.asarray(block_ids), renewal.blocks)
        e = (renewal.elasticity.revenue, renewal.elasticity.tax, renewal.elasticity.employees)
        d_all = renew_delta(bvals.fillna({"gfa_m2": 0.0, "built_m2": 0.0}), far_step=renewal.far_step,
                            far_target=renewal.far_target, elasticity=e)
        allowed &= d_all["gfa_m2"].to_numpy() > AREA_TOL_M2
        if renewal.respect_far_cap and {"far_cap", "ready_m2", "unready_m2"} <= set(bvals.columns):
            land = bvals[["built_m2", "ready_m2", "unready_m2"]].sum(axis=1).to_numpy()
            permitted = np.maximum(bvals["far_cap"].to_numpy() * land, bvals["gfa_m2"].to_numpy())
            new = bvals["gfa_m2"].to_numpy() + d_all["gfa_m2"].to_numpy()
            allowed &= ~(new > permitted + AREA_TOL_M2)  # unknown cap (NaN) stays allowed
        renew_items = np.flatnonzero(allowed)
        delta = d_all.iloc[renew_items].reset_index(drop=True)
        cost = delta["gfa_m2"].to_numpy() * renewal.cost_10k_cny_per_m2
    rows = Rows()
    prob = Problem(ids=ids, is_candidate=is_cand, subpark=subpark, values=values, renew_items=renew_items,
                   renew_delta=delta, renew_cost=cost, geoms=garr, rows=rows, fixed={},
                   total_area_m2=float(bvals["site_area_m2"].sum()))
    _constraint_rows(prob, c, block_ids, n_blocks)
    return prob


def _constraint_rows(prob: Problem, c: SearchConstraints, block_ids: list[str], n_blocks: int) -> None:
    n, rows = prob.n_items, prob.rows
    area = prob.values["site_area_m2"].to_numpy(float)
    total = prob.linear("total_area_m2")
    prob.bounds = area_bounds(c, prob.total_area_m2)
    cap, floor = prob.bounds.area_cap_m2, prob.bounds.min_area_m2
    if floor > cap:
        raise OptimizationError(f"min_area_m2 {floor:,.0f} exceeds the area cap {cap:,.0f} m²; lower it")
    rows.add(total, floor, cap, "total site area")
    _unknown(list(c.must_keep), block_ids, "must_keep")
    for b in c.must_keep:
        prob.fixed[block_ids.index(b)] = 1.0
    from zgc_space.schema import canonical_subpark

    for label, bounds, lo_side in (("subpark_min_area_m2", c.subpark_min_area_m2, True),
                                   ("subpark_max_area_m2", c.subpark_max_area_m2, False)):
        for park, limit in bounds.items():
            name = canonical_subpark(park) or park
            mask = prob.subpark == name
            if not mask.any():
                raise OptimizationError(f"{label} names sub-park {park!r}, which has no block or candidate")
            coef = np.zeros(prob.n_bin)
            coef[:n] = np.where(mask, area, 0.0)
            e = Expr(coef)
            rows.add(e, limit, np.inf, f"{label}[{park}]") if lo_side else rows.add(e, -np.inf, limit,
                                                                                    f"{label}[{park}]")
    if c.max_changes is not None:
        rows.add(prob.linear("changes"), -np.inf, c.max_changes, "max_changes")
    k = len(prob.renew_items)
    for j in range(k):  # r_j ≤ v_i
        coef = np.zeros(prob.n_bin)
        coef[n + j], coef[prob.renew_items[j]] = 1.0, -1.0
        rows.add(Expr(coef), -np.inf, 0.0, f"renew {prob.ids[prob.renew_items[j]]} only if kept")
    if k and c.renewal_budget_10k_cny is not None:
        coef = np.zeros(prob.n_bin)
        coef[n:] = prob.renew_cost
        rows.add(Expr(coef), -np.inf, c.renewal_budget_10k_cny, "renewal budget")
    cand = np.flatnonzero(prob.is_candidate)
    if len(cand):
        tree = shapely.STRtree(prob.geoms[:n_blocks])
        for j in cand.tolist():
            g = prob.geoms[j]
            hits = tree.query(g)
            over = [int(i) for i in hits if shapely.area(shapely.intersection(g, prob.geoms[i])) > AREA_TOL_M2]
            for i in over:  # admit j only if block i is released
                coef = np.zeros(prob.n_bin)
                coef[j], coef[i] = 1.0, 1.0
                rows.add(Expr(coef), -np.inf, 1.0, f"{prob.ids[j]} overlaps {prob.ids[i]}")
            for j2 in cand[cand > j]:
                if shapely.area(shapely.intersection(g, prob.geoms[j2])) > AREA_TOL_M2:
                    coef = np.zeros(prob.n_bin)
                    coef[j], coef[j2] = 1.0, 1.0
                    rows.add(Expr(coef), -np.inf, 1.0, f"{prob.ids[j]} overlaps {prob.ids[j2]}")
            if c.max_distance_m is not None:
                d = shapely.distance(g, prob.geoms[:n_blocks])
                near = np.flatnonzero(d <= c.max_distance_m)
                coef = np.zeros(prob.n_bin)
                coef[j] = 1.0
                coef[near] -= 1.0
                rows.add(Expr(coef), -np.inf, 0.0, f"{prob.ids[j]} within {c.max_distance_m} m of a kept block")


def indicators_of(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Compute indicators of zone-sum rows (only the ones asked, so no missing-column warning)."""
    return _compute(frame, by=None, indicators=ids)


def zone_value(prob: Problem, x: np.ndarray, objective: str, preset: PresetLike) -> float:
    """Return the objective of a choice from the zone sums (the formulas of indicators/evaluation)."""
    if objective in LINEAR:
        return prob.linear(objective).value(x)
    n = prob.n_items
    sums = prob.values.fillna(0.0).to_numpy().T @ x[:n]
    if len(prob.renew_items):
        sums = sums + prob.renew_delta.to_numpy().T @ x[n:]
    frame = pd.DataFrame([sums], columns=prob.values.columns)
    if objective == "score":
        p = load_preset(preset)
        ind = indicators_of(frame, list(p.leaf_weights()))
        return float(score(ind, preset=p)["score"].iloc[0])
    return float(indicators_of(frame, [objective])[objective].iloc[0])


def non_dominated(table: pd.DataFrame, cols: tuple[str, str], senses: tuple[str, str]) -> np.ndarray:
    """Return which rows no other row beats in both objectives (and strictly in one)."""
    v = np.column_stack([table[c].to_numpy(float) * (1.0 if s == "max" else -1.0) for c, s in zip(cols, senses,
                                                                                                   strict=True)])
    tol = 1e-9 * np.maximum(1.0, np.abs(v))
    keep = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        better_eq = (v >= v[i] - tol[i]).all(axis=1)
        strictly = (v > v[i] + tol[i]).any(axis=1)
        keep[i] = not (better_eq & strictly).any()
    return keep


def copy_problem(prob: Problem) -> Problem:
    """Return a copy of the problem whose rows can be extended without touching the original."""
    rows = Rows(list(prob.rows.a), list(prob.rows.lb), list(prob.rows.ub), list(prob.rows.names))
    return Problem(ids=prob.ids, is_candidate=prob.is_candidate, subpark=prob.subpark, values=prob.values,
                   renew_items=prob.renew_items, renew_delta=prob.renew_delta, renew_cost=prob.renew_cost,
                   geoms=prob.geoms, rows=rows, fixed=dict(prob.fixed), total_area_m2=prob.total_area_m2,
                   bounds=prob.bounds)


def unchecked(c: SearchConstraints, *, lang: str = "en") -> list[str]:
    """List the set constraints a proposal cannot express (scenarios.apply does not check them), in ``lang``."""
    out = [labels.pick(f"{k} 用地面积不少于 {v:,.0f} m²", f"subpark_min_area_m2 {k} {v:,.0f}", lang)
           for k, v in c.subpark_min_area_m2.items()]
    out += [labels.pick(f"{k} 用地面积不超过 {v:,.0f} m²", f"subpark_max_area_m2 {k} {v:,.0f}", lang)
            for k, v in c.subpark_max_area_m2.items()]
    if c.max_changes is not None:
        out.append(labels.pick(f"最多调整 {c.max_changes} 处", f"max_changes {c.max_changes}", lang))
    if c.renewal_budget_10k_cny is not None:
        budget = f"{c.renewal_budget_10k_cny:,.6g}"
        out.append(labels.pick(f"更新改造预算 {budget} 万元", f"renewal_budget_10k_cny {budget}", lang))
    return out


def proposal_of(prob: Problem, x: np.ndarray, renewal: Renewal | None, c: SearchConstraints,
                objective: str, sense: str, pid: str) -> Proposal:
    """Write the choice ``x`` as a proposal carrying the constraints a proposal can express."""
    n = prob.n_items
    keep = x[:n] > 0.5
    release = [Release(block=prob.ids[i], part=None, reason=f"chosen by search ({sense} {objective})")
               for i in range(n) if not prob.is_candidate[i] and not keep[i]]
    admit = [Admit(candidate=prob.ids[i], geometry=None, crs="EPSG:4548", block_id=None,
                   reason=f"chosen by search ({sense} {objective})")
             for i in range(n) if prob.is_candidate[i] and keep[i]]
    renewed = [prob.ids[prob.renew_items[k]] for k in range(len(prob.renew_items)) if x[n + k] > 0.5]
    renew = []
    if renewed and renewal is not None:
        renew = [Renew(blocks=renewed, far_step=renewal.far_step, far_target=renewal.far_target,
                       elasticity=renewal.elasticity, reason=f"chosen by search ({sense} {objective})")]
    b = prob.bounds or area_bounds(c, prob.total_area_m2)
    cons = Constraints(area_cap_m2=b.area_cap_m2, min_area_m2=b.min_area_m2, must_keep=list(c.must_keep),
                       max_distance_m=c.max_distance_m, protected=None)
    desc = (f"Found by zgc_space.optimize.search: {sense} {objective}; "
            f"{len(release)} released, {len(admit)} admitted, {len(renewed)} renewed; {b.text()}.")
    extra = unchecked(c)
    if extra:
        desc += (" Also optimised under (not checked by scenarios.apply; re-check an edited copy): "
                 + "; ".join(extra) + ".")
    return Proposal(id=pid, title=f"Optimised adjustment ({sense} {objective})", description=desc,
                    release=release, admit=admit, renew=renew, constraints=cons)
