"""What the editor's panel says to people: notices in Chinese (English beside), never a traceback.

A :class:`Notice` carries the Chinese text the panel shows (``text``) and the English one shown
smaller beneath it (``en``). Messages that come from :mod:`zgc_space.scenarios` (errors of a
proposal, constraint violations, warnings) are English; :func:`chinese_error`,
:func:`chinese_violation` and :func:`chinese_note` give their Chinese wording from the
message's own figures and ids (the three bad edits of the editor, admitting land over a kept
block, a renewal's FAR below 0 and merging blocks that neither neighbour nor share a sub-park,
have their own sentences); a message no template knows is introduced in Chinese and quoted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from zgc_space.editor._labels import OPERATIONS, number_text

__all__ = [
    "RULES",
    "Notice",
    "chinese_error",
    "chinese_note",
    "chinese_violation",
    "op_label",
    "positive",
    "pydantic_text",
]

#: Constraint rule id → Chinese name.
RULES: dict[str, str] = {
    "area-cap": "面积上限",
    "must-keep": "必须保留",
    "max-distance": "距离上限",
    "protected": "保护范围",
    "far-cap": "容积率上限",
}

#: Identity columns a merge may not mix → Chinese name.
_MIXED = {"subpark": "分园", "policy_zone": "政策区", "cluster": "组团", "district": "行政区",
          "owner_type": "权属类型"}


@dataclass(frozen=True)
class Notice:
    """A message for the panel: ``level`` is ``"info"`` (an edit done) or ``"error"`` (refused).

    ``text`` is the Chinese the panel shows; ``en`` the same in English (shown beneath it).
    """

    level: Literal["info", "error"]
    text: str
    en: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict."""
        return {"level": self.level, "text": self.text, "en": self.en}


def op_label(kind: str, what: str) -> tuple[str, str]:
    """Return the (Chinese, English) label of an operation on ``what``, e.g. ``("调出 B158", "release B158")``."""
    zh, en = OPERATIONS[kind]
    return f"{zh} {what}", f"{en} {what}"


def positive(value: Any, what: tuple[str, str]) -> tuple[float | None, tuple[str, str] | None]:
    """Return ``(value, None)`` for a finite number above 0, else ``(None, (zh, en) message)``.

    Examples
    --------
    >>> positive("-1", ("容积率目标", "FAR target"))[1][0]
    '容积率目标必须是大于 0 的数（容积率 = 总建筑面积 / 已建成城镇建设用地面积），输入的是 -1.00'
    """
    zh, en = what
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None, (f"{zh}必须是大于 0 的数，输入的“{value}”不是数",
                      f"{en} must be a number above 0, got {value!r}")
    if not math.isfinite(x) or x <= 0:
        return None, (f"{zh}必须是大于 0 的数（容积率 = 总建筑面积 / 已建成城镇建设用地面积），"
                      f"输入的是 {number_text(x)}",
                      f"{en} must be a number above 0 (FAR = floor area / built land), got {number_text(x)}")
    return x, None


