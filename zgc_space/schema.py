"""The canonical block table: columns, units, Chinese aliases, land-accounting nesting, sub-parks.

Everything here is data (no I/O, no geometry work), so every other module can import it.
Column names carry their unit (``_m2``, ``_10k_cny``); Chinese labels reach users through
:data:`ALIASES` on read and :func:`label` on maps and exported tables.

The land accounting follows TD/T 1029-2010 (revised 2014), TD/T 1029-2010 (2014 rev.), land-accounting classes:

======================== ==== ======================================================
column                   code meaning
======================== ==== ======================================================
``built_m2``             A    已建成城镇建设用地 built-up urban construction land
``built_residential_m2`` A1   住宅用地 residential part of A
``built_industrial_m2``  A2   工矿仓储用地 industrial and storage part of A
``ready_m2``             B21  已达到供地条件 not yet built, ready to supply
``unready_m2``           B*   other not-yet-built construction land (B11, B12, B22)
``nonconstruction_m2``   C    不可建设土地 non-constructible (planned non-construction)
``supplied_m2``          D    已供应国有建设用地 supplied state land
``idle_m2``              G    闲置土地 idle land (supplied, not built in time)
``hightech_m2``          H    高新技术产业用地 high-tech industry land
======================== ==== ======================================================

Nesting that must hold per block: site area ⊇ constructible (A + B) ⊇ developed (A + B21)
⊇ supplied (D) ⊇ built (A); A1 + A2 ≤ A; G ≤ D − A; H ≤ D.

Examples
--------
>>> from zgc_space import schema
>>> schema.ALIASES["地块编号"], schema.ALIASES["总建筑面积"]
('block_id', 'gfa_m2')
>>> schema.COLUMNS["gfa_m2"].unit
'm²'
>>> len(schema.SUBPARKS)
17
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALIASES",
    "COLUMNS",
    "GFA_SOURCES",
    "LAND_COLUMNS",
    "METRIC_CRS",
    "MU_M2",
    "NESTING_RULES",
    "RANGES",
    "RANGE_ALIASES",
    "REQUIRED_COLUMNS",
    "SUBPARKS",
    "SUBPARK_ALIASES",
    "Column",
    "NestingRule",
    "SubPark",
    "canonical_subpark",
    "label",
]

#: The CRS every area is computed in: CGCS2000 / 3-degree Gauss-Kruger CM 117E.
METRIC_CRS = "EPSG:4548"

#: One mu (亩) in square metres.
MU_M2 = 10_000 / 15


@dataclass(frozen=True)
class Column:
    """One canonical column of the block table.

    Parameters
    ----------
    name
        Canonical (ASCII, unit-suffixed) name.
    kind
        ``"id"``, ``"text"``, ``"int"``, ``"float"`` or ``"bool"``.
    unit
        Unit as printed in tables ("m²", "万元", "persons", "" for none).
    zh
        Chinese label used on maps and in exported tables.
    group
        ``identity``, ``land``, ``buildings``, ``economy`` or ``planning``.
    description
        One line in English.
    """

    name: str
    kind: str
    unit: str
    zh: str
    group: str
    description: str

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (and so must be non-negative)."""
        return self.kind in {"int", "float"}


