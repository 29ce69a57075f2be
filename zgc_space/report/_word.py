"""The hearing's Word report, from cover and summary to data sources and provenance.

Cover, summary, indicators and rank, sub-parks, maps, proposals, optimisation, dynamic
adjustment, data sources and provenance.

Private: :func:`zgc_space.report.hearing_pack` builds it (``documents=True``) from the same
inputs as the pack's pages, with the pack's printed maps as figures and the manifest's input
hashes as provenance. Every sentence is formatted from a figure
(:class:`~zgc_space.report._facts.Facts`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zgc_space import capacity, evaluation, indicators, io, labels, ranking
from zgc_space.errors import PresetWarning, ValidationWarning, ZgcSpaceError
from zgc_space.indicators import INDICATORS
from zgc_space.report._document import Document, Figure, Heading, PageBreak, Para, Table
from zgc_space.report._facts import Facts, decimals, indicator_unit, interval_facts, margin_facts

__all__ = ["word_report"]

_HEADLINE = ("supply_rate_pct", "completion_rate_pct", "far", "building_density_pct", "tax_10k_cny_per_ha",
             "population_per_ha", "idle_rate_pct")


def _fmt(value: Any, lang: str, dec: int | None = None) -> str:
    return labels.value(value, lang, decimals=dec)


def _summary_and_rank(doc: Document, facts: Facts, blocks: pd.DataFrame, *, preset: Any, peers: Any,
                      target_rank: int | None, t: Any, lang: str) -> list[Para]:
    """Add the zone section; return the summary's sentences (placed before it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        zone = indicators.compute(blocks, by="zone")
        cap = capacity.compute(blocks, by="zone").iloc[0]
    cols = [c for c in INDICATORS if c in zone.columns]
    scored = evaluation.score(zone[cols], preset=preset)
    contrib = evaluation.contributions(zone[cols], preset=preset).iloc[0]
    with warnings.catch_warnings(record=True) as caught:  # the pack's own section has warned already
        warnings.simplefilter("always", PresetWarning)
        ranked = ranking.rank(zone[cols], peers=peers, preset=preset)
    s_txt = facts.add("score", t("集约度分值", "score"), float(ranked.score), decimals=2)
    r_txt = facts.add("rank", t("全国排名", "national rank"), int(ranked.rank))
    of_txt = facts.add("of", t("参评开发区数", "zones ranked"), int(ranked.of))
    margin, mkeys = margin_facts(ranked, facts, "", t, peers=peers, preset=preset)
    try:
        best, worst, _, _ = ranking.rank_interval(blocks, peers=peers, preset=preset, uncertainty_pct=1.0)
    except ZgcSpaceError:  # e.g. missing block inputs the interval's scoring refuses: the rank stands alone
        best = worst = ranked.rank
    interval, ikeys = interval_facts(int(best), int(worst), int(ranked.rank), facts, "", t)
    if interval:
        margin += (t("；", "; ") if margin else "") + interval
        mkeys += ikeys
    rank_para = Para(t(f"全区土地利用集约度分值 {s_txt}，在 {of_txt} 个同类开发区中排名第 {r_txt} 位"
                       + (f"，{margin}" if margin else "") + "。",
                       f"The zone scores {s_txt}, rank {r_txt} of {of_txt} peer zones"
                       + (f" ({margin})" if margin else "") + "."), facts=("score", "rank", "of", *mkeys))
    far_txt = facts.add("far", t("综合容积率", "FAR"), float(zone["far"].iloc[0]), decimals=2)
    rem_txt = facts.add("remaining", t("剩余可开发用地", "remaining land"), float(cap["remaining_m2"]) / 1e6,
                        unit="km²", decimals=1)
    blocks_txt = facts.add("blocks", t("区块数", "blocks"), len(blocks))
    land_para = Para(t(f"{blocks_txt} 个区块的综合容积率为 {far_txt}，剩余可开发用地 {rem_txt}。",
                       f"The {blocks_txt} blocks have a FAR of {far_txt}; {rem_txt} of developable land remain."),
                     facts=("blocks", "far", "remaining"))
    summary = [rank_para, land_para]
    lost = (-contrib.dropna()).sort_values(ascending=False, kind="mergesort")
    if len(lost) and float(lost.iloc[0]) > 0.005:
        ind = str(lost.index[0])
        p_txt = facts.add(f"lost_{ind}", t(f"{INDICATORS[ind].zh}失分", f"points lost on {INDICATORS[ind].en}"),
                          float(lost.iloc[0]), decimals=2)
        summary.append(Para(t(f"失分最多的指标是{INDICATORS[ind].zh}，失 {p_txt} 分。",
                              f"The indicator that costs most is {INDICATORS[ind].en}: {p_txt} points."),
                            facts=(f"lost_{ind}",)))
    doc.add(Heading(t("一、全区指标与全国排名", "1. Zone indicators and national rank")), rank_para)
    if caught:
        doc.add(Para(t("注：本区用地结构不属于评价方案的开发区类型，排名仅作参考。",
                       "Note: the zone's land structure is not of the preset's zone type; the rank is indicative."),
                     style="note"))
    rows: list[tuple[str, ...]] = [(t("指标", "indicator"), t("数值", "value"), t("单位", "unit"),
                                    t("标准化得分", "standardised"), t("失分", "points lost"))]
    for ind in [i for i in _HEADLINE if i in cols] + [i for i in cols if i not in _HEADLINE]:
        value = float(zone[ind].iloc[0])
        s_col = f"s_{ind}"
        rows.append((t(INDICATORS[ind].zh, INDICATORS[ind].en), _fmt(value, lang, decimals(ind, value)),
                     indicator_unit(ind, lang),
                     _fmt(float(scored[s_col].iloc[0]), lang, 1) if s_col in scored else "—",
                     _fmt(-float(contrib[ind]), lang, 2) if ind in contrib.index and np.isfinite(float(contrib[ind]))
                     else "—"))
    doc.add(Table(rows=tuple(rows), caption=t("表 1 全区指标", "Table 1 zone indicators"),
                  numeric=(False, True, False, True, True)))
    if target_rank is not None and 1 <= int(target_rank) <= ranked.of:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PresetWarning)  # said in the note above
            gap = ranking.gap_to_rank(zone[cols], int(target_rank), peers=peers, preset=preset)
        tr = facts.add("target_rank", t("目标名次", "target rank"), int(target_rank))
        if gap.current.rank <= int(target_rank):
            doc.add(Para(t(f"全区已居第 {r_txt} 位，达到前 {tr} 名的目标。",
                           f"Rank {r_txt} is within the target {tr}."), facts=("rank", "target_rank")))
        else:
            ts = facts.add("target_score", t("目标名次的分值", "target score"), gap.target_score, decimals=2)
            ps = facts.add("plan_score", t("组合方案分值", "plan score"), gap.plan_score, decimals=2)
            doc.add(Para(t(f"进入前 {tr} 名需要分值达到 {ts}；最省力的组合方案可达 {ps} 分：",
                           f"Rank {tr} needs a score of {ts}; the least-effort plan reaches {ps}:"),
                         facts=("target_rank", "target_score", "plan_score")))
            for ind, rec in gap.plan[gap.plan["change"].abs() > 1e-9].iterrows():
                i = str(ind)
                unit = indicator_unit(i, lang)
                dec = decimals(i, float(rec["current"]))
                now = facts.add(f"plan_{i}_now", t(f"{INDICATORS[i].zh}现值", "now"), float(rec["current"]),
                                unit=unit, decimals=dec)
                new = facts.add(f"plan_{i}_new", t(f"{INDICATORS[i].zh}目标值", "needed"), float(rec["new"]),
                                unit=unit, decimals=dec)
                doc.add(Para(t(f"{INDICATORS[i].zh}由 {now} 变为 {new}。", f"{INDICATORS[i].en} from {now} to {new}."),
                             facts=(f"plan_{i}_now", f"plan_{i}_new"), style="bullet"))
    return summary


