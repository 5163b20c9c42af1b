"""Recomputing provisional deadlines once the official schedule they lacked is known.

A provisional deadline was counted on the statutory holidays of a year whose official schedule
was missing. When that schedule arrives (a load, or an upgraded chinesecalendar package found
by the scheduler), each open case's deadline is counted again from where its clock started
(``due_from``) with its spec (``deadline_spec``), plus the time it stood suspended since
(``due_paused``); a deadline the desk set by hand (extend) is not provisional and stays. The
mark stays only while a counted year still lacks its schedule. A supervision flag already
raised stays if it still holds for the new deadline, and is cleared otherwise (the scheduler
raises what holds next). Each case that changed gets one ``deadline_recomputed`` event.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from api.sqlfiles import sql
from api.workflow.calendar import CalendarNotCovered, WorkingCalendar, parse_deadline
from api.workflow.deadlines import Calendars

log = logging.getLogger("gridgov.deadlines")


@dataclass
class _Change:
    id: int
    due_at: datetime | None = None
    provisional: bool | None = None
    flag: str | None = None
    call_id: int | None = None
    answer_due_at: datetime | None = None
    answer_provisional: bool | None = None
    answer_flagged_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _flag_after(flag: str | None, due_at: datetime, due_from: datetime, now: datetime) -> str | None:
    """The supervision flag a case keeps with its new deadline: the one raised, if it still holds."""
    if flag == "overdue":
        return flag if now >= due_at else None
    if flag == "near":
        return flag if due_at - (due_at - due_from) / 4 <= now < due_at else None
    return flag


def _all_official(cal: WorkingCalendar, start: datetime, end: datetime) -> bool:
    first, last = start.astimezone(cal.tz).year, end.astimezone(cal.tz).year
    return all(cal.is_official(y) for y in range(first, last + 1))


async def provisional_deadlines(conn: AsyncConnection, cals: Calendars, *,
                                now: datetime, actor: str, why: dict[str, Any],
                                only_now_official: bool = False) -> int:
    """Recompute every provisional deadline of the open cases, each on its district's calendar
    (``cals``), in the caller's transaction; returns how many cases changed. ``only_now_official``:
    only the deadlines whose every counted year has an official schedule now (the scheduler's
    round: cheap when none has)."""
    years = cals.default.official_years() if only_now_official else None
    changes: dict[int, _Change] = {}
    for r in await sql.fetchall(conn, "deadlines_provisional", {
            "official_years": years, "tz": str(cals.default.tz)}):
        cal, _ = cals.of(r["district_code"])
        try:
            due = cal.deadline(r["due_from"], parse_deadline(r["deadline_spec"]))
        except (CalendarNotCovered, ValueError) as e:
            log.error("case %s: provisional deadline not recomputed: %s", r["id"], e)
            continue
        at = due.at + r["due_paused"]
        if at == r["due_at"] and due.provisional:
            continue
        c = changes.setdefault(r["id"], _Change(r["id"]))
        c.due_at, c.provisional = at, due.provisional
        c.flag = _flag_after(r["deadline_flag"], at, r["due_from"], now)
        c.data.update(previous_due_at=r["due_at"], due_at=at, deadline_spec=r["deadline_spec"],
                      due_provisional=due.provisional)
    for r in await sql.fetchall(conn, "answer_deadlines_provisional"):
        cal, answer_spec = cals.of(r["district_code"])
        try:
            due = cal.deadline(r["called_at"], answer_spec)
        except CalendarNotCovered as e:
            log.error("case %s: provisional answer deadline not recomputed: %s", r["incident_id"], e)
            continue
        if only_now_official and due.provisional:
            continue
        if due.at == r["answer_due_at"] and due.provisional:
            continue
        c = changes.setdefault(r["incident_id"], _Change(r["incident_id"]))
        c.call_id, c.answer_due_at, c.answer_provisional = r["id"], due.at, due.provisional
        flagged = r["overdue_flagged_at"]
        c.answer_flagged_at = flagged if flagged is not None and now >= due.at else None
        c.data.update(previous_answer_due_at=r["answer_due_at"], answer_due_at=due.at,
                      answer_due_provisional=due.provisional)
    if not changes:
        return 0
    await _keep_the_rest(conn, changes)
    rows = sorted(changes.values(), key=lambda c: c.id)
    await sql.execute(conn, "deadlines_recompute", {
        "ids": [c.id for c in rows], "due_ats": [c.due_at for c in rows],
        "provisional": [c.provisional for c in rows], "flags": [c.flag for c in rows],
        "call_ids": [c.call_id for c in rows], "answer_due_ats": [c.answer_due_at for c in rows],
        "answer_provisional": [c.answer_provisional for c in rows],
        "answer_flagged_ats": [c.answer_flagged_at for c in rows],
        "data": [json.dumps({**c.data, **why}, ensure_ascii=False, default=str) for c in rows],
        "at": now, "actor": actor})
    return len(rows)


async def _keep_the_rest(conn: AsyncConnection, changes: dict[int, _Change]) -> None:
    """A case whose call changed but whose own deadline did not keeps its deadline, mark and flag."""
    missing = [c.id for c in changes.values() if c.due_at is None]
    if not missing:
        return
    for r in await sql.fetchall(conn, "case_deadlines_of", {"ids": missing}):
        c = changes[r["id"]]
        c.due_at, c.provisional, c.flag = r["due_at"], r["due_provisional"], r["deadline_flag"]
