"""Consolidation: groups of small neighbouring blocks that could become one management unit.

The report names ZGC's land as small, scattered and weak (小散弱) with complex ownership.
:func:`consolidate` finds groups of small blocks lying within ``max_gap_m`` of each other and
sharing sub-park, policy-zone flag, cluster and district (the merge rules of
:func:`zgc_space.scenarios.apply`), emits them as ``merge`` operations of a :class:`~zgc_space.proposal.Proposal` (so
they can be reviewed, edited and evaluated like any proposal), and measures the effect on the
fragmentation measures of :func:`zgc_space.capacity.fragmentation`.

Groups are grown greedily: start from the smallest block not yet grouped, then repeatedly add
the nearest small block of the same sub-park (and policy zone, cluster, district) within ``max_gap_m``
of the group, while the group
stays within ``max_group_km2``. Every block added touches (or nearly touches) the group, so the
merge passes the neighbour check of :func:`zgc_space.scenarios.apply`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> x, y = 440_000, 4_420_000
>>> blocks = gpd.GeoDataFrame({"block_id": ["A", "B", "C", "D"], "subpark": ["海淀园"] * 4},
...     geometry=[box(x, y, x + 500, y + 500), box(x + 550, y, x + 1050, y + 500),
...               box(x + 1100, y, x + 1600, y + 500), box(x, y + 5000, x + 500, y + 5500)], crs="EPSG:4548")
>>> res = consolidate(blocks, max_gap_m=100)
>>> res.groups["blocks"].tolist(), res.proposal.merge[0].into
([['A', 'B', 'C']], 'M_A')
>>> res.fragmentation.loc["海淀园", ["block_count_before", "block_count_after"]].tolist()
[4, 2]
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import capacity
from zgc_space import crs as _crs
from zgc_space.errors import ColumnError, ParameterError, ValidationWarning
from zgc_space.scenarios.proposal import Merge, Proposal

__all__ = ["Consolidation", "consolidate"]

log = logging.getLogger(__name__)

#: Fragmentation measures compared before and after.
MEASURES: tuple[str, ...] = (
    "block_count", "mean_block_km2", "small_block_share_pct", "nearest_distance_median_m",
    "polsby_popper_area_weighted", "blocks_per_km2",
)


@dataclass(frozen=True)
class Consolidation:
    """The result of :func:`consolidate`.

    ``groups``: one row per group (``group``, ``subpark``, ``blocks``, ``block_count``,
    ``area_km2``, ``into``); ``proposal``: the merges as a proposal; ``fragmentation``: the
    measures of :data:`MEASURES` per sub-park and for the whole zone (last row, ``ZGC``),
    ``_before`` and ``_after``.
    """

    groups: pd.DataFrame
    proposal: Proposal
    fragmentation: pd.DataFrame


def _grow(order: list[int], gaps: np.ndarray, area_km2: np.ndarray, max_gap_m: float,
          max_group_km2: float | None) -> list[list[int]]:
    free = set(order)
    groups = []
    for start in order:
        if start not in free:
            continue
        free.discard(start)
        group = [start]
        total = area_km2[start]
        while True:
            cand = [j for j in free if gaps[group, j].min() <= max_gap_m]
            if max_group_km2 is not None:
                cand = [j for j in cand if total + area_km2[j] <= max_group_km2]
            if not cand:
                break
            j = min(cand, key=lambda k: (gaps[group, k].min(), area_km2[k], k))
            group.append(j)
            free.discard(j)
            total += area_km2[j]
        if len(group) > 1:
            groups.append(group)
    return groups


def consolidate(
    blocks: gpd.GeoDataFrame,
    *,
    max_gap_m: float = 200.0,
    small_km2: float = 1.0,
    max_group_km2: float | None = 5.0,
    exclude: Sequence[str] = (),
    proposal_id: str = "CONSOLIDATE",
) -> Consolidation:
    """Find groups of small neighbouring blocks and propose merging each into one unit.

    Parameters
    ----------
    blocks
        Block GeoDataFrame with ``block_id``, ``subpark`` and a CRS.
    max_gap_m
        Blocks closer than this (m, 0 = touching) count as neighbours; also the merges'
        ``max_gap_m``.
    small_km2
        Only blocks smaller than this (km²) are grouped.
    max_group_km2
        A group stops growing before it exceeds this area (``None``: no limit).
    exclude
        Block ids never grouped (e.g. blocks with an ongoing renewal).
    proposal_id
        Id of the proposal returned.

    Returns
    -------
    Consolidation

    Raises
    ------
    ColumnError
        If ``block_id`` or ``subpark`` is missing.
    ValueError
        If a distance or area is negative.
    """
    for col in ("block_id", "subpark"):
        if col not in blocks.columns:
            raise ColumnError(f"consolidate needs column {col!r} in `blocks`")
    bad = [f"{name} = {value!r}" for name, value, ok in (
        ("max_gap_m", max_gap_m, max_gap_m >= 0),
        ("small_km2", small_km2, small_km2 > 0),
        ("max_group_km2", max_group_km2, max_group_km2 is None or max_group_km2 > 0),
    ) if not ok]
    if bad:
        raise ParameterError(
            f"max_gap_m must be ≥ 0 and small_km2, max_group_km2 > 0 (on the command line: --max-gap-m must be "
            f"≥ 0, --small-km2 and --max-group-km2 > 0); got {', '.join(bad)}"
        )
    metric = _crs.to_metric(blocks)
    ids = metric["block_id"].astype(str).to_numpy()
    geoms = metric.geometry.to_numpy()
    area = shapely.area(geoms) / 1e6
    parks = metric["subpark"].astype(str).to_numpy()
    # a merge must not cross a sub-park, the policy-zone boundary, a cluster or a district
    same = [c for c in ("subpark", "policy_zone", "cluster", "district") if c in metric.columns]
    keys = metric[same].astype(str).agg(" | ".join, axis=1).to_numpy()
    small = (area < small_km2) & ~np.isin(ids, list(exclude))
    rows: list[dict[str, object]] = []
    merges: list[Merge] = []
    for key in sorted(set(keys[small])):
        idx = np.flatnonzero(small & (keys == key))
        park = parks[idx[0]]
        if len(idx) < 2:
            continue
        gaps = shapely.distance(geoms[idx][:, None], geoms[idx][None, :])
        order = sorted(range(len(idx)), key=lambda k: (area[idx[k]], ids[idx[k]]))
        for group in _grow(order, gaps, area[idx], max_gap_m, max_group_km2):
            members = [str(ids[idx[k]]) for k in sorted(group, key=lambda k: ids[idx[k]])]
            into = f"M_{members[0]}"
            merges.append(Merge(blocks=members, into=into, max_gap_m=max_gap_m,
                                reason=f"{len(members)} small blocks of {park} within {max_gap_m:g} m"))
            rows.append({"group": len(rows) + 1, "subpark": park, "blocks": members, "block_count": len(members),
                         "area_km2": float(area[idx[group]].sum()), "into": into})
    proposal = Proposal(id=proposal_id, title="Consolidate small neighbouring blocks",
                        description=f"Groups of blocks under {small_km2:g} km² within {max_gap_m:g} m of each other, "
                                    "one management unit each (zgc_space.consolidate).", merge=merges)
    groups = pd.DataFrame(rows, columns=["group", "subpark", "blocks", "block_count", "area_km2", "into"])
    frag = _fragmentation(metric, proposal, small_km2)
    log.info("consolidation: %d groups of %d blocks", len(groups), int(groups["block_count"].sum()))
    return Consolidation(groups=groups, proposal=proposal, fragmentation=frag)


def _fragmentation(metric: gpd.GeoDataFrame, proposal: Proposal, small_km2: float) -> pd.DataFrame:
    from zgc_space import scenarios

    after = scenarios.apply(metric, proposal).blocks if proposal.merge else metric
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)  # owner_count may be absent: not compared
        before_t = pd.concat([capacity.fragmentation(metric, by="subpark", small_km2=small_km2),
                              capacity.fragmentation(metric, by="zone", small_km2=small_km2)])
        after_t = pd.concat([capacity.fragmentation(after, by="subpark", small_km2=small_km2),
                             capacity.fragmentation(after, by="zone", small_km2=small_km2)])
    out = pd.DataFrame(index=before_t.index)
    for m in MEASURES:
        out[f"{m}_before"] = before_t[m]
        out[f"{m}_after"] = after_t[m].reindex(before_t.index)
    out["block_count_before"] = out["block_count_before"].astype("int64")
    out["block_count_after"] = out["block_count_after"].astype("int64")
    return out
