r"""Land-use intensity indicators of TD/T 1029 and the national monitoring, at any level.

Every indicator is a ratio of two sums of block columns (the indicators of TD/T 1029-2010, 2014
rev., and of MNR's annual monitoring). At block level the sums are the block's own values; at
cluster, sub-park or zone level they are the sums over the group's blocks. A group's indicator is
therefore always the ratio of sums, never the mean of its blocks' ratios: the FAR of two blocks is
``(gfa₁ + gfa₂) / (A₁ + A₂)``.

.. math::

    I_g = s \cdot \frac{\sum_{i \in g} \text{numerator}_i}{\sum_{i \in g} \text{denominator}_i}

with a scale ``s`` of 100 for percentages, 10 000 for "per hectare" (areas are in m²) and
:data:`zgc_space.schema.MU_M2` for "per mu" (亩). Land classes follow TD/T 1029-2010 (2014 rev.):
A = ``built_m2``, A1 = ``built_residential_m2``, A2 = ``built_industrial_m2``, B21 = ``ready_m2``,
B = ``ready_m2 + unready_m2``, D = ``supplied_m2``, G = ``idle_m2``. 待建地 (land awaiting
construction) is B21.

A zero denominator gives NaN (never ``inf``); so does a missing value in any summed component
(a group with one block of unknown tax has an unknown tax per hectare). :func:`nan_reasons` says
why each NaN is there. An indicator whose columns are absent from the table is reported (a
:class:`~zgc_space.errors.ValidationWarning` and ``result.attrs["missing"]``), never dropped
silently.

Examples
--------
>>> import pandas as pd
>>> from zgc_space import indicators
>>> blocks = pd.DataFrame({
...     "block_id": ["B1", "B2"], "subpark": ["海淀园", "海淀园"],
...     "built_m2": [10_000.0, 10_000.0], "gfa_m2": [10_000.0, 30_000.0]})
>>> indicators.compute(blocks, by="subpark", indicators=["far"])
         far  built_m2   gfa_m2  block_count
subpark
海淀园      2.0   20000.0  40000.0            2
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from zgc_space.blocks import ZONE_LABEL, group_sums, index_name, numeric_columns, ratio, resolve_by
from zgc_space.errors import ColumnError, ValidationWarning
from zgc_space.schema import COLUMNS, MU_M2

__all__ = [
    "INDICATORS",
    "ZONE_LABEL",
    "Indicator",
    "attach",
    "compute",
    "indicator_catalog",
    "nan_reasons",
]

log = logging.getLogger(__name__)

_Frame = TypeVar("_Frame", bound=pd.DataFrame)

#: Index label of the single row ``compute(..., by="zone")`` returns.

_TD = "TD/T 1029-2010 (2014 rev.)"
_MNR = "MNR annual monitoring"
_OWN = "zgc_space"
_PER_HA = 10_000.0  # m² per hectare


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``scale × Σ numerator / Σ denominator``.

    Parameters
    ----------
    id
        Column name of the indicator in :func:`compute`'s result (unit in the name).
    zh, en
        Chinese and English names.
    unit
        Unit as printed ("%", "万元/ha", "" for dimensionless).
    direction
        ``"positive"`` (more is more intensive), ``"negative"`` or ``"neutral"`` (descriptive).
    numerator, denominator
        Canonical columns summed into the numerator and the denominator.
    scale
        Factor applied to the ratio (100 for %, 10 000 for per hectare, ...).
    formula
        The formula in TD/T 1029 land codes.
    source
        Where the indicator is defined.
    """

    id: str
    zh: str
    en: str
    unit: str
    direction: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    scale: float
    formula: str
    source: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the indicator needs, numerator first, without repeats."""
        return tuple(dict.fromkeys(self.numerator + self.denominator))


_A, _A1, _A2 = ("built_m2",), ("built_residential_m2",), ("built_industrial_m2",)
_AB = ("built_m2", "ready_m2", "unready_m2")
_I = Indicator
_INDICATOR_LIST: tuple[Indicator, ...] = (
    _I("development_rate_pct", "土地开发率", "land development rate", "%", "positive",
       ("built_m2", "ready_m2"), _AB, 100.0, "(A + B21) / (A + B)", _TD),
    _I("supply_rate_pct", "土地供应率", "land supply rate", "%", "positive",
       ("supplied_m2",), ("built_m2", "ready_m2"), 100.0, "D / (A + B21)", _TD),
    _I("completion_rate_pct", "土地建成率", "land completion rate", "%", "positive",
       _A, ("supplied_m2",), 100.0, "A / D", _TD),
    _I("industrial_share_pct", "工业用地率", "industrial land share", "%", "positive",
       _A2, _A, 100.0, "A2 / A", _TD),
    _I("residential_share_pct", "住宅用地率", "residential land share", "%", "neutral",
       _A1, _A, 100.0, "A1 / A", _TD),
    _I("far", "综合容积率", "comprehensive floor-area ratio", "", "positive",
       ("gfa_m2",), _A, 1.0, "total floor area / A", _TD),
    _I("building_density_pct", "建筑密度", "building density", "%", "positive",
       ("footprint_m2",), _A, 100.0, "building footprint / A", _TD),
    _I("industrial_far", "工业用地综合容积率", "industrial floor-area ratio", "", "positive",
       ("industrial_gfa_m2",), _A2, 1.0, "floor area on A2 / A2", _TD),
    _I("industrial_coverage_pct", "工业用地建筑系数", "industrial building coverage", "%", "positive",
       ("industrial_footprint_m2",), _A2, 100.0,
       "(building + structure + open-yard footprint) on A2 / A2", _TD),
    _I("industrial_fixed_asset_10k_cny_per_ha", "工业用地固定资产投入强度",
       "industrial fixed-asset investment intensity", "万元/ha", "positive",
       ("industrial_fixed_asset_10k_cny",), _A2, _PER_HA, "industrial fixed assets / A2", _TD),
    _I("industrial_tax_10k_cny_per_ha", "工业用地地均税收", "industrial tax per hectare", "万元/ha",
       "positive", ("industrial_tax_10k_cny",), _A2, _PER_HA, "industrial tax / A2", _TD),
    _I("tax_10k_cny_per_ha", "综合地均税收", "tax per hectare", "万元/ha", "positive",
       ("tax_10k_cny",), _A, _PER_HA, "secondary + tertiary industry tax / A", _TD),
    _I("population_per_ha", "人口密度", "population density", "persons/ha", "positive",
       ("population",), _A, _PER_HA, "resident population / A", _TD),
    _I("idle_rate_pct", "土地闲置率", "idle land rate", "%", "negative",
       ("idle_m2",), ("supplied_m2",), 100.0, "G / D", _TD),
    _I("industrial_revenue_10k_cny_per_ha", "工业用地产出强度", "industrial output per hectare",
       "万元/ha", "positive", ("industrial_revenue_10k_cny",), _A2, _PER_HA,
       "industrial revenue / A2", _TD),
    _I("awaiting_construction_pct", "待建地占比", "share of land awaiting construction", "%",
       "neutral", ("ready_m2",), _AB, 100.0, "B21 / (A + B)", _MNR),
    _I("revenue_10k_cny_per_ha", "地均产出", "revenue per hectare", "万元/ha", "positive",
       ("revenue_10k_cny",), _A, _PER_HA, "revenue / A", _OWN),
    _I("employment_per_ha", "就业密度", "employment density", "persons/ha", "positive",
       ("employees",), _A, _PER_HA, "employees / A", _OWN),
    _I("revenue_per_employee_10k_cny", "人均产出", "revenue per employee", "万元/person", "positive",
       ("revenue_10k_cny",), ("employees",), 1.0, "revenue / employees", _OWN),
    _I("tax_per_employee_10k_cny", "人均税收", "tax per employee", "万元/person", "positive",
       ("tax_10k_cny",), ("employees",), 1.0, "tax / employees", _OWN),
    _I("revenue_10k_cny_per_mu", "亩均产出", "revenue per mu", "万元/mu", "positive",
       ("revenue_10k_cny",), _A, MU_M2, "revenue / A (A in mu)", _OWN),
    _I("tax_10k_cny_per_mu", "亩均税收", "tax per mu", "万元/mu", "positive",
       ("tax_10k_cny",), _A, MU_M2, "tax / A (A in mu)", _OWN),
)

#: Every indicator by id, in catalogue order.
INDICATORS: dict[str, Indicator] = {ind.id: ind for ind in _INDICATOR_LIST}


def indicator_catalog() -> pd.DataFrame:
    """Return the indicator catalogue: names, unit, direction, formula and source of each.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator id; columns ``zh``, ``en``, ``unit``, ``direction``, ``formula``,
        ``numerator``, ``denominator`` (tuples of canonical columns), ``scale`` and ``source``.

    Examples
    --------
    >>> cat = indicator_catalog()
    >>> cat.loc["far", ["zh", "formula", "source"]].tolist()
    ['综合容积率', 'total floor area / A', 'TD/T 1029-2010 (2014 rev.)']
    >>> cat.loc["idle_rate_pct", "direction"], cat.loc["far", "denominator"]
    ('negative', ('built_m2',))
    """
    rows = [
        {
            "id": ind.id, "zh": ind.zh, "en": ind.en, "unit": ind.unit, "direction": ind.direction,
            "formula": ind.formula, "numerator": ind.numerator, "denominator": ind.denominator,
            "scale": ind.scale, "source": ind.source,
        }
        for ind in _INDICATOR_LIST
    ]
    return pd.DataFrame(rows).set_index("id")


# ---------------------------------------------------------------------------------------------


def _select(indicators: Sequence[str] | None) -> list[Indicator]:
    if indicators is None:
        return list(_INDICATOR_LIST)
    unknown = [i for i in indicators if i not in INDICATORS]
    if unknown:
        raise ColumnError(f"unknown indicator id(s) {unknown}; known ids: {', '.join(INDICATORS)}")
    return [INDICATORS[i] for i in dict.fromkeys(indicators)]


def _describe_nan(ind: Indicator, sums: pd.DataFrame) -> str | None:
    num = sums[list(ind.numerator)].sum(axis=1, skipna=False).to_numpy()
    den = sums[list(ind.denominator)].sum(axis=1, skipna=False).to_numpy()
    unknown = ~(np.isfinite(num) & np.isfinite(den))
    zero = ~unknown & (den == 0)
    parts = []
    if zero.any():
        where = f"{int(zero.sum())} of {len(den)} rows"
        parts.append(f"denominator {' + '.join(ind.denominator)} is zero in {where}")
    if unknown.any():
        parts.append(f"a summed component has missing values in {int(unknown.sum())} of {len(den)} rows")
    return "; ".join(parts) or None


def compute(
    blocks: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Compute the TD/T 1029 indicators (and per-capita, per-mu ones) per block or per group.

    Parameters
    ----------
    blocks
        Block table with canonical columns (a GeoDataFrame or a plain DataFrame: geometry is
        not used, the land columns are).
    by
        ``None``: one row per input row, keeping the input's index. ``"block"``: one row per
        ``block_id``. ``"zone"``: one row for the whole table, indexed :data:`ZONE_LABEL`.
        Any other column name (``"subpark"``, ``"cluster"``, ``"district"``, ...) or a list of
        columns: one row per group (blocks with an empty key form their own group, so the
        groups always add up to the zone).
    indicators
        Indicator ids to compute (default: all of :data:`INDICATORS`).

    Returns
    -------
    pandas.DataFrame
        One row per group; the indicator columns (float, NaN where the denominator is zero or a
        component unknown), then the summed components used and ``block_count``.
        ``attrs["missing"]`` maps each indicator that could not be computed to its absent
        columns; ``attrs["nan_reasons"]`` maps indicators with NaN values to a reason.

    Raises
    ------
    ColumnError
        If ``by`` names an absent column or ``indicators`` an unknown id.
    BlockValidationError
        If a needed column holds text that is not a number.

    Warns
    -----
    ValidationWarning
        If columns needed by some indicators are absent (naming them and the indicators).

    Notes
    -----
    The aggregate of any partition of the blocks equals the zone's value computed from the
    summed components, e.g. :math:`\mathrm{FAR}_g = \sum gfa / \sum A` (TD/T 1029-2010).

    Examples
    --------
    A 1-ha block at FAR 1 and a 3-ha block at FAR 3 give FAR 2.5 together (the ratio of
    sums), not 2 (the mean of the two ratios):

    >>> import pandas as pd
    >>> blocks = pd.DataFrame({"built_m2": [10_000.0, 30_000.0], "gfa_m2": [10_000.0, 90_000.0],
    ...                        "tax_10k_cny": [500.0, 0.0]})
    >>> res = compute(blocks, by="zone", indicators=["far", "tax_10k_cny_per_ha"])
    >>> res[["far", "tax_10k_cny_per_ha"]]
          far  tax_10k_cny_per_ha
    zone
    ZGC   2.5               125.0

    On the sample data (164 blocks):

    >>> from zgc_space import datasets
    >>> zone = compute(datasets.load_blocks(), by="zone")
    >>> round(float(zone.loc["ZGC", "far"]), 2), int(zone.loc["ZGC", "block_count"])
    (1.18, 164)
    """
    keys = resolve_by(blocks, by)
    chosen = _select(indicators)
    missing: dict[str, list[str]] = {}
    usable: list[Indicator] = []
    for ind in chosen:
        absent = [c for c in ind.columns if c not in blocks.columns]
        if absent:
            missing[ind.id] = absent
        else:
            usable.append(ind)
    if missing:
        cols = sorted({c for absent in missing.values() for c in absent})
        warnings.warn(
            f"block table lacks column(s) {cols}; indicator(s) {list(missing)} cannot be computed "
            "and are left out of the result (see result.attrs['missing'])",
            ValidationWarning, stacklevel=2,
        )
    needed = {c for ind in usable for c in ind.columns}
    components = [c for c in COLUMNS if c in needed]
    values = numeric_columns(blocks, components)
    sums = group_sums(blocks, values, keys, index_name(by))

    result: dict[str, np.ndarray] = {}
    reasons: dict[str, str] = {}
    # Component sums on the array, not column selections of the frame: the same additions in the
    # same order, without pandas' per-selection cost (most of a one-row call, e.g. the map editor's).
    table = sums.to_numpy(dtype="float64")
    at = {c: k for k, c in enumerate(sums.columns)}
    for ind in usable:
        num = table[:, [at[c] for c in ind.numerator]].sum(axis=1)
        den = table[:, [at[c] for c in ind.denominator]].sum(axis=1)
        result[ind.id] = ratio(num, den, scale=ind.scale)
        if np.isnan(result[ind.id]).any():
            reasons[ind.id] = _describe_nan(ind, sums) or "undefined"
    out = pd.concat([pd.DataFrame(result, index=sums.index), sums], axis=1)
    out.attrs["missing"] = missing
    out.attrs["nan_reasons"] = reasons
    log.debug("computed %d indicators for %d rows (by=%r)", len(usable), len(out), by)
    return out


