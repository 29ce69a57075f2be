"""The editor's panel: one proposal evaluated by :func:`zgc_space.scenarios.compare`, as JSON-ready data.

The inputs that stay the same between clicks are prepared once (the preset, the peers reduced
to their scores, the candidate areas), and a panel is remembered by what it depends on, so undo,
redo and edits of reasons or the title need no new evaluation.
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
import pandas as pd

from zgc_space import evaluation, scenarios
from zgc_space.editor._labels import METRICS, metric_label, number_text
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
        self.preset = evaluation.load_preset(preset)
        scores = scenarios.peer_scores(peers, preset=self.preset)
        # The peers reduced to their scores once: compare ranks against exactly these.
        self._peers = pd.DataFrame({"zone_id": [f"peer{i}" for i in range(len(scores))], "score": scores})
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
        """Return the panel of ``proposal``: one call of the vectorised compare, plus the rank margin."""
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = scenarios.compare(self.blocks, [proposal], candidates=self.candidates, preset=self.preset,
                                      peers=self._peers, errors="report")
        ms = (time.perf_counter() - t0) * 1000
        self.latencies_ms.append(ms)
        row = table.iloc[0]
        base = table.attrs["baseline"]
        status = str(row["status"])
        metrics = []
        for m in ("score", "rank", *METRICS):
            if m not in table.columns:
                continue
            value = None if pd.isna(row[m]) else float(row[m])
            change = None if pd.isna(row[f"{m}_change"]) else float(row[f"{m}_change"])
            counted = m in ("rank", "block_count") and value is not None and change is not None
            metrics.append({"id": m, **metric_label(m), "value": value, "baseline": _plain(base.get(m)),
                            "change": change,
                            "text": f"{value:,.0f}" if counted else number_text(value),
                            "change_text": f"{change:+,.0f}".replace("+0", "0") if counted else
                            number_text(change, signed=True)})
        violations = table.attrs.get("violations", {}).get(proposal.id, [])
        notes = list(dict.fromkeys(str(w.message) for w in caught))
        score = None if pd.isna(row["score"]) else float(row["score"])
        return {
            "status": status,
            "error": None if pd.isna(row["error"]) else str(row["error"]),
            "score": score,
            "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
            "rank_of": int(row["rank_of"]) if not pd.isna(row["rank_of"]) else None,
            "margin": self._margin(score),
            "metrics": metrics,
            "violations": [{"rule": v["rule"], "message": v["message"], "block_ids": v["block_ids"]}
                           for v in violations],
            "notes": notes,
            "latency_ms": round(ms, 1),
        }

    def _margin(self, score: float | None) -> dict[str, float | None]:
        """Points the score may lose before the rank drops, and must gain to climb one place."""
        if score is None:
            return {"up": None, "down": None}
        s = round(score, 6)
        peers = self._sorted_peers
        above = peers[peers > s]
        below = peers[peers <= s]
        return {"up": float(above.min() - s) if len(above) else None,
                "down": float(s - below.max()) if len(below) else None}


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
