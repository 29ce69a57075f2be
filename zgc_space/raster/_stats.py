r"""Zonal statistics of a raster per block: :func:`zonal_stats` and the run of the engine.

Three pixel rules (``method``):

``"center"``
    a pixel belongs to a block when its centre lies inside (the rule of rasterstats' default);
``"all_touched"``
    every pixel the block touches counts in full (rasterstats' ``all_touched=True``);
``"exact"``
    every pixel counts with the fraction of its area the block covers (exactextract's rule):
    ``count`` is then a sum of fractions and ``sum`` is :math:`\sum_i c_i v_i`.

Statistics follow the reference of their rule: rasterstats for ``center`` and
``all_touched``, exactextract for ``exact`` (tested equal to both):

- ``median``, ``percentile_N``, ``quantile(q=Q)``: ``center`` / ``all_touched`` interpolate
  linearly between the order statistics of the pixels (``numpy.percentile``, rasterstats);
  ``exact`` takes exactextract's coverage-weighted quantile (see
  :mod:`zgc_space.raster._distribution`), which exactextract returns in the raster's type: on
  an integer raster it is truncated toward zero (an interpolated 2.02 gives 2), here too;
- ``majority`` / ``minority``: the value with the most / fewest pixels (coverage-weighted with
  ``exact``); a tie gives the lowest value, except ``exact``'s majority, the highest
  (exactextract's rule); ``variety`` and ``unique`` are both the number of distinct values
  (``unique`` is rasterstats' name, a count);
- ``weighted_sum`` :math:`= \sum_i c_i w_i v_i` and ``weighted_mean``
  :math:`= \sum_i c_i w_i v_i / \sum_i c_i w_i` with :math:`w_i` the ``weights`` raster's
  value (exactextract's definitions; :math:`c_i = 1` unless ``exact``).

A block with no valid pixel gets ``count``, ``sum``, ``weighted_sum``, ``variety`` and
``unique`` 0 (the empty sum is 0) and every other statistic NaN.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from zgc_space.errors import RasterCoverageWarning, RasterError
from zgc_space.raster import _tiles, _zonal
from zgc_space.raster._inputs import RasterLike, _ids, block_geoms, is_number, open_raster, warn_coverage
from zgc_space.raster._inputs import bands as _bands
from zgc_space.raster._names import WEIGHTED, parse_stats
from zgc_space.raster._reduce import CategoryAccumulator, StatsAccumulator

logger = logging.getLogger("zgc_space.raster")

#: What ``categorical=`` accepts besides True/False: counts per class, or each class's share of the valid pixels.
CATEGORICAL = ("count", "fraction")


def run(ds: Any, geoms: np.ndarray, acc: Any, *, band: int, method: str, nodata: float | None,
        threads: int | None, progress: bool, min_coverage: float = 0.0,
        weights: _zonal.WeightSource | None = None) -> None:
    """Feed every block's pixels to ``acc``; a read failure becomes a :class:`RasterError`."""
    try:
        _run_plan(ds, geoms, acc, band=band, method=method, nodata=nodata, threads=threads, progress=progress,
                  min_coverage=min_coverage, weights=weights)
    except rasterio.errors.RasterioError as exc:
        raise RasterError(
            f"cannot read the pixels of raster {ds.name!r} ({exc}); the file is truncated or corrupt: get it again, "
            "or check it with gdalinfo -checksum"
        ) from exc


def _run_plan(ds: Any, geoms: np.ndarray, acc: Any, *, band: int, method: str, nodata: float | None,
              threads: int | None, progress: bool, min_coverage: float,
              weights: _zonal.WeightSource | None) -> None:
    the_plan = _zonal.plan(ds, geoms, band=band, method=method)
    logger.info("%s: %d blocks touch %d tiles (band %d)", ds.name, len(geoms), len(the_plan.tiles), band)
    if method == "center" and isinstance(acc, StatsAccumulator) and acc.takes_runs and weights is None:
        runs = _zonal.center_spans(geoms, the_plan.windows, ds.transform)
        minmax = bool({"min", "max", "range"} & acc.kinds)
        acc.add_runs(list(_tiles.iter_run_stats(ds, the_plan, runs, band=band, nodata=nodata, minmax=minmax,
                                                threads=threads, progress=progress)))
        return
    for chunk in _zonal.iter_chunks(ds, geoms, the_plan, band=band, method=method, nodata=nodata,
                                    threads=threads, progress=progress, min_coverage=min_coverage, weights=weights):
        acc.add(chunk)


def check_method(method: str) -> None:
    """Refuse an unknown pixel rule."""
    if method not in _zonal.METHODS:
        raise RasterError(
            f"method={method!r} is not one of {', '.join(_zonal.METHODS)}; pass one of them (\"exact\" weights "
            "pixels by the share of their area inside the block)"
        )


