"""The editor's panel: one proposal's row of :func:`zgc_space.scenarios.compare`, as JSON-ready data.

What stays the same between clicks is prepared once by :class:`zgc_space.scenarios.PreparedBaseline`
(the baseline's arrays and sums, the candidate areas, the peers reduced to their scores, the
baseline's own metrics); a click evaluates only the edited proposal, through compare's building
blocks, so the panel's numbers are compare's. A panel is remembered by what it depends on, so
undo, redo and edits of reasons or the title need no new evaluation. Errors, violations and
notes are worded in Chinese (``error``, ``message``, ``notes``) with the English kept beside them
(``error_en``, ``message_en``, ``notes_en``).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from zgc_space import evaluation, scenarios
from zgc_space.editor._labels import METRICS, margin_text, metric_label, number_text
from zgc_space.editor._notices import RULES, chinese_error, chinese_note, chinese_violation
from zgc_space.errors import ProposalError
from zgc_space.scenarios.proposal import Proposal

__all__ = ["PanelEvaluator", "read_candidates"]

#: Panels remembered.
PANELS_KEPT = 256


class PanelEvaluator:
    """Evaluate proposals against one baseline for the panel (see :meth:`panel`)."""

    def __init__(self, blocks: gpd.GeoDataFrame, *, candidates: gpd.GeoDataFrame | None,
                 preset: evaluation.PresetLike, peers: scenarios.PeersLike) -> None:
        self.blocks = blocks
        self.candidates = candidates
        # The baseline, the candidates, the peers' scores and the baseline's metrics prepared once;
        # each click evaluates only its proposal, through compare's own building blocks.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.prepared = scenarios.PreparedBaseline(blocks, candidates=candidates, preset=preset, peers=peers)
        self._baseline_notes = [str(w.message) for w in caught]  # the baseline's, shown with every panel
        self.preset = self.prepared.preset
        scores = self.prepared.peer_scores
        self._sorted_peers = np.sort(np.round(scores[~np.isnan(scores)], 6))
        self.latencies_ms: list[float] = []
        self._panels: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def panel(self, proposal: Proposal) -> dict[str, Any]:
        """Return the panel of ``proposal`` (remembered for undo/redo and edits of words only)."""
        key = _panel_key(proposal)
        if key in self._panels:
            self._panels.move_to_end(key)
            return self._panels[key]
        panel = self._compare(proposal)
        self._panels[key] = panel
        if len(self._panels) > PANELS_KEPT:
            self._panels.popitem(last=False)
        return panel

    def _compare(self, proposal: Proposal) -> dict[str, Any]:
        """Return the panel of ``proposal``: its row of :func:`zgc_space.scenarios.compare`, plus the rank margin."""
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self.prepared.evaluate(proposal)
        ms = (time.perf_counter() - t0) * 1000
        self.latencies_ms.append(ms)
        base = self.prepared.baseline
        metrics = []
        for m in ("score", "rank", *METRICS):
            if m not in base:
                continue
            value = _plain(result.metrics.get(m))
            change = _plain(result.changes.get(m))
            whole = m in ("rank", "block_count")  # counted: no decimals
            change_text = number_text(change, signed=True, whole=whole)
            metrics.append({"id": m, **metric_label(m), "value": value, "baseline": _plain(base.get(m)),
                            "change": change, "text": number_text(value, whole=whole), "change_text": change_text,
                            # the colour of a change follows what is shown: none for a change that reads 0
                            "trend": "" if change is None or change_text == "0" else ("up" if change > 0 else "down")})
        notes = list(dict.fromkeys([*self._baseline_notes, *(str(w.message) for w in caught)]))
        score = _plain(result.metrics.get("score"))
        rank = result.metrics.get("rank")
        rank_of = result.metrics.get("rank_of")
        return {
            "status": result.status,
            "error": None if result.error is None else chinese_error(result.error),
            "error_en": result.error,
            "score": score,
            "rank": None if rank is None else int(rank),
            "rank_of": None if rank_of is None else int(rank_of),
            "margin": self._margin(score),
            "metrics": metrics,
            "violations": [{"rule": v.rule, "rule_zh": RULES.get(v.rule, v.rule),
                            "message": chinese_violation(v.rule, v.message), "message_en": v.message,
                            "block_ids": list(v.block_ids)} for v in result.violations],
            "notes": [chinese_note(n) for n in notes],
            "notes_en": notes,
            "latency_ms": round(ms, 1),
        }

    def _margin(self, score: float | None) -> dict[str, Any]:
        """Points the score may lose before the rank drops, and must gain to climb one place (and as words)."""
        up = down = None
        if score is not None:
            s = round(score, 6)
            peers = self._sorted_peers
            above = peers[peers > s]
            below = peers[peers <= s]
            up = float(above.min() - s) if len(above) else None
            down = float(s - below.max()) if len(below) else None
        text, text_en = margin_text(up, down)
        return {"up": up, "down": down, "text": text, "text_en": text_en}


def _panel_key(proposal: Proposal) -> str:
    """Return what the panel of a proposal depends on: everything but its words (reasons, title...)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "reason"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    data = proposal.model_dump(mode="json", by_alias=True, exclude={"title", "author", "date", "description"})
    return json.dumps(strip(data), sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None



def read_candidates(candidates: gpd.GeoDataFrame | str | Path | None) -> gpd.GeoDataFrame | None:
    if candidates is None or isinstance(candidates, gpd.GeoDataFrame):
        return candidates
    try:
        return gpd.read_file(candidates)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise ProposalError(f"cannot read the candidate file {candidates}: {exc}") from exc
