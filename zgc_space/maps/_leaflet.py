"""Leaflet plumbing shared by the web maps: controls, display geometry, GeoJSON, tooltips, tiles.

Private: users reach these through :mod:`zgc_space.maps` and :mod:`zgc_space.scenario_maps`.
Every text that ends up in a page is escaped here or by the caller before it is passed in.
"""

from __future__ import annotations

import html
import logging
import warnings
from collections.abc import Sequence
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template
from folium.utilities import JsCode

from zgc_space import indicators, labels
from zgc_space.crs import wgs84_to_gcj02
from zgc_space.errors import ColumnError, CRSError, MapError, ValidationWarning
from zgc_space.labels import pick, term
from zgc_space.maps._style import LABEL_MODES, ClassBreaks, column_labels, format_value
from zgc_space.schema import METRIC_CRS

__all__ = [
    "BIND_TIP",
    "CSS",
    "OTHER_COLOUR",
    "TILES",
    "HtmlControl",
    "MetricScale",
    "SyncViews",
    "bilingual",
    "block_layer",
    "check_labels",
    "check_polygons",
    "display_geometry",
    "districts_layer",
    "feature_collection",
    "finish_map",
    "legend_entries_html",
    "legend_html",
    "metric_frame",
    "new_map",
    "outline_layer",
    "rows_html",
    "subpark_outlines",
    "tile_layer",
    "tooltip_html",
    "value_text",
    "with_columns",
]

logger = logging.getLogger(__name__)

#: Optional web tile layers (all need the network): name → (URL template, attribution, subdomains).
TILES: dict[str, tuple[str, str, str]] = {
    "openstreetmap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
        "abc",
    ),
    "tianditu": (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu",
        "01234567",
    ),
    "gaode": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi (GCJ-02)",
        "1234",
    ),
}

#: Fill of a status or class without a style of its own.
OTHER_COLOUR = "#bdbdbd"

CSS = """<style>
.leaflet-container { background: #ffffff; font-family: "Noto Sans CJK SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
.zgc-box { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font-size: 12px; line-height: 1.35; color: #222; }
.zgc-legend .zgc-swatch { display: inline-block; width: 16px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #777; }
.zgc-legend .zgc-legend-title, .zgc-title { font-weight: bold; }
.zgc-title { font-size: 15px; }
.leaflet-control-layers { font-size: 12px; }
.leaflet-tooltip .zgc-tip { font-size: 12px; }
.zgc-tip th { text-align: left; padding-right: 8px; font-weight: normal; color: #555; }
.zgc-label { background: none; border: none; white-space: nowrap; pointer-events: none; }
.zgc-label span { display: inline-block; transform: translate(-50%, -50%); padding: 0 3px; border-radius: 3px;
  background: rgba(255,255,255,0.7); font-size: 11px; }
.zgc-label-subpark span { color: #1f3a93; font-weight: bold; font-size: 12px; }
.zgc-label-district span { color: #777777; background: none; font-size: 11px; }
.zgc-label-changed span { color: #000000; font-weight: bold; border: 1px solid #000000; }
.zgc-violations { border-left: 4px solid #d7191c; max-width: 28em; }
.zgc-violations ul { margin: 0.2em 0 0 1.1em; padding: 0; }
</style>"""

