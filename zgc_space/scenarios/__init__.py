r"""Apply adjustment proposals to a baseline, evaluate them, and compare many at once.

:func:`apply` carries out one :class:`~zgc_space.proposal.Proposal` on a baseline block table
and returns the new blocks with a per-block change log and the constraint violations.
:func:`evaluate` gives a block table's zone indicators (TD/T 1029), capacity, composite score
and national rank. :func:`compare` evaluates any number of proposals against one baseline, one
row per proposal, without building their block tables: a proposal's zone sums are the
baseline sums plus its per-block deltas, and indicators, score and rank of all proposals come
from one vectorised call (proposals are data, evaluated as deltas). Geometry is touched only where a
proposal admits land, cuts part of a block away or merges blocks.

Operations apply in the order release, admit, rezone, renew, merge. Modelling rules:

* a partial release keeps each block's area, floor area and economy in proportion to the area
  kept (uniform density); counts (enterprises, owners) and ``far_cap`` are unchanged;
* admitted land takes the candidate's (or the inline) attributes; missing numeric columns are 0,
  and land with no land class given is counted as not-yet-ready construction land
  (``unready_m2``); a missing sub-park is the nearest kept block's;
* a renewal raises floor area to ``far_target × built_m2`` (never lowering it) or by
  ``far_step × built_m2``; industrial floor area grows in proportion and revenue, tax and
  employees by ``elasticity × relative floor-area growth``;
* merged blocks sum their columns; ``far_cap`` is weighted by constructible land, so the
  permitted floor area is kept.

Violations (reported, never raised): ``area-cap`` (total site area above the cap, by default
the baseline total), ``must-keep``, ``max-distance``, ``protected`` and ``far-cap``.
Errors (:class:`~zgc_space.errors.ProposalError`): unknown ids (with the closest ids),
admitted land overlapping kept blocks or other admitted land, rezonings that break the land
accounting, merges of blocks that do not neighbour.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from zgc_space import scenarios
>>> from zgc_space.proposal import parse_proposal
>>> base = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园", "海淀园"],
...     "built_m2": [10_000.0, 10_000.0], "gfa_m2": [10_000.0, 30_000.0]},
...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
>>> p = parse_proposal("id: P1\ntitle: renew B1\nrenew:\n  - blocks: [B1]\n    far_target: 3\n")
>>> result = scenarios.apply(base, p)
>>> result.blocks["gfa_m2"].tolist(), result.changes[["block_id", "change", "line"]].values.tolist()
([30000.0, 30000.0], [['B1', 'renewed', 4]])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import evaluation, indicators, ranking
from zgc_space.errors import ColumnError, ProposalError
from zgc_space.scenarios import _fast as fast
from zgc_space.scenarios import _plan as plans
from zgc_space.scenarios import _rows as ops
from zgc_space.scenarios._band import mark_rank_band, uncertainty_corners
from zgc_space.scenarios._prepared import PreparedBaseline, PreparedEvaluation
from zgc_space.scenarios._prepared import candidates_frame as _candidates
from zgc_space.scenarios._prepared import metrics_of as _metrics
from zgc_space.scenarios._prepared import protected_for as _protected_for
from zgc_space.scenarios._rows import AREA_TOL_M2, ECON, LAND4, Violation
from zgc_space.scenarios.proposal import Proposal, read_proposal

__all__ = [
    "AREA_TOL_M2",
    "ECON",
    "HEADLINE",
    "LAND4",
    "PreparedBaseline",
    "PreparedEvaluation",
    "Scenario",
    "Violation",
    "apply",
    "compare",
    "evaluate",
    "lower_is_better",
    "peer_scores",
]

log = logging.getLogger(__name__)

#: Metrics :func:`compare` reports first (each with a ``_change`` column against the baseline).
HEADLINE: tuple[str, ...] = (
    "score", "rank", "far", "building_density_pct", "tax_10k_cny_per_ha", "population_per_ha",
    "supply_rate_pct", "completion_rate_pct", "idle_rate_pct", "development_rate_pct",
    "revenue_10k_cny_per_ha", "employment_per_ha", "site_area_m2", "remaining_m2", "gfa_capacity_m2",
    "block_count",
)
#: Metrics other than indicators where less is better: a rank, and the land a zone takes.
_LOWER_IS_BETTER_METRICS = frozenset({"rank", "site_area_m2"})


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` (or of its ``_change``) is the better one.

    Indicators follow their ``direction`` in :func:`zgc_space.indicators.indicator_catalog`
    (``negative``: the idle rate); the rank and the site area are better when smaller.

    Examples
    --------
    >>> lower_is_better("idle_rate_pct_change"), lower_is_better("far"), lower_is_better("rank")
    (True, False, True)
    """
    name = metric.removesuffix("_change")
    spec = indicators.INDICATORS.get(name)
    return name in _LOWER_IS_BETTER_METRICS or (spec is not None and spec.direction == "negative")

