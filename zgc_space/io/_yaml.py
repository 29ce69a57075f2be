"""Reading YAML files (proposals, dynamic rules, optimiser settings) with the line of every field.

The YAML is composed into nodes first, so every mapping key and sequence item keeps the line it
starts on; messages about a field (``release[1].block``) can then name its line. Repeated keys are
refused (YAML would silently keep the last one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from zgc_space.errors import ProposalError, ZgcSpaceError


def format_path(path: Iterable[str | int]) -> str:
    """Format a field path as ``release[1].block``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def node_lines(node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]) -> None:
    """Record the 1-based start line of every node under ``node``, keyed by field path."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            # a scalar value's line is its key's line; a block mapping/sequence starts below it
            out.setdefault(path + (key,), key_node.start_mark.line + 1)
            node_lines(value_node, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            node_lines(item, path + (i,), out)


def line_of(loc: Sequence[str | int], lines: Mapping[tuple[str | int, ...], int]) -> int | None:
    """Return the line of the deepest prefix of the field path ``loc`` in ``lines`` (None if no prefix is there)."""
    key = tuple(loc)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key)


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key (plain YAML would silently keep the last value)."""

    def __init__(self, key: object, first_line: int, line: int) -> None:
        self.key, self.first_line, self.line = key, first_line, line
        super().__init__(problem=f"key {key!r} (line {line}) repeats {key!r} (line {first_line})")

    def describe(self, what: str, source: str) -> str:
        """Message naming the key, file and both lines, with the fix."""
        return (
            f"{what} {source}: key {self.key!r} at line {self.line} repeats {self.key!r} from line "
            f"{self.first_line}, and YAML would silently drop the first one; give each key once per "
            f"mapping (e.g. put all items of {self.key!r} in one list)"
        )


DuplicateKeyError.__module__ = "zgc_space.io"  # public there; tracebacks name it so


class UniqueKeyLoader(yaml.SafeLoader):
    r"""A safe YAML loader that refuses a mapping with a repeated key.

    Examples
    --------
    >>> yaml.load("a: 1\nb: 2", Loader=UniqueKeyLoader)
    {'a': 1, 'b': 2}
    >>> yaml.load("a: 1\na: 2", Loader=UniqueKeyLoader)
    Traceback (most recent call last):
    ...
    zgc_space.io.DuplicateKeyError: key 'a' (line 2) repeats 'a' (line 1)
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Construct a mapping after checking that no key repeats (``<<`` merges may be overridden)."""
        seen: dict[Any, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise DuplicateKeyError(key, seen[key], line)
                    seen[key] = line
                except TypeError:  # an unhashable key: the base class reports it
                    continue
        return super().construct_mapping(node, deep=deep)


def load_yaml(
    text: str, source: str, *, what: str = "proposal", error: type[ZgcSpaceError] = ProposalError
) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Compose and construct YAML, refusing repeated keys; return the data and the line of every field path.

    Problems are raised as ``error`` with a message that starts with ``what`` and ``source``.
    """
    loader = UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        data = loader.construct_document(node)
    except DuplicateKeyError as exc:
        raise error(exc.describe(what, source)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise error(
            f"{what} {source} is not valid YAML at{where}: {problem}; check the indentation and "
            "quoting on that line (a value containing ': ' or '#' needs quotes)"
        ) from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {source} is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[tuple[str | int, ...], int] = {}
    node_lines(node, (), lines)
    return data, lines
