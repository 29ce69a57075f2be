"""Design table of the sample data: sub-park areas, block counts, tiers and cluster places.

Published planned areas come from :data:`zgc_space.schema.SUBPARKS`; every other area is an
assumption chosen so that the 17 sub-parks add up to the published 488 km² (the ZGC sub-park list 一区十六园).
The tier drives the heterogeneity the 2024 report describes: ``central`` sub-parks are dense and
nearly full, ``outer`` ones keep land and produce little per hectare.
"""

from __future__ import annotations

from dataclasses import dataclass

from zgc_space.schema import SUBPARKS

__all__: list[str] = []

#: Hand-written files the generator copies verbatim from the package's ``data/`` folder: the five
#: example proposals and the example dynamic-adjustment rules.
COPIED: tuple[str, ...] = (
    "proposals/p01_release_outer_admit_core.yaml",
    "proposals/p02_renew_fengtai_chaoyang.yaml",
    "proposals/p03_consolidate_scattered.yaml",
    "proposals/p04_convert_nonconstruction.yaml",
    "proposals/p05_expand_haidian_no_release.yaml",
    "dynamic_rules.yaml",
)
#: The source layers behind the blocks (zgc_space.datasets._sources), for zgc_space.accounting.
SOURCE_FILES: tuple[str, ...] = (
    "sources/blocks.gpkg", "sources/survey_dltb_2023.parquet", "sources/plan_plots.gpkg",
    "sources/supply.gpkg", "sources/idle.gpkg", "sources/serviced.gpkg", "sources/buildings.parquet",
    "sources/enterprises.parquet", "sources/user_codes.csv",
)
#: Files the generator writes, relative to its output directory.
FILES: tuple[str, ...] = (
    "zgc_blocks.gpkg",
    "zgc_panel_2021_2023.gpkg",
    "candidates.gpkg",
    "districts.gpkg",
    "districts.LICENSE.txt",
    "subparks.csv",
    "rasters/building_height_10m.tif",
    "rasters/landcover_10m.tif",
    "README.md",
    *COPIED,
    *SOURCE_FILES,
)

#: Published ZGC total (一区十六园, 2012 State Council approval), km².
TOTAL_AREA_KM2 = 488.0
#: Report figures the sample reproduces (Beijing Municipal People's Congress, 2024-07-24).
REMAINING_B_KM2 = 27.0
NONCONSTRUCTION_C_KM2 = 24.0
COMPREHENSIVE_FAR = 1.18
#: Zone land shares (产城融合型 needs A1/A >= 25 % and A2/A <= 30 %).
RESIDENTIAL_SHARE = 0.28
INDUSTRIAL_SHARE = 0.21
#: Assumed 2023 zone economics, of the order of the published figures (see sample_data/README.md).
REVENUE_10K_CNY = 8.0e8
TAX_10K_CNY = 3.0e7
EMPLOYEES = 2.6e6
POPULATION = 1.9e6


@dataclass(frozen=True)
class ParkDesign:
    """How one sub-park is generated."""

    name: str
    area_km2: float
    published: bool
    n_blocks: int
    tier: str
    places: tuple[str, ...]


# (name, assumed area if not published, blocks, tier, cluster places)
_ROWS: tuple[tuple[str, float, int, str, tuple[str, ...]], ...] = (
    ("东城园", 6.0, 6, "central", ("雍和", "东直门")),
    ("西城园", 10.0, 8, "central", ("德胜", "金融街", "广安")),
    ("朝阳园", 47.0, 14, "central", ("电子城", "望京", "酒仙桥", "垡头")),
    ("海淀园", 133.0, 38, "central", ("中关村西区", "上地", "永丰", "软件园", "翠湖", "东升", "学院路")),
    ("丰台园", 17.63, 12, "middle", ("科技园东区", "科技园西区", "总部基地")),
    ("石景山园", 3.45, 5, "middle", ("八大处", "首钢")),
    ("门头沟园", 15.0, 5, "outer", ("石龙", "永定")),
    ("房山园", 25.0, 7, "outer", ("良乡", "窦店", "阎村")),
    ("通州园", 25.0, 7, "middle", ("光机电", "金桥", "台湖")),
    ("顺义园", 12.08, 8, "middle", ("临空", "天竺", "仁和")),
    ("大兴园", 24.0, 7, "middle", ("生物医药基地", "黄村")),
    ("亦庄园", 60.0, 14, "middle", ("核心区", "河西区", "路东区")),
    ("昌平园", 51.0, 12, "middle", ("科技园", "沙河", "未来科学城")),
    ("平谷园", 5.08, 5, "outer", ("兴谷", "马坊")),
    ("怀柔园", 22.0, 6, "outer", ("雁栖", "杨宋")),
    ("密云园", 14.0, 5, "outer", ("经济开发区", "穆家峪")),
    ("延庆园", 17.76, 5, "outer", ("八达岭", "康庄")),
)


def _designs() -> dict[str, ParkDesign]:
    out = {}
    for name, assumed, n_blocks, tier, places in _ROWS:
        published = SUBPARKS[name].published_area_km2
        area = published if published is not None else assumed
        out[name] = ParkDesign(name, float(area), published is not None, n_blocks, tier, places)
    return out


#: Sub-park designs in schema order.
PARKS: dict[str, ParkDesign] = _designs()

_SRC_2013 = "http://siheshuidao.cn/news/zgctz/201302/41890.htm"
#: Where each published sub-park area comes from (rows of data/zgc_public_figures.csv).
SOURCES: dict[str, str] = {
    "西城园": "https://scholarmate.com/S/WahaA2",
    "丰台园": "http://zgc-ft.gov.cn/sites/english/index.jsp",
    "石景山园": "https://soolun.net/periodical/cfbce097f51e26ce9163707340d792b8.html",
    "顺义园": _SRC_2013,
    "平谷园": _SRC_2013,
}

#: Chinese ordinals for block names (上地一区, 上地二区, ...).
ORDINALS = tuple("一二三四五六七八九十") + tuple(f"十{c}" for c in "一二三四五六七八九") + ("二十",)
