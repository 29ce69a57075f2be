"""The ranking core: peers tables (sample, loaded, validated), their scores and a zone's rank among them.

Behind :mod:`zgc_space.ranking`'s door; see its docstring for the ranking convention.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from zgc_space import datasets, evaluation, labels
from zgc_space.errors import ColumnError, DataFileError, PresetWarning, RankError, list_ids
from zgc_space.indicators import INDICATORS
from zgc_space.io import atomic_files
from zgc_space.ranking._peers import make_synthetic_peers

log = logging.getLogger(__name__)

#: File name of the synthetic peers in the sample data.
PEERS_FILE = "peers_cic_131.csv"
#: Scores are compared at this many decimals (float noise must not break ties).
TIE_DECIMALS = 6
_ID_COLUMNS = ("zone_id", "name", "zone_type", "year", "published_rank", "score")
_PEER_ALIASES: dict[str, str] = {ind.zh: ind.id for ind in INDICATORS.values()} | {
    "开发区代码": "zone_id", "园区代码": "zone_id", "代码": "zone_id", "编号": "zone_id",
    "开发区名称": "name", "名称": "name", "类型": "zone_type", "年份": "year", "年度": "year",
    "排名": "published_rank", "名次": "published_rank", "rank": "published_rank",
    "集约度分值": "score", "土地利用集约度分值": "score", "分值": "score",
}


@dataclass(frozen=True)
class RankResult:
    """A zone's place among its peers.

    ``rank`` 1 is best; ``of`` counts the peers plus the zone; ``percentile`` is the share (%)
    of the other zones scoring strictly lower; ``ties`` counts peers with an equal score;
    ``peers_other_type`` counts the peers left out because their ``zone_type`` is not the
    preset's (zones are ranked within their type).

    Ranks are close calls, so every rank carries its margin: ``points_to_next_up`` is how many
    points the score must gain to pass the next peer above (None at rank 1) and
    ``points_to_next_down`` how many it may lose before the next peer below passes it (None
    when last). :func:`rank_blocks` also fills the rank interval ``rank_best``-``rank_worst``
    under a ±``uncertainty_pct`` error of the inputs (see :func:`rank_interval`).
    """

    rank: int
    of: int
    score: float
    percentile: float
    peers_above: int
    ties: int
    preset: str
    peers_other_type: int = 0
    points_to_next_up: float | None = None
    points_to_next_down: float | None = None
    rank_best: int | None = None
    rank_worst: int | None = None
    uncertainty_pct: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Return the result as a plain dict (stable keys)."""
        out = dict(self.__dict__)
        out["interval"] = self.text() if self.rank_best is not None else None
        return out

    def text(self, lang: str = "en") -> str:
        """Return the rank as people read it, e.g. ``"74 / 131 (71–77 at ±1 %)"``, in ``lang``.

        Examples
        --------
        >>> r = RankResult(74, 131, 61.2, 43.1, 73, 0, "cic_default", rank_best=71, rank_worst=77,
        ...                uncertainty_pct=1.0)
        >>> r.text()
        '74 / 131 (71–77 at ±1 %)'
        >>> r.text("zh")
        '第 74 位（共 131 个；数据误差 ±1% 时第 71–77 位）'
        """
        lang = labels.check_lang(lang)
        known = not (self.rank_best is None or self.rank_worst is None or self.uncertainty_pct is None)
        band = ("" if not known else f"{self.rank_best}" if self.rank_best == self.rank_worst
                else f"{self.rank_best}–{self.rank_worst}")
        en = f"{self.rank} / {self.of}" + (f" ({band} at ±{self.uncertainty_pct:g} %)" if known else "")
        zh = (f"第 {self.rank} 位（共 {self.of} 个" + (f"；数据误差 ±{self.uncertainty_pct:g}% 时第 {band} 位" if known
                                                      else "") + "）")
        return labels.pick(zh, en, lang)


