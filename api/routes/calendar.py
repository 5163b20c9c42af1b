"""Administration: the working calendar's official holiday schedules (see them, load a year's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from api.auth.deps import CalendarAdmin
from api.db import ConnDep
from api.workflow import schedules
from api.workflow.schemas import CalendarLoad, CalendarStatus

router = APIRouter(prefix="/api/admin/calendar", tags=["admin"])

EXAMPLE = {"years": [2027], "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", "..."],
           "workdays": ["2027-02-14", "..."], "notice": "国务院办公厅关于2027年部分节假日安排的通知"}


@router.get("", response_model=CalendarStatus)
async def calendar_status(request: Request, who: CalendarAdmin, conn: ConnDep):
    """Which years have an official holiday schedule (the chinesecalendar package, loaded, or the
    calendar file) and which are provisional, until when the official data reaches, the warning
    the district desks get before it ends, and how many open deadlines are provisional."""
    return await schedules.status(conn, request.app.state.settings)


@router.post("", response_model=CalendarLoad)
async def calendar_load(
    request: Request, who: CalendarAdmin, conn: ConnDep,
    doc: Annotated[dict[str, Any], Body(
        description="A year's published schedule: years (the years given in full), holidays (every day off "
                    "of their holiday blocks, YYYY-MM-DD), workdays (the weekend days worked in exchange), "
                    "notice (optional: where it comes from). Refused whole (422) naming each problem's field.",
        examples=[EXAMPLE])],
):
    """Load official schedules (idempotent: the same file again changes nothing), and recompute every
    provisional deadline of the open cases in the same transaction (one case-file event each)."""
    return await schedules.load(conn, who, doc, request.app.state.settings, source="api")
