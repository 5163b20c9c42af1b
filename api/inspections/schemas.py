"""Request bodies and answers of the inspections API (one source for /openapi.json)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import Strict  # unknown fields refused, no NaN, no text PostgreSQL cannot store

CODE = r"^[0-9A-Za-z_-]{1,32}$"
ItemKind = Literal["yes_no", "number", "text"]
Answer = bool | float | str


class ChecklistItem(Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="stable within the checklist")
    zh: str = Field(min_length=1, max_length=200, description="the item in Chinese")
    en: str = Field(min_length=1, max_length=200, description="the item in English")
    kind: ItemKind = Field(description="yes_no (no fails), number (outside min..max fails), text (never fails)")
    min: float | None = Field(None, description="number: the least that passes")
    max: float | None = Field(None, description="number: the most that passes")


class ChecklistIn(Strict):
    department: str = Field(min_length=1, max_length=32, description="a department code")
    category: str = Field(min_length=1, max_length=32, description="a place category")
    case_category: str = Field(min_length=1, max_length=64,
                               description="the incident category a failed item becomes (its deadline)")
    items: list[ChecklistItem] = Field(min_length=1, max_length=50)


class Checklist(BaseModel):
    department: str
    category: str
    case_category: str
    items: list[ChecklistItem]
    version: int
    valid_from: datetime
    valid_to: datetime | None = None
    changed_by: str


class ChecklistList(BaseModel):
    checklists: list[Checklist]


class ChecklistsIn(Strict):
    checklists: list[ChecklistIn] = Field(min_length=1, max_length=500)


class ChecklistSaved(BaseModel):
    department: str
    category: str
    version: int
    changed: bool = Field(description="false: the same as the current version, none written")


class ChecklistsSaved(BaseModel):
    saved: list[ChecklistSaved]


class DuePlace(BaseModel):
    code: str
    name: str
    category: str
    risk_level: str
    lon: float
    lat: float
    last_visit: datetime | None
    interval_days: int
    overdue: float = Field(description="days since the last visit divided by the interval (1 = just due)")
    recheck: bool = Field(description="findings of the place are still open")
    departments: list[str] = Field(description="departments whose checklist covers the category")


class DueList(BaseModel):
    zone: str
    day: date
    places: list[DuePlace]


class PlanIn(Strict):
    zone: str = Field(pattern=CODE, description="the zone (its linkage workstation plans)")
    day: date = Field(description="the day of the visits (today or later)")
    team: list[str] = Field(max_length=20, description="unit codes of the joint team (the station's units)")


class VisitPlace(BaseModel):
    code: str
    name: str
    category: str
    risk_level: str
    address: str | None = None
    lon: float
    lat: float


class ChecklistShown(BaseModel):
    department: str
    version: int
    items: list[ChecklistItem]


class CheckDone(BaseModel):
    department: str
    version: int
    failed: list[str]
    findings: str
    checked_by: str
    checked_at: datetime
    cases: list[int]


class Visit(BaseModel):
    id: int
    plan_id: int
    day: date
    seq: int
    status: str
    place: VisitPlace
    departments: list[str]
    overdue: float
    recheck: bool
    arrived_at: datetime | None = None
    arrived_distance_m: float | None = None
    done_at: datetime | None = None
    checklists: list[ChecklistShown] = []
    checks: list[CheckDone] = []
    photos: list[str] = []


class Plan(BaseModel):
    id: int
    zone: str
    station: str
    station_lon: float
    station_lat: float
    day: date
    team: list[str]
    departments: list[str]
    route_m: float = Field(description="the visiting order's length, straight lines from the station and back")
    naive_m: float = Field(description="the same places in the order of how overdue they are")
    left_out: int = Field(description="due places the day could not fit (the least overdue)")
    visits: list[Visit]


class PlanList(BaseModel):
    plans: list[Plan]


class VisitList(BaseModel):
    visits: list[Visit]


class ArriveIn(Strict):
    lon: float = Field(ge=-180, le=180, description="the phone's longitude (WGS-84)")
    lat: float = Field(ge=-90, le=90, description="the phone's latitude (WGS-84)")
    accuracy_m: float | None = Field(None, ge=0, le=10_000, description="GPS accuracy in metres")


class CheckIn(Strict):
    department: str = Field(min_length=1, max_length=32, description="whose checklist this is")
    answers: dict[str, Answer] = Field(description="item key -> answer (true/false, a number, a text)")
    findings: str = Field("", max_length=2000, description="what was found, in words")
    photos: list[str] = Field([], max_length=10, description="sha256 of photos added to the visit")


class PhotoAdded(BaseModel):
    sha256: str
    media_type: str
    width: int
    height: int


class CategoryCount(BaseModel):
    category: str
    findings: int


class Figures(BaseModel):
    zone: str | None
    from_day: date
    to_day: date
    visits_made: int
    checks_made: int
    separate_visits_saved: int = Field(description="per visit, the departments checked minus one")
    findings: int
    findings_per_category: list[CategoryCount]
    rectified: int
    rectified_on_time: int
