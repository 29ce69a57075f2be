"""The sections of the hearing pack: each writes its maps and tables and returns its HTML.

Private: :func:`zgc_space.report.hearing_pack` calls these. A section returns
``(heading, html, parameters)``; the parameters go into the manifest.
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import evaluation, indicators, io, labels, maps, optimize, ranking, scenarios
from zgc_space.errors import MapError, ProposalError, ValidationWarning
from zgc_space.maps import ClassBreaks, Footer, class_breaks, static
from zgc_space.maps import scenario as scenario_maps
from zgc_space.maps.scenario import CHANGE_STYLES, scenario_categories
from zgc_space.maps.static import category_map
from zgc_space.report._html import links, table_html
from zgc_space.report._layers import proposal_layer
from zgc_space.scenarios.proposal import Proposal, dump_proposal, read_proposal

__all__ = ["Context", "dynamic", "indicators_and_rank", "optimisation", "proposals"]

logger = logging.getLogger(__name__)

Section = tuple[str, str, dict[str, Any]]
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
#: Zone indicators shown first in the pack (the 产城融合型 set, then output per land and per person).
_HEADLINE = ("supply_rate_pct", "completion_rate_pct", "far", "building_density_pct", "tax_10k_cny_per_ha",
             "population_per_ha", "idle_rate_pct", "development_rate_pct", "revenue_10k_cny_per_ha",
             "employment_per_ha")
_COMPARE_COLUMNS = ("proposal_id", "title", "status", "score", "score_change", "rank", "rank_change", "far",
                    "far_change", "tax_10k_cny_per_ha", "tax_10k_cny_per_ha_change", "site_area_m2_change",
                    "block_count", "n_violations", "violations", "error")


@dataclass
class Context:
    """What every section needs: the pack folder, the inputs and the map options."""

    root: Path
    blocks: gpd.GeoDataFrame
    preset: Any
    peers: Any
    footer: Footer | None
    districts: gpd.GeoDataFrame | None
    png: bool
    dpi: int
    paper: str
    candidates: Any
    lang: str = "zh"
    pdf: bool = True
    far_breaks: ClassBreaks | None = None
    comparison: pd.DataFrame | None = None
    figures: list[tuple[str, str]] = field(default_factory=list)
    #: GIS layers beside the blocks in ``layers/results.gpkg``: (layer name, frame), e.g. each proposal's.
    layers: list[tuple[str, gpd.GeoDataFrame]] = field(default_factory=list)
    #: Rows of each XLSX table's 说明 sheet: the pack's inputs (names, SHA-256) and its software.
    notes: list[tuple[str, str]] = field(default_factory=list)
    _cands: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def candidate_frame(self) -> gpd.GeoDataFrame | None:
        """Return the candidate areas (read once)."""
        if self._cands is None and self.candidates is not None:
            self._cands = (self.candidates if isinstance(self.candidates, gpd.GeoDataFrame)
                           else gpd.read_file(self.candidates))
        return self._cands

    def t(self, zh: str, en: str) -> str:
        """Return a text of the pack in its language."""
        return labels.pick(zh, en, self.lang)

    def table(self, frame: pd.DataFrame, stem: str) -> list[tuple[str, str]]:
        """Write ``tables/<stem>.csv`` (canonical headers) and ``.xlsx`` (headers and terms in Chinese)."""
        folder = self.root / "tables"
        folder.mkdir(exist_ok=True)
        logger.info("tables/%s", stem)
        io.write_table(frame, folder / f"{stem}.csv")
        shown, units = labels.people_table(frame, "zh" if self.lang == "en" else self.lang)
        io.write_table(shown, folder / f"{stem}.xlsx", sheet=labels.SHEETS.get(stem, "数据"), units=units,
                       notes=[("表", f"{labels.SHEETS.get(stem, stem)}（tables/{stem}.xlsx；同名 .csv 为机器可读版）"),
                              *self.notes])
        return [(f"{stem}.csv", f"tables/{stem}.csv"), (f"{stem}.xlsx", f"tables/{stem}.xlsx")]

    def web(self, m: Any, rel: str, text: str) -> tuple[str, str]:
        """Save a web map under ``maps/``."""
        logger.info("%s", rel)
        maps.save_html(m, self.root / rel, footer=self.footer)
        return text, rel

    def printed(self, frame: gpd.GeoDataFrame, column: str, rel: str, text: str,
                **options: Any) -> list[tuple[str, str]]:
        """Print a choropleth as PNG (and PDF) under ``maps/`` (when PNGs are asked for)."""
        if not self.png:
            return []
        fmts = ("png", "pdf") if self.pdf else ("png",)
        logger.info("%s", rel)
        static.static_map(frame, column, path=self.root / rel, paper=self.paper, dpi=self.dpi, footer=self.footer,
                          districts=self.districts, formats=fmts, labels=self.lang, **options)
        self.figures.append((options.get("title") or text, rel))
        return self.printed_links(text, rel)

    def printed_links(self, text: str, rel: str) -> list[tuple[str, str]]:
        """Return the links of a printed map: the PNG and, when printed, its PDF."""
        out = [(text, rel)]
        if self.pdf:
            out.append((self.t(f"{text}（印刷版）", f"{text} (PDF)"), str(Path(rel).with_suffix(".pdf").as_posix())))
        return out


def _printed_changes(ctx: Context, result: Any, rel: str, title: str) -> list[tuple[str, str]]:
    """Print a proposal's changes (as on its web map) as a PNG."""
    if not ctx.png:
        return []
    frame, merged_away = scenario_categories(ctx.blocks, result)
    styles = {k: (ctx.t(zh, en), colour) for k, (zh, en, colour) in CHANGE_STYLES.items()}
    category_map(frame, frame["change"].tolist(), styles, path=ctx.root / rel, legend_title=ctx.t("调整类型", "change"),
                 title=title, footer=ctx.footer, paper=ctx.paper, dpi=ctx.dpi, dashed=("released",),
                 quiet=("unchanged",), outlines=merged_away, districts=ctx.districts, pdf=ctx.pdf, lang=ctx.lang,
                 focus=[k for k, c in enumerate(frame["change"]) if c != "unchanged"])
    ctx.figures.append((title, rel))
    return ctx.printed_links(ctx.t("调整（图）", "changes (PNG)"), rel)


