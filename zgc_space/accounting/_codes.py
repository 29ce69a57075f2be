"""Code tables: survey land-use codes (DLBM), CZCSXM, plan codes → accounting uses.

The tables are data files under ``zgc_space/accounting/codes/`` (YAML), editable and
extensible by a user table (YAML in the same shape, or CSV with ``layer,code,use[,name]``).
"""

from __future__ import annotations

import csv
import functools
import io as _stdio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zgc_space.errors import AccountingError
from zgc_space.io import read_yaml  # the one bounded YAML loader (size, depth, aliases)

__all__ = ["CODES_DIR", "CodeMapping", "SURVEY_USES", "PLAN_USES", "load_codes", "normalise_codes"]

#: Folder of the packaged code tables.
CODES_DIR = Path(__file__).resolve().parent / "codes"

#: Accounting uses a survey code may map to.
SURVEY_USES = ("A1", "A2", "A3", "A4", "A5", "A6", "B11", "B12", "vacant", "nonconstruction")
#: Uses a plan code may map to.
PLAN_USES = ("construction", "nonconstruction")
_CZCSXM_USES = ("urban", "rural")
_LAYERS = {"survey": SURVEY_USES, "plan": PLAN_USES, "czcsxm": _CZCSXM_USES}
#: Packaged plan tables, later ones winning where they define the same code.
_PLAN_TABLES = ("ydyh_2023", "gb50137_2011", "db11_996")


@dataclass(frozen=True)
class CodeMapping:
    """The code tables one accounting used: code → use for survey, plan and CZCSXM codes.

    ``table`` lists every entry with its layer, use, name and the file it came from, so the
    mapping is recorded with the result (and in every manifest written from it).
    """

    survey: dict[str, str]
    survey_prefix: bool
    plan: dict[str, str]
    czcsxm: dict[str, str]
    table: pd.DataFrame = field(repr=False)
    sources: tuple[str, ...] = ()

    def survey_use(self, codes: Sequence[object] | np.ndarray) -> np.ndarray:
        """Return the use of each survey code (``None`` where unknown)."""
        return _lookup(codes, self.survey, prefix=self.survey_prefix)

    def plan_use(self, codes: Sequence[object] | np.ndarray) -> np.ndarray:
        """Return ``"construction"``/``"nonconstruction"`` per plan code (``None`` where unknown)."""
        return _lookup(codes, self.plan, prefix=True)

    def czcsxm_use(self, codes: Sequence[object] | np.ndarray) -> np.ndarray:
        """Return ``"urban"``/``"rural"`` per CZCSXM code (``None`` where blank or unknown)."""
        return _lookup(codes, self.czcsxm, prefix=False)


def normalise_codes(values: Sequence[object] | np.ndarray) -> np.ndarray:
    """Return codes as stripped upper-case strings; ``None`` for blanks.

    Codes stored as numbers lose their leading zero (``101`` for ``0101``): a number of 3 or 5
    digits gets its zero back. Text codes are kept as they are (``"083"`` is a 3-digit code of
    the second survey, GB/T 21010-2007). Each distinct value is normalised once (a survey layer
    has tens of thousands of parcels and a few dozen codes).
    """
    arr = np.asarray(values, dtype=object).reshape(-1)
    codes, uniques = pd.factorize(arr)  # None, NaN and pd.NA get -1
    norm = np.array([_normalise_one(v) for v in np.asarray(uniques, dtype=object)] + [None], dtype=object)
    out: np.ndarray = norm[codes]  # code -1 takes the trailing None
    return out


