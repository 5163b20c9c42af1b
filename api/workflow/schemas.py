"""Request bodies and documents of the command-room cycle (one source for /openapi.json)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas import IncidentDetail, Priority, Strict

Sha256 = str


class ActionIn(Strict):
    """What an action may carry; what the transition table says it needs is required (422)."""

    note: str | None = Field(None, max_length=2000, description="what was done or found")
    reason: str | None = Field(None, max_length=2000, description="why (escalate, return, void, extend …)")
    units: list[str] | None = Field(None, min_length=1, max_length=10,
                                    description="unit codes to send (dispatch, reinforce, reassign)")
    allow_busy: bool = Field(False, description="send units already on another case (the desk decides)")
    unit: str | None = Field(None, max_length=32,
                             description="for a dispatcher recording a unit's step by radio: which unit")
    priority: Priority | None = Field(None, description="triage: the priority (recomputes the deadline)")
    deadline: datetime | None = Field(None, description="extend: the new deadline, with its UTC offset")
    duplicate_of: int | None = Field(None, ge=1, le=2**62, description="merge: the original case")
    department: str | None = Field(None, max_length=64,
                                   description="escalate to the district tier: the department called")
    tier: Literal["grid", "community", "zone", "street", "district"] | None = Field(
        None, description="escalate or hand down to this tier in one step (default: the next one)")
    photos: list[Sha256] | None = Field(None, max_length=10, description="handle: uploaded photo hashes")
    public: bool = Field(False, description="handle, resolve, verify: show the note and the photos to the "
                                            "resident on the tracking page")
    expected_status: str | None = Field(None, max_length=32,
                                        description="the state the page showed; if the case moved, 409")

    @field_validator("units")
    @classmethod
    def _distinct_units(cls, value):
        if value is not None:
            for code in value:
                if not code or len(code) > 32:
                    raise ValueError("unit codes are 1 to 32 characters")
            if len(set(value)) != len(value):
                raise ValueError("a unit is listed twice")
        return value

    @field_validator("photos")
    @classmethod
    def _hashes(cls, value):
        for h in value or ():
            if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
                raise ValueError("photos are lower-case hex sha256 hashes from the upload")
        return value

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("give the deadline with its UTC offset, e.g. 2026-10-12T17:00:00+08:00")
        return value


class ActionRef(BaseModel):
    action: str
    label_zh: str
    label_en: str
    requires: list[str]


class Assignment(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    department_code: str
    dispatched_at: datetime
    accepted_at: datetime | None
    on_scene_at: datetime | None
    cleared_at: datetime | None
    cleared_reason: str | None
    dispatched_by: str | None
    exclusive: bool


class DepartmentCall(BaseModel):
    department_code: str
    department_name: str
    department_name_en: str
    called_by: str
    called_at: datetime
    answer_due_at: datetime | None
    answer_due_provisional: bool = Field(
        description="the answer deadline counted a day of a year without an official holiday schedule")
    answered_at: datetime | None
    answered_by: str | None
    answer_overdue: bool


class CaseFields(BaseModel):
    """What the cycle adds to an incident seen in detail."""

    owner_area: str | None = None
    due_from: datetime | None = None
    deadline_spec: str | None = None
    due_provisional: bool | None = Field(
        None, description="the deadline counted a day of a year without an official holiday schedule "
                          "(statutory holidays, no swapped working days): recomputed when that schedule is loaded")
    deadline_flag: str | None = None
    suspended_from: str | None = None
    duplicate_of: int | None = None
    supporters: int | None = None
    actions: list[ActionRef] | None = None
    assignments: list[Assignment] | None = None
    department_call: DepartmentCall | None = None
    attachments: list[Sha256] | None = None


class CaseDetail(IncidentDetail, CaseFields):
    """``GET /api/incidents/{id}`` and the answer of every action."""


class QueueItem(BaseModel):
    """A case in the queue. Without detail rights (analysts): place to about 100 m, times to the
    hour, no tracking code (``detailed`` false)."""

    id: int
    detailed: bool
    tracking_code: str | None
    category_code: str
    category_name: str
    category_name_en: str
    status: str
    tier: str
    priority: str
    reported_at: datetime
    due_at: datetime | None
    due_provisional: bool
    deadline_flag: str | None
    overdue: bool
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    zone_code: str | None
    unrouted: bool
    near_boundary: bool
    grid_name: str | None
    community_name: str | None
    excerpt: str | None = Field(description="the first words of the report's text (detail rights only)")
    lon: float
    lat: float
    active_units: int
    supporters: int


class QueuePage(BaseModel):
    items: list[QueueItem]
    number_matched: int
    limit: int
    offset: int


class Notification(BaseModel):
    id: int
    at: datetime
    incident_id: int | None = Field(description="the case; none for a notice to the desk itself "
                                                "(calendar_data_ending: the official holiday data runs out)")
    area_code: str
    kind: str
    data: dict[str, Any]


class RecommendedUnit(BaseModel):
    code: str
    name: str
    distance_m: float
    reason: str | None = None
    position_age_s: float | None = None


class DepartmentUnits(BaseModel):
    department: str
    units: list[RecommendedUnit]


class Recommendations(BaseModel):
    incident_id: int
    departments: list[DepartmentUnits]
    departments_without_units: list[str]
    units_shown: bool = Field(description="false when the caller may not read unit positions")


class UnitChoice(BaseModel):
    code: str
    name: str
    department: str
    status: str
    station_code: str | None
    distance_m: float | None = Field(description="from the case, metres; none without a position")
    position_age_s: float | None
    recommended: bool
    why_not: Literal["busy", "off_duty", "no_position", "stale_position", "other_department", "farther"] | None = \
        Field(description="why the routing engine did not recommend it")


class UnitChoices(BaseModel):
    incident_id: int
    responsible_departments: list[str]
    units: list[UnitChoice]


class UnitInfo(BaseModel):
    code: str
    name: str
    department_code: str
    status: str
    position_at: datetime | None
    lon: float | None = None
    lat: float | None = None


class UnitTask(BaseModel):
    assignment_id: int
    incident_id: int
    tracking_code: str
    category_code: str
    category_name: str
    category_name_en: str
    description: str
    priority: str
    status: str
    assignment_state: str
    dispatched_at: datetime
    accepted_at: datetime | None
    on_scene_at: datetime | None
    due_at: datetime | None
    lon: float
    lat: float
    actions: list[ActionRef]


class UnitTasks(BaseModel):
    unit: UnitInfo | None
    tasks: list[UnitTask]


class MachineDocument(BaseModel):
    states: list[str]
    open_states: list[str]
    tiers: list[str]
    rules: list[dict[str, Any]]
    calendar_years: list[int] = Field(description="first and last year of official holiday data without a gap "
                                                  "(deadlines counting later years are provisional)")


# ---------------------------------------------------------------- the working calendar (admin)

class StatutoryDay(BaseModel):
    date: date
    name: str
    name_en: str


class CalendarYear(BaseModel):
    year: int
    source: Literal["chinesecalendar", "loaded", "file", "provisional", "none"] = Field(
        description="where the year's working days come from: an official schedule (the chinesecalendar "
                    "package, loaded by an administrator, or GRIDGOV_CALENDAR_FILE), or provisional "
                    "(statutory holidays computed, no swapped working days)")
    holidays: int | None = Field(None, description="official: the days off listed")
    workdays: int | None = Field(None, description="official: the weekend days worked in exchange")
    notice: str | None = None
    loaded_at: datetime | None = None
    loaded_by: str | None = None
    days_off: list[StatutoryDay] | None = Field(None, description="provisional: the days off counted")


class CalendarPackage(BaseModel):
    name: str
    version: str
    first_year: int
    last_year: int


class ProvisionalOpen(BaseModel):
    cases: int
    department_calls: int


class CalendarStatus(BaseModel):
    """``GET /api/admin/calendar``."""

    today: date
    official_until: date | None = Field(description="the last day of official holiday data without a gap from "
                                                    "today: deadlines reaching past it are provisional")
    warn_days: int = Field(description="the district desks are told this many days before official_until")
    warning: str | None
    package: CalendarPackage
    years: list[CalendarYear]
    provisional_open: ProvisionalOpen


class CalendarYearLoaded(BaseModel):
    year: int
    change: Literal["added", "changed", "unchanged"]
    holidays: int
    workdays: int


class CalendarLoad(BaseModel):
    """``POST /api/admin/calendar`` and ``gridgov calendar load``."""

    years: list[CalendarYearLoaded]
    recomputed: int = Field(description="open cases whose provisional deadline changed (one case-file event each)")
    official_until: date | None
    warning: str | None
