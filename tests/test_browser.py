"""Real-browser checks of the saved maps: headless Debian Chromium driven by Playwright.

Every network request is routed to abort and counted; a map passes when the only request is
the file itself, no JavaScript error occurs, every block is drawn, hovering shows its tooltip
and the legend is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from shapely import box

from zgc_space import datasets, maps

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = "<img src=x onerror=alert(1)>"


def grid_blocks(n: int, *, side_m: float = 300.0, columns: int = 4) -> gpd.GeoDataFrame:
    geoms = [
        box(440_000 + (i % columns) * side_m, 4_428_000 + (i // columns) * side_m,
            440_000 + (i % columns + 1) * side_m, 4_428_000 + (i // columns + 1) * side_m)
        for i in range(n)
    ]
    return gpd.GeoDataFrame(
        {"block_id": [f"B{i:05d}" for i in range(n)], "name": [f"区块{i}" for i in range(n)],
         "subpark": ["海淀园" if i % columns < columns / 2 else "朝阳园" for i in range(n)],
         "gfa_m2": np.linspace(10_000, 250_000, n).round(1)},
        geometry=geoms, crs="EPSG:4548",
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page load with every request counted and aborted (the file itself excepted)."""

    def __init__(self, browser: Browser, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.route("**/*", lambda r: r.continue_() if r.request.url == self.url else r.abort())
        self.page.goto(self.url, wait_until="load")
        self.load_ms = self.page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")

    def assert_clean(self) -> None:
        assert self.requests == [self.url]
        assert self.errors == []
        assert self.page.evaluate("() => typeof L === 'object' && L.version") == "1.9.3"


def test_synthetic_map_renders_offline_with_tooltips_and_escaping(browser, tmp_path):
    blocks = grid_blocks(16)
    blocks.loc[3, "name"] = XSS
    m = maps.choropleth(blocks, "gfa_m2", title=XSS, scheme="natural_breaks")
    path = maps.save_html(m, tmp_path / "synthetic.html", footer=maps.Footer(review_number="京S(2024)001号",
                                                                               data_source=XSS))
    visit = Visit(browser, path)
    page = visit.page
    visit.assert_clean()
    assert page.locator(".leaflet-overlay-pane path.zgc-block").count() == 16
    page.locator("path.zgc-block").nth(3).hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "B00003" in text and XSS in text and "m²" in text
    assert tooltip.locator("img").count() == 0 and page.locator("img").count() == 0
    legend = page.locator(".zgc-legend")
    assert legend.is_visible() and legend.locator(".zgc-swatch").count() == 5
    assert "总建筑面积" in legend.inner_text()
    assert XSS in page.locator(".zgc-title").inner_text()
    assert "京S(2024)001号" in page.locator(".zgc-footer").inner_text()
    assert page.locator(".leaflet-control-layers-overlays label").count() == 2
    page.screenshot(path=str(tmp_path / "synthetic.png"))
    assert (tmp_path / "synthetic.png").stat().st_size > 10_000


def test_sample_map_is_small_fast_and_complete(browser, tmp_path):
    blocks = datasets.load_blocks()
    blocks = blocks.assign(far=blocks["gfa_m2"] / blocks["built_m2"])
    m = maps.choropleth(blocks, "far", districts=datasets.load_districts(), title="综合容积率 FAR")
    path = maps.save_html(m, tmp_path / "sample.html", footer=maps.Footer(data_source="zgc_space sample"))
    assert len(blocks) == 164
    assert path.stat().st_size < 1.5e6
    visit = Visit(browser, path)
    visit.assert_clean()
    assert visit.load_ms < 1000
    page = visit.page
    assert page.locator(".leaflet-overlay-pane path.zgc-block").count() == 164
    page.locator("path.zgc-block").nth(0).hover(force=True)
    page.locator(".leaflet-tooltip").wait_for(state="visible")
    assert blocks["block_id"].iloc[0] in page.locator(".leaflet-tooltip").inner_text()
    assert page.locator(".zgc-legend").is_visible()
    page.screenshot(path=str(tmp_path / "sample.png"))


def test_ten_thousand_blocks_open_on_a_canvas(browser, tmp_path):
    blocks = grid_blocks(10_000, side_m=60.0, columns=100)
    path = maps.save_html(maps.choropleth(blocks, "gfa_m2"), tmp_path / "large.html")
    visit = Visit(browser, path)
    visit.assert_clean()
    page = visit.page
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.locator(".leaflet-overlay-pane path.zgc-block").count() == 0
    assert page.locator(".zgc-legend").is_visible()
    page.screenshot(path=str(tmp_path / "large.png"))


# ---------------------------------------------------------------------------------------------
# the hearing pack and the scenario maps

OPT = "id: OPT-b\ntitle: optimum\nrelease:\n  - block: B158\nrenew:\n  - blocks: [B076]\n    far_step: 0.5\n"


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> dict:
    """A hearing pack of the sample (two proposals, an optimisation, a dynamic simulation), no PNG."""
    from types import SimpleNamespace

    import pandas as pd

    from zgc_space import report, scenarios
    from zgc_space.scenarios.proposal import parse_proposal, read_proposal

    blocks = datasets.load_blocks()
    cands = datasets.load_candidates()
    folder = datasets.path("zgc_blocks.gpkg").parent / "proposals"
    paths = [folder / "p01_release_outer_admit_core.yaml", folder / "p03_consolidate_scattered.yaml"]
    opt = parse_proposal(OPT)
    ev = scenarios.evaluate(blocks)
    result = SimpleNamespace(proposal=opt, objective="far", sense="max", value=1.2, baseline_value=1.18,
                             status="optimal", gap=0.0, method="test", selection={"release": ["B158"]},
                             evaluation=pd.concat([ev.assign(case="baseline"), ev.assign(case="optimised")])
                             .set_index("case"))
    statuses = pd.DataFrame([{"block_id": b, "year": y, "status": ("warning" if k % 7 == 0 else "normal")}
                             for y in (2022, 2023) for k, b in enumerate(blocks["block_id"])])
    out = tmp_path_factory.mktemp("pack") / "hearing"
    index = report.hearing_pack(blocks, out_dir=out, proposals=paths, candidates=cands, optimisation=result,
                                dynamic=statuses, png=False, footer=maps.Footer(data_source=XSS), documents=False)
    drawn = {"far.html": 164, "tax_per_ha.html": 164, "subpark_score.html": 164, "dynamic.html": 164}
    for k, path in enumerate(paths, 1):
        prop = read_proposal(path)
        applied = scenarios.apply(blocks, prop, candidates=cands)
        released = int((applied.changes["change"] == "released").sum())
        stem = f"proposals/{k:02d}_{prop.id}"
        drawn[f"{stem}.html"] = len(applied.blocks) + released
        drawn[f"{stem}_far_compare.html"] = len(blocks) + len(applied.blocks)
        drawn["proposals/compare_all_far.html"] = drawn.get("proposals/compare_all_far.html", len(blocks)) + len(
            applied.blocks)
    drawn["optimisation.html"] = len(blocks)  # B158 released (drawn where it was), B076 renewed
    return {"index": index, "drawn": drawn}


def test_pack_index_opens_offline_and_links_everything(browser, pack, tmp_path):
    visit = Visit(browser, pack["index"])
    assert visit.requests == [visit.url]
    assert visit.errors == []
    page = visit.page
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    local = [h for h in hrefs if not h.startswith("#")]
    assert all((pack["index"].parent / h).is_file() for h in local) and len(local) > 30
    assert page.locator("img, script").count() == 0
    assert XSS in page.locator("footer").inner_text()
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    assert (tmp_path / "index.png").stat().st_size > 10_000


def test_every_map_of_the_pack_renders_offline(browser, pack, tmp_path):
    maps_dir = pack["index"].parent / "maps"
    found = sorted(p.relative_to(maps_dir).as_posix() for p in maps_dir.rglob("*.html"))
    assert found == sorted(pack["drawn"])
    for rel, expected in pack["drawn"].items():
        visit = Visit(browser, maps_dir / rel)
        visit.assert_clean()
        page = visit.page
        assert page.locator(".leaflet-overlay-pane path.zgc-block").count() == expected, rel
        legends = page.locator(".zgc-legend")
        assert legends.count() in (1, 2) and all(legends.nth(i).is_visible() for i in range(legends.count()))
        assert XSS in page.locator(".zgc-footer").inner_text()
        page.screenshot(path=str(tmp_path / (rel.replace("/", "_") + ".png")))
        page.close()


def test_scenario_map_tooltip_before_after(browser, pack):
    path = pack["index"].parent / "maps" / "proposals" / "01_P01-release-outer-admit-core.html"
    visit = Visit(browser, path)
    visit.assert_clean()
    page = visit.page
    released = page.locator('path.zgc-block[fill="#d7301f"]')
    assert released.count() == 4
    released.first.hover(force=True)
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "调出" in text and "调整前" in text and "第 " in text and "released" not in text  # the pack is Chinese
    assert any(b in text for b in ("B158", "B094", "B164", "B088"))
    admitted = page.locator('path.zgc-block[fill="#1a9850"]')
    assert admitted.count() == 2


def test_compare_map_panes_follow_each_other(browser, pack):
    path = pack["index"].parent / "maps" / "proposals" / "01_P01-release-outer-admit-core_far_compare.html"
    visit = Visit(browser, path)
    visit.assert_clean()
    page = visit.page
    left, right = page.eval_on_selector_all(".folium-map", "els => els.map(e => e.id)")
    # both views read in one call, once neither map is animating (zoom animation, drag inertia)
    views = """ids => new Promise(done => {
        const read = () => ids.map(id => {
            const m = window[id], c = m.getCenter();
            return [c.lat, c.lng, m.getZoom()];
        });
        let last = JSON.stringify(read()), still = 0;
        const tick = () => { const now = JSON.stringify(read()); still = now === last ? still + 1 : 0; last = now;
                             if (still >= 5) { done(read()); } else { setTimeout(tick, 50); } };
        setTimeout(tick, 50);
    })"""
    a, b = page.evaluate(views, [left, right])
    assert a == b
    zoom = a[2]
    page.evaluate(f"() => window['{left}'].setView([39.98, 116.31], window['{left}'].getZoom() + 2)")
    a, b = page.evaluate(views, [left, right])
    assert a == b and b[2] == zoom + 2  # the same centre and zoom in both panes
    assert abs(b[0] - 39.98) < 1e-6 and abs(b[1] - 116.31) < 1e-6
    box_ = page.locator(f"#{right}").bounding_box()
    x, y = box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y + 80, steps=8)
    page.mouse.up()
    moved_left, moved_right = page.evaluate(views, [left, right])
    assert moved_right[1] > b[1] and moved_right[0] > b[0]  # dragged left and down: the view moved east, north
    assert moved_left == moved_right
    assert visit.errors == []


