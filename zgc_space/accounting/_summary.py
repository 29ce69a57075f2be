"""Class totals in km² per block, sub-park and zone, with the report's terms."""

from __future__ import annotations

import pandas as pd

__all__ = ["TERMS", "summary"]

#: Summary columns → the terms of the 2024 report and of TD/T 1029.
TERMS: dict[str, str] = {
    "site_km2": "用地面积",
    "built_km2": "已建成城镇建设用地 A",
    "residential_km2": "住宅用地 A1",
    "industrial_km2": "工矿仓储用地 A2",
    "remaining_developable_km2": "可开发利用面积剩余 B",
    "ready_km2": "已达到供地条件 B21",
    "unready_km2": "其他未建设 B (B11, B12, B22)",
    "nonconstruction_km2": "规划非建设用地 C",
    "supplied_km2": "已供应国有建设用地 D",
    "idle_km2": "闲置土地 G",
    "hightech_km2": "高新技术产业用地 H",
    "gfa_km2": "总建筑面积",
    "far": "综合容积率",
}
_SOURCE = {
    "site_km2": "site_area_m2", "built_km2": "built_m2", "residential_km2": "built_residential_m2",
    "industrial_km2": "built_industrial_m2", "ready_km2": "ready_m2", "unready_km2": "unready_m2",
    "nonconstruction_km2": "nonconstruction_m2", "supplied_km2": "supplied_m2", "idle_km2": "idle_m2",
    "hightech_km2": "hightech_m2", "gfa_km2": "gfa_m2",
}


def _totals(frame: pd.DataFrame, keys: pd.Series | None = None) -> pd.DataFrame:
    """Class totals in km² per group of ``keys`` (one row for the whole frame when None)."""
    data = pd.DataFrame({key: pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float) / 1e6
                         for key, col in _SOURCE.items()}, index=frame.index)
    group = pd.Series("zone", index=frame.index) if keys is None else keys.astype(str)
    out = data.groupby(group.to_numpy(), sort=True).sum(min_count=1)
    out["remaining_developable_km2"] = out["ready_km2"] + out["unready_km2"]
    out["far"] = out["gfa_km2"] / out["built_km2"].where(out["built_km2"] > 0)
    return out


def summary(blocks: pd.DataFrame) -> pd.DataFrame:
    """Return one row per block, per sub-park and for the zone (``level``, ``key``) in km².

    The FAR of a group is the ratio of its sums (Σ floor area / Σ A), never a mean of block FARs.
    """
    parts = [_totals(blocks).assign(level="zone")]
    if "subpark" in blocks.columns:
        parts.append(_totals(blocks, blocks["subpark"]).assign(level="subpark"))
    blocks_part = _totals(blocks, blocks["block_id"]).assign(level="block")
    parts.append(blocks_part.reindex(blocks["block_id"].astype(str).to_numpy()))
    out = pd.concat(parts).rename_axis("key").reset_index()
    out = out[["level", "key", *TERMS]].reset_index(drop=True)
    out.attrs["terms"] = dict(TERMS)
    return out
