"""The one XLSX writer of :mod:`zgc_space.io`: formatted sheets a planner can print as they are.

Every table the package writes as XLSX goes through :func:`xlsx_bytes`: a header row, a units
row, a number format per column chosen from its unit and its values (thousands separators; one
precision per column, so ``0.0027`` is not shown as ``0.00`` beside ``1.18``), column widths
fitted to the text (a Chinese character counts twice), the two header rows frozen, and a second
sheet ``说明`` (notes) with what the table is, where its data came from (file names and SHA-256)
and which software wrote it. The bytes depend only on the data (fixed times, fixed zip dates).

:func:`units_row_of` tells the reader that a workbook written here has a units row to skip.
"""

from __future__ import annotations

import datetime
import io
import math
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["NOTES_SHEET", "decimals_for", "number_format", "units_row_of", "xlsx_bytes"]

#: Name of the notes sheet every workbook carries.
NOTES_SHEET = "说明"
#: The notes sheet's key that marks a units row (value: the data sheet's name and row number).
_UNITS_KEY = "单位行"
#: Units whose values are whole or near-whole quantities shown without decimals.
_WHOLE_UNITS = frozenset({"m²", "㎡", "persons", "人", "enterprises", "家", "units", "个", "m", "米"})
#: The fixed time written instead of "now".
_FIXED = datetime.datetime(2000, 1, 1)


def decimals_for(values: Any) -> int:
    """Return one display precision for a column of numbers (so ``0.0027`` never sits beside ``1.18``).

    Whole numbers get none; otherwise none from 1,000, two from 1, three from 0.01, four below.

    Examples
    --------
    >>> decimals_for([1.18, 0.00272, -0.000232]), decimals_for([68_590_331.78, 12.5]), decimals_for([3, 4])
    (2, 0, 0)
    """
    arr = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0 or np.all(arr == np.round(arr)):
        return 0
    big = float(np.nanmax(np.abs(arr)))
    if big >= 1000:
        return 0
    if big >= 1:
        return 2
    return 3 if big >= 0.01 else 4


def number_format(values: pd.Series, unit: str) -> str | None:
    """Return the Excel number format of a column (``None`` for text, dates and booleans).

    Examples
    --------
    >>> number_format(pd.Series([12_000.4, 8.0]), "m²"), number_format(pd.Series([1.18, 0.9]), "")
    ('#,##0', '0.00')
    >>> number_format(pd.Series([2021, 2022]), ""), number_format(pd.Series([686.5, 1200.0]), "万元/公顷")
    ('0', '#,##0')
    """
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0" if unit else "0"  # a count has separators; a year or a code has none
    places = 0 if unit in _WHOLE_UNITS else decimals_for(values)
    if places == 0 and unit not in _WHOLE_UNITS and len(values.dropna()) and values.abs().max() < 1000:
        places = 2  # measured values that happen to be whole keep the precision of their kind
    tail = "." + "0" * places if places else ""
    big = len(values.dropna()) and float(values.abs().max()) >= 1000
    return ("#,##0" if big or unit else "0") + tail


def _cell(value: object) -> object:
    """Return a value openpyxl can write (NaN, NA and infinities become empty cells)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return 0.0 if abs(value) < 1e-9 else value  # float noise of a difference (2.2e-16) is no change
    if isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _text_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _shown(value: object, fmt: str | None) -> str:
    """Roughly the text Excel shows for a value (for the column width)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt:
        places = len(fmt.partition(".")[2])
        return f"{value:,.{places}f}" if fmt.startswith("#,##0") else f"{value:.{places}f}"
    return "" if value is None else str(value)


def xlsx_bytes(
    frame: pd.DataFrame,
    headers: Sequence[str],
    *,
    sheet: str,
    units: Sequence[str],
    notes: Sequence[tuple[str, str]] = (),
) -> bytes:
    """Return a formatted XLSX workbook as bytes, identical for identical input.

    Parameters
    ----------
    frame
        The table (no geometry; its index is not written).
    headers
        One header per column.
    sheet
        The data sheet's name (at most 31 characters, as Excel allows).
    units
        One unit per column, shown in the second row ("" for none) and choosing its number format.
    notes
        (item, text) rows of the ``说明`` sheet, after the table's name, size and units row.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(headers))
    ws.append(list(units))
    bold, grey = Font(bold=True), Font(italic=True, color="666666")
    for c in ws[1]:
        c.font = bold
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for c in ws[2]:
        c.font = grey
    formats = [number_format(frame[col], unit) for col, unit in zip(frame.columns, units, strict=True)]
    widths = [max(_text_width(str(h)), _text_width(str(u))) for h, u in zip(headers, units, strict=True)]
    for n, row in enumerate(frame.itertuples(index=False), start=3):
        values = [_cell(v) for v in row]
        ws.append(values)
        for k, (value, fmt) in enumerate(zip(values, formats, strict=True)):
            if fmt is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.cell(row=n, column=k + 1).number_format = fmt
            if n < 2003:  # the first 2,000 rows set the widths
                widths[k] = max(widths[k], _text_width(_shown(value, fmt)))
    for k, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(k)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A3"
    info = book.create_sheet(NOTES_SHEET)
    info.append(["项目", "内容"])
    for c in info[1]:
        c.font = bold
    rows = [("工作表", ws.title), ("行数", f"{len(frame)} 行数据（第 3 行起）"),
            (_UNITS_KEY, f"{ws.title}!2"), *notes]
    for key, text in rows:
        info.append([key, text])
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = min(max((_text_width(str(t)) for _, t in rows), default=20) + 2, 100)
    info.freeze_panes = "A2"
    book.properties.created = _FIXED
    book.properties.modified = _FIXED
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            entry = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(item.filename))
    return out.getvalue()


def units_row_of(book: Any, sheet: str) -> int | None:
    """Return the 1-based units row of ``sheet`` in an open workbook written here, else ``None``."""
    if NOTES_SHEET not in book.sheetnames:
        return None
    for row in book[NOTES_SHEET].iter_rows(min_row=2, max_col=2, values_only=True):
        if row and row[0] == _UNITS_KEY and isinstance(row[1], str) and "!" in row[1]:
            name, _, number = row[1].rpartition("!")
            if name == sheet and number.isdigit():
                return int(number)
    return None

