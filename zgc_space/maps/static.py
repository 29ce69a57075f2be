"""Printed block maps (PNG and PDF) with Chinese labels, scale bar, north arrow and footer.

Drawn with matplotlib's object API (no pyplot state) directly in EPSG:4548, so the scale bar
is exact in metres and the arrow points to grid north (Gauss-Kruger CM 117°E; true north differs
by under 0.6° across Beijing). Labels need a CJK font: Noto Sans CJK SC, from the Debian
package ``fonts-noto-cjk`` (the Makefile's ``system`` target installs it). Output is
reproducible: PNG and PDF carry no timestamp or software version.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath

from zgc_space import crs as _crs
from zgc_space import indicators, labels
from zgc_space.errors import CRSError, DataFileError, MapError
from zgc_space.io import write_atomic
from zgc_space.labels import pick, term
from zgc_space.maps._style import (
    NO_DATA_COLOUR,
    Footer,
    class_breaks,
    column_labels,
    legend_title,
    numeric_values,
)
from zgc_space.schema import METRIC_CRS

__all__ = ["CJK_FAMILIES", "PAPER_MM", "category_map", "cjk_font", "static_map"]

logger = logging.getLogger(__name__)

#: Font families tried in order; the first is what the Makefile installs.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
#: Paper sizes (width, height) in millimetres, landscape.
PAPER_MM: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}

_CJK_FILE = re.compile(r"(CJK|SourceHan|wqy|WenQuanYi)", re.IGNORECASE)


def cjk_font(path: str | os.PathLike[str] | None = None) -> font_manager.FontProperties:
    """Return the font used for Chinese text on printed maps.

    Parameters
    ----------
    path
        A TrueType/OpenType font file (``.ttf``, ``.otf``, ``.ttc``) to use instead of the
        installed families in :data:`CJK_FAMILIES`.

    Raises
    ------
    DataFileError
        When no CJK font is installed (install the Debian package ``fonts-noto-cjk``) or
        ``path`` does not exist.

    Examples
    --------
    >>> cjk_font().get_family()[0] in CJK_FAMILIES
    True
    """
    if path is not None:
        font_path = Path(path)
        if not font_path.is_file():
            raise DataFileError(f"font file {str(font_path)!r} does not exist; pass a .ttf/.otf/.ttc file")
        font_manager.fontManager.addfont(str(font_path))
        return font_manager.FontProperties(fname=str(font_path))
    for attempt in range(2):
        names = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in names:
                return font_manager.FontProperties(family=family)
        if attempt == 0:  # matplotlib's font cache may predate the font's installation
            for found in font_manager.findSystemFonts():
                if _CJK_FILE.search(Path(found).name):
                    font_manager.fontManager.addfont(found)
    raise DataFileError(
        f"no CJK font found for printed maps (tried {', '.join(CJK_FAMILIES)}): install "
        "'Noto Sans CJK SC' from the Debian package "
        "fonts-noto-cjk (apt-get install fonts-noto-cjk, or `make system`), or pass font=<path to a .ttf/.ttc>"
    )


def _path(geom: shapely.Geometry) -> MplPath:
    """One matplotlib path (exteriors and holes) for a Polygon or MultiPolygon."""
    rings = []
    for poly in getattr(geom, "geoms", [geom]):
        rings.append(MplPath(np.asarray(poly.exterior.coords)[:, :2], closed=True))
        rings.extend(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in poly.interiors)
    return MplPath.make_compound_path(*rings)


def _nice_length(span_m: float) -> float:
    """Return a 1-2-5 length close to a fifth of ``span_m``."""
    target = span_m / 5
    base = 10 ** math.floor(math.log10(target))
    return cast("float", max(m * base for m in (1, 2, 5) if m * base <= target))


def _scale_bar(ax: Axes, bounds: tuple[float, float, float, float], font: font_manager.FontProperties) -> None:
    xmin, ymin, xmax, ymax = bounds
    length = _nice_length(xmax - xmin)
    x0, y0 = xmin + 0.02 * (xmax - xmin), ymin + 0.015 * (ymax - ymin)
    h = 0.012 * (ymax - ymin)
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, h, facecolor=colour, edgecolor="black",
                               linewidth=0.8, zorder=5))
    in_km = length >= 1000
    for frac in (0, 0.5, 1):
        value = length * frac / (1000 if in_km else 1)
        text = f"{value:g}" + ((" km" if in_km else " m") if frac == 1 else "")
        ax.text(x0 + frac * length, y0 + 1.6 * h, text, ha="center", va="bottom", fontproperties=font,
                fontsize=8, zorder=5)


def _north_arrow(ax: Axes, font: font_manager.FontProperties, lang: str = "zh+en") -> None:
    ax.annotate("", xy=(0.96, 0.97), xytext=(0.96, 0.87), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>,head_width=0.4,head_length=0.8", "color": "black", "lw": 1.5})
    text = labels.pick("北", "N", lang) if lang != "zh+en" else "N 北"
    ax.text(0.96, 0.84, text, transform=ax.transAxes, ha="center", va="top", fontproperties=font, fontsize=10)


def place_names(ax: Axes, geoms: Sequence[shapely.Geometry], names: Sequence[str], font: font_manager.FontProperties,
                *, size: float, colour: str, weight: str = "normal", zorder: int = 6) -> None:
    """Write each name at a point inside its polygon (sub-parks, districts, changed blocks); clipped to the map."""
    for geom, name in zip(geoms, names, strict=True):
        if geom is None or geom.is_empty or not name:
            continue
        pt = shapely.point_on_surface(geom)
        ax.text(pt.x, pt.y, str(name), ha="center", va="center", fontproperties=font, fontsize=size, color=colour,
                fontweight=weight, zorder=zorder, clip_on=True,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.6})


def _overview(fig: Figure, geoms: np.ndarray, box: tuple[float, float, float, float]) -> None:
    """Draw the whole zone small in a corner with the map's extent as a red rectangle."""
    inset = fig.add_axes((0.74, 0.70, 0.22, 0.22))
    inset.set_axis_off()
    inset.set_aspect("equal")
    inset.add_collection(PathCollection([_path(g) for g in geoms], facecolors="#bbbbbb", edgecolors="none"))
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1.0)
    inset.set_xlim(xmin - pad, xmax + pad)
    inset.set_ylim(ymin - pad, ymax + pad)
    inset.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], facecolor="none",
                              edgecolor="#d7191c", linewidth=1.2))


