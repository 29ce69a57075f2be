import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from zgc_space import capacity, io, ranking, scenarios
from zgc_space.cli import main
from zgc_space.errors import ColumnError, ProposalError
from zgc_space.scenarios.proposal import (
    Admit,
    Constraints,
    Elasticity,
    Merge,
    Proposal,
    Release,
    Renew,
    Rezone,
    parse_proposal,
    read_proposal,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
PEERS = pd.DataFrame({"zone_id": [f"Z{i}" for i in range(10)], "score": np.linspace(10.0, 95.0, 10)})


@pytest.fixture(scope="module")
def blocks():
    return io.read_blocks(SAMPLE / "zgc_blocks.gpkg")


@pytest.fixture(scope="module")
def candidates():
    return gpd.read_file(SAMPLE / "candidates.gpkg")


def tiny():
    """Two 1-ha blocks side by side, a third 200 m away; numbers chosen to hand-compute."""
    return gpd.GeoDataFrame(
        {
            "block_id": ["B1", "B2", "B3"], "name": ["a", "b", "c"], "subpark": ["海淀园", "海淀园", "海淀园"],
            "built_m2": [6_000.0, 8_000.0, 5_000.0], "ready_m2": [2_000.0, 1_000.0, 0.0],
            "unready_m2": [1_000.0, 0.0, 0.0], "nonconstruction_m2": [1_000.0, 1_000.0, 5_000.0],
            "supplied_m2": [7_000.0, 8_500.0, 5_000.0], "gfa_m2": [6_000.0, 16_000.0, 5_000.0],
            "industrial_gfa_m2": [3_000.0, 0.0, 0.0],
            "revenue_10k_cny": [100.0, 400.0, 50.0], "tax_10k_cny": [10.0, 40.0, 5.0],
            "employees": [60.0, 200.0, 10.0], "enterprises": [3, 9, 1], "far_cap": [1.2, 3.0, 2.0],
            "footprint_m2": [2_000.0, 4_000.0, 1_000.0], "population": [10.0, 50.0, 0.0],
            "idle_m2": [0.0, 0.0, 0.0],
        },
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(400, 0, 500, 100)], crs="EPSG:4548",
    )


def mk(**kw):
    return Proposal(id=kw.pop("id", "T"), title="test", **kw)


def square(x0, y0, size):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                                                [x0, y0 + size], [x0, y0]]]}


# --- apply: identities and determinism ------------------------------------------------------


def test_empty_proposal_returns_the_baseline(blocks):
    result = scenarios.apply(blocks, mk())
    assert_geodataframe_equal(result.blocks, blocks)
    assert result.changes.empty and result.feasible


def test_release_then_admit_same_land_returns_the_baseline(blocks):
    row = blocks[blocks["block_id"] == "B042"].iloc[0]
    attrs = {c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()
             if c not in ("geometry", "block_id", "site_area_m2")}
    prop = mk(release=[Release(block="B042")],
             admit=[Admit(geometry=_geojson(row.geometry), block_id="B042", attributes=attrs)])
    result = scenarios.apply(blocks, prop)
    assert [c["change"] for c in result.changes.to_dict("records")] == ["released", "admitted"]
    assert not result.violations
    got = result.blocks.set_index("block_id").sort_index()
    want = blocks.set_index("block_id").sort_index()
    assert_geodataframe_equal(got, want)  # exactly: same coordinates, same values


def _geojson(geom):
    mapped = shapely.geometry.mapping(geom)

    def lists(x):
        return [lists(v) for v in x] if isinstance(x, (list, tuple)) else float(x)

    return {"type": mapped["type"], "coordinates": lists(mapped["coordinates"])}


def test_apply_is_deterministic_and_pure(blocks, candidates):
    before = blocks.copy()
    prop = read_proposal(SAMPLE / "proposals/p01_release_outer_admit_core.yaml")
    a = scenarios.apply(blocks, prop, candidates=candidates)
    b = scenarios.apply(blocks, prop, candidates=candidates)
    assert_geodataframe_equal(a.blocks, b.blocks)
    pd.testing.assert_frame_equal(a.changes, b.changes)
    assert_geodataframe_equal(blocks, before)
    assert len(a.blocks) == len(blocks) - 4 + 2
    assert a.blocks["block_id"].tolist()[-2:] == ["C01", "C05"]
    assert a.changes["line"].tolist() == [13, 15, 17, 19, 22, 24]


# --- operations by hand ---------------------------------------------------------------------


