"""Tests of zgc_space.scenario_maps: proposal changes, optimum, two synced panes, yearly statuses."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from zgc_space import maps, scenarios
from zgc_space.errors import ColumnError, CRSError, MapError
from zgc_space.maps.scenario import (
    CHANGE_STYLES,
    STATUS_STYLES,
    compare_map,
    dynamic_map,
    optimisation_map,
    scenario_map,
)
from zgc_space.scenarios.proposal import parse_proposal

XSS = "<img src=x onerror=alert(1)>"


def grid(n: int = 6, cols: int = 3) -> gpd.GeoDataFrame:
    """``n`` 200 m × 200 m blocks in a grid near Zhongguancun, 4 ha each, FAR 1 to n."""
    geoms = [box(440_000 + (i % cols) * 200, 4_428_000 + (i // cols) * 200,
                 440_000 + (i % cols + 1) * 200, 4_428_000 + (i // cols + 1) * 200) for i in range(n)]
    built = np.full(n, 20_000.0)
    return gpd.GeoDataFrame({
        "block_id": [f"B{i}" for i in range(n)], "name": [f"区块{i}" for i in range(n)],
        "subpark": ["海淀园"] * (n // 2) + ["朝阳园"] * (n - n // 2),
        "site_area_m2": np.full(n, 40_000.0), "built_m2": built, "ready_m2": np.full(n, 10_000.0),
        "unready_m2": np.full(n, 10_000.0), "gfa_m2": built * np.arange(1, n + 1),
        "tax_10k_cny": np.full(n, 100.0),
    }, geometry=geoms, crs="EPSG:4548")


PROPOSAL = """id: T1
title: 测试方案 test
release:
  - block: B1
renew:
  - blocks: [B2]
    far_target: 5
merge:
  - blocks: [B4, B5]
    into: M45
