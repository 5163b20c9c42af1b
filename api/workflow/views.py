"""What the desk, the unit's phone and the case view read of the cycle (no writes)."""

from __future__ import annotations

import re
from typing import Any, Literal

from psycopg import AsyncConnection

from api import incidents
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import machine
from api.workflow.cases import Case, actions_for, load
from spatial.routing import route_point

QueueSort = Literal["deadline", "newest"]


async def case_view(conn: AsyncConnection, who: Principal, incident_id: int, settings: Settings,
                    case: Case | None = None) -> dict:
    """``GET /api/incidents/{id}``: the incident as ``who`` may see it and, with detail rights,
    the case: owner, deadline, assignments, department call, photos and the actions ``who``
    may take now. ``case``: the case as an action just wrote it (``cases.apply``), else read."""
    doc = await incidents.read_one(conn, who, incident_id, settings)
    if "events" not in doc:  # no detail rights: the summary only
        return doc
    if case is None:
        case = await load(conn, incident_id, lock=False)
        case.call = await sql.fetchone(conn, "department_call_of", {"incident_id": incident_id})
    call = case.call
    doc.update(
        owner_area=case.owners[0] if case.owners else None,
        due_from=case.row["due_from"], deadline_spec=case.row["deadline_spec"],
        due_provisional=case.row["due_provisional"], deadline_flag=case.row["deadline_flag"],
        suspended_from=case.row["suspended_from"],
        duplicate_of=case.row["duplicate_of"], supporters=case.row["supporters"],
        assignments=case.assignments,
        department_call=dict(call) if call else None,
        attachments=[r["sha256"] for r in await sql.fetchall(conn, "attachments_of", {"incident_id": incident_id})],
        actions=actions_for(who, case, case.call_open),
    )
    return doc


TRACKING_CODE = re.compile(r"^(?:XA)?([0-9A-Z]{4})([0-9A-Z]{4})([0-9A-Z]{4})$")


def search_terms(text: str | None) -> dict[str, str | None]:
    """What the desk's search box means: a tracking code (as read over the phone: any case, dashes
    and spaces optional), else words to find in the text or the place's name, or a place code."""
    words = " ".join((text or "").split())
    if not words:
        return {"code": None, "pattern": None, "place": None}
    code = TRACKING_CODE.match(re.sub(r"[\s-]", "", words.upper()))
    if code:
        return {"code": "XA-" + "-".join(code.groups()), "pattern": None, "place": None}
    return {"code": None, "pattern": _like(words), "place": words}


async def queue(conn: AsyncConnection, who: Principal, *, status: str, tier: str | None, category: str | None,
                overdue: bool, unrouted: bool, near_boundary: bool, sort: str, limit: int, offset: int,
                search: str | None = None) -> dict:
    """The live queue: cases in reach, filtered, soonest deadline first (or newest); ``search``
    finds a case by its tracking code in any state, or open cases by text and place."""
    if status != "open" and status not in machine.STATES:
        raise Invalid(f"unknown state {status!r}; one of open, {', '.join(machine.STATES)}", field="status")
    if tier is not None and tier not in machine.TIERS:
        raise Invalid(f"unknown tier {tier!r}; one of {', '.join(machine.TIERS)}", field="tier")
    rows = await sql.fetchall(conn, "desk_queue", {
        **reach(who, Capability.READ_INCIDENTS).params(), **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_"),
        "states": list(machine.OPEN) if status == "open" else [status], "tier": tier, "category": category,
        "overdue": overdue, "unrouted": unrouted, "near_boundary": near_boundary, "sort": sort,
        "limit": limit, "offset": offset, **search_terms(search)})
    matched = rows[0].pop("number_matched") if rows else 0
    for r in rows:
        r.pop("number_matched", None)
    return {"items": rows, "number_matched": matched, "limit": limit, "offset": offset}


async def notifications(conn: AsyncConnection, who: Principal, *, limit: int) -> list[dict]:
    """What the caller's desks were told, newest first."""
    r = reach(who, Capability.WORK_DESK)
    return await sql.fetchall(conn, "desk_notifications", {**r.params(), "limit": limit})


