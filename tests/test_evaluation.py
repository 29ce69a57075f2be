"""Tests for zgc_space.evaluation: zone type, presets, standardisation, scores, contributions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from zgc_space import evaluation as ev
from zgc_space.errors import (
    BlockValidationError,
    ColumnError,
    MissingDataError,
    ParameterError,
    PresetError,
    PresetWarning,
    ValidationWarning,
)
from zgc_space.indicators import INDICATORS

PRESET_DIR = Path(ev.__file__).parent / "presets"
CIC = ["supply_rate_pct", "completion_rate_pct", "far", "building_density_pct", "tax_10k_cny_per_ha",
       "population_per_ha", "idle_rate_pct"]

# Hand-computed effective weights of cic_default (goal × sub-goal × indicator, re-normalised)
W = {
    "supply_rate_pct": 0.7 * (1 / 3) * 0.5,
    "completion_rate_pct": 0.7 * (1 / 3) * 0.5,
    "far": 0.7 * (2 / 3) * 0.532,
    "building_density_pct": 0.7 * (2 / 3) * 0.468,
    "tax_10k_cny_per_ha": 0.2 * 0.5,
    "population_per_ha": 0.2 * 0.5,
    "idle_rate_pct": 0.1,
}


@pytest.fixture
def zone() -> pd.DataFrame:
    return pd.DataFrame(
        {"supply_rate_pct": [95.0], "completion_rate_pct": [90.0], "far": [1.18],
         "building_density_pct": [24.0], "tax_10k_cny_per_ha": [2600.0], "population_per_ha": [45.0],
         "idle_rate_pct": [1.0]},
        index=["ZGC"],
    )


# standardised scores by hand: 95/100, 90/100, 1.18/2.5, 24/50, 2600/2500 capped, 45/200, (100-1)/100
S_ZONE = {"supply_rate_pct": 95.0, "completion_rate_pct": 90.0, "far": 47.2, "building_density_pct": 48.0,
          "tax_10k_cny_per_ha": 100.0, "population_per_ha": 22.5, "idle_rate_pct": 99.0}
SCORE = 65.9347  # = sum(W[i] * S_ZONE[i]), by hand to 4 decimals


def _write(tmp_path: Path, data: dict, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cic_dict() -> dict:
    return yaml.safe_load((PRESET_DIR / "cic_default.yaml").read_text(encoding="utf-8"))


# ---- zone type -------------------------------------------------------------------------------


def test_zone_type_edges():
    frame = pd.DataFrame({
        "industrial_share_pct": [30.0, 30.0001, 30.0, 31.0, 10.0, np.nan, 29.0],
        "residential_share_pct": [25.0, 24.99, 24.9, 26.0, 40.0, 30.0, 24.0],
    }, index=list("abcdefg"))
    got = ev.zone_type(frame)
    assert got.tolist() == ["city_industry", "industry_led", "other", "other", "city_industry", "other",
                            "other"]
    assert got.index.tolist() == list("abcdefg")
    assert ev.zone_type(frame.loc["b"]) == "industry_led"


def test_zone_type_thresholds_are_parameters():
    row = pd.Series({"industrial_share_pct": 35.0, "residential_share_pct": 20.0})
    assert ev.zone_type(row) == "industry_led"
    assert ev.zone_type(row, industrial_min_pct=40.0, residential_min_pct=20.0) == "city_industry"


def test_zone_type_missing_column():
    with pytest.raises(ColumnError, match="residential_share_pct"):
        ev.zone_type(pd.DataFrame({"industrial_share_pct": [10.0]}))


# ---- presets ---------------------------------------------------------------------------------


def test_list_presets():
    table = ev.list_presets()
    assert table.index.tolist() == ["cic_default", "heilongjiang_2015_example", "industry_led_default"]
    assert table.loc["industry_led_default", "zone_type"] == "industry_led"
    assert table.loc["cic_default", "indicators"] == 7


def test_every_preset_indicator_is_known_and_has_a_source():
    for name in ev.list_presets().index:
        p = ev.load_preset(name)
        for ind, spec in p.indicators.items():
            assert ind in INDICATORS
            assert spec.source
            assert spec.direction == ("negative" if INDICATORS[ind].direction == "negative" else "positive")


def test_cic_default_weights_by_hand():
    leaves = ev.load_preset("cic_default").leaf_weights()
    for ind, w in W.items():
        assert leaves[ind][2] == pytest.approx(w, rel=1e-9)
    assert sum(v[2] for v in leaves.values()) == pytest.approx(1.0)


def test_heilongjiang_renormalised_by_hand():
    leaves = ev.load_preset("heilongjiang_2015_example").leaf_weights()
    # 结构 (0.25) is dropped: 程度 0.25/0.75, 强度 0.5/0.75; FAR 0.25/0.47, density 0.22/0.47
    assert leaves["far"][2] == pytest.approx(0.7 * (0.5 / 0.75) * (0.25 / 0.47))
    assert leaves["building_density_pct"][2] == pytest.approx(0.7 * (0.5 / 0.75) * (0.22 / 0.47))
    assert leaves["supply_rate_pct"][2] == pytest.approx(0.7 * (0.25 / 0.75) * 0.5)
    assert sum(v[2] for v in leaves.values()) == pytest.approx(1.0)
    text = (PRESET_DIR / "heilongjiang_2015_example.yaml").read_text(encoding="utf-8")
    assert "did NOT re-normalise" in text and "above 100" in text


def test_load_preset_by_path_and_object(tmp_path):
    p = ev.load_preset(PRESET_DIR / "industry_led_default.yaml")
    assert p.name == "industry_led_default"
    assert ev.load_preset(p) is p


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["goals"]["utilisation"].__setitem__("weight", -0.7), r"goals\.utilisation\.weight"),
        (lambda d: d["goals"]["efficiency"]["subgoals"]["output"]["indicators"].__setitem__("tax_10k_cny_per_ha", 0),
         r"goals\.efficiency\.subgoals\.output\.indicators.*positive"),
        (lambda d: d["goals"]["management"]["subgoals"]["idle"]["indicators"].__setitem__("vacancy_pct", 1.0),
         r"goals\.management\.subgoals\.idle\.indicators\.vacancy_pct: unknown indicator"),
        (lambda d: d["indicators"].pop("far"), r"indicators\.far: no ideal value"),
        (lambda d: d["indicators"]["far"].pop("ideal"), r"indicators\.far\.ideal: Field required"),
        (lambda d: d["indicators"]["far"].__setitem__("ideal", 0), r"indicators\.far\.ideal: must be > 0"),
        (lambda d: d["indicators"]["idle_rate_pct"].__setitem__("ideal", 100),
         r"indicators\.idle_rate_pct\.ideal: must be in \[0, 100\)"),
        (lambda d: d.__setitem__("wieghts", 1), r"wieghts: Extra inputs are not permitted"),
        (lambda d: d["ranges"].__setitem__("main", 0), r"ranges\.main"),
        (lambda d: d["indicators"]["far"].__setitem__("source", ""), r"indicators\.far\.source"),
    ],
)
def test_preset_validation_errors_name_file_and_key(tmp_path, edit, match):
    data = _cic_dict()
    edit(data)
    path = _write(tmp_path, data, "bad_preset.yaml")
    with pytest.raises(PresetError, match=match) as info:
        ev.load_preset(path)
    assert "bad_preset.yaml" in str(info.value)


def test_preset_file_errors(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(PresetError, match="broken.yaml is not valid YAML"):
        ev.load_preset(bad)
    listy = _write(tmp_path, [1, 2], "list.yaml")  # type: ignore[arg-type]
    with pytest.raises(PresetError, match="list.yaml: top level must be a mapping"):
        ev.load_preset(listy)
    with pytest.raises(PresetError, match="does not exist"):
        ev.load_preset(tmp_path / "missing.yaml")
    with pytest.raises(PresetError, match="unknown preset 'nope'.*cic_default"):
        ev.load_preset("nope")


# ---- standardisation -------------------------------------------------------------------------


def test_standardise_positive_capped_and_complement():
    x = pd.DataFrame({"far": [0.0, 1.0, 2.0, 3.0], "idle_rate_pct": [0.0, 5.0, 100.0, np.nan]})
    s = ev.standardise(x)
    assert s["far"].tolist() == [0.0, 40.0, 80.0, 100.0]
    assert s["idle_rate_pct"].iloc[:3].tolist() == [100.0, 95.0, 0.0]
    assert math.isnan(s["idle_rate_pct"].iloc[3])


def test_standardise_preset_is_keyword_only():
    x = pd.DataFrame({"far": [1.0]})
    with pytest.raises(TypeError, match="positional argument"):
        ev.standardise(x, "cic_default")
    assert ev.standardise(x, preset="cic_default").loc[0, "far"] == 40.0


def test_standardise_negative_ratio_form(tmp_path):
    data = _cic_dict()
    data["indicators"]["idle_rate_pct"] |= {"negative_form": "ratio", "ideal": 2.0}
    p = ev.load_preset(_write(tmp_path, data))
    s = ev.standardise(pd.DataFrame({"idle_rate_pct": [0.0, 1.0, 2.0, 4.0, 8.0]}), preset=p)
    assert s["idle_rate_pct"].tolist() == [100.0, 100.0, 100.0, 50.0, 25.0]


def test_standardise_complement_with_nonzero_ideal(tmp_path):
    data = _cic_dict()
    data["indicators"]["idle_rate_pct"]["ideal"] = 20.0
    p = ev.load_preset(_write(tmp_path, data))
    s = ev.standardise(pd.DataFrame({"idle_rate_pct": [10.0, 20.0, 60.0]}), preset=p)
    assert s["idle_rate_pct"].tolist() == pytest.approx([100.0, 100.0, 50.0])  # (100-60)/(100-20)


# ---- scores ----------------------------------------------------------------------------------


def test_score_by_hand(zone):
    out = ev.score(zone)
    expected = sum(W[i] * S_ZONE[i] for i in W)
    assert out.loc["ZGC", "score"] == pytest.approx(expected)
    assert out.loc["ZGC", "score"] == pytest.approx(SCORE, abs=1e-4)
    assert out.loc["ZGC", "score_intensity"] == pytest.approx(0.532 * 47.2 + 0.468 * 48)
    assert out.loc["ZGC", "score_output"] == pytest.approx(61.25)
    assert out.loc["ZGC", "score_utilisation"] == pytest.approx((92.5 + 2 * (0.532 * 47.2 + 0.468 * 48)) / 3)
    assert out.loc["ZGC", "s_far"] == pytest.approx(47.2)
    assert out.attrs["preset"] == "cic_default" and out.attrs["missing_indicators"] == []
    assert out.attrs["renormalised_rows"] == 0


def test_score_series_and_input_untouched(zone):
    before = zone.copy()
    one = ev.score(zone.iloc[0])
    assert one["score"].iloc[0] == pytest.approx(SCORE, abs=1e-4)
    pd.testing.assert_frame_equal(zone, before)


def test_renormalisation_missing_column(zone):
    with pytest.warns(PresetWarning, match="population_per_ha missing from the table"):
        out = ev.score(zone.drop(columns="population_per_ha"))
    # tax takes the whole 0.2 of 用地效益
    w = dict(W, tax_10k_cny_per_ha=0.2, population_per_ha=0.0)
    assert out.loc["ZGC", "score"] == pytest.approx(sum(w[i] * S_ZONE[i] for i in w))
    assert out.attrs["missing_indicators"] == ["population_per_ha"]
    assert out.attrs["weights"].loc["ZGC", "tax_10k_cny_per_ha"] == pytest.approx(0.2)


def test_renormalisation_nan_row_and_whole_subgoal(zone):
    frame = pd.concat([zone, zone.rename(index={"ZGC": "B"})])
    frame.loc["B", ["tax_10k_cny_per_ha", "population_per_ha"]] = np.nan  # 用地效益 goal empty
    with pytest.warns(PresetWarning, match="1 row"):
        out = ev.score(frame)
    # goal weights 0.7 / 0.1 re-normalised to 7/8 and 1/8
    util = (92.5 + 2 * (0.532 * 47.2 + 0.468 * 48)) / 3
    assert out.loc["B", "score"] == pytest.approx(7 / 8 * util + 1 / 8 * 99.0)
    assert math.isnan(out.loc["B", "score_efficiency"])
    assert out.attrs["renormalised_rows"] == 1
    assert out.loc["ZGC", "score"] == pytest.approx(SCORE, abs=1e-4)


@pytest.mark.parametrize("func", [ev.score, ev.standardise, ev.contributions])
def test_text_indicator_value_is_an_error_not_a_missing_value(zone, func):
    frame = pd.concat([zone, zone.rename(index={"ZGC": "HD"})]).astype({"far": object})
    frame.loc["HD", "far"] = "abc"  # a typo must not be re-normalised away (the score would go up)
    pattern = r"indicator 'far' holds text that is not a number in row\(s\) HD \(e\.g\. 'abc'\)"
    with pytest.raises(BlockValidationError, match=pattern):
        func(frame, preset="cic_default")
    frame.loc["HD", "far"] = "1.18"  # a number written as text is fine
    assert func(frame, preset="cic_default").loc["HD"].equals(func(zone, preset="cic_default").loc["ZGC"])


def test_text_indicator_value_in_a_series(zone):
    row = zone.iloc[0].astype(object)
    row["idle_rate_pct"] = "n/a"
    with pytest.raises(BlockValidationError, match=r"indicator 'idle_rate_pct' holds text .*'n/a'"):
        ev.score(row)


def test_all_missing_row_scores_nan(zone):
    frame = zone.copy()
    frame.loc["ZGC", :] = np.nan
    with pytest.warns(PresetWarning):
        out = ev.score(frame)
    assert math.isnan(out.loc["ZGC", "score"])


def test_expansion_range_weights(zone):
    exp_ = zone.copy()
    exp_["far"] = 2.5  # S = 100 in the expansion range
    exp_["development_rate_pct"] = 90.0  # the expansion range's 程度 uses it, here equal to completion
    out = ev.score(zone, expansion=exp_)
    f_main = SCORE
    f_exp = f_main + W["far"] * (100.0 - 47.2)
    assert out.loc["ZGC", "score"] == pytest.approx(0.8 * f_main + 0.2 * f_exp, abs=1e-4)
    assert out.loc["ZGC", "score_main"] == pytest.approx(f_main, abs=1e-4)


def test_contributions_by_hand(zone):
    c = ev.contributions(zone)
    assert c.loc["ZGC", "far"] == pytest.approx(W["far"] * (47.2 - 100.0))
    assert c.loc["ZGC", "tax_10k_cny_per_ha"] == 0.0
    assert c.sum(axis=1).loc["ZGC"] == pytest.approx(ev.score(zone)["score"].loc["ZGC"] - 100.0)


def test_contributions_missing_indicator_is_nan(zone):
    with pytest.warns(PresetWarning):
        c = ev.contributions(zone.drop(columns="far"))
    assert math.isnan(c.loc["ZGC", "far"])
    with pytest.warns(PresetWarning):
        total = ev.score(zone.drop(columns="far"))["score"].loc["ZGC"]
    assert c.sum(axis=1).loc["ZGC"] == pytest.approx(total - 100.0)


_VALUE = st.one_of(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.just(0.0))


@settings(max_examples=30, deadline=None)
@given(values=st.lists(_VALUE, min_size=len(INDICATORS), max_size=len(INDICATORS)))
def test_scores_within_0_100_for_every_preset(values):
    row = pd.DataFrame([dict(zip(INDICATORS, values, strict=True))])
    for col in row.columns:  # rates are percentages
        if col.endswith("_pct"):
            row[col] = row[col] % 100.0
    for name in ("cic_default", "heilongjiang_2015_example", "industry_led_default"):
        out = ev.score(row, preset=name)
        assert 0.0 <= out["score"].iloc[0] <= 100.0
        c = ev.contributions(row, preset=name)
        assert c.sum(axis=1).iloc[0] == pytest.approx(out["score"].iloc[0] - 100.0, abs=1e-9)


# ---- score_blocks: the two evaluation ranges, missing data ---------------------------------------


def _range_blocks(**changes: float) -> pd.DataFrame:
    """Two 1-ha main blocks and one 1-ha expansion block, every number hand-chosen."""
    frame = pd.DataFrame({
        "block_id": ["M1", "M2", "E1"], "range": ["主区", "main", "发展方向区"],
        "built_m2": [8000.0, 6000.0, 2000.0], "ready_m2": [1000.0, 2000.0, 2000.0],
        "unready_m2": [1000.0, 2000.0, 4000.0], "supplied_m2": [8500.0, 7000.0, 3000.0],
        "idle_m2": [0.0, 0.0, 500.0], "gfa_m2": [12000.0, 9000.0, 2000.0],
        "footprint_m2": [3000.0, 2400.0, 600.0], "tax_10k_cny": [1600.0, 1200.0, 100.0],
        "population": [80.0, 60.0, 10.0],
    })
    for col, value in changes.items():
        frame.loc[frame["block_id"] == "E1", col] = value
    return frame


def test_expansion_range_uses_the_development_rate():
    """TD/T 1029 (2014): the expansion range's 程度 sub-goal scores 开发率 (A + B21) / (A + B), not 建成率 A / D."""
    base = ev.score_blocks(_range_blocks())
    # E1 alone: development (2000 + 2000) / 8000 = 50 %, completion 2000 / 3000 = 66.7 %
    exp_ind = base.attrs["expansion_indicators"].iloc[0]
    assert exp_ind["development_rate_pct"] == pytest.approx(50.0)
    f_main, f_exp = base["score_main"].iloc[0], base["score_expansion"].iloc[0]
    assert base["score"].iloc[0] == pytest.approx(0.8 * f_main + 0.2 * f_exp)
    # by hand: the expansion score's completion slot holds 50 % (S = 50) with weight 0.7 · 1/3 · 0.5
    expansion_ind = base.attrs["expansion_indicators"].assign(completion_rate_pct=50.0)
    by_hand = ev.score(expansion_ind.drop(columns="development_rate_pct"))["score"].iloc[0]
    assert base["score_expansion"].iloc[0] == pytest.approx(by_hand)
    # less land not yet ready (B22 4000 → 2000 m²): development rate 4000 / 6000, supply and
    # completion rates unchanged, so the expansion score gains exactly w · (66.7 − 50)
    dev = ev.score_blocks(_range_blocks(unready_m2=2000.0))
    assert dev.attrs["expansion_indicators"]["completion_rate_pct"].iloc[0] == pytest.approx(200 / 3)
    assert dev["score_expansion"].iloc[0] - f_exp == pytest.approx(0.7 * (1 / 3) * 0.5 * (200 / 3 - 50.0))
    # completion rate changed alone (less supplied land, development rate unchanged): no effect on 程度
    comp = ev.score_blocks(_range_blocks(supplied_m2=2500.0))
    assert comp.attrs["expansion_indicators"]["completion_rate_pct"].iloc[0] == pytest.approx(80.0)
    s_new = ev.standardise(comp.attrs["expansion_indicators"]).iloc[0]
    s_old = ev.standardise(base.attrs["expansion_indicators"]).iloc[0]
    moved = sum(W[i] * (s_new[i] - s_old[i]) for i in W if i != "completion_rate_pct")  # supply and idle rates
    assert comp["score_expansion"].iloc[0] - f_exp == pytest.approx(moved)
    assert comp["score_main"].iloc[0] == base["score_main"].iloc[0]


