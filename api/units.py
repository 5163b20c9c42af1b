"""Units: what each caller may read of them, and the positions their phones report."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import NotFound
from api.schemas import PositionIn
from api.sqlfiles import sql
from spatial.routing import check_in_service_area, only_units, to_wgs84_checked
from spatial.sqlfiles import sql as spatial_sql


async def layer(conn: AsyncConnection, who: Principal, *, department: str | None, status: str | None,
                stale_s: int) -> dict:
    """Units the caller may read, as GeoJSON."""
    r = reach(who, Capability.READ_UNITS)
    return await spatial_sql.scalar(conn, "units_geojson", {
        "department": department, "status": status, "stale_s": stale_s, **r.params()})


async def routing_for(conn: AsyncConnection, who: Principal, routing: dict[str, Any]) -> dict[str, Any]:
    """A routing document with only the units ``who`` may read, as ``/api/units`` would show them.

    What was skipped per department (``excluded``) counts units everywhere: shown only to
    callers who read every unit.
    """
    r = reach(who, Capability.READ_UNITS)
    units = routing.get("units") or []
    if r.everywhere:
        return routing
    visible: set[str] = set()
    if r.anything and units:
        rows = await sql.fetchall(conn, "units_in_reach", {"codes": [u["code"] for u in units], **r.params()})
        visible = {row["code"] for row in rows}
    return only_units(routing, visible)


async def report_position(conn: AsyncConnection, who: Principal, code: str, body: PositionIn,
                          margin_m: float) -> dict:
    """An officer's (own unit) or a dispatcher's (units in scope) GPS fix and status."""
    lon, lat = to_wgs84_checked(body.lon, body.lat, body.crs)
    await check_in_service_area(conn, lon, lat, margin_m)
    r = reach(who, Capability.REPORT_UNIT_POSITION)
    before = await sql.fetchone(conn, "unit_before", {"code": code, **r.params()})
    if before is None:
        raise NotFound(f"unit {code} not found", field="code")
    row = await sql.fetchone(conn, "unit_position_update", {
        "code": code, "lon": lon, "lat": lat, "accuracy_m": body.accuracy_m, "status": body.status,
    })
    after = dict(row)
    await audit.record(conn, actor=who.actor, action="position", entity="unit", entity_id=code,
                       before=dict(before), after=after, client=who.client)
    return after
