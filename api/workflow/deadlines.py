"""Case deadlines: the category × priority spec, counted on the working calendar of the settings.

A year the holiday data does not cover never falls back to "Monday to Friday" silently:
:func:`due` raises :class:`~api.workflow.calendar.CalendarNotCovered`, the service records
that the deadline could not be set (an event in the case file, an error in the log) and the
desk sees a case without a deadline. ``gridgov calendar`` shows the covered years.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from api.settings import Settings
from api.workflow.calendar import CalendarNotCovered, Deadline, WorkingCalendar, parse_deadline

log = logging.getLogger("gridgov.deadlines")

__all__ = ["CalendarNotCovered", "Deadline", "calendar_of", "spec_for", "due"]


def _clock(text: str) -> time:
    return time.fromisoformat(text)


@lru_cache(maxsize=8)
def _calendar(tz: str, start: str, end: str, path: str | None) -> WorkingCalendar:
    kw = {"tz": ZoneInfo(tz), "day_start": _clock(start), "day_end": _clock(end)}
    return WorkingCalendar.from_file(path, **kw) if path else WorkingCalendar(**kw)


def calendar_of(settings: Settings) -> WorkingCalendar:
    """The working calendar the settings describe (office hours, time zone, extra holiday file)."""
    path = str(settings.calendar_file) if settings.calendar_file else None
    return _calendar(settings.timezone, settings.working_day_start, settings.working_day_end, path)


def coverage_warning(settings: Settings, today: date | None = None, *, days: int = 60) -> str | None:
    """A warning when the calendar's data ends within ``days`` (deadlines past it cannot be set)."""
    today = today or date.today()
    first, last = calendar_of(settings).covered_years()
    if date(last, 12, 31) - today > timedelta(days=days):
        return None
    return (f"the working-day calendar has holiday data up to {last} only: deadlines reaching {last + 1} "
            "cannot be set; upgrade chinesecalendar or list the next year's official holidays in "
            "GRIDGOV_CALENDAR_FILE")


def spec_for(deadlines: dict | None, priority: str) -> Deadline | None:
    """The deadline of a category at a priority (``{"urgent": "1h", "high": "8wh", ...}``)."""
    text = (deadlines or {}).get(priority)
    return parse_deadline(text) if text else None


def due(settings: Settings, start: datetime, spec: Deadline | None) -> datetime | None:
    """When a case started at ``start`` is due; None without a spec. Raises CalendarNotCovered."""
    if spec is None:
        return None
    return calendar_of(settings).due(start, spec)
