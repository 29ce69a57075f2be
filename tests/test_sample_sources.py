"""The sample source layers (sample_data/sources/) reproduce the sample block table through accounting."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from zgc_space import accounting, datasets
from zgc_space.cli import main
from zgc_space.datasets import sample
from zgc_space.errors import AccountingError, OverwriteInputError

SRC = Path(__file__).resolve().parent.parent / "sample_data" / "sources"
LAND = ("built_m2", "built_residential_m2", "built_industrial_m2", "ready_m2", "unready_m2", "nonconstruction_m2",
        "supplied_m2", "idle_m2", "hightech_m2")
ARGS = [
    "account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
    "--plan", str(SRC / "plan_plots.gpkg"), "--supply", str(SRC / "supply.gpkg"), "--idle", str(SRC / "idle.gpkg"),
    "--serviced", str(SRC / "serviced.gpkg"), "--buildings", str(SRC / "buildings.parquet"),
    "--enterprises", str(SRC / "enterprises.parquet"), "--codes", str(SRC / "user_codes.csv"),
    "--as-of", "2023-12-31",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("account") / "accounted.gpkg"
    import contextlib
    import io as _stdio

    buf = _stdio.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*ARGS, "--out", str(out), "--json"])
    assert code == 0
    return json.loads(buf.getvalue()), out


def test_cli_json_reports_the_report_figures(run: tuple[dict, Path]) -> None:
    payload, _ = run
    zone = payload["zone"]
    assert round(zone["site_km2"]) == 488
    assert round(zone["remaining_developable_km2"]) == 27
    assert round(zone["nonconstruction_km2"]) == 24
    assert round(zone["far"], 2) == 1.18
    assert payload["blocks"] == 164 and payload["pieces"] > 40_000
    assert set(payload["conflicts"]) >= {"built_unsupplied", "gap", "plan_survey", "straddle", "outside_blocks",
                                         "enterprise_outside"}
    assert payload["missing"] == ["population"]


def test_every_land_column_of_every_block_within_a_tenth_of_a_percent(run: tuple[dict, Path]) -> None:
    _, out = run
    got = gpd.read_file(out, layer="blocks").set_index("block_id")
    want = datasets.load_blocks().set_index("block_id")
    for col in (*LAND, "gfa_m2", "industrial_gfa_m2", "revenue_10k_cny", "tax_10k_cny", "employees",
                "enterprises", "hightech_enterprises"):
        rel = np.abs(got[col] - want[col]) / np.maximum(want[col].abs(), 1.0)
        assert rel.max() < 1e-3, (col, rel.idxmax(), rel.max())
    assert got["gfa_m2"].sum() / got["built_m2"].sum() == pytest.approx(1.18, abs=5e-4)
    pieces = gpd.read_file(out, layer="pieces")
    by_block = pieces.groupby("block_id")["area_m2"].sum()
    np.testing.assert_allclose(by_block.loc[want.index], want["site_area_m2"], rtol=1e-9)


def test_outputs_written_and_inputs_refused(run: tuple[dict, Path]) -> None:
    _, out = run
    stem = out.with_suffix("")
    for suffix in ("_blocks.csv", "_pieces.csv", "_conflicts.csv", "_codes.csv", "_manifest.json"):
        assert Path(f"{stem}{suffix}").is_file()
    manifest = json.loads(Path(f"{stem}_manifest.json").read_text(encoding="utf-8"))
    assert any(k.endswith("survey_dltb_2023.parquet") for k in manifest["inputs"])
    assert any(t.endswith("user_codes.csv") for t in manifest["code_tables"])
    with pytest.raises(OverwriteInputError):
        accounting.write(accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet",
                                            codes=SRC / "user_codes.csv"), SRC / "blocks.gpkg")


def test_the_unknown_code_must_be_mapped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(AccountingError, match=r"'083' \(12 parcels"):
        accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet")
    code = main(["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
                 "--out", str(tmp_path / "x.gpkg")])
    assert code == 1
    assert "'083' (12 parcels" in capsys.readouterr().err
    assert not (tmp_path / "x.gpkg").exists()


def test_sources_are_part_of_the_sample_files() -> None:
    assert set(sample.FILES) >= {f"sources/{p.name}" for p in SRC.iterdir()}
    assert datasets.path("sources/survey_dltb_2023.parquet").is_file()


def test_partitioned_run_gives_the_same_blocks_pieces_and_conflicts(tmp_path: Path) -> None:
    import dask_geopandas

    # the survey as a GeoParquet folder with spatial partitions (as dask-geopandas writes it)
    survey = gpd.read_parquet(SRC / "survey_dltb_2023.parquet")
    with warnings.catch_warnings():  # dask-geopandas 0.5 calls set_index(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message="The inplace keyword")
        dask_geopandas.from_geopandas(survey, npartitions=6).spatial_shuffle().to_parquet(tmp_path / "survey")
    kw = {"plan": SRC / "plan_plots.gpkg", "supply": SRC / "supply.gpkg", "idle": SRC / "idle.gpkg",
          "serviced": SRC / "serviced.gpkg", "buildings": SRC / "buildings.parquet", "codes": SRC / "user_codes.csv",
          "as_of": "2023-12-31"}
    one = accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", **kw)
    parts = accounting.account(SRC / "blocks.gpkg", survey=tmp_path / "survey", partitions=5, **kw)
    pd.testing.assert_frame_equal(parts.blocks.drop(columns="geometry"), one.blocks.drop(columns="geometry"),
                                  check_exact=False, rtol=1e-9)
    key = ["block_id", "survey_id", "plan_id", "supply_id", "idle_id", "serviced_id"]
    a = one.pieces.drop(columns="geometry").sort_values(key).reset_index(drop=True)
    b = parts.pieces.drop(columns="geometry").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(b, a, check_exact=False, rtol=1e-9)
    ckey = ["kind", "layer", "block_id", "feature_id", "other_id"]
    a = one.conflicts.drop(columns="geometry").sort_values(ckey).reset_index(drop=True)
    b = parts.conflicts.drop(columns="geometry").sort_values(ckey).reset_index(drop=True)
    assert {"straddle", "outside_blocks", "gap", "built_unsupplied"} <= set(a["kind"])
    pd.testing.assert_frame_equal(b, a, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(parts.summary, one.summary, check_exact=False, rtol=1e-9)
    assert parts.notes[0].startswith("accounted in 5 partitions")
    with pytest.raises(AccountingError, match="enterprises cannot be accounted by partition"):
        accounting.account(SRC / "blocks.gpkg", survey=tmp_path / "survey", partitions=2,
                           enterprises=SRC / "enterprises.parquet", **kw)
    with pytest.raises(AccountingError, match="give partitions= as well"):
        accounting.account(SRC / "blocks.gpkg", survey=tmp_path / "survey", scheduler="tcp://127.0.0.1:1", **kw)


def test_partitions_on_a_dask_cluster_and_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dask.distributed import Client, LocalCluster

    kw = {"plan": SRC / "plan_plots.gpkg", "codes": SRC / "user_codes.csv"}
    one = accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", **kw)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        parts = accounting.account(SRC / "blocks.gpkg", survey=SRC / "survey_dltb_2023.parquet", partitions=3,
                                   scheduler=client, **kw)
    pd.testing.assert_frame_equal(parts.blocks.drop(columns="geometry"), one.blocks.drop(columns="geometry"),
                                  check_exact=False, rtol=1e-9)
    code = main(["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
                 "--plan", str(SRC / "plan_plots.gpkg"), "--codes", str(SRC / "user_codes.csv"), "--partitions", "3",
                 "--out", str(tmp_path / "p.gpkg"), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["pieces"] == len(one.pieces) and payload["notes"][0].startswith("accounted in 3 partitions")
    assert main(["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
                 "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "q.gpkg")]) == 2
    assert main(["account", "--blocks", str(SRC / "blocks.gpkg"), "--survey", str(SRC / "survey_dltb_2023.parquet"),
                 "--partitions", "0", "--out", str(tmp_path / "q.gpkg")]) == 2
