"""What the editor's front end is made of: one ES module with Leaflet inlined, its CSS, the map data.

The same module serves the Jupyter widget (anywidget's ``_esm``) and the local page of
``zgc-space edit``. Leaflet comes from the installed ``xstatic-leaflet`` package through the
loader the offline HTML maps use, so neither ever asks the network for anything; there are no
tiles by default.
"""

from __future__ import annotations

import functools
import json
from html import escape
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from zgc_space.editor._labels import STATES
from zgc_space.maps import offline_asset
from zgc_space.schema import METRIC_CRS

__all__ = ["editor_css", "editor_module", "map_data", "page_html"]


def _static(name: str) -> str:
    return resources.files("zgc_space.editor").joinpath("static", name).read_text(encoding="utf-8")


@functools.cache
def editor_module() -> str:
    """Return the ES module: Leaflet (as a local ``L``, from its UMD build) followed by ``editor.js``."""
    leaflet = offline_asset("leaflet")  # its escaped closing script tags mean the same in JS
    wrapped = (
        "const L = (() => {\n  const module = { exports: {} };\n  const exports = module.exports;\n"
        f"{leaflet}\n  return module.exports;\n}})();\n"
    )
    return wrapped + _static("editor.js")


@functools.cache
def editor_css() -> str:
    """Return Leaflet's CSS (images as data URIs) and the editor's own."""
    return offline_asset("leaflet_css") + "\n" + _static("editor.css")


def _features(frame: gpd.GeoDataFrame, id_col: str, kind: str) -> list[dict[str, Any]]:
    metric = frame.to_crs(METRIC_CRS) if frame.crs is not None and frame.crs != METRIC_CRS else frame
    geoms = np.asarray(metric.geometry.to_numpy(), dtype=object)
    area_ha = shapely.area(geoms) / 10_000
    points = gpd.GeoSeries(shapely.point_on_surface(geoms), crs=METRIC_CRS).to_crs("EPSG:4326")
    shown = gpd.GeoSeries(geoms, crs=METRIC_CRS).to_crs("EPSG:4326")
    shown = shapely.transform(np.asarray(shown.to_numpy(), dtype=object), lambda xy: np.round(xy, 6))
    names = metric["name"].astype(str).tolist() if "name" in metric.columns else [""] * len(metric)
    parks = metric["subpark"].astype(str).tolist() if "subpark" in metric.columns else [""] * len(metric)
    out = []
    for i, (gid, geom) in enumerate(zip(metric[id_col].astype(str), shown, strict=True)):
        out.append({
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {"id": gid, "kind": kind, "name": names[i], "subpark": parks[i],
                           "area_ha": round(float(area_ha[i]), 2),
                           "point": [round(points.iloc[i].y, 6), round(points.iloc[i].x, 6)]},
        })
    return out


def map_data(blocks: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Return the blocks and candidate areas as GeoJSON (EPSG:4326, 6 decimals) and the state legend."""
    return {
        "blocks": {"type": "FeatureCollection", "features": _features(blocks, "block_id", "block")},
        "candidates": {"type": "FeatureCollection",
                       "features": [] if candidates is None else _features(candidates, "candidate_id", "candidate")},
        "states": {k: {"zh": zh, "en": en, "colour": colour} for k, (zh, en, colour) in STATES.items()},
    }


def _json_in_html(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


def page_html(data: dict[str, Any], view: dict[str, Any], *, token: str, title: str) -> str:
    """Return the local page of ``zgc-space edit``: everything inline, the API on the same origin."""
    module = editor_module().replace("</script", "<\\/script")
    boot = {"geo": data, "view": view, "token": token}
    return (
        "<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>\nhtml, body {{ margin: 0; height: 100%; }}\n"
        f"{editor_css()}\n</style>\n</head>\n<body>\n<div id=\"zgc-app\"></div>\n"
        f"<script type=\"application/json\" id=\"zgc-boot\">{_json_in_html(boot)}</script>\n"
        f"<script type=\"module\">\n{module}\n{_static('page.js')}\n</script>\n</body>\n</html>\n"
    )
