import json
from pathlib import Path

import distributed
import pandas as pd
import pytest

from zgc_space import datasets, io
from zgc_space.cli import main
from zgc_space.errors import DataFileError
from zgc_space.scenarios import batch

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
BASELINE = SAMPLE / "zgc_blocks.gpkg"
CANDIDATES = SAMPLE / "candidates.gpkg"


@pytest.fixture(scope="module")
def blocks():
    return io.read_blocks(BASELINE)


@pytest.fixture()
def proposals(tmp_path):
    folder = tmp_path / "proposals"
    folder.mkdir()
    for f in datasets.sample_proposals():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "p90_broken.yaml").write_text("id: BROKEN\ntitle: t\nrenew:\n  - blocks: [B001]\n    far_stp: 1\n",
                                            encoding="utf-8")
    (folder / "p91_unknown.yaml").write_text("id: UNKNOWN\ntitle: t\nrelease:\n  - block: B999\n",
                                             encoding="utf-8")
    return folder


def test_sample_proposals_follow_the_sample_data_lookup(tmp_path, monkeypatch):
    files = datasets.sample_proposals()
    names = [f.name for f in files]
    assert names == sorted(p.name for p in (ROOT / "zgc_space" / "datasets" / "data" / "proposals").glob("*.yaml"))
    assert len(names) == 5 and files == [SAMPLE / "proposals" / n for n in names]
    (tmp_path / "proposals").mkdir()
    monkeypatch.setenv("ZGC_SPACE_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match=r"ZGC_SPACE_DATA=.* has no proposals/p01_release_outer_admit_core\.yaml"):
        datasets.sample_proposals()
    for name in names:
        (tmp_path / "proposals" / name).write_text("id: X\n", encoding="utf-8")
    assert datasets.sample_proposals() == [tmp_path / "proposals" / n for n in names]


def test_run_writes_results_and_manifest(proposals, tmp_path):
    out = tmp_path / "out"
    table = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "results.csv", "results.parquet"]
    assert len(table) == 7
    assert table["status"].tolist() == ["ok", "ok", "ok", "ok", "violations", "error", "error"]
    broken = table.iloc[5]
    assert broken["file"].endswith("p90_broken.yaml") and broken["error_line"] == 5
    assert "renew[0].far_stp (line 5): unknown field (did you mean 'far_step'?)" in broken["error"]
    assert table.iloc[6]["error_line"] == 4 and "'B999'" in table.iloc[6]["error"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["baseline"]["sha256"] == io.sha256_file(BASELINE)
    assert manifest["inputs"]["candidates"]["sha256"] == io.sha256_file(CANDIDATES)
    assert len(manifest["inputs"]["proposals"]) == 7 and all(p["sha256"] for p in manifest["inputs"]["proposals"])
    assert manifest["counts"] == {"proposals": 7, "evaluated": 7, "reused": 0, "ok": 4, "violations": 1, "error": 2}
    assert manifest["versions"]["zgc_space"] and manifest["parameters"]["preset"] == "cic_default"
    assert manifest["baseline_metrics"]["rank"] == 74
    again = batch.load_results(out)
    assert again["proposal_id"].tolist() == table["proposal_id"].tolist()
    assert pd.read_csv(out / "results.csv", encoding="utf-8-sig")["status"].tolist() == table["status"].tolist()


def test_resume_skips_evaluated_proposals_and_notices_changes(proposals, tmp_path):
    out = tmp_path / "out"
    first = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out)
    second = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert second.attrs["manifest"]["counts"]["evaluated"] == 0
    assert second.attrs["manifest"]["counts"]["reused"] == 7
    pd.testing.assert_frame_equal(first, second)
    assert second["n_violations"].dtype == "int64"
    # edit one proposal: only that one is evaluated again
    target = proposals / "p02_renew_fengtai_chaoyang.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("far_target: 1.0", "far_target: 1.1", 1),
                      encoding="utf-8")
    third = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert third.attrs["manifest"]["counts"]["evaluated"] == 1
    assert third.loc[1, "far"] > first.loc[1, "far"]
    # other peers: everything again
    peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [80.0, 20.0]})
    fourth = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out, peers=peers)
    assert fourth.attrs["manifest"]["counts"]["evaluated"] == 7
    fifth = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=out, resume=False)
    assert fifth.attrs["manifest"]["counts"]["evaluated"] == 7


def test_fully_resumed_run_writes_the_same_bytes_as_a_fresh_run(proposals, tmp_path):
    fresh, resumed = tmp_path / "fresh", tmp_path / "resumed"
    batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=fresh)
    batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=resumed)
    table = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=resumed)
    assert table.attrs["manifest"]["counts"]["evaluated"] == 0
    assert (resumed / "results.csv").read_bytes() == (fresh / "results.csv").read_bytes()
    again, first = pd.read_parquet(resumed / "results.parquet"), pd.read_parquet(fresh / "results.parquet")
    pd.testing.assert_frame_equal(again, first)


def test_chunking_and_processes_do_not_change_results(proposals, tmp_path):
    one = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "a", resume=False)
    chunked = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "b", chunk_size=2,
                        jobs=2, resume=False)
    pd.testing.assert_frame_equal(one, chunked)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(proposals, tmp_path):
    local = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "local", chunk_size=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        remote = batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "dask", chunk_size=3,
                           executor="dask", scheduler=cluster.scheduler_address)
        assert len(cluster.workers) == 2
    pd.testing.assert_frame_equal(local, remote)
    assert remote.attrs["manifest"]["parameters"]["executor"] == "dask"