def test_renew_to_target_and_by_step_with_elasticities():
    base = tiny()
    prop = mk(renew=[Renew(blocks=["B1"], far_target=1.5, elasticity=Elasticity(revenue=0.8, tax=0.5)),
                    Renew(blocks=["B2"], far_step=0.5)])
    out = scenarios.apply(base, prop).blocks.set_index("block_id")
    # B1: gfa 6000 -> 1.5 * 6000 = 9000 (+50 %): revenue +40 %, tax +25 %, employees unchanged
    assert out.loc["B1", "gfa_m2"] == 9_000.0
    assert out.loc["B1", "industrial_gfa_m2"] == pytest.approx(4_500.0)
    assert out.loc["B1", "revenue_10k_cny"] == pytest.approx(140.0)
    assert out.loc["B1", "tax_10k_cny"] == pytest.approx(12.5)
    assert out.loc["B1", "employees"] == 60.0
    # B2: 16000 + 0.5 * 8000 = 20000; no elasticity: economy unchanged
    assert out.loc["B2", "gfa_m2"] == 20_000.0 and out.loc["B2", "revenue_10k_cny"] == 400.0
    # a target below the current FAR never lowers floor area
    low = scenarios.apply(base, mk(renew=[Renew(blocks=["B2"], far_target=1.0)])).blocks
    assert low.loc[low["block_id"] == "B2", "gfa_m2"].item() == 16_000.0


def test_renew_above_far_cap_is_a_violation():
    # B1: far_cap 1.2 on A + B = 9000 m² permits 10800 m²; FAR 2 on 6000 m² built gives 12000
    result = scenarios.apply(tiny(), mk(renew=[Renew(blocks=["B1"], far_target=2.0)]))
    assert [v.rule for v in result.violations] == ["far-cap"]
    assert "1,200 m²" in result.violations[0].message


def test_rezone_moves_land_and_keeps_nesting():
    base = tiny()
    out = scenarios.apply(base, mk(rezone=[Rezone(block="B1", **{"from": "nonconstruction"}, to="ready")])).blocks
    row = out.set_index("block_id").loc["B1"]
    assert (row["nonconstruction_m2"], row["ready_m2"]) == (0.0, 3_000.0)
    # moving ready land away would leave supplied D (8500) above A + B21 (8000): refused
    with pytest.raises(ProposalError, match=r"rezoning 1,000 m² of block B2 .* breaks the land accounting: "
                                            r"supplied D must lie within developed A \+ B21"):
        scenarios.apply(base, mk(rezone=[Rezone(block="B2", **{"from": "ready"}, to="nonconstruction")]))
    with pytest.raises(ProposalError, match=r"leaves a negative area"):
        scenarios.apply(base, mk(rezone=[Rezone(block="B1", **{"from": "unready"}, to="ready", area_m2=5_000)]))


def test_partial_release_keeps_proportional_values():
    base = tiny()
    prop = mk(release=[Release(block="B1", part=square(0, 0, 50) | {"coordinates": [[[0, 0], [25, 0], [25, 100],
                                                                                     [0, 100], [0, 0]]]})])
    result = scenarios.apply(base, prop)
    row = result.blocks.set_index("block_id").loc["B1"]
    assert row.geometry.area == pytest.approx(7_500.0)
    assert row["built_m2"] == pytest.approx(4_500.0) and row["gfa_m2"] == pytest.approx(4_500.0)
    assert row["enterprises"] == 3  # counts are not scaled
    assert result.changes["change"].tolist() == ["part-released"]
    with pytest.raises(ProposalError, match=r"does not overlap block B1"):
        scenarios.apply(base, mk(release=[Release(block="B1", part=square(1_000, 1_000, 10))]))


def test_merge_sums_and_weights_far_cap():
    result = scenarios.apply(tiny(), mk(merge=[Merge(blocks=["B1", "B2"], into="M1", name="unit")]))
    out = result.blocks.set_index("block_id")
    assert list(out.index) == ["B3", "M1"]
    m = out.loc["M1"]
    assert m["gfa_m2"] == 22_000.0 and m["enterprises"] == 12 and m["name"] == "unit"
    assert m.geometry.area == pytest.approx(20_000.0)
    # capacity is kept: (1.2 * 9000 + 3.0 * 9000) / 18000
    assert m["far_cap"] == pytest.approx(2.1)
    with pytest.raises(ProposalError, match=r"block\(s\) B3 do not neighbour B1 \(within max_gap_m 0 m\)"):
        scenarios.apply(tiny(), mk(merge=[Merge(blocks=["B1", "B3"], into="M1")]))
    merged = scenarios.apply(tiny(), mk(merge=[Merge(blocks=["B1", "B3"], into="M1", max_gap_m=300)]))
    assert len(merged.blocks) == 2
    reused = scenarios.apply(tiny(), mk(merge=[Merge(blocks=["B1", "B2"], into="B1")]))
    assert reused.blocks["block_id"].tolist() == ["B3", "B1"]
    with pytest.raises(ProposalError, match=r"names the combined block 'B3', which a kept block already has"):
        scenarios.apply(tiny(), mk(merge=[Merge(blocks=["B1", "B2"], into="B3")]))


