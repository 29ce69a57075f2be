"""The editor as a Jupyter widget (anywidget): one ES module with Leaflet inlined, no network."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anywidget
import geopandas as gpd
import traitlets

from zgc_space import evaluation, scenarios
from zgc_space.editor._assets import editor_css, editor_module, map_data
from zgc_space.editor._session import EditSession, Notice
from zgc_space.scenarios.proposal import Proposal

__all__ = ["ProposalEditor"]

log = logging.getLogger(__name__)


class ProposalEditor(anywidget.AnyWidget):
    """Edit a proposal on the map in a notebook; the panel updates after every click.

    Click a block to cycle it keep → release (调出) → renew (更新改造, with the panel's FAR
    step or target) → keep; click a candidate area to admit it (调入) or take it out again;
    tick "select" (or shift-click) to pick blocks and press "merge" (合并). Every operation has
    a reason field; undo/redo step through the edits. The panel shows the zone's indicators,
    score, national rank with its margin, the change against the baseline and every
    constraint violation, computed as :func:`zgc_space.scenarios.compare` would after each click. A
    bad edit (a negative FAR, an admission overlapping a kept block, a merge of blocks that do
    not neighbour) is refused with a message in the panel.

    Parameters
    ----------
    blocks, candidates, proposal, preset, peers
        As :class:`~zgc_space.editor.EditSession`.
    height
        CSS height of the widget.
    **options
        Further options of :class:`~zgc_space.editor.EditSession` (``far_step``,
        ``merge_gap_m``, ``out_dir``: the folder the panel's save button writes into, by
        default the current folder; an existing file there is never replaced: the panel says
        so and offers a free name).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from zgc_space import datasets
    >>> editor = ProposalEditor(datasets.load_blocks(), candidates=datasets.load_candidates())
    >>> editor.click_block("B158").text, editor.view["blocks"]["B158"]
    ('调出 B158', 'release')
    """

    _esm = traitlets.Unicode(editor_module()).tag(sync=True)
    _css = traitlets.Unicode(editor_css()).tag(sync=True)
    geo = traitlets.Dict().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)
    height = traitlets.Unicode("600px").tag(sync=True)

    def __init__(
        self,
        blocks: gpd.GeoDataFrame,
        *,
        candidates: gpd.GeoDataFrame | str | Path | None = None,
        proposal: Proposal | str | Path | None = None,
        preset: evaluation.PresetLike = "cic_default",
        peers: scenarios.PeersLike = None,
        height: str = "600px",
        **options: Any,
    ) -> None:
        # The panel's save button writes into out_dir (default: the notebook's folder) and, since a
        # notebook front end cannot always show a dialog, refuses to replace a file (offering a free name).
        options.setdefault("out_dir", Path.cwd())
        session = EditSession(blocks, candidates=candidates, proposal=proposal, preset=preset, peers=peers,
                              on_existing="refuse", **options)
        super().__init__(geo=map_data(session.blocks, session.candidates), view=session.state(), height=height)
        self.session = session
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        self.view = self.session.handle(content)

    def _refresh(self, notice: Notice) -> Notice:
        self.view = self.session.state()
        return notice

    @property
    def proposal(self) -> Proposal:
        """The proposal as edited so far."""
        return self.session.proposal

    @property
    def panel(self) -> dict[str, Any]:
        """The panel's numbers (as :attr:`EditSession.panel`)."""
        return self.session.panel

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the proposal as YAML (see :meth:`EditSession.save`)."""
        return self.session.save(path, overwrite=overwrite)

    def save_as(self, name: str) -> Notice:
        """Do what the panel's save button does: save into ``out_dir``, never over an existing file."""
        return self._refresh(self.session.save_as(name))

    def click_block(self, block_id: str) -> Notice:
        """Do what a click on the block does."""
        return self._refresh(self.session.click_block(block_id))

    def click_candidate(self, candidate_id: str) -> Notice:
        """Do what a click on the candidate area does."""
        return self._refresh(self.session.click_candidate(candidate_id))

    def merge(self, block_ids: list[str] | None = None, **options: Any) -> Notice:
        """Merge blocks (see :meth:`EditSession.merge`)."""
        return self._refresh(self.session.merge(block_ids, **options))

    def set_rule(self, **rule: Any) -> Notice:
        """Set the FAR rule of the next renewals (see :meth:`EditSession.set_rule`)."""
        return self._refresh(self.session.set_rule(**rule))

    def set_reason(self, kind: str, index: int, reason: str) -> Notice:
        """Set an operation's reason (see :meth:`EditSession.set_reason`)."""
        return self._refresh(self.session.set_reason(kind, index, reason))

    def undo(self) -> Notice:
        """Go back one edit."""
        return self._refresh(self.session.undo())

    def redo(self) -> Notice:
        """Redo the edit last undone."""
        return self._refresh(self.session.redo())
