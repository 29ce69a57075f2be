r"""The dynamic adjustment mechanism (空间动态调整机制, 优胜劣汰) of the city-level policy zones.

The 2024 report plans a set of city-level policy management zones (市级政策管理区) that are
evaluated periodically: the weakest leave and better land comes in. This module lets planners
state such rules in a YAML file (:func:`load_rules`), see what they would have done on past data
(:func:`evaluate_panel`) and what they would do over the coming years (:func:`simulate`), before
the rules are adopted.

Each year is one round. Units (blocks, or groups of blocks such as clusters) are scored with an
evaluation preset. In each round, in this order:

1. a **member** gets a *warning* when it is in the bottom ``bottom_pct`` % of the members (the
   share of members scoring strictly lower than it is below ``bottom_pct`` %, so tied units are
   treated alike) or scores below ``below_score``;
2. a member warned in ``after_consecutive_warnings`` rounds in a row *exits*, lowest score first,
   at most ``max_per_round`` per round and never below ``min_members`` members; the others stay
   warned (the reason says the exit was deferred) and exit in a later round;
3. a **non-member** (not previously exited, unless ``readmit_exited``) scoring at least
   ``admission.min_score`` is *admitted*, best first, at most ``admission.max_per_round``.

Statuses: ``normal``, ``warning``, ``exit``, ``admitted`` and ``outside`` (a non-member that is
not admitted). Exits and admissions take effect from the next round.

Examples
--------
>>> from zgc_space import datasets, dynamic
>>> rules = dynamic.Rules(warning={"bottom_pct": 10}, exit={"after_consecutive_warnings": 2,
...                       "max_per_round": 3}, admission={"min_score": 80})
>>> status = dynamic.evaluate_panel(datasets.load_panel(), rules)
>>> status.loc[status["year"] == 2023, "status"].value_counts().sort_index().to_dict()
{'exit': 3, 'normal': 62, 'outside': 95, 'warning': 4}
>>> status.loc[status["status"] == "exit", "block_id"].tolist()
['B068', 'B069', 'B076', 'B124', 'B154', 'B159']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zgc_space import evaluation, indicators, ranking, schema
from zgc_space.dynamic import _rules as _dynamic_rules
from zgc_space.dynamic._rules import Admission, Exit, Rules, WarningRule
from zgc_space.errors import ColumnError, RulesError, list_ids

__all__ = [
    "STATUSES",
    "Admission",
    "Assumptions",
    "Exit",
    "Rules",
    "Simulation",
    "WarningRule",
    "EXAMPLE_RULES",
    "evaluate_panel",
    "load_rules",
    "simulate",
    "unit_scores",
]

log = logging.getLogger(__name__)

#: Status values of :func:`evaluate_panel`.
STATUSES: tuple[str, ...] = ("normal", "warning", "exit", "admitted", "outside")

#: The example rules of ``sample_data/dynamic_rules.yaml`` (an illustration, not adopted policy).
EXAMPLE_RULES = Rules(
    name="example_2024", unit="block_id", members="policy_zone", preset="cic_default", min_members=50,
    description="Warn the weakest tenth of the policy zones every year, let a zone leave after two warnings in a "
                "row (at most three per round), and admit outside blocks that score at least 80 (two per round).",
    warning=WarningRule(bottom_pct=10, below_score=50),
    exit=Exit(after_consecutive_warnings=2, max_per_round=3),
    admission=Admission(min_score=80, max_per_round=2, readmit_exited=False),
)

#: Columns :func:`simulate` projects forward by each unit's trend (land stays as it is).
TREND_COLUMNS: tuple[str, ...] = (
    "gfa_m2", "industrial_gfa_m2", "revenue_10k_cny", "industrial_revenue_10k_cny", "tax_10k_cny",
    "industrial_tax_10k_cny", "employees", "population",
)


def load_rules(rules: Rules | Mapping[str, Any] | str | Path) -> Rules:
    """Load and validate dynamic-adjustment rules from a YAML file, a mapping or a :class:`Rules`.

    Raises
    ------
    zgc_space.errors.RulesError
        Malformed YAML, unknown keys, values out of range, or contradictory rules (e.g. an
        admission threshold below the warning score, an exit cap of 0); the message names the
        key and, for files, the line.

    Examples
    --------
    >>> load_rules({"warning": {"below_score": 60}, "admission": {"min_score": 55}})
    Traceback (most recent call last):
    ...
    zgc_space.errors.RulesError: rules <mapping> are invalid: <top level>: admission.min_score 55 is below ...
    """
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, Mapping):
        try:
            return Rules.model_validate(dict(rules))
        except ValidationError as exc:
            parts = [f"{'.'.join(map(str, e['loc'])) or '<top level>'}: {str(e['msg']).removeprefix('Value error, ')}"
                     for e in exc.errors(include_url=False)]
            raise RulesError("rules <mapping> are invalid: " + "; ".join(parts)) from None
    return _dynamic_rules.read(rules)


# ---------------------------------------------------------------------------------------------


#: The most years :func:`simulate` runs after the panel (one scoring round each).
MAX_SIMULATED_YEARS = 100


def _check_panel(panel: pd.DataFrame, rules: Rules) -> None:
    name = f"panel {panel.attrs['zgc_source']}" if panel.attrs.get("zgc_source") else "panel"
    need = ["year", rules.unit] + ([] if rules.members == "all" else [rules.members])
    missing = [c for c in need if c not in panel.columns]
    if missing:
        raise ColumnError(
            f"{name} lacks column(s) {missing} that the rules use (unit={rules.unit!r}, members={rules.members!r}); "
            "give a panel with one row per block and year, or change the rules"
        )
    if len(panel) == 0:
        raise RulesError(f"{name} has no rows; give one row per block and year")
    years = pd.to_numeric(panel["year"], errors="coerce")
    bad = panel["year"][years.isna() | (years != years.round())]
    if len(bad):
        raise ColumnError(
            f"{name}: column year must hold whole years such as 2023, but holds {list_ids(sorted(set(map(str, bad))))} "
            "(text such as '2023年' is not a year); convert it, e.g. panel['year'] = "
            "panel['year'].str.extract(r'(\\d{4})')[0].astype(int)"
        )
    units = panel[rules.unit]
    empty = units.isna() | (units.astype("string").str.strip() == "")
    if empty.any():
        raise ColumnError(f"{name}: {int(empty.sum())} row(s) have no {rules.unit}; give every row its unit id")
    if rules.unit == "block_id":
        dup = panel.loc[panel.duplicated(["block_id", "year"], keep=False), ["block_id", "year"]]
        if len(dup):
            pairs = sorted({f"{b} {y}" for b, y in dup.itertuples(index=False)})
            raise ColumnError(f"{name}: block_id and year repeat ({list_ids(pairs)}); give one row per block and year")
    for col in panel.columns:
        spec = schema.COLUMNS.get(str(col))
        if spec is not None and spec.numeric and pd.api.types.is_numeric_dtype(panel[col]):
            inf = np.isinf(panel[col].to_numpy(dtype=float))
            if inf.any():
                raise ColumnError(f"{name}: column {col} is infinite in {int(inf.sum())} row(s); give finite values "
                                  "(NaN where unknown)")
    if rules.members != "all":
        flags = panel[rules.members]
        if flags.isna().any() or not (pd.api.types.is_bool_dtype(flags) or pd.api.types.is_numeric_dtype(flags)):
            shown = sorted({repr(v) for v in flags.unique()[:5]})
            raise ColumnError(
                f"{name}: members column {rules.members!r} must hold True/False in every row, but holds "
                f"{', '.join(shown)} (the text 'False' would count as a member); convert it to booleans"
            )


def unit_scores(panel: pd.DataFrame, *, unit: str = "block_id", preset: evaluation.PresetLike = "cic_default",
                members: str = "policy_zone", missing: evaluation.MissingPolicy = "refuse") -> pd.DataFrame:
    """Score every unit in every year: one row per (unit, year) with ``score`` and ``member``.

    ``member`` is whether the unit is in the policy zones in the panel (any of its blocks flagged).
    Blank block values in the score's inputs follow ``missing`` (the rules file's ``missing:``
    key), as in :func:`zgc_space.evaluation.score_blocks`: refuse by default, naming them.

    Examples
    --------
    >>> from zgc_space import datasets
    >>> s = unit_scores(datasets.load_panel())
    >>> s.shape, round(float(s["score"].min()), 2)
    ((492, 2), 40.08)
    """
    p = evaluation.load_preset(preset)
    scored = evaluation.score_blocks(panel, preset=p, by=[unit, "year"], missing=missing)
    out = pd.DataFrame({"score": scored["score"].to_numpy(float)}, index=scored.index)
    if members == "all":
        out["member"] = True
    else:
        flag = panel[members].astype(bool).groupby([panel[unit], panel["year"]]).any()
        out["member"] = flag.reindex(out.index).fillna(False).astype(bool).to_numpy()
    return out


def _round(scores: pd.Series, member: set[Any], exited: set[Any], streak: dict[Any, int], rules: Rules,
           ) -> tuple[dict[Any, tuple[str, str]], set[Any], set[Any]]:
    """One round: status and reason per unit, the units leaving and the units joining."""
    w, e, a = rules.warning, rules.exit, rules.admission
    mem = [u for u in scores.index if u in member]
    ms = scores.loc[mem].to_numpy(float)
    out: dict[Any, tuple[str, str]] = {}
    due: list[Any] = []
    for u, s in zip(mem, ms, strict=True):
        reasons = []
        if np.isnan(s):
            streak[u] = 0
            out[u] = ("normal", "score undefined (missing data); not evaluated this round")
            continue
        if w.bottom_pct is not None:
            share = 100.0 * float((ms[~np.isnan(ms)] < s).sum()) / len(ms)
            if share < w.bottom_pct:
                reasons.append(f"in the bottom {w.bottom_pct:g} % of members ({share:.1f} % score lower)")
        if w.below_score is not None and s < w.below_score:
            reasons.append(f"score {s:.2f} below {w.below_score:g}")
        if not reasons:
            streak[u] = 0
            out[u] = ("normal", f"score {s:.2f}")
            continue
        streak[u] = streak.get(u, 0) + 1
        out[u] = ("warning", "; ".join(reasons) + f"; warning {streak[u]} in a row")
        if streak[u] >= e.after_consecutive_warnings:
            due.append(u)
    due.sort(key=lambda u: (scores[u], str(u)))
    room = len(mem) - rules.min_members
    cap = len(due) if e.max_per_round is None else e.max_per_round
    n_exit = max(0, min(cap, room, len(due)))
    leaving = set(due[:n_exit])
    for u in due[:n_exit]:
        out[u] = ("exit", out[u][1] + f"; exits after {e.after_consecutive_warnings} consecutive warnings")
        streak[u] = 0
    for u in due[n_exit:]:
        why = "the cap of exits per round" if n_exit == cap else f"min_members {rules.min_members}"
        out[u] = ("warning", out[u][1] + f"; exit deferred by {why}")
    joining: set[Any] = set()
    outside = [u for u in scores.index if u not in member]
    eligible = []
    for u in outside:
        s = float(scores[u])
        if a is None or np.isnan(s) or s < a.min_score:
            out[u] = ("outside", "score undefined" if np.isnan(s) else f"score {s:.2f}")
        elif u in exited and not a.readmit_exited:
            out[u] = ("outside", f"score {s:.2f} qualifies, but the unit exited earlier (readmit_exited is false)")
        else:
            eligible.append(u)
    if a is not None:
        eligible.sort(key=lambda u: (-scores[u], str(u)))
        cap_a = len(eligible) if a.max_per_round is None else a.max_per_round
        for k, u in enumerate(eligible):
            s = float(scores[u])
            if k < cap_a:
                out[u] = ("admitted", f"score {s:.2f} at least {a.min_score:g}")
                joining.add(u)
            else:
                out[u] = ("outside", f"score {s:.2f} qualifies; admission deferred by the cap of "
                                     f"{a.max_per_round} per round")
    return out, leaving, joining


def _run(scores: pd.DataFrame, rules: Rules, years: list[int]) -> pd.DataFrame:
    units = scores.index.get_level_values(0).unique()
    first = scores.xs(years[0], level=1)
    member = set(first.index[first["member"].to_numpy(bool)])
    exited: set[Any] = set()
    streak: dict[Any, int] = {}
    rows = []
    for y in years:
        s = scores.xs(y, level=1)["score"].reindex(units)
        was = set(member)
        status, leaving, joining = _round(s, member, exited, streak, rules)
        for u in units:
            st, why = status[u]
            rows.append((u, y, float(s[u]), u in was, st, why, streak.get(u, 0) if u in was else 0))
        member = (member - leaving) | joining
        exited |= leaving
        for u in joining:
            streak[u] = 0
    out = pd.DataFrame(rows, columns=[rules.unit, "year", "score", "member", "status", "reason",
                                      "consecutive_warnings"])
    return out.sort_values([rules.unit, "year"], kind="stable").reset_index(drop=True)


def evaluate_panel(panel: pd.DataFrame, rules: Rules | Mapping[str, Any] | str | Path) -> pd.DataFrame:
    """Apply the rules to a panel (blocks × years): the status of every unit in every year, with the reason.

    Parameters
    ----------
    panel
        One row per block and year (column ``year``), canonical columns, e.g.
        ``sample_data/zgc_panel_2021_2023.gpkg``.
    rules
        :class:`Rules`, a mapping, or a YAML file (see :func:`load_rules`).

    Returns
    -------
    pandas.DataFrame
        One row per unit and year: the unit column, ``year``, ``score``, ``member`` (in the policy
        zones during that round), ``status`` (one of :data:`STATUSES`), ``reason`` and
        ``consecutive_warnings``.

    Raises
    ------
    RulesError
        Invalid or contradictory rules, or ``min_members`` at or above the number of members in
        the first year (no member could ever exit).
    ColumnError
        The panel lacks ``year`` or a column the rules name.
    """
    r = load_rules(rules)
    _check_panel(panel, r)
    scores = unit_scores(panel, unit=r.unit, preset=r.preset, members=r.members, missing=r.missing)
    years = sorted(int(y) for y in scores.index.get_level_values(1).unique())
    start = int(scores.xs(years[0], level=1)["member"].sum()) if years else 0
    if years and r.min_members > 0 and r.min_members >= start:
        raise RulesError(
            f"min_members {r.min_members} is at or above the {start} members in the first year ({years[0]}, "
            f"members={r.members!r}), so every exit would be deferred for ever; set min_members below {start} "
            "(0: no floor)"
        )
    return _run(scores, r, years)


# ---------------------------------------------------------------------------------------------
# simulation


class Assumptions(BaseModel):
    """How the units develop in the simulated years.

    ``trend="panel"``: each unit's columns in :data:`TREND_COLUMNS` grow every year at the unit's
    own compound annual rate over the panel, clipped to ``±max_growth_pct``; ``"flat"``: nothing
    changes (only the mechanism acts). Land columns stay as in the last panel year.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    trend: Literal["panel", "flat"] = "panel"
    max_growth_pct: float = Field(default=15.0, ge=0)


