"""The zgc-space command line: validate, info, demo (topic commands are tested with their modules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shapely import box

from zgc_space.cli import main

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data" / "zgc_blocks.gpkg"


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_validate_sample_exits_zero(capsys):
    code, out = run_json(capsys, "validate", str(SAMPLE))
    assert code == 0
    assert out["valid"] is True and out["problems"] == [] and out["blocks"] == 164


def test_info_sample_reports_the_report_figures(capsys):
    code, out = run_json(capsys, "info", str(SAMPLE))
    assert code == 0
    assert out["blocks"] == 164
    assert out["subparks"] == 17
    assert out["crs"] == "EPSG:4548"
    totals = out["totals"]
    assert totals["site_area_km2"] == pytest.approx(488, rel=0.005)
    assert totals["far"] == pytest.approx(1.18, abs=0.005)
    assert totals["remaining_km2"] == pytest.approx(27, abs=0.2)
    assert totals["nonconstruction_km2"] == pytest.approx(24, abs=0.2)
    assert len(out["per_group"]) == 17


def test_validate_reports_every_problem_and_exits_one(tmp_path, capsys):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"block_id": ["B1", "B1", "B3"], "subpark": ["海淀园"] * 3, "gfa_m2": [1.0, -2.0, 3.0]},
        geometry=[box(440000, 4430000, 440100, 4430100), box(440050, 4430000, 440150, 4430100),
                  box(440300, 4430000, 440400, 4430100)],
        crs="EPSG:4548",
    )
    path = tmp_path / "bad.gpkg"
    frame.to_file(path, layer="blocks")
    code, out = run_json(capsys, "validate", str(path))
    assert code == 1
    assert {p["rule"] for p in out["problems"]} == {"duplicate-id", "overlap", "negative"}
    assert main(["validate", str(path)]) == 1
    text = capsys.readouterr().out
    assert "INVALID" in text and "B1/B1" in text


def test_missing_file_is_a_clear_error(capsys, tmp_path):
    code = main(["info", str(tmp_path / "nope.gpkg")])
    assert code == 1
    assert "nope.gpkg" in capsys.readouterr().err


def test_demo_runs_and_prints_the_pack_path(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--no-png"]) == 0
    out = capsys.readouterr().out
    assert "164 blocks in 17 sub-parks" in out
    assert "rank 74 of 131" in out
    index = Path(out.strip().splitlines()[-1])
    assert index == (tmp_path / "hearing_pack" / "index.html").resolve() and index.is_file()
    assert "P02-renew-fengtai-chaoyang" in out and "Optimisation (score, optimal" in out
    # the demo starts from the source layers: the land account is written and matches the table
    assert "Land accounting from the source layers" in out and "built_unsupplied 35" in out
    assert (tmp_path / "accounting" / "accounted.gpkg").is_file()
    assert (tmp_path / "accounting" / "accounted_conflicts.csv").is_file()
    # by default the pack has the Word report and the 17 diagnoses, linked from its index
    assert "Word report" in out and (index.parent / "report.docx").is_file()
    assert len(list((index.parent / "diagnoses").glob("*.docx"))) == 17


def test_console_script_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "zgc_space", "info", str(SAMPLE), "--json"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(done.stdout)["blocks"] == 164


def test_error_boundary_exit_codes_and_debug(tmp_path, capsys, monkeypatch):
    """1 bad input, 2 usage, 3 environment; a traceback only with --debug; bugs are "internal errors"."""
    from zgc_space import maps

    bad = tmp_path / "p.yaml"
    bad.write_text("id: X\ntitle: t\ndate: 2024-13-45\n", encoding="utf-8")
    assert main(["apply", str(bad), "--baseline", str(SAMPLE), "--out", str(tmp_path / "o.gpkg")]) == 1
    err = capsys.readouterr().err
    assert "p.yaml has a value that cannot be read at line 3" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["map", str(SAMPLE), "--column", "far", "--out", str(tmp_path / "m.html"), "--dpi", "0"])
    assert exc.value.code == 2 and "argument --dpi" in capsys.readouterr().err

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "ro" / "m.html"))

    monkeypatch.setattr(maps, "save_html", denied)
    assert main(["map", str(SAMPLE), "--column", "far", "--out", str(tmp_path / "ro" / "m.html")]) == 3
    err = capsys.readouterr().err
    assert "ro/m.html: permission denied" in err and "Traceback" not in err

    def bug(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(maps, "save_html", bug)
    assert main(["map", str(SAMPLE), "--column", "far", "--out", str(tmp_path / "m.html")]) == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: boom)" in err and "--debug" in err and "Traceback" not in err
    assert main(["map", str(SAMPLE), "--column", "far", "--out", str(tmp_path / "m.html"), "--debug"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_unreachable_scheduler_is_exit_three_within_the_timeout(tmp_path, capsys):
    import time

    start = time.monotonic()
    code = main(["compare", str(ROOT / "sample_data" / "proposals"), "--baseline", str(SAMPLE), "--out",
                 str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:1", "--scheduler-timeout", "1"])
    assert code == 3 and time.monotonic() - start < 20
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:1 within 1 s" in err and "--scheduler" in err
