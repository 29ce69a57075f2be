r"""Adjustment proposals as files: the pydantic model, YAML reading with line numbers, writing.

A proposal is a small YAML file a planner can read, review and version. It names the
operations of the spatial adjustment (as the 2024-07-24 report to the Beijing Municipal People's
Congress describes it) and the constraints they must respect; :func:`zgc_space.scenarios.apply`
carries them out on a baseline block table.

======== ======== ==============================================================================
key      Chinese  what it does
======== ======== ==============================================================================
release  调出     remove whole blocks by id, or cut a polygon away from a block
admit    调入     add land: an area of a candidate file by id, or inline GeoJSON with attributes
renew    更新改造 raise FAR on blocks to a target or by a step (optional economic elasticities)
rezone   用地调整 move land between non-construction, not-ready and ready-to-supply classes
merge    整合     combine neighbouring blocks into one management unit
======== ======== ==============================================================================

Operations are applied in that order. The JSON Schema of the format is published with the
package (``zgc_space/scenarios/schemas/proposal.schema.json``, see :func:`json_schema`) so editors can
check files as they are typed. Every error names the file, the line and the field path.

Examples
--------
>>> from zgc_space.proposal import parse_proposal
>>> p = parse_proposal('''
... id: P01
... title: Release two outer blocks
... release:
...   - block: B151
...   - block: B152
...     reason: tax per hectare lowest of the zone
... ''')
>>> [r.block for r in p.release], p.line_of(("release", 1, "reason"))
(['B151', 'B152'], 7)
>>> parse_proposal("id: P02\ntitle: x\nrenew:\n  - blocks: [B1]\n    far_step: -1\n", source="p.yaml")
Traceback (most recent call last):
...
zgc_space.errors.ProposalError: proposal p.yaml is invalid: renew[0].far_step (line 5): Input should be greater than 0
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from zgc_space.errors import ProposalError
from zgc_space.io import format_path, load_yaml, read_yaml_text, write_atomic
from zgc_space.scenarios._messages import suggest_ids, validation_message

__all__ = [
    "LAND_CLASSES",
    "Admit",
    "Constraints",
    "Elasticity",
    "Geometry",
    "Merge",
    "Proposal",
    "Release",
    "Renew",
    "Rezone",
    "dump_proposal",
    "json_schema",
    "parse_proposal",
    "read_proposal",
    "suggest_ids",
    "write_proposal",
]

#: Land classes a ``rezone`` may move land between → canonical column (TD/T 1029 code).
LAND_CLASSES: dict[str, str] = {
    "nonconstruction": "nonconstruction_m2",  # C, planned non-construction
    "unready": "unready_m2",  # B other than B21, constructible but not ready to supply
    "ready": "ready_m2",  # B21, ready to supply
}

LandClass = Literal["nonconstruction", "unready", "ready"]
_ID_PATTERN = r"^[^\s]+$"
#: A proposal id names files (maps, tables of a hearing pack): no spaces, no path characters.
_PROPOSAL_ID_PATTERN = r'^[^\s/\\:*?"<>|]{1,100}$'
#: Upper bounds of proposal values: beyond them a number is a typo, and would give absurd results.
MAX_FAR = 100.0  # floor area / built land: far beyond any tall-building district
MAX_AREA_M2 = 2e10  # Beijing is 1.6e10 m²
MAX_DISTANCE_M = 1e6
MAX_ELASTICITY = 10.0
MAX_ATTRIBUTE = 1e12  # 10^12 万元 is a thousand times China's GDP


class _Model(BaseModel):
    # inf and NaN are refused everywhere (YAML reads .inf, and pydantic the text "inf", as numbers)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Geometry(_Model):
    """A GeoJSON Polygon or MultiPolygon geometry (coordinates in the proposal's ``crs``)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1, description="GeoJSON coordinates")

    def to_shapely(self) -> Any:
        """Return the shapely geometry (raises ``ValueError`` if the coordinates are malformed)."""
        import shapely.geometry

        return shapely.geometry.shape(self.model_dump())


class Release(_Model):
    """调出: remove a whole block, or only the part of it inside ``part``."""

    block: str = Field(pattern=_ID_PATTERN, description="block_id of the block to release")
    part: Geometry | None = Field(
        None,
        description="cut only this polygon away from the block; its land, floor area and economy "
        "shrink in proportion to the area removed",
    )
    reason: str = ""


class Admit(_Model):
    """调入: add an area of the candidate file by id, or an inline GeoJSON geometry."""

    candidate: str | None = Field(None, description="candidate_id in the candidate file")
    geometry: Geometry | None = Field(None, description="inline GeoJSON geometry (instead of candidate)")
    crs: str = Field("EPSG:4548", description="CRS of the inline geometry")
    block_id: str | None = Field(
        None, pattern=_ID_PATTERN, description="id of the new block (default: the candidate id)"
    )
    attributes: dict[str, float | int | bool | str | None] = Field(
        default_factory=dict,
        description="canonical block columns (subpark, built_m2, gfa_m2, tax_10k_cny, ...) that set or "
        "override the candidate's values",
    )
    reason: str = ""

    @field_validator("attributes")
    @classmethod
    def _plausible(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, v in value.items():
            if isinstance(v, float) and not (math.isfinite(v) and abs(v) <= MAX_ATTRIBUTE):
                raise ValueError(f"attribute {key!r} is {v!r}; give a finite value up to {MAX_ATTRIBUTE:.0e}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Admit:
        if (self.candidate is None) == (self.geometry is None):
            raise ValueError("give exactly one of `candidate` (an id in the candidate file) or `geometry`")
        if self.geometry is not None and self.block_id is None:
            raise ValueError("an inline `geometry` needs a `block_id` for the new block")
        return self

    @property
    def new_id(self) -> str:
        """The block_id the admitted land gets."""
        return self.block_id or str(self.candidate)


class Elasticity(_Model):
    """Relative change of an economic column per relative change of floor area.

    ``revenue: 0.8`` means +10 % floor area gives +8 % revenue. Zero (the default) leaves the
    column unchanged.
    """

    revenue: float = Field(0.0, ge=0, le=MAX_ELASTICITY,
                           description="applies to revenue_10k_cny and industrial_revenue_10k_cny")
    tax: float = Field(0.0, ge=0, le=MAX_ELASTICITY, description="applies to tax_10k_cny and industrial_tax_10k_cny")
    employees: float = Field(0.0, ge=0, le=MAX_ELASTICITY, description="applies to employees")


class Renew(_Model):
    """更新改造: raise the FAR (floor area / built land A) of blocks to a target or by a step.

    A target never lowers a block's floor area. Industrial floor area grows in proportion.
    """

    blocks: list[str] = Field(min_length=1, description="block_ids to renew")
    far_target: float | None = Field(None, gt=0, le=MAX_FAR, description="raise FAR to at least this value")
    far_step: float | None = Field(None, gt=0, le=MAX_FAR, description="raise FAR by this much")
    elasticity: Elasticity = Field(default_factory=lambda: Elasticity.model_validate({}))
    reason: str = ""

    @model_validator(mode="after")
    def _one_rule(self) -> Renew:
        if (self.far_target is None) == (self.far_step is None):
            raise ValueError("give exactly one of `far_target` or `far_step`")
        return self


class Rezone(_Model):
    """Move land of a block from one class to another (e.g. planned non-construction → not ready)."""

    block: str = Field(pattern=_ID_PATTERN, description="block_id")
    from_: LandClass = Field(alias="from", description="class the land leaves")
    to: LandClass = Field(description="class the land joins")
    area_m2: float | None = Field(None, gt=0, le=MAX_AREA_M2,
                                  description="area moved (default: all of the `from` class)")
    reason: str = ""

    @model_validator(mode="after")
    def _distinct(self) -> Rezone:
        if self.from_ == self.to:
            raise ValueError(f"`from` and `to` are both {self.to!r}; name two different classes")
        return self


class Merge(_Model):
    """Combine neighbouring blocks into one management unit (areas and economy summed).

    The blocks must share ``subpark`` and ``policy_zone``, and ``cluster`` and ``district``
    unless listed in ``allow_mixed`` (the unit then takes the value of its largest block).
    The unit's ``owner_type`` is its largest block's (the main owner type), its ``gfa_source``
    the least reliable of the blocks' (surveyed > height_raster > footprints > assumed), its
    ``name`` this ``name`` or the blocks' names joined with " + ".
    """

    blocks: list[str] = Field(min_length=2, description="block_ids to combine")
    into: str = Field(pattern=_ID_PATTERN, description="block_id of the combined block")
    name: str | None = None
    max_gap_m: float = Field(
        0.0, ge=0, le=MAX_DISTANCE_M, description="blocks closer than this count as neighbours (0: they must touch)"
    )
    allow_mixed: list[Literal["cluster", "district"]] = Field(
        default_factory=list,
        description="identity columns that may differ across the blocks (the unit takes its largest block's value)",
    )
    reason: str = ""


class Constraints(_Model):
    """Limits the adjusted zone must respect; a breach is reported as a violation."""

    area_cap_m2: float | None = Field(
        None, gt=0, le=MAX_AREA_M2,
        description="maximum total site area (default: the baseline total, i.e. area-neutral)"
    )
    min_area_m2: float | None = Field(
        None, ge=0, description="minimum total site area (default: none); the optimiser records the floor it used"
    )
    must_keep: list[str] = Field(default_factory=list, description="block_ids that may not be released")
    max_distance_m: float | None = Field(
        None, ge=0, le=MAX_DISTANCE_M, description="admitted land must lie within this distance of a kept block"
    )
    protected: str | None = Field(
        None,
        description="polygon file (e.g. an ecological red line) admitted land may not overlap; "
        "a relative path is taken from the proposal file's folder",
    )


class Proposal(_Model):
    """An adjustment proposal: metadata, operations and constraints.

    Build one from YAML with :func:`read_proposal` or :func:`parse_proposal` (they keep line
    numbers for messages) or directly in Python.

    Examples
    --------
    >>> p = Proposal(id="P9", title="renew", renew=[Renew(blocks=["B1"], far_step=0.5)])
    >>> p.block_ids(), p.changes_geometry
    (['B1'], False)
    """

    id: str = Field(pattern=_PROPOSAL_ID_PATTERN,
                    description="unique proposal id: 1-100 characters, no spaces or path characters")
    title: str = Field(min_length=1)
    author: str = ""
    date: _dt.date | None = None
    description: str = ""
    release: list[Release] = Field(default_factory=list)
    admit: list[Admit] = Field(default_factory=list)
    renew: list[Renew] = Field(default_factory=list)
    rezone: list[Rezone] = Field(default_factory=list)
    merge: list[Merge] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=lambda: Constraints.model_validate({}))

    _source: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return value.date() if isinstance(value, _dt.datetime) else value

    @model_validator(mode="after")
    def _consistent(self) -> Proposal:
        problems = _conflicts(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def source(self) -> str | None:
        """The file (or label) the proposal was read from, if any."""
        return self._source

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Return the 1-based line of a field path in the source YAML (nearest enclosing field).

        ``path`` is a tuple such as ``("release", 0, "block")``; ``None`` when not read from YAML.
        """
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return self._lines.get((), None)

    def where(self, path: Sequence[str | int]) -> str:
        """Describe a field's location for messages: ``"p.yaml line 7 (release[1].block)"``."""
        line = self.line_of(path)
        parts = [self._source or f"proposal {self.id}"]
        if line is not None:
            parts.append(f"line {line}")
        return " ".join(parts) + f" ({format_path(path)})"

    def block_ids(self) -> list[str]:
        """Every existing block id the proposal refers to, in order of appearance, without repeats."""
        ids: list[str] = [r.block for r in self.release]
        for r in self.renew:
            ids += r.blocks
        ids += [z.block for z in self.rezone]
        for m in self.merge:
            ids += m.blocks
        return list(dict.fromkeys(ids))

    @property
    def changes_geometry(self) -> bool:
        """Whether applying the proposal needs geometry work (admission, partial release, merge)."""
        return bool(self.admit or self.merge or any(r.part is not None for r in self.release))

    @property
    def is_empty(self) -> bool:
        """Whether the proposal has no operation at all."""
        return not (self.release or self.admit or self.renew or self.rezone or self.merge)


def _conflicts(p: Proposal) -> list[str]:
    """Operations of one proposal that contradict each other, with their field paths."""
    seen: dict[str, dict[str, str]] = {}  # block -> {op: path}

    def note(block: str, op: str, path: str) -> str | None:
        ops = seen.setdefault(block, {})
        previous = ops.get(op)
        ops.setdefault(op, path)
        return previous

    problems = []
    for i, r in enumerate(p.release):
        prev = note(r.block, "release", f"release[{i}].block")
        if prev:
            problems.append(f"block {r.block!r} is released twice ({prev} and release[{i}].block)")
    for i, rn in enumerate(p.renew):
        for j, b in enumerate(rn.blocks):
            prev = note(b, "renew", f"renew[{i}].blocks[{j}]")
            if prev:
                problems.append(f"block {b!r} is renewed twice ({prev} and renew[{i}].blocks[{j}])")
    for i, z in enumerate(p.rezone):
        note(z.block, "rezone", f"rezone[{i}].block")
    for i, m in enumerate(p.merge):
        for j, b in enumerate(m.blocks):
            prev = note(b, "merge", f"merge[{i}].blocks[{j}]")
            if prev:
                problems.append(f"block {b!r} is merged twice ({prev} and merge[{i}].blocks[{j}])")
    for block, ops in seen.items():
        if "release" in ops and len(ops) > 1:
            others = " and ".join(v for k, v in ops.items() if k != "release")
            problems.append(
                f"block {block!r} is released ({ops['release']}) and also changed ({others}); "
                "a released block cannot be renewed, rezoned or merged"
            )
    new_ids: dict[str, str] = {}
    for i, a in enumerate(p.admit):
        prev = new_ids.setdefault(a.new_id, f"admit[{i}]")
        if prev != f"admit[{i}]":
            problems.append(f"new block id {a.new_id!r} is used twice ({prev} and admit[{i}])")
    for i, m in enumerate(p.merge):
        prev = new_ids.setdefault(m.into, f"merge[{i}].into")
        if prev != f"merge[{i}].into":
            problems.append(f"new block id {m.into!r} is used twice ({prev} and merge[{i}].into)")
    return problems


def parse_proposal(text: str, *, source: str | None = None) -> Proposal:
    r"""Parse and validate a proposal from YAML text, keeping line numbers for messages.

    Parameters
    ----------
    text
        The YAML document.
    source
        Name used in messages (a file path); relative paths inside the proposal (e.g.
        ``constraints.protected``) are resolved from its folder.

    Raises
    ------
    ProposalError
        Invalid YAML (with line and column), a schema violation (with the field path and line)
        or contradicting operations.

    Examples
    --------
    >>> parse_proposal("id: P1\ntitle: t\nrelease:\n  - blok: B1\n", source="x.yaml")
    Traceback (most recent call last):
    ...
    zgc_space.errors.ProposalError: proposal x.yaml is invalid: ... release[0].blok (line 4): unknown field...
    """
    label = source or "<string>"
    data, lines = load_yaml(text, label)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ProposalError(
            f"proposal {label} is {kind}; it must be a YAML mapping with at least `id` and `title`"
        )
    try:
        proposal = Proposal.model_validate(data)
    except ValidationError as exc:
        raise ProposalError(validation_message(exc, lines, label, Proposal)) from None
    proposal._source = source
    proposal._lines = lines
    return proposal


def read_proposal(path: str | Path) -> Proposal:
    """Read and validate a proposal YAML file (UTF-8).

    Raises
    ------
    ProposalError
        As :func:`parse_proposal`, or if the file cannot be read.
    """
    path = Path(path)
    text = read_yaml_text(path, what="proposal", error=ProposalError)
    return parse_proposal(text, source=str(path))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def dump_proposal(proposal: Proposal) -> str:
    """Return the proposal as YAML a planner can read (defaults left out, field order kept).

    Examples
    --------
    >>> p = Proposal(id="P1", title="renew", renew=[Renew(blocks=["B1"], far_target=1.5)])
    >>> print(dump_proposal(p), end="")
    id: P1
    title: renew
    renew:
    - blocks:
      - B1
      far_target: 1.5
    >>> parse_proposal(dump_proposal(p)).model_dump() == p.model_dump()
    True
    """
    data = proposal.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return yaml.safe_dump(_clean(data), allow_unicode=True, sort_keys=False, width=100)


def write_proposal(proposal: Proposal, path: str | Path) -> Path:
    """Write the proposal as YAML (atomic: temp file, then rename). Returns the path."""
    return write_atomic(path, dump_proposal(proposal).encode("utf-8"))


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the proposal format (generated from :class:`Proposal`).

    The published copy is ``zgc_space/scenarios/schemas/proposal.schema.json``.

    Examples
    --------
    >>> schema = json_schema()
    >>> schema["title"], sorted(schema["properties"])[:3]
    ('Proposal', ['admit', 'author', 'constraints'])
    """
    return Proposal.model_json_schema()


def published_schema() -> dict[str, Any]:
    """Return the JSON Schema file shipped with the package."""
    text = resources.files("zgc_space.scenarios").joinpath("schemas/proposal.schema.json").read_text(encoding="utf-8")
    return cast("dict[str, Any]", json.loads(text))
