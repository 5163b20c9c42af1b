"""Computing a month's ratings: each workstation over its zone's cases, each unit over the cases
it was sent to (the KPI service's ``area`` and ``unit`` scopes), from the figures the KPI API
gives (api.kpi.service), scored by the district's configuration (api.stars.config, .scoring).

One transaction: the month's rows of every subject are added together (a recomputation adds
rows beside the earlier ones; the newest is shown), with the configuration version and the
computation time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.principal import Grant, Principal
from api.errors import Invalid
from api.kpi import service as kpis
from api.kpi.definitions import KPIS
from api.settings import Settings
from api.stars import config, scoring, sql

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 2000


def parse_month(text: str | None, field: str = "month") -> date:
    """``YYYY-MM`` → the month's first day; Invalid naming ``field`` otherwise."""
    m = MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Invalid(f"{text!r}: write the month as YYYY-MM, e.g. 2026-10", field=field)
    year = int(m.group(1))
    if not FIRST_YEAR <= year <= 9998:
        raise Invalid(f"{text!r}: the year must be from {FIRST_YEAR} on", field=field)
    return date(year, int(m.group(2)), 1)


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def window(month: date, settings: Settings) -> tuple[datetime, datetime]:
    """The month's local days as [start, stop)."""
    tz = ZoneInfo(settings.timezone)
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return datetime.combine(month, datetime.min.time(), tz), datetime.combine(after, datetime.min.time(), tz)


def _everywhere(actor: str) -> Principal:
    # the ratings count every case of the subject, whoever asks for the computation
    return Principal(username=actor, user_id=0, grants=(Grant("admin", "*"),), client="stars")


def _empty() -> dict[str, dict[str, Any]]:
    return {k.key: {"numerator": 0 if k.numerator else None, "denominator": 0} for k in KPIS}


async def run(conn: AsyncConnection, who: Principal, settings: Settings, month_text_: str,
              district: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Rate every station and unit of the district (default: every district) for the month;
    ``progress(done, total)`` after each subject."""
    month = parse_month(month_text_)
    start, stop = window(month, settings)
    if stop > clock.now():
        raise Invalid(f"{month_text(month)} has not ended: rate it from {stop.date()} on", field="month")
    codes = await config.districts(conn, district)
    await sql.execute(conn, "star_month_lock", {"month": month})
    system = _everywhere(who.actor)
    subjects = await sql.fetchall(conn, "star_subjects", {"kind": None, "code": None, "district": district})
    subjects = [s for s in subjects if s["district_code"] in codes]
    sent = {r["unit_code"] for r in await sql.fetchall(conn, "star_units_sent", {"start": start, "stop": stop})}
    now = clock.now()
    configs: dict[str, tuple[int, dict[str, Any]]] = {}
    zones: dict[str, dict[str, dict[str, Any]]] = {}
    for code in codes:
        configs[code] = await config.in_use(conn, code, who.actor)
        # every zone of the district in one query (the choropleth's): a station's figures are its zone's
        s = await kpis.scope(conn, settings, start=start, stop=stop, area=code)
        for row in await kpis.by_area(conn, system, settings, s, "zone"):
            if row["area_code"] is not None:
                zones[row["area_code"]] = {f["key"]: f for f in row["kpis"]}
    total, done, rated = len(subjects), 0, 0
    for subj in subjects:
        if subj["kind"] == "station":
            figures = zones.get(subj["zone_code"]) or _empty()
        elif subj["code"] in sent:
            s = await kpis.scope(conn, settings, start=start, stop=stop, unit=subj["code"])
            figures = {f["key"]: f for f in await kpis.figures(conn, system, settings, s)}
        else:
            figures = _empty()
        version, doc = configs[subj["district_code"]]
        result = scoring.rate(doc, figures)
        await sql.execute(conn, "star_rating_insert", {
            "kind": subj["kind"], "subject": subj["code"], "month": month, "district": subj["district_code"],
            "areas": subj["areas"], "version": version, "cases": result["cases"], "rated": result["rated"],
            "unrated_reason": result["unrated_reason"], "score": result["score"], "stars": result["stars"],
            "breakdown": json.dumps(result["breakdown"], ensure_ascii=False), "computed_at": now,
            "actor": who.actor})
        rated += result["rated"]
        done += 1
        if progress:
            progress(done, total)
    summary = {"month": month_text(month), "computed_at": now,
               "districts": [{"district": c, "config_version": configs[c][0]} for c in codes],
               "stations": sum(s["kind"] == "station" for s in subjects),
               "units": sum(s["kind"] == "unit" for s in subjects), "rated": rated, "unrated": total - rated}
    await audit.record(conn, actor=who.actor, action="stars_compute", entity="star_rating",
                       entity_id=month_text(month), after=summary, client=who.client)
    return summary
