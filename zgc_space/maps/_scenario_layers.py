"""How a proposal's changes are drawn: one layer per kind of change, before/after tooltips.

Private: users call :func:`zgc_space.scenario_maps.scenario_map` and
:func:`zgc_space.scenario_maps.optimisation_map`.
"""

from __future__ import annotations

import html
import logging
import warnings
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import indicators, maps
from zgc_space.errors import ColumnError, MapError, ValidationWarning
from zgc_space.labels import TERMS, operation, sentence, term
from zgc_space.maps._leaflet import (
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
    outline_layer,
    place_labels,
    rows_html,
    subpark_outlines,
    value_text,
    with_columns,
)
from zgc_space.maps._style import column_labels, format_value

__all__ = ["CHANGE_STYLES", "draw_scenario", "scenario_categories", "scenario_items"]

logger = logging.getLogger(__name__)

#: How each kind of change is drawn: change → (Chinese, English, fill colour), bottom layer first.
CHANGE_STYLES: dict[str, tuple[str, str, str]] = {
    change: (*TERMS["change:admitted" if change == "admitted" else change], colour) for change, colour in (
        ("unchanged", "#e6e6e6"), ("released", "#d7301f"), ("part-released", "#fc8d59"), ("rezoned", "#fee08b"),
        ("renewed", "#8856a7"), ("merged-into", "#2c7fb8"), ("admitted", "#1a9850"))
}


#: Precedence when a block has several changes (the first found names its style).
_PRECEDENCE = ("admitted", "merged-into", "renewed", "rezoned", "part-released")


_DEFAULT_COLUMNS = ("site_area_m2", "gfa_m2", "far", "tax_10k_cny_per_ha", "employees")