def attach(blocks: _Frame, indicators: str | Sequence[str]) -> _Frame:
    """Return a copy of ``blocks`` with per-block indicator columns added (e.g. for a map).

    Columns the table already has are kept as they are (never overwritten); the others are
    computed per block with :func:`compute` (``by=None``).

    Raises
    ------
    ColumnError
        An unknown indicator id, or one whose input columns the table lacks (named).

    Examples
    --------
    >>> import pandas as pd
    >>> attach(pd.DataFrame({"built_m2": [1e4, 2e4], "gfa_m2": [1e4, 5e4]}), "far")["far"].tolist()
    [1.0, 2.5]
    """
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    unknown = [i for i in ids if i not in INDICATORS]
    if unknown:
        raise ColumnError(f"unknown indicator id(s) {unknown}; known: {', '.join(INDICATORS)}")
    todo = [i for i in ids if i not in blocks.columns]
    if not todo:
        return cast("_Frame", blocks.copy())
    lacking = {i: [c for c in INDICATORS[i].columns if c not in blocks.columns] for i in todo}
    lacking = {i: cols for i, cols in lacking.items() if cols}
    if lacking:
        detail = "; ".join(f"{i} needs {', '.join(cols)}" for i, cols in lacking.items())
        raise ColumnError(f"cannot compute indicator(s) per block: {detail}; add those columns to the blocks")
    values = compute(blocks, by=None, indicators=todo)
    return cast("_Frame", blocks.assign(**{i: values[i].to_numpy() for i in todo}))


