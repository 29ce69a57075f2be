"""Tests of zgc_space.maps (folium choropleth, offline HTML) and its private helpers."""

from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely import box

from zgc_space import maps
from zgc_space.cli import main
from zgc_space.errors import ColumnError, CRSError, MapError
from zgc_space.maps._offline import DROPPED_ASSETS, INLINE_ASSETS, walk
from zgc_space.maps._style import class_breaks, column_labels, format_value, legend_title

XSS = "<img src=x onerror=alert(1)>"


def synthetic_blocks(n: int = 16) -> gpd.GeoDataFrame:
    """A grid of 300 m × 300 m blocks near Zhongguancun (EPSG:4548), two sub-parks."""
    rng = np.random.default_rng(7)
    cols = 4
    geoms, ids, parks = [], [], []
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = 440_000 + c * 300, 4_428_000 + r * 300
        geoms.append(box(x0, y0, x0 + 300, y0 + 300))
        ids.append(f"B{i:03d}")
        parks.append("海淀园" if c < 2 else "朝阳园")
    return gpd.GeoDataFrame(
        {
            "block_id": ids,
            "name": [f"区块{i}" for i in range(n)],
            "subpark": parks,
            "gfa_m2": rng.uniform(1e4, 3e5, n).round(1),
            "built_m2": rng.uniform(2e4, 9e4, n).round(1),
        },
        geometry=geoms,
        crs="EPSG:4548",
    )


def layer_data(page: str) -> list[dict]:
    """The GeoJSON embedded for each folium GeoJson layer, in order."""
    return [json.loads(m) for m in re.findall(r"geo_json_\w+_add\((\{.*\})\);", page)]


def js_strings(page: str, var: str) -> list[str]:
    """Decoded JSON string literals assigned as ``div.innerHTML`` (legend and title controls)."""
    return [json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*\");", page)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "action", "poster", "srcset")]


def external_references(page: str) -> list[str]:
    """Every reference in the page that could make a request (attributes, CSS urls, URLs)."""
    parser = _Links()
    parser.feed(page)
    found = [u for u in parser.links if not u.startswith(("data:", "#"))]
    found += [u for u in re.findall(r"url\(\s*['\"]?([^'\")]*)", page) if not u.startswith(("data:", "#"))]
    allowed = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}  # SVG namespace, attribution text
    found += [u for u in re.findall(r"https?://[^\s\"'<>)\\]+", page) if u not in allowed]
    found += re.findall(r"(?:src|href)\s*=\s*[\"']?//", page)
    return found


# --- class breaks, formatting, labels -------------------------------------------------------


def test_quantile_breaks_hand_computed():
    cb = class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9], scheme="quantiles", k=4)
    assert cb.edges == (1.0, 3.0, 5.0, 7.0, 9.0)
    assert cb.classify([1, 3, 3.5, 9]).tolist() == [0, 0, 1, 3]


