"""Deadlines on the Chinese working calendar: dates worked out by hand on the official 2026
schedule, properties with hypothesis, and loud failure past the years the data covers.

2026 (State Council schedule): Spring Festival holiday 15–23 February, with Saturday 14 and
Saturday 28 February worked; National Day and Mid-Autumn holiday 1–7 October (Thursday to
Wednesday), with Sunday 20 September and Saturday 10 October worked.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from api.workflow.calendar import CalendarNotCovered, Deadline, WorkingCalendar, parse_deadline

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize("start,spec,due", [
    # Wed 30 Sep 15:00 + 3 working days: 1–7 Oct off, Thu 8 (1), Fri 9 (2), Sat 10 worked (3)
    (at(2026, 9, 30, 15), "3wd", at(2026, 10, 10, 17)),
    # 8 working hours from Wed 30 Sep 15:00: 2 h that day, then 6 h on Thu 8 Oct from 09:00
    (at(2026, 9, 30, 15), "8wh", at(2026, 10, 8, 15)),
    # Sat 10 Oct is a working day: counting starts that morning
    (at(2026, 10, 10, 8), "3wh", at(2026, 10, 10, 12)),
    # an ordinary Sunday: counting starts Monday 09:00 (Sun 11 Oct -> Mon 12 Oct)
    (at(2026, 10, 11, 10), "2wh", at(2026, 10, 12, 11)),
    # ending exactly at the end of office hours stays that evening
    (at(2026, 10, 12, 9), "8wh", at(2026, 10, 12, 17)),
    # after office hours: the next working morning
    (at(2026, 10, 12, 18), "1wh", at(2026, 10, 13, 10)),
    (at(2026, 10, 13, 7), "1wh", at(2026, 10, 13, 10)),
    # Fri 13 Feb 16:00 + 4 wh: 1 h Friday, Sat 14 Feb worked (3 h) -> Sat 14 Feb 12:00
    (at(2026, 2, 13, 16), "4wh", at(2026, 2, 14, 12)),
    # Sat 14 Feb 10:00 + 1 wd: 15–23 Feb holiday -> Tue 24 Feb 17:00
    (at(2026, 2, 14, 10), "1wd", at(2026, 2, 24, 17)),
    # Fri 18 Sep + 1 wd: Sun 20 Sep is worked -> Sun 20 Sep 17:00
    (at(2026, 9, 18, 11), "1wd", at(2026, 9, 20, 17)),
    # clock hours ignore holidays
    (at(2026, 10, 1, 9), "2h", at(2026, 10, 1, 11)),
    (at(2026, 9, 30, 23), "24h", at(2026, 10, 1, 23)),
])
def test_deadlines_worked_out_by_hand(start, spec, due):
    assert CAL.due(start, parse_deadline(spec)) == due


def test_a_start_in_utc_counts_in_local_office_hours():
    # 07:00 UTC is 15:00 in Nanxun
    assert CAL.due(datetime(2026, 9, 30, 7, tzinfo=ZoneInfo("UTC")), parse_deadline("8wh")) == at(2026, 10, 8, 15)


@pytest.mark.parametrize("text,expected", [("2h", Deadline(2, "h")), (" 8WH ", Deadline(8, "wh")),
                                           ("3wd", Deadline(3, "wd"))])
def test_parse_deadline(text, expected):
    assert parse_deadline(text) == expected and str(expected) in text.lower()


@pytest.mark.parametrize("bad", ["", "0h", "-1h", "3d", "1.5h", "h", "10001wd", "2 h", None])
def test_parse_deadline_refuses_other_forms(bad):
    with pytest.raises(ValueError, match="Nh"):
        parse_deadline(bad)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        CAL.due(datetime(2026, 10, 1, 9), parse_deadline("1wd"))


def test_past_the_data_it_fails_loudly_naming_the_year():
    first, last = CAL.covered_years()
    year = last + 1
    with pytest.raises(CalendarNotCovered) as e:
        CAL.due(at(last, 12, 30, 10), parse_deadline("10wd"))
    assert str(year) in str(e.value) and "chinesecalendar" in str(e.value)
    assert e.value.year == year


def test_a_calendar_file_adds_next_year(tmp_path):
    first, last = CAL.covered_years()
    year = last + 1
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"years": [year], "holidays": [f"{year}-01-01", f"{year}-01-04"],
                                "workdays": [f"{year}-01-03"]}))
    cal = WorkingCalendar.from_file(path)
    assert cal.covered_years() == (first, year)
    assert not cal.is_working_day(date(year, 1, 1))
    assert cal.is_working_day(date(year, 1, 3)) == True  # noqa: E712 (a listed working day, whatever weekday)
    d = date(year, 1, 5)
    assert cal.is_working_day(d) == (d.weekday() < 5)
    with pytest.raises(CalendarNotCovered):
        cal.is_working_day(date(year + 1, 1, 5))


@pytest.mark.parametrize("doc,message", [
    ("not json", "calendar file"),
    ({"years": ["2027"]}, "years"),
    ({"years": [2027], "holidays": ["2027-02-30"]}, "2027-02-30"),
    ({"years": [2027], "holidays": ["2031-01-01"]}, "2031-01-01"),
    ({"years": [2027], "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both"),
])
def test_a_broken_calendar_file_is_refused_naming_the_entry(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(ValueError, match=message):
        WorkingCalendar.from_file(path)


starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31)).map(
    lambda d: d.replace(tzinfo=SH))


@settings(max_examples=200, deadline=None)
@given(start=starts, hours=st.integers(1, 200))
def test_working_hours_count_exactly_the_office_time_between(start, hours):
    due = CAL.due(start, Deadline(hours, "wh"))
    assert CAL.working_seconds_between(start, due) == hours * 3600
    assert CAL.due(start, Deadline(hours + 1, "wh")) > due
    assert CAL.is_working_day(due.date()) and time(9) < due.timetz().replace(tzinfo=None) <= time(17)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(1, 30))
def test_working_days_end_at_close_of_a_working_day_after_the_start(start, days):
    due = CAL.due(start, Deadline(days, "wd"))
    assert due > start and due.timetz().replace(tzinfo=None) == time(17)
    assert CAL.is_working_day(due.date())
    between = [start.date() + timedelta(d) for d in range(1, (due.date() - start.date()).days + 1)]
    assert sum(CAL.is_working_day(d) for d in between) == days
