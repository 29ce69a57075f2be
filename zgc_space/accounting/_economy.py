"""Buildings and enterprises on the pieces: floor area, industrial floor area, economy, H."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from zgc_space import buildings as _buildings
from zgc_space import io as _io
from zgc_space.accounting._layers import Layer, find_column, list_ids, read_any
from zgc_space.errors import AccountingError, ColumnError

__all__ = ["ECONOMY_COLUMNS", "building_columns", "enterprise_sites", "locate"]

#: Economy columns summed from the enterprise register.
ECONOMY_COLUMNS = (
    "revenue_10k_cny", "industrial_revenue_10k_cny", "tax_10k_cny", "industrial_tax_10k_cny",
    "fixed_asset_10k_cny", "industrial_fixed_asset_10k_cny", "employees",
)
_VALUE_COLUMNS = ("revenue_10k_cny", "tax_10k_cny", "fixed_asset_10k_cny", "employees")
_ENTERPRISE_ID = ("enterprise_id", "统一社会信用代码", "TYSHXYDM", "QYBH", "企业编号", "id")
_HIGHTECH = ("hightech", "is_hightech", "高新技术企业", "GXJSQY")
_INDUSTRIAL = ("industrial", "is_industrial", "工业企业")
_INDUSTRY = ("industry_code", "行业代码", "HYDM", "industry")
_TRUE = {"1", "true", "yes", "y", "是", "t"}


def locate(pieces_tree: shapely.STRtree, pieces_geom: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the piece holding each point (-1 where none)."""
    pts = shapely.points(x, y)
    pi, pj = pieces_tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = pj[first]
    return out


def building_columns(
    blocks: object, layer: Layer, tree: shapely.STRtree, pieces_geom: np.ndarray, piece_class: np.ndarray,
    piece_block: np.ndarray, n_blocks: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, str]:
    """Floor area and footprints per block by the centroid rule of :func:`zgc_space.buildings.aggregate`.

    Returns the columns, each building's floor area and the piece holding its centroid, and the
    name of the floors/height column used.
    """
    floors = find_column(layer.frame, "floors")
    height = None if floors else find_column(layer.frame, "height")
    if floors is None and height is None:
        raise ColumnError(
            f"{layer.where()} has neither a floors column (floors, CS, 层数) nor a height column "
            "(height_m, GD, 高度); add one so floor area can be computed"
        )
    agg = _buildings.aggregate(blocks, layer.frame, floors=floors, height=height)
    area, cx, cy = _buildings.area_and_centroid(layer.geoms)
    if floors is not None:
        nfl = pd.to_numeric(layer.frame[floors], errors="coerce").to_numpy(dtype=float)
    else:
        h = pd.to_numeric(layer.frame[height], errors="coerce").to_numpy(dtype=float)
        nfl = np.maximum(1.0, np.floor(h / 3.0))
    gfa = area * nfl
    where = locate(tree, pieces_geom, cx, cy)
    ind = (where >= 0) & (piece_class[np.maximum(where, 0)] == "A2")
    blk = piece_block[np.maximum(where, 0)]
    cols = {
        "gfa_m2": agg["gfa_m2"].to_numpy(dtype=float),
        "footprint_m2": agg["footprint_m2"].to_numpy(dtype=float),
        "industrial_gfa_m2": np.bincount(blk[ind], weights=gfa[ind], minlength=n_blocks),
        "industrial_footprint_m2": np.bincount(blk[ind], weights=area[ind], minlength=n_blocks),
    }
    return cols, gfa, where, floors or str(height)


