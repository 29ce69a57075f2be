"""Tests of zgc_space.consolidate: groups, merge proposals that apply, fragmentation effect."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from zgc_space import scenarios
from zgc_space.errors import ColumnError
from zgc_space.scenarios.consolidate import consolidate

X, Y = 440_000.0, 4_420_000.0


def _blocks() -> gpd.GeoDataFrame:
    # a row of three 0.25 km² blocks 50 m apart, a big block next to them, a far small block,
    # and two small blocks of another sub-park touching each other
    geoms = [box(X, Y, X + 500, Y + 500), box(X + 550, Y, X + 1050, Y + 500), box(X + 1100, Y, X + 1600, Y + 500),
             box(X + 1650, Y, X + 3650, Y + 2000), box(X, Y + 8000, X + 400, Y + 8400),
             box(X, Y + 20000, X + 300, Y + 20300), box(X + 300, Y + 20000, X + 600, Y + 20300)]
    return gpd.GeoDataFrame({
        "block_id": ["A", "B", "C", "BIG", "FAR", "P", "Q"],
        "subpark": ["海淀园"] * 5 + ["朝阳园"] * 2,
        "owner_count": [3, 2, 4, 1, 1, 2, 2],
        "built_m2": [1e5] * 5 + [9e4] * 2, "gfa_m2": [1e5, 2e5, 3e5, 4e5, 1e5, 1e5, 1e5],
    }, geometry=geoms, crs="EPSG:4548")


def test_groups_by_hand() -> None:
    res = consolidate(_blocks(), max_gap_m=60)
    assert res.groups["blocks"].tolist() == [["P", "Q"], ["A", "B", "C"]]
    assert res.groups["area_km2"].round(4).tolist() == [0.18, 0.75]
    frag = res.fragmentation
    assert frag.loc["海淀园", "block_count_before"] == 5 and frag.loc["海淀园", "block_count_after"] == 3
    assert frag.loc["ZGC", "block_count_after"] == 4
    assert frag.loc["海淀园", "small_block_share_pct_after"] == pytest.approx(200 / 3)  # M_A and FAR


def test_merges_apply_and_keep_totals() -> None:
    blocks = _blocks()
    res = consolidate(blocks, max_gap_m=60)
    applied = scenarios.apply(blocks, res.proposal)
    assert applied.feasible and len(applied.blocks) == 4
    assert applied.blocks["gfa_m2"].sum() == pytest.approx(blocks["gfa_m2"].sum())
    merged = applied.blocks.set_index("block_id").loc["M_A"]
    assert merged["gfa_m2"] == pytest.approx(6e5) and merged["owner_count"] == 9


def test_limits() -> None:
    blocks = _blocks()
    tight = consolidate(blocks, max_gap_m=60, max_group_km2=0.5)
    assert [len(b) for b in tight.groups["blocks"]] == [2, 2]  # A-B-C is cut at 0.5 km²
    assert consolidate(blocks, max_gap_m=60, exclude=["B"]).groups["blocks"].tolist() == [["P", "Q"]]
    assert consolidate(blocks, max_gap_m=60, small_km2=0.2).groups["blocks"].tolist() == [["P", "Q"]]
    none = consolidate(blocks, max_gap_m=10, small_km2=0.05)
    assert none.groups.empty and not none.proposal.merge


def test_errors() -> None:
    with pytest.raises(ColumnError, match="needs column 'subpark'"):
        consolidate(_blocks().drop(columns="subpark"))
    with pytest.raises(ValueError, match="max_gap_m must be ≥ 0"):
        consolidate(_blocks(), max_gap_m=-1)


def test_cli(tmp_path, capsys) -> None:
    import json

    from zgc_space import cli
    from zgc_space.scenarios.proposal import read_proposal

    path = tmp_path / "blocks.gpkg"
    _blocks().to_file(path)
    out = tmp_path / "merge.yaml"
    assert cli.main(["consolidate", str(path), "--max-gap-m", "60", "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [g["blocks"] for g in payload["groups"]] == [["P", "Q"], ["A", "B", "C"]]
    assert [m.into for m in read_proposal(out).merge] == ["M_P", "M_A"]
    assert cli.main(["consolidate", str(path), "--max-gap-m", "60"]) == 0
    assert "2 groups of 5 small blocks" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:  # an option out of range is a usage error (exit 2)
        cli.main(["consolidate", str(path), "--max-gap-m", "-5"])
    assert exc.value.code == 2 and "argument --max-gap-m: must be a finite number (≥ 0)" in capsys.readouterr().err


def test_groups_never_cross_policy_zone_or_cluster() -> None:
    # the merge rules of scenarios.apply refuse mixed policy zones and clusters: consolidation must not propose them
    blocks = _blocks().assign(policy_zone=[True, False, False, False, False, True, True],
                              cluster=["c1", "c1", "c1", "c1", "c1", "c2", "c3"])
    res = consolidate(blocks, max_gap_m=60)
    assert res.groups["blocks"].tolist() == [["B", "C"]]
    applied = scenarios.apply(blocks, res.proposal)
    assert len(applied.blocks) == len(blocks) - 1
