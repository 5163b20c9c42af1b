"""The case service: every change of a case goes through the transition table, here.

:func:`apply` locks the case, asks :mod:`api.workflow.machine` whether the action is
allowed in its state, checks who is acting (the owning desk, the unit on the case, the
scheduler), checks what the action needs, carries out its effects (assignments, tier,
deadline, department call), and writes the new state, the case-file event and the audit
row in the caller's transaction: all of it or none of it. It returns the case as written
(the answer of an action is drawn from it without reading the case again).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.casefile import add_event
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.params import parse_time
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import deadlines, machine
from api.workflow.machine import Rule
from api.workflow.schemas import ActionIn

log = logging.getLogger("gridgov.cases")

SYSTEM_ACTOR = Principal(username=machine.SYSTEM, user_id=0)  # no account, no grants: acts only on SYSTEM rules
_AREAS = ("grid_code", "community_code", "street_code", "district_code", "zone_code")


@dataclass
class Case:
    """A locked case and what the checks need (assignments, the department call)."""

    row: dict[str, Any]
    assignments: list[dict[str, Any]] = field(default_factory=list)
    call: dict[str, Any] | None = None  # the latest department call (set by apply)
    event_id: int | None = None  # the case-file event of the transition that wrote it

    @property
    def call_open(self) -> bool:
        return self.call is not None and self.call["answered_at"] is None

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def state(self) -> str:
        return self.row["status"]

    @property
    def owners(self) -> list[str]:
        return list(self.row["owners"] or [])

    @property
    def areas(self) -> list[str]:
        return [self.row[k] for k in _AREAS if self.row.get(k)]

    @property
    def active(self) -> list[dict[str, Any]]:
        return [a for a in self.assignments if a["cleared_at"] is None]


def _now() -> datetime:
    return clock.now()


# ---------------------------------------------------------------- who may act

def _field_assignment(who: Principal, case: Case, unit: str | None) -> dict | None:
    """The active assignment a unit-step acts on: the officer's own unit's, or (a dispatcher
    recording by radio) the one named, or the only one."""
    r = reach(who, Capability.WORK_ASSIGNMENTS)
    active = case.active
    if r.unit is not None and not r.everywhere:
        return next((a for a in active if a["unit_code"] == r.unit), None)
    if not r.covers(case.areas):
        return None
    if unit is not None:
        return next((a for a in active if a["unit_code"] == unit), None)
    return active[0] if len(active) == 1 else None


def may_act(who: Principal, rule: Rule, case: Case, unit: str | None = None) -> bool:
    """Whether ``who`` may take ``rule``: the owning desk for desk work, the unit on the case
    for its steps, anyone with the capability where the case lies for verification and
    supervision. The scheduler and reporters act through their own paths only."""
    if rule.actor == machine.SYSTEM:
        return who is SYSTEM_ACTOR
    if rule.actor == machine.REPORTER or who is SYSTEM_ACTOR:
        return False
    capability = Capability(rule.actor)
    if capability in (Capability.WORK_DESK, Capability.DISPATCH_UNITS):  # the owning desk's work
        return reach(who, capability).covers(case.owners)
    if capability is Capability.WORK_ASSIGNMENTS:
        return _field_assignment(who, case, unit) is not None
    return reach(who, capability).covers(case.areas)


def _possible(who: Principal, rule: Rule, case: Case, call_open: bool) -> bool:
    """What the table cannot see: a unit's own step order, the tier ends, an open call."""
    if rule.action in ("accept", "arrive", "handle", "return"):
        a = _field_assignment(who, case, None)
        if a is None:
            return False
        return {"accept": a["accepted_at"] is None,
                "arrive": a["accepted_at"] is not None and a["on_scene_at"] is None,
                "handle": a["accepted_at"] is not None,
                "return": True}[rule.action]
    if rule.action == "escalate":
        return case.row["tier"] != machine.TIERS[-1]
    if rule.action == "hand_down":
        return case.row["tier"] != machine.TIERS[0]
    if rule.action == "answer":
        return call_open
    if rule.action in ("reinforce", "reassign", "dispatch"):
        return reach(who, Capability.READ_UNITS).anything
    return True