def _normalise_one(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        text = str(int(v))
        if len(text) in (3, 5):  # a number lost its leading zero (101 for 0101)
            text = "0" + text
    else:
        text = str(v).strip().upper()
    return text or None


def _lookup(codes: Sequence[object] | np.ndarray, table: dict[str, str], *, prefix: bool) -> np.ndarray:
    norm = normalise_codes(codes)
    index, uniq = pd.factorize(norm)
    found: list[str | None] = []
    for code in np.asarray(uniq, dtype=object).tolist():
        use = table.get(code)
        if use is None and prefix:
            for n in range(len(code) - 1, 0, -1):
                use = table.get(code[:n])
                if use is not None:
                    break
        found.append(use)
    out: np.ndarray = np.array([*found, None], dtype=object)[index]
    return out


def _entries_yaml(path: Path, default_layer: str) -> tuple[list[tuple[str, str, str, str]], bool]:
    data, _ = read_yaml(path, what="code table", error=AccountingError)
    if not isinstance(data, dict) or not isinstance(data.get("codes"), dict):
        raise AccountingError(f"code table {path} must be a mapping with a `codes:` mapping (code: [use, name])")
    layer = str(data.get("layer", default_layer))
    rows = []
    for code, value in data["codes"].items():
        use, name = (value[0], value[1] if len(value) > 1 else "") if isinstance(value, list) else (value, "")
        rows.append((layer, str(code), str(use), str(name)))
    return rows, bool(data.get("prefix", False))


def _entries_csv(path: Path) -> list[tuple[str, str, str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountingError(f"cannot read the code table {path}: {exc}; save it as UTF-8 CSV") from exc
    reader = csv.DictReader(_stdio.StringIO(text))
    fields = set(reader.fieldnames or ())
    use_col = "use" if "use" in fields else "class" if "class" in fields else None
    if "code" not in fields or use_col is None:
        raise AccountingError(
            f"code table {path} needs the columns code and use (and optionally layer, name); "
            f"found {sorted(fields)}"
        )
    return [
        (row.get("layer") or "survey", str(row["code"]), str(row[use_col]), row.get("name") or "")
        for row in reader
    ]


def _check(rows: list[tuple[str, str, str, str]], source: str) -> None:
    bad = []
    for layer, code, use, _ in rows:
        allowed = _LAYERS.get("survey" if layer == "both" else layer)
        if allowed is None:
            bad.append(f"{code}: layer {layer!r} is not survey, plan or czcsxm")
        elif use not in allowed:
            bad.append(f"{code} ({layer}): use {use!r} is not one of {', '.join(allowed)}")
    if bad:
        raise AccountingError(f"code table {source} has {len(bad)} bad entries: " + "; ".join(bad[:20]))


def _packaged(name: str) -> Path:
    path = CODES_DIR / f"{name}.yaml"
    if not path.is_file():
        names = sorted(p.stem for p in CODES_DIR.glob("*.yaml"))
        raise AccountingError(
            f"codes={name!r} is neither a packaged code table ({', '.join(names)}) nor an existing file; "
            "pass a table name or the path of a YAML/CSV mapping table"
        )
    return path


@functools.lru_cache(maxsize=64)
def _entries(path_text: str, mtime_ns: int, size: int) -> tuple[tuple[tuple[str, str, str, str], ...], bool | None]:
    """Read and check one code table; remembered by path, modification time and size (a pure memo).

    ``mtime_ns`` and ``size`` are part of the key only: an edited file is read again.
    """
    path = Path(path_text)
    if path.suffix.lower() == ".csv":
        entries, prefix = _entries_csv(path), None
    else:
        default = "czcsxm" if path.stem == "czcsxm" else "survey"
        entries, prefix = _entries_yaml(path, default)
    _check(entries, str(path))
    return tuple(tuple(e) for e in entries), prefix  # type: ignore[misc]


def load_codes(
    codes: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = "gbt21010_2017",
) -> CodeMapping:
    """Load the code tables for one accounting.

    Parameters
    ----------
    codes
        A packaged survey table name (``"gbt21010_2017"``, GB/T 21010-2017 with the 三调 work
        codes, or ``"ydyh_2023"``, the 2023 用地用海分类), the path of a user table, or a list
        of them; later tables override earlier ones code by code. A user table alone is applied
        on top of ``gbt21010_2017``. The plan tables (GB 50137-2011, DB11/996, 用地用海 2023)
        and CZCSXM are always loaded first.

    Returns
    -------
    CodeMapping

    Raises
    ------
    AccountingError
        Unknown table name, unreadable file, or an entry with a use that does not exist.

    Examples
    --------
    >>> m = load_codes()
    >>> m.survey_use(["0701", "05H1", "0702", "1201", "0103", "9999"]).tolist()
    ['A1', 'A4', 'B11', 'vacant', 'nonconstruction', None]
    >>> m.plan_use(["M4", "R21", "E2", "100101"]).tolist()
    ['construction', 'construction', 'nonconstruction', 'construction']
    """
    items = [codes] if isinstance(codes, (str, os.PathLike)) else list(codes)
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        paths.append(path if path.suffix.lower() in {".yaml", ".yml", ".csv"} else _packaged(str(item)))
    if not any(p.parent == CODES_DIR and p.stem != "czcsxm" for p in paths[:1]):
        paths.insert(0, _packaged("gbt21010_2017"))
    base = [_packaged("czcsxm"), *(_packaged(n) for n in _PLAN_TABLES)]
    files = []
    for path in [*base, *paths]:
        if not path.is_file():
            raise AccountingError(f"code table {path} does not exist; check the path given as codes=")
        stat = path.stat()
        files.append((str(path), str(path.resolve()), stat.st_mtime_ns, stat.st_size))
    mapping = _mapping(tuple(files), len(base))
    # each call gets its own tables: a caller editing them does not change the next accounting
    return CodeMapping(survey=dict(mapping.survey), survey_prefix=mapping.survey_prefix, plan=dict(mapping.plan),
                       czcsxm=dict(mapping.czcsxm), table=mapping.table.copy(), sources=mapping.sources)


@functools.lru_cache(maxsize=16)
def _mapping(files: tuple[tuple[str, str, int, int], ...], n_base: int) -> CodeMapping:
    """Build the mapping of ``files`` (path, resolved path, mtime, size); the first ``n_base`` are packaged."""
    rows: list[tuple[str, str, str, str, str]] = []
    survey_prefix = False
    for i, (given, resolved, mtime_ns, size) in enumerate(files):
        entries, prefix = _entries(resolved, mtime_ns, size)
        is_base = i < n_base
        name_of = Path(given).name
        codes_norm: list[Any] = list(normalise_codes([e[1] for e in entries])) if entries else []
        for (layer, _code, use, name), code in zip(entries, codes_norm, strict=True):
            layers = ["plan"] if (layer == "both" and is_base) else ["survey", "plan"] if layer == "both" else [layer]
            for lay in layers:
                value = use if lay != "plan" or use in PLAN_USES else (
                    "nonconstruction" if use == "nonconstruction" else "construction")
                rows.append((lay, code, value, name, name_of))
        if not is_base and prefix is not None and any(e[0] in ("survey", "both") for e in entries):
            survey_prefix = prefix
    table = pd.DataFrame(rows, columns=["layer", "code", "use", "name", "source"])
    table = table.drop_duplicates(["layer", "code"], keep="last").reset_index(drop=True)
    by_layer = {lay: dict(zip(g["code"], g["use"], strict=True)) for lay, g in table.groupby("layer")}
    return CodeMapping(
        survey=by_layer.get("survey", {}), survey_prefix=survey_prefix, plan=by_layer.get("plan", {}),
        czcsxm=by_layer.get("czcsxm", {}), table=table,
        sources=tuple(dict.fromkeys(f[0] for f in files)),
    )
