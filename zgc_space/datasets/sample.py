"""Seeded, deterministic sample data: ZGC's 164 blocks in 17 sub-parks, a panel, candidates, rasters.

The blocks reproduce the zone totals of the 2024-07-24 report to the Beijing Municipal People's
Congress: 488 km² in total, a comprehensive FAR of 1.18 (Σ floor area / Σ built land), 27 km² of
remaining developable land (ΣB) and 24 km² of planned non-construction land (ΣC). Geometry, shares
and economics are invented but realistic: central sub-parks (海淀, 西城, 东城, 朝阳) are dense and nearly
full, outer ones (延庆, 密云, 平谷, 怀柔, 房山, 门头沟) keep land and produce little per hectare. Published
sub-park areas are used where known; the others are assumed (:func:`subpark_table` says which).

The same seed gives the same frames and, through :func:`generate`, the same files. The files under
``sample_data/`` are ``generate("sample_data")`` with the default seed (``make sample``).

Examples
--------
>>> from zgc_space import sample
>>> blocks = sample.make_blocks()
>>> len(blocks), blocks["subpark"].nunique(), blocks.crs.to_epsg()
(164, 17, 4548)
>>> round(float(blocks["gfa_m2"].sum() / blocks["built_m2"].sum()), 2)
1.18
"""

from __future__ import annotations

import argparse
import functools
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space.datasets import _economy as econ
from zgc_space.datasets import _panel as panel_mod
from zgc_space.datasets import _parks as parks
from zgc_space.datasets import _raster as raster_mod
from zgc_space.datasets import _readme as readme_mod
from zgc_space.datasets import _shapes as shapes
from zgc_space.datasets import _sources as sources_mod
from zgc_space.io import atomic_files, fixed_gdal_date
from zgc_space.schema import COLUMNS, METRIC_CRS

__all__ = [
    "DEFAULT_SEED",
    "FILES",
    "PACKAGE_DATA",
    "SAMPLE_YEAR",
    "generate",
    "main",
    "make_blocks",
    "make_candidates",
    "make_districts",
    "make_panel",
    "make_rasters",
    "subpark_table",
]

logger = logging.getLogger(__name__)

#: The seed of the committed sample (the date of the report, 2024-07-24).
DEFAULT_SEED = 20240724
#: The data year of the blocks table (the panel covers 2021-2023).
SAMPLE_YEAR = 2023
#: Files :func:`generate` writes, relative to its output directory.
FILES: tuple[str, ...] = parks.FILES
#: The package's data folder; the hand-written example proposals and rules are copied from it.
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
#: Timestamp written into the GeoPackages instead of "now", so the same data give the same bytes.
_GPKG_DATE = "2024-07-24"


def subpark_table() -> pd.DataFrame:
    """Return the 17 sub-parks with their area, whether it is published, block count and tier.

    Examples
    --------
    >>> table = subpark_table()
    >>> round(float(table["area_km2"].sum()), 2), int(table["n_blocks"].sum())
    (488.0, 164)
    >>> table.loc[table["published"], "subpark"].tolist()
    ['西城园', '丰台园', '石景山园', '顺义园', '平谷园']
    """
    from zgc_space.schema import SUBPARKS

    rows = [
        {
            "subpark": p.name, "district": SUBPARKS[p.name].district, "area_km2": p.area_km2,
            "published": p.published, "source": parks.SOURCES.get(p.name, "assumed"),
            "note": SUBPARKS[p.name].source if p.published else "area assumed so the total is 488 km²",
            "n_blocks": p.n_blocks, "tier": p.tier,
        }
        for p in parks.PARKS.values()
    ]
    return pd.DataFrame(rows)


def make_districts() -> gpd.GeoDataFrame:
    """Return Beijing's 16 districts (name, adcode), GCJ-02 corrected, generalised, EPSG:4548.

    Examples
    --------
    >>> d = make_districts()
    >>> len(d), d.crs.to_epsg(), "海淀区" in set(d["name"])
    (16, 4548, True)
    """
    return shapes.load_districts()


