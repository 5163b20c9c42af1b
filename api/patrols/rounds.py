"""The patrols' part of each scheduler round (api.workflow.supervision.run_forever's extras): drop
the tracks past retention, tell communities' desks of grids gone unpatrolled."""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from api.patrols import neglect, retention
from api.settings import Settings

log = logging.getLogger("gridgov.patrols")


async def patrol_round(pool: AsyncConnectionPool, settings: Settings) -> None:
    async with pool.connection() as conn, conn.transaction():
        dropped = await retention.drop_expired(conn, settings)
        told = await neglect.notify(conn, settings)
    if dropped:
        log.info("patrol retention: %s track(s) dropped", len(dropped))
    if told:
        log.info("patrols: %s community desk(s) told of grids not patrolled", len(told))
