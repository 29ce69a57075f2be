"""Tests of zgc_space.optimize: optimality against enumeration, proposals that re-evaluate exactly."""

from __future__ import annotations

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

from zgc_space import evaluation, indicators, optimize, scenarios
from zgc_space.errors import OptimizationError, OptimizationWarning
from zgc_space.scenarios.proposal import Elasticity, dump_proposal, parse_proposal

CRS = "EPSG:4548"
X0, Y0 = 440_000.0, 4_420_000.0
PRESET = evaluation.load_preset("cic_default")
# lower ideals than the default so that several indicators reach their cap in some selections
TIGHT = PRESET.model_copy(update={"name": "tight", "indicators": {
    **PRESET.indicators,
    "far": PRESET.indicators["far"].model_copy(update={"ideal": 1.6}),
    "building_density_pct": PRESET.indicators["building_density_pct"].model_copy(update={"ideal": 30.0}),
    "tax_10k_cny_per_ha": PRESET.indicators["tax_10k_cny_per_ha"].model_copy(update={"ideal": 900.0}),
}})


def _attrs(rng: np.random.Generator, site: np.ndarray) -> dict[str, np.ndarray]:
    n = len(site)
    a = site * rng.uniform(0.5, 0.95, n)
    ready = (site - a) * rng.uniform(0.0, 0.6, n)
    unready = (site - a - ready) * rng.uniform(0.0, 0.8, n)
    supplied = a + ready * rng.uniform(0.0, 1.0, n)
    return {
        "built_m2": a, "ready_m2": ready, "unready_m2": unready, "nonconstruction_m2": site - a - ready - unready,
        "supplied_m2": supplied, "idle_m2": (supplied - a) * rng.uniform(0.0, 0.5, n),
        "built_residential_m2": a * 0.3, "built_industrial_m2": a * 0.2,
        "gfa_m2": a * rng.uniform(0.4, 3.0, n), "footprint_m2": a * rng.uniform(0.15, 0.45, n),
        "tax_10k_cny": a / 1e4 * rng.uniform(200.0, 1600.0, n),
        "revenue_10k_cny": a / 1e4 * rng.uniform(3000.0, 30000.0, n),
        "population": a / 1e4 * rng.uniform(10.0, 120.0, n), "employees": a / 1e4 * rng.uniform(50, 300, n),
    }


