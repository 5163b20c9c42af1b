"""The visit on the phone: the team's visits in order, arriving (the phone's position checked
against the place), each department's checklist against its current version, photos (cleaned by
:mod:`api.images`: re-encoded, EXIF stripped). A check's failed items become a case
(:mod:`api.inspections.findings`); a passing check closes the department's open findings there."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import anyio
from psycopg import AsyncConnection

from api import audit, clock
from api.attachments import DECODING, MAX_PHOTO_BYTES, clean_image
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Conflict, Invalid, NotFound, TooLarge
from api.inspections import findings
from api.inspections.schemas import ArriveIn, CheckIn
from api.inspections.solver import metres
from api.inspections.sqlfiles import sql
from api.settings import Settings
from api.sqlfiles import sql as api_sql


def _shape(row: dict[str, Any], lists: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    place = {"code": row["place_code"], "name": row["place_name"], "category": row["place_category"],
             "risk_level": row["risk_level"], "address": row["address"], "lon": row["lon"], "lat": row["lat"]}
    shown = [{"department": d, "version": lists[(d, row["place_category"])]["version"],
              "items": lists[(d, row["place_category"])]["items"]}
             for d in row["departments"] if (d, row["place_category"]) in lists]
    return {k: row[k] for k in ("id", "plan_id", "day", "seq", "status", "departments", "overdue", "recheck",
                                "arrived_at", "arrived_distance_m", "done_at", "zone")} | {
        "place": place, "checklists": shown, "checks": row["checks"], "photos": list(row["photos"])}


async def listing(conn: AsyncConnection, who: Principal, *, capability: Capability,
                  plan_ids: list[int] | None = None, visit_id: int | None = None, from_day: date | None = None,
                  team_unit: str | None = None, checklists: bool = True) -> list[dict[str, Any]]:
    r = reach(who, capability)
    rows = await sql.fetchall(conn, "visit_list", {**r.params(), "plan_ids": plan_ids, "visit_id": visit_id,
                                                   "from_day": from_day, "team_unit": team_unit})
    lists: dict[tuple[str, str], dict[str, Any]] = {}
    if checklists and rows:
        for c in await sql.fetchall(conn, "checklist_list", {"all": False, "department": None, "category": None}):
            lists[(c["department"], c["category"])] = c
    return [_shape(row, lists) for row in rows]


async def mine(conn: AsyncConnection, who: Principal, settings: Settings, day: date | None) -> list[dict[str, Any]]:
    """The visits of the caller's team from ``day`` (today) on, in order: an officer's own unit's;
    a dispatcher's, of the plans of their zones."""
    from api.inspections.due import today

    r = reach(who, Capability.WORK_INSPECTIONS)
    start = day or today(settings, clock.now())
    return await listing(conn, who, capability=Capability.WORK_INSPECTIONS, from_day=start,
                         team_unit=r.unit if not r.everywhere and not r.areas else None)


async def _visit(conn: AsyncConnection, who: Principal, visit_id: int) -> dict[str, Any]:
    await sql.fetchone(conn, "visit_lock", {"id": visit_id})
    found = await listing(conn, who, capability=Capability.WORK_INSPECTIONS, visit_id=visit_id)
    if not found:
        raise NotFound(f"no visit {visit_id} of your team", field="id")
    return found[0]


async def arrive(conn: AsyncConnection, who: Principal, settings: Settings, visit_id: int,
                 body: ArriveIn) -> dict[str, Any]:
    """At the place: the phone within ``inspection_arrive_radius_m`` of it, else refused naming the distance."""
    visit = await _visit(conn, who, visit_id)
    if visit["status"] == "done":
        raise Conflict(f"visit {visit_id} is done", field="id")
    place = visit["place"]
    distance = metres((body.lon, body.lat), (place["lon"], place["lat"]))
    radius = settings.inspection_arrive_radius_m
    if distance > radius:
        raise Invalid(f"you are {distance:.0f} m from {place['name']}: arrive within {radius:.0f} m of the place",
                      field="lon")
    await sql.execute(conn, "visit_arrive", {"id": visit_id, "at": clock.now(), "distance": distance})
    await audit.record(conn, actor=who.actor, action="inspection.arrive", entity="inspection_visit",
                       entity_id=visit_id, after={"distance_m": round(distance)}, client=who.client)
    return (await listing(conn, who, capability=Capability.WORK_INSPECTIONS, visit_id=visit_id))[0]


