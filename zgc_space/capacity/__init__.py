r"""Remaining land, floor-area capacity, years of land supply left, potential (潜力), fragmentation (小散弱).

Land classes follow the land accounting of TD/T 1029-2010 (2014 rev.): A = ``built_m2``,
B21 = ``ready_m2``, other B = ``unready_m2``, D = ``supplied_m2``.

* **Remaining developable land** (可开发利用面积) is :math:`B = B_{21} + B_{other}`: constructible
  land :math:`A + B` not yet built.
* **Suppliable land** (尚可供应土地) is :math:`E = A + B_{21} - D`: land already developed
  (serviced, ready to supply) but not yet supplied. Land not yet ready (other B) is not in E;
  :math:`(A + B) - D` is reported as ``unsupplied_m2`` (E plus land still to be made ready).
* **Floor-area capacity** under the planned maximum FAR ``far_cap``, on the constructible land
  :math:`A + B` of each block (the land base; ``far_cap`` is a FAR on construction land):

  .. math::

      \mathrm{capacity}_i = \max(0,\ \mathrm{far\_cap}_i \cdot (A_i + B_i) - \mathrm{gfa}_i),
      \qquad \mathrm{over\_cap}_i = \max(0,\ \mathrm{gfa}_i - \mathrm{far\_cap}_i \cdot (A_i + B_i))

  A missing cap (NaN) gives an unknown (NaN) capacity, never zero; a zero cap gives zero
  capacity and, if the block has floor area, flags it as over its cap. Both are counted per group
  and listed in ``attrs`` with a warning. The UrbanSim developer model uses the same formula and
  has had bugs from treating NULL caps as zero and zero caps as missing: here the two differ.

Examples
--------
>>> import pandas as pd
>>> from zgc_space import capacity
>>> blocks = pd.DataFrame({"block_id": ["B1"], "built_m2": [6_000.0], "ready_m2": [3_000.0],
...     "unready_m2": [1_000.0], "supplied_m2": [7_000.0], "gfa_m2": [9_000.0], "far_cap": [2.0]})
>>> res = capacity.compute(blocks, by="block", annual_supply_m2=1_000.0)
>>> res.loc["B1", ["remaining_m2", "suppliable_m2", "gfa_capacity_m2", "years_of_supply_left"]].tolist()
[4000.0, 2000.0, 11000.0, 2.0]
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import crs as _crs
from zgc_space.blocks import block_ids, group_sums, index_name, numeric_columns, ratio, resolve_by
from zgc_space.capacity._potential import STRUCTURAL_CLASSES, potential
from zgc_space.errors import BlockValidationError, ColumnError, ParameterError, ValidationWarning, list_ids

__all__ = [
    "LAND_BASE", "MERGED_OVER_CAP", "STRUCTURAL_CLASSES", "compute", "fragmentation", "gfa_capacity_m2", "potential",
]

log = logging.getLogger(__name__)

#: Land the FAR cap applies to: constructible land A + B (built + ready + unready).
LAND_BASE: tuple[str, ...] = ("built_m2", "ready_m2", "unready_m2")



#: Floor area over the planned cap that a merged block's parts carried (合并前各部分超出上限的建筑面积).
#: A merge keeps each part's capacity: one part's excess is not offset by another part's room, so
#: the merged block's capacity is ``max(far_cap · (A + B) − gfa + carried, 0)`` = the sum of its
#: parts' capacities, while its ``far_cap`` is the land-weighted value of the parts (reported, not
#: a new cap). Absent or blank means 0 (a block that is not a merge).
MERGED_OVER_CAP = "over_cap_merged_m2"


def gfa_capacity_m2(far_cap: np.ndarray, land_m2: np.ndarray, gfa_m2: np.ndarray,
                    over_cap_merged_m2: np.ndarray | None = None) -> np.ndarray:
    r"""Floor-area capacity of each row, ``max(far_cap · land − gfa, 0)``; NaN where an input is unknown.

    .. math::

        \text{capacity} = \max(\text{FAR}_{cap} \cdot (A + B) - \text{GFA} + \text{carried}, 0)

    (UrbanSim's remaining-capacity rule on TD/T 1029's constructible land A + B). Plain arrays
    in, no warnings: :func:`compute` adds the checks and the reporting. ``carried`` is
    ``over_cap_merged_m2`` (:data:`MERGED_OVER_CAP`, 0 if not given or blank): the excess of a
    merged block's parts, so that a merge keeps the sum of its parts' capacities.

    Examples
    --------
    >>> import numpy as np
    >>> gfa_capacity_m2(np.array([2.0, 1.0, np.nan]), np.array([100.0, 100.0, 50.0]),
    ...                 np.array([150.0, 300.0, 0.0])).tolist()
    [50.0, 0.0, nan]
    """
    cap, land, gfa = (np.asarray(v, dtype=float) for v in (far_cap, land_m2, gfa_m2))
    with np.errstate(invalid="ignore"):
        permitted = cap * land
        unknown = np.isnan(permitted) | np.isnan(gfa)
        carried = 0.0 if over_cap_merged_m2 is None else np.nan_to_num(np.asarray(over_cap_merged_m2, dtype=float))
        return np.where(unknown, np.nan, np.maximum(permitted - gfa + carried, 0.0))


_LAND_IN = ("built_m2", "ready_m2", "unready_m2", "supplied_m2")
_CAP_IN = (*LAND_BASE, "gfa_m2", "far_cap")
_LAND_OUT = (
    "constructible_m2", "developed_m2", "remaining_m2", "ready_m2", "unready_m2",
    "supplied_m2", "suppliable_m2", "unsupplied_m2",
)
_CAP_OUT = ("gfa_m2", "gfa_capped_blocks_m2", "permitted_gfa_m2", "gfa_capacity_m2", "over_cap_m2")
_COUNT_OUT = ("missing_cap_blocks", "unknown_capacity_blocks", "zero_cap_blocks", "over_cap_blocks")


def _land(values: pd.DataFrame, blocks: pd.DataFrame) -> pd.DataFrame:
    a, b21, b22, d = (values[c].to_numpy() for c in _LAND_IN)
    raw_e = a + b21 - d
    bad = raw_e < 0
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} block(s) have supplied land D above developed land A + B21 "
            f"(ids {list_ids(block_ids(blocks, bad))}); their suppliable land is set to 0. "
            "Check them with zgc_space.validate_blocks()",
            ValidationWarning, stacklevel=3,
        )
    return pd.DataFrame(
        {
            "constructible_m2": a + b21 + b22,
            "developed_m2": a + b21,
            "remaining_m2": b21 + b22,
            "ready_m2": b21,
            "unready_m2": b22,
            "supplied_m2": d,
            "suppliable_m2": np.where(bad, 0.0, raw_e),
            "unsupplied_m2": np.maximum(a + b21 + b22 - d, 0.0),
        },
        index=values.index,
    )


def _capacity(values: pd.DataFrame, blocks: pd.DataFrame, attrs: dict[str, Any]) -> pd.DataFrame:
    cap = values["far_cap"].to_numpy()
    gfa = values["gfa_m2"].to_numpy()
    land = values[list(LAND_BASE)].sum(axis=1, skipna=False).to_numpy()
    negative = cap < 0
    if negative.any():
        raise BlockValidationError(
            f"far_cap is negative in {int(negative.sum())} block(s) (ids {list_ids(block_ids(blocks, negative))}); "
            "a planned maximum FAR must be >= 0 (use NaN for unknown)",
            block_ids(blocks, negative),
        )
    permitted = cap * land
    missing_cap = np.isnan(cap)
    unknown = np.isnan(permitted) | np.isnan(gfa)
    zero_cap = cap == 0
    carried = (pd.to_numeric(blocks[MERGED_OVER_CAP], errors="coerce").fillna(0.0).to_numpy(float)
               if MERGED_OVER_CAP in blocks.columns else np.zeros(len(cap)))
    over = ~unknown & ((gfa > permitted) | (carried > 0))
    attrs["missing_cap"] = block_ids(blocks, missing_cap)
    attrs["zero_cap"] = block_ids(blocks, zero_cap)
    attrs["over_cap"] = block_ids(blocks, over)
    if missing_cap.any():
        warnings.warn(
            f"far_cap is missing in {int(missing_cap.sum())} block(s) (ids {list_ids(attrs['missing_cap'])}); "
            "their floor-area capacity is unknown (NaN) and group capacities leave them out "
            "(see the missing_cap_blocks column and attrs['missing_cap'])",
            ValidationWarning, stacklevel=3,
        )
    other = unknown & ~missing_cap
    if other.any():
        warnings.warn(
            f"gfa_m2 or the land base is missing in {int(other.sum())} block(s) "
            f"(ids {list_ids(block_ids(blocks, other))}); their floor-area capacity is unknown (NaN)",
            ValidationWarning, stacklevel=3,
        )
    if (zero_cap & over).any():
        log.info("%d block(s) with far_cap 0 have floor area (over cap)", int((zero_cap & over).sum()))
    with np.errstate(invalid="ignore"):
        capacity = gfa_capacity_m2(cap, land, gfa, carried)
        # over the cap: what capacity adds back to permitted − gfa (a merge's carried excess included)
        over_m2 = np.where(unknown, np.nan, capacity - (permitted - gfa))
    return pd.DataFrame(
        {
            "gfa_m2": gfa,
            # the capacity columns are over the same blocks: those whose cap, land and gfa are known
            "gfa_capped_blocks_m2": np.where(unknown, np.nan, gfa),
            "permitted_gfa_m2": np.where(unknown, np.nan, permitted),
            "gfa_capacity_m2": capacity,
            "over_cap_m2": over_m2,
            "missing_cap_blocks": missing_cap.astype("float64"),
            "unknown_capacity_blocks": unknown.astype("float64"),
            "zero_cap_blocks": zero_cap.astype("float64"),
            "over_cap_blocks": over.astype("float64"),
        },
        index=values.index,
    )


def _years(
    table: pd.DataFrame, annual_supply_m2: float | Mapping[object, float] | pd.Series
) -> pd.DataFrame:
    per_group = isinstance(annual_supply_m2, (Mapping, pd.Series))
    if isinstance(annual_supply_m2, (Mapping, pd.Series)):
        given = pd.Series(annual_supply_m2, dtype="float64")
    else:
        given = pd.Series([float(annual_supply_m2)], dtype="float64")
    bad = given[~(np.isfinite(given) & (given > 0))]
    if len(bad):
        raise ParameterError(
            f"annual_supply_m2 must be a positive finite area in m² per year; got {bad.tolist()}"
        )
    if per_group:
        groups = list(table.index)
        unknown = [k for k in given.index if k not in set(groups)]
        if unknown:
            raise ColumnError(
                f"annual_supply_m2 has key(s) {list_ids(unknown)} that match no group; the groups "
                f"are {list_ids(groups, limit=30)}; correct the keys (or the `by` grouping)"
            )
        absent = [g for g in groups if g not in set(given.index)]
        if absent:
            warnings.warn(
                f"annual_supply_m2 gives no value for {len(absent)} group(s) ({list_ids(absent)}); "
                "their years_of_supply_left is NaN",
                ValidationWarning, stacklevel=3,
            )
        supply = given.reindex(table.index).to_numpy()
    else:
        supply = np.full(len(table), given.iloc[0])
    out = table.copy()
    out["annual_supply_m2"] = supply
    if "suppliable_m2" in out:
        out["years_of_supply_left"] = out["suppliable_m2"] / supply
        out["years_of_supply_left_incl_unready"] = out["unsupplied_m2"] / supply
    return out


def compute(
    blocks: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    annual_supply_m2: float | Mapping[object, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Remaining and suppliable land, floor-area capacity and years of supply left, per group.

    Parameters
    ----------
    blocks
        Block table (GeoDataFrame or DataFrame; geometry is not used) with the land columns
        ``built_m2``, ``ready_m2``, ``unready_m2``, ``supplied_m2`` and, for the capacity,
        ``gfa_m2`` and ``far_cap``.
    by
        Grouping, as in :func:`zgc_space.indicators.compute`: ``None`` (per row), ``"block"``,
        ``"zone"``, a column name or a list of columns.
    annual_supply_m2
        Land supplied per year (m²), e.g. the mean of the last three years. A number applies to
        every row; a mapping or Series gives one value per group label. Gives
        ``years_of_supply_left`` (尚可供地年数) = suppliable land E / annual supply, the
        monitoring's definition, and ``years_of_supply_left_incl_unready`` = (A + B − D) / annual
        supply, which also counts land that still has to be made ready.

    Returns
    -------
    pandas.DataFrame
        One row per group with (m²) ``constructible_m2`` (A + B), ``developed_m2`` (A + B21),
        ``remaining_m2`` (B), ``ready_m2`` (B21), ``unready_m2`` (other B), ``supplied_m2``
        (D), ``suppliable_m2`` (E = A + B21 − D), ``unsupplied_m2`` (A + B − D); ``gfa_m2``
        (floor area of every block with a value); ``gfa_capped_blocks_m2`` (floor area),
        ``permitted_gfa_m2`` (far_cap × (A + B)), ``gfa_capacity_m2`` (Σ max(0, permitted − gfa))
        and ``over_cap_m2`` (Σ max(0, gfa − permitted)), these four summed over the same blocks:
        those whose capacity is known (cap, land and floor area known), so that
        ``gfa_capacity_m2 − over_cap_m2 = permitted_gfa_m2 − gfa_capped_blocks_m2``; NaN only if
        no block of the group has a known capacity; counts
        ``missing_cap_blocks``, ``unknown_capacity_blocks`` (cap, floor area or land missing),
        ``zero_cap_blocks``, ``over_cap_blocks``, ``block_count``; and the years columns when
        ``annual_supply_m2`` is given. ``attrs`` holds ``missing`` (output column → absent
        input columns), ``missing_cap``, ``zero_cap`` and ``over_cap`` (block ids) and
        ``land_base``.

    Raises
    ------
    ColumnError
        If ``by`` names an absent column.
    BlockValidationError
        If ``far_cap`` is negative or a column holds text that is not a number.
    ValueError
        If ``annual_supply_m2`` is not positive.
    ColumnError
        If a key of an ``annual_supply_m2`` mapping matches no group (the groups are listed).

    Warns
    -----
    ValidationWarning
        Absent input columns (the outputs they prevent are named), missing caps, blocks
        whose supplied land exceeds developed land (their E is set to 0), and groups that an
        ``annual_supply_m2`` mapping leaves out (their years are NaN).

    Examples
    --------
    A block with a missing cap, one with a zero cap but built floor area, one with room left:

    >>> import warnings
    >>> import pandas as pd
    >>> from zgc_space.errors import ValidationWarning
    >>> blocks = pd.DataFrame({"block_id": ["B1", "B2", "B3"], "built_m2": [10_000.0] * 3,
    ...     "ready_m2": [0.0] * 3, "unready_m2": [0.0] * 3, "supplied_m2": [10_000.0] * 3,
    ...     "gfa_m2": [20_000.0, 5_000.0, 20_000.0], "far_cap": [float("nan"), 0.0, 3.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ValidationWarning)
    ...     res = compute(blocks, by="zone")
    >>> res[["gfa_capacity_m2", "over_cap_m2", "missing_cap_blocks", "over_cap_blocks"]]
          gfa_capacity_m2  over_cap_m2  missing_cap_blocks  over_cap_blocks
    zone
    ZGC           10000.0       5000.0                   1                1

    On the sample data: 27 km² of developable land remain.

    >>> from zgc_space import datasets
    >>> round(float(compute(datasets.load_blocks(), by="zone").loc["ZGC", "remaining_m2"]) / 1e6, 1)
    27.0
    """
    keys = resolve_by(blocks, by)
    missing: dict[str, list[str]] = {}
    attrs: dict[str, object] = {"land_base": "constructible land A + B (built_m2 + ready_m2 + unready_m2)"}
    parts: list[pd.DataFrame] = []
    absent_land = [c for c in _LAND_IN if c not in blocks.columns]
    if absent_land:
        missing.update({c: absent_land for c in _LAND_OUT})
    else:
        parts.append(group_sums(blocks, _land(numeric_columns(blocks, _LAND_IN), blocks), keys, index_name(by)))
    absent_cap = [c for c in _CAP_IN if c not in blocks.columns]
    if absent_cap:
        missing.update({c: absent_cap for c in _CAP_OUT + _COUNT_OUT})
    else:
        per_block = _capacity(numeric_columns(blocks, _CAP_IN), blocks, attrs)
        sums = group_sums(blocks, per_block, keys, index_name(by), skipna=True)
        for col in _COUNT_OUT:
            sums[col] = sums[col].fillna(0).astype("int64")
        parts.append(sums.drop(columns="block_count") if parts else sums)
    if missing:
        absent = sorted({c for cols in missing.values() for c in cols})
        warnings.warn(
            f"block table lacks column(s) {absent}; capacity output(s) {list(dict.fromkeys(missing))} "
            "cannot be computed and are left out (see result.attrs['missing'])",
            ValidationWarning, stacklevel=2,
        )
    if not parts:
        parts.append(group_sums(blocks, pd.DataFrame(index=blocks.index), keys, index_name(by)))
    out = pd.concat(parts, axis=1)
    out = out[[c for c in out.columns if c != "block_count"] + ["block_count"]]
    if annual_supply_m2 is not None:
        out = _years(out, annual_supply_m2)
    out.attrs = {"missing": missing, **attrs}
    return out


