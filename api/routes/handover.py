"""The printable hand-over sheet (交办单) of a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from api import handover, i18n
from api.auth.access import Access
from api.auth.policy import Capability
from api.auth.principal import Principal
from api.db import ConnDep

router = APIRouter(tags=["cases"])

DeskWorker = Annotated[Principal, Depends(Access(Capability.WORK_DESK))]


@router.get("/api/incidents/{incident_id}/handover", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
async def handover_sheet(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request,
                         who: DeskWorker, conn: ConnDep, lang: Annotated[str | None, Query(max_length=35)] = None):
    """The hand-over sheet (交办单) of a case: measures, deadline, responsible units; A4, printable.
    In the language of ``?lang=`` (zh, en, ...), else of ``Accept-Language``; Chinese by default."""
    html = await handover.sheet(conn, who, incident_id, request.app.state.settings.timezone,
                                i18n.pick(lang, request.headers.get("accept-language")))
    return HTMLResponse(html)