def _with_indicators(frame: gpd.GeoDataFrame, ids: tuple[str, ...]) -> tuple[gpd.GeoDataFrame, list[str]]:
    usable = [i for i in ids if all(c in frame.columns for c in indicators.INDICATORS[i].columns)]
    if not usable:
        return frame, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        values = indicators.compute(frame, indicators=usable)
    return frame.assign(**{i: values[i].to_numpy(float) for i in usable}), usable


def _para(text: str) -> str:
    """Return an escaped paragraph."""
    return f"<p>{html.escape(text)}</p>"


def _far_options(ctx: Context) -> dict[str, Any]:
    if ctx.far_breaks is None:
        return {"scheme": "natural_breaks"}
    return {"scheme": "explicit", "bins": list(ctx.far_breaks.edges[1:-1])}


# ---------------------------------------------------------------------------------------------


def _margin(ranked: Any, ctx: Context) -> str:
    """Return the rank's margin in words when the ranking gives one (points to the next rank up and down)."""
    up, down = getattr(ranked, "points_to_next_up", None), getattr(ranked, "points_to_next_down", None)
    parts = []
    if up is not None and np.isfinite(float(up)):
        parts.append(ctx.t(f"距上一名差 {float(up):.2f} 分", f"{float(up):.2f} points below the next rank up"))
    if down is not None and np.isfinite(float(down)):
        parts.append(ctx.t(f"领先下一名 {float(down):.2f} 分", f"{float(down):.2f} points above the next rank down"))
    return ctx.t("，", ", ").join(parts)