_C = Column
_COLUMN_LIST: tuple[Column, ...] = (
    # identity
    _C("block_id", "id", "", "地块编号", "identity", "unique block (区块) identifier"),
    _C("name", "text", "", "地块名称", "identity", "block name"),
    _C("subpark", "text", "", "分园", "identity", "sub-park (分园), one of the 17"),
    _C("cluster", "text", "", "组团", "identity", "planning cluster inside a sub-park"),
    _C("district", "text", "", "行政区", "identity", "administrative district (区)"),
    _C("owner_type", "text", "", "权属类型", "identity", "main owner type (state, collective, ...)"),
    _C("owner_count", "int", "units", "权属单位数", "identity", "number of land-owning units"),
    _C("policy_zone", "bool", "", "市级政策管理区", "identity", "in a city-level policy zone"),
    _C("range", "text", "", "评价范围", "identity",
       "TD/T 1029 (2014) evaluation range: main (主区, default) or expansion (发展方向区)"),
    # land accounting (TD/T 1029 section 3.1)
    _C("site_area_m2", "float", "m²", "用地面积", "land", "block area, from the geometry in EPSG:4548"),
    _C("built_m2", "float", "m²", "已建成城镇建设用地", "land", "A: built-up construction land"),
    _C("built_residential_m2", "float", "m²", "住宅用地", "land", "A1: residential part of A"),
    _C("built_industrial_m2", "float", "m²", "工矿仓储用地", "land", "A2: industrial part of A"),
    _C("ready_m2", "float", "m²", "已达到供地条件土地", "land", "B21: unbuilt, ready to supply"),
    _C("unready_m2", "float", "m²", "未达到供地条件土地", "land", "other B: unbuilt, not ready"),
    _C("nonconstruction_m2", "float", "m²", "不可建设土地", "land", "C: planned non-construction"),
    _C("supplied_m2", "float", "m²", "已供应国有建设用地", "land", "D: supplied state land"),
    _C("idle_m2", "float", "m²", "闲置土地", "land", "G: idle land"),
    _C("hightech_m2", "float", "m²", "高新技术产业用地", "land", "H: high-tech industry land"),
    # buildings
    _C("gfa_m2", "float", "m²", "总建筑面积", "buildings", "total building floor area"),
    _C("footprint_m2", "float", "m²", "建筑基底面积", "buildings", "building footprint area"),
    _C("industrial_gfa_m2", "float", "m²", "工业用地建筑面积", "buildings", "floor area on A2"),
    _C(
        "industrial_footprint_m2", "float", "m²", "工业用地建构筑物及堆场面积", "buildings",
        "building, structure and open-yard footprint on A2",
    ),
    _C("gfa_source", "text", "", "建筑面积来源", "buildings", "how gfa_m2 was found"),
    # economy (per year)
    _C("revenue_10k_cny", "float", "万元", "总收入", "economy", "total revenue"),
    _C("industrial_revenue_10k_cny", "float", "万元", "工业总收入", "economy", "industrial revenue"),
    _C("tax_10k_cny", "float", "万元", "税收", "economy", "secondary + tertiary industry tax"),
    _C("industrial_tax_10k_cny", "float", "万元", "工业税收", "economy", "industrial tax"),
    _C("fixed_asset_10k_cny", "float", "万元", "固定资产投资", "economy", "cumulative fixed assets"),
    _C(
        "industrial_fixed_asset_10k_cny", "float", "万元", "工业固定资产投资", "economy",
        "cumulative industrial fixed-asset investment",
    ),
    _C("employees", "float", "persons", "从业人员", "economy", "employees (从业人员)"),
    _C("population", "float", "persons", "常住人口", "economy", "resident population"),
    _C("enterprises", "int", "enterprises", "企业数", "economy", "enterprises"),
    _C("hightech_enterprises", "int", "enterprises", "高新技术企业数", "economy", "high-tech enterprises"),
    # planning
    _C("far_cap", "float", "", "规划容积率上限", "planning", "planned maximum FAR (dimensionless)"),
    _C("year", "int", "", "年份", "planning", "data year"),
)

#: Canonical columns by name, in table order.
COLUMNS: dict[str, Column] = {c.name: c for c in _COLUMN_LIST}

#: Columns every block table must have (besides geometry).
REQUIRED_COLUMNS: tuple[str, ...] = ("block_id", "subpark")

#: Land-accounting columns; the first five must be all present or all absent.
LAND_COLUMNS: tuple[str, ...] = (
    "built_m2", "ready_m2", "unready_m2", "nonconstruction_m2", "supplied_m2",
    "built_residential_m2", "built_industrial_m2", "idle_m2", "hightech_m2",
)

#: Allowed values of ``gfa_source``: floor area depends on how it was found.
GFA_SOURCES: tuple[str, ...] = ("surveyed", "height_raster", "footprints", "assumed")

#: Evaluation ranges of TD/T 1029 (2014 revision), the first the default.
RANGES: tuple[str, ...] = ("main", "expansion")
#: Values of the ``range`` column (Chinese and English spellings) → :data:`RANGES`.
RANGE_ALIASES: dict[str, str] = {
    "main": "main", "主区": "main", "主区范围": "main", "approved": "main",
    "expansion": "expansion", "发展方向区": "expansion", "发展方向区范围": "expansion", "development": "expansion",
}

#: Chinese (and common English) header aliases → canonical names. Canonical labels are included.
ALIASES: dict[str, str] = {c.zh: c.name for c in _COLUMN_LIST} | {
    "区块编号": "block_id", "编号": "block_id", "地块ID": "block_id", "id": "block_id",
    "BLOCK_ID": "block_id", "区块名称": "name", "名称": "name", "园区": "subpark",
    "所属分园": "subpark", "区县": "district", "所在区": "district", "权属单位数量": "owner_count",
    "政策区": "policy_zone", "面积": "site_area_m2", "土地面积": "site_area_m2",
    "已建成面积": "built_m2", "建成区面积": "built_m2", "工业用地面积": "built_industrial_m2",
    "建筑面积": "gfa_m2", "基底面积": "footprint_m2", "营业收入": "revenue_10k_cny",
    "总收入(万元)": "revenue_10k_cny", "纳税总额": "tax_10k_cny", "税收(万元)": "tax_10k_cny",
    "实缴税费": "tax_10k_cny", "从业人员数": "employees", "就业人数": "employees",
    "期末从业人员": "employees", "人口": "population", "规划容积率": "far_cap",
    "容积率上限": "far_cap", "范围": "range", "所属范围": "range",
}


@dataclass(frozen=True)
class NestingRule:
    """One inequality of the land accounting: ``sum(smaller) <= sum(larger)`` per block."""

    smaller: tuple[str, ...]
    larger: tuple[str, ...]
    text: str


