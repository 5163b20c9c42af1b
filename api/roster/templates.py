"""The templates: each kind's columns with its filled example (``sample_geodata/templates/``,
for Wuxing, 330502), written as CSV (UTF-8 with a BOM, which Excel needs to show Chinese) or XLSX."""

from __future__ import annotations

import csv
from pathlib import Path

from api.roster.columns import KINDS, template_path
from api.roster.reading import Table, read_table
from spatial.errors import InputError

NUMERIC = {"lon", "lat"}  # numbers in a workbook; every other cell is text (a code like 330502 stays one)


def example(kind: str) -> Table:
    if kind not in KINDS:
        raise InputError("kind", f"{kind!r}: one of {', '.join(KINDS)}")
    return read_table(template_path(kind))


def write_template(kind: str, out: Path) -> int:
    """Write ``kind``'s template with its example rows to ``out`` (.csv or .xlsx). Rows written."""
    table = example(kind)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("out", f"{out.name}: a template is written as .csv or .xlsx")
    rows = [[row[h] for h in table.headers] for _, row in table.rows]
    if suffix == ".csv":
        with out.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows([table.headers, *rows])
        return len(rows)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append([float(v) if h in NUMERIC and v else v for h, v in zip(table.headers, values, strict=True)])
    for i, h in enumerate(table.headers):
        width = max(len(h), *(len(r[i].encode("utf-8")) for r in rows)) if rows else len(h)
        sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = min(width + 2, 60)
    for i, _ in enumerate(table.headers):
        for cell in sheet.iter_cols(min_col=i + 1, max_col=i + 1, min_row=2):
            for c in cell:
                if table.headers[i] not in NUMERIC:
                    c.number_format = "@"  # text: Excel keeps 330502001001001 as typed
    sheet.freeze_panes = "A2"
    book.save(out)
    return len(rows)
