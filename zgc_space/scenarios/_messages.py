"""Proposal validation errors as one message with field paths, YAML lines and hints (private)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from zgc_space.io import format_path, line_of

_PATH_RE = re.compile(r"\b(release|admit|renew|rezone|merge|constraints)((?:\[\d+\]|\.[A-Za-z_]+)+)")


def _annotate(message: str, lines: Mapping[tuple[str | int, ...], int]) -> str:
    """Append ``(line N)`` to every field path quoted in a model-level message."""

    def repl(match: re.Match[str]) -> str:
        path: tuple[str | int, ...] = (match.group(1),)
        for part in re.findall(r"\[(\d+)\]|\.([A-Za-z_]+)", match.group(2)):
            path += (int(part[0]),) if part[0] else (part[1],)
        key = path
        while key and key not in lines:
            key = key[:-1]
        return f"{match.group(0)} (line {lines[key]})" if key else match.group(0)

    return _PATH_RE.sub(repl, message)


def validation_message(
    exc: ValidationError, lines: Mapping[tuple[str | int, ...], int], source: str, model: type[BaseModel]
) -> str:
    """Turn pydantic's errors into one message with field paths, lines and hints."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        found = line_of(loc, lines)
        line = f" (line {found})" if found is not None else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"unknown field{hint}; allowed here: {', '.join(allowed)}"
        elif not loc:
            msg = _annotate(msg, lines)
        parts.append(f"{format_path(loc)}{line}: {msg}")
    return f"proposal {source} is invalid: " + "; ".join(parts)


def _allowed_fields(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names (aliases) allowed at ``loc`` in the proposal model."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return []
        inner = _model_of(field.annotation)
        if inner is None:
            return []
        model = inner
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1", "G": "6", "S": "5", "Z": "2"})


def _id_key(value: str) -> tuple[str, int] | None:
    """Split an id like ``B0O2`` into (``"B"``, 2), reading look-alikes as digits (O 0, l 1, G 6, S 5)."""
    match = re.fullmatch(r"([A-Za-z_-]*?)([0-9OolIiGSZ]+)", value.strip())
    if not match:
        return None
    prefix, digits = match.group(1), match.group(2).translate(_CONFUSABLE)
    return (prefix.upper(), int(digits)) if digits.isdigit() else None


def suggest_ids(unknown: str, known: Iterable[str], *, n: int = 3) -> list[str]:
    """Return up to ``n`` existing ids closest to ``unknown`` (for "did you mean" messages).

    Ids that differ only by zero padding, case or a look-alike character (O for 0, l for 1, G for 6)
    come first, then the closest by :mod:`difflib` similarity, ties broken by the nearest number.

    Examples
    --------
    >>> suggest_ids("B1O2", ["B101", "B102", "B120", "C01"])
    ['B102', 'B120', 'B101']
    >>> suggest_ids("c1", ["C01", "C18", "C19"])[0]
    'C01'
    """
    known = list(dict.fromkeys(str(k) for k in known))
    key = _id_key(unknown)
    exact = [k for k in known if key is not None and _id_key(k) == key]
    number = key[1] if key else 0

    def distance(k: str) -> tuple[float, int]:
        other = _id_key(k)
        ratio = difflib.SequenceMatcher(None, unknown.upper(), k.upper()).ratio()
        return -ratio, abs(other[1] - number) if other and key else 0

    ranked = sorted((k for k in known if k not in exact), key=distance)
    close = [k for k in ranked if -distance(k)[0] >= 0.4]
    return (exact + close)[:n]
