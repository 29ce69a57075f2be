"""What a search and a Pareto front return: the result types and the constraints they ran under."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from zgc_space import labels
from zgc_space.optimize import _model as sm
from zgc_space.optimize._settings import Renewal, SearchConstraints
from zgc_space.scenarios.proposal import Proposal


@dataclass(frozen=True)
class SearchResult:
    """The answer of :func:`search`.

    ``value`` is the objective of the proposal applied to the baseline and evaluated with
    :func:`zgc_space.scenarios.evaluate`; ``milp_value`` is what the solver claimed (they agree
    to the solver tolerance); ``bound`` is the best possible value proved by the solver and
    ``gap`` the relative optimality gap. ``constraints`` and ``renewal`` are the settings the
    search was given (to reproduce it); ``area_bounds`` the total-site-area bounds it ran under
    (defaults resolved).
    """

    proposal: Proposal
    objective: str
    sense: str
    value: float
    baseline_value: float
    milp_value: float
    bound: float
    gap: float
    status: str
    method: str
    iterations: int
    seconds: float
    evaluation: pd.DataFrame
    selection: dict[str, list[str]] = field(default_factory=dict)
    constraints: SearchConstraints | None = None
    renewal: Renewal | None = None
    area_bounds: sm.AreaBounds | None = None

    def constraints_text(self, *, lang: str = "en") -> list[str]:
        """Return the constraints the search ran under, one line each (defaults resolved), in ``lang``.

        Examples
        --------
        >>> from zgc_space import datasets, optimize
        >>> res = optimize.search(datasets.load_blocks(), None, objective="far",
        ...                       constraints=optimize.SearchConstraints(max_changes=1))
        >>> res.constraints_text()[1]
        'max_changes 1'
        """
        return constraints_text(self.constraints or SearchConstraints(), self.area_bounds, lang=lang)

    def settings(self) -> dict[str, Any]:
        """Return what reproduces the search: objective, sense, constraints and renewal (plain data).

        Examples
        --------
        >>> from zgc_space import datasets, optimize
        >>> res = optimize.search(datasets.load_blocks(), None, objective="far",
        ...                       constraints=optimize.SearchConstraints(max_changes=1))
        >>> res.settings()["constraints"]["max_changes"], res.settings()["renewal"]
        (1, None)
        """
        return {
            "objective": self.objective, "sense": self.sense,
            "constraints": None if self.constraints is None else self.constraints.model_dump(mode="json"),
            "renewal": None if self.renewal is None else self.renewal.model_dump(mode="json"),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready plain data (stable keys)."""
        from zgc_space.scenarios.proposal import dump_proposal

        return {
            "objective": self.objective, "sense": self.sense, "value": self.value,
            "baseline_value": self.baseline_value, "milp_value": self.milp_value, "bound": self.bound,
            "gap": self.gap, "status": self.status, "method": self.method, "iterations": self.iterations,
            "seconds": round(self.seconds, 3), "selection": self.selection,
            "constraints": self.settings()["constraints"], "renewal": self.settings()["renewal"],
            "area_bounds": None if self.area_bounds is None else dict(self.area_bounds.__dict__),
            "constraints_used": self.constraints_text(),
            "evaluation": self.evaluation.reset_index().to_dict(orient="records"),
            "proposal": dump_proposal(self.proposal),
        }


def constraints_text(c: SearchConstraints, bounds: sm.AreaBounds | None, *, lang: str = "en") -> list[str]:
    """Return the constraints a search runs under, one line each (``bounds``: the resolved area bounds).

    ``lang="zh"`` says them in Chinese (the terminal's ``--zh``, the hearing pack).

    Examples
    --------
    >>> constraints_text(SearchConstraints(max_changes=2, must_keep=["B001"]), None)
    ['must_keep B001', 'max_changes 2']
    >>> constraints_text(SearchConstraints(max_changes=2, must_keep=["B001"]), None, lang="zh")
    ['必须保留的区块：B001', '最多调整 2 处']
    """
    lines = [] if bounds is None else [bounds.text(lang)]
    if c.must_keep:
        lines.append(labels.pick(f"必须保留的区块：{'、'.join(c.must_keep)}", f"must_keep {', '.join(c.must_keep)}",
                                 lang))
    if c.max_distance_m is not None:
        distance = f"{c.max_distance_m:,.6g}"
        lines.append(labels.pick(f"调入地块距现有区块不超过 {distance} 米", f"max_distance_m {distance}", lang))
    return lines + sm.unchecked(c, lang=lang)


def summary_table(result: Any, *, lang: str = "en") -> pd.DataFrame:
    """Return a search's answer in words: objective, baseline, optimum, solver status, gap, method.

    One column ``value`` of display strings indexed by ``key`` (``objective``, ``baseline``,
    ``optimised``, ``solver_status``, ``gap``, ``method``), in ``lang``; any object with the
    attributes of :class:`SearchResult` works.

    Examples
    --------
    >>> from zgc_space import datasets, optimize
    >>> res = optimize.search(datasets.load_blocks(), None, objective="far",
    ...                       constraints=optimize.SearchConstraints(max_changes=1))
    >>> summary_table(res, lang="zh").loc["solver_status", "value"]
    '最优'
    """
    lang = labels.check_lang(lang)
    zh, en = labels.column_name(result.objective, "zh"), labels.column_name(result.objective, "en")
    unit = labels.unit(labels.unit_of(result.objective), lang)
    gap = float(result.gap) if result.gap is not None and math.isfinite(float(result.gap)) else None
    method = str(result.method)
    method_text = labels.term("exact", lang) if method.startswith("exact") else labels.sentence(method, lang)
    values = [f"{labels.term(str(result.sense), lang)}{labels.pick('', ' ', lang)}{labels.pick(zh, en, lang)}",
              labels.value(result.baseline_value, lang, unit=unit),
              labels.value(result.value, lang, unit=unit),
              labels.term(str(result.status), lang),
              "—" if gap is None else f"{100 * gap:.2f}%",
              method_text]
    return pd.DataFrame({"value": values}, index=pd.Index(["objective", "baseline", "optimised", "solver_status",
                                                           "gap", "method"], name="key"))


@dataclass(frozen=True)
class ParetoFront:
    """The trade-off front of :func:`pareto`: one row per non-dominated point, with its proposal."""

    objectives: tuple[str, str]
    senses: tuple[str, str]
    table: pd.DataFrame
    proposals: list[Proposal]
    seconds: float
    area_bounds: sm.AreaBounds | None = None


# ---------------------------------------------------------------------------------------------