def make_instance(seed: int, n_blocks: int = 7, n_cands: int = 4) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Blocks in a row (two sub-parks), candidates above them, one candidate far away."""
    rng = np.random.default_rng(seed)
    sizes = rng.uniform(200.0, 600.0, n_blocks)
    geoms, x = [], X0
    for s in sizes:
        geoms.append(box(x, Y0, x + s, Y0 + s))
        x += s + 50.0
    site = np.array([g.area for g in geoms])
    blocks = gpd.GeoDataFrame({
        "block_id": [f"B{i + 1}" for i in range(n_blocks)],
        "subpark": ["海淀园"] * (n_blocks // 2) + ["朝阳园"] * (n_blocks - n_blocks // 2),
        **_attrs(rng, site), "far_cap": np.full(n_blocks, 10.0),
    }, geometry=geoms, crs=CRS)
    csizes = rng.uniform(200.0, 500.0, n_cands)
    cgeoms = [box(X0 + 700.0 * k, Y0 + 1000.0, X0 + 700.0 * k + s, Y0 + 1000.0 + s) for k, s in enumerate(csizes)]
    cgeoms[-1] = box(X0, Y0 + 9000.0, X0 + csizes[-1], Y0 + 9000.0 + csizes[-1])  # 9 km away
    csite = np.array([g.area for g in cgeoms])
    cands = gpd.GeoDataFrame({
        "candidate_id": [f"C{k + 1}" for k in range(n_cands)],
        "subpark": ["海淀园", "朝阳园"] * (n_cands // 2) + ["海淀园"] * (n_cands % 2),
        **_attrs(rng, csite),
    }, geometry=cgeoms, crs=CRS)
    return blocks, cands


RENEWAL = optimize.Renewal(far_step=0.5, elasticity=Elasticity(tax=0.8, revenue=1.0), cost_10k_cny_per_m2=0.4,
                           blocks=["B1", "B2", "B5", "B6"])
VALUE_COLUMNS = ["site_area_m2", "built_m2", "ready_m2", "unready_m2", "nonconstruction_m2", "supplied_m2", "idle_m2",
                 "built_residential_m2", "built_industrial_m2", "gfa_m2", "footprint_m2", "tax_10k_cny",
                 "revenue_10k_cny", "population", "employees"]


def brute_force(blocks: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, c: optimize.SearchConstraints,
                renewal: optimize.Renewal | None, objective: str, preset: object, sense: str) -> float:
    """Best objective over every selection, computed independently of the optimiser's model."""
    b = blocks.assign(site_area_m2=blocks.geometry.area)
    k = cands.assign(site_area_m2=cands.geometry.area)
    renewable = [] if renewal is None else [list(b["block_id"]).index(x) for x in renewal.blocks]
    nb, nc, nr = len(b), len(k), len(renewable)
    combos = np.array(list(itertools.product((0.0, 1.0), repeat=nb + nc + nr)))
    keep, admit, renew = combos[:, :nb], combos[:, nb:nb + nc], combos[:, nb + nc:]
    ok = np.ones(len(combos), dtype=bool)
    if nr:
        ok &= (renew <= keep[:, renewable]).all(axis=1)
    bv, cv = b[VALUE_COLUMNS].to_numpy(float), k[VALUE_COLUMNS].to_numpy(float)
    sums = keep @ bv + admit @ cv
    if nr:
        gfa, built = bv[renewable, VALUE_COLUMNS.index("gfa_m2")], bv[renewable, VALUE_COLUMNS.index("built_m2")]
        growth = renewal.far_step * built / gfa
        delta = np.zeros((nr, len(VALUE_COLUMNS)))
        delta[:, VALUE_COLUMNS.index("gfa_m2")] = renewal.far_step * built
        delta[:, VALUE_COLUMNS.index("tax_10k_cny")] = bv[renewable, VALUE_COLUMNS.index("tax_10k_cny")] * 0.8 * growth
        rev = VALUE_COLUMNS.index("revenue_10k_cny")
        delta[:, rev] = bv[renewable, rev] * growth
        sums = sums + renew @ delta
        if c.renewal_budget_10k_cny is not None:
            ok &= renew @ (renewal.far_step * built * renewal.cost_10k_cny_per_m2) <= c.renewal_budget_10k_cny
    area = sums[:, 0]
    cap = c.area_cap_m2 or b["site_area_m2"].sum()
    ok &= area <= cap + 1e-6
    floor = c.min_area_m2 if c.min_area_m2 is not None else 0.98 * min(cap, b["site_area_m2"].sum())
    ok &= area >= floor - 1e-6
    for bid in c.must_keep:
        ok &= keep[:, list(b["block_id"]).index(bid)] == 1
    if c.max_changes is not None:
        ok &= (nb - keep.sum(axis=1)) + admit.sum(axis=1) + renew.sum(axis=1) <= c.max_changes
    for park, lo in c.subpark_min_area_m2.items():
        ok &= keep @ np.where(b["subpark"] == park, b["site_area_m2"], 0) + admit @ np.where(
            k["subpark"] == park, k["site_area_m2"], 0) >= lo
    for park, hi in c.subpark_max_area_m2.items():
        ok &= keep @ np.where(b["subpark"] == park, b["site_area_m2"], 0) + admit @ np.where(
            k["subpark"] == park, k["site_area_m2"], 0) <= hi
    if c.max_distance_m is not None:
        dist = np.array([[g.distance(h) for h in b.geometry] for g in k.geometry])
        near = (dist <= c.max_distance_m).astype(float)
        ok &= ((admit > 0) <= ((keep @ near.T) > 0)).all(axis=1)
    frame = pd.DataFrame(sums[ok], columns=VALUE_COLUMNS)
    if objective in optimize.LINEAR_OBJECTIVES:
        values = {"released_area_m2": (keep[ok] == 0) @ b["site_area_m2"].to_numpy(),
                  "admitted_area_m2": admit[ok] @ k["site_area_m2"].to_numpy()}[objective]
    else:
        ids = list(evaluation.load_preset(preset).leaf_weights()) if objective == "score" else [objective]
        ind = indicators.compute(frame, indicators=ids)
        defined = ind[ids].notna().all(axis=1).to_numpy()
        if objective == "score":
            values = np.full(len(frame), np.nan)
            values[defined] = evaluation.score(ind[defined], preset=preset)["score"].to_numpy()
        else:
            values = ind[objective].to_numpy()
    return float(np.nanmax(values) if sense == "max" else np.nanmin(values))