_CONTROL = Template(
    """
{% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
{{ this.get_name() }}.onAdd = function () {
    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
    div.innerHTML = {{ this.html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
)


class HtmlControl(MacroElement):
    """A Leaflet control holding pre-escaped HTML (legend, title)."""

    _template = _CONTROL

    def __init__(self, markup: str, *, css_class: str, position: str, css: str = "") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "HtmlControl"
        self.html = markup
        self.css_class = css_class
        self.position = position
        self.css = css


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only."""

    _template = Template(
        """{% macro script(this, kwargs) %}
L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )


def metric_frame(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4548, refusing a frame without a CRS."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise MapError(f"`{what}` must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise CRSError(f"`{what}` has no CRS; set it (e.g. frame.set_crs('EPSG:4548')) before mapping")
    return frame if frame.crs == METRIC_CRS else frame.to_crs(METRIC_CRS)


def check_polygons(frame: gpd.GeoDataFrame, what: str) -> None:
    """Refuse missing, empty or non-polygonal geometries, naming the rows."""
    geoms = frame.geometry.values
    types = shapely.get_type_id(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~np.isin(types, (3, 6))
    if bad.any():
        ids = frame["block_id"] if "block_id" in frame.columns else pd.Series(frame.index, index=frame.index)
        shown = ", ".join(map(str, ids[bad].head(10)))
        raise MapError(
            f"`{what}` has {int(bad.sum())} missing, empty or non-polygon geometries ({shown}); "
            "drop or repair them before mapping"
        )
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    broken = np.zeros(len(geoms), dtype=bool)
    broken[np.unique(index[~np.isfinite(coords).all(axis=1)])] = True
    broken[~broken] |= ~shapely.is_valid(geoms[~broken])
    if broken.any():
        ids = frame["block_id"] if "block_id" in frame.columns else pd.Series(frame.index, index=frame.index)
        shown = ", ".join(map(str, ids[broken].head(10)))
        raise MapError(
            f"`{what}` has {int(broken.sum())} invalid geometries (self-crossing rings, holes outside their shell, "
            f"NaN vertices: {shown}); repair them with zgc_space.repair_geometries() before mapping"
        )


def display_geometry(geoms: np.ndarray, *, simplify_m: float | None, gcj02: bool) -> np.ndarray:
    """Simplify in metres (coverage-preserving), reproject to EPSG:4326, optionally GCJ-02, round."""
    out = np.asarray(geoms, dtype=object)
    if simplify_m:
        if shapely.coverage_is_valid(out):
            out = shapely.coverage_simplify(out, simplify_m)
        else:
            logger.info("geometries are not a clean coverage; simplifying each polygon on its own")
            out = shapely.simplify(out, simplify_m, preserve_topology=True)
    series = gpd.GeoSeries(out, crs=METRIC_CRS).to_crs("EPSG:4326")
    out = np.asarray(series.values, dtype=object)
    if gcj02:
        out = shapely.transform(out, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    return cast("np.ndarray", shapely.transform(out, lambda xy: np.round(xy, 6)))


def feature_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for i, (geom, prop) in enumerate(zip(geoms, props, strict=True)):
        features.append(
            {"type": "Feature", "id": str(i), "properties": prop, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def tooltip_html(row: pd.Series, columns: Sequence[str], labels: str, overrides: dict[str, dict[str, Any]]) -> str:
    """Return one block's tooltip as escaped HTML (a table of label: value rows)."""
    cells = []
    for col in columns:
        zh, en, unit_zh, unit_en = column_labels(col, **overrides.get(col, {}))
        name = bilingual(zh, en, labels)
        text = value_text(row[col], unit_en if labels == "en" else unit_zh, labels, missing=True)
        cells.append(f"<tr><th>{html.escape(name)}</th><td>{html.escape(text)}</td></tr>")
    return '<table class="zgc-tip">' + "".join(cells) + "</table>"


def legend_html(breaks: ClassBreaks, title: str, *, unit: str, has_missing: bool, lang: str = "zh+en") -> str:
    rows = [f'<div class="zgc-legend-title">{html.escape(title)}</div>']
    for colour, text in zip(breaks.colours, breaks.labels(unit=unit), strict=True):
        rows.append(f'<div><span class="zgc-swatch" style="background:{colour}"></span>{html.escape(text)}</div>')
    if has_missing:
        rows.append('<div><span class="zgc-swatch" style="background:#d9d9d9"></span>'
                    f'{html.escape(term("no_data", lang))}</div>')
    return "".join(rows)


def tile_layer(tiles: str, key: str | None) -> folium.TileLayer:
    name = tiles.lower()
    if name not in TILES:
        raise MapError(f"tiles={tiles!r} is not one of {sorted(TILES)} (or None for no web tiles)")
    url, attr, subdomains = TILES[name]
    if name == "tianditu":
        if not key:
            raise MapError('tiles="tianditu" needs tianditu_key=... (a key from console.tianditu.gov.cn)')
        url = url.replace("{key}", html.escape(key, quote=True))
    return folium.TileLayer(tiles=url, attr=attr, name=html.escape(name), subdomains=subdomains, overlay=False)


# ---------------------------------------------------------------------------------------------
# building blocks of the scenario, comparison and dynamic maps

BIND_TIP = JsCode("function (f, layer) { layer.bindTooltip(f.properties.tip, {sticky: true}); }")


class SyncViews(MacroElement):
    """Keep maps on the same centre and zoom (each follows the others' ``move``)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
    var panes = [{% for p in this.panes %}{{ p.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}];
    var busy = false;
    panes.forEach(function (src) {
        src.on("move zoomend", function () {
            if (busy) { return; }
            busy = true;
            panes.forEach(function (dst) {
                if (dst !== src) { dst.setView(src.getCenter(), src.getZoom(), {animate: false}); }
            });
            busy = false;
        });
    });
})();
{% endmacro %}"""
    )

    def __init__(self, *panes: folium.Map) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SyncViews"
        self.panes = list(panes)


class PlaceLabels(MacroElement):
    """Names written on the map at points (sub-parks, districts, changed blocks), not interactive."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
    var group = L.layerGroup().addTo({{ this._parent.get_name() }});
    {{ this.points|tojson }}.forEach(function (p) {
        L.marker([p[0], p[1]], {interactive: false, keyboard: false, icon: L.divIcon({
            className: {{ ("zgc-label " ~ this.css_class)|tojson }}, html: "<span>" + p[2] + "</span>",
            iconSize: null})}).addTo(group);
    });
})();
{% endmacro %}"""
    )

    def __init__(self, points: Sequence[tuple[float, float, str]], *, css_class: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PlaceLabels"
        self.points = [[round(float(lat), 6), round(float(lon), 6), html.escape(text)] for lat, lon, text in points]
        self.css_class = css_class


def place_labels(m: folium.Map, geoms: np.ndarray, names: Sequence[str], css_class: str) -> None:
    """Write ``names`` at a point inside each (display, EPSG:4326) geometry."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    points = [(p.y, p.x, str(n)) for p, n in zip(pts, names, strict=True) if n and not p.is_empty]
    if points:
        PlaceLabels(points, css_class=css_class).add_to(m)


def bilingual(zh: str, en: str, labels: str) -> str:
    """Return ``zh``, ``en`` or both for the language setting (:func:`zgc_space.labels.pick`)."""
    return pick(zh, en, labels)


def check_labels(labels: str) -> None:
    if labels not in LABEL_MODES:
        raise MapError(f"labels={labels!r} is not one of {LABEL_MODES}")


def with_columns(frame: gpd.GeoDataFrame, columns: Sequence[str], *,
                  strict: bool) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add block indicators named in ``columns`` that ``frame`` lacks; return it and the usable columns."""
    wanted = [c for c in columns if c not in frame.columns and c in indicators.INDICATORS]
    computable = [c for c in wanted if all(x in frame.columns for x in indicators.INDICATORS[c].columns)]
    if computable:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ValidationWarning)
            values = indicators.compute(frame, indicators=computable)
        frame = frame.assign(**{c: values[c].to_numpy(float) for c in computable})
    usable = [c for c in columns if c in frame.columns]
    if strict and len(usable) < len(columns):
        missing = [c for c in columns if c not in usable]
        raise ColumnError(f"columns {missing} are neither in the blocks nor indicators computable from them")
    return frame, usable


