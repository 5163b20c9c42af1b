"""Reading a roster file (CSV in UTF-8, with or without Excel's BOM, or XLSX) into rows of text.

The first row holds the column names; blank rows are skipped; a row's number is the one a
spreadsheet shows (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from spatial.errors import InputError

MAX_ROWS = 20_000


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number, column -> trimmed text)
    overflowing: tuple[int, ...] = ()  # rows with more cells than the header has columns


def _text(value: object) -> str:
    """A cell as text: XLSX numbers that are whole (a code typed as 330502) lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _rows_of_csv(path: Path) -> list[list[str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("file", f"{path.name} is not UTF-8 text (save it as 'CSV UTF-8' or as .xlsx)") from exc
    return list(csv.reader(io.StringIO(text)))


def _rows_of_xlsx(path: Path) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError("file", f"{path.name} cannot be read as an XLSX workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        return [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def read_table(path: Path) -> Table:
    """The file's header and its non-blank rows. Refused (``InputError``, naming the file) when it
    is not CSV or XLSX, has no header, repeats a column or is too long."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = _rows_of_csv(path)
    elif suffix == ".xlsx":
        raw = _rows_of_xlsx(path)
    else:
        raise InputError("file", f"{path.name}: a roster file is .csv (UTF-8) or .xlsx")
    if not raw or not any(c.strip() for c in raw[0]):
        raise InputError("file", f"{path.name} has no header row")
    headers = [h.strip().lower() for h in raw[0]]
    while headers and not headers[-1]:  # a spreadsheet's empty columns at the right
        headers.pop()
    if "" in headers:
        raise InputError("file", f"{path.name}: column {headers.index('') + 1} of the header has no name")
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if twice:
        raise InputError("file", f"{path.name}: the header names {', '.join(twice)} more than once")
    rows, overflowing = [], []
    for number, cells in enumerate(raw[1:], start=2):
        values = [_text(c) for c in cells]
        if not any(values):
            continue
        if any(values[len(headers):]):
            overflowing.append(number)
        rows.append((number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers)}))
    if len(rows) > MAX_ROWS:
        raise InputError("file", f"{path.name} has {len(rows):,} rows; at most {MAX_ROWS:,} a file")
    return Table(headers, rows, tuple(overflowing))
