"""The figures of a generated document, and the rank's margin in words.

Private: the diagnoses and the Word report (:mod:`zgc_space.report`) print every number through
a :class:`Facts` table: each figure is added once (key, name, value, printed text, unit) and a
sentence is formatted from the printed texts, so each number of a sentence is one of its facts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zgc_space import labels, ranking
from zgc_space.indicators import INDICATORS

__all__ = ["Facts", "decimals", "indicator_unit", "margin_facts", "rank_margins"]


class Facts:
    """The figures of one document: each added once, printed once, referred to by key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, key: str, name: str, value: Any, *, unit: str = "", decimals: int | None = None) -> str:
        """Record a figure; return its printed text (number and unit)."""
        text = labels.value(value, self.lang, decimals=decimals) if not isinstance(value, str) else value
        shown = f"{text} {unit}".strip() if unit and unit not in ("%",) else f"{text}{unit}"
        self.rows[key] = {"key": key, "name": name, "value": value, "text": text, "unit": unit, "shown": shown}
        return shown

    def table(self) -> pd.DataFrame:
        """Return the fact table (key, name, value, text, unit)."""
        return pd.DataFrame(list(self.rows.values()), columns=["key", "name", "value", "text", "unit"])

    def texts(self, keys: tuple[str, ...]) -> list[str]:
        """Return the printed texts (number and unit) of ``keys``."""
        return [str(self.rows[k]["shown"]) for k in keys]


def rank_margins(ranked: Any, *, peers: Any, preset: Any) -> tuple[float | None, float | None]:
    """Return the points to the next rank up and down (None at the top or the bottom).

    Taken from the rank result when the ranking gives them (``points_to_next_up`` /
    ``points_to_next_down``), else from the peers' scores as :func:`zgc_space.ranking.rank` compares them.
    """
    up, down = getattr(ranked, "points_to_next_up", None), getattr(ranked, "points_to_next_down", None)
    if up is None and down is None:
        scores = ranking.peer_scores(peers, preset=preset).dropna().to_numpy(float)
        mine = round(float(ranked.score), ranking.TIE_DECIMALS)
        rounded = np.round(scores, ranking.TIE_DECIMALS)
        above, below = rounded[rounded > mine], rounded[rounded < mine]
        up = float(above.min() - mine) if len(above) else None
        down = float(mine - below.max()) if len(below) else None
    return (None if up is None else float(up)), (None if down is None else float(down))


def margin_facts(ranked: Any, facts: Facts, prefix: str, t: Any, *, peers: Any = None,
                 preset: Any = "cic_default") -> tuple[str, tuple[str, ...]]:
    """Return the rank's margin in words (points to the next rank up and down) and the facts it uses."""
    parts, keys = [], []
    up, down = rank_margins(ranked, peers=peers, preset=preset)
    if up is not None and np.isfinite(float(up)):
        txt = facts.add(f"{prefix}points_up", t("距上一名分差", "points to the next rank up"), float(up), decimals=2)
        parts.append(t(f"距上一名差 {txt} 分", f"{txt} points below the next rank up"))
        keys.append(f"{prefix}points_up")
    if down is not None and np.isfinite(float(down)):
        txt = facts.add(f"{prefix}points_down", t("领先下一名分差", "points above the next rank down"), float(down),
                        decimals=2)
        parts.append(t(f"领先下一名 {txt} 分", f"{txt} points above the next rank down"))
        keys.append(f"{prefix}points_down")
    return t("，", ", ").join(parts), tuple(keys)


def interval_facts(best: int, worst: int, rank: int, facts: Facts, prefix: str, t: Any, *,
                   uncertainty_pct: float = 1.0) -> tuple[str, tuple[str, ...]]:
    """Return the rank interval at ±``uncertainty_pct`` in words and its facts ("" when it is the rank itself)."""
    if (best, worst) == (rank, rank):
        return "", ()
    b_txt = facts.add(f"{prefix}rank_best", t(f"排名区间上限（数据误差 ±{uncertainty_pct:g}%）",
                                              f"best rank at ±{uncertainty_pct:g} %"), int(best))
    w_txt = facts.add(f"{prefix}rank_worst", t(f"排名区间下限（数据误差 ±{uncertainty_pct:g}%）",
                                               f"worst rank at ±{uncertainty_pct:g} %"), int(worst))
    u = int(uncertainty_pct) if float(uncertainty_pct).is_integer() else float(uncertainty_pct)
    u_txt = facts.add(f"{prefix}uncertainty", t("数据误差", "input uncertainty"), u, unit="%")
    band = f"{b_txt}" if best == worst else f"{b_txt}—{w_txt}"
    text = t(f"建筑面积、税收、人口和建筑基底面积各有 ±{u_txt} 误差时，排名在第 {band} 位之间",
             f"with ±{u_txt} on floor area, tax, population and footprint the rank lies in {band}")
    return text, (f"{prefix}uncertainty", f"{prefix}rank_best", f"{prefix}rank_worst")


def indicator_unit(ind: str, lang: str) -> str:
    """Return an indicator's unit in ``lang`` (empty for a ratio such as FAR)."""
    return labels.unit(INDICATORS[ind].unit, lang) if INDICATORS[ind].unit not in ("-", "–", "") else ""


def decimals(ind: str, magnitude: float) -> int:
    """Display decimals of an indicator in sentences: FAR 2, values of 100 and more 0, else 1."""
    return 2 if ind in ("far", "industrial_far") else (0 if abs(magnitude) >= 100 else 1)