def actions_for(who: Principal, case: Case, call_open: bool) -> list[dict]:
    """The buttons to draw: what the table allows in this state for this caller now."""
    out = []
    for rule in machine.actions_from(case.state):
        if rule.action in (r["action"] for r in out):
            continue
        if may_act(who, rule, case) and _possible(who, rule, case, call_open):
            out.append({"action": rule.action, "label_zh": rule.label_zh, "label_en": rule.label_en,
                        "requires": sorted(rule.requires)})
    return out


def _refuse(who: Principal, case: Case, detail: str, call_open: bool) -> Conflict:
    allowed = [a["action"] for a in actions_for(who, case, call_open)]
    return Conflict(detail, field="action", extra={"status": case.state, "allowed": allowed},
                    code="state_conflict", params={"state": case.state})


# ---------------------------------------------------------------- loading

sql.define("case_select_for_update", sql.text("case_select") + "FOR UPDATE OF i\n")


async def load(conn: AsyncConnection, incident_id: int, *, lock: bool) -> Case | None:
    row = await sql.fetchone(conn, "case_select_for_update" if lock else "case_select", {"id": incident_id})
    if row is None:
        return None
    return Case(row, await sql.fetchall(conn, "assignments_of", {"incident_id": incident_id}))


async def _call_of(conn: AsyncConnection, case: Case) -> dict[str, Any] | None:
    return await sql.fetchone(conn, "department_call_of", {"incident_id": case.id})


def _visible(who: Principal, case: Case) -> bool:
    if who is SYSTEM_ACTOR:
        return True
    r = reach(who, Capability.READ_INCIDENTS)
    return r.covers(case.areas, [a["unit_code"] for a in case.assignments])


# ---------------------------------------------------------------- the transition

def _require(rule: Rule, body: ActionIn) -> None:
    for need in sorted(rule.requires):
        value = getattr(body, need)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise Invalid(f"{rule.action} needs {need}", field=need)


async def apply(conn: AsyncConnection, who: Principal, incident_id: int, action: str, body: ActionIn,
                settings: Settings, *, at: datetime | None = None) -> Case:
    """Take ``action`` on a case; returns the case as written (its row, assignments and
    department call after the action, and the event id).

    409 when the table does not allow it now (naming the state and the allowed actions),
    403 when the caller is not who acts on this case, 404 when they may not see it, 422
    when the action lacks what it needs.
    """
    at = at or _now()
    case = await load(conn, incident_id, lock=True)
    if case is None or not _visible(who, case):
        raise NotFound(f"incident {incident_id} not found", field="id")
    case.call = await _call_of(conn, case)
    call_open = case.call_open
    if body.expected_status is not None and body.expected_status != case.state:
        raise _refuse(who, case, f"the case is {case.state} now, not {body.expected_status}: reload it",
                      call_open)
    rule = machine.step(case.state, action)
    if rule is None:
        raise _refuse(who, case, f"cannot {action} a case that is {case.state}", call_open)
    if not may_act(who, rule, case, body.unit):
        if rule.actor == Capability.WORK_ASSIGNMENTS:
            raise Forbidden(f"{action} is for a unit on this case", field="action")
        raise Forbidden(f"{action} is for the desk that owns this case ({', '.join(case.owners[:1])})"
                        if rule.actor in (Capability.WORK_DESK, Capability.DISPATCH_UNITS)
                        else f"you may not {action} this case",
                        field="action")
    if not _possible(who, rule, case, call_open):
        raise _refuse(who, case, _impossible_reason(who, rule, case), call_open)
    _require(rule, body)
    step = Step(conn, who, case, rule, body, settings, at)
    await EFFECTS.get(action, _no_effect)(step)
    return await step.finish()


