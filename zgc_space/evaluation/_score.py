"""The evaluation core: presets loaded and listed, indicators standardised, weighted and scored.

Behind :mod:`zgc_space.evaluation`'s door; see its docstring for the method (TD/T 1029).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from zgc_space.errors import ColumnError, PresetWarning
from zgc_space.evaluation._presets import Preset, builtin_names, read_preset
from zgc_space.evaluation._scoring import effective_weights, indicator_numbers, standardise_values

log = logging.getLogger(__name__)

PresetLike = str | Path | Preset


def zone_type(
    indicators: pd.Series | pd.DataFrame,
    *,
    industrial_min_pct: float = 30.0,
    residential_min_pct: float = 25.0,
) -> str | pd.Series:
    """Classify a zone (or each row) as 工业主导型, 产城融合型 or other (2014 rule).

    ``industry_led`` when A2/A > ``industrial_min_pct`` and A1/A < ``residential_min_pct``;
    ``city_industry`` when A2/A ≤ ``industrial_min_pct`` and A1/A ≥ ``residential_min_pct``;
    ``other`` otherwise, including when a share is NaN (TD/T 1029-2010 (2014 rev.), zone types 工业主导型 / 产城融合型).

    Parameters
    ----------
    indicators
        One row (Series) or a frame with ``industrial_share_pct`` and ``residential_share_pct``.
    industrial_min_pct, residential_min_pct
        The thresholds, in percent.

    Returns
    -------
    str or pandas.Series
        ``"industry_led"``, ``"city_industry"`` or ``"other"``; a Series named ``zone_type``
        (same index) for a frame.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"industrial_share_pct": [30.1, 30.0, 30.0],
    ...                       "residential_share_pct": [24.9, 25.0, 24.9]})
    >>> zone_type(frame).tolist()
    ['industry_led', 'city_industry', 'other']
    """
    needed = ["industrial_share_pct", "residential_share_pct"]
    keys = indicators.index if isinstance(indicators, pd.Series) else indicators.columns
    missing = [c for c in needed if c not in keys]
    if missing:
        raise ColumnError(
            f"zone_type needs {', '.join(missing)}; compute them with zgc_space.indicators.compute()"
        )
    ind = pd.to_numeric(pd.Series(np.atleast_1d(indicators["industrial_share_pct"])), errors="coerce")
    res = pd.to_numeric(pd.Series(np.atleast_1d(indicators["residential_share_pct"])), errors="coerce")
    ind_v, res_v = ind.to_numpy(float), res.to_numpy(float)
    kind = np.where(
        (ind_v > industrial_min_pct) & (res_v < residential_min_pct),
        "industry_led",
        np.where((ind_v <= industrial_min_pct) & (res_v >= residential_min_pct), "city_industry", "other"),
    )
    if isinstance(indicators, pd.Series):
        return str(kind[0])
    return pd.Series(kind, index=indicators.index, name="zone_type", dtype=object)


def load_preset(name_or_path: PresetLike) -> Preset:
    """Load and validate a preset by shipped name or YAML path.

    Parameters
    ----------
    name_or_path
        A shipped preset name (see :func:`list_presets`), a path to a YAML file, or a
        :class:`Preset` (returned unchanged).

    Returns
    -------
    Preset

    Raises
    ------
    zgc_space.errors.PresetError
        When the file is missing, not YAML, or breaks a rule (weights not positive, unknown
        indicator, missing ideal value, ...); the message names the file and the key.

    Examples
    --------
    >>> p = load_preset("cic_default")
    >>> p.zone_type, p.monitoring_year, sorted(p.goals)
    ('city_industry', 2022, ['efficiency', 'management', 'utilisation'])
    """
    if isinstance(name_or_path, Preset):
        return name_or_path
    return read_preset(name_or_path).preset


def list_presets() -> pd.DataFrame:
    """Return the shipped presets: name, version, zone type, monitoring year, title.

    Examples
    --------
    >>> list_presets().index.tolist()
    ['cic_default', 'heilongjiang_2015_example', 'industry_led_default']
    """
    rows = []
    for name in builtin_names():
        p = load_preset(name)
        rows.append({"name": p.name, "version": p.version, "zone_type": p.zone_type,
                     "monitoring_year": p.monitoring_year, "indicators": len(p.leaf_weights()),
                     "title": p.title})
    return pd.DataFrame(rows).set_index("name")


def _values(indicators: pd.DataFrame | pd.Series, preset: Preset) -> tuple[pd.DataFrame, list[str]]:
    frame = indicators.to_frame().T if isinstance(indicators, pd.Series) else indicators
    ids = list(preset.leaf_weights())
    missing = [i for i in ids if i not in frame.columns]
    values = pd.DataFrame(
        {i: (indicator_numbers(frame[i], i) if i in frame.columns else np.nan) for i in ids},
        index=frame.index,
    )
    return values, missing


def standardise(indicators: pd.DataFrame | pd.Series, *, preset: PresetLike = "cic_default") -> pd.DataFrame:
    """Return capped standardised scores (0-100) of the preset's indicators, one row per input row.

    Parameters
    ----------
    indicators
        Indicator values, one column per indicator id (as :func:`zgc_space.indicators.compute`
        returns them); a Series is one row.
    preset
        Preset name, path or object.

    Returns
    -------
    pandas.DataFrame
        One column per preset indicator; NaN where the value is missing.

    Raises
    ------
    zgc_space.errors.BlockValidationError
        When an indicator holds text that is not a number (the indicator and rows are named).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"far": [1.0, 3.0], "idle_rate_pct": [5.0, 0.0]})
    >>> standardise(x)[["far", "idle_rate_pct"]]
         far  idle_rate_pct
    0   40.0           95.0
    1  100.0          100.0
    """
    p = load_preset(preset)
    values, _ = _values(indicators, p)
    return _standardised(values, p)


def _standardised(values: pd.DataFrame, preset: Preset) -> pd.DataFrame:
    """Capped standardised scores of every column of ``values`` (preset indicator ids)."""
    return pd.DataFrame(
        {i: standardise_values(values[i].to_numpy(), preset.indicators[i].ideal, preset.form(i))
         for i in values},
        index=values.index,
    )


def _weights(values: pd.DataFrame, missing: list[str], preset: Preset) -> pd.DataFrame:
    avail = values.notna()
    weights = effective_weights(avail, preset)
    if missing:
        warnings.warn(
            f"preset {preset.name!r}: indicator(s) {', '.join(missing)} missing from the table; "
            "their weights were re-normalised over the other indicators",
            PresetWarning, stacklevel=4,
        )
    partial = [c for c in values.columns if c not in missing and values[c].isna().any()]
    if partial:
        rows = int(values[partial].isna().any(axis=1).sum())
        warnings.warn(
            f"preset {preset.name!r}: {rows} row(s) have no value for {', '.join(partial)} "
            "(zero denominator or missing data, see zgc_space.indicators.nan_reasons); their weights "
            "were re-normalised over the other indicators of those rows",
            PresetWarning, stacklevel=4,
        )
    return weights


def _composite(values: pd.DataFrame, missing: list[str], preset: Preset) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = _standardised(values, preset)
    w = _weights(values, missing, preset)
    # On arrays (columns as rows, summed in column order as pandas does): the frame selections
    # per goal were most of the time of a one-row score (the map editor's, per click).
    at = {c: k for k, c in enumerate(w.columns)}
    wt = w.to_numpy(dtype=float).T
    ws = wt * s[list(w.columns)].fillna(0.0).to_numpy(dtype=float).T
    result: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        result["score"] = np.where(wt.sum(axis=0) > 0, ws.sum(axis=0), np.nan)
        leaves = preset.leaf_weights()
        for level in (0, 1):
            names = dict.fromkeys(v[level] for v in leaves.values())
            for name in names:
                rows = [at[i] for i, v in leaves.items() if v[level] == name]
                mass = wt[rows].sum(axis=0)
                result[f"score_{name}"] = np.where(mass > 0, ws[rows].sum(axis=0) / mass, np.nan)
    for i in s:
        result[f"s_{i}"] = s[i].to_numpy()
    return pd.DataFrame(result, index=values.index), w


def score(
    indicators: pd.DataFrame | pd.Series,
    *,
    preset: PresetLike = "cic_default",
    expansion: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score each row of an indicator table (block, cluster, sub-park, zone, ...) from 0 to 100.

    Parameters
    ----------
    indicators
        Indicator values of the main range (主区), one row per unit; a Series is one row.
    preset
        Preset name, path or object (default ``"cic_default"``, 产城融合型).
    expansion
        Optional indicators of the expansion range (发展方向区), same index; when given,
        ``score = w_main · F_main + w_expansion · F_expansion`` with the preset's range weights,
        its 程度 sub-goal taking the development rate (``development_rate_pct``) in the
        completion rate's slot (``ranges.expansion_substitutes``; TD/T 1029, 2014 revision).

    Returns
    -------
    pandas.DataFrame
        Same index as the input; ``score`` (composite), ``score_<goal>`` and ``score_<subgoal>``
        (each 0-100) and ``s_<indicator>`` (standardised). ``attrs`` holds ``preset``,
        ``preset_version``, ``missing_indicators``, ``renormalised_rows`` and ``weights``
        (effective weights per row).

    Raises
    ------
    zgc_space.errors.BlockValidationError
        When an indicator holds text that is not a number (the indicator and rows are named);
        only genuinely missing values (NaN) are re-normalised away.

    Warns
    -----
    zgc_space.errors.PresetWarning
        When an indicator is missing and the weights were re-normalised.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"supply_rate_pct": [100.0], "completion_rate_pct": [100.0], "far": [2.5],
    ...     "building_density_pct": [50.0], "tax_10k_cny_per_ha": [2500.0],
    ...     "population_per_ha": [200.0], "idle_rate_pct": [0.0]})
    >>> float(score(x)["score"].iloc[0])
    100.0
    """
    p = load_preset(preset)
    values, missing = _values(indicators, p)
    out, w = _composite(values, missing, p)
    if expansion is not None:
        expansion = _substituted(expansion, p)
        e_values, e_missing = _values(expansion, p)
        e_out, _ = _composite(e_values.reindex(values.index), e_missing, p)
        main, exp_ = p.ranges.main, p.ranges.expansion
        both = out["score"].notna() & e_out["score"].notna()
        combined = (main * out["score"] + exp_ * e_out["score"]) / (main + exp_)
        out["score_main"] = out["score"]
        out["score_expansion"] = e_out["score"]
        out["score"] = combined.where(both, out["score"].where(e_out["score"].isna(), e_out["score"]))
    out.attrs.update(
        preset=p.name, preset_version=p.version, missing_indicators=missing,
        renormalised_rows=int((w.gt(0).sum(axis=1) < len(w.columns)).sum()), weights=w,
    )
    return out


