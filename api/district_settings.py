"""A district's own settings, for several districts in one instance: its office hours (counted
by every deadline in working hours or days of its cases) and how long a department it calls has
to answer (乡呼县应). What a district does not set is the instance's (``GRIDGOV_WORKING_DAY_START``,
``_END``, ``GRIDGOV_DEPARTMENT_ANSWER_DEADLINE``).

A change counts from then on: deadlines set before it keep their time (the case file says when
each was set, and a leader reads them against the hours that held then)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow.calendar import parse_deadline

HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def parse_office_hours(text: str) -> tuple[time, time]:
    """``"08:30-17:30"`` → (08:30, 17:30); Invalid naming ``office_hours`` otherwise."""
    m = HOURS.match(text or "")
    try:
        start, end = (time.fromisoformat(m.group(i).zfill(5)) for i in (1, 2)) if m else (None, None)
    except ValueError:
        start = end = None
    if start is None or end is None:
        raise Invalid(f"{text!r}: write the working day as HH:MM-HH:MM, e.g. 08:30-17:30", field="office_hours")
    if start >= end:
        raise Invalid(f"{text!r}: the working day must end after it starts", field="office_hours")
    return start, end


def _effective(settings: Settings, code: str, name: str, own: dict | None) -> dict[str, Any]:
    own = own or {}
    start = own.get("working_day_start")
    end = own.get("working_day_end")
    return {
        "district": code, "name": name,
        "office_hours": f"{start.isoformat('minutes') if start else settings.working_day_start}-"
                        f"{end.isoformat('minutes') if end else settings.working_day_end}",
        "department_answer_deadline": own.get("department_answer_deadline") or settings.department_answer_deadline,
        "own": sorted(k for k in ("office_hours", "department_answer_deadline")
                      if (own.get("working_day_start") if k == "office_hours" else own.get(k))),
        "updated_at": own.get("updated_at"), "updated_by": own.get("updated_by"),
    }


async def show(conn: AsyncConnection, settings: Settings, code: str | None = None) -> list[dict[str, Any]]:
    """Every current district's settings as they count (its own, else the instance's)."""
    own = {r["district_code"]: r for r in await sql.fetchall(conn, "district_settings_all")}
    districts = await sql.fetchall(conn, "districts_current")
    if code is not None:
        districts = [d for d in districts if d["code"] == code]
        if not districts:
            raise NotFound(f"no district {code}", field="district")
    return [_effective(settings, d["code"], d["name"], own.get(d["code"])) for d in districts]


async def change(conn: AsyncConnection, who: Principal, settings: Settings, code: str, *,
                 office_hours: str | None = None, answer_deadline: str | None = None,
                 reset: bool = False) -> dict[str, Any]:
    """Set (or with ``reset`` drop) a district's own settings in the caller's transaction, with
    the audit row; returns its settings as they count now."""
    [district] = [d for d in await sql.fetchall(conn, "districts_current") if d["code"] == code] or [None]
    if district is None:
        raise NotFound(f"no district {code}", field="district")
    row = await sql.fetchone(conn, "district_settings_one", {"code": code}) or {}
    current = _effective(settings, code, district["name"], row)
    start, end = row.get("working_day_start"), row.get("working_day_end")
    answer = row.get("department_answer_deadline")
    if reset:
        start = end = answer = None
    if office_hours is not None:
        start, end = parse_office_hours(office_hours)
    if answer_deadline is not None:
        try:
            answer = str(parse_deadline(answer_deadline))
        except ValueError as exc:
            raise Invalid(str(exc), field="answer_deadline") from None
    if not reset and office_hours is None and answer_deadline is None:
        raise Invalid("say what to set: --office-hours, --answer-deadline or --reset", field="settings")
    written = await sql.fetchone(conn, "district_settings_upsert", {
        "code": code, "start": start, "end": end, "answer": answer, "actor": who.actor})
    after = _effective(settings, code, district["name"], written)
    kept = ("office_hours", "department_answer_deadline", "own")
    await audit.record(conn, actor=who.actor, action="district_settings", entity="area", entity_id=code,
                       before={k: current[k] for k in kept}, after={k: after[k] for k in kept}, client=who.client)
    return after
