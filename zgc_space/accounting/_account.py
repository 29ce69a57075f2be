"""``account``: blocks × survey × plan × supply/idle/serviced → pieces, block table, conflicts."""

from __future__ import annotations

import functools
import gc
import logging
import os
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import crs as _crs
from zgc_space import schema
from zgc_space.accounting import _classify, _clip, _economy, _layers, _overlay
from zgc_space.accounting._codes import load_codes
from zgc_space.accounting._result import Accounting, _LazyPieces
from zgc_space.errors import AccountingError, ColumnError

__all__ = ["Accounting", "account"]  # Accounting is defined in _result

logger = logging.getLogger("zgc_space.accounting")
P = ParamSpec("P")
R = TypeVar("R")

_LAND = ("built_m2", "built_residential_m2", "built_industrial_m2", "ready_m2", "unready_m2",
         "nonconstruction_m2", "supplied_m2", "idle_m2", "hightech_m2")
_BUILDING = ("gfa_m2", "footprint_m2", "industrial_gfa_m2", "industrial_footprint_m2")
_ECONOMY = (*_economy.ECONOMY_COLUMNS, "population", "enterprises", "hightech_enterprises")
_CONFLICT_COLUMNS = ["kind", "layer", "block_id", "feature_id", "other_id", "area_m2", "detail"]


def _unknown_error(problems: list[str]) -> AccountingError:
    return AccountingError(
        "codes not in the mapping: " + "; ".join(problems) + ". Map them in a table (CSV with columns "
        "layer,code,use[,name]; survey uses A1-A6, B11, B12, vacant, nonconstruction; plan uses construction, "
        "nonconstruction) and pass codes=['gbt21010_2017', 'my_codes.csv'] (CLI: --codes my_codes.csv), "
        "or pass unknown='report' to leave them out of every land column"
    )


def _unknowns(layer: _layers.Layer, codes: np.ndarray, uses: np.ndarray, col: str) -> str | None:
    blank = pd.isna(codes)
    bad = pd.isna(uses) & ~blank
    parts = []
    if bad.any():
        area = shapely.area(layer.geoms[bad])
        table = pd.DataFrame({"code": codes[bad], "area": area}).groupby("code")["area"].agg(["size", "sum"])
        parts += [f"{code!r} ({int(r['size'])} parcels, {r['sum']:,.0f} m²)" for code, r in table.iterrows()]
    if blank.any():
        parts.append(f"blank code ({int(blank.sum())} parcels, ids {_layers.list_ids(layer.ids[blank])})")
    if not parts:
        return None
    return f"{layer.where()}, column {col!r}: " + ", ".join(parts)


def _overlap_conflicts(layer: _layers.Layer, found: list[tuple[int, int, float]], overlaps: str) -> list[pd.DataFrame]:
    if not found:
        return []
    if overlaps == "raise":
        shown = "; ".join(f"{layer.ids[i]} and {layer.ids[j]} ({a:,.1f} m²)" for i, j, a in found[:10])
        more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
        raise AccountingError(
            f"{layer.where()} has {len(found)} overlapping pair(s) of features: {shown}{more}; a parcel layer "
            "must not overlap (run a topology check, e.g. QGIS 'Check validity' / 'Topology checker', and fix "
            "them), or pass overlaps='first' to let the earlier feature keep the shared area (reported)"
        )
    i, j, a = (np.array(v) for v in zip(*found, strict=True))
    return [_classify.frame("overlap", layer.name, None, layer.ids[i], layer.ids[j], a,
                            "overlapping features in one layer: the earlier keeps the shared area")]


def _as_of_mask(layer: _layers.Layer, as_of: np.datetime64 | None, start: str, end: str | None) -> np.ndarray:
    keep = np.ones(len(layer.ids), bool)
    if as_of is None:
        return keep
    d = _layers.dates(layer, start)
    if d is not None:
        keep &= ~(d > as_of)
    if end is not None:
        e = _layers.dates(layer, end)
        if e is not None:
            keep &= np.isnat(e) | (e > as_of)
    return keep