PeersLike: TypeAlias = "pd.DataFrame | str | Path | None"


@dataclass(frozen=True)
class Scenario:
    """The result of :func:`apply`.

    Attributes
    ----------
    blocks
        The adjusted blocks (EPSG:4548): kept blocks in baseline order, then new blocks.
    changes
        One row per block and operation: ``block_id``, ``change`` (released, part-released,
        admitted, rezoned, renewed, merged, merged-into), ``operation`` (field path), ``line``
        in the proposal file, site area and floor area before and after, and ``detail``.
    violations
        Constraints the adjusted zone breaks.
    proposal
        The proposal applied.
    """

    blocks: gpd.GeoDataFrame
    changes: pd.DataFrame
    violations: list[Violation]
    proposal: Proposal

    @property
    def feasible(self) -> bool:
        """Whether no constraint is violated."""
        return not self.violations


def apply(
    baseline: gpd.GeoDataFrame,
    proposal: Proposal,
    *,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    protected: gpd.GeoDataFrame | None = None,
) -> Scenario:
    """Apply a proposal to a baseline block table (pure: the inputs are not modified).

    Parameters
    ----------
    baseline
        Block table with ``block_id`` and a CRS (reprojected to EPSG:4548 if needed).
    proposal
        The proposal (see :func:`zgc_space.proposal.read_proposal`).
    candidates
        Candidate areas (GeoDataFrame or file) with ``candidate_id``, for ``admit: candidate``.
    protected
        Protected layer (e.g. an ecological red line) overriding ``constraints.protected``.

    Returns
    -------
    Scenario
        ``blocks``, ``changes``, ``violations``.

    Raises
    ------
    ProposalError
        Unknown block or candidate ids (with file, line and the closest ids), admitted land
        overlapping kept blocks, rezonings that break the land accounting, non-neighbouring
        merges, malformed geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from zgc_space.proposal import Proposal
    >>> base = gpd.GeoDataFrame({"block_id": ["B1"], "subpark": ["海淀园"]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> apply(base, Proposal(id="P0", title="nothing")).blocks.equals(base)
    True
    """
    base = ops.prepare(baseline)
    plan = plans.make_plan(base, proposal, candidates=_candidates(candidates),
                         protected=_protected_for(proposal, protected))
    blocks = plans.materialise(base, plan)
    changes = pd.DataFrame(plan.changes, columns=[
        "block_id", "change", "operation", "line", "site_area_m2_before", "site_area_m2_after",
        "gfa_m2_before", "gfa_m2_after", "detail",
    ]).astype({"line": "Int64"})
    log.debug("applied %s: %d changes, %d violations", proposal.id, len(changes), len(plan.violations))
    return Scenario(blocks, changes, plan.violations, proposal)


# ---------------------------------------------------------------------------------------------
# evaluation


def peer_scores(peers: PeersLike = None, *, preset: evaluation.PresetLike = "cic_default") -> np.ndarray:
    """Return the composite scores of the peer zones a rank is computed against.

    ``peers`` is a table (or CSV) as :func:`zgc_space.benchmark.load_peers` reads; by default
    the shipped synthetic peers. Peers with the preset's indicators are scored with it;
    otherwise their ``score`` column is used.
    """
    return cast("np.ndarray", ranking.peer_scores(peers, preset=preset).to_numpy(float))


def evaluate(
    blocks: gpd.GeoDataFrame,
    *,
    preset: evaluation.PresetLike = "cic_default",
    peers: PeersLike = None,
) -> pd.DataFrame:
    """Evaluate a block table as a zone: indicators, remaining land, capacity, score and rank.

    Parameters
    ----------
    blocks
        Block table (e.g. :func:`apply`'s result, or the baseline).
    preset
        Evaluation preset (see :func:`zgc_space.evaluation.list_presets`).
    peers
        Peer zones to rank against (default: the shipped synthetic peers).

    Returns
    -------
    pandas.DataFrame
        One row (indexed ``"ZGC"``): ``score``, ``rank``, ``rank_of``, every indicator of
        :data:`zgc_space.indicators.INDICATORS` that the columns allow, ``site_area_m2``,
        ``remaining_m2`` (B), ``gfa_capacity_m2`` (floor area still permitted) and
        ``block_count``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园"] * 2,
    ...     "built_m2": [10_000.0, 30_000.0], "gfa_m2": [10_000.0, 90_000.0]},
    ...     geometry=[box(0, 0, 100, 100), box(0, 100, 300, 200)], crs="EPSG:4548")
    >>> peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [90.0, 10.0]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # most indicators lack columns here: weights re-normalised
    ...     warnings.simplefilter("ignore")
    ...     row = evaluate(blocks, peers=peers).iloc[0]
    >>> float(row["far"]), int(row["block_count"]), int(row["rank"]), int(row["rank_of"])
    (2.5, 2, 1, 3)
    """
    base = ops.prepare(blocks)
    preset = evaluation.load_preset(preset)
    sums, cap = fast.sums_of(base.X, base.cols)
    out = _metrics(sums, np.array([cap]), np.array([len(base.ids)]), preset=preset,
                   peers=peer_scores(peers, preset=preset))
    out.index = pd.Index([indicators.ZONE_LABEL], name="zone")
    return out


