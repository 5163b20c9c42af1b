"""统一督办: the deadline scheduler.

Every app worker runs :func:`run_forever`; each round takes a PostgreSQL advisory lock in
its transaction, so with several workers one of them does the round and the others skip
it. Everything it knows lives in the database (the deadlines and the flags already
raised), so a restart loses nothing and raises nothing twice. ``gridgov supervise`` runs
one round by hand.

A round also keeps the working calendar honest: it recomputes the provisional deadlines whose
every counted year has an official schedule by now (a load that a worker heard late, a
``GRIDGOV_CALENDAR_FILE`` or an upgraded chinesecalendar package), and tells the district desks
once, ``WARN_DAYS`` before the official holiday data runs out and again when it has, that
deadlines past it are provisional until the next year's schedule is loaded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.settings import Settings, get_settings
from api.sqlfiles import sql
from api.workflow import deadlines, machine, recompute
from api.workflow.calendar import WorkingCalendar

log = logging.getLogger("gridgov.supervision")

LOCK_KEY = 0x6772_6964_0007  # "grid" + issue 7: one advisory lock for the scheduler
PAUSED = {machine.SUSPENDED}  # a suspended case's clock stands still (resume moves the deadline)


def _sources(action: str) -> list[str]:
    return sorted(r.source for r in machine.TABLE.values() if r.action == action and r.source not in PAUSED)


async def tick(conn: AsyncConnection, *, now: datetime | None = None,
               settings: Settings | None = None) -> dict[str, int] | None:
    """One round in the caller's transaction; None when another worker holds the round."""
    got = await sql.scalar(conn, "advisory_xact_lock", {"key": LOCK_KEY})
    if not got:
        return None
    now = now or datetime.now(UTC)
    settings = settings or get_settings()
    cals = await deadlines.calendars(conn, settings)
    cal = cals.default
    recomputed = await recompute.provisional_deadlines(
        conn, cals, now=now,
        actor=machine.SYSTEM, why={"reason": "official_schedule_known"}, only_now_official=True)
    states = _sources("flag_overdue")
    assert states == _sources("flag_near_due")
    rows = await sql.fetchall(conn, "supervision_tick", {
        "now": now, "states": states, "call_states": _sources("flag_answer_overdue")})
    raised = {r["kind"]: r["n"] for r in rows}
    if recomputed:
        raised["deadline_recomputed"] = recomputed
    told = await warn_desks(conn, cal, now)
    if told:
        raised["calendar_data_ending"] = told
    return raised


async def warn_desks(conn: AsyncConnection, cal: WorkingCalendar, now: datetime) -> int:
    """Tell each district desk, once, that the official holiday data ends within WARN_DAYS (or has
    ended); returns how many desks were told now."""
    today = now.astimezone(cal.tz).date()
    message = deadlines.coverage_warning(cal, today)
    if message is None:
        return 0
    end = cal.data_end(today)
    phase = "ended" if end is None or end < today else "ending"
    data = {"data_end": end, "phase": phase, "days_left": (end - today).days if end else None,
            "first_provisional_day": end + timedelta(days=1) if end else None, "message": message}
    told = await sql.fetchall(conn, "calendar_warning_insert", {
        "at": now, "data": json.dumps(data, default=str), "data_end": end.isoformat() if end else None,
        "phase": phase})
    if told:
        log.warning("told the district desks %s: %s", ", ".join(r["area_code"] for r in told), message)
    return len(told)


@dataclass
class Rounds:
    """What this worker's scheduler loop did last (read by ``/metrics``, api.metrics).

    ``finished_at`` is the wall-clock end of the last round (None before the first), whether it
    failed, how long it took; ``outcomes`` counts rounds as ``done`` (this worker held the lock),
    ``skipped`` (another worker did it) or ``failed``. :meth:`wait_for` lets a test wait for a
    round of the running loop without sleeping."""

    enabled: bool = False
    finished_at: float | None = None
    duration_s: float | None = None
    failed: bool = False
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("done", "skipped", "failed"), 0))
    _changed: asyncio.Condition | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return sum(self.outcomes.values())

    async def record(self, outcome: str, started: float) -> None:
        self.finished_at = time.time()
        self.duration_s = time.perf_counter() - started
        self.failed = outcome == "failed"
        self.outcomes[outcome] += 1
        async with self._condition():
            self._condition().notify_all()

    async def wait_for(self, count: int) -> None:
        """Return once ``count`` rounds have finished (in the loop's event loop)."""
        async with self._condition():
            await self._condition().wait_for(lambda: self.count >= count)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed


Extra = Callable[[AsyncConnectionPool, Settings], Awaitable[None]]


async def run_forever(pool: AsyncConnectionPool, settings: Settings, rounds: Rounds | None = None,
                      extras: tuple[Extra, ...] = ()) -> None:
    """The scheduler loop of one app worker (cancelled at shutdown). ``extras`` run after each
    round on the same timer (the demo heartbeat, api.demo_heartbeat), each taking its own
    transaction and lock; one that fails is logged and does not fail the round."""
    rounds = rounds if rounds is not None else Rounds()
    rounds.enabled = True
    while True:
        started = time.perf_counter()
        outcome = "failed"
        try:
            async with pool.connection() as conn, conn.transaction():
                raised = await tick(conn, settings=settings)
            outcome = "skipped" if raised is None else "done"
            if raised:
                log.info("supervision round: %s", raised)
        except asyncio.CancelledError:
            raise
        except Exception:  # a round that fails (database restarting) is retried next round
            log.exception("supervision round failed")
        for extra in extras:
            try:
                await extra(pool, settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler: %s failed", getattr(extra, "__name__", extra))
        await rounds.record(outcome, started)
        await asyncio.sleep(settings.supervision_interval_s)
