"""The places due for inspection in a zone on a day: a place is due when the days since its last
visit (since it was registered, if never visited) reach the interval of its category and risk
level; how overdue it is (days / interval) ranks it. Places whose findings are still open are due
for a re-check whatever the interval."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api.errors import Invalid
from api.inspections.sqlfiles import sql
from api.places.catalogue import CATEGORIES, RISK_LEVELS
from api.settings import Settings

# days between visits by risk level, and the categories that need more (or fewer) visits
DEFAULT_INTERVALS: dict[str, int] = {
    "high": 30, "medium": 90, "low": 180,
    "hazardous_goods_store:high": 14, "construction_site:high": 21,
    "care_home:medium": 60, "care_home:low": 90, "school:medium": 60, "school:low": 90,
}
RISK_RANK = {"low": 0, "medium": 1, "high": 2}
RECHECK_BONUS = 10.0  # re-checks rank before every routine visit
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # the days a due list or a plan may be for


def intervals(settings: Settings) -> dict[str, int]:
    """The defaults with the deployment's ``inspection_intervals`` (JSON) over them."""
    out = dict(DEFAULT_INTERVALS)
    if settings.inspection_intervals.strip():
        extra = json.loads(settings.inspection_intervals)
        for key, days in extra.items():
            category, _, risk = key.rpartition(":")
            if risk not in RISK_LEVELS or (category and category not in CATEGORIES) or int(days) < 1:
                raise ValueError(f"inspection_intervals: {key!r}: give RISK or CATEGORY:RISK and days >= 1")
            out[key] = int(days)
    return out


def interval_of(table: dict[str, int], category: str, risk: str) -> int:
    return table.get(f"{category}:{risk}", table[risk])


def end_of(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(settings.timezone)).astimezone(UTC)


def today(settings: Settings, now: datetime) -> date:
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def rank(place: dict[str, Any], table: dict[str, int], at: datetime) -> dict[str, Any]:
    """The place with its interval, how overdue it is on ``at`` and its priority."""
    days_interval = interval_of(table, place["category"], place["risk_level"])
    since = place["last_visit"] or place["since"]
    days = max((at - since).total_seconds() / 86400, 0.0)
    overdue = days / days_interval if place["last_visit"] else max(days / days_interval, 1.0)
    priority = overdue + RISK_RANK[place["risk_level"]] * 0.01 + (RECHECK_BONUS if place["recheck"] else 0.0)
    return {**place, "interval_days": days_interval, "overdue": round(overdue, 3), "priority": priority}


async def due(conn: AsyncConnection, settings: Settings, *, zone: str, day: date, now: datetime,
              departments: list[str] | None = None) -> list[dict[str, Any]]:
    """The zone's places due on ``day`` that ``departments`` check (all with a checklist when
    None), most overdue first."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"a day between {FIRST_DAY} and {LAST_DAY}", field="day")
    if departments is None:
        departments = [r["code"] for r in await sql.fetchall(conn, "checklist_departments")]
    try:
        table = intervals(settings)
    except ValueError as e:
        raise Invalid(str(e), field="inspection_intervals") from None
    at = end_of(day, settings)
    rows = await sql.fetchall(conn, "due_places", {"zone": zone, "departments": departments,
                                                   "today": today(settings, now)})
    ranked = [rank(r, table, at) for r in rows]
    out = [r for r in ranked if r["overdue"] >= 1.0 or r["recheck"]]
    out.sort(key=lambda r: (-r["priority"], r["code"]))
    return out
