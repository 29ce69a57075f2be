"""The catalogue itself: language settings, terms, units, column names and headers, number formats.

Private: users reach these through :mod:`zgc_space.labels`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from zgc_space.errors import ParameterError
from zgc_space.schema import COLUMNS

#: The language settings.
LANGS: tuple[str, ...] = ("zh", "zh+en", "en")
_ALIASES = {"both": "zh+en"}

#: English unit → Chinese unit (units not listed read the same in both: %, m², 万元, km²).
UNITS: dict[str, str] = {
    "persons": "人",
    "enterprises": "家",
    "units": "个",
    "persons/ha": "人/公顷",
    "万元/ha": "万元/公顷",
    "万元/mu": "万元/亩",
    "万元/person": "万元/人",
    "ha": "公顷",
    "mu": "亩",
    "points": "分",
}

#: Short English names of columns for legends and tooltips (the schema's descriptions are sentences).
_SHORT_EN = {
    "block_id": "block",
    "name": "name",
    "subpark": "sub-park",
    "cluster": "cluster",
    "district": "district",
    "owner_type": "owner type",
    "owner_count": "land owners",
    "policy_zone": "policy zone",
    "site_area_m2": "site area",
    "gfa_m2": "floor area",
    "footprint_m2": "building footprint",
    "revenue_10k_cny": "revenue",
    "tax_10k_cny": "tax",
    "employees": "employees",
    "population": "population",
    "far_cap": "planned FAR cap",
}

#: key → (Chinese, English): statuses, changes, operations, booleans, optimisation and table terms.
TERMS: dict[str, tuple[str, str]] = {
    # dynamic-adjustment statuses
    "normal": ("正常", "normal"),
    "warning": ("预警", "warning"),
    "exit": ("退出", "exit"),
    "admitted": ("新纳入", "admitted"),
    "outside": ("区外", "outside"),
    # kinds of change on a proposal's map (the dynamic "admitted" above is 新纳入; a proposal's is 调入)
    "unchanged": ("未调整", "unchanged"),
    "released": ("调出", "released"),
    "part-released": ("部分调出", "partly released"),
    "rezoned": ("调整用途", "rezoned"),
    "renewed": ("更新改造", "renewed"),
    "merged-into": ("合并", "merged"),
    "merged": ("并入", "merged away"),
    "change:admitted": ("调入", "admitted"),
    # proposal operations (the YAML sections)
    "release": ("调出", "release"),
    "admit": ("调入", "admit"),
    "renew": ("更新", "renew"),
    "rezone": ("调整用途", "rezone"),
    "merge": ("合并", "merge"),
    "constraints": ("约束", "constraints"),
    # proposal statuses in a comparison
    "ok": ("符合约束", "ok"),
    "violations": ("违反约束", "violations"),
    "error": ("无法计算", "error"),
    # booleans and missing values
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "no_data": ("无数据", "no data"),
    # optimisation
    "objective": ("目标", "objective"),
    "sense": ("方向", "sense"),
    "max": ("最大化", "maximise"),
    "min": ("最小化", "minimise"),
    "baseline": ("现状", "baseline"),
    "optimised": ("优化后", "optimised"),
    "status": ("状态", "status"),
    "solver_status": ("求解状态", "solver status"),
    "optimal": ("最优", "optimal"),
    "feasible": ("可行解", "feasible"),
    "infeasible": ("无可行解", "infeasible"),
    "time_limit": ("达到时间上限", "time limit reached"),
    "gap": ("最优性差距", "optimality gap"),
    "method": ("求解方法", "method"),
    "exact": ("精确求解（混合整数线性规划）", "exact (mixed-integer linear programme)"),
    "heuristic": ("启发式求解", "heuristic"),
    "lp": ("线性规划", "linear programme"),
    "score": ("集约度分值", "score"),
    # policies for blank inputs (evaluation.MISSING_POLICIES)
    "refuse": ("拒绝计算", "refuse"),
    "drop-indicator": ("去掉缺数指标", "drop-indicator"),
    "drop-blocks": ("去掉缺数区块", "drop-blocks"),
    # selection kinds of the optimiser
    "kind": ("类型", "kind"),
    # generic words of pages and maps
    "before": ("调整前", "before"),
    "after": ("调整后", "after"),
    "change": ("调整", "change"),
    "blocks": ("区块", "blocks"),
    "block": ("区块", "block"),
    "year": ("年份", "year"),
    "subpark_outlines": ("分园边界", "sub-park outlines"),
    "districts": ("行政区", "districts"),
    "district_names": ("行政区名称", "district names"),
    "subpark_names": ("分园名称", "sub-park names"),
    "change_kind": ("调整类型", "change"),
    "dynamic_status": ("动态调整状态", "dynamic-adjustment status"),
    "total_area": ("总面积", "total area"),
    "block_count": ("区块数", "blocks"),
    "merged_outlines": ("合并前区块", "blocks before merging"),
    "line": ("第 {} 行", "line {}"),
    "member": ("政策区成员", "member"),
    "reason": ("原因", "reason"),
    "consecutive_warnings": ("连续预警次数", "consecutive warnings"),
    "simulated": ("模拟年份", "simulated"),
    "violation_box": ("违反约束", "violations"),
    "changed_blocks": ("调整区块", "changed blocks"),
    "overview": ("全区位置", "overview"),
    "north": ("北", "N"),
    "ZGC": ("中关村示范区", "ZGC"),
    # evaluation presets
    "cic_default": ("产城融合型默认方案", "cic_default"),
    "industry_led_default": ("工业主导型默认方案", "industry_led_default"),
    "heilongjiang_2015_example": ("黑龙江 2015 年示例方案", "heilongjiang_2015_example"),
}

#: Table headers that are neither schema columns nor indicators (Chinese, English).
_HEADERS: dict[str, tuple[str, str]] = {
    "proposal_id": ("方案编号", "proposal"),
    "title": ("方案名称", "title"),
    "source": ("方案文件", "file"),
    "status": ("状态", "status"),
    "error": ("错误", "error"),
    "n_violations": ("违反约束数", "violations"),
    "violations": ("违反约束", "violations"),
    "score": ("集约度分值", "score"),
    "rank": ("排名", "rank"),
    "rank_of": ("参评开发区数", "zones ranked"),
    "block_count": ("区块数", "blocks"),
    "remaining_m2": ("剩余可开发面积", "remaining land"),
    "gfa_capacity_m2": ("尚可建设建筑面积", "floor-area capacity"),
    # capacity, fragmentation and potential (zgc_space.capacity)
    "constructible_m2": ("可建设用地", "constructible land"),
    "developed_m2": ("已开发用地", "developed land"),
    "suppliable_m2": ("可供应土地", "suppliable land"),
    "unsupplied_m2": ("尚未供应土地", "unsupplied land"),
    "gfa_capped_blocks_m2": ("有规划容积率区块的建筑面积", "floor area of blocks with a FAR cap"),
    "permitted_gfa_m2": ("规划允许建筑面积", "permitted floor area"),
    "over_cap_m2": ("超出规划的建筑面积", "floor area over the cap"),
    "missing_cap_blocks": ("缺规划容积率的区块数", "blocks without a FAR cap"),
    "unknown_capacity_blocks": ("容量未知的区块数", "blocks of unknown capacity"),
    "zero_cap_blocks": ("规划容积率为零的区块数", "blocks with a zero FAR cap"),
    "over_cap_blocks": ("超出规划容积率的区块数", "blocks over the FAR cap"),
    "area_km2": ("面积", "area"),
    "min_block_km2": ("最小区块面积", "smallest block"),
    "median_block_km2": ("区块面积中位数", "median block"),
    "max_block_km2": ("最大区块面积", "largest block"),
    "mean_block_km2": ("平均区块面积", "mean block"),
    "small_block_share_pct": ("小区块占比", "share of small blocks"),
    "polsby_popper_mean": ("形状紧凑度均值", "mean compactness (Polsby-Popper)"),
    "polsby_popper_area_weighted": ("面积加权形状紧凑度", "area-weighted compactness"),
    "nearest_distance_median_m": ("相邻区块距离中位数", "median distance to the nearest block"),
    "blocks_per_km2": ("区块密度 (个/km²)", "blocks per km²"),
    "owners_per_km2": ("权属单位密度 (个/km²)", "land owners per km²"),
    "expansion_remaining_m2": ("扩展潜力：剩余可开发用地", "expansion potential: remaining land"),
    "expansion_suppliable_m2": ("扩展潜力：可供应土地", "expansion potential: suppliable land"),
    "structural_m2": ("结构潜力", "structural potential"),
    "intensity_land_m2": ("强度潜力：用地", "intensity potential: land"),
    "intensity_gfa_m2": ("强度潜力：建筑面积", "intensity potential: floor area"),
    "management_idle_m2": ("管理潜力：闲置土地", "management potential: idle land"),
    "management_low_efficiency_m2": ("管理潜力：低效用地", "management potential: low-efficiency land"),
    "change": ("调整类型", "change"),
    "operation": ("操作", "operation"),
    "line": ("行号", "line"),
    "detail": ("说明", "detail"),
    "year": ("年份", "year"),
    "zone": ("范围", "zone"),
    "indicator": ("指标", "indicator"),
    "zh": ("指标名称", "indicator"),
    "current": ("现状值", "current"),
    "required": ("所需值", "required"),
    "new": ("方案值", "planned"),
    "change_pct": ("变化 (%)", "change (%)"),
    "effort_pct": ("变化幅度 (%)", "effort (%)"),
    "reachable": ("单项可达", "reachable alone"),
    "s_now": ("现状标准化分", "standardised score"),
    "s_required": ("所需标准化分", "required standardised score"),
    "s_new": ("方案标准化分", "planned standardised score"),
    "ideal": ("理想值", "ideal value"),
    "weight": ("权重", "weight"),
    "note": ("备注", "note"),
    "points": ("增加分值", "points gained"),
    "case": ("情形", "case"),
    "percentile": ("百分位 (%)", "percentile (%)"),
    "peers_above": ("得分更高的开发区数", "zones scoring higher"),
    "ties": ("同分开发区数", "ties"),
    "preset": ("评价方案", "preset"),
    "of": ("参评开发区数", "zones ranked"),
    "contribution": ("对分值的影响", "contribution to the score"),
    "value": ("数值", "value"),
    "key": ("项目", "item"),
    "reason": ("原因", "reason"),
    "kind": ("类型", "kind"),
    "id": ("编号", "id"),
    "unit": ("单位", "unit"),
    "member": ("政策区成员", "member"),
    "consecutive_warnings": ("连续预警次数", "consecutive warnings"),
    "simulated": ("模拟年份", "simulated"),
    "members": ("成员数", "members"),
    "exits": ("退出数", "exits"),
    "admissions": ("新纳入数", "admissions"),
    "warnings": ("预警数", "warnings"),
    "subpark_score": ("分园集约度分值", "sub-park score"),
    "proposal": ("方案", "proposal"),
    "points_to_next_up": ("距上一名分差", "points to the next rank up"),
    "points_to_next_down": ("距下一名分差", "points to the next rank down"),
    "rank_low": ("排名区间下限", "rank interval low"),
    "rank_high": ("排名区间上限", "rank interval high"),
    "standardised": ("标准化得分", "standardised score"),
    "rank_change_significant": ("排名变化超出数据误差", "rank change significant"),
    "baseline_value": ("现状值", "baseline"),
    "baseline": ("现状", "baseline"),
    "optimised": ("优化后", "optimised"),
    "group": ("组", "group"),
    # the optimiser's linear objectives and its Pareto front's columns
    "released_area_m2": ("调出面积", "released area"),
    "admitted_area_m2": ("调入面积", "admitted area"),
    "total_area_m2": ("调出调入总面积", "released and admitted area"),
    "changes": ("调整处数", "changes"),
    "point": ("序号", "point"),
    "bound": ("最优界", "bound"),
    "released": ("调出区块数", "released"),
    "admitted": ("调入地块数", "admitted"),
    "renewed": ("更新区块数", "renewed"),
    "gap": ("最优性差距", "gap"),
    # consolidation groups
    "blocks": ("区块", "blocks"),
    "into": ("合并后编号", "merged into"),
}
#: A table term's unit from its name's tail (``remaining_m2`` is in m²).
_UNIT_TAILS = (("_km2", "km²"), ("_m2", "m²"), ("_pct", "%"), ("_m", "m"))
_SUFFIXES = (
    ("_change", "变化", "change"),
    ("_before", "调整前", "before"),
    ("_after", "调整后", "after"),
    ("_static", "（保持首年成员）", "(first year's members)"),
)


def check_lang(lang: str) -> str:
    """Return the canonical language setting, refusing anything else.

    Examples
    --------
    >>> check_lang("both"), check_lang("zh")
    ('zh+en', 'zh')
    """
    key = _ALIASES.get(lang, lang) if isinstance(lang, str) else lang
    if key not in LANGS:
        raise ParameterError(f"lang={lang!r} is not one of {LANGS}")
    return str(key)


def pick(zh: str, en: str, lang: str) -> str:
    """Return ``zh``, ``en`` or both (``"zh en"``, once when they are the same) for ``lang``."""
    key = check_lang(lang)
    if key == "zh":
        return zh
    if key == "en":
        return en
    return f"{zh} {en}" if zh != en else zh


def term(key: str, lang: str) -> str:
    """Return the catalogue's word for ``key``; a key the catalogue lacks is returned as given (data)."""
    if key not in TERMS:
        check_lang(lang)
        return key
    return pick(*TERMS[key], lang)


