r"""Scores of groups of blocks: missing data as a decision, and the two evaluation ranges.

A blank cell in a block's inputs makes the group's sum unknown, so the indicator is undefined
and :func:`~zgc_space.evaluation.score` would re-normalise its weight away: one blank population
cell (0.03 % of the residents) moved the sample zone's national rank from 74 to 66. Here that
is a decision the caller takes with ``missing=``:

* ``"refuse"`` (default): raise :class:`~zgc_space.errors.MissingDataError` listing the blocks,
  the columns, the indicators they feed and the share of each indicator's denominator they
  carry;
* ``"drop-indicator"``: the indicator is left out of the affected groups and its weight is
  re-normalised over its siblings (a :class:`~zgc_space.errors.PresetWarning` says so);
* ``"drop-blocks"``: the blocks with missing inputs are left out of the evaluation (a
  :class:`~zgc_space.errors.ValidationWarning` names them).

TD/T 1029 (2014 revision) scores the main range (主区) and the expansion range (发展方向区)
separately and combines them with the preset's range weights,
``score = w_main F_main + w_expansion F_expansion``; the expansion range's 程度 sub-goal uses the
land development rate (开发率) in place of the completion rate (建成率). A block's range is its
``range`` column (``main`` / ``expansion``, read from 主区 / 发展方向区); without one every block is
in the main range.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from zgc_space import schema
from zgc_space.errors import ColumnError, MissingDataError, ParameterError, ValidationWarning

if TYPE_CHECKING:
    from zgc_space.evaluation._presets import Preset

__all__ = ["MISSING_POLICIES", "MissingPolicy", "block_ranges", "missing_inputs", "score_blocks"]

#: What :func:`score_blocks` does with missing block inputs.
MISSING_POLICIES: tuple[str, ...] = ("refuse", "drop-indicator", "drop-blocks")
MissingPolicy = Literal["refuse", "drop-indicator", "drop-blocks"]


def block_ranges(blocks: pd.DataFrame) -> pd.Series:
    """Return each block's evaluation range, ``"main"`` or ``"expansion"`` (default ``"main"``).

    Raises
    ------
    zgc_space.errors.ColumnError
        When the ``range`` column holds a value that is neither (the values and blocks are named).

    Examples
    --------
    >>> import pandas as pd
    >>> block_ranges(pd.DataFrame({"range": ["主区", "发展方向区", None]})).tolist()
    ['main', 'expansion', 'main']
    """
    if "range" not in blocks.columns:
        return pd.Series("main", index=blocks.index, name="range")
    raw = blocks["range"]
    text = raw.map(lambda v: None if pd.isna(v) or str(v).strip() == "" else str(v).strip())
    out = text.map(lambda v: "main" if v is None or pd.isna(v)
                   else schema.RANGE_ALIASES.get(v, schema.RANGE_ALIASES.get(v.lower())))
    bad = out.isna()
    if bad.any():
        ids = _ids(blocks, bad.to_numpy())
        raise ColumnError(
            f"column range has unknown value(s) {sorted(set(text[bad].astype(str)))} in blocks {ids}; use main "
            "(主区) or expansion (发展方向区)"
        )
    out.name = "range"
    return out


def _ids(blocks: pd.DataFrame, mask: np.ndarray) -> list[str]:
    labels = blocks["block_id"] if "block_id" in blocks.columns else blocks.index.to_series()
    return [str(v) for v in labels.to_numpy()[mask]]


def _inputs(preset: Preset, *, expansion: bool = True) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Map the preset's indicators (both ranges, or the main range's) to their (numerator, denominator) columns."""
    from zgc_space.indicators import INDICATORS

    ids = list(preset.leaf_weights()) + (list(preset.ranges.expansion_substitutes.values()) if expansion else [])
    return {i: (INDICATORS[i].numerator, INDICATORS[i].denominator) for i in dict.fromkeys(ids) if i in INDICATORS}


def missing_inputs(blocks: pd.DataFrame, *, preset: object = "cic_default",
                   by: str | Sequence[str] = "zone") -> pd.DataFrame:
    """List the missing block values among the inputs of the preset's indicators.

    Parameters
    ----------
    blocks
        Block table.
    preset
        Preset name, path or object.
    by
        Grouping the shares refer to (``"zone"`` or group columns, as in
        :func:`zgc_space.indicators.compute`).

    Returns
    -------
    pandas.DataFrame
        One row per block and column with a blank value: ``block_id``, ``column``,
        ``indicators`` (ids it feeds, joined by commas) and ``share_of_denominator_pct`` (the
        largest share of an affected indicator's group denominator the block carries; NaN when
        the denominator itself is blank). Empty when nothing is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> blocks = pd.DataFrame({"block_id": ["B1", "B2"], "built_m2": [30.0, 10.0],
    ...                        "population": [100.0, None]})
    >>> missing_inputs(blocks).values.tolist()
    [['B2', 'population', 'population_per_ha', 25.0]]
    """
    from zgc_space.evaluation._score import load_preset

    p = load_preset(preset)  # type: ignore[arg-type]
    expansion = bool((block_ranges(blocks) == "expansion").any())
    inputs = {k: v for k, v in _inputs(p, expansion=expansion).items()
              if all(c in blocks.columns for c in (*v[0], *v[1]))}
    cols = list(dict.fromkeys(c for num, den in inputs.values() for c in (*num, *den)))
    values = pd.DataFrame({c: pd.to_numeric(blocks[c], errors="coerce") for c in cols}, index=blocks.index)
    keys = None if by == "zone" else ([by] if isinstance(by, str) else list(by))
    group = (pd.Series(0, index=blocks.index) if keys is None
             else blocks[keys].astype(str).agg("|".join, axis=1))
    rows = []
    ids = _ids(blocks, np.ones(len(blocks), dtype=bool))
    for col in cols:
        blank = values[col].isna().to_numpy()
        for pos in np.flatnonzero(blank):
            feeds, shares = [], []
            for ind, (num, den) in inputs.items():
                if col not in num and col not in den:
                    continue
                feeds.append(ind)
                d = values[list(den)].sum(axis=1, skipna=False)
                total = d[group == group.iloc[pos]].sum()
                shares.append(100.0 * d.iloc[pos] / total if total > 0 and pd.notna(d.iloc[pos]) else np.nan)
            share = float(np.nanmax(shares)) if any(pd.notna(s) for s in shares) else np.nan
            rows.append({"block_id": ids[pos], "column": col, "indicators": ", ".join(feeds),
                         "share_of_denominator_pct": share})
    return pd.DataFrame(rows, columns=["block_id", "column", "indicators", "share_of_denominator_pct"])


