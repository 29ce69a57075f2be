"""The parts of a sub-park's diagnosis: land and capacity, least intensive blocks, the target, rank bands, the map.

Private to :mod:`zgc_space.report` (see :mod:`zgc_space.report._diagnose`, which assembles them).
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import evaluation, indicators, labels, ranking
from zgc_space.errors import PresetWarning, ValidationWarning
from zgc_space.indicators import INDICATORS
from zgc_space.report._document import Document, Heading, Para, Table
from zgc_space.report._docx import xml_text
from zgc_space.report._facts import Facts, decimals, indicator_unit

__all__ = ["gap_section", "land_section", "map_layer", "rank_bands", "worst_section"]


def rank_bands(blocks: pd.DataFrame, preset: evaluation.Preset, peer_scores: np.ndarray, *,
                uncertainty_pct: float = 1.0) -> pd.DataFrame:
    """Return each sub-park's best and worst national rank at ±``uncertainty_pct`` (exact corners).

    As :func:`zgc_space.ranking.rank_interval` does for the zone: every corner of the box of
    ±u on floor area, tax, population and footprint is scored (the score is monotone in each),
    here for all sub-parks at once, one indicator pass per corner.
    """
    cols = [c for c in ranking.UNCERTAIN_COLUMNS if c in blocks.columns]
    base = {c: pd.to_numeric(blocks[c], errors="coerce") for c in cols}
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        warnings.simplefilter("ignore", PresetWarning)
        for factors in ranking.corner_factors(len(cols), uncertainty_pct=uncertainty_pct):
            scaled = pd.DataFrame(blocks.drop(columns="geometry", errors="ignore")).assign(
                **{c: base[c] * f for c, f in zip(cols, factors, strict=True)})
            per = indicators.compute(scaled, by="subpark")
            scored = evaluation.score(per[[c for c in INDICATORS if c in per.columns]], preset=preset)
            scores.append(scored["score"].to_numpy(float))
            index = scored.index
    table = pd.DataFrame(np.column_stack(scores), index=index)
    hi, lo = table.max(axis=1).to_numpy(float), table.min(axis=1).to_numpy(float)
    return pd.DataFrame({"best": ranking.rank_scores(hi, peer_scores), "worst": ranking.rank_scores(lo, peer_scores)},
                        index=table.index)


def map_layer(blocks: pd.DataFrame, subpark: str, worst_ids: list[str]) -> gpd.GeoDataFrame | None:
    """Return the zone's blocks with the category of the sub-park's map (None without geometry or CRS)."""
    if not isinstance(blocks, gpd.GeoDataFrame) or blocks.crs is None or "block_id" not in blocks.columns:
        return None
    ids = blocks["block_id"].astype(str)
    own = (blocks["subpark"].astype(str) == subpark).to_numpy()
    category = np.where(ids.isin(worst_ids).to_numpy() & own, "worst", np.where(own, "own", "other"))
    shown = blocks["subpark"].astype(str).map(xml_text)  # names drawn on the map: no control character
    return gpd.GeoDataFrame({"block_id": ids.to_numpy(), "subpark": shown.to_numpy(),
                             "category": category}, geometry=blocks.geometry.to_numpy(), crs=blocks.crs)


def _km2(facts: Facts, key: str, name: str, m2: float) -> str:
    return facts.add(key, name, float(m2) / 1e6, unit="km²", decimals=2)


def land_section(doc: Document, facts: Facts, own: pd.DataFrame, cap: pd.Series, t: Any) -> None:
    doc.add(Heading(t("四、剩余用地、建设容量与潜力", "4. Land left, capacity and potential")))
    site = _km2(facts, "site_area", t("用地面积", "site area"), float(own["site_area_m2"].sum()))
    rem = _km2(facts, "remaining", t("剩余可开发用地", "remaining developable land"), cap["remaining_m2"])
    ready = _km2(facts, "ready", t("已达供地条件用地", "land ready to supply"), cap["ready_m2"])
    supp = _km2(facts, "suppliable", t("尚可供应用地", "land still suppliable"), cap["suppliable_m2"])
    doc.add(Para(t(f"本园用地面积 {site}，剩余可开发用地 {rem}，其中已达到供地条件 {ready}；尚可供应用地 {supp}。",
                   f"Site area {site}; {rem} of developable land remain, {ready} of it ready to supply; "
                   f"{supp} can still be supplied."), facts=("site_area", "remaining", "ready", "suppliable")))
    if "nonconstruction_m2" in own.columns:
        non = _km2(facts, "nonconstruction", t("规划非建设用地", "planned non-construction land"),
                   float(own["nonconstruction_m2"].sum()))
        doc.add(Para(t(f"规划非建设用地 {non}。", f"Planned non-construction land: {non}."),
                     facts=("nonconstruction",)))
    if "gfa_capacity_m2" in cap.index and np.isfinite(float(cap["gfa_capacity_m2"])):
        gfa = facts.add("gfa", t("现状建筑面积", "floor area"), float(cap["gfa_m2"]) / 1e4, unit=t("万 m²", "10k m²"),
                        decimals=1)
        room = facts.add("gfa_capacity", t("按规划容积率上限尚可新增的建筑面积", "floor area the caps still allow"),
                         float(cap["gfa_capacity_m2"]) / 1e4, unit=t("万 m²", "10k m²"), decimals=1)
        doc.add(Para(t(f"现状建筑面积 {gfa}；按各区块规划容积率上限，尚可新增建筑面积 {room}。",
                       f"Floor area {gfa}; the planned FAR caps allow {room} more."), facts=("gfa", "gfa_capacity")))
        if int(cap["over_cap_blocks"]) > 0:
            n = facts.add("over_cap_blocks", t("超出规划容积率上限的区块数", "blocks above their cap"),
                          int(cap["over_cap_blocks"]))
            over = facts.add("over_cap", t("超出上限的建筑面积", "floor area above the caps"),
                             float(cap["over_cap_m2"]) / 1e4, unit=t("万 m²", "10k m²"), decimals=1)
            doc.add(Para(t(f"{n} 个区块的建筑面积超出规划上限，合计 {over}。",
                           f"{n} block(s) exceed their cap by {over} in all."), facts=("over_cap_blocks", "over_cap")))


def worst_section(doc: Document, facts: Facts, scored: pd.DataFrame, worst: int, t: Any, lang: str) -> list[str]:
    """Add the least intensive blocks; return their ids."""
    known = scored[scored["score"].notna()].sort_values(["score"], kind="mergesort")
    doc.add(Heading(t("五、集约度最低的区块", "5. The least intensive blocks")))
    if not len(known):
        doc.add(Para(t("本园没有可计算分值的区块。", "No block of the sub-park has a score.")))
        return []
    rows: list[tuple[str, ...]] = [(t("区块", "block"), t("名称", "name"), t("集约度分值", "score"),
                                    t("综合容积率", "FAR"), t("综合地均税收", "tax per ha"))]
    for bid, rec in known.head(worst).iterrows():
        rows.append((str(bid), str(rec.get("name", "")), labels.value(float(rec["score"]), lang, decimals=2),
                     labels.value(float(rec.get("far", np.nan)), lang, decimals=2),
                     labels.value(float(rec.get("tax_10k_cny_per_ha", np.nan)), lang, decimals=0)))
    first = known.index[0]
    b_score = facts.add(f"block_{first}_score", t(f"区块 {first} 集约度分值", f"score of block {first}"),
                        float(known.loc[first, "score"]), decimals=2)
    n_known = facts.add("scored_blocks", t("可计算分值的区块数", "blocks with a score"), len(known))
    doc.add(Para(t(f"在 {n_known} 个可计算分值的区块中，集约度最低的是 {first}（{known.loc[first].get('name', '')}），"
                   f"分值 {b_score}。",
                   f"Of {n_known} scored blocks the least intensive is {first} ({known.loc[first].get('name', '')}), "
                   f"scoring {b_score}."), facts=("scored_blocks", f"block_{first}_score")),
            Table(rows=tuple(rows), caption=t(f"表 2 集约度最低的 {min(worst, len(known))} 个区块",
                                              f"Table 2 the {min(worst, len(known))} least intensive blocks"),
                  numeric=(False, False, True, True, True)))
    if len(known) < len(scored):
        n = facts.add("unscored_blocks", t("无法计算分值的区块数", "blocks without a score"), len(scored) - len(known))
        doc.add(Para(t(f"另有 {n} 个区块缺少数据，无法计算分值。", f"{n} more block(s) lack data for a score."),
                     facts=("unscored_blocks",), style="note"))
    return [str(b) for b in known.head(worst).index]


def gap_section(doc: Document, facts: Facts, row: pd.DataFrame, target: int, peers: Any, preset: Any, t: Any,
                 lang: str) -> None:
    doc.add(Heading(t(f"七、进入全国前 {target} 名需要什么", f"7. What reaching national rank {target} takes")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        gap = ranking.gap_to_rank(row, target, peers=peers, preset=preset)
    tr_txt = facts.add("target_rank", t("目标名次", "target rank"), int(target))
    if gap.current.rank <= target:
        cur = facts.texts(("national_rank",))[0]
        doc.add(Para(t(f"本园按自身指标已居第 {cur} 位，达到前 {tr_txt} 名的目标。",
                       f"With its own indicators the sub-park already ranks {cur}, within the target {tr_txt}."),
                     facts=("national_rank", "target_rank")))
        return
    ts_txt = facts.add("target_score", t("目标名次的分值", "score of the target rank"), gap.target_score, decimals=2)
    ps_txt = facts.add("plan_score", t("组合方案分值", "score of the combined plan"), gap.plan_score, decimals=2)
    pr_txt = facts.add("plan_rank", t("组合方案名次", "rank of the combined plan"), int(gap.plan_rank))
    doc.add(Para(t(f"进入前 {tr_txt} 名需要分值达到 {ts_txt}（现为 {facts.texts(('score',))[0]}）；"
                   f"最省力的组合方案可使分值达到 {ps_txt}，居第 {pr_txt} 位：",
                   f"Rank {tr_txt} needs a score of {ts_txt} (now {facts.texts(('score',))[0]}); the least-effort "
                   f"plan reaches {ps_txt}, rank {pr_txt}:"),
                 facts=("target_rank", "target_score", "score", "plan_score", "plan_rank")))
    plan = gap.plan[gap.plan["change"].abs() > 1e-9]
    for ind, rec in plan.iterrows():
        meta = INDICATORS[str(ind)]
        unit = indicator_unit(str(ind), lang)
        dec = decimals(str(ind), float(rec["current"]))
        now = facts.add(f"plan_{ind}_now", t(f"{meta.zh}现值", f"{meta.en} now"), float(rec["current"]), unit=unit,
                        decimals=dec)
        new = facts.add(f"plan_{ind}_new", t(f"{meta.zh}目标值", f"{meta.en} needed"), float(rec["new"]), unit=unit,
                        decimals=dec)
        pct = facts.add(f"plan_{ind}_pct", t(f"{meta.zh}变化幅度", f"{meta.en} change"), abs(float(rec["change_pct"])),
                        unit="%", decimals=1)
        verb = t("提高", "up") if float(rec["change"]) > 0 else t("降低", "down")
        doc.add(Para(t(f"{meta.zh}由 {now} {verb}到 {new}（{verb} {pct}）。", f"{meta.en} {verb} from {now} to {new} "
                       f"({pct})."), facts=(f"plan_{ind}_now", f"plan_{ind}_new", f"plan_{ind}_pct"), style="bullet"))
    alone = gap.single[gap.single["reachable"].astype(bool)]
    if len(alone) and len(alone) < len(gap.single):
        names = "、".join(INDICATORS[str(i)].zh for i in alone.index) if lang != "en" else \
            ", ".join(INDICATORS[str(i)].en for i in alone.index)
        n = facts.add("single_routes", t("单项即可达到目标的指标数", "indicators that reach it alone"), len(alone))
        doc.add(Para(t(f"只改变一项指标即可达到目标的有 {n} 项：{names}。",
                       f"{n} indicator(s) can reach it alone: {names}."), facts=("single_routes",)))
    elif not len(alone):
        doc.add(Para(t("任何单项指标单独提高都不足以达到目标，需多项并举。",
                       "No indicator alone can reach it: several must improve together.")))
