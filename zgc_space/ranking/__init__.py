"""National benchmark: rank a zone among its peers and find what it takes to reach a target rank.

The MNR monitoring ranks development zones by their composite score **within each zone type**
(TD/T 1029-2010 (2014 rev.) and MNR's annual monitoring). The real per-zone table is not public, so the package ships
``sample_data/peers_cic_131.csv``: 130 **synthetic** 产城融合型 zones drawn by
:func:`make_synthetic_peers` around the published national figures. With the zone being
evaluated they make the 131 zones of the published ranking (ZGC plus 130 peers); against them
the sample ZGC ranks 74th under the default preset. A real ranking table can replace them
(:func:`load_peers`).

Ranking convention (ties): scores are compared after rounding to 6 decimals; a zone's rank is
``1 + the number of peers scoring strictly higher`` (standard competition ranking, "1224"), so
tied zones share the better rank. ``of`` is the number of peers plus one (the zone itself).

Examples
--------
>>> import pandas as pd
>>> from zgc_space import benchmark
>>> peers = pd.DataFrame({"zone_id": ["P1", "P2", "P3"], "score": [80.0, 60.0, 60.0]})
>>> r = benchmark.rank(60.0, peers=peers)
>>> (r.rank, r.of, r.percentile)
(2, 4, 0.0)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from zgc_space import evaluation
from zgc_space.errors import RankError
from zgc_space.ranking._gap import gap_tables
from zgc_space.ranking._margin import UNCERTAIN_COLUMNS, corner_factors, rank_blocks, rank_interval
from zgc_space.ranking._peers import NationalFigures, make_synthetic_peers
from zgc_space.ranking._rank import (
    PEERS_FILE,
    TIE_DECIMALS,
    GapResult,
    RankResult,
    _check_zone_type,
    _peers_of_type,
    _rank_of,
    _zone_score,
    build_sample_peers,
    load_peers,
    peer_scores,
    rank_scores,
    sample_peers,
    sample_peers_path,
)

__all__ = [
    "PEERS_FILE",
    "TIE_DECIMALS",
    "GapResult",
    "NationalFigures",
    "RankResult",
    "build_sample_peers",
    "corner_factors",
    "gap_to_rank",
    "load_peers",
    "make_synthetic_peers",
    "peer_scores",
    "UNCERTAIN_COLUMNS",
    "rank",
    "rank_blocks",
    "rank_interval",
    "rank_scores",
    "sample_peers",
    "sample_peers_path",
]

log = logging.getLogger(__name__)


def rank(
    score_or_indicators: float | pd.Series | pd.DataFrame,
    *,
    peers: pd.DataFrame | str | Path | None = None,
    preset: evaluation.PresetLike = "cic_default",
) -> RankResult:
    """Rank a zone among peer zones (ties share the better rank, see the module notes).

    Parameters
    ----------
    score_or_indicators
        The zone's composite score, or its indicators (a Series or a one-row frame, e.g.
        ``indicators.compute(blocks, by="zone")``), scored with ``preset``.
    peers
        Peer table (DataFrame or CSV path, see :func:`load_peers`); default: the shipped
        synthetic peers. Peers with the preset's indicators are scored with the preset;
        otherwise their ``score`` column is used. Zones are ranked within their type: when the
        table has a ``zone_type`` column (``city_industry``/产城融合型, ``industry_led``/工业主导型,
        ``other``), only peers of the preset's type are compared; the others are counted in
        ``RankResult.peers_other_type``.
    preset
        Preset name, path or object.

    Returns
    -------
    RankResult

    Raises
    ------
    zgc_space.errors.RankError
        More than one zone given, or no peer of the preset's zone type.

    Warns
    -----
    zgc_space.errors.PresetWarning
        When the zone's own type (:func:`zgc_space.evaluation.zone_type` of its indicators, if
        they include the land shares) is not the preset's.

    Examples
    --------
    >>> import pandas as pd
    >>> peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [70.0, 50.0]})
    >>> r = rank(60.0, peers=peers)
    >>> r.rank, r.of, r.percentile, r.points_to_next_up, r.points_to_next_down
    (2, 3, 50.0, 10.0, 10.0)
    """
    p = evaluation.load_preset(preset)
    _check_zone_type(score_or_indicators, p)
    scores, left_out = _peers_of_type(peers, p)
    return _rank_of(_zone_score(score_or_indicators, p), scores.to_numpy(float), p.name, left_out)


def gap_to_rank(
    zone_indicators: pd.Series | pd.DataFrame,
    target_rank: int,
    *,
    peers: pd.DataFrame | str | Path | None = None,
    preset: evaluation.PresetLike = "cic_default",
    max_change_pct: Mapping[str, float] | None = None,
) -> GapResult:
    """Find the smallest changes that lift a zone to ``target_rank`` among its peers.

    (a) For each indicator alone: the value it must reach (other indicators unchanged), or
    "not reachable by this indicator alone" when even its ideal value (standardised score 100)
    is not enough. (b) A combined least-effort plan: a linear programme (HiGHS) minimising the
    sum of relative changes (in %) subject to the composite reaching the target-rank score. The
    capped standardisation is piecewise linear, so the problem is linear in the relative changes;
    a negative indicator in ratio form min(T/X, 1) enters through its tangent (a conservative
    under-estimate), and the plan is never costlier than the best single-indicator route.
    With a linear objective the optimum tends to put the effort on the indicator that buys the
    most points per percent of change; ``max_change_pct`` bounds spread it over several.

    Parameters
    ----------
    zone_indicators
        The zone's indicators (Series or one-row frame).
    target_rank
        Rank to reach (1 is best).
    peers, preset
        As for :func:`rank`.
    max_change_pct
        Optional upper bound on the relative change of some indicators (e.g. ``{"far": 20}``).

    Returns
    -------
    GapResult

    Examples
    --------
    >>> import pandas as pd
    >>> peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [90.0, 50.0]})
    >>> zone = pd.Series({"supply_rate_pct": 95.0, "completion_rate_pct": 90.0, "far": 1.18,
    ...     "building_density_pct": 24.0, "tax_10k_cny_per_ha": 1800.0, "population_per_ha": 45.0,
    ...     "idle_rate_pct": 1.0})
    >>> gap = gap_to_rank(zone, 1, peers=peers)
    >>> gap.current.rank, gap.plan_rank, bool(gap.single.loc["far", "reachable"])
    (2, 1, False)
    """
    p = evaluation.load_preset(preset)
    row = zone_indicators.iloc[0] if isinstance(zone_indicators, pd.DataFrame) else zone_indicators
    if isinstance(zone_indicators, pd.DataFrame) and len(zone_indicators) != 1:
        raise RankError(f"expected one zone (one row), got {len(zone_indicators)} rows")
    _check_zone_type(row, p)
    scores, left_out = _peers_of_type(peers, p)
    peer_scores = scores.to_numpy(float)
    current = _rank_of(_zone_score(row, p), peer_scores, p.name, left_out)
    if not 1 <= int(target_rank) <= current.of:
        raise RankError(f"target_rank must be between 1 and {current.of}, got {target_rank}")
    ordered = np.sort(peer_scores[~np.isnan(peer_scores)])[::-1]
    target_score = float(ordered[int(target_rank) - 1]) if int(target_rank) <= len(ordered) else 0.0
    single, plan, method = gap_tables(row, p, current.score, target_score, dict(max_change_pct or {}))
    new_row = row.copy()
    for ind, value in plan["new"].items():
        new_row[ind] = value
    plan_score = _zone_score(new_row, p)
    plan_rank = _rank_of(plan_score, peer_scores, p.name, left_out)
    return GapResult(
        target_rank=int(target_rank), target_score=target_score, current=current, single=single, plan=plan,
        plan_score=plan_score, plan_rank=plan_rank.rank,
        plan_cost_pct=float(plan["change_pct"].abs().sum()), method=method,
    )
