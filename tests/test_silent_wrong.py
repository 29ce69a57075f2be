"""Inputs that used to give a silent wrong number (issue 15): each is now refused or repaired visibly.

Every test here failed before the fix: the input was accepted and a number came out (floor area 0,
164 policy-zone members instead of 71, rank "2 of 3", FAR 1.1788 with no note, a bow-tie of 0 m²).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import MultiPolygon, Point, Polygon, box

from zgc_space import blocks as zblocks
from zgc_space import buildings, io, ranking
from zgc_space.cli import main
from zgc_space.errors import ColumnError, DataFileError, ProposalError, RasterError
from zgc_space.scenarios import batch
from zgc_space.scenarios.proposal import parse_proposal

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_data"


def _good(n: int = 6) -> gpd.GeoDataFrame:
    frame = gpd.read_file(SAMPLE / "zgc_blocks.gpkg")
    return frame[frame["subpark"] == frame["subpark"].iloc[0]].head(n).reset_index(drop=True)


def _rules(frame: gpd.GeoDataFrame) -> set[str]:
    return {p.rule for p in zblocks.find_problems(frame) if p.severity == "error"}


def _footprints(blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cx, cy = blocks.geometry.iloc[0].representative_point().coords[0]
    return gpd.GeoDataFrame({"floors": [5.0, 8.0], "height_m": [15.0, 24.0]},
                            geometry=[box(cx, cy, cx + 20, cy + 20), box(cx + 30, cy, cx + 50, cy + 20)],
                            crs="EPSG:4548")


# --- footprints -------------------------------------------------------------------------------

@pytest.mark.parametrize("shift", ["far", "points", "lonlat"])
def test_footprints_covering_no_block_are_refused_not_zero(shift):
    blocks = _good()
    fps = _footprints(blocks)
    if shift == "far":
        fps = fps.set_geometry(fps.geometry.translate(-300_000, -3_000_000))
    elif shift == "points":
        fps = fps.set_geometry(fps.geometry.centroid)
    else:
        fps = fps.to_crs("EPSG:4326").set_crs("EPSG:4548", allow_override=True)
    with pytest.raises((DataFileError, ColumnError), match="lies in a block|not polygons"):
        buildings.aggregate(blocks, fps, floors="floors")


def test_absurd_floors_and_negative_heights_are_refused():
    blocks = _good()
    fps = _footprints(blocks)
    with pytest.raises(ColumnError, match="above 200 floors"):
        buildings.aggregate(blocks, fps.assign(floors=[1e9, 5.0]), floors="floors")
    with pytest.raises(ColumnError, match="missing, infinite or negative"):
        buildings.aggregate(blocks, fps.assign(height_m=[-15.0, 9.0]), height="height_m")  # was 1 floor


def test_negative_height_raster_is_refused_not_floor_area_zero(tmp_path):
    import rasterio
    from affine import Affine

    from zgc_space import raster

    blocks = _good()
    x0, y0, x1, y1 = blocks.total_bounds
    w, h = int((x1 - x0) // 50) + 2, int((y1 - y0) // 50) + 2
    path = tmp_path / "neg.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4548",
                       transform=Affine(50.0, 0.0, x0 - 50, 0.0, -50.0, y1 + 50)) as dst:
        dst.write(np.full((h, w), -30.0, dtype="float32"), 1)
    with pytest.raises(RasterError, match="negative"):
        raster.floor_area_from_height(blocks, path)


# --- block tables -------------------------------------------------------------------------------

def test_policy_zone_as_text_or_empty_is_an_error():
    f = _good()
    f["policy_zone"] = ["True", "False", "False", "True", "False", "False"]
    assert "flag-text" in _rules(f)  # "False" is truthy: every block would be a member
    g = _good()
    g["policy_zone"] = pd.array([True, None, False, None, True, False], dtype="boolean")
    assert "missing-flag" in _rules(g)


def test_blocks_at_the_false_origin_or_in_degrees_are_outside_the_crs(tmp_path, capsys):
    f = _good()
    f["geometry"] = [box(i * 120, 0, i * 120 + 100, 100) for i in range(len(f))]
    assert "outside-crs-extent" in _rules(f)
    g = _good()
    g["geometry"] = [box(116.3 + i * 0.01, 39.9, 116.305 + i * 0.01, 39.905) for i in range(len(g))]
    problems = [p for p in zblocks.find_problems(g) if p.rule == "outside-crs-extent"]
    assert problems and "longitude/latitude" in problems[0].message
    path = tmp_path / "origin.gpkg"
    f.to_file(path)
    assert main(["validate", str(path)]) == 1
    assert "outside the area where EPSG:4548 is defined" in capsys.readouterr().out


def test_nan_vertex_is_refused_by_validate_and_info(tmp_path, capsys):
    f = _good()
    x0, y0 = f.total_bounds[:2]
    with pytest.warns(RuntimeWarning):
        f.loc[1, "geometry"] = Polygon([(x0 - 3000, y0), (math.nan, y0), (x0 - 3000, y0 + 400), (x0 - 3000, y0)])
    assert "non-finite-vertex" in _rules(f)
    path = tmp_path / "nan.gpkg"
    f.to_file(path)
    assert main(["info", str(path)]) == 1  # was: the block silently left out of the totals
    err = capsys.readouterr().err
    assert "NaN or infinite coordinates" in err and str(f.loc[1, "block_id"]) in err


@pytest.mark.parametrize("shape", ["bowtie", "nested", "hole_outside"])
def test_bad_polygons_are_refused_not_counted_wrong(tmp_path, capsys, shape):
    f = _good()
    x0, y0 = f.total_bounds[:2]
    if shape == "bowtie":  # was 0 m²
        geom = Polygon([(x0, y0 - 900), (x0 + 500, y0 - 400), (x0 + 500, y0 - 900), (x0, y0 - 400), (x0, y0 - 900)])
    elif shape == "nested":  # was counted twice
        geom = MultiPolygon([box(x0 - 6000, y0 - 6000, x0 - 4000, y0 - 4000),
                             box(x0 - 5500, y0 - 5500, x0 - 4500, y0 - 4500)])
    else:  # was subtracted
        geom = Polygon(box(x0 - 9000, y0, x0 - 8000, y0 + 1000).exterior.coords,
                       [box(x0 - 7000, y0, x0 - 6500, y0 + 500).exterior.coords])
    f.loc[1, "geometry"] = geom
    path = tmp_path / f"{shape}.gpkg"
    f.to_file(path)
    assert main(["indicators", str(path)]) == 1
    err = capsys.readouterr().err
    assert "invalid geometr" in err and str(f.loc[1, "block_id"]) in err and "--allow-invalid" in err


def test_indicators_on_a_table_breaking_the_nesting_refuse_unless_overridden(tmp_path, capsys):
    f = _good()
    f.loc[0, "built_residential_m2"] = f.loc[0, "built_m2"] * 3  # A1 > A
    path = tmp_path / "nest.gpkg"
    f.to_file(path)
    assert main(["indicators", str(path)]) == 1
    assert "nesting" in capsys.readouterr().err
    assert main(["indicators", str(path), "--allow-invalid", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("--allow-invalid" in n and "fails validation" in n for n in notes)


def test_mojibake_is_detected_and_named(tmp_path):
    shp = _good()[["block_id", "name", "subpark", "geometry"]]
    shp.to_file(tmp_path / "b.shp", driver="ESRI Shapefile", encoding="gbk")
    (tmp_path / "b.cpg").write_text("ISO-8859-1", encoding="ascii")
    problems = [p for p in zblocks.find_problems(io.read_blocks(tmp_path / "b.shp")) if p.rule == "mojibake"]
    assert problems and "encoding='gbk'" in problems[0].fix
    from zgc_space.blocks._checks import looks_like_mojibake

    assert looks_like_mojibake("²ýÆ½Ô°") == "昌平园"


def test_infinite_and_absurd_values_are_errors():
    f = _good()
    f.loc[0, "gfa_m2"] = math.inf
    f.loc[1, "tax_10k_cny"] = 1e308
    rules = _rules(f)
    assert {"non-finite", "implausible"} <= rules


# --- peers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [math.nan, math.inf, -5.0])
def test_peers_with_nan_inf_or_negative_are_refused(tmp_path, bad):
    peers = pd.read_csv(SAMPLE / "peers_cic_131.csv").head(3)
    col = peers.select_dtypes("number").columns[0]
    peers[col] = peers[col].astype(float)
    peers.loc[1, col] = bad
    path = tmp_path / "peers.csv"
    peers.to_csv(path, index=False)
    with pytest.raises(DataFileError, match=f"column {col} is .* on line"):
        ranking.load_peers(path)


# --- proposals and batches ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [".inf", "inf", "1e308", ".nan"])
def test_non_finite_or_absurd_proposal_values_are_refused(value):
    with pytest.raises(ProposalError, match=r"renew\[0\]\.far_target \(line 5\)"):
        parse_proposal(f"id: X\ntitle: t\nrenew:\n  - blocks: [B1]\n    far_target: {value}\n", source="p.yaml")


def test_one_bad_proposal_is_an_error_row_and_the_others_are_evaluated(tmp_path):
    blocks = _good()
    ids = blocks["block_id"].tolist()
    (tmp_path / "all.yaml").write_text("id: ALL\ntitle: t\nrelease:\n" + "".join(f"  - block: {i}\n" for i in ids),
                                       encoding="utf-8")
    (tmp_path / "inf.yaml").write_text(f"id: INF\ntitle: t\nrenew:\n  - blocks: [{ids[0]}]\n    far_target: .inf\n",
                                       encoding="utf-8")
    (tmp_path / "ok.yaml").write_text(f"id: OK\ntitle: t\nrenew:\n  - blocks: [{ids[1]}]\n    far_step: 0.5\n",
                                      encoding="utf-8")
    table = batch.run([tmp_path / n for n in ("all.yaml", "inf.yaml", "ok.yaml")], blocks, out_dir=tmp_path / "o")
    assert table["status"].tolist() == ["error", "error", "ok"]
    assert "releases every block" in table["error"].iloc[0] and "far_target" in table["error"].iloc[1]
    assert np.isfinite(table["score"].iloc[2])


def test_resume_after_a_kill_between_parquet_and_manifest_re_evaluates(tmp_path):
    """The stale window: results.parquet of set B next to the manifest of set A must not be reused."""
    blocks = _good()
    ids = blocks["block_id"].tolist()

    def write(folder: Path, prefix: str) -> list[Path]:
        folder.mkdir()
        paths = []
        for k in range(3):
            path = folder / f"{prefix}{k}.yaml"
            path.write_text(f"id: {prefix}{k:05d}\ntitle: t\nrenew:\n  - blocks: [{ids[k]}]\n    far_step: {k + 1}\n",
                            encoding="utf-8")
            paths.append(path)
        return paths

    a, b = write(tmp_path / "a", "A"), write(tmp_path / "b", "B")
    out = tmp_path / "out"
    batch.run(a, blocks, out_dir=out)
    side = tmp_path / "side"
    batch.run(b, blocks, out_dir=side)
    # a run of B into `out` killed after results.parquet, before manifest.json: B's rows, A's manifest
    (out / "results.parquet").write_bytes((side / "results.parquet").read_bytes())
    table = batch.run(a, blocks, out_dir=out)  # was: "reused 3", A00000 given B00000's id and score
    manifest = table.attrs["manifest"]
    assert manifest["counts"]["evaluated"] == 3 and manifest["counts"]["reused"] == 0
    assert table["proposal_id"].tolist() == ["A00000", "A00001", "A00002"]
    again = batch.run(a, blocks, out_dir=out)  # a clean resume reuses every row, with the same values
    assert again.attrs["manifest"]["counts"]["reused"] == 3
    pd.testing.assert_frame_equal(again[["proposal_id", "score"]], table[["proposal_id", "score"]])
    b_now = batch.run(b, blocks, out_dir=out)  # another set: each row its own
    assert b_now["proposal_id"].tolist() == ["B00000", "B00001", "B00002"]


def test_a_second_run_into_a_locked_folder_waits_then_refuses(tmp_path, capsys):
    from zgc_space.errors import EnvironmentProblemError

    out = tmp_path / "out"
    out.mkdir()
    with io.folder_lock(out, what="compare"), pytest.raises(EnvironmentProblemError, match="in use by another"):
        batch.run([SAMPLE / "proposals"], SAMPLE / "zgc_blocks.gpkg", out_dir=out, lock_timeout_s=0.3)
    assert not any(out.iterdir())


# --- nothing the user gave is lost ---------------------------------------------------------------

def test_apply_out_equal_to_candidates_is_refused(tmp_path, capsys):
    cands = tmp_path / "c.gpkg"
    cands.write_bytes((SAMPLE / "candidates.gpkg").read_bytes())
    before = cands.read_bytes()
    code = main(["apply", str(SAMPLE / "proposals" / "p01_release_outer_admit_core.yaml"), "--baseline",
                 str(SAMPLE / "zgc_blocks.gpkg"), "--candidates", str(cands), "--out", str(cands)])
    assert code == 1 and "c.gpkg" in capsys.readouterr().err
    assert cands.read_bytes() == before


def test_report_never_replaces_a_folder_that_is_not_exactly_a_pack(tmp_path, capsys):
    from zgc_space import report

    blocks = io.read_blocks(SAMPLE / "zgc_blocks.gpkg")
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "notes.docx").write_bytes(b"my notes")
    (forged / "manifest.json").write_text(json.dumps({"zgc_space_pack": 1, "files": []}), encoding="utf-8")
    with pytest.raises(DataFileError, match="not exactly a previous hearing pack"):
        report.hearing_pack(blocks, out_dir=forged, png=False, target_rank=None, documents=False)
    assert (forged / "notes.docx").read_bytes() == b"my notes"
    pack = tmp_path / "pack"
    report.hearing_pack(blocks, out_dir=pack, png=False, target_rank=None, documents=False)
    (pack / "mine.txt").write_text("user file", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"did not write \(mine.txt\)"):
        report.hearing_pack(blocks, out_dir=pack, png=False, target_rank=None, documents=False)
    assert (pack / "mine.txt").read_text(encoding="utf-8") == "user file"
    (pack / "mine.txt").unlink()
    stale = tmp_path / ".pack.building-999999999-abc"  # a killed run's leftover (that pid cannot exist)
    stale.mkdir()
    (stale / "index.html").write_text("half", encoding="utf-8")
    # a genuine pack is replaced
    report.hearing_pack(blocks, out_dir=pack, png=False, target_rank=None, documents=False)
    assert not stale.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["forged", "pack"]


def test_points_are_not_blocks(tmp_path):
    f = _good()
    f["geometry"] = [Point(440_000 + i, 4_430_000) for i in range(len(f))]
    assert "geometry-type" in _rules(f)
