"""Reading YAML files (proposals, dynamic rules, optimiser settings) with the line of every field.

The YAML is composed into nodes first, so every mapping key and sequence item keeps the line it
starts on; messages about a field (``release[1].block``) can then name its line. Repeated keys are
refused (YAML would silently keep the last one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
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


#: The largest YAML file zgc_space reads (proposals, rules, constraints, presets): a proposal
#: with a detailed inline polygon is tens of kB; the pure-Python parser (needed for line numbers)
#: takes a few seconds per MiB, so larger geometry belongs in a candidate file.
MAX_YAML_BYTES = 512 << 10
#: The deepest nesting of mappings and sequences (a MultiPolygon's coordinates are 5 deep).
MAX_YAML_DEPTH = 50
#: The most nodes a document may hold once its aliases are expanded (``*a`` repeats ``&a``):
#: bounds the work of a "billion laughs" file of a few hundred bytes.
MAX_YAML_NODES = 100_000


class YamlBoundError(yaml.YAMLError):
    """A YAML document is too large, too deep, or expands too much through aliases."""


class BoundedLoader(UniqueKeyLoader):
    """:class:`UniqueKeyLoader` that refuses documents nested deeper than ``max_depth``."""

    max_depth = MAX_YAML_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, counting how deep the document nests (recursion stays bounded)."""
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlBoundError(
                    f"it nests more than {self.max_depth} levels deep (line {mark.line + 1}); no zgc_space "
                    "file needs that many: check the brackets and indentation"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def expanded_size(root: yaml.Node, *, limit: int = MAX_YAML_NODES) -> int:
    r"""Return how many nodes ``root`` holds with every alias expanded (stops counting past ``limit``).

    Aliases are shared nodes in the composed graph, so the count is memoised per node: the work
    is linear in the file even when the expansion is exponential.

    Examples
    --------
    >>> loader = yaml.SafeLoader("a: &x [1, 2]\nb: [*x, *x]")
    >>> expanded_size(loader.get_single_node())
    13
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            sizes[id(node)] = 1
            continue
        if done:
            sizes[id(node)] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml(
    text: str, source: str, *, what: str = "proposal", error: type[ZgcSpaceError] = ProposalError
) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    r"""Compose and construct YAML within bounds; return the data and the line of every field path.

    The one YAML loader of zgc_space (proposals, inline coordinates, dynamic rules, optimiser
    constraints, presets): it refuses repeated keys, documents over :data:`MAX_YAML_BYTES`,
    nesting deeper than :data:`MAX_YAML_DEPTH` and alias expansion beyond
    :data:`MAX_YAML_NODES` nodes, each with a message naming ``what`` and ``source`` and raised
    as ``error``.

    Examples
    --------
    >>> load_yaml("a: &x [1]\nb: *x", "t.yaml")[0]
    {'a': [1], 'b': [1]}
    >>> bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    ...     f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    >>> load_yaml(bomb, "lol.yaml")
    Traceback (most recent call last):
    ...
    zgc_space.errors.ProposalError: proposal lol.yaml is refused: its aliases (*name) expand it to more than ...
    """
    size = len(text.encode("utf-8", errors="replace")) if len(text) > MAX_YAML_BYTES // 4 else len(text)
    if size > MAX_YAML_BYTES:
        raise error(
            f"{what} {source} is refused: it is {size / 1024:,.0f} KiB, more than the {MAX_YAML_BYTES >> 10} KiB "
            f"a {what} file may hold; split it, or give large geometry as a candidate file (GeoPackage)"
        )
    loader = None
    node = None
    try:
        loader = BoundedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, {}
        if expanded_size(node) > MAX_YAML_NODES:
            if "*" in text:
                raise error(
                    f"{what} {source} is refused: its aliases (*name) expand it to more than {MAX_YAML_NODES} "
                    "values (a 'billion laughs' file); write the values out, or use fewer nested aliases"
                )
            raise error(
                f"{what} {source} is refused: it holds more than {MAX_YAML_NODES} values; give large geometry as "
                "a candidate file (GeoPackage) and admit it by candidate id"
            )
        data = loader.construct_document(node)
    except (ValueError, OverflowError) as exc:  # a scalar YAML types itself (a date 2024-13-45) but cannot build
        if isinstance(exc, error):
            raise
        line = _bad_scalar_line(loader, node) if loader is not None and node is not None else None
        at = f" at line {line}" if line is not None else ""
        raise error(
            f"{what} {source} has a value that cannot be read{at} ({exc}); a date must be a real day written "
            "YYYY-MM-DD (e.g. 2024-09-15), or quote the value to keep it as text"
        ) from exc
    except DuplicateKeyError as exc:
        raise error(exc.describe(what, source)) from None
    except YamlBoundError as exc:
        raise error(f"{what} {source} is refused: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise error(
            f"{what} {source} is not valid YAML at{where}: {problem}; check the indentation and "
            "quoting on that line (a value containing ': ' or '#' needs quotes)"
        ) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        at = f" at line {line}" if line is not None else ""
        raise error(
            f"{what} {source} holds a character YAML does not allow{at} (code point #x{exc.character:04x}, "
            "e.g. a NUL byte): save it as plain UTF-8 text"
        ) from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {source} is not valid YAML: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[tuple[str | int, ...], int] = {}
    node_lines(node, (), lines)
    return data, lines


def _bad_scalar_line(loader: yaml.SafeLoader, root: yaml.Node) -> int | None:
    """Line of the first scalar under ``root`` whose implicit type (date, number) cannot be constructed."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            fresh = yaml.SafeLoader("")  # a failed construction leaves the loader's state half-done
            try:
                fresh.construct_object(node, deep=True)
            except (ValueError, OverflowError):
                return int(node.start_mark.line) + 1
            finally:
                fresh.dispose()
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None


def read_yaml_text(path: str | Path, *, what: str, error: type[ZgcSpaceError]) -> str:
    """Read a YAML file as UTF-8 text, refusing one over :data:`MAX_YAML_BYTES` before reading it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise error(
                f"{what} {path} is refused: it is {size / 1024:,.0f} KiB, more than the {MAX_YAML_BYTES >> 10} "
                f"KiB a {what} file may hold; split it, or give large geometry as a candidate file (GeoPackage)"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            raw.decode("gb18030")
            hint = " (it decodes as GBK/GB 18030: re-save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        raise error(
            f"{what} {path} is not UTF-8 text (byte {exc.start}){hint}; save it as UTF-8"
        ) from exc


def read_yaml(
    path: str | Path, *, what: str, error: type[ZgcSpaceError]
) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Read and load a YAML file within the bounds of :func:`load_yaml`."""
    return load_yaml(read_yaml_text(path, what=what, error=error), str(path), what=what, error=error)
