"""Words and numbers the editor shows to people: panel metrics, operation names, block states.

Metric names, units and the display precision of numbers come from the label catalogue
(:mod:`zgc_space.labels`); only the editor's own words (the states a click cycles through, the
rank margin's sentence) are here.
"""

from __future__ import annotations

import math

from zgc_space import labels
from zgc_space.labels import TERMS

__all__ = ["METRICS", "OPERATIONS", "STATES", "margin_text", "metric_label", "number_text"]

#: Metrics the panel lists, in order (every one of ``scenarios.HEADLINE`` the compare table has).
METRICS: tuple[str, ...] = (
    "far", "tax_10k_cny_per_ha", "building_density_pct", "population_per_ha", "revenue_10k_cny_per_ha",
    "employment_per_ha", "supply_rate_pct", "completion_rate_pct", "idle_rate_pct", "development_rate_pct",
    "site_area_m2", "remaining_m2", "gfa_capacity_m2", "block_count",
)

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


def metric_label(metric: str) -> dict[str, str]:
    """Return ``{"zh", "en", "unit"}`` for a panel metric, from the label catalogue.

    Examples
    --------
    >>> metric_label("far")["zh"], metric_label("block_count")["en"], metric_label("tax_10k_cny_per_ha")["unit"]
    ('综合容积率', 'blocks', '万元/公顷')
    """
    return {"zh": labels.column_name(metric, "zh"), "en": labels.column_name(metric, "en"),
            "unit": labels.unit(labels.unit_of(metric), "zh")}


def number_text(value: float | None, *, signed: bool = False, whole: bool = False) -> str:
    """Format a number for the panel by :func:`zgc_space.labels.value`'s rules, signed if asked.

    ``whole`` writes no decimals (a rank, a count of blocks). A value that rounds to nothing reads
    ``0`` (never ``-0.00``, ``+0`` or ``2.2e-16``); a missing or infinite one reads "no data".

    Examples
    --------
    >>> number_text(1234567.891), number_text(1.18234), number_text(-0.000001, signed=True)
    ('1,234,568', '1.18', '0')
    >>> number_text(0.0312, signed=True), number_text(-0.0), number_text(float("nan"))
    ('+0.0312', '0', '无数据 no data')
    >>> number_text(-3.0, signed=True, whole=True), number_text(-0.0, signed=True, whole=True)
    ('-3', '0')
    """
    if value is None or not math.isfinite(float(value)):
        return labels.value(None, "zh+en")
    x = float(value)
    text = labels.value(x, "zh+en", decimals=0 if whole else None)
    if text.strip("0.,") == "":  # rounds to zero at its display precision
        return "0"
    return f"+{text}" if signed and x > 0 else text


def margin_text(up: float | None, down: float | None) -> tuple[str, str]:
    """Return the rank margin as the panel says it, in Chinese and English.

    Examples
    --------
    >>> margin_text(0.11867, 0.1213)
    ('再得 0.119 分升一位 · 再失 0.121 分降一位', '0.119 points more to climb a place · 0.121 points less to drop one')
    >>> margin_text(None, 2.5)
    ('再失 2.50 分降一位', '2.50 points less to drop one')
    """
    zh, en = [], []
    if up is not None:
        zh.append(f"再得 {number_text(up)} 分升一位")
        en.append(f"{number_text(up)} points more to climb a place")
    if down is not None:
        zh.append(f"再失 {number_text(down)} 分降一位")
        en.append(f"{number_text(down)} points less to drop one")
    return " · ".join(zh), " · ".join(en)
