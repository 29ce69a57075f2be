"""The public exception and warning tree of zgc_space.

Every error the library raises on purpose is a :class:`ZgcSpaceError`. Each subclass also
inherits the matching built-in exception, so ``except ValueError`` keeps working (the pattern
rasterio uses).

Examples
--------
>>> from zgc_space.errors import BlockValidationError, ZgcSpaceError
>>> issubclass(BlockValidationError, ValueError) and issubclass(BlockValidationError, ZgcSpaceError)
True
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AccountingError",
    "AttributeJoinError",
    "BlockValidationError",
    "ColumnError",
    "CRSError",
    "CRSGuessWarning",
    "DataFileError",
    "EnvironmentProblemError",
    "GeometryRepairWarning",
    "MapError",
    "MissingDataError",
    "OptimizationError",
    "OptimizationWarning",
    "OverwriteInputError",
    "ParameterError",
    "PresetError",
    "PresetWarning",
    "ProposalError",
    "RankError",
    "RasterCoverageWarning",
    "RasterError",
    "RulesError",
    "UsageError",
    "ReprojectionWarning",
    "ValidationWarning",
    "ZgcSpaceError",
    "ZgcSpaceWarning",
    "list_ids",
]


class ZgcSpaceError(Exception):
    """Root of every error raised on purpose by zgc_space."""


class CRSError(ZgcSpaceError, ValueError):
    """A coordinate reference system is missing, unknown or unsafe to use for areas."""


class ColumnError(ZgcSpaceError, KeyError):
    """A required column is missing or a column name is unknown."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class BlockValidationError(ZgcSpaceError, ValueError):
    """A block table breaks one or more rules; ``problems`` lists every one of them.

    Parameters
    ----------
    message
        The summary shown to the user.
    problems
        One entry per problem found (all of them, not only the first).
    """

    def __init__(self, message: str, problems: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class AccountingError(ZgcSpaceError, ValueError):
    """Source layers cannot be accounted as given (unknown codes, overlaps, bad FAR caps, no location)."""


class MissingDataError(ZgcSpaceError, ValueError):
    """Block values an evaluation needs are blank; ``table`` lists the blocks, columns and shares.

    Parameters
    ----------
    message
        The summary shown to the user.
    table
        One row per blank value (``block_id``, ``column``, ``indicators``, ``share_of_denominator_pct``).
    """

    def __init__(self, message: str, table: object = None) -> None:
        super().__init__(message)
        self.table = table


class AttributeJoinError(ZgcSpaceError, ValueError):
    """An attribute table cannot be attached to the blocks (unmatched or duplicate ids)."""


class DataFileError(ZgcSpaceError, OSError):
    """A data file cannot be read or written (missing, wrong format, unknown layer)."""


class OverwriteInputError(ZgcSpaceError, FileExistsError):
    """A write would overwrite a file the user gave as input."""


class RasterError(ZgcSpaceError, ValueError):
    """A raster cannot be used as asked (band, nodata, CRS, resolution)."""


class MapError(ZgcSpaceError, ValueError):
    """A map cannot be drawn or exported as asked (class scheme, tiles, offline assets)."""


class ProposalError(ZgcSpaceError, ValueError):
    """An adjustment proposal is malformed or names something that does not exist."""


class PresetError(ZgcSpaceError, ValueError):
    """An evaluation preset is malformed; the message names the file and the key."""


class RankError(ZgcSpaceError, ValueError):
    """A ranking cannot be computed as asked (target rank out of range, not one zone, peers)."""


class OptimizationError(ZgcSpaceError, ValueError):
    """A search cannot be set up, or its constraints leave no feasible adjustment."""


class RulesError(ZgcSpaceError, ValueError):
    """Dynamic-adjustment rules are malformed, contradictory or infeasible; the message names the key."""


class ParameterError(ZgcSpaceError, ValueError):
    """An option passed to a function is out of range or not one of its allowed values."""


class UsageError(ZgcSpaceError, ValueError):
    """A command was called with options that do not go together (the command line exits 2)."""


class EnvironmentProblemError(ZgcSpaceError, OSError):
    """The machine, not the input, stops the work (the command line exits 3).

    A folder that cannot be written (permissions, read-only disk, disk full), a scheduler that
    cannot be reached, a folder locked by another run, not enough memory for a declared size.
    """


class ZgcSpaceWarning(UserWarning):
    """Root of every warning issued by zgc_space."""


class CRSGuessWarning(ZgcSpaceWarning):
    """A missing CRS was guessed from coordinate magnitudes; the guess is named."""


class ReprojectionWarning(ZgcSpaceWarning):
    """Data were reprojected to the metric CRS (EPSG:4548) before computing areas."""


class ValidationWarning(ZgcSpaceWarning):
    """A block table has a problem that does not make numbers wrong (promote with strict=True)."""


class GeometryRepairWarning(ZgcSpaceWarning):
    """A geometry was repaired and its area changed."""


class PresetWarning(ZgcSpaceWarning):
    """An evaluation preset was applied with re-normalised weights (an indicator is missing)."""


class OptimizationWarning(ZgcSpaceWarning):
    """An optimiser setting lets the answer degenerate (e.g. a floor that lets the zone shrink to its best blocks)."""


class RasterCoverageWarning(ZgcSpaceWarning):
    """Some blocks lie partly or wholly outside a raster, or see only nodata pixels there."""


#: How many ids an error or warning message lists before it says "and N more".
MAX_LISTED = 10


def list_ids(ids: Sequence[object], *, limit: int = MAX_LISTED) -> str:
    """Return ``"B1, B2, ... (and 3 more)"``: the ids a message names.

    Examples
    --------
    >>> list_ids(["B1", "B2", "B3"], limit=2)
    'B1, B2 (and 1 more)'
    """
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")
