"""Working time on the Chinese official calendar, for case deadlines.

Three units:

* ``Nh``  clock hours: emergencies do not wait for Monday;
* ``Nwh`` working hours: only office hours (``day_start``–``day_end``) of working days count;
* ``Nwd`` working days: due at the end of office hours of the Nth working day after the
  day the clock started (that day itself does not count, whatever the hour).

Working days follow the State Council's schedule: public holidays are off, and the weekend
days swapped in as working days (调休) are on. A year's *official* schedule comes from the
``chinesecalendar`` package (the years published when it was released) or from a schedule
loaded by the administrator (``gridgov calendar load``, the ``calendar_year`` table, or
``GRIDGOV_CALENDAR_FILE``; a loaded year takes precedence over the package's).

A year without an official schedule is never silently taken as "Monday to Friday": it is
counted on the *provisional* calendar (:mod:`api.workflow.statutory`: the statutory holidays
and their make-up days off, computed; no swaps, since those are unknown until published), and
every deadline that counted a day of such a year says so (:attr:`Due.provisional`), so the
desk sees it and loading the year's schedule recomputes it. Only a year the statutory rule
cannot compute either (outside 1950-2100), or any year without official data when the
provisional calendar is turned off, raises :class:`CalendarNotCovered`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants

from api.workflow import statutory
from api.workflow.schedule_file import ScheduleError, YearSchedule, parse

UNITS = ("h", "wh", "wd")
MAX_AMOUNT = 10_000
_SPEC = re.compile(r"^([1-9][0-9]{0,4})(h|wh|wd)$")
PACKAGE_YEARS = (min(d.year for d in constants.holidays), max(d.year for d in constants.holidays))
PROVISIONAL = "provisional"


class CalendarNotCovered(Exception):
    """A date falls in a year for which no working calendar can be given."""

    def __init__(self, year: int, covered: tuple[int, int], *, provisional: bool):
        self.year = year
        if provisional:
            why = (f"statutory holidays are computed for {statutory.FIRST_YEAR}-{statutory.LAST_YEAR} only, and no "
                   f"official schedule of {year} is loaded")
        else:
            why = f"there is no official holiday schedule of {year} and the provisional calendar is off"
        super().__init__(
            f"the working-day calendar cannot count days in {year}: {why} (official data: {covered[0]}-{covered[1]}); "
            f"load {year}'s published schedule (gridgov calendar load FILE) or upgrade the chinesecalendar package")


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Due:
    """When a clock runs out, and whether a day of a year without an official schedule was
    counted to get there (the deadline moves when that year's schedule is loaded)."""

    at: datetime
    provisional: bool


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


@lru_cache(maxsize=256)
def _provisional_days_off(year: int) -> frozenset[date]:
    return frozenset(statutory.days_off(year))


def _package_covers(year: int) -> bool:
    return PACKAGE_YEARS[0] <= year <= PACKAGE_YEARS[1]


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    official: Mapping[int, YearSchedule] = field(default_factory=dict)  # loaded years: before the package's
    provisional: bool = True  # years without an official schedule: the statutory holidays, no swaps

    def __post_init__(self):
        if not self.day_start < self.day_end:
            raise ValueError(f"office hours must start before they end ({self.day_start}-{self.day_end})")
        object.__setattr__(self, "official", MappingProxyType(dict(self.official)))

    def __hash__(self) -> int:
        return hash((self.tz, self.day_start, self.day_end, tuple(sorted(self.official)), self.provisional))

    @classmethod
    def from_file(cls, path, **kw) -> WorkingCalendar:
        """A calendar with the official schedules of a file (:mod:`api.workflow.schedule_file`):
        ``{"years": [2027], "holidays": ["2027-01-01", ...], "workdays": ["2027-02-14", ...]}``.
        Raises ValueError naming the file and the problems."""
        where = str(path)
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"calendar file {where}: {e}") from None
        try:
            schedules = parse(doc)
        except ScheduleError as e:
            raise ValueError(f"calendar file {where}: {e}") from None
        return cls(official={s.year: s for s in schedules}, **kw)

    def with_schedules(self, schedules) -> WorkingCalendar:
        """This calendar with more official years (replacing any it had)."""
        return replace(self, official={**self.official, **{s.year: s for s in schedules}})

    # ------------------------------------------------------------ which years are known

    def is_official(self, year: int) -> bool:
        """Whether ``year`` has an official schedule (the package's or a loaded one)."""
        return year in self.official or _package_covers(year)

    def source_of(self, year: int) -> str | None:
        """``"loaded"``, ``"chinesecalendar"``, ``"provisional"`` or None (no calendar at all)."""
        if year in self.official:
            return "loaded"
        if _package_covers(year):
            return "chinesecalendar"
        if self.provisional and statutory.supported(year):
            return PROVISIONAL
        return None

    def official_years(self) -> list[int]:
        return sorted(set(range(PACKAGE_YEARS[0], PACKAGE_YEARS[1] + 1)) | set(self.official))

    def covered_years(self) -> tuple[int, int]:
        """First and last year of official data without a gap from the package's first year."""
        last = PACKAGE_YEARS[1]
        while self.is_official(last + 1):
            last += 1
        return PACKAGE_YEARS[0], last

    def data_end(self, today: date) -> date | None:
        """The last day of official data without a gap from ``today`` on: deadlines reaching past it
        are provisional. When ``today``'s own year has none, the end of the last official year
        before it (already past); None when there is no official year before."""
        year = today.year
        if self.is_official(year):
            while self.is_official(year + 1):
                year += 1
            return date(year, 12, 31)
        earlier = [y for y in self.official_years() if y < year]
        return date(earlier[-1], 12, 31) if earlier else None

    def is_working_day(self, d: date) -> bool:
        schedule = self.official.get(d.year)
        if schedule is not None:
            if d in schedule.holidays:
                return False
            return d in schedule.workdays or d.weekday() < 5
        if _package_covers(d.year):
            return chinese_calendar.is_workday(d)
        if self.provisional and statutory.supported(d.year):
            return d.weekday() < 5 and d not in _provisional_days_off(d.year)
        raise CalendarNotCovered(d.year, self.covered_years(), provisional=self.provisional)

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

    def deadline(self, start: datetime, deadline: Deadline) -> Due:
        """:meth:`due`, and whether a day without an official schedule was counted on the way
        (clock hours count no day: never provisional).

        >>> cal = WorkingCalendar()
        >>> d = cal.deadline(datetime(2026, 12, 31, 15, tzinfo=cal.tz), parse_deadline("1wd"))
        >>> d.at.isoformat(), d.provisional == (not cal.is_official(2027))
        ('2027-01-04T17:00:00+08:00', True)
        """
        at = self.due(start, deadline)
        if deadline.unit == "h":
            return Due(at, False)
        first, last = self._local(start).year, at.astimezone(self.tz).year
        return Due(at, any(not self.is_official(y) for y in range(first, last + 1)))

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
