"""Helpers shared by the subcommands: JSON output with stable keys, table printing."""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded where used: `zgc-space --help` imports no numpy, pandas or folium
    import pandas as pd

    from zgc_space.maps import Footer


def _plain(value: Any) -> Any:
    """Turn numpy/pandas scalars and containers into JSON-safe Python values (NaN → None)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.reset_index().to_dict(orient="records")]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as JSON (sorted keys, UTF-8, no NaN)."""
    json.dump(_plain(payload), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
    sys.stdout.write("\n")


def lang_of(args: Any) -> str:
    """Return the language of a command's terminal output: ``"zh"`` with ``--zh``, else ``"en"``."""
    return "zh" if getattr(args, "zh", False) else "en"


def print_table(frame: pd.DataFrame, *, float_format: str | None = None, lang: str = "en",
                transpose: bool = False) -> None:
    """Print a DataFrame as plain text, numbers at their display precision, words in ``lang``.

    Each column gets one precision (:func:`zgc_space.labels.decimals_for`), so ``0.0027`` never
    sits beside ``1.18``; a value that rounds to zero has no sign (no ``-0.00``, no ``2.2e-16``).
    With ``lang="zh"`` headers, index entries, statuses and the library's sentences are in
    Chinese. ``transpose`` prints the columns as rows (after formatting, so each keeps its
    precision). A fixed ``float_format`` (e.g. ``"{:,.0f}"``) formats every number instead.
    """
    import pandas as pd

    from zgc_space import labels

    shown = labels.translate_frame(frame, lang) if lang != "en" else frame
    if float_format is None:
        cells = {}
        for col in shown.columns:
            values = shown[col]
            numeric = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all()
            if numeric and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                places = labels.decimals_for(values)
                if places == 0 and pd.api.types.is_float_dtype(values) and values.abs().max() < 1000:
                    places = 2  # measured values that happen to be whole keep the precision of their kind
                cells[col] = [labels.value(v, lang, decimals=places) for v in values]
            else:
                cells[col] = [labels.value(v, lang) if not isinstance(v, str) else v for v in values]
        shown = pd.DataFrame(cells, index=shown.index, columns=shown.columns)
    if lang != "en":
        shown = shown.rename(columns=lambda c: labels.header(str(c), lang),
                             index=lambda i: _word(i, lang))
        shown.index.names = [None if n is None else labels.column_name(str(n), lang) for n in shown.index.names]
        shown.columns.names = [None if n is None else labels.column_name(str(n), lang) for n in shown.columns.names]
    if transpose:
        shown = shown.T
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200,
                           "display.unicode.east_asian_width", lang != "en"):
        if float_format is None:
            print(shown.to_string())
        else:
            print(shown.to_string(float_format=float_format.format))


def write_table(frame: pd.DataFrame, path: str, *, inputs: list[str], command: str, stem: str,
                zh: bool = False) -> Any:
    """Write a command's table: a CSV for programs (canonical ids), an XLSX for people.

    An ``.xlsx`` (and a CSV with ``--zh``) has Chinese headers with units, Chinese statuses and
    sentences; the XLSX also a units row, number formats, widths, a frozen header and a
    ``说明`` sheet naming its sources (SHA-256) and the command that wrote it.
    """
    from zgc_space import io, labels

    xlsx = Path(path).suffix.lower() == ".xlsx"
    if not (xlsx or zh):
        return io.write_table(frame, path, inputs=inputs)
    shown, units = labels.people_table(frame, "zh")
    return io.write_table(shown, path, inputs=inputs, sheet=labels.SHEETS.get(stem, "数据"), units=units,
                          notes=[("表", labels.SHEETS.get(stem, stem)), ("命令", f"zgc-space {command}")])


def _word(value: Any, lang: str) -> Any:
    """Return an index entry in ``lang``: a catalogue term, a column or indicator name, else as given."""
    from zgc_space import labels

    if not isinstance(value, str):
        return value
    if value in labels.TERMS:
        return labels.term(value, lang)
    return labels.header(value, lang) if labels.header(value, lang) != value else value


@contextmanager
def collecting_notes() -> Iterator[list[str]]:
    """Collect the warnings raised inside the block as notes for the user (unique, in order).

    The list is filled when the block ends; commands print the notes or put them in JSON.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    notes.extend(dict.fromkeys(str(w.message) for w in caught))


def noted(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``func(*args, **kwargs)``; return its result and the notes of the warnings it raised."""
    with collecting_notes() as notes:
        result = func(*args, **kwargs)
    return result, notes


def add_json_flag(parser: Any) -> None:
    """Add the ``--json`` flag every result-printing subcommand takes."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON (stable keys)")


def add_footer_flags(parser: Any) -> None:
    """Add the map footer's ``--review-number``, ``--data-source`` and ``--crs-note`` (each command adds ``--date``)."""
    parser.add_argument("--review-number", help="footer: map review number (审图号)")
    parser.add_argument("--data-source", help="footer: data source (数据来源)")
    parser.add_argument("--crs-note", help="footer: coordinate system statement (坐标系)")


def footer_from(args: Any) -> Footer:
    """Return the map footer given by the flags of :func:`add_footer_flags` and ``--date``."""
    from zgc_space.maps import Footer

    return Footer(review_number=args.review_number, data_source=args.data_source, crs=args.crs_note, date=args.date)


#: Subcommands that compute numbers from a block file: they refuse one that fails validation
#: unless ``--allow-invalid`` is given (and then say so in their notes).
CHECKED_COMMANDS = ("info", "indicators", "capacity", "map", "rank", "zonal", "floor-area", "buildings", "apply",
                    "compare", "report", "optimize", "pareto", "consolidate", "diagnose")


