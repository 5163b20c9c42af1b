"""Retention: a track is kept ``GRIDGOV_PATROL_RETENTION_DAYS`` (90) after its patrol ended, then
the scheduler drops the geometry; the summary (length, duration, coverage) stays. A patrol left
open that long is ended with its last fix and summarised first."""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg import AsyncConnection

from api import audit, clock
from api.patrols import figures
from api.settings import Settings
from api.sqlfiles import sql

ACTOR = "system"


async def drop_expired(conn: AsyncConnection, settings: Settings, *, now: datetime | None = None) -> list[int]:
    """Drop the tracks past retention (in the caller's transaction); returns the patrols' ids."""
    now = now or clock.now()
    expired = await sql.fetchall(conn, "patrol_expired",
                                 {"cutoff": now - timedelta(days=settings.patrol_retention_days)})
    if not expired:
        return []
    await figures.store(conn, [r["id"] for r in expired if r["unsummarised"]])
    dropped = [r["id"] for r in await sql.fetchall(conn, "patrol_drop_tracks",
                                                   {"ids": [r["id"] for r in expired], "ts": now})]
    await audit.record(conn, actor=ACTOR, action="patrol.tracks_dropped", entity="patrol",
                       after={"patrols": dropped, "retention_days": settings.patrol_retention_days})
    return dropped