def indicators_and_rank(ctx: Context, *, target_rank: int | None) -> Section:
    """Write the zone and sub-park indicators, the score and its contributions, the rank and the gap."""
    blocks = ctx.blocks
    zone = indicators.compute(blocks, by="zone")
    ind_cols = [c for c in indicators.INDICATORS if c in zone.columns]
    zone_score = evaluation.score(zone[ind_cols], preset=ctx.preset)
    contrib = evaluation.contributions(zone[ind_cols], preset=ctx.preset)
    ranked = ranking.rank(zone[ind_cols], peers=ctx.peers, preset=ctx.preset)
    card = pd.DataFrame({
        "zh": [indicators.INDICATORS[i].zh for i in ind_cols],
        "value": zone[ind_cols].iloc[0].to_numpy(float),
        "unit": [labels.unit(indicators.INDICATORS[i].unit, ctx.lang) for i in ind_cols],
        "s_now": [float(zone_score[f"s_{i}"].iloc[0]) if f"s_{i}" in zone_score else np.nan for i in ind_cols],
        "contribution": [float(contrib[i].iloc[0]) if i in contrib else np.nan for i in ind_cols],
    }, index=pd.Index(ind_cols, name="indicator"))
    order = [i for i in _HEADLINE if i in card.index] + [i for i in card.index if i not in _HEADLINE]
    card = card.loc[order]
    rank_table = pd.DataFrame([ranked.to_dict()]).set_axis([ctx.t("中关村示范区", "ZGC")], axis=0).rename_axis("zone")
    margin = _margin(ranked, ctx)
    html_parts = [_para(ctx.t(
        f"综合得分 {ranked.score:.2f}，在 {ranked.of} 个同类开发区中排名第 {ranked.rank}，"
        f"{ranked.peers_above} 个开发区得分更高" + (f"；{margin}" if margin else "") + "。",
        f"Score {ranked.score:.2f} ({ranked.preset}); rank {ranked.rank} of {ranked.of}; {ranked.peers_above} zones "
        "score higher" + (f"; {margin}" if margin else "") + ".")),
        f"<h3>{ctx.t('全区指标', 'Zone indicators')}</h3>",
        table_html(card, columns=["zh", "value", "unit", "s_now", "contribution"] if ctx.lang != "en"
                   else ["value", "unit", "s_now", "contribution"], lang=ctx.lang)]
    link_items = [*ctx.table(card, "zone_indicators"), *ctx.table(rank_table, "rank")]

    if "subpark" in blocks.columns:
        sub = indicators.compute(blocks, by="subpark")
        sub_cols = [c for c in indicators.INDICATORS if c in sub.columns]
        sub_score = evaluation.score(sub[sub_cols], preset=ctx.preset)
        sub_table = pd.concat([sub_score[["score"]], sub[sub_cols], sub[["block_count"]]], axis=1)
        sub_table = sub_table.sort_values("score", ascending=False, kind="mergesort")
        shown = ["score", *[c for c in _HEADLINE[:7] if c in sub_table.columns], "block_count"]
        html_parts += [f"<h3>{ctx.t('分园', 'Sub-parks')}</h3>", table_html(sub_table, columns=shown, lang=ctx.lang)]
        link_items += ctx.table(sub_table, "subpark_indicators")
    else:
        sub_table = None

    if target_rank is not None:
        gap = ranking.gap_to_rank(zone[ind_cols], target_rank, peers=ctx.peers, preset=ctx.preset)
        n = int(target_rank)
        html_parts += [
            f"<h3>{ctx.t(f'进入前 {n} 名需要什么', f'What reaching rank {n} takes')}</h3>",
            _para(ctx.t(f"目标分值 {gap.target_score:.2f}；组合方案分值 {gap.plan_score:.2f}，排名第 {gap.plan_rank}"
                        f"（各指标变化合计 {gap.plan_cost_pct:.1f}%）。",
                        f"Target score {gap.target_score:.2f}; combined plan: score {gap.plan_score:.2f}, rank "
                        f"{gap.plan_rank} (total change {gap.plan_cost_pct:.1f} %).")),
            table_html(gap.single, columns=["zh", "current", "required", "change_pct", "reachable"], lang=ctx.lang),
            table_html(gap.plan[gap.plan["change"].abs() > 0], columns=["zh", "current", "new", "change_pct",
                                                                         "points"], lang=ctx.lang),
        ]
        link_items += [*ctx.table(gap.single, "gap_to_rank_single"), *ctx.table(gap.plan, "gap_to_rank_plan")]

    mapped, usable = _with_indicators(blocks, ("far", "tax_10k_cny_per_ha"))
    map_links: list[tuple[str, str]] = []
    lang = ctx.lang
    if "far" in usable:
        ctx.far_breaks = class_breaks(mapped["far"], scheme="natural_breaks")
        title = ctx.t("综合容积率", "Comprehensive FAR")
        map_links.append(ctx.web(maps.choropleth(mapped, "far", breaks=ctx.far_breaks, districts=ctx.districts,
                                                 title=title, labels=lang), "maps/far.html", "far.html"))
        map_links += ctx.printed(mapped, "far", "maps/far.png", "far.png", title=title, **_far_options(ctx))
    if "tax_10k_cny_per_ha" in usable:
        title = ctx.t("综合地均税收", "Tax per hectare")
        map_links.append(ctx.web(maps.choropleth(mapped, "tax_10k_cny_per_ha", districts=ctx.districts,
                                                 title=title, labels=lang), "maps/tax_per_ha.html", "tax_per_ha.html"))
        map_links += ctx.printed(mapped, "tax_10k_cny_per_ha", "maps/tax_per_ha.png", "tax_per_ha.png", title=title)
    if sub_table is not None and sub_table["score"].notna().any():
        scored = blocks.assign(subpark_score=blocks["subpark"].map(sub_table["score"]).astype(float))
        title = ctx.t("分园集约度分值", "Sub-park score")
        opts: dict[str, Any] = {"label_zh": "分园集约度分值", "label_en": "sub-park score", "unit": ""}
        map_links.append(ctx.web(maps.choropleth(scored, "subpark_score", districts=ctx.districts, title=title,
                                                 labels=lang, **opts), "maps/subpark_score.html",
                                 "subpark_score.html"))
        map_links += ctx.printed(scored, "subpark_score", "maps/subpark_score.png", "subpark_score.png",
                                 title=title, **opts)
    html_parts = [f"<h3>{ctx.t('地图', 'Maps')}</h3>", links(map_links), *html_parts,
                  f"<h3>{ctx.t('表格', 'Tables')}</h3>", links(link_items)]
    params = {"rank": ranked.rank, "rank_of": ranked.of, "score": ranked.score}
    return ctx.t("指标与排名", "Indicators and national rank"), "\n".join(html_parts), params