def nan_reasons(result: pd.DataFrame) -> pd.DataFrame:
    """Explain every NaN indicator value of a :func:`compute` result, one row per NaN.

    Parameters
    ----------
    result
        The frame :func:`compute` returned (it carries the summed components).

    Returns
    -------
    pandas.DataFrame
        Columns ``group`` (the result's index label), ``indicator`` and ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> blocks = pd.DataFrame({"block_id": ["B1", "B2"], "built_m2": [10_000.0, 0.0],
    ...                        "gfa_m2": [5_000.0, 0.0]})
    >>> nan_reasons(compute(blocks, by="block", indicators=["far"]))
      group indicator                      reason
    0    B2       far  denominator built_m2 is zero
    """
    rows = []
    for ind in _INDICATOR_LIST:
        if ind.id not in result.columns or not all(c in result.columns for c in ind.columns):
            continue
        parts = result[list(ind.columns)].to_numpy(dtype="float64")
        den = result[list(ind.denominator)].sum(axis=1, skipna=False).to_numpy()
        for pos in np.flatnonzero(result[ind.id].isna().to_numpy()):
            unknown = [c for c, v in zip(ind.columns, parts[pos], strict=True) if np.isnan(v)]
            if unknown:
                reason = f"missing values in {' + '.join(unknown)}"
            elif den[pos] == 0:
                reason = f"denominator {' + '.join(ind.denominator)} is zero"
            else:
                reason = "undefined"
            rows.append({"group": result.index[pos], "indicator": ind.id, "reason": reason})
    return pd.DataFrame(rows, columns=["group", "indicator", "reason"])
