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

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from zgc_space.errors import ParameterError
from zgc_space.schema import COLUMNS

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
    "score": ("集约度分值", "score"),
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
}
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
        return (*_HEADERS[col], "")
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


def decimals_for(values: Any) -> int:
    """Return one display precision for a column of numbers (so ``0.0027`` never sits beside ``1.18``).

    Examples
    --------
    >>> decimals_for([1.18, 0.00272, -0.000232]), decimals_for([68_590_331.78, 12.5]), decimals_for([3, 4])
    (2, 0, 0)
    """
    arr = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0 or np.all(arr == np.round(arr)):
        return 0
    big = float(np.nanmax(np.abs(arr)))
    if big >= 1000:
        return 0
    if big >= 1:
        return 2
    return 3 if big >= 0.01 else 4


# ---------------------------------------------------------------------------------------------
# the library's own sentences, rendered in Chinese from the figures they hold

_Repl = Callable[[re.Match[str]], str]
_N = r"(-?[\d,]+(?:\.\d+)?)"
_PATH = r"(?:[a-z_]+\[\d+\](?:\.[a-z_]+\[\d+\])*)"


def _land(name: str) -> str:
    """Return the Chinese name of a land class of a rezoning (``nonconstruction``, ``ready``, ``unready``)."""
    return column_name(f"{name}_m2", "zh") if f"{name}_m2" in COLUMNS else column_name(name, "zh")


def _where(path: str) -> str:
    head = path.split("[", 1)[0]
    return TERMS.get(head, (head, head))[0]


_PHRASES: list[tuple[re.Pattern[str], str | _Repl]] = [
    # dynamic adjustment (zgc_space.dynamic)
    (re.compile(r"^score undefined \(missing data\); not evaluated this round$"), "数据缺失，分值无法计算，本轮不评价"),
    (re.compile(rf"^in the bottom {_N} % of members \({_N} % score lower\)$"), r"位于成员后 \1%（\2% 的成员得分更低）"),
    (re.compile(rf"^score {_N} below {_N}$"), r"分值 \1 低于 \2"),
    (re.compile(rf"^score {_N} at least {_N}$"), r"分值 \1，不低于 \2"),
    (re.compile(rf"^score {_N}$"), r"分值 \1"),
    (re.compile(r"^warning (\d+) in a row$"), r"连续第 \1 次预警"),
    (re.compile(r"^exits after (\d+) consecutive warnings$"), r"连续 \1 次预警后退出"),
    (re.compile(r"^exit deferred.*$"), "退出推迟（政策区成员数不低于下限）"),
    # change details (zgc_space.scenarios)
    (re.compile(rf"^FAR → {_N}$"), r"容积率提高到 \1"),
    (re.compile(rf"^FAR \+ {_N}$"), r"容积率提高 \1"),
    (re.compile(r"^into (\S+)$"), r"并入 \1"),
    (
        re.compile(rf"^{_N} m² (\w+) → (\w+)$"),
        lambda m: f"{m.group(1)} m² 由{_land(m.group(2))}调整为{_land(m.group(3))}",
    ),
    # the optimiser's proposal (zgc_space.optimize)
    (
        re.compile(r"^Optimised adjustment \((max|min) (\w+)\)$"),
        lambda m: f"优化方案（{TERMS[m.group(1)][0]}{column_name(m.group(2), 'zh')}）",
    ),
    (
        re.compile(r"^chosen by search \((max|min) (\w+)\)$"),
        lambda m: f"由优化搜索选出（{TERMS[m.group(1)][0]}{column_name(m.group(2), 'zh')}）",
    ),
    # violations (zgc_space.scenarios)
    (
        re.compile(
            rf"^\[area-cap\] total site area {_N} m² exceeds (area_cap_m2|the baseline total \(area-neutral "
            rf"default\)) {_N} m² by {_N} m²$"
        ),
        lambda m: (
            f"面积上限：调整后总用地面积 {m.group(1)} m² 超过"
            f"{'面积上限' if m.group(2) == 'area_cap_m2' else '现状总面积（默认面积不增）'} {m.group(3)} m²，"
            f"超出 {m.group(4)} m²"
        ),
    ),
    (
        re.compile(rf"^\[far-cap\] renewing block (\S+) .* puts {_N} m² of floor area above .*$"),
        r"容积率上限：区块 \1 更新后建筑面积超出规划容积率上限 \2 m²",
    ),
    (re.compile(r"^\[must-keep\] block (\S+) must be kept .*$"), r"必须保留：区块 \1 须保留，但方案将其全部或部分调出"),
    (
        re.compile(
            rf"^\[max-distance\] admitted land (\S+) .* lies {_N} m from the nearest kept block, more than "
            rf"max_distance_m {_N}$"
        ),
        r"距离上限：调入用地 \1 距最近保留区块 \2 m，超过上限 \3 m",
    ),
    (
        re.compile(rf"^\[protected\] admitted land (\S+) .* overlaps the protected layer by {_N} m²$"),
        r"保护范围：调入用地 \1 与保护范围重叠 \2 m²",
    ),
    (re.compile(rf"^({_PATH})$"), lambda m: _where(m.group(1))),
    # optimisation methods (zgc_space.optimize)
    (re.compile(r"^exact MILP reformulation of the capped score$"), "精确求解（分值封顶的混合整数线性规划等价改写）"),
    (re.compile(r"^MILP \(linear objective\)$"), "混合整数线性规划（线性目标）"),
    (re.compile(r"^MILP.*$"), "混合整数线性规划"),
]


