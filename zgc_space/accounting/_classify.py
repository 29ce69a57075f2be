"""Accounting class of every piece (TD/T 1029 §3.1 classes) and the conflicts between layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely

__all__ = ["BUILT", "CLASSES", "CODE", "classify", "classify_codes", "conflicts_from_pieces", "isin", "land_columns",
           "outside_conflicts", "straddle_conflicts"]

#: Piece classes: built urban land A1-A6, rural built B11/B12, unbuilt B21/B22, C, and the two
#: that enter no land column: ``gap`` (no survey parcel) and ``unknown`` (code not in the mapping).
CLASSES = ("A1", "A2", "A3", "A4", "A5", "A6", "B11", "B12", "B21", "B22", "C", "gap", "unknown")
BUILT = ("A1", "A2", "A3", "A4", "A5", "A6")
#: Class → its position in :data:`CLASSES` (the class codes :func:`classify_codes` returns).
CODE = {c: i for i, c in enumerate(CLASSES)}
_CONSTRUCTION_USES = (*BUILT, "B11", "B12", "vacant")


def isin(values: np.ndarray, choices: tuple[str, ...] | list[str]) -> np.ndarray:
    """``np.isin`` for a few text choices, by equality (no sort of the text array)."""
    out = np.zeros(len(values), bool)
    for c in choices:
        out |= values == c
    return out


def classify(
    use: np.ndarray,
    rural: np.ndarray,
    plan: np.ndarray | None,
    supplied: np.ndarray,
    serviced: np.ndarray,
) -> np.ndarray:
    """Return the class of each piece.

    Parameters
    ----------
    use
        Survey use of the piece's parcel (``A1`` ... ``nonconstruction``; ``"gap"`` where no
        parcel, ``None`` where the code is unknown).
    rural
        True where the parcel's CZCSXM says rural (203): construction land there is B11/B12.
    plan
        ``"construction"``, ``"nonconstruction"`` or ``None`` (no plot) per piece; ``None`` for
        the whole array when no plan layer was given.
    supplied, serviced
        Flags from the supply and serviced-land layers.

    Notes
    -----
    GB/T 21010-2017 current use, read with the plan (TD/T 1029-2010 land classes):
    urban built land is A whatever the plan says (a disagreement is a conflict); rural built land
    (0702, or construction codes with CZCSXM 203) is B11/B12, or C where the plan makes it
    non-construction land; 1201 空闲地 and non-construction current use are B2 where the plan makes
    them construction land (B21 if serviced or supplied, else B22) and C otherwise. Without a plan
    layer, non-construction current use is C (nothing says it may be built on).
    """
    out: np.ndarray = np.asarray(CLASSES, dtype=object)[classify_codes(use, rural, plan, supplied, serviced)]
    return out


def classify_codes(
    use: np.ndarray,
    rural: np.ndarray,
    plan: np.ndarray | None,
    supplied: np.ndarray,
    serviced: np.ndarray,
) -> np.ndarray:
    """:func:`classify` as class codes (positions in :data:`CLASSES`, int8).

    The text of ``use`` and ``plan`` is compared once per distinct value, not once per piece.
    """
    n = len(use)
    ucode, uniq = pd.factorize(np.asarray(use, dtype=object))  # unknown (None) gets -1

    def where_use(choices: tuple[str, ...] | list[str]) -> np.ndarray:
        mask: np.ndarray = np.append(np.isin(np.asarray(uniq, dtype=object), list(choices)), False)[ucode]
        return mask

    out = np.full(n, CODE["unknown"], dtype=np.int8)
    if plan is None:
        plan_nc = plan_c = np.zeros(n, bool)
    else:
        pcode, puniq = pd.factorize(np.asarray(plan, dtype=object))
        plan_nc = np.append(np.asarray(puniq, dtype=object) == "nonconstruction", False)[pcode]
        plan_c = np.append(np.asarray(puniq, dtype=object) == "construction", False)[pcode]
    built = where_use(BUILT)
    own = np.append(np.array([CODE.get(str(u), CODE["unknown"]) for u in uniq], dtype=np.int8), CODE["unknown"])
    urban = built & ~rural
    out[urban] = own[ucode[urban]]
    a1 = where_use(["A1"])
    rural_res = where_use(["B11"]) | (a1 & rural)
    rural_other = (where_use([*BUILT, "B12"]) & rural & ~a1) | where_use(["B12"])
    out[rural_res] = CODE["B11"]
    out[rural_other] = CODE["B12"]
    out[(rural_res | rural_other) & plan_nc] = CODE["C"]
    vacant, nonc = where_use(["vacant"]), where_use(["nonconstruction"])
    unbuilt = vacant | nonc
    b2 = vacant if plan is None else (vacant & ~plan_nc) | (nonc & plan_c)
    ready = supplied | serviced
    out[b2 & ready] = CODE["B21"]
    out[b2 & ~ready] = CODE["B22"]
    out[unbuilt & ~b2] = CODE["C"]
    out[where_use(["gap"])] = CODE["gap"]
    return out


def _frame(kind: str, layer: str, block: object, fid: object, other: object, area: object, detail: str | list[str],
           geom: object = None) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "layer": layer, "block_id": block, "feature_id": fid, "other_id": other,
                         "area_m2": area, "detail": detail, "geometry": geom})


def conflicts_from_pieces(p: pd.DataFrame, *, has_plan: bool, has_supply: bool, has_idle: bool,
                          code: np.ndarray | None = None, use: np.ndarray | None = None,
                          plan_use: np.ndarray | None = None,
                          geometry: Callable[[np.ndarray], np.ndarray] | None = None) -> list[pd.DataFrame]:
    """Conflicts visible on the pieces: built unsupplied, plan/survey, gaps, supply/idle misplaced, unknown codes.

    ``code`` (class codes), ``use`` and ``plan_use`` (object arrays) may be given when known:
    they are read from ``p`` otherwise. ``geometry`` gives the geometries of the pieces at some
    positions (``p``'s geometry column when not given).
    """
    out: list[pd.DataFrame] = []

    def grouped(mask: np.ndarray, keys: list[str], kind: str, layer: str, detail: str, fid: str | None,
                other: str | None) -> None:
        if not mask.any():
            return
        sub = p.loc[mask, [*keys, "area_m2"]]
        codes = sub.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
        order = np.argsort(codes, kind="stable")
        codes_s = codes[order]
        starts = np.r_[0, np.flatnonzero(np.diff(codes_s)) + 1]
        sizes = np.diff(np.r_[starts, len(codes_s)])
        rows = np.flatnonzero(mask)[order]
        geoms = geometry(rows) if geometry is not None else np.asarray(p.geometry.values, dtype=object)[rows]
        merged = geoms[starts].copy()
        for k in np.flatnonzero(sizes > 1):  # union only where a conflict spans several pieces
            merged[k] = shapely.union_all(geoms[starts[k]:starts[k] + sizes[k]])
        area = np.add.reduceat(sub["area_m2"].to_numpy()[order], starts)
        first = sub.iloc[order[starts]]
        out.append(_frame(kind, layer, first["block_id"].to_numpy(), first[fid].to_numpy() if fid else None,
                          first[other].to_numpy() if other else None, area, detail, merged))

    if code is None:
        code = np.asarray(pd.Index(CLASSES).get_indexer(p["class"].to_numpy(dtype=object)), dtype=np.int8)
    built = code <= CODE["A6"]
    b21 = code == CODE["B21"]
    if has_supply:
        grouped(built & ~p["supplied"].to_numpy(), ["block_id", "survey_id"], "built_unsupplied", "supply",
                "survey says built (A) but no supply record covers it (A outside D): a missing record or "
                "collective land mis-coded", "survey_id", None)
        wrong = p["supplied"].to_numpy() & ~(built | b21)
        grouped(wrong, ["block_id", "supply_id"], "supply_outside_construction", "supply",
                "supplied land that is neither built (A) nor unbuilt construction land (B21): not counted in D",
                "supply_id", None)
    if has_plan:
        ucode, uniq = pd.factorize(p["use"].to_numpy(dtype=object) if use is None else np.asarray(use, dtype=object))
        construction_now = np.append(np.isin(np.asarray(uniq, dtype=object), list(_CONSTRUCTION_USES)), False)[ucode]
        nc = (p["plan_use"].to_numpy(dtype=object) if plan_use is None else plan_use) == "nonconstruction"
        grouped(construction_now & nc, ["block_id", "survey_id", "plan_id"], "plan_survey", "plan",
                "survey says construction land, plan says non-construction land (built land stays A; "
                "rural and vacant land becomes C)", "survey_id", "plan_id")
        no_plot = (p["plan_id"].isna().to_numpy()) & (code != CODE["gap"])
        grouped(no_plot, ["block_id"], "plan_gap", "plan",
                "no plan plot covers this block area: non-construction current use is counted as C", None, None)
    if has_idle:
        idle = p["idle"].to_numpy()
        grouped(idle & ~(b21 & p["supplied"].to_numpy()), ["block_id", "idle_id"], "idle_misplaced",
                "idle", "idle-land determination on land that is not supplied and unbuilt (G outside D - A): "
                "not counted in G", "idle_id", None)
    grouped(code == CODE["gap"], ["block_id"], "gap", "survey",
            "block area that no survey parcel covers (unaccounted)", None, None)
    grouped(code == CODE["unknown"], ["block_id", "survey_id"], "unknown_code", "survey",
            "survey code not in the mapping (counted in no land column)", "survey_id", None)
    return out


def frame(kind: str, layer: str, block: object, fid: object, other: object, area: object, detail: str | list[str],
          geom: object = None) -> pd.DataFrame:
    """One block of conflict rows (public to the package)."""
    return _frame(kind, layer, block, fid, other, area, detail, geom)


def outside_conflicts(layer: str, ids: np.ndarray, outside_m2: np.ndarray, sliver_m2: float) -> list[pd.DataFrame]:
    """Polygons of a flag layer (supply, idle, serviced) with more than ``sliver_m2`` outside every block."""
    bad = outside_m2 > sliver_m2
    if not bad.any():
        return []
    return [_frame("outside_blocks", layer, None, ids[bad], None, outside_m2[bad],
                   f"{layer} polygon (part) outside every block: not counted")]


def straddle_conflicts(s_idx: np.ndarray, b_idx: np.ndarray, area: np.ndarray, parcel_area: np.ndarray,
                       parcel_ids: np.ndarray, block_ids: np.ndarray, sliver_m2: float) -> list[pd.DataFrame]:
    """Survey parcels split between blocks, or partly outside every block, by more than ``sliver_m2``.

    ``s_idx``, ``b_idx`` and ``area`` describe the pieces (parcel and block positions, -1 for no
    parcel); ``parcel_area`` and ``parcel_ids`` are indexed by parcel position.
    """
    ok = s_idx >= 0
    t = pd.DataFrame({"s": s_idx[ok], "b": b_idx[ok], "a": area[ok]}).groupby(["s", "b"], sort=True)["a"].sum()
    t = t.reset_index()
    per = t.groupby("s").agg(total=("a", "sum"), top=("a", "max"), n=("b", "size"))
    p_area = parcel_area[per.index.to_numpy()]
    split_off = p_area - per["top"].to_numpy()
    bad = (split_off > sliver_m2) & ((per["n"].to_numpy() > 1) | (p_area - per["total"].to_numpy() > sliver_m2))
    if not bad.any():
        return []
    idx = per.index.to_numpy()[bad]
    blocks_of = t[t["s"].isin(idx)].groupby("s")["b"].apply(lambda b: ";".join(block_ids[b.to_numpy()]))
    return [_frame("straddle", "survey", blocks_of.loc[idx].to_numpy(), parcel_ids[idx], None, split_off[bad],
                   "survey parcel crossing a block edge: split by area; area_m2 is the part outside "
                   "the block holding most of it")]


def land_columns(code: np.ndarray, area: np.ndarray, supplied: np.ndarray, is_idle: np.ndarray, b_idx: np.ndarray,
                 nb: int, *, has_supply: bool, has_idle: bool, has_serviced: bool) -> dict[str, np.ndarray]:
    """Land columns per block from the pieces' class codes (positions in :data:`_classify.CLASSES`)."""
    c = CODE

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(b_idx, weights=np.where(mask, area, 0.0), minlength=nb)

    built = code <= c["A6"]
    d_mask = supplied & (built | (code == c["B21"]))
    out = {
        "built_m2": total(built), "built_residential_m2": total(code == c["A1"]),
        "built_industrial_m2": total(code == c["A2"]), "nonconstruction_m2": total(code == c["C"]), "d_mask": d_mask,
    }
    if has_supply or has_serviced:
        out["ready_m2"] = total(code == c["B21"])
        out["unready_m2"] = total((code == c["B11"]) | (code == c["B12"]) | (code == c["B22"]))
    if has_supply:
        out["supplied_m2"] = total(d_mask)
    if has_idle and has_supply:
        out["idle_m2"] = total(is_idle & d_mask & (code == c["B21"]))
    return out
