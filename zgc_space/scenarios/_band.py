"""The baseline's rank band under a stated input uncertainty.

Its rank at the corners of the uncertainty box, and which proposals' rank changes lie outside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zgc_space import ranking


def uncertainty_corners(b_sums: pd.DataFrame, *, uncertainty_pct: float) -> pd.DataFrame:
    """Return the zone sums at every corner of ±``uncertainty_pct`` on :data:`~zgc_space.ranking.UNCERTAIN_COLUMNS`.

    The baseline's rank at these corners bounds its rank under that uncertainty (exact bounds,
    see :func:`zgc_space.ranking.rank_interval`).
    """
    cols = [c for c in ranking.UNCERTAIN_COLUMNS if c in b_sums.columns]
    factors = ranking.corner_factors(len(cols), uncertainty_pct=uncertainty_pct)
    corners = pd.DataFrame(np.repeat(b_sums.iloc[[0]].to_numpy(float), len(factors), axis=0), columns=b_sums.columns)
    corners[cols] = corners[cols].to_numpy(float) * factors
    return corners


def mark_rank_band(table: pd.DataFrame, corner_ranks: pd.Series, *, uncertainty_pct: float) -> pd.DataFrame:
    """Add ``rank_change_significant``: whether the proposal's rank lies outside the baseline's interval."""
    ranks = corner_ranks.astype("float64")
    best, worst = int(np.nanmin(ranks)), int(np.nanmax(ranks))
    rank = table["rank"].astype("Float64")
    table["rank_change_significant"] = ((rank < best) | (rank > worst)).astype("boolean")
    table.attrs["baseline"].update(rank_best=best, rank_worst=worst, uncertainty_pct=uncertainty_pct)
    return table