@dataclass(frozen=True)
class GapResult:
    """What it takes to reach ``target_rank``: single-indicator routes and a combined plan.

    ``single`` has one row per indicator (``required`` value, ``change``, ``change_pct``,
    ``reachable``); ``plan`` the least-effort combination (``new`` value, ``change``,
    ``change_pct``); ``plan_rank`` and ``plan_score`` come from re-scoring the plan.
    """

    target_rank: int
    target_score: float
    current: RankResult
    single: pd.DataFrame
    plan: pd.DataFrame
    plan_score: float
    plan_rank: int
    plan_cost_pct: float
    method: str

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready plain data (stable keys)."""
        return {
            "target_rank": self.target_rank, "target_score": self.target_score,
            "current": self.current.to_dict(), "single": self.single, "plan": self.plan,
            "plan_score": self.plan_score, "plan_rank": self.plan_rank,
            "plan_cost_pct": self.plan_cost_pct, "method": self.method,
        }


def sample_peers_path() -> Path:
    """Return the path of the synthetic peers ``peers_cic_131.csv`` (see ``sample_data/peers_README.md``).

    Looked up in the directory named by ``ZGC_SPACE_DATA``, then in the source checkout's
    ``sample_data/``; otherwise rebuilt once into the per-version cache
    (:func:`zgc_space.datasets.cache_dir`) by :func:`build_sample_peers`.

    Examples
    --------
    >>> sample_peers_path().name
    'peers_cic_131.csv'
    """
    env = os.environ.get(datasets.ENV_VAR)
    places = ([Path(env)] if env else []) + [Path(__file__).resolve().parents[2] / "sample_data"]
    for place in places:
        if (place / PEERS_FILE).is_file():
            return place / PEERS_FILE
    cached = datasets.cache_dir() / PEERS_FILE
    if not cached.is_file():
        build_sample_peers(cached)
    return cached


def sample_peers() -> pd.DataFrame:
    """Return the shipped synthetic peer zones (the table at :func:`sample_peers_path`)."""
    return load_peers(sample_peers_path())


def build_sample_peers(path: str | Path, *, seed: int = 20221231) -> Path:
    """Rebuild the synthetic peers file from the sample blocks (the sample ZGC ranks 74 of 131).

    The anchor is the sample ZGC's own score under ``cic_default``
    (``indicators.compute(blocks, by="zone")``); the file is written atomically.

    Parameters
    ----------
    path
        Output CSV path.
    seed
        Seed of :func:`make_synthetic_peers` (the shipped file uses the default).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from zgc_space import indicators

    zone = indicators.compute(datasets.load_blocks(), by="zone")
    anchor = float(evaluation.score(zone)["score"].iloc[0])
    peers = make_synthetic_peers(anchor_score=anchor, seed=seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_files([path]) as (tmp,):
        peers.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    log.info("wrote %d synthetic peers (anchor score %.3f) to %s", len(peers), anchor, path)
    return path


def load_peers(path: str | Path) -> pd.DataFrame:
    """Read a ranking table (CSV, UTF-8 or GBK) of peer zones and validate its columns.

    Accepted columns: ``zone_id`` (required), ``name``, ``zone_type``, ``year``,
    ``published_rank``, ``score`` and any indicator id of :mod:`zgc_space.indicators`; the
    Chinese names (综合容积率, 集约度分值, 开发区名称, 排名, ...) are mapped to them. A table needs
    ``score`` or indicator columns (then it is scored with the preset when ranking).

    Raises
    ------
    zgc_space.errors.ColumnError
        Unknown columns, no ``zone_id``, or neither ``score`` nor any indicator (all named).
    zgc_space.errors.DataFileError
        Unreadable file, duplicate zone ids or non-numeric values (rows named).

    Examples
    --------
    >>> peers = load_peers(sample_peers_path())
    >>> len(peers), peers["zone_id"].iloc[0]
    (130, 'CIC-001')
    """
    path = Path(path)
    frame = None
    for encoding in ("utf-8-sig", "gbk"):
        try:
            frame = pd.read_csv(path, encoding=encoding, dtype={"zone_id": str})
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataFileError(f"peers table {path} is empty; give a CSV: a header and one line per zone") from exc
        except (OSError, pd.errors.ParserError, ValueError) as exc:
            raise DataFileError(f"cannot read peers table {path}: {exc}") from exc
    if frame is None:
        raise DataFileError(f"cannot decode peers table {path} as UTF-8 or GBK")
    frame = frame.rename(columns={c: _PEER_ALIASES.get(str(c).strip(), str(c).strip()) for c in frame.columns})
    return _validate_peers(frame, str(path))


def _validate_peers(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    unknown = [c for c in frame.columns if c not in _ID_COLUMNS and c not in INDICATORS]
    if unknown:
        raise ColumnError(
            f"peers table {where}: unknown column(s) {', '.join(map(str, unknown))}; allowed are "
            f"{', '.join(_ID_COLUMNS)} and the indicator ids of zgc_space.indicators.indicator_catalog()"
        )
    if "zone_id" not in frame.columns:
        raise ColumnError(f"peers table {where}: missing column zone_id (one id per zone)")
    numeric = [c for c in frame.columns if c in INDICATORS or c in ("score", "published_rank")]
    if not any(c == "score" or c in INDICATORS for c in numeric):
        raise ColumnError(f"peers table {where}: needs a score column or indicator columns (e.g. far)")
    if len(frame) == 0:
        raise DataFileError(f"peers table {where} has a header but no zone; give one line per peer zone")
    null = frame.index[frame["zone_id"].isna() | (frame["zone_id"].astype(str).str.strip() == "")]
    if len(null):
        raise DataFileError(f"peers table {where}: zone_id is empty on line(s) {list_ids([i + 2 for i in null])}; "
                            "give every zone an id")
    dup = frame["zone_id"][frame["zone_id"].duplicated()].astype(str).tolist()
    if dup:
        raise DataFileError(f"peers table {where}: duplicate zone_id {list_ids(dup)}")
    out = frame.copy()
    for col in numeric:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = out.index[values.isna() & out[col].notna()]
        if len(bad):
            rows = list_ids([i + 2 for i in bad])  # +2: header line and 1-based lines
            raise DataFileError(f"peers table {where}: column {col} is not numeric on line(s) {rows}")
        values = values.astype(float)
        for test, what in ((values.isna(), "empty"), (np.isinf(values), "infinite"), (values < 0, "negative"),
                           (values.abs() > 1e12, "implausibly large (above 1e12)")):
            bad = out.index[test.to_numpy()]
            if len(bad):
                rows = list_ids([i + 2 for i in bad])
                raise DataFileError(
                    f"peers table {where}: column {col} is {what} on line(s) {rows}; a rank against peers with "
                    f"unknown or impossible values is meaningless: correct them or drop those zones"
                )
        out[col] = values
    out["zone_id"] = out["zone_id"].astype(str)
    return out


_ZONE_TYPES = {"产城融合型": "city_industry", "工业主导型": "industry_led", "其他": "other"}


def peer_scores(
    peers: pd.DataFrame | str | Path | None = None, *, preset: evaluation.PresetLike = "cic_default"
) -> pd.Series:
    """Return the composite scores of the peers a zone is ranked against.

    Only peers of the preset's zone type count (see :func:`rank`); peers with the preset's
    indicators are scored with it, otherwise their ``score`` column is used. Compute this once
    and pass it to :func:`rank_scores` to rank many scores (e.g. one per proposal) at once.

    Examples
    --------
    >>> import pandas as pd
    >>> peer_scores(pd.DataFrame({"zone_id": ["A", "B"], "score": [70.0, 50.0]})).tolist()
    [70.0, 50.0]
    """
    return _peers_of_type(peers, evaluation.load_preset(preset))[0]


def rank_scores(scores: ArrayLike, peer_scores: ArrayLike) -> np.ndarray:
    """Rank each score among the peer scores, vectorised (1 = best; NaN stays NaN).

    The same rule as :func:`rank`: scores are compared at :data:`TIE_DECIMALS` decimals and tied
    zones share the better rank.

    Examples
    --------
    >>> rank_scores([80.0, 60.0, 50.0, float("nan")], [70.0, 50.0])
    array([ 1.,  2.,  2., nan])
    """
    s = np.round(np.asarray(scores, dtype=float), TIE_DECIMALS)
    peers = np.asarray(peer_scores, dtype=float)
    ps = np.sort(np.round(peers[~np.isnan(peers)], TIE_DECIMALS))
    above = len(ps) - np.searchsorted(ps, s, side="right")
    return np.where(np.isnan(s), np.nan, above + 1.0)


def _peers_of_type(
    peers_in: pd.DataFrame | str | Path | None, preset: evaluation.Preset
) -> tuple[pd.Series, int]:
    """Return the scores of the peers of the preset's zone type, and how many others were left out."""
    if peers_in is None:
        peers_in = sample_peers_path()
    peers = load_peers(peers_in) if isinstance(peers_in, (str, Path)) else peers_in
    left_out = 0
    if "zone_type" in peers.columns:
        types = peers["zone_type"].map(lambda v: _ZONE_TYPES.get(str(v).strip(), str(v).strip()))
        same = (types == preset.zone_type).to_numpy(bool)
        left_out = int((~same).sum())
        if not same.any():
            found = sorted(set(types.dropna().astype(str)))
            raise RankError(
                f"no peer has zone_type {preset.zone_type!r}, the type of preset {preset.name!r} "
                f"(the peers are {', '.join(found)}); zones are ranked within their type: use a "
                "preset of the peers' type or a peers table of this type"
            )
        if left_out:
            log.info("ranking among %d %s peers; %d of other types left out", int(same.sum()),
                     preset.zone_type, left_out)
        peers = peers[same]
    ids = list(preset.leaf_weights())
    missing = [i for i in ids if i not in peers.columns]
    if not missing:
        return evaluation.score(peers[ids], preset=preset)["score"], left_out
    if "score" in peers.columns:
        return pd.to_numeric(peers["score"], errors="coerce").astype(float), left_out
    raise ColumnError(
        f"peers lack indicator(s) {', '.join(missing)} of preset {preset.name!r} and have no score column"
    )


def _check_zone_type(zone: float | pd.Series | pd.DataFrame, preset: evaluation.Preset) -> None:
    """Warn when the zone's own type (from its land shares) is not the preset's."""
    if isinstance(zone, pd.DataFrame):
        zone = zone.iloc[0] if len(zone) == 1 else zone
    if not isinstance(zone, pd.Series) or not {"industrial_share_pct", "residential_share_pct"} <= set(zone.index):
        return
    own = evaluation.zone_type(zone)
    if own != preset.zone_type:
        warnings.warn(
            f"the zone's own type is {own!r} (industrial share {zone['industrial_share_pct']}, residential "
            f"share {zone['residential_share_pct']} %), but preset {preset.name!r} ranks "
            f"{preset.zone_type!r} zones; the rank compares it with zones of another type: pick a "
            "preset of the zone's type (zgc_space.evaluation.list_presets())",
            PresetWarning, stacklevel=3,
        )


def _zone_score(zone: float | pd.Series | pd.DataFrame, preset: evaluation.Preset) -> float:
    if isinstance(zone, (int, float, np.floating, np.integer)):
        return float(zone)
    if isinstance(zone, pd.DataFrame):
        if len(zone) != 1:
            raise RankError(f"expected one zone (one row), got {len(zone)} rows; select a row first")
        zone = zone.iloc[0]
    return float(evaluation.score(zone, preset=preset)["score"].iloc[0])


def _rank_of(value: float, peer_scores: np.ndarray, preset_name: str, left_out: int = 0) -> RankResult:
    s = round(value, TIE_DECIMALS)
    peers = np.round(peer_scores[~np.isnan(peer_scores)], TIE_DECIMALS)
    above = int(rank_scores([value], peers)[0]) - 1
    below = int((peers < s).sum())
    of = len(peers) + 1
    pct = 100.0 * below / (of - 1) if of > 1 else 100.0
    higher, lower = peers[peers > s], peers[peers < s]
    up = float(higher.min() - value) if len(higher) else None
    down = float(value - lower.max()) if len(lower) else None
    return RankResult(rank=above + 1, of=of, score=value, percentile=round(pct, 2), peers_above=above,
                      ties=int((peers == s).sum()), preset=preset_name, peers_other_type=left_out,
                      points_to_next_up=up, points_to_next_down=down)
