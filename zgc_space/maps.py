"""Interactive block maps (folium/Leaflet) that open with no network, byte for byte reproducible.

:func:`choropleth` draws one column of the block table in classes, with a bilingual legend
(units included), tooltips with formatted numbers, sub-park outlines, an optional district
context layer and a layer control. :func:`save_html` writes it as one HTML file with Leaflet
inlined from the ``xstatic-leaflet`` package: no CDN, no web tiles unless asked for, element ids
from a counter (folium draws random ones), every user-supplied string escaped.

Display geometry is simplified with :func:`shapely.coverage_simplify` in EPSG:4548 (shared edges
stay shared) and rounded to 6 decimals (~0.1 m) after reprojection to EPSG:4326; areas are never
computed on it. With Gaode tiles the vectors are shifted to GCJ-02 (about 540 m at
Zhongguancun) so they sit on the tiles; with any other choice they stay in WGS84.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from zgc_space._mapstyle import (
    ClassBreaks,
    Footer,
    class_breaks,
    column_labels,
    format_value,
    legend_title,
    numeric_values,
    write_atomic,
)
from zgc_space._offline import offline_html
from zgc_space.crs import wgs84_to_gcj02
from zgc_space.errors import CRSError, MapError
from zgc_space.schema import METRIC_CRS

__all__ = ["TILES", "ClassBreaks", "Footer", "choropleth", "class_breaks", "save_html", "to_html"]

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

#: Above this many blocks the map draws on a canvas instead of one SVG path per block.
CANVAS_ABOVE = 3000

_CSS = """<style>
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


class _HtmlControl(MacroElement):
    """A Leaflet control holding pre-escaped HTML (legend, title)."""

    _template = _CONTROL

    def __init__(self, markup: str, *, css_class: str, position: str, css: str = "") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html = markup
        self.css_class = css_class
        self.position = position
        self.css = css


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only."""

    _template = Template(
        """{% macro script(this, kwargs) %}
L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )


def _metric(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4548, refusing a frame without a CRS."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise MapError(f"`{what}` must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise CRSError(f"`{what}` has no CRS; set it (e.g. frame.set_crs('EPSG:4548')) before mapping")
    return frame if frame.crs == METRIC_CRS else frame.to_crs(METRIC_CRS)


def _check_polygons(frame: gpd.GeoDataFrame, what: str) -> None:
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


def _display_geometry(geoms: np.ndarray, *, simplify_m: float | None, gcj02: bool) -> np.ndarray:
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


def _collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for i, (geom, prop) in enumerate(zip(geoms, props, strict=True)):
        features.append(
            {"type": "Feature", "id": str(i), "properties": prop, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def _tooltip(row: pd.Series, columns: Sequence[str], labels: str, overrides: dict[str, dict[str, Any]]) -> str:
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


def _legend(breaks: ClassBreaks, title: str, *, unit: str, has_missing: bool) -> str:
    rows = [f'<div class="zgc-legend-title">{html.escape(title)}</div>']
    for colour, text in zip(breaks.colours, breaks.labels(unit=unit), strict=True):
        rows.append(f'<div><span class="zgc-swatch" style="background:{colour}"></span>{html.escape(text)}</div>')
    if has_missing:
        rows.append('<div><span class="zgc-swatch" style="background:#d9d9d9"></span>无数据 no data</div>')
    return "".join(rows)


def _tile_layer(tiles: str, key: str | None) -> folium.TileLayer:
    name = tiles.lower()
    if name not in TILES:
        raise MapError(f"tiles={tiles!r} is not one of {sorted(TILES)} (or None for no web tiles)")
    url, attr, subdomains = TILES[name]
    if name == "tianditu":
        if not key:
            raise MapError('tiles="tianditu" needs tianditu_key=... (a key from console.tianditu.gov.cn)')
        url = url.replace("{key}", html.escape(key, quote=True))
    return folium.TileLayer(tiles=url, attr=attr, name=html.escape(name), subdomains=subdomains, overlay=False)


def choropleth(
    blocks: gpd.GeoDataFrame,
    column: str,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    cmap: str = "YlOrRd",
    labels: str = "both",
    label_zh: str | None = None,
    label_en: str | None = None,
    unit: str | None = None,
    tooltip_columns: Sequence[str] | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    simplify_m: float | None = 2.0,
    renderer: str = "auto",
) -> folium.Map:
    """Draw one column of the blocks in classes on a Leaflet map.

    Parameters
    ----------
    blocks
        Block table with a CRS (reprojected to EPSG:4548 for simplification, EPSG:4326 for display).
    column
        The numeric column to map.
    scheme, k, bins, cmap
        Class breaks, see :func:`class_breaks` (quantiles, natural_breaks, equal_interval, explicit).
    labels
        Legend and tooltip language: ``"zh"``, ``"en"`` or ``"both"``.
    label_zh, label_en, unit
        Override the column's labels and unit (default: from :data:`zgc_space.schema.COLUMNS`).
    tooltip_columns
        Columns shown on hover (default: ``block_id``, ``name``, ``subpark`` where present, then
        ``column``).
    subparks
        Draw each sub-park's outline (the blocks dissolved by ``subpark``).
    districts
        An optional context layer (e.g. the district boundaries), drawn underneath.
    tiles
        ``None`` (default: no web tiles, works offline), ``"openstreetmap"``, ``"tianditu"``
        (needs ``tianditu_key``) or ``"gaode"`` (vectors shifted to GCJ-02 to sit on its tiles).
    title
        A title box at the top of the map.
    simplify_m
        Display-simplification tolerance in metres (``None`` or 0 for none).
    renderer
        ``"svg"`` (one path per block), ``"canvas"`` (faster for very many blocks) or ``"auto"``
        (canvas above 3,000 blocks).

    Returns
    -------
    folium.Map
        Save it with :func:`save_html`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园", "海淀园"],
    ...     "gfa_m2": [12000.0, 30500.0]},
    ...     geometry=[box(440000, 4428000, 440100, 4428100), box(440100, 4428000, 440200, 4428100)],
    ...     crs="EPSG:4548")
    >>> page = to_html(choropleth(blocks, "gfa_m2", k=2))
    >>> "zgc-legend" in page, "https://cdn" in page
    (True, False)
    """
    if renderer not in ("auto", "svg", "canvas"):
        raise MapError(f"renderer={renderer!r} is not one of 'auto', 'svg', 'canvas'")
    metric = _metric(blocks, "blocks")
    if len(metric) == 0:
        raise MapError("`blocks` is empty: nothing to map")
    _check_polygons(metric, "blocks")
    values = numeric_values(metric, column)
    breaks = class_breaks(values, scheme=scheme, k=k, bins=bins, cmap=cmap)
    overrides = {"label_zh": label_zh, "label_en": label_en, "unit": unit}
    legend_text = legend_title(column, labels, **overrides)
    _, _, unit_zh, unit_en = column_labels(column, **overrides)
    gcj02 = tiles is not None and tiles.lower() == "gaode"
    canvas = renderer == "canvas" or (renderer == "auto" and len(metric) > CANVAS_ABOVE)

    m = folium.Map(
        tiles=None, prefer_canvas=canvas, attribution_control=tiles is not None
    )
    if title:
        root = m.get_root()
        root.title = html.escape(title)  # type: ignore[attr-defined]  # the root is a branca Figure
    if tiles is not None:
        _tile_layer(tiles, tianditu_key).add_to(m)
    _MetricScale().add_to(m)

    if districts is not None:
        dist = _metric(districts, "districts")
        _check_polygons(dist, "districts")
        geoms = _display_geometry(dist.geometry.values, simplify_m=(simplify_m or 0) * 10, gcj02=gcj02)
        folium.GeoJson(
            _collection(geoms, [{} for _ in geoms]),
            name=html.escape("行政区 Districts"),
            style_function=lambda _f: {"color": "#888888", "weight": 1, "fillColor": "#f2f2f2",
                                       "fillOpacity": 0.6, "dashArray": "4 3"},
            interactive=False,
        ).add_to(m)

    display = _display_geometry(metric.geometry.values, simplify_m=simplify_m, gcj02=gcj02)
    if tooltip_columns is None:
        tooltip_columns = [c for c in ("block_id", "name", "subpark") if c in metric.columns] + [column]
    missing_cols = [c for c in tooltip_columns if c not in metric.columns]
    if missing_cols:
        raise MapError(f"tooltip_columns {missing_cols} are not columns of `blocks`")
    fill = breaks.colour_of(values)
    props = []
    for i in range(len(metric)):
        row = metric.iloc[i]
        props.append({"tip": _tooltip(row, tooltip_columns, labels, {column: overrides}), "fill": fill[i]})
    layer_name = html.escape(legend_text)
    folium.GeoJson(
        _collection(display, props),
        name=layer_name,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555", "weight": 0.8,
                                  "fillOpacity": 0.85},
        highlight_function=lambda _f: {"weight": 2.5, "color": "#000000"},
        on_each_feature=JsCode("function (f, layer) { layer.bindTooltip(f.properties.tip, {sticky: true}); }"),
        className="zgc-block",
    ).add_to(m)

    if subparks and "subpark" in metric.columns:
        groups = pd.Series(range(len(metric))).groupby(metric["subpark"].astype(str).to_numpy(), sort=True)
        names, outlines = [], []
        for name, idx in groups:
            part = display[idx.to_numpy()]
            names.append(name)
            outlines.append(shapely.union_all(part))
        folium.GeoJson(
            _collection(np.asarray(outlines, dtype=object), [{} for _ in names]),
            name=html.escape("分园边界 Sub-park outlines"),
            style_function=lambda _f: {"color": "#1f3a93", "weight": 2.2, "fill": False},
            interactive=False,
        ).add_to(m)

    missing = bool(np.isnan(values).any())
    unit_txt = {"zh": unit_zh, "en": unit_en, "both": unit_zh}[labels]
    _HtmlControl(
        _legend(breaks, legend_text, unit=unit_txt, has_missing=missing),
        css_class="zgc-box zgc-legend",
        position="bottomright",
        css=_CSS,
    ).add_to(m)
    if title:
        _HtmlControl(
            f'<div class="zgc-title">{html.escape(title)}</div>', css_class="zgc-box", position="topleft"
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    minx, miny, maxx, maxy = shapely.total_bounds(display)
    m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    logger.info("choropleth of %r: %d blocks, %d classes (%s)", column, len(metric), breaks.k, breaks.scheme)
    return m


def _footer_html(footer: Footer) -> str:
    items = " · ".join(
        f"<span>{html.escape(k)}: {html.escape(v)}</span>" for k, v in footer.items()
    )
    return (
        "<style>.zgc-footer { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000; "
        "background: rgba(255,255,255,0.92); font-size: 11px; padding: 2px 8px; color: #333; "
        'font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; } '
        ".leaflet-bottom { bottom: 1.7em; }</style>\n"
        f'<div class="zgc-footer">{items}</div>\n'
    )


def to_html(m: folium.Map, *, offline: bool = True, footer: Footer | None = None) -> str:
    """Render a map to one HTML string, as :func:`save_html` writes it.

    Examples
    --------
    >>> import folium
    >>> page = to_html(folium.Map(tiles=None), footer=Footer(data_source="<sample>"))
    >>> "cdn.jsdelivr" in page, "&lt;sample&gt;" in page
    (False, True)
    """
    if not isinstance(m, folium.Map):
        raise MapError(f"expected a folium.Map, got {type(m).__name__}")
    if footer is not None and not isinstance(footer, Footer):
        raise MapError(f"footer must be a zgc_space.maps.Footer, got {type(footer).__name__}")
    root = m.get_root()
    if not isinstance(root, Figure):
        raise MapError("the map is not attached to a page (branca Figure); create it with folium.Map")
    page = offline_html(root, offline=offline)
    if footer is not None and footer.items():
        at = page.rindex("</body>")
        page = page[:at] + _footer_html(footer) + page[at:]
    if offline and any(isinstance(c, folium.TileLayer) for c in m._children.values()):
        logger.info("the map has web tile layers: they need the network; the rest works offline")
    return page


def save_html(
    m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True, footer: Footer | None = None
) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m
        A map, e.g. from :func:`choropleth`.
    path
        Where to write (a temporary file in the same folder is renamed over it).
    offline
        Inline Leaflet's JavaScript, CSS and images from the installed ``xstatic`` packages
        (default), so the page makes no network request; ``False`` links folium's CDNs.
    footer
        Review number (审图号), data source, CRS and date shown along the bottom.

    Returns
    -------
    pathlib.Path
        The written file. Element ids come from a counter, so the same inputs give the same bytes.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> out = save_html(folium.Map(tiles=None), pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> out.stat().st_size > 100_000
    True
    """
    page = to_html(m, offline=offline, footer=footer)
    out = write_atomic(path, page.encode("utf-8"))
    logger.info("wrote %s (%d bytes)", out, out.stat().st_size)
    return out