def value_text(value: Any, unit: str, lang: str = "zh+en", *, missing: bool = False) -> str:
    """Return a cell's text: numbers with their unit, booleans 是/否, missing as "—" (or "无数据")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return term("no_data", lang) if missing else "—"
    if isinstance(value, (bool, np.bool_)):
        return term("yes" if value else "no", lang)
    if isinstance(value, (int, np.integer)):
        return labels.value(value, lang, unit=unit)  # a count: no decimals
    if isinstance(value, (float, np.floating)):
        return format_value(float(value), unit=unit, lang=lang)
    if isinstance(value, str):
        return labels.sentence(value, lang)
    return str(value)


def rows_html(rows: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)


def legend_entries_html(entries: Sequence[tuple[str, str, int | None]], title: str) -> str:
    out = [f'<div class="zgc-legend-title">{html.escape(title)}</div>']
    for colour, text, count in entries:
        suffix = f" ({count})" if count is not None else ""
        out.append(f'<div><span class="zgc-swatch" style="background:{colour}"></span>'
                   f"{html.escape(text + suffix)}</div>")
    return "".join(out)


def new_map(*, tiles: str | None, tianditu_key: str | None, title: str | None, canvas: bool = False) -> folium.Map:
    """Return an empty map: optional tiles, page title, metric scale; ``canvas`` for very many polygons."""
    m = folium.Map(tiles=None, prefer_canvas=canvas, attribution_control=tiles is not None)
    if tiles is not None:
        tile_layer(tiles, tianditu_key).add_to(m)
    if title:
        m.get_root().title = html.escape(title)  # type: ignore[attr-defined]  # a branca Figure
    MetricScale().add_to(m)  # type: ignore[no-untyped-call]
    return m


def finish_map(m: folium.Map, display: np.ndarray, *, legend: str | None, title: str | None, info: str | None,
               fit: np.ndarray | None = None) -> None:
    """Add the legend, title and info boxes and the layer control; fit the view to ``fit`` (default: all)."""
    if legend is not None:
        HtmlControl(legend, css_class="zgc-box zgc-legend", position="bottomright", css=CSS).add_to(m)
    else:
        HtmlControl("", css_class="zgc-none", position="bottomright", css=CSS).add_to(m)  # the page's CSS
    if title:
        HtmlControl(f'<div class="zgc-title">{html.escape(title)}</div>', css_class="zgc-box",
                    position="topleft").add_to(m)
    if info:
        HtmlControl(info, css_class="zgc-box zgc-info", position="topright").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    minx, miny, maxx, maxy = shapely.total_bounds(display if fit is None or len(fit) == 0 else fit)
    m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])


def outline_layer(m: folium.Map, geoms: np.ndarray, name: str, style: dict[str, Any]) -> None:
    if len(geoms):
        folium.GeoJson(feature_collection(geoms, [{} for _ in geoms]), name=html.escape(name),
                       style_function=lambda _f: style, interactive=False).add_to(m)


def subpark_outlines(m: folium.Map, frame: gpd.GeoDataFrame, display: np.ndarray, lang: str = "zh+en",
                     *, names: bool = True) -> None:
    """Draw each sub-park's outline (the blocks dissolved) and, with ``names``, write its name."""
    if "subpark" not in frame.columns:
        return
    keys = frame["subpark"].astype(str).to_numpy()
    parks = sorted(set(keys))
    outlines = np.asarray([shapely.union_all(display[keys == k]) for k in parks], dtype=object)
    outline_layer(m, outlines, "分园边界 Sub-park outlines" if lang in ("both", "zh+en") else term(
        "subpark_outlines", lang), {"color": "#1f3a93", "weight": 2.2, "fill": False})
    if names:
        place_labels(m, outlines, parks, "zgc-label-subpark")