def _subparks(doc: Document, facts: Facts, blocks: pd.DataFrame, *, preset: Any, t: Any, lang: str) -> None:
    if "subpark" not in blocks.columns:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        sub = indicators.compute(blocks, by="subpark")
    cols = [c for c in INDICATORS if c in sub.columns]
    scores = evaluation.score(sub[cols], preset=preset)["score"].sort_values(ascending=False, kind="mergesort")
    shown = [c for c in ("far", "building_density_pct", "tax_10k_cny_per_ha", "population_per_ha") if c in cols]
    rows: list[tuple[str, ...]] = [(t("分园", "sub-park"), t("集约度分值", "score"),
                                    *[labels.header(c, lang) for c in shown], t("区块数", "blocks"))]
    for name, value in scores.items():
        rows.append((str(name), _fmt(float(value), lang, 2),
                     *[_fmt(float(sub.loc[name, c]), lang, decimals(c, float(sub[c].median()))) for c in shown],
                     str(int(sub.loc[name, "block_count"]))))
    best, worst = str(scores.index[0]), str(scores.index[-1])
    b_txt = facts.add("best_subpark_score", t(f"{best}分值", f"score of {best}"), float(scores.iloc[0]), decimals=2)
    w_txt = facts.add("worst_subpark_score", t(f"{worst}分值", f"score of {worst}"), float(scores.iloc[-1]), decimals=2)
    n_txt = facts.add("subparks", t("分园数", "sub-parks"), len(scores))
    doc.add(Heading(t("二、分园", "2. Sub-parks")),
            Para(t(f"{n_txt} 个分园中，{best}分值最高（{b_txt}），{worst}最低（{w_txt}）。各分园的诊断见第八部分。",
                   f"Of {n_txt} sub-parks {best} scores highest ({b_txt}) and {worst} lowest ({w_txt}); each has a "
                   "diagnosis (section 8)."), facts=("subparks", "best_subpark_score", "worst_subpark_score")),
            Table(rows=tuple(rows),
                  caption=t("表 2 各分园集约度分值与主要指标", "Table 2 sub-park scores and indicators"),
                  numeric=(False, *[True] * (len(shown) + 2))))