def _load(item: Any) -> Proposal | ProposalError:
    if isinstance(item, Proposal):
        return item
    try:
        return read_proposal(item)
    except ProposalError as exc:
        return exc


def _violations_html(ctx: Context, comparison: pd.DataFrame, pid: str) -> str:
    """Return a proposal's violations as a warning list (empty when it keeps every constraint)."""
    row = comparison[comparison["proposal_id"] == pid] if "proposal_id" in comparison.columns else comparison[:0]
    if not len(row) or "violations" not in row.columns or not isinstance(row["violations"].iloc[0], str) \
            or not row["violations"].iloc[0]:
        return ""
    items = "".join(f"<li>{html.escape(labels.sentence(v, ctx.lang))}</li>"
                    for v in str(row["violations"].iloc[0]).split("; ") if v)
    return f'<div class="violations"><strong>{html.escape(labels.term("violation_box", ctx.lang))}</strong>' \
           f"<ul>{items}</ul></div>"


def proposals(ctx: Context, items: list[Any], comparison: pd.DataFrame | None) -> Section:
    """Compare the proposals: a table, and per proposal a change map, a before/after map, its changes."""
    loaded = [_load(i) for i in items]
    if comparison is None:
        comparison = scenarios.compare(ctx.blocks, loaded, candidates=ctx.candidate_frame(), preset=ctx.preset,
                                       peers=ctx.peers, errors="report")
    if "source" in comparison.columns:  # file names only: the pack must not depend on where the files lie
        names = [None if pd.isna(v) else Path(str(v)).name for v in comparison["source"]]
        comparison = comparison.assign(source=pd.array(names, dtype="string"))
    ctx.comparison = comparison
    parts = [table_html(comparison, columns=[c for c in _COMPARE_COLUMNS if c in comparison.columns], index=False,
                        lang=ctx.lang),
             links(ctx.table(comparison, "proposals_comparison"))]
    changes = []
    lang = ctx.lang
    for k, prop in enumerate(loaded, 1):
        if isinstance(prop, ProposalError):
            parts.append(_para(ctx.t(f"方案 {k} 无法读取：{prop}", f"proposal {k} cannot be read: {prop}")))
            continue
        slug = f"{k:02d}_{_SLUG.sub('_', prop.id).strip('_') or 'proposal'}"
        heading = f"<h3>{html.escape(prop.id)}：{html.escape(prop.title)}</h3>"
        try:
            result = scenarios.apply(ctx.blocks, prop, candidates=ctx.candidate_frame())
        except ProposalError as exc:
            parts.append(heading + _para(ctx.t(f"无法计算：{exc}", f"error: {exc}")))
            continue
        changes.append(result.changes.assign(proposal_id=prop.id))
        ctx.layers.append((f"proposal_{slug}", proposal_layer(ctx.blocks, result, ctx.lang)))
        name = f"{prop.id}：{prop.title}"
        violations = _violations_html(ctx, comparison, prop.id)
        map_links = [ctx.web(scenario_maps.scenario_map(ctx.blocks, result, districts=ctx.districts, labels=lang,
                                                        title=name, violations=violations or None),
                             f"maps/proposals/{slug}.html", ctx.t("调整（网页地图）", "changes")),
                     *_printed_changes(ctx, result, f"maps/proposals/{slug}.png", name)]
        after, usable = _with_indicators(result.blocks, ("far",))
        base, _ = _with_indicators(ctx.blocks, ("far",))
        if "far" in usable:
            titles = (f"{prop.id} {ctx.t('调整前', 'before')}", f"{prop.id} {ctx.t('调整后', 'after')}")
            map_links.append(ctx.web(scenario_maps.compare_map(base, after, "far", districts=ctx.districts,
                                                               scheme="natural_breaks", titles=titles, labels=lang,
                                                               page_title=ctx.t(f"{name}（综合容积率 调整前后）",
                                                                                f"{name} (FAR before/after)")),
                                     f"maps/proposals/{slug}_far_compare.html",
                                     ctx.t("综合容积率 调整前后对比", "FAR before/after")))
            map_links += ctx.printed(after, "far", f"maps/proposals/{slug}_far.png",
                                     ctx.t("调整后综合容积率（图）", "FAR after (PNG)"),
                                     title=ctx.t(f"{prop.id} 调整后综合容积率", f"{prop.id} FAR after"),
                                     **_far_options(ctx))
        parts.append(heading + violations + links(map_links))
        if len(result.changes):
            parts.append(table_html(result.changes, columns=["block_id", "change", "operation", "detail"],
                                    index=False, max_rows=20, lang=lang))
    if len(loaded) >= 2 and len(changes) >= 2:
        parts.append(links([_compare_all(ctx, loaded)]))
    if changes:
        table = pd.concat(changes, ignore_index=True)
        table = table[["proposal_id", *[c for c in table.columns if c != "proposal_id"]]]
        parts.append(links(ctx.table(table, "proposals_changes")))
    params = {"proposals": [p.id if isinstance(p, Proposal) else str(p) for p in loaded]}
    return ctx.t("方案比较", "Proposals compared"), "\n".join(parts), params


