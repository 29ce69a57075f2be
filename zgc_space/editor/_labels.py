"""Words and numbers the editor shows to people: panel metrics, operation names, block states.

Indicator names come from :data:`zgc_space.indicators.INDICATORS` and column names from
:data:`zgc_space.schema.COLUMNS`; only the editor's own words (the composite metrics, the
states a click cycles through) are listed here.
"""

from __future__ import annotations

import math

from zgc_space.indicators import INDICATORS
from zgc_space.labels import TERMS
from zgc_space.maps import format_value
from zgc_space.schema import COLUMNS

__all__ = ["METRICS", "OPERATIONS", "STATES", "metric_label", "number_text"]

#: Metrics the panel lists, in order (every one of ``scenarios.HEADLINE`` the compare table has).
METRICS: tuple[str, ...] = (
    "far", "tax_10k_cny_per_ha", "building_density_pct", "population_per_ha", "revenue_10k_cny_per_ha",
    "employment_per_ha", "supply_rate_pct", "completion_rate_pct", "idle_rate_pct", "development_rate_pct",
    "site_area_m2", "remaining_m2", "gfa_capacity_m2", "block_count",
)

_OWN: dict[str, tuple[str, str, str]] = {
    "score": ("集约度分值", "score", ""),
    "site_area_m2": ("用地面积", "site area", "m²"),
    "rank": ("全国排名", "national rank", ""),
    "remaining_m2": ("尚可供应土地", "remaining land (B)", "m²"),
    "gfa_capacity_m2": ("剩余建筑规模", "floor area still permitted", "m²"),
    "block_count": ("区块数", "blocks", ""),
}

#: Operation kind → (Chinese, English), from the label catalogue.
OPERATIONS: dict[str, tuple[str, str]] = {k: TERMS[k] for k in ("release", "admit", "renew", "rezone", "merge")}

#: Block state on the map → (Chinese, English, fill colour); the names of changes from the catalogue.
STATES: dict[str, tuple[str, str, str]] = {
    "keep": ("保留", "kept", "#9ecae1"),
    "release": (*TERMS["released"], "#d7301f"),
    "release-part": (*TERMS["part-released"], "#fc8d59"),
    "renew": (*TERMS["renewed"], "#fdae61"),
    "merge": (*TERMS["merged-into"], "#9e77c9"),
    "rezone": (*TERMS["rezoned"], "#66c2a5"),
    "candidate": ("候选用地", "candidate", "#ffffff"),
    "admit": (*TERMS["change:admitted"], "#2c7bb6"),
}

_UNIT_ZH = {"m²": "m²", "persons/ha": "人/公顷", "万元/ha": "万元/公顷", "%": "%", "": ""}


def metric_label(metric: str) -> dict[str, str]:
    """Return ``{"zh", "en", "unit"}`` for a panel metric (indicator, column or the editor's own).

    Examples
    --------
    >>> metric_label("far")["zh"], metric_label("block_count")["en"]
    ('综合容积率', 'blocks')
    """
    if metric in _OWN:
        zh, en, unit = _OWN[metric]
    elif metric in INDICATORS:
        ind = INDICATORS[metric]
        zh, en, unit = ind.zh, ind.en, ind.unit
    elif metric in COLUMNS:
        col = COLUMNS[metric]
        zh, en, unit = col.zh, col.description, col.unit
    else:
        zh = en = metric
        unit = ""
    return {"zh": zh, "en": en, "unit": _UNIT_ZH.get(unit, unit)}


def number_text(value: float | None, *, signed: bool = False) -> str:
    """Format a number for the panel as :func:`zgc_space.maps.format_value` does, signed if asked.

    Values that round to nothing read ``0`` (never ``-0.00`` or ``1e-06``).

    Examples
    --------
    >>> number_text(1234567.891), number_text(1.18234), number_text(-0.000001, signed=True)
    ('1,234,568', '1.18', '0')
    >>> number_text(0.0312, signed=True), number_text(-0.0), number_text(float("nan"))
    ('+0.0312', '0', '无数据 no data')
    """
    if value is None or not math.isfinite(float(value)):
        return format_value(None)
    x = float(value)
    if abs(x) < 5e-5:
        return "0"
    text = format_value(x)
    return f"+{text}" if signed and x > 0 else text
