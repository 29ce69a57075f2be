"""A baseline prepared once, then one proposal at a time: what :func:`~zgc_space.scenarios.compare` does.

:func:`~zgc_space.scenarios.compare` prepares its baseline, candidates and peers on every call,
which is most of the time of a one-proposal call (the map editor's update per click).
:class:`PreparedBaseline` does that once and then evaluates proposals through the same
building blocks (:func:`~zgc_space.scenarios._fast.evaluate_many`, :func:`metrics_of`), so its
numbers are compare's: scoring is row by row, and the baseline row is computed once.

The helpers compare shares with it (:func:`candidates_frame`, :func:`protected_for`,
:func:`metrics_of`) live here so that both import them from one place.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import evaluation, indicators, ranking
from zgc_space.errors import ColumnError, ProposalError, ValidationWarning
from zgc_space.scenarios import _fast as fast
from zgc_space.scenarios import _rows as ops
from zgc_space.scenarios.proposal import Proposal

__all__ = ["PreparedBaseline", "PreparedEvaluation", "candidates_frame", "metrics_of", "protected_for"]

#: Metrics that are counts (their change is an integer difference, as in compare's table).
_COUNTS = ("rank", "rank_of", "block_count")


def protected_for(proposal: Proposal, protected: gpd.GeoDataFrame | None,
                  cache: dict[str, gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame | None:
    """Return the protected layer of ``proposal``: ``protected`` if given, else the file it names (cached)."""
    if protected is not None:
        return ops.metric(protected, "protected")
    path = proposal.constraints.protected
    if path is None:
        return None
    key = str(ops.protected_path(proposal))
    if cache is not None and key in cache:
        return cache[key]
    frame = ops.read_protected(path, proposal)
    if cache is not None:
        cache[key] = frame
    return frame


def candidates_frame(candidates: gpd.GeoDataFrame | str | Path | None) -> gpd.GeoDataFrame | None:
    """Return the candidate areas in EPSG:4548, read from a file if need be; ids must be unique."""
    if candidates is None:
        return None
    if isinstance(candidates, (str, Path)):
        try:
            frame = gpd.read_file(candidates)
        except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
            raise ProposalError(f"cannot read the candidate file {candidates}: {exc}") from exc
    else:
        frame = candidates
    if "candidate_id" not in frame.columns:
        raise ColumnError("`candidates` has no candidate_id column; proposals admit candidate areas by that id")
    ids = frame["candidate_id"].astype(str)
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        where = f"the candidate file {candidates}" if isinstance(candidates, (str, Path)) else "`candidates`"
        rows = "; ".join(f"{i} in rows {', '.join(str(r + 1) for r in np.flatnonzero(ids.to_numpy() == i))}"
                         for i in sorted(set(repeated)))
        raise ProposalError(
            f"{where} repeats candidate_id ({rows}); ids must be unique, so give each candidate area its own id"
        )
    return ops.metric(frame, "candidates")


def metrics_of(sums: pd.DataFrame, cap: np.ndarray, count: np.ndarray, *,
               preset: evaluation.PresetLike, peers: np.ndarray) -> pd.DataFrame:
    """Compute indicators, capacity, score and rank of many zone-sum rows in one vectorised pass."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        ind = indicators.compute(sums, by=None)
    ind_cols = [c for c in indicators.INDICATORS if c in ind.columns]
    scored = evaluation.score(ind[ind_cols], preset=preset)
    score = scored["score"].to_numpy(float)
    # one frame built from a dict of columns: a column assigned at a time was most of a one-row call
    cols: dict[str, object] = {
        "score": score,
        "rank": pd.array(ranking.rank_scores(score, peers), dtype="Int64"),
        "rank_of": np.full(len(sums), int((~np.isnan(peers)).sum()) + 1),
    }
    for c in ind_cols:
        cols[c] = ind[c].to_numpy(float)
    cols["site_area_m2"] = sums["site_area_m2"].to_numpy(float)
    if {"ready_m2", "unready_m2"} <= set(sums.columns):
        cols["remaining_m2"] = (sums["ready_m2"] + sums["unready_m2"]).to_numpy(float)
    cols["gfa_capacity_m2"] = np.asarray(cap, dtype=float)
    cols["block_count"] = np.asarray(count, dtype=np.int64)
    out = pd.DataFrame(cols, index=sums.index)
    return out


def _plain(value: object) -> float | int | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    x = float(value)  # type: ignore[arg-type]
    return None if np.isnan(x) else x