#: Commands enriching each block on its own (from rasters, footprints): only the problems that make
#: a block's own numbers wrong stop them (not overlaps or land-accounting sums).
PER_BLOCK_COMMANDS = ("zonal", "floor-area", "buildings")
PER_BLOCK_RULES = frozenset({"missing-id", "duplicate-id", "crs-missing", "crs-refused", "empty-geometry",
                             "geometry-type", "non-finite-vertex", "invalid-geometry", "outside-crs-extent"})


def add_allow_invalid_flag(parser: Any) -> None:
    """Add ``--allow-invalid`` (compute on a block file that fails validation, saying so)."""
    parser.add_argument("--allow-invalid", action="store_true",
                        help="compute even if the block file fails validation (the output says so; numbers may "
                             "be wrong)")


def read_checked(args: Any, path: str, **options: Any) -> Any:
    """Read a block file and refuse it if it fails validation, unless ``--allow-invalid`` was given.

    With the override, a :class:`~zgc_space.errors.ValidationWarning` names the errors, so the
    command's notes say that its numbers come from an invalid table.
    """
    from zgc_space import blocks as _blocks
    from zgc_space import io
    from zgc_space.errors import BlockValidationError, ValidationWarning

    frame = io.read_blocks(path, **options)
    if len(frame) == 0:
        from zgc_space.errors import DataFileError

        raise DataFileError(f"{path} holds no block (an empty layer); give a file with the block polygons")
    command = getattr(args, "command", "")
    errors = [p for p in _blocks.find_problems(frame, source=path) if p.severity == "error"
              and p.rule != "missing-column"  # a command needing the column says so itself
              and (command not in PER_BLOCK_COMMANDS or p.rule in PER_BLOCK_RULES)]
    if not errors:
        return frame
    rules = ", ".join(dict.fromkeys(p.rule for p in errors))
    if getattr(args, "allow_invalid", False):
        warnings.warn(f"--allow-invalid: {path} fails validation ({len(errors)} error(s): {rules}); the numbers "
                      "computed from it may be wrong", ValidationWarning, stacklevel=2)
        return frame
    shown = "\n".join(f"  - {p}" for p in errors[:5])
    more = f"\n  ... and {len(errors) - 5} more" if len(errors) > 5 else ""
    raise BlockValidationError(
        f"{path} fails validation ({len(errors)} error(s)), so its numbers would be wrong:\n{shown}{more}\n"
        f"fix them (zgc-space validate {path} lists every problem), or pass --allow-invalid to compute anyway",
        errors,
    )


#: Options naming what a command writes; every other path option is something it reads.
OUTPUT_OPTIONS = ("out", "changes", "proposals_dir")
#: Subcommands whose ``--out`` is a folder.
FOLDER_OUTPUTS = ("compare", "report", "demo")
_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _read_paths(args: Any) -> list[Path]:
    """Every existing file an option or argument of ``args`` names (folders: their files)."""
    found: list[Path] = []
    for key, value in vars(args).items():
        if key in OUTPUT_OPTIONS or key in ("func", "command"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or not item or len(item) > 4096:
                continue
            path = Path(item)
            try:
                if path.is_dir():
                    found += [p for p in path.iterdir() if p.is_file()]
                elif path.is_file():
                    found.append(path)
                    if path.suffix.lower() == ".shp":
                        found += [q for q in (path.with_suffix(s) for s in _SIDECARS) if q.is_file()]
            except OSError:
                continue
    return found


def _written_paths(args: Any) -> list[Path]:
    """Return the files a command will write (``--out``, ``--changes``; a map's ``--png`` siblings)."""
    out = []
    for key in OUTPUT_OPTIONS:
        value = getattr(args, key, None)
        if isinstance(value, str) and value:
            out.append(Path(value))
    if getattr(args, "command", None) == "map" and getattr(args, "png", False) and getattr(args, "out", None):
        out += [Path(args.out).with_suffix(".png"), Path(args.out).with_suffix(".pdf")]
    return out


def refuse_overwriting_inputs(args: Any) -> None:
    """Refuse, before any work, an output path that is one of the command's inputs (or holds them).

    One check for every subcommand: a file named by ``--out``/``--changes`` must not be a file
    the command reads (a Shapefile's parts included); a folder output must not be a file, and the
    folder of ``report`` (which replaces its contents) must not hold an input.
    """
    from zgc_space import io as _io
    from zgc_space.errors import OverwriteInputError

    reads = _read_paths(args)
    command = getattr(args, "command", "")
    for target in _written_paths(args):
        if command in FOLDER_OUTPUTS and target == Path(getattr(args, "out", "") or ""):
            if target.is_file():
                raise OverwriteInputError(
                    f"--out {target} is a file, but {command} writes a folder there; give a folder path "
                    f"(new, or one {command} wrote before)"
                )
            if command == "report":
                inside = [p for p in reads if _is_within(p, target)]
                if inside:
                    raise OverwriteInputError(
                        f"--out {target} holds an input of this command ({inside[0]}); the pack folder is "
                        "replaced, so write the pack to another folder"
                    )
            continue
        _io.refuse_inputs([target], reads)


def _is_within(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def read_layer(path: str, option: str) -> Any:
    """Read any vector layer (districts, candidates, a panel), naming ``option`` and the file if it cannot be read."""
    import geopandas as gpd

    from zgc_space.errors import DataFileError

    if not Path(path).is_file():
        raise DataFileError(f"{option} {path}: no such file; check the path")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise DataFileError(
            f"{option} {path} cannot be read as a vector layer ({type(exc).__name__}: {exc}); give a GeoPackage, "
            "GeoJSON or Shapefile"
        ) from exc
    return frame
