"""scenarios.PreparedBaseline: one proposal at a time, the numbers of compare's row."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box
from zgc_space.proposal import Admit, Proposal, Release, Renew, read_proposal

from zgc_space import datasets, scenarios

PROPOSALS = sorted((Path(__file__).parents[1] / "zgc_space/datasets/data/proposals").glob("*.yaml"))


def same(a: object, b: object) -> bool:
    if a is None or b is pd.NA or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b)))
    return float(a) == float(b)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def prepared() -> scenarios.PreparedBaseline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenarios.PreparedBaseline(datasets.load_blocks(), candidates=datasets.load_candidates())


@pytest.mark.parametrize("path", PROPOSALS, ids=[p.stem for p in PROPOSALS])
def test_each_shipped_proposal_evaluates_to_its_compare_row(prepared, path):
    proposal = read_proposal(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = scenarios.compare(datasets.load_blocks(), [proposal], candidates=datasets.load_candidates(),
                                  errors="report")
        got = prepared.evaluate(proposal)
    row = table.iloc[0]
    assert got.status == row["status"] and got.error == (None if pd.isna(row["error"]) else row["error"])
    for name, value in got.metrics.items():
        assert same(value, row[name]), name
    for name, change in got.changes.items():
        assert same(change, row[f"{name}_change"]), name
    assert [v.to_dict() for v in got.violations] == table.attrs.get("violations", {}).get(proposal.id, [])
    # compare's baseline also carries its rank band (rank_best, rank_worst, uncertainty_pct)
    base = {k: v for k, v in table.attrs["baseline"].items() if k not in ("rank_best", "rank_worst", "uncertainty_pct")}
    assert set(table.attrs["baseline"]) - set(base) == {"rank_best", "rank_worst", "uncertainty_pct"}
    assert prepared.baseline == pytest.approx(base, rel=0, abs=0)


def test_an_error_is_reported_not_raised():
    base = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园"] * 2, "built_m2": [1e4, 1e4],
                             "gfa_m2": [1e4, 3e4]},
                            geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    cands = gpd.GeoDataFrame({"candidate_id": ["C1"]}, geometry=[box(50, 0, 150, 50)], crs="EPSG:4548")
    peers = pd.DataFrame({"zone_id": ["A"], "score": [50.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = scenarios.PreparedBaseline(base, candidates=cands, peers=peers)
        bad = prepared.evaluate(Proposal(id="P1", title="over B1", admit=[Admit(candidate="C1")]))
        good = prepared.evaluate(Proposal(id="P2", title="renew B1", renew=[Renew(blocks=["B1"], far_step=1.0)]))
        empty = prepared.evaluate(Proposal(id="P3", title="all out",
                                           release=[Release(block="B1"), Release(block="B2")]))
    assert bad.status == "error" and "overlaps kept block(s) B1" in (bad.error or "") and bad.metrics == {}
    assert empty.status == "error" and "releases every block" in (empty.error or "")
    # FAR by hand: (2e4 + 3e4) / 2e4 = 2.5 after the renewal, 2.0 before
    assert good.metrics["far"] == 2.5 and good.changes["far"] == 0.5 and good.changes["block_count"] == 0
    assert prepared.baseline["far"] == 2.0 and good.status == "ok"
