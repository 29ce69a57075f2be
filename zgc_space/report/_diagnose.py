"""一分园一诊断书: one diagnosis per sub-park, every sentence written from a figure of its fact table.

Private: users call :func:`zgc_space.report.diagnose` and :func:`zgc_space.report.write_diagnoses`.
A :class:`~zgc_space.report._facts.Facts` table collects each figure once (key, name, value, the text printed, unit); a
sentence is formatted from the printed texts it names, so each number in a sentence is one of
its facts (the tests check this), and the fact table closes the document.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import capacity, evaluation, indicators, io, labels, ranking
from zgc_space.errors import ColumnError, ParameterError, PresetWarning, ValidationWarning
from zgc_space.indicators import INDICATORS
from zgc_space.maps import static
from zgc_space.report._diagnose_parts import gap_section, land_section, map_layer, rank_bands, worst_section
from zgc_space.report._document import Document, Figure, Heading, PageBreak, Para, Table
from zgc_space.report._document import to_html as _to_html
from zgc_space.report._docx import DocxFonts, render_docx, xml_text
from zgc_space.report._facts import Facts, decimals, indicator_unit, interval_facts, margin_facts
from zgc_space.report._history import history_section, statuses_of

__all__ = ["Diagnosis", "diagnose", "diagnose_many"]

#: The indicators a diagnosis compares (the 产城融合型 set, then output per land and per person).
HEADLINE = ("supply_rate_pct", "completion_rate_pct", "far", "building_density_pct", "tax_10k_cny_per_ha",
            "population_per_ha", "idle_rate_pct", "revenue_10k_cny_per_ha", "employment_per_ha")


#: Resolution of a diagnosis's map (an A4 figure in the document; the pack prints its own maps at 300 dpi).
MAP_DPI = 110


@dataclass(frozen=True)
class Diagnosis:
    """One sub-park's diagnosis: the document (Word and HTML from one content) and its fact table.

    ``map_layer`` holds the zone's blocks with a ``category`` (``worst``: the sub-park's least
    intensive blocks, ``own``: its other blocks, ``other``: the other sub-parks) for the map
    :meth:`write` draws into the document after ``figure_after`` blocks (None: no map).
    """

    subpark: str
    document: Document
    facts: pd.DataFrame
    map_layer: gpd.GeoDataFrame | None = None
    figure_after: int | None = None
    worst_blocks: tuple[str, ...] = ()

    def sentences(self) -> list[Para]:
        """Return the sentences that state figures, each with the keys of its facts."""
        return self.document.sentences()

    def to_html(self) -> str:
        """Return the diagnosis as one HTML page (no network needed)."""
        return _to_html(self.document)

    def write(self, folder: str | os.PathLike[str], *, stem: str | None = None,
              template: str | os.PathLike[str] | None = None,
              fonts: DocxFonts | None = None, map: bool = True) -> tuple[Path, Path]:
        """Write ``<folder>/<stem>.docx`` and ``.html`` (atomically; stem default: the sub-park); return both.

        With ``map`` (default) both show the sub-park's map: its blocks, the least intensive ones
        in red and labelled, the view fitted to the sub-park with an overview of the zone.
        """
        out = Path(folder)
        name = stem or self.subpark
        with tempfile.TemporaryDirectory(prefix="zgc-diagnosis-") as tmp:
            document = self.with_map(Path(tmp) / "map.png") if map else self.document
            docx_path = render_docx(document, out / f"{name}.docx", template=Path(template) if template else None,
                                    fonts=fonts)
            html_path = io.write_atomic(out / f"{name}.html", _to_html(document).encode("utf-8"))
        return docx_path, html_path

    def with_map(self, png: Path) -> Document:
        """Draw the sub-park's map into ``png`` and return the document with it as a figure."""
        if self.map_layer is None or self.figure_after is None:
            return self.document
        lang = self.document.lang

        def t(zh: str, en: str) -> str:
            return labels.pick(zh, en, lang)

        n = len(self.worst_blocks)
        name = xml_text(self.subpark)  # a name from the data: no control character on the map
        styles = {"worst": (t("集约度最低的区块", "least intensive blocks"), "#d7301f"),
                  "own": (t(f"{name}其他区块", f"other blocks of {name}"), "#fdbb84"),
                  "other": (t("其他分园区块", "blocks of other sub-parks"), "#eeeeee")}
        layer = self.map_layer
        focus = np.flatnonzero(layer["category"].to_numpy() != "other").tolist()
        static.category_map(layer, layer["category"].tolist(), styles, path=png, legend_title=name,
                            title=t(f"{name}区块分布", f"{name}: blocks"), quiet=["other"],
                            focus=focus, dpi=MAP_DPI, lang=lang)
        figure = Figure(path=png, caption=t(f"图 1 {name}区块分布（红色为集约度最低的 {n} 个区块）",
                                            f"Figure 1 {name}: blocks (red: the {n} least intensive)"))
        blocks = list(self.document.blocks)
        blocks.insert(self.figure_after, figure)
        return dataclasses.replace(self.document, blocks=blocks, cover=list(self.document.cover))


