"""A calendar month ``YYYY-MM`` of the district's time zone as a KPI window (disclosure and the monthly report)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from api import clock
from api.errors import Invalid

FIRST_YEAR = 2000
PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    first: date          # the month's first day
    start: datetime      # its first moment (UTC)
    stop: datetime       # the next month's first moment (UTC)
    complete: bool       # the month is over (else: the month so far)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"


def _next(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def current(timezone: str) -> date:
    today = clock.now().astimezone(ZoneInfo(timezone)).date()
    return today.replace(day=1)


def last_closed(timezone: str) -> str:
    """The latest month that is over (the default of the public page)."""
    first = current(timezone)
    prev = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return f"{prev:%Y-%m}"


def parse(value: str | None, timezone: str, field: str = "month") -> Month:
    """The month named ``YYYY-MM`` (default: the last closed one); a 4xx naming ``field`` for a
    malformed month, one before 2000 or one that has not begun."""
    value = last_closed(timezone) if value is None else value
    m = PATTERN.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Invalid(f"must be a month as YYYY-MM, not {value[:20]!r}", field=field)
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if first.year < FIRST_YEAR:
        raise Invalid(f"must be {FIRST_YEAR}-01 or later", field=field)
    now = current(timezone)
    if first > now:
        raise Invalid(f"{value} has not begun (the latest is {now:%Y-%m}, so far)", field=field)
    tz = ZoneInfo(timezone)
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    stop = datetime.combine(_next(first), datetime.min.time(), tz).astimezone(UTC)
    return Month(first, start, stop, complete=first < now)