def unit(name: str, lang: str) -> str:
    """Return a unit in ``lang`` (Chinese for ``"zh"`` and ``"zh+en"``, which label once)."""
    return name if check_lang(lang) == "en" else UNITS.get(name, name)


def _names(col: str) -> tuple[str, str, str]:
    """Return (zh, en, English unit) of a column, an indicator or a table term."""
    from zgc_space.indicators import INDICATORS  # indicators imports the schema only: no cycle

    if col in COLUMNS:
        c = COLUMNS[col]
        return c.zh, _SHORT_EN.get(col, c.description), c.unit
    if col in INDICATORS:
        ind = INDICATORS[col]
        return ind.zh, ind.en, ind.unit
    if col in _HEADERS:
        zh, en = _HEADERS[col]
        return zh, en, "" if "(" in zh else next((u for tail, u in _UNIT_TAILS if col.endswith(tail)), "")
    for suffix, zh, en in _SUFFIXES:
        if col.endswith(suffix) and col != suffix:
            z, e, u = _names(col[: -len(suffix)])
            return f"{z}{zh}" if suffix == "_static" else f"{z} {zh}", f"{e} {en}", u
    if col.startswith("s_") and col[2:] in INDICATORS:
        z, e, _ = _names(col[2:])
        return f"{z} 标准化分", f"{e} standardised score", ""
    return col, col, ""


