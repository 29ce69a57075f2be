"""The README written next to the sample files: what is published, what is assumed, licences."""

from __future__ import annotations

from pathlib import Path
from string import Template

import pandas as pd

from zgc_space.datasets import _raster as raster
from zgc_space.datasets._shapes import SIMPLIFY_M

__all__: list[str] = []

#: The README template (``string.Template`` fields such as ``$total_km2``), shipped as package data.
TEMPLATE_FILE = Path(__file__).parent / "data" / "sample_README.md.tmpl"


def _table(table: pd.DataFrame) -> str:
    lines = [
        "| sub-park | district | area km² | published / assumed | source | blocks | tier |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        status = "published" if row.published else "assumed"
        source = row.source if row.published else "–"
        cells = (row.subpark, row.district, f"{row.area_km2:.2f}", status, source, row.n_blocks, row.tier)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def render(blocks: pd.DataFrame, table: pd.DataFrame, *, seed: int) -> str:
    """Return the README text for ``blocks`` and the sub-park ``table``."""
    s = blocks.sum(numeric_only=True)
    a = s["built_m2"]
    template = Template(TEMPLATE_FILE.read_text(encoding="utf-8"))
    return template.substitute(
        seed=seed, n_blocks=len(blocks), n_parks=blocks["subpark"].nunique(),
        area=f"{s['site_area_m2'] / 1e6:.2f}", far=f"{s['gfa_m2'] / a:.3f}",
        b=f"{(s['ready_m2'] + s['unready_m2']) / 1e6:.2f}", c=f"{s['nonconstruction_m2'] / 1e6:.2f}",
        a=f"{a / 1e6:.2f}", a1=f"{100 * s['built_residential_m2'] / a:.1f}",
        a2=f"{100 * s['built_industrial_m2'] / a:.1f}", density=f"{100 * s['footprint_m2'] / a:.1f}",
        supply=f"{100 * s['supplied_m2'] / (a + s['ready_m2']):.1f}", completion=f"{100 * a / s['supplied_m2']:.1f}",
        revenue=f"{s['revenue_10k_cny'] / 1e5:,.0f}", tax=f"{s['tax_10k_cny'] / 1e5:,.0f}",
        employees=f"{s['employees'] / 1e6:.2f}", population=f"{s['population'] / 1e6:.2f}",
        table=_table(table), raster_parks=" and ".join(raster.RASTER_SUBPARKS),
        classes=", ".join(f"{k} {v}" for k, v in raster.LANDCOVER_CLASSES.items()),
        height_nodata=f"{raster.HEIGHT_NODATA:g}", lc_nodata=raster.LANDCOVER_NODATA,
        simplify=f"{SIMPLIFY_M:g}",
    )