def districts_layer(m: folium.Map, districts: gpd.GeoDataFrame | None, simplify_m: float | None, gcj02: bool,
                    lang: str = "zh+en") -> None:
    """Draw the district context layer (grey, dashed) with the districts' names (column ``name``)."""
    if districts is None:
        return
    dist = metric_frame(districts, "districts")
    check_polygons(dist, "districts")
    geoms = display_geometry(dist.geometry.values, simplify_m=(simplify_m or 0) * 10, gcj02=gcj02)
    outline_layer(m, geoms, "行政区 Districts" if lang in ("both", "zh+en") else term("districts", lang),
                  {"color": "#888888", "weight": 1, "fillColor": "#f2f2f2", "fillOpacity": 0.6, "dashArray": "4 3"})
    if "name" in dist.columns:
        place_labels(m, geoms, dist["name"].astype(str).tolist(), "zgc-label-district")


def block_layer(m: folium.Map, geoms: np.ndarray, props: list[dict[str, Any]], name: str, *,
                 dashed: bool = False, show: bool = True, overlay: bool = True, weight: float = 0.8) -> None:
    """Add one interactive layer of blocks, each filled with ``properties["fill"]``, tooltip ``properties["tip"]``."""
    line = "#555555" if weight < 1 else "#222222"
    dash = {"dashArray": "5 4"} if dashed else {}
    folium.GeoJson(
        feature_collection(geoms, props),
        name=html.escape(name),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": line, "weight": weight,
                                  "fillOpacity": 0.85, **dash},
        highlight_function=lambda _f: {"weight": 2.5, "color": "#000000"},
        on_each_feature=BIND_TIP,
        className="zgc-block",
        show=show,
        overlay=overlay,
    ).add_to(m)