def test_dynamic_map_switches_years(browser, pack):
    visit = Visit(browser, pack["index"].parent / "maps" / "dynamic.html")
    visit.assert_clean()
    page = visit.page
    assert page.locator("path.zgc-block").count() == 164
    page.locator(".leaflet-control-layers-base label", has_text="2022").click()
    assert page.locator("path.zgc-block").count() == 164
    assert page.locator(".leaflet-control-layers-base input:checked").count() == 1
    assert "2022" in page.locator(".leaflet-control-layers-base label:has(input:checked)").inner_text()
    assert visit.errors == []


# ---------------------------------------------------------------------------------------------
# the Chinese pack says nothing in English

#: Proper terms a Chinese page may hold: CRS names and codes, units, hashes, file names and paths.
ALLOWED = re.compile(
    r"CGCS2000|EPSG:\d+|WGS\s?84|SHA-256|TD/T\s?1029|km²|m²|\d\s*k?m\b|[\w./-]+\.(?:html|png|pdf|csv|xlsx|yaml|json"
    r"|gpkg|docx)\b|\bWord\b|\bPDF\b|\b[0-9a-f]{64}\b"
)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\[\].]*")
#: Every tooltip bound to a layer of every map of the page (tooltips are not in the page's text).
TOOLTIPS = """() => { const out = []; for (const k of Object.keys(window)) { const v = window[k];
  if (v && typeof v.eachLayer === "function" && typeof v.toGeoJSON === "function") {
    v.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.tip) {
      out.push(l.feature.properties.tip); } }); } }
  return out; }"""


