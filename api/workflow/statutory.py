"""China's statutory public holidays of a year, computed: the provisional calendar's days off.

The State Council publishes each year's schedule (放假安排: the holiday blocks and the weekend
days worked in exchange, 调休) only in the autumn before. What the law fixes is computable for
any year: 全国年节及纪念日放假办法 names the days (元旦; 农历除夕 and 春节 初一至初三; 清明;
劳动节 5月1–2日; 端午; 中秋; 国庆 10月1–3日), the lunar ones fall where the Chinese calendar puts
them, and a statutory day on a Saturday or Sunday is made up on the next working day (补假).
The ``holidays`` package (pinned) computes all of this from its lunar tables (1950–2100).

What nobody can know before the schedule is published are the swaps, so the provisional
calendar has none: its days off are these days, its working days Monday to Friday otherwise.
The package's own tables of past years' swaps (``special_*``) are left out on purpose, so
every year is computed by the same rule.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from holidays.constants import PUBLIC

FIRST_YEAR, LAST_YEAR = 1950, 2100  # the package's lunar tables


def supported(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


@lru_cache(maxsize=256)
def _computed(year: int, observed: bool, language: str) -> dict[date, str]:
    cn = holidays.country_holidays("CN", categories=(PUBLIC,), observed=observed, language=language)
    cn.has_special_holidays = False  # no published swaps: the rule alone, the same for every year
    _ = date(year, 1, 1) in cn  # a lookup expands the object to that year (after the line above)
    return {d: name for d, name in cn.items() if d.year == year}


def days_off(year: int) -> dict[date, tuple[str, str]]:
    """The statutory holidays of ``year`` and their make-up days (补假): date -> (Chinese, English name).

    >>> sorted(d.isoformat() for d in days_off(2027) if d.month == 2)
    ['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09', '2027-02-10']
    """
    if not supported(year):
        raise ValueError(f"statutory holidays are computed for {FIRST_YEAR}-{LAST_YEAR}, not {year}")
    zh, en = _computed(year, True, "zh_CN"), _computed(year, True, "en_US")
    return {d: (zh[d], en[d]) for d in sorted(zh)}


def statutory_days(year: int) -> dict[date, tuple[str, str]]:
    """The statutory holidays of ``year`` themselves (no make-up days): every official
    schedule has each of them off."""
    if not supported(year):
        raise ValueError(f"statutory holidays are computed for {FIRST_YEAR}-{LAST_YEAR}, not {year}")
    zh, en = _computed(year, False, "zh_CN"), _computed(year, False, "en_US")
    return {d: (zh[d], en[d]) for d in sorted(zh)}
