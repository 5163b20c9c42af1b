"""Deadlines on the Chinese working calendar: dates worked out by hand on the official 2026
schedule, properties with hypothesis; past the official data, the provisional calendar
(statutory holidays, computed, no swaps) worked out by hand and marked provisional; loaded
schedules checked and taking over; loud failure only where nothing can count.

2026 (State Council schedule): Spring Festival holiday 15–23 February, with Saturday 14 and
Saturday 28 February worked; National Day and Mid-Autumn holiday 1–7 October (Thursday to
Wednesday), with Sunday 20 September and Saturday 10 October worked.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from chinese_calendar import constants
from hypothesis import given, settings, strategies as st

from api.workflow import statutory
from api.workflow.calendar import PACKAGE_YEARS, CalendarNotCovered, Deadline, Due, WorkingCalendar, parse_deadline
from api.workflow.schedule_file import ScheduleError, parse
from tests.calendar_support import SCHEDULE_2031, YEAR, statutory_schedule

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


def test_without_the_provisional_calendar_past_the_data_it_fails_loudly_naming_the_year():
    strict = WorkingCalendar(provisional=False)
    first, last = strict.covered_years()
    year = last + 1
    with pytest.raises(CalendarNotCovered) as e:
        strict.due(at(last, 12, 30, 10), parse_deadline("10wd"))
    assert str(year) in str(e.value) and "gridgov calendar load" in str(e.value)
    assert e.value.year == year


def test_where_not_even_the_statutory_rule_counts_it_fails_loudly():
    with pytest.raises(CalendarNotCovered) as e:
        CAL.due(at(2100, 12, 30, 10), parse_deadline("3wd"))
    assert e.value.year == 2101 and "2101" in str(e.value)


@pytest.mark.parametrize("start,spec,due", [
    # Tue 21 Jan 2031 + 2 wd: 除夕 Wed 22, 春节 Thu 23 - Sat 25, Sun 26, make-up Mon 27 off;
    # Tue 28 (1), Wed 29 (2)
    (at(YEAR, 1, 21, 10), "2wd", at(YEAR, 1, 29, 17)),
    # Fri 20 Jun 2031 + 1 wd: Mon 23 Jun (端午 is Tuesday 24; no bridge without a schedule)
    (at(YEAR, 6, 20, 10), "1wd", at(YEAR, 6, 23, 17)),
    # Mon 23 Jun 16:00 + 4 wh: 1 h that day, 24 Jun 端午 off, 3 h on Wed 25 Jun
    (at(YEAR, 6, 23, 16), "4wh", at(YEAR, 6, 25, 12)),
    # Fri 4 Apr + 1 wd: 清明 Sat 5 Apr, its make-up day Mon 7 Apr off -> Tue 8 Apr
    (at(YEAR, 4, 4, 10), "1wd", at(YEAR, 4, 8, 17)),
])
def test_a_year_without_a_schedule_counts_on_the_statutory_holidays_and_says_so(start, spec, due):
    assert not CAL.is_official(YEAR)
    d = CAL.deadline(start, parse_deadline(spec))
    assert d.at == due and d.provisional is True


def test_clock_hours_and_spans_within_official_years_are_not_provisional():
    assert CAL.deadline(at(YEAR, 6, 20, 10), parse_deadline("2h")).provisional is False
    assert CAL.deadline(at(2026, 9, 30, 15), parse_deadline("3wd")) == Due(at(2026, 10, 10, 17), False)


def test_a_span_reaching_a_year_without_a_schedule_is_provisional():
    last = PACKAGE_YEARS[1]
    d = CAL.deadline(at(last, 12, 24, 10), parse_deadline("10wd"))
    assert d.at.year == last + 1 and d.provisional is True
    loaded = CAL.with_schedules(parse(statutory_schedule(last + 1)))
    assert loaded.deadline(at(last, 12, 24, 10), parse_deadline("10wd")).provisional is False


def test_a_loaded_schedule_takes_over_its_year_swaps_included():
    cal = CAL.with_schedules(parse(SCHEDULE_2031))
    assert cal.is_official(YEAR) and cal.source_of(YEAR) == "loaded"
    # Fri 20 Jun + 1 wd: Mon 23 (bridge) and Tue 24 (端午) off -> Wed 25 Jun, official
    assert cal.deadline(at(YEAR, 6, 20, 10), parse_deadline("1wd")) == Due(at(YEAR, 6, 25, 17), False)
    assert cal.is_working_day(date(YEAR, 6, 28))  # a Saturday worked in exchange
    assert not CAL.is_working_day(date(YEAR, 6, 28))
    assert cal.data_end(date(YEAR, 3, 1)) == date(YEAR, 12, 31)
    assert CAL.data_end(date(YEAR, 3, 1)) == date(PACKAGE_YEARS[1], 12, 31)  # already past


@pytest.mark.parametrize("year,lunar", [
    # 春节 (初一), 清明, 端午, 中秋 of years no official schedule covers yet
    (2027, {"2027-02-06", "2027-04-05", "2027-06-09", "2027-09-15"}),
    (2028, {"2028-01-26", "2028-04-04", "2028-05-28", "2028-10-03"}),
    (2031, {"2031-01-23", "2031-04-05", "2031-06-24", "2031-10-01"}),
])
def test_the_statutory_rule_computes_the_lunar_holidays(year, lunar):
    assert lunar <= {d.isoformat() for d in statutory.statutory_days(year)}
    assert {f"{year}-01-01", f"{year}-05-01", f"{year}-10-01", f"{year}-10-03"} <= {
        d.isoformat() for d in statutory.statutory_days(year)}


@pytest.mark.parametrize("year", range(PACKAGE_YEARS[0], PACKAGE_YEARS[1] + 1))
def test_every_published_schedule_passes_the_file_check(year):
    """The check refuses half files, never a real one: each year the package holds, written as a
    file, is accepted and gives the package's working days."""
    doc = {"years": [year], "holidays": [d.isoformat() for d in constants.holidays if d.year == year],
           "workdays": [d.isoformat() for d in constants.workdays if d.year == year]}
    cal = WorkingCalendar().with_schedules(parse(doc))
    day = date(year, 1, 1)
    while day.year == year:
        assert cal.is_working_day(day) == CAL.is_working_day(day), day
        day += timedelta(days=1)


