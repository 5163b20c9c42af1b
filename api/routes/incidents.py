"""Incidents: intake (idempotent), one case file, the filtered list — all in scope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api import audit, visibility
from api import contact as contact_box
from api import incidents as service
from api.auth.deps import IncidentReader, Public
from api.db import ConnDep
from api.errors import Forbidden
from api.params import clamp_limit, parse_bbox
from api.schemas import IncidentCreated, IncidentIn
from spatial.errors import InputError

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=128, pattern=r"^[\x21-\x7e]+$",
    description="a retry with the same key returns the same incident, never a second one")]

STAFF_SOURCES = {"grid_worker": "grid_worker", "hotline": "dispatcher"}


@router.post("", status_code=201, response_model=IncidentCreated)
async def report_incident(body: IncidentIn, conn: ConnDep, request: Request, response: Response, who: Public,
                          idempotency_key: IdempotencyKey = None):
    """Report an incident (anyone: QR code, web, grid worker, hotline); routed at once, with a tracking code.

    The reporter token in the answer is shown once: with the tracking code it lets the
    reporter follow and rate the case.
    """
    needed = STAFF_SOURCES.get(body.source)
    if needed and not (who.is_admin or needed in who.roles):
        raise Forbidden(f"source {body.source!r} is for {needed} accounts", field="source")
    doc, created = await service.create_incident(
        conn, body, request.app.state.settings, idempotency_key=idempotency_key, actor=who.actor)
    if created:
        await audit.record(conn, actor=who.actor, action="create", entity="incident", entity_id=doc["id"],
                           after={"tracking_code": doc["tracking_code"], "category": body.category,
                                  "source": body.source, "flags": doc["routing"].get("flags")},
                           client=who.client)
    else:
        response.status_code = 200
    if not who.is_authenticated:
        doc["routing"] = visibility.public_routing(doc["routing"])
    response.headers["Location"] = f"/api/incidents/{doc['id']}"
    return doc


@router.get("/{incident_id}")
async def read_incident(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="incident id")],
                        conn: ConnDep, request: Request, who: IncidentReader) -> dict:
    """One incident in scope with its routing snapshot and case file (一事一档).

    Out of scope and nonexistent look the same: 404.
    """
    row = await service.get_incident(conn, incident_id, **visibility.incident_filters(who))
    out = visibility.shape(row, who)
    if visibility.analyst_view(who, row):
        return out
    out["routing"] = row["routing"]
    out["events"] = row["events"]
    for key in ("h3_cell", "accuracy_m", "patrol_zone_code"):  # the case file's own fields
        out[key] = row[key]
    if row["reporter_contact"] and visibility.may_see_contact(who, row):
        out["contact"] = contact_box.unseal(request.app.state.settings.contact_key, row["reporter_contact"])
        await audit.record(conn, actor=who.actor, action="read_contact", entity="incident",
                           entity_id=incident_id, client=who.client)
    return out


@router.get("", response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
async def list_incidents(
    conn: ConnDep, request: Request, who: IncidentReader,
    bbox: str | None = Query(None, description="xmin,ymin,xmax,ymax (WGS-84)"),
    since: datetime | None = Query(None, description="reported at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="reported before (ISO 8601)"),
    category: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, description="page size, clamped to the server maximum"),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """Incidents in the caller's scope as GeoJSON, newest first, paged (``numberMatched``, ``next``)."""
    if since and until and since >= until:
        raise InputError("until", "must be later than since")
    limit = clamp_limit(limit, request.app.state.settings.page_limit_max)
    rows, matched = await service.select_incidents(
        conn, limit=limit, offset=offset, category=category, status=status, since=since, until=until,
        **parse_bbox(bbox), **visibility.incident_filters(who))
    links = []
    if offset + len(rows) < matched:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))})
    return JSONResponse({
        "type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(rows),
        "features": [visibility.as_feature(visibility.shape(r, who)) for r in rows], "links": links,
    }, media_type="application/geo+json")