@functools.lru_cache(maxsize=4)
def _build(seed: int) -> dict[str, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    geo, placer, regions = shapes.place_blocks(rng, shapes.load_districts())
    site = geo.geometry.area.to_numpy()
    land = econ.land_and_buildings(rng, geo, site)
    eco = econ.economy(rng, geo, land)
    owners = econ.ownership(rng, geo, site, eco["tax_10k_cny"].to_numpy() / land["built_m2"].to_numpy())
    cap = econ.far_caps(rng, land, site)
    sources = _gfa_sources(rng, geo)
    blocks = geo.drop(columns="geometry").assign(**owners, site_area_m2=site)
    blocks = pd.concat([blocks, land, eco], axis=1).assign(gfa_source=sources, far_cap=cap, year=SAMPLE_YEAR)
    blocks = _canonical(gpd.GeoDataFrame(blocks, geometry=geo.geometry, crs=METRIC_CRS))
    cand_rng = np.random.default_rng([seed, 1])
    candidates = _candidates(cand_rng, shapes.place_candidates(cand_rng, placer, regions), blocks)
    return {"blocks": blocks, "candidates": candidates}


def _gfa_sources(rng: np.random.Generator, geo: gpd.GeoDataFrame) -> list[str]:
    tiers = np.array([parks.PARKS[p].tier for p in geo["subpark"]])
    out = np.full(len(geo), "surveyed", dtype=object)
    outer = np.flatnonzero(tiers == "outer")
    middle = np.flatnonzero((tiers == "middle") & ~geo["subpark"].isin(["石景山园", "丰台园"]).to_numpy())
    out[rng.choice(outer, 8, replace=False)] = "assumed"
    out[rng.choice(middle, 5, replace=False)] = "footprints"
    return out.tolist()


def _canonical(frame: gpd.GeoDataFrame, *, extra: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """Order columns canonically and give them stable dtypes (str, int64, float64, bool)."""
    cols = [*extra, *[c for c in COLUMNS if c in frame.columns]]
    out = frame[[*cols, "geometry"]].copy()
    for name in cols:
        kind = COLUMNS[name].kind if name in COLUMNS else "text"
        if kind in {"id", "text"}:
            out[name] = out[name].astype(str)
        elif kind == "int":
            out[name] = out[name].astype(np.int64)
        elif kind == "float":
            out[name] = out[name].astype(np.float64)
        elif kind == "bool":
            out[name] = out[name].astype(bool)
    return out.reset_index(drop=True)


def make_blocks(*, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """Return the 164 sample blocks (EPSG:4548, every canonical column filled, year 2023).

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed always gives the same frame.

    Examples
    --------
    >>> blocks = make_blocks()
    >>> blocks["block_id"].iloc[[0, -1]].tolist()
    ['B001', 'B164']
    >>> remaining = blocks["ready_m2"] + blocks["unready_m2"]
    >>> round(float(blocks["site_area_m2"].sum()) / 1e6, 1), round(float(remaining.sum()) / 1e6, 1)
    (488.0, 27.0)
    """
    return _build(seed)["blocks"].copy()


def _candidates(rng: np.random.Generator, cands: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    attrs = panel_mod.candidate_attributes(rng, cands, blocks)
    frame = pd.concat([cands.drop(columns="geometry"), attrs], axis=1).assign(year=SAMPLE_YEAR)
    return _canonical(gpd.GeoDataFrame(frame, geometry=cands.geometry, crs=METRIC_CRS), extra=["candidate_id"])


def make_panel(*, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """Return the blocks for 2021, 2022 and 2023 (one row per block and year, 2023 = :func:`make_blocks`).

    Most blocks grow; twelve decline every year (for the 优胜劣汰 rules); some build on their
    ready land, so built land and floor area grow too. Rows are sorted by block_id, then year.

    Examples
    --------
    >>> panel = make_panel()
    >>> len(panel), sorted(panel["year"].unique().tolist())
    (492, [2021, 2022, 2023])
    """
    blocks = _build(seed)["blocks"]
    return panel_mod.make_panel(np.random.default_rng([seed, 2]), blocks)


def make_candidates(*, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """Return 20 candidate areas outside every block, with attributes as expected after admission.

    Examples
    --------
    >>> cands = make_candidates()
    >>> len(cands), cands["candidate_id"].iloc[0]
    (20, 'C01')
    """
    return _build(seed)["candidates"].copy()


def make_rasters(*, seed: int = DEFAULT_SEED) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
    """Return the 10 m building-height and land-cover rasters as ``{name: (array, profile)}``.

    They cover 石景山园 and 丰台园; for each block inside the grid, the floor area implied by the
    heights (3 m storeys) matches ``gfa_m2`` and the built class matches ``built_m2``.

    Examples
    --------
    >>> rasters = make_rasters()
    >>> sorted(rasters), rasters["landcover_10m"][1]["dtype"]
    (['building_height_10m', 'landcover_10m'], 'uint8')
    """
    return raster_mod.make_rasters(np.random.default_rng([seed, 3]), _build(seed)["blocks"])


def _atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Write ``target`` through ``write(tmp_path)`` and rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_files([target]) as (tmp,):
        write(tmp)


def _copy(source: Path, target: Path) -> None:
    _atomic(target, lambda tmp: shutil.copyfile(source, tmp))


def _write_gpkg(frame: gpd.GeoDataFrame, target: Path, layer: str) -> None:
    def write(tmp: Path) -> None:
        # a fixed timestamp in gpkg_contents keeps the same data byte-identical
        with fixed_gdal_date(_GPKG_DATE):
            frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio", geometry_type="Unknown")

    _atomic(target, write)


def _write_tif(array: np.ndarray, profile: dict[str, Any], target: Path) -> None:
    import rasterio

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(array, 1)

    _atomic(target, write)


def generate(out_dir: str | Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every sample file (:data:`FILES`) into ``out_dir``; return their paths.

    The example proposals (``proposals/*.yaml``) and dynamic-adjustment rules
    (``dynamic_rules.yaml``) are hand-written: they are copied from :data:`PACKAGE_DATA`. The
    source layers under ``sources/`` (survey parcels, plan plots, supply, idle and serviced land,
    buildings, enterprises) are those :func:`zgc_space.accounting.account` turns back into the blocks.
    Each file is written to a temporary name and renamed into place, so readers never see a
    half-written file. The same seed writes the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = generate(tmp)
    ...     sorted(p.name for p in paths)[:3], sum(p.parent.name == "sources" for p in paths)
    (['README.md', 'blocks.gpkg', 'building_height_10m.tif'], 9)
    """
    out = Path(out_dir)
    blocks = make_blocks(seed=seed)
    _write_gpkg(blocks, out / "zgc_blocks.gpkg", "blocks")
    _write_gpkg(make_panel(seed=seed), out / "zgc_panel_2021_2023.gpkg", "panel")
    _write_gpkg(make_candidates(seed=seed), out / "candidates.gpkg", "candidates")
    _write_gpkg(make_districts(), out / "districts.gpkg", "districts")
    _copy(shapes.DISTRICTS_LICENSE, out / "districts.LICENSE.txt")
    table = subpark_table()
    _atomic(out / "subparks.csv", lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))
    for name, (array, profile) in make_rasters(seed=seed).items():
        _write_tif(array, profile, out / "rasters" / f"{name}.tif")
    text = readme_mod.render(blocks, table, seed=seed)
    _atomic(out / "README.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    for name in parks.COPIED:
        _copy(PACKAGE_DATA / name, out / name)
    sources_mod.write(out, blocks, seed=seed, gpkg=_write_gpkg, atomic=_atomic)
    logger.info("wrote %d sample files to %s (seed %d)", len(FILES), out, seed)
    return [out / name for name in FILES]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m zgc_space.sample OUT_DIR [--seed N]``; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m zgc_space.sample", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="directory to write the sample files into (created if missing)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--rebuild-districts", metavar="SHAPEFILE",
        help="first rebuild the packaged district layer from the GCJ-02 district shapefile",
    )
    args = parser.parse_args(argv)
    if args.rebuild_districts:
        _write_gpkg(shapes.build_districts(args.rebuild_districts), shapes.DISTRICTS_FILE, "districts")
        _build.cache_clear()
    paths = generate(args.out_dir, seed=args.seed)
    for p in paths:
        sys.stdout.write(f"{p}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
