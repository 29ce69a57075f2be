"""The front end's commands (JSON messages) turned into edits of an :class:`EditSession`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zgc_space.editor._labels import OPERATIONS, number_text
from zgc_space.scenarios.proposal import Proposal

__all__ = ["KINDS", "dispatch", "operations"]

KINDS: tuple[str, ...] = ("release", "admit", "renew", "rezone", "merge")


def operations(p: Proposal) -> list[dict[str, Any]]:
    """Return the proposal's operations as the panel lists them (kind, index, name, reason, ...)."""
    out: list[dict[str, Any]] = []
    for kind in KINDS:
        for i, op in enumerate(getattr(p, kind)):
            zh, en = OPERATIONS[kind]
            item: dict[str, Any] = {"kind": kind, "index": i, "name": f"{zh} {en}", "reason": op.reason,
                                    "what": _describe(kind, op)}
            if kind == "renew":
                item["rule"] = {"kind": "far_target" if op.far_target is not None else "far_step",
                                "value": op.far_target if op.far_target is not None else op.far_step}
            out.append(item)
    return out


def _describe(kind: str, op: Any) -> str:
    if kind == "release":
        return str(op.block) + ("（部分 part）" if op.part is not None else "")
    if kind == "admit":
        return str(op.new_id)
    if kind == "renew":
        rule = f"→ {number_text(op.far_target)}" if op.far_target is not None else f"+{number_text(op.far_step)}"
        return f"{', '.join(op.blocks)}（容积率 FAR {rule}）"
    if kind == "rezone":
        return f"{op.block}: {op.from_} → {op.to}"
    return f"{' + '.join(op.blocks)} → {op.into}"


def dispatch(session: Any, m: Mapping[str, Any]) -> None:  # an EditSession (not imported: no cycle)
    """Carry out the command ``m`` on the session (see :meth:`EditSession.handle`)."""
    op = str(m.get("op", ""))
    actions: dict[str, Callable[[], object]] = {
        "state": lambda: None,
        "click_block": lambda: session.click_block(str(m["id"])),
        "click_candidate": lambda: session.click_candidate(str(m["id"])),
        "select": lambda: session.select(str(m["id"])),
        "clear_selection": lambda: session.selection.clear(),
        "merge": lambda: session.merge(m.get("ids"), into=m.get("into") or None, name=m.get("name") or None),
        "unmerge": lambda: session.unmerge(int(m["index"])),
        "set_rule": lambda: session.set_rule(**{str(m["kind"]): m.get("value")}),
        "set_renewal": lambda: session.set_renewal(int(m["index"]), **{str(m["kind"]): m.get("value")}),
        "set_reason": lambda: session.set_reason(str(m["kind"]), int(m["index"]), str(m.get("reason", ""))),
        "set_meta": lambda: session.set_meta(**{str(k): str(v) for k, v in dict(m.get("fields", {})).items()}),
        "save": lambda: session.save_as(str(m.get("name", "")), overwrite=m.get("overwrite") is True),
        "undo": session.undo,
        "redo": session.redo,
    }
    if op not in actions:
        session._refuse(f"未知命令“{op}”", f"unknown command {op!r}")
        return
    if op in ("set_rule", "set_renewal") and m.get("kind") not in ("far_target", "far_step"):
        session._refuse("容积率规则只能是目标（far_target）或增量（far_step）",
                        "a FAR rule is either far_target or far_step")
        return
    actions[op]()