def _page(paper: str) -> tuple[Figure, Axes]:
    """Return a landscape page of ``paper`` (a key of :data:`PAPER_MM`) and the map axes on its left."""
    width_mm, height_mm = PAPER_MM[paper]
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4))
    ax = fig.add_axes((0.03, 0.08, 0.68, 0.82))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _draw_districts(ax: Axes, districts: gpd.GeoDataFrame) -> None:
    """Draw the district layer (in EPSG:4548) grey with dashed edges under the blocks."""
    ax.add_collection(PathCollection([_path(g) for g in districts.geometry.values], facecolors="#f2f2f2",
                                     edgecolors="#888888", linewidths=0.5, linestyles="--", zorder=1))


def _finish_page(fig: Figure, ax: Axes, geoms: np.ndarray, font: font_manager.FontProperties, *,
                 handles: Sequence[Patch], heading: str, title: str | None, summary: str,
                 footer: Footer | None, lang: str = "zh+en", focus: np.ndarray | None = None) -> None:
    """Zoom to ``geoms`` (or to ``focus``, with an overview of ``geoms``); add scale bar, arrow, legend, title, footer.

    The footer holds ``footer``'s text (when it has items) above the ``summary`` line.
    """
    shown = geoms if focus is None or len(focus) == 0 else focus
    xmin, ymin, xmax, ymax = shapely.total_bounds(shown)
    side = max(xmax - xmin, ymax - ymin, 3000.0 if shown is not geoms else 1.0)  # a few km at least around changes
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    xmin, xmax, ymin, ymax = (min(xmin, cx - side / 2), max(xmax, cx + side / 2), min(ymin, cy - side / 2),
                              max(ymax, cy + side / 2))
    pad = 0.08 * max(xmax - xmin, ymax - ymin, 1.0)
    bounds = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    _scale_bar(ax, bounds, font)
    _north_arrow(ax, font, lang)
    if shown is not geoms:
        _overview(fig, geoms, bounds)
    legend = fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.73, 0.42 if shown is not geoms else 0.5),
                        frameon=False,
                        prop=font.copy(), title=heading, title_fontproperties=font.copy())
    legend.get_title().set_fontsize(9)
    for text in legend.get_texts():
        text.set_fontsize(8)
    if title:
        fig.text(0.03, 0.95, title, fontproperties=font, fontsize=14, va="center")
    lines = [summary]
    if footer is not None and footer.items():
        lines.insert(0, footer.text())
    fig.text(0.03, 0.03, "\n".join(lines), fontproperties=font, fontsize=7, va="bottom")