"""


def layers(page: str) -> dict[str, dict]:
    """GeoJSON data of each layer, keyed by its name in the layer control."""
    data = {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"(geo_json_\w+)_add\((\{.*\})\);", page)}
    names = {}
    for block in re.findall(r"(?:overlays|base_layers)\s*:\s*\{(.*?)\}", page, flags=re.S):
        for key, var in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:\s*(geo_json_\w+)', block):
            names[json.loads(f'"{key}"')] = data[var]
    return names


def tip(feature: dict) -> str:
    return feature["properties"]["tip"]


@pytest.fixture
def applied():
    base = grid()
    return base, scenarios.apply(base, parse_proposal(PROPOSAL))


def test_scenario_map_styles_each_change_and_shows_before_after(applied):
    base, result = applied
    page = maps.to_html(scenario_map(base, result))
    found = layers(page)
    assert set(found) == {"未调整 unchanged (2)", "调出 released (1)", "更新改造 renewed (1)", "合并 merged (1)",
                          "合并前区块 blocks before merging", "分园边界 Sub-park outlines"}
    fills = {name: {f["properties"]["fill"] for f in layer["features"]} for name, layer in found.items()
             if "(" in name}
    assert fills["调出 released (1)"] == {CHANGE_STYLES["released"][2]}
    assert fills["更新改造 renewed (1)"] == {CHANGE_STYLES["renewed"][2]}
    assert fills["合并 merged (1)"] == {CHANGE_STYLES["merged-into"][2]}
    assert len(found["合并前区块 blocks before merging"]["features"]) == 2
    renewed = tip(found["更新改造 renewed (1)"]["features"][0])
    # B2: FAR 3 → 5, floor area 60,000 → 100,000 m²
    assert "B2" in renewed and "60,000 m²" in renewed and "100,000 m²" in renewed
    assert "<td>3.00</td><td>5.00</td>" in renewed
    released = tip(found["调出 released (1)"]["features"][0])
    assert "B1" in released and "<td>40,000 m²</td><td>—</td>" in released
    merged = tip(found["合并 merged (1)"]["features"][0])
    assert "M45" in merged and "<td>—</td><td>80,000 m²</td>" in merged
    summary = "".join(json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", page))
    # zone: 6 blocks → 4 (B1 released, B4 + B5 merged into M45), 24 ha → 20 ha
    assert "<td>6</td><td>4</td>" in summary and "0.24 km²" in summary and "0.20 km²" in summary
    assert "T1: 测试方案 test" in summary


def test_scenario_map_hand_computed_zone_far(applied):
    base, result = applied
    summary = "".join(json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", maps.to_html(
        scenario_map(base, result, columns=["gfa_m2"]))))
    # before: Σgfa = 20,000 × 21 = 420,000 over 120,000 m² → 3.50; after: B1 (40,000) out, B2 100,000
    # instead of 60,000 → 420,000 − 40,000 + 40,000 = 420,000 over 100,000 m² → 4.20
    assert "<td>3.50</td><td>4.20</td>" in summary


def test_scenario_map_escapes_and_is_deterministic(applied):
    base, _ = applied
    base = base.assign(name=[XSS] * len(base))
    result = scenarios.apply(base, parse_proposal(PROPOSAL))
    one = maps.to_html(scenario_map(base, result, title=XSS))
    two = maps.to_html(scenario_map(base, result, title=XSS))
    assert one == two
    assert "<img" not in one and "\\u003cimg" not in one
    assert "&lt;img src=x onerror=alert(1)&gt;" in "".join(tip(f) for lay in layers(one).values()
                                                             for f in lay["features"] if f["properties"])


def test_scenario_map_admitted_and_labels(applied):
    base, _ = applied
    p = parse_proposal("id: A\ntitle: admit\nadmit:\n  - block_id: N1\n    geometry:\n      type: Polygon\n"
                       "      coordinates: [[[440600, 4428000], [440800, 4428000], [440800, 4428200], "
                       "[440600, 4428200], [440600, 4428000]]]\n")
    page = maps.to_html(scenario_map(base, scenarios.apply(base, p), labels="en", summary=False))
    found = layers(page)
    assert "admitted (1)" in found and "unchanged (6)" in found
    assert "N1" in tip(found["admitted (1)"]["features"][0])
    assert "zgc-summary" not in page


def test_scenario_map_errors(applied):
    base, result = applied
    with pytest.raises(MapError, match="must be a zgc_space.scenarios.Scenario"):
        scenario_map(base, base)
    with pytest.raises(ColumnError, match="no block_id column"):
        scenario_map(base.drop(columns="block_id"), result)
    with pytest.raises(ColumnError, match=r"\['nonsense'\] are neither"):
        scenario_map(base, result, columns=["nonsense"])
    with pytest.raises(MapError, match="labels='fr'"):
        scenario_map(base, result, labels="fr")
    with pytest.raises(CRSError, match="has no CRS"):
        scenario_map(base.set_crs(None, allow_override=True), result)


def test_optimisation_map_states_objective(applied):
    base, _ = applied
    fake = SimpleNamespace(proposal=parse_proposal(PROPOSAL), objective="far", sense="max", value=4.2,
                           baseline_value=3.5, status="optimal", gap=0.0)
    page = maps.to_html(optimisation_map(base, fake))
    boxes = "".join(json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", page))
    assert "最大化 maximise 综合容积率" in boxes and "<td>3.50</td>" in boxes and "<td>4.20</td>" in boxes
    assert "optimal" in boxes and "优化方案 optimised adjustment" in boxes
    assert "更新改造 renewed (1)" in layers(page)
    with pytest.raises(MapError, match="SearchResult; SimpleNamespace has no .objective"):
        optimisation_map(base, SimpleNamespace(proposal=fake.proposal))


def test_compare_map_two_synced_panes_same_breaks():
    a = grid()
    b = a.assign(gfa_m2=a["gfa_m2"] * 2)
    page = maps.to_html(compare_map(a, b, "far", k=3, titles=("前 " + XSS, "后 after")))
    names = re.findall(r"var (map_\w+) = L\.map\(", page)
    assert len(names) == 2
    assert f"var panes = [{names[0]}, {names[1]}]" in page
    legends = [json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", page) if "zgc-legend-title" in m]
    assert len(legends) == 1  # one legend for the page; the same classes in every pane
    # FAR of a: 1..6, of b: 2..12 → tertiles of the 12 values together (3.67 and 6), in both panes
    assert "1.0 – 3.7" in legends[0] and "6.0 – 12.0" in legends[0]
    assert re.search(r"#map_\w+ \{\s*position: absolute;\s*width: 50\.0%;\s*height: 100\.0%;\s*left: 50\.0%", page)
    assert "<img" not in page
    vertical = maps.to_html(compare_map(a, b, "gfa_m2", layout="vertical"))
    assert re.search(r"width: 100\.0%;\s*height: 50\.0%;\s*left: 0\.0%;\s*top: 50\.0%", vertical)
    assert maps.to_html(compare_map(a, b, "far")) == maps.to_html(compare_map(a, b, "far"))


def test_compare_map_errors():
    a = grid()
    with pytest.raises(MapError, match="layout='diagonal'"):
        compare_map(a, a, "far", layout="diagonal")
    with pytest.raises(MapError, match="one title per layer"):
        compare_map(a, a, "far", titles=("only one",))
    with pytest.raises(ColumnError, match="neither in the blocks"):
        compare_map(a, a, "no_such_column")


def statuses() -> pd.DataFrame:
    return pd.DataFrame({
        "block_id": ["B0", "B1", "B2", "B0", "B1", "B2"], "year": [2022, 2022, 2022, 2023, 2023, 2023],
        "status": ["normal", "warning", "outside", "normal", "exit", "probation"],
        "score": [80.0, 50.0, 70.0, 81.0, 49.0, 75.5], "reason": ["ok", "bottom 10 %", XSS, "ok", "2 warnings", "x"],
    })


def test_dynamic_map_layer_per_year_with_status_styles():
    page = maps.to_html(dynamic_map(statuses(), grid(3), title="动态"))
    found = layers(page)
    assert list(found) == ["2022年", "2023年", "分园边界 Sub-park outlines"]
    base = re.search(r"base_layers\s*:\s*\{(.*?)\}", page, flags=re.S).group(1)
    assert "2022" in base and "2023" in base
    added = re.findall(r"(geo_json_\w+)\.addTo\(map_\w+\)", page)
    year_vars = re.findall(r'"20\d\d\\u5e74"\s*:\s*(geo_json_\w+)', base)
    assert year_vars[1] in added and year_vars[0] not in added  # the last year is shown on opening
    fills = [f["properties"]["fill"] for f in found["2023年"]["features"]]
    assert fills == [STATUS_STYLES["normal"][2], STATUS_STYLES["exit"][2], "#bdbdbd"]
    tips = [tip(f) for f in found["2022年"]["features"]]
    assert "预警 warning" in tips[1] and "50.00" in tips[1] and "区块0" in tips[0]
    assert "&lt;img" in tips[2] and "区外 outside" in tips[2]
    boxes = "".join(json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", page))
    # counts per year: 2022 normal 1, warning 1, outside 1; 2023 normal 1, exit 1, probation 1
    assert "<tr><th>2022</th><td>1</td><td>1</td><td>0</td><td>1</td><td>0</td></tr>" in boxes
    assert "probation" in boxes


def test_dynamic_map_year_units_geometry_and_errors():
    st = statuses()
    page = maps.to_html(dynamic_map(st, grid(3), year=2022))
    base = re.search(r"base_layers\s*:\s*\{(.*?)\}", page, flags=re.S).group(1)
    added = re.findall(r"(geo_json_\w+)\.addTo\(map_\w+\)", page)
    assert re.findall(r'"20\d\d\\u5e74"\s*:\s*(geo_json_\w+)', base)[0] in added
    by_park = pd.DataFrame({"subpark": ["海淀园", "朝阳园"], "year": [2023, 2023], "status": ["normal", "exit"]})
    parks = layers(maps.to_html(dynamic_map(by_park, grid(), unit="subpark", subparks=False)))
    assert len(parks["2023年"]["features"]) == 2
    geo = gpd.GeoDataFrame(st.merge(grid(3)[["block_id", "geometry"]], on="block_id"), crs="EPSG:4548")
    assert len(layers(maps.to_html(dynamic_map(geo)))["2023年"]["features"]) == 3
    with pytest.raises(ColumnError, match=r"lacks column\(s\) \['status'\]"):
        dynamic_map(st.drop(columns="status"), grid(3))
    with pytest.raises(MapError, match="has no geometry: pass blocks"):
        dynamic_map(st)
    with pytest.raises(MapError, match=r"1 unit\(s\) of `statuses` have no geometry in `blocks` \(B2\)"):
        dynamic_map(st, grid(2))
    with pytest.raises(MapError, match="year=2030 is not in the statuses"):
        dynamic_map(st, grid(3), year=2030)
    with pytest.raises(ColumnError, match=r"tooltip_columns \['nope'\]"):
        dynamic_map(st, grid(3), tooltip_columns=["nope"])
    with pytest.raises(MapError, match="must be a DataFrame"):
        dynamic_map([1, 2], grid(3))
    with pytest.raises(MapError, match="is empty"):
        dynamic_map(st.iloc[:0], grid(3))
    with pytest.raises(ColumnError, match="`blocks` has no cluster column"):
        dynamic_map(st.assign(cluster="C1"), grid(3), unit="cluster")


def test_many_blocks_draw_on_a_canvas(applied, monkeypatch):
    base, result = applied
    assert '"preferCanvas": false' in maps.to_html(scenario_map(base, result))
    monkeypatch.setattr(maps, "CANVAS_ABOVE", 4)
    assert '"preferCanvas": true' in maps.to_html(scenario_map(base, result))  # 5 blocks drawn
    st = statuses()
    assert '"preferCanvas": false' in maps.to_html(dynamic_map(st, grid(3)))  # 3 a year
    monkeypatch.setattr(maps, "CANVAS_ABOVE", 2)
    assert '"preferCanvas": true' in maps.to_html(dynamic_map(st, grid(3)))
