"""What the monthly report of an area shows (``gridgov report monthly``, ``/api/reports/monthly.*``):
the KPI table of the month, the on-time closure rate of the areas one level down (the map), the
last twelve months' trends and the top categories, all from the KPI module in the caller's reach."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.disclosure.month import Month
from api.errors import Invalid
from api.kpi import service as kpi
from api.settings import Settings
from api.sqlfiles import sql

# the level the map shows under each kind of area (and the kpi level of its rows)
CHILD = {"district": "street", "street": "grid", "zone": "grid", "community": "grid", "grid": "grid"}
TREND_KPIS = ("received", "closure_rate", "on_time_rate")
TABLE_KPIS = ("received", "accepted", "closed", "closure_rate", "on_time_rate", "open_overdue", "escalations",
              "department_on_time", "settled_grid", "settled_community", "settled_street", "response_time",
              "response_under_5min", "handling_time", "satisfaction", "rating_participation", "reopen_rate",
              "repeat_complaints")
TOP = 10
MONTHS = 12


def _months_back(first: date, n: int) -> date:
    y, m = divmod(first.year * 12 + first.month - 1 - n, 12)
    return date(y, m + 1, 1)


async def area(conn: AsyncConnection, code: str) -> dict[str, Any]:
    """The current area ``code`` (a 422 naming ``area`` otherwise). Its figures are counted over
    the cases in the caller's reach, as ``GET /api/kpis?area=`` counts them (reach and area intersect)."""
    if not code or len(code) > 64:
        raise Invalid("must be an area code of 1 to 64 characters", field="area")
    row = await sql.fetchone(conn, "monthly_area", {"code": code})
    if row is None:
        raise Invalid(f"no current area {code!r}", field="area")
    return row


async def gather(conn: AsyncConnection, who: Principal, settings: Settings, area_row: dict[str, Any],
                 month: Month, progress=None) -> dict[str, Any]:
    """Everything the report shows; ``progress(step)`` is called after each step (the CLI's bar)."""
    step = progress or (lambda name: None)
    code = area_row["code"]
    scope = await kpi.scope(conn, settings, start=month.start, stop=month.stop, area=code)
    figures = [f for f in await kpi.figures(conn, who, settings, scope) if f["key"] in TABLE_KPIS]
    step("figures")
    level = CHILD[area_row["kind"]]
    rows = {r["area_code"]: {f["key"]: f for f in r["kpis"]}
            for r in await kpi.by_area(conn, who, settings, scope, level)}
    children = []
    for c in await sql.fetchall(conn, "monthly_children", {"kind": level, "root": code}):
        f = rows.get(c["code"], {})
        on_time = f.get("on_time_rate") or {}
        children.append({"code": c["code"], "name": c["name"], "name_en": c["name_en"], "geometry": c["geometry"],
                         "on_time_rate": on_time.get("value"), "on_time_denominator": on_time.get("denominator", 0),
                         "received": (f.get("received") or {}).get("value") or 0})
    step("map")
    # one figures() call a month (each month's figures as GET /api/kpis gives them for that month)
    trends: dict[str, list[dict[str, Any]]] = {key: [] for key in TREND_KPIS}
    tz = ZoneInfo(settings.timezone)
    for back in range(MONTHS - 1, -1, -1):
        first = _months_back(month.first, back)
        nxt = _months_back(first, -1)
        lo, hi = (datetime.combine(d, datetime.min.time(), tz).astimezone(UTC) for d in (first, nxt))
        figs = {f["key"]: f for f in await kpi.figures(conn, who, settings,
                                                       await kpi.scope(conn, settings, start=lo, stop=hi, area=code))}
        for key in TREND_KPIS:
            f = figs[key]
            trends[key].append({"period": first, "value": f["value"], "numerator": f["numerator"],
                                "denominator": f["denominator"]})
    step("trends")
    categories = await sql.fetchall(conn, "monthly_categories", {
        "start": month.start, "stop": month.stop, "area": code, "top": TOP,
        **reach(who, Capability.READ_KPIS).params()})
    step("categories")
    return {"area": {k: area_row[k] for k in ("code", "name", "name_en", "kind")}, "month": month.label,
            "complete": month.complete, "window": {"from": month.start, "to": month.stop}, "level": level,
            "kpis": figures, "children": children, "trends": trends,
            "categories": [dict(c) for c in categories]}