def _proposals(doc: Document, facts: Facts, comparison: pd.DataFrame, t: Any, lang: str) -> list[Para]:
    doc.add(Heading(t("四、方案比较", "4. Proposals compared")))
    rows: list[tuple[str, ...]] = [(t("方案", "proposal"), t("名称", "title"), t("状态", "status"),
                                    t("分值变化", "score change"), t("排名", "rank"), t("容积率变化", "FAR change"))]
    for rec in comparison.to_dict("records"):
        rows.append((str(rec.get("proposal_id", "")), str(rec.get("title", "")),
                     labels.term(str(rec.get("status", "")), lang),
                     _fmt(rec.get("score_change"), lang, 2), _fmt(rec.get("rank"), lang),
                     _fmt(rec.get("far_change"), lang, 3)))
    doc.add(Table(rows=tuple(rows), caption=t("表 3 调整方案与现状比较", "Table 3 proposals against the baseline"),
                  numeric=(False, False, False, True, True, True)))
    ok = comparison[comparison["score_change"].notna()] if "score_change" in comparison.columns else comparison[:0]
    if not len(ok):
        return []
    best = ok.sort_values("score_change", ascending=False, kind="mergesort").iloc[0]
    pid = str(best["proposal_id"])
    c_txt = facts.add("best_proposal_change", t(f"{pid}分值变化", f"score change of {pid}"),
                      float(best["score_change"]), decimals=2)
    n_txt = facts.add("proposals", t("方案数", "proposals"), len(comparison))
    para = Para(t(f"{n_txt} 个调整方案中，{pid}（{best['title']}）使分值变化最大，为 {c_txt} 分。",
                  f"Of {n_txt} proposals {pid} ({best['title']}) changes the score most: {c_txt} points."),
                facts=("proposals", "best_proposal_change"))
    doc.add(para)
    bad = comparison[comparison.get("n_violations", pd.Series(0, index=comparison.index)).fillna(0) > 0]
    for rec in bad.to_dict("records"):
        doc.add(Para(f"{rec['proposal_id']}：" + labels.sentence(str(rec.get("violations") or ""), lang),
                     style="bullet"))
    return [para]


