"""The pack's GIS layers (``layers/results.gpkg``): the blocks and each proposal's adjusted blocks.

Private to :mod:`zgc_space.report`. Every layer carries the per-block indicators its columns
allow, and Chinese field aliases (GeoPackage ``gpkg_data_columns``) that QGIS shows as names.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from zgc_space import indicators, io, labels
from zgc_space.errors import ValidationWarning
from zgc_space.maps.scenario import scenario_categories

__all__ = ["gis_frame", "proposal_layer", "write_layers"]

logger = logging.getLogger(__name__)


def gis_frame(blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the blocks with every per-block indicator their columns allow."""
    usable = [i for i, ind in indicators.INDICATORS.items() if all(c in blocks.columns for c in ind.columns)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        frame = indicators.attach(blocks, usable) if usable else blocks.copy()
    frame.attrs.pop("zgc_sources", None)  # the pack is a new file, never one of the inputs
    return frame


def proposal_layer(baseline: gpd.GeoDataFrame, result: Any, lang: str) -> gpd.GeoDataFrame:
    """Return a proposal's layer: every block of its map with its ``change``, kept ones with their indicators.

    Released blocks keep their outline and their change (调出) but no indicators (they leave the
    zone); admitted, merged and renewed blocks carry their values after the proposal.
    """
    cats, _ = scenario_categories(baseline, result)
    after = gis_frame(result.blocks)
    values = pd.DataFrame(after.drop(columns=after.geometry.name)).drop_duplicates("block_id")
    values["block_id"] = values["block_id"].astype(str)
    cats = cats.assign(block_id=cats["block_id"].astype(str))
    if lang != "en":
        cats = cats.assign(change=labels.translate_frame(cats[["change"]], lang)["change"])
    merged = cats.merge(values, on="block_id", how="left", validate="many_to_one")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=cats.crs)


def write_layers(target: Path, layers: list[tuple[str, gpd.GeoDataFrame]], lang: str) -> None:
    """Write each ``(name, frame)`` as a layer of the GeoPackage ``target``, with field aliases in ``lang``."""
    target.parent.mkdir(exist_ok=True)
    shown = "zh" if lang == "zh+en" else lang
    other = "en" if shown != "en" else "zh"
    for name, frame in layers:
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        logger.info("%s:%s", target.name, name)
        io.write_blocks(frame, target, layer=name, aliases={c: labels.header(c, shown) for c in columns},
                        descriptions={c: labels.header(c, other) for c in columns})