#: Land-accounting nesting (TD/T 1029-2010, 2014 rev.); ``site_area_m2`` is the geometry's area.
NESTING_RULES: tuple[NestingRule, ...] = (
    NestingRule(
        ("built_m2", "ready_m2", "unready_m2", "nonconstruction_m2"), ("site_area_m2",),
        "A + B + C must not exceed the site area",
    ),
    NestingRule(("supplied_m2",), ("built_m2", "ready_m2"), "supplied D must lie within developed A + B21"),
    NestingRule(("built_m2",), ("supplied_m2",), "built A must lie within supplied D"),
    NestingRule(
        ("built_residential_m2", "built_industrial_m2"), ("built_m2",),
        "residential A1 + industrial A2 must lie within built A",
    ),
    NestingRule(("idle_m2", "built_m2"), ("supplied_m2",), "idle G must lie within supplied but unbuilt D − A"),
    NestingRule(("hightech_m2",), ("supplied_m2",), "high-tech land H must lie within supplied D"),
    NestingRule(("industrial_gfa_m2",), ("gfa_m2",), "industrial floor area must lie within total floor area"),
)


@dataclass(frozen=True)
class SubPark:
    """One of ZGC's sub-parks (分园), the ZGC sub-park list (一区十六园).

    ``published_area_km2`` is ``None`` where no official planned area was found.
    ``centre`` is (lat, lon), approximate (±3-5 km), for sample data and map defaults only.
    """

    name: str
    english: str
    district: str
    centre: tuple[float, float]
    published_area_km2: float | None = None
    source: str = ""


_SRC_2013 = "http://siheshuidao.cn/news/zgctz/201302/41890.htm"
#: The 17 sub-parks (大兴园 and 亦庄园 listed separately, as in the 2024 release).
SUBPARKS: dict[str, SubPark] = {
    p.name: p
    for p in (
        SubPark("东城园", "Dongcheng", "东城区", (39.949, 116.417)),
        SubPark("西城园", "Xicheng", "西城区", (39.955, 116.375), 10.0, "≈10 km², official release"),
        SubPark("朝阳园", "Chaoyang", "朝阳区", (39.985, 116.495)),
        SubPark("海淀园", "Haidian", "海淀区", (40.000, 116.310)),
        SubPark("丰台园", "Fengtai", "丰台区", (39.830, 116.290), 17.63, "after 2012 expansion"),
        SubPark("石景山园", "Shijingshan", "石景山区", (39.905, 116.210), 3.45, "on admission"),
        SubPark("门头沟园", "Mentougou", "门头沟区", (39.930, 116.120)),
        SubPark("房山园", "Fangshan", "房山区", (39.730, 116.150)),
        SubPark("通州园", "Tongzhou", "通州区", (39.820, 116.580)),
        SubPark("顺义园", "Shunyi", "顺义区", (40.100, 116.580), 12.08, _SRC_2013),
        SubPark("大兴园", "Daxing", "大兴区", (39.670, 116.330)),
        SubPark("亦庄园", "Yizhuang", "大兴区", (39.790, 116.510)),
        SubPark("昌平园", "Changping", "昌平区", (40.190, 116.230)),
        SubPark("平谷园", "Pinggu", "平谷区", (40.160, 117.100), 5.08, _SRC_2013),
        SubPark("怀柔园", "Huairou", "怀柔区", (40.350, 116.650)),
        SubPark("密云园", "Miyun", "密云区", (40.360, 116.870)),
        SubPark("延庆园", "Yanqing", "延庆区", (40.460, 115.970)),
    )
}

#: Historical and alternative sub-park names → canonical name(s).
SUBPARK_ALIASES: dict[str, tuple[str, ...]] = {
    "大兴-亦庄园": ("大兴园", "亦庄园"),
    "大兴亦庄园": ("大兴园", "亦庄园"),
    "德胜园": ("西城园",),
    "雍和园": ("东城园",),
    "电子城": ("朝阳园",),
    "电子城科技园": ("朝阳园",),
} | {p.english.lower(): (p.name,) for p in SUBPARKS.values()} | {
    p.name.removesuffix("园"): (p.name,) for p in SUBPARKS.values()
}


def canonical_subpark(name: str) -> str | None:
    """Return the canonical sub-park name, or ``None`` when unknown or ambiguous.

    An alias that maps to two sub-parks (大兴-亦庄园) is ambiguous for one block and gives
    ``None``; split such blocks by location first.

    Examples
    --------
    >>> canonical_subpark("德胜园"), canonical_subpark("Haidian"), canonical_subpark("大兴-亦庄园")
    ('西城园', '海淀园', None)
    """
    key = str(name).strip()
    if key in SUBPARKS:
        return key
    target = SUBPARK_ALIASES.get(key) or SUBPARK_ALIASES.get(key.lower())
    return target[0] if target and len(target) == 1 else None


def label(column: str, *, english: bool = False) -> str:
    """Return the display label of a column: Chinese with unit, or English with unit.

    Unknown columns are returned unchanged.

    Examples
    --------
    >>> label("gfa_m2"), label("tax_10k_cny", english=True)
    ('总建筑面积 (m²)', 'secondary + tertiary industry tax (万元)')
    """
    col = COLUMNS.get(column)
    if col is None:
        return column
    text = col.description if english else col.zh
    return f"{text} ({col.unit})" if col.unit else text
