"""Numeric kernels shared by evaluation and benchmark (private).

Standardisation, its inverse, and the effective weights of a preset's tree when some indicators
are missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zgc_space.errors import BlockValidationError, list_ids
from zgc_space.evaluation._presets import Preset


def indicator_numbers(values: pd.Series, indicator: str) -> pd.Series:
    """Return ``values`` as float; text that is not a number raises (missing values stay NaN).

    A typo such as ``"abc"`` must not become NaN: a NaN indicator is re-normalised away and the
    score could go up.
    """
    if values.dtype == np.float64:  # already numbers: nothing to convert, nothing to refuse
        return values.copy()
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    bad = numbers.isna() & values.notna()
    if bad.any():
        rows = [v.item() if isinstance(v, np.generic) else v for v in values.index[bad]]
        example = values[bad].iloc[0]
        raise BlockValidationError(
            f"indicator {indicator!r} holds text that is not a number in row(s) {list_ids(rows)} "
            f"(e.g. {example!r}); correct the value, or leave it empty (NaN) if it is unknown",
            rows,
        )
    return numbers


def standardise_values(x: np.ndarray, ideal: float, form: str) -> np.ndarray:
    """Return capped standardised scores in [0, 100] (NaN stays NaN).

    ``positive``: min(X / T, 1) · 100; ``ratio`` (negative): min(T / X, 1) · 100 (X ≤ T gives 100);
    ``complement`` (negative rate in %): (100 − X) / (100 − T) · 100, clipped to [0, 100].
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "positive":
            s = x / ideal * 100.0
        elif form == "ratio":
            s = np.where(x <= ideal, 100.0, ideal / x * 100.0)
        else:
            s = (100.0 - x) / (100.0 - ideal) * 100.0
    s = np.clip(s, 0.0, 100.0)
    return np.where(np.isnan(x), np.nan, s)


def invert(s: float, ideal: float, form: str) -> float:
    """Return the indicator value closest to the current one whose standardised score is ``s``."""
    if form == "positive":
        return ideal * s / 100.0
    if form == "ratio":
        return np.inf if s <= 0 else ideal * 100.0 / s
    return 100.0 - s * (100.0 - ideal) / 100.0


def effective_weights(available: pd.DataFrame, preset: Preset) -> pd.DataFrame:
    """Return per-row effective indicator weights, re-normalised over the available indicators.

    ``available`` is a boolean frame with one column per preset indicator. Re-normalisation is
    hierarchical: a missing indicator's weight goes to its siblings in the sub-goal; a sub-goal
    with no indicator left gives its weight to its sibling sub-goals; likewise for goals. Each
    row's weights sum to 1 (or are all 0 when nothing is available).
    """
    leaves = preset.leaf_weights()
    avail = available.to_numpy(dtype=bool)
    cols = list(available.columns)
    n = avail.shape[0]
    goal_w: dict[str, float] = {}
    sub_w: dict[tuple[str, str], float] = {}
    ind_w: dict[str, float] = {}
    for gid, goal in preset.goals.items():
        for sid, sub in goal.subgoals.items():
            for ind, w in sub.indicators.items():
                goal_w[gid] = goal.weight
                sub_w[(gid, sid)] = sub.weight
                ind_w[ind] = w
    # available weight mass per sub-goal and per goal, row by row
    sub_mass = {k: np.zeros(n) for k in sub_w}
    for ind, (gid, sid, _) in leaves.items():
        sub_mass[(gid, sid)] += np.where(avail[:, cols.index(ind)], ind_w[ind], 0.0)
    goal_mass = {g: np.zeros(n) for g in goal_w}
    for (gid, sid), mass in sub_mass.items():
        goal_mass[gid] += np.where(mass > 0, sub_w[(gid, sid)], 0.0)
    total = np.zeros(n)
    for gid, mass in goal_mass.items():
        total += np.where(mass > 0, goal_w[gid], 0.0)
    out = np.zeros_like(avail, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for ind, (gid, sid, _) in leaves.items():
            j = cols.index(ind)
            w_row = (goal_w[gid] / total) * (sub_w[(gid, sid)] / goal_mass[gid]) * (ind_w[ind] / sub_mass[(gid, sid)])
            out[:, j] = np.where(avail[:, j], w_row, 0.0)
    out = np.nan_to_num(out, nan=0.0, posinf=0.0)
    return pd.DataFrame(out, index=available.index, columns=cols)