def _impossible_reason(who: Principal, rule: Rule, case: Case) -> str:
    if rule.action == "escalate":
        return "the case is already at the district tier"
    if rule.action == "hand_down":
        return "the case is already at the grid tier"
    if rule.action == "answer":
        return "no department was called to this case, or it has answered"
    if rule.action in ("dispatch", "reinforce", "reassign"):
        return "you may not read units, so you cannot send them"
    return {"accept": "your unit has accepted this case already",
            "arrive": "accept the case first, or you are on scene already",
            "handle": "accept the case first"}.get(rule.action, f"cannot {rule.action} now")


PUBLIC_OUTCOMES = ("handle", "resolve", "verify")  # steps whose note and photos a resident may be shown


@dataclass
class Step:
    """One transition in progress: effects set ``changes`` and ``data``; ``finish`` writes."""

    conn: AsyncConnection
    who: Principal
    case: Case
    rule: Rule
    body: ActionIn
    settings: Settings
    at: datetime
    changes: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    target: str | None = None       # an effect may keep the state (a joint case's return)
    notify: list[tuple[str, list[str]]] = field(default_factory=list)  # (kind, desk areas)
    photos: list[str] = field(default_factory=list)
    assignments_changed: bool = False  # an effect wrote assignments: the case as written reads them again
    call_changed: bool = False  # an effect wrote the department call: the same

    @property
    def row(self) -> dict[str, Any]:
        return self.case.row

    async def set_deadline(self, start: datetime, priority: str) -> None:
        """The deadline of the category at ``priority`` counted from ``start``, provisional when it
        counted a day of a year without an official schedule (or none, loudly)."""
        spec = deadlines.spec_for(self.row["deadlines"], priority)
        try:
            due = await deadlines.due(self.conn, self.settings, start, spec, district=self.row["district_code"])
        except deadlines.CalendarNotCovered as e:
            log.error("case %s: no deadline: %s", self.case.id, e)
            self.data["deadline_unavailable"] = str(e)
            due = None
        if due is not None and due.provisional:
            self.data.update(due_at=due.at, deadline_spec=str(spec), due_provisional=True)
        self.changes.update(due_at=due.at if due else None, due_from=start if due else None,
                            deadline_spec=str(spec) if spec else None, deadline_flag=None,
                            due_provisional=bool(due and due.provisional), due_paused=timedelta(0))

    def publish(self) -> None:
        """What was done, shown to the resident (the note and the photos of this step) when asked."""
        if not self.body.public:
            return
        if self.rule.action not in PUBLIC_OUTCOMES:
            raise Invalid(f"only {', '.join(PUBLIC_OUTCOMES)} can be shown to the resident", field="public")
        self.data["public"] = True

    async def finish(self) -> Case:
        self.publish()
        if self.body.tier and self.rule.action not in ("escalate", "hand_down"):
            raise Invalid("a tier is named only when escalating or handing down", field="tier")
        before = self.row["status"]
        if self.target is not None:
            after = self.target
        else:
            after = machine.next_state(before, self.rule.action, suspended_from=self.row["suspended_from"])
        state = {k: self.row[k] for k in ("tier", "priority", "suspended_from", "due_at", "due_from",
                                          "deadline_spec", "deadline_flag", "due_provisional", "due_paused",
                                          "duplicate_of")}
        state.update(self.changes)
        row = await sql.fetchone(self.conn, "case_update",
                                 {"id": self.case.id, "status": after, "at": self.at, **state})
        note = self.body.note or self.body.reason
        event_id = await add_event(self.conn, self.case.id, actor=self.who.actor, kind=self.rule.action,
                                   from_status=before, to_status=after, note=note, data=self.data, at=self.at)
        if self.photos:
            await sql.execute(self.conn, "attachment_link", {"incident_id": self.case.id, "event_id": event_id,
                                                             "photos": self.photos})
        for kind, areas in self.notify:
            await sql.execute(self.conn, "desk_notification_insert", {
                "at": self.at, "incident_id": self.case.id, "areas": areas, "kind": kind,
                "data": _json({"action": self.rule.action, "by": self.who.actor, "note": note, **self.data})})
        await audit.record(self.conn, actor=self.who.actor, action=self.rule.action, entity="incident",
                           entity_id=self.case.id, before={"status": before, "tier": self.row["tier"]},
                           after={"status": after, "tier": state["tier"], **self.data}, client=self.who.client)
        assignments = self.case.assignments
        if self.assignments_changed:
            assignments = await sql.fetchall(self.conn, "assignments_of", {"incident_id": self.case.id})
        call = await _call_of(self.conn, self.case) if self.call_changed else self.case.call
        return Case(row, assignments, call, event_id)


