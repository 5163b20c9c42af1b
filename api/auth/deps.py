"""Typed dependency aliases for routes (FastAPI full-stack template habit), one per rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth.access import Access
from api.auth.policy import Capability as C
from api.auth.principal import Principal

Public = Annotated[Principal, Depends(Access.anyone())]
PublicUnlimited = Annotated[Principal, Depends(Access.anyone(limit=None))]
PublicAlwaysLimited = Annotated[Principal, Depends(Access.anyone(limit="always"))]
Session = Annotated[Principal, Depends(Access(C.SESSION))]
MapReader = Annotated[Principal, Depends(Access(C.READ_MAP))]
IncidentReader = Annotated[Principal, Depends(Access(C.READ_INCIDENTS))]
RoutingPreviewer = Annotated[Principal, Depends(Access(C.PREVIEW_ROUTING))]
UnitReader = Annotated[Principal, Depends(Access(C.READ_UNITS))]
UnitReporter = Annotated[Principal, Depends(Access(C.REPORT_UNIT_POSITION))]
AuditReader = Annotated[Principal, Depends(Access(C.READ_AUDIT))]
AreaEditor = Annotated[Principal, Depends(Access(C.EDIT_AREAS))]
CalendarAdmin = Annotated[Principal, Depends(Access(C.MANAGE_CALENDAR))]
MetricsReader = Annotated[Principal, Depends(Access(C.READ_METRICS))]
KpiReader = Annotated[Principal, Depends(Access(C.READ_KPIS))]
SurveyReader = Annotated[Principal, Depends(Access(C.READ_SURVEYS))]
SurveyManager = Annotated[Principal, Depends(Access(C.MANAGE_SURVEYS))]
PlaceReader = Annotated[Principal, Depends(Access(C.READ_PLACES))]
PlaceEditor = Annotated[Principal, Depends(Access(C.EDIT_PLACES))]
PatrolWorker = Annotated[Principal, Depends(Access(C.REPORT_PATROL))]
PatrolReader = Annotated[Principal, Depends(Access(C.READ_PATROL_TRACKS))]
DeskWorker = Annotated[Principal, Depends(Access(C.WORK_DESK))]
InspectionPlanner = Annotated[Principal, Depends(Access(C.PLAN_INSPECTIONS))]
InspectionWorker = Annotated[Principal, Depends(Access(C.WORK_INSPECTIONS))]
ChecklistManager = Annotated[Principal, Depends(Access(C.MANAGE_CHECKLISTS))]
InspectionReader = Annotated[Principal, Depends(Access(C.READ_INSPECTIONS))]
StarReader = Annotated[Principal, Depends(Access(C.READ_STARS))]
StarAdjuster = Annotated[Principal, Depends(Access(C.ADJUST_STARS))]
StarManager = Annotated[Principal, Depends(Access(C.MANAGE_STARS))]