def _optimisation(doc: Document, facts: Facts, result: Any, t: Any, lang: str) -> list[Para]:
    name = labels.column_name(str(result.objective), lang)
    unit = labels.unit(labels.unit_of(str(result.objective)), lang)
    b_txt = facts.add("opt_baseline", t("优化前目标值", "baseline"), float(result.baseline_value), unit=unit,
                      decimals=2)
    v_txt = facts.add("opt_value", t("优化后目标值", "optimised"), float(result.value), unit=unit, decimals=2)
    n = sum(len(ids) for ids in result.selection.values())
    n_txt = facts.add("opt_changes", t("优化方案调整的区块数", "blocks changed"), n)
    sense, status = labels.term(str(result.sense), lang), labels.term(str(result.status), lang)
    para = Para(t(f"优化（{sense}{name}，求解状态：{status}）"
                  f"调整 {n_txt} 处，{name}由 {b_txt} 提高到 {v_txt}。",
                  f"The optimiser ({result.sense} {name}, {result.status}) makes {n_txt} changes: {b_txt} → {v_txt}."),
                facts=("opt_changes", "opt_baseline", "opt_value"))
    rows: list[tuple[str, ...]] = [(t("类型", "kind"), t("区块", "blocks"))]
    for kind, ids in result.selection.items():
        if ids:
            rows.append((labels.term(str(kind), lang), "、".join(map(str, ids)) if lang != "en" else ", ".join(ids)))
    doc.add(Heading(t("五、优化结果", "5. Optimisation")), para,
            Para(t("优化结果写成方案文件（tables/optimisation_proposal.yaml），可阅读、修改并重新计算。",
                   "The answer is a proposal file (tables/optimisation_proposal.yaml) to read, edit and re-run."),
                 style="note"),
            Table(rows=tuple(rows), caption=t("表 4 优化方案选择的区块", "Table 4 blocks the optimiser chose")))
    return [para]


def _dynamic(doc: Document, facts: Facts, value: Any, t: Any, lang: str) -> list[Para]:
    zone = getattr(value, "zone", None)
    doc.add(Heading(t("六、动态调整模拟", "6. Dynamic-adjustment simulation")))
    if not isinstance(zone, pd.DataFrame) or not len(zone):
        doc.add(Para(t("动态调整结果见听证材料的动态调整表格。", "See the pack's dynamic-adjustment tables.")))
        return []
    table = zone.reset_index() if "year" not in zone.columns else zone
    cols = [c for c in ("year", "members", "score", "rank", "warnings", "exits", "admissions") if c in table.columns]
    rows: list[tuple[str, ...]] = [tuple(labels.header(c, lang) if c not in ("warnings", "exits", "admissions") else
                                         labels.term({"warnings": "warning", "exits": "exit",
                                                      "admissions": "admitted"}[c], lang) for c in cols)]
    for rec in table.to_dict("records"):
        star = t("（模拟）", " (sim.)") if bool(rec.get("simulated", False)) else ""
        rows.append(tuple(f"{int(rec[c])}{star}" if c == "year" else
                          _fmt(rec[c], lang, 2 if c == "score" else None) for c in cols))
    last = table.iloc[-1]
    y = facts.add("dyn_year", t("末年", "last year"), str(int(last["year"])))
    m = facts.add("dyn_members", t("末年政策区成员数", "members"), int(last["members"]))
    e = facts.add("dyn_exits", t("累计退出", "exits in all"), int(table["exits"].sum()) if "exits" in table else 0)
    para = Para(t(f"按示例规则，至 {y} 年政策区有 {m} 个成员区块，累计退出 {e} 个。",
                  f"Under the rules, by {y} the policy zones hold {m} blocks; {e} exited in all."),
                facts=("dyn_year", "dyn_members", "dyn_exits"))
    doc.add(para, Table(rows=tuple(rows), caption=t("表 5 政策区整体的逐年变化", "Table 5 the policy zones by year"),
                        numeric=tuple(c != "year" for c in cols)))
    return [para]


