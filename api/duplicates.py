"""Duplicates and me-too: a new report near an open case of the same kind is offered that
case; a resident may join it as a supporter instead of filing another."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncConnection

from api import audit
from api.auth.principal import Principal
from api.errors import Conflict, Invalid, NotFound
from api.incidents import REPORTER, add_event, hash_token
from api.sqlfiles import sql
from api.workflow import machine
from spatial.routing import to_wgs84_checked

RADIUS_M = 250
WINDOW_H = 72
SHOWN = 5


async def candidates(conn: AsyncConnection, *, category: str, lon: float, lat: float,
                     limit: int = SHOWN) -> list[dict]:
    """Open cases of ``category`` within 250 m reported in the last 72 hours, nearest first (a
    new report gets the same list from its insert statement, incident_insert.sql)."""
    rows = await conn.execute(sql("duplicate_candidates"), {
        "category": category, "lon": lon, "lat": lat, "radius_m": RADIUS_M, "hours": WINDOW_H, "limit": limit})
    return [dict(r) for r in rows.mappings()]


async def matches(conn: AsyncConnection, *, category: str, lon: float, lat: float, crs: str) -> list[dict]:
    """``GET /api/public/matches``: the candidates for a report about to be filed."""
    if (await conn.execute(sql("category_deadlines"), {"category": category})).first() is None:
        raise Invalid(f"unknown category code {category!r}", field="category")
    x, y = to_wgs84_checked(lon, lat, crs)
    return await candidates(conn, category=category, lon=x, lat=y)


async def me_too(conn: AsyncConnection, who: Principal, incident_id: int) -> dict:
    """Join an open case as a supporter; answers the case's tracking code and the supporter's own
    token (to follow and rate it)."""
    row = (await conn.execute(sql("case_public_lock"), {"id": incident_id})).mappings().first()
    if row is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    if machine.step(row["status"], "me_too") is None:
        raise Conflict(f"the case is {row['status']}: report it anew if the problem is back", field="id",
                       extra={"status": row["status"]})
    token = secrets.token_urlsafe(24)
    supporters = (await conn.execute(sql("supporter_insert"), {"id": incident_id,
                                                               "token_hash": hash_token(token)})).scalar_one()
    await add_event(conn, incident_id, actor=REPORTER, kind="me_too", from_status=row["status"],
                    to_status=row["status"], data={"supporters": supporters})
    await audit.record(conn, actor=who.actor, action="me_too", entity="incident", entity_id=incident_id,
                       after={"supporters": supporters}, client=who.client)
    return {"tracking_code": row["tracking_code"], "reporter_token": token, "status": row["status"],
            "supporters": supporters}