def test_equal_interval_and_ties_collapse_classes():
    assert class_breaks([0, 10], scheme="equal_interval", k=5).edges == (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
    cb = class_breaks([1, 1, 1, 1, 2], scheme="quantiles", k=4)
    assert cb.edges == (1.0, 1.0, 2.0) and cb.k == 2  # {1}, then (1, 2]
    assert cb.classify([1, 2]).tolist() == [0, 1] and cb.labels() == ["1.0", "1.0 – 2.0"]
    assert class_breaks([3, 3, 3], k=5).k == 1


def test_natural_breaks_hand_computed():
    cb = class_breaks([1, 1, 2, 2, 10, 10, 11], scheme="natural_breaks", k=2)
    assert cb.edges == (1.0, 2.0, 11.0)


def _brute_force_ssd(values: np.ndarray, k: int) -> float:
    x = np.sort(values)
    best = np.inf
    for cuts in itertools.combinations(range(1, len(x)), k - 1):
        parts = np.split(x, cuts)
        best = min(best, sum(((p - p.mean()) ** 2).sum() for p in parts))
    return best


def test_natural_breaks_match_brute_force_optimum():
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.normal(size=9).round(2)
        cb = class_breaks(x, scheme="natural_breaks", k=3)
        idx = cb.classify(x)
        ssd = sum(((x[idx == c] - x[idx == c].mean()) ** 2).sum() for c in np.unique(idx))
        assert ssd == pytest.approx(_brute_force_ssd(x, 3))


def test_explicit_bins_cover_every_value_and_missing_is_grey():
    cb = class_breaks([0.2, 0.8, 1.5, np.nan], scheme="explicit", bins=[0.5, 1.0])
    assert cb.edges == (0.2, 0.5, 1.0, 1.5)
    assert cb.classify([0.2, 0.5, 0.51, 1.5, np.nan]).tolist() == [0, 0, 1, 2, -1]
    assert cb.colour_of([np.nan]) == ["#d9d9d9"]
    assert cb.labels(unit="m²") == ["0.20 – 0.50 m²", "0.50 – 1.00 m²", "1.00 – 1.50 m²"]
    assert class_breaks([0, 25_000]).labels()[-1] == "20,000 – 25,000"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scheme": "jenks"}, "scheme='jenks' is not one of"),
        ({"k": 0}, "k must be a positive integer"),
        ({"scheme": "explicit"}, "needs bins"),
        ({"scheme": "explicit", "bins": [2, 1]}, "bins must increase strictly"),
        ({"bins": [1, 2]}, 'bins are only used with scheme="explicit"'),
        ({"cmap": "NoSuchMap"}, "not a matplotlib colormap"),
    ],
)
def test_class_breaks_errors(kwargs, match):
    with pytest.raises(MapError, match=match):
        class_breaks([1.0, 2.0, 3.0], **kwargs)


def test_class_breaks_all_missing():
    with pytest.raises(MapError, match="no finite values"):
        class_breaks([np.nan, np.nan])


def test_format_value_and_labels():
    assert format_value(1234567.891, unit="m²") == "1,234,568 m²"
    assert format_value(1.18) == "1.18"
    assert format_value(100.0) == "100"
    assert format_value(0) == "0.00"
    assert format_value(None) == "无数据 no data"
    assert column_labels("far") == ("综合容积率", "comprehensive floor-area ratio", "", "")
    assert column_labels("mystery", label_zh="神秘", unit="m²") == ("神秘", "mystery", "m²", "m²")
    assert legend_title("gfa_m2", "both") == "总建筑面积 (m²) / floor area (m²)"
    assert legend_title("employees", "zh") == "从业人员 (人)"
    with pytest.raises(MapError, match="labels='fr' is not one of"):
        legend_title("gfa_m2", "fr")


def test_footer_items_order_and_text():
    footer = maps.Footer(date="2024-07-24", review_number="京S(2024)001号", crs="EPSG:4548")
    assert [k for k, _ in footer.items()] == ["审图号 Map review no.", "坐标系 CRS", "日期 Date"]
    assert maps.Footer().items() == [] and maps.Footer().text() == ""


# --- choropleth HTML -------------------------------------------------------------------------


def test_choropleth_layers_legend_and_tooltips():
    blocks = synthetic_blocks()
    blocks.loc[2, "gfa_m2"] = np.nan
    page = maps.to_html(maps.choropleth(blocks, "gfa_m2", scheme="natural_breaks", k=4, title="标题"))
    data = layer_data(page)
    assert [len(d["features"]) for d in data] == [16, 2]  # blocks, then two sub-park outlines
    tips = [f["properties"]["tip"] for f in data[0]["features"]]
    assert "B005" in tips[5] and "区块5" in tips[5]
    value = blocks.loc[5, "gfa_m2"]
    assert f"{value:,.0f} m²" in tips[5]
    assert "无数据 no data" in tips[2]
    legend, title = js_strings(page, "innerHTML")
    assert "总建筑面积 (m²) / floor area (m²)" in legend
    assert legend.count("zgc-swatch") == 4 + 1  # four classes and "no data"
    assert title == '<div class="zgc-title">标题</div>'
    assert "L.control.layers" in page
    assert '"className": "zgc-block"' in page
    assert "<title>标题</title>" in page


