"""Attribute tables of the sample source layers: codes, ids, dates, the enterprise register.

Private to :mod:`zgc_space.datasets._sources`, which cuts the geometries.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zgc_space.schema import METRIC_CRS

__all__: list[str] = []

#: The code a user must map (a 二调 GB/T 21010-2007 code left in the delivery: 083 科教用地).
UNKNOWN_CODE = "083"
USER_CODES = "layer,code,use,name\nsurvey,083,A5,科教用地 (二调 GB/T 21010-2007 code left in the 2023 delivery)\n"
AS_OF = "2023-12-31"
_SURVEY_CODES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "A1": (("0701",), (1.0,)),
    "A2": (("0601", "0604", "0508"), (0.7, 0.15, 0.15)),
    "Ao": (("05H1", "0810", "08H2", "08H1", "1004", "0810A", "09", "08H2A", "0809", "1003"),
           (0.25, 0.15, 0.15, 0.08, 0.15, 0.04, 0.03, 0.05, 0.05, 0.05)),
    "unbuilt": (("1201", "0103", "0102", "0404", "1206"), (0.4, 0.25, 0.1, 0.15, 0.1)),
    "B11": (("0702",), (1.0,)),
    "B12": (("0601", "05H1", "0604"), (0.5, 0.3, 0.2)),
    "C": (("0103", "0102", "0301", "0305", "0404", "1101", "1104", "1107"),
          (0.2, 0.1, 0.25, 0.1, 0.1, 0.1, 0.1, 0.05)),
}
_PLAN_CODES: dict[str, tuple[str, ...]] = {
    "A1": ("R2", "F1", "070102", "R1"), "A2": ("M1", "M4", "100101", "M2"),
    "Ao": ("B2", "A3", "G1", "S1", "090101", "A5"), "B": ("M4", "R2", "B2", "F3", "100101"),
    "rural": ("R2", "M4", "G1"), "C": ("E2", "E1", "E9", "0301", "0103"),
}
#: GB/T 21010-2017 names (DLMC) of the codes the generator writes (083: the 二调 name).
_DLMC = {
    "0701": "城镇住宅用地", "0601": "工业用地", "0604": "仓储用地", "0508": "物流仓储用地",
    "05H1": "商业服务业设施用地", "0810": "公园与绿地", "08H2": "科教文卫用地", "08H1": "机关团体新闻出版用地",
    "1004": "城镇村道路用地", "0810A": "广场用地", "09": "特殊用地", "08H2A": "高教用地", "0809": "公用设施用地",
    "1003": "公路用地", "1201": "空闲地", "0103": "旱地", "0102": "水浇地", "0404": "其他草地", "1206": "裸土地",
    "0702": "农村宅基地", "0301": "乔木林地", "0305": "灌木林地", "1101": "河流水面", "1104": "坑塘水面",
    "1107": "沟渠", UNKNOWN_CODE: "科教用地",
}
_MODES = ("划拨", "出让-招拍挂", "出让-协议")


_BUILT = {"A2", "Ao", "A1", "Aou"}


def _where(mask: np.ndarray, value: object) -> np.ndarray:
    out = np.full(len(mask), None, dtype=object)
    out[mask] = value
    return out


def _split(total: float, weights: np.ndarray) -> np.ndarray:
    return np.asarray(total * weights / weights.sum(), dtype=float)


def _choice(rng: np.random.Generator, options: tuple[str, ...], n: int,
            p: tuple[float, ...] | None = None) -> np.ndarray:
    prob = None if p is None else np.array(p) / sum(p)
    return rng.choice(np.array(options, dtype=object), n, p=prob)


def _bsm(k: np.ndarray | range) -> list[str]:
    return [f"110108{j:08d}" for j in k]


def finish_survey(rng: np.random.Generator, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    seg = frame["segment"].to_numpy()
    code = np.empty(len(frame), dtype=object)
    groups = {"A1": "A1", "A2": "A2", "Ao": "Ao", "Aou": "Ao", "B11": "B11", "B12": "B12", "C": "C"}
    for name in sorted(set(seg)):
        idx = np.flatnonzero(seg == name)
        choices, p = _SURVEY_CODES[groups.get(str(name), "unbuilt")]
        code[idx] = _choice(rng, choices, len(idx), p)
    unknown = np.flatnonzero(frame["unknown_flag"].to_numpy(dtype=bool) & (seg == "Ao"))
    if len(unknown):
        code[rng.choice(unknown, min(12, len(unknown)), replace=False)] = UNKNOWN_CODE
    rural = np.isin(seg, ["B11", "B12"])
    urban = np.isin(seg, list(_BUILT))
    czcs = np.full(len(frame), None, dtype=object)
    town = _choice(rng, ("201", "202"), len(frame), (0.8, 0.2))
    czcs[urban] = town[urban]
    czcs[rural] = "203"
    state = urban | np.isin(seg, ["B21x", "B21i", "B21s", "B21v"])
    area = shapely.area(np.asarray(frame.geometry.values, dtype=object))
    return gpd.GeoDataFrame({
        "BSM": _bsm(range(len(frame))),
        "DLBM": code,
        "DLMC": [_DLMC[c] for c in code],
        "QSXZ": np.where(state, "20", "30"),
        "CZCSXM": czcs,
        "TBMJ": np.round(area * 1.00042, 2),  # the ellipsoidal area is a little larger than the planar one here
    }, geometry=frame.geometry.values, crs=METRIC_CRS)


def finish_plan(rng: np.random.Generator, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    seg = frame["segment"].to_numpy()
    group = np.select([seg == "A1", seg == "A2", np.isin(seg, ["Ao", "Aou"]), np.isin(seg, ["B11", "B12"]), seg == "C"],
                      ["A1", "A2", "Ao", "rural", "C"], "B")
    code = np.empty(len(frame), dtype=object)
    for name in sorted(set(group)):
        idx = np.flatnonzero(group == name)
        code[idx] = _choice(rng, _PLAN_CODES[str(name)], len(idx))
    code[frame["conflict"].to_numpy(dtype=bool)] = "E2"
    far = np.round(frame["far_cap"].to_numpy() * rng.uniform(0.8, 1.5, len(frame)), 1)
    far = np.where(np.isin(code, ["G1", "S1"]), 0.0, far)
    far = np.where((group == "C") | (code == "E2"), np.nan, far)
    return gpd.GeoDataFrame({"DKBH": [f"KG-{k:06d}" for k in range(len(frame))], "YDDM": code, "RJL": far},
                            geometry=frame.geometry.values, crs=METRIC_CRS)


def _dates(rng: np.random.Generator, start: str, years: int, n: int) -> np.ndarray:
    days = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, years * 365, n), unit="D")
    return np.array(days.strftime("%Y-%m-%d"), dtype=object)


def finish_supply(rng: np.random.Generator, frame: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(frame)
    x0, y0, _, _ = blocks.total_bounds
    out = gpd.GeoDataFrame({
        "GDBH": [f"GD{k:06d}" for k in range(n + 1)],
        "GDFS": np.r_[_choice(rng, _MODES, n, (0.35, 0.5, 0.15)), ["出让-招拍挂"]],
        "GDRQ": np.r_[_dates(rng, "1993-01-01", 30, n), ["2022-06-30"]],
        "hightech": np.r_[frame["hightech"].to_numpy(dtype=bool), [False]],
    }, geometry=np.r_[np.asarray(frame.geometry.values, dtype=object),  # one record outside every block
                      [shapely.box(x0 - 3_000, y0 - 3_000, x0 - 2_600, y0 - 2_700)]], crs=METRIC_CRS)
    return out


def finish_idle(rng: np.random.Generator, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(frame)
    disposed = frame["disposed"].to_numpy(dtype=bool)
    determined = np.where(disposed, "2018-09-30", _dates(rng, "2016-01-01", 7, n))
    return gpd.GeoDataFrame({
        "RDBH": [f"XZ{k:05d}" for k in range(n)], "RDRQ": determined,
        "CZRQ": _where(disposed, "2021-03-31"), "CZZT": np.where(disposed, "已处置", "未处置"),
    }, geometry=frame.geometry.values, crs=METRIC_CRS)


def finish_serviced(rng: np.random.Generator, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(frame)
    return gpd.GeoDataFrame({"CBBH": [f"CB{k:05d}" for k in range(n)], "DDRQ": _dates(rng, "2012-01-01", 11, n)},
                            geometry=frame.geometry.values, crs=METRIC_CRS)


def _economy_split(rng: np.random.Generator, b: pd.Series, n: int, is_ind: np.ndarray) -> dict[str, np.ndarray]:
    vals = {}
    for col in ("revenue_10k_cny", "tax_10k_cny", "fixed_asset_10k_cny"):
        w = rng.lognormal(0, 1.0, n)
        ind_total = float(b[f"industrial_{col}"])
        if is_ind.any() and (~is_ind).any():
            v = np.zeros(n)
            v[is_ind] = _split(ind_total, w[is_ind])
            v[~is_ind] = _split(float(b[col]) - ind_total, w[~is_ind])
        else:
            v = _split(float(b[col]), w)
        vals[col] = v
    emp = vals["revenue_10k_cny"] / vals["revenue_10k_cny"].sum() * float(b["employees"])
    base = np.floor(emp)
    base[np.argsort(-(emp - base), kind="stable")[: int(round(float(b["employees"]) - base.sum()))]] += 1
    vals["employees"] = base
    return vals


def finish_firms(rng: np.random.Generator, sites: pd.DataFrame, blocks: gpd.GeoDataFrame,
                  survey: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Enterprises of each block: its counts and economy, high-tech ones on high-tech parcels."""
    rows = []
    for i, b in blocks.iterrows():
        s = sites.index[sites["block"].to_numpy() == i].to_numpy()
        ht_sites = s[sites["hightech_site"].to_numpy()[s]]
        n, nht = int(b["enterprises"]), int(b["hightech_enterprises"]) if len(ht_sites) else 0
        pick = np.r_[rng.choice(ht_sites, nht) if nht else np.empty(0, np.int64), rng.choice(s, n - nht)]
        ind_share = float(b["industrial_revenue_10k_cny"]) / max(float(b["revenue_10k_cny"]), 1e-9)
        is_ind = np.zeros(n, bool)
        n_ind = int(np.clip(round(n * ind_share), 1 if n > 1 else 0, max(n - 1, 0)))
        is_ind[rng.choice(n, n_ind, replace=False)] = True
        vals = _economy_split(rng, b, n, is_ind)
        rows.append(pd.DataFrame({
            "site": pick, "hightech": np.arange(n) < nht,
            "industry_code": np.where(is_ind, _choice(rng, ("C39", "C27", "C35", "D44"), n),
                                      _choice(rng, ("I65", "M73", "L72", "J66", "I64"), n)),
            **vals,
        }))
    firms = pd.concat(rows, ignore_index=True)
    site = sites.loc[firms["site"].to_numpy()]
    how = rng.random(len(firms))
    by_building, by_parcel = how < 0.10, (how >= 0.10) & (how < 0.15)
    geom = shapely.points(site["x"].to_numpy(), site["y"].to_numpy())
    geom[by_building | by_parcel] = None
    bsm = survey["BSM"].to_numpy()
    out = gpd.GeoDataFrame({
        "enterprise_id": [f"91110108MA{k:08d}" for k in range(len(firms))],
        "hightech": firms["hightech"].to_numpy(),
        "industry_code": firms["industry_code"].to_numpy(),
        "revenue_10k_cny": firms["revenue_10k_cny"].to_numpy(),
        "tax_10k_cny": firms["tax_10k_cny"].to_numpy(),
        "fixed_asset_10k_cny": firms["fixed_asset_10k_cny"].to_numpy(),
        "employees": firms["employees"].to_numpy(),
        "building_id": np.where(by_building, site["building_id"].to_numpy(), None),
        "parcel_id": np.where(by_parcel, bsm[site["parcel"].to_numpy()], None),
    }, geometry=geom, crs=METRIC_CRS)
    # a few enterprises registered in the park but located outside every block
    x0, y0, _, _ = blocks.total_bounds
    outside = gpd.GeoDataFrame({
        "enterprise_id": [f"91110108MB{k:08d}" for k in range(12)], "hightech": False, "industry_code": "I65",
        "revenue_10k_cny": 100.0, "tax_10k_cny": 5.0, "fixed_asset_10k_cny": 50.0, "employees": 10.0,
        "building_id": None, "parcel_id": None,
    }, geometry=shapely.points(x0 - 2_000 - 40.0 * np.arange(12), np.full(12, y0 - 2_000)), crs=METRIC_CRS)
    return pd.concat([out, outside], ignore_index=True)


