r"""Composite evaluation to TD/T 1029: zone type, presets, capped standardisation, scores.

The national monitoring scores a development zone's land-use intensity (土地利用集约度分值) in
three steps (TD/T 1029-2010 (2014 rev.), scoring: standardisation against ideal values and weighted sums):

1. each indicator X gets an ideal value T (from plans, benchmark zones or expert judgement);
2. it is standardised to 0-100 with a cap, so that reaching the ideal gives full marks:

   .. math::

       S_+ = \min(X / T, 1) \cdot 100, \qquad
       S_-^{\text{ratio}} = \min(T / X, 1) \cdot 100, \qquad
       S_-^{\text{complement}} = \min\left(\frac{100 - X}{100 - T}, 1\right) \cdot 100

   (positive indicators; negative indicators in ratio or, for rates in %, complement form);
3. the scores are summed with weights up a tree indicator → sub-goal → goal → composite.

Weights and ideal values live in versioned YAML presets shipped in ``zgc_space/presets``
(:func:`list_presets`). Sibling weights are re-normalised to sum to 1 at every level; when an
indicator is missing (absent column, or NaN for a row, e.g. a zero denominator) its weight is
re-normalised over its siblings, and a :class:`~zgc_space.errors.PresetWarning` says so.

The monitoring combines two evaluation ranges, ``score = 0.8 F_main + 0.2 F_expansion``; the
expansion range's 程度 sub-goal uses the development rate in place of the completion rate.
:func:`score` scores indicator tables (pass the expansion range's indicators as
``expansion=``); :func:`score_blocks` scores groups of blocks, splitting them by their
``range`` column and refusing blank inputs unless told what to do with them (``missing=``).

Examples
--------
>>> import pandas as pd
>>> from zgc_space import evaluation
>>> zone = pd.DataFrame({"supply_rate_pct": [95.0], "completion_rate_pct": [90.0], "far": [1.18],
...     "building_density_pct": [24.0], "tax_10k_cny_per_ha": [1800.0], "population_per_ha": [45.0],
...     "idle_rate_pct": [1.0]}, index=["ZGC"])
>>> round(float(evaluation.score(zone)["score"].iloc[0]), 2)
63.13
>>> evaluation.zone_type(pd.Series({"industrial_share_pct": 12.0, "residential_share_pct": 31.0}))
'city_industry'
"""

from __future__ import annotations

from zgc_space.evaluation._blocks import MISSING_POLICIES, MissingPolicy, block_ranges, missing_inputs, score_blocks
from zgc_space.evaluation._presets import IndicatorSpec, Preset
from zgc_space.evaluation._score import (
    PresetLike,
    contributions,
    list_presets,
    load_preset,
    score,
    standardise,
    zone_type,
)
from zgc_space.evaluation._scoring import effective_weights, indicator_numbers, invert, standardise_values

__all__ = [
    "MISSING_POLICIES",
    "IndicatorSpec",
    "MissingPolicy",
    "Preset",
    "PresetLike",
    "contributions",
    "effective_weights",
    "indicator_numbers",
    "invert",
    "list_presets",
    "load_preset",
    "block_ranges",
    "missing_inputs",
    "score",
    "score_blocks",
    "standardise",
    "standardise_values",
    "zone_type",
]
