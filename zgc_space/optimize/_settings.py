"""The settings of :func:`zgc_space.optimize.search`: what renewal may do, and the constraints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zgc_space.scenarios.proposal import Elasticity

__all__ = ["Renewal", "SearchConstraints"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf is never a limit


class Renewal(_Model):
    """The renewal (更新改造) the search may apply to kept blocks, and what it costs.

    Exactly one of ``far_step`` (raise FAR by this much) or ``far_target`` (raise FAR to this
    value, never lowering floor area) is given. The cost of renewing a block is the floor area it
    adds times ``cost_10k_cny_per_m2``; :attr:`SearchConstraints.renewal_budget_10k_cny` caps the
    total. With ``respect_far_cap`` only blocks whose new floor area stays within
    ``far_cap × (A + B)`` (or with an unknown cap) are candidates for renewal.
    """

    far_step: float | None = Field(default=None, gt=0)
    far_target: float | None = Field(default=None, gt=0)
    elasticity: Elasticity = Field(default=Elasticity(revenue=0.0, tax=0.0, employees=0.0))
    cost_10k_cny_per_m2: float = Field(default=0.5, ge=0, description="construction cost per m² of floor area added")
    blocks: list[str] | None = Field(default=None, description="blocks that may be renewed (default: all)")
    respect_far_cap: bool = True

    @model_validator(mode="after")
    def _one_rule(self) -> Renewal:
        if (self.far_step is None) == (self.far_target is None):
            raise ValueError("give exactly one of `far_step` or `far_target`")
        return self


class SearchConstraints(_Model):
    """Constraints of :func:`search`.

    The adjusted total site area may not exceed ``area_cap_m2`` (default: the baseline total,
    area-neutral as in :class:`zgc_space.scenarios.proposal.Constraints`) nor fall below
    ``min_area_m2`` (default: 98 % of the smaller of the cap and the baseline, i.e. baseline
    − 2 %, so that released land must be balanced by admitted land and the zone is never
    dissolved into its best blocks). ``min_area_m2=0`` removes the floor, with an
    :class:`~zgc_space.errors.OptimizationWarning` (as does any floor more than 5 % below the
    baseline). Repeated ids in ``must_keep`` count once.

    The proposal :func:`search` writes carries the area bounds used, ``must_keep`` and
    ``max_distance_m`` (which :func:`zgc_space.scenarios.apply` checks); the others are listed
    in its description.
    """

    area_cap_m2: float | None = Field(default=None, gt=0, description="maximum total site area (default: baseline)")
    min_area_m2: float | None = Field(default=None, ge=0,
                                      description="minimum total site area (default: 98 % of the baseline)")
    must_keep: list[str] = Field(default_factory=list)
    subpark_min_area_m2: dict[str, float] = Field(default_factory=dict)
    subpark_max_area_m2: dict[str, float] = Field(default_factory=dict)
    max_changes: int | None = Field(default=None, ge=0, description="releases + admissions + renewals")
    max_distance_m: float | None = Field(default=None, ge=0, description="admitted land within this of a kept block")
    renewal_budget_10k_cny: float | None = Field(default=None, ge=0)

    @field_validator("must_keep")
    @classmethod
    def _unique(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(ids))
