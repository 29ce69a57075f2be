"""A problem found in a block table, and how messages name blocks (private to zgc_space.blocks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from zgc_space.errors import list_ids

#: How many ids a message lists before it says "and N more".
_MAX_IDS = 12
_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass(frozen=True)
class Problem:
    """One problem found in a block table.

    Parameters
    ----------
    severity
        ``"error"`` (numbers would be wrong) or ``"warning"`` (promote with ``strict=True``).
    rule
        Short stable code, e.g. ``"overlap"``, ``"nesting"``, ``"duplicate-id"``.
    message
        What is wrong and where.
    fix
        How to fix it.
    block_ids
        The blocks concerned (may be empty for table-level problems).
    column
        The column concerned, if any.
    """

    severity: str
    rule: str
    message: str
    fix: str
    block_ids: tuple[str, ...] = field(default=())
    column: str | None = None

    def __str__(self) -> str:
        return f"[{self.severity}] {self.message}; {self.fix}"

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict with stable keys."""
        return {
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
            "block_ids": list(self.block_ids),
            "column": self.column,
        }


def _ids_text(ids: Sequence[str]) -> str:
    return list_ids(list(ids), limit=_MAX_IDS)


def _block_ids(blocks: pd.DataFrame) -> pd.Series:
    if "block_id" in blocks.columns:
        ids = blocks["block_id"].astype("string").fillna("<no id>")
    else:
        ids = pd.Series([f"row {i}" for i in range(len(blocks))], index=blocks.index, dtype="string")
    return ids