def test_merge_keeps_each_parts_capacity():
    # B1 is 1,200 m² over its cap (1.2 × 9,000 = 10,800 permitted, 12,000 built): capacity 0;
    # B2 has 3.0 × 9,000 − 16,000 = 11,000 m² of room. Merged, the land-weighted cap 2.1 would give
    # 2.1 × 18,000 − 28,000 = 9,800 (B2's room lent to B1's excess); the parts' sum is 11,000.
    base = tiny()
    base.loc[0, "gfa_m2"] = 12_000.0
    prop = mk(merge=[Merge(blocks=["B1", "B2"], into="M1")])
    parts = capacity.compute(base.iloc[:2], by="zone")["gfa_capacity_m2"].iloc[0]
    assert parts == pytest.approx(11_000.0)
    merged = scenarios.apply(base, prop).blocks.set_index("block_id")
    m = merged.loc["M1"]
    assert m["far_cap"] == pytest.approx(2.1)  # the implied value, reported
    assert m[capacity.MERGED_OVER_CAP] == pytest.approx(1_200.0) and merged.loc["B3", capacity.MERGED_OVER_CAP] == 0
    one = capacity.compute(merged.loc[["M1"]], by="zone").iloc[0]
    assert one["gfa_capacity_m2"] == pytest.approx(11_000.0) and one["over_cap_m2"] == pytest.approx(1_200.0)
    before = scenarios.evaluate(base)["gfa_capacity_m2"].iloc[0]
    assert scenarios.evaluate(merged.reset_index())["gfa_capacity_m2"].iloc[0] == pytest.approx(before)
    table = scenarios.compare(base, [prop], peers=PEERS)
    assert table.loc[0, "gfa_capacity_m2_change"] == pytest.approx(0.0, abs=1e-6)
    # a merge of merges keeps the first merge's carried excess
    again = scenarios.apply(merged.reset_index(), mk(merge=[Merge(blocks=["M1", "B3"], into="M2", max_gap_m=300)]))
    m2 = again.blocks.set_index("block_id").loc["M2"]
    assert m2[capacity.MERGED_OVER_CAP] == pytest.approx(1_200.0)
    assert capacity.compute(again.blocks, by="zone")["gfa_capacity_m2"].iloc[0] == pytest.approx(before)


def test_sample_merge_over_cap_block_leaves_capacity_unchanged(blocks):
    # B029 is ~8 million m² over its cap; merging it with B043 used to cut capacity by 3.66 million m²
    prop = mk(merge=[Merge(blocks=["B029", "B043"], into="M1", max_gap_m=100_000)])
    table = scenarios.compare(blocks, [prop])
    assert table.loc[0, "gfa_capacity_m2_change"] == pytest.approx(0.0, abs=1e-3)
    merged = scenarios.apply(blocks, prop).blocks
    got = capacity.compute(merged, by="zone")["gfa_capacity_m2"].iloc[0]
    assert got == pytest.approx(capacity.compute(blocks, by="zone")["gfa_capacity_m2"].iloc[0], rel=1e-12)


def identity_blocks():
    """tiny() with identity columns: B1 and B2 touch, B2 is the larger (B2 gets 11,000 m²)."""
    base = tiny()
    base["cluster"] = ["K1", "K1", "K1"]
    base["district"] = ["海淀区", "海淀区", "海淀区"]
    base["owner_type"] = ["集体", "国有", "国有"]
    base["policy_zone"] = [True, True, False]
    base["gfa_source"] = ["surveyed", "footprints", "surveyed"]
    base.loc[1, "geometry"] = box(100, 0, 210, 100)
    return base


def test_merge_identity_columns_follow_documented_rules():
    out = scenarios.apply(identity_blocks(), mk(merge=[Merge(blocks=["B1", "B2"], into="M1")])).blocks
    m = out.set_index("block_id").loc["M1"]
    assert m["name"] == "a + b"  # no name given: the blocks' names joined
    assert m["policy_zone"] and m["cluster"] == "K1" and m["district"] == "海淀区"
    assert m["owner_type"] == "国有"  # the largest block's (B2, 11,000 m² > 10,000 m²)
    assert m["gfa_source"] == "footprints"  # the least reliable of surveyed and footprints
    named = scenarios.apply(identity_blocks(), mk(merge=[Merge(blocks=["B1", "B2"], into="M1", name="unit")]))
    assert named.blocks.set_index("block_id").loc["M1", "name"] == "unit"