def _blocks_metric(blocks: object, *, checked: bool = False) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    frame, source, files = _layers.read_any(blocks, "blocks")
    if checked and isinstance(frame, gpd.GeoDataFrame):  # a partition of blocks this function already returned
        return frame, source, files
    if not isinstance(frame, gpd.GeoDataFrame):
        raise AccountingError(f"`blocks` ({source}) has no geometry")
    from zgc_space import io as _io

    frame = _io.rename_aliases(frame)
    if "block_id" not in frame.columns:
        raise ColumnError(f"`blocks` ({source}) has no block_id column (地块编号); add or rename it")
    if frame.crs is None:
        raise AccountingError(f"`blocks` ({source}) has no CRS; set it, e.g. gdf.set_crs('EPSG:4548')")
    metric = _crs.to_metric(frame, source=f"blocks ({source})", allow_guess=False)
    return _layers.check_block_geometry(metric, source), source, files


def _gc_paused(run: Callable[P, R]) -> Callable[P, R]:
    """Run ``run`` with Python's cyclic garbage collector paused (a caller's own pause is kept).

    The overlay creates and frees a hundred thousand geometries; the collector's passes would
    traverse every one of them, and the layers' too, again and again (the benchmark's median run
    17 % slower). What the run leaves in cycles is collected when it returns.
    """

    @functools.wraps(run)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was = gc.isenabled()
        gc.disable()
        try:
            return run(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return paused


@_gc_paused
def account(
    blocks: object,
    *,
    survey: object,
    plan: object | None = None,
    supply: object | None = None,
    idle: object | None = None,
    serviced: object | None = None,
    buildings: object | None = None,
    enterprises: object | None = None,
    codes: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = "gbt21010_2017",
    as_of: str | None = None,
    overlaps: str = "raise",
    unknown: str = "raise",
    sliver_m2: float = 1.0,
    threads: int = 1,
    _areas: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    _partial: bool = False,
) -> Accounting:
    """See :func:`zgc_space.accounting.account` (documented there).

    ``_areas``, when a dict, receives the ids and areas (as used, overlaps resolved) of the
    survey and flag layers: a partitioned run (``_partition``) needs them to merge the straddle
    and outside-block conflicts of its partitions. ``_partial`` marks such a partition: its blocks
    were checked already and its summary is left empty (the merge makes it).
    """
    if overlaps not in ("raise", "first") or unknown not in ("raise", "report"):
        raise AccountingError("overlaps must be 'raise' or 'first' and unknown must be 'raise' or 'report'")
    when = None if as_of is None else np.datetime64(pd.Timestamp(as_of).to_datetime64(), "ns")
    mapping = load_codes(codes)
    bl, bsource, bfiles = _blocks_metric(blocks, checked=_partial)
    nb = len(bl)
    bids = bl["block_id"].astype(str).to_numpy()
    notes: list[str] = []
    conflicts: list[pd.DataFrame] = []
    inputs: dict[str, list[str]] = {"blocks": bfiles}

    sv = _layers.prepare(survey, "survey", id_key="survey_id")
    inputs["survey"] = sv.files
    code_col = _layers.require(sv, "survey_code", "DLBM-like land-use code (地类编码)")
    s_codes = np.asarray(_codes_norm(sv.frame[code_col]), dtype=object)
    s_use = mapping.survey_use(s_codes)
    problems = [p for p in [_unknowns(sv, s_codes, s_use, code_col)] if p]
    cz = _layers.find_column(sv.frame, "czcsxm")
    rural = np.zeros(len(sv.ids), bool) if cz is None else (mapping.czcsxm_use(sv.frame[cz].tolist()) == "rural")
    pl = None
    if plan is not None:
        pl = _layers.prepare(plan, "plan", id_key="plan_id")
        inputs["plan"] = pl.files
        pcol = _layers.require(pl, "plan_code", "planned-use code (用地代码)")
        p_codes = np.asarray(_codes_norm(pl.frame[pcol]), dtype=object)
        p_use = mapping.plan_use(p_codes)
        problems += [p for p in [_unknowns(pl, p_codes, p_use, pcol)] if p]
        fcol = _layers.find_column(pl.frame, "far")
        p_far = _layers.far_caps(pl, fcol) if fcol else np.full(len(pl.ids), np.nan)
    if problems and unknown == "raise":
        raise _unknown_error(problems)
    tb = _layers.find_column(sv.frame, "tbmj")
    if tb is not None:
        tbmj = pd.to_numeric(sv.frame[tb], errors="coerce").to_numpy(dtype=float)
        planar = shapely.area(sv.geoms)
        ok = ~np.isnan(tbmj)
        if ok.any():
            diff = (planar[ok].sum() - tbmj[ok].sum()) / tbmj[ok].sum()
            notes.append(f"areas are planar in EPSG:4548: their total differs from the survey's ellipsoidal TBMJ "
                         f"total by {diff:+.4%} (planar − TBMJ)")
    else:
        notes.append("areas are planar in EPSG:4548 (the survey layer has no TBMJ column)")

    # --- the overlay: blocks × survey, then × plan, then × each flag layer; the parts the last
    # step cuts are built only when the pieces are read (``store``)
    store = _clip.Deferred()
    last = next((name for name, obj in (("serviced", serviced), ("idle", idle), ("supply", supply)) if obj is not None),
                "plan" if pl is not None else "survey")
    b_idx, s_idx, geoms, area, found, s_geoms, s_area = _overlay.split_disjoint(
        np.asarray(bl.geometry.values, dtype=object), sv.geoms, threads=threads, layer_rings=sv.rings,
        store=store if last == "survey" else None)
    conflicts += _overlap_conflicts(sv, found, overlaps)
    if pl is not None:
        k, p_idx, geoms, area, found, _, _ = _overlay.split_disjoint(
            geoms, pl.geoms, threads=threads, piece_area=area, layer_rings=pl.rings,
            piece_rings=_clip.Rings.reuse(geoms, sv.rings, s_idx), store=store if last == "plan" else None)
        conflicts += _overlap_conflicts(pl, found, overlaps)
        b_idx, s_idx = b_idx[k], s_idx[k]
    flags: dict[str, np.ndarray] = {}
    flag_layers: dict[str, _layers.Layer] = {}
    for name, obj, id_key, start, end in (
        ("supply", supply, "supply_id", "supply_date", None),
        ("idle", idle, "idle_id", "idle_date", "idle_disposed"),
        ("serviced", serviced, "serviced_id", "serviced_date", None),
    ):
        if obj is None:
            continue
        lay = _layers.prepare(obj, name, id_key=id_key)
        inputs[name] = lay.files
        keep = _as_of_mask(lay, when, start, end)
        if not keep.all():
            notes.append(f"{name}: {int((~keep).sum())} record(s) not in force on {as_of} left out")
            lay = _layers.Layer(lay.name, lay.source, lay.frame.loc[keep].reset_index(drop=True), lay.ids[keep],
                                lay.columns, lay.files)
        k, f_idx, geoms, area, found, _, lay_area = _overlay.split_disjoint(
            geoms, lay.geoms, threads=threads, piece_area=area, layer_rings=lay.rings,
            store=store if last == name else None)
        conflicts += _overlap_conflicts(lay, found, "first")
        b_idx, s_idx = b_idx[k], s_idx[k]
        if pl is not None:
            p_idx = p_idx[k]
        for other in flags:
            flags[other] = flags[other][k]
        flags[name] = f_idx
        flag_layers[name] = lay
        inside = np.bincount(f_idx[f_idx >= 0], weights=area[f_idx >= 0], minlength=len(lay.ids))
        conflicts += _classify.outside_conflicts(name, lay.ids, lay_area - inside, sliver_m2)
        if _areas is not None:
            _areas[name] = (lay.ids, lay_area)

    n = len(geoms)
    # the survey use of each piece: its parcel's, "gap" where no parcel
    use = np.append(np.asarray(s_use, dtype=object), "gap")[np.where(s_idx >= 0, s_idx, len(s_use))]
    p_use_piece = None if pl is None else _pick(p_use, p_idx)
    supplied = flags.get("supply", np.full(n, -1)) >= 0
    serv = flags.get("serviced", np.full(n, -1)) >= 0
    is_idle = flags.get("idle", np.full(n, -1)) >= 0
    code = _classify.classify_codes(use, rural[np.maximum(s_idx, 0)] & (s_idx >= 0), p_use_piece, supplied, serv)

    def ids_of(layer: _layers.Layer | None, idx: np.ndarray | None) -> object:
        if layer is None or idx is None:
            return np.full(n, None, dtype=object)
        return _text(layer.ids, idx)

    # text columns are taken from the few distinct values (or the layer's ids) in one step each:
    # pandas infers the text type of a 100,000-row object column ten times slower
    if buildings is not None or enterprises is not None:  # their sites are found in the pieces' polygons
        geoms = store.build(geoms)
    pieces = pd.DataFrame({
        "block_id": _text(bids, b_idx),
        "survey_id": ids_of(sv, s_idx),
        "survey_code": _text(s_codes, s_idx),
        "use": _text(np.append(np.asarray(s_use, dtype=object), "gap"), np.where(s_idx >= 0, s_idx, len(s_use))),
        "plan_id": ids_of(pl, p_idx if pl is not None else None),
        "plan_code": None if pl is None else _text(p_codes, p_idx),
        "plan_use": None if pl is None else _text(p_use, p_idx),
        "plan_far": np.nan if pl is None else np.where(p_idx >= 0, p_far[np.maximum(p_idx, 0)], np.nan),
        "supply_id": ids_of(flag_layers.get("supply"), flags.get("supply")),
        "idle_id": ids_of(flag_layers.get("idle"), flags.get("idle")),
        "serviced_id": ids_of(flag_layers.get("serviced"), flags.get("serviced")),
        "class": _text(np.asarray(_classify.CLASSES, dtype=object), code),
        "supplied": supplied,
        "idle": is_idle,
        "serviced": serv,
        "hightech": False,
        "area_m2": area,
    })
    conflicts += _classify.conflicts_from_pieces(pieces, has_plan=pl is not None, has_supply=supply is not None,
                                                 has_idle=idle is not None, code=code, use=use, plan_use=p_use_piece,
                                                 geometry=lambda rows: store.build(geoms[rows]))
    conflicts += _classify.straddle_conflicts(s_idx, b_idx, area, s_area, sv.ids, bids, sliver_m2)
    if _areas is not None:
        _areas["survey"] = (sv.ids, s_area)

    # --- buildings and enterprises
    # the pieces' tree only serves buildings and enterprises
    tree = shapely.STRtree(geoms) if buildings is not None or enterprises is not None else shapely.STRtree([])
    # identity, planning and any extra columns are kept (with the index); land, building and
    # economy columns are recomputed from the layers
    recomputed = {*_LAND, *_BUILDING, *_ECONOMY, "gfa_source", "site_area_m2", bl.geometry.name}
    out = gpd.GeoDataFrame(bl[[c for c in bl.columns if c not in recomputed]].copy(),
                           geometry=bl.geometry.values, crs=schema.METRIC_CRS)
    out["site_area_m2"] = shapely.area(np.asarray(bl.geometry.values, dtype=object))
    sources: dict[str, str] = {}
    land = _classify.land_columns(code, area, supplied, is_idle, b_idx, nb, has_supply=supply is not None,
                                  has_idle=idle is not None, has_serviced=serviced is not None)
    if supply is not None and serviced is None:
        notes.append("no serviced-land layer: ready_m2 (B21) counts supplied unbuilt land only; other unbuilt "
                     "construction land is in unready_m2 (B22)")
    if serviced is not None and supply is None:
        notes.append("no supply layer: supplied_m2 (D), idle_m2 (G) and hightech_m2 (H) cannot be derived")
    bld_layer = None
    b_piece = b_gfa = None
    if buildings is not None:
        bld_layer = _layers.prepare(buildings, "buildings", id_key="building_id")
        inputs["buildings"] = bld_layer.files
        cols, b_gfa, b_piece, used = _economy.building_columns(
            out, bld_layer, tree, geoms, np.asarray(_classify.CLASSES, dtype=object)[code], b_idx, nb)
        for c, v in cols.items():
            out[c] = v
            sources[c] = f"buildings ({bld_layer.source}), centroid rule, floors from {used!r}"
        out["gfa_source"] = "footprints"
    ht_piece = np.zeros(n, bool)
    ht_known = False
    if "supply" in flag_layers:
        sup = flag_layers["supply"]
        hcol = _layers.find_column(sup.frame, "supply_hightech")
        if hcol is not None:
            flag = np.array([str(v).strip().lower() in {"1", "true", "yes", "是", "t"} for v in sup.frame[hcol]])
            f = flags["supply"]
            ht_piece |= (f >= 0) & flag[np.maximum(f, 0)] if len(flag) else False
            ht_known = True
    if enterprises is not None:
        s_piece = _parcel_piece(s_idx, area, len(sv.ids))
        sites, esource, efiles = _economy.enterprise_sites(
            enterprises, survey=sv, survey_piece=s_piece, buildings=bld_layer, building_piece=b_piece,
            building_gfa=b_gfa, tree=tree, pieces_geom=geoms)
        inputs["enterprises"] = efiles
        conflicts += _enterprise_outside(sites)
        _economy_columns(out, sites, b_idx, nb, sources, esource)
        if sites.attrs["has_hightech"]:
            ht_parcels = np.unique(s_idx[sites.loc[sites["hightech"] & (sites["piece"] >= 0), "piece"].to_numpy()])
            ht_piece |= np.isin(s_idx, ht_parcels[ht_parcels >= 0])
            ht_known = True
    if ht_known and supply is not None:
        pieces["hightech"] = ht_piece & land["d_mask"]
        land["hightech_m2"] = np.bincount(b_idx, weights=np.where(pieces["hightech"].to_numpy(), area, 0.0),
                                          minlength=nb)
        sources["hightech_m2"] = ("supplied land (D) of supply records flagged high-tech or of survey parcels "
                                  "hosting a high-tech enterprise")
    for c in _LAND:
        out[c] = land.get(c, np.full(nb, np.nan))
    _plan_capacity(out, pieces, b_idx, nb, p_use_piece, sources)
    for c in (*_BUILDING, *_ECONOMY):
        if c not in out.columns:
            if c in bl.columns:
                out[c] = pd.to_numeric(bl[c], errors="coerce").to_numpy(dtype=float)
                sources[c] = f"given in blocks ({bsource})"
            else:
                out[c] = np.nan
    if "gfa_source" not in out.columns:
        out["gfa_source"] = bl["gfa_source"].astype(str).to_numpy() if "gfa_source" in bl.columns else None
    land_src = "survey" + "".join(f"+{k}" for k in ("plan", "supply", "idle", "serviced") if k in inputs)
    for c in _LAND:
        if c not in sources and not np.isnan(out[c].to_numpy(dtype=float)).all():
            sources[c] = land_src
    out["land_source"] = land_src
    out["economy_source"] = "enterprises" if enterprises is not None else (
        "given" if any(c in bl.columns for c in _ECONOMY) else "missing")
    missing = tuple(c for c in (*_LAND, *_BUILDING, *_ECONOMY) if np.isnan(out[c].to_numpy(dtype=float)).all())
    if missing:
        notes.append("not derivable from the layers given (left NaN): " + ", ".join(missing))
    conflict_frame = _conflict_frame(conflicts)
    from zgc_space.accounting._summary import summary as _summary

    return Accounting(
        blocks=out, _pieces=_LazyPieces(pieces, geoms, store), conflicts=conflict_frame,
        summary=pd.DataFrame() if _partial else _summary(out), codes=mapping,
        missing=missing, sources=sources, notes=tuple(notes), inputs=inputs,
    )


def _pick(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Return ``values[idx]`` as objects, ``None`` where ``idx`` is -1."""
    ext = np.full(len(values) + 1, None, dtype=object)
    ext[:-1] = values
    out: np.ndarray = ext[np.where(idx >= 0, idx, len(values))]
    return out


def _text(values: np.ndarray, idx: np.ndarray) -> object:
    """Return ``values[idx]`` as a pandas text array (missing where ``idx`` is -1)."""
    return pd.array(np.asarray(values, dtype=object), dtype="str").take(np.asarray(idx, dtype=np.int64),
                                                                        allow_fill=True)


def _codes_norm(values: pd.Series) -> np.ndarray:
    from zgc_space.accounting._codes import normalise_codes

    return normalise_codes(values.to_numpy(dtype=object))


def _parcel_piece(s_idx: np.ndarray, area: np.ndarray, ns: int) -> np.ndarray:
    """Return the largest piece of each survey parcel (-1 for parcels in no block)."""
    out = np.full(ns, -1, dtype=np.int64)
    ok = s_idx >= 0
    order = np.lexsort((-area[ok], s_idx[ok]))
    idx = np.flatnonzero(ok)[order]
    first = np.unique(s_idx[idx], return_index=True)
    out[first[0]] = idx[first[1]]
    return out


def _economy_columns(out: gpd.GeoDataFrame, sites: pd.DataFrame, b_idx: np.ndarray, nb: int,
                     sources: dict[str, str], esource: str) -> None:
    inside = sites["piece"].to_numpy() >= 0
    s = sites.loc[inside]
    blk = b_idx[s["piece"].to_numpy()]
    ind = s["industrial"].to_numpy(dtype=bool)
    for base in ("revenue_10k_cny", "tax_10k_cny", "fixed_asset_10k_cny", "employees"):
        if base not in s.columns:
            continue
        v = s[base].fillna(0.0).to_numpy(dtype=float)
        out[base] = np.bincount(blk, weights=v, minlength=nb)
        sources[base] = f"enterprises ({esource})"
        if base != "employees" and sites.attrs["has_industrial"]:
            col = "industrial_" + base
            out[col] = np.bincount(blk, weights=np.where(ind, v, 0.0), minlength=nb)
            sources[col] = f"enterprises ({esource}), industrial = GB/T 4754 sections B-D"
    firm = pd.DataFrame({"b": blk, "e": s["enterprise_id"].to_numpy(), "h": s["hightech"].to_numpy(dtype=bool)})
    firm = firm.drop_duplicates(["b", "e"])
    out["enterprises"] = np.bincount(firm["b"].to_numpy(), minlength=nb).astype(float)
    sources["enterprises"] = f"enterprises ({esource}), distinct ids per block"
    if sites.attrs["has_hightech"]:
        out["hightech_enterprises"] = np.bincount(firm["b"].to_numpy(), weights=firm["h"].to_numpy(dtype=float),
                                                  minlength=nb)
        sources["hightech_enterprises"] = f"enterprises ({esource})"


def _plan_capacity(out: gpd.GeoDataFrame, p: gpd.GeoDataFrame, b_idx: np.ndarray, nb: int,
                   plan_use: np.ndarray | None, sources: dict[str, str]) -> None:
    if plan_use is not None:
        far = p["plan_far"].to_numpy(dtype=float)
        ok = (plan_use == "construction") & ~np.isnan(far)
        out["permitted_gfa_plots_m2"] = np.bincount(b_idx, weights=np.where(ok, far * p["area_m2"].to_numpy(), 0.0),
                                                    minlength=nb)
        sources["permitted_gfa_plots_m2"] = "plan plots: Σ net plot FAR cap × plot area in the block"
    if "far_cap" in out.columns:
        gross = out["built_m2"] + out["ready_m2"] + out["unready_m2"]
        out["permitted_gfa_far_cap_m2"] = pd.to_numeric(out["far_cap"], errors="coerce") * gross
        sources["permitted_gfa_far_cap_m2"] = "far_cap × constructible land (A + B), as zgc_space.capacity"


def _enterprise_outside(sites: pd.DataFrame) -> list[pd.DataFrame]:
    bad = sites["piece"].to_numpy() < 0
    if not bad.any():
        return []
    return [_classify.frame("enterprise_outside", "enterprises", None, sites["enterprise_id"].to_numpy()[bad], None,
                            np.nan, "enterprise site outside every block: not counted")]


def _conflict_frame(parts: list[pd.DataFrame]) -> gpd.GeoDataFrame:
    if parts:
        frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    else:
        frame = None
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in _CONFLICT_COLUMNS} | {"geometry": []})
    frame["area_m2"] = pd.to_numeric(frame["area_m2"], errors="coerce")
    for c in ("block_id", "feature_id", "other_id"):
        values = frame[c].to_numpy(dtype=object)
        text = values.astype(str).astype(object)
        text[pd.isna(values)] = None
        frame[c] = text
    geo = gpd.GeoSeries(list(frame["geometry"]), crs=schema.METRIC_CRS)
    out = gpd.GeoDataFrame(frame[_CONFLICT_COLUMNS], geometry=geo.values, crs=schema.METRIC_CRS)
    return out.reset_index(drop=True)
