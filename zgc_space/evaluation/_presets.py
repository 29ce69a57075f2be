"""Evaluation presets: the pydantic models, YAML loading and validation (private plumbing).

Users call :func:`zgc_space.evaluation.load_preset` and :func:`zgc_space.evaluation.list_presets`;
this module holds the file format. A preset is a YAML file with a weight tree
(goal -> sub-goal -> indicator), one ideal value T per indicator with its source, the direction
of each indicator and the evaluation-range weights (TD/T 1029-2010, 2014 rev.: standardisation
against ideal values, then weighted sums).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from zgc_space.errors import PresetError
from zgc_space.indicators import INDICATORS
from zgc_space.io import read_yaml

#: Indicator ids an evaluation preset may use (the ids of :mod:`zgc_space.indicators`).
INDICATOR_IDS: frozenset[str] = frozenset(INDICATORS)

ZoneType = Literal["industry_led", "city_industry", "other"]
NegativeForm = Literal["ratio", "complement"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorSpec(_Strict):
    """Ideal value, direction and source of one indicator in a preset."""

    ideal: float = Field(description="ideal value T, in the indicator's unit")
    direction: Literal["positive", "negative"]
    source: str = Field(min_length=1, description="where T comes from (plan, benchmark, judgement)")
    negative_form: NegativeForm | None = None
    zh: str = ""

    @field_validator("ideal")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("ideal value must be a finite number")
        return value


class SubGoal(_Strict):
    """A sub-goal (分目标): a weight and its indicators' weights."""

    weight: float = Field(gt=0)
    zh: str = ""
    note: str = ""
    indicators: dict[str, float]

    @field_validator("indicators")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in value.items() if not (w > 0 and math.isfinite(w))]
        if bad:
            raise ValueError(f"indicator weights must be positive numbers (bad: {', '.join(bad)})")
        return value


class Goal(_Strict):
    """A goal (目标) of the weight tree."""

    weight: float = Field(gt=0)
    zh: str = ""
    subgoals: dict[str, SubGoal] = Field(min_length=1)


class Ranges(_Strict):
    """Weights of the evaluation ranges: main (主区) and expansion (发展方向区)."""

    main: float = Field(gt=0)
    expansion: float = Field(gt=0)
    note: str = ""
    #: Indicators the expansion range scores in place of the main range's (TD/T 1029, 2014
    #: revision: its 程度 sub-goal uses the development rate, not the completion rate), scored
    #: with the ideal and form of the indicator they replace.
    expansion_substitutes: dict[str, str] = Field(
        default_factory=lambda: {"completion_rate_pct": "development_rate_pct"})


class Preset(_Strict):
    """An evaluation preset: weight tree, ideal values, directions, range weights.

    Weights are stored as published; :meth:`leaf_weights` re-normalises siblings to sum to 1.
    Sub-goals without indicators (e.g. 结构 for 产城融合型) are kept as published and dropped
    by the re-normalisation.
    """

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    zone_type: ZoneType
    monitoring_year: int
    description: str = ""
    negative_form: NegativeForm = "complement"
    ranges: Ranges
    goals: dict[str, Goal] = Field(min_length=1)
    indicators: dict[str, IndicatorSpec]

    @model_validator(mode="after")
    def _consistent(self) -> Preset:
        problems: list[str] = []
        seen: set[str] = set(self.goals)
        tree_ids: list[str] = []
        for gid, goal in self.goals.items():
            for sid, sub in goal.subgoals.items():
                if sid in seen:
                    problems.append(f"goals.{gid}.subgoals.{sid}: id used twice in the tree")
                seen.add(sid)
                for ind in sub.indicators:
                    where = f"goals.{gid}.subgoals.{sid}.indicators.{ind}"
                    if ind not in INDICATOR_IDS:
                        problems.append(f"{where}: unknown indicator (see zgc_space.indicators.indicator_catalog())")
                    elif ind in tree_ids:
                        problems.append(f"{where}: indicator used twice in the tree")
                    elif ind not in self.indicators:
                        problems.append(f"{where}: no ideal value (add indicators.{ind}.ideal)")
                    tree_ids.append(ind)
        if not tree_ids:
            problems.append("goals: the weight tree has no indicator")
        for ind, spec in self.indicators.items():
            if ind not in INDICATOR_IDS:
                problems.append(f"indicators.{ind}: unknown indicator")
            form = spec.negative_form or self.negative_form
            if spec.direction == "positive" and spec.ideal <= 0:
                problems.append(f"indicators.{ind}.ideal: must be > 0 for a positive indicator")
            elif spec.direction == "negative" and form == "ratio" and spec.ideal <= 0:
                problems.append(f"indicators.{ind}.ideal: must be > 0 for the ratio form min(T/X, 1)")
            elif spec.direction == "negative" and form == "complement" and not 0 <= spec.ideal < 100:
                problems.append(f"indicators.{ind}.ideal: must be in [0, 100) for the complement form")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def leaf_weights(self) -> dict[str, tuple[str, str, float]]:
        """Return ``{indicator: (goal, sub-goal, effective weight)}``, weights summing to 1.

        Siblings are re-normalised at each level; empty sub-goals are dropped.
        """
        out: dict[str, tuple[str, str, float]] = {}
        goals = {g: v for g, v in self.goals.items() if any(s.indicators for s in v.subgoals.values())}
        g_total = sum(v.weight for v in goals.values())
        for gid, goal in goals.items():
            subs = {s: v for s, v in goal.subgoals.items() if v.indicators}
            s_total = sum(v.weight for v in subs.values())
            for sid, sub in subs.items():
                i_total = sum(sub.indicators.values())
                for ind, w in sub.indicators.items():
                    out[ind] = (gid, sid, goal.weight / g_total * sub.weight / s_total * w / i_total)
        return out

    def form(self, indicator: str) -> str:
        """Return ``"positive"``, ``"ratio"`` or ``"complement"`` for an indicator."""
        spec = self.indicators[indicator]
        if spec.direction == "positive":
            return "positive"
        return spec.negative_form or self.negative_form


@dataclass(frozen=True)
class LoadedPreset:
    """A validated preset and the file it came from."""

    preset: Preset
    path: str


def builtin_dir() -> Path:
    """Return the folder of the presets shipped with the package."""
    return Path(str(resources.files("zgc_space.evaluation") / "presets"))


def builtin_names() -> list[str]:
    """Return the names of the shipped presets, sorted."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def _format(exc: ValidationError, path: str) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{key}: {msg}" if key != "(top level)" else msg)
    return f"preset file {path}: " + "; ".join(parts)


def read_preset(name_or_path: str | Path) -> LoadedPreset:
    """Load and validate a preset by shipped name or file path; raise PresetError naming file and key."""
    text_name = str(name_or_path)
    candidate = Path(text_name)
    if candidate.suffix.lower() in {".yaml", ".yml"} or candidate.exists():
        path = candidate
    elif text_name in builtin_names():
        path = builtin_dir() / f"{text_name}.yaml"
    else:
        raise PresetError(
            f"unknown preset {text_name!r}: give a YAML file path or one of {', '.join(builtin_names())}"
        )
    if not path.is_file():
        raise PresetError(f"preset file {path} does not exist")
    data, _ = read_yaml(path, what="preset file", error=PresetError)
    if not isinstance(data, dict):
        raise PresetError(f"preset file {path}: top level must be a mapping of keys (name, version, goals, ...)")
    try:
        preset = Preset.model_validate(data)
    except ValidationError as exc:
        raise PresetError(_format(exc, str(path))) from None
    return LoadedPreset(preset, str(path))
