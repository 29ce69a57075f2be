"""Tests for zgc_space.benchmark: ranking and ties, peers tables, synthetic peers, gap to rank."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from zgc_space import evaluation as ev
from zgc_space import indicators, io
from zgc_space import ranking as bm
from zgc_space.cli import main
from zgc_space.errors import BlockValidationError, ColumnError, DataFileError, PresetWarning, RankError
from zgc_space.ranking import _gap

PRESET_DIR = Path(ev.__file__).parent / "presets"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture
def zone() -> pd.Series:
    # score under cic_default: 63.13 (see test_evaluation for the hand computation of the method)
    return pd.Series({"supply_rate_pct": 95.0, "completion_rate_pct": 90.0, "far": 1.18,
                      "building_density_pct": 24.0, "tax_10k_cny_per_ha": 1800.0,
                      "population_per_ha": 45.0, "idle_rate_pct": 1.0})


@pytest.fixture
def peers() -> pd.DataFrame:
    return bm.make_synthetic_peers(anchor_score=63.13, anchor_rank=20, n_zones=41, seed=7)


def _score(row: pd.Series, preset="cic_default") -> float:
    return float(ev.score(row, preset=preset)["score"].iloc[0])


# ---- rank and ties ---------------------------------------------------------------------------


def test_rank_ties_share_the_better_rank():
    peers = pd.DataFrame({"zone_id": list("ABCD"), "score": [80.0, 60.0, 60.0, 40.0]})
    r = bm.rank(60.0, peers=peers)
    assert (r.rank, r.of, r.ties, r.peers_above) == (2, 5, 2, 1)
    assert r.percentile == 25.0  # beats 1 of the 4 other zones
    assert bm.rank(80.0, peers=peers).rank == 1
    assert bm.rank(39.0, peers=peers).rank == 5
    assert bm.rank(60.0 + 1e-9, peers=peers).rank == 2  # float noise is a tie, not a win
    assert bm.rank(60.00001, peers=peers).rank == 2 and bm.rank(60.00001, peers=peers).ties == 0


def test_rank_from_indicators_and_one_row_frame(zone, peers):
    by_score = bm.rank(_score(zone), peers=peers)
    assert bm.rank(zone, peers=peers) == by_score
    assert bm.rank(zone.to_frame().T, peers=peers) == by_score
    assert by_score.rank == 20 and by_score.of == 41
    with pytest.raises(RankError, match="one zone"):
        bm.rank(pd.concat([zone.to_frame().T] * 2), peers=peers)


def test_rank_peers_scored_with_preset_not_their_score_column(zone, peers):
    frame = peers.assign(score=0.0)  # indicators present: the preset decides
    assert bm.rank(zone, peers=frame).rank == 20
    with pytest.raises(ColumnError, match="lack indicator.*far.*no score column"):
        bm.rank(zone, peers=peers.drop(columns="far"))


def test_rank_only_among_peers_of_the_presets_zone_type(zone, peers):
    assert set(peers["zone_type"]) == {"city_industry"}
    mixed = peers.copy()
    mixed.loc[:9, "zone_type"] = "industry_led"  # 10 peers of another type: left out, not ranked
    kept = peers.iloc[10:]
    result = bm.rank(zone, peers=mixed)
    alone = bm.rank(zone, peers=kept)
    assert result.to_dict() == {**alone.to_dict(), "peers_other_type": 10}
    assert result.of == len(kept) + 1 == 31
    gap = bm.gap_to_rank(zone, 1, peers=mixed)
    assert gap.current == result and gap.plan_rank == 1
    labels = {"city_industry": "产城融合型", "industry_led": "工业主导型"}
    chinese = mixed.assign(zone_type=mixed["zone_type"].map(labels))
    assert bm.rank(zone, peers=chinese) == result


def test_rank_without_peers_of_the_presets_type_is_an_error(zone, peers):
    with pytest.raises(RankError, match=r"no peer has zone_type 'city_industry'.*\(the peers are industry_led\)"):
        bm.rank(zone, peers=peers.assign(zone_type="industry_led"))


def test_rank_warns_when_the_zone_is_of_another_type(zone, peers):
    industrial = zone.copy()
    industrial["industrial_share_pct"], industrial["residential_share_pct"] = 40.0, 10.0
    pattern = r"zone's own type is 'industry_led'.*preset 'cic_default' ranks 'city_industry'"
    with pytest.warns(PresetWarning, match=pattern):
        bm.rank(industrial, peers=peers)
    with pytest.warns(PresetWarning, match=pattern):
        bm.gap_to_rank(industrial.to_frame().T, 3, peers=peers)
    same = zone.copy()
    same["industrial_share_pct"], same["residential_share_pct"] = 20.0, 30.0
    assert bm.rank(same, peers=peers) == bm.rank(zone, peers=peers)  # no warning (warnings are errors)


# ---- peers tables ----------------------------------------------------------------------------


def test_load_peers_chinese_headers_and_gbk(tmp_path):
    path = tmp_path / "real.csv"
    pd.DataFrame({"开发区代码": ["Z1", "Z2"], "开发区名称": ["甲", "乙"], "集约度分值": [70.5, 60.1],
                  "综合容积率": [1.2, 0.9]}).to_csv(path, index=False, encoding="gbk")
    got = bm.load_peers(path)
    assert got.columns.tolist() == ["zone_id", "name", "score", "far"]
    assert got["score"].tolist() == [70.5, 60.1]
    assert bm.rank(65.0, peers=path).rank == 2


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (pd.DataFrame({"zone_id": ["a"], "score": [1.0], "colour": ["red"]}), ColumnError, "unknown column.*colour"),
        (pd.DataFrame({"name": ["a"], "score": [1.0]}), ColumnError, "missing column zone_id"),
        (pd.DataFrame({"zone_id": ["a"], "name": ["x"]}), ColumnError, "needs a score column or indicator"),
        (pd.DataFrame({"zone_id": ["a", "a"], "score": [1.0, 2.0]}), DataFileError, "duplicate zone_id a"),
        (pd.DataFrame({"zone_id": ["a", "b", "c"], "far": ["1.0", "x", "2"]}), DataFileError,
         "column far is not numeric on line.*3"),
    ],
)
def test_load_peers_errors(tmp_path, frame, error, match):
    path = tmp_path / "peers.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(error, match=match):
        bm.load_peers(path)


def test_load_peers_unreadable(tmp_path):
    with pytest.raises(DataFileError, match="cannot read peers table"):
        bm.load_peers(tmp_path / "nope.csv")


# ---- synthetic peers -------------------------------------------------------------------------


def test_synthetic_peers_deterministic_exact_rank_and_means():
    a = bm.make_synthetic_peers(anchor_score=60.0, seed=3)
    b = bm.make_synthetic_peers(anchor_score=60.0, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 130 and a["zone_id"].is_unique
    scores = ev.score(a)["score"]
    assert int((scores > 60.0).sum()) == 73
    assert (scores.sub(60.0).abs() >= 0.025).all()
    assert bm.rank(60.0, peers=a).rank == 74
    # moment matching: means at the national figures except for the few nudged peers
    fig = bm.NationalFigures()
    assert a["far"].mean() == pytest.approx(fig.far, rel=0.03)
    assert a["tax_10k_cny_per_ha"].mean() == pytest.approx(fig.tax_10k_cny_per_ha, rel=0.03)
    assert a["supply_rate_pct"].mean() == pytest.approx(fig.supply_rate_pct, abs=0.5)
    assert (ev.zone_type(a) == "city_industry").all()


def test_synthetic_peers_other_seed_differs():
    a = bm.make_synthetic_peers(anchor_score=60.0, seed=3)
    b = bm.make_synthetic_peers(anchor_score=60.0, seed=4)
    assert not np.allclose(a["far"], b["far"])


def test_sample_peers_file_matches_its_readme():
    peers = bm.load_peers(bm.sample_peers_path())
    assert len(peers) == 130
    scores = ev.score(peers)["score"]
    assert scores.mean() == pytest.approx(61.53, abs=0.2)
    assert peers["far"].mean() == pytest.approx(1.02, abs=0.01)
    assert "SYNTHETIC" in (SAMPLE / "peers_README.md").read_text(encoding="utf-8")


def test_sample_peers_file_rebuilds_byte_for_byte(tmp_path):
    out = bm.build_sample_peers(tmp_path / "peers.csv")
    assert out.read_bytes() == (SAMPLE / "peers_cic_131.csv").read_bytes()


def test_sample_peers_path_lookup(tmp_path, monkeypatch):
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "peers_cic_131.csv").write_text("zone_id,score\nA,50\n", encoding="utf-8")
    monkeypatch.setenv("ZGC_SPACE_DATA", str(tmp_path / "env"))
    assert bm.sample_peers_path() == tmp_path / "env" / "peers_cic_131.csv"
    assert bm.rank(60.0).of == 2


# ---- gap to rank -----------------------------------------------------------------------------


def test_gap_single_by_hand():
    peers = pd.DataFrame({"zone_id": ["A"], "score": [70.0]})
    zone = pd.Series({"supply_rate_pct": 95.0, "completion_rate_pct": 90.0, "far": 1.18,
                      "building_density_pct": 24.0, "tax_10k_cny_per_ha": 1800.0,
                      "population_per_ha": 45.0, "idle_rate_pct": 1.0})
    gap = bm.gap_to_rank(zone, 1, peers=peers)
    need = 70.0 - _score(zone)
    w_far = 0.7 * (2 / 3) * 0.532
    # S_far must rise by need / w_far; FAR = 2.5 * S / 100
    expected = 2.5 * (47.2 + need / w_far) / 100
    assert gap.single.loc["far", "required"] == pytest.approx(expected, abs=1e-5)
    assert gap.single.loc["far", "change_pct"] == pytest.approx((expected - 1.18) / 1.18 * 100, abs=1e-3)
    # supply is at 95 of 100: +5 points × 0.1167 weight cannot close a gap of 6.9
    assert not gap.single.loc["supply_rate_pct", "reachable"]
    assert "not reachable by this indicator alone" in gap.single.loc["supply_rate_pct", "note"]


def test_gap_single_routes_checked_by_rescoring(zone, peers):
    target = 5
    gap = bm.gap_to_rank(zone, target, peers=peers)
    assert gap.current.rank == 20
    reachable = gap.single[gap.single["reachable"]]
    assert len(reachable) >= 1
    for ind, row in gap.single.iterrows():
        moved = zone.copy()
        if row["reachable"]:
            moved[ind] = row["required"]
            assert bm.rank(moved, peers=peers).rank <= target
            moved[ind] = zone[ind] + 0.99 * (row["required"] - zone[ind])  # a bit less is not enough
            assert bm.rank(moved, peers=peers).rank > target
        else:
            spec = ev.load_preset("cic_default").indicators[ind]
            moved[ind] = spec.ideal  # even the ideal value does not reach the target
            assert bm.rank(moved, peers=peers).rank > target


def test_gap_plan_reaches_target_and_beats_single_routes(zone, peers):
    for target in (15, 5, 1):
        gap = bm.gap_to_rank(zone, target, peers=peers)
        assert gap.plan_rank <= target
        assert gap.plan_score >= gap.target_score
        singles = gap.single.loc[gap.single["reachable"], "effort_pct"]
        if len(singles):
            assert gap.plan_cost_pct <= singles.min() + 1e-6
        moved = zone.copy()
        for ind, value in gap.plan["new"].items():
            moved[ind] = value
        assert bm.rank(moved, peers=peers).rank <= target


def test_gap_plan_combines_when_no_single_route_suffices(zone, peers):
    gap = bm.gap_to_rank(zone, 1, peers=peers)
    assert gap.method == "lp"
    assert (gap.plan["effort_pct"] > 0).sum() >= 2
    assert gap.plan_rank == 1


def test_gap_with_ratio_form_negative(tmp_path, zone, peers):
    data = yaml.safe_load((PRESET_DIR / "cic_default.yaml").read_text(encoding="utf-8"))
    data["indicators"]["idle_rate_pct"] |= {"negative_form": "ratio", "ideal": 0.2}
    path = tmp_path / "ratio.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    p = ev.load_preset(path)
    gap = bm.gap_to_rank(zone, 10, peers=peers, preset=p)
    assert gap.plan_rank <= 10
    singles = gap.single.loc[gap.single["reachable"], "effort_pct"]
    assert gap.plan_cost_pct <= singles.min() + 1e-6
    row = gap.single.loc["idle_rate_pct"]
    if row["reachable"]:
        moved = zone.copy()
        moved["idle_rate_pct"] = row["required"]
        assert bm.rank(moved, peers=peers, preset=p).rank <= 10


def test_gap_bounds_and_already_there(zone, peers):
    bounded = bm.gap_to_rank(zone, 5, peers=peers, max_change_pct={"far": 10.0})
    assert bounded.plan.loc["far", "effort_pct"] <= 10.0 + 1e-9
    assert bounded.plan_rank <= 5
    same = bm.gap_to_rank(zone, 30, peers=peers)
    assert same.method == "none" and same.plan_cost_pct == 0.0
    assert same.single["reachable"].all()


def test_gap_errors(zone, peers):
    with pytest.raises(RankError, match="between 1 and 41"):
        bm.gap_to_rank(zone, 0, peers=peers)
    with pytest.raises(RankError, match="between 1 and 41"):
        bm.gap_to_rank(zone, 42, peers=peers)
    with pytest.raises(RankError, match="one zone"):
        bm.gap_to_rank(pd.concat([zone.to_frame().T] * 2), 3, peers=peers)


def test_gap_refuses_text_indicator_values(zone, peers):
    row = zone.astype(object).rename("ZGC")
    row["far"] = "1,18"
    with pytest.raises(BlockValidationError, match=r"indicator 'far' holds text that is not a number in row\(s\) ZGC"):
        bm.gap_to_rank(row, 3, peers=peers)
    with pytest.raises(BlockValidationError, match=r"indicator 'far' holds text .*'1,18'"):
        _gap.gap_tables(row, ev.load_preset("cic_default"), 60.0, 70.0, {})


# ---- integration on the sample and the CLI ---------------------------------------------------


def test_sample_zgc_ranks_74_of_131():
    zone = indicators.compute(io.read_blocks(SAMPLE / "zgc_blocks.gpkg"), by="zone")
    assert ev.zone_type(zone).iloc[0] == "city_industry"
    result = bm.rank(zone)
    assert (result.rank, result.of) == (74, 131)
    assert result.score == pytest.approx(61.197, abs=1e-3)


def test_cli_rank_json(capsys):
    code = main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--target-rank", "30", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (out["rank"], out["of"], out["peers_synthetic"]) == (74, 131, True)
    assert out["indicators"]["far"] == pytest.approx(1.18, abs=1e-9)
    assert sum(out["contributions"].values()) == pytest.approx(out["score"] - 100.0)
    assert out["gap"]["target_rank"] == 30 and out["gap"]["plan_rank"] <= 30
    assert {r["indicator"] for r in out["gap"]["single"]} == set(out["standardised"])


def test_cli_rank_text_and_peers(tmp_path, capsys):
    peers = tmp_path / "real.csv"
    pd.DataFrame({"zone_id": ["A", "B"], "score": [90.0, 10.0]}).to_csv(peers, index=False)
    code = main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--peers", str(peers)])
    out = capsys.readouterr().out
    assert code == 0 and "rank 2 / 3" in out and "synthetic" not in out


def test_cli_rank_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"zone_id": ["A"], "colour": ["red"]}).to_csv(bad, index=False)
    assert main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--peers", str(bad)]) == 1
    assert "unknown column(s) colour" in capsys.readouterr().err
    assert main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--preset", "nope"]) == 1
    assert "unknown preset 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--target-rank", "0"])
    assert "must be a whole number >= 1" in capsys.readouterr().err


# ---- margins, rank interval, missing data (issue 12) ------------------------------------------


def test_rank_margin_by_hand():
    peers = pd.DataFrame({"zone_id": list("ABCD"), "score": [70.0, 61.5, 60.0, 50.0]})
    r = bm.rank(61.0, peers=peers)
    assert (r.rank, r.points_to_next_up, r.points_to_next_down) == (3, 0.5, 1.0)
    top = bm.rank(80.0, peers=peers)
    assert top.points_to_next_up is None and top.points_to_next_down == 10.0


def test_rank_interval_is_exact_at_the_corners():
    """±1 % on the four inputs: the score's extremes are the all-low and all-high corners (monotone)."""
    from zgc_space import datasets

    blocks = datasets.load_blocks()
    best, worst, lo, hi = bm.rank_interval(blocks)
    cols = list(bm.UNCERTAIN_COLUMNS)
    low = ev.score_blocks(blocks.assign(**{c: blocks[c] * 0.99 for c in cols}))["score"].iloc[0]
    high = ev.score_blocks(blocks.assign(**{c: blocks[c] * 1.01 for c in cols}))["score"].iloc[0]
    assert (lo, hi) == (pytest.approx(low), pytest.approx(high))
    assert (best, worst) == (int(bm.rank(high).rank), int(bm.rank(low).rank)) == (73, 77)
    assert bm.rank_blocks(blocks).text() == "74 / 131 (73–77 at ±1 %)"


