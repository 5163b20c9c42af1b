"""Neglected grids: no patrol for ``GRIDGOV_PATROL_STALE_DAYS`` days, listed for the desk over them
(``work_desk``: the community's desk and those above it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection

from api import clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.settings import Settings
from api.sqlfiles import sql


async def stale_grids(conn: AsyncConnection, who: Principal, settings: Settings, *, area: str | None,
                      days: int | None) -> dict[str, Any]:
    stale_days = days or settings.patrol_stale_days
    now = clock.now()
    r = reach(who, Capability.WORK_DESK)
    rows = await sql.fetchall(conn, "patrol_stale", {**r.params(), "area": area,
                                                     "cutoff": now - timedelta(days=stale_days)})
    grids = [{**row, "days": None if row["last_patrol_at"] is None else (now - row["last_patrol_at"]).days}
             for row in rows]
    return {"stale_days": stale_days, "as_of": now.date(), "grids": grids}