def test_a_calendar_file_adds_a_year(tmp_path):
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(SCHEDULE_2031, ensure_ascii=False), encoding="utf-8")
    cal = WorkingCalendar.from_file(path)
    assert cal.source_of(YEAR) == "loaded" and CAL.source_of(YEAR) == "provisional"
    assert not cal.is_working_day(date(YEAR, 6, 23))
    assert cal.is_working_day(date(YEAR, 6, 28)) == True  # noqa: E712 (a listed working day, a Saturday)


def _bad(**change):
    doc = json.loads(json.dumps(SCHEDULE_2031))
    for key, value in change.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize("doc,field,words", [
    ([2031], "file", "object"),
    (_bad(years=None), "years", "required"),
    (_bad(years=["2031"]), "years[0]", "number"),
    (_bad(years=[2031, 2031]), "years[1]", "twice"),
    (_bad(years=[2200]), "years[0]", "1950-2100"),
    (_bad(holidays="2031-01-01"), "holidays", "list"),
    (_bad(holidays=SCHEDULE_2031["holidays"] + ["2031-02-30"]), f"holidays[{len(SCHEDULE_2031['holidays'])}]",
     "not a YYYY-MM-DD date"),
    (_bad(holidays=SCHEDULE_2031["holidays"] + ["2032-01-01"]), f"holidays[{len(SCHEDULE_2031['holidays'])}]",
     "not in years"),
    (_bad(holidays=SCHEDULE_2031["holidays"] + ["2031-01-01"]), f"holidays[{len(SCHEDULE_2031['holidays'])}]",
     "twice"),
    (_bad(holidays=[d for d in SCHEDULE_2031["holidays"] if d != "2031-10-01"]), "holidays", "2031-10-01"),
    (_bad(workdays=["2031-06-25"]), "workdays[0]", "Wednesday"),
    (_bad(workdays=["2031-06-21"]), "workdays[0]", "also listed in holidays"),
    (_bad(workdays=["2031-04-05"]), "workdays[0]", "statutory"),
    (_bad(notice=""), "notice", "1 to 200"),
    (_bad(holiday=["2031-01-01"]), "holiday", "unknown field"),
])
def test_a_broken_schedule_is_refused_naming_the_field(doc, field, words):
    with pytest.raises(ScheduleError) as e:
        parse(doc)
    assert any(f == field and words in r for f, r in e.value.problems), e.value.problems


def test_a_broken_calendar_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("not json")
    with pytest.raises(ValueError, match="calendar file"):
        WorkingCalendar.from_file(path)
    path.write_text(json.dumps(_bad(workdays=["2031-06-25"])))
    with pytest.raises(ValueError, match=r"calendar file .*workdays\[0\]"):
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


# --------------------------------------------------------------------------- priorities in order

def test_a_higher_priority_never_gets_a_later_deadline_measured_on_the_calendar():
    from api.workflow.deadline_order import order_problems

    # 24 working hours are three working days: later than a normal case's two (the old sample garbage)
    problems = order_problems({"urgent": "4h", "high": "24wh", "normal": "2wd", "low": "5wd"})
    assert len(problems) == 1 and problems[0].startswith("high (24wh) ends after normal (2wd)")
    assert order_problems({"urgent": "30h", "high": "8wh"})  # 30 clock hours outlast 8 working hours on a Monday
    assert order_problems({"urgent": "1h", "high": "8wh", "normal": "2wd", "low": "5wd"}) == []
    assert order_problems({"urgent": "2h", "low": "1wd"}) == []  # only the priorities given are compared


def test_every_category_served_keeps_its_priorities_in_order(client):
    from api.workflow.deadline_order import order_problems

    categories = client.get("/api/categories").json()
    assert categories
    bad = {c["code"]: order_problems(c["deadlines"]) for c in categories if order_problems(c["deadlines"])}
    assert bad == {}
