"""Tests of zgc_space.dynamic: a hand-built panel with known statuses, rules errors, simulation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from zgc_space import cli, dynamic
from zgc_space.errors import ColumnError, RulesError

# A one-indicator preset: score = min(FAR / 10, 1) × 100 = 10 × FAR, so FARs give the scores by hand.
PRESET_YAML = """\
name: far_only
version: "1"
zone_type: city_industry
monitoring_year: 2022
ranges: {main: 0.8, expansion: 0.2}
goals:
  utilisation:
    weight: 1
    subgoals:
      intensity:
        weight: 1
        indicators: {far: 1}
indicators:
  far: {ideal: 10, direction: positive, source: test}
"""

# scores per year (10 × FAR); P5 starts outside the policy zones
SCORES = {
    "P1": (50, 50, 50),
    "P2": (20, 20, 60),
    "P3": (30, 10, 10),
    "P4": (80, 80, 80),
    "P5": (90, 90, 90),
}


@pytest.fixture
def preset(tmp_path: Path) -> str:
    path = tmp_path / "far_only.yaml"
    path.write_text(PRESET_YAML, encoding="utf-8")
    return str(path)


@pytest.fixture
def panel() -> pd.DataFrame:
    rows = []
    for block, scores in SCORES.items():
        for year, s in zip((2021, 2022, 2023), scores, strict=True):
            rows.append({"block_id": block, "year": year, "subpark": "海淀园", "policy_zone": block != "P5",
                         "built_m2": 10_000.0, "gfa_m2": 10_000.0 * s / 10.0})
    return pd.DataFrame(rows)


def _status(table: pd.DataFrame) -> dict[tuple[str, int], str]:
    return {(r.block_id, r.year): r.status for r in table.itertuples()}


def test_scores_by_hand(panel: pd.DataFrame, preset: str) -> None:
    s = dynamic.unit_scores(panel, preset=preset)
    assert s.loc[("P2", 2023), "score"] == pytest.approx(60.0)
    assert not s.loc[("P5", 2021), "member"] and s.loc[("P1", 2021), "member"]


def test_hand_built_panel_statuses(panel: pd.DataFrame, preset: str) -> None:
    rules = {"preset": preset, "warning": {"bottom_pct": 25, "below_score": 25},
             "exit": {"after_consecutive_warnings": 2, "max_per_round": 1},
             "admission": {"min_score": 85, "max_per_round": 1}}
    got = _status(dynamic.evaluate_panel(panel, rules))
    expected = {
        # 2021: members P1-P4; P2 is lowest (bottom 25 %) and below 25; P5 (90) is admitted
        ("P1", 2021): "normal", ("P2", 2021): "warning", ("P3", 2021): "normal", ("P4", 2021): "normal",
        ("P5", 2021): "admitted",
        # 2022: five members; P3 (10) and P2 (20) are in the bottom 25 % (0 % and 20 % score lower);
        # P2 is warned for the second time in a row and exits
        ("P1", 2022): "normal", ("P2", 2022): "exit", ("P3", 2022): "warning", ("P4", 2022): "normal",
        ("P5", 2022): "normal",
        # 2023: P2 is outside (60 < 85); P3 is warned again and exits
        ("P1", 2023): "normal", ("P2", 2023): "outside", ("P3", 2023): "exit", ("P4", 2023): "normal",
        ("P5", 2023): "normal",
    }
    assert got == expected


def test_exit_cap_defers_the_higher_score(panel: pd.DataFrame, preset: str) -> None:
    rules = {"preset": preset, "warning": {"below_score": 35},
             "exit": {"after_consecutive_warnings": 2, "max_per_round": 1}}
    table = dynamic.evaluate_panel(panel, rules)
    got = _status(table)
    assert got[("P2", 2021)] == got[("P3", 2021)] == "warning"
    assert got[("P3", 2022)] == "exit"  # lowest score of the two due
    assert got[("P2", 2022)] == "warning"
    reason = table.set_index(["block_id", "year"]).loc[("P2", 2022), "reason"]
    assert "exit deferred by the cap of exits per round" in reason
    assert got[("P2", 2023)] == "normal"  # 60: the streak is broken
    assert got[("P5", 2022)] == "outside"  # no admission rule


def test_min_members_defers_exits(panel: pd.DataFrame, preset: str) -> None:
    rules = {"preset": preset, "min_members": 3, "warning": {"below_score": 35},
             "exit": {"after_consecutive_warnings": 1}}
    table = dynamic.evaluate_panel(panel, rules).set_index(["block_id", "year"])
    assert table.loc[("P2", 2021), "status"] == "exit"  # 20: the lower of the two due; 4 - 1 = 3 members left
    assert table.loc[("P3", 2021), "status"] == "warning"
    assert "exit deferred by min_members 3" in table.loc[("P3", 2021), "reason"]
    for floor in (4, 9):  # the 4 members of 2021 (P5 starts outside): no exit could ever happen
        with pytest.raises(RulesError, match=rf"min_members {floor} is at or above the 4 members in the first year "
                                             r"\(2021, members='policy_zone'\).*set min_members below 4"):
            dynamic.evaluate_panel(panel.reset_index(drop=True), {**rules, "min_members": floor})


def test_members_all_with_admission_is_refused() -> None:
    rules = {"members": "all", "warning": {"bottom_pct": 10}, "admission": {"min_score": 80}}
    with pytest.raises(RulesError, match=r"members is 'all'.*readmit_exited is false: no unit can ever be admitted"):
        dynamic.load_rules(rules)
    ok = dynamic.load_rules({**rules, "admission": {"min_score": 80, "readmit_exited": True}})
    assert ok.admission is not None and ok.admission.readmit_exited


def test_grouped_units(panel: pd.DataFrame, preset: str) -> None:
    grouped = panel.assign(cluster=panel["block_id"].map({"P1": "K1", "P2": "K1", "P3": "K2", "P4": "K2",
                                                          "P5": "K3"}))
    table = dynamic.evaluate_panel(grouped, {"preset": preset, "unit": "cluster", "warning": {"bottom_pct": 40}})
    k1 = table[(table["cluster"] == "K1") & (table["year"] == 2021)].iloc[0]
    assert k1["score"] == pytest.approx(35.0) and k1["status"] == "warning"  # ratio of sums: (5+2)/2 FAR


def test_contradictory_and_invalid_rules(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="admission.min_score 40 is below warning.below_score 50"):
        dynamic.load_rules({"warning": {"below_score": 50}, "admission": {"min_score": 40}})
    with pytest.raises(RulesError, match="exit.max_per_round is 0"):
        dynamic.load_rules({"warning": {"bottom_pct": 10}, "exit": {"max_per_round": 0}})
    with pytest.raises(RulesError, match="admission.max_per_round is 0"):
        dynamic.load_rules({"warning": {"bottom_pct": 10}, "admission": {"min_score": 90, "max_per_round": 0}})
    with pytest.raises(RulesError, match="give at least one of `bottom_pct` or `below_score`"):
        dynamic.load_rules({"warning": {}})
    with pytest.raises(RulesError, match="warning.bottom_pct: Input should be less than 100"):
        dynamic.load_rules({"warning": {"bottom_pct": 100}})
    path = tmp_path / "rules.yaml"
    path.write_text("warning:\n  bottom_pct: 10\nexit:\n  after_consecutive_warning: 2\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules .*rules.yaml are invalid: exit.after_consecutive_warning \(line 4\)"):
        dynamic.load_rules(path)
    path.write_text("warning: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        dynamic.load_rules(path)
    with pytest.raises(RulesError, match="cannot read rules file"):
        dynamic.load_rules(tmp_path / "missing.yaml")


def test_panel_errors(panel: pd.DataFrame, preset: str) -> None:
    with pytest.raises(ColumnError, match=r"panel lacks column\(s\) \['policy_zone'\]"):
        dynamic.evaluate_panel(panel.drop(columns="policy_zone"), {"preset": preset, "warning": {"bottom_pct": 10}})
    with pytest.raises(RulesError, match="years must be a whole number"):
        dynamic.simulate(panel, {"preset": preset, "warning": {"bottom_pct": 10}}, years=0)


def test_simulate_flat_hand_panel(panel: pd.DataFrame, preset: str) -> None:
    rules = {"preset": preset, "warning": {"below_score": 35}, "exit": {"after_consecutive_warnings": 2}}
    sim = dynamic.simulate(panel, rules, years=2, assumptions={"trend": "flat"},
                           peers=pd.DataFrame({"zone_id": ["A"], "score": [55.0]}))
    z = sim.zone
    assert z.index.tolist() == [2021, 2022, 2023, 2024, 2025]
    # P2 and P3 exit in 2022; from 2023 the policy zones are P1 and P4: FAR (5 + 8) / 2
    assert z.loc[2023, "members"] == 2 and z.loc[2023, "far"] == pytest.approx(6.5)
    assert z.loc[2024, "score"] == pytest.approx(65.0) and z.loc[2024, "rank"] == 1
    assert z.loc[2024, "score_static"] == pytest.approx(10 * (5 + 6 + 1 + 8) / 4) and z.loc[2024, "rank_static"] == 2
    assert sim.status["simulated"].sum() == 10 and z["simulated"].tolist() == [False, False, False, True, True]


def test_simulate_trend_sample() -> None:
    from zgc_space import datasets

    sim = dynamic.simulate(datasets.load_panel(), {"warning": {"bottom_pct": 10}}, years=1)
    last = sim.panel[sim.panel["year"] == 2024]
    assert len(last) == 164 and (sim.zone["exits"] > 0).sum() >= 1
    assert "score_static" in sim.zone.columns


def test_cli_dynamic(tmp_path: Path, capsys: pytest.CaptureFixture[str], panel: pd.DataFrame, preset: str) -> None:
    import json

    import geopandas as gpd
    from shapely import box

    gdf = gpd.GeoDataFrame(panel, geometry=[box(0, 0, 100, 100)] * len(panel), crs="EPSG:4548")
    ppath = tmp_path / "panel.gpkg"
    gdf.to_file(ppath)
    rpath = tmp_path / "rules.yaml"
    rpath.write_text(f"preset: {preset}\nwarning:\n  below_score: 35\nexit:\n  after_consecutive_warnings: 2\n",
                     encoding="utf-8")
    assert cli.main(["dynamic", str(ppath), "--rules", str(rpath), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["block_id"] for r in out["status"] if r["status"] == "exit"} == {"P2", "P3"}
    assert cli.main(["dynamic", str(ppath), "--rules", str(rpath), "--simulate", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["year"] for r in out["zone"]] == [2021, 2022, 2023, 2024, 2025]
    assert cli.main(["dynamic", str(ppath), "--rules", str(rpath)]) == 0
    assert "exit" in capsys.readouterr().out
    rpath.write_text("warning: {below_score: 60}\nadmission: {min_score: 50}\n", encoding="utf-8")
    assert cli.main(["dynamic", str(ppath), "--rules", str(rpath)]) == 1
    assert "admission.min_score 50 is below" in capsys.readouterr().err


def test_example_rules_file_matches_the_constant() -> None:
    path = Path(__file__).resolve().parent.parent / "sample_data" / "dynamic_rules.yaml"
    assert dynamic.load_rules(path) == dynamic.EXAMPLE_RULES


def test_repeated_key_in_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("warning:\n  bottom_pct: 10\nexit:\n  max_per_round: 3\nwarning:\n  below_score: 50\n",
                    encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules .*rules.yaml: key 'warning' at line 5 repeats 'warning' from line 1"):
        dynamic.load_rules(path)