def _nearest_within(geoms: np.ndarray) -> np.ndarray:
    """Distance from each geometry to the nearest *other* one of the array (NaN if alone)."""
    out = np.full(len(geoms), np.nan)
    if len(geoms) < 2:
        return out
    tree = shapely.STRtree(geoms)
    (src, _), dist = tree.query_nearest(geoms, exclusive=True, return_distance=True, all_matches=False)
    out[src] = dist
    return out


def fragmentation(
    blocks: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | None = "subpark",
    small_km2: float = 1.0,
) -> pd.DataFrame:
    r"""Measure how small, scattered and fragmented (小散弱) the blocks of each group are.

    Areas and distances come from the geometry in EPSG:4548 (a frame in another accepted CRS is
    reprojected first, with a :class:`~zgc_space.errors.ReprojectionWarning`).

    Parameters
    ----------
    blocks
        Block GeoDataFrame with a CRS; ``owner_count`` is used when present.
    by
        Grouping, as in :func:`zgc_space.indicators.compute` (default per sub-park).
    small_km2
        Blocks below this area (km²) count as small.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``block_count``, ``area_km2``, ``min_block_km2``,
        ``median_block_km2``, ``max_block_km2``, ``mean_block_km2`` (area / count),
        ``small_block_share_pct`` (share of blocks below ``small_km2``), ``polsby_popper_mean``
        and ``polsby_popper_area_weighted`` (compactness :math:`4 \pi a / p^2`, 1 for a circle;
        the weighted one is :math:`\sum pp_i a_i / \sum a_i`), ``nearest_distance_median_m``
        (median distance from each block to the nearest other block *of the same group*, 0 when
        they touch; NaN for a group of one; blocks with identical geometry are not each other's
        neighbours), ``blocks_per_km2`` and ``owners_per_km2`` (Σ owner_count / area).

    Raises
    ------
    ColumnError
        If ``blocks`` has no geometry or ``by`` names an absent column.
    CRSError
        If the CRS is missing or unusable (see :func:`zgc_space.crs.to_metric`).
    ValueError
        If ``small_km2`` is not positive.

    Warns
    -----
    ValidationWarning
        If ``owner_count`` is absent (``owners_per_km2`` is left out).

    Examples
    --------
    Two 1-km² squares 500 m apart and one 0.25-km² square far away, in one sub-park:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 440_000, 4_420_000
    >>> blocks = gpd.GeoDataFrame({"subpark": ["海淀园"] * 3, "owner_count": [3, 1, 2]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 1500, y, x + 2500, y + 1000),
    ...               box(x, y + 5000, x + 500, y + 5500)], crs="EPSG:4548")
    >>> res = fragmentation(blocks)
    >>> res.loc["海淀园", ["block_count", "area_km2", "small_block_share_pct", "owners_per_km2"]].tolist()
    [3.0, 2.25, 33.33333333333333, 2.6666666666666665]
    >>> float(res.loc["海淀园", "nearest_distance_median_m"])
    500.0

    On the sample data, one row per sub-park:

    >>> from zgc_space import datasets
    >>> frag = fragmentation(datasets.load_blocks())
    >>> len(frag), int(frag["block_count"].sum())
    (17, 164)
    """
    if not isinstance(blocks, gpd.GeoDataFrame) or blocks.geometry.name not in blocks.columns:
        raise ColumnError("fragmentation needs block geometry: pass a GeoDataFrame (e.g. io.read_blocks(path))")
    if not small_km2 > 0:
        raise ParameterError(
            f"small_km2 must be > 0 (got {small_km2!r}); pass the size below which a block counts as small, "
            "e.g. small_km2=1.0"
        )
    keys = resolve_by(blocks, by)
    metric = _crs.to_metric(blocks)
    geoms = metric.geometry.to_numpy()
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        pp = np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, np.nan)
    km2 = area / 1e6
    per = pd.DataFrame(
        {"km2": km2, "small": (km2 < small_km2).astype("float64"), "pp": pp, "pp_a": pp * km2},
        index=blocks.index,
    )
    has_owners = "owner_count" in blocks.columns
    if has_owners:
        per["owners"] = numeric_columns(blocks, ["owner_count"])["owner_count"]
    else:
        warnings.warn(
            "block table lacks column owner_count; owners_per_km2 cannot be computed and is left out",
            ValidationWarning, stacklevel=2,
        )
    if keys is None:
        labels = np.arange(len(per))
    elif keys == "zone":
        labels = np.zeros(len(per), dtype="int64")
    else:
        labels = per.groupby([blocks[k] for k in keys], dropna=False, observed=True, sort=True).ngroup()
        labels = labels.to_numpy()
    nearest = np.full(len(per), np.nan)
    for code in np.unique(labels):
        where = np.flatnonzero(labels == code)
        nearest[where] = _nearest_within(geoms[where])
    per["nearest"] = nearest
    sums = group_sums(blocks, per[["km2", "small", "pp_a"] + (["owners"] if has_owners else [])],
                      keys, index_name(by))
    stats = per.groupby(labels, sort=True).agg(
        min_block_km2=("km2", "min"), median_block_km2=("km2", "median"), max_block_km2=("km2", "max"),
        polsby_popper_mean=("pp", "mean"), nearest_distance_median_m=("nearest", "median"),
    )
    stats.index = sums.index
    count = sums["block_count"].astype("float64")
    km2_sum = sums["km2"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "block_count": sums["block_count"],
                "area_km2": sums["km2"],
                "min_block_km2": stats["min_block_km2"],
                "median_block_km2": stats["median_block_km2"],
                "max_block_km2": stats["max_block_km2"],
                "mean_block_km2": sums["km2"] / count,
                "small_block_share_pct": 100.0 * sums["small"] / count,
                "polsby_popper_mean": stats["polsby_popper_mean"],
                "polsby_popper_area_weighted": ratio(sums["pp_a"].to_numpy(), km2_sum),
                "nearest_distance_median_m": stats["nearest_distance_median_m"],
                "blocks_per_km2": ratio(count.to_numpy(), km2_sum),
            },
            index=sums.index,
        )
        if has_owners:
            out["owners_per_km2"] = ratio(sums["owners"].to_numpy(), km2_sum)
    out.attrs["missing"] = {} if has_owners else {"owners_per_km2": ["owner_count"]}
    out.attrs["small_km2"] = small_km2
    return out