CASES = [
    ("score", optimize.SearchConstraints(), None),
    ("score", optimize.SearchConstraints(max_changes=3, max_distance_m=1500.0), RENEWAL),
    ("far", optimize.SearchConstraints(max_changes=4, must_keep=["B1"]), RENEWAL),
    ("tax_10k_cny_per_ha", optimize.SearchConstraints(renewal_budget_10k_cny=20.0, subpark_min_area_m2={"朝阳园": 5e5}),
     RENEWAL),
    ("revenue_10k_cny_per_ha", optimize.SearchConstraints(min_area_m2=6e5, max_distance_m=1500.0), None),
    # the baseline breaks the sub-park cap, so the search cannot start from it (and needs no floor)
    ("far", optimize.SearchConstraints(subpark_max_area_m2={"海淀园": 2e5}, min_area_m2=0.0), None),
    ("score", optimize.SearchConstraints(subpark_max_area_m2={"海淀园": 2e5}, max_changes=4, min_area_m2=0.0),
     RENEWAL),
    ("far", optimize.SearchConstraints(max_distance_m=1500.0), None),  # the default floor binds
]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("objective", "cons", "renewal"), CASES)
def test_search_matches_enumeration(seed: int, objective: str, cons: optimize.SearchConstraints,
                                    renewal: optimize.Renewal | None) -> None:
    blocks, cands = make_instance(seed)
    for preset in ([PRESET, TIGHT] if objective == "score" else [PRESET]):
        with warnings.catch_warnings():  # the cases with an explicit low floor warn (tested below)
            warnings.simplefilter("ignore", OptimizationWarning)
            res = optimize.search(blocks, cands, objective=objective, constraints=cons, renewal=renewal,
                                  preset=preset)
        best = brute_force(blocks, cands, cons, renewal, objective, preset, res.sense)
        assert res.status == "optimal"
        assert res.value == pytest.approx(best, rel=1e-7), (objective, preset.name, res.selection)
        assert res.milp_value == pytest.approx(res.value, rel=1e-6)
        assert res.gap <= 1e-6


def test_tight_preset_caps_bind() -> None:
    # the TIGHT preset makes the optimum sit at a cap, so the min(., 1) part of the model is exercised
    blocks, cands = make_instance(1)
    res = optimize.search(blocks, cands, objective="score", preset=TIGHT)
    s = res.evaluation.loc["optimised"]
    ind = indicators.compute(scenarios.apply(blocks, res.proposal, candidates=cands).blocks, by="zone",
                             indicators=list(TIGHT.leaf_weights()))
    capped = evaluation.standardise(ind, preset=TIGHT).iloc[0]
    assert (capped == 100.0).sum() >= 2 and s["score"] == pytest.approx(res.value)


def test_linear_objective_matches_enumeration() -> None:
    blocks, cands = make_instance(3)
    cons = optimize.SearchConstraints(min_area_m2=float(blocks.geometry.area.sum()) - 2e5, max_distance_m=1500.0)
    with pytest.warns(OptimizationWarning, match="may shrink to its best blocks"):
        res = optimize.search(blocks, cands, objective="admitted_area_m2", sense="max", constraints=cons)
    assert res.value == pytest.approx(brute_force(blocks, cands, cons, None, "admitted_area_m2", PRESET, "max"))