def _compare_all(ctx: Context, loaded: list[Proposal | ProposalError]) -> tuple[str, str]:
    """Write one page with the FAR of the baseline and up to five proposals side by side."""
    frames, titles = [], []
    base, _ = _with_indicators(ctx.blocks, ("far",))
    frames.append(base)
    titles.append(ctx.t("现状", "baseline"))
    for prop in loaded:
        if isinstance(prop, ProposalError) or len(frames) == 6:
            continue
        try:
            result = scenarios.apply(ctx.blocks, prop, candidates=ctx.candidate_frame())
        except ProposalError:
            continue
        frames.append(_with_indicators(result.blocks, ("far",))[0])
        titles.append(prop.id)
    m = scenario_maps.compare_map(*frames, column="far", titles=tuple(titles), scheme="natural_breaks",
                                  labels=ctx.lang, districts=ctx.districts,
                                  page_title=ctx.t("各方案综合容积率对比", "FAR of every proposal"))
    return ctx.web(m, "maps/proposals/compare_all_far.html",
                   ctx.t("各方案综合容积率并列对比", "all proposals side by side"))


def optimisation(ctx: Context, result: Any) -> Section:
    """Write the optimiser's answer: objective reached, what it chose, the map and the proposal file."""
    for attr in ("proposal", "objective", "evaluation", "selection"):
        if not hasattr(result, attr):
            raise MapError(f"optimisation must be a zgc_space.optimize.SearchResult; it has no .{attr}")
    summary = pd.DataFrame({"value": [result.objective, result.sense, result.baseline_value, result.value,
                                      result.status, result.gap, result.method]},
                           index=pd.Index(["objective", "sense", "baseline", "optimised", "status", "gap",
                                           "method"], name="key"))
    shown_summary = optimize.summary_table(result, lang=ctx.lang)
    selection = pd.DataFrame([(kind, bid) for kind, ids in result.selection.items() for bid in ids],
                             columns=["kind", "block_id"])
    folder = ctx.root / "tables"
    folder.mkdir(exist_ok=True)
    (folder / "optimisation_proposal.yaml").write_text(dump_proposal(result.proposal), encoding="utf-8")
    link_items = [*ctx.table(summary, "optimisation_summary"), *ctx.table(result.evaluation, "optimisation_evaluation"),
                  *ctx.table(selection, "optimisation_selection"),
                  ("optimisation_proposal.yaml", "tables/optimisation_proposal.yaml")]
    cands = ctx.candidate_frame()
    map_links = [ctx.web(scenario_maps.optimisation_map(ctx.blocks, result, candidates=cands, districts=ctx.districts,
                                                        labels=ctx.lang),
                         "maps/optimisation.html", ctx.t("优化方案（网页地图）", "optimised adjustment"))]
    applied = scenarios.apply(ctx.blocks, result.proposal, candidates=cands)
    ctx.layers.append(("optimisation", proposal_layer(ctx.blocks, applied, ctx.lang)))
    map_links += _printed_changes(ctx, applied, "maps/optimisation.png", ctx.t("优化方案", "Optimised adjustment"))
    after, usable = _with_indicators(applied.blocks, ("far",))
    if "far" in usable:
        map_links += ctx.printed(after, "far", "maps/optimisation_far.png",
                                 ctx.t("优化后综合容积率（图）", "FAR after (PNG)"),
                                 title=ctx.t("优化后综合容积率", "FAR after optimisation"), **_far_options(ctx))
    ev = result.evaluation
    shown = [c for c in ("score", "rank", "far", "building_density_pct", "tax_10k_cny_per_ha", "site_area_m2")
             if c in ev.columns]
    parts = [_para(ctx.t("优化结果写成方案文件（optimisation_proposal.yaml），可阅读、修改并重新计算。",
                         "The answer is written as a proposal file a planner can read, edit and re-run "
                         "(optimisation_proposal.yaml).")),
             table_html(shown_summary, lang=ctx.lang), table_html(ev, columns=shown, lang=ctx.lang),
             table_html(selection, index=False, lang=ctx.lang), links(map_links), links(link_items)]
    params = {"optimisation": {"objective": result.objective, "sense": result.sense, "status": result.status,
                               "value": result.value, "baseline_value": result.baseline_value,
                               "method": result.method, "proposal_id": result.proposal.id,
                               **_search_settings(result)}}
    return ctx.t("优化结果", "Optimisation"), "\n".join(parts), params


