"""The edit state of a proposal on the map, with no browser: operations, undo/redo, the panel.

:class:`EditSession` holds one :class:`~zgc_space.proposal.Proposal` at a time. Every edit
(a click on a block or a candidate, a merge, a reason, a FAR rule) builds the next proposal,
evaluates it through :class:`zgc_space.scenarios.PreparedBaseline` (the building blocks of
:func:`~zgc_space.scenarios.compare`, the vectorised path the batch runs use, with the baseline
prepared once; so a saved file evaluates to exactly what the panel shows) and keeps it, unless the edit
is refused: an edit that makes the proposal invalid (a negative FAR, an admission overlapping
a kept block, a merge of blocks that do not neighbour or lie in different sub-parks) leaves
the proposal as it was and says why in :attr:`EditSession.notice`, in Chinese with the English
beside it. Nothing here raises for a bad edit; the widget and the local page show the notice in
the panel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
from pydantic import ValidationError

from zgc_space import evaluation, scenarios
from zgc_space.editor._commands import KINDS, dispatch, operations
from zgc_space.editor._labels import number_text
from zgc_space.editor._notices import Notice, chinese_error, op_label, positive, pydantic_text
from zgc_space.editor._panel import PanelEvaluator, read_candidates
from zgc_space.editor._saving import OnExisting, save_into
from zgc_space.editor._yaml import proposal_text
from zgc_space.errors import ColumnError, OverwriteInputError, ParameterError, ProposalError, ZgcSpaceError
from zgc_space.io import write_atomic
from zgc_space.scenarios.proposal import Proposal, dump_proposal, parse_proposal, read_proposal

__all__ = ["EditSession", "Notice"]

log = logging.getLogger(__name__)

#: Default id and title of a proposal started from scratch.
NEW_ID, NEW_TITLE = "P-edit", "在地图上编辑的方案 Proposal edited on the map"
#: The words of the two FAR rules (Chinese, English).
_RULE_WORDS = {"far_target": ("容积率目标", "FAR target"), "far_step": ("容积率增量", "FAR step")}


class EditSession:
    """A proposal being edited: the clicks of the map as methods, each evaluated at once.

    Parameters
    ----------
    blocks
        The baseline block table (any CRS; evaluated in EPSG:4548).
    candidates
        Candidate areas (GeoDataFrame or file) with ``candidate_id``, for admissions.
    proposal
        A proposal to start from: a :class:`~zgc_space.proposal.Proposal` or a YAML file
        (its metadata, constraints and the comments of unchanged sections survive
        :meth:`save`). Default: an empty proposal ``P-edit``.
    preset
        Evaluation preset (as :func:`zgc_space.scenarios.compare`).
    peers
        Peer zones of the national rank (as :func:`zgc_space.scenarios.compare`).
    far_step
        The FAR step a block gets when a click moves it to "renew" (see :meth:`set_rule`).
    merge_gap_m
        Blocks closer than this (m) count as neighbours in a :meth:`merge` (written into the
        file as ``max_gap_m``; the sample's blocks are parted by roads).
    out_dir
        Folder the front end may save proposal files into (:meth:`save_as`); ``None``: no
        saving from the front end (:meth:`save` still works).
    on_existing
        What saving from the front end does when the file exists: ``"ask"`` (the local page
        asks, and replaces it only when confirmed) or ``"refuse"`` (the widget: nothing is
        written, the notice says so and offers a free name instead).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from zgc_space import datasets
    >>> s = EditSession(datasets.load_blocks(), candidates=datasets.load_candidates())
    >>> s.click_block("B158").text
    '调出 B158'
    >>> s.click_block("B158").text, s.notice.en
    ('更新 B158（容积率 +0.5）', 'renew B158 (FAR +0.5)')
    >>> s.set_rule(far_target=-1).text
    '容积率目标必须是大于 0 的数（容积率 = 总建筑面积 / 已建成城镇建设用地面积），输入的是 -1.00'
    >>> s.undo().text, s.status("B158")
    ('已撤销：更新 B158（容积率 +0.5）', 'release')
    >>> s.panel["rank"], s.proposal.release[0].block
    (74, 'B158')
    """

    def __init__(
        self,
        blocks: gpd.GeoDataFrame,
        *,
        candidates: gpd.GeoDataFrame | str | Path | None = None,
        proposal: Proposal | str | Path | None = None,
        preset: evaluation.PresetLike = "cic_default",
        peers: scenarios.PeersLike = None,
        far_step: float = 0.5,
        out_dir: str | Path | None = None,
        merge_gap_m: float = 100.0,
        on_existing: OnExisting = "ask",
    ) -> None:
        if not isinstance(blocks, gpd.GeoDataFrame) or "block_id" not in blocks.columns:
            raise ColumnError("`blocks` must be a GeoDataFrame with a block_id column (e.g. datasets.load_blocks())")
        self.blocks = blocks
        self.candidates = read_candidates(candidates)
        self._evaluator = PanelEvaluator(blocks, candidates=self.candidates, preset=preset, peers=peers)
        self._source_text: str | None = None
        self.source: Path | None = None
        if isinstance(proposal, (str, Path)):
            self.source = Path(proposal)
            start = read_proposal(self.source)
            self._source_text = self.source.read_text(encoding="utf-8")
        else:
            start = proposal if proposal is not None else Proposal(id=NEW_ID, title=NEW_TITLE)
        self.rule: tuple[str, float] = ("far_step", positive(far_step, _RULE_WORDS["far_step"])[0] or 0.5)
        self.selection: list[str] = []
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.merge_gap_m = float(merge_gap_m)
        if on_existing not in ("ask", "refuse"):
            raise ParameterError(f"on_existing={on_existing!r}: use 'ask' (the page) or 'refuse' (the widget)")
        self.on_existing = on_existing
        self._save_name: str | None = None
        self._confirm: dict[str, Any] | None = None
        self._block_ids = [str(b) for b in blocks["block_id"]]
        self._subpark = dict(zip(self._block_ids, blocks["subpark"].astype(str), strict=True)) \
            if "subpark" in blocks.columns else {}
        self._candidate_ids = [] if self.candidates is None else [str(c) for c in self.candidates["candidate_id"]]
        self._undo: list[tuple[Proposal, tuple[str, str]]] = []
        self._redo: list[tuple[Proposal, tuple[str, str]]] = []
        self._proposal = start
        self.panel: dict[str, Any] = self._evaluator.panel(start)
        self.notice = Notice("info", f"方案 {start.id}：{start.title}", f"proposal {start.id}: {start.title}")

    # -- reading the state -------------------------------------------------------------------

    @property
    def latencies_ms(self) -> list[float]:
        """Milliseconds of every evaluation so far (panels remembered from before are not evaluated)."""
        return self._evaluator.latencies_ms

    @property
    def proposal(self) -> Proposal:
        """The proposal as edited so far."""
        return self._proposal

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone edit to redo."""
        return bool(self._redo)

    def status(self, block_id: str) -> str:
        """Return a block's state: keep, release, release-part, renew, merge or rezone."""
        p = self._proposal
        for r in p.release:
            if r.block == block_id:
                return "release" if r.part is None else "release-part"
        if any(block_id in m.blocks for m in p.merge):
            return "merge"
        if any(block_id in r.blocks for r in p.renew):
            return "renew"
        if any(z.block == block_id for z in p.rezone):
            return "rezone"
        return "keep"

    def admitted(self) -> list[str]:
        """Candidate ids the proposal admits."""
        return [a.candidate for a in self._proposal.admit if a.candidate is not None]

    def state(self) -> dict[str, Any]:
        """Return the map and panel state as JSON-ready data (what the front end draws)."""
        p = self._proposal
        merged = {b: k for k, m in enumerate(p.merge) for b in m.blocks}
        return {
            "proposal": {"id": p.id, "title": p.title, "author": p.author, "description": p.description},
            "blocks": {b: self.status(b) for b in self._block_ids},
            "merge_group": merged,
            "admitted": self.admitted(),
            "selection": list(self.selection),
            "rule": {"kind": self.rule[0], "value": self.rule[1]},
            "operations": operations(self._proposal),
            "can_undo": self.can_undo,
            "can_redo": self.can_redo,
            "notice": self.notice.to_dict(),
            "panel": self.panel,
            "can_save": self.out_dir is not None,
            "save_name": self._save_name or (self.source.name if self.source is not None else f"{p.id}.yaml"),
            "confirm": self._confirm,
        }

    # -- edits ---------------------------------------------------------------------------------

    def click_block(self, block_id: str) -> Notice:
        """Cycle a block keep → release → renew → keep (a merged or rezoned block skips release)."""
        if block_id not in self._block_ids:
            return self._refuse(f"现状数据中没有区块 {block_id}",
                                f"there is no block {block_id!r} in the baseline")
        data = self._data()
        state = self.status(block_id)
        if state in ("release", "release-part"):
            data["release"] = [r for r in data["release"] if r["block"] != block_id]
            return self._renew_into(data, [block_id])
        if state in ("renew", "merge") and any(block_id in r["blocks"] for r in data["renew"]):
            _drop_renewal(data, block_id)
            return self._commit(data, (f"保留 {block_id}", f"keep {block_id}"))
        if state in ("merge", "rezone"):
            why = ("已合并" if state == "merge" else "已调整用途", f"is {state}d")
            return self._renew_into(data, [block_id], why=(f"{block_id} {why[0]}，因此更新改造而不调出",
                                                           f"{block_id} {why[1]}, so it is renewed, not released"))
        data["release"].append({"block": block_id})
        return self._commit(data, op_label("release", block_id))

    def click_candidate(self, candidate_id: str) -> Notice:
        """Admit a candidate area, or take it out of the proposal again."""
        if candidate_id not in self._candidate_ids:
            if self.candidates is None:
                return self._refuse("没有提供候选用地，无法调入",
                                    "no candidate areas were given, so nothing can be admitted")
            return self._refuse(f"候选用地中没有 {candidate_id}",
                                f"there is no candidate {candidate_id!r} in the candidate areas")
        data = self._data()
        if candidate_id in self.admitted():
            data["admit"] = [a for a in data["admit"] if a.get("candidate") != candidate_id]
            return self._commit(data, (f"不再调入 {candidate_id}", f"not admitted: {candidate_id}"))
        data["admit"].append({"candidate": candidate_id})
        return self._commit(data, op_label("admit", candidate_id))

    def select(self, block_id: str) -> Notice:
        """Add a block to the selection for :meth:`merge`, or take it out."""
        if block_id not in self._block_ids:
            return self._refuse(f"现状数据中没有区块 {block_id}",
                                f"there is no block {block_id!r} in the baseline")
        if block_id in self.selection:
            self.selection.remove(block_id)
        else:
            self.selection.append(block_id)
        chosen = ", ".join(self.selection) or "–"
        self.notice = Notice("info", f"已选：{chosen}", f"selected: {chosen}")
        return self.notice

    def merge(self, block_ids: list[str] | None = None, *, into: str | None = None, name: str | None = None,
              reason: str = "", max_gap_m: float | None = None) -> Notice:
        """Merge blocks (default: the selection) into one management unit ``into`` (default ``M-<ids>``)."""
        ids = list(dict.fromkeys(block_ids if block_ids is not None else self.selection))
        if len(ids) < 2:
            return self._refuse("请至少选择两个区块再合并（按住 Shift 点击区块，或勾选“选择”）",
                                "select at least two blocks to merge (shift-click them, or tick 'select')")
        unknown = [b for b in ids if b not in self._block_ids]
        if unknown:
            return self._refuse(f"现状数据中没有区块 {', '.join(unknown)}",
                                f"there is no block {', '.join(unknown)} in the baseline")
        data = self._data()
        gap = self.merge_gap_m if max_gap_m is None else max_gap_m
        op: dict[str, Any] = {"blocks": ids, "into": into or "M-" + "-".join(ids), "reason": reason, "max_gap_m": gap}
        if name:
            op["name"] = name
        data["merge"].append(op)
        notice = self._commit(data, op_label("merge", " + ".join(ids)))
        if notice.level == "info":
            self.selection = []
            return notice
        parks = {b: self._subpark.get(b, "") for b in ids}
        if len(set(parks.values())) > 1 and "subpark" not in notice.en:
            where_zh = "，".join(f"{b}：{v}" for b, v in parks.items())
            where_en = ", ".join(f"{b}: {v}" for b, v in parks.items())
            notice = self._refuse(f"{notice.text}；而且这些区块分属不同分园（{where_zh}），"
                                  "一个管理单元只能在一个分园内",
                                  f"{notice.en}. The blocks also lie in different sub-parks ({where_en}); "
                                  "a management unit keeps to one sub-park")
        return notice

    def unmerge(self, index: int) -> Notice:
        """Remove the merge at ``index`` (the blocks keep their other operations)."""
        data = self._data()
        if not 0 <= index < len(data["merge"]):
            return self._refuse(f"没有第 {index + 1} 个合并", f"there is no merge number {index + 1}")
        op = data["merge"].pop(index)
        what = " + ".join(op["blocks"])
        return self._commit(data, (f"取消合并 {what}", f"unmerged: {what}"))

    def _rule(self, far_target: Any, far_step: Any) -> tuple[str, float | None, tuple[str, str] | None]:
        if (far_target is None) == (far_step is None):
            return "", None, ("请只给出容积率目标或容积率增量中的一个",
                              "give exactly one of a FAR target or a FAR step")
        kind = "far_target" if far_target is not None else "far_step"
        value, problem = positive(far_target if far_target is not None else far_step, _RULE_WORDS[kind])
        return kind, value, problem

    def set_rule(self, *, far_target: Any = None, far_step: Any = None) -> Notice:
        """Set the FAR rule the next block moved to "renew" gets (exactly one of the two)."""
        kind, value, problem = self._rule(far_target, far_step)
        if value is None:
            return self._refuse(*(problem or ("", "")))
        self.rule = (kind, value)
        zh, en = _rule_text(kind, value)
        self.notice = Notice("info", f"之后的更新改造：{zh}", f"next renewals: {en}")
        return self.notice

    def set_renewal(self, index: int, *, far_target: Any = None, far_step: Any = None) -> Notice:
        """Change the FAR target or step of the renewal at ``index``."""
        data = self._data()
        if not 0 <= index < len(data["renew"]):
            return self._refuse(f"没有第 {index + 1} 个更新改造", f"there is no renewal number {index + 1}")
        kind, value, problem = self._rule(far_target, far_step)
        if value is None:
            zh, en = problem or ("", "")
            return self._refuse(f"{zh}；第 {index + 1} 个更新改造未改变", f"{en}; renewal {index + 1} is unchanged")
        op = data["renew"][index]
        op.pop("far_target", None)
        op.pop("far_step", None)
        op[kind] = value
        zh, en = op_label("renew", ", ".join(op["blocks"]))
        rule_zh, rule_en = _rule_text(kind, value)
        return self._commit(data, (f"{zh}：{rule_zh}", f"{en}: {rule_en}"))

    def set_reason(self, kind: str, index: int, reason: str) -> Notice:
        """Set the reason of operation ``kind`` number ``index`` (0-based)."""
        if kind not in KINDS:
            return self._refuse(f"没有操作类型 {kind}；可用：{', '.join(KINDS)}",
                                f"there is no operation kind {kind!r}; use one of {', '.join(KINDS)}")
        data = self._data()
        zh, en = op_label(kind, str(index + 1))
        if not 0 <= index < len(data[kind]):
            return self._refuse(f"没有第 {index + 1} 个{zh.split()[0]}", f"there is no {kind} number {index + 1}")
        data[kind][index]["reason"] = str(reason)
        return self._commit(data, (f"已修改 {zh} 的理由", f"reason of {en}"))

    def set_meta(self, **fields: str) -> Notice:
        """Set the proposal's ``id``, ``title``, ``author`` or ``description``."""
        data = self._data()
        names = {"id": "方案编号", "title": "标题", "author": "作者", "description": "说明"}
        for key, value in fields.items():
            if key not in names:
                return self._refuse(f"不能修改 {key}；可修改的是方案编号、标题、作者、说明",
                                    f"cannot set {key!r}; the editable fields are id, title, author, description")
            data[key] = str(value).strip() if key in ("id", "title") else str(value)
        return self._commit(data, (f"已修改{'、'.join(names[k] for k in fields)}", f"{', '.join(fields)} changed"))

    def undo(self) -> Notice:
        """Go back one edit."""
        if not self._undo:
            return self._refuse("没有可撤销的操作", "nothing to undo")
        previous, label = self._undo.pop()
        self._redo.append((self._proposal, label))
        self._set(previous)
        self.notice = Notice("info", f"已撤销：{label[0]}", f"undone: {label[1]}")
        return self.notice

    def redo(self) -> Notice:
        """Redo the edit last undone."""
        if not self._redo:
            return self._refuse("没有可重做的操作", "nothing to redo")
        following, label = self._redo.pop()
        self._undo.append((self._proposal, label))
        self._set(following)
        self.notice = Notice("info", f"已重做：{label[0]}", f"redone: {label[1]}")
        return self.notice

    # -- saving ------------------------------------------------------------------------------

    def yaml(self) -> str:
        """Return the proposal as YAML (the opened file's comments kept where its sections are unchanged)."""
        return proposal_text(self._proposal, self._source_text)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the proposal as YAML; ``zgc-space compare`` evaluates it to :attr:`panel`'s numbers.

        Raises
        ------
        OverwriteInputError
            When ``path`` exists and ``overwrite`` is not true (nothing is written).
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise OverwriteInputError(f"{path} exists; pass overwrite=True to replace it")
        write_atomic(path, self.yaml().encode("utf-8"))
        log.info("saved proposal %s to %s", self._proposal.id, path)
        return path

    def save_as(self, name: str, *, overwrite: bool = False) -> Notice:
        """Save into :attr:`out_dir` as ``name`` (``.yaml`` added); an existing file needs ``overwrite``.

        Without ``overwrite`` an existing file is left alone. With ``on_existing="ask"`` (the
        page) the next :meth:`state` carries a ``confirm`` question whose ``retry`` command saves
        with ``overwrite=True``; with ``"refuse"`` (the widget) the notice says the file exists
        and the name offered for saving becomes a free one (``p06-2.yaml``).
        """
        self.notice, self._confirm, offered = save_into(self, name, overwrite=overwrite)
        self._save_name = offered or self._save_name
        return self.notice

    # -- commands from the front end ------------------------------------------------------------

    def handle(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """Carry out one command of the front end and return the new :meth:`state`.

        ``message["op"]`` names the edit (``click_block``, ``click_candidate``, ``select``,
        ``merge``, ``unmerge``, ``set_rule``, ``set_renewal``, ``set_reason``, ``set_meta``,
        ``save``, ``undo``, ``redo``, ``clear_selection``, ``state``); a malformed command, like a bad
        edit, becomes an error notice, never an exception.
        """
        t0 = time.perf_counter()
        self._confirm = None
        try:
            dispatch(self, message)
        except (KeyError, TypeError, ValueError, ZgcSpaceError) as exc:
            op = message.get("op")
            self._refuse(f"无法执行命令“{op}”：{exc}", f"cannot do {op!r}: {exc}")
        except Exception as exc:  # a bug must not leave a traceback in a notebook or kill the server
            log.exception("editor command %r failed", message)
            op = message.get("op")
            self._refuse(f"内部错误（命令“{op}”，{type(exc).__name__}）：方案未改变，请报告此问题",
                         f"internal error in {op!r} ({type(exc).__name__}: {exc}); "
                         "the proposal is unchanged; please report this")
        out = self.state()
        out["handle_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out

    # -- internals -----------------------------------------------------------------------------

    def _data(self) -> dict[str, Any]:
        return self._proposal.model_dump(by_alias=True, exclude_defaults=False)

    def _renew_into(self, data: dict[str, Any], ids: list[str], *, why: tuple[str, str] | None = None) -> Notice:
        kind, value = self.rule
        for op in data["renew"]:
            if op.get(kind) == value and op.get("far_target" if kind == "far_step" else "far_step") is None \
                    and op["elasticity"] == {"revenue": 0.0, "tax": 0.0, "employees": 0.0}:
                op["blocks"] = [*op["blocks"], *[b for b in ids if b not in op["blocks"]]]
                break
        else:
            data["renew"].append({"blocks": ids, kind: value})
        zh, en = op_label("renew", ", ".join(ids))
        rule_zh, rule_en = _rule_text(kind, value)
        zh, en = f"{zh}（{rule_zh}）", f"{en} ({rule_en})"
        return self._commit(data, (zh + f"；{why[0]}", en + f"; {why[1]}") if why else (zh, en))

    def _commit(self, data: dict[str, Any], label: tuple[str, str]) -> Notice:
        """Validate and evaluate the proposal ``data``; keep it unless it is newly broken."""
        zh, en = label
        try:
            proposal = Proposal.model_validate(data)
            protected = proposal.constraints.protected
            if protected is not None and not Path(protected).is_absolute() and self.source is not None:
                # a relative protected layer is found from the opened file's folder, as compare does
                proposal = parse_proposal(dump_proposal(proposal), source=str(self.source))
        except ValidationError as exc:
            text = pydantic_text(exc)
            return self._refuse(f"未完成：{zh}：方案内容无效（英文原文：{text}）", f"not done: {en}: {text}")
        except ProposalError as exc:
            return self._refuse(f"未完成：{zh}：{chinese_error(str(exc))}", f"not done: {en}: {exc}")
        panel = self._evaluator.panel(proposal)
        if panel["status"] == "error" and self.panel["status"] != "error":
            return self._refuse(f"未完成：{zh}：{panel['error']}", f"not done: {en}: {panel['error_en']}")
        self._undo.append((self._proposal, label))
        self._redo.clear()
        self._proposal, self.panel = proposal, panel
        self.notice = Notice("info", zh, en)
        return self.notice

    def _set(self, proposal: Proposal) -> None:
        self._proposal = proposal
        self.panel = self._evaluator.panel(proposal)

    def _refuse(self, text: str, en: str = "") -> Notice:
        self.notice = Notice("error", text, en)
        return self.notice


def _rule_text(kind: str, value: float) -> tuple[str, str]:
    """``("容积率 → 2.5", "FAR → 2.5")`` for a target, ``("容积率 +0.5", "FAR +0.5")`` for a step."""
    rule = f"→ {number_text(value)}" if kind == "far_target" else f"+{number_text(value)}"
    return f"容积率 {rule}", f"FAR {rule}"


def _drop_renewal(data: dict[str, Any], block_id: str) -> None:
    kept = []
    for op in data["renew"]:
        op["blocks"] = [b for b in op["blocks"] if b != block_id]
        if op["blocks"]:
            kept.append(op)
    data["renew"] = kept
