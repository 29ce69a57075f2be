"""What the editor's panel says to people: notices in Chinese (English beside), never a traceback.

A :class:`Notice` carries the Chinese text the panel shows (``text``) and the English one shown
smaller beneath it (``en``). Messages that come from :mod:`zgc_space.scenarios` (errors of a
proposal, constraint violations, warnings) are English; :func:`chinese_error`,
:func:`chinese_violation` and :func:`chinese_note` give their Chinese wording from the
message's own figures and ids through :func:`zgc_space.labels.sentence`, the label catalogue
(the three bad edits of the editor, admitting land over a kept block, a renewal's FAR below 0 and
merging blocks that neither neighbour nor share a sub-park, have their own sentences); a message
the catalogue does not know is introduced in Chinese and quoted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from zgc_space import labels
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


def chinese_error(message: str) -> str:
    """Return the Chinese of a proposal error from :mod:`zgc_space.scenarios` (the label catalogue's).

    Examples
    --------
    >>> chinese_error("merge at merge[0] (line 3): block(s) B164 do not neighbour B001 (within max_gap_m 100 m); "
    ...               "merge only neighbouring blocks or raise max_gap_m")
    '区块 B164 与 B001 不相邻（相距超过 100 m）；只能合并相邻的区块'
    >>> chinese_error("something new")
    '方案无法计算（英文原文）：something new'
    """
    zh = labels.sentence(message, "zh")
    return zh if zh != message else f"方案无法计算（英文原文）：{message}"


def chinese_violation(rule: str, message: str) -> str:
    """Return the Chinese of a constraint violation (its rule's name, then what is wrong).

    Examples
    --------
    >>> chinese_violation("area-cap", "total site area 1,200 m² exceeds area_cap_m2 1,000 m² by 200 m²")
    '面积上限：调整后总用地面积 1,200 m² 超过面积上限 1,000 m²，超出 200 m²'
    """
    text = f"[{rule}] {message}"
    zh = labels.sentence(text, "zh")
    return zh if zh != text else f"{RULES.get(rule, rule)}（英文原文）：{message}"


def chinese_note(message: str) -> str:
    """Return the Chinese of a warning raised while evaluating (re-normalised weights, missing data)."""
    if "re-normalised" in message:
        return "部分指标缺少数据，其权重已按其余指标重新分配（英文原文）：" + message
    return "提示（英文原文）：" + message
