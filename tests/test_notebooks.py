"""Every notebook under notebooks/ runs top to bottom (so none can rot)."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
#: Notebooks whose outputs are checked in a real browser as well.
SHOWS_MAPS = ("06_maps_and_hearing_pack",)
CHROMIUM = "/usr/bin/chromium"


def test_there_are_notebooks():
    assert any(p.name.startswith("01_") for p in NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.browser] if p.stem in SHOWS_MAPS else [])
                                  for p in NOTEBOOKS], ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: commit notebooks without outputs"
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    if path.stem.startswith("01_"):
        assert _images(nb, "Where the blocks are"), "notebook 01 draws no figure where the blocks are"
    if path.stem in SHOWS_MAPS:
        maps = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if "<iframe srcdoc=" in o.get("data", {}).get("text/html", "")]
        assert len(maps) >= 3, "the notebook shows its maps with maps.show"
        assert _rendered_offline(maps[0]) >= 164


def _images(nb: nbformat.NotebookNode, heading: str) -> list[str]:
    """The PNG outputs of the code cells under the markdown heading ``heading``."""
    out, under = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            under = heading in cell.source
        elif under:
            out += [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
    return out


def _rendered_offline(output_html: str) -> int:
    """Load a notebook output in headless Chromium, every network request aborted; count drawn blocks."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("about:", "data:"))
                       else r.abort())
            # the output as Jupyter puts it in the page: inside an output area of a plain document
            page.set_content(f"<!doctype html><html><body><div class=\"output_html\">{output_html}</div></body></html>",
                             wait_until="load")
            frame = next(f for f in page.frames if f.url == "about:srcdoc")
            frame.wait_for_selector("path.leaflet-interactive", state="attached")
            assert frame.evaluate("() => typeof L === 'object' && L.version") == "1.9.3"
            drawn = frame.locator("path.leaflet-interactive").count()
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == [], requests
    assert errors == []
    return drawn
