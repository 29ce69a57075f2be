"""Real-browser checks of the saved maps: headless Debian Chromium driven by Playwright.

Every network request is routed to abort and counted; a map passes when the only request is
the file itself, no JavaScript error occurs, every block is drawn, hovering shows its tooltip
and the legend is visible.
"""

from __future__ import annotations

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
