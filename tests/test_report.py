"""Tests of zgc_space.report: the hearing pack's contents, manifest, reproducibility and atomicity."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest

import zgc_space
from zgc_space import datasets, demo, dynamic, indicators, io, optimize, ranking, report, scenarios
from zgc_space.cli import main
from zgc_space.errors import DataFileError, MapError, OverwriteInputError
from zgc_space.maps import Footer
from zgc_space.report import _sections as _report_sections
from zgc_space.scenarios.proposal import parse_proposal, read_proposal

XSS = "<img src=x onerror=alert(1)>"
P01 = datasets.path("zgc_blocks.gpkg").parent / "proposals" / "p01_release_outer_admit_core.yaml"
P03 = P01.with_name("p03_consolidate_scattered.yaml")
OPT = """id: OPT-test
title: 优化 test
release:
  - block: B158
renew:
  - blocks: [B076, B069]
    far_step: 0.5
"""


def fake_optimisation(blocks):
    """A search result (as zgc_space.optimize returns) for a fixed proposal, evaluated for real."""
    prop = parse_proposal(OPT)
    base = scenarios.evaluate(blocks)
    after = scenarios.evaluate(scenarios.apply(blocks, prop).blocks)
    evaluation = pd.concat([base.assign(case="baseline"), after.assign(case="optimised")]).set_index("case")
    return SimpleNamespace(proposal=prop, objective="far", sense="max", value=float(after["far"].iloc[0]),
                           baseline_value=float(base["far"].iloc[0]), status="optimal", gap=0.0, method="test",
                           evaluation=evaluation, selection={"release": ["B158"], "admit": [], "renew": ["B076",
                                                                                                         "B069"]})


def quick_pack(blocks, **options):
    """A pack without the Word report and diagnoses (test_docx and test_diagnose test those)."""
    return report.hearing_pack(blocks, documents=False, **options)


def fake_dynamic(blocks):
    ids = blocks["block_id"].tolist()
    rows = []
    for year in (2022, 2023):
        for k, bid in enumerate(ids):
            status = "exit" if (year == 2023 and k < 3) else ("warning" if k < 6 else "normal")
            rows.append({"block_id": bid, "year": year, "status": status, "score": 50.0 + k % 40,
                         "reason": XSS if k == 0 else "ok"})
    zone = pd.DataFrame({"members": [164, 161], "score": [61.2, 61.9]}, index=pd.Index([2022, 2023], name="year"))
    return SimpleNamespace(status=pd.DataFrame(rows), zone=zone, rules=SimpleNamespace(unit="block_id"))


def build(out: Path, **overrides) -> Path:
    blocks = datasets.load_blocks()
    args = {
        "out_dir": out, "proposals": [P01, P03], "candidates": datasets.path("candidates.gpkg"),
        "optimisation": fake_optimisation(blocks), "dynamic": fake_dynamic(blocks),
        "footer": Footer(review_number="京S(2024)001号", data_source=XSS), "inputs": [datasets.path("zgc_blocks.gpkg")],
        "date": "2024-07-24", "png": True, "dpi": 30, "title": "听证 " + XSS, "documents": False,
    }
    args.update(overrides)
    return report.hearing_pack(blocks, **args)


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("pack") / "hearing").parent


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "action", "poster", "srcset")]


def external_references(page: str) -> list[str]:
    """Every reference in a page that could make a request to another host."""
    parser = _Links()
    parser.feed(page)
    found = [u for u in parser.links if re.match(r"^[a-z]+:|^//", u) and not u.startswith(("data:", "#"))]
    found += [u for u in re.findall(r"url\(\s*['\"]?([^'\")]*)", page) if not u.startswith(("data:", "#"))]
    allowed = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}  # SVG namespace, attribution text
    found += [u for u in re.findall(r"https?://[^\s\"'<>)\\]+", page) if u not in allowed]
    return found


def test_pack_contents_and_links(pack):
    names = set(files_of(pack))
    expected = {
        "index.html", "manifest.json", "maps/far.html", "maps/far.png", "maps/tax_per_ha.html",
        "maps/tax_per_ha.png", "maps/subpark_score.html", "maps/subpark_score.png",
        "maps/proposals/01_P01-release-outer-admit-core.html",
        "maps/proposals/01_P01-release-outer-admit-core_far_compare.html",
        "maps/proposals/01_P01-release-outer-admit-core_far.png", "maps/proposals/01_P01-release-outer-admit-core.png",
        "maps/optimisation.png", "maps/dynamic.png",
        "maps/proposals/02_P03-consolidate-scattered.html", "maps/optimisation.html", "maps/optimisation_far.png",
        "maps/dynamic.html", "tables/optimisation_proposal.yaml",
    } | {f"tables/{stem}.{ext}" for ext in ("csv", "xlsx") for stem in (
        "zone_indicators", "rank", "subpark_indicators", "gap_to_rank_single", "gap_to_rank_plan",
        "proposals_comparison", "proposals_changes", "optimisation_summary", "optimisation_evaluation",
        "optimisation_selection", "dynamic_statuses", "dynamic_counts", "dynamic_zone")}
    assert expected <= names, sorted(expected - names)
    parser = _Links()
    parser.feed((pack / "index.html").read_text(encoding="utf-8"))
    local = {link for link in parser.links if not link.startswith("#")}
    assert all((pack / link).is_file() for link in local)
    assert names - {"index.html", "manifest.json"} <= local  # the index links to everything
    assert "script" not in parser.tags
    images = re.findall(r'<img src="([^"]+)"', (pack / "index.html").read_text(encoding="utf-8"))
    assert images and all(src.endswith(".png") and (pack / src).is_file() for src in images)  # the pack's PNGs
    assert not list(pack.parent.glob(".*"))  # no temporary folder left beside the pack
    yaml = (pack / "tables" / "optimisation_proposal.yaml").read_text(encoding="utf-8")
    assert parse_proposal(yaml).id == "OPT-test"


def test_index_page_sections_and_escaping(pack):
    page = (pack / "index.html").read_text(encoding="utf-8")
    for heading in ("指标与排名", "方案比较", "优化结果", "动态调整模拟"):  # Chinese by default
        assert f">{heading}</h2>" in page
    assert "在 131 个同类开发区中排名第 74" in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 2  # title and footer
    assert "京S(2024)001号" in page and "2024-07-24" in page


def test_manifest_hashes_versions_and_parameters(pack):
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    contents = files_of(pack)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(contents) - {"manifest.json"}
    for rel, data in contents.items():
        if rel != "manifest.json":
            assert listed[rel]["bytes"] == len(data)
            assert listed[rel]["sha256"] == io.sha256_file(pack / rel)
    inputs = {i["name"]: i["sha256"] for i in manifest["inputs"]}
    for path in (datasets.path("zgc_blocks.gpkg"), P01, P03, datasets.path("candidates.gpkg"),
                 ranking.sample_peers_path()):
        assert inputs[path.name] == io.sha256_file(path)
    assert manifest["versions"]["zgc_space"] == zgc_space.__version__
    assert manifest["versions"]["folium"] and manifest["versions"]["xstatic-leaflet"]
    assert manifest["preset"] == {"name": "cic_default", "version": "1.0.0"}
    params = manifest["parameters"]
    assert params["target_rank"] == 30 and params["rank"] == 74 and params["dpi"] == 30
    assert params["proposals"] == ["P01-release-outer-admit-core", "P03-consolidate-scattered"]
    assert params["optimisation"]["objective"] == "far" and params["dynamic_years"] == [2022, 2023]
    # a result without search settings: what its proposal says
    assert params["optimisation"]["constraints"]["area_cap_m2"] is None
    assert params["optimisation"]["renewal"] == [{"far_step": 0.5, "far_target": None,
                                                  "elasticity": {"employees": 0.0, "revenue": 0.0, "tax": 0.0}}]
    assert manifest["date"] == "2024-07-24" and manifest["footer"]["数据来源"] == XSS
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["blocks_sha256"])
    assert manifest["zgc_space_pack"] == 1


def test_two_runs_are_byte_identical_and_a_pack_is_replaced_whole(pack, tmp_path):
    again = build(tmp_path / "again").parent
    assert files_of(again) == files_of(pack)
    (again / "stale.txt").write_text("a user's file")  # not the pack's: never deleted (issue 15)
    with pytest.raises(DataFileError, match=r"did not write \(stale.txt\)"):
        build(again, optimisation=None, dynamic=None, png=False)
    assert (again / "stale.txt").read_text() == "a user's file"
    (again / "stale.txt").unlink()
    build(again, optimisation=None, dynamic=None, png=False)
    replaced = files_of(again)
    assert "maps/dynamic.html" not in replaced and "maps/far.png" not in replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_no_date_no_clock(tmp_path):
    index = quick_pack(datasets.load_blocks(), out_dir=tmp_path / "p", png=False, target_rank=None)
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    assert "date" not in manifest and manifest["parameters"]["target_rank"] is None
    assert "gap_to_rank" not in " ".join(f["path"] for f in manifest["files"])
    page = index.read_text(encoding="utf-8")
    assert "方案比较" not in page and "优化结果" not in page and "动态调整" not in page
    assert not re.search(r"20\d\d-\d\d-\d\d", page)


def test_failed_run_leaves_the_old_pack(pack, tmp_path, monkeypatch):
    out = build(tmp_path / "pack", png=False, proposals=None, optimisation=None).parent
    before = files_of(out)

    def broken(ctx, value):
        (ctx.root / "maps" / "half-written.html").write_text("<html>")
        raise RuntimeError("disk full (injected)")

    monkeypatch.setattr(_report_sections, "dynamic", broken)
    with pytest.raises(RuntimeError, match="injected"):
        build(out, png=False, proposals=None, optimisation=None, date="2025-01-01")
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_failed_swap_restores_the_old_pack(tmp_path, monkeypatch):
    out = quick_pack(datasets.load_blocks(), out_dir=tmp_path / "pack", png=False, target_rank=None).parent
    before = files_of(out)
    real = report.os.replace

    def failing(src, dst):
        if ".building-" in str(src):
            raise OSError("rename failed (injected)")
        return real(src, dst)

    monkeypatch.setattr(report.os, "replace", failing)
    with pytest.raises(OSError, match="injected"):
        quick_pack(datasets.load_blocks(), out_dir=out, png=False, target_rank=None, date="2025-01-01")
    monkeypatch.undo()
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_refuses_to_replace_what_is_not_a_pack(tmp_path):
    blocks = datasets.load_blocks()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(DataFileError, match="not exactly a previous hearing pack: it holds no hearing pack"):
        quick_pack(blocks, out_dir=mine, png=False)
    assert (mine / "notes.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataFileError, match="is a file"):
        quick_pack(blocks, out_dir=tmp_path / "file", png=False)
    inside = tmp_path / "out" / "blocks.gpkg"
    inside.parent.mkdir()
    inside.write_bytes(datasets.path("zgc_blocks.gpkg").read_bytes())
    (tmp_path / "out" / report.MANIFEST).write_text('{"zgc_space_pack": 1}')
    with pytest.raises(OverwriteInputError, match="lie inside out_dir"):
        quick_pack(blocks, out_dir=tmp_path / "out", inputs=[inside], png=False)
    with pytest.raises(DataFileError, match="is not a file"):
        quick_pack(blocks, out_dir=tmp_path / "new", inputs=[tmp_path / "missing.gpkg"], png=False)
    with pytest.raises(MapError, match="Simulation"):
        quick_pack(blocks, out_dir=tmp_path / "new", dynamic=42, png=False, target_rank=None)
    with pytest.raises(MapError, match="SearchResult"):
        quick_pack(blocks, out_dir=tmp_path / "new", optimisation=42, png=False, target_rank=None)
    assert not (tmp_path / "new").exists()


def header_row(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [c.value for c in next(book.active.iter_rows(max_row=1))]
    finally:
        book.close()


def test_pack_xlsx_is_formatted_and_layers_carry_chinese_aliases(pack):
    import sqlite3

    book = openpyxl.load_workbook(pack / "tables" / "subpark_indicators.xlsx")
    assert book.sheetnames == ["分园指标", "说明"]
    ws = book["分园指标"]
    assert ws.freeze_panes == "A3" and ws.column_dimensions["A"].width >= 8
    header = [c.value for c in ws[1]]
    assert [c.value for c in ws[2]][header.index("综合地均税收 (万元/公顷)")] == "万元/公顷"
    assert ws.cell(row=3, column=header.index("综合容积率") + 1).number_format == "0.00"
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["清单"].startswith("manifest.json") and "SHA-256" in notes["数据"] and "评价方案" in notes
    with sqlite3.connect(pack / "layers" / "results.gpkg") as con:
        aliases = dict(con.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = 'blocks'"))
    assert aliases["far"] == "综合容积率" and aliases["gfa_m2"] == "总建筑面积 (m²)"
    layer = io.read_blocks(pack / "layers" / "results.gpkg", layer="blocks")
    assert len(layer) == 164 and "tax_10k_cny_per_ha" in layer.columns


def test_results_geopackage_has_a_layer_per_proposal_and_the_optimisation(pack):
    """Each proposal's adjusted blocks, with its change in Chinese and the values after it, for QGIS."""
    import sqlite3

    import pyogrio

    gpkg = pack / "layers" / "results.gpkg"
    names = [str(n) for n, _ in pyogrio.list_layers(gpkg)]
    assert names[0] == "blocks" and "optimisation" in names
    p01 = [n for n in names if n.startswith("proposal_01_P01")]
    assert len(p01) == 1 and len([n for n in names if n.startswith("proposal_")]) == 2
    layer = gpd.read_file(gpkg, layer=p01[0])
    applied = scenarios.apply(datasets.load_blocks(), read_proposal(P01), candidates=datasets.load_candidates())
    released = set(applied.changes.loc[applied.changes["change"] == "released", "block_id"])
    admitted = set(applied.changes.loc[applied.changes["change"] == "admitted", "block_id"])
    assert released and admitted
    assert set(layer.loc[layer["change"] == "调出", "block_id"]) == released
    assert set(layer.loc[layer["change"] == "调入", "block_id"]) == admitted
    assert layer.loc[layer["change"] == "调出", "far"].isna().all()  # they leave the zone
    far_after = indicators.compute(applied.blocks, by="block_id")["far"]
    kept = layer[layer["change"] != "调出"].set_index("block_id")["far"]
    assert np.allclose(kept.to_numpy(float), far_after.reindex(kept.index.astype(str)).to_numpy(float), equal_nan=True)
    with sqlite3.connect(gpkg) as con:
        aliases = dict(con.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = ?", (p01[0],)))
    assert aliases["change"] == "调整类型" and aliases["far"] == "综合容积率"
    assert set(gpd.read_file(gpkg, layer="optimisation")["change"]) >= {"调出", "更新改造"}


def test_xlsx_tables_have_chinese_headers_csv_canonical(pack):
    tables = pack / "tables"
    assert header_row(tables / "zone_indicators.xlsx")[:4] == ["指标", "指标名称", "数值", "单位"]
    comparison = header_row(tables / "proposals_comparison.xlsx")
    assert comparison[:2] == ["方案编号", "方案名称"] and "综合容积率 变化" in comparison and "排名" in comparison
    sub = header_row(tables / "subpark_indicators.xlsx")
    assert sub[:2] == ["分园", "集约度分值"] and "综合地均税收 (万元/公顷)" in sub
    assert "用地面积 (m²) 调整前" in header_row(tables / "proposals_changes.xlsx")
    assert header_row(tables / "dynamic_statuses.xlsx")[:3] == ["地块编号", "年份", "状态"]
    csv = pd.read_csv(tables / "proposals_comparison.csv", encoding="utf-8-sig")
    assert list(csv.columns[:3]) == ["proposal_id", "title", "source"]
    assert csv["source"].tolist() == [P01.name, P03.name]  # file names only: the pack does not depend on paths
    zone = pd.read_csv(tables / "zone_indicators.csv", encoding="utf-8-sig").set_index("indicator")
    assert round(float(zone.loc["far", "value"]), 2) == 1.18
    # contributions add up to score − 100 (61.20 − 100)
    assert np.isclose(zone["contribution"].sum(), 61.196826 - 100, atol=1e-4)


def test_no_external_url_in_any_html_of_the_pack(pack):
    pages = sorted(pack.rglob("*.html"))
    assert len(pages) >= 10
    for path in pages:
        assert external_references(path.read_text(encoding="utf-8")) == [], path.name


def test_cli_report_json_and_text(tmp_path, capsys):
    src = str(datasets.path("zgc_blocks.gpkg"))
    assert main(["report", src, "--out", str(tmp_path / "a"), "--no-png", "--no-docx", "--target-rank", "0", "--json",
                 "--date", "2024-07-24", "--review-number", "京S(2024)001号"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["index"] == str(tmp_path / "a" / "index.html") and "maps/far.html" in out["files"]
    assert out["preset"]["name"] == "cic_default" and out["inputs"][0]["name"] == "zgc_blocks.gpkg"
    assert main(["report", src, "--out", str(tmp_path / "b"), "--no-png", "--no-docx", "--proposals", str(P01),
                 "--candidates", str(datasets.path("candidates.gpkg")), "--title", "T"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[-1] == str(tmp_path / "b" / "index.html")
    assert (tmp_path / "b" / "maps" / "proposals" / "01_P01-release-outer-admit-core.html").is_file()
    assert main(["report", "--out", str(tmp_path / "c")]) == 2
    assert "give either a block file or --sample" in capsys.readouterr().err
    assert main(["report", src, "--sample", "--out", str(tmp_path / "c")]) == 2
    assert "(not both, not neither)" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_cli_sample_pack_has_every_section(tmp_path, capsys):
    assert main(["report", "--sample", "--out", str(tmp_path / "demo"), "--no-png", "--no-docx", "--json"]) == 0
    files = set(json.loads(capsys.readouterr().out)["files"])
    assert {"maps/optimisation.html", "maps/dynamic.html", "tables/proposals_comparison.xlsx",
            "maps/proposals/05_P05-expand-haidian-no-release.html", "tables/dynamic_zone.csv"} <= files
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text(encoding="utf-8"))
    assert {"zgc_blocks.gpkg", "candidates.gpkg", "zgc_panel_2021_2023.gpkg"} <= {i["name"] for i in manifest["inputs"]}
    # the demo simulates the shipped rules file and lists it among the inputs
    rules_file = P01.parent.parent / "dynamic_rules.yaml"
    assert {i["name"]: i["sha256"] for i in manifest["inputs"]}["dynamic_rules.yaml"] == io.sha256_file(rules_file)
    assert manifest["parameters"]["dynamic_rules"] == dynamic.load_rules(rules_file).model_dump(mode="json")
    assert manifest["parameters"]["dynamic_rules"] == dynamic.EXAMPLE_RULES.model_dump(mode="json")
    assert manifest["parameters"]["dynamic_assumptions"]["trend"] == "panel"
    opt = manifest["parameters"]["optimisation"]
    assert opt["constraints"]["max_changes"] == 8 and opt["renewal"]["far_step"] == 0.5
    demo.demo_pack(tmp_path / "again", png=False, documents=False)
    assert files_of(tmp_path / "again") == files_of(tmp_path / "demo")


def test_manifest_records_the_search_and_the_simulation_settings(tmp_path):
    blocks = datasets.load_blocks()
    cons = optimize.SearchConstraints(max_changes=2, must_keep=["B001"], renewal_budget_10k_cny=1e5)
    renewal = optimize.Renewal(far_step=0.4, elasticity={"revenue": 0.5, "tax": 0.7})
    res = optimize.search(blocks, datasets.load_candidates(), objective="far", constraints=cons, renewal=renewal)
    rules = dynamic.load_rules(P01.parent.parent / "dynamic_rules.yaml")
    sim = dynamic.simulate(datasets.load_panel(), rules, years=1, assumptions={"trend": "flat"})
    index = quick_pack(blocks, out_dir=tmp_path / "p", optimisation=res, dynamic=sim,
                                candidates=datasets.path("candidates.gpkg"), png=False, target_rank=None)
    params = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))["parameters"]
    opt = params["optimisation"]
    assert opt["constraints"] == cons.model_dump(mode="json") and opt["constraints"]["must_keep"] == ["B001"]
    assert opt["renewal"] == renewal.model_dump(mode="json") and opt["renewal"]["elasticity"]["tax"] == 0.7
    # enough to re-run both sections
    again = optimize.search(blocks, datasets.load_candidates(), objective=opt["objective"], sense=opt["sense"],
                            constraints=optimize.SearchConstraints(**opt["constraints"]),
                            renewal=optimize.Renewal(**opt["renewal"]))
    assert again.value == res.value
    assert params["dynamic_rules"] == rules.model_dump(mode="json")
    assert params["dynamic_assumptions"] == sim.assumptions.model_dump(mode="json")
    assert params["dynamic_assumptions"]["trend"] == "flat"


def test_printed_category_map(tmp_path):
    from PIL import Image

    from zgc_space.maps.static import category_map

    blocks = datasets.load_blocks().iloc[:6]
    cats = ["a", "a", "b", "b", "b", "c"]
    styles = {"a": ("甲 A", "#e6e6e6"), "b": ("乙 B", "#d7301f"), "c": ("丙 C", "#1a9850")}
    out = category_map(blocks, cats, styles, path=tmp_path / "c.png", legend_title="类别", dpi=40, quiet=("a",),
                       dashed=("b",), title=XSS, footer=Footer(date="2024-07-24"))
    again = category_map(blocks, cats, styles, path=tmp_path / "d.png", legend_title="类别", dpi=40, quiet=("a",),
                         dashed=("b",), title=XSS, footer=Footer(date="2024-07-24"))
    assert out.read_bytes() == again.read_bytes()
    with Image.open(out) as img:
        assert img.size == (467, 330)  # A4 landscape (297 × 210 mm) at 40 dpi
        colours = {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    assert (0xD7, 0x30, 0x1F) in colours and (0x1A, 0x98, 0x50) in colours
    with pytest.raises(MapError, match=r"categories \['z'\] have no style"):
        category_map(blocks, ["z"] * 6, styles, path=tmp_path / "e.png", legend_title="x")
    with pytest.raises(MapError, match="paper='A5'"):
        category_map(blocks, cats, styles, path=tmp_path / "e.png", legend_title="x", paper="A5")


def test_pack_of_a_thin_block_table_keeps_what_it_can(tmp_path):
    from zgc_space.errors import ZgcSpaceWarning

    thin = datasets.load_blocks()[["block_id", "built_m2", "gfa_m2", "site_area_m2", "geometry"]]
    with pytest.warns(ZgcSpaceWarning):  # missing columns: indicators left out, weights re-normalised
        index = quick_pack(thin, out_dir=tmp_path / "thin", png=False)
    names = {p.relative_to(index.parent).as_posix() for p in index.parent.rglob("*") if p.is_file()}
    assert "maps/far.html" in names and "maps/tax_per_ha.html" not in names
    assert "tables/subpark_indicators.csv" not in names and "tables/rank.csv" in names


def test_manifest_records_proposal_objects_preset_file_and_peer_table(tmp_path):
    from zgc_space.scenarios.proposal import read_proposal

    preset_file = tmp_path / "my_preset.yaml"
    shipped = Path(zgc_space.__file__).parent / "evaluation" / "presets" / "cic_default.yaml"
    preset_file.write_bytes(shipped.read_bytes())
    peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [90.0, 10.0]})
    index = quick_pack(datasets.load_blocks(), out_dir=tmp_path / "p", png=False, target_rank=1,
                                proposals=[read_proposal(P03)], preset=preset_file, peers=peers)
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    names = [i["name"] for i in manifest["inputs"]]
    assert P03.name in names and preset_file.name in names and "peers_cic_131.csv" not in names
    assert manifest["parameters"]["peers"] == "table given" and len(manifest["peers_sha256"]) == 64
    assert manifest["parameters"]["rank"] == 2 and manifest["parameters"]["rank_of"] == 3