def _peers_frame(peers: Any) -> pd.DataFrame:
    if peers is None:
        return ranking.sample_peers()
    if isinstance(peers, pd.DataFrame):
        return peers
    return ranking.load_peers(peers)


def _block_scores(blocks: pd.DataFrame, preset: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        per = indicators.compute(blocks, by="block_id")
    cols = [c for c in INDICATORS if c in per.columns]
    scored = evaluation.score(per[cols], preset=preset)
    out = per[cols].assign(score=scored["score"])
    out.index = out.index.astype(str)
    if "name" in blocks.columns:
        out["name"] = blocks.set_index(blocks["block_id"].astype(str))["name"].reindex(out.index).astype(str)
    return out


def diagnose(
    blocks: pd.DataFrame,
    *,
    subpark: str,
    preset: evaluation.PresetLike = "cic_default",
    peers: pd.DataFrame | str | Path | None = None,
    dynamic: Any = None,
    target_rank: int | None = 30,
    worst: int = 5,
    lang: str = "zh",
    date: str | None = None,
) -> Diagnosis:
    """Diagnose one sub-park (一分园一诊断书) in plain sentences generated from its figures.

    Parameters
    ----------
    blocks
        The block table of the whole zone (the sub-park is compared with the zone).
    subpark
        The sub-park's name, as in the ``subpark`` column (e.g. ``"海淀园"``).
    preset, peers
        Evaluation preset and the national peer zones (default: the shipped synthetic peers).
    dynamic
        A dynamic-adjustment simulation (:func:`zgc_space.dynamic.simulate`) or status table
        (``block_id``, ``year``, ``status``): the sub-park's history is told from it.
    target_rank
        The national rank to reach ("what reaching it would take"); ``None`` leaves it out.
    worst
        How many of the least intensive blocks to list.
    lang
        ``"zh"`` (default), ``"zh+en"`` or ``"en"``.
    date
        A date for the cover (never taken from the clock).

    Returns
    -------
    Diagnosis
        Its ``document`` renders to Word and HTML (:meth:`Diagnosis.write`); ``facts`` lists
        every figure its sentences state.

    Raises
    ------
    ColumnError
        The table has no ``subpark`` column, or ``subpark`` names none of its sub-parks.

    Examples
    --------
    >>> from zgc_space import datasets
    >>> d = diagnose(datasets.load_blocks(), subpark="海淀园")
    >>> d.document.title, len(d.sentences()) > 10
    ('海淀园 诊断书', True)
    """
    return next(diagnose_many(blocks, [subpark], preset=preset, peers=peers, dynamic=dynamic,
                              target_rank=target_rank, worst=worst, lang=lang, date=date))


@dataclass(frozen=True)
class _Zone:
    """What every sub-park's diagnosis compares with, computed once for all of them."""

    blocks: pd.DataFrame
    preset: evaluation.Preset
    peer_table: pd.DataFrame
    scored_peers: pd.DataFrame
    sub: pd.DataFrame
    zone: pd.DataFrame
    sub_scores: pd.DataFrame
    block_scores: pd.DataFrame
    capacity: pd.DataFrame
    bands: pd.DataFrame  # per sub-park: best and worst national rank at ±1 % on the uncertain inputs


def _zone(blocks: pd.DataFrame, preset: evaluation.PresetLike, peers: Any) -> _Zone:
    preset_obj = evaluation.load_preset(preset)
    peer_table = _peers_frame(peers)
    # the peers' scores once (rank, margins and the gap compare with these, as ranking.rank would)
    scored_peers = pd.DataFrame({"score": ranking.peer_scores(peer_table, preset=preset_obj).to_numpy(float)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        sub = indicators.compute(blocks, by="subpark")
        zone = indicators.compute(blocks, by="zone")
        cap = capacity.compute(blocks, by="subpark")
    cols = [c for c in INDICATORS if c in sub.columns]
    return _Zone(blocks=blocks, preset=preset_obj, peer_table=peer_table, scored_peers=scored_peers, sub=sub,
                 zone=zone, sub_scores=evaluation.score(sub[cols], preset=preset_obj),
                 block_scores=_block_scores(blocks, preset_obj), capacity=cap,
                 bands=rank_bands(blocks, preset_obj, scored_peers["score"].to_numpy(float)))


def diagnose_many(blocks: pd.DataFrame, subparks: list[str], *, preset: evaluation.PresetLike = "cic_default",
                  peers: Any = None, dynamic: Any = None, target_rank: int | None = 30, worst: int = 5,
                  lang: str = "zh", date: str | None = None) -> Iterator[Diagnosis]:
    """Yield the diagnoses of ``subparks``, computing what they share (zone, peers, block scores) once."""
    lang = labels.check_lang(lang)
    if "subpark" not in blocks.columns:
        raise ColumnError("diagnose needs a `subpark` column in the block table; add it or rename the sub-park "
                          "column (分园) to subpark")
    names = sorted(str(s) for s in pd.unique(blocks["subpark"].dropna()))
    unknown = [s for s in subparks if s not in names]
    if unknown:
        raise ColumnError(f"sub-park(s) {', '.join(map(repr, unknown))} not in the block table; it has "
                          f"{', '.join(names)}")
    if int(worst) < 1:
        raise ParameterError(f"worst must be at least 1, got {worst}")
    shared = _zone(blocks, preset, peers)
    statuses = statuses_of(dynamic)
    for name in subparks:
        yield _diagnose(shared, name, names, statuses=statuses, target_rank=target_rank, worst=int(worst), lang=lang,
                        date=date)


def _diagnose(z: _Zone, subpark: str, names: list[str], *, statuses: pd.DataFrame | None, target_rank: int | None,
              worst: int, lang: str, date: str | None) -> Diagnosis:
    blocks, preset_obj, scored_peers, peer_table = z.blocks, z.preset, z.scored_peers, z.peer_table

    def t(zh: str, en: str) -> str:
        return labels.pick(zh, en, lang)

    facts = Facts(lang)
    doc = Document(title=t(f"{subpark} 诊断书", f"{subpark}: diagnosis"),
                   subtitle=t("中关村国家自主创新示范区 一分园一诊断书", "Zhongguancun: one diagnosis per sub-park"),
                   lang=lang)
    own = blocks[blocks["subpark"].astype(str) == subpark]
    doc.cover = [(t("分园", "Sub-park"), subpark), (t("区块数", "Blocks"), str(len(own))),
                 (t("评价方案", "Preset"), labels.term(preset_obj.name, lang)),
                 (t("软件", "Software"), t(f"中关村空间分析库 {io.package_version()}",
                                          f"zgc_space {io.package_version()}"))]
    if date:
        doc.cover.append((t("日期", "Date"), date))
    sub, zone, sub_scores = z.sub, z.zone, z.sub_scores
    cols = [c for c in INDICATORS if c in sub.columns]
    contrib = evaluation.contributions(sub.loc[[subpark], cols], preset=preset_obj).iloc[0]
    row = sub.loc[[subpark], cols]
    score = float(sub_scores.loc[subpark, "score"])
    order = sub_scores["score"].rank(ascending=False, method="min")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PresetWarning)
        ranked = ranking.rank(row, peers=scored_peers, preset=preset_obj)
    type_note = bool(caught)

    # 一、总体判断
    s_txt = facts.add("score", t("集约度分值", "score"), score, decimals=2)
    k_txt = facts.add("subpark_rank", t("在各分园中的名次", "rank among sub-parks"), int(order[subpark]))
    n_txt = facts.add("subparks", t("分园数", "sub-parks"), len(names))
    z_score = float(evaluation.score(zone[cols], preset=preset_obj)["score"].iloc[0])
    z_txt = facts.add("zone_score", t("全区集约度分值", "zone score"), z_score, decimals=2)
    r_txt = facts.add("national_rank", t("全国同类开发区中的名次（按本园指标）", "national rank (its indicators)"),
                      int(ranked.rank))
    of_txt = facts.add("national_of", t("参评开发区数", "zones ranked"), int(ranked.of))
    margin, margin_keys = margin_facts(ranked, facts, "national_", t, peers=scored_peers, preset=preset_obj)
    band = z.bands.loc[subpark]
    if np.isfinite(band.to_numpy(float)).all():
        interval, interval_keys = interval_facts(int(band["best"]), int(band["worst"]), int(ranked.rank), facts,
                                                 "national_", t)
        if interval:
            margin += (t("；", "; ") if margin else "") + interval
            margin_keys += interval_keys
    doc.add(Heading(t("一、总体判断", "1. Summary")),
            Para(t(f"{subpark}土地利用集约度分值为 {s_txt}，在 {n_txt} 个分园中居第 {k_txt} 位；全区分值为 {z_txt}。",
                   f"{subpark} scores {s_txt}, rank {k_txt} of {n_txt} sub-parks; the zone scores {z_txt}."),
                 facts=("score", "subpark_rank", "subparks", "zone_score")),
            Para(t(f"若以本园指标参加全国同类开发区排名，居 {of_txt} 个开发区中第 {r_txt} 位"
                   + (f"，{margin}" if margin else "") + "。",
                   f"Ranked among the national peers with its own indicators it would be {r_txt} of {of_txt}"
                   + (f" ({margin})" if margin else "") + "."),
                 facts=("national_rank", "national_of", *margin_keys)))
    if type_note:
        doc.add(Para(t("注：本园用地结构不属于评价方案的开发区类型，排名仅作参考。",
                       "Note: the sub-park's land structure is not of the preset's zone type; the rank is indicative."),
                     style="note"))

    # 二、指标对比
    shown = [i for i in HEADLINE if i in cols]
    rows: list[tuple[str, ...]] = [(t("指标", "indicator"), t("本园", "sub-park"), t("全区", "zone"),
                                    t("同类开发区中位数", "peer median"), t("标准化得分", "standardised"),
                                    t("失分", "points lost"))]
    doc.add(Heading(t("二、指标与全区、全国同类开发区对比", "2. Indicators against the zone and the national peers")))
    for ind in shown:
        meta = INDICATORS[ind]
        name = t(meta.zh, meta.en)
        unit = indicator_unit(ind, lang)
        dec = decimals(ind, float(zone[ind].iloc[0]))
        v_txt = facts.add(f"{ind}", name, float(row[ind].iloc[0]), unit=unit, decimals=dec)
        zv_txt = facts.add(f"zone_{ind}", t(f"全区{meta.zh}", f"zone {meta.en}"), float(zone[ind].iloc[0]), unit=unit,
                           decimals=dec)
        median, pct_txt = np.nan, ""
        keys: tuple[str, ...] = (ind, f"zone_{ind}")
        if ind in peer_table.columns:
            values = pd.to_numeric(peer_table[ind], errors="coerce").dropna().to_numpy(float)
            if len(values):
                median = float(np.median(values))
                higher = meta.direction != "negative"
                share = 100.0 * float(np.mean(values < float(row[ind].iloc[0]) if higher
                                              else values > float(row[ind].iloc[0])))
                m_txt = facts.add(f"peer_median_{ind}", t(f"同类开发区{meta.zh}中位数", f"peer median {meta.en}"),
                                  median, unit=unit, decimals=dec)
                pct_txt = facts.add(f"peer_share_{ind}", t(f"{meta.zh}优于的同类开发区比例",
                                                           f"peers {meta.en} beats"), share, unit="%", decimals=0)
                keys += (f"peer_median_{ind}", f"peer_share_{ind}")
        sentence = t(f"{meta.zh} {v_txt}，全区 {zv_txt}", f"{meta.en} {v_txt}; zone {zv_txt}")
        if pct_txt:
            sentence += t(f"，同类开发区中位数 {m_txt}，优于 {pct_txt} 的同类开发区",
                          f"; peer median {m_txt}, better than {pct_txt} of the peers")
        doc.add(Para(sentence + t("。", "."), facts=keys, style="bullet"))
        s_col = f"s_{ind}"
        rows.append((name, v_txt, zv_txt, "—" if math.isnan(median) else labels.value(median, lang, decimals=dec)
                     + (f" {unit}" if unit and unit != "%" else unit),
                     labels.value(float(sub_scores.loc[subpark, s_col]), lang, decimals=1) if s_col in sub_scores
                     else "—",
                     labels.value(-float(contrib[ind]), lang, decimals=2) if ind in contrib.index
                     and np.isfinite(float(contrib[ind])) else "—"))
    doc.add(Table(rows=tuple(rows), caption=t(f"表 1 {subpark}主要指标", f"Table 1 {subpark} indicators"),
                  numeric=(False, True, True, True, True, True)))

    # 三、失分最多的指标
    lost = (-contrib.dropna()).sort_values(ascending=False, kind="mergesort")
    lost = lost[lost > 0.005]
    doc.add(Heading(t("三、失分最多的指标", "3. The indicators that cost most points")))
    if not len(lost):
        doc.add(Para(t("各项指标均已达到理想值，没有失分。", "Every indicator is at its ideal: no points lost.")))
    total_txt = facts.add("points_lost", t("合计失分", "points lost in all"), float(100.0 - score), decimals=2)
    full_txt = facts.add("full_score", t("满分", "full score"), 100)
    for ind, pts in lost.head(3).items():
        meta = INDICATORS[str(ind)]
        p_txt = facts.add(f"lost_{ind}", t(f"{meta.zh}失分", f"points lost on {meta.en}"), float(pts), decimals=2)
        ideal = preset_obj.indicators[str(ind)].ideal
        i_txt = facts.add(f"ideal_{ind}", t(f"{meta.zh}理想值", f"ideal {meta.en}"), float(ideal),
                          unit=indicator_unit(str(ind), lang), decimals=decimals(str(ind), float(ideal)))
        doc.add(Para(t(f"{meta.zh}失 {p_txt} 分（本园 {facts.texts((str(ind),))[0]}，理想值 {i_txt}）。",
                       f"{meta.en} costs {p_txt} points (now {facts.texts((str(ind),))[0]}, ideal {i_txt})."),
                     facts=(f"lost_{ind}", str(ind), f"ideal_{ind}"), style="bullet"))
    doc.add(Para(t(f"与满分 {full_txt} 分相比，本园合计失 {total_txt} 分。", f"Against {full_txt} points the "
                   f"sub-park loses {total_txt} points in all."), facts=("full_score", "points_lost")))

    # 四、土地、容量与潜力
    land_section(doc, facts, own, z.capacity.loc[subpark], t)
    # 五、集约度最低的区块
    worst_ids = worst_section(doc, facts, z.block_scores.loc[own["block_id"].astype(str).tolist()], worst, t, lang)
    figure_after = len(doc.blocks)
    # 六、动态调整记录
    history_section(doc, facts, own, statuses, t)
    # 七、达到目标需要什么
    if target_rank is not None:
        gap_section(doc, facts, row, int(target_rank), scored_peers, preset_obj, t, lang)

    table = facts.table()
    doc.add(PageBreak(), Heading(t("附：数据依据", "Appendix: the figures")),
            Para(t("上文每句话中的数字均来自本表；数据来自区块表，按 TD/T 1029 的指标定义计算。",
                   "Every number of the sentences above is one of these figures, computed from the block table "
                   "with the TD/T 1029 indicator definitions."), style="note"),
            Table(rows=((t("项目", "item"), t("数值", "value"), t("单位", "unit")),
                        *[(str(r.name), str(r.text), labels.unit(str(r.unit), lang)) for r in table.itertuples()]),
                  numeric=(False, True, False)))
    return Diagnosis(subpark=subpark, document=doc, facts=table, map_layer=map_layer(blocks, subpark, worst_ids),
                     figure_after=figure_after, worst_blocks=tuple(worst_ids))
