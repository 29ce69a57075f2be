r"""Every rank with its margin: the rank interval under a stated input uncertainty.

In the national table many zones sit within a fraction of a point of each other, and a ±1-2 %
error on floor area, tax, population or building footprint is ordinary in the data. The rank
interval is found by **exact bounds**, not sampling: each TD/T 1029 indicator is a ratio of sums
with each of these columns in its numerator only (FAR: floor area; building density:
footprint; 综合地均税收: tax; 人口密度: population), and the capped standardisation and the
weighted sum are monotone, so the score is monotone in each column's scale factor and its
extremes over the box ``[1 − u, 1 + u]^k`` lie at its corners. All ``2^k`` corners are scored
(16 for the default four columns), so the bounds stay exact for a preset whose indicators use
a column in a denominator too, as long as each indicator is monotone in each factor.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from zgc_space.errors import ParameterError

if TYPE_CHECKING:
    from zgc_space.ranking._rank import RankResult

__all__ = ["UNCERTAIN_COLUMNS", "rank_blocks", "rank_interval"]

#: Inputs whose error the rank interval covers by default (REFERENCE: ±1-2 % is ordinary).
UNCERTAIN_COLUMNS: tuple[str, ...] = ("gfa_m2", "tax_10k_cny", "population", "footprint_m2")


def corner_factors(n_columns: int, *, uncertainty_pct: float) -> np.ndarray:
    """Return the factors (1 ± u) of every corner of the uncertainty box, one row per corner.

    Sums are linear, so scaling every block's value by a factor scales the zone sum by it: the
    same corners serve a block table (:func:`rank_interval`) and zone sums (``scenarios.compare``).

    Examples
    --------
    >>> corner_factors(2, uncertainty_pct=1.0).tolist()
    [[0.99, 0.99], [0.99, 1.01], [1.01, 0.99], [1.01, 1.01]]
    """
    if not 0 <= uncertainty_pct < 100:
        raise ParameterError(f"uncertainty_pct must be in [0, 100), got {uncertainty_pct}")
    u = uncertainty_pct / 100.0
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=n_columns))).reshape(-1, n_columns)
    return 1.0 + signs * u


def _corner_scores(blocks: pd.DataFrame, *, preset: object, missing: str, uncertainty_pct: float,
                   columns: Sequence[str]) -> np.ndarray:
    from zgc_space.evaluation import score_blocks

    cols = [c for c in columns if c in blocks.columns]
    scores = []
    for factors in corner_factors(len(cols), uncertainty_pct=uncertainty_pct):
        scaled = blocks.copy()
        for c, f in zip(cols, factors, strict=True):
            scaled[c] = pd.to_numeric(scaled[c], errors="coerce") * f
        scores.append(float(score_blocks(scaled, preset=preset, missing=missing)["score"].iloc[0]))  # type: ignore[arg-type]
    return np.asarray(scores)


def rank_interval(
    blocks: pd.DataFrame,
    *,
    peers: pd.DataFrame | str | Path | None = None,
    preset: object = "cic_default",
    uncertainty_pct: float = 1.0,
    columns: Sequence[str] = UNCERTAIN_COLUMNS,
    missing: str = "refuse",
) -> tuple[int, int, float, float]:
    """Return the best and worst rank, and the lowest and highest score, at ±``uncertainty_pct`` on ``columns``.

    Parameters
    ----------
    blocks
        Block table of the zone.
    peers, preset
        As for :func:`zgc_space.ranking.rank`.
    uncertainty_pct
        Relative error of each column, in % (default 1).
    columns
        Columns the error applies to (default :data:`UNCERTAIN_COLUMNS`); absent ones are skipped.
    missing
        As for :func:`zgc_space.evaluation.score_blocks`.

    Returns
    -------
    tuple
        ``(rank_best, rank_worst, score_low, score_high)``.

    Examples
    --------
    >>> from zgc_space import datasets
    >>> rank_interval(datasets.load_blocks())[:2]
    (73, 77)
    """
    from zgc_space import evaluation
    from zgc_space.ranking._rank import _peers_of_type, rank_scores

    p = evaluation.load_preset(preset)  # type: ignore[arg-type]
    scores = _corner_scores(blocks, preset=p, missing=missing, uncertainty_pct=uncertainty_pct, columns=columns)
    peer, _ = _peers_of_type(peers, p)
    lo, hi = float(scores.min()), float(scores.max())
    best, worst = rank_scores([hi, lo], peer.to_numpy(float))
    return int(best), int(worst), lo, hi


def rank_blocks(
    blocks: pd.DataFrame,
    *,
    peers: pd.DataFrame | str | Path | None = None,
    preset: object = "cic_default",
    missing: str = "refuse",
    uncertainty_pct: float = 1.0,
    columns: Sequence[str] = UNCERTAIN_COLUMNS,
) -> RankResult:
    """Score a zone's blocks and rank it among its peers, with its margin and rank interval.

    The score is :func:`zgc_space.evaluation.score_blocks` (both evaluation ranges, the
    ``missing`` policy); the result is a :class:`~zgc_space.ranking.RankResult` with
    ``points_to_next_up``, ``points_to_next_down`` and the interval ``rank_best``-``rank_worst``
    at ±``uncertainty_pct`` (:func:`rank_interval`).

    Examples
    --------
    >>> from zgc_space import datasets
    >>> rank_blocks(datasets.load_blocks()).text()
    '74 / 131 (73–77 at ±1 %)'
    """
    from dataclasses import replace

    from zgc_space import evaluation
    from zgc_space.ranking._rank import _peers_of_type, _rank_of

    p = evaluation.load_preset(preset)  # type: ignore[arg-type]
    scored = evaluation.score_blocks(blocks, preset=p, missing=missing)  # type: ignore[arg-type]
    peer, left_out = _peers_of_type(peers, p)
    result = _rank_of(float(scored["score"].iloc[0]), peer.to_numpy(float), p.name, left_out)
    best, worst, _, _ = rank_interval(blocks, peers=peers, preset=p, uncertainty_pct=uncertainty_pct,
                                      columns=columns, missing=missing)
    return replace(result, rank_best=best, rank_worst=worst, uncertainty_pct=uncertainty_pct)
