"""Incidents: intake (idempotent), one case file, the filtered list — all in reach."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api import incidents as service
from api.auth.deps import IncidentReader, Public
from api.db import ConnDep, pool_of
from api.geojson import GEOJSON_CONTENT, GeoJSONResponse
from api.params import clamp_limit, parse_bbox, parse_time
from api.schemas import IncidentCollection, IncidentCreated, IncidentIn
from api.workflow import views
from api.workflow.schemas import CaseDetail

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=16, max_length=128, pattern=r"^[\x21-\x7e]+$",
    description="a retry with the same key (per caller; use a random UUID) returns the same incident "
                "and reporter token, never a second incident")]
TIME_HELP = " (ISO 8601; without an offset, the server's time zone)"


@router.post("", status_code=201, response_model=IncidentCreated)
async def report_incident(body: IncidentIn, request: Request, response: Response,
                          who: Public, idempotency_key: IdempotencyKey = None):
    """Report an incident (anyone: QR code, web, grid worker, hotline); routed at once, with a tracking code.

    The reporter token in the answer lets the reporter follow and rate the case with the
    tracking code: keep it.
    """
    async with pool_of(request.app).connection() as conn:  # its one write is one statement: no BEGIN
        doc, created = await service.report(conn, who, body, request.app.state.settings,
                                            idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/incidents/{doc['id']}"
    return doc


@router.get("/{incident_id}", response_model=CaseDetail, response_model_exclude_unset=True)
async def read_incident(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="incident id")],
                        request: Request, who: IncidentReader, conn: ConnDep):
    """One incident in scope with its routing snapshot and case file (一事一档).

    Out of scope and nonexistent look the same: 404.
    """
    return await views.case_view(conn, who, incident_id, request.app.state.settings)


@router.get("", response_model=IncidentCollection, response_class=GeoJSONResponse, responses=GEOJSON_CONTENT)
async def list_incidents(
    request: Request, who: IncidentReader, conn: ConnDep,
    bbox: str | None = Query(None, max_length=200, description="xmin,ymin,xmax,ymax (WGS-84)"),
    since: datetime | None = Query(None, description="reported at or after" + TIME_HELP),
    until: datetime | None = Query(None, description="reported before" + TIME_HELP),
    category: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, le=2**31 - 1, description="page size, clamped to the server maximum"),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """Incidents in the caller's scope as GeoJSON, newest first, paged (``numberMatched``, ``next``).

    Callers without detail rights (analysts) see and filter by place to about 100 m and time
    to the hour.
    """
    settings = request.app.state.settings
    limit = clamp_limit(limit, settings.page_limit_max)
    filters = {"category": category, "status": status, "since": parse_time(since, settings.timezone, "since"),
               "until": parse_time(until, settings.timezone, "until"), **parse_bbox(bbox)}
    rows, matched = await service.list_page(conn, who, limit=limit, offset=offset, filters=filters)
    links = []
    if offset + len(rows) < matched:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))})
    return GeoJSONResponse({
        "type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(rows),
        "features": [service.as_feature(r) for r in rows], "links": links,
    })