def _search_settings(result: Any) -> dict[str, Any]:
    """Return the constraints and renewal a search ran under (to re-run it from the manifest).

    A :class:`~zgc_space.optimize.SearchResult` knows them; for another result object the
    proposal's constraints and renewals are what is known.
    """
    settings = getattr(result, "settings", None)
    if callable(settings):
        known = settings()
        return {"constraints": known["constraints"], "renewal": known["renewal"]}
    prop = result.proposal
    return {"constraints": prop.constraints.model_dump(mode="json"),
            "renewal": [r.model_dump(mode="json", exclude={"blocks", "reason"}) for r in prop.renew] or None}


def _statuses(value: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """Return (statuses, zone table or None, unit column) of a status table or a simulation."""
    if isinstance(value, pd.DataFrame):
        return value, None, "block_id"
    statuses = next((getattr(value, a) for a in ("status", "statuses")
                     if isinstance(getattr(value, a, None), pd.DataFrame)), None)
    if statuses is None:
        raise MapError("dynamic must be a table (block_id, year, status) or a zgc_space.dynamic.Simulation, "
                       f"got {type(value).__name__}")
    zone = getattr(value, "zone", None)
    unit = getattr(getattr(value, "rules", None), "unit", "block_id")
    return statuses, zone if isinstance(zone, pd.DataFrame) else None, str(unit)


def dynamic(ctx: Context, value: Any) -> Section:
    """Write the dynamic-adjustment simulation: statuses per year, counts, the zone's course, the map."""
    statuses, zone, unit = _statuses(value)
    plain = pd.DataFrame(statuses.drop(columns=[statuses.geometry.name]) if isinstance(
        statuses, gpd.GeoDataFrame) else statuses)
    counts = pd.DataFrame()
    if {"year", "status"} <= set(plain.columns):
        counts = plain.groupby(["year", "status"]).size().unstack(fill_value=0)
        counts.columns = pd.Index([str(c) for c in counts.columns])
    link_items = [*ctx.table(plain, "dynamic_statuses")]
    if len(counts):
        link_items += ctx.table(counts, "dynamic_counts")
    parts = []
    if zone is not None:
        link_items += ctx.table(zone, "dynamic_zone")
        shown = [c for c in ("members", "score", "rank", "far", "tax_10k_cny_per_ha", "members_static",
                             "score_static", "rank_static", "simulated") if c in zone.columns]
        parts += [_para(ctx.t("政策区整体：实行动态调整机制，与保持首年成员不变（保持首年成员）两种情形对比。",
                              "The policy zones as one zone, with the mechanism and with the first year's members "
                              "kept (first year's members).")),
                  table_html(zone.set_index("year") if "year" in zone.columns else zone,
                             columns=[c for c in shown if c != "year"], lang=ctx.lang)]
    title = ctx.t("动态调整", "Dynamic adjustment")
    geo = None if isinstance(statuses, gpd.GeoDataFrame) else ctx.blocks
    m = scenario_maps.dynamic_map(statuses, geo, unit=unit, districts=ctx.districts, title=title, labels=ctx.lang)
    map_links = [ctx.web(m, "maps/dynamic.html", ctx.t("动态调整（网页地图）", "dynamic adjustment"))]
    if ctx.png and geo is not None and unit == "block_id" and "year" in plain.columns:
        last = plain[plain["year"] == plain["year"].max()]
        kept = geo[~geo["block_id"].duplicated(keep="last").to_numpy()]
        shapes = kept.set_index(kept["block_id"].astype(str))
        known = last[last["block_id"].astype(str).isin(shapes.index)]
        frame = gpd.GeoDataFrame({"status": known["status"].astype(str).to_numpy()},
                                 geometry=shapes.loc[known["block_id"].astype(str)].geometry.to_numpy(),
                                 crs=geo.crs)
        styles = {k: (ctx.t(zh, en), colour) for k, (zh, en, colour) in scenario_maps.STATUS_STYLES.items()}
        styles |= {v: (v, "#bdbdbd") for v in sorted(set(frame["status"]) - set(styles))}
        year = int(plain["year"].max())
        category_map(frame, frame["status"].tolist(), styles, path=ctx.root / "maps" / "dynamic.png",
                     legend_title=labels.term("dynamic_status", ctx.lang), title=f"{title} {year}",
                     footer=ctx.footer, paper=ctx.paper, dpi=ctx.dpi, quiet=("normal", "outside"),
                     districts=ctx.districts, pdf=ctx.pdf, lang=ctx.lang)
        ctx.figures.append((f"{title} {year}", "maps/dynamic.png"))
        map_links += ctx.printed_links(ctx.t(f"{year}年（图）", f"{year} (PNG)"), "maps/dynamic.png")
    shown_counts = counts.rename(columns=lambda c: labels.term(str(c), ctx.lang)) if len(counts) else counts
    parts = [table_html(shown_counts, lang=ctx.lang) if len(counts) else "", *parts, links(map_links),
             links(link_items)]
    years = sorted(int(y) for y in pd.unique(plain["year"])) if "year" in plain.columns else []
    params: dict[str, Any] = {"dynamic_years": years}
    for name in ("rules", "assumptions"):  # a Simulation's settings, to re-run it from the manifest
        dump = getattr(getattr(value, name, None), "model_dump", None)
        if callable(dump):
            params[f"dynamic_{name}"] = dump(mode="json")
    return ctx.t("动态调整模拟", "Dynamic-adjustment simulation"), "\n".join(parts), params
