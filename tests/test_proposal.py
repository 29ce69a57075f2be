import json
from pathlib import Path

import pytest

from zgc_space.errors import ProposalError
from zgc_space.scenarios.proposal import (
    Proposal,
    Release,
    Renew,
    dump_proposal,
    json_schema,
    parse_proposal,
    published_schema,
    read_proposal,
    suggest_ids,
    write_proposal,
)

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
id: P01
title: test
date: 2024-09-15
release:
  - block: B001
    reason: low tax
admit:
  - candidate: C01
renew:
  - blocks: [B002, B003]
    far_step: 0.5
    elasticity: {tax: 0.7}
rezone:
  - block: B004
    from: nonconstruction
    to: unready
    area_m2: 1000
merge:
  - blocks: [B005, B006]
    into: M1
constraints:
  must_keep: [B007]
  max_distance_m: 500
"""


def test_committed_schema_equals_the_model():
    assert published_schema() == json_schema()
    on_disk = json.loads((ROOT / "zgc_space/scenarios/schemas/proposal.schema.json").read_text(encoding="utf-8"))
    assert on_disk == Proposal.model_json_schema()


def test_parse_keeps_values_and_lines():
    p = parse_proposal(GOOD, source="good.yaml")
    assert p.source == "good.yaml"
    assert p.release[0].block == "B001" and p.admit[0].new_id == "C01"
    assert p.renew[0].elasticity.tax == 0.7 and p.renew[0].elasticity.revenue == 0.0
    assert p.rezone[0].from_ == "nonconstruction"
    assert p.date.isoformat() == "2024-09-15"
    assert p.line_of(("release", 0, "block")) == 5
    assert p.line_of(("renew", 0, "blocks", 1)) == 10
    assert p.line_of(("merge", 0, "into")) == 20
    assert p.line_of(("constraints", "must_keep", 0)) == 22
    assert "good.yaml line 14" in p.where(("rezone", 0))
    assert p.block_ids() == ["B001", "B002", "B003", "B004", "B005", "B006"]
    assert p.changes_geometry and not p.is_empty


def test_invalid_yaml_reports_the_line():
    text = "id: P1\ntitle: t\nrelease:\n  - block: B1\n   reason: bad indent\n"
    with pytest.raises(ProposalError, match=r"bad.yaml is not valid YAML at line 5 column 4: .*indentation"):
        parse_proposal(text, source="bad.yaml")


def test_schema_violation_reports_the_field_path_and_line():
    text = "id: P1\ntitle: t\nrenew:\n  - blocks: [B1]\n    far_target: 1.0\n  - blocks: []\n    far_step: 1\n"
    with pytest.raises(ProposalError, match=r"renew\[1\]\.blocks \(line 6\): List should have at least 1 item"):
        parse_proposal(text, source="s.yaml")


def test_wrong_type_and_missing_field():
    with pytest.raises(ProposalError, match=r"rezone\[0\]\.area_m2 \(line 7\): Input should be a valid number"):
        parse_proposal("id: P1\ntitle: t\nrezone:\n  - block: B1\n    from: ready\n    to: unready\n"
                       "    area_m2: lots\n")
    with pytest.raises(ProposalError, match=r"title \(line 1\): Field required"):
        parse_proposal("id: P1\n")


def test_unknown_field_suggests_the_closest():
    with pytest.raises(ProposalError, match=r"release\[0\]\.blok \(line 4\): unknown field \(did you mean 'block'\?\)"):
        parse_proposal("id: P1\ntitle: t\nrelease:\n  - blok: B1\n")


def test_model_rules_with_lines():
    with pytest.raises(ProposalError, match=r"exactly one of `far_target` or `far_step`"):
        parse_proposal("id: P1\ntitle: t\nrenew:\n  - blocks: [B1]\n")
    with pytest.raises(ProposalError, match=r"`from` and `to` are both 'ready'"):
        parse_proposal("id: P1\ntitle: t\nrezone:\n  - block: B1\n    from: ready\n    to: ready\n")
    with pytest.raises(ProposalError, match=r"exactly one of `candidate`"):
        parse_proposal("id: P1\ntitle: t\nadmit:\n  - reason: nothing\n")
    with pytest.raises(ProposalError, match=r"needs a `block_id`"):
        parse_proposal("id: P1\ntitle: t\nadmit:\n"
                       "  - geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1]]]}\n")


def test_conflicting_operations_name_both_lines():
    text = "id: P1\ntitle: t\nrelease:\n  - block: B1\nrenew:\n  - blocks: [B2, B1]\n    far_step: 1\n"
    with pytest.raises(ProposalError, match=r"released \(release\[0\]\.block \(line 4\)\) and also changed "
                                            r"\(renew\[0\]\.blocks\[1\] \(line 6\)\)"):
        parse_proposal(text)
    with pytest.raises(ValueError, match=r"renewed twice"):  # built in Python: pydantic's ValidationError
        Proposal(id="P", title="t", renew=[Renew(blocks=["B1", "B1"], far_step=1)])
    with pytest.raises(ValueError, match=r"released twice"):
        Proposal(id="P", title="t", release=[Release(block="B1"), Release(block="B1")])


def test_empty_and_non_mapping_documents():
    with pytest.raises(ProposalError, match=r"is empty; it must be a YAML mapping"):
        parse_proposal("", source="e.yaml")
    with pytest.raises(ProposalError, match=r"is a list"):
        parse_proposal("- a\n- b\n")


def test_read_missing_file(tmp_path):
    with pytest.raises(ProposalError, match=r"cannot read proposal .*nope.yaml"):
        read_proposal(tmp_path / "nope.yaml")


def test_dump_write_read_round_trip(tmp_path):
    p = parse_proposal(GOOD)
    path = write_proposal(p, tmp_path / "p.yaml")
    again = read_proposal(path)
    assert again.model_dump() == p.model_dump()
    assert "from: nonconstruction" in dump_proposal(p)


def test_sample_proposals_are_valid():
    files = sorted((ROOT / "sample_data/proposals").glob("*.yaml"))
    assert len(files) >= 4
    ids = [read_proposal(f).id for f in files]
    assert len(set(ids)) == len(ids)


def test_suggest_ids():
    assert suggest_ids("B10", ["B100", "B010", "C01"])[0] in {"B100", "B010"}
    assert suggest_ids("zzzz", ["B1"]) == []


def test_repeated_key_names_the_key_the_file_and_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("id: D1\ntitle: t\nrelease:\n  - block: B158\nrelease:\n  - block: B159\n", encoding="utf-8")
    with pytest.raises(ProposalError, match=r"dup.yaml: key 'release' at line 5 repeats 'release' from line 3"):
        read_proposal(path)
    nested = "id: D1\ntitle: t\nrenew:\n  - blocks: [B1]\n    far_step: 0.5\n    far_step: 0.7\n"
    with pytest.raises(ProposalError, match=r"n.yaml: key 'far_step' at line 6 repeats 'far_step' from line 5"):
        parse_proposal(nested, source="n.yaml")
