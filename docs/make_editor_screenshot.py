"""Make docs/editor.png, the README's picture of ``zgc-space edit`` (headless Debian Chromium).

Run: ``.venv/bin/python docs/make_editor_screenshot.py``
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from zgc_space import datasets
from zgc_space.editor import EditorServer, EditSession

OUT = Path(__file__).parent / "editor.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    """Edit the sample as the README describes and photograph the page."""
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as folder:
        session = EditSession(datasets.load_blocks(), candidates=datasets.load_candidates(), out_dir=folder)
        session.click_block("B158")
        session.click_block("B076")
        session.click_block("B076")
        session.click_candidate("C01")
        session.set_reason("release", 0, "地均税收最低 lowest tax per ha")
        session.select("B087")
        session.select("B088")
        with EditorServer(session, port=0) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
            page.goto(server.url)
            page.wait_for_selector("path.zgc-block", state="attached")
            page.evaluate("() => window.zgcEditor.map.setView([39.95, 116.2], 11)")
            page.wait_for_timeout(500)
            png = page.screenshot()
            browser.close()
    # a 128-colour palette keeps the picture small in the repository
    picture = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)
    picture.save(OUT, optimize=True)


if __name__ == "__main__":
    main()