def unit_of(col: str) -> str:
    """Return the English unit of a column or indicator (``""`` for none), e.g. ``"万元/ha"``."""
    return _names(col)[2]


def column_name(col: str, lang: str) -> str:
    """Return the name of a column or indicator in ``lang`` (no unit)."""
    zh, en, _ = _names(col)
    return pick(zh, en, lang)


def header(col: str, lang: str) -> str:
    """Return a table header: the column's name in ``lang`` with its unit in parentheses.

    A derived column (``far_change``, ``gfa_m2_before``) reads as its column's header and the word
    for the derivation: ``综合容积率 变化``, ``总建筑面积 (m²) 调整前``.
    """
    for suffix, zh, en in _SUFFIXES:
        if col.endswith(suffix) and col != suffix and suffix != "_static":
            return f"{header(col[: -len(suffix)], lang)} {pick(zh, en, lang)}"
    zh, en, u = _names(col)
    name = pick(zh, en, lang)
    shown = unit(u, lang)
    return f"{name} ({shown})" if shown else name


def value(x: Any, lang: str, *, unit: str = "", decimals: int | None = None) -> str:
    """Format one value for people: numbers rounded to display precision, booleans 是/否, missing 无数据.

    Parameters
    ----------
    x
        A number, boolean, text or missing value.
    lang
        The language setting (booleans and "no data").
    unit
        Appended after a space (already in ``lang``).
    decimals
        Fixed decimals (e.g. one column's display precision, :func:`decimals_for`); default by
        magnitude: none from 1,000 (thousands separators), two from 1, three significant digits
        below (at most four decimals, never an exponent).
        A value that rounds to zero is written without a sign (no ``-0.00``, no ``2.2e-16``).
    """
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return term("no_data", lang)
    if isinstance(x, (bool, np.bool_)):
        return term("yes" if x else "no", lang)
    if isinstance(x, str):
        return x
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return term("no_data", lang)
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    if abs(f) < 1e-9:
        f = 0.0  # float noise of a difference (2.2e-16) is no change
    if decimals is None:
        mag = abs(f)
        if isinstance(x, (int, np.integer)) or mag >= 1000 or (mag >= 100 and f == round(f)):
            decimals = 0
        elif mag >= 1 or mag == 0:
            decimals = 2
        else:  # three significant digits as %g writes them, in fixed notation, at most four decimals
            places = int(np.clip(2 - math.floor(math.log10(mag)), 2, 4))
            text = f"{f:.{places}f}".rstrip("0").rstrip(".")
            text = "0" if text.lstrip("-") in ("0", "") else text
            return f"{text} {unit}" if unit else text
    text = f"{f:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # rounds to zero: no sign
        text = text.lstrip("-")
    return f"{text} {unit}" if unit else text


def canonical(name: str, *, choices: Any = None) -> str:
    """Return the id of a column or indicator named in Chinese or English (``分园`` → ``subpark``).

    A name is matched on its id, its Chinese name, its English name or its header with the unit
    (``综合容积率``, ``comprehensive floor-area ratio``, ``综合地均税收 (万元/公顷)``), ignoring
    case and surrounding spaces. A name that matches nothing is returned unchanged (the caller
    names what it accepts); with ``choices`` only those ids are matched.

    Examples
    --------
    >>> canonical("分园"), canonical("综合容积率"), canonical("综合地均税收 (万元/公顷)"), canonical("gfa_m2")
    ('subpark', 'far', 'tax_10k_cny_per_ha', 'gfa_m2')
    """
    from zgc_space.indicators import INDICATORS

    text = str(name).strip()
    ids = list(choices) if choices is not None else [*COLUMNS, *INDICATORS]
    if text in ids:
        return text
    wanted = text.casefold()
    for col in ids:
        zh, en, _ = _names(col)
        forms = {zh, en, header(col, "zh"), header(col, "en"), header(col, "zh+en")}
        if wanted in {f.casefold() for f in forms}:
            return str(col)
    return text