# ---------------------------------------------------------------------------------------------
# comparison


def _load(item: Proposal | str | Path | ProposalError, errors: str) -> Proposal | ProposalError:
    if isinstance(item, ProposalError):
        if errors == "raise":
            raise item
        return item
    if isinstance(item, Proposal):
        return item
    try:
        return read_proposal(item)
    except ProposalError as exc:
        if errors == "raise":
            raise
        return exc


def compare(
    baseline: gpd.GeoDataFrame,
    proposals: Iterable[Proposal | str | Path | ProposalError],
    *,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    protected: gpd.GeoDataFrame | None = None,
    preset: evaluation.PresetLike = "cic_default",
    peers: PeersLike = None,
    sort_by: str | None = None,
    ascending: bool | None = None,
    errors: Literal["raise", "report"] = "raise",
    uncertainty_pct: float = 1.0,
) -> pd.DataFrame:
    """Evaluate many proposals against one baseline: one row per proposal, vectorised.

    Parameters
    ----------
    baseline
        The baseline block table.
    proposals
        :class:`~zgc_space.proposal.Proposal` objects or YAML file paths.
    candidates, protected
        As in :func:`apply`.
    preset, peers
        As in :func:`evaluate`.
    sort_by
        Column to sort by (e.g. ``"score"``, ``"far_change"``); default: input order. Rows with
        errors come last.
    ascending
        Sort order; default: ascending for ``rank``, ``idle_rate_pct`` and ``site_area_m2`` (and
        their changes), descending otherwise.
    errors
        ``"raise"``: the first broken proposal raises its ProposalError. ``"report"``: it
        becomes a row with ``status`` "error" and the message in ``error``. A proposal whose id an
        earlier one already has counts as broken (the message names both files), since rows
        and ``attrs["violations"]`` are keyed by id.
    uncertainty_pct
        Input uncertainty (%) of the baseline's rank interval: a rank change that stays inside
        it is marked not significant (``rank_change_significant`` False).

    Returns
    -------
    pandas.DataFrame
        ``proposal_id``, ``title``, ``source``, ``status`` (ok / violations / error), ``error``,
        ``n_violations``, ``violations`` (text), then for every metric of :func:`evaluate` its
        value and its ``_change`` against the baseline (``rank_change`` < 0 is a better rank),
        and ``rank_change_significant``: whether the rank lies outside the baseline's rank
        interval at ±``uncertainty_pct`` on floor area, tax, population and footprint (a change
        inside it is not significant). ``attrs["baseline"]`` holds the baseline's metrics and
        its interval (``rank_best``, ``rank_worst``).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> from zgc_space.proposal import Proposal, Renew
    >>> base = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园"] * 2,
    ...     "built_m2": [10_000.0] * 2, "gfa_m2": [10_000.0, 30_000.0]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> ps = [Proposal(id=f"P{s}", title="renew", renew=[Renew(blocks=["B1"], far_step=s)]) for s in (1, 2)]
    >>> peers = pd.DataFrame({"zone_id": ["A"], "score": [50.0]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     table = compare(base, ps, peers=peers, sort_by="far")
    >>> table[["proposal_id", "far", "far_change"]].values.tolist()
    [['P2', 3.0, 1.0], ['P1', 2.5, 0.5]]
    """
    items = [_load(p, errors) for p in proposals]
    for k, exc in ops.repeated_ids(items).items():
        if errors == "raise":
            raise exc
        items[k] = exc
    preset = evaluation.load_preset(preset)
    base = ops.prepare(baseline)
    cands = _candidates(candidates)
    cache: dict[str, gpd.GeoDataFrame] = {}
    prot: list[gpd.GeoDataFrame | None] = []
    for k, item in enumerate(items):
        try:
            prot.append(_protected_for(item, protected, cache) if isinstance(item, Proposal) else None)
        except ProposalError as exc:
            items[k] = exc
            prot.append(None)
    outcome = fast.evaluate_many(base, items, candidates=cands, protected=prot)
    if errors == "raise":
        first = next((e for e in outcome.errors if e is not None), None)
        if first is not None:
            raise ProposalError(first)
    scores = peer_scores(peers, preset=preset)
    b_sums, b_cap = fast.base_sums(base)
    ops.isolate(outcome, b_sums, items)
    if errors == "raise":
        first = next((e for e in outcome.errors if e is not None), None)
        if first is not None:
            raise ProposalError(first)
    # baseline (row 0), its uncertainty corners and the proposals in one pass (scoring is row by row)
    corners = uncertainty_corners(b_sums, uncertainty_pct=uncertainty_pct)
    n_head = 1 + len(corners)
    both = _metrics(pd.concat([b_sums, corners, outcome.sums], ignore_index=True),
                    np.concatenate([np.full(n_head, b_cap), outcome.gfa_capacity_m2]),
                    np.concatenate([np.full(n_head, len(base.ids)), outcome.block_count]), preset=preset, peers=scores)
    base_row = both.iloc[0]
    metrics = both.iloc[n_head:].reset_index(drop=True)
    table = _table(items, outcome, metrics, base_row, sort_by=sort_by, ascending=ascending)
    return mark_rank_band(table, both["rank"].iloc[1:n_head], uncertainty_pct=uncertainty_pct)


