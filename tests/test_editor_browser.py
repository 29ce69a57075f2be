"""The ``zgc-space edit`` page in headless Chromium: clicks, the panel against compare, saving.

The page is served on 127.0.0.1 by :class:`~zgc_space.editor.EditorServer` in a thread of the
test; every request is counted, and any that does not go to that server is aborted (and fails
the test).
"""

from __future__ import annotations

import json
import warnings

import pytest
from playwright.sync_api import Page, sync_playwright

from zgc_space import datasets, scenarios
from zgc_space.cli import main
from zgc_space.editor import EditorServer, EditSession
from zgc_space.scenarios.proposal import Admit, Proposal, Release, Renew, read_proposal

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class EditorPage:
    """The editor page with its requests, JS errors and dialogs recorded."""

    def __init__(self, page: Page, url: str) -> None:
        self.page, self.url = page, url
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.updates = 0
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.accept()))
        page.route("**/*", self._route)
        page.goto(url, wait_until="load")
        page.wait_for_selector("path.zgc-block")

    def _route(self, route) -> None:
        if route.request.url.startswith(self.url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _wait(self, n: int = 1) -> None:
        self.updates += n
        self.page.wait_for_selector(f'body[data-updates="{self.updates}"]', state="attached")

    def click(self, feature_id: str) -> None:
        """Click inside a block or candidate area, as a person would, and wait for the panel."""
        point = self.page.evaluate("id => window.zgcEditor.pointOf(id)", feature_id)
        self.page.mouse.click(point["x"], point["y"])
        self._wait()

    def number(self, selector: str) -> float:
        return float(self.page.locator(selector).get_attribute("data-value"))

    def notice(self) -> str:
        """The notice's Chinese line (the English one is beneath it)."""
        return self.page.locator(".zgc-notice").first.inner_text().split("\n")[0]


def test_edit_page_clicks_match_compare_and_saved_file_reproduces_them(tmp_path, capsys):
    blocks, candidates = datasets.load_blocks(), datasets.load_candidates()
    session = EditSession(blocks, candidates=candidates, out_dir=tmp_path)
    with EditorServer(session, port=0) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ed = EditorPage(browser.new_page(viewport={"width": 1280, "height": 800}), server.url)
            page = ed.page
            assert page.locator("path.zgc-block").count() == 164
            assert page.locator("path.zgc-candidate").count() == 20
            base_score = ed.number(".zgc-score")
            ed.click("B158")  # keep → release
            assert page.locator('path[data-id="B158"]').get_attribute("data-state") == "release"
            ed.click("B076")  # keep → release → renew (FAR +0.5)
            ed.click("B076")
            ed.click("C01")  # admit
            assert page.locator('path[data-id="B076"]').get_attribute("data-state") == "renew"
            assert page.locator('path[data-id="C01"]').get_attribute("data-state") == "admit"
            assert ed.notice() == "调入 C01"

            expected = Proposal(id="X", title="x", release=[Release(block="B158")], admit=[Admit(candidate="C01")],
                                renew=[Renew(blocks=["B076"], far_step=0.5)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = scenarios.compare(blocks, [expected], candidates=candidates).iloc[0]
            score, rank = ed.number(".zgc-score"), ed.number(".zgc-rank")
            far = ed.number('tr[data-metric="far"] td.zgc-value')
            assert (score, rank, far) == (row["score"], row["rank"], row["far"]) and score != base_score
            assert page.locator(".zgc-violations li").count() == row["n_violations"] == 1

            page.locator(".zgc-rule-kind").first.select_option("far_target")
            ed._wait()
            page.locator(".zgc-rule-value").first.fill("-1")  # a bad edit: a message, nothing changed
            page.locator(".zgc-rule-value").first.press("Tab")  # leaving the field commits it (one change)
            ed._wait()
            assert ed.notice().startswith("容积率目标必须是大于 0 的数") and ed.notice().endswith("输入的是 -1.00")
            assert "FAR target must be a number above 0" in page.locator(".zgc-notice .zgc-en").inner_text()
            assert page.locator(".zgc-notice.zgc-error").count() == 1

            page.locator(".zgc-save-name").fill("p06.yaml")
            page.locator(".zgc-save-button").click()
            ed._wait()
            assert ed.notice().startswith("已保存：") and not ed.dialogs
            page.locator(".zgc-save-button").click()  # the file exists now: the page asks first
            ed._wait(2)
            assert len(ed.dialogs) == 1 and "p06.yaml 已存在，是否覆盖" in ed.dialogs[0]
            assert ed.notice().startswith("已保存：")  # the dialog was accepted: replaced
            assert ed.errors == [] and ed.outside == []
            assert {u.split("?")[0] for u in ed.requests} == {server.url, server.url + "api/command"}
        finally:
            browser.close()

    saved = tmp_path / "p06.yaml"
    assert read_proposal(saved).model_dump(exclude={"id", "title"}) == expected.model_dump(exclude={"id", "title"})
    capsys.readouterr()
    code = main(["compare", str(saved), "--baseline", str(datasets.path("zgc_blocks.gpkg")),
                 "--candidates", str(datasets.path("candidates.gpkg")), "--out", str(tmp_path / "out"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert (result["score"], result["rank"], result["far"]) == (score, rank, far)


HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>%(css)s</style></head><body>
<div id="w"></div>
<script type="application/json" id="esm">%(esm)s</script>
<script type="module">
// anywidget's side of the widget, without Jupyter: the ES module imported as a module, a model
// with get/on/off/send; what the module sends is kept for the test to hand to Python.
const values = JSON.parse(%(values)s);
const listeners = {};
window.sent = [];
window.model = {
  get: (k) => values[k],
  on: (e, cb) => { (listeners[e] = listeners[e] || []).push(cb); },
  off: () => {},
  send: (m) => { window.sent.push(m); },
  push: (view) => { values.view = view; (listeners["change:view"] || []).forEach((cb) => cb()); },
};
const text = JSON.parse(document.getElementById("esm").textContent);
const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
const mod = await import(url);
const host = document.getElementById("w");
if (%(detached)s) {
  // As in JupyterLab: render() gets an element not yet on the page (so 0 x 0), which JupyterLab
  // attaches later, after render()'s own setTimeout(0) has run.
  const el = document.createElement("div");
  mod.default.render({ model: window.model, el });
  await new Promise((resolve) => setTimeout(resolve, 100));
  host.append(el);
} else {
  mod.default.render({ model: window.model, el: host });
}
document.body.dataset.ready = "1";
</script></body></html>"""


def harness_page(editor, path, *, detached: bool = False) -> str:
    """Write the harness page for ``editor`` to ``path``; return its URL."""
    values = json.dumps({"geo": editor.geo, "view": editor.view, "height": editor.height})
    html = HARNESS % {"css": editor._css, "esm": json.dumps(editor._esm).replace("</", "<\\/"),
                      "values": json.dumps(values).replace("</", "<\\/"), "detached": json.dumps(detached)}
    path.write_text(html, encoding="utf-8")
    return path.resolve().as_uri()


def test_widget_module_renders_and_round_trips_as_anywidget_would(tmp_path):
    from zgc_space.editor import ProposalEditor

    (tmp_path / "P-edit.yaml").write_text("id: P-edit\ntitle: there already\n", encoding="utf-8")
    editor = ProposalEditor(datasets.load_blocks(), candidates=datasets.load_candidates(), height="500px",
                            out_dir=tmp_path)
    url = harness_page(editor, tmp_path / "widget.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 700})
            errors: list[str] = []
            outside: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route("**/*", lambda r: r.continue_() if r.request.url == url or r.request.url.startswith("blob:")
                       else (outside.append(r.request.url), r.abort()))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", state="attached")
            assert page.locator("path.zgc-block").count() == 164
            point = page.evaluate("() => document.getElementById('w').zgcEditor.pointOf('B158')")
            page.mouse.click(point["x"], point["y"])
            sent = page.evaluate("() => window.sent")
            assert sent == [{"op": "click_block", "id": "B158"}]
            editor._on_message(editor, sent[0], [])  # what the widget's comm does with it
            page.evaluate("view => window.model.push(view)", editor.view)
            assert page.locator('path[data-id="B158"]').get_attribute("data-state") == "release"
            assert page.locator(".zgc-notice").first.inner_text() == "调出 B158\nrelease B158"
            assert float(page.locator(".zgc-score").get_attribute("data-value")) == editor.panel["score"]
            margin = editor.panel["margin"]["text"]  # worded in Python at the catalogue's precision
            assert page.locator(".zgc-margin").inner_text() == margin and margin.startswith("再得 ")
            far = next(m for m in editor.panel["metrics"] if m["id"] == "far")  # B158 released: FAR moved
            cell = page.locator('tr[data-metric="far"] td.zgc-change')
            assert far["trend"] in ("up", "down") and cell.inner_text() == far["change_text"] != "0"
            assert cell.get_attribute("class").split() == ["zgc-change", f"zgc-{far['trend']}"]
            area = page.locator('tr[data-metric="block_count"] td.zgc-change')  # one block fewer, in red
            assert (area.inner_text(), area.get_attribute("class").split()) == ("-1", ["zgc-change", "zgc-down"])
            page.locator(".zgc-save-button").click()  # P-edit.yaml exists: the widget refuses, offers a name
            sent = page.evaluate("() => window.sent")
            assert sent[-1] == {"op": "save", "name": "P-edit.yaml"}
            editor._on_message(editor, sent[-1], [])
            page.evaluate("view => window.model.push(view)", editor.view)
            assert page.locator(".zgc-notice.zgc-error").inner_text().startswith(
                "P-edit.yaml 已存在，未保存（不会覆盖已有文件）；可另存为 P-edit-2.yaml")
            assert page.locator(".zgc-save-name").input_value() == "P-edit-2.yaml"
            assert (tmp_path / "P-edit.yaml").read_text(encoding="utf-8").endswith("there already\n")
            assert errors == [] and outside == []
        finally:
            browser.close()


def test_widget_drawn_into_an_element_attached_after_render(tmp_path):
    # JupyterLab calls render() with an output element it attaches to the page later: the map must
    # still get its view and draw every block once the element has a size (it once stayed empty:
    # Leaflet kept the 0 x 0 size it measured before the element was attached).
    from zgc_space.editor import ProposalEditor

    editor = ProposalEditor(datasets.load_blocks(), candidates=datasets.load_candidates(), height="500px")
    url = harness_page(editor, tmp_path / "widget.html", detached=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", state="attached")
            page.wait_for_selector("#w path.zgc-block", state="attached", timeout=10_000)
            assert page.locator("#w path.zgc-block").count() == 164
            assert page.locator("#w path.zgc-candidate").count() == 20
            point = page.evaluate("() => document.querySelector('#w > div').zgcEditor.pointOf('B158')")
            assert point is not None
            page.mouse.click(point["x"], point["y"])
            assert page.evaluate("() => window.sent") == [{"op": "click_block", "id": "B158"}]
            assert errors == []
        finally:
            browser.close()