@dataclass(frozen=True)
class PreparedEvaluation:
    """One proposal evaluated by :meth:`PreparedBaseline.evaluate` (the numbers of its compare row).

    Attributes
    ----------
    proposal_id
        The proposal's id.
    metrics
        Each metric of compare's table (``score``, ``rank``, ``rank_of``, the indicators,
        ``site_area_m2``, ``remaining_m2``, ``gfa_capacity_m2``, ``block_count``); empty on error.
    changes
        Each metric's change against the baseline (compare's ``<metric>_change``).
    error
        Why the proposal cannot be evaluated (compare's ``error``), or None.
    violations
        The constraints it breaks.
    """

    proposal_id: str
    metrics: dict[str, float | int | None]
    changes: dict[str, float | int | None]
    error: str | None = None
    violations: list[ops.Violation] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``"error"``, ``"violations"`` or ``"ok"``, as compare's ``status``."""
        return "error" if self.error else ("violations" if self.violations else "ok")


class PreparedBaseline:
    """A baseline, its candidates and peers prepared once, for evaluating proposals one at a time.

    ``PreparedBaseline(blocks, ...).evaluate(p)`` gives the numbers of
    ``compare(blocks, [p], ...)``'s row (same building blocks, row-wise scoring) without
    preparing the baseline, the candidates, the peers and the baseline's metrics again. A
    protected layer a proposal names (``constraints.protected``) is read once and kept.

    Parameters
    ----------
    baseline, candidates
        As :func:`~zgc_space.scenarios.compare`.
    preset, peers
        As :func:`~zgc_space.scenarios.compare`.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from zgc_space import datasets
    >>> from zgc_space.scenarios import compare
    >>> from zgc_space.proposal import Proposal, Release
    >>> blocks = datasets.load_blocks()
    >>> p = Proposal(id="P1", title="release B158", release=[Release(block="B158")])
    >>> got = PreparedBaseline(blocks).evaluate(p)
    >>> row = compare(blocks, [p]).iloc[0]
    >>> got.metrics["rank"] == int(row["rank"]), got.metrics["far"] == float(row["far"]), got.status
    (True, True, 'ok')
    """

    def __init__(self, baseline: gpd.GeoDataFrame, *, candidates: gpd.GeoDataFrame | str | Path | None = None,
                 preset: evaluation.PresetLike = "cic_default",
                 peers: pd.DataFrame | str | Path | None = None) -> None:
        self.base = ops.prepare(baseline)
        self.candidates = candidates_frame(candidates)
        self.preset = evaluation.load_preset(preset)
        self.peer_scores: np.ndarray = ranking.peer_scores(peers, preset=self.preset).to_numpy(float)
        self._protected: dict[str, gpd.GeoDataFrame] = {}
        self._base_sums, cap = fast.base_sums(self.base)
        row = metrics_of(self._base_sums, np.array([cap]), np.array([len(self.base.ids)]),
                         preset=self.preset, peers=self.peer_scores).iloc[0]
        #: The baseline's metrics (compare's ``attrs["baseline"]``).
        self.baseline: dict[str, float | int | None] = {str(k): _plain(v) for k, v in row.items()}

    def evaluate(self, proposal: Proposal) -> PreparedEvaluation:
        """Evaluate one proposal (errors are reported in the result, as compare's ``errors="report"``)."""
        item: Proposal | ProposalError = proposal
        try:
            protected = [protected_for(proposal, None, self._protected)]
        except ProposalError as exc:
            item, protected = exc, [None]
        outcome = fast.evaluate_many(self.base, [item], candidates=self.candidates, protected=protected)
        ops.isolate(outcome, self._base_sums, [item])
        if outcome.errors[0] is not None:
            return PreparedEvaluation(proposal.id, {}, {}, outcome.errors[0], [])
        row = metrics_of(outcome.sums, outcome.gfa_capacity_m2, outcome.block_count, preset=self.preset,
                         peers=self.peer_scores).iloc[0]
        metrics = {str(k): _plain(v) for k, v in row.items()}
        changes: dict[str, float | int | None] = {}
        for k, v in metrics.items():
            b = self.baseline.get(k)
            if k == "rank_of":
                continue
            if v is None or b is None:
                changes[k] = None
            elif k in _COUNTS:
                changes[k] = int(v) - int(b)
            else:
                changes[k] = float(v) - float(b)
        return PreparedEvaluation(proposal.id, metrics, changes, None, list(outcome.violations[0]))
