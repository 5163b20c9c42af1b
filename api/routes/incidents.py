"""Incidents: intake (idempotent), one case file, the filtered list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from api import incidents as service
from api.db import ConnDep
from api.params import clamp_limit, parse_bbox
from api.schemas import IncidentCreated, IncidentIn
from spatial.errors import InputError

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=128, pattern=r"^[\x21-\x7e]+$",
    description="a retry with the same key returns the same incident, never a second one")]

LIST_FIELDS = ("id", "tracking_code", "category_code", "category_name", "description", "status", "priority",
               "tier", "source", "reported_at", "due_at", "closed_at", "grid_code", "community_code",
               "street_code", "district_code", "zone_code", "station_code", "near_boundary", "unrouted", "rating")


@router.post("", status_code=201, response_model=IncidentCreated)
async def report_incident(body: IncidentIn, conn: ConnDep, request: Request, response: Response,
                          idempotency_key: IdempotencyKey = None):
    """Report an incident; it is routed at once and gets a tracking code."""
    doc, created = await service.create_incident(
        conn, body, request.app.state.settings, idempotency_key=idempotency_key, actor="public")
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/incidents/{doc['id']}"
    return doc


@router.get("/{incident_id}")
async def read_incident(incident_id: int, conn: ConnDep) -> dict:
    """One incident with its routing snapshot and case file (一事一档)."""
    row = await service.get_incident(conn, incident_id)
    row.pop("reporter_contact", None)
    row.pop("number_matched", None)
    return row


@router.get("", response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
async def list_incidents(
    conn: ConnDep, request: Request,
    bbox: str | None = Query(None, description="xmin,ymin,xmax,ymax (WGS-84)"),
    since: datetime | None = Query(None, description="reported at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="reported before (ISO 8601)"),
    category: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, description="page size, clamped to the server maximum"),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """Incidents as GeoJSON, newest first, paged (``numberMatched``, ``next`` link)."""
    if since and until and since >= until:
        raise InputError("until", "must be later than since")
    limit = clamp_limit(limit, request.app.state.settings.page_limit_max)
    rows, matched = await service.select_incidents(
        conn, limit=limit, offset=offset, category=category, status=status, since=since, until=until,
        **parse_bbox(bbox))
    features = [{
        "type": "Feature", "id": r["id"],
        "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
        "properties": {k: (r[k].isoformat() if isinstance(r[k], datetime) else r[k]) for k in LIST_FIELDS},
    } for r in rows]
    links = []
    if offset + len(rows) < matched:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))})
    return JSONResponse({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(rows),
                         "features": features, "links": links}, media_type="application/geo+json")
