"""Case deadlines: the category × priority spec, counted on the working calendar.

The calendar is the settings' (time zone, office hours, ``GRIDGOV_CALENDAR_FILE``; a district
may keep office hours and a department answer deadline of its own: ``district_settings``,
:mod:`api.district_settings`) with the official schedules loaded into the database
(``calendar_year``, migration 0019) on top. Each
worker keeps the loaded schedules and the districts' own settings in memory: a write to either
table sends a ``gridgov_cache`` note ``{"t": "calendar"}`` from its transaction (their triggers,
migrations 0019 and 0033) and every worker forgets them (:func:`forget`), and they are re-read at
least every ``MAX_AGE_S`` in any case (a process without a listening connection, such as the
command line, hears no note).

A year without an official schedule is counted on the provisional calendar and the deadline
says so (:class:`~api.workflow.calendar.Due`); the services store that mark with the case.
``gridgov calendar`` and ``GET /api/admin/calendar`` show what is official and until when.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api.settings import Settings
from api.sqlfiles import sql
from api.workflow.calendar import CalendarNotCovered, Deadline, Due, WorkingCalendar, parse_deadline
from api.workflow.schedule_file import YearSchedule

log = logging.getLogger("gridgov.deadlines")

__all__ = ["CalendarNotCovered", "Calendars", "Deadline", "Due", "answer_spec", "base_calendar", "calendar",
           "calendars", "coverage_warning", "due", "forget", "parse_deadline", "spec_for", "WARN_DAYS"]

WARN_DAYS = 60  # the district desks are told this long before the official data runs out
MAX_AGE_S = 60.0  # a worker re-reads the loaded schedules at least this often


def _clock(text: str) -> time:
    return time.fromisoformat(text)


@lru_cache(maxsize=8)
def _calendar(tz: str, start: str, end: str, path: str | None) -> WorkingCalendar:
    kw = {"tz": ZoneInfo(tz), "day_start": _clock(start), "day_end": _clock(end)}
    return WorkingCalendar.from_file(path, **kw) if path else WorkingCalendar(**kw)


def base_calendar(settings: Settings, own: Mapping | None = None) -> WorkingCalendar:
    """The calendar the settings describe (office hours, time zone, ``GRIDGOV_CALENDAR_FILE``),
    with a district's own office hours (``own``, its ``district_settings`` row) where it has them,
    without the schedules loaded into the database."""
    path = str(settings.calendar_file) if settings.calendar_file else None
    start, end = settings.working_day_start, settings.working_day_end
    if own is not None:
        start = own["working_day_start"].isoformat("minutes") if own["working_day_start"] else start
        end = own["working_day_end"].isoformat("minutes") if own["working_day_end"] else end
    return _calendar(settings.timezone, start, end, path)


def _answer_spec(settings: Settings, own: Mapping | None) -> Deadline:
    return parse_deadline((own or {}).get("department_answer_deadline") or settings.department_answer_deadline)


@lru_cache(maxsize=16)
def _with(base: WorkingCalendar, schedules: tuple[YearSchedule, ...]) -> WorkingCalendar:
    return base.with_schedules(schedules)


@dataclass(frozen=True)
class _Read:
    """What this module reads from the database: the official schedules and the districts' own settings."""

    schedules: tuple[YearSchedule, ...]
    own: dict[str, dict]


class _Loaded:
    """One database's :class:`_Read`, as this worker last read it."""

    def __init__(self):
        self.read: _Read | None = None
        self.read_at = 0.0
        self.generation = 0


_loaded: dict[str, _Loaded] = {}


def forget(note: dict | None = None) -> None:
    """A ``gridgov_cache`` "calendar" note (or the listener lost: notes may have been missed)."""
    for entry in _loaded.values():
        entry.generation += 1
        entry.read = None


async def loaded_schedules(conn: AsyncConnection) -> tuple[YearSchedule, ...]:
    """The official schedules in the database, read now."""
    rows = await sql.fetchall(conn, "calendar_years")
    return tuple(YearSchedule(year=r["year"], holidays=frozenset(r["holidays"]), workdays=frozenset(r["workdays"]),
                              notice=r["notice"]) for r in rows)


