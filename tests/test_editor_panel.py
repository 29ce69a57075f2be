"""The editor's panel equals ``scenarios.compare`` after any click sequence; its words are Chinese; saving."""

from __future__ import annotations

import math
import re
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zgc_space import datasets, scenarios
from zgc_space.editor import EditSession
from zgc_space.scenarios.proposal import read_proposal

ROOT = Path(__file__).parents[1]
P01 = ROOT / "zgc_space/datasets/data/proposals/p01_release_outer_admit_core.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def blocks() -> gpd.GeoDataFrame:
    return datasets.load_blocks()


@pytest.fixture(scope="module")
def candidates() -> gpd.GeoDataFrame:
    return datasets.load_candidates()


@pytest.fixture
def session(blocks, candidates) -> EditSession:
    return EditSession(blocks, candidates=candidates)


def close(a: float | None, b: object) -> bool:
    """Equal within 1e-9 (relative to the size of the numbers), or both missing."""
    missing_b = b is None or b is __import__("pandas").NA or (isinstance(b, float) and math.isnan(b))
    if a is None or missing_b:
        return a is None and missing_b
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


def assert_panel_is_compare(s: EditSession, blocks, candidates) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = scenarios.compare(blocks, [s.proposal], candidates=candidates, errors="report")
    row = table.iloc[0]
    panel = s.panel
    assert panel["status"] == row["status"]
    assert close(panel["score"], row["score"]) and close(panel["rank"], row["rank"])
    for m in panel["metrics"]:
        assert close(m["value"], row[m["id"]]), m["id"]
        assert close(m["change"], row[f"{m['id']}_change"]), m["id"]
        assert close(m["baseline"], table.attrs["baseline"][m["id"]]), m["id"]
    expected = table.attrs.get("violations", {}).get(s.proposal.id, [])
    assert [(v["rule"], v["message_en"]) for v in panel["violations"]] == [(v["rule"], v["message"]) for v in expected]


# Blocks of the first sub-parks, neighbouring pairs (mergeable) and apart pairs of two sub-parks
# (refused), candidate areas, FAR rules (some below 0: refused), undo and redo.
BLOCKS = [f"B{i:03d}" for i in range(1, 31)] + ["B087", "B088", "B158"]
PAIRS = [["B087", "B088"], ["B080", "B081"], ["B001", "B164"], ["B068", "B071"]]
command = st.one_of(
    st.builds(lambda b: {"op": "click_block", "id": b}, st.sampled_from(BLOCKS)),
    st.builds(lambda c: {"op": "click_candidate", "id": c}, st.sampled_from([f"C{i:02d}" for i in range(1, 21)])),
    st.builds(lambda ids: {"op": "merge", "ids": ids}, st.sampled_from(PAIRS)),
    st.builds(lambda k, v: {"op": "set_rule", "kind": k, "value": v},
              st.sampled_from(["far_step", "far_target"]), st.sampled_from([-1.0, 0.0, 0.3, 1.0, 2.5])),
    st.builds(lambda v: {"op": "set_renewal", "index": 0, "kind": "far_target", "value": v},
              st.sampled_from([-0.5, 1.5, 3.0])),
    st.just({"op": "undo"}),
    st.just({"op": "redo"}),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(command, min_size=1, max_size=6))
def test_panel_equals_compare_after_any_click_sequence(blocks, candidates, commands):
    s = EditSession(blocks, candidates=candidates)
    for message in commands:
        state = s.handle(message)
        notice = state["notice"]
        assert CJK.search(notice["text"]), notice  # said in Chinese ...
        assert notice["en"] and "Traceback" not in notice["text"] + notice["en"]  # ... with the English beside
        assert_panel_is_compare(s, blocks, candidates)


def test_panel_words_are_chinese(session):
    session.click_block("B158")
    session.click_candidate("C01")
    panel = session.panel
    assert panel["violations"] and all(CJK.search(v["message"]) for v in panel["violations"])
    assert panel["violations"][0]["message"].startswith("面积上限：调整后总用地面积")
    assert all(CJK.search(m["zh"]) for m in panel["metrics"])


def test_every_refused_edit_says_why_in_chinese(session):
    for message in ({"op": "click_block", "id": "NOPE"}, {"op": "click_candidate", "id": "C99"},
                    {"op": "merge", "ids": ["B001"]}, {"op": "unmerge", "index": 3}, {"op": "undo"},
                    {"op": "redo"}, {"op": "set_rule", "kind": "far_step", "value": "abc"},
                    {"op": "set_meta", "fields": {"date": "x"}}, {"op": "save", "name": "x.yaml"},
                    {"op": "bogus"}, {"op": "set_reason", "kind": "nonsense", "index": 0}):
        notice = session.handle(message)["notice"]
        assert notice["level"] == "error" and CJK.search(notice["text"]), (message, notice)


# ---------------------------------------------------------------------------------------------
# saving from the panel