def test_merge_across_policy_zone_cluster_or_district_is_refused():
    mixed = identity_blocks()
    prop = mk(merge=[Merge(blocks=["B1", "B3"], into="M1", max_gap_m=300)])
    with pytest.raises(ProposalError, match=r"merge at proposal T \(merge\[0\]\) combines blocks whose policy_zone "
                                            r"differs \(True: B1; False: B3\); .*wholly inside or wholly outside"):
        scenarios.apply(mixed, prop)
    assert "policy_zone differs" in scenarios.compare(mixed, [prop], peers=PEERS, errors="report").loc[0, "error"]
    mixed["cluster"] = ["K1", "K2", "K1"]
    mixed["district"] = ["海淀区", "朝阳区", "海淀区"]
    prop = mk(merge=[Merge(blocks=["B1", "B2"], into="M1")])
    with pytest.raises(ProposalError, match=r"cluster differs \(K1: B1; K2: B2\) and district differs \(海淀区: B1; "
                                            r"朝阳区: B2\); .*add cluster to the merge's allow_mixed"):
        scenarios.apply(mixed, prop)
    allowed = mk(merge=[Merge(blocks=["B1", "B2"], into="M1", allow_mixed=["cluster", "district"])])
    m = scenarios.apply(mixed, allowed).blocks.set_index("block_id").loc["M1"]
    assert (m["cluster"], m["district"]) == ("K2", "朝阳区")  # the largest block's (B2)
    mixed["subpark"] = ["海淀园", "朝阳园", "海淀园"]
    with pytest.raises(ProposalError, match=r"subpark differs \(海淀园: B1; 朝阳园: B2\).*belongs to one sub-park"):
        scenarios.apply(mixed, allowed)


@settings(max_examples=40, deadline=None)
@given(
    zones=st.lists(st.booleans(), min_size=3, max_size=3),
    clusters=st.lists(st.sampled_from(["K1", "K2"]), min_size=3, max_size=3),
    sources=st.lists(st.sampled_from(["surveyed", "height_raster", "footprints", "assumed"]), min_size=3, max_size=3),
    allow=st.sampled_from([[], ["cluster"]]),
    pair=st.sampled_from([["B1", "B2"], ["B2", "B3"], ["B1", "B3"]]),
)
def test_property_merge_rules_agree_in_apply_and_compare(zones, clusters, sources, allow, pair):
    base = identity_blocks().assign(policy_zone=zones, cluster=clusters, gfa_source=sources)
    prop = mk(merge=[Merge(blocks=pair, into="M1", max_gap_m=300, allow_mixed=allow)])
    table = scenarios.compare(base, [prop], peers=PEERS, errors="report")
    rows = base.set_index("block_id").loc[pair]
    refused = rows["policy_zone"].nunique() > 1 or (rows["cluster"].nunique() > 1 and not allow)
    if refused:
        with pytest.raises(ProposalError) as info:
            scenarios.apply(base, prop)
        assert table.loc[0, "status"] == "error" and table.loc[0, "error"] == str(info.value)
        return
    m = scenarios.apply(base, prop).blocks.set_index("block_id").loc["M1"]
    assert table.loc[0, "status"] == "ok" and int(table.loc[0, "block_count"]) == 2
    assert bool(m["policy_zone"]) == bool(rows["policy_zone"].iloc[0])
    order = ["surveyed", "height_raster", "footprints", "assumed"]
    assert m["gfa_source"] == max(rows["gfa_source"], key=order.index)
    largest = rows.geometry.area.idxmax()
    assert m["cluster"] == rows.loc[largest, "cluster"]


# --- errors and violations ------------------------------------------------------------------


