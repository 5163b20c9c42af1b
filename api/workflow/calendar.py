"""Working time on the Chinese official calendar, for case deadlines.

Three units:

* ``Nh``  clock hours: emergencies do not wait for Monday;
* ``Nwh`` working hours: only office hours (``day_start``–``day_end``) of working days count;
* ``Nwd`` working days: due at the end of office hours of the Nth working day after the
  day the clock started (that day itself does not count, whatever the hour).

Working days follow the State Council's schedule: public holidays are off, and the
weekend days swapped in as working days (调休) are on. The data comes from the
``chinesecalendar`` package, which covers the years published when it was released; a
calendar file (``GRIDGOV_CALENDAR_FILE``) can add a year as soon as its schedule is
announced. A date in a year neither covers raises :class:`CalendarNotCovered`: never a
silent fall-back to Monday–Friday.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants

UNITS = ("h", "wh", "wd")
MAX_AMOUNT = 10_000
_SPEC = re.compile(r"^([1-9][0-9]{0,4})(h|wh|wd)$")
PACKAGE_YEARS = (min(d.year for d in constants.holidays), max(d.year for d in constants.holidays))


class CalendarNotCovered(Exception):
    """A date falls in a year the holiday data does not cover."""

    def __init__(self, year: int, covered: tuple[int, int]):
        self.year = year
        super().__init__(
            f"the working-day calendar has no holiday data for {year} (it covers {covered[0]}-{covered[1]}): "
            f"upgrade the chinesecalendar package, or list {year}'s official holidays and working days "
            "in the calendar file (GRIDGOV_CALENDAR_FILE)")


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_deadline(text: str) -> Deadline:
    """``"2h"`` (clock hours), ``"8wh"`` (working hours) or ``"3wd"`` (working days).

    >>> parse_deadline(" 8wh ")
    Deadline(amount=8, unit='wh')
    """
    m = _SPEC.match(str(text).strip().lower())
    if not m or int(m.group(1)) > MAX_AMOUNT:
        raise ValueError(f"deadline {text!r}: write Nh (clock hours), Nwh (working hours) or Nwd "
                         f"(working days), N from 1 to {MAX_AMOUNT}")
    return Deadline(int(m.group(1)), m.group(2))


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    extra_years: frozenset[int] = frozenset()

    def __post_init__(self):
        if not self.day_start < self.day_end:
            raise ValueError(f"office hours must start before they end ({self.day_start}-{self.day_end})")

    @classmethod
    def from_file(cls, path, **kw) -> WorkingCalendar:
        """A calendar with the years, holidays and working days listed in a JSON file:
        ``{"years": [2027], "holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}``."""
        where = str(path)
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"calendar file {where}: {e}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"calendar file {where}: expected an object with years, holidays, workdays")
        years = doc.get("years", [])
        if not isinstance(years, list) or not all(isinstance(y, int) and 1900 < y < 3000 for y in years):
            raise ValueError(f"calendar file {where}: years must be a list of years, got {years!r}")

        def dates(key):
            out = set()
            for item in doc.get(key, []):
                try:
                    d = date.fromisoformat(item)
                except (TypeError, ValueError):
                    raise ValueError(f"calendar file {where}: {key} entry {item!r} is not a YYYY-MM-DD date") from None
                if d.year not in years and not PACKAGE_YEARS[0] <= d.year <= PACKAGE_YEARS[1]:
                    raise ValueError(f"calendar file {where}: {key} entry {item} is in {d.year}, "
                                     "which is neither in years nor covered by the package")
                out.add(d)
            return out

        holidays, workdays = dates("holidays"), dates("workdays")
        both = holidays & workdays
        if both:
            raise ValueError(f"calendar file {where}: {min(both)} is both a holiday and a working day")
        return cls(extra_holidays=frozenset(holidays), extra_workdays=frozenset(workdays),
                   extra_years=frozenset(years), **kw)

    def covered_years(self) -> tuple[int, int]:
        """First and last year with data (the package's years, extended by the file's contiguous ones)."""
        last = PACKAGE_YEARS[1]
        while last + 1 in self.extra_years:
            last += 1
        return PACKAGE_YEARS[0], last

    def is_working_day(self, d: date) -> bool:
        if d in self.extra_holidays:
            return False
        if d in self.extra_workdays:
            return True
        if d.year in self.extra_years:
            return d.weekday() < 5
        if not PACKAGE_YEARS[0] <= d.year <= PACKAGE_YEARS[1]:
            raise CalendarNotCovered(d.year, self.covered_years())
        return chinese_calendar.is_workday(d)

    # ------------------------------------------------------------ arithmetic

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("give an aware datetime (with its time zone)")
        return moment.astimezone(self.tz)

    def _office(self, d: date) -> tuple[datetime, datetime]:
        return (datetime.combine(d, self.day_start, self.tz), datetime.combine(d, self.day_end, self.tz))

    def due(self, start: datetime, deadline: Deadline) -> datetime:
        """When a clock started at ``start`` runs out.

        >>> cal = WorkingCalendar()
        >>> cal.due(datetime(2026, 9, 30, 15, tzinfo=cal.tz), parse_deadline("3wd")).isoformat()
        '2026-10-10T17:00:00+08:00'
        """
        local = self._local(start)
        if deadline.unit == "h":
            return (local + timedelta(hours=deadline.amount)).astimezone(self.tz)
        if deadline.unit == "wd":
            d, left = local.date(), deadline.amount
            while left:
                d += timedelta(days=1)
                if self.is_working_day(d):
                    left -= 1
            return self._office(d)[1]
        left = timedelta(hours=deadline.amount)
        d = local.date()
        while True:
            if self.is_working_day(d):
                open_, close = self._office(d)
                begin = max(open_, local)
                if begin < close:
                    available = close - begin
                    if left <= available:
                        return begin + left
                    left -= available
            d += timedelta(days=1)

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Office-hours seconds in ``[a, b)`` (0 when ``b <= a``)."""
        a, b = self._local(a), self._local(b)
        total, d = timedelta(0), a.date()
        while d <= b.date():
            if self.is_working_day(d):
                open_, close = self._office(d)
                lo, hi = max(open_, a), min(close, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total.total_seconds()