def test_no_external_reference_and_assets_inlined():
    blocks = synthetic_blocks()
    m = maps.choropleth(blocks, "gfa_m2", districts=blocks.dissolve("subpark").reset_index())
    page = maps.to_html(m, footer=maps.Footer(data_source="样例 sample"))
    assert external_references(page) == []
    assert page.count("<script data-asset=") == 2 and page.count("<style data-asset=") == 1
    assert "sourceMappingURL" not in page
    assert "url(data:image/png;base64," in page
    assert "Districts" in page or "\\u884c\\u653f\\u533a Districts" in page
    for name in DROPPED_ASSETS:
        assert name not in page


def test_two_runs_are_byte_identical(tmp_path):
    blocks = synthetic_blocks()
    footer = maps.Footer(review_number="京S(2024)001号", data_source="sample", date="2024-07-24")
    a = maps.save_html(maps.choropleth(blocks, "gfa_m2"), tmp_path / "a.html", footer=footer)
    b = maps.save_html(maps.choropleth(blocks, "gfa_m2"), tmp_path / "b.html", footer=footer)
    assert a.read_bytes() == b.read_bytes()
    assert not re.search(r"_[0-9a-f]{32}\b", a.read_text(encoding="utf-8"))  # no folium uuids left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]  # no temp files left


def test_same_map_rendered_again_or_displayed_first_gives_same_bytes():
    m = maps.choropleth(synthetic_blocks(), "gfa_m2")
    ids = {id(e): e._id for e in walk(m)}
    first = maps.to_html(m)
    m._repr_html_()  # a notebook display renders the map with folium's own random ids
    assert maps.to_html(m) == first == maps.to_html(m)
    assert all(ids[id(e)] == e._id for e in walk(m) if id(e) in ids)  # the caller's map is unchanged


def test_user_strings_are_escaped():
    blocks = synthetic_blocks()
    blocks.loc[3, "name"] = XSS
    blocks.loc[4, "subpark"] = XSS
    m = maps.choropleth(blocks, "gfa_m2", title=XSS, label_zh=XSS, unit=XSS)
    page = maps.to_html(m, footer=maps.Footer(data_source=XSS, note="</script><script>alert(2)</script>"))
    assert "<img" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # footer and <title>, as text
    tips = [f["properties"]["tip"] for f in layer_data(page)[0]["features"]]
    assert "&lt;img src=x onerror=alert(1)&gt;" in tips[3]
    legend = js_strings(page, "innerHTML")[0]
    assert "<img" not in legend and "&lt;img" in legend
    overlays = page[page.index("overlays :"):]
    assert "\\u003cimg" not in overlays[:400]  # layer names are escaped before Leaflet's innerHTML


def test_input_not_mutated_and_geographic_input_gives_same_map():
    blocks = synthetic_blocks()
    before = blocks.copy()
    page = maps.to_html(maps.choropleth(blocks, "gfa_m2"))
    assert blocks.equals(before) and blocks.crs == before.crs
    page_4326 = maps.to_html(maps.choropleth(blocks.to_crs("EPSG:4326"), "gfa_m2"))
    a = np.array(layer_data(page)[0]["features"][0]["geometry"]["coordinates"][0])
    b = np.array(layer_data(page_4326)[0]["features"][0]["geometry"]["coordinates"][0])
    assert np.abs(a - b).max() <= 2e-6


