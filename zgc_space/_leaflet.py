"""Leaflet plumbing shared by the web maps: controls, display geometry, GeoJSON, tooltips, tiles.

Private: users reach these through :mod:`zgc_space.maps` and :mod:`zgc_space.scenario_maps`.
Every text that ends up in a page is escaped here or by the caller before it is passed in.
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
import shapely
from branca.element import MacroElement
from folium.template import Template

from zgc_space._mapstyle import ClassBreaks, column_labels, format_value
from zgc_space.crs import wgs84_to_gcj02
from zgc_space.errors import CRSError, MapError
from zgc_space.schema import METRIC_CRS

__all__ = [
    "CSS",
    "TILES",
    "HtmlControl",
    "MetricScale",
    "check_polygons",
    "display_geometry",
    "feature_collection",
    "legend_html",
    "metric_frame",
    "tile_layer",
    "tooltip_html",
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
        super().__init__()
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
    return shapely.transform(out, lambda xy: np.round(xy, 6))


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
        name = {"zh": zh, "en": en, "both": f"{zh} {en}" if zh != en else zh}[labels]
        value = row[col]
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            text = format_value(float(value), unit=unit_zh if labels == "zh" else unit_en)
        else:
            text = "无数据 no data" if pd.isna(value) else str(value)
        cells.append(f"<tr><th>{html.escape(name)}</th><td>{html.escape(text)}</td></tr>")
    return '<table class="zgc-tip">' + "".join(cells) + "</table>"


def legend_html(breaks: ClassBreaks, title: str, *, unit: str, has_missing: bool) -> str:
    rows = [f'<div class="zgc-legend-title">{html.escape(title)}</div>']
    for colour, text in zip(breaks.colours, breaks.labels(unit=unit), strict=True):
        rows.append(f'<div><span class="zgc-swatch" style="background:{colour}"></span>{html.escape(text)}</div>')
    if has_missing:
        rows.append('<div><span class="zgc-swatch" style="background:#d9d9d9"></span>无数据 no data</div>')
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