def _substituted(expansion: pd.DataFrame, preset: Preset) -> pd.DataFrame:
    """Put the expansion range's indicators in the preset's slots (development rate in the completion rate's)."""
    out = expansion.copy()
    for slot, used in preset.ranges.expansion_substitutes.items():
        out[slot] = out[used] if used in out.columns else np.nan
    return out


def contributions(indicators: pd.DataFrame | pd.Series, *, preset: PresetLike = "cic_default") -> pd.DataFrame:
    r"""Return the points each indicator gains or loses against the ideal, per row.

    .. math::

        c_i = w_i \cdot (S_i - 100), \qquad \sum_i c_i = \text{score} - 100

    with ``w_i`` the indicator's effective (re-normalised) weight. A contribution of −7.5 means
    the indicator costs the composite 7.5 points; 0 means it is at (or beyond) its ideal.

    Parameters
    ----------
    indicators
        Indicator values, one row per unit.
    preset
        Preset name, path or object.

    Returns
    -------
    pandas.DataFrame
        One column per preset indicator, same index; NaN for an indicator missing in a row.

    Raises
    ------
    zgc_space.errors.BlockValidationError
        When an indicator holds text that is not a number (the indicator and rows are named).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"supply_rate_pct": [100.0], "completion_rate_pct": [100.0], "far": [1.0],
    ...     "building_density_pct": [50.0], "tax_10k_cny_per_ha": [2500.0],
    ...     "population_per_ha": [200.0], "idle_rate_pct": [0.0]})
    >>> c = contributions(x)
    >>> round(float(c["far"].iloc[0]), 4), round(float(c.sum(axis=1).iloc[0]), 4)
    (-14.896, -14.896)
    """
    p = load_preset(preset)
    values, missing = _values(indicators, p)
    out, w = _composite(values, missing, p)
    s = out[[f"s_{i}" for i in values]].set_axis(list(values), axis=1)
    contrib = (w * (s - 100.0)).where(w > 0)
    contrib.attrs.update(preset=p.name, preset_version=p.version, score=out["score"])
    return contrib
