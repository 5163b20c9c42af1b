"""Survey periods: a street's survey is open from one day to another (both included), e.g. a
quarter; it may be closed early. Periods of one street never overlap."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Conflict, Invalid, NotFound
from api.settings import Settings
from api.sqlfiles import sql
from api.surveys import template

MAX_DAYS = 366


def today(settings: Settings) -> date:
    return clock.now().astimezone(ZoneInfo(settings.timezone)).date()


def in_reach(who: Principal | None, capability: Capability, lineage: list[str] | None) -> bool:
    """Whether a street (its lineage: itself and the codes above it) is in the caller's reach
    (None: the command line, everywhere)."""
    return who is None or reach(who, capability).covers(lineage or [])


async def street(conn: AsyncConnection, code: str) -> dict[str, Any]:
    row = await sql.fetchone(conn, "survey_street", {"code": code})
    if row is None:
        raise NotFound(f"no current street {code}", field="street")
    return row


async def open_period(conn: AsyncConnection, who: Principal, settings: Settings, street_code: str,
                      opens: date, closes: date) -> dict[str, Any]:
    """Open a street's survey from ``opens`` to ``closes`` (with the default template), audited."""
    if closes < opens:
        raise Invalid(f"the period ends ({closes}) before it starts ({opens})", field="closes")
    if (closes - opens).days >= MAX_DAYS:
        raise Invalid(f"a survey period is at most {MAX_DAYS} days", field="closes")
    found = await street(conn, street_code)
    if not in_reach(who, Capability.MANAGE_SURVEYS, found["lineage"]):
        raise NotFound(f"no current street {street_code}", field="street")
    code = await template.ensure_default(conn)
    await sql.execute(conn, "survey_period_lock", {"street": street_code})
    clash = await sql.fetchone(conn, "survey_period_overlap", {
        "street": street_code, "opens": opens, "closes": closes, "tz": settings.timezone})
    if clash is not None:
        raise Conflict(f"street {street_code} has a survey period {clash['opens']}..{clash['closes']} "
                       f"(id {clash['id']}) in these days", field="opens")
    pid = await sql.scalar(conn, "survey_period_insert", {
        "street": street_code, "template": code, "opens": opens, "closes": closes, "actor": who.actor})
    row = await get(conn, settings, pid)
    await audit.record(conn, actor=who.actor, action="survey_open", entity="survey_period", entity_id=pid,
                       after={k: row[k] for k in ("street_code", "template_code", "opens", "closes")},
                       client=who.client)
    return row


async def get(conn: AsyncConnection, settings: Settings, period_id: int, who: Principal | None = None,
              capability: Capability = Capability.READ_SURVEYS) -> dict[str, Any]:
    row = await sql.fetchone(conn, "survey_periods", {"id": period_id, "street": None, "today": today(settings)})
    if row is None or not in_reach(who, capability, row["lineage"]):
        raise NotFound(f"no survey period {period_id}", field="period")
    return row


async def listing(conn: AsyncConnection, settings: Settings, street_code: str | None = None,
                  who: Principal | None = None) -> list[dict[str, Any]]:
    rows = await sql.fetchall(conn, "survey_periods", {"id": None, "street": street_code, "today": today(settings)})
    return [r for r in rows if in_reach(who, Capability.READ_SURVEYS, r["lineage"])]


async def current(conn: AsyncConnection, settings: Settings, street_code: str) -> dict[str, Any] | None:
    """The street's period open today, else its latest one (None: never surveyed)."""
    rows = await listing(conn, settings, street_code)
    return next((r for r in rows if r["state"] == "open"), None) or next(
        (r for r in rows if r["state"] == "closed"), None)


async def close(conn: AsyncConnection, who: Principal, settings: Settings, period_id: int) -> dict[str, Any]:
    """Close a period now (answers are refused from then on), audited."""
    before = await get(conn, settings, period_id, who, Capability.MANAGE_SURVEYS)
    if before["state"] == "closed":
        raise Conflict(f"survey period {period_id} is closed already", field="period")
    await sql.execute(conn, "survey_period_close", {"id": period_id})
    after = await get(conn, settings, period_id)
    await audit.record(conn, actor=who.actor, action="survey_close", entity="survey_period", entity_id=period_id,
                       before={"state": before["state"]}, after={"state": after["state"]}, client=who.client)
    return after


def closed_at_local(row: dict[str, Any], settings: Settings) -> datetime | None:
    at = row.get("closed_at")
    return at.astimezone(ZoneInfo(settings.timezone)) if at else None
