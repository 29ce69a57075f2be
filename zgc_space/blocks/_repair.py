"""Geometry repair of a block table: always Polygon/MultiPolygon, every area change reported."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import schema
from zgc_space.blocks._checks import check_shapes
from zgc_space.blocks._problems import _MAX_IDS, _POLYGONAL, Problem, _block_ids, _ids_text
from zgc_space.errors import BlockValidationError, GeometryRepairWarning

log = logging.getLogger("zgc_space.blocks")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep the polygonal parts of a geometry as one Polygon/MultiPolygon (None if none)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.geom_type in _POLYGONAL else None


def repair_geometries(blocks: gpd.GeoDataFrame, *, min_area_change_m2: float = 0.0) -> gpd.GeoDataFrame:
    """Return a copy whose geometries are valid Polygon/MultiPolygon, with a repair report.

    Invalid geometries are made valid with :func:`shapely.make_valid` (structure method);
    collections keep only their polygonal parts (lines and points from a collapsed ring have no
    area). The result is never a GeometryCollection. Valid polygons are left untouched.

    The report (``result.attrs["repairs"]``, a DataFrame) lists each repaired block with its
    area before and after (m², in EPSG:4548) and the change; a
    :class:`~zgc_space.errors.GeometryRepairWarning` names the blocks whose area changed by
    more than ``min_area_change_m2``.

    Raises
    ------
    BlockValidationError
        For blocks with no polygonal area left (empty, or only lines/points), and for blocks
        with NaN or infinite vertices (dropping the vertex would change the area unseen): they
        cannot be repaired, only redrawn or dropped.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    >>> blocks = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[bowtie], crs="EPSG:4548")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the repair warns: the bow-tie's area changed
    ...     fixed = repair_geometries(blocks)
    >>> fixed.geometry.iloc[0].geom_type
    'MultiPolygon'
    >>> fixed.attrs["repairs"][["block_id", "area_before_m2", "area_after_m2"]]
      block_id  area_before_m2  area_after_m2
    0       B1             0.0         5000.0
    """
    out = blocks.copy()
    ids = _block_ids(blocks)
    geoms = blocks.geometry.to_numpy()
    nan = [p for p in check_shapes(geoms, ids, "")[0] if p.rule == "non-finite-vertex"]
    if nan:
        raise BlockValidationError(f"repair_geometries will not guess a lost vertex: {nan[0]}", nan)
    needs = (
        ~shapely.is_valid(geoms)
        | ~np.isin(shapely.get_type_id(geoms), [3, 6])
        | shapely.is_empty(geoms)
        | shapely.is_missing(geoms)
    )
    if not needs.any():
        out.attrs["repairs"] = _repair_report([], [], [], [])
        return out
    fixed = geoms.copy()
    made = shapely.make_valid(geoms[needs], method="structure", keep_collapsed=False)
    fixed[needs] = [_polygonal(g) for g in made]
    lost = [ids.iloc[i] for i in np.flatnonzero(needs) if fixed[i] is None]
    if lost:
        raise BlockValidationError(
            f"{len(lost)} block(s) have no polygonal area to keep after repair: {_ids_text(lost)}; "
            "redraw them or drop them",
            [Problem("error", "unrepairable", "no polygonal area", "redraw or drop", tuple(lost))],
        )
    out = out.set_geometry(gpd.GeoSeries(fixed, index=blocks.index, crs=blocks.crs))
    idx = np.flatnonzero(needs)
    before = _metric_area(geoms[idx], blocks.crs)
    after = _metric_area(fixed[idx], blocks.crs)
    report = _repair_report(list(ids.iloc[idx]), before, after, [geoms[i].geom_type for i in idx])
    out.attrs["repairs"] = report
    changed = report[report["area_change_m2"].abs() > min_area_change_m2]
    for _, row in report.iterrows():
        log.info("repaired %s: %.1f m² -> %.1f m²", row["block_id"], row["area_before_m2"], row["area_after_m2"])
    if len(changed):
        detail = ", ".join(
            f"{r.block_id} ({r.area_change_m2:+,.1f} m²"
            + (f", {r.area_change_pct:+.2f} %)" if np.isfinite(r.area_change_pct) else ")")
            for r in changed.head(_MAX_IDS).itertuples()
        )
        warnings.warn(
            f"repair_geometries changed the area of {len(changed)} block(s): {detail}; "
            'see result.attrs["repairs"]',
            GeometryRepairWarning,
            stacklevel=2,
        )
    return out


def _metric_area(geoms: np.ndarray, crs: object) -> np.ndarray:
    series = gpd.GeoSeries(geoms, crs=crs)
    if crs is not None and series.crs is not None and series.crs.is_geographic:
        series = series.to_crs(schema.METRIC_CRS)
    # make_valid's inputs may be invalid: area of an invalid bowtie is its signed-ring area
    return np.asarray(series.area, dtype=float)


def _repair_report(
    ids: Iterable[str], before: Sequence[float] | np.ndarray, after: Sequence[float] | np.ndarray,
    kinds: Iterable[str],
) -> pd.DataFrame:
    report = pd.DataFrame({
        "block_id": pd.Series(list(ids), dtype="string"),
        "geometry_type_before": pd.Series(list(kinds), dtype="string"),
        "area_before_m2": np.asarray(before, dtype=float),
        "area_after_m2": np.asarray(after, dtype=float),
    })
    report["area_change_m2"] = report["area_after_m2"] - report["area_before_m2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        report["area_change_pct"] = 100 * report["area_change_m2"] / report["area_before_m2"]
    return report
