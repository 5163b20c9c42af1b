"""The command-room cycle: the transition table, the queue, one route per action, the unit's tasks."""

# no `from __future__ import annotations`: the per-action routes are built in a closure whose
# Annotated dependency FastAPI must resolve at definition time

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from api.auth.access import Access
from api.auth.deps import IncidentReader, Session
from api.auth.policy import Capability
from api.auth.principal import Principal
from api.db import ConnDep
from api.workflow import cases, deadlines, machine, views
from api.workflow.schemas import (
    ActionIn,
    CaseDetail,
    MachineDocument,
    Notification,
    QueuePage,
    Recommendations,
    UnitChoices,
    UnitTasks,
)

router = APIRouter(tags=["cases"])

IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="incident id")]
DeskWorker = Annotated[Principal, Depends(Access(Capability.WORK_DESK))]
FieldWorker = Annotated[Principal, Depends(Access(Capability.WORK_ASSIGNMENTS))]
Dispatcher = Annotated[Principal, Depends(Access(Capability.DISPATCH_UNITS))]


@router.get("/api/workflow/machine", response_model=MachineDocument)
async def transition_table(who: Session, conn: ConnDep, request: Request):
    """The transition table (state × action → next state, who, what it needs), the tiers and
    the years the working calendar has official holiday data for (later years: provisional)."""
    cal = await deadlines.calendar(conn, request.app.state.settings)
    return {**machine.as_document(), "calendar_years": list(cal.covered_years())}


@router.get("/api/desk/queue", response_model=QueuePage)
async def desk_queue(
    who: IncidentReader, conn: ConnDep,
    status: str = Query("open", max_length=32, description="a state, or open (every state not ended)"),
    tier: str | None = Query(None, max_length=16),
    category: str | None = Query(None, max_length=64),
    overdue: bool = Query(False, description="only cases past their deadline"),
    unrouted: bool = Query(False, description="only reports outside every grid"),
    near_boundary: bool = Query(False, description="only reports near a grid boundary"),
    q: str | None = Query(None, max_length=100, description="a tracking code (finds its case in any state), or "
                                                             "words of the text or of the grid, community or "
                                                             "street name, or a place code"),
    sort: views.QueueSort = Query("deadline", description="deadline (soonest first) or newest"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """The live queue of cases in reach (一个口子进), soonest deadline first."""
    return await views.queue(conn, who, status=status, tier=tier, category=category, overdue=overdue,
                             unrouted=unrouted, near_boundary=near_boundary, sort=sort, limit=limit,
                             offset=offset, search=q)


@router.get("/api/desk/notifications", response_model=list[Notification])
async def desk_notifications(who: DeskWorker, conn: ConnDep, limit: int = Query(50, ge=1, le=500)):
    """What the caller's desks were told: escalations, department calls, near-expiry, overdue."""
    return await views.notifications(conn, who, limit=limit)


@router.get("/api/incidents/{incident_id}/recommendations", response_model=Recommendations)
async def recommendations(incident_id: IncidentId, request: Request, who: DeskWorker, conn: ConnDep):
    """Nearest available units of each responsible department now, with the reason for each."""
    return await views.recommendations(conn, who, incident_id, request.app.state.settings)


@router.get("/api/incidents/{incident_id}/units", response_model=UnitChoices)
async def units_for_case(incident_id: IncidentId, request: Request, who: Dispatcher, conn: ConnDep,
                         q: str | None = Query(None, max_length=100, description="words of a unit's name or code"),
                         department: str | None = Query(None, max_length=64),
                         limit: int = Query(30, ge=1, le=200)):
    """Any unit the desk may send, nearest to the case first; those not recommended say why."""
    return await views.units_for_case(conn, who, incident_id, request.app.state.settings, search=q,
                                      department=department, limit=limit)


@router.get("/api/unit/tasks", response_model=UnitTasks)
async def unit_tasks(who: FieldWorker, conn: ConnDep):
    """The caller's unit and its active assignments (an officer's phone)."""
    return await views.unit_tasks(conn, who)


def _action_route(action: str, capability: Capability) -> None:
    rules = [r for r in machine.TABLE.values() if r.action == action]
    sources = ", ".join(r.source for r in rules)
    needs = sorted(set().union(*(r.requires for r in rules)))
    Actor = Annotated[Principal, Depends(Access(capability))]

    async def take(incident_id: IncidentId, body: ActionIn, request: Request, who: Actor, conn: ConnDep):
        settings = request.app.state.settings
        written = await cases.apply(conn, who, incident_id, action, body, settings)
        return await views.case_view(conn, who, incident_id, settings, case=written)

    take.__name__ = f"case_{action}"
    take.__doc__ = (f"{rules[0].label_zh} / {rules[0].label_en}. From: {sources}."
                    + (f" Needs: {', '.join(needs)}." if needs else "")
                    + " Answers the case as GET /api/incidents/{id} does; 409 names the state and the allowed actions.")
    router.add_api_route(f"/api/incidents/{{incident_id}}/actions/{action}", take, methods=["POST"],
                         response_model=CaseDetail, response_model_exclude_unset=True, name=f"case_{action}")


for _action in machine.ACTIONS:
    _actors = {r.actor for r in machine.TABLE.values() if r.action == _action}
    _staff = [a for a in _actors if isinstance(a, Capability)]
    if _staff:  # reporters and the scheduler act through their own paths
        assert len(_staff) == 1, f"{_action}: one capability per action"
        _action_route(_action, _staff[0])
