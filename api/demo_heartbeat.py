"""The demo heartbeat: while the sample serves as a demonstration, its units keep moving.

The sample's units carry fixes of a given age (``gridgov refresh-units``); an hour later they
would all be stale and no report would be recommended a unit. In development (``make run``),
unless ``GRIDGOV_DEMO_HEARTBEAT=false``, each round of the scheduler (api.workflow.supervision,
same timer, a transaction and an advisory lock of its own: with several workers one moves the
units) gives every on-duty sample unit whose fix is older than ``GRIDGOV_DEMO_HEARTBEAT_S`` a
step of about 120 m inside its patrol zone, through the service a unit's phone uses
(:func:`api.units.report_position`): each fix is audited (actor ``demo-heartbeat``) and shown
on the live stream as a real one. Units the sample keeps stale on purpose (a phone that stopped
reporting) stay stale. Off in test and production; production refuses it (api.settings).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api import units
from api.auth.principal import Grant, Principal
from api.schemas import PositionIn
from api.settings import Settings
from api.sqlfiles import sql

log = logging.getLogger("gridgov.demo")

LOCK_KEY = 0x6772_6964_0016  # "grid" + issue 22: one worker moves the units each round
STEP_M = 120.0  # about a minute and a half on foot, or a slow block by car
ACTOR = Principal(username="demo-heartbeat", user_id=0, grants=(Grant("admin", "*"),), client="demo-heartbeat")


@functools.lru_cache
def sample_units(stale_s: int) -> tuple[str, ...]:
    """The sample's units that it means to be reporting (fix younger than ``stale_s``)."""
    from spatial.sample_load import read_layer

    layer = read_layer("unit")
    return tuple(sorted(layer.loc[layer["position_age_s"] < stale_s, "code"]))


async def tick(conn: AsyncConnection, settings: Settings) -> int | None:
    """One heartbeat in the caller's transaction: how many units moved (None: another worker's)."""
    if not await sql.scalar(conn, "advisory_xact_lock", {"key": LOCK_KEY}):
        return None
    codes = await asyncio.to_thread(sample_units, settings.stale_position_s)
    steps = await sql.fetchall(conn, "heartbeat_steps", {
        "codes": list(codes), "due_s": settings.demo_heartbeat_s, "step_m": STEP_M})
    for step in steps:
        fix = PositionIn(lon=step["lon"], lat=step["lat"], accuracy_m=float(step["accuracy_m"]))
        await units.report_position(conn, ACTOR, step["code"], fix, settings.unit_position_margin_m)
    return len(steps)


async def heartbeat(pool: AsyncConnectionPool, settings: Settings) -> None:
    """The scheduler's extra (api.workflow.supervision.run_forever): a round when settings say demo."""
    if not settings.heartbeat_on:
        return
    async with pool.connection() as conn, conn.transaction():
        moved = await tick(conn, settings)
    if moved:
        log.info("demo heartbeat: %s unit(s) moved", moved)