def test_coordinates_rounded_and_coverage_simplified_keeps_shared_edges():
    # two blocks sharing a zig-zag edge with many vertices
    xs = np.linspace(440_000, 441_000, 201)
    ys = 4_428_000 + np.where(np.arange(201) % 2 == 0, 0.0, 0.8)
    line = list(zip(xs, ys, strict=True))
    top = shapely.Polygon([*line, (441_000, 4_428_500), (440_000, 4_428_500)])
    bottom = shapely.Polygon([*line, (441_000, 4_427_500), (440_000, 4_427_500)])
    blocks = gpd.GeoDataFrame(
        {"block_id": ["N", "S"], "subpark": ["海淀园"] * 2, "gfa_m2": [1.0, 2.0]},
        geometry=[top, bottom], crs="EPSG:4548",
    )
    assert shapely.coverage_is_valid(blocks.geometry.values)
    page = maps.to_html(maps.choropleth(blocks, "gfa_m2", k=2, simplify_m=2.0))
    feats = layer_data(page)[0]["features"]
    rings = [np.array(f["geometry"]["coordinates"][0]) for f in feats]
    assert all(len(r) < 20 for r in rings)  # 200 jagged vertices gone
    assert all(np.array_equal(r, r.round(6)) for r in rings)
    shapes = [shapely.Polygon(r) for r in rings]
    shared = shapes[0].intersection(shapes[1])
    assert shared.area == 0 and shared.length > 0.009  # still one shared edge, no gap or overlap
    unsimplified = maps.to_html(maps.choropleth(blocks, "gfa_m2", k=2, simplify_m=None))
    assert len(layer_data(unsimplified)[0]["features"][0]["geometry"]["coordinates"][0]) > 200


def test_gaode_tiles_shift_vectors_to_gcj02_only_then():
    blocks = synthetic_blocks()
    plain = layer_data(maps.to_html(maps.choropleth(blocks, "gfa_m2")))[0]
    osm = layer_data(maps.to_html(maps.choropleth(blocks, "gfa_m2", tiles="openstreetmap")))[0]
    gaode_page = maps.to_html(maps.choropleth(blocks, "gfa_m2", tiles="gaode"))
    gaode = layer_data(gaode_page)[0]
    p0 = plain["features"][0]["geometry"]["coordinates"][0][0]
    assert osm["features"][0]["geometry"]["coordinates"][0][0] == p0
    g0 = gaode["features"][0]["geometry"]["coordinates"][0][0]
    azimuth, _, dist = Geod(ellps="WGS84").inv(p0[0], p0[1], g0[0], g0[1])
    assert 450 < dist < 650 and 45 < azimuth < 90  # ~540 m toward east-north-east
    assert "autonavi.com" in gaode_page


def test_tile_choices():
    blocks = synthetic_blocks()
    page = maps.to_html(maps.choropleth(blocks, "gfa_m2", tiles="tianditu", tianditu_key="abc123"))
    assert "tk=abc123" in page and "tianditu.gov.cn" in page
    with pytest.raises(MapError, match="needs tianditu_key"):
        maps.choropleth(blocks, "gfa_m2", tiles="tianditu")
    with pytest.raises(MapError, match="tiles='google' is not one of"):
        maps.choropleth(blocks, "gfa_m2", tiles="google")


def test_renderer_switches_to_canvas_for_many_blocks(monkeypatch):
    blocks = synthetic_blocks()
    assert '"preferCanvas": false' in maps.to_html(maps.choropleth(blocks, "gfa_m2"))
    monkeypatch.setattr(maps, "CANVAS_ABOVE", 10)
    assert '"preferCanvas": true' in maps.to_html(maps.choropleth(blocks, "gfa_m2"))
    assert '"preferCanvas": false' in maps.to_html(maps.choropleth(blocks, "gfa_m2", renderer="svg"))


def test_choropleth_of_an_indicator_id_computes_it_per_block():
    blocks = synthetic_blocks()
    blocks["built_m2"] = 10_000.0
    page = maps.to_html(maps.choropleth(blocks, "far", k=2))
    assert "comprehensive floor-area ratio" in page  # the indicator's legend title
    assert "far" not in blocks.columns  # the caller's table is untouched