@pytest.fixture(scope="module")
def zh_pack(tmp_path_factory) -> Path:
    from zgc_space import demo

    # the default pack: its Word report and 17 diagnoses are pages too (their PDF is tested in test_docx)
    return demo.demo_pack(tmp_path_factory.mktemp("zh") / "pack", png=False, documents_pdf=False).parent


def _identifiers(pack: Path) -> set[str]:
    """Ids the data define (blocks, candidates, merged blocks, proposals): shown as they are."""
    import pandas as pd

    ids = set(datasets.load_blocks()["block_id"]) | set(datasets.load_candidates()["candidate_id"])
    changes = pd.read_csv(pack / "tables" / "proposals_changes.csv", encoding="utf-8-sig")
    return ids | set(changes["block_id"].astype(str)) | set(changes["proposal_id"].astype(str)) | {"OPT-score"}


def test_chinese_pack_has_no_english_word_or_code_identifier(browser, zh_pack):
    ids = _identifiers(zh_pack)
    pages = sorted(zh_pack.rglob("*.html"))
    assert len(pages) >= 15 and len(list((zh_pack / "diagnoses").glob("*.html"))) == 17
    assert (zh_pack / "report.html").is_file()
    found: dict[str, list[str]] = {}
    tips_seen = 0
    for path in pages:
        visit = Visit(browser, path)
        assert visit.errors == [] and visit.requests[0] == visit.url
        text = visit.page.evaluate("() => document.title + ' ' + document.body.innerText")
        tips = visit.page.evaluate(TOOLTIPS)
        tips_seen += len(tips)
        text += " " + " ".join(re.sub(r"<[^>]+>", " ", t) for t in tips)
        text = ALLOWED.sub(" ", text)
        for ident in sorted(ids, key=len, reverse=True):
            text = text.replace(ident, " ")
        words = sorted(set(WORD.findall(text)))
        if words:
            found[path.relative_to(zh_pack).as_posix()] = words
        visit.page.close()
    assert tips_seen > 164 * 10  # the tooltips of every map were read
    assert found == {}
