r"""Land-use potential (潜力测算) after the TD/T 1029 evaluation: expansion, structural, intensity, management.

TD/T 1029-2010 (2014 rev.) follows the intensity evaluation with four potentials. The standard
names them; the formulas below are how zgc_space computes them from the block table (and, for
the structural potential, from the land account layer of :func:`zgc_space.accounting.account`):

* **扩展潜力 expansion**: land still available, :math:`B = B_{21} + B_{other}` (remaining
  developable land) and of it :math:`E = A + B_{21} - D` (developed but not yet supplied).
* **结构潜力 structural**: land whose use lies below the zone's main function and could be
  restructured: rural construction land inside the zone (B11, B12) and other built land (A6),
  summed from the land account's pieces. Without pieces it is unknown (NaN), never zero.
* **强度潜力 intensity**: with the group's FAR :math:`X = \mathrm{gfa} / A` below the ideal
  :math:`T`, the land the same floor area would need at :math:`T` is saved,

  .. math::

      \Delta A = A \cdot (1 - X / T) \quad (X < T;\ 0 \text{ otherwise}), \qquad
      \Delta\mathrm{gfa} = \max(0,\ T \cdot A - \mathrm{gfa}).

  As everywhere in zgc_space a group's FAR is the ratio of its sums, so :math:`\Delta A` of a
  group is not the sum of its blocks' :math:`\Delta A`; both are available (``by=``).
* **管理潜力 management**: idle land G, and, when a threshold is given, the built land of blocks
  whose tax per hectare lies below it (低效用地).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from zgc_space.blocks import block_ids, group_sums, index_name, numeric_columns, ratio, resolve_by
from zgc_space.errors import ColumnError, ParameterError

__all__ = ["STRUCTURAL_CLASSES", "potential"]

#: Land-account classes counted as structural potential: rural built land and other built land.
STRUCTURAL_CLASSES: tuple[str, ...] = ("B11", "B12", "A6")

_NEEDED = ("built_m2", "ready_m2", "unready_m2", "supplied_m2", "idle_m2", "gfa_m2")


def potential(
    blocks: pd.DataFrame,
    *,
    far_ideal: float,
    by: str | Sequence[str] | None = None,
    low_tax_10k_cny_per_ha: float | None = None,
    pieces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the four TD/T 1029 potentials per block or group, in m².

    Parameters
    ----------
    blocks
        Block table with ``built_m2`` (A), ``ready_m2`` (B21), ``unready_m2`` (other B),
        ``supplied_m2`` (D), ``idle_m2`` (G), ``gfa_m2`` and, for the low-efficiency land,
        ``tax_10k_cny``.
    far_ideal
        The ideal comprehensive FAR :math:`T` (e.g. the evaluation preset's ideal value of
        ``far``: 2.5 in ``cic_default``, an assumption documented there).
    by
        Grouping as in :func:`zgc_space.capacity.compute`.
    low_tax_10k_cny_per_ha
        Blocks whose tax per hectare of built land lies below this count as low-efficiency
        land (管理潜力); without it that column is NaN.
    pieces
        The land account layer (``block_id``, ``class``, ``area_m2``) for the structural
        potential; without it that column is NaN.

    Returns
    -------
    pandas.DataFrame
        ``expansion_remaining_m2`` (B), ``expansion_suppliable_m2`` (E), ``structural_m2``,
        ``intensity_land_m2`` (ΔA), ``intensity_gfa_m2`` (Δgfa), ``far``, ``management_idle_m2``
        (G), ``management_low_efficiency_m2``, ``block_count``. ``attrs["notes"]`` says which
        columns are unknown and why; ``attrs["far_ideal"]`` records T.

    Examples
    --------
    >>> import pandas as pd
    >>> blocks = pd.DataFrame({"block_id": ["B1", "B2"], "built_m2": [10_000.0, 10_000.0],
    ...     "ready_m2": [2_000.0, 0.0], "unready_m2": [1_000.0, 0.0], "supplied_m2": [11_000.0, 10_000.0],
    ...     "idle_m2": [500.0, 0.0], "gfa_m2": [10_000.0, 30_000.0], "tax_10k_cny": [5.0, 100.0]})
    >>> out = potential(blocks, far_ideal=2.0, by="block", low_tax_10k_cny_per_ha=10.0)
    >>> out.loc["B1", ["expansion_remaining_m2", "expansion_suppliable_m2", "intensity_land_m2",
    ...                "intensity_gfa_m2", "management_low_efficiency_m2"]].tolist()
    [3000.0, 1000.0, 5000.0, 10000.0, 10000.0]
    >>> float(potential(blocks, far_ideal=2.0, by="zone")["intensity_land_m2"].iloc[0])  # FAR 2.0 = T
    0.0
    """
    if not (isinstance(far_ideal, (int, float)) and np.isfinite(far_ideal) and far_ideal > 0):
        raise ParameterError(f"far_ideal must be a positive FAR (the ideal value T), got {far_ideal!r}")
    if low_tax_10k_cny_per_ha is not None and not (np.isfinite(low_tax_10k_cny_per_ha)
                                                   and low_tax_10k_cny_per_ha >= 0):
        raise ParameterError(f"low_tax_10k_cny_per_ha must be ≥ 0 万元/ha, got {low_tax_10k_cny_per_ha!r}")
    absent = [c for c in _NEEDED if c not in blocks.columns]
    if absent:
        raise ColumnError(f"potential needs column(s) {absent} in `blocks`; add them (or account the land "
                          "with zgc_space.accounting.account)")
    keys = resolve_by(blocks, by)
    values = numeric_columns(blocks, list(_NEEDED))
    notes: list[str] = []
    values["low_efficiency_m2"] = np.nan
    if low_tax_10k_cny_per_ha is not None:
        if "tax_10k_cny" not in blocks.columns:
            raise ColumnError("low_tax_10k_cny_per_ha needs column tax_10k_cny in `blocks`")
        tax = numeric_columns(blocks, ["tax_10k_cny"])["tax_10k_cny"].to_numpy()
        built = values["built_m2"].to_numpy()
        per_ha = ratio(tax, built, scale=10_000.0)
        low = np.isfinite(per_ha) & (per_ha < low_tax_10k_cny_per_ha)
        values["low_efficiency_m2"] = np.where(np.isfinite(per_ha), np.where(low, built, 0.0), np.nan)
    else:
        notes.append("management_low_efficiency_m2 is unknown: give low_tax_10k_cny_per_ha")
    values["structural_m2"] = _structural(blocks, pieces)
    if pieces is None:
        notes.append("structural_m2 is unknown: give the land account layer (pieces=accounting result's pieces)")
    sums = group_sums(blocks, values, keys, index_name(by))
    a = sums["built_m2"].to_numpy(dtype=float)
    gfa = sums["gfa_m2"].to_numpy(dtype=float)
    far = ratio(gfa, a)
    out = pd.DataFrame(index=sums.index)
    out["expansion_remaining_m2"] = sums["ready_m2"] + sums["unready_m2"]
    out["expansion_suppliable_m2"] = sums["built_m2"] + sums["ready_m2"] - sums["supplied_m2"]
    out["structural_m2"] = sums["structural_m2"]
    out["far"] = far
    saved = np.where(np.isfinite(far), np.where(far < far_ideal, a * (1.0 - far / far_ideal), 0.0), np.nan)
    out["intensity_land_m2"] = saved
    out["intensity_gfa_m2"] = np.where(np.isfinite(a) & np.isfinite(gfa), np.maximum(0.0, far_ideal * a - gfa), np.nan)
    out["management_idle_m2"] = sums["idle_m2"]
    out["management_low_efficiency_m2"] = sums["low_efficiency_m2"]
    out["block_count"] = sums["block_count"]
    attrs: dict[str, Any] = {"far_ideal": float(far_ideal), "notes": notes,
                             "low_tax_10k_cny_per_ha": low_tax_10k_cny_per_ha,
                             "structural_classes": list(STRUCTURAL_CLASSES)}
    unknown_far = block_ids(blocks, ~np.isfinite(ratio(values["gfa_m2"].to_numpy(), values["built_m2"].to_numpy())))
    if unknown_far:
        attrs["unknown_far_blocks"] = unknown_far
    out.attrs.update(attrs)
    return out


def _structural(blocks: pd.DataFrame, pieces: pd.DataFrame | None) -> np.ndarray:
    """Per block: the area of the land account's pieces in :data:`STRUCTURAL_CLASSES` (NaN without pieces)."""
    if pieces is None:
        return np.full(len(blocks), np.nan)
    need = [c for c in ("block_id", "class", "area_m2") if c not in pieces.columns]
    if need:
        raise ColumnError(f"`pieces` lacks column(s) {need}; pass the `pieces` of zgc_space.accounting.account")
    if "block_id" not in blocks.columns:
        raise ColumnError("the structural potential needs block_id in `blocks` to match the pieces")
    chosen = pieces[pieces["class"].isin(STRUCTURAL_CLASSES)]
    per_block = chosen.groupby(chosen["block_id"].astype(str))["area_m2"].sum()
    ids = blocks["block_id"].astype(str)
    area: np.ndarray = ids.map(per_block).fillna(0.0).to_numpy(dtype=float)
    return area