def test_choropleth_errors():
    blocks = synthetic_blocks()
    with pytest.raises(ColumnError, match="column 'foo' is not in `blocks`; numeric columns available: gfa_m2"):
        maps.choropleth(blocks, "foo")
    with pytest.raises(ColumnError, match="tax_10k_cny_per_ha needs tax_10k_cny; add those columns"):
        maps.choropleth(blocks, "tax_10k_cny_per_ha")
    with pytest.raises(ColumnError, match="column 'name' is not numeric"):
        maps.choropleth(blocks, "name")
    with pytest.raises(CRSError, match="`blocks` has no CRS"):
        maps.choropleth(blocks.set_crs(None, allow_override=True), "gfa_m2")
    with pytest.raises(MapError, match="must be a GeoDataFrame"):
        maps.choropleth(blocks.drop(columns="geometry"), "gfa_m2")
    with pytest.raises(MapError, match="is empty"):
        maps.choropleth(blocks.iloc[:0], "gfa_m2")
    with pytest.raises(MapError, match=r"tooltip_columns \['owner'\]"):
        maps.choropleth(blocks, "gfa_m2", tooltip_columns=["owner"])
    with pytest.raises(MapError, match="renderer='webgl'"):
        maps.choropleth(blocks, "gfa_m2", renderer="webgl")
    with pytest.raises(CRSError, match="`districts` has no CRS"):
        maps.choropleth(blocks, "gfa_m2", districts=blocks.set_crs(None, allow_override=True))
    geoms = list(blocks.geometry)
    geoms[1], geoms[2] = None, shapely.Point(440_000, 4_428_000)
    with pytest.raises(MapError, match=r"2 missing, empty or non-polygon geometries \(B001, B002\)"):
        maps.choropleth(blocks.set_geometry(gpd.GeoSeries(geoms, crs=blocks.crs)), "gfa_m2")


def test_export_errors_and_online_mode(tmp_path):
    with pytest.raises(MapError, match="expected a folium.Map"):
        maps.to_html("not a map")
    with pytest.raises(MapError, match="footer must be a zgc_space.maps.Footer"):
        maps.to_html(folium.Map(tiles=None), footer="审图号")
    m = folium.Map(tiles=None)
    folium.Marker([39.98, 116.31], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(MapError, match="awesome_markers"):
        maps.save_html(m, tmp_path / "icon.html")
    assert not (tmp_path / "icon.html").exists()
    online = maps.to_html(maps.choropleth(synthetic_blocks(), "gfa_m2"), offline=False)
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in online
    assert "bootstrap" not in online and "<script data-asset=" not in online


def test_offline_asset_table_points_at_installed_files():
    from zgc_space.maps._offline import asset_text

    for name in INLINE_ASSETS:
        text = asset_text(name)
        assert len(text) > 10_000 and "</script" not in text and "</style" not in text


# --- CLI ------------------------------------------------------------------------------------


def test_cli_map_json_and_derived_indicator(tmp_path, capsys):
    src = tmp_path / "blocks.gpkg"
    synthetic_blocks().to_file(src, driver="GPKG")
    out = tmp_path / "far.html"
    code = main(["map", str(src), "--column", "far", "--out", str(out), "--json", "--png", "--dpi", "40",
                 "--review-number", "京S(2024)001号", "--scheme", "equal_interval", "-k", "3"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["derived_indicator"] is True and payload["blocks"] == 16
    assert payload["scheme"] == "equal_interval" and len(payload["breaks"]) == 4
    assert out.exists() and payload["html_bytes"] == out.stat().st_size
    assert [p.rsplit(".", 1)[1] for p in payload["printed"]] == ["png", "pdf"]
    assert "京S(2024)001号" in out.read_text(encoding="utf-8")


def test_cli_map_text_output_and_bad_column(tmp_path, capsys):
    src = tmp_path / "blocks.gpkg"
    synthetic_blocks().to_file(src, driver="GPKG")
    assert main(["map", str(src), "--column", "gfa_m2", "--out", str(tmp_path / "m.html")]) == 0
    assert "16 blocks, 5 classes" in capsys.readouterr().out
    assert main(["map", str(src), "--column", "nope", "--out", str(tmp_path / "x.html")]) == 1
    assert "column 'nope' is not in `blocks`" in capsys.readouterr().err
