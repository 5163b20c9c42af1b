"""A report filed on patrol: an incident of source ``grid_worker`` (the patrol source) linked to its
patrol and the track's nearest fix, in one transaction; a micro matter settled on the spot
(微事不出格) goes through the cycle's own transitions at once (triage, resolve, verify, close),
by the grid worker as the desk of grid-tier matters, each step audited. If the case is not the
worker's to settle (not at grid tier), nothing is written."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import audit, incidents
from api.auth.principal import Principal
from api.errors import Invalid
from api.patrols.schemas import PatrolReportIn
from api.patrols.service import own_open
from api.schemas import IncidentIn
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import cases
from api.workflow.schemas import ActionIn

SETTLE = ("triage", "resolve", "verify", "close")


async def report(conn: AsyncConnection, who: Principal, settings: Settings, patrol_id: int,
                 body: PatrolReportIn) -> dict[str, Any]:
    if body.settled_on_spot and not (body.note or "").strip():
        raise Invalid("a matter settled on the spot needs a note saying what was done", field="note")
    await own_open(conn, who, patrol_id)
    incident = IncidentIn(lon=body.lon, lat=body.lat, accuracy_m=body.accuracy_m, category=body.category,
                          description=body.description, priority=body.priority, source="grid_worker")
    doc, _ = await incidents.report(conn, who, incident, settings, idempotency_key=None)
    point = await sql.fetchone(conn, "patrol_nearest_fix", {"id": patrol_id, "lon": body.lon, "lat": body.lat})
    link = {"point_index": None, "point_at": None, "distance_m": None, **(dict(point) if point else {})}
    await sql.execute(conn, "patrol_report_insert", {"incident": doc["id"], "patrol": patrol_id, **link,
                                                     "settled": body.settled_on_spot})
    await audit.record(conn, actor=who.actor, action="patrol.report", entity="incident", entity_id=doc["id"],
                       after={"patrol_id": patrol_id, **link, "settled_on_spot": body.settled_on_spot},
                       client=who.client)
    if body.settled_on_spot:
        tier = await sql.scalar(conn, "patrol_case_tier", {"id": doc["id"]})
        if tier != "grid":  # the whole request is rolled back: no case, no link
            raise Invalid(f"a {body.category} case goes to the {tier} desk: only grid-tier matters are settled "
                          "on the spot (微事不出格)", field="settled_on_spot")
        for action in SETTLE:
            note = body.note if action in ("resolve", "verify") else None
            await cases.apply(conn, who, doc["id"], action, ActionIn(note=note), settings)
        doc["status"] = "closed"
    return {**doc, "patrol_id": patrol_id, **link, "settled_on_spot": body.settled_on_spot}
