"""Findings: a department's failed items at a visit become one case of the command-room cycle
(source ``inspection``, routed like any report at the place's point, the deadline of the
checklist's incident category), linked to the place; a later passing check of the same department
at the place (the re-check) closes it through the transition table's ``close_on_recheck``."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import incidents
from api.auth.principal import Principal
from api.inspections.sqlfiles import sql
from api.schemas import IncidentIn
from api.settings import Settings
from api.sqlfiles import sql as api_sql
from api.workflow import cases
from api.workflow.schemas import ActionIn


def _description(visit: dict[str, Any], checklist: dict[str, Any], failed: list[str], text: str) -> str:
    place = visit["place"]
    items = {i["key"]: i for i in checklist["items"]}
    zh = "；".join(items[k]["zh"] for k in failed)
    en = "; ".join(items[k]["en"] for k in failed)
    out = (f"综合查一次 {place['name']}（{place['code']}）{checklist['department']} 未通过：{zh}。"
           f" Joint inspection of {place['name']} ({place['code']}), {checklist['department']} failed: {en}.")
    return f"{out} {text}".strip()[:2000]


async def open_case(conn: AsyncConnection, who: Principal, settings: Settings, *, visit: dict[str, Any],
                    checklist: dict[str, Any], check_id: int, failed: list[str], text: str,
                    photos: list[str]) -> int:
    """The case of a failed check, with the place and the check's photos."""
    place = visit["place"]
    body = IncidentIn(category=checklist["case_category"], lon=place["lon"], lat=place["lat"],
                      description=_description(visit, checklist, failed, text))
    # 'inspection' is no source a report may claim (IncidentIn refuses it): only this path writes it
    doc, _ = await incidents.report(conn, who, body.model_copy(update={"source": "inspection"}), settings,
                                    idempotency_key=None)
    incident_id = int(doc["id"])
    await sql.execute(conn, "finding_insert", {
        "incident_id": incident_id, "check_id": check_id, "place_code": place["code"],
        "place_category": place["category"], "department": checklist["department"], "zone": visit.get("zone"),
        "items": failed})
    for sha in photos:
        await api_sql.execute(conn, "attachment_link_case", {"incident_id": incident_id, "sha256": sha,
                                                             "actor": who.actor})
    return incident_id


async def close_on_recheck(conn: AsyncConnection, who: Principal, settings: Settings, *, place: dict[str, Any],
                           department: str, check_id: int, visit_id: int) -> list[int]:
    """Close the department's open findings at the place: the passing check is the rectification's proof."""
    closed = []
    for row in await sql.fetchall(conn, "findings_open", {"place_code": place["code"], "department": department}):
        reason = (f"复查通过 re-check passed: visit {visit_id}, {department}, by {who.actor}")
        await cases.apply(conn, cases.SYSTEM_ACTOR, row["incident_id"], "close_on_recheck",
                          ActionIn(reason=reason), settings)
        await sql.execute(conn, "finding_closed", {"incident_id": row["incident_id"], "check_id": check_id})
        closed.append(row["incident_id"])
    return closed
