"""A KPI table as CSV or XLSX (openpyxl): one row a KPI or signal, with the scope in the header."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook

COLUMNS = ("key", "name_zh", "name_en", "kind", "signal", "numerator", "denominator", "value", "unit", "p50", "p90",
           "mean")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope_lines(scope: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, v.isoformat() if isinstance(v, datetime) else ("" if v is None else str(v))) for k, v in scope.items()]


def rows(kpis: list[dict[str, Any]]) -> list[list[Any]]:
    return [[k.get(c) for c in COLUMNS] for k in kpis]


def as_csv(kpis: list[dict[str, Any]], scope: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM (Excel opens the Chinese names right); the scope first as ``# key,value`` lines."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for k, v in _scope_lines(scope):
        out.write(f"# {k}: {v}\n")
    w.writerow(COLUMNS)
    w.writerows(rows(kpis))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(kpis: list[dict[str, Any]], scope: dict[str, Any]) -> bytes:
    """Sheet ``kpis``: the table; sheet ``scope``: the window and filters."""
    wb = Workbook()
    ws = wb.active
    ws.title = "kpis"
    ws.append(list(COLUMNS))
    for r in rows(kpis):
        ws.append(r)
    meta = wb.create_sheet("scope")
    for k, v in _scope_lines(scope):
        meta.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