def test_range_column_values():
    assert ev.block_ranges(pd.DataFrame({"range": ["主区", "发展方向区", None, "Expansion"]})).tolist() == [
        "main", "expansion", "main", "expansion"]
    with pytest.raises(ColumnError, match=r"unknown value\(s\) \['east'\] in blocks \['B1'\]"):
        ev.block_ranges(pd.DataFrame({"block_id": ["B1"], "range": ["east"]}))
    assert "range" in __import__("zgc_space").schema.COLUMNS
    assert __import__("zgc_space").schema.ALIASES["评价范围"] == "range"


def test_missing_block_value_refuses_naming_block_column_and_share():
    blocks = _range_blocks().assign(range="main")
    blocks.loc[1, "population"] = np.nan
    expected = r"population in block\(s\) M2 \(feeds population_per_ha; carries up to 38 %"
    with pytest.raises(MissingDataError, match=expected) as err:
        ev.score_blocks(blocks)
    table = err.value.table
    assert table.to_dict(orient="records") == [{"block_id": "M2", "column": "population",
                                                 "indicators": "population_per_ha",
                                                 "share_of_denominator_pct": pytest.approx(600 / 16)}]
    with pytest.warns(PresetWarning, match="re-normalised"):
        dropped = ev.score_blocks(blocks, missing="drop-indicator")
    assert np.isnan(dropped.attrs["indicators"]["population_per_ha"].iloc[0])
    with pytest.warns(ValidationWarning, match="left out of the evaluation.*M2"):
        without = ev.score_blocks(blocks, missing="drop-blocks")
    assert without["score"].iloc[0] == pytest.approx(ev.score_blocks(blocks.drop(index=1))["score"].iloc[0])
    with pytest.raises(ParameterError, match="missing must be one of"):
        ev.score_blocks(blocks, missing="ignore")