def test_unknown_block_id_names_file_line_and_closest_ids(blocks, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("id: T1\ntitle: typo\nrelease:\n  - block: B1580\nrenew:\n  - blocks: [B001, B0O2]\n"
                    "    far_step: 0.2\n", encoding="utf-8")
    with pytest.raises(ProposalError, match=r"2 block id\(s\) not in the baseline: 'B1580' at .*typo.yaml "
                                            r"line 4 \(release\[0\]\.block\) \(did you mean B158.*'B0O2' at "
                                            r".*typo.yaml line 6 \(renew\[0\]\.blocks\[1\]\) \(did you mean B002"):
        scenarios.apply(blocks, read_proposal(path))


def test_admitted_land_overlapping_kept_blocks_is_an_error():
    prop = mk(admit=[Admit(geometry=square(150, 50, 100), block_id="N1")])
    with pytest.raises(ProposalError, match=r"admitted land N1 at .*admit\[0\].* overlaps kept block\(s\) "
                                            r"B2 \(2,500 m²\)"):
        scenarios.apply(tiny(), prop)
    # releasing B2 first makes room
    ok = scenarios.apply(tiny(), mk(release=[Release(block="B2")], admit=[Admit(geometry=square(150, 0, 100),
                                                                               block_id="N1")]))
    assert ok.blocks["block_id"].tolist() == ["B1", "B3", "N1"]
    new = ok.blocks.set_index("block_id").loc["N1"]
    assert new["unready_m2"] == pytest.approx(10_000.0) and new["built_m2"] == 0.0  # new land: not yet ready


def test_area_cap_exceeded_is_a_reported_violation():
    prop = mk(admit=[Admit(geometry=square(0, 300, 100), block_id="N1")])
    result = scenarios.apply(tiny(), prop)
    assert [v.rule for v in result.violations] == ["area-cap"]
    assert "exceeds the baseline total (area-neutral default) 30,000 m² by 10,000 m²" in result.violations[0].message
    table = scenarios.compare(tiny(), [prop], peers=PEERS)
    assert table.loc[0, "status"] == "violations" and table.loc[0, "n_violations"] == 1
    assert table.loc[0, "site_area_m2_change"] == pytest.approx(10_000.0)
    capped = mk(admit=[Admit(geometry=square(0, 300, 100), block_id="N1")], constraints=Constraints(area_cap_m2=50_000))
    assert scenarios.apply(tiny(), capped).feasible


def test_must_keep_distance_and_protected_violations():
    protected = gpd.GeoDataFrame(geometry=[box(0, 300, 50, 400)], crs="EPSG:4548")
    prop = mk(release=[Release(block="B1")], admit=[Admit(geometry=square(0, 300, 100), block_id="N1")],
             constraints=Constraints(must_keep=["B1"], max_distance_m=100))
    result = scenarios.apply(tiny(), prop, protected=protected)
    assert [v.rule for v in result.violations] == ["must-keep", "max-distance", "protected"]
    assert "lies 200 m from the nearest kept block" in result.violations[1].message
    assert "5,000 m²" in result.violations[2].message


def test_repeated_must_keep_block_gives_one_violation():
    text = "id: K\ntitle: t\nrelease:\n  - block: B1\n  - block: B3\nconstraints:\n  must_keep:\n    - B1\n    - B1\n"
    prop = parse_proposal(text, source="k.yaml")
    result = scenarios.apply(tiny(), prop)
    assert [(v.rule, v.block_ids, v.line) for v in result.violations] == [("must-keep", ("B1",), 8)]
    row = scenarios.compare(tiny(), [prop], peers=PEERS).iloc[0]  # the vectorised path agrees
    assert row["n_violations"] == 1 and row["violations"] == str(result.violations[0])


def test_unknown_candidate_and_missing_candidate_file(candidates):
    with pytest.raises(ProposalError, match=r"no candidate file was given"):
        scenarios.apply(tiny(), mk(admit=[Admit(candidate="C01")]))
    with pytest.raises(ProposalError, match=r"candidate 'C1' .* did you mean C01"):
        scenarios.apply(tiny(), mk(admit=[Admit(candidate="C1")]), candidates=candidates)


def test_repeated_candidate_ids_are_refused(candidates, tmp_path):
    twice = pd.concat([candidates, candidates.iloc[[0]]], ignore_index=True)
    n = len(twice)
    with pytest.raises(ProposalError, match=rf"`candidates` repeats candidate_id \(C01 in rows 1, {n}\); ids must be"):
        scenarios.apply(tiny(), mk(admit=[Admit(candidate="C01")]), candidates=twice)
    path = tmp_path / "cands.gpkg"
    twice.to_file(path)
    with pytest.raises(ProposalError, match=r"candidate file .*cands.gpkg repeats candidate_id \(C01 in rows 1, "):
        scenarios.compare(tiny(), [mk(admit=[Admit(candidate="C01")])], candidates=path)


def test_repeated_proposal_ids_in_one_compare(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("id: D1\ntitle: t\nrelease:\n  - block: B1\nconstraints:\n  must_keep: [B1]\n", encoding="utf-8")
    b.write_text("id: D1\ntitle: t\nrelease:\n  - block: B2\nconstraints:\n  must_keep: [B2]\n", encoding="utf-8")
    with pytest.raises(ProposalError, match=r"proposal .*b.yaml has id 'D1', which .*a.yaml already has; .*own id"):
        scenarios.compare(tiny(), [a, b], peers=PEERS)
    table = scenarios.compare(tiny(), [a, b], peers=PEERS, errors="report")
    assert table["status"].tolist() == ["violations", "error"] and table.loc[1, "source"] == str(b)
    assert [v["block_ids"] for v in table.attrs["violations"]["D1"]] == [["B1"]]  # a.yaml's, not overwritten


def test_bad_attributes_of_admitted_land():
    with pytest.raises(ProposalError, match=r"unknown or derived attribute 'gfa' .* did you mean gfa_m2"):
        scenarios.apply(tiny(), mk(admit=[Admit(geometry=square(0, 300, 10), block_id="N", attributes={"gfa": 1})]))
    with pytest.raises(ProposalError, match=r"inconsistent land accounting: A \+ B \+ C must not exceed"):
        scenarios.apply(tiny(), mk(admit=[Admit(geometry=square(0, 300, 10), block_id="N",
                                               attributes={"built_m2": 500.0, "supplied_m2": 500.0})]))


# --- evaluate and compare -------------------------------------------------------------------


def test_evaluate_matches_indicators_and_benchmark_rank(blocks):
    row = scenarios.evaluate(blocks).iloc[0]
    assert row["far"] == pytest.approx(1.18, abs=0.005)
    assert row["remaining_m2"] == pytest.approx(27e6, rel=0.01)
    assert int(row["rank"]) == ranking.rank(row["score"]).rank == 74
    assert int(row["rank_of"]) == 131 and int(row["block_count"]) == 164


def test_compare_equals_apply_then_evaluate_on_the_sample(blocks, candidates):
    props = [read_proposal(f) for f in sorted((SAMPLE / "proposals").glob("*.yaml"))]
    table = scenarios.compare(blocks, props, candidates=candidates)
    for k, prop in enumerate(props):
        direct = scenarios.evaluate(scenarios.apply(blocks, prop, candidates=candidates).blocks).iloc[0]
        for m in scenarios.HEADLINE:
            assert float(table.loc[k, m]) == pytest.approx(float(direct[m]), rel=1e-9, abs=1e-6), (prop.id, m)
    # renewal in 丰台园/朝阳园 raises the score by 0.10 points: inside the ±1 % band (73-77), no rank moves
    assert table.loc[1, "score_change"] > 0.05 and table.loc[1, "rank_change"] == 0
    assert not table["rank_change_significant"].any()
    assert table.loc[2, "block_count_change"] == -4 and table.loc[2, "far_change"] == pytest.approx(0, abs=1e-12)
    assert table.loc[4, "status"] == "violations"


def test_compare_errors_raise_or_report(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\ntitle: t\nrelease:\n  - block: B9\n", encoding="utf-8")
    good = mk(id="G", renew=[Renew(blocks=["B1"], far_step=0.1)])
    with pytest.raises(ProposalError, match=r"'B9' at .*bad.yaml line 4"):
        scenarios.compare(tiny(), [good, bad], peers=PEERS)
    table = scenarios.compare(tiny(), [good, bad, tmp_path / "missing.yaml"], peers=PEERS, errors="report",
                              sort_by="score")
    assert table["status"].tolist() == ["ok", "error", "error"]
    assert table["score"].isna().tolist() == [False, True, True]
    assert "did you mean B1" in table.loc[1, "error"] or "did you mean B3" in table.loc[1, "error"]
    with pytest.raises(ColumnError, match=r"cannot sort by 'nope'"):
        scenarios.compare(tiny(), [good], peers=PEERS, sort_by="nope")


def test_compare_sorts_by_objective():
    props = [mk(id=f"S{s}", renew=[Renew(blocks=["B1"], far_step=s)]) for s in (0.1, 0.3, 0.2)]
    table = scenarios.compare(tiny(), props, peers=PEERS, sort_by="far")
    assert table["proposal_id"].tolist() == ["S0.3", "S0.2", "S0.1"]
    table = scenarios.compare(tiny(), props, peers=PEERS, sort_by="rank")
    assert table["rank"].is_monotonic_increasing


def test_compare_is_deterministic(blocks, candidates):
    props = [read_proposal(f) for f in sorted((SAMPLE / "proposals").glob("*.yaml"))]
    a = scenarios.compare(blocks, props, candidates=candidates)
    b = scenarios.compare(blocks, props[::-1], candidates=candidates).iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# --- property: the vectorised comparison equals applying and evaluating -------------------------

IDS = [f"B{i:03d}" for i in range(1, 165)]


@st.composite
def proposals(draw):
    chosen = draw(st.lists(st.sampled_from(IDS), min_size=0, max_size=8, unique=True))
    cut = [draw(st.integers(0, len(chosen))) for _ in range(2)]
    a, b = sorted(cut)
    release = [Release(block=x) for x in chosen[:a]]
    renew = [Renew(blocks=chosen[a:b], far_step=draw(st.floats(0.05, 1.0)),
                   elasticity=Elasticity(tax=draw(st.floats(0, 1))))] if b > a else []
    rezone = [Rezone(block=x, **{"from": "nonconstruction"}, to=draw(st.sampled_from(["ready", "unready"])))
              for x in chosen[b:]]
    admit = [Admit(candidate=c) for c in draw(st.lists(st.sampled_from(["C01", "C05", "C07", "C12"]),
                                                       max_size=2, unique=True))]
    return mk(release=release, renew=renew, rezone=rezone, admit=admit,
             constraints=Constraints(must_keep=draw(st.lists(st.sampled_from(IDS[:20]), max_size=2, unique=True))))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prop=proposals())
def test_property_vectorised_compare_equals_apply_and_evaluate(blocks, candidates, prop):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # preset re-normalisation when a class empties out
        table = scenarios.compare(blocks, [prop], candidates=candidates, errors="report")
        try:
            result = scenarios.apply(blocks, prop, candidates=candidates)
        except ProposalError as exc:
            assert table.loc[0, "error"] == str(exc)
            return
        direct = scenarios.evaluate(result.blocks).iloc[0]
    assert table.loc[0, "status"] != "error"
    for m in scenarios.HEADLINE:
        assert float(table.loc[0, m]) == pytest.approx(float(direct[m]), rel=1e-9, abs=1e-6, nan_ok=True), m
    assert table.loc[0, "violations"] == "; ".join(str(v) for v in result.violations)
    assert len(result.blocks) == 164 - len(prop.release) + len(prop.admit)


# --- CLI ------------------------------------------------------------------------------------


def test_cli_apply_writes_blocks_and_changes(tmp_path, capsys):
    out, changes = tmp_path / "p02.gpkg", tmp_path / "changes.csv"
    code = main(["apply", str(SAMPLE / "proposals/p02_renew_fengtai_chaoyang.yaml"),
                 "--baseline", str(SAMPLE / "zgc_blocks.gpkg"), "--out", str(out), "--changes", str(changes), "--json"])
    assert code == 0
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload["proposal"] == "P02-renew-fengtai-chaoyang" and payload["feasible"] is True
    assert len(payload["changes"]) == 6 and payload["blocks"] == 164
    assert len(io.read_blocks(out)) == 164 and changes.is_file()


def test_cli_apply_reports_proposal_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\ntitle: t\nrelease:\n  - block: B1580\n", encoding="utf-8")
    code = main(["apply", str(bad), "--baseline", str(SAMPLE / "zgc_blocks.gpkg"), "--out", str(tmp_path / "o.gpkg")])
    assert code == 1
    assert "line 4" in capsys.readouterr().err


@st.composite
def geometry_proposals(draw, blocks):
    """Partial releases, merges of two blocks of one sub-park and policy-zone status, inline admissions."""
    by_park = blocks.groupby(["subpark", "policy_zone"])["block_id"].apply(list)
    parks = [p for p, ids in by_park.items() if len(ids) >= 3]
    park = draw(st.sampled_from(parks))
    a, b, c = draw(st.permutations(by_park[park]))[:3]
    geom = blocks.set_index("block_id").loc[c].geometry
    x0, y0, x1, y1 = geom.bounds
    f = draw(st.floats(0.2, 0.8))
    cut = box(x0 - 1, y0 - 1, x0 + f * (x1 - x0), y1 + 1)
    ops = {"merge": [Merge(blocks=[a, b], into="M1", max_gap_m=1e6, allow_mixed=["cluster", "district"])]}
    if draw(st.booleans()):
        ops["release"] = [Release(block=c, part=_geojson(cut))]
    if draw(st.booleans()):
        ops["admit"] = [Admit(geometry=square(300_000, 4_300_000, draw(st.floats(50, 500))), block_id="N1",
                              attributes={"built_m2": 1_000.0, "supplied_m2": 1_000.0, "gfa_m2": 1_500.0})]
    return mk(**ops)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_geometry_proposals_agree(blocks, data):
    prop = data.draw(geometry_proposals(blocks))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = scenarios.compare(blocks, [prop], errors="report")
        result = scenarios.apply(blocks, prop)
        direct = scenarios.evaluate(result.blocks).iloc[0]
    for m in scenarios.HEADLINE:
        assert float(table.loc[0, m]) == pytest.approx(float(direct[m]), rel=1e-9, abs=1e-6, nan_ok=True), m
    assert result.blocks.geometry.area.sum() == pytest.approx(direct["site_area_m2"], rel=1e-12)
    assert len(result.blocks) == 164 - 1 + len(prop.admit)
    # the zone loses exactly the part cut away, gains exactly the admitted land; a merge changes no area
    removed = sum(shapely.area(shapely.intersection(r.part.to_shapely(),
                                                    blocks.set_index("block_id").loc[r.block].geometry))
                  for r in prop.release)
    added = sum(a.geometry.to_shapely().area for a in prop.admit)
    assert table.loc[0, "site_area_m2_change"] == pytest.approx(added - removed, abs=1e-3)


def test_rezone_without_the_land_columns_is_an_error():
    base = tiny().drop(columns=["nonconstruction_m2"])
    prop = mk(rezone=[Rezone(block="B1", **{"from": "nonconstruction"}, to="ready", area_m2=10)])
    with pytest.raises(ProposalError, match=r"the baseline has no nonconstruction_m2 / ready_m2 column to rezone"):
        scenarios.apply(base, prop)
    table = scenarios.compare(base, [prop], peers=PEERS, errors="report")
    assert "no nonconstruction_m2 / ready_m2 column" in table.loc[0, "error"]


def test_apply_keeps_a_non_default_index():
    base = tiny().set_index(pd.Index(["x", "y", "x"], name="key"))
    out = scenarios.apply(base, mk(renew=[Renew(blocks=["B3"], far_step=1.0)])).blocks
    assert out.index.tolist() == ["x", "y", "x"]
    assert out["gfa_m2"].tolist() == [6_000.0, 16_000.0, 10_000.0]


def _compare_vs_apply(base: gpd.GeoDataFrame, proposal: Proposal) -> None:
    """compare (vectorised) equals apply + evaluate on every metric within 1e-9 (relative)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny zones leave some indicators undefined, with notes
        table = scenarios.compare(base, [proposal], peers=PEERS)
        ev = scenarios.evaluate(scenarios.apply(base, proposal).blocks, peers=PEERS)
    assert table["status"].iloc[0] != "error", table["error"].iloc[0]  # far-cap violations are fine
    for col in ev.columns:
        want, got = ev[col].iloc[0], table[col].iloc[0]
        if pd.isna(want):
            assert pd.isna(got), col
        else:
            assert float(got) == pytest.approx(float(want), rel=1e-9, abs=1e-9), col


@pytest.mark.parametrize("kept", [1, 2])
def test_compare_releasing_all_but_one_or_two_blocks_is_exact(blocks, kept: int) -> None:
    """Issue 12: zone sums come from the kept rows, so no cancellation ('unready_m2 is negative in ids 0')."""
    ids = blocks["block_id"].tolist()
    for keep in (ids[:kept], ids[36:36 + kept], ids[-kept:]):
        proposal = Proposal(id="KEEP", title="t", release=[Release(block=b) for b in ids if b not in keep])
        _compare_vs_apply(blocks, proposal)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep=st.sets(st.integers(0, 163), min_size=1, max_size=3), step=st.floats(0.1, 3.0),
       renew=st.booleans())
def test_compare_equals_apply_on_extreme_proposals(blocks, keep: set[int], step: float, renew: bool) -> None:
    ids = blocks["block_id"].tolist()
    kept = [ids[i] for i in sorted(keep)]
    proposal = Proposal(id="X", title="t", release=[Release(block=b) for b in ids if b not in kept],
                        renew=[Renew(blocks=kept[:1], far_step=step)] if renew else [])
    _compare_vs_apply(blocks, proposal)


def test_releasing_every_block_is_a_clear_error(blocks) -> None:
    proposal = Proposal(id="ALL", title="t", release=[Release(block=b) for b in blocks["block_id"]])
    with pytest.raises(ProposalError, match=r"releases every block of the baseline \(164 of 164\)"):
        scenarios.apply(blocks, proposal)
    with pytest.raises(ProposalError, match="releases every block") as err:
        scenarios.compare(blocks, [proposal], peers=PEERS)
    assert "ids 0" not in str(err.value)
    table = scenarios.compare(blocks, [proposal, Proposal(id="NONE", title="t")], peers=PEERS, errors="report")
    assert table["status"].tolist() == ["error", "ok"] and "block(s) (ids" not in table["error"].iloc[0]
