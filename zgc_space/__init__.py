"""zgc_space: land-use analysis of the Zhongguancun (中关村) demonstration zone's blocks.

Every module and name loads on first use (``zs.read_blocks``, ``zs.indicators``, ``zs.maps``
...), so ``import zgc_space`` and ``zgc-space --version`` take no geopandas, scipy or folium.

Examples
--------
>>> import zgc_space as zs
>>> blocks = zs.datasets.load_blocks()
>>> len(blocks), blocks.crs.to_string()
(164, 'EPSG:4548')
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load on first use (so `zgc-space --version` needs no geopandas)
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

    __version__: str

#: Public names of the package door → the module that defines them (loaded on first access).
_LAZY_NAMES: dict[str, str] = {
    **dict.fromkeys(("Problem", "find_problems", "land_totals", "repair_geometries", "validate_blocks"),
                    "zgc_space.blocks"),
    **dict.fromkeys(("check_crs", "gcj02_to_wgs84", "guess_crs", "to_display", "to_metric", "wgs84_to_gcj02"),
                    "zgc_space.crs"),
    **dict.fromkeys(("AttributeJoinError", "BlockValidationError", "ColumnError", "CRSError", "DataFileError",
                     "MapError", "OptimizationError", "OverwriteInputError", "ParameterError", "PresetError",
                     "ProposalError", "RankError", "RasterError", "RulesError", "ZgcSpaceError", "ZgcSpaceWarning"),
                    "zgc_space.errors"),
    **dict.fromkeys(("attach_attributes", "read_blocks", "read_table", "rename_aliases", "sha256_file",
                     "write_blocks", "write_shapefile", "write_table"), "zgc_space.io"),
}

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Modules loaded on first attribute access (they pull in scipy, rasterio, folium, matplotlib).
_LAZY_MODULES = (
    "accounting",
    "blocks",
    "buildings",
    "capacity",
    "crs",
    "datasets",
    "demo",
    "dynamic",
    "errors",
    "evaluation",
    "indicators",
    "io",
    "maps",
    "optimize",
    "raster",
    "ranking",
    "report",
    "scenarios",
    "schema",
)

#: Module paths of release 0.1 kept importable for one release (``zs.proposal``,
#: ``import zgc_space.batch`` ...): each name is the same module object as its new home.
ALIASES: dict[str, str] = {
    "batch": "zgc_space.scenarios.batch",
    "benchmark": "zgc_space.ranking",
    "consolidate": "zgc_space.scenarios.consolidate",
    "proposal": "zgc_space.scenarios.proposal",
    "sample": "zgc_space.datasets.sample",
    "scenario_maps": "zgc_space.maps.scenario",
    "static": "zgc_space.maps.static",
}


class _AliasFinder:
    """Resolve ``zgc_space.<old name>`` to the module at its new path (no copy, no warning).

    A meta path finder and loader by protocol: ``importlib.abc`` is imported only when needed (it
    pulls in ``importlib.resources`` and ``tempfile``, which would slow ``zgc-space --version``).
    """

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if fullname.startswith(f"{__name__}.") and fullname.partition(".")[2] in ALIASES:
            real = importlib.util.find_spec(ALIASES[fullname.partition(".")[2]])
            loader: Any = self  # a loader by protocol (create_module, exec_module)
            return importlib.util.spec_from_loader(fullname, loader, origin=real.origin if real else None)
        return None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(ALIASES[spec.name.partition(".")[2]])
        spec.loader_state = module.__spec__  # the import system overwrites __spec__; put it back below
        return module

    def get_code(self, fullname: str) -> CodeType | None:
        """Return the target's code, so that ``python -m zgc_space.sample`` keeps working."""
        import importlib.abc

        spec = importlib.util.find_spec(ALIASES[fullname.partition(".")[2]])
        loader = spec.loader if spec is not None else None
        return loader.get_code(spec.name) if isinstance(loader, importlib.abc.InspectLoader) and spec else None

    def exec_module(self, module: ModuleType) -> None:
        """Run nothing (the module ran at its own path); restore its own ``__spec__``."""
        spec = module.__spec__
        if spec is not None and spec.loader_state is not None:
            module.__spec__ = spec.loader_state


if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
    sys.meta_path.append(_AliasFinder())


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("zgc_space")
        except metadata.PackageNotFoundError:  # a source tree that is not installed
            return "0+unknown"
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(f"zgc_space.{name}")
    if name in ALIASES:
        return importlib.import_module(ALIASES[name])
    raise AttributeError(f"module 'zgc_space' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES) | {"__version__"})


__all__ = [
    "ALIASES",
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