def _metric(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4548 through the package's CRS policy (:func:`zgc_space.crs.to_metric`).

    Refused CRSs (EPSG:4547, local systems, data outside Beijing) raise CRSError; a
    ReprojectionWarning (e.g. for longitude/latitude input) reaches the caller of static_map.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _crs.to_metric(frame, source=what, allow_guess=False)
    for w in caught:
        warnings.warn(str(w.message), w.category, stacklevel=3)
    return out


def static_map(
    blocks: gpd.GeoDataFrame,
    column: str,
    *,
    path: str | os.PathLike[str],
    formats: Sequence[str] | None = None,
    paper: str = "A4",
    dpi: int = 200,
    footer: Footer | None = None,
    title: str | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    cmap: str = "YlOrRd",
    labels: str = "zh",
    label_zh: str | None = None,
    label_en: str | None = None,
    unit: str | None = None,
    subparks: bool = True,
    districts: gpd.GeoDataFrame | None = None,
    font: str | os.PathLike[str] | None = None,
) -> tuple[Path, ...]:
    """Draw one column of the blocks in classes as a printable landscape map.

    Parameters
    ----------
    blocks
        Block table with a CRS (drawn in EPSG:4548).
    column
        The numeric column to map.
    path
        Output file; its suffix (``.png`` or ``.pdf``) picks the format unless ``formats``
        is given, in which case one file per format is written next to it
        (``path.with_suffix(".png")``, ...). Every write is atomic.
    formats
        E.g. ``("png", "pdf")``.
    paper
        ``"A4"`` or ``"A3"``, landscape.
    dpi
        Resolution of the PNG.
    footer
        Review number (审图号), data source, CRS and date printed at the foot.
    title
        Printed at the top.
    scheme, k, bins, cmap, labels, label_zh, label_en, unit
        As in :func:`zgc_space.maps.choropleth` (the same classes for the same arguments).
    subparks
        Draw each sub-park's outline.
    districts
        Optional context layer drawn underneath.
    font
        A CJK font file to use instead of the installed Noto Sans CJK SC.

    Returns
    -------
    tuple of pathlib.Path
        The files written.

    Raises
    ------
    CRSError
        ``blocks`` or ``districts`` without a CRS, or in one that :func:`zgc_space.crs.to_metric`
        refuses (EPSG:4547, a local system, coordinates outside Beijing).
    MapError
        Unknown format or paper, empty blocks, a column that cannot be classed.

    Warns
    -----
    ReprojectionWarning
        The blocks or districts were not in EPSG:4548 (e.g. longitude/latitude) and were
        reprojected for drawing.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园", "海淀园"],
    ...     "employees": [1200.0, 5300.0]},
    ...     geometry=[box(440000, 4428000, 440400, 4428300), box(440400, 4428000, 440900, 4428300)],
    ...     crs="EPSG:4548")
    >>> out = static_map(blocks, "employees", k=2, dpi=50,
    ...     path=pathlib.Path(tempfile.mkdtemp()) / "employees.png")
    >>> out[0].suffix, out[0].stat().st_size > 1000
    ('.png', True)
    """
    target = Path(path)
    fmts = tuple(f.lower().lstrip(".") for f in (formats or (target.suffix,)))
    bad = [f for f in fmts if f not in ("png", "pdf")]
    if bad:
        raise MapError(f"cannot write format(s) {bad} for {str(target)!r}: use .png or .pdf")
    if paper not in PAPER_MM:
        raise MapError(f"paper={paper!r} is not one of {sorted(PAPER_MM)}")
    if not isinstance(blocks, gpd.GeoDataFrame) or blocks.crs is None:
        raise CRSError("`blocks` must be a GeoDataFrame with a CRS (e.g. EPSG:4548) to draw a printed map")
    metric = _metric(blocks, "blocks")
    if len(metric) == 0:
        raise MapError("`blocks` is empty: nothing to map")
    prop = cjk_font(font)
    if column not in metric.columns and column in indicators.INDICATORS:
        metric = indicators.attach(metric, column)  # an indicator id: computed per block
    values = numeric_values(metric, column)
    breaks = class_breaks(values, scheme=scheme, k=k, bins=bins, cmap=cmap)
    overrides = {"label_zh": label_zh, "label_en": label_en, "unit": unit}
    heading = legend_title(column, labels, **overrides)
    _, _, unit_zh, unit_en = column_labels(column, **overrides)

    fig, ax = _page(paper)
    if districts is not None:
        if districts.crs is None:
            raise CRSError("`districts` has no CRS; set it before mapping")
        dist = _metric(districts, "districts")
        _draw_districts(ax, dist)
        if "name" in dist.columns:
            place_names(ax, list(dist.geometry.values), dist["name"].astype(str).tolist(), prop, size=7,
                        colour="#777777", zorder=4)
    geoms = metric.geometry.values
    ax.add_collection(PathCollection([_path(g) for g in geoms], facecolors=breaks.colour_of(values),
                                     edgecolors="#555555", linewidths=0.3, zorder=2))
    handles = [Patch(facecolor=c, edgecolor="#555555", label=t)
               for c, t in zip(breaks.colours, breaks.labels(unit=unit_en if labels == "en" else unit_zh),
                               strict=True)]
    if np.isnan(values).any():
        handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#555555", label=term("no_data", labels)))
    if subparks and "subpark" in metric.columns:
        outlines = [shapely.union_all(geoms[(metric["subpark"] == name).to_numpy()])
                    for name in sorted(metric["subpark"].dropna().astype(str).unique())]
        ax.add_collection(PathCollection([_path(g) for g in outlines], facecolors="none",
                                         edgecolors="#1f3a93", linewidths=1.2, zorder=3))
        place_names(ax, outlines, sorted(metric["subpark"].dropna().astype(str).unique()), prop, size=8,
                    colour="#1f3a93", weight="bold")
        handles.append(Patch(facecolor="none", edgecolor="#1f3a93", linewidth=1.2,
                             label=term("subpark_outlines", labels)))
    scheme_name = {"quantiles": ("分位数", "quantiles"), "natural_breaks": ("自然断点", "natural breaks"),
                   "equal_interval": ("等间距", "equal interval"), "explicit": ("指定分级", "explicit")}[breaks.scheme]
    summary = pick(f"{len(metric)} 个区块 · 分级：{scheme_name[0]} · 绘图坐标 EPSG:4548",
                   f"{len(metric)} blocks · classes: {scheme_name[1]} · drawn in EPSG:4548", labels)
    _finish_page(fig, ax, geoms, prop, handles=handles, heading=heading, title=title, footer=footer,
                 summary=summary, lang=labels)

    written = []
    for fmt in fmts:
        buf = io.BytesIO()
        meta = {"Software": None} if fmt == "png" else {"Creator": None, "Producer": None, "CreationDate": None}
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
        out = target if len(fmts) == 1 and target.suffix.lower() == f".{fmt}" else target.with_suffix(f".{fmt}")
        written.append(write_atomic(out, buf.getvalue()))
        logger.info("wrote %s (%d bytes)", out, len(buf.getvalue()))
    return tuple(written)


def category_map(
    frame: gpd.GeoDataFrame,
    categories: Sequence[str],
    styles: Mapping[str, tuple[str, str]],
    *,
    path: str | os.PathLike[str],
    legend_title: str,
    title: str | None = None,
    footer: Footer | None = None,
    paper: str = "A4",
    dpi: int = 150,
    dashed: Sequence[str] = (),
    quiet: Sequence[str] = (),
    outlines: Sequence[shapely.Geometry] = (),
    districts: gpd.GeoDataFrame | None = None,
    pdf: bool = False,
    lang: str = "zh",
    focus: Sequence[int] | None = None,
) -> Path:
    """Print ``frame``'s polygons filled by category as a PNG (and a PDF beside it); return the PNG.

    ``styles`` maps each category to ``(legend label, colour)``, in legend order; categories
    absent from ``styles`` are refused. ``dashed`` categories are drawn with dashed edges,
    ``quiet`` ones (e.g. unchanged blocks) with thin edges, the others with a strong black
    outline; ``outlines`` (EPSG:4548) are drawn as dashed lines without fill. ``focus`` (row
    positions, e.g. the changed blocks) fits the view to those blocks, labels them with their
    ``block_id`` and adds an overview of the whole zone. Sub-park names (``subpark``) and district
    names (``name`` of ``districts``) are written on the map.
    """
    if paper not in PAPER_MM:
        raise MapError(f"paper={paper!r} is not one of {sorted(PAPER_MM)}")
    cats = np.asarray([str(c) for c in categories], dtype=object)
    unknown = sorted(set(cats) - set(styles))
    if unknown:
        raise MapError(f"categories {unknown} have no style")
    metric = frame if frame.crs == METRIC_CRS else frame.to_crs(METRIC_CRS)
    prop = cjk_font()
    fig, ax = _page(paper)
    if districts is not None:
        dist = districts.to_crs(METRIC_CRS)
        _draw_districts(ax, dist)
        if "name" in dist.columns:
            place_names(ax, list(dist.geometry.values), dist["name"].astype(str).tolist(), prop, size=7,
                        colour="#777777", zorder=4)
    geoms = metric.geometry.values
    handles = []
    for z, (cat, (label, colour)) in enumerate(styles.items()):
        mask = cats == cat
        if not mask.any():
            continue
        style: Literal["--", "-"] = "--" if cat in dashed else "-"
        width, edge = (0.3, "#333333") if cat in quiet else (1.8, "#000000")
        ax.add_collection(PathCollection([_path(g) for g in geoms[mask]], facecolors=colour, edgecolors=edge,
                                         linewidths=width, linestyles=style, zorder=2 + z))
        handles.append(Patch(facecolor=colour, edgecolor=edge, linestyle=style, label=f"{label} ({mask.sum()})"))
    if len(outlines):
        ax.add_collection(PathCollection([_path(g) for g in outlines], facecolors="none", edgecolors="#2c7fb8",
                                         linewidths=0.8, linestyles="--", zorder=20))
    if "subpark" in metric.columns:
        names = sorted(metric["subpark"].dropna().astype(str).unique())
        parks = [shapely.union_all(geoms[(metric["subpark"] == n).to_numpy()]) for n in names]
        place_names(ax, parks, names, prop, size=8, colour="#1f3a93", weight="bold")
    chosen = np.asarray([], dtype=int) if focus is None else np.asarray(list(focus), dtype=int)
    if len(chosen) and "block_id" in metric.columns:
        place_names(ax, list(geoms[chosen]), metric["block_id"].astype(str).to_numpy()[chosen].tolist(), prop,
                    size=7, colour="#000000", weight="bold", zorder=30)
    summary = pick(f"{len(metric)} 个区块 · 绘图坐标 EPSG:4548", f"{len(metric)} blocks · drawn in EPSG:4548", lang)
    _finish_page(fig, ax, geoms, prop, handles=handles, heading=legend_title, title=title, footer=footer,
                 summary=summary, lang=lang, focus=geoms[chosen] if len(chosen) else None)
    out = Path(path)
    for fmt in ("png", "pdf") if pdf else ("png",):
        buf = io.BytesIO()
        meta = {"Software": None} if fmt == "png" else {"Creator": None, "Producer": None, "CreationDate": None}
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
        write_atomic(out.with_suffix(f".{fmt}"), buf.getvalue())
    return out