def _json(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


# ---------------------------------------------------------------- effects, one per action

async def _no_effect(step: Step) -> None:
    return None


async def _triage(step: Step) -> None:
    priority = step.body.priority or step.row["priority"]
    step.changes["priority"] = priority
    if priority != step.row["priority"] or step.row["due_at"] is None:
        step.data["priority"] = priority
        await step.set_deadline(step.row["reported_at"], priority)


async def _send_units(step: Step, *, clear_first: bool) -> None:
    codes = step.body.units or []
    r = reach(step.who, Capability.READ_UNITS)
    found = {row["code"]: row for row in await sql.fetchall(step.conn, "units_for_dispatch",
                                                                {"codes": codes, **r.params()})}
    for code in codes:
        if code not in found:
            raise Invalid(f"unit {code!r} not found among the units you may send", field="units")
        if found[code]["status"] == "off_duty" and not step.body.allow_busy:
            raise _conflict_unit(step, f"unit {code} is off duty")
    if clear_first:
        await sql.execute(step.conn, "assignment_clear", {"incident_id": step.case.id, "unit_code": None,
                                                          "reason": "reassigned", "at": step.at})
    step.assignments_changed = True
    for code in codes:
        sent = await sql.fetchone(step.conn, "assignment_insert", {
            "incident_id": step.case.id, "unit_code": code, "at": step.at, "actor": step.who.actor,
            "exclusive": not step.body.allow_busy})
        if sent is None:  # refused by a unique index: on this case already, or busy elsewhere
            on_this = any(a["unit_code"] == code for a in step.case.active)
            raise _conflict_unit(step, f"unit {code} is already on this case" if on_this else
                                 f"unit {code} is on another case; send another unit or allow a busy one")
    await sql.execute(step.conn, "units_mark_busy", {"codes": codes})
    step.data["units"] = codes
    step.data["departments"] = sorted({found[c]["department_code"] for c in codes})


def _conflict_unit(step: Step, detail: str) -> Conflict:
    return Conflict(detail, field="units", extra={"status": step.case.state}, code="unit_taken")


async def _dispatch(step: Step) -> None:
    await _send_units(step, clear_first=False)


async def _reassign(step: Step) -> None:
    await _send_units(step, clear_first=True)


async def _unit_step(step: Step) -> None:
    a = _field_assignment(step.who, step.case, step.body.unit)
    done = await sql.fetchone(step.conn, "assignment_step", {
        "step": step.rule.action, "at": step.at, "incident_id": step.case.id, "unit_code": a["unit_code"]})
    if done is None:
        raise _refuse(step.who, step.case, _impossible_reason(step.who, step.rule, step.case), False)
    step.assignments_changed = True
    step.data["unit"] = a["unit_code"]


async def _handle(step: Step) -> None:
    a = _field_assignment(step.who, step.case, step.body.unit)
    photos = step.body.photos or []
    if photos:
        linked = {r["sha256"] for r in await sql.fetchall(step.conn, "attachments_of", {"incident_id": step.case.id})}
        missing = [p for p in photos if p not in linked]
        if missing:
            raise Invalid(f"photo {missing[0]} was not uploaded to this case", field="photos")
        step.photos = photos
        step.data["photos"] = photos
    await sql.execute(step.conn, "assignment_clear", {"incident_id": step.case.id, "unit_code": None,
                                                      "reason": "handled", "at": step.at})
    step.assignments_changed = True
    step.data["unit"] = a["unit_code"]


async def _return(step: Step) -> None:
    a = _field_assignment(step.who, step.case, step.body.unit)
    res = await sql.fetchone(step.conn, "assignment_clear", {
        "incident_id": step.case.id, "unit_code": a["unit_code"], "reason": "returned", "at": step.at})
    step.assignments_changed = True
    step.data["unit"] = a["unit_code"]
    if res["still_active"]:  # a joint case: the other units carry on
        step.target = step.case.state
    else:
        step.notify.append(("returned", step.case.owners))


async def _resolve(step: Step) -> None:
    step.data["resolved_by"] = step.who.actor


async def _clear_all(step: Step, reason: str) -> None:
    await sql.execute(step.conn, "assignment_clear", {"incident_id": step.case.id, "unit_code": None,
                                                      "reason": reason, "at": step.at})
    step.assignments_changed = True


async def _close(step: Step) -> None:
    await _clear_all(step, "closed")


async def _withdraw(step: Step) -> None:
    await _clear_all(step, "withdrawn")


async def _reopen(step: Step) -> None:
    await step.set_deadline(step.at, step.row["priority"])


async def _suspend(step: Step) -> None:
    step.changes["suspended_from"] = step.case.state


async def _resume(step: Step) -> None:
    step.changes["suspended_from"] = None
    since = await sql.scalar(step.conn, "last_suspension", {"incident_id": step.case.id})
    if since is not None and step.row["due_at"] is not None:  # the clock stood still while suspended
        step.changes["due_at"] = step.row["due_at"] + (step.at - since)
        step.changes["due_paused"] = step.row["due_paused"] + (step.at - since)  # kept when recomputed
        step.changes["deadline_flag"] = None
        step.data["paused_s"] = round((step.at - since).total_seconds())


async def _extend(step: Step) -> None:
    new = parse_time(step.body.deadline, step.settings.timezone, "deadline")  # in range before any arithmetic
    current = step.row["due_at"]
    if new <= step.at or (current is not None and new <= current):
        raise Invalid("the new deadline must be later than the current one and than now", field="deadline")
    # the desk's own date: nothing provisional about it, and no schedule load recomputes it
    step.changes.update(due_at=new, deadline_flag=None, due_from=step.row["due_from"] or step.at,
                        due_provisional=False)
    step.data.update(previous_due_at=current, due_at=new)


async def _owners_at(step: Step, tier: str) -> list[str]:
    r = step.row
    return list((await sql.scalar(step.conn, "case_owners_at", {
        "tier": tier, "grid": r["grid_code"], "community": r["community_code"], "zone": r["zone_code"],
        "street": r["street_code"], "district": r["district_code"]})) or [])


async def _move_tier(step: Step, offset: int, kind: str) -> None:
    """Up (``offset`` +1) or down (-1) the tiers: to the next one, or in one step to the tier the
    desk names (higher when escalating, lower when handing down)."""
    tiers = machine.TIERS
    here = tiers.index(step.row["tier"])
    new_tier = step.body.tier or tiers[here + offset]
    if (tiers.index(new_tier) - here) * offset <= 0:
        way = "above" if offset > 0 else "below"
        raise Invalid(f"the case is at the {step.row['tier']} tier: name a tier {way} it", field="tier")
    step.changes["tier"] = new_tier
    step.data.update(from_tier=step.row["tier"], to_tier=new_tier)
    owners = await _owners_at(step, new_tier)
    step.notify.append((kind, owners))
    if new_tier == "district" and kind == "escalated":
        await _call_department(step, owners)
    elif step.body.department:
        raise Invalid("a department is called only when escalating to the district tier", field="department")


async def _call_department(step: Step, owners: list[str]) -> None:
    code = step.body.department
    if not code:
        raise Invalid("escalating to the district tier calls a department: name it", field="department")
    if (await sql.fetchone(step.conn, "department_exists", {"code": code})) is None:
        raise Invalid(f"unknown department {code!r}", field="department")
    district = step.row["district_code"]
    spec = await deadlines.answer_spec(step.conn, step.settings, district)
    try:
        answer_due = await deadlines.due(step.conn, step.settings, step.at, spec, district=district)
    except deadlines.CalendarNotCovered as e:
        log.error("case %s: no answer deadline: %s", step.case.id, e)
        step.data["deadline_unavailable"] = str(e)
        answer_due = None
    provisional = bool(answer_due and answer_due.provisional)
    await sql.execute(step.conn, "department_call_insert", {
        "incident_id": step.case.id, "department": code, "actor": step.who.actor, "at": step.at,
        "answer_due_at": answer_due.at if answer_due else None, "answer_due_provisional": provisional})
    step.call_changed = True
    step.data.update(department=code, answer_due_at=answer_due.at if answer_due else None)
    if provisional:
        step.data["answer_due_provisional"] = True
    step.notify.append(("department_called", owners))


async def _escalate(step: Step) -> None:
    await _move_tier(step, +1, "escalated")


async def _hand_down(step: Step) -> None:
    await _move_tier(step, -1, "handed_down")


async def _answer(step: Step) -> None:
    call = await sql.fetchone(step.conn, "department_call_answer", {
        "incident_id": step.case.id, "at": step.at, "actor": step.who.actor})
    step.call_changed = True
    step.data.update(department=call["department_code"], called_at=call["called_at"],
                     answer_due_at=call["answer_due_at"],
                     on_time=call["answer_due_at"] is None or step.at <= call["answer_due_at"])


async def _merge(step: Step) -> None:
    original_id = step.body.duplicate_of
    if original_id == step.case.id:
        raise Invalid("a case cannot be a duplicate of itself", field="duplicate_of")
    original = await load(step.conn, original_id, lock=True)
    if original is None or not _visible(step.who, original):
        raise Invalid(f"incident {original_id} not found", field="duplicate_of")
    if original.state in machine.ENDED or original.row["duplicate_of"] is not None:
        raise Invalid(f"incident {original_id} is {original.state}: merge into an open case", field="duplicate_of")
    moved = await sql.scalar(step.conn, "merge_attach", {
        "duplicate_id": step.case.id, "original_id": original_id, "at": step.at})
    step.changes["duplicate_of"] = original_id
    step.data.update(duplicate_of=original_id, reporters_moved=moved)
    await add_event(step.conn, original_id, actor=step.who.actor, kind="merged_in", note=step.body.note,
                    data={"duplicate": step.case.id, "reporters": moved}, at=step.at)


async def _unmerge(step: Step) -> None:
    original_id = step.row["duplicate_of"]
    if original_id is not None:
        await load(step.conn, original_id, lock=True)
        moved = await sql.scalar(step.conn, "merge_detach", {
            "duplicate_id": step.case.id, "original_id": original_id})
        await add_event(step.conn, original_id, actor=step.who.actor, kind="unmerged", note=step.body.reason,
                        data={"duplicate": step.case.id, "reporters": moved}, at=step.at)
        step.data.update(was_duplicate_of=original_id, reporters_moved=moved)
    step.changes["duplicate_of"] = None


EFFECTS = {
    "triage": _triage, "dispatch": _dispatch, "reinforce": _dispatch, "reassign": _reassign,
    "accept": _unit_step, "arrive": _unit_step, "handle": _handle, "return": _return,
    "resolve": _resolve, "close": _close, "close_on_recheck": _close,
    "void": _withdraw, "not_responsible": _withdraw,
    "reopen": _reopen, "reopen_on_rating": _reopen, "suspend": _suspend, "resume": _resume, "extend": _extend,
    "escalate": _escalate, "hand_down": _hand_down, "answer": _answer,
    "merge": _merge, "unmerge": _unmerge,
}


async def system_step(conn: AsyncConnection, incident_id: int, action: str, settings: Settings, *,
                      reason: str, at: datetime | None = None) -> Case:
    """The scheduler's and the rating's own steps, through the same table."""
    return await apply(conn, SYSTEM_ACTOR, incident_id, action, ActionIn(reason=reason), settings, at=at)