async def _read_now(conn: AsyncConnection) -> _Read:
    own = {r["district_code"]: r for r in await sql.fetchall(conn, "district_settings_all")}
    return _Read(await loaded_schedules(conn), own)


async def _current(conn: AsyncConnection, settings: Settings, *, fresh: bool) -> _Read:
    """``fresh``: read now, inside the caller's transaction; else this worker's copy (read when
    it has none or it is older than ``MAX_AGE_S``)."""
    if fresh:
        return await _read_now(conn)
    entry = _loaded.setdefault(settings.url, _Loaded())
    if entry.read is None or monotonic() - entry.read_at > MAX_AGE_S:
        generation = entry.generation
        read = await _read_now(conn)
        if generation == entry.generation:  # no note arrived while reading: keep it
            entry.read, entry.read_at = read, monotonic()
        return read
    return entry.read


async def calendar(conn: AsyncConnection, settings: Settings, *, fresh: bool = False,
                   district: str | None = None) -> WorkingCalendar:
    """The working calendar: the settings' (``district``'s office hours where it has its own) with
    the loaded official schedules (``fresh``: read both now, inside the caller's transaction,
    instead of this worker's copy)."""
    read = await _current(conn, settings, fresh=fresh)
    return _with(base_calendar(settings, read.own.get(district or "")), read.schedules)


def spec_for(deadlines: dict | None, priority: str) -> Deadline | None:
    """The deadline of a category at a priority (``{"urgent": "1h", "high": "8wh", ...}``)."""
    text = (deadlines or {}).get(priority)
    return parse_deadline(text) if text else None


async def due(conn: AsyncConnection, settings: Settings, start: datetime, spec: Deadline | None, *,
              district: str | None = None) -> Due | None:
    """When a case of ``district`` started at ``start`` is due and whether that is provisional;
    None without a spec. Raises CalendarNotCovered only where not even the provisional calendar
    counts."""
    if spec is None:
        return None
    return (await calendar(conn, settings, district=district)).deadline(start, spec)


async def answer_spec(conn: AsyncConnection, settings: Settings, district: str | None) -> Deadline:
    """How long a department called by a case of ``district`` has to answer (乡呼县应)."""
    read = await _current(conn, settings, fresh=False)
    return _answer_spec(settings, read.own.get(district or ""))


@dataclass(frozen=True)
class Calendars:
    """The calendars of every district at once (the rounds that recompute many cases' deadlines):
    ``of(district)`` its calendar and department answer deadline, the instance's for the rest."""

    default: WorkingCalendar
    answer_default: Deadline
    districts: dict[str, tuple[WorkingCalendar, Deadline]] = field(default_factory=dict)

    def of(self, district: str | None) -> tuple[WorkingCalendar, Deadline]:
        return self.districts.get(district or "", (self.default, self.answer_default))


async def calendars(conn: AsyncConnection, settings: Settings) -> Calendars:
    """Every district's calendar with the official schedules read now, in the caller's transaction."""
    read = await _read_now(conn)
    own = {code: (_with(base_calendar(settings, r), read.schedules), _answer_spec(settings, r))
           for code, r in read.own.items()}
    return Calendars(_with(base_calendar(settings), read.schedules), _answer_spec(settings, None), own)


def coverage_warning(cal: WorkingCalendar, today: date, *, days: int = WARN_DAYS) -> str | None:
    """A warning when the official holiday data ends within ``days`` of ``today`` (or already has)."""
    end = cal.data_end(today)
    if end is not None and end - today > timedelta(days=days):
        return None
    how = "gridgov calendar load FILE, or the admin page /admin/calendar"
    if end is None or end < today:
        since = end + timedelta(days=1) if end else None
        return (f"no official holiday schedule for {today.year}: deadlines are provisional"
                f"{f' since {since}' if since else ''} (statutory holidays, no swapped working days) and are "
                f"recomputed when the schedule is loaded: {how}")
    return (f"official holiday data ends on {end} ({(end - today).days} days from now): deadlines reaching "
            f"{end.year + 1} will be provisional (statutory holidays, no swapped working days) until "
            f"{end.year + 1}'s schedule is loaded: {how}")
