"""Grid workers' patrols (巡查): start, fixes, end, reports on patrol (the worker's phone); tracks and
coverage (supervisors in scope, the worker their own); grids not patrolled lately (the desk)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request

from api.auth.deps import DeskWorker, PatrolReader, PatrolWorker
from api.db import ConnDep
from api.params import clamp_limit, parse_time
from api.patrols import neglect, reading, reports, service
from api.patrols.schemas import (
    BatchStored,
    Coverage,
    FixBatch,
    PatrolList,
    PatrolReportCreated,
    PatrolReportIn,
    PatrolStart,
    PatrolSummary,
    PatrolTrack,
    StaleGrids,
)

router = APIRouter(prefix="/api/patrols", tags=["patrols"])

CODE = r"^[0-9A-Za-z_-]+$"
PatrolId = Annotated[int, Path(ge=1, le=2**62, description="the patrol's id")]
Area = Annotated[str | None, Query(max_length=32, pattern=CODE, description="a grid or an area above it")]
From = Annotated[datetime | None, Query(alias="from", description="patrols started at or after")]
To = Annotated[datetime | None, Query(alias="to", description="patrols started before")]
By = Annotated[Literal["patrol", "week", "worker"], Query(description="per patrol, ISO week or worker")]


def _window(request: Request, since: datetime | None, until: datetime | None):
    tz = request.app.state.settings.timezone
    return parse_time(since, tz, "from"), parse_time(until, tz, "to")


@router.post("", response_model=PatrolSummary, status_code=201)
async def start_patrol(who: PatrolWorker, conn: ConnDep, body: Annotated[PatrolStart | None, Body()] = None):
    """Start a patrol of the caller's grid (or the grid named); one open patrol per worker (409 otherwise)."""
    return await service.start(conn, who, body or PatrolStart())


@router.get("", response_model=PatrolList)
async def list_patrols(request: Request, who: PatrolReader, conn: ConnDep, area: Area = None,
                       worker: str | None = Query(None, max_length=64, description="one worker's username"),
                       since: From = None, until: To = None,
                       limit: int = Query(100, description="at most this many, newest first")):
    """Patrols the caller may see, newest first (summaries, no track)."""
    since, until = _window(request, since, until)
    return await reading.listing(conn, who, area=area, worker=worker, since=since, until=until,
                                 limit=clamp_limit(limit, request.app.state.settings.page_limit_max))


@router.get("/coverage", response_model=Coverage)
async def patrol_coverage(request: Request, who: PatrolReader, conn: ConnDep, area: Area = None,
                          since: From = None, until: To = None,
                          by: By = "patrol"):
    """Coverage of the grids by ended patrols: places within 30 m of the track, area within 50 m."""
    since, until = _window(request, since, until)
    return await reading.coverage(conn, who, area=area, since=since, until=until, by=by)


@router.get("/stale", response_model=StaleGrids)
async def stale_grids(request: Request, who: DeskWorker, conn: ConnDep, area: Area = None,
                      days: int | None = Query(None, ge=1, le=365, description="default GRIDGOV_PATROL_STALE_DAYS")):
    """Grids under the caller's desk not patrolled for `days` days (or never), the longest neglected first."""
    return await neglect.stale_grids(conn, who, request.app.state.settings, area=area, days=days)


@router.get("/{patrol_id}", response_model=PatrolTrack)
async def get_patrol(who: PatrolReader, conn: ConnDep, patrol_id: PatrolId):
    """One patrol with its track, each fix's time, the grid and the places visited."""
    return await reading.read_one(conn, who, patrol_id)


@router.post("/{patrol_id}/positions", response_model=BatchStored)
async def add_positions(request: Request, who: PatrolWorker, conn: ConnDep, patrol_id: PatrolId,
                        body: Annotated[FixBatch, Body()]):
    """A batch of fixes (the phone's outbox) for the caller's open patrol: in time order and after those
    stored, no jump faster than GRIDGOV_PATROL_MAX_SPEED_MPS, none far from every district."""
    return await service.add_fixes(conn, who, request.app.state.settings, patrol_id, body)


@router.post("/{patrol_id}/end", response_model=PatrolSummary)
async def end_patrol(who: PatrolWorker, conn: ConnDep, patrol_id: PatrolId):
    """End the caller's open patrol; its figures (length, duration, coverage) are kept."""
    return await service.end(conn, who, patrol_id)


@router.post("/{patrol_id}/reports", response_model=PatrolReportCreated, status_code=201)
async def report_on_patrol(request: Request, who: PatrolWorker, conn: ConnDep, patrol_id: PatrolId,
                           body: Annotated[PatrolReportIn, Body()]):
    """A report filed on patrol (source grid_worker), linked to the nearest fix; settled_on_spot closes it
    at grid tier at once (微事不出格)."""
    return await reports.report(conn, who, request.app.state.settings, patrol_id, body)
