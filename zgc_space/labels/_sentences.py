"""The library's own sentences (violations, dynamic reasons, change details) rendered from their figures.

Private: users reach these through :mod:`zgc_space.labels`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from zgc_space.labels._catalogue import TERMS, check_lang, column_name, header, pick, term, unit, unit_of, value
from zgc_space.schema import COLUMNS

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


#: Identity columns a merge may not mix → Chinese name.
_MIXED = {"subpark": "分园", "policy_zone": "政策区", "cluster": "组团", "district": "行政区"}


def _areas(names: str) -> str:
    """``B1 (5,000 m²), B2 (10 m²)`` → ``B1（5,000 m²）、B2（10 m²）``."""
    return re.sub(r" \((-?[\d,.]+ m²)\)", r"（\1）", names).replace("）, ", "）、")


def _mixed(detail: str) -> str:
    """``subpark differs (东城园: B001; 延庆园: B164)`` → ``分园不同（东城园：B001；延庆园：B164）``."""
    out = []
    for m in re.finditer(r"(\w+) differs \((.*?)\)(?= and |$)", detail):
        groups = "；".join(g.replace(": ", "：") for g in m.group(2).split("; "))
        out.append(f"{_MIXED.get(m.group(1), m.group(1))}不同（{groups}）")
    return "，".join(out) or detail


#: Whole sentences (errors of a proposal, whose figures may hold "; "), matched before splitting.
_WHOLE: list[tuple[re.Pattern[str], _Repl]] = [
    (re.compile(r"^admitted land (\S+) at .+? overlaps kept block\(s\) (.+?); cut .*$"),
     lambda m: f"调入用地 {m.group(1)} 与保留区块 {_areas(m.group(2))}重叠；"
               "请从调入范围中切除重叠部分，或先调出这些区块"),
    (re.compile(rf"^admitted land (\S+) at .+? overlaps admitted land (\S+) \({_N} m²\); .*$"),
     lambda m: f"调入用地 {m.group(1)} 与已调入用地 {m.group(2)} 重叠 {m.group(3)} m²；同一块地只能调入一次"),
    (re.compile(r"^merge at .+?: block\(s\) (.+?) do not neighbour (\S+) \(within max_gap_m (\S+) m\); .*$"),
     lambda m: f"区块 {m.group(1)} 与 {m.group(2)} 不相邻（相距超过 {m.group(3)} m）；只能合并相邻的区块"),
    (re.compile(r"^merge at .+? combines blocks whose (.+?); merge each group separately.*$"),
     lambda m: f"要合并的区块{_mixed(m.group(1))}；一个管理单元只能在一个分园、同一政策区内，请分组合并"),
    (re.compile(r"^merge at .+? names the combined block '(.+?)', which a kept block .*$"),
     lambda m: f"合并后的编号 {m.group(1)} 已被保留区块使用；请换一个编号"),
    (re.compile(r"^proposal \S+ releases every block.*$"),
     lambda m: "方案调出了全部区块：调整后的园区没有土地可以评价"),
    (re.compile(r"^proposal \S+ names \d+ block id\(s\) not in the baseline: (.+?)\. Fix .*$"),
     lambda m: f"方案中有现状数据里没有的区块编号：{m.group(1)}"),
    (re.compile(r"^candidate '(.+?)' at .+? is not in the candidate file.*$"),
     lambda m: f"候选用地文件中没有 {m.group(1)}"),
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
    >>> sentence("merge at merge[0] (line 4): block(s) B164 do not neighbour B001 (within max_gap_m 100 m); "
    ...          "merge only neighbouring blocks or raise max_gap_m", "zh")
    '区块 B164 与 B001 不相邻（相距超过 100 m）；只能合并相邻的区块'
    """
    key = check_lang(lang)
    if not isinstance(text, str) or key == "en":
        return value(text, key) if not isinstance(text, str) else text
    for pattern, repl in _WHOLE:
        m = pattern.match(text.strip())
        if m:
            return pick(repl(m), text, key)
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
        if col in out.columns:  # a proposal's change "admitted" is 调入 (the dynamic status is 新纳入)
            out[col] = [term(f"change:{v}" if col == "change" and f"change:{v}" in TERMS else str(v), key)
                        if isinstance(v, str) else v for v in out[col]]
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


#: Sheet names of the tables the package writes (Excel allows 31 characters).
SHEETS: dict[str, str] = {
    "zone_indicators": "全区指标",
    "rank": "排名",
    "subpark_indicators": "分园指标",
    "gap_to_rank_single": "单项达标所需",
    "gap_to_rank_plan": "综合达标方案",
    "proposals_comparison": "方案比较",
    "proposals_changes": "方案调整明细",
    "optimisation_summary": "优化结果",
    "optimisation_evaluation": "优化后指标",
    "optimisation_selection": "优化选中区块",
    "dynamic_statuses": "动态调整状态",
    "dynamic_counts": "动态调整统计",
    "dynamic_zone": "动态调整全区",
    "changes": "调整明细",
    "indicators": "指标",
    "capacity": "用地容量",
    "pareto": "权衡前沿",
    "zonal": "分区统计",
}


def people_table(frame: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return a table for people and its units: headers, terms and sentences in ``lang``.

    Every column (and a named index) is headed by :func:`header` (name and unit), statuses and
    the library's sentences are translated (:func:`translate_frame`), and the units are returned
    keyed by the new headers, for the units row of :func:`zgc_space.io.write_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> table, units = people_table(pd.DataFrame({"far": [1.2], "status": ["exit"]}), "zh")
    >>> list(table.columns), table["状态"].tolist(), units
    (['综合容积率', '状态'], ['退出'], {'综合容积率': '', '状态': ''})
    """
    key = check_lang(lang)
    shown = translate_frame(frame, key)
    if any(name is not None for name in shown.index.names):
        shown = shown.reset_index()
    names = {c: header(str(c), key) for c in shown.columns}
    units = {names[c]: unit(unit_of(str(c)), key) for c in shown.columns}
    return shown.rename(columns=names), units
