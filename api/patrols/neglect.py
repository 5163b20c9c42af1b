"""Neglected grids: no patrol for ``GRIDGOV_PATROL_STALE_DAYS`` days, listed for the desk over them
(``work_desk``: the community's desk and those above it), and told to the community's desk by the
scheduler as a desk notification (``patrol_stale``, once per stale period)."""

from __future__ import annotations

from datetime import datetime, timedelta
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


async def notify(conn: AsyncConnection, settings: Settings, *, now: datetime | None = None) -> list[str]:
    """Notify the communities whose grids went stale (the scheduler's); returns their codes."""
    now = now or clock.now()
    days = settings.patrol_stale_days
    rows = await sql.fetchall(conn, "patrol_stale_notify", {"cutoff": now - timedelta(days=days), "now": now,
                                                            "days": days})
    return [r["area_code"] for r in rows]
