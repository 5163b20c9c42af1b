"""A category's deadlines must not reward a lower priority: urgent ≤ high ≤ normal ≤ low.

Specs in different units (clock hours, working hours, working days) compare only on the
calendar: ``24wh`` is three working days and outlasts ``2wd`` (the sample's garbage category
once gave a high-priority case a later deadline than a normal one). So each pair is measured
from every hour of an ordinary week, and a pair that ends in the wrong order for any start is a
problem, named with the start that shows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.workflow.calendar import WorkingCalendar, parse_deadline

PRIORITIES = ("urgent", "high", "normal", "low")
PROBE_WEEK = datetime(2025, 3, 3)  # a Monday of a week without holidays or swapped days


def order_problems(deadlines: dict[str, str], calendar: WorkingCalendar | None = None) -> list[str]:
    """What is wrong with the order of one category's deadline specs (empty when none).

    >>> order_problems({"high": "24wh", "normal": "2wd"})[0][:40]
    'high (24wh) ends after normal (2wd) for '
    >>> order_problems({"urgent": "1h", "high": "8wh", "normal": "2wd", "low": "5wd"})
    []
    """
    cal = calendar or WorkingCalendar()
    given = [(p, deadlines[p]) for p in PRIORITIES if deadlines.get(p)]
    problems = []
    for (first, a), (second, b) in zip(given, given[1:], strict=False):
        spec_a, spec_b = parse_deadline(a), parse_deadline(b)
        for hour in range(7 * 24):
            start = PROBE_WEEK.replace(tzinfo=cal.tz) + timedelta(hours=hour)
            if cal.due(start, spec_a) > cal.due(start, spec_b):
                problems.append(f"{first} ({a}) ends after {second} ({b}) for a case reported "
                                f"{start:%A %H:%M}: a higher priority must not get a later deadline")
                break
    return problems
