"""zgc_space: land-use analysis of the Zhongguancun (中关村) demonstration zone's blocks.

The core (errors, schema, CRS policy, I/O, block validation, sample datasets) is imported
eagerly; the analysis and map modules load on first use (``zs.indicators``, ``zs.maps`` ...),
so ``import zgc_space`` stays quick.

Examples
--------
>>> import zgc_space as zs
>>> blocks = zs.datasets.load_blocks()
>>> len(blocks), blocks.crs.to_string()
(164, 'EPSG:4548')
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from zgc_space import crs, datasets, errors, io, schema
from zgc_space.blocks import Problem, find_problems, land_totals, repair_geometries, validate_blocks
from zgc_space.crs import check_crs, gcj02_to_wgs84, guess_crs, to_display, to_metric, wgs84_to_gcj02
from zgc_space.errors import (
    AttributeJoinError,
    BlockValidationError,
    ColumnError,
    CRSError,
    DataFileError,
    MapError,
    OptimizationError,
    OverwriteInputError,
    ParameterError,
    PresetError,
    ProposalError,
    RankError,
    RasterError,
    RulesError,
    ZgcSpaceError,
    ZgcSpaceWarning,
)
from zgc_space.io import (
    attach_attributes,
    read_blocks,
    read_table,
    rename_aliases,
    sha256_file,
    write_blocks,
    write_shapefile,
    write_table,
)

try:
    __version__ = version("zgc_space")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Modules loaded on first attribute access (they pull in scipy, rasterio, folium, matplotlib).
_LAZY_MODULES = (
    "batch",
    "benchmark",
    "buildings",
    "capacity",
    "consolidate",
    "dynamic",
    "evaluation",
    "indicators",
    "maps",
    "optimize",
    "proposal",
    "raster",
    "report",
    "sample",
    "scenario_maps",
    "scenarios",
    "static",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"zgc_space.{name}")
    raise AttributeError(f"module 'zgc_space' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_MODULES))


__all__ = [
    "AttributeJoinError",
    "BlockValidationError",
    "CRSError",
    "ColumnError",
    "DataFileError",
    "MapError",
    "OptimizationError",
    "OverwriteInputError",
    "ParameterError",
    "PresetError",
    "Problem",
    "ProposalError",
    "RankError",
    "RasterError",
    "RulesError",
    "ZgcSpaceError",
    "ZgcSpaceWarning",
    "__version__",
    "attach_attributes",
    "check_crs",
    "crs",
    "datasets",
    "errors",
    "find_problems",
    "gcj02_to_wgs84",
    "guess_crs",
    "io",
    "land_totals",
    "read_blocks",
    "read_table",
    "rename_aliases",
    "repair_geometries",
    "schema",
    "sha256_file",
    "to_display",
    "to_metric",
    "validate_blocks",
    "wgs84_to_gcj02",
    "write_blocks",
    "write_shapefile",
    "write_table",
]
