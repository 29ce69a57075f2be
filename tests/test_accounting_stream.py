"""Partitioned accounting that writes each partition's pieces out as it goes (``pieces_out=``)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from zgc_space import accounting
from zgc_space.cli import main
from zgc_space.errors import AccountingError, OverwriteInputError

SRC = Path(__file__).resolve().parent.parent / "sample_data" / "sources"
KW = {"plan": SRC / "plan_plots.gpkg", "supply": SRC / "supply.gpkg", "idle": SRC / "idle.gpkg",
      "codes": SRC / "user_codes.csv", "as_of": "2023-12-31"}


def test_pieces_written_per_partition_equal_the_pieces_held(tmp_path: Path) -> None:
    held = accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", partitions=4, **KW)
    out = tmp_path / "pieces"
    out.mkdir()
    for i in range(6):  # an earlier run with more partitions: the folder is replaced whole
        (out / f"part.{i:04d}.parquet").write_bytes(b"earlier")
    streamed = accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", partitions=4,
                                  pieces_out=out, **KW)
    assert [Path(f).name for f in streamed.pieces_files] == [f"part.{i:04d}.parquet" for i in range(4)]
    assert sorted(p.name for p in out.iterdir()) == [Path(f).name for f in streamed.pieces_files]
    assert len(streamed.pieces) == 0 and list(streamed.pieces.columns) == list(held.pieces.columns)
    back = gpd.read_parquet(out)
    assert back.crs.equals(held.pieces.crs)
    pd.testing.assert_frame_equal(back.drop(columns="geometry"), held.pieces.drop(columns="geometry"))
    assert shapely.equals_exact(np.asarray(back.geometry.values), np.asarray(held.pieces.geometry.values), 0).all()
    for name in ("blocks", "conflicts", "summary"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(held, name))
    assert held.pieces_files == () and streamed.notes[-1].startswith(f"pieces written to {out} (4 GeoParquet parts)")
    assert {"straddle", "outside_blocks"} <= set(streamed.conflicts["kind"])  # merged from the kept columns


def test_pieces_out_needs_partitions_and_never_overwrites_an_input(tmp_path: Path) -> None:
    with pytest.raises(AccountingError, match="give partitions= as well"):
        accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", pieces_out=tmp_path / "p",
                           **KW)
    with pytest.raises(OverwriteInputError):
        accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", partitions=2,
                           pieces_out=SRC / "survey_dltb_2023.parquet", **KW)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("not pieces")
    with pytest.raises(AccountingError, match="holds other files \\(notes.txt\\)"):
        accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", partitions=2,
                           pieces_out=mine, **KW)
    assert (mine / "notes.txt").read_text() == "not pieces"
    assert main(["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
                 "--pieces-out", str(tmp_path / "p"), "--out", str(tmp_path / "q.gpkg")]) == 2
    assert not (tmp_path / "p").exists()


def test_cli_pieces_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
            "--plan", str(SRC / "plan_plots.gpkg"), "--codes", str(SRC / "user_codes.csv"), "--partitions", "3"]
    assert main([*args, "--out", str(tmp_path / "held.gpkg"), "--json"]) == 0
    held = json.loads(capsys.readouterr().out)
    assert main([*args, "--pieces-out", str(tmp_path / "pieces"), "--out", str(tmp_path / "s.gpkg"), "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    assert streamed["pieces"] == held["pieces"] == len(gpd.read_parquet(tmp_path / "pieces"))
    assert streamed["zone"] == held["zone"]
    layers = {row[0] for row in pyogrio.list_layers(tmp_path / "s.gpkg")}
    assert layers == {"blocks", "conflicts"} and not (tmp_path / "s_pieces.csv").exists()
    manifest = json.loads((tmp_path / "s_manifest.json").read_text(encoding="utf-8"))
    assert [Path(f).name for f in manifest["pieces_files"]] == ["part.0000.parquet", "part.0001.parquet",
                                                                "part.0002.parquet"]


def test_windows_of_a_layer_in_another_crs(tmp_path: Path) -> None:
    from zgc_space.errors import ReprojectionWarning

    survey = gpd.read_parquet(SRC / "survey_dltb_2023.parquet")
    survey.to_crs("EPSG:4490").to_file(tmp_path / "survey_4490.gpkg", engine="pyogrio")  # CGCS2000 degrees
    kw = {"plan": SRC / "plan_plots.gpkg", "codes": SRC / "user_codes.csv"}
    with pytest.warns(ReprojectionWarning):
        one = accounting.account(SRC / "blocks.gpkg", survey=tmp_path / "survey_4490.gpkg", **kw)
    with pytest.warns(ReprojectionWarning):
        parts = accounting.account(SRC / "blocks.gpkg", survey=tmp_path / "survey_4490.gpkg", partitions=3, **kw)
    pd.testing.assert_frame_equal(parts.blocks.drop(columns="geometry"), one.blocks.drop(columns="geometry"),
                                  check_exact=False, rtol=1e-9)
    assert len(parts.pieces) == len(one.pieces)


def test_parts_are_read_in_runs_in_their_order_whatever_their_kind(tmp_path: Path) -> None:
    from zgc_space.accounting import _partition

    survey = gpd.read_parquet(SRC / "survey_dltb_2023.parquet").iloc[:4_000]
    chunks = np.array_split(np.arange(len(survey)), 5)
    files = []
    for i, rows in enumerate(chunks):
        part = survey.iloc[rows].copy()
        if i == 3:
            part["extra"] = 1.5  # a part whose schema differs: read on its own
        path = tmp_path / f"part.{i}.parquet"
        part.to_parquet(path, write_covering_bbox=i != 2)  # part 2 has no bbox column
        files.append(str(path))
    covered = frozenset(f for i, f in enumerate(files) if i != 2)
    x0, y0, x1, y1 = survey.total_bounds
    box = (x0, y0, (x0 + x1) / 2, y1)  # the west half
    frames = _partition._read_parts(files, box, covered)
    got = pd.concat(frames, ignore_index=True)
    one_by_one = pd.concat([gpd.read_parquet(f, bbox=box if f in covered else None) for f in files],
                           ignore_index=True)
    assert 0 < len(got) < len(survey)
    assert got["BSM"].tolist() == one_by_one["BSM"].tolist()
    assert got.crs == survey.crs
