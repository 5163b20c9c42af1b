"""统一督办: the deadline scheduler.

Every app worker runs :func:`run_forever`; each round takes a PostgreSQL advisory lock in
its transaction, so with several workers one of them does the round and the others skip
it. Everything it knows lives in the database (the deadlines and the flags already
raised), so a restart loses nothing and raises nothing twice. ``gridgov supervise`` runs
one round by hand.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import machine

log = logging.getLogger("gridgov.supervision")

LOCK_KEY = 0x6772_6964_0007  # "grid" + issue 7: one advisory lock for the scheduler
PAUSED = {machine.SUSPENDED}  # a suspended case's clock stands still (resume moves the deadline)


def _sources(action: str) -> list[str]:
    return sorted(r.source for r in machine.TABLE.values() if r.action == action and r.source not in PAUSED)


async def tick(conn: AsyncConnection, *, now: datetime | None = None) -> dict[str, int] | None:
    """One round in the caller's transaction; None when another worker holds the round."""
    got = (await conn.execute(sql("advisory_xact_lock"), {"key": LOCK_KEY})).scalar_one()
    if not got:
        return None
    states = _sources("flag_overdue")
    assert states == _sources("flag_near_due")
    rows = await conn.execute(sql("supervision_tick"), {
        "now": now or datetime.now(timezone.utc), "states": states,
        "call_states": _sources("flag_answer_overdue")})
    return {r.kind: r.n for r in rows}


async def run_forever(engine: AsyncEngine, settings: Settings) -> None:
    """The scheduler loop of one app worker (cancelled at shutdown)."""
    while True:
        try:
            async with engine.begin() as conn:
                raised = await tick(conn)
            if raised:
                log.info("supervision round: %s", raised)
        except asyncio.CancelledError:
            raise
        except Exception:  # a round that fails (database restarting) is retried next round
            log.exception("supervision round failed")
        await asyncio.sleep(settings.supervision_interval_s)
