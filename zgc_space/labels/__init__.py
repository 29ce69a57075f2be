"""The one catalogue of words shown to people, in one language setting: ``"zh"``, ``"zh+en"``, ``"en"``.

Every page, map, table header, Word document and terminal table takes its words from here:
column and indicator names (from :data:`zgc_space.schema.COLUMNS` and
:data:`zgc_space.indicators.INDICATORS`), units (万元/公顷, 人/公顷, 万元/亩), dynamic-adjustment
statuses (正常/预警/退出/新纳入/区外), kinds of change and operations (调出/调入/更新/调整用途/合并),
booleans (是/否), optimisation terms (目标, 最优, 求解状态) and the sentences the library itself
writes (violation messages, dynamic-adjustment reasons, change details), which
:func:`sentence` renders in Chinese from the figures they hold.

``"zh"`` is the default of hearing outputs (pack, Word report, diagnoses, printed maps);
``"zh+en"`` writes both (``"both"`` is accepted as its older name); ``"en"`` English only.

Examples
--------
>>> from zgc_space import labels
>>> labels.term("exit", "zh"), labels.term("released", "zh+en"), labels.unit("万元/ha", "zh")
('退出', '调出 released', '万元/公顷')
>>> labels.header("tax_10k_cny_per_ha", "zh"), labels.header("far", "en")
('综合地均税收 (万元/公顷)', 'comprehensive floor-area ratio')
>>> labels.value(True, "zh"), labels.value(-0.0000232, "zh"), labels.value(2.220446e-16, "zh", unit="m²")
('是', '0', '0.00 m²')
"""

from __future__ import annotations

from zgc_space.labels._catalogue import (
    LANGS,
    TERMS,
    UNITS,
    check_lang,
    column_name,
    decimals_for,
    header,
    pick,
    term,
    unit,
    unit_of,
    value,
)
from zgc_space.labels._sentences import mapping, operation, sentence, translate_frame

__all__ = [
    "LANGS",
    "TERMS",
    "UNITS",
    "check_lang",
    "column_name",
    "decimals_for",
    "header",
    "mapping",
    "operation",
    "pick",
    "sentence",
    "term",
    "translate_frame",
    "unit",
    "unit_of",
    "value",
]
