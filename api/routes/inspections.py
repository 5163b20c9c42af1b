"""Joint inspections (综合查一次): checklists, the places due, plans, the visit on the phone, figures;
and the station dispatcher's page ``/inspections``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse

from api.auth.deps import ChecklistManager, InspectionPlanner, InspectionReader, InspectionWorker, PublicUnlimited
from api.db import ConnDep
from api.inspections import checklists, figures, plans, visits
from api.inspections.schemas import (
    CODE,
    ArriveIn,
    CheckIn,
    ChecklistList,
    ChecklistsIn,
    ChecklistsSaved,
    DueList,
    Figures,
    PhotoAdded,
    Plan,
    PlanIn,
    PlanList,
    Visit,
    VisitList,
)
from api.settings import PROJECT_ROOT

router = APIRouter(prefix="/api/inspections", tags=["inspections"])
pages = APIRouter(tags=["pages"], include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2**62, description="an id")]
Zone = Annotated[str, Query(max_length=32, pattern=CODE, description="a zone code")]
Department = Annotated[str | None, Query(max_length=32, pattern=CODE, description="a department code")]


@router.get("/checklists", response_model=ChecklistList)
async def list_checklists(who: InspectionReader, conn: ConnDep, department: Department = None,
                          category: str | None = Query(None, max_length=32, pattern=CODE,
                                                       description="a place category"),
                          history: bool = Query(False, description="every version, not only the current ones")):
    """The departments' checklists per place category (the current versions, or all)."""
    rows = await checklists.listing(conn, department=department, category=category, history=history)
    return {"checklists": rows}


@router.post("/checklists", response_model=ChecklistsSaved)
async def save_checklists(who: ChecklistManager, conn: ConnDep, body: Annotated[ChecklistsIn, Body()]):
    """New versions of checklists (one that is the same as its current version writes nothing); an
    unknown department or category refuses the whole batch naming the field."""
    return {"saved": await checklists.save(conn, who, body.checklists)}


@router.get("/due", response_model=DueList)
async def due_places(request: Request, who: InspectionReader, conn: ConnDep, zone: Zone,
                     day: date = Query(description="the day (YYYY-MM-DD)"),
                     team: list[str] | None = Query(None, max_length=20,
                                                    description="unit codes: only what their departments check")):
    """The zone's places due on a day, most overdue first (risk level × days since the last visit)."""
    return await plans.due_list(conn, who, request.app.state.settings, zone=zone, day=day, team=team)


@router.post("/plans", response_model=Plan, status_code=201)
async def create_plan(request: Request, who: InspectionPlanner, conn: ConnDep, body: Annotated[PlanIn, Body()]):
    """Plan a joint team's day in a zone: its due places, each visited once by every department of
    the team that checks it, at most the day's capacity, ordered from the station (OR-Tools)."""
    return await plans.create(conn, who, request.app.state.settings, body)


@router.get("/plans", response_model=PlanList)
async def list_plans(who: InspectionReader, conn: ConnDep, zone: Annotated[str | None, Zone] = None,
                     day: date | None = Query(None, description="only the plans of this day")):
    """Plans in the caller's zones with their visits in order."""
    return {"plans": await plans.listing(conn, who, zone=zone, day=day)}


@router.get("/plans/{plan_id}", response_model=Plan)
async def get_plan(who: InspectionReader, conn: ConnDep, plan_id: Id):
    """One plan with its visits in order."""
    return await plans.read(conn, who, plan_id)


@router.get("/visits", response_model=VisitList)
async def my_visits(request: Request, who: InspectionWorker, conn: ConnDep,
                    day: date | None = Query(None, description="from this day on (default today)")):
    """The team's visits from today on, in order, each with its departments' checklists."""
    return {"visits": await visits.mine(conn, who, request.app.state.settings, day)}


@router.post("/visits/{visit_id}/arrive", response_model=Visit)
async def arrive(request: Request, who: InspectionWorker, conn: ConnDep, visit_id: Id,
                 body: Annotated[ArriveIn, Body()]):
    """At the place: refused, naming the distance, farther than the arrival radius from it."""
    return await visits.arrive(conn, who, request.app.state.settings, visit_id, body)


@router.post("/visits/{visit_id}/photos", response_model=PhotoAdded, status_code=201)
async def add_photo(who: InspectionWorker, conn: ConnDep, visit_id: Id,
                    file: UploadFile = File(description="a JPEG, PNG or WebP photo, at most 8 MB")):
    """A photo of the visit; metadata (EXIF, GPS) is removed before it is stored."""
    data = await file.read(visits.MAX_PHOTO_BYTES + 1)
    return await visits.add_photo(conn, who, visit_id, data)


@router.post("/visits/{visit_id}/checks", response_model=Visit)
async def check(request: Request, who: InspectionWorker, conn: ConnDep, visit_id: Id,
                body: Annotated[CheckIn, Body()]):
    """One department's checklist: failed items become a case with the place; a pass closes the
    department's open findings at the place (the re-check)."""
    return await visits.check(conn, who, request.app.state.settings, visit_id, body)


@router.get("/figures", response_model=Figures)
async def inspection_figures(who: InspectionReader, conn: ConnDep, zone: Annotated[str | None, Zone] = None,
                             from_: date = Query(alias="from", description="the first day (YYYY-MM-DD)"),
                             to: date = Query(description="the last day (YYYY-MM-DD)")):
    """Visits made, separate visits saved, findings per place category, rectified on time."""
    return await figures.figures(conn, who, zone=zone, from_day=from_, to_day=to)


@pages.get("/inspections")
async def inspections_page(who: PublicUnlimited):
    """The station dispatcher's inspections page: plan a team's day, see it on the map (the page logs in itself)."""
    return FileResponse(PROJECT_ROOT / "web" / "inspections.html", media_type="text/html; charset=utf-8")