async def add_photo(conn: AsyncConnection, who: Principal, visit_id: int, data: bytes) -> dict[str, Any]:
    """A photo of the visit, cleaned (re-encoded without any metadata) and stored once by content."""
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge(f"a photo may be at most {MAX_PHOTO_BYTES // 1_000_000} MB", field="file")
    visit = await _visit(conn, who, visit_id)
    if visit["status"] == "planned":
        raise Conflict("arrive at the place first", field="id")
    clean, media_type, width, height = await anyio.to_thread.run_sync(clean_image, data, limiter=DECODING)
    digest = hashlib.sha256(clean).hexdigest()
    await api_sql.execute(conn, "attachment_insert", {"sha256": digest, "media_type": media_type, "bytes": clean,
                                                      "width": width, "height": height, "actor": who.actor})
    await sql.execute(conn, "visit_photo_insert", {"visit_id": visit_id, "sha256": digest, "actor": who.actor})
    doc = {"sha256": digest, "media_type": media_type, "width": width, "height": height}
    await audit.record(conn, actor=who.actor, action="inspection.photo", entity="inspection_visit",
                       entity_id=visit_id, after=doc, client=who.client)
    return doc


def _failed(items: list[dict[str, Any]], answers: dict[str, Any]) -> list[str]:
    """The keys of the items that fail; every yes/no and number item answered, with its kind."""
    known = {i["key"] for i in items}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise Invalid(f"no item {unknown[0]!r} in this checklist", field="answers")
    failed = []
    for i in items:
        value = answers.get(i["key"])
        if value is None:
            if i["kind"] == "text":
                continue
            raise Invalid(f"answer item {i['key']!r} ({i['zh']})", field="answers")
        if i["kind"] == "yes_no":
            if not isinstance(value, bool):
                raise Invalid(f"item {i['key']!r} is answered true or false", field="answers")
            if not value:
                failed.append(i["key"])
        elif i["kind"] == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Invalid(f"item {i['key']!r} is answered with a number", field="answers")
            if (i.get("min") is not None and value < i["min"]) or (i.get("max") is not None and value > i["max"]):
                failed.append(i["key"])
        elif not isinstance(value, str) or len(value) > 500:
            raise Invalid(f"item {i['key']!r} is answered with a text of at most 500 characters", field="answers")
    return failed


async def check(conn: AsyncConnection, who: Principal, settings: Settings, visit_id: int,
                body: CheckIn) -> dict[str, Any]:
    """One department's checklist at the visit: failed items become a case with the place; a pass
    closes that department's open findings at the place (the re-check)."""
    visit = await _visit(conn, who, visit_id)
    if visit["status"] == "planned":
        raise Conflict("arrive at the place first", field="id")
    if body.department not in visit["departments"]:
        raise Invalid(f"{body.department} does not check this place on this visit "
                      f"({', '.join(visit['departments'])} do)", field="department")
    if any(c["department"] == body.department for c in visit["checks"]):
        raise Conflict(f"{body.department} has checked this visit already", field="department")
    place = visit["place"]
    current = await sql.fetchone(conn, "checklists_for", {"category": place["category"],
                                                          "departments": [body.department]})
    if current is None:
        raise Invalid(f"{body.department} keeps no checklist for {place['category']} now", field="department")
    failed = _failed(current["items"], body.answers)
    missing = sorted(set(body.photos) - set(visit["photos"]))
    if missing:
        raise Invalid(f"photo {missing[0]} was not added to this visit", field="photos")
    at = clock.now()
    check_id = await sql.scalar(conn, "check_insert", {
        "visit_id": visit_id, "department": body.department, "checklist_id": current["id"],
        "answers": json.dumps(body.answers, ensure_ascii=False), "failed": failed, "findings": body.findings,
        "actor": who.actor, "at": at})
    await audit.record(conn, actor=who.actor, action="inspection.check", entity="inspection_visit",
                       entity_id=visit_id, after={"department": body.department, "version": current["version"],
                                                  "failed": failed}, client=who.client)
    if failed:
        await findings.open_case(conn, who, settings, visit=visit, checklist=current, check_id=check_id,
                                 failed=failed, text=body.findings, photos=body.photos)
    else:
        await findings.close_on_recheck(conn, who, settings, place=place, department=body.department,
                                        check_id=check_id, visit_id=visit_id)
    await sql.execute(conn, "visit_done_if_checked", {"id": visit_id, "at": at})
    return (await listing(conn, who, capability=Capability.WORK_INSPECTIONS, visit_id=visit_id))[0]
