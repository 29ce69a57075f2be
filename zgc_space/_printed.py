"""Printed maps of categories (a proposal's changes, dynamic-adjustment statuses) for the pack.

Private: :mod:`zgc_space.report` prints these next to the web maps. The page layout (paper, CJK
font, scale bar, north arrow, footer, no timestamp in the file) is the one of
:func:`zgc_space.static.static_map`; the blocks are filled by category instead of by class.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from zgc_space._mapstyle import Footer, write_atomic
from zgc_space.errors import MapError
from zgc_space.schema import METRIC_CRS
from zgc_space.static import PAPER_MM, _north_arrow, _path, _scale_bar, cjk_font

__all__ = ["category_map"]


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
) -> Path:
    """Print ``frame``'s polygons filled by category as a PNG; return the file written.

    ``styles`` maps each category to ``(legend label, colour)``, in legend order; categories
    absent from ``styles`` are refused. ``dashed`` categories are drawn with dashed edges,
    ``quiet`` ones (e.g. unchanged blocks) with thin edges;
    ``outlines`` (EPSG:4548) are drawn as dashed lines without fill.
    """
    if paper not in PAPER_MM:
        raise MapError(f"paper={paper!r} is not one of {sorted(PAPER_MM)}")
    cats = np.asarray([str(c) for c in categories], dtype=object)
    unknown = sorted(set(cats) - set(styles))
    if unknown:
        raise MapError(f"categories {unknown} have no style")
    metric = frame if frame.crs == METRIC_CRS else frame.to_crs(METRIC_CRS)
    prop = cjk_font()
    width_mm, height_mm = PAPER_MM[paper]
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4))
    ax = fig.add_axes((0.03, 0.08, 0.68, 0.82))
    ax.set_axis_off()
    ax.set_aspect("equal")
    if districts is not None:
        dist = districts.to_crs(METRIC_CRS)
        ax.add_collection(PathCollection([_path(g) for g in dist.geometry.values], facecolors="#f2f2f2",
                                         edgecolors="#888888", linewidths=0.5, linestyles="--", zorder=1))
    geoms = metric.geometry.values
    handles = []
    for z, (cat, (label, colour)) in enumerate(styles.items()):
        mask = cats == cat
        if not mask.any():
            continue
        style: Literal["--", "-"] = "--" if cat in dashed else "-"
        width = 0.3 if cat in quiet else 0.9
        ax.add_collection(PathCollection([_path(g) for g in geoms[mask]], facecolors=colour, edgecolors="#333333",
                                         linewidths=width, linestyles=style, zorder=2 + z))
        handles.append(Patch(facecolor=colour, edgecolor="#333333", linestyle=style, label=f"{label} ({mask.sum()})"))
    if len(outlines):
        ax.add_collection(PathCollection([_path(g) for g in outlines], facecolors="none", edgecolors="#2c7fb8",
                                         linewidths=0.8, linestyles="--", zorder=20))
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    pad = 0.08 * max(xmax - xmin, ymax - ymin, 1.0)
    bounds = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    _scale_bar(ax, bounds, prop)
    _north_arrow(ax, prop)
    legend = fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.73, 0.5), frameon=False,
                        prop=prop.copy(), title=legend_title, title_fontproperties=prop.copy())
    legend.get_title().set_fontsize(9)
    for text in legend.get_texts():
        text.set_fontsize(8)
    if title:
        fig.text(0.03, 0.95, title, fontproperties=prop, fontsize=14, va="center")
    lines = [f"{len(metric)} 个区块 blocks · 绘图坐标 drawn in EPSG:4548"]
    if footer is not None and footer.items():
        lines.insert(0, footer.text())
    fig.text(0.03, 0.03, "\n".join(lines), fontproperties=prop, fontsize=7, va="bottom")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return write_atomic(Path(path), buf.getvalue())
