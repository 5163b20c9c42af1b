"""Follow-up items (整改事项): what a street does about an indicator residents scored low, by
whom (a department or unit code, never a person), by when, and how far it got. Staff create and
update them; everyone sees them with their progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.policy import Capability
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.settings import Settings
from api.sqlfiles import sql
from api.surveys import periods, template

STATUSES = ("planned", "in_progress", "done")
SHOWN = ("id", "period_id", "indicator", "owner", "measures", "deadline", "status", "progress")


async def _one(conn: AsyncConnection, followup_id: int) -> dict[str, Any]:
    row = await sql.fetchone(conn, "survey_followup_get", {"id": followup_id})
    if row is None:
        raise NotFound(f"no follow-up item {followup_id}", field="followup")
    return row


async def add(conn: AsyncConnection, who: Principal, settings: Settings, period_id: int, *, indicator: str,
              owner: str, measures: str, deadline: date) -> dict[str, Any]:
    period = await periods.get(conn, settings, period_id, who, Capability.MANAGE_SURVEYS)
    tpl = await template.load(conn, period["template_code"])
    if indicator not in tpl.indicators:
        raise Invalid(f"{indicator!r} is not a question of this survey", field="indicator")
    if not await sql.scalar(conn, "survey_owner_exists", {"code": owner}):
        raise Invalid(f"{owner!r} is neither a department nor a unit code", field="owner")
    if not measures.strip():
        raise Invalid("say what will be done", field="measures")
    if deadline < period["opens"]:
        raise Invalid(f"the deadline {deadline} is before the survey period began", field="deadline")
    fid = await sql.scalar(conn, "survey_followup_insert", {
        "period": period_id, "indicator": indicator, "owner": owner, "measures": measures.strip(),
        "deadline": deadline, "actor": who.actor})
    row = await _one(conn, fid)
    await audit.record(conn, actor=who.actor, action="survey_followup_add", entity="survey_followup", entity_id=fid,
                       after={k: row[k] for k in SHOWN}, client=who.client)
    return {k: row[k] for k in SHOWN}


async def update(conn: AsyncConnection, who: Principal, followup_id: int, *, status: str | None = None,
                 progress: str | None = None) -> dict[str, Any]:
    before = await sql.fetchone(conn, "survey_followup_get", {"id": followup_id})
    if before is None or not periods.in_reach(who, Capability.MANAGE_SURVEYS, before["lineage"]):
        raise NotFound(f"no follow-up item {followup_id}", field="followup")
    if status is None and progress is None:
        raise Invalid("say what changed: status or progress", field="status")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status is one of {', '.join(STATUSES)}, not {status!r}", field="status")
    await sql.execute(conn, "survey_followup_update", {"id": followup_id, "status": status, "progress": progress,
                                                       "actor": who.actor})
    after = await _one(conn, followup_id)
    await audit.record(conn, actor=who.actor, action="survey_followup_update", entity="survey_followup",
                       entity_id=followup_id, before={k: before[k] for k in ("status", "progress")},
                       after={k: after[k] for k in ("status", "progress")}, client=who.client)
    return {k: after[k] for k in SHOWN}


async def of_period(conn: AsyncConnection, period_id: int) -> list[dict[str, Any]]:
    """A period's items as everyone sees them: no staff names (who created or updated them)."""
    return await sql.fetchall(conn, "survey_followups", {"period": period_id})