def _check_options(method: str, categorical: bool | str, min_coverage_frac: float,
                   default_weight: float | None) -> str | None:
    check_method(method)
    if categorical is False or categorical is True:
        kind = "count" if categorical else None
    elif isinstance(categorical, str) and categorical in CATEGORICAL:
        kind = categorical
    else:
        raise RasterError(
            f"categorical={categorical!r}: pass True or \"count\" (pixels per class), \"fraction\" (each class's "
            "share of the block's valid pixels) or False"
        )
    if not (is_number(min_coverage_frac, at_least=0.0) and float(min_coverage_frac) <= 1.0):
        raise RasterError(
            f"min_coverage_frac={min_coverage_frac!r} must be a number from 0 to 1: pixels covered by a smaller "
            "share of their area are left out (e.g. 0.5); --min-coverage-frac on the command line"
        )
    if float(min_coverage_frac) > 0 and method != "exact":
        raise RasterError(
            f"min_coverage_frac={min_coverage_frac!r} needs method=\"exact\" (the {method!r} rule does not measure "
            "how much of a pixel a block covers); pass method=\"exact\" or drop the option"
        )
    if default_weight is not None and not is_number(default_weight):
        raise RasterError(f"default_weight={default_weight!r} must be a finite number (or None)")
    return kind


def _weight_source(weights: Any, ds: Any, band: int) -> _zonal.WeightSource:
    """Return the weights raster as a source, refused unless it lies on the value raster's grid."""
    (wb,) = _bands(weights, band)
    if not (weights.crs == ds.crs and weights.transform.almost_equals(ds.transform)
            and weights.shape == ds.shape):
        raise RasterError(
            f"weights raster {weights.name!r} ({weights.width} x {weights.height} pixels, {weights.crs}, origin "
            f"{weights.transform.c:.3f}, {weights.transform.f:.3f}, pixel {weights.transform.a:g}) is not on the "
            "grid of "
            f"raster {ds.name!r} ({ds.width} x {ds.height}, {ds.crs}, origin {ds.transform.c:.3f}, "
            f"{ds.transform.f:.3f}, pixel {ds.transform.a:g}); warp it onto that grid first, e.g. "
            "gdalwarp -te <bounds> -ts <width> <height> -t_srs <crs> -r average WEIGHTS OUT"
        )
    return _zonal.WeightSource(weights, wb, weights.nodatavals[wb - 1], float(weights.scales[wb - 1]),
                               float(weights.offsets[wb - 1]))


