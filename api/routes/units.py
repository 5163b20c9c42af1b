"""Units report their position and status (officers' phones, dispatchers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api import audit
from api.auth.deps import UnitReporter
from api.db import ConnDep
from api.errors import NotFound
from api.routes.catalog import unit_visibility
from spatial.routing import check_coordinates
from spatial.sqlfiles import sql

router = APIRouter(prefix="/api/units", tags=["units"])


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: float
    lat: float
    status: Literal["available", "busy", "off_duty"] | None = None
    accuracy_m: float | None = Field(None, ge=0, le=10000)


@router.post("/{code}/position")
async def report_position(code: str, body: PositionIn, conn: ConnDep, who: UnitReporter) -> dict:
    """A GPS fix (and optionally a status) for one unit: an officer's own, a dispatcher's in scope."""
    check_coordinates(body.lon, body.lat)
    scope, unit = unit_visibility(who)
    before = (await conn.execute(sql("unit_before"), {"code": code})).mappings().first()
    row = (await conn.execute(sql("unit_position_update"), {
        "code": code, "lon": body.lon, "lat": body.lat, "status": body.status, "scope": scope, "unit": unit,
    })).mappings().first()
    if row is None:
        raise NotFound(f"unit {code} not found", field="code")
    after = dict(row)
    await audit.record(conn, actor=who.actor, action="position", entity="unit", entity_id=code,
                       before=dict(before) if before else None, after=after, client=who.client)
    return after
