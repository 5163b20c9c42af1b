"""Duplicates and me-too: a new report near an open case of the same kind is offered that
case; a resident may join it as a supporter instead of filing another."""

from __future__ import annotations

import secrets

from psycopg import AsyncConnection

from api import audit
from api.auth.principal import Principal
from api.casefile import REPORTER, add_event, hash_token, new_tracking_code
from api.errors import Conflict, Invalid, NotFound, TooManyRequests
from api.sqlfiles import sql
from spatial.routing import to_wgs84_checked

RADIUS_M = 250
WINDOW_H = 72
SHOWN = 5


async def candidates(conn: AsyncConnection, *, category: str, lon: float, lat: float,
                     limit: int = SHOWN) -> list[dict]:
    """Open cases of ``category`` within 250 m reported in the last 72 hours, nearest first (a
    new report gets the same list from its insert statement, incident_insert.sql)."""
    return await sql.fetchall(conn, "duplicate_candidates", {
        "category": category, "lon": lon, "lat": lat, "radius_m": RADIUS_M, "hours": WINDOW_H, "limit": limit})


PUBLIC_FIELDS = ("public_id", "category_code", "status", "distance_m", "reported_at", "lon", "lat", "supporters")
ME_TOO_PER_CASE = 200      # supporters by me-too one case takes (the desk knows by then)
ME_TOO_PER_PHONE_DAY = 10  # cases one phone may support in 24 hours


def shown_publicly(candidate: dict) -> dict:
    """A candidate as a member of the public may see it: named by its public id only."""
    return {k: candidate[k] for k in PUBLIC_FIELDS}


async def matches(conn: AsyncConnection, *, category: str, lon: float, lat: float, crs: str) -> list[dict]:
    """``GET /api/public/matches``: the candidates for a report about to be filed."""
    if (await sql.fetchone(conn, "category_deadlines", {"category": category})) is None:
        raise Invalid(f"unknown category code {category!r}", field="category")
    x, y = to_wgs84_checked(lon, lat, crs)
    return [shown_publicly(c) for c in await candidates(conn, category=category, lon=x, lat=y)]


async def me_too(conn: AsyncConnection, who: Principal, public_id: str, *, lon: float, lat: float,
                 crs: str) -> dict:
    """Join an open case as a supporter instead of filing another. Only a case that ``matches``
    offers at the resident's position (``lon``, ``lat``) can be joined, once per phone, a few a
    day per phone, and up to :data:`ME_TOO_PER_CASE` supporters a case. Answers a tracking code
    and token of the supporter's own: they follow the case (times to the hour) and may rate it
    once it is closed, but add no photos and do not reopen it by a rating."""
    phone = who.device or (f"account:{who.user_id}" if who.is_authenticated else None)
    if phone is None:
        raise Invalid("me-too needs the phone's secret (the report page sends it)", field="X-Device-Secret")
    x, y = to_wgs84_checked(lon, lat, crs)
    row = await sql.fetchone(conn, "me_too_target", {
        "public_id": public_id, "lon": x, "lat": y, "radius_m": RADIUS_M, "hours": WINDOW_H, "limit": SHOWN,
        "device_hash": phone})
    if row is None:  # unknown, closed, elsewhere or too old: all look the same
        raise NotFound(f"no open case {public_id} of this kind near this position", field="public_id")
    if row["device_today"] >= ME_TOO_PER_PHONE_DAY:
        raise TooManyRequests(f"this phone has supported {ME_TOO_PER_PHONE_DAY} cases today; "
                              "file a report of your own instead", field="X-Device-Secret", retry_after=3600)
    if row["me_too"] >= ME_TOO_PER_CASE:
        raise Conflict(f"this case already has {ME_TOO_PER_CASE} supporters: the desk knows it is widely felt",
                       field="public_id")
    token, code = secrets.token_urlsafe(24), new_tracking_code()
    supporters = await sql.scalar(conn, "supporter_insert", {
        "id": row["id"], "token_hash": hash_token(token), "tracking_code": code,
        "device_hash": phone})
    if supporters is None:
        raise Conflict("this phone already supports this case", field="public_id", code="already_supported")
    await add_event(conn, row["id"], actor=REPORTER, kind="me_too", from_status=row["status"],
                    to_status=row["status"], data={"supporters": supporters})
    await audit.record(conn, actor=who.actor, action="me_too", entity="incident", entity_id=row["id"],
                       after={"supporters": supporters}, client=who.client)
    return {"tracking_code": code, "reporter_token": token, "status": row["status"], "supporters": supporters}