def _provenance(doc: Document, manifest: dict[str, Any], t: Any) -> None:
    rows: list[tuple[str, ...]] = [(t("输入文件", "input"), t("字节", "bytes"), "SHA-256")]
    rows += [(str(i["name"]), f"{int(i['bytes']):,}", str(i["sha256"])) for i in manifest.get("inputs", [])]
    doc.add(Heading(t("七、数据来源与可追溯性", "7. Data sources and provenance")),
            Para(t("本报告与听证材料由下列输入文件生成；manifest.json 记录每个文件及输入的 SHA-256 校验值、"
                   "软件及依赖版本、评价方案和全部参数，可据此复核与重算。",
                   "This report and the pack were made from the inputs below; manifest.json records every file's and "
                   "input's SHA-256, the software versions, the preset and every parameter."), style="note"),
            Table(rows=tuple(rows), caption=t("表 6 输入文件及其 SHA-256", "Table 6 inputs and their SHA-256"),
                  numeric=(False, True, False)))
    meta = [(t("区块表 SHA-256", "block table SHA-256"), str(manifest.get("blocks_sha256", ""))),
            (t("评价方案", "preset"), t(f"{labels.term(manifest['preset']['name'], 'zh')}（版本 "
                                        f"{manifest['preset']['version']}）",
                                        f"{manifest['preset']['name']} {manifest['preset']['version']}")),
            (t("软件", "software"), t(f"中关村空间分析库 {io.package_version()}", f"zgc_space {io.package_version()}"))]
    meta += [(k, v) for k, v in manifest.get("footer_items", [])]
    doc.add(Table(rows=((t("项目", "item"), t("内容", "value")), *meta)))


def word_report(
    blocks: pd.DataFrame,
    *,
    title: str,
    preset: Any,
    peers: Any,
    target_rank: int | None,
    figures: Sequence[tuple[str, Path]],
    comparison: pd.DataFrame | None,
    optimisation: Any,
    dynamic: Any,
    manifest: dict[str, Any],
    diagnoses: Sequence[str],
    lang: str = "zh",
    date: str | None = None,
) -> Document:
    """Return the Word report's content (see the module notes); ``figures`` are (caption, PNG path)."""
    def t(zh: str, en: str) -> str:
        return labels.pick(zh, en, lang)

    facts = Facts(lang)
    doc = Document(title=title, subtitle=t("报告", "Report"), lang=lang)
    doc.cover = [(t("数据", "Data"), t(f"{len(blocks)} 个区块", f"{len(blocks)} blocks")),
                 (t("评价方案", "Preset"), f"{labels.term(manifest['preset']['name'], lang)} "
                                          f"{manifest['preset']['version']}"),
                 (t("软件", "Software"), t(f"中关村空间分析库 {io.package_version()}",
                                          f"zgc_space {io.package_version()}"))]
    if date:
        doc.cover.append((t("日期", "Date"), date))
    body = Document(title=title, lang=lang)
    summary = _summary_and_rank(body, facts, blocks, preset=preset, peers=peers, target_rank=target_rank, t=t,
                                lang=lang)
    _subparks(body, facts, blocks, preset=preset, t=t, lang=lang)
    body.add(Heading(t("三、地图", "3. Maps")))
    for k, (caption, path) in enumerate(figures, 1):
        body.add(Figure(path=Path(path), caption=t(f"图 {k} {caption}", f"Figure {k} {caption}")))
    if not figures:
        body.add(Para(t("本次未输出印刷地图。", "No printed maps were made.")))
    if comparison is not None and len(comparison):
        summary += _proposals(body, facts, comparison, t, lang)
    if optimisation is not None:
        summary += _optimisation(body, facts, optimisation, t, lang)
    if dynamic is not None:
        summary += _dynamic(body, facts, dynamic, t, lang)
    _provenance(body, manifest, t)
    if diagnoses:
        body.add(Heading(t("八、一分园一诊断书", "8. One diagnosis per sub-park")),
                 Para(t("各分园诊断书（Word 与网页版，与本报告同在听证材料中）：",
                        "The diagnoses (Word and HTML) are in the diagnoses folder:")),
                 *[Para(name, style="bullet") for name in diagnoses])
    doc.add(Heading(t("摘要", "Summary")), *summary, PageBreak(), *body.blocks)
    return doc