def _scenario_parts(baseline: gpd.GeoDataFrame, result: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    for attr in ("blocks", "changes"):
        if not hasattr(result, attr):
            raise MapError(f"`result` must be a zgc_space.scenarios.Scenario (from scenarios.apply); "
                           f"{type(result).__name__} has no .{attr}")
    base = metric_frame(baseline, "baseline")
    after = metric_frame(result.blocks, "result.blocks")
    for frame, what in ((base, "baseline"), (after, "result.blocks")):
        if "block_id" not in frame.columns:
            raise ColumnError(f"`{what}` has no block_id column; scenario maps match blocks by id")
        check_polygons(frame, what)
    return base, after, result.changes


def _change_lines(changes: pd.DataFrame, labels: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for row in changes.itertuples(index=False):
        zh, en, _ = CHANGE_STYLES.get(str(row.change), (str(row.change), str(row.change), ""))
        text = bilingual(zh, en, labels) if row.change != "merged" else term("merged", labels)
        where = f" · {operation(row.operation, row.line, labels)}"
        detail = f" · {sentence(row.detail, labels)}" if isinstance(row.detail, str) and row.detail else ""
        lines.setdefault(str(row.block_id), []).append(text + where + detail)
    return lines


def _scenario_tip(block_id: str, name: Any, subpark: Any, change: str, lines: list[str], before: pd.Series | None,
                  after: pd.Series | None, columns: Sequence[str], labels: str) -> str:
    zh, en, _ = CHANGE_STYLES[change]
    head = [(bilingual("区块", "block", labels), block_id)]
    if isinstance(name, str) and name:
        head.append((bilingual("名称", "name", labels), name))
    if isinstance(subpark, str) and subpark:
        head.append((bilingual("分园", "sub-park", labels), subpark))
    head.append((bilingual("调整", "change", labels), bilingual(zh, en, labels)))
    head += [("", line) for line in lines]
    vals = []
    for col in columns:
        czh, cen, unit_zh, unit_en = column_labels(col)
        unit = unit_en if labels == "en" else unit_zh
        b = value_text(before[col] if before is not None and col in before.index else None, unit, labels)
        a = value_text(after[col] if after is not None and col in after.index else None, unit, labels)
        vals.append(f"<tr><th>{html.escape(bilingual(czh, cen, labels))}</th><td>{html.escape(b)}</td>"
                    f"<td>{html.escape(a)}</td></tr>")
    cap = bilingual("调整前", "before", labels), bilingual("调整后", "after", labels)
    return ('<table class="zgc-tip">' + rows_html(head)
            + f"<tr><th></th><th>{html.escape(cap[0])}</th><th>{html.escape(cap[1])}</th></tr>"
            + "".join(vals) + "</table>")


def _zone_summary(base: gpd.GeoDataFrame, after: gpd.GeoDataFrame, labels: str) -> str:
    rows = [("", bilingual("调整前", "before", labels), bilingual("调整后", "after", labels))]
    rows.append((bilingual("区块数", "blocks", labels), f"{len(base)}", f"{len(after)}"))
    if "site_area_m2" in base.columns and "site_area_m2" in after.columns:
        rows.append((bilingual("总面积", "total area", labels), f"{base['site_area_m2'].sum() / 1e6:,.2f} km²",
                     f"{after['site_area_m2'].sum() / 1e6:,.2f} km²"))
    for ind in ("far", "tax_10k_cny_per_ha"):
        need = indicators.INDICATORS[ind].columns
        if all(c in base.columns and c in after.columns for c in need):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ValidationWarning)
                v = [float(indicators.compute(f, by="zone", indicators=[ind])[ind].iloc[0]) for f in (base, after)]
            zh, en, unit_zh, unit_en = column_labels(ind)
            unit = unit_en if labels == "en" else unit_zh
            rows.append((bilingual(zh, en, labels), format_value(v[0], unit=unit), format_value(v[1], unit=unit)))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="zgc-tip zgc-summary">{body}</table>'


Item = tuple[str, Any, str, "pd.Series | None", "pd.Series | None"]  # (change, geometry, id, before, after)


def scenario_items(base: gpd.GeoDataFrame, after: gpd.GeoDataFrame,
                   changes: pd.DataFrame) -> tuple[list[Item], list[Any]]:
    """Classify every block: the result's blocks in order, then the released ones; and the merged-away geometries."""
    kinds = changes.groupby("block_id", sort=False)["change"].agg(list).to_dict() if len(changes) else {}
    base_by_id = base.set_index(base["block_id"].astype(str), drop=False)
    after_ids = set(after["block_id"].astype(str))
    items: list[Item] = []
    for i in range(len(after)):
        row = after.iloc[i]
        bid = str(row["block_id"])
        found = kinds.get(bid, [])
        change = next((c for c in _PRECEDENCE if c in found), "unchanged")
        before = base_by_id.loc[bid] if bid in base_by_id.index and change != "admitted" else None
        items.append((change, row.geometry, bid, before, row))
    merged_away = []
    for i in range(len(base)):
        row = base.iloc[i]
        bid = str(row["block_id"])
        if bid in after_ids:
            continue
        if "released" in kinds.get(bid, []):
            items.append(("released", row.geometry, bid, row, None))
        else:
            merged_away.append(row.geometry)
    return items, merged_away


def scenario_categories(baseline: gpd.GeoDataFrame, result: Any) -> tuple[gpd.GeoDataFrame, list[Any]]:
    """Return the blocks drawn on a scenario map (EPSG:4548) with their ``change``, and the merged-away outlines."""
    base, after, changes = _scenario_parts(baseline, result)
    items, merged_away = scenario_items(base, after, changes)
    frame = gpd.GeoDataFrame({"block_id": [it[2] for it in items], "change": [it[0] for it in items]},
                             geometry=[it[1] for it in items], crs=base.crs)
    return frame, merged_away


def _around(focus: np.ndarray | None) -> np.ndarray | None:
    """Return the changed blocks' display geometries grown to at least ~3 km across (None: fit everything)."""
    if focus is None:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(focus)
    half = 0.015  # degrees: about 1.5 km, so one small block is shown with its neighbours
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return np.asarray([shapely.box(min(minx, cx - half), min(miny, cy - half), max(maxx, cx + half),
                                   max(maxy, cy + half))], dtype=object)


def draw_scenario(baseline: gpd.GeoDataFrame, result: Any, *, columns: Sequence[str] | None, labels: str,
                  title: str | None, subparks: bool, districts: gpd.GeoDataFrame | None, tiles: str | None,
                  tianditu_key: str | None, simplify_m: float | None, summary: bool, info: str | None,
                  violations: str | None = None, fit_changed: bool = True) -> folium.Map:
    """Draw a scenario map (see :func:`zgc_space.scenario_maps.scenario_map`)."""
    check_labels(labels)
    base, after, changes = _scenario_parts(baseline, result)
    cols = list(_DEFAULT_COLUMNS if columns is None else columns)
    base, cols_b = with_columns(base, cols, strict=False)
    after, cols_a = with_columns(after, cols, strict=columns is not None)
    cols = [c for c in cols if c in cols_a or c in cols_b]
    lines = _change_lines(changes, labels) if len(changes) else {}
    gcj02 = tiles is not None and tiles.lower() == "gaode"
    items, merged_away = scenario_items(base, after, changes)

    m = new_map(tiles=tiles, tianditu_key=tianditu_key, title=title, canvas=len(items) > maps.CANVAS_ABOVE)
    districts_layer(m, districts, simplify_m, gcj02, labels)
    geoms = display_geometry(np.asarray([it[1] for it in items], dtype=object), simplify_m=simplify_m, gcj02=gcj02)
    entries = []
    for change, (zh, en, colour) in CHANGE_STYLES.items():
        idx = [k for k, it in enumerate(items) if it[0] == change]
        if not idx:
            continue
        props = []
        for k in idx:
            _, _, bid, before, aft = items[k]
            src = aft if aft is not None else before  # every block is in the baseline, the result or both
            name, park = (None, None) if src is None else (src.get("name"), src.get("subpark"))
            props.append({"fill": colour, "tip": _scenario_tip(
                bid, name, park, change, lines.get(bid, []), before, aft, cols, labels)})
        block_layer(m, geoms[idx], props, f"{bilingual(zh, en, labels)} ({len(idx)})", dashed=change == "released",
                    weight=0.8 if change == "unchanged" else 3.0)
        entries.append((colour, bilingual(zh, en, labels), len(idx)))
    if merged_away:
        shown = display_geometry(np.asarray(merged_away, dtype=object), simplify_m=simplify_m, gcj02=gcj02)
        outline_layer(m, shown, bilingual("合并前区块", "blocks before merging", labels),
                       {"color": "#2c7fb8", "weight": 1.2, "dashArray": "3 3", "fill": False})
    if subparks:
        subpark_outlines(m, after, geoms[: len(after)], labels)  # the kept and new blocks come first
    changed = [k for k, it in enumerate(items) if it[0] != "unchanged"]
    place_labels(m, geoms[changed], [items[k][2] for k in changed], "zgc-label-changed")
    legend = legend_entries_html(entries, bilingual("调整类型", "change", labels))
    box = _zone_summary(base, after, labels) if summary else ""
    if violations:
        info = (info or "") + f'<div class="zgc-violations">{violations}</div>'
    focus = geoms[changed] if fit_changed and changed else None
    finish_map(m, geoms, legend=legend, title=title, info=(info or "") + box or None, fit=_around(focus))
    logger.info("scenario map: %d blocks drawn, %d changes", len(items), len(changes))
    return m
