"""The proposal editor without a browser: the edit state, its panel, saving, the widget and the server."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from zgc_space import datasets, ranking, scenarios
from zgc_space.cli import main
from zgc_space.editor import EditorServer, EditSession
from zgc_space.editor._yaml import proposal_text
from zgc_space.errors import OverwriteInputError, ParameterError
from zgc_space.scenarios.proposal import Admit, Proposal, Release, Renew, parse_proposal, read_proposal

ROOT = Path(__file__).parents[1]
P01 = ROOT / "zgc_space/datasets/data/proposals/p01_release_outer_admit_core.yaml"


@pytest.fixture(scope="module")
def blocks() -> gpd.GeoDataFrame:
    return datasets.load_blocks()


@pytest.fixture(scope="module")
def candidates() -> gpd.GeoDataFrame:
    return datasets.load_candidates()


@pytest.fixture
def session(blocks, candidates) -> EditSession:
    return EditSession(blocks, candidates=candidates)


def compare_row(blocks, candidates, proposal: Proposal) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenarios.compare(blocks, [proposal], candidates=candidates).iloc[0]


# ---------------------------------------------------------------------------------------------
# edits


def test_click_cycles_keep_release_renew_keep(session):
    assert session.status("B158") == "keep"
    notice = session.click_block("B158")
    assert (notice.text, notice.en) == ("调出 B158", "release B158")
    assert session.status("B158") == "release" and [r.block for r in session.proposal.release] == ["B158"]
    session.click_block("B158")
    assert session.status("B158") == "renew" and not session.proposal.release
    assert session.proposal.renew[0].blocks == ["B158"] and session.proposal.renew[0].far_step == 0.5
    session.click_block("B158")
    assert session.status("B158") == "keep" and session.proposal.is_empty


def test_renewals_with_one_rule_share_an_operation_and_can_be_changed(session):
    for b in ("B001", "B002"):
        session.click_block(b)
        session.click_block(b)
    assert [r.blocks for r in session.proposal.renew] == [["B001", "B002"]]
    assert session.set_rule(far_target=2.5).level == "info"
    session.click_block("B003")
    session.click_block("B003")
    assert [(r.blocks, r.far_target, r.far_step) for r in session.proposal.renew] == [
        (["B001", "B002"], None, 0.5), (["B003"], 2.5, None)]
    assert session.set_renewal(0, far_target=3).level == "info"
    assert session.proposal.renew[0].far_target == 3.0 and session.proposal.renew[0].far_step is None


def test_candidate_click_toggles_admission(session):
    session.click_candidate("C01")
    assert session.admitted() == ["C01"] and session.state()["admitted"] == ["C01"]
    session.click_candidate("C01")
    assert session.admitted() == [] and session.proposal.is_empty


def test_undo_redo_walk_through_the_edits(session):
    session.click_block("B158")
    session.click_candidate("C01")
    after = session.proposal
    score = session.panel["score"]
    notice = session.undo()
    assert (notice.text, notice.en) == ("已撤销：调入 C01", "undone: admit C01")
    assert session.admitted() == [] and session.status("B158") == "release"
    session.undo()
    assert session.proposal.is_empty and not session.can_undo
    assert session.undo().level == "error"
    session.redo()
    session.redo()
    assert session.proposal == after and session.panel["score"] == score and not session.can_redo
    session.undo()
    session.click_block("B001")  # a new edit drops what was undone
    assert not session.can_redo


def test_reasons_and_metadata(session):
    session.click_block("B158")
    session.set_reason("release", 0, "地均税收最低 lowest tax per ha")
    session.set_meta(id="P06", title="调出 B158")
    assert session.proposal.release[0].reason == "地均税收最低 lowest tax per ha"
    assert (session.proposal.id, session.proposal.title) == ("P06", "调出 B158")
    assert session.set_meta(id="has space").level == "error" and session.proposal.id == "P06"
    assert session.set_reason("renew", 0, "x").level == "error"
    assert session.set_reason("nonsense", 0, "x").level == "error"


def test_merge_of_neighbours_and_unmerge(session):
    notice = session.merge(["B087", "B088"], name="石龙四五区")
    assert notice.level == "info", notice.text
    m = session.proposal.merge[0]
    assert (m.blocks, m.into, m.name, m.max_gap_m) == (["B087", "B088"], "M-B087-B088", "石龙四五区", 100.0)
    assert session.status("B087") == "merge" and session.panel["metrics"][-1]["value"] == 163  # block_count
    session.click_block("B087")  # a merged block is renewed, never released
    assert session.status("B087") == "merge" and session.proposal.renew[0].blocks == ["B087"]
    session.unmerge(0)
    assert not session.proposal.merge and session.status("B087") == "renew"


def test_selection_then_merge(session):
    session.select("B087")
    session.select("B088")
    assert session.state()["selection"] == ["B087", "B088"]
    assert session.merge().level == "info" and session.selection == []


# ---------------------------------------------------------------------------------------------
# bad edits: a message, never an exception, and the proposal unchanged


def test_negative_far_is_refused_with_a_message(session):
    notice = session.set_rule(far_target=-1)
    assert notice.level == "error" and notice.text == (
        "容积率目标必须是大于 0 的数（容积率 = 总建筑面积 / 已建成城镇建设用地面积），输入的是 -1.00")
    assert notice.en == "FAR target must be a number above 0 (FAR = floor area / built land), got -1.00"
    assert session.rule == ("far_step", 0.5)
    session.click_block("B001")
    session.click_block("B001")
    before = session.proposal
    notice = session.set_renewal(0, far_step=-0.5)
    assert notice.level == "error" and notice.text.startswith("容积率增量必须是大于 0 的数")
    assert notice.text.endswith("输入的是 -0.5；第 1 个更新改造未改变")
    assert "FAR step must be a number above 0" in notice.en
    assert session.proposal == before
    for value in (0, float("nan"), "abc", None):
        state = session.handle({"op": "set_renewal", "index": 0, "kind": "far_target", "value": value})
        assert state["notice"]["level"] == "error" and session.proposal == before


def test_merge_of_apart_blocks_of_two_subparks_is_refused(session):
    notice = session.merge(["B001", "B164"])
    assert notice.level == "error"
    assert notice.text == ("未完成：合并 B001 + B164：区块 B164 与 B001 不相邻（相距超过 100 m）；只能合并相邻的区块；"
                           "而且这些区块分属不同分园（B001：东城园，B164：延庆园），一个管理单元只能在一个分园内")
    assert "do not neighbour" in notice.en and "different sub-parks (B001: 东城园, B164: 延庆园)" in notice.en
    assert not session.proposal.merge and session.state()["notice"]["level"] == "error"
    assert session.merge(["B001"]).level == "error"


def tiny_blocks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"block_id": ["B1", "B2"], "subpark": ["海淀园", "海淀园"], "built_m2": [10_000.0, 10_000.0],
         "gfa_m2": [10_000.0, 20_000.0]},
        geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], crs="EPSG:4548")


def test_admitting_a_candidate_over_a_kept_block_is_refused():
    cands = gpd.GeoDataFrame({"candidate_id": ["C1"], "subpark": ["海淀园"]},
                             geometry=[box(50, 0, 150, 100)], crs="EPSG:4548")
    peers = pd.DataFrame({"zone_id": ["A"], "score": [50.0]})
    s = EditSession(tiny_blocks(), candidates=cands, peers=peers)
    notice = s.click_candidate("C1")
    assert notice.level == "error"
    assert notice.text == ("未完成：调入 C1：调入用地 C1 与保留区块 B1（5,000 m²）重叠；"
                           "请从调入范围中切除重叠部分，或先调出这些区块")
    assert "not done: admit C1" in notice.en and "overlaps kept block(s) B1" in notice.en
    assert s.admitted() == [] and s.panel["status"] != "error"
    s.click_block("B1")  # release the block the candidate overlaps: now it can come in
    assert s.click_candidate("C1").level == "info" and s.admitted() == ["C1"]
    assert s.click_candidate("C9").text == "候选用地中没有 C9"


@pytest.mark.parametrize("message", [
    {}, {"op": "bogus"}, {"op": "click_block"}, {"op": "click_block", "id": "NOPE"},
    {"op": "unmerge", "index": "x"}, {"op": "unmerge", "index": 5}, {"op": "set_rule", "kind": "eval"},
    {"op": "set_meta", "fields": {"date": "x"}}, {"op": "set_reason", "kind": "release", "index": 0},
    {"op": "merge", "ids": ["B001", "B001"]}, {"op": "save", "name": "x.yaml"},
])
def test_malformed_commands_become_error_notices(session, message):
    before = session.proposal
    state = session.handle(message)
    assert state["notice"]["level"] == "error", state["notice"]
    assert session.proposal == before
    json.dumps(state, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# the panel is what compare says


def test_panel_equals_compare(session, blocks, candidates):
    session.click_block("B158")
    session.click_block("B076")
    session.click_block("B076")
    session.click_candidate("C01")
    row = compare_row(blocks, candidates, session.proposal)
    panel = session.panel
    metrics = {m["id"]: m for m in panel["metrics"]}
    assert panel["score"] == row["score"] and panel["rank"] == row["rank"] and panel["rank_of"] == 131
    for name in ("far", "tax_10k_cny_per_ha", "site_area_m2", "block_count"):
        assert metrics[name]["value"] == row[name]
        assert metrics[name]["change"] == row[f"{name}_change"]
    assert [v["rule"] for v in panel["violations"]] == ["area-cap"]
    assert panel["status"] == row["status"] == "violations"
    by_hand = Proposal(id="X", title="x", release=[Release(block="B158")], admit=[Admit(candidate="C01")],
                       renew=[Renew(blocks=["B076"], far_step=0.5)])
    assert compare_row(blocks, candidates, by_hand)["score"] == panel["score"]


def test_rank_margin_is_the_distance_to_the_neighbouring_peers(session):
    panel = session.panel
    peers = scenarios.peer_scores()
    up, down = panel["margin"]["up"], panel["margin"]["down"]
    assert up > 0 and down > 0
    rank = panel["rank"]
    assert ranking.rank_scores([panel["score"] + up], peers)[0] == rank - 1
    assert ranking.rank_scores([panel["score"] + up - 1e-5], peers)[0] == rank
    assert ranking.rank_scores([panel["score"] - down - 1e-5], peers)[0] == rank + 1
    assert ranking.rank_scores([panel["score"] - down + 1e-5], peers)[0] == rank


def test_panel_is_json_with_labels_and_latency(session):
    state = session.state()
    json.dumps(state, allow_nan=False)
    far = next(m for m in state["panel"]["metrics"] if m["id"] == "far")
    assert (far["zh"], far["text"], far["change_text"]) == ("综合容积率", "1.18", "0")
    assert state["panel"]["latency_ms"] > 0 and len(session.latencies_ms) == 1


# ---------------------------------------------------------------------------------------------
# files


def test_save_then_cli_compare_reproduces_the_panel(session, tmp_path, capsys):
    session.click_block("B158")
    session.click_block("B076")
    session.click_block("B076")
    session.click_candidate("C01")
    path = session.save(tmp_path / "p06.yaml")
    assert read_proposal(path).model_dump() == session.proposal.model_dump()
    with pytest.raises(OverwriteInputError, match="p06.yaml exists; pass overwrite=True"):
        session.save(path)
    capsys.readouterr()
    code = main(["compare", str(path), "--baseline", str(datasets.path("zgc_blocks.gpkg")),
                 "--candidates", str(datasets.path("candidates.gpkg")), "--out", str(tmp_path / "out"), "--json"])
    assert code == 0
    row = json.loads(capsys.readouterr().out)["results"][0]
    assert row["score"] == session.panel["score"] and row["rank"] == session.panel["rank"]
    assert row["far"] == next(m["value"] for m in session.panel["metrics"] if m["id"] == "far")


def test_opening_a_file_keeps_metadata_and_comments(blocks, candidates, tmp_path):
    path = tmp_path / "p01.yaml"
    shutil.copy(P01, path)
    s = EditSession(blocks, candidates=candidates, proposal=path)
    assert s.state()["save_name"] == "p01.yaml"
    assert s.proposal.model_dump() == read_proposal(P01).model_dump() and s.panel["status"] == "ok"
    s.click_block("B001")
    s.set_reason("release", 4, "示例 example")
    text = s.yaml()
    original = P01.read_text(encoding="utf-8")
    assert text.startswith(original.split("release:")[0])  # header comment, id ... description verbatim
    assert original[original.index("admit:"):] in text  # unchanged sections keep their comments and layout
    assert "- block: B001\n  reason: 示例 example\n" in text
    assert parse_proposal(text).model_dump() == s.proposal.model_dump()
    s.save(path, overwrite=True)
    assert read_proposal(path).author == "市规划和自然资源委 空间优化专班 (sample)"


def test_comments_fall_back_to_the_header_when_sections_cannot_be_kept():
    src = "# head\n\n# about id\nid: P1\ntitle: t\nrelease:\n- block: B1\n# tail comment\n"
    p = parse_proposal(src)
    assert proposal_text(p, src) == src
    changed = Proposal(id="P1", title="t", release=[Release(block="B2")])
    text = proposal_text(changed, src)
    assert text.startswith("# head\n\n# about id\nid: P1\n") and "- block: B2" in text and "B1" not in text
    assert proposal_text(changed, None) == "id: P1\ntitle: t\nrelease:\n- block: B2\n"
    assert proposal_text(changed, "not: [valid") == proposal_text(changed, None)


def test_save_as_into_the_folder_asks_before_replacing(blocks, tmp_path):
    s = EditSession(blocks, out_dir=tmp_path / "out")
    s.click_block("B158")
    assert s.save_as("p06").text.startswith("已保存：")
    assert (tmp_path / "out/p06.yaml").exists()
    s.click_block("B158")
    state = s.handle({"op": "save", "name": "p06.yaml"})
    assert state["confirm"]["retry"] == {"op": "save", "name": "p06.yaml", "overwrite": True}
    assert read_proposal(tmp_path / "out/p06.yaml").release  # not replaced yet
    state = s.handle(state["confirm"]["retry"])
    assert state["confirm"] is None and read_proposal(tmp_path / "out/p06.yaml").renew
    for bad in ("../up.yaml", "a/b.yaml", ".hidden.yaml", "", "x" * 200):
        assert s.save_as(bad).level == "error"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p06.yaml"]


# ---------------------------------------------------------------------------------------------
# the widget and the server


def test_widget_is_one_offline_module_and_handles_messages(blocks, candidates):
    from zgc_space.editor import ProposalEditor

    editor = ProposalEditor(blocks, candidates=candidates)
    assert "Leaflet 1.9.3" in editor._esm and "export default { render }" in editor._esm
    assert "<link" not in editor._esm and "cdn" not in editor._esm.lower() and "data:image/png" in editor._css
    assert len(editor.geo["blocks"]["features"]) == 164 and len(editor.geo["candidates"]["features"]) == 20
    editor._on_message(editor, {"op": "click_block", "id": "B158"}, [])
    assert editor.view["blocks"]["B158"] == "release" and editor.proposal.release[0].block == "B158"
    editor._on_message(editor, {"op": "set_rule", "kind": "far_target", "value": -3}, [])
    assert editor.view["notice"]["level"] == "error"
    editor.undo()
    assert editor.view["blocks"]["B158"] == "keep"


def request(server: EditorServer, method: str, path: str, body: dict | None = None, *,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    out = (response.status, dict(response.getheaders()), response.read())
    conn.close()
    return out


def test_server_serves_the_page_and_guards_its_commands(blocks, tmp_path):
    with pytest.raises(ParameterError, match="loopback interface only"):
        EditorServer(EditSession(blocks), host="0.0.0.0")
    with EditorServer(EditSession(blocks, out_dir=tmp_path), port=0) as server:
        status, headers, page = request(server, "GET", "/")
        assert status == 200 and "connect-src 'self'" in headers["Content-Security-Policy"]
        text = page.decode()
        assert text.count("<script") == 2 and "Leaflet 1.9.3" in text and server.token in text
        token = {"X-ZGC-Token": server.token}
        assert request(server, "POST", "/api/command", {"op": "click_block", "id": "B158"})[0] == 403
        assert request(server, "GET", "/", headers={"Host": "evil.example:80"})[0] == 421
        assert request(server, "GET", "/other")[0] == 404
        status, _, body = request(server, "POST", "/api/command", {"op": "click_block", "id": "B158"}, headers=token)
        assert status == 200 and json.loads(body)["blocks"]["B158"] == "release"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/api/command", body=b"[1, 2", headers=token)
        assert conn.getresponse().status == 400
        conn.close()


@pytest.mark.slow
def test_cli_edit_serves_until_stopped(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "zgc_space", "edit", str(datasets.path("zgc_blocks.gpkg")), "--candidates",
         str(datasets.path("candidates.gpkg")), "--port", "0", "--no-browser", "--out-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        assert line.startswith("zgc-space edit: http://127.0.0.1:") and str(tmp_path) in line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def test_cli_edit_reports_a_busy_port(tmp_path, capsys):
    with EditorServer(EditSession(datasets.load_blocks()), port=0) as server:
        code = main(["edit", str(datasets.path("zgc_blocks.gpkg")), "--port", str(server.port), "--no-browser"])
    assert code == 2
    assert f"cannot serve on 127.0.0.1 port {server.port}" in capsys.readouterr().err


def test_latencies_are_recorded(session):
    for b in ("B001", "B002", "B003"):
        session.click_block(b)
    assert len(session.latencies_ms) == 4 and np.all(np.array(session.latencies_ms) > 0)


def test_relative_protected_layer_is_found_from_the_opened_file(blocks, candidates, tmp_path):
    red_line = gpd.GeoDataFrame({"name": ["红线"]}, geometry=[candidates.geometry.iloc[0].buffer(10)],
                                crs=candidates.crs)
    red_line.to_file(tmp_path / "red_line.gpkg")
    (tmp_path / "p.yaml").write_text("id: P7\ntitle: t\nconstraints:\n  protected: red_line.gpkg\n", encoding="utf-8")
    s = EditSession(blocks, candidates=candidates, proposal=tmp_path / "p.yaml")
    s.click_block("B158")
    s.click_candidate(str(candidates["candidate_id"].iloc[0]))
    assert s.panel["status"] == "violations" and "protected" in [v["rule"] for v in s.panel["violations"]]


def test_undo_redo_and_reasons_reuse_the_panel(session):
    session.click_block("B158")
    n = len(session.latencies_ms)
    session.set_reason("release", 0, "why")
    session.undo()
    session.redo()
    assert len(session.latencies_ms) == n and session.proposal.release[0].reason == "why"
