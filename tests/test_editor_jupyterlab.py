"""The ProposalEditor widget in a real JupyterLab, driven by headless Chromium.

A JupyterLab server runs on 127.0.0.1 (a free port, a random token, a temporary folder); the
notebook's one cell shows the widget; the test clicks a block on the map, makes a bad edit,
and presses the panel's save button twice. Requests that leave 127.0.0.1 are aborted and
counted: the widget asks for none (JupyterLab's own, if any, are listed in the failure).
Skipped when JupyterLab is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")
from playwright.sync_api import sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CELL = """import warnings
warnings.simplefilter("ignore")
from zgc_space import datasets
from zgc_space.editor import ProposalEditor
editor = ProposalEditor(datasets.load_blocks(), candidates=datasets.load_candidates(), out_dir=".", height="520px")
editor"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving ``tmp_path``; yields (base url, token, folder)."""
    nb = {"cells": [{"cell_type": "code", "id": "edit", "metadata": {}, "source": CELL, "outputs": [],
                     "execution_count": None}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "edit.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / ".jupyter-runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / ".lab")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.port_retries=0",
           "--LabApp.extension_manager=readonly", "--allow-root"]
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()) from None
                time.sleep(0.5)
        yield base, token, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_widget_in_jupyterlab_clicks_refuses_and_saves(lab):
    base, token, folder = lab
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) or
                       r.request.url.startswith(("data:", "blob:")) else (outside.append(r.request.url), r.abort()))
            page.goto(f"{base}/lab/tree/edit.ipynb?token={token}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=60_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached",
                                   timeout=60_000)
            page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector(".zgc-editor path.zgc-block", state="attached", timeout=90_000)
            assert page.locator(".zgc-editor path.zgc-block").count() == 164

            def click(feature: str) -> None:
                where = "id => document.querySelector('.zgc-editor').parentElement.zgcEditor.pointOf(id)"
                page.wait_for_function(where, arg=feature, timeout=30_000)  # null until the map has its view
                point = page.evaluate(where, feature)
                page.mouse.click(point["x"], point["y"])

            def notice() -> str:
                return page.locator(".zgc-editor .zgc-notice").first.inner_text().split("\n")[0]

            click("B158")
            page.wait_for_selector('.zgc-editor path[data-id="B158"][data-state="release"]', state="attached",
                                   timeout=30_000)
            page.wait_for_function("() => document.querySelector('.zgc-editor .zgc-notice')"
                                   ".textContent.startsWith('调出 B158')", timeout=30_000)

            rule = page.locator(".zgc-editor .zgc-rule-value").first
            rule.fill("-1")  # a bad edit: refused with a message in Chinese, no traceback
            rule.press("Tab")
            page.wait_for_selector(".zgc-editor .zgc-notice.zgc-error", timeout=30_000)
            assert notice().startswith("容积率增量必须是大于 0 的数")
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

            page.locator(".zgc-editor .zgc-save-button").click()
            page.wait_for_function("() => document.querySelector('.zgc-editor .zgc-notice')"
                                   ".textContent.startsWith('已保存')", timeout=30_000)
            assert (folder / "P-edit.yaml").exists()
            page.locator(".zgc-editor .zgc-save-button").click()  # exists now: refused, a free name offered
            page.wait_for_function("() => document.querySelector('.zgc-editor .zgc-notice')"
                                   ".textContent.includes('已存在')", timeout=30_000)
            assert "可另存为 P-edit-2.yaml" in notice()
            assert page.locator(".zgc-editor .zgc-save-name").input_value() == "P-edit-2.yaml"
            assert errors == [], errors
            assert outside == [], outside
        finally:
            browser.close()
    assert sorted(p.name for p in Path(folder).glob("*.yaml")) == ["P-edit.yaml"]
