"""What a search and a Pareto front return: the result types and the constraints they ran under."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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

    def constraints_text(self) -> list[str]:
        """Return the constraints the search ran under, one line each (defaults resolved).

        Examples
        --------
        >>> from zgc_space import datasets, optimize
        >>> res = optimize.search(datasets.load_blocks(), None, objective="far",
        ...                       constraints=optimize.SearchConstraints(max_changes=1))
        >>> res.constraints_text()[1]
        'max_changes 1'
        """
        return constraints_text(self.constraints or SearchConstraints(), self.area_bounds)

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


def constraints_text(c: SearchConstraints, bounds: sm.AreaBounds | None) -> list[str]:
    """Return the constraints a search runs under, one line each (``bounds``: the resolved area bounds).

    Examples
    --------
    >>> constraints_text(SearchConstraints(max_changes=2, must_keep=["B001"]), None)
    ['must_keep B001', 'max_changes 2']
    """
    lines = [] if bounds is None else [bounds.text()]
    if c.must_keep:
        lines.append(f"must_keep {', '.join(c.must_keep)}")
    if c.max_distance_m is not None:
        lines.append(f"max_distance_m {c.max_distance_m:,.6g}")
    return lines + sm.unchecked(c)


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