def _one(part: str, lang: str) -> str:
    for pattern, repl in _PHRASES:
        m = pattern.match(part)
        if m:
            zh = repl(m) if callable(repl) else m.expand(repl)
            return pick(zh, part, lang)
    return part


def sentence(text: Any, lang: str) -> str:
    """Render one of the library's own sentences in ``lang``; other text (a planner's reason) is kept.

    Sentences joined by ``"; "`` are rendered one by one.

    Examples
    --------
    >>> sentence("score 41.20 below 50; warning 2 in a row", "zh")
    '分值 41.20 低于 50；连续第 2 次预警'
    >>> sentence("renew[0].blocks[1]", "zh"), sentence("FAR → 1.0; 总部基地", "zh")
    ('更新', '容积率提高到 1.0；总部基地')
    """
    key = check_lang(lang)
    if not isinstance(text, str) or key == "en":
        return value(text, key) if not isinstance(text, str) else text
    parts = [_one(p.strip(), key) for p in text.split("; ")]
    return "；".join(parts) if key == "zh" else "; ".join(parts)


def operation(path: Any, line: Any, lang: str) -> str:
    """Return where a change comes from: the operation's name and the proposal file's line.

    Examples
    --------
    >>> operation("renew[0].blocks[1]", 11, "zh"), operation("release[2]", None, "en")
    ('更新（第 11 行）', 'release[2]')
    """
    key = check_lang(lang)
    if not isinstance(path, str):
        return ""
    if key == "en":
        return path + (f" (line {int(line)})" if pd.notna(line) else "")
    name = _where(path) if re.fullmatch(_PATH, path) else path
    where = f"（第 {int(line)} 行）" if line is not None and pd.notna(line) else ""
    return pick(name + where, path, key) if key == "zh+en" else name + where


def translate_frame(
    frame: pd.DataFrame,
    lang: str,
    *,
    terms: tuple[str, ...] = ("status", "change", "kind"),
    sentences: tuple[str, ...] = ("reason", "detail", "violations"),
) -> pd.DataFrame:
    """Return ``frame`` with its term and sentence columns in ``lang`` (headers are left as they are)."""
    key = check_lang(lang)
    if key == "en":
        return frame
    out = frame.copy()
    for col in terms:
        if col in out.columns:
            out[col] = [term(str(v), key) if isinstance(v, str) else v for v in out[col]]
    for col in sentences:
        if col in out.columns:
            out[col] = [sentence(v, key) if isinstance(v, str) else v for v in out[col]]
    if "operation" in out.columns:
        lines = out["line"] if "line" in out.columns else pd.Series([None] * len(out), index=out.index)
        out["operation"] = [operation(p, ln, key) for p, ln in zip(out["operation"], lines, strict=True)]
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = [term("yes" if v else "no", key) for v in out[col]]
    return out


def mapping(items: Mapping[str, Any], lang: str) -> dict[str, str]:
    """Return ``{header(key): value(v)}`` for a small key/value table."""
    return {header(k, lang): value(v, lang) for k, v in items.items()}