def test_proposal_round_trip_reevaluates_exactly(tmp_path) -> None:
    blocks, cands = make_instance(2)
    res = optimize.search(blocks, cands, objective="score", renewal=RENEWAL,
                          constraints=optimize.SearchConstraints(max_changes=4))
    path = tmp_path / "opt.yaml"
    path.write_text(dump_proposal(res.proposal), encoding="utf-8")
    proposal = parse_proposal(path.read_text(encoding="utf-8"), source=str(path))
    applied = scenarios.apply(blocks, proposal, candidates=cands)
    assert applied.feasible
    ev = scenarios.evaluate(applied.blocks)
    assert float(ev["score"].iloc[0]) == res.value
    assert res.milp_value == pytest.approx(res.value, rel=1e-9)
    table = scenarios.compare(blocks, [proposal], candidates=cands)
    assert float(table["score"].iloc[0]) == pytest.approx(res.value, rel=1e-12)


def test_search_on_sample_improves_the_score() -> None:
    from zgc_space import datasets

    res = optimize.search(datasets.load_blocks(), datasets.load_candidates(), objective="score",
                          constraints=optimize.SearchConstraints(max_changes=3))
    assert res.status == "optimal" and res.value > res.baseline_value
    assert res.evaluation.loc["optimised", "rank"] <= res.evaluation.loc["baseline", "rank"]
    assert set(res.to_dict()) >= {"objective", "value", "gap", "status", "proposal", "selection"}