def pydantic_text(exc: ValidationError) -> str:
    """Return pydantic's errors as one line: ``field.path: message; ...``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else str(err["msg"]))
    return "; ".join(parts)


def _mixed(detail: str) -> str:
    """``subpark differs (东城园: B001; 延庆园: B164)`` → ``分园不同（东城园：B001；延庆园：B164）``."""
    out = []
    for m in re.finditer(r"(\w+) differs \((.*?)\)(?= and |$)", detail):
        groups = "；".join(g.replace(": ", "：") for g in m.group(2).split("; "))
        out.append(f"{_MIXED.get(m.group(1), m.group(1))}不同（{groups}）")
    return "，".join(out) or detail


def _areas(names: str) -> str:
    """``B1 (5,000 m²), B2 (10 m²)`` → ``B1（5,000 m²）、B2（10 m²）``."""
    return re.sub(r" \(([\d,.]+ m²)\)", r"（\1）", names).replace("）, ", "）、")


#: (pattern of a scenarios error, Chinese template); groups are filled in by number.
_ERRORS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"admitted land (\S+) at .+? overlaps kept block\(s\) (.+?); cut"),
     lambda m: f"调入的用地 {m[1]} 与保留地块 {_areas(m[2])}重叠；请从调入范围中切除重叠部分，或先调出这些地块"),
    (re.compile(r"admitted land (\S+) at .+? overlaps admitted land (\S+) \(([\d,.]+) m²\)"),
     lambda m: f"调入的用地 {m[1]} 与已调入的用地 {m[2]} 重叠 {m[3]} m²；同一块地只能调入一次"),
    (re.compile(r"merge at .+?: block\(s\) (.+?) do not neighbour (\S+) \(within max_gap_m (\S+) m\)"),
     lambda m: f"地块 {m[1]} 与 {m[2]} 不相邻（相距超过 {m[3]} m）；只能整合相邻的地块"),
    (re.compile(r"merge at .+? combines blocks whose (.+?); merge each group separately"),
     lambda m: f"要整合的地块{_mixed(m[1])}；一个管理单元只能在一个分园、同一政策区内，请分组整合"),
    (re.compile(r"merge at .+? names the combined block '(.+?)', which a kept block"),
     lambda m: f"整合后的编号 {m[1]} 已被保留地块使用；请换一个编号"),
    (re.compile(r"proposal \S+ releases every block"),
     lambda m: "方案调出了全部地块：调整后的园区没有土地可以评价"),
    (re.compile(r"names \d+ block id\(s\) not in the baseline: (.+?)\. Fix"),
     lambda m: f"方案中有基准数据里没有的地块编号：{m[1]}"),
    (re.compile(r"candidate '(.+?)' at .+? is not in the candidate file"),
     lambda m: f"候选用地文件中没有 {m[1]}"),
)


def chinese_error(message: str) -> str:
    """Return the Chinese of a proposal error from :mod:`zgc_space.scenarios`.

    Examples
    --------
    >>> chinese_error("merge at merge[0] (line 3): block(s) B164 do not neighbour B001 (within max_gap_m 100 m); "
    ...               "merge only neighbouring blocks or raise max_gap_m")
    '地块 B164 与 B001 不相邻（相距超过 100 m）；只能整合相邻的地块'
    >>> chinese_error("something new")
    '方案无法计算（英文原文）：something new'
    """
    for pattern, template in _ERRORS:
        match = pattern.search(message)
        if match:
            return str(template(match))
    return f"方案无法计算（英文原文）：{message}"


_VIOLATIONS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"total site area ([\d,.]+) m² exceeds (.+?) ([\d,.]+) m² by ([\d,.]+) m²"),
     lambda m: f"总用地面积 {m[1]} m² 超过{'面积上限' if m[2] == 'area_cap_m2' else '基准总面积（默认面积不增加）'}"
               f" {m[3]} m²，超出 {m[4]} m²"),
    (re.compile(r"renewing block (\S+) \(.+?\) puts ([\d,.]+) m² of floor area above"),
     lambda m: f"更新改造地块 {m[1]} 使建筑面积超出规划容积率上限 {m[2]} m²"),
    (re.compile(r"block (\S+) must be kept"),
     lambda m: f"地块 {m[1]} 必须保留，但方案调出了它（或其一部分）"),
    (re.compile(r"admitted land (\S+) \(.+?\) lies ([\d,.]+) m from"),
     lambda m: f"调入的用地 {m[1]} 距现有地块 {m[2]} m，超过距离上限"),
    (re.compile(r"admitted land (\S+) \(.+?\) overlaps the protected layer"),
     lambda m: f"调入的用地 {m[1]} 与保护范围重叠"),
)


def chinese_violation(rule: str, message: str) -> str:
    """Return the Chinese of a constraint violation (its rule's name, then what is wrong).

    Examples
    --------
    >>> chinese_violation("area-cap", "total site area 1,200 m² exceeds area_cap_m2 1,000 m² by 200 m²")
    '面积上限：总用地面积 1,200 m² 超过面积上限 1,000 m²，超出 200 m²'
    """
    name = RULES.get(rule, rule)
    for pattern, template in _VIOLATIONS:
        match = pattern.search(message)
        if match:
            return f"{name}：{template(match)}"
    return f"{name}（英文原文）：{message}"


def chinese_note(message: str) -> str:
    """Return the Chinese of a warning raised while evaluating (re-normalised weights, missing data)."""
    if "re-normalised" in message:
        return "部分指标缺少数据，其权重已按其余指标重新分配（英文原文）：" + message
    return "提示（英文原文）：" + message
