"""Grouping plumbing shared by :mod:`zgc_space.indicators` and :mod:`zgc_space.capacity`.

Both sum block components per group (``by=None``, ``"zone"``, ``"block"``, a column or a list
of columns) before forming ratios of the sums (:func:`ratio`) or totals. Nothing here is public API.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zgc_space import schema
from zgc_space.errors import BlockValidationError, ColumnError, ValidationWarning, list_ids

#: Index label of the single row ``compute(..., by="zone")`` returns.
ZONE_LABEL = "ZGC"


def resolve_by(frame: pd.DataFrame, by: str | Sequence[str] | None) -> list[str] | str | None:
    """Turn ``by`` into ``None`` (per row), ``"zone"`` (one row) or a list of key columns."""
    if by is None or (isinstance(by, str) and by == "zone"):
        return by
    if isinstance(by, str):
        keys = ["block_id" if by == "block" else by]
    else:
        keys = list(by)
        if not keys:
            raise ColumnError("`by` is an empty list; give at least one column, or by=None for per-row")
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        available = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise ColumnError(
            f"`by` names column(s) {missing} that the block table does not have; "
            f"available columns: {available} (or by='zone', by='block', by=None)"
        )
    if keys == ["cluster"] and "subpark" in frame.columns:
        spread = frame.groupby("cluster", dropna=False, observed=True)["subpark"].nunique()
        shared = spread[spread > 1].index.tolist()
        if shared:
            warnings.warn(
                f"cluster name(s) {shared[:5]} occur in more than one sub-park and are pooled; "
                "use by=['subpark', 'cluster'] to keep them apart",
                ValidationWarning, stacklevel=3,
            )
    return keys


def index_name(by: str | Sequence[str] | None) -> str | None:
    if isinstance(by, str):
        return "block_id" if by == "block" else by
    return None


def numeric_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return the given columns as float64, refusing text, and negative or infinite amounts.

    NaN (missing) is allowed. Text that is not a number, and a negative or ±inf value in a
    canonical numeric column of :mod:`zgc_space.schema` (all of them are non-negative amounts),
    raise :class:`~zgc_space.errors.BlockValidationError` naming the column and the block ids.
    """
    cols = list(columns)
    values = frame[cols] if cols and len(set(cols)) == len(cols) else None
    if values is not None and all(dt == np.float64 for dt in values.dtypes):
        # Already numbers (the usual case, e.g. zone sums): one selection and one range check for
        # all columns instead of a conversion per column; a bad value takes the per-column path
        # below, which names it.
        arr = values.to_numpy()
        checked = [j for j, c in enumerate(cols) if c in schema.COLUMNS and schema.COLUMNS[c].numeric]
        with np.errstate(invalid="ignore"):
            bad = (np.isinf(arr[:, checked]) | (arr[:, checked] < 0)).any()
        if not bad:
            return values.copy()
    out = {}
    for col in columns:
        try:
            values = pd.to_numeric(frame[col], errors="raise").astype("float64")
        except (ValueError, TypeError) as exc:
            raise BlockValidationError(
                f"column {col!r} must be numeric ({exc}); fix the values or map the column on read",
                [col],
            ) from exc
        if col in schema.COLUMNS and schema.COLUMNS[col].numeric:
            _refuse_out_of_range(frame, values, col)
        out[col] = values
    return pd.DataFrame(out, index=frame.index)


def block_ids(frame: pd.DataFrame, mask: np.ndarray) -> list[object]:
    """Return the ``block_id`` (else the index label) of the rows where ``mask`` holds, as Python values."""
    labels = frame["block_id"] if "block_id" in frame.columns else frame.index.to_series()
    return [v.item() if isinstance(v, np.generic) else v for v in labels.to_numpy()[mask]]


def _refuse_out_of_range(frame: pd.DataFrame, values: pd.Series, col: str) -> None:
    """Raise BlockValidationError if ``values`` has a negative or infinite entry."""
    arr = values.to_numpy()
    for mask, what in ((np.isinf(arr), "infinite (±inf)"), (arr < 0, "negative")):
        if mask.any():
            ids = block_ids(frame, mask)
            raise BlockValidationError(
                f"{col} is {what} in {int(mask.sum())} block(s) (ids {list_ids(ids)}); "
                f"{col} ({schema.COLUMNS[col].unit or 'count'}) must be a finite amount >= 0 "
                "(use NaN for unknown): correct the source values, and check the whole table with "
                "zgc_space.validate_blocks(blocks)",
                ids,
            )


def group_sums(
    frame: pd.DataFrame,
    values: pd.DataFrame,
    keys: list[str] | str | None,
    index_name: str | None,
    *,
    skipna: bool = False,
) -> pd.DataFrame:
    """Sum ``values`` per group of ``frame[keys]`` and add ``block_count``.

    With ``skipna=False`` any NaN in a group makes that group's sum NaN; with ``skipna=True``
    NaNs are skipped and only an all-NaN group sums to NaN. ``keys=None`` keeps one row per
    input row; ``"zone"`` gives one row labelled :data:`ZONE_LABEL`.
    """
    if keys is None:
        out = values.copy()
        out["block_count"] = 1
        return out
    if keys == "zone":
        total = values.sum(min_count=1) if skipna else values.sum(skipna=False)
        out = total.to_frame().T.astype("float64")
        out.index = pd.Index([ZONE_LABEL], name="zone")
        out["block_count"] = len(values)
        return out
    groupers = [frame[k] for k in keys]
    grouped = values.groupby(groupers, dropna=False, observed=True, sort=True)
    if skipna:
        out = grouped.sum(min_count=1)
    else:
        has_nan = values.isna().groupby(groupers, dropna=False, observed=True, sort=True).any()
        out = grouped.sum().mask(has_nan)
    out["block_count"] = grouped.size().astype("int64")
    if len(keys) == 1:
        out.index.name = index_name or keys[0]
    return out


def ratio(num: np.ndarray, den: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """``scale × num / den`` with NaN (not inf) where the denominator is zero or unknown."""
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(num) & np.isfinite(den) & (den != 0)
    np.divide(num, den, out=out, where=ok)
    out[ok] *= scale
    return out
