"""The sample data, from a source checkout or an installed package.

Files are looked up, in order, in

1. the directory named by the environment variable ``ZGC_SPACE_DATA`` (when set, it must hold
   the file);
2. ``sample_data/`` of the source checkout the package was imported from;
3. a per-version user cache (``$XDG_CACHE_HOME/zgc_space/<version>/`` or
   ``~/.cache/zgc_space/<version>/``), filled by :func:`zgc_space.sample.generate` on first use
   (an installed wheel carries the generator, not the files).

Besides the generated layers and rasters, the sample holds the five example proposals
(``proposals/*.yaml``) and the example dynamic-adjustment rules (``dynamic_rules.yaml``), which
the generator copies from the package's data folder.

Examples
--------
>>> from zgc_space import datasets
>>> datasets.path("zgc_blocks.gpkg").name
'zgc_blocks.gpkg'
>>> blocks = datasets.load_blocks()
>>> len(blocks), blocks.crs.to_epsg()
(164, 4548)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
from pyogrio.errors import DataLayerError, DataSourceError

from zgc_space.datasets._parks import FILES
from zgc_space.errors import DataFileError
from zgc_space.io import atomic_folder, package_version

__all__ = [
    "ENV_VAR",
    "NAMES",
    "cache_dir",
    "load_blocks",
    "load_candidates",
    "load_districts",
    "load_panel",
    "path",
    "sample_proposals",
]

logger = logging.getLogger(__name__)

#: Environment variable naming a directory that holds the sample files.
ENV_VAR = "ZGC_SPACE_DATA"
#: Names :func:`path` accepts (relative paths inside the sample directory).
NAMES: tuple[str, ...] = FILES

_CHECKOUT = Path(__file__).resolve().parents[2] / "sample_data"


def _version() -> str:
    return package_version()


def cache_dir() -> Path:
    """Return the per-version cache directory the sample is regenerated into when needed.

    Examples
    --------
    >>> cache_dir().parent.name
    'zgc_space'
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zgc_space" / _version()


def _fill_cache(target: Path) -> None:
    """Generate the sample into a temporary sibling of ``target`` and rename it into place."""
    from zgc_space.datasets import sample  # the generator pulls in scipy and rasterio: load it only here

    # another process may win the race, or a partial old cache may be there: either is replaced whole
    with atomic_folder(target, prefix="filling") as tmp:
        logger.info("generating the sample data into %s", target)
        sample.generate(tmp)


def path(name: str) -> Path:
    """Return the path of sample file ``name`` (e.g. ``"rasters/landcover_10m.tif"``).

    Raises
    ------
    DataFileError
        When ``name`` is not a sample file, or ``ZGC_SPACE_DATA`` names a directory without it.

    Examples
    --------
    >>> path("rasters/building_height_10m.tif").suffix
    '.tif'
    """
    if name not in NAMES:
        raise DataFileError(f"unknown sample file {name!r}; available: {', '.join(NAMES)}")
    env = os.environ.get(ENV_VAR)
    if env:
        found = Path(env) / name
        if not found.is_file():
            raise DataFileError(
                f"{ENV_VAR}={env} has no {name}; write the sample there with "
                f"`python -m zgc_space.sample {env}` or unset {ENV_VAR}"
            )
        return found
    if (_CHECKOUT / name).is_file():
        return _CHECKOUT / name
    cached = cache_dir() / name
    if not cached.is_file():
        _fill_cache(cache_dir())
    return cached


def _read(name: str) -> gpd.GeoDataFrame:
    file = path(name)
    try:
        return gpd.read_file(file, engine="pyogrio")
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise DataFileError(f"cannot read sample file {file}: {exc}; regenerate it with `make sample`") from exc


def load_blocks() -> gpd.GeoDataFrame:
    """Return the 164 sample blocks of 2023 (EPSG:4548, canonical columns).

    Examples
    --------
    >>> load_blocks()["subpark"].nunique()
    17
    """
    return _read("zgc_blocks.gpkg")


def load_panel() -> gpd.GeoDataFrame:
    """Return the sample blocks for 2021-2023, one row per block and year.

    Examples
    --------
    >>> load_panel().groupby("year").size().tolist()
    [164, 164, 164]
    """
    return _read("zgc_panel_2021_2023.gpkg")


def load_candidates() -> gpd.GeoDataFrame:
    """Return the 20 candidate areas for admission proposals.

    Examples
    --------
    >>> load_candidates()["candidate_id"].tolist()[:2]
    ['C01', 'C02']
    """
    return _read("candidates.gpkg")


def load_districts() -> gpd.GeoDataFrame:
    """Return Beijing's 16 districts (generalised, EPSG:4548).

    Examples
    --------
    >>> len(load_districts())
    16
    """
    return _read("districts.gpkg")


def sample_proposals() -> list[Path]:
    """Return the five example proposal files of the sample data (sorted).

    Raises
    ------
    DataFileError
        When ``ZGC_SPACE_DATA`` names a directory without them.

    Examples
    --------
    >>> [p.name for p in sample_proposals()][:2]
    ['p01_release_outer_admit_core.yaml', 'p02_renew_fengtai_chaoyang.yaml']
    """
    return [path(name) for name in sorted(NAMES) if name.startswith("proposals/")]