def _refusal(table: pd.DataFrame) -> MissingDataError:
    parts = []
    for col, sub in table.groupby("column", sort=False):
        blocks = ", ".join(sub["block_id"].head(10)) + (" ..." if len(sub) > 10 else "")
        share = sub["share_of_denominator_pct"]
        carried = f"{share.max():.2g} % of the denominator" if share.notna().any() else "an unknown share"
        parts.append(f"{col} in block(s) {blocks} (feeds {sub['indicators'].iloc[0]}; carries up to {carried})")
    return MissingDataError(
        f"{len(table)} missing block value(s) in the inputs of the score: {'; '.join(parts)}. A blank cell would "
        "make the indicator undefined and silently re-weight the score: fill the values, or pass "
        "missing='drop-indicator' (re-normalise the weights without it) or missing='drop-blocks' (evaluate "
        "without these blocks); CLI: --missing",
        table,
    )


def score_blocks(
    blocks: pd.DataFrame,
    *,
    preset: object = "cic_default",
    by: str | Sequence[str] = "zone",
    missing: MissingPolicy = "refuse",
) -> pd.DataFrame:
    r"""Score groups of blocks to TD/T 1029: per evaluation range, combined, with a missing-data policy.

    .. math::

        \text{score} = \frac{w_{main} F_{main} + w_{exp} F_{exp}}{w_{main} + w_{exp}}

    over the ranges present (TD/T 1029-2010, 2014 revision); :math:`F_{exp}` scores the
    expansion range's 程度 sub-goal with the development rate (开发率) in place of the completion
    rate (the preset's ``ranges.expansion_substitutes``).

    Parameters
    ----------
    blocks
        Block table with the canonical columns and optionally ``range``.
    preset
        Preset name, path or object.
    by
        ``"zone"`` (one row) or group columns (``"subpark"``, ...).
    missing
        ``"refuse"`` (default), ``"drop-indicator"`` or ``"drop-blocks"``; see the module notes.

    Returns
    -------
    pandas.DataFrame
        As :func:`zgc_space.evaluation.score`; with an expansion range also ``score_main`` and
        ``score_expansion``. ``attrs``: ``indicators`` (main range), ``expansion_indicators``
        (or None), ``missing_inputs`` (:func:`missing_inputs`), ``missing`` (the policy) and
        ``dropped_blocks``.

    Raises
    ------
    zgc_space.errors.MissingDataError
        With ``missing="refuse"`` when an input of the preset's indicators is blank in a block.
    zgc_space.errors.ParameterError
        When ``missing`` is not one of :data:`MISSING_POLICIES`.

    Examples
    --------
    >>> from zgc_space import datasets
    >>> round(float(score_blocks(datasets.load_blocks())["score"].iloc[0]), 2)
    61.2
    """
    from zgc_space import indicators as _ind
    from zgc_space.evaluation._score import load_preset, score

    if missing not in MISSING_POLICIES:
        raise ParameterError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    p = load_preset(preset)  # type: ignore[arg-type]
    table = missing_inputs(blocks, preset=p, by=by)
    dropped: list[str] = []
    if len(table) and missing == "refuse":
        raise _refusal(table)
    if len(table) and missing == "drop-blocks":
        dropped = list(dict.fromkeys(table["block_id"]))
        keep = ~np.isin(np.asarray(_ids(blocks, np.ones(len(blocks), dtype=bool))), dropped)
        warnings.warn(
            f"{len(dropped)} block(s) with missing inputs left out of the evaluation (missing='drop-blocks'): "
            f"{', '.join(dropped[:10])}{' ...' if len(dropped) > 10 else ''}",
            ValidationWarning, stacklevel=2,
        )
        blocks = blocks[keep]
    ranges = block_ranges(blocks)
    exp_mask = (ranges == "expansion").to_numpy()
    wanted = list(_inputs(p, expansion=bool(exp_mask.any())))  # the substitutes only where a block needs them
    main = _ind.compute(blocks[~exp_mask], by=by, indicators=wanted) if (~exp_mask).any() else None
    expansion = _ind.compute(blocks[exp_mask], by=by, indicators=wanted) if exp_mask.any() else None
    if main is None and expansion is not None:
        main = expansion.iloc[0:0].reindex(expansion.index)
    assert main is not None
    if expansion is not None:
        index = main.index.union(expansion.index, sort=False)
        main, expansion = main.reindex(index), expansion.reindex(index)
    out = score(main, preset=p, expansion=expansion)
    out.attrs.update(indicators=main, expansion_indicators=expansion, missing_inputs=table, missing=missing,
                     dropped_blocks=dropped)
    return out
