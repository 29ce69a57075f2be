"""Maps of adjustments: a proposal's changes, two layers side by side, yearly statuses, an optimum.

:func:`scenario_map` draws what a proposal does to the blocks (released, admitted, renewed,
merged, rezoned, each styled apart) with before and after values in the tooltips.
:func:`optimisation_map` draws the optimiser's chosen releases, admissions and renewals the same
way, with the objective it reached. :func:`compare_map` puts two block layers in two panes that
follow each other's pan and zoom, with the same class breaks. :func:`dynamic_map` shows the
dynamic-adjustment statuses (normal, warning, exit, admitted) with one layer per year.

All of them save with :func:`zgc_space.maps.save_html`: one offline file, the same bytes for the
same inputs, every user-supplied string escaped. The two panes of :func:`compare_map` are kept
in step by a few lines of inline JavaScript (folium's ``DualMap`` loads the Leaflet.Sync plugin
from a CDN, which no PyPI package provides).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure

from zgc_space import maps
from zgc_space.errors import ColumnError, MapError
from zgc_space.labels import TERMS, sentence, term
from zgc_space.maps import choropleth
from zgc_space.maps._leaflet import (
    OTHER_COLOUR,
    SyncViews,
    bilingual,
    block_layer,
    check_labels,
    check_polygons,
    display_geometry,
    districts_layer,
    finish_map,
    legend_entries_html,
    metric_frame,
    new_map,
    rows_html,
    subpark_outlines,
    value_text,
    with_columns,
)
from zgc_space.maps._scenario_layers import CHANGE_STYLES, draw_scenario, scenario_categories
from zgc_space.maps._style import class_breaks, column_labels, format_value, numeric_values

__all__ = [
    "CHANGE_STYLES",
    "STATUS_STYLES",
    "compare_map",
    "dynamic_map",
    "optimisation_map",
    "scenario_categories",
    "scenario_map",
]

logger = logging.getLogger(__name__)

#: Dynamic-adjustment statuses: status → (Chinese, English, fill colour); others are drawn grey.
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    s: (*TERMS[s], colour) for s, colour in (
        ("normal", "#91cf60"), ("warning", "#fdae61"), ("exit", "#d7191c"), ("admitted", "#2c7bb6"),
        ("outside", "#f0f0f0"))
}
#: Labels of the columns :func:`zgc_space.dynamic.evaluate_panel` adds.
_STATUS_COLUMNS: dict[str, tuple[str, str]] = {
    c: TERMS[c] for c in ("score", "member", "reason", "consecutive_warnings", "simulated")
}


# ---------------------------------------------------------------------------------------------
# scenario and optimisation maps


def scenario_map(
    baseline: gpd.GeoDataFrame,
    result: Any,
    *,
    columns: Sequence[str] | None = None,
    labels: str = "both",
    title: str | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    tianditu_key: str | None = None,
    simplify_m: float | None = 2.0,
    summary: bool = True,
    violations: str | Sequence[str] | None = None,
    fit_changed: bool = True,
) -> folium.Map:
    r"""Draw what a proposal changes: released, admitted, renewed, merged and rezoned blocks.

    Parameters
    ----------
    baseline
        The block table the proposal was applied to.
    result
        The :class:`zgc_space.scenarios.Scenario` returned by :func:`zgc_space.scenarios.apply`.
    columns
        Columns (or block indicators, e.g. ``"far"``) shown before and after in each tooltip;
        default: site area, floor area, FAR, tax per hectare and employees where available.
    labels
        ``"zh"``, ``"en"`` or ``"both"``.
    title
        A title box (default: the proposal's id and title).
    subparks, districts, tiles, tianditu_key, simplify_m
        As in :func:`zgc_space.maps.choropleth`.
    summary
        A box with the zone's block count, total area, FAR and tax per hectare before and after.
    violations
        The constraints the proposal breaks, shown in a box on the map: ready (escaped) HTML, or a
        list of texts (default: the result's own violations, in ``labels``' language).
    fit_changed
        Fit the view to the changed blocks (at least ~3 km across) instead of the whole zone;
        changed blocks are always drawn with a strong outline and labelled with their id.

    Returns
    -------
    folium.Map
        One layer per kind of change (see :data:`CHANGE_STYLES`); released blocks are drawn
        dashed where they were, blocks merged away as dashed outlines. Save with
        :func:`zgc_space.maps.save_html`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from zgc_space import maps, scenarios
    >>> from zgc_space.proposal import parse_proposal
    >>> base = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园"] * 2,
    ...     "built_m2": [10_000.0] * 2, "gfa_m2": [10_000.0, 30_000.0]},
    ...     geometry=[box(440000, 4428000, 440100, 4428100), box(440100, 4428000, 440200, 4428100)],
    ...     crs="EPSG:4548")
    >>> p = parse_proposal("id: P1\ntitle: renew B1\nrenew:\n  - blocks: [B1]\n    far_target: 3\n")
    >>> page = maps.to_html(scenario_map(base, scenarios.apply(base, p)))
    >>> "renewed (1)" in page, "https://cdn" in page
    (True, False)
    """
    if title is None and hasattr(result, "proposal"):
        title = f"{result.proposal.id}: {result.proposal.title}"
    if violations is None:
        violations = [str(v) for v in getattr(result, "violations", [])]
    if not isinstance(violations, str):
        items = "".join(f"<li>{html.escape(sentence(v, labels))}</li>" for v in violations)
        violations = (f"<strong>{html.escape(term('violation_box', labels))}</strong><ul>{items}</ul>"
                      if items else None)
    return draw_scenario(baseline, result, columns=columns, labels=labels, title=title, subparks=subparks,
                     districts=districts, tiles=tiles, tianditu_key=tianditu_key, simplify_m=simplify_m,
                     summary=summary, info=None, violations=violations, fit_changed=fit_changed)


def optimisation_map(
    baseline: gpd.GeoDataFrame,
    result: Any,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    columns: Sequence[str] | None = None,
    labels: str = "both",
    title: str | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    simplify_m: float | None = 2.0,
) -> folium.Map:
    """Draw the optimiser's answer: the releases, admissions and renewals it chose.

    Parameters
    ----------
    baseline
        The block table searched over.
    result
        A :class:`zgc_space.optimize.SearchResult`; its proposal is applied to ``baseline``
        (with ``candidates``) and drawn as in :func:`scenario_map`.
    candidates
        The candidate areas given to the search (needed when it admitted some).
    columns, labels, title, subparks, districts, simplify_m
        As in :func:`scenario_map`; the default title names the objective.

    Returns
    -------
    folium.Map
        With a box stating the objective, its baseline and optimised values, the solver status
        and the optimality gap.
    """
    from zgc_space import scenarios

    for attr in ("proposal", "objective", "value", "baseline_value", "status"):
        if not hasattr(result, attr):
            raise MapError(f"`result` must be a zgc_space.optimize.SearchResult; {type(result).__name__} "
                           f"has no .{attr}")
    applied = scenarios.apply(baseline, result.proposal, candidates=candidates)
    check_labels(labels)
    ozh, oen, unit_zh, unit_en = column_labels(result.objective)
    unit = unit_en if labels == "en" else unit_zh
    status = str(result.status)
    gap = float(getattr(result, "gap", 0.0) or 0.0)
    rows = [
        (term("objective", labels), f"{term(str(result.sense), labels)} {bilingual(ozh, oen, labels)}"),
        (term("baseline", labels), format_value(result.baseline_value, unit=unit, lang=labels)),
        (term("optimised", labels), format_value(result.value, unit=unit, lang=labels)),
        (term("solver_status", labels), term(status, labels)),
        (term("gap", labels), f"{100 * gap:.2f} %"),
    ]
    info = f'<table class="zgc-tip zgc-objective">{rows_html(rows)}</table>'
    if title is None:
        title = f"{bilingual('优化方案', 'optimised adjustment', labels)}：{bilingual(ozh, oen, labels)}"
    return draw_scenario(baseline, applied, columns=columns, labels=labels, title=title, subparks=subparks,
                     districts=districts, tiles=None, tianditu_key=None, simplify_m=simplify_m, summary=True,
                     info=info)


# ---------------------------------------------------------------------------------------------
# two synced panes


def compare_map(
    *layers: gpd.GeoDataFrame | str,
    column: str | None = None,
    titles: Sequence[str] | None = None,
    page_title: str | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    cmap: str = "YlOrRd",
    labels: str = "both",
    tooltip_columns: Sequence[str] | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    simplify_m: float | None = 2.0,
    layout: str = "auto",
) -> Figure:
    """Show one column of 2 to 6 block layers as small multiples: panes in step, one legend, the same classes.

    Parameters
    ----------
    *layers
        Two to six block tables, e.g. the baseline and proposals' results. The column may also
        be given as the last positional argument (``compare_map(a, b, "far")``).
    column
        A numeric column, or a block indicator (``"far"``) computed when absent.
    titles
        The title of each pane (default for two layers: before / after; else numbered).
    page_title
        The page's title (default: the pane titles joined).
    scheme, k, bins, cmap
        Class breaks, found over the values of all layers together (:func:`zgc_space.maps.class_breaks`).
    labels, tooltip_columns, subparks, districts, simplify_m
        As in :func:`zgc_space.maps.choropleth`.
    layout
        ``"horizontal"`` (one row), ``"vertical"`` (one column) or ``"auto"`` (one row up to three
        panes, else two rows).

    Returns
    -------
    branca.element.Figure
        A page holding the maps; panning or zooming one moves all others. The legend is drawn once
        (on the last pane). Save it with :func:`zgc_space.maps.save_html`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from zgc_space import maps
    >>> a = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "gfa_m2": [1.0, 2.0]},
    ...     geometry=[box(440000, 4428000, 440100, 4428100), box(440100, 4428000, 440200, 4428100)],
    ...     crs="EPSG:4548")
    >>> page = maps.to_html(compare_map(a, a.assign(gfa_m2=[3.0, 4.0]), "gfa_m2", k=2))
    >>> page.count("L.map("), "setView" in page
    (2, True)
    >>> page = maps.to_html(compare_map(a, a, a, column="gfa_m2", titles=["P1", "P2", "P3"], k=2))
    >>> page.count("L.map("), page.count("zgc-box zgc-legend")
    (3, 1)
    """
    frames_in = list(layers)
    if column is None and frames_in and isinstance(frames_in[-1], str):
        column = str(frames_in.pop())
    if column is None:
        raise MapError("compare_map needs column=... (a numeric column or a block indicator id)")
    if not 2 <= len(frames_in) <= 6:
        raise MapError(f"compare_map shows 2 to 6 layers, got {len(frames_in)}")
    if layout not in ("auto", "horizontal", "vertical"):
        raise MapError(f"layout={layout!r} is not 'auto', 'horizontal' or 'vertical'")
    check_labels(labels)
    n = len(frames_in)
    if titles is None:
        titles = ([term("before", labels), term("after", labels)] if n == 2 else [str(i + 1) for i in range(n)])
    titles = list(titles)
    if len(titles) != n:
        raise MapError(f"titles must hold one title per layer ({n}), got {len(titles)}")
    frames = []
    for i, frame in enumerate(frames_in):
        if isinstance(frame, str):
            raise MapError(f"layer {i + 1} is a string ({frame!r}); pass the column as column=...")
        metric = metric_frame(frame, f"layers[{i}]")
        metric, _ = with_columns(metric, [column], strict=True)
        frames.append(metric)
    values = np.concatenate([numeric_values(f, column) for f in frames])
    breaks = class_breaks(values, scheme=scheme, k=k, bins=bins, cmap=cmap)
    cols, rows = {"horizontal": (n, 1), "vertical": (1, n)}.get(layout, (n, 1) if n <= 3 else ((n + 1) // 2, 2))
    page = Figure()
    page.title = html.escape(page_title or " | ".join(titles))
    panes = []
    for i, (frame, title) in enumerate(zip(frames, titles, strict=True)):
        m = choropleth(frame, column, breaks=breaks, labels=labels, tooltip_columns=tooltip_columns,
                       subparks=subparks, districts=districts, title=title, simplify_m=simplify_m,
                       legend=i == n - 1)
        m.width, m.height = (100.0 / cols, "%"), (100.0 / rows, "%")
        m.left, m.top, m.position = (100.0 * (i % cols) / cols, "%"), (100.0 * (i // cols) / rows, "%"), "absolute"
        page.add_child(m, name=f"pane{i}")
        panes.append(m)
    page.add_child(SyncViews(*panes), name="sync")
    return page


# ---------------------------------------------------------------------------------------------
# dynamic adjustment over years


def _status_frame(statuses: pd.DataFrame, blocks: gpd.GeoDataFrame | None, unit: str, year_column: str,
                  status_column: str) -> gpd.GeoDataFrame:
    if not isinstance(statuses, pd.DataFrame):
        raise MapError(f"`statuses` must be a DataFrame ({unit}, year, status), got {type(statuses).__name__}")
    need = [unit, year_column, status_column]
    missing = [c for c in need if c not in statuses.columns]
    if missing:
        raise ColumnError(f"`statuses` lacks column(s) {missing}; it needs one row per unit and year with {need}")
    if isinstance(statuses, gpd.GeoDataFrame) and blocks is None:
        frame = metric_frame(statuses, "statuses")
    else:
        if blocks is None:
            raise MapError("`statuses` has no geometry: pass blocks=... (a GeoDataFrame with the unit column)")
        geo = metric_frame(blocks, "blocks")
        if unit not in geo.columns:
            raise ColumnError(f"`blocks` has no {unit} column to match the statuses")
        if unit == "block_id":  # names and sub-parks come along for the tooltips and outlines
            extra = [c for c in ("name", "subpark") if c in geo.columns and c not in statuses.columns]
            geo = geo[~geo[unit].duplicated(keep="last").to_numpy()][[unit, *extra, geo.geometry.name]]
        else:  # groups of blocks (e.g. clusters): one outline per group
            geo = geo[[unit, geo.geometry.name]].dissolve(by=unit, sort=True).reset_index()
        plain = pd.DataFrame(statuses.drop(columns=[statuses.geometry.name]) if isinstance(
            statuses, gpd.GeoDataFrame) else statuses)
        unknown = sorted(set(plain[unit].astype(str)) - set(geo[unit].astype(str)))
        if unknown:
            raise MapError(f"{len(unknown)} unit(s) of `statuses` have no geometry in `blocks` "
                           f"({', '.join(unknown[:10])}); pass blocks that include them")
        plain = plain.assign(_key=plain[unit].astype(str))
        geo = geo.assign(_key=geo[unit].astype(str)).drop(columns=unit)
        frame = gpd.GeoDataFrame(plain.merge(geo, on="_key", how="left", sort=False).drop(columns="_key"),
                                 geometry=geo.geometry.name, crs=geo.crs)
    if len(frame) == 0:
        raise MapError("`statuses` is empty: nothing to map")
    check_polygons(frame, "statuses")
    return frame


def _status_labels(col: str) -> tuple[str, str, str, str]:
    if col in _STATUS_COLUMNS:
        return (*_STATUS_COLUMNS[col], "", "")
    return column_labels(col)


def dynamic_map(
    statuses: pd.DataFrame,
    blocks: gpd.GeoDataFrame | None = None,
    *,
    unit: str = "block_id",
    year: int | None = None,
    year_column: str = "year",
    status_column: str = "status",
    tooltip_columns: Sequence[str] | None = None,
    labels: str = "both",
    title: str | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    simplify_m: float | None = 2.0,
) -> folium.Map:
    r"""Show each year's dynamic-adjustment status, one layer per year.

    Parameters
    ----------
    statuses
        One row per unit and year, e.g. :func:`zgc_space.dynamic.evaluate_panel` or
        ``simulate(...).status``: the unit column, ``year``, ``status`` (``normal``, ``warning``,
        ``exit``, ``admitted``, ``outside``; other values are drawn grey under their own name) and
        any further columns (score, reason). A GeoDataFrame brings its own geometry.
    blocks
        Geometry matched on ``unit`` (needed when ``statuses`` has none): the blocks, dissolved
        by ``unit`` when the units are groups of blocks (e.g. ``"cluster"``).
    unit
        The column naming the units (default ``block_id``).
    year
        The year shown on opening (default: the last); the layer control switches years.
    year_column, status_column
        Column names in ``statuses``.
    tooltip_columns
        Further columns of ``statuses`` shown on hover (default: the numeric and boolean ones,
        and ``reason`` when present).
    labels, title, subparks, districts, simplify_m
        As in :func:`zgc_space.maps.choropleth`.

    Returns
    -------
    folium.Map
        With a legend of the statuses and a table of their counts per year.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> from zgc_space import maps
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"]},
    ...     geometry=[box(440000, 4428000, 440100, 4428100), box(440100, 4428000, 440200, 4428100)],
    ...     crs="EPSG:4548")
    >>> st = pd.DataFrame({"block_id": ["B1", "B2", "B1", "B2"], "year": [2022, 2022, 2023, 2023],
    ...     "status": ["normal", "warning", "normal", "exit"]})
    >>> page = maps.to_html(dynamic_map(st, blocks))
    >>> "2023\\u5e74" in page, "exit" in page
    (True, True)
    """
    check_labels(labels)
    frame = _status_frame(statuses, blocks, unit, year_column, status_column)
    years = sorted(pd.unique(frame[year_column]).tolist())
    shown = years[-1] if year is None else year
    if shown not in years:
        raise MapError(f"year={year!r} is not in the statuses (years: {years})")
    if tooltip_columns is None:
        skip = {unit, year_column, status_column, frame.geometry.name}
        tooltip_columns = [c for c in frame.columns if c not in skip
                           and (pd.api.types.is_numeric_dtype(frame[c]) or c == "reason")]
    bad = [c for c in tooltip_columns if c not in frame.columns]
    if bad:
        raise ColumnError(f"tooltip_columns {bad} are not columns of `statuses`")
    display = display_geometry(frame.geometry.values, simplify_m=simplify_m, gcj02=False)
    status = frame[status_column].astype(str).to_numpy()
    largest = int(frame[year_column].value_counts().max())
    m = new_map(tiles=None, tianditu_key=None, title=title, canvas=largest > maps.CANVAS_ABOVE)
    districts_layer(m, districts, simplify_m, False, labels)
    counts: dict[Any, dict[str, int]] = {}
    unit_zh, unit_en = ("区块", "block") if unit == "block_id" else column_labels(unit)[:2]
    for y in years:
        idx = np.flatnonzero((frame[year_column] == y).to_numpy())
        props = []
        for i in idx:
            row = frame.iloc[i]
            zh, en, colour = STATUS_STYLES.get(status[i], (status[i], status[i], OTHER_COLOUR))
            head = [(bilingual(unit_zh, unit_en, labels), str(row[unit]))]
            for col in ("name", "subpark"):
                if col in frame.columns and col != unit and isinstance(row[col], str):
                    zc, ec, _, _ = column_labels(col)
                    head.append((bilingual(zc, ec, labels), row[col]))
            head += [(bilingual("年份", "year", labels), str(y)),
                     (bilingual("状态", "status", labels), bilingual(zh, en, labels))]
            for col in tooltip_columns:
                zc, ec, u_zh, u_en = _status_labels(col)
                head.append((bilingual(zc, ec, labels), value_text(row[col], u_en if labels == "en" else u_zh,
                                                                   labels)))
            props.append({"fill": colour, "tip": f'<table class="zgc-tip">{rows_html(head)}</table>'})
            counts.setdefault(y, {}).setdefault(status[i], 0)
            counts[y][status[i]] += 1
        block_layer(m, display[idx], props, f"{y}年", show=y == shown, overlay=False)
    if subparks and "subpark" in frame.columns:
        last = ~frame.duplicated(unit, keep="last").to_numpy()
        subpark_outlines(m, frame[last], display[last], labels)
    order = [s for s in STATUS_STYLES if any(s in c for c in counts.values())]
    order += sorted({s for c in counts.values() for s in c} - set(order))
    names = {s: bilingual(*STATUS_STYLES.get(s, (s, s, ""))[:2], labels) for s in order}
    entries = [(STATUS_STYLES.get(s, (s, s, OTHER_COLOUR))[2], names[s], None) for s in order]
    legend = legend_entries_html(entries, bilingual("动态调整状态", "dynamic-adjustment status", labels))
    header = "".join(f"<th>{html.escape(names[s])}</th>" for s in order)
    body = "".join(f"<tr><th>{html.escape(str(y))}</th>"
                   + "".join(f"<td>{counts.get(y, {}).get(s, 0)}</td>" for s in order) + "</tr>" for y in years)
    info = f'<table class="zgc-tip zgc-counts"><tr><th></th>{header}</tr>{body}</table>'
    finish_map(m, display, legend=legend, title=title, info=info)
    return m