def test_sample_peers_keep_74_and_no_cluster_near_the_sample():
    from zgc_space import datasets

    anchor = float(ev.score_blocks(datasets.load_blocks())["score"].iloc[0])
    scores = bm.peer_scores().to_numpy(float)
    assert bm.rank(anchor).rank == 74 and len(scores) == 130
    assert np.abs(scores - anchor).min() >= 0.1


def test_cli_rank_json_margins_and_missing_data(tmp_path, capsys):
    import geopandas as gpd

    out = main(["rank", str(SAMPLE / "zgc_blocks.gpkg"), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert out == 0 and payload["rank"] == 74
    assert payload["points_to_next_up"] == pytest.approx(0.119, abs=1e-3)
    assert payload["points_to_next_down"] == pytest.approx(0.121, abs=1e-3)
    assert payload["rank_interval"] == {"best": 73, "worst": 77, "uncertainty_pct": 1.0,
                                        "text": "74 / 131 (73–77 at ±1 %)"}
    blocks = gpd.read_file(SAMPLE / "zgc_blocks.gpkg")
    blocks.loc[5, "population"] = None  # one blank cell: 0.02 % of the denominator
    path = tmp_path / "blank.gpkg"
    blocks.to_file(path)
    assert main(["rank", str(path)]) == 1  # bad input (exit 1), the fix named
    err = capsys.readouterr().err
    assert "population in block(s) B006" in err and "--missing" in err
    assert main(["rank", str(path), "--missing", "drop-indicator"]) == 0
    text = capsys.readouterr().out
    assert "with missing=drop-indicator" in text and "74 / 131 (73–77 at ±1 %) with missing=drop-blocks" in text


def test_compare_marks_rank_changes_inside_the_band():
    from zgc_space import datasets, scenarios
    from zgc_space.scenarios.proposal import Proposal, Renew

    blocks = datasets.load_blocks()
    small = Proposal(id="SMALL", title="t", renew=[Renew(blocks=["B001"], far_step=0.2)])
    big = Proposal(id="BIG", title="t", renew=[Renew(blocks=blocks["block_id"].tolist()[:60], far_step=1.0)])
    table = scenarios.compare(blocks, [small, big])
    assert (table.attrs["baseline"]["rank_best"], table.attrs["baseline"]["rank_worst"]) == (73, 77)
    assert table["rank"].tolist()[0] in range(73, 78)
    assert table["rank_change_significant"].tolist() == [False, True]
    # the zone-sum corners are the block-table corners (sums are linear): same interval either way
    from zgc_space import ranking
    assert ranking.rank_interval(blocks)[:2] == (73, 77)
    from zgc_space.errors import ParameterError
    with pytest.raises(ParameterError, match=r"uncertainty_pct must be in \[0, 100\), got 150"):
        scenarios.compare(blocks, [small], uncertainty_pct=150)