def _table(items: Sequence[Proposal | ProposalError], outcome: fast.Outcome, metrics: pd.DataFrame,
           base_row: pd.Series, *, sort_by: str | None, ascending: bool | None) -> pd.DataFrame:
    bad = np.array([e is not None for e in outcome.errors])
    # astype only where the dtype changes: a column-by-column astype of the whole table is most of
    # a one-proposal compare's time otherwise
    metrics = metrics.astype({c: "float64" for c in metrics.columns
                              if c not in ("rank", "rank_of", "block_count") and metrics[c].dtype != "float64"})
    metrics.loc[bad, [c for c in metrics.columns if c not in ("rank", "rank_of")]] = np.nan
    metrics.loc[bad, "rank"] = pd.NA
    head = pd.DataFrame({
        "proposal_id": [p.id if isinstance(p, Proposal) else None for p in items],
        "title": [p.title if isinstance(p, Proposal) else None for p in items],
        "source": [p.source if isinstance(p, Proposal) else _error_source(p) for p in items],
        "status": ["error" if e else ("violations" if v else "ok")
                   for e, v in zip(outcome.errors, outcome.violations, strict=True)],
        "error": outcome.errors,
        "n_violations": pd.array([len(v) for v in outcome.violations], dtype="int64"),
        "violations": ["; ".join(str(x) for x in v) for v in outcome.violations],
    }).astype({"proposal_id": "string", "title": "string", "source": "string", "status": "string",
               "error": "string", "violations": "string"})
    cols: dict[str, pd.Series] = {}
    order = [c for c in HEADLINE if c in metrics.columns] + [c for c in metrics.columns if c not in HEADLINE]
    for c in order:
        cols[c] = metrics[c].reset_index(drop=True)
        if c == "rank_of":
            continue
        if c in ("rank", "block_count"):
            cols[f"{c}_change"] = (metrics[c].astype("Int64") - int(base_row[c])).reset_index(drop=True)
        else:
            cols[f"{c}_change"] = (metrics[c] - float(base_row[c])).reset_index(drop=True)
    table = pd.concat([head, pd.DataFrame(cols)], axis=1)
    counts = ("rank", "rank_change", "rank_of", "block_count", "block_count_change")
    wanted = {c: ("Int64" if c in counts else "float64") for c in cols}
    table = table.astype({c: t for c, t in wanted.items() if str(table[c].dtype) != t})
    table.attrs["baseline"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in base_row.items()}
    table.attrs["violations"] = {
        str(getattr(p, "id", k)): [v.to_dict() for v in vs]
        for k, (p, vs) in enumerate(zip(items, outcome.violations, strict=True)) if vs
    }
    if sort_by is not None:
        if sort_by not in table.columns:
            raise ColumnError(f"cannot sort by {sort_by!r}; columns: {', '.join(map(str, table.columns))}")
        if ascending is None:
            ascending = lower_is_better(sort_by)
        table = table.sort_values(sort_by, ascending=ascending, na_position="last", kind="mergesort")
        table = table.reset_index(drop=True)
    return table


def _error_source(exc: ProposalError) -> str | None:
    text = str(exc)
    return text.split(" ", 2)[1] if text.startswith("proposal ") else None