def _flag(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray | None:
    lower = {str(c).lower(): c for c in frame.columns}
    for n in names:
        if n.lower() in lower:
            col = frame[lower[n.lower()]]
            return np.array([str(v).strip().lower() in _TRUE for v in col])
    return None


def _industrial(frame: pd.DataFrame) -> np.ndarray | None:
    flag = _flag(frame, _INDUSTRIAL)
    if flag is not None:
        return flag
    lower = {str(c).lower(): c for c in frame.columns}
    for n in _INDUSTRY:
        if n.lower() in lower:  # GB/T 4754: sections B-D (mining, manufacturing, utilities), divisions 06-46
            codes = frame[lower[n.lower()]].astype(str).str.strip().str.upper()
            letter = codes.str[:1].isin(["B", "C", "D"])
            digits = pd.to_numeric(codes.str[:2], errors="coerce")
            return np.asarray((letter | ((digits >= 6) & (digits <= 46))).to_numpy(), dtype=bool)
    return None


def enterprise_sites(
    obj: object, *, survey: Layer, survey_piece: np.ndarray, buildings: Layer | None, building_piece: np.ndarray | None,
    building_gfa: np.ndarray | None, tree: shapely.STRtree, pieces_geom: np.ndarray,
) -> tuple[pd.DataFrame, str, list[str]]:
    """Locate every enterprise site on a piece; split multi-site enterprises by floor area.

    Returns one row per site with ``piece`` (-1 outside every block), ``enterprise_id``,
    ``hightech``, ``industrial``, ``weight`` and the value columns already split by weight.
    """
    frame, source, files = read_any(obj, "enterprises")
    frame = _io.rename_aliases(pd.DataFrame(frame))
    where = f"enterprises ({source})"
    id_col = next((c for c in _ENTERPRISE_ID if c in frame.columns), None)
    ids = frame[id_col].astype(str).to_numpy() if id_col else np.array([f"enterprise#{i}" for i in range(len(frame))])
    n = len(frame)
    piece = np.full(n, -1, dtype=np.int64)
    located = np.zeros(n, bool)
    site_gfa = np.full(n, np.nan)
    geom_col = frame.geometry.name if hasattr(frame, "geometry") and "geometry" in frame.columns else None
    if geom_col is not None:
        import geopandas as gpd

        from zgc_space import crs as _crs

        gframe = gpd.GeoDataFrame(frame, geometry=geom_col)
        if gframe.crs is None:
            raise AccountingError(f"{where} has no CRS; set it (e.g. gdf.set_crs('EPSG:4548'))")
        g = np.asarray(_crs.to_metric(gframe, source=where, allow_guess=False).geometry.values, dtype=object)
        has = ~(shapely.is_missing(g) | shapely.is_empty(g))
        if has.any():
            pts = shapely.point_on_surface(g[has])
            piece[has] = locate(tree, pieces_geom, shapely.get_x(pts), shapely.get_y(pts))
            located |= has
    by_building = find_column(frame, "building_id") if buildings is not None else None
    if by_building and buildings is not None and building_piece is not None:
        lookup = pd.Series(np.arange(len(buildings.ids)), index=pd.Index(buildings.ids.astype(str)))
        lookup = lookup[~lookup.index.duplicated()]
        bid = frame[by_building].astype("string")
        k = lookup.reindex(bid.fillna("").to_numpy()).to_numpy()
        ok = ~np.isnan(k) & ~located
        kk = k[ok].astype(np.int64)
        piece[ok] = building_piece[kk]
        located |= ok
        if building_gfa is not None:
            site_gfa[ok] = building_gfa[kk]
    pid_col = next((c for c in ("parcel_id", "BSM", "TBBH", "图斑编号") if c in frame.columns), None)
    if pid_col is not None:
        lookup = pd.Series(survey_piece, index=pd.Index(survey.ids.astype(str)))
        lookup = lookup[~lookup.index.duplicated()]
        k = lookup.reindex(frame[pid_col].astype("string").fillna("").to_numpy()).to_numpy()
        ok = ~np.isnan(k) & ~located
        piece[ok] = k[ok].astype(np.int64)
        located |= ok
    if not located.all():
        raise AccountingError(
            f"{where}: {int((~located).sum())} enterprise(s) have no location (ids {list_ids(list(ids[~located]))}): "
            "give each a point geometry, a building_id of the buildings layer or a parcel_id (BSM) of the "
            "survey layer"
        )
    missing_values = [c for c in _VALUE_COLUMNS if c not in frame.columns]
    sites = pd.DataFrame({"enterprise_id": ids, "piece": piece})
    ht = _flag(frame, _HIGHTECH)
    ind = _industrial(frame)
    sites["hightech"] = ht if ht is not None else False
    sites["industrial"] = ind if ind is not None else False
    # a multi-site enterprise (its id on several rows, totals repeated) is split by each site's floor area
    counts = sites.groupby("enterprise_id")["piece"].transform("size").to_numpy()
    known = pd.Series(~np.isnan(site_gfa) & (np.nan_to_num(site_gfa) > 0)).groupby(ids).transform("all").to_numpy()
    w = np.where(known, np.nan_to_num(site_gfa), 1.0)
    total = pd.Series(w).groupby(ids).transform("sum").to_numpy()
    weight = np.where(counts > 1, w / total, 1.0)
    sites["weight"] = weight
    for c in _VALUE_COLUMNS:
        if c in frame.columns:
            sites[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) * weight
    sites.attrs["missing"] = missing_values
    sites.attrs["has_hightech"] = ht is not None
    sites.attrs["has_industrial"] = ind is not None
    return sites, source, files
