"""The public disclosure (公示) of one month: per street the received count, closure, on-time,
satisfaction and street-level settlement rates, the district totals, the survey scores and the
follow-up items with their progress. Aggregates only, suppressed as :mod:`api.disclosure.suppress`
says: no count under 5, no rate of a denominator under 5, no staff name, no place finer than a
street.

The figures are the KPI module's (:func:`api.kpi.service.by_area`), counted for a reader whose
reach is every current district (the public has no account of its own)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import clock
from api.auth.principal import Grant, Principal
from api.disclosure import suppress
from api.disclosure.month import Month
from api.kpi import service as kpi
from api.settings import Settings
from api.sqlfiles import sql
from api.surveys import followups, scores

# the published figures: (KPI key, what the page calls it); the first is the count, the rest rates
COUNT = "received"
RATES = ("closure_rate", "on_time_rate", "satisfaction", "settled_street")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mobile number typed into a free text
PHONE_MASK = "[号码已隐去]"
SUPPRESSED = "<5"
METHOD = ("counts of 1 to 4 are shown as <5 (a zero is shown), and so is at least one more street of the same "
          "district (the smallest) so that the district total minus the shown streets never gives one street's "
          "count; a rate is shown when its denominator is at least 5 (rounded to 0.1%)")


def public_reader(district_codes: list[str]) -> Principal:
    """Who the KPI module counts for: an analyst's reach over every current district, no account."""
    return Principal(username="public-disclosure", grants=tuple(Grant("analyst", c) for c in district_codes))


def _figures(row: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in (row or {}).get("kpis", [])}


def _cell(figs: dict[str, dict[str, Any]], hidden: bool) -> dict[str, Any]:
    received = int((figs.get(COUNT) or {}).get("value") or 0)
    out: dict[str, Any] = {"received": None if hidden else received, "received_shown": SUPPRESSED if hidden
                           else str(received), "suppressed": hidden}
    for key in RATES:
        f = figs.get(key) or {}
        den = int(f.get("denominator") or 0)
        value = None if hidden else suppress.rate(f.get("numerator"), den)
        out[key] = value
    return out


def _mask(text: str) -> str:
    return PHONE.sub(PHONE_MASK, text or "")


def _followup(item: dict[str, Any]) -> dict[str, Any]:
    """A follow-up item as the public sees it: the owner is a department or unit (never a person);
    a phone number typed into the measures or progress is masked."""
    return {"id": item["id"], "indicator": item["indicator"], "owner": item["owner"],
            "owner_name": item["owner_name"], "owner_name_en": item["owner_name_en"],
            "measures": _mask(item["measures"]), "deadline": item["deadline"], "status": item["status"],
            "progress": _mask(item["progress"])}


async def _surveys(conn: AsyncConnection, settings: Settings, month: Month) -> dict[str, dict[str, Any]]:
    """Per street, the survey period running on the month's last day shown (today for the month so
    far): overall and dimension scores (withheld under 5 answers) and its follow-up items."""
    tz = ZoneInfo(settings.timezone)
    on = (month.stop - timedelta(seconds=1)).astimezone(tz).date()
    today = clock.now().astimezone(tz).date()
    ranking = await scores.ranking(conn, settings, min(on, today), public_view=True)
    out = {}
    for s in ranking["streets"]:
        items = await followups.of_period(conn, s["period"]["id"])
        out[s["street"]] = {
            "period": s["period"], "rank": s["rank"],
            "overall": {k: s[k] for k in ("n", "score", "ci_low", "ci_high", "too_few", "withheld")},
            "dimensions": [{k: d.get(k) for k in ("code", "name", "name_en", "n", "score", "ci_low", "ci_high",
                                                    "too_few", "withheld")} for d in s["dimensions"]],
            "followups": [_followup(i) for i in items]}
    return out


async def disclosure(conn: AsyncConnection, settings: Settings, month: Month) -> dict[str, Any]:
    streets = await sql.fetchall(conn, "disclosure_streets", {})
    districts = sorted({s["district"] for s in streets})
    who = public_reader(districts)
    scope = await kpi.scope(conn, settings, start=month.start, stop=month.stop)
    per_street = {r["area_code"]: _figures(r) for r in await kpi.by_area(conn, who, settings, scope, "street")}
    per_district = {r["area_code"]: _figures(r) for r in await kpi.by_area(conn, who, settings, scope, "district")}
    surveys = await _surveys(conn, settings, month)
    out_districts = []
    for code in districts:
        rows = [s for s in streets if s["district"] == code]
        counts = {s["code"]: int((per_street.get(s["code"], {}).get(COUNT) or {}).get("value") or 0) for s in rows}
        hidden = suppress.suppressed_cells(counts)
        total_hidden = suppress.total_hidden(counts, hidden)
        out_streets = []
        for s in rows:
            cell = _cell(per_street.get(s["code"], {}), s["code"] in hidden)
            if s["code"] in hidden and counts[s["code"]] >= suppress.MIN_COUNT:
                cell["suppressed_reason"] = "complementary"
            elif s["code"] in hidden:
                cell["suppressed_reason"] = "under_5"
            out_streets.append({"code": s["code"], "name": s["name"], "name_en": s["name_en"], **cell,
                                "survey": surveys.get(s["code"])})
        first = rows[0]
        out_districts.append({"code": code, "name": first["district_name"], "name_en": first["district_name_en"],
                              "total": _cell(per_district.get(code, {}), total_hidden), "streets": out_streets})
    return {"month": month.label, "complete": month.complete, "window": {"from": month.start, "to": month.stop},
            "minimum": suppress.MIN_COUNT,
            "method": METHOD,
            "districts": out_districts}


async def outlines(conn: AsyncConnection) -> dict[str, Any]:
    """The current streets' outlines (polygons, no label point) as a GeoJSON FeatureCollection."""
    rows = await sql.fetchall(conn, "disclosure_outlines", {})
    return {"type": "FeatureCollection", "numberReturned": len(rows), "features": [
        {"type": "Feature", "id": r["code"], "geometry": r["geometry"],
         "properties": {"code": r["code"], "name": r["name"], "name_en": r["name_en"]}} for r in rows]}
