"""The result of :func:`zgc_space.accounting.account`: block table, land account layer, conflicts, summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import schema
from zgc_space.accounting import _clip
from zgc_space.accounting._codes import CodeMapping

__all__ = ["Accounting"]


@dataclass(frozen=True)
class Accounting:
    """The result of :func:`zgc_space.accounting.account`.

    Attributes
    ----------
    blocks
        The block table (EPSG:4548): identity columns of the input, ``site_area_m2``, every land,
        building and economy column of :mod:`zgc_space.schema` (NaN where no layer gives it), the
        per-plot capacity and ``*_source`` columns.
    pieces
        The land account layer: one row per piece (block × survey parcel × plan plot × supply,
        idle and serviced polygons) with its class, flags, source ids and ``area_m2``. The
        polygons the last overlay step cut are built when ``pieces`` is first read (about 0.1 s
        for 100,000 pieces): a run that needs only the block table does not pay for them.
    conflicts
        Every disagreement found: ``kind``, ``layer``, ``block_id``, ``feature_id``, ``other_id``,
        ``area_m2``, ``detail`` and the geometry where it has one.
    summary
        Class totals in km² per block, sub-park and zone (``level`` column).
    codes
        The code mapping used (``codes.table`` lists every entry and its file).
    missing
        Columns no given layer could fill (left NaN, never zero).
    sources
        Column → where its values came from.
    notes
        Things the user should know (planar vs TBMJ area, reprojections, options used).
    inputs
        Layer name → files read.
    pieces_files
        Where the pieces were written instead of being kept (``account(..., pieces_out=)``): the
        GeoParquet parts, one per partition; ``pieces`` then has the columns and no rows.
    """

    blocks: gpd.GeoDataFrame
    _pieces: gpd.GeoDataFrame | _LazyPieces = field(repr=False)
    conflicts: gpd.GeoDataFrame
    summary: pd.DataFrame
    codes: CodeMapping = field(repr=False)
    missing: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    inputs: dict[str, list[str]] = field(default_factory=dict)
    pieces_files: tuple[str, ...] = ()

    @property
    def pieces(self) -> gpd.GeoDataFrame:
        """The land account layer (see the class docstring); its polygons are built when it is first read."""
        if isinstance(self._pieces, _LazyPieces):
            object.__setattr__(self, "_pieces", self._pieces.build())  # once: the result is kept
        assert isinstance(self._pieces, gpd.GeoDataFrame)
        return self._pieces


@dataclass(frozen=True)
class _LazyPieces:
    """The pieces' columns and geometries whose polygons the overlay's last step left unbuilt."""

    frame: pd.DataFrame
    geoms: np.ndarray
    store: _clip.Deferred

    def build(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(self.frame, geometry=self.store.build(self.geoms), crs=schema.METRIC_CRS)
