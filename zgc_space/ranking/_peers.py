"""The seeded generator of synthetic 产城融合型 peer zones (private; see benchmark.make_synthetic_peers).

Peers are drawn around the published national figures of the MNR monitoring (national figures of MNR's annual
monitoring of development zones), then the few peers nearest the anchor zone's score are nudged (each by one common
factor on its intensity indicators) so that exactly ``anchor_rank - 1`` of them score above it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import cast

import numpy as np
import pandas as pd
from scipy.special import ndtri

from zgc_space import evaluation
from zgc_space.errors import RankError
from zgc_space.evaluation import Preset, standardise_values

#: Published figures (value, source) the generator matches; "assumed" where none is published.
_SRC_2020 = "MNR monitoring, 2020 round (data as of 2019-12-31)"


@dataclass(frozen=True)
class NationalFigures:
    """Target means of the synthetic peers, with their sources (MNR's annual monitoring figures).

    The national monitoring publishes means over all zones (工业主导型 and 产城融合型 together);
    they are used as the 产城融合型 peers' means for want of a per-type figure.
    """

    development_rate_pct: float = 89.46
    supply_rate_pct: float = 92.68
    completion_rate_pct: float = 92.77
    far: float = 1.02
    building_density_pct: float = 33.87
    tax_10k_cny_per_ha: float = 539.96
    population_per_ha: float = 60.0
    idle_rate_pct: float = 1.0
    mean_score: float = 61.53
    sources: dict[str, str] = field(
        default_factory=lambda: {
            "development_rate_pct": _SRC_2020,
            "supply_rate_pct": _SRC_2020,
            "completion_rate_pct": _SRC_2020,
            "far": "midpoint of the national means 0.98 (2020 round) and 1.06 (2024 round)",
            "building_density_pct": "MNR monitoring, 2024 round",
            "tax_10k_cny_per_ha": _SRC_2020,
            "population_per_ha": "assumed (no national figure published)",
            "idle_rate_pct": "assumed (no national figure published)",
            "mean_score": _SRC_2020 + ", all zone types",
        }
    )

    def as_dict(self) -> dict[str, float]:
        """Return the numeric targets by indicator id."""
        return {k: v for k, v in asdict(self).items() if k != "sources"}


# indicator: (kind, log-sd, loading on the latent quality); kind "rate" draws the gap to 100 %
_SPREAD: dict[str, tuple[str, float, float]] = {
    "development_rate_pct": ("rate", 0.7, 0.5),
    "supply_rate_pct": ("rate", 0.7, 0.5),
    "completion_rate_pct": ("rate", 0.7, 0.5),
    "far": ("level", 0.35, 0.6),
    "building_density_pct": ("level", 0.22, 0.4),
    "tax_10k_cny_per_ha": ("level", 0.65, 0.6),
    "population_per_ha": ("level", 0.5, 0.4),
    "idle_rate_pct": ("rate_neg", 1.0, 0.5),
}


def _draw(figures: NationalFigures, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` peers whose sample means equal the targets exactly (moment matching)."""
    quality = ndtri((np.arange(n) + 0.5) / n)  # evenly spread latent quality, shuffled below
    quality = rng.permutation(quality)
    targets = figures.as_dict()
    cols: dict[str, np.ndarray] = {}
    for ind, (kind, sd, load) in _SPREAD.items():
        noise = rng.standard_normal(n)
        z = load * quality + np.sqrt(1 - load**2) * noise
        if kind == "rate":  # gap to 100 % shrinks with quality
            gap = np.exp(-sd * z)
            gap *= (100.0 - targets[ind]) / gap.mean()
            cols[ind] = np.clip(100.0 - gap, 0.0, 100.0)
        elif kind == "rate_neg":  # idle rate falls with quality
            val = np.exp(-sd * z)
            cols[ind] = np.clip(val * targets[ind] / val.mean(), 0.0, 100.0)
        else:
            val = np.exp(sd * z)
            cols[ind] = val * targets[ind] / val.mean()
    # 产城融合型 land shares (A2/A <= 30 %, A1/A >= 25 %), descriptive only
    cols["industrial_share_pct"] = rng.uniform(8.0, 30.0, n)
    cols["residential_share_pct"] = rng.uniform(25.0, 45.0, n)
    return pd.DataFrame(cols)


class _FastScorer:
    """Composite score of complete rows (no NaN) as a dot product; used to calibrate."""

    def __init__(self, preset: Preset) -> None:
        leaves = preset.leaf_weights()
        self.ids = list(leaves)
        self.weights = np.array([leaves[i][2] for i in self.ids])
        self.ideals = [preset.indicators[i].ideal for i in self.ids]
        self.forms = [preset.form(i) for i in self.ids]

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        s = np.column_stack([
            standardise_values(frame[i].to_numpy(float), t, f)
            for i, t, f in zip(self.ids, self.ideals, self.forms, strict=True)
        ])
        return cast("np.ndarray", s @ self.weights)


def _scaled(row: pd.Series, factor: float, preset: Preset) -> pd.Series:
    """Scale a peer's intensity: positive indicators × factor (rates capped), negative ÷ factor."""
    out = row.copy()
    for ind in preset.leaf_weights():
        kind = _SPREAD.get(ind, ("level", 0, 0))[0]
        if preset.indicators[ind].direction == "positive":
            if kind == "rate":
                out[ind] = 100.0 - (100.0 - row[ind]) / factor
            else:
                out[ind] = row[ind] * factor
        else:
            out[ind] = row[ind] / factor
    return out


def _move_to(row: pd.Series, target: float, preset: Preset, scorer: _FastScorer) -> pd.Series:
    """Return the row scaled by the single factor that gives it ``target`` (bisection on log)."""
    lo, hi = -6.0, 6.0
    for _ in range(80):
        mid = (lo + hi) / 2
        s = scorer(_scaled(row, float(np.exp(mid)), preset).to_frame().T)[0]
        lo, hi = (mid, hi) if s < target else (lo, mid)
    moved = _scaled(row, float(np.exp(hi)), preset)
    got = scorer(moved.to_frame().T)[0]
    if abs(got - target) > 1e-6:
        raise RankError(f"cannot move a synthetic peer to score {target:.3f} (reached {got:.3f})")
    return moved


def generate(
    *,
    anchor_score: float,
    anchor_rank: int,
    n_zones: int,
    preset: Preset,
    figures: NationalFigures,
    seed: int,
    margin: float,
) -> pd.DataFrame:
    """Draw ``n_zones - 1`` peers and place exactly ``anchor_rank - 1`` above ``anchor_score``."""
    n = n_zones - 1
    rng = np.random.default_rng(seed)
    peers = _draw(figures, n, rng)
    scorer = _FastScorer(preset)
    scores = scorer(peers)
    above_needed = anchor_rank - 1
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    # Move the draw so that the anchor falls in the middle of the gap between the peers ranked
    # anchor_rank - 1 and anchor_rank, by a smooth order-preserving warp: scores near that gap
    # move by `shift`, the others by a small common amount the other way (weight
    # exp(-((s - c) / 2)^2) minus its mean, so the draw's mean score is kept), and the peers near the anchor keep
    # the draw's own spacing (no cluster piled up next to it). A gap narrower than 2 × margin is
    # widened by moving every peer above (or below) by the same amount, spacing kept.
    hi = ranked[above_needed - 1] if above_needed > 0 else np.inf
    lo = ranked[above_needed] if above_needed < n else -np.inf
    if np.isfinite(hi) and np.isfinite(lo):
        centre = (hi + lo) / 2.0
        shift, widen = anchor_score - centre, max(0.0, margin - (hi - lo) / 2.0)
    elif np.isfinite(lo):  # the anchor ranks first
        centre, shift, widen = lo, min(0.0, anchor_score - margin - lo), 0.0
    else:  # the anchor ranks last
        centre, shift, widen = hi, max(0.0, anchor_score + margin - hi), 0.0
    weight = np.exp(-(((scores - centre) / 2.0) ** 2))
    mean_w = float(weight.mean())
    amount = shift / (1.0 - mean_w)  # the warp has mean zero: the draw's mean score is kept
    above = np.zeros(n, dtype=bool)
    above[order[:above_needed]] = True
    targets = scores + amount * (weight - mean_w) + np.where(above, widen, -widen)
    if int((targets > anchor_score).sum()) != above_needed or np.any(np.abs(targets - anchor_score) < margin / 2):
        # too few peers (or too large a shift) for the local warp to place the anchor: every
        # peer moves by the same shift, which preserves the order and the spacing exactly
        targets = scores + shift + np.where(above, widen, -widen)
    for idx in order:
        target = float(targets[idx])
        if abs(target - scores[idx]) > 1e-9:
            peers.loc[idx] = _move_to(peers.loc[idx], target, preset, scorer)
    peers = peers.round(4)
    final = scorer(peers)
    if int((final > anchor_score).sum()) != above_needed or np.any(np.abs(final - anchor_score) < margin / 2):
        raise RankError("synthetic peers could not be calibrated to the anchor rank; change the seed")
    peers.insert(0, "zone_id", [f"CIC-{i + 1:03d}" for i in range(n)])
    peers.insert(1, "name", [f"Synthetic 产城融合型 zone {i + 1:03d}" for i in range(n)])
    peers.insert(2, "zone_type", "city_industry")
    return peers


def make_synthetic_peers(
    *,
    anchor_score: float,
    anchor_rank: int = 74,
    n_zones: int = 131,
    preset: evaluation.PresetLike = "cic_default",
    figures: NationalFigures | None = None,
    seed: int = 20221231,
    margin: float = 0.12,
) -> pd.DataFrame:
    """Generate ``n_zones - 1`` synthetic 产城融合型 peers, deterministically from ``seed``.

    Indicators are drawn around the published national means (``figures``, moment-matched so the
    draw's means equal them) with a shared latent quality, so good zones tend to be good on
    several indicators. Then the peers' scores are moved by a smooth order-preserving warp (each
    peer by one factor on its intensity indicators; peers within a few points of the anchor
    move most) so that the anchor falls in the middle of the gap between the peers drawn at
    ranks ``anchor_rank - 1`` and ``anchor_rank``: exactly
    ``anchor_rank - 1`` peers score above ``anchor_score`` and the peers near it keep the
    draw's own spacing (no cluster piled up next to it). If that gap is narrower than
    ``2 × margin`` the peers above and below are moved apart by the shortage. The anchor
    zone's own values are never touched.

    Parameters
    ----------
    anchor_score
        Score of the zone being ranked (e.g. the sample ZGC under ``preset``).
    anchor_rank, n_zones
        Its published rank and the number of zones ranked (74 of 131 for ZGC, 2022 round).
    preset
        Preset the peers are scored with.
    figures
        Target means and their sources (default :class:`NationalFigures`).
    seed
        Random seed; the same arguments give the same table.
    margin
        Minimum score distance between any peer and the anchor.

    Returns
    -------
    pandas.DataFrame
        ``zone_id``, ``name``, ``zone_type`` and the indicator columns, one row per peer.

    Examples
    --------
    >>> from zgc_space.ranking import rank
    >>> peers = make_synthetic_peers(anchor_score=70.0, anchor_rank=3, n_zones=11, seed=1)
    >>> rank(70.0, peers=peers).rank, len(peers)
    (3, 10)
    """
    p = evaluation.load_preset(preset)
    return generate(
        anchor_score=float(anchor_score), anchor_rank=int(anchor_rank), n_zones=int(n_zones), preset=p,
        figures=figures or NationalFigures(), seed=int(seed), margin=float(margin),
    )


#: Zone-type labels as peers tables write them → the preset's zone types.
