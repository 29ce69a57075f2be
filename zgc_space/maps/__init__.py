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

import folium
import geopandas as gpd
import numpy as np
from branca.element import Figure

from zgc_space import indicators
from zgc_space.errors import MapError
from zgc_space.io import write_atomic
from zgc_space.maps._leaflet import (
    TILES,
    block_layer,
    check_polygons,
    display_geometry,
    districts_layer,
    finish_map,
    legend_html,
    metric_frame,
    new_map,
    subpark_outlines,
    tooltip_html,
)
from zgc_space.maps._offline import INLINE_ASSETS, asset_text, offline_html, walk
from zgc_space.maps._style import (
    ClassBreaks,
    Footer,
    class_breaks,
    column_labels,
    format_value,
    legend_title,
    numeric_values,
)

__all__ = [
    "TILES", "ClassBreaks", "Footer", "choropleth", "class_breaks", "format_value", "offline_asset", "save_html",
    "to_html",
]

logger = logging.getLogger(__name__)

#: Above this many blocks the map draws on a canvas instead of one SVG path per block.
CANVAS_ABOVE = 3000


def choropleth(
    blocks: gpd.GeoDataFrame,
    column: str,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    cmap: str = "YlOrRd",
    breaks: ClassBreaks | None = None,
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
    legend: bool = True,
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
    breaks
        Ready-made classes (e.g. :func:`class_breaks` over several layers, so that maps share
        them); ``scheme``, ``k``, ``bins`` and ``cmap`` are then not used.
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
    legend
        Draw the legend (small multiples draw it once, :func:`~zgc_space.scenario_maps.compare_map`).

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
    metric = metric_frame(blocks, "blocks")
    if len(metric) == 0:
        raise MapError("`blocks` is empty: nothing to map")
    check_polygons(metric, "blocks")
    if column not in metric.columns and column in indicators.INDICATORS:
        metric = indicators.attach(metric, column)  # an indicator id: computed per block
    values = numeric_values(metric, column)
    if breaks is None:
        breaks = class_breaks(values, scheme=scheme, k=k, bins=bins, cmap=cmap)
    elif not isinstance(breaks, ClassBreaks):
        raise MapError(f"breaks must be a ClassBreaks (from class_breaks), got {type(breaks).__name__}")
    overrides = {"label_zh": label_zh, "label_en": label_en, "unit": unit}
    legend_text = legend_title(column, labels, **overrides)
    _, _, unit_zh, unit_en = column_labels(column, **overrides)
    gcj02 = tiles is not None and tiles.lower() == "gaode"
    canvas = renderer == "canvas" or (renderer == "auto" and len(metric) > CANVAS_ABOVE)

    m = new_map(tiles=tiles, tianditu_key=tianditu_key, title=title, canvas=canvas)
    districts_layer(m, districts, simplify_m, gcj02, labels)
    display = display_geometry(metric.geometry.values, simplify_m=simplify_m, gcj02=gcj02)
    if tooltip_columns is None:
        tooltip_columns = [c for c in ("block_id", "name", "subpark") if c in metric.columns] + [column]
    missing_cols = [c for c in tooltip_columns if c not in metric.columns]
    if missing_cols:
        raise MapError(f"tooltip_columns {missing_cols} are not columns of `blocks`")
    fill = breaks.colour_of(values)
    props = [{"tip": tooltip_html(metric.iloc[i], tooltip_columns, labels, {column: overrides}), "fill": fill[i]}
             for i in range(len(metric))]
    block_layer(m, display, props, legend_text)
    if subparks:
        subpark_outlines(m, metric, display, labels)
    unit_txt = unit_en if labels == "en" else unit_zh
    legend_box = legend_html(breaks, legend_text, unit=unit_txt, has_missing=bool(np.isnan(values).any()),
                             lang=labels)
    finish_map(m, display, legend=legend_box if legend else None, title=title, info=None)
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


def to_html(m: folium.Map | Figure, *, offline: bool = True, footer: Footer | None = None) -> str:
    """Render a map (or a page of maps, e.g. :func:`zgc_space.scenario_maps.compare_map`) to HTML.

    The string is what :func:`save_html` writes.

    Examples
    --------
    >>> import folium
    >>> page = to_html(folium.Map(tiles=None), footer=Footer(data_source="<sample>"))
    >>> "cdn.jsdelivr" in page, "&lt;sample&gt;" in page
    (False, True)
    """
    if not isinstance(m, (folium.Map, Figure)):
        raise MapError(f"expected a folium.Map or a branca Figure, got {type(m).__name__}")
    if footer is not None and not isinstance(footer, Footer):
        raise MapError(f"footer must be a zgc_space.maps.Footer, got {type(footer).__name__}")
    root = m.get_root()
    if not isinstance(root, Figure):
        raise MapError("the map is not attached to a page (branca Figure); create it with folium.Map")
    page = offline_html(root, offline=offline)
    if footer is not None and footer.items():
        at = page.rindex("</body>")
        page = page[:at] + _footer_html(footer) + page[at:]
    if offline and any(isinstance(c, folium.TileLayer) for c in walk(root)):
        logger.info("the map has web tile layers: they need the network; the rest works offline")
    return page


def offline_asset(name: str) -> str:
    """Return the text of an asset offline maps inline, from its PyPI package (no network).

    ``name`` is ``"leaflet"`` (Leaflet 1.9.3's JavaScript), ``"leaflet_css"`` (its CSS, images as
    ``data:`` URIs) or ``"jquery"``; the text is ready to go inside ``<script>`` or ``<style>``.
    Other front ends (the proposal editor) use it to work offline as the saved maps do.

    Examples
    --------
    >>> "Leaflet 1.9.3" in offline_asset("leaflet"), "http" in offline_asset("leaflet_css")
    (True, False)
    """
    if name not in INLINE_ASSETS:
        raise MapError(f"no offline asset {name!r}; use one of {', '.join(INLINE_ASSETS)}")
    return asset_text(name)


def save_html(
    m: folium.Map | Figure, path: str | os.PathLike[str], *, offline: bool = True, footer: Footer | None = None
) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m
        A map, e.g. from :func:`choropleth`, or a page of maps (:func:`~zgc_space.scenario_maps.compare_map`).
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

