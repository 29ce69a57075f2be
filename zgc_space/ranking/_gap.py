"""Gap to a target rank (private plumbing of benchmark.gap_to_rank).

The composite is ``Σ w_i S_i`` and each capped standardisation is linear in the indicator until
its cap, so the least-effort plan is a linear programme in the relative changes ``r_i`` (as a
fraction of the current value, or of the ideal when the current value is 0):

    minimise Σ r_i   subject to   Σ w_i a_i r_i ≥ need,   0 ≤ r_i ≤ u_i

with ``a_i`` the gain in standardised score per unit ``r_i`` and ``u_i`` the change that reaches
the cap (standardised score 100) or the user's bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from zgc_space.evaluation import Preset, effective_weights, indicator_numbers, invert, standardise_values
from zgc_space.indicators import INDICATORS

#: Score slack so that float noise never leaves a plan a hair below the target score.
_SLACK = 1e-6


def _terms(row: pd.Series, preset: Preset, bounds: dict[str, float]) -> pd.DataFrame:
    """One row per preset indicator: value, weight, standardised score, slope and cap of r."""
    ids = list(preset.leaf_weights())
    label = row.name if row.name is not None else 0
    values = pd.Series(
        {i: float(indicator_numbers(pd.Series([row.get(i, np.nan)], index=[label]), i).iloc[0]) for i in ids}
    )
    w = effective_weights(values.notna().to_frame().T, preset).iloc[0]
    recs = []
    for i in ids:
        x, t, form = values[i], preset.indicators[i].ideal, preset.form(i)
        s = float(standardise_values(np.array([x]), t, form)[0])
        base = abs(x) if x != 0 else (t if form == "positive" else 0.0)
        if np.isnan(x) or base == 0:
            slope = 0.0
        elif form == "positive":
            slope = 100.0 * base / t
        elif form == "complement":
            slope = 100.0 * base / (100.0 - t)
        else:  # ratio: tangent of 100 T / X at the current value (a conservative under-estimate)
            slope = s if x > t else 0.0
        cap = (100.0 - s) / slope if slope > 0 else 0.0
        if i in bounds and x != 0:
            cap = min(cap, bounds[i] / 100.0)
        recs.append({"indicator": i, "current": x, "ideal": t, "form": form, "weight": float(w[i]),
                     "s_now": s, "base": base, "slope": slope, "cap": max(cap, 0.0)})
    return pd.DataFrame(recs).set_index("indicator")


def _new_value(term: pd.Series, r: float) -> float:
    step = r * term["base"]
    return float(term["current"] + step if term["form"] == "positive" else term["current"] - step)


def _change_pct(change: pd.Series, current: pd.Series) -> pd.Series:
    """``100 · change / |current|``, NaN where the current value is zero."""
    return change / current.where(current != 0).abs() * 100.0


def _single(terms: pd.DataFrame, need: float, bounds: dict[str, float]) -> pd.DataFrame:
    rows = []
    for i, t in terms.iterrows():
        rec = {"zh": INDICATORS[i].zh, "current": t["current"], "ideal": t["ideal"], "s_now": t["s_now"],
               "weight": t["weight"]}
        if need <= 0:
            rec |= {"required": t["current"], "s_required": t["s_now"], "reachable": True,
                    "note": "already at or above the target rank"}
        elif t["weight"] <= 0:
            rec |= {"required": np.nan, "s_required": np.nan, "reachable": False,
                    "note": "indicator missing for this zone"}
        else:
            s_req = t["s_now"] + need / t["weight"]
            if s_req > 100.0 + 1e-9:
                rec |= {"required": np.nan, "s_required": s_req, "reachable": False,
                        "note": f"not reachable by this indicator alone (capped at its ideal {t['ideal']:g})"}
            else:
                req = float(invert(min(s_req, 100.0), t["ideal"], t["form"]))
                rec |= {"required": req, "s_required": s_req, "reachable": True, "note": ""}
                if i in bounds and t["current"] != 0 and abs(req - t["current"]) / abs(t["current"]) * 100 > bounds[i]:
                    rec |= {"reachable": False, "note": f"needs more than max_change_pct={bounds[i]:g}"}
        rows.append(rec)
    out = pd.DataFrame(rows, index=terms.index)
    out["change"] = out["required"] - out["current"]
    out["change_pct"] = _change_pct(out["change"], out["current"])
    base = terms["base"].where(terms["base"] > 0)
    out["effort_pct"] = (out["change"].abs() / base * 100.0).where(out["reachable"])
    cols = ["zh", "current", "required", "change", "change_pct", "effort_pct", "reachable", "s_now",
            "s_required", "ideal", "weight", "note"]
    return out[cols]


def _plan_frame(terms: pd.DataFrame, r: np.ndarray) -> pd.DataFrame:
    new = [_new_value(t, float(ri)) for (_, t), ri in zip(terms.iterrows(), r, strict=True)]
    out = pd.DataFrame({"zh": [INDICATORS[i].zh for i in terms.index], "current": terms["current"],
                        "new": new}, index=terms.index)
    out["change"] = out["new"] - out["current"]
    out["change_pct"] = _change_pct(out["change"], out["current"]).fillna(0.0)
    out["effort_pct"] = r * 100.0
    s_new = [float(standardise_values(np.array([v]), t["ideal"], t["form"])[0])
             for v, (_, t) in zip(new, terms.iterrows(), strict=True)]
    out["s_now"] = terms["s_now"]
    out["s_new"] = s_new
    out["points"] = terms["weight"] * (out["s_new"] - out["s_now"]).fillna(0.0)
    return out.sort_values("effort_pct", ascending=False, kind="stable")


def gap_tables(
    row: pd.Series, preset: Preset, score_now: float, target_score: float, bounds: dict[str, float]
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Return (single-indicator table, combined plan, method) to reach ``target_score``."""
    terms = _terms(row, preset, bounds)
    need = target_score - score_now + _SLACK if target_score > score_now else 0.0
    single = _single(terms, need, bounds)
    if need <= 0:
        return single, _plan_frame(terms, np.zeros(len(terms))), "none"
    gain = (terms["weight"] * terms["slope"]).to_numpy()
    res = linprog(
        c=np.ones(len(terms)), A_ub=-gain[None, :], b_ub=[-need],
        bounds=list(zip(np.zeros(len(terms)), terms["cap"].to_numpy(), strict=True)), method="highs",
    )
    if res.status != 0:
        return single, _plan_frame(terms, terms["cap"].to_numpy()), "unreachable"
    r = np.where(res.x > 1e-12, res.x, 0.0)
    method = "lp"
    reachable = single[single["reachable"]]
    if len(reachable):
        best = reachable["effort_pct"].idxmin()
        if reachable.loc[best, "effort_pct"] < r.sum() * 100.0 - 1e-9:
            r = np.zeros(len(terms))
            r[terms.index.get_loc(best)] = reachable.loc[best, "effort_pct"] / 100.0
            method = f"single:{best}"
    return single, _plan_frame(terms, r), method
