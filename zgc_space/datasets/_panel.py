"""The 2021-2023 panel of the sample blocks and the attributes of the candidate areas.

The panel is built backwards from the 2023 blocks: each earlier year undoes one year of growth
(most blocks grow; a few decline every year, for the 优胜劣汰 rules) and of construction (some
ready land B21 becomes built land A). Nesting of the land accounting holds in every year.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space.datasets import _parks as parks
from zgc_space.datasets._economy import OWNER_TYPES, _below, _tier_param

__all__: list[str] = []

#: Years of the panel, oldest first.
PANEL_YEARS = (2021, 2022, 2023)


def _year_before(rng: np.random.Generator, cur: pd.DataFrame, decliners: np.ndarray) -> pd.DataFrame:
    n = len(cur)
    prev = cur.copy()
    growth = rng.normal(_tier_param(cur, "growth"), 0.04)
    growth[decliners] = rng.uniform(-0.15, -0.04, decliners.sum())
    tax_growth = growth + rng.normal(0.0, 0.02, n)
    emp_growth = 0.4 * growth + rng.normal(0.01, 0.01, n)

    a = cur["built_m2"].to_numpy()
    built_here = (rng.random(n) < 0.2) & ~decliners
    a_prev = np.where(built_here, a * (1.0 - rng.uniform(0.005, 0.03, n)), a)
    delta = a - a_prev  # exact (Sterbenz), so a_prev + delta == a
    ratio = a_prev / a
    gfa = cur["gfa_m2"].to_numpy()
    new_floor = delta * gfa / a * rng.uniform(0.8, 1.5, n)
    renewal = np.where(rng.random(n) < 0.15, gfa * rng.uniform(0.0, 0.02, n), 0.0)
    footprint = cur["footprint_m2"].to_numpy() * ratio
    gfa_prev = np.maximum(gfa - new_floor - renewal, 1.2 * footprint)
    prev["built_m2"] = a_prev
    prev["ready_m2"] = cur["ready_m2"].to_numpy() + delta
    for col in ("built_residential_m2", "built_industrial_m2", "industrial_footprint_m2"):
        prev[col] = cur[col].to_numpy() * ratio
    prev["footprint_m2"] = footprint
    prev["gfa_m2"] = gfa_prev
    prev["industrial_gfa_m2"] = cur["industrial_gfa_m2"].to_numpy() * gfa_prev / gfa

    money = {"revenue_10k_cny": growth, "industrial_revenue_10k_cny": growth, "tax_10k_cny": tax_growth,
             "industrial_tax_10k_cny": tax_growth}
    for col, g in money.items():
        prev[col] = np.round(cur[col].to_numpy() / (1.0 + g), 1)
    invest = rng.uniform(0.02, 0.08, n)
    for col in ("fixed_asset_10k_cny", "industrial_fixed_asset_10k_cny"):
        prev[col] = np.round(cur[col].to_numpy() / (1.0 + invest), 1)
    prev["employees"] = np.maximum(np.round(cur["employees"].to_numpy() / (1.0 + emp_growth)), 1.0)
    prev["population"] = np.round(cur["population"].to_numpy() / (1.0 + rng.normal(0.008, 0.005, n)))
    firms = np.maximum(np.round(cur["enterprises"].to_numpy() / (1.0 + emp_growth)), 1).astype(np.int64)
    prev["enterprises"] = firms
    hightech = np.round(cur["hightech_enterprises"].to_numpy() / (1.0 + emp_growth + 0.02))
    prev["hightech_enterprises"] = np.minimum(hightech, firms).astype(np.int64)
    prev["year"] = cur["year"] - 1
    return prev


def make_panel(rng: np.random.Generator, blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return blocks x years (2021-2023), the 2023 rows equal to ``blocks``."""
    decliners = np.zeros(len(blocks), dtype=bool)
    decliners[rng.choice(len(blocks), 12, replace=False)] = True
    years = [blocks]
    for _ in PANEL_YEARS[:-1]:
        years.insert(0, _year_before(rng, years[0], decliners))
    panel = pd.concat(years, ignore_index=True)
    order = np.lexsort((panel["year"].to_numpy(), panel["block_id"].to_numpy()))
    return gpd.GeoDataFrame(panel.iloc[order].reset_index(drop=True), geometry="geometry", crs=blocks.crs)


def candidate_attributes(
    rng: np.random.Generator, cands: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Identity, land, buildings and economy of each candidate area as expected after admission."""
    n = len(cands)
    site = cands.geometry.area.to_numpy()
    nearest = blocks.sindex.nearest(cands.geometry, return_all=False)[1]
    subpark = blocks["subpark"].to_numpy()[nearest]
    counts: dict[str, int] = {}
    names = []
    for park in subpark:
        counts[park] = counts.get(park, 0) + 1
        names.append(f"{park.removesuffix('园')}拓展区{parks.ORDINALS[counts[park] - 1]}")
    a = site * rng.uniform(0.0, 0.2, n)
    c = site * rng.uniform(0.03, 0.15, n)
    b = _below(site, a, c)
    ready = b * rng.uniform(0.4, 0.8, n)
    unready = _below(b, ready)
    supplied = a + ready * rng.uniform(0.0, 0.3, n)
    a1, a2 = a * rng.uniform(0.1, 0.3, n), a * rng.uniform(0.2, 0.5, n)
    gfa = a * rng.uniform(0.5, 1.0, n)
    footprint = np.minimum(gfa * 0.4, a)
    employees = np.maximum(np.round(gfa / 80.0), 1.0)
    revenue = a / 1e4 * rng.uniform(800.0, 3000.0, n)
    tax = revenue * rng.uniform(0.02, 0.04, n)
    firms = np.maximum(np.round(employees / 50.0), 1).astype(np.int64)
    return pd.DataFrame({
        "name": names, "subpark": subpark, "cluster": blocks["cluster"].to_numpy()[nearest],
        "owner_type": [OWNER_TYPES[i] for i in rng.choice(4, n, p=(0.3, 0.2, 0.2, 0.3))],
        "owner_count": rng.integers(1, 12, n), "policy_zone": np.zeros(n, dtype=bool), "site_area_m2": site,
        "built_m2": a, "built_residential_m2": a1, "built_industrial_m2": a2, "ready_m2": ready,
        "unready_m2": unready, "nonconstruction_m2": c, "supplied_m2": supplied, "idle_m2": np.zeros(n),
        "hightech_m2": supplied * 0.3, "gfa_m2": gfa, "footprint_m2": footprint,
        "industrial_gfa_m2": np.minimum(a2 * 0.8, gfa), "industrial_footprint_m2": np.minimum(a2 * 0.4, footprint),
        "gfa_source": "assumed", "revenue_10k_cny": np.round(revenue, 1),
        "industrial_revenue_10k_cny": np.round(revenue * 0.4, 1), "tax_10k_cny": np.round(tax, 1),
        "industrial_tax_10k_cny": np.round(tax * 0.4, 1), "fixed_asset_10k_cny": np.round(gfa * 0.6, 1),
        "industrial_fixed_asset_10k_cny": np.round(a2 / 1e4 * 5000.0, 1), "employees": employees,
        "population": np.round(a1 / 1e4 * 150.0), "enterprises": firms,
        "hightech_enterprises": np.round(firms * 0.3).astype(np.int64),
        "far_cap": np.round(rng.uniform(1.5, 3.0, n), 1),
    }, index=cands.index)
