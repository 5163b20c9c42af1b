"""A station's plan for a joint team's day: the zone's due places that the team's departments
check, at most the day's capacity of them (the most overdue first), in the visiting order the
routing solver finds; each place visited once by every department of the team whose checklist
covers it. Checked whole before anything is written; written with its audit row."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
from psycopg import AsyncConnection

from api import audit, clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.inspections import due as due_places, solver, visits
from api.inspections.schemas import PlanIn
from api.inspections.sqlfiles import sql
from api.settings import Settings

CANDIDATES_PER_VISIT = 4  # the solver weighs the most overdue 4 × the day's capacity


async def station_of(conn: AsyncConnection, who: Principal, zone: str, capability: Capability) -> dict[str, Any]:
    """The zone's workstation, if the zone is in the caller's reach through ``capability``."""
    station = await sql.fetchone(conn, "zone_station", {"zone": zone})
    if station is None:
        raise Invalid(f"no zone {zone} with a linkage workstation", field="zone")
    if not reach(who, capability).covers(station["areas"]):  # as if it did not exist, like any object out of reach
        raise NotFound(f"no zone {zone} within your areas", field="zone")
    return station


async def _team(conn: AsyncConnection, codes: list[str], station: dict[str, Any], zone: str) -> list[dict[str, Any]]:
    if not codes:
        raise Invalid("a team needs at least one unit", field="team")
    if len(set(codes)) != len(codes):
        raise Invalid("a unit is named twice in the team", field="team")
    units = {u["code"]: u for u in await sql.fetchall(conn, "team_units", {"codes": codes})}
    for code in codes:
        u = units.get(code)
        if u is None:
            raise Invalid(f"no unit {code}", field="team")
        if u["station"] != station["code"]:
            raise Invalid(f"unit {code} belongs to {u['station'] or 'no station'}, not to {station['code']}, "
                          f"the workstation of zone {zone}", field="team")
    return [units[c] for c in codes]


def _check_day(day: date, settings: Settings) -> None:
    if day > due_places.LAST_DAY:
        raise Invalid(f"plan a day before {due_places.LAST_DAY}", field="day")
    if day < due_places.today(settings, clock.now()):
        raise Invalid(f"{day} is in the past: plan today or a later day", field="day")


async def due_list(conn: AsyncConnection, who: Principal, settings: Settings, *, zone: str, day: date,
                   team: list[str] | None) -> dict[str, Any]:
    """The zone's places due on ``day`` (those the team's departments check, with a team)."""
    station = await station_of(conn, who, zone, Capability.READ_INSPECTIONS)
    departments = None
    if team:
        departments = sorted({u["department"] for u in await _team(conn, team, station, zone)})
    places = await due_places.due(conn, settings, zone=zone, day=day, now=clock.now(), departments=departments)
    return {"zone": zone, "day": day, "places": places}


async def create(conn: AsyncConnection, who: Principal, settings: Settings, body: PlanIn) -> dict[str, Any]:
    station = await station_of(conn, who, body.zone, Capability.PLAN_INSPECTIONS)
    _check_day(body.day, settings)
    units = await _team(conn, body.team, station, body.zone)
    departments = sorted({u["department"] for u in units})
    places = await due_places.due(conn, settings, zone=body.zone, day=body.day, now=clock.now(),
                                  departments=departments)
    if not places and not await sql.fetchall(conn, "checklists_of_departments", {"departments": departments}):
        raise Invalid(f"no checklist of the team's departments ({', '.join(departments)}): "
                      "add a unit of a department that inspects", field="team")
    depot = (station["lon"], station["lat"])
    capacity = settings.inspection_visits_per_day
    # leaving a place out costs more than any detour, the more the more overdue: the day takes the
    # most overdue, and the solver needs to weigh only a few times the day's capacity of them
    candidates = places[:CANDIDATES_PER_VISIT * capacity]
    route = await anyio.to_thread.run_sync(lambda: solver.solve(
        depot, [(p["lon"], p["lat"]) for p in candidates], [p["priority"] for p in candidates],
        capacity=capacity, time_limit_s=settings.inspection_solver_s))
    chosen = [candidates[k] for k in route.order]
    ts = await sql.scalar(conn, "clock_now")
    plan_id = await sql.scalar(conn, "plan_insert", {
        "zone": body.zone, "station": station["code"], "day": body.day, "areas": station["areas"],
        "team": body.team, "departments": departments, "route_m": route.length_m, "naive_m": route.naive_m,
        "left_out": len(places) - len(chosen), "actor": who.actor, "ts": ts})
    await sql.execute(conn, "visit_insert", {
        "plan_id": plan_id, "seqs": list(range(1, len(chosen) + 1)), "codes": [p["code"] for p in chosen],
        "departments": [",".join(p["departments"]) for p in chosen], "overdues": [p["overdue"] for p in chosen],
        "rechecks": [p["recheck"] for p in chosen]})
    await audit.record(conn, actor=who.actor, action="inspection.plan", entity="inspection_plan", entity_id=plan_id,
                       after={"zone": body.zone, "day": body.day, "team": body.team, "visits": len(chosen),
                              "left_out": len(places) - len(chosen), "route_m": round(route.length_m)},
                       client=who.client)
    return await read(conn, who, plan_id)


async def _plans(conn: AsyncConnection, who: Principal, **filters: Any) -> list[dict[str, Any]]:
    r = reach(who, Capability.READ_INSPECTIONS)
    params = {"id": None, "zone": None, "day": None, **filters, **r.params()}
    plans = await sql.fetchall(conn, "plan_list", params)
    if not plans:
        return []
    shown = await visits.listing(conn, who, capability=Capability.READ_INSPECTIONS,
                                 plan_ids=[p["id"] for p in plans], checklists=False)
    by_plan: dict[int, list[dict[str, Any]]] = {}
    for v in shown:
        by_plan.setdefault(v["plan_id"], []).append(v)
    return [{**p, "visits": by_plan.get(p["id"], [])} for p in plans]


async def read(conn: AsyncConnection, who: Principal, plan_id: int) -> dict[str, Any]:
    plans = await _plans(conn, who, id=plan_id)
    if not plans:
        raise NotFound(f"no plan {plan_id} within your reach", field="id")
    return plans[0]


async def listing(conn: AsyncConnection, who: Principal, *, zone: str | None, day: date | None) -> list[dict[str, Any]]:
    return await _plans(conn, who, zone=zone, day=day)
