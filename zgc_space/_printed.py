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
from matplotlib.patches import Patch

from zgc_space._mapstyle import Footer, write_atomic
from zgc_space.errors import MapError
from zgc_space.schema import METRIC_CRS
from zgc_space.static import PAPER_MM, _draw_districts, _finish_page, _page, _path, cjk_font

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
    fig, ax = _page(paper)
    if districts is not None:
        _draw_districts(ax, districts.to_crs(METRIC_CRS))
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
    _finish_page(fig, ax, geoms, prop, handles=handles, heading=legend_title, title=title, footer=footer,
                 summary=f"{len(metric)} 个区块 blocks · 绘图坐标 drawn in EPSG:4548")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return write_atomic(Path(path), buf.getvalue())