def test_pareto_front_is_monotone_and_non_dominated() -> None:
    blocks, cands = make_instance(1)
    front = optimize.pareto(blocks, cands, objectives=("score", "released_area_m2"), points=6)
    t = front.table
    assert len(t) >= 2 and t["score"].is_monotonic_increasing
    assert t["released_area_m2"].is_monotonic_increasing  # more score costs more land released
    best = optimize.search(blocks, cands, objective="score").value
    assert t["score"].iloc[-1] == pytest.approx(best, rel=1e-7)
    assert t["released_area_m2"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    # a ratio against the score (Dinkelbach with the score as a constraint): no repeated points
    mixed = optimize.pareto(blocks, cands, objectives=("far", "score"), points=4).table
    assert not mixed[["far", "score"]].round(9).duplicated().any()
    assert mixed["far"].is_monotonic_increasing and mixed["score"].is_monotonic_decreasing


def test_errors() -> None:
    blocks, cands = make_instance(1)
    with pytest.raises(OptimizationError, match="unknown objective 'farr'"):
        optimize.search(blocks, cands, objective="farr")
    with pytest.raises(OptimizationError, match=r"must_keep names unknown id\(s\) \['B99'\]"):
        optimize.search(blocks, cands, objective="far", constraints=optimize.SearchConstraints(must_keep=["B99"]))
    with pytest.raises(OptimizationError, match="no adjustment meets the constraints"):
        optimize.search(blocks, cands, objective="far",
                        constraints=optimize.SearchConstraints(subpark_min_area_m2={"海淀园": 1e9}))
    with pytest.raises(OptimizationError, match="sub-park '西城园', which has no block"):
        optimize.search(blocks, cands, constraints=optimize.SearchConstraints(subpark_max_area_m2={"西城园": 1.0}))
    with pytest.raises(OptimizationError, match="min_area_m2 .* exceeds the area cap"):
        optimize.search(blocks, cands, constraints=optimize.SearchConstraints(min_area_m2=1e12))
    with pytest.raises(OptimizationError, match="points must be from 2 to 200"):
        optimize.pareto(blocks, cands, points=1)
    with pytest.raises(OptimizationError, match="score can only be maximised"):
        optimize.search(blocks, cands, objective="score", sense="min")
    with pytest.raises(ValueError, match="exactly one of `far_step` or `far_target`"):
        optimize.Renewal()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(OptimizationError, match="no CRS"):
            optimize.search(blocks.set_crs(None, allow_override=True), cands)
    shifted = cands.copy()
    shifted["candidate_id"] = ["B1", "C2", "C3", "C4"]
    with pytest.raises(OptimizationError, match="equal block ids"):
        optimize.search(blocks, shifted)


def test_overlapping_candidate_needs_the_block_released() -> None:
    blocks, cands = make_instance(1)
    over = cands.copy()
    over.loc[0, "geometry"] = shapely.affinity.translate(blocks.geometry.iloc[0], 10.0, 0.0)
    # a new geometry, so its old land classes no longer fit: unknown, i.e. all not-yet-ready land
    over.loc[0, ["built_m2", "ready_m2", "unready_m2", "nonconstruction_m2", "supplied_m2", "idle_m2",
                 "built_residential_m2", "built_industrial_m2"]] = np.nan
    res = optimize.search(blocks, over, objective="far", constraints=optimize.SearchConstraints(max_changes=3))
    if "C1" in res.selection["admit"]:
        assert "B1" in res.selection["release"]
    assert scenarios.apply(blocks, res.proposal, candidates=over).feasible


def test_cli_optimize_and_pareto(tmp_path, capsys) -> None:
    import json

    from zgc_space import cli
    from zgc_space.scenarios.proposal import read_proposal

    blocks, cands = make_instance(1)
    bpath, cpath = tmp_path / "blocks.gpkg", tmp_path / "cands.gpkg"
    blocks.to_file(bpath)
    cands.to_file(cpath)
    out = tmp_path / "proposal.yaml"
    cons = tmp_path / "cons.yaml"
    cons.write_text("max_changes: 3\nrenewal:\n  far_step: 0.5\n  blocks: [B1, B2]\n", encoding="utf-8")
    argv = ["optimize", str(bpath), "--candidates", str(cpath), "--objective", "score", "--constraints", str(cons),
            "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "optimal" and payload["out"] == str(out)
    proposal = read_proposal(out)
    ev = scenarios.evaluate(scenarios.apply(blocks, proposal, candidates=cands).blocks)
    assert float(ev["score"].iloc[0]) == payload["value"]
    assert cli.main(["optimize", str(bpath), "--objective", "far", "--max-changes", "2", "--must-keep", "B1"]) == 0
    text = capsys.readouterr().out
    assert "max far" in text and "id: OPT" in text
    front_csv = tmp_path / "front.csv"
    assert cli.main(["pareto", str(bpath), "--candidates", str(cpath), "--objectives", "far,released_area_m2",
                     "--points", "3", "--out", str(front_csv), "--proposals-dir", str(tmp_path / "front"),
                     "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["front"]) == len(list((tmp_path / "front").glob("*.yaml"))) >= 2
    assert front_csv.exists()
    assert cli.main(["pareto", str(bpath), "--objectives", "far"]) == 2
    assert "exactly two names" in capsys.readouterr().err
    assert cli.main(["optimize", str(bpath), "--objective", "nope"]) == 1
    assert "unknown objective 'nope'" in capsys.readouterr().err


# warnings.catch_warnings is process-wide and not thread-safe before Python 3.14: a thread leaving its
# block can restore filters another thread's block relies on, so a quiet note may surface here
@pytest.mark.filterwarnings("ignore::zgc_space.errors.ValidationWarning")
def test_searches_in_threads_keep_stdout(capfd) -> None:
    """The solver never redirects the process's stdout (other threads keep printing, fd 1 survives)."""
    import os
    import sys
    import threading
    import time

    blocks, cands = make_instance(1)

    def job() -> None:
        for objective in ("far", "score"):
            optimize.search(blocks, cands, objective=objective, constraints=optimize.SearchConstraints(max_changes=3))

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    lines = 0
    while any(t.is_alive() for t in threads):
        print(f"main-{lines}", flush=True)
        lines += 1
        time.sleep(0.005)
    for t in threads:
        t.join()
    os.write(1, b"fd-after\n")
    print("print-after", flush=True)
    sys.stdout.flush()
    out = capfd.readouterr().out
    assert out.splitlines() == [f"main-{i}" for i in range(lines)] + ["fd-after", "print-after"]


def test_candidates_missing_land_classes_follow_apply() -> None:
    """A candidate row without any land class is all not-yet-ready land, in the model as in apply."""
    from zgc_space.optimize import _model as sm
    from zgc_space.scenarios.proposal import Admit, Proposal

    blocks, cands = make_instance(1)
    sparse = cands[["candidate_id", "built_m2", "gfa_m2", "geometry"]].assign(supplied_m2=cands["built_m2"])
    # C1 gives no land class at all; C2..C4 give built land
    sparse.loc[0, ["built_m2", "supplied_m2", "gfa_m2"]] = np.nan
    cons = optimize.SearchConstraints(area_cap_m2=1e9)
    prob = sm.build(blocks, sparse, None, cons)
    assert prob.values.loc[len(blocks), "unready_m2"] == pytest.approx(sparse.geometry.iloc[0].area)
    assert prob.values.loc[len(blocks) + 1, "unready_m2"] == 0.0
    for k, cid in enumerate(sparse["candidate_id"]):
        x = prob.baseline_x.copy()
        x[len(blocks) + k] = 1.0
        proposal = Proposal(id="X", title="x", admit=[Admit(candidate=cid)], constraints={"area_cap_m2": 1e9})
        ev = scenarios.evaluate(scenarios.apply(blocks, proposal, candidates=sparse).blocks).iloc[0]
        for objective in ("development_rate_pct", "far", "score"):
            assert sm.zone_value(prob, x, objective, "cic_default") == pytest.approx(ev[objective], rel=1e-9)
    only_admit = cons.model_copy(update={"must_keep": list(blocks["block_id"]), "max_changes": 1})
    res = optimize.search(blocks, sparse, objective="development_rate_pct", sense="min", constraints=only_admit)
    assert "C1" in res.selection["admit"]
    assert res.milp_value == pytest.approx(res.value, rel=1e-9)


def test_cli_refuses_to_overwrite_inputs(tmp_path, capsys) -> None:
    import hashlib

    from zgc_space import cli

    blocks, cands = make_instance(1)
    bpath, cpath, cons = tmp_path / "base.gpkg", tmp_path / "cands.gpkg", tmp_path / "cons.yaml"
    blocks.to_file(bpath)
    cands.to_file(cpath)
    cons.write_text("max_changes: 2\n", encoding="utf-8")

    def sha(path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    # a constraints file inside --proposals-dir, named as a proposal of the front
    first = optimize.pareto(blocks, None, points=2, constraints=optimize.SearchConstraints(max_changes=2))
    clash = tmp_path / f"{first.proposals[0].id}.yaml"
    clash.write_text("max_changes: 2\n", encoding="utf-8")
    before = {p: sha(p) for p in (bpath, cpath, cons, clash)}
    common = ["--candidates", str(cpath), "--constraints", str(cons)]
    for argv in (["optimize", str(bpath), "--out", str(bpath)],
                 ["optimize", str(bpath), *common, "--out", str(cpath)],
                 ["optimize", str(bpath), *common, "--out", str(cons), "--json"],
                 ["pareto", str(bpath), *common, "--points", "2", "--out", str(cons)],
                 ["pareto", str(bpath), "--points", "2", "--constraints", str(clash), "--proposals-dir", str(tmp_path)],
                 ["consolidate", str(bpath), "--out", str(bpath)],
                 ["dynamic", str(bpath), "--rules", str(cons), "--out", str(cons)]):
        assert cli.main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "refusing to write" in err and "it is an input" in err, err
    assert {p: sha(p) for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["base.gpkg", "cands.gpkg", "cons.yaml", clash.name])
    # a missing folder is a clear error, not a traceback
    assert cli.main(["optimize", str(bpath), "--max-changes", "1", "--out", str(tmp_path / "no" / "x.yaml")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_proposal_carries_the_search_constraints() -> None:
    blocks, cands = make_instance(1)
    cons = optimize.SearchConstraints(area_cap_m2=2e6, min_area_m2=5e5, must_keep=["B1", "B2", "B1"],
                                      max_distance_m=1500.0, subpark_min_area_m2={"朝阳园": 4e5},
                                      subpark_max_area_m2={"海淀园": 9e5}, max_changes=3,
                                      renewal_budget_10k_cny=20.0)
    assert cons.must_keep == ["B1", "B2"]
    with pytest.warns(OptimizationWarning, match="35 % of the baseline area"):
        res = optimize.search(blocks, cands, objective="far", constraints=cons, renewal=RENEWAL)
    kept = res.proposal.constraints
    assert (kept.area_cap_m2, kept.min_area_m2, kept.must_keep, kept.max_distance_m) == (
        2e6, 5e5, ["B1", "B2"], 1500.0)
    desc = res.proposal.description
    for text in ("total site area 500,000 (set) to 2,000,000 m² (set)",
                 "subpark_min_area_m2 朝阳园 400,000", "subpark_max_area_m2 海淀园 900,000",
                 "max_changes 3", "renewal_budget_10k_cny 20", "not checked by scenarios.apply"):
        assert text in desc, desc
    plain = optimize.search(blocks, cands, objective="far", constraints=optimize.SearchConstraints(max_changes=1))
    assert "not checked" in plain.proposal.description and "(baseline − 2 %)" in plain.proposal.description
    unbounded = optimize.search(blocks, None, objective="changes")
    assert "not checked" not in unbounded.proposal.description


def test_cli_json_is_all_that_reaches_stdout(tmp_path, capfd) -> None:
    """Nothing the solver prints reaches file descriptor 1: --json output parses as a whole."""
    import json

    from zgc_space import cli

    blocks, cands = make_instance(1)
    bpath, cpath = tmp_path / "blocks.gpkg", tmp_path / "cands.gpkg"
    blocks.to_file(bpath)
    cands.to_file(cpath)
    assert cli.main(["optimize", str(bpath), "--candidates", str(cpath), "--max-changes", "2",
                     "--renew-far-step", "0.5", "--json"]) == 0
    payload = json.loads(capfd.readouterr().out)
    assert payload["status"] == "optimal" and payload["constraints"]["max_changes"] == 2
    assert payload["renewal"]["far_step"] == 0.5


SAMPLE_OBJECTIVES = ["score", *evaluation.load_preset("cic_default").leaf_weights()]


@pytest.mark.parametrize("objective", SAMPLE_OBJECTIVES)
def test_default_search_keeps_the_zone_and_reevaluates_through_compare(objective: str) -> None:
    """Issue 12: with no bounds set, the sample zone keeps ≥ 98 % of its area (no dissolution into one block)."""
    from zgc_space import datasets

    blocks, cands = datasets.load_blocks(), datasets.load_candidates()
    res = optimize.search(blocks, cands, objective=objective)
    baseline = float(blocks.geometry.area.sum())
    assert res.area_bounds is not None and res.area_bounds.min_source == "default"
    assert res.area_bounds.min_area_m2 == pytest.approx(0.98 * baseline)
    kept = res.proposal.constraints
    assert kept.min_area_m2 == pytest.approx(0.98 * baseline) and kept.area_cap_m2 == pytest.approx(baseline)
    table = scenarios.compare(blocks, [res.proposal], candidates=cands)
    assert table["status"].iloc[0] == "ok"
    assert float(table["site_area_m2"].iloc[0]) >= 0.98 * baseline - 1.0
    assert float(table[objective].iloc[0]) == pytest.approx(res.value, rel=1e-6, abs=1e-9)
    assert len(res.selection["release"]) < len(blocks) // 2


def test_explicit_zero_floor_warns_and_cli_prints_the_constraints_used(tmp_path, capsys) -> None:
    from zgc_space import cli

    blocks, cands = make_instance(1)
    with pytest.warns(OptimizationWarning, match="0 % of the baseline area"):
        res = optimize.search(blocks, cands, objective="far", constraints=optimize.SearchConstraints(min_area_m2=0))
    assert res.area_bounds is not None and res.area_bounds.min_source == "user"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a floor 2 % below the baseline is the default: no warning
        optimize.search(blocks, cands, objective="far",
                        constraints=optimize.SearchConstraints(min_area_m2=0.97 * float(blocks.geometry.area.sum())))
    bpath = tmp_path / "blocks.gpkg"
    blocks.to_file(bpath)
    assert cli.main(["optimize", str(bpath), "--objective", "far"]) == 0
    out = capsys.readouterr().out
    assert "constraints used: total site area" in out and "(baseline − 2 %)" in out and "warning" not in out
    assert cli.main(["optimize", str(bpath), "--objective", "far", "--min-area-m2", "0"]) == 0
    out = capsys.readouterr().out
    assert "warning: min_area_m2 0 m²" in out and "zone may shrink to its best blocks" in out


def test_search_progress_lines() -> None:
    blocks, _ = make_instance(1)
    lines: list[str] = []
    optimize.search(blocks, None, objective="far", progress=lines.append)
    assert [s.split(":")[0] for s in lines] == ["search"] * 3 and "optimal" in lines[1]