async def recommendations(conn: AsyncConnection, who: Principal, incident_id: int, settings: Settings) -> dict:
    """Nearest available units of each responsible department, from the routing engine now
    (stale positions and busy units left out), as far as ``who`` may read units."""
    case = await load(conn, incident_id, lock=False)
    if case is None or not reach(who, Capability.WORK_DESK).covers(case.areas):
        raise NotFound(f"incident {incident_id} not found", field="id")
    shown = await route_point(conn, case.row["lon"], case.row["lat"], case.row["category_code"],
                              options=incidents.routing_options(settings),
                              units_seen_by=reach(who, Capability.READ_UNITS).params())
    by_department: dict[str, list[dict[str, Any]]] = {d: [] for d in shown["category"]["departments"]}
    for u in shown["units"]:
        by_department.setdefault(u["department"], []).append(
            {"code": u["code"], "name": u["name"], "distance_m": u["distance_m"], "reason": u.get("reason"),
             "position_age_s": u.get("position_age_s")})
    return {"incident_id": incident_id,
            "departments": [{"department": d, "units": us} for d, us in by_department.items()],
            "departments_without_units": [d for d, us in by_department.items() if not us],
            "units_shown": reach(who, Capability.READ_UNITS).anything}


def _like(words: str) -> str:
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def why_not(unit: dict, responsible: list[str], stale_s: int) -> str | None:
    """Why the routing engine did not recommend this unit (a code the pages translate), or None
    for one it did: busy or off duty, no or a stale position, another department, or farther
    than the nearest it picked."""
    if unit["status"] != "available":
        return unit["status"]
    if unit["distance_m"] is None:
        return "no_position"
    if unit["position_age_s"] > stale_s:
        return "stale_position"
    if unit["department"] not in responsible:
        return "other_department"
    return "farther"


async def units_for_case(conn: AsyncConnection, who: Principal, incident_id: int, settings: Settings, *,
                         search: str | None, department: str | None, limit: int) -> dict:
    """Any unit the desk may send, nearest to the case first: the recommended ones marked, the
    others with the reason they were not recommended."""
    case = await load(conn, incident_id, lock=False)
    if case is None or not reach(who, Capability.WORK_DESK).covers(case.areas):
        raise NotFound(f"incident {incident_id} not found", field="id")
    picked = await recommendations(conn, who, incident_id, settings)
    recommended = {u["code"] for d in picked["departments"] for u in d["units"]}
    responsible = [d["department"] for d in picked["departments"]]
    words = " ".join((search or "").split())
    rows = await sql.fetchall(conn, "units_for_case", {
        "lon": case.row["lon"], "lat": case.row["lat"], **reach(who, Capability.READ_UNITS).params(),
        "department": department, "pattern": _like(words) if words else None, "limit": limit})
    units = []
    for unit in rows:
        unit["recommended"] = unit["code"] in recommended
        unit["why_not"] = None if unit["recommended"] else why_not(unit, responsible, settings.stale_position_s)
        units.append(unit)
    return {"incident_id": incident_id, "responsible_departments": responsible, "units": units}


async def unit_tasks(conn: AsyncConnection, who: Principal) -> dict:
    """The officer's own unit and its active assignments, each with the steps it may take."""
    code = reach(who, Capability.WORK_ASSIGNMENTS).unit
    if code is None:
        return {"unit": None, "tasks": []}
    unit = await sql.fetchone(conn, "unit_info", {"unit": code})
    tasks = []
    for row in await sql.fetchall(conn, "unit_tasks", {"unit": code}):
        case: Case | None = await load(conn, row["incident_id"], lock=False)
        tasks.append({**row, "actions": [a for a in actions_for(who, case, False)
                                         if a["action"] in ("accept", "arrive", "handle", "return")]})
    return {"unit": dict(unit) if unit else None, "tasks": tasks}