def test_widget_refuses_to_replace_a_file_and_offers_a_free_name(blocks, candidates, tmp_path):
    from zgc_space.editor import ProposalEditor

    editor = ProposalEditor(blocks, candidates=candidates, out_dir=tmp_path)
    assert editor.view["can_save"] and editor.view["save_name"] == "P-edit.yaml"
    editor.click_block("B158")
    editor._on_message(editor, {"op": "save", "name": "p06"}, [])
    assert editor.view["notice"]["text"] == f"已保存：{tmp_path / 'p06.yaml'}"
    first = (tmp_path / "p06.yaml").read_bytes()
    editor.click_candidate("C01")
    editor._on_message(editor, {"op": "save", "name": "p06.yaml", "overwrite": True}, [])  # the widget never replaces
    notice = editor.view["notice"]
    assert notice["level"] == "error"
    assert notice["text"] == "p06.yaml 已存在，未保存（不会覆盖已有文件）；可另存为 p06-2.yaml"
    assert editor.view["save_name"] == "p06-2.yaml" and editor.view["confirm"] is None
    assert (tmp_path / "p06.yaml").read_bytes() == first
    assert editor.save_as(editor.view["save_name"]).level == "info"
    assert read_proposal(tmp_path / "p06-2.yaml").admit[0].candidate == "C01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p06-2.yaml", "p06.yaml"]


def test_a_file_opened_and_saved_from_the_panel_keeps_its_comments_and_metadata(blocks, candidates, tmp_path):
    path = tmp_path / "p01.yaml"
    shutil.copy(P01, path)
    original = path.read_text(encoding="utf-8")
    s = EditSession(blocks, candidates=candidates, proposal=path, out_dir=tmp_path, on_existing="refuse")
    s.click_block("B001")
    assert s.save_as(s.state()["save_name"]).level == "error" and path.read_text(encoding="utf-8") == original
    assert s.save_as(s.state()["save_name"]).level == "info"  # p01-2.yaml
    text = (tmp_path / "p01-2.yaml").read_text(encoding="utf-8")
    head = original.split("release:")[0]  # header comments, id, title, author, date, description
    assert text.startswith(head) and original[original.index("admit:"):] in text
    saved, before = read_proposal(tmp_path / "p01-2.yaml"), read_proposal(P01)
    assert (saved.author, saved.date, saved.description, saved.constraints) == (
        before.author, before.date, before.description, before.constraints)
    assert [r.block for r in saved.release] == [r.block for r in before.release] + ["B001"]
    assert [r.reason for r in saved.release][:4] == [r.reason for r in before.release]


def test_the_page_asks_before_replacing(blocks, tmp_path):
    s = EditSession(blocks, out_dir=tmp_path)
    s.save_as("p06")
    state = s.handle({"op": "save", "name": "p06.yaml"})
    assert state["confirm"]["text"].startswith("文件 ") and "是否覆盖" in state["confirm"]["text"]
    assert state["notice"]["text"] == "p06.yaml 已存在，尚未保存（确认后覆盖）"
    assert s.handle(state["confirm"]["retry"])["notice"]["text"].startswith("已保存：")


# ---------------------------------------------------------------------------------------------
# numbers at display precision (the label catalogue's rules)


@pytest.mark.parametrize(("value", "options", "text"), [
    (1_234_567.891, {}, "1,234,568"),  # from 1,000: no decimals, thousands separators
    (61.2049, {}, "61.20"),  # from 1: two decimals
    (0.08853, {}, "0.0885"),  # below 1: three significant digits
    (-2.220446e-16, {"signed": True}, "0"),  # float noise of a difference: no change, no exponent
    (-0.0, {}, "0"),  # no -0.00
    (0.00004, {"signed": True}, "0"),  # rounds to nothing at four decimals: no +0
    (0.5, {"signed": True}, "+0.5"),  # significant digits only (trailing zeros dropped below 1)
    (-3.0, {"signed": True, "whole": True}, "-3"),  # a rank change
    (-0.0, {"signed": True, "whole": True}, "0"),  # no -0 for a rank that did not move
    (1234.0, {"whole": True}, "1,234"),
    (None, {}, "无数据 no data"),
    (float("inf"), {}, "无数据 no data"),
])
def test_panel_numbers_follow_the_label_catalogue(value, options, text):
    from zgc_space.editor._labels import number_text

    assert number_text(value, **options) == text


def test_panel_shows_a_change_of_float_noise_as_no_change(session):
    # A renewal with a FAR step of 1e-12 changes the zone's FAR by about 1e-14: the panel says 0,
    # with no colour of a change, and never -0.00 or an exponent anywhere.
    session.set_rule(far_step=1e-12)
    session.click_block("B158")
    session.click_block("B158")  # release → renew (FAR + 1e-12)
    assert session.status("B158") == "renew"
    far = next(m for m in session.panel["metrics"] if m["id"] == "far")
    assert far["change"] != 0 and abs(far["change"]) < 1e-9
    assert (far["change_text"], far["trend"]) == ("0", "")
    margin = session.panel["margin"]
    texts = [margin["text"], margin["text_en"]]
    texts += [t for m in session.panel["metrics"] for t in (m["text"], m["change_text"])]
    noisy = [t for t in texts if "e-" in t or "e+" in t or re.search(r"(^|\s)[+-]0(\.0+)?($|\s)", t)]
    assert noisy == []
    assert margin["text"].startswith("再得 ") and "分升一位 · 再失 " in margin["text"]
