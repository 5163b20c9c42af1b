"""What the desk, the unit's phone and the case view read of the cycle (no writes)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

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


async def case_view(conn: AsyncConnection, who: Principal, incident_id: int, settings: Settings) -> dict:
    """``GET /api/incidents/{id}``: the incident as ``who`` may see it and, with detail rights,
    the case: owner, deadline, assignments, department call, photos and the actions ``who``
    may take now."""
    doc = await incidents.read_one(conn, who, incident_id, settings)
    if "events" not in doc:  # no detail rights: the summary only
        return doc
    case = await load(conn, incident_id, lock=False)
    call = (await conn.execute(sql("department_call_of"), {"incident_id": incident_id})).mappings().first()
    doc.update(
        owner_area=case.owners[0] if case.owners else None,
        due_from=case.row["due_from"], deadline_spec=case.row["deadline_spec"],
        due_provisional=case.row["due_provisional"], deadline_flag=case.row["deadline_flag"], suspended_from=case.row["suspended_from"],
        duplicate_of=case.row["duplicate_of"], supporters=case.row["supporters"],
        assignments=case.assignments,
        department_call=dict(call) if call else None,
        attachments=[r.sha256 for r in await conn.execute(sql("attachments_of"), {"incident_id": incident_id})],
        actions=actions_for(who, case, call is not None and call["answered_at"] is None),
    )
    return doc


async def queue(conn: AsyncConnection, who: Principal, *, status: str, tier: str | None, category: str | None,
                overdue: bool, unrouted: bool, near_boundary: bool, sort: str, limit: int, offset: int) -> dict:
    """The live queue: cases in reach, filtered, soonest deadline first (or newest)."""
    if status != "open" and status not in machine.STATES:
        raise Invalid(f"unknown state {status!r}; one of open, {', '.join(machine.STATES)}", field="status")
    if tier is not None and tier not in machine.TIERS:
        raise Invalid(f"unknown tier {tier!r}; one of {', '.join(machine.TIERS)}", field="tier")
    rows = [dict(r) for r in (await conn.execute(sql("desk_queue"), {
        **reach(who, Capability.READ_INCIDENTS).params(),
        "states": list(machine.OPEN) if status == "open" else [status], "tier": tier, "category": category,
        "overdue": overdue, "unrouted": unrouted, "near_boundary": near_boundary, "sort": sort,
        "limit": limit, "offset": offset})).mappings()]
    matched = rows[0].pop("number_matched") if rows else 0
    for r in rows:
        r.pop("number_matched", None)
    return {"items": rows, "number_matched": matched, "limit": limit, "offset": offset}


async def notifications(conn: AsyncConnection, who: Principal, *, limit: int) -> list[dict]:
    """What the caller's desks were told, newest first."""
    r = reach(who, Capability.WORK_DESK)
    rows = await conn.execute(sql("desk_notifications"), {**r.params(), "limit": limit})
    return [dict(x) for x in rows.mappings()]


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


async def unit_tasks(conn: AsyncConnection, who: Principal) -> dict:
    """The officer's own unit and its active assignments, each with the steps it may take."""
    code = reach(who, Capability.WORK_ASSIGNMENTS).unit
    if code is None:
        return {"unit": None, "tasks": []}
    unit = (await conn.execute(sql("unit_info"), {"unit": code})).mappings().first()
    tasks = []
    for row in (await conn.execute(sql("unit_tasks"), {"unit": code})).mappings():
        case: Case | None = await load(conn, row["incident_id"], lock=False)
        tasks.append({**row, "actions": [a for a in actions_for(who, case, False)
                                         if a["action"] in ("accept", "arrive", "handle", "return")]})
    return {"unit": dict(unit) if unit else None, "tasks": tasks}
