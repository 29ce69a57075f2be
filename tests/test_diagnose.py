"""Tests of zgc_space.report.diagnose / write_diagnoses (一分园一诊断书) and ``zgc-space diagnose``."""

from __future__ import annotations

import json
import re
import warnings
from types import SimpleNamespace

import docx
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from zgc_space import datasets, ranking, report
from zgc_space.cli import main
from zgc_space.errors import ColumnError, OverwriteInputError, ParameterError, PresetWarning
from zgc_space.report._diagnose import diagnose_many
from zgc_space.report._facts import Facts, rank_margins

# a number as sentences print it, not part of an identifier such as B045
NUMBER = re.compile(r"(?<![A-Za-z\d.,])\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def blocks():
    return datasets.load_blocks()


@pytest.fixture(scope="module")
def history():
    from zgc_space import demo

    return demo.sample_dynamic()[0]


def _numbers_are_facts(diagnosis):
    """Every number of every sentence is the printed text of one of the facts it names."""
    facts = diagnosis.facts.set_index("key")
    bad = []
    for para in diagnosis.sentences():
        allowed = {str(facts.loc[k, "text"]) for k in para.facts}
        bad += [(para.text, n) for n in NUMBER.findall(para.text) if n not in allowed]
    return bad


def test_every_number_of_every_sentence_is_a_fact(blocks, history):
    for name in ("海淀园", "门头沟园", "亦庄园"):
        d = report.diagnose(blocks, subpark=name, dynamic=history)
        assert len(d.sentences()) > 15
        assert _numbers_are_facts(d) == []


def test_a_planted_number_is_caught(blocks):
    d = report.diagnose(blocks, subpark="延庆园")
    para = d.sentences()[0]
    d.document.blocks[d.document.blocks.index(para)] = type(para)(para.text + " 9.99", para.facts)
    assert _numbers_are_facts(d) == [(para.text + " 9.99", "9.99")]


def _tiny():
    """Two sub-parks of one 100 m × 100 m block each (1 ha), figures chosen by hand."""
    common = {"built_residential_m2": 3_000.0, "built_industrial_m2": 2_000.0, "nonconstruction_m2": 0.0,
              "idle_m2": 0.0, "hightech_m2": 0.0, "far_cap": 3.0, "population": 50.0, "employees": 100.0,
              "revenue_10k_cny": 1_000.0, "policy_zone": False, "name": "x", "cluster": "c", "district": "d"}
    rows = [
        # A: built 8,000 m², 1,000 ready + 1,000 unready; FAR 16,000 / 8,000 = 2.00; tax 800 / 0.8 ha = 1,000 万元/公顷
        {"block_id": "A1", "subpark": "甲园", "built_m2": 8_000.0, "ready_m2": 1_000.0, "unready_m2": 1_000.0,
         "supplied_m2": 9_000.0, "gfa_m2": 16_000.0, "footprint_m2": 2_400.0, "tax_10k_cny": 800.0},
        # B: built 10,000 m², nothing left; FAR 0.50
        {"block_id": "B1", "subpark": "乙园", "built_m2": 10_000.0, "ready_m2": 0.0, "unready_m2": 0.0,
         "supplied_m2": 10_000.0, "gfa_m2": 5_000.0, "footprint_m2": 2_000.0, "tax_10k_cny": 100.0},
    ]
    frame = pd.DataFrame([{**common, **r} for r in rows])
    geoms = [box(0, 0, 100, 100), box(500, 0, 600, 100)]
    g = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4548")
    return g.assign(site_area_m2=g.geometry.area)


def test_hand_computed_figures_of_a_tiny_zone():
    peers = pd.DataFrame({"zone_id": ["P1", "P2", "P3"], "far": [0.5, 1.0, 1.5], "score": [90.0, 60.0, 10.0]})
    d = report.diagnose(_tiny(), subpark="甲园", peers=peers, target_rank=None)
    facts = d.facts.set_index("key")["text"]
    assert facts["far"] == "2.00"  # 16,000 m² / 8,000 m²
    assert facts["zone_far"] == "1.17"  # 21,000 / 18,000
    assert facts["peer_median_far"] == "1.00"
    assert facts["peer_share_far"] == "100"  # above all three peers
    assert facts["tax_10k_cny_per_ha"] == "1,000"  # 800 万元 / 0.8 ha
    assert facts["remaining"] == "0.00"  # 2,000 m² = 0.002 km²
    assert facts["site_area"] == "0.01"
    assert facts["subparks"] == "2"
    text = " ".join(p.text for p in d.sentences())
    assert "综合容积率 2.00，全区 1.17，同类开发区中位数 1.00，优于 100% 的同类开发区" in text
    # capacity: 3.0 × (8,000 + 2,000) − 16,000 = 14,000 m² = 1.4 万 m²
    assert "尚可新增建筑面积 1.4 万 m²" in text


def test_rank_margins_from_the_peer_scores():
    peers = pd.DataFrame({"zone_id": ["A", "B", "C"], "score": [70.0, 50.0, 40.0]})
    assert rank_margins(SimpleNamespace(score=60.0), peers=peers, preset="cic_default") == (10.0, 10.0)
    assert rank_margins(SimpleNamespace(score=80.0), peers=peers, preset="cic_default") == (None, 10.0)
    # a ranking that gives the margins itself is used as it is
    given = SimpleNamespace(score=60.0, points_to_next_up=1.5, points_to_next_down=None)
    assert rank_margins(given, peers=peers, preset="cic_default") == (1.5, None)


def test_facts_print_units_once():
    f = Facts("zh")
    assert f.add("a", "甲", 1234.5, unit="万元/公顷", decimals=0) == "1,234 万元/公顷"
    assert f.add("b", "乙", 12.345, unit="%", decimals=1) == "12.3%"
    assert f.texts(("a", "b")) == ["1,234 万元/公顷", "12.3%"]
    assert f.table()["text"].tolist() == ["1,234", "12.3"]


def test_national_rank_and_gap_agree_with_ranking(blocks):
    from zgc_space import indicators

    sub = indicators.compute(blocks, by="subpark")
    cols = [c for c in indicators.INDICATORS if c in sub.columns]
    row = sub.loc[["门头沟园"], cols]
    with pytest.warns(PresetWarning):  # its land structure is not 产城融合型: the diagnosis says so
        ranked = ranking.rank(row)
    with pytest.warns(PresetWarning):
        gap = ranking.gap_to_rank(row, 30)
    d = report.diagnose(blocks, subpark="门头沟园", target_rank=30)
    facts = d.facts.set_index("key")
    assert int(facts.loc["national_rank", "value"]) == ranked.rank
    assert any(p.style == "note" and "排名仅作参考" in p.text for p in d.document.blocks if hasattr(p, "style"))
    assert float(facts.loc["target_score", "value"]) == pytest.approx(gap.target_score)
    assert float(facts.loc["plan_score", "value"]) == pytest.approx(gap.plan_score)
    assert any("进入前 30 名需要分值达到" in p.text for p in d.sentences())


@pytest.mark.parametrize("subpark", ["丰台园", "海淀园", "昌平园"])
def test_rank_interval_of_a_subpark_equals_ranking_rank_interval(blocks, subpark):
    """The ±1 % interval is ranking.rank_interval on the sub-park's blocks, said in a traceable sentence."""
    own = blocks[blocks["subpark"] == subpark]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        best, worst, _, _ = ranking.rank_interval(own)
        d = report.diagnose(blocks, subpark=subpark, target_rank=None)
    facts = d.facts.set_index("key")
    rank = int(facts.loc["national_rank", "value"])
    if (best, worst) == (rank, rank):
        assert "national_rank_best" not in facts.index
        return
    assert (int(facts.loc["national_rank_best", "value"]), int(facts.loc["national_rank_worst", "value"])) == (
        best, worst)
    said = [p for p in d.sentences() if "national_rank_best" in p.facts]
    assert len(said) == 1 and f"±1% 误差时，排名在第 {best}—{worst} 位之间" in said[0].text


def test_at_least_one_sample_subpark_has_a_rank_interval(blocks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        docs = diagnose_many(blocks, sorted(blocks["subpark"].unique()), target_rank=None)
        widths = [int(d.facts.set_index("key").loc["national_rank_worst", "value"])
                  - int(d.facts.set_index("key").loc["national_rank_best", "value"])
                  for d in docs if "national_rank_best" in set(d.facts["key"])]
    assert len(widths) >= 5 and max(widths) >= 2


def test_a_diagnosis_shows_its_subpark_on_a_map(blocks, tmp_path):
    """The map marks the least intensive blocks the table lists; Word and HTML both carry it."""
    d = report.diagnose(blocks, subpark="海淀园", worst=3, target_rank=None)
    layer = d.map_layer
    assert len(layer) == len(blocks) and layer.crs == blocks.crs
    assert set(layer.loc[layer["category"] == "worst", "block_id"]) == set(d.worst_blocks) and len(d.worst_blocks) == 3
    assert set(layer.loc[layer["category"] != "other", "block_id"]) == set(
        blocks.loc[blocks["subpark"] == "海淀园", "block_id"])
    docx_path, html_path = d.write(tmp_path)
    assert len(docx.Document(str(docx_path)).inline_shapes) == 1
    page = html_path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1 and "图 1 海淀园区块分布（红色为集约度最低的 3 个区块）" in page
    plain_docx, plain_html = d.write(tmp_path / "plain", map=False)
    assert len(docx.Document(str(plain_docx)).inline_shapes) == 0 and "data:image/png" not in plain_html.read_text(
        encoding="utf-8")


def test_dynamic_history_names_the_exits(blocks):
    own = blocks.loc[blocks["subpark"] == "延庆园", "block_id"].tolist()
    rows = [{"block_id": b, "year": y, "status": "normal"} for b in own for y in (2022, 2023)]
    rows[1]["status"] = "exit"  # the first block exits in 2023
    d = report.diagnose(blocks, subpark="延庆园", dynamic=pd.DataFrame(rows))
    text = [p.text for p in d.sentences() if p.text.startswith("2023")]
    assert text == [f"2023 年：{len(own)} 个区块为政策区成员，1 个退出（{own[0]}）。"]
    with pytest.raises(ParameterError, match="dynamic must be a table"):
        report.diagnose(blocks, subpark="延庆园", dynamic=42)


def test_zh_pages_have_no_english_words(blocks, history):
    d = report.diagnose(blocks, subpark="海淀园", dynamic=history)
    text = re.sub(r"<[^>]+>|&[a-z]+;", " ", d.to_html().split("<body>", 1)[1])
    words = set(re.findall(r"[A-Za-z]{2,}", text))
    assert words <= {"km", "TD"}, words
    english = report.diagnose(blocks, subpark="海淀园", lang="en")
    assert english.sentences()[0].text.startswith("海淀园 scores")


def test_bad_arguments(blocks):
    with pytest.raises(ColumnError, match="not in the block table; it has 东城园"):
        report.diagnose(blocks, subpark="不存在园")
    with pytest.raises(ColumnError, match="needs a `subpark` column"):
        report.diagnose(blocks.drop(columns="subpark"), subpark="海淀园")
    with pytest.raises(ParameterError, match="worst must be at least 1"):
        report.diagnose(blocks, subpark="海淀园", worst=0)


def test_write_diagnoses_is_reproducible_and_opens(blocks, tmp_path):
    a = report.write_diagnoses(blocks, out_dir=tmp_path / "a", subparks=["延庆园", "平谷园"])
    b = report.write_diagnoses(blocks, out_dir=tmp_path / "b", subparks=["延庆园", "平谷园"])
    assert [p.name for p in a] == ["延庆园.docx", "平谷园.docx", "延庆园.html", "平谷园.html"]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
    document = docx.Document(str(a[0]))
    assert document.paragraphs[6].text == "延庆园 诊断书"
    assert "一、总体判断" in [p.text for p in document.paragraphs]


def test_a_subpark_name_never_picks_the_folder_of_its_file(blocks, tmp_path):
    """Names from the data ("../x", "a/b", NUL) give safe, unique file names inside the folder."""
    frame = blocks[blocks["subpark"].isin(["延庆园", "西城园", "平谷园"])].copy()
    frame["subpark"] = frame["subpark"].map({"延庆园": "../逃逸", "西城园": "a/b", "平谷园": "a\x00b"})
    out = tmp_path / "deep" / "docs"
    files = report.write_diagnoses(frame, out_dir=out, target_rank=None)
    assert sorted(p.name for p in files) == sorted(["_逃逸.docx", "a_b.docx", "a_b-2.docx", "_逃逸.html", "a_b.html",
                                                    "a_b-2.html"])
    assert all(p.parent == out for p in files)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(p.name for p in files)


def test_write_diagnoses_never_overwrites_an_input(blocks, tmp_path):
    source = tmp_path / "延庆园.docx"
    source.write_bytes(b"a user's file")
    frame = blocks.copy()
    frame.attrs["zgc_sources"] = [str(source)]
    with pytest.raises(OverwriteInputError):
        report.write_diagnoses(frame, out_dir=tmp_path, subparks="延庆园")
    assert source.read_bytes() == b"a user's file"
    with pytest.raises(ColumnError, match="不存在园"):
        report.write_diagnoses(blocks, out_dir=tmp_path / "x", subparks=["不存在园"])


def test_cli_diagnose(tmp_path, capsys):
    path = str(datasets.path("zgc_blocks.gpkg"))
    panel, rules = str(datasets.path("zgc_panel_2021_2023.gpkg")), str(datasets.path("dynamic_rules.yaml"))
    assert main(["diagnose", path, "--subpark", "延庆园", "--out", str(tmp_path), "--panel", panel, "--rules", rules,
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["subparks"] == ["延庆园"]
    assert (tmp_path / "延庆园.docx").is_file() and (tmp_path / "延庆园.html").is_file()
    html = (tmp_path / "延庆园.html").read_text(encoding="utf-8")
    assert "2025 年（模拟）" in html or "2021—2025 年" in html
    assert main(["diagnose", path, "--subpark", "不存在园", "--out", str(tmp_path)]) == 1
    assert "不存在园" in capsys.readouterr().err
    assert main(["diagnose", path, "--subpark", "延庆园", "--out", str(tmp_path), "--panel", panel]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["diagnose", path, "--out", str(tmp_path)])
    assert exc.value.code == 2


def test_cli_report_docx_links_a_diagnosis_per_subpark(blocks, tmp_path, capsys):
    small = tmp_path / "two.gpkg"
    blocks[blocks["subpark"].isin(["延庆园", "西城园"])].to_file(small, driver="GPKG")  # a 产城融合型 pair
    out = tmp_path / "pack"
    assert main(["report", str(small), "--out", str(out), "--no-png", "--target-rank", "0", "--docx",
                 "--no-docx-pdf", "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert {"report.docx", "report.html", "diagnoses/延庆园.docx", "diagnoses/西城园.html"} <= set(files)
    assert not any(f.endswith(".pdf") for f in files)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="diagnoses/延庆园.docx"' in index and "一分园一诊断书（2 个分园）" in index
    # without --docx the pack is as before
    assert main(["report", str(small), "--out", str(tmp_path / "plain"), "--no-png", "--target-rank", "0",
                 "--no-docx"]) == 0
    assert not (tmp_path / "plain" / "report.docx").exists()
