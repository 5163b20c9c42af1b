"""Official holiday schedules for tests, in the file form of ``gridgov calendar load``.

2031 is years past any published schedule, so the package cannot know it and the tests need no
date of their own to find a year without data. Its statutory holidays, worked out from the
lunar calendar: 元旦 Wed 1 Jan; 除夕 Wed 22 Jan, 春节 Thu 23 - Sat 25 Jan (make-up day Mon 27);
清明 Sat 5 Apr (make-up Mon 7); 劳动节 Thu 1 - Fri 2 May; 端午 Tue 24 Jun; 中秋 and 国庆 Wed 1 -
Fri 3 Oct. ``SCHEDULE_2031`` is a *made-up* official schedule in the State Council's usual shape
(blocks bridged to the weekend, Saturdays and Sundays worked in exchange), not a real one.
"""

from __future__ import annotations

from datetime import date, timedelta

from api.workflow import statutory

YEAR = 2031


def days(first: str, last: str) -> list[str]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [(a + timedelta(n)).isoformat() for n in range((b - a).days + 1)]


SCHEDULE_2031 = {
    "years": [YEAR],
    "holidays": (["2031-01-01"] + days("2031-01-22", "2031-01-28") + days("2031-04-05", "2031-04-07")
                 + days("2031-05-01", "2031-05-05") + days("2031-06-21", "2031-06-24")
                 + days("2031-10-01", "2031-10-07")),
    # Sun 19 Jan and Sat 8 Feb for the Spring Festival, Sun 27 Apr for Labour Day, Sat 28 Jun for
    # the Dragon Boat bridge (Mon 23 Jun), Sun 28 Sep and Sat 11 Oct for National Day
    "workdays": ["2031-01-19", "2031-02-08", "2031-04-27", "2031-06-28", "2031-09-28", "2031-10-11"],
    "notice": "测试用：虚构的2031年放假安排 (made up for tests)",
}


def statutory_schedule(year: int) -> dict:
    """A schedule that is exactly the statutory rule of ``year`` (no swaps): valid, and gives the
    same working days as the provisional calendar."""
    return {"years": [year], "holidays": [d.isoformat() for d in statutory.days_off(year)], "workdays": []}
