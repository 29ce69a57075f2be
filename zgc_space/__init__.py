"""zgc_space: land-use analysis of the Zhongguancun (中关村) demonstration zone's blocks."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zgc_space")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
