"""Proposal YAML that keeps an opened file's comments where its sections did not change.

The file is cut into its top-level sections (``id:``, ``release:``, ``constraints:`` ...), each
with the comment lines just above it; the header comment (before the first key) always stays.
A section whose value the edit left as it was is written back verbatim, comments and all; a
changed section is written by :func:`zgc_space.proposal.dump_proposal`'s rules, under its old
comments. The result is parsed again and must give the edited proposal exactly; otherwise the
plain dump (with the header comment) is written instead.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from zgc_space.errors import ProposalError
from zgc_space.scenarios.proposal import Proposal, dump_proposal, parse_proposal

__all__ = ["proposal_text"]

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")


def _sections(text: str) -> tuple[str, dict[str, tuple[str, str]], str]:
    """Return (header comment, key → (comments above it, its own text), trailing text)."""
    lines = text.splitlines(keepends=True)
    header: list[str] = []
    sections: dict[str, tuple[str, str]] = {}
    pending: list[str] = []
    current: str | None = None
    body: list[str] = []
    for line in lines:
        match = _KEY.match(line)
        if match:
            if current is not None:
                sections[current] = (sections[current][0], "".join(body))
            elif pending and not sections:
                # comment lines before the first key: the header, up to its last blank line
                cut = max((i + 1 for i, x in enumerate(pending) if not x.strip()), default=len(pending))
                header, pending = pending[:cut], pending[cut:]
            current = match.group(1)
            sections[current] = ("".join(pending), "")
            pending, body = [], [line]
        elif current is None or (line.strip() == "" or line.lstrip().startswith("#")) and not line.startswith(" "):
            pending.append(line)
        else:
            body.extend(pending)
            pending = []
            body.append(line)
    if current is not None:
        sections[current] = (sections[current][0], "".join(body))
    return "".join(header), sections, "".join(pending)


def _dump_key(key: str, value: Any) -> str:
    text: str = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=100)
    return text


def proposal_text(proposal: Proposal, source_text: str | None) -> str:
    r"""Return ``proposal`` as YAML, reusing ``source_text``'s comments where possible.

    Examples
    --------
    >>> from zgc_space.scenarios.proposal import parse_proposal
    >>> src = "# my header\nid: P1\ntitle: t\n# the releases\nrelease:\n  - block: B1  # low tax\n"
    >>> p = parse_proposal(src).model_copy(update={"title": "new title"})
    >>> print(proposal_text(p, src), end="")
    # my header
    id: P1
    title: new title
    # the releases
    release:
      - block: B1  # low tax
    """
    plain = dump_proposal(proposal)
    if not source_text:
        return plain
    try:
        old = parse_proposal(source_text).model_dump(mode="json", by_alias=True)
    except ProposalError:
        return plain
    header, sections, trailing = _sections(source_text)
    new_data = yaml.safe_load(plain) or {}
    new = proposal.model_dump(mode="json", by_alias=True)
    parts = [header]
    for key, value in new_data.items():
        above, own = sections.get(key, ("", ""))
        parts.append(above)
        parts.append(own if own and old.get(key) == new.get(key) else _dump_key(key, value))
    text = "".join(parts)
    if trailing.strip():
        text = text.rstrip("\n") + "\n" + trailing
    try:
        again = parse_proposal(text).model_dump(mode="json", by_alias=True)
    except ProposalError:
        again = None
    if again != new:
        return header + plain
    return text
