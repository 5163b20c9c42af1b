"""The patrols' request and response documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from api.schemas import IncidentCreated, Priority, Strict
from spatial.routing import MAX_ACCURACY_M

MAX_BATCH = 1000  # fixes per batch: an hour offline at 4 s a fix


def _not_bool(value):
    if isinstance(value, bool):  # lax mode would read true as 1.0
        raise ValueError("must be a number, not a boolean")
    return value


class PatrolStart(Strict):
    grid: str | None = Field(None, max_length=32, pattern=r"^[0-9A-Za-z_-]+$",
                             description="the grid walked (default: the caller's one grid)")


class Fix(Strict):
    """One GPS fix as the phone took it (WGS-84, as navigator.geolocation gives it)."""

    lon: float = Field(description="longitude (WGS-84)")
    lat: float = Field(description="latitude (WGS-84)")
    at: AwareDatetime = Field(description="when the fix was taken, with its UTC offset")
    accuracy: float | None = Field(None, ge=0, le=MAX_ACCURACY_M, description="GPS accuracy in metres")

    @field_validator("lon", "lat", "accuracy", mode="before")
    @classmethod
    def _numbers(cls, value):
        return _not_bool(value)


class FixBatch(Strict):
    positions: list[Fix] = Field(min_length=1, max_length=MAX_BATCH,
                                 description="fixes in time order, all after those already stored")


class PatrolSummary(BaseModel):
    id: int
    grid_code: str
    worker: str
    started_at: datetime
    ended_at: datetime | None = None
    fixes: int
    first_at: datetime | None = None
    last_at: datetime | None = None
    length_m: float | None = Field(None, description="length of the track")
    duration_s: float | None = Field(None, description="first fix to last fix")
    places_total: int | None = Field(None, description="the grid's current places")
    places_visited: int | None = Field(None, description="of them within 30 m of the track")
    place_share: float | None = Field(None, description="places_visited / places_total (None without places)")
    area_share: float | None = Field(None, description="share of the grid's area within 50 m of the track")
    track_kept: bool = Field(description="false once the retention period has dropped the geometry")


class PatrolTrack(PatrolSummary):
    track: dict[str, Any] | None = Field(None, description="GeoJSON LineString (WGS-84); None once dropped")
    times: list[datetime] | None = Field(None, description="each vertex's time")
    grid: dict[str, Any] | None = Field(None, description="the grid's GeoJSON geometry")
    visited: list[str] = Field(default_factory=list, description="codes of the places visited")


class PatrolList(BaseModel):
    patrols: list[PatrolSummary]


class BatchStored(BaseModel):
    id: int
    stored: int = Field(description="fixes in this batch")
    fixes: int = Field(description="fixes in the track now")
    last_at: datetime


class CoverageRow(BaseModel):
    key: str = Field(description="the patrol id, the ISO week (2026-W49) or the worker, per `by`")
    grid_code: str
    worker: str | None = None
    week: str | None = None
    patrols: int
    length_m: float
    duration_s: float
    places_total: int | None = None
    places_visited: int | None = Field(None, description="distinct places visited by any of these patrols")
    place_share: float | None = None
    area_share: float | None = Field(None, description="per patrol: its share; aggregated: the best patrol's")
    area_share_mean: float | None = None


class Coverage(BaseModel):
    by: Literal["patrol", "week", "worker"]
    visit_distance_m: float = Field(description="a place is visited when the track passes within this")
    buffer_m: float = Field(description="the area covered: within this of the track")
    rows: list[CoverageRow]


class StaleGrid(BaseModel):
    grid_code: str
    name: str
    community_code: str | None = None
    last_patrol_at: datetime | None = Field(None, description="end (or last fix) of the latest patrol; None: never")
    days: int | None = Field(None, description="whole days since then")


class StaleGrids(BaseModel):
    stale_days: int
    as_of: date
    grids: list[StaleGrid]


class PatrolReportIn(Strict):
    """A report filed on patrol: the incident (source grid_worker), and optionally settled on the spot."""

    lon: float = Field(description="longitude (WGS-84)")
    lat: float = Field(description="latitude (WGS-84)")
    accuracy_m: float | None = Field(None, ge=0, le=MAX_ACCURACY_M)
    category: str = Field(min_length=1, max_length=64, description="category code, see /api/categories")
    description: str = Field("", max_length=2000)
    priority: Priority = "normal"
    settled_on_spot: bool = Field(False, description="微事不出格: the worker settled it there and then; the case "
                                                     "is resolved, verified and closed at grid tier at once")
    note: str | None = Field(None, max_length=2000, description="what was done (needed when settled_on_spot)")

    @field_validator("lon", "lat", "accuracy_m", mode="before")
    @classmethod
    def _numbers(cls, value):
        return _not_bool(value)


class PatrolReportCreated(IncidentCreated):
    patrol_id: int
    point_index: int | None = Field(None, description="the nearest fix of the track (0-based)")
    point_at: datetime | None = None
    distance_m: float | None = Field(None, description="from the report's point to that fix")
    settled_on_spot: bool

