"""Attributes of the sample blocks: land accounting, buildings, economy, ownership, the panel.

Every block gets tier-level parameters (``central``/``middle``/``outer``, see
:mod:`zgc_space._sample_parks`) times a sub-park effect times block noise; zone totals are then
scaled to the report's figures exactly (ΣB, ΣC, Σgfa/ΣA) or to the assumed economic totals.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from zgc_space.datasets import _parks as parks

__all__: list[str] = []

# Tier parameters (means; blocks vary around them).
_TIER: dict[str, dict[str, float]] = {
    "central": {
        "b": 0.02, "b_zero": 0.5, "c": 0.03, "ready": 0.8, "supply": 0.92, "idle": 0.10, "hightech": 0.55,
        "a1": 0.31, "a2": 0.12, "far": 1.75, "dens": 0.29, "ind_far": 1.5, "rev": 2.4, "tax": 0.045,
        "m2_per_worker": 38.0, "pop_per_ha": 420.0, "fixed": 1.4, "firm_size": 35.0, "hightech_firms": 0.45,
        "policy": 0.55, "growth": 0.07,
    },
    "middle": {
        "b": 0.07, "b_zero": 0.2, "c": 0.05, "ready": 0.7, "supply": 0.85, "idle": 0.20, "hightech": 0.45,
        "a1": 0.27, "a2": 0.26, "far": 1.05, "dens": 0.27, "ind_far": 1.1, "rev": 1.1, "tax": 0.036,
        "m2_per_worker": 55.0, "pop_per_ha": 260.0, "fixed": 1.0, "firm_size": 45.0, "hightech_firms": 0.35,
        "policy": 0.35, "growth": 0.06,
    },
    "outer": {
        "b": 0.20, "b_zero": 0.0, "c": 0.10, "ready": 0.55, "supply": 0.75, "idle": 0.35, "hightech": 0.30,
        "a1": 0.22, "a2": 0.38, "far": 0.6, "dens": 0.22, "ind_far": 0.8, "rev": 0.45, "tax": 0.025,
        "m2_per_worker": 85.0, "pop_per_ha": 160.0, "fixed": 0.6, "firm_size": 60.0, "hightech_firms": 0.20,
        "policy": 0.15, "growth": 0.04,
    },
}

OWNER_TYPES = ("国有", "多元混合", "国有集体混合", "集体")
_OWNER_P = {
    "central": (0.45, 0.40, 0.10, 0.05),
    "middle": (0.35, 0.30, 0.20, 0.15),
    "outer": (0.20, 0.20, 0.30, 0.30),
}


def _tier_param(frame: pd.DataFrame, key: str) -> np.ndarray:
    return np.array([_TIER[parks.PARKS[p].tier][key] for p in frame["subpark"]], dtype=float)


def _noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    return rng.lognormal(0.0, sigma, n)


def _park_effect(rng: np.random.Generator, frame: pd.DataFrame, sigma: float) -> np.ndarray:
    """Sub-park multiplier (lognormal); central sub-parks never fall below their tier mean."""
    effect = dict(zip(parks.PARKS, _noise(rng, len(parks.PARKS), sigma), strict=True))
    for name, park in parks.PARKS.items():
        if park.tier == "central":
            effect[name] = max(effect[name], 1.0)
    return cast("np.ndarray", frame["subpark"].map(effect).to_numpy(dtype=float))


def _fit_two(site: np.ndarray, b: np.ndarray, c: np.ndarray, total_b: float, total_c: float) -> tuple[Any, ...]:
    """Scale B and C to their zone totals while keeping B + C <= 60 % of every block."""
    cap = 0.6 * site
    for _ in range(200):
        b = b * total_b / b.sum()
        c = c * total_c / c.sum()
        over = (b + c) > cap
        if not over.any():
            break
        shrink = np.where(over, cap / np.maximum(b + c, 1e-9), 1.0)
        b, c = b * shrink, c * shrink
    return b, c


def _below(total: np.ndarray, *parts: np.ndarray) -> np.ndarray:
    """Return ``total - sum(parts)`` nudged down so that the float sum never exceeds ``total``."""
    rest = total - sum(parts)
    for _ in range(4):
        rest = np.where(rest + sum(parts) > total, np.nextafter(rest, -np.inf), rest)
    return rest


def land_and_buildings(rng: np.random.Generator, frame: pd.DataFrame, site: np.ndarray) -> pd.DataFrame:
    """Land accounting (A, A1, A2, B21, B, C, D, G, H) and floor areas for every block."""
    n = len(frame)
    effect = _park_effect(rng, frame, 0.15)
    frac_b = _tier_param(frame, "b") * _noise(rng, n, 0.6)
    frac_b[rng.random(n) < _tier_param(frame, "b_zero")] = 0.0
    frac_c = _tier_param(frame, "c") * _noise(rng, n, 0.6)
    frac_c[rng.random(n) < 0.3] = 0.0
    b, c = _fit_two(site, frac_b * site, frac_c * site, parks.REMAINING_B_KM2 * 1e6, parks.NONCONSTRUCTION_C_KM2 * 1e6)
    a = _below(site, b, c)
    ready = b * np.clip(_tier_param(frame, "ready") * _noise(rng, n, 0.25), 0.0, 1.0)
    unready = _below(b, ready)
    supplied = a + ready * np.clip(_tier_param(frame, "supply") * _noise(rng, n, 0.1), 0.0, 0.98)
    idle = (supplied - a) * np.clip(_tier_param(frame, "idle") * _noise(rng, n, 0.5), 0.0, 0.9)
    idle[rng.random(n) < 0.4] = 0.0
    hightech = supplied * np.clip(_tier_param(frame, "hightech") * _noise(rng, n, 0.25), 0.05, 0.95)
    a1 = _tier_param(frame, "a1") * _noise(rng, n, 0.25)
    a2 = _tier_param(frame, "a2") * _noise(rng, n, 0.35)
    for _ in range(20):  # zone shares A1/A and A2/A fixed, every block A1 + A2 <= 85 % of A
        a1 *= parks.RESIDENTIAL_SHARE * a.sum() / (a1 * a).sum()
        a2 *= parks.INDUSTRIAL_SHARE * a.sum() / (a2 * a).sum()
        over = np.maximum((a1 + a2) / 0.85, 1.0)
        a1, a2 = a1 / over, a2 / over
    old_town = frame["subpark"].isin(["东城园", "西城园"]).to_numpy()  # the densest, oldest core
    far = _tier_param(frame, "far") * effect * np.where(old_town, 1.3, 1.0) * _noise(rng, n, 0.3)
    gfa = far * a
    gfa *= parks.COMPREHENSIVE_FAR * a.sum() / gfa.sum()
    footprint = np.minimum(a * np.clip(_tier_param(frame, "dens") * _noise(rng, n, 0.15), 0.1, 0.5), gfa / 1.2)
    built_ind = a * a2
    ind_gfa = np.minimum(built_ind * _tier_param(frame, "ind_far") * _noise(rng, n, 0.2), 0.9 * gfa)
    ind_foot = np.minimum(built_ind * rng.uniform(0.35, 0.6, n), footprint)
    return pd.DataFrame({
        "built_m2": a, "built_residential_m2": a * a1, "built_industrial_m2": built_ind,
        "ready_m2": ready, "unready_m2": unready, "nonconstruction_m2": c, "supplied_m2": supplied,
        "idle_m2": idle, "hightech_m2": hightech, "gfa_m2": gfa, "footprint_m2": footprint,
        "industrial_gfa_m2": ind_gfa, "industrial_footprint_m2": ind_foot,
    }, index=frame.index)


def economy(rng: np.random.Generator, frame: pd.DataFrame, land: pd.DataFrame) -> pd.DataFrame:
    """Revenue, tax, fixed assets, employees, population and enterprises for every block."""
    n = len(frame)
    a, gfa = land["built_m2"].to_numpy(), land["gfa_m2"].to_numpy()
    a2_share = land["built_industrial_m2"].to_numpy() / a
    a1_share = land["built_residential_m2"].to_numpy() / a
    effect = _park_effect(rng, frame, 0.2)
    revenue = gfa * _tier_param(frame, "rev") * effect * _noise(rng, n, 0.45)
    revenue *= parks.REVENUE_10K_CNY / revenue.sum()
    ind_share = np.clip(1.3 * a2_share + rng.normal(0.03, 0.05, n), 0.01, 0.9)
    tax = revenue * _tier_param(frame, "tax") * _noise(rng, n, 0.2)
    tax *= parks.TAX_10K_CNY / tax.sum()
    ind_tax = tax * np.clip(ind_share * _noise(rng, n, 0.15), 0.0, 0.95)
    nonres_gfa = gfa * (1.0 - 0.9 * a1_share)
    employees = nonres_gfa / (_tier_param(frame, "m2_per_worker") * _noise(rng, n, 0.2))
    employees *= parks.EMPLOYEES / employees.sum()
    population = land["built_residential_m2"].to_numpy() / 1e4 * _tier_param(frame, "pop_per_ha")
    population *= _noise(rng, n, 0.25)
    population *= parks.POPULATION / population.sum()
    ind_fixed = land["built_industrial_m2"].to_numpy() / 1e4 * 9000.0 * _tier_param(frame, "fixed")
    ind_fixed *= _noise(rng, n, 0.3)
    fixed = ind_fixed + (gfa - land["industrial_gfa_m2"].to_numpy()) * 0.9 * _noise(rng, n, 0.2)
    employees = np.maximum(np.round(employees), 1.0)
    firms = np.maximum(np.round(employees / (_tier_param(frame, "firm_size") * _noise(rng, n, 0.3))), 1)
    hightech = np.minimum(np.round(firms * _tier_param(frame, "hightech_firms") * _noise(rng, n, 0.2)), firms)
    return pd.DataFrame({
        "revenue_10k_cny": np.round(revenue, 1),
        "industrial_revenue_10k_cny": np.round(revenue * ind_share, 1),
        "tax_10k_cny": np.round(tax, 1),
        "industrial_tax_10k_cny": np.round(ind_tax, 1),
        "fixed_asset_10k_cny": np.round(fixed, 1),
        "industrial_fixed_asset_10k_cny": np.round(ind_fixed, 1),
        "employees": employees,
        "population": np.round(population),
        "enterprises": firms.astype(np.int64),
        "hightech_enterprises": hightech.astype(np.int64),
    }, index=frame.index)


def ownership(
    rng: np.random.Generator, frame: pd.DataFrame, site: np.ndarray, tax_per_ha: np.ndarray
) -> dict[str, Any]:
    """Owner type, owner count, the city-level policy-zone flag and the evaluation range of every block.

    Every sample block lies in the main range (主区): the published evaluation of ZGC has no
    expansion range (发展方向区).
    """
    n = len(frame)
    tiers = [parks.PARKS[p].tier for p in frame["subpark"]]
    owner_type = [OWNER_TYPES[rng.choice(4, p=_OWNER_P[t])] for t in tiers]
    mean = 2.0 + 4.0 * np.sqrt(site / 1e6)
    owner_count = np.maximum(1, np.round(mean * _noise(rng, n, 0.6))).astype(np.int64)
    z = np.log(tax_per_ha)
    z = (z - z.mean()) / z.std()
    p = np.clip(_tier_param(frame, "policy") + 0.15 * z, 0.05, 0.95)
    return {"owner_type": owner_type, "owner_count": owner_count, "policy_zone": rng.random(n) < p,
            "range": ["main"] * n}


def far_caps(rng: np.random.Generator, land: pd.DataFrame, site: np.ndarray, n_over: int = 3) -> np.ndarray:
    """Planned maximum FAR: above the current FAR (on built land), a few blocks already over it."""
    current = land["gfa_m2"].to_numpy() / land["built_m2"].to_numpy()
    cap = np.ceil((current * rng.uniform(1.1, 1.8, len(current)) + rng.uniform(0.1, 0.5, len(current))) * 10) / 10
    over = rng.choice(len(cap), n_over, replace=False)
    cap[over] = np.maximum(np.floor(land["gfa_m2"].to_numpy()[over] / site[over] * 9.5) / 10, 0.1)
    return cast("np.ndarray", cap)
