"""The monthly report of an area as a file (``gridgov report monthly`` by the API): the offline
HTML page or the PDF, for KPI readers, of an area in their reach (the dashboard links here)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth.deps import KpiReader
from api.db import ConnDep
from api.disclosure import month as months
from api.reports import monthly, monthly_data

router = APIRouter(prefix="/api/reports", tags=["kpis"])


@router.get("/monthly.{fmt}", response_class=Response, responses={
    200: {"content": {"text/html": {}, monthly.PDF_TYPE: {}}, "description": "the report file"}})
async def monthly_report(request: Request, who: KpiReader, conn: ConnDep,
                         fmt: Annotated[Literal["html", "pdf"], Path(description="html or pdf")],
                         area: Annotated[str, Query(max_length=64, description="an area code (cases in your reach)")],
                         month: Annotated[str, Query(max_length=7, description="YYYY-MM")],
                         lang: Annotated[Literal["zh", "en"], Query(description="the report's language")] = "zh"):
    """An area's monthly report: KPI table, on-time closure of the areas one level down (a map),
    the last 12 months and the top categories, counted over the cases in the caller's reach; the
    HTML opens offline, the PDF is A4."""
    settings = request.app.state.settings
    m = months.parse(month, settings.timezone)
    row = await monthly_data.area(conn, area)
    data = await monthly_data.gather(conn, who, settings, row, m)
    # drawing and typesetting take a second or two of CPU: in a worker thread, not on the event loop
    pngs = await run_in_threadpool(monthly.pictures, data, lang)
    name = monthly.file_name(row["code"], m.label, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}
    render = monthly.html if fmt == "html" else monthly.pdf
    body = await run_in_threadpool(render, data, pngs, lang, settings.timezone)
    return Response(body, media_type=monthly.HTML_TYPE if fmt == "html" else monthly.PDF_TYPE, headers=headers)
