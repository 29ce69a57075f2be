"""The rules file of the dynamic adjustment mechanism: pydantic model and YAML loading (private).

Users call :func:`zgc_space.dynamic.load_rules`; this module holds the format.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zgc_space.errors import RulesError
from zgc_space.io import line_of, load_yaml, read_yaml_text

__all__: list[str] = []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WarningRule(_Strict):
    """When a member gets a warning (黄牌) in a round: either condition is enough."""

    bottom_pct: float | None = Field(
        None, gt=0, lt=100,
        description="warn members whose share of members scoring strictly lower is below this (bottom X %)",
    )
    below_score: float | None = Field(default=None, gt=0, le=100, description="warn members scoring below this")

    @model_validator(mode="after")
    def _some(self) -> WarningRule:
        if self.bottom_pct is None and self.below_score is None:
            raise ValueError("give at least one of `bottom_pct` or `below_score`")
        return self


class Exit(_Strict):
    """When a member leaves the policy zones (退出)."""

    after_consecutive_warnings: int = Field(default=2, ge=1, description="exit after this many warnings in a row")
    max_per_round: int | None = Field(
        default=None, ge=0, description="at most this many exits per round (lowest first)"
    )


class Admission(_Strict):
    """When a unit outside the policy zones joins them (调入)."""

    min_score: float = Field(gt=0, le=100, description="admit non-members scoring at least this")
    max_per_round: int | None = Field(
        default=None, ge=0, description="at most this many admissions per round (best first)"
    )
    readmit_exited: bool = Field(default=False, description="whether units that exited may be admitted again")


class Rules(_Strict):
    """The rules of the dynamic adjustment mechanism (优胜劣汰), one round per year.

    Examples
    --------
    >>> r = Rules(warning={"bottom_pct": 10}, exit={"after_consecutive_warnings": 2})
    >>> r.unit, r.exit.after_consecutive_warnings, r.admission is None
    ('block_id', 2, True)
    """

    name: str = "rules"
    description: str = ""
    unit: str = Field(default="block_id", description="block_id, or a column grouping blocks into units (e.g. cluster)")
    members: str = Field(
        "policy_zone", description="boolean column: units in the policy zones in the first year ('all': every unit)"
    )
    preset: str = Field(default="cic_default", description="evaluation preset (name or YAML path)")
    min_members: int = Field(default=0, ge=0, description="exits never bring the policy zones below this many units")
    missing: Literal["refuse", "drop-indicator", "drop-blocks"] = Field(
        default="refuse",
        description="blank block values in the score's inputs: refuse (default), drop-indicator (the unit is "
                    "scored without that indicator, weights re-normalised) or drop-blocks (the blocks are left out "
                    "of the unit)",
    )
    warning: WarningRule
    exit: Exit = Field(default_factory=Exit)
    admission: Admission | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        problems = contradictions(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def contradictions(r: Rules) -> list[str]:
    """Rules that contradict each other or can never take effect."""
    out = []
    if r.exit.max_per_round == 0:
        out.append("exit.max_per_round is 0, so no member can ever exit after its warnings; "
                   "remove the cap or set it to 1 or more")
    a = r.admission
    if a is not None and r.members == "all" and not a.readmit_exited:
        out.append("members is 'all', so every unit starts in the policy zones and only units that exited are "
                   "outside, but admission.readmit_exited is false: no unit can ever be admitted; remove the "
                   "admission section, set readmit_exited: true, or name a members column")
    if a is not None:
        if r.warning.below_score is not None and a.min_score < r.warning.below_score:
            out.append(
                f"admission.min_score {a.min_score:g} is below warning.below_score {r.warning.below_score:g}: "
                "a unit could be admitted and warned in the same score range; raise admission.min_score to at "
                "least the warning score"
            )
        if a.max_per_round == 0:
            out.append("admission.max_per_round is 0, so no unit can ever be admitted; remove the admission "
                       "section or set the cap to 1 or more")
    return out


def parse(text: str, source: str) -> Rules:
    """Parse and validate rules YAML; errors name the file, line and key."""
    data, lines = load_yaml(text, source, what="rules file", error=RulesError)
    if not isinstance(data, dict):
        raise RulesError(f"rules {source} must be a YAML mapping with at least a `warning` section")
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "<top level>"
            found = line_of(loc, lines) if loc else None
            line = f" (line {found})" if found is not None else ""
            parts.append(f"{where}{line}: {str(err['msg']).removeprefix('Value error, ')}")
        raise RulesError(f"rules {source} are invalid: " + "; ".join(parts)) from None


def read(path: str | Path) -> Rules:
    path = Path(path)
    return parse(read_yaml_text(path, what="rules file", error=RulesError), str(path))


def finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


Mode = Literal["panel", "flat"]
