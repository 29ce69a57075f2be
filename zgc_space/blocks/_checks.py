"""Checks of a block table for values that give silent wrong numbers (private to zgc_space.blocks).

Booleans given as text, Chinese text decoded with the wrong encoding, blocks outside the area
where their CRS is defined, and the plausible ranges of numeric columns.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space import schema
from zgc_space.blocks._problems import Problem, _ids_text

#: The largest value a block's column may hold, by unit: a block is at most the size of Beijing
#: (16,410 km²); a tax or revenue above 10^12 万元 is a thousand times China's GDP.
PLAUSIBLE_MAX: dict[str, float] = {"m²": 2e10, "万元": 1e12, "persons": 1e8, "enterprises": 1e7, "units": 1e7,
                                    "": 1e12}
#: The highest FAR a block can have (floor area / built land): far beyond any tall-building district.
PLAUSIBLE_FAR = 100.0

_TRUE_TEXT = {"true", "t", "yes", "y", "1", "是", "√"}
_FALSE_TEXT = {"false", "f", "no", "n", "0", "否", "×", ""}


def check_flags(blocks: pd.DataFrame, ids: pd.Series, where: str) -> list[Problem]:
    """``policy_zone`` must hold booleans: text such as "False" is truthy, and NaN is neither."""
    if "policy_zone" not in blocks.columns:
        return []
    values = blocks["policy_zone"]
    out = []
    missing = values.isna().to_numpy()
    if missing.any():
        bad = list(ids[missing])
        out.append(Problem(
            "error", "missing-flag", f"policy_zone{where} is empty in blocks {_ids_text(bad)}",
            "give every block True or False (an empty flag would be counted as a member by some tools and "
            "not by others)", tuple(bad), "policy_zone",
        ))
    if not (pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)):
        text = values[~missing].map(lambda v: v if isinstance(v, (bool, np.bool_)) else str(v).strip().lower())
        texty = text.map(lambda v: not isinstance(v, (bool, np.bool_)))
        if texty.any():
            sample = sorted({str(v) for v in values[~missing][texty.to_numpy()]})[:5]
            known = text[texty].isin(_TRUE_TEXT | _FALSE_TEXT).all()
            fix = ("convert the column to booleans, e.g. blocks['policy_zone'] = "
                   "blocks['policy_zone'].map({'True': True, 'False': False})") if known else (
                "store True or False in every row")
            out.append(Problem(
                "error", "flag-text",
                f"policy_zone{where} holds text, not booleans ({', '.join(map(repr, sample))} in "
                f"{int(texty.sum())} block(s)); the text 'False' counts as True", fix,
                tuple(ids[~missing][texty.to_numpy()]), "policy_zone",
            ))
    return out


def looks_like_mojibake(text: str) -> str | None:
    """Return the GBK (or UTF-8) reading of ``text`` if it is Chinese decoded as Latin-1, else None.

    Examples
    --------
    >>> looks_like_mojibake("²ýÆ½Ô°")
    '昌平园'
    >>> looks_like_mojibake("海淀园") is None and looks_like_mojibake("Zhongguancun") is None
    True
    """
    if not text or text.isascii() or not all(ord(c) < 256 for c in text):
        return None
    high = sum(ord(c) >= 0x80 for c in text)
    if high < 2:
        return None
    raw = text.encode("latin-1")
    for enc in ("utf-8", "gb18030"):
        try:
            decoded = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if any("\u4e00" <= c <= "\u9fff" for c in decoded):
            return decoded
    return None


def check_text(blocks: pd.DataFrame, ids: pd.Series, where: str) -> list[Problem]:
    """Text columns that look like Chinese read with the wrong encoding (GBK decoded as Latin-1)."""
    out = []
    for name in ("name", "subpark", "cluster", "district", "owner_type"):
        if name not in blocks.columns:
            continue
        values = blocks[name]
        strings = values[values.map(lambda v: isinstance(v, str))]
        fixed = strings.map(looks_like_mojibake)
        hit = fixed.notna()
        if hit.any():
            first = strings[hit].iloc[0]
            out.append(Problem(
                "error", "mojibake",
                f"column {name}{where} looks like Chinese text decoded with the wrong encoding in "
                f"{int(hit.sum())} block(s) (e.g. {first!r}, which reads {fixed[hit].iloc[0]!r} as GBK/UTF-8)",
                "read the file with its real encoding (read_blocks(..., encoding='gbk'), or fix the .cpg "
                "file next to the .shp)", tuple(ids[hit[hit].index.map(blocks.index.get_loc)]), name,
            ))
    return out


def check_extent(blocks: gpd.GeoDataFrame, ids: pd.Series, ok: np.ndarray, where: str) -> list[Problem]:
    """Blocks outside the area where their CRS is defined (false origin, degrees labelled as metres)."""
    crs = blocks.crs
    area = getattr(crs, "area_of_use", None) if crs is not None else None
    if area is None or not ok.any():
        return []
    margin = 1.0  # degrees: data may reach a little past the nominal zone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        points = blocks.geometry[ok].representative_point().to_crs("EPSG:4326")
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    west, east = area.west - margin, area.east + margin
    inside = (lat >= area.south - margin) & (lat <= area.north + margin)
    inside &= (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
    inside &= np.isfinite(lon) & np.isfinite(lat)
    if inside.all():
        return []
    rows = np.flatnonzero(ok)[~inside]
    bad = list(ids.iloc[rows])
    x, y = blocks.geometry.iloc[rows[0]].representative_point().coords[0]
    hint = ""
    if abs(x) <= 180 and abs(y) <= 90:
        hint = " The coordinates look like longitude/latitude: set EPSG:4326 (or EPSG:4490) instead."
    elif crs.is_projected:
        hint = " Coordinates near 0 are the projection's false origin: the CRS label is probably wrong."
    return [Problem(
        "error", "outside-crs-extent",
        f"{len(bad)} block(s){where} lie outside the area where {crs.to_string()} is defined ({area.name}; "
        f"lon {area.west:g}..{area.east:g}, lat {area.south:g}..{area.north:g}), e.g. {bad[0]} at "
        f"({x:,.6g}, {y:,.6g}); their areas and distances would be meaningless.{hint}",
        "set the CRS the coordinates are really in (GeoDataFrame.set_crs(..., allow_override=True)) and "
        "reproject with zgc_space.to_metric()", tuple(bad),
    )]


def check_ids(blocks: pd.DataFrame, ids: pd.Series, where: str) -> list[Problem]:
    if "block_id" not in blocks.columns:
        return []
    out = []
    raw = blocks["block_id"]
    empty = raw.isna() | (raw.astype("string").str.strip() == "")
    if empty.any():
        rows = [str(i) for i in np.flatnonzero(empty.to_numpy())]
        out.append(Problem(
            "error", "missing-id", f"{int(empty.sum())} block(s){where} have no block_id (rows {_ids_text(rows)})",
            "give every block a unique id", column="block_id",
        ))
    dup = ids[ids.duplicated(keep=False) & ~empty]
    if len(dup):
        uniq = sorted(dup.unique())
        out.append(Problem(
            "error", "duplicate-id", f"block_id values{where} are not unique: {_ids_text(uniq)}",
            "make each block_id unique (merge the rows or renumber them)",
            tuple(uniq), "block_id",
        ))
    return out


def check_labels(blocks: pd.DataFrame, ids: pd.Series, where: str) -> list[Problem]:
    out = []
    if "subpark" in blocks.columns:
        names = blocks["subpark"].astype("string")
        unknown = names.notna() & ~names.isin(list(schema.SUBPARKS))
        if unknown.any():
            found = sorted(set(names[unknown]))
            hints = [f"{n} → {schema.canonical_subpark(n)}" for n in found if schema.canonical_subpark(n)]
            fix = "use one of the 17 canonical names (" + "、".join(schema.SUBPARKS) + ")"
            if hints:
                fix += "; e.g. " + ", ".join(hints)
            out.append(Problem(
                "warning", "unknown-subpark",
                f"sub-park name(s){where} not canonical: {', '.join(found)} (blocks {_ids_text(list(ids[unknown]))})",
                fix, tuple(ids[unknown]), "subpark",
            ))
    if "gfa_source" in blocks.columns:
        src = blocks["gfa_source"].astype("string")
        odd = src.notna() & ~src.isin(list(schema.GFA_SOURCES))
        if odd.any():
            out.append(Problem(
                "warning", "gfa-source",
                f"gfa_source{where} has unknown values {sorted(set(src[odd]))} "
                f"(blocks {_ids_text(list(ids[odd]))})",
                f"use one of {', '.join(schema.GFA_SOURCES)}", tuple(ids[odd]), "gfa_source",
            ))
    return out


def check_shapes(geoms: np.ndarray, ids: pd.Series, where: str) -> tuple[list[Problem], np.ndarray, np.ndarray]:
    """Blocks that are not areas (points, lines) or have NaN / infinite vertices.

    Returns the problems, the mask of missing or empty geometries, and the mask of the
    Polygon/MultiPolygon geometries whose vertices are all finite (the ones worth further checks).
    """
    out: list[Problem] = []
    missing = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    polygonal = np.isin(np.asarray(shapely.get_type_id(geoms)), [3, 6])  # Polygon, MultiPolygon
    wrong = ~polygonal & ~missing
    if wrong.any():
        rows = np.flatnonzero(wrong)
        bad = list(ids.iloc[rows])
        names = sorted({geoms[i].geom_type for i in rows})
        out.append(Problem(
            "error", "geometry-type",
            f"{len(bad)} block(s){where} are not Polygon/MultiPolygon ({', '.join(names)}): {_ids_text(bad)}; "
            "blocks are areas", "buffer points and lines into the areas they stand for (e.g. "
            "blocks.geometry.buffer(5)) or drop them; a GeometryCollection keeps its polygons with "
            "zgc_space.repair_geometries(blocks)", tuple(bad),
        ))
    finite = np.ones(len(geoms), dtype=bool)
    candidates = ~missing
    if candidates.any():
        coords, index = shapely.get_coordinates(geoms[candidates], return_index=True)
        bad_rows = np.unique(index[~np.isfinite(coords).all(axis=1)])
        finite[np.flatnonzero(candidates)[bad_rows]] = False
    if not finite.all():
        bad = list(ids[~finite])
        out.append(Problem(
            "error", "non-finite-vertex",
            f"{len(bad)} block(s){where} have vertices with NaN or infinite coordinates: {_ids_text(bad)}",
            "redraw these polygons (a NaN vertex is often a failed reprojection or an empty cell in a "
            "coordinate table); areas, zonal statistics and maps cannot be computed from them, and "
            "dropping the vertex would change the area unseen", tuple(bad),
        ))
    return out, missing, polygonal & ~missing & finite