def test_bad_arguments(blocks, tmp_path):
    with pytest.raises(ValueError, match=r"executor must be 'local' or 'dask'"):
        batch.run(datasets.sample_proposals()[:1], blocks, out_dir=tmp_path, executor="spark", candidates=CANDIDATES)
    with pytest.raises(ValueError, match=r"chunk_size must be at least 1"):
        batch.run(datasets.sample_proposals()[:1], blocks, out_dir=tmp_path, chunk_size=0, candidates=CANDIDATES)
    with pytest.raises(DataFileError, match=r"no batch results in"):
        batch.load_results(tmp_path / "nothing")


def test_cli_compare_json(proposals, tmp_path, capsys):
    code = main(["compare", str(proposals), "--baseline", str(BASELINE), "--candidates", str(CANDIDATES),
                 "--out", str(tmp_path / "out"), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["counts"]["proposals"] == 7 and payload["counts"]["error"] == 2
    assert payload["baseline"]["rank"] == 74
    first = payload["results"][0]
    assert first["proposal_id"] == "P02-renew-fengtai-chaoyang" and first["score_change"] > 0
    code = main(["compare", *map(str, sorted(proposals.glob("p0*.yaml"))), "--baseline", str(BASELINE),
                 "--candidates", str(CANDIDATES), "--out", str(tmp_path / "out")])
    assert code == 0
    assert "5 proposals (0 evaluated, 5 reused)" in capsys.readouterr().out


def test_progress_bar_is_opt_in(proposals, tmp_path, capsys):
    batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "quiet", chunk_size=3)
    assert capsys.readouterr().err == ""
    batch.run([proposals], BASELINE, candidates=CANDIDATES, out_dir=tmp_path / "bar", chunk_size=3, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_resume_notices_an_edited_protected_layer(tmp_path):
    import geopandas as gpd
    from shapely import box

    folder = tmp_path / "props"
    folder.mkdir()
    (folder / "pr.yaml").write_text("id: PR\ntitle: admit C01\nadmit:\n  - candidate: C01\nconstraints:\n"
                                    "  protected: red.gpkg\n  area_cap_m2: 600000000\n", encoding="utf-8")
    red = folder / "red.gpkg"
    gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:4548").to_file(red)
    out = tmp_path / "out"
    first = batch.run([folder], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert first["status"].tolist() == ["ok"]
    entry = first.attrs["manifest"]["inputs"]["proposals"][0]
    assert entry["references"] == [{"field": "constraints.protected", "path": str(red), "sha256": io.sha256_file(red)}]
    assert first.attrs["manifest"]["inputs"]["protected"] == [{"path": str(red), "sha256": io.sha256_file(red)}]
    c01 = gpd.read_file(CANDIDATES).to_crs("EPSG:4548").query("candidate_id == 'C01'")
    c01[["geometry"]].to_file(red)  # the red line now covers the admitted land
    second = batch.run([folder], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert second.attrs["manifest"]["counts"]["evaluated"] == 1
    assert second["status"].tolist() == ["violations"] and "[protected]" in second.loc[0, "violations"]
    assert second.attrs["manifest"]["inputs"]["protected"][0]["sha256"] == io.sha256_file(red)
    third = batch.run([folder], BASELINE, candidates=CANDIDATES, out_dir=out)
    assert third.attrs["manifest"]["counts"]["evaluated"] == 0 and third["status"].tolist() == ["violations"]


def test_repeated_proposal_ids_become_error_rows_naming_both_files(tmp_path):
    folder = tmp_path / "props"
    folder.mkdir()
    (folder / "a.yaml").write_text("id: D1\ntitle: t\nrelease:\n  - block: B158\n", encoding="utf-8")
    (folder / "b.yaml").write_text("id: D1\ntitle: t\nrelease:\n  - block: B159\n", encoding="utf-8")
    out = tmp_path / "out"
    table = batch.run([folder], BASELINE, out_dir=out)
    assert table["status"].tolist() == ["ok", "error"]
    assert table.loc[1, "error"] == (
        f"proposal {folder / 'b.yaml'} has id 'D1', which {folder / 'a.yaml'} already has; results and "
        "violations are keyed by id, so give each proposal its own id"
    )
    (folder / "a.yaml").unlink()
    again = batch.run([folder], BASELINE, out_dir=out)  # the error depended on a.yaml: not reused
    assert again["status"].tolist() == ["ok"] and again.attrs["manifest"]["counts"]["evaluated"] == 1


def test_cli_compare_exits_1_when_every_proposal_errors(proposals, tmp_path, capsys):
    broken = [str(proposals / "p90_broken.yaml"), str(proposals / "p91_unknown.yaml")]
    code = main(["compare", *broken, "--baseline", str(BASELINE), "--out", str(tmp_path / "out")])
    assert code == 1
    assert "0 ok, 0 with violations, 2 errors" in capsys.readouterr().out
    code = main(["compare", *broken, "--baseline", str(BASELINE), "--out", str(tmp_path / "out"), "--json"])
    assert code == 1 and json.loads(capsys.readouterr().out)["counts"]["error"] == 2
    code = main(["compare", *broken, str(proposals / "p02_renew_fengtai_chaoyang.yaml"), "--baseline",
                 str(BASELINE), "--out", str(tmp_path / "out")])
    assert code == 0
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "1 every proposal has an error" in capsys.readouterr().out
