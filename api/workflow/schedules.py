"""Official holiday schedules: what the calendar knows, and loading a year's published schedule.

:func:`load` checks a schedule file (:mod:`api.workflow.schedule_file`), stores each year that
is new or different in ``calendar_year``, recomputes every provisional deadline of the open
cases (:mod:`api.workflow.recompute`) and writes the audit row, in the caller's transaction:
all of it or none of it. Loading the same file again changes nothing. It waits for the deadline
scheduler's round to end (the same advisory lock), so the two never recompute side by side.

:func:`status` answers which years are official (the chinesecalendar package, loaded, or
``GRIDGOV_CALENDAR_FILE``), which are provisional and on which days off, until when the
official data reaches, and the warning the district desks get ``WARN_DAYS`` before it ends.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib.metadata import version
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.principal import Principal
from api.errors import Invalid
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import deadlines, recompute, schedule_file, statutory, supervision
from api.workflow.calendar import PACKAGE_YEARS, PROVISIONAL
from api.workflow.schedule_file import ScheduleError, YearSchedule

SHOWN_AROUND = (1, 2)  # years shown before and after this one (and every loaded one)


def today_in(settings: Settings, now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(ZoneInfo(settings.timezone)).date()


def parse(doc: Any) -> list[YearSchedule]:
    """A schedule document checked, or 422 naming the first problem's field (all in ``problems``)."""
    try:
        return schedule_file.parse(doc)
    except ScheduleError as e:
        raise Invalid(e.reason, field=e.field,
                      extra={"problems": [{"field": f, "reason": r} for f, r in e.problems]}) from None


async def load(conn: AsyncConnection, who: Principal, doc: Any, settings: Settings, *, source: str,
               now: datetime | None = None) -> dict[str, Any]:
    """Store the years of a schedule document and recompute the provisional deadlines."""
    schedules = parse(doc)
    now = now or clock.now()
    await sql.execute(conn, "advisory_xact_lock_wait", {"key": supervision.LOCK_KEY})
    before = {s.year: s for s in await deadlines.loaded_schedules(conn)}
    years = []
    for s in schedules:
        old = before.get(s.year)
        change = ("added" if old is None else
                  "unchanged" if (old.holidays, old.workdays, old.notice) == (s.holidays, s.workdays, s.notice)
                  else "changed")
        if change != "unchanged":
            await sql.execute(conn, "calendar_year_upsert", {
                "year": s.year, "holidays": sorted(s.holidays), "workdays": sorted(s.workdays),
                "notice": s.notice, "at": now, "actor": who.actor})
        years.append({"year": s.year, "change": change, "holidays": len(s.holidays), "workdays": len(s.workdays)})
    written = [y["year"] for y in years if y["change"] != "unchanged"]
    recomputed = 0
    cals = await deadlines.calendars(conn, settings)
    cal = cals.default
    if written:
        recomputed = await recompute.provisional_deadlines(
            conn, cals, now=now,
            actor=who.actor, why={"reason": "official_schedule_loaded", "years": written})
        await audit.record(
            conn, actor=who.actor, action="load_calendar", entity="calendar_year",
            entity_id=",".join(map(str, written)),
            before={str(y): _counts(before[y]) for y in written if y in before} or None,
            after={"years": {str(s.year): _counts(s) for s in schedules if s.year in written},
                   "recomputed": recomputed, "source": source},
            client=who.client)
        deadlines.forget()  # this worker at once; the others on the table's note when this commits
    today = today_in(settings, now)
    return {"years": years, "recomputed": recomputed, "official_until": cal.data_end(today),
            "warning": deadlines.coverage_warning(cal, today)}


def _counts(s: YearSchedule) -> dict[str, Any]:
    return {"holidays": len(s.holidays), "workdays": len(s.workdays), "notice": s.notice}


async def status(conn: AsyncConnection, settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
    """What the working calendar knows today, year by year."""
    today = today_in(settings, now)
    loaded = {r["year"]: r for r in await sql.fetchall(conn, "calendar_years")}
    cal = deadlines.base_calendar(settings).with_schedules(
        YearSchedule(r["year"], frozenset(r["holidays"]), frozenset(r["workdays"]), r["notice"])
        for r in loaded.values())
    from_file = set(deadlines.base_calendar(settings).official)
    shown = set(range(today.year - SHOWN_AROUND[0], today.year + SHOWN_AROUND[1] + 1)) | set(loaded) | from_file
    years = []
    for year in sorted(shown):
        source = "file" if year in from_file and year not in loaded else cal.source_of(year)
        entry: dict[str, Any] = {"year": year, "source": source or "none"}
        if source in ("loaded", "file"):
            s = cal.official[year]
            entry.update(holidays=len(s.holidays), workdays=len(s.workdays), notice=s.notice)
        if year in loaded:
            entry.update(loaded_at=loaded[year]["loaded_at"], loaded_by=loaded[year]["loaded_by"])
        if source == PROVISIONAL:
            entry["days_off"] = [{"date": d, "name": zh, "name_en": en}
                                 for d, (zh, en) in statutory.days_off(year).items()]
        years.append(entry)
    counts = await sql.fetchone(conn, "provisional_open_count")
    return {
        "today": today, "official_until": cal.data_end(today), "warn_days": deadlines.WARN_DAYS,
        "warning": deadlines.coverage_warning(cal, today),
        "package": {"name": "chinesecalendar", "version": version("chinesecalendar"),
                    "first_year": PACKAGE_YEARS[0], "last_year": PACKAGE_YEARS[1]},
        "years": years,
        "provisional_open": {"cases": counts["cases"], "department_calls": counts["calls"]},
    }
