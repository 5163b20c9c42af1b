"""The official schedule file: a year's published holidays and swapped working days, checked.

The State Council's notice (国务院办公厅关于XXXX年部分节假日安排的通知) lists, for each holiday,
the days off (放假) and the weekend days worked in exchange (调休上班). Its file form, for
``gridgov calendar load FILE``, ``POST /api/admin/calendar`` and ``GRIDGOV_CALENDAR_FILE``::

    {
      "years":    [2027],
      "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", ...],
      "workdays": ["2027-02-14", ...],
      "notice":   "国办发明电〔2026〕12号"
    }

* ``years``: the years the file gives in full (at least one, 1950-2100, each once);
* ``holidays``: every day off of those years' holiday blocks, weekend days inside a block
  included (``YYYY-MM-DD``, each in one of ``years``, each once);
* ``workdays``: the Saturdays and Sundays worked in exchange (may be empty);
* ``notice``: optional, where the schedule comes from (kept with the year, shown on the
  admin page).

A file is refused whole, each problem named by its field (``holidays[3]``): a date that is not
a date or lies outside ``years``, a day listed twice or both off and worked, a "working day"
that is a weekday anyway, a statutory holiday that is missing from ``holidays`` or listed as
worked (the law makes them days off whatever the schedule: a file without 1 October is half a
file, not a schedule), an unknown field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from api.workflow import statutory

FIELDS = ("years", "holidays", "workdays", "notice")
NOTICE_MAX = 200
SHOWN_PROBLEMS = 20
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: its days off and its swapped working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    notice: str | None = None

    def as_document(self) -> dict[str, Any]:
        return {"year": self.year, "holidays": sorted(self.holidays), "workdays": sorted(self.workdays),
                "notice": self.notice}


class ScheduleError(ValueError):
    """The file is refused: ``problems`` lists (field, reason), the first ones first."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems[:SHOWN_PROBLEMS]
        more = len(problems) - len(self.problems)
        super().__init__("; ".join(f"{f}: {r}" for f, r in self.problems)
                         + (f"; and {more} more" if more > 0 else ""))

    @property
    def field(self) -> str:
        return self.problems[0][0]

    @property
    def reason(self) -> str:
        return self.problems[0][1]


def parse(doc: Any) -> list[YearSchedule]:
    """The schedules a file gives, one per year, or :class:`ScheduleError` naming every problem."""
    problems: list[tuple[str, str]] = []
    if not isinstance(doc, Mapping):
        raise ScheduleError([("file", "expected a JSON object with years, holidays and workdays")])
    for key in doc:
        if key not in FIELDS:
            problems.append((str(key), f"unknown field; a schedule has {', '.join(FIELDS)}"))
    years = _years(doc.get("years"), problems)
    holidays = _dates(doc, "holidays", years, problems, required=True)
    workdays = _dates(doc, "workdays", years, problems, required=False)
    notice = doc.get("notice")
    if notice is not None and (not isinstance(notice, str) or not 0 < len(notice.strip()) <= NOTICE_MAX):
        problems.append(("notice", f"optional text of 1 to {NOTICE_MAX} characters (the notice's title or number)"))
    for i, d in workdays.items():
        if d.weekday() < 5:
            problems.append((f"workdays[{i}]", f"{d} is a {WEEKDAYS[d.weekday()]}, a working day anyway: list only "
                                               "the Saturdays and Sundays worked in exchange (调休上班)"))
    off = set(holidays.values())
    for i, d in workdays.items():
        if d in off:
            problems.append((f"workdays[{i}]", f"{d} is also listed in holidays: a day is either off or worked"))
    for year in years:
        law = statutory.statutory_days(year)
        worked = {d: i for i, d in workdays.items()}
        for d, (zh, en) in law.items():
            if d in worked:
                problems.append((f"workdays[{worked[d]}]", f"{d} is a statutory holiday ({zh} {en}): it is never "
                                                           "a working day"))
            elif d.weekday() < 5 and d not in off:
                problems.append(("holidays", f"{d} ({zh} {en}, a {WEEKDAYS[d.weekday()]}) is a statutory holiday "
                                             f"and is not listed; give {year}'s whole published schedule"))
    if problems:
        raise ScheduleError(problems)
    text = notice.strip() if isinstance(notice, str) else None
    return [YearSchedule(year=y, holidays=frozenset(d for d in off if d.year == y),
                         workdays=frozenset(d for d in workdays.values() if d.year == y), notice=text)
            for y in sorted(years)]


def _years(value: Any, problems: list[tuple[str, str]]) -> set[int]:
    if value is None:
        problems.append(("years", "required: the years the file gives in full, e.g. [2027]"))
        return set()
    if not isinstance(value, list) or not value:
        problems.append(("years", f"a non-empty list of years, e.g. [2027], not {_show(value)}"))
        return set()
    years: set[int] = set()
    for i, y in enumerate(value):
        if isinstance(y, bool) or not isinstance(y, int):
            problems.append((f"years[{i}]", f"a year is a number such as 2027, not {_show(y)}"))
        elif not statutory.supported(y):
            problems.append((f"years[{i}]", f"{y} is outside {statutory.FIRST_YEAR}-{statutory.LAST_YEAR}"))
        elif y in years:
            problems.append((f"years[{i}]", f"{y} is listed twice"))
        else:
            years.add(y)
    return years


def _dates(doc: Mapping, key: str, years: set[int], problems: list[tuple[str, str]], *,
           required: bool) -> dict[int, date]:
    """index -> date of a list of ``YYYY-MM-DD`` strings, each in one of ``years``, each once."""
    value = doc.get(key)
    if value is None:
        if required:
            problems.append((key, "required: a list of YYYY-MM-DD dates"))
        return {}
    if not isinstance(value, list):
        problems.append((key, f"a list of YYYY-MM-DD dates, not {_show(value)}"))
        return {}
    out: dict[int, date] = {}
    seen: dict[date, int] = {}
    for i, item in enumerate(value):
        field = f"{key}[{i}]"
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError
            d = date.fromisoformat(item)
        except ValueError:
            problems.append((field, f"{_show(item)} is not a YYYY-MM-DD date"))
            continue
        if years and d.year not in years:
            problems.append((field, f"{d} is in {d.year}, which is not in years "
                                    f"({', '.join(map(str, sorted(years)))})"))
        elif d in seen:
            problems.append((field, f"{d} is listed twice (also {key}[{seen[d]}])"))
        else:
            seen[d] = i
            out[i] = d
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