@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate`.

    ``status`` has one row per unit and year (panel and simulated years, ``simulated`` flag);
    ``zone`` one row per year with the policy zones' indicators under the mechanism and, for
    comparison, with the first year's members kept (``*_static``); ``panel`` the projected
    blocks.
    """

    status: pd.DataFrame
    zone: pd.DataFrame
    panel: pd.DataFrame
    rules: Rules
    assumptions: Assumptions


def _project(panel: pd.DataFrame, years: int, a: Assumptions) -> pd.DataFrame:
    """Append ``years`` projected years after the panel's last year."""
    ys = sorted(int(y) for y in panel["year"].unique())
    last = panel[panel["year"] == ys[-1]].set_index("block_id")
    first = panel[panel["year"] == ys[0]].set_index("block_id").reindex(last.index)
    cols = [c for c in TREND_COLUMNS if c in panel.columns]
    span = ys[-1] - ys[0]
    rate = pd.DataFrame(0.0, index=last.index, columns=cols)
    if a.trend == "panel" and span > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            for c in cols:
                ratio = last[c].astype(float) / first[c].astype(float)
                r = np.power(ratio.where(ratio > 0), 1.0 / span) - 1.0
                rate[c] = r.fillna(0.0).clip(-a.max_growth_pct / 100, a.max_growth_pct / 100)
    frames = [panel]
    cur = last
    for k in range(1, years + 1):
        nxt = cur.copy()
        for c in cols:
            nxt[c] = cur[c].astype(float) * (1.0 + rate[c])
        nxt["year"] = ys[-1] + k
        frames.append(nxt.reset_index())
        cur = nxt
    out = pd.concat(frames, ignore_index=True)
    return out


def _zone_rows(panel: pd.DataFrame, status: pd.DataFrame, rules: Rules, peers: Any) -> pd.DataFrame:
    unit = rules.unit
    rows = []
    leaf = list(evaluation.load_preset(rules.preset).leaf_weights())
    extra = [i for i in ("far", "tax_10k_cny_per_ha")
             if i not in leaf and all(c in panel.columns for c in indicators.INDICATORS[i].columns)]
    first = status[status["year"] == status["year"].min()]
    static = set(first.loc[first["member"], unit])
    for y, st in status.groupby("year"):
        members = set(st.loc[st["member"], unit])
        rec: dict[str, Any] = {"year": int(y)}
        for tag, chosen in (("", members), ("_static", static)):
            blocks = panel[(panel["year"] == y) & panel[unit].isin(chosen)]
            ind = indicators.compute(blocks, by="zone", indicators=leaf + extra)
            sc = float(evaluation.score(ind, preset=rules.preset)["score"].iloc[0])
            rec[f"members{tag}"] = len(chosen)
            for i in ("far", "tax_10k_cny_per_ha"):
                if i in ind.columns:
                    rec[f"{i}{tag}"] = float(ind[i].iloc[0])
            rec[f"score{tag}"] = sc
            rec[f"rank{tag}"] = ranking.rank(sc, peers=peers, preset=rules.preset).rank
        rec["warnings"] = int((st["status"] == "warning").sum())
        rec["exits"] = int((st["status"] == "exit").sum())
        rec["admissions"] = int((st["status"] == "admitted").sum())
        rows.append(rec)
    return pd.DataFrame(rows).set_index("year")


def simulate(
    panel: pd.DataFrame,
    rules: Rules | Mapping[str, Any] | str | Path,
    *,
    years: int = 3,
    assumptions: Assumptions | Mapping[str, Any] | None = None,
    peers: Any = None,
) -> Simulation:
    """Simulate the mechanism over the panel and ``years`` further years.

    The panel's last year is projected forward with ``assumptions``; the rules run over all the
    years; the policy zones (the members of each round) are evaluated as one zone every year:
    FAR, tax per hectare, score and national rank, with and without the mechanism.

    Parameters
    ----------
    panel
        Blocks × years (column ``year``, ``block_id``).
    rules
        :class:`Rules`, mapping or YAML file.
    years
        Number of years to simulate after the panel's last year (≥ 1).
    assumptions
        :class:`Assumptions` (default: each unit continues its panel trend, capped at ±15 %/year).
    peers
        Peer zones for the rank (default: the shipped synthetic peers).

    Returns
    -------
    Simulation

    Examples
    --------
    >>> from zgc_space import datasets
    >>> rules = {"warning": {"bottom_pct": 10}, "exit": {"after_consecutive_warnings": 2, "max_per_round": 3},
    ...          "admission": {"min_score": 80, "max_per_round": 2}}
    >>> sim = simulate(datasets.load_panel(), rules, years=2)
    >>> sim.zone.index.tolist(), bool((sim.zone["score"] >= sim.zone["score_static"]).all())
    ([2021, 2022, 2023, 2024, 2025], True)
    """
    r = load_rules(rules)
    if not isinstance(years, (int, np.integer)) or years < 1 or years > MAX_SIMULATED_YEARS:
        raise RulesError(f"years must be a whole number from 1 to {MAX_SIMULATED_YEARS}, got {years!r}")
    a = assumptions if isinstance(assumptions, Assumptions) else Assumptions(**dict(assumptions or {}))
    _check_panel(panel, r)
    if "block_id" not in panel.columns:
        raise ColumnError("panel lacks block_id; simulate projects each block forward")
    projected = _project(pd.DataFrame(panel.drop(columns="geometry", errors="ignore")), int(years), a)
    status = evaluate_panel(projected, r)
    last = int(pd.to_numeric(panel["year"]).max())
    status["simulated"] = status["year"] > last
    zone = _zone_rows(projected, status, r, peers)
    zone["simulated"] = zone.index > last
    return Simulation(status=status, zone=zone, panel=projected, rules=r, assumptions=a)