def _categories(ds: Any, geoms: np.ndarray, b: int, dtype: np.dtype, kind: str, index: pd.Index, *, method: str,
                nodata: float | None, threads: int | None, progress: bool,
                min_coverage: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    cat = CategoryAccumulator(len(geoms))
    run(ds, geoms, cat, band=b, method=method, nodata=nodata, threads=threads, progress=progress,
        min_coverage=min_coverage)
    if cat.fractional:
        raise RasterError(
            f"raster {ds.name!r} band {b} holds {dtype} values that are not class codes: {cat.fractional:,} valid "
            f"pixel(s) under the blocks are not whole numbers (e.g. {cat.example:g}); categorical statistics need "
            "integer class codes: set those pixels to nodata, or reclassify the raster"
        )
    keys = sorted({k for c in cat.counts for k in c})
    table = pd.DataFrame([[c.get(k, 0.0) for k in keys] for c in cat.counts], columns=keys, index=index,
                         dtype=np.float64)
    total = table.sum(axis=1).to_numpy()
    if kind == "fraction":
        with np.errstate(invalid="ignore", divide="ignore"):
            table = table.div(np.where(total > 0, total, np.nan), axis=0)
    elif method != "exact":
        table = table.astype(np.int64)
    return table, total > 0, cat.nodata > 0


def zonal_stats(
    blocks: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    stats: str | Sequence[str] = ("count", "sum", "mean", "min", "max"),
    categorical: bool | str = False,
    method: str = "center",
    band: int | Sequence[int] = 1,
    nodata: float | None = None,
    weights: RasterLike | None = None,
    weights_band: int = 1,
    default_weight: float | None = None,
    min_coverage_frac: float = 0.0,
    threads: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Summarise a raster's pixels inside every block.

    Parameters
    ----------
    blocks
        Polygon blocks with a CRS (normally EPSG:4548); reprojected to the raster's CRS, not modified.
    raster
        Path of a GeoTIFF (or any GDAL raster) or an open rasterio dataset. It must have a CRS.
    stats
        Names among ``count, sum, mean, min, max, std, median, range, nodata, majority, minority,
        variety, unique, weighted_mean, weighted_sum``, ``percentile_N`` (N in 0-100) and
        ``quantile(q=Q)`` (Q in 0-1, column ``quantile_<100 Q>``), as a list or one string
        separated by commas or spaces (``"min,max"`` or ``"min max"``). ``nodata`` is the number
        (weight) of nodata pixels. See the module notes for each rule's definitions.
    categorical
        ``True`` or ``"count"``: pixels (coverage with ``exact``) per class value instead, one
        column per value; ``"fraction"``: each class's share of the block's valid pixels (NaN
        for a block with none). Integer rasters, or float rasters holding whole numbers.
    method
        ``"center"``, ``"all_touched"`` or ``"exact"`` (coverage-weighted); see the module notes.
    band
        Band number, or a list of bands (columns are then prefixed ``b<band>_``).
    nodata
        Nodata value overriding the raster's own. NaN pixels are always nodata, and so are
        pixels masked by an internal mask or alpha band. Scale and offset are applied.
    weights
        A raster (path or open dataset) on the same grid as ``raster`` whose values weight
        ``weighted_mean`` and ``weighted_sum`` (e.g. population per pixel); band ``weights_band``.
    default_weight
        Weight of the pixels where ``weights`` is nodata; by default (``None``) such a pixel
        makes the block's weighted statistics NaN (exactextract's rule) and a warning names it.
    min_coverage_frac
        With ``exact``: leave out pixels covered by less than this share of their area (0-1;
        exactextract's ``min_coverage_frac``). The pixels kept keep their coverage as weight.
    threads
        Background decode threads (kept for the process once started); ``0`` decodes in the
        calling thread. By default ``0`` when the blocks touch fewer than 128 internal tiles,
        else 2.
    progress
        Show a progress bar over tiles (tqdm).

    Returns
    -------
    DataFrame
        One row per block, aligned to ``blocks.index``. Blocks with no valid pixel get count,
        sum, weighted sum, variety and unique 0 and NaN for the other statistics.

    Raises
    ------
    BlockValidationError
        Blocks that are points or lines, or have NaN / infinite vertices (ids named).
    CRSError
        The blocks or the raster have no CRS.
    RasterError
        Unknown band, statistic, ``method`` or ``categorical``, a rotated grid, weighted
        statistics without ``weights`` (or the reverse), a weights raster on another grid,
        ``min_coverage_frac`` outside 0-1 or without ``exact``, categorical statistics on
        values that are not whole numbers.

    Warns
    -----
    RasterCoverageWarning
        One warning naming the blocks wholly or partly outside the raster, seeing only nodata or
        with an empty geometry; one naming the blocks whose weights are partly nodata.

    Examples
    --------
    See the module docstring of :mod:`zgc_space.raster`.
    """
    kind = _check_options(method, categorical, min_coverage_frac, default_weight)
    names = () if kind else parse_stats(stats)
    asked = {s.kind for s in names}
    if asked & WEIGHTED and weights is None:
        raise RasterError(
            f"stats {', '.join(sorted(asked & WEIGHTED))} need a weights raster: pass weights= a raster on the "
            "same grid (--weights on the command line)"
        )
    if weights is not None and not asked & WEIGHTED:
        raise RasterError(
            "weights= is given but no weighted statistic is asked for: add weighted_mean or weighted_sum to stats "
            "(the other statistics ignore the weights)"
        )
    with open_raster(raster) as ds:
        bands = _bands(ds, band)
        geoms = block_geoms(blocks, ds)
        n = len(geoms)
        frames, seen, valid = [], np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        missing = np.zeros(n, dtype=np.int64)
        with open_raster(weights) if weights is not None else contextlib.nullcontext() as wds:
            source = _weight_source(wds, ds, weights_band) if wds is not None else None
            for b in bands:
                dtype = np.dtype(ds.dtypes[b - 1])
                nd = ds.nodatavals[b - 1] if nodata is None else nodata
                if kind:
                    table, hit, blank = _categories(ds, geoms, b, dtype, kind, blocks.index, method=method, nodata=nd,
                                                    threads=threads, progress=progress,
                                                    min_coverage=float(min_coverage_frac))
                    seen |= hit | blank
                    valid |= hit
                else:
                    acc = StatsAccumulator(n, names, scale=float(ds.scales[b - 1]), offset=float(ds.offsets[b - 1]),
                                           exact=method == "exact", default_weight=default_weight,
                                           integer=np.issubdtype(dtype, np.integer))
                    run(ds, geoms, acc, band=b, method=method, nodata=nd, threads=threads, progress=progress,
                        min_coverage=float(min_coverage_frac), weights=source)
                    table = pd.DataFrame(acc.result(integer_count=method != "exact"), index=blocks.index)
                    seen |= (acc.weight > 0) | (acc.nodata > 0)
                    valid |= acc.weight > 0
                    missing += acc.w_missing
                if len(bands) > 1:
                    table = table.add_prefix(f"b{b}_")
                frames.append(table)
        warn_coverage(blocks, geoms, ds, seen, valid)
        if default_weight is None and missing.any():
            rows = np.flatnonzero(missing)
            warnings.warn(
                f"weights raster {str(getattr(weights, 'name', weights))!r} is nodata at {int(missing.sum()):,} valid "
                f"pixel(s) of {rows.size} block(s) ({_ids(blocks, rows)}): their weighted statistics are NaN; pass "
                "default_weight= (--default-weight) to give those pixels a weight",
                RasterCoverageWarning, stacklevel=2,
            )
    return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]
