"""Request bodies and response documents shared by the routes (one source for /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.text import check_nested
from spatial.routing import INPUT_CRS, MAX_ACCURACY_M

Priority = Literal["urgent", "high", "normal", "low"]
InputCrs = Literal[INPUT_CRS]
ReportSource = Literal["qr", "web", "grid_worker", "hotline"]
UnitStatus = Literal["available", "busy", "off_duty"]


class Strict(BaseModel):
    """Unknown fields are refused; NaN and infinities are not numbers; text PostgreSQL cannot
    store (NUL, lone surrogates) is refused naming the field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value):
        return check_nested(value)


class LonLat(Strict):
    """A point as phones and map SDKs send it: the one input model for coordinates.

    Range checks (with the swapped lat/lon hint) are the spatial core's
    (``spatial.routing.check_coordinates``), so every path gives the same answer.
    """

    lon: float = Field(description="longitude in `crs` (WGS-84 by default)")
    lat: float = Field(description="latitude in `crs`")
    accuracy_m: float | None = Field(None, ge=0, le=MAX_ACCURACY_M, description="GPS accuracy in metres")
    crs: InputCrs = Field("wgs84", description="wgs84 (GPS, browsers), gcj02 (AMap, Tencent, WeChat), bd09 (Baidu)")

    @field_validator("lon", "lat", "accuracy_m", mode="before")
    @classmethod
    def _no_booleans(cls, value):
        if isinstance(value, bool):  # lax mode would read true as 1.0: a point off Africa, not an error
            raise ValueError("must be a number, not a boolean")
        return value


class IncidentIn(LonLat):
    """A report from a phone, a grid worker or the hotline desk."""

    category: str = Field(min_length=1, max_length=64, description="category code, see /api/categories")
    description: str = Field("", max_length=2000)
    source: ReportSource = "web"
    priority: Priority = Field("normal", description="anything but normal needs the set_priority capability")
    contact: str | None = Field(None, max_length=200, description="phone or name; stored encrypted, never published")
    qr_grid: str | None = Field(None, max_length=64, description="the grid code of the QR code scanned (g=)")
    qr_sig: str | None = Field(None, max_length=64, description="the QR code's signature (s=)")


class RouteQuery(LonLat):
    category: str = Field(min_length=1, max_length=64, description="category code")


class PositionIn(LonLat):
    status: UnitStatus | None = None


# ------------------------------------------------------------------ routing documents

class Named(BaseModel):
    code: str
    name: str


class AreaRef(Named):
    parent_code: str | None = None


class Candidate(Named):
    distance_m: float


class StationRef(Named):
    departments: list[str]
    lon: float
    lat: float


class CategoryRef(BaseModel):
    code: str
    departments: list[str]


class PatrolZoneRef(Named):
    department: str


class UnitPick(BaseModel):
    department: str
    rank: int
    code: str
    name: str
    station_code: str | None
    patrol_zone_code: str | None
    lon: float
    lat: float
    distance_m: float
    position_age_s: float
    reason: str


class Excluded(BaseModel):
    department: str
    not_available: int
    stale: int


class RoutingPoint(BaseModel):
    lon: float
    lat: float


class RoutingInput(RoutingPoint):
    crs: str


class Routing(BaseModel):
    """Where a point goes: grid and hierarchy, zone, workstation, patrol zones, units the caller may see."""

    input: RoutingInput
    point: RoutingPoint
    tolerance_m: float
    flags: list[str]
    departments_without_units: list[str]
    grid: AreaRef | None
    community: AreaRef | None
    street: AreaRef | None
    district: Named | None
    covering_grids: list[str]
    candidates: list[Candidate]
    nearest_grid: Candidate | None
    zone: Named | None
    station: StationRef | None
    category: CategoryRef
    patrol_zones: list[PatrolZoneRef]
    units: list[UnitPick] = Field(description="only units the caller may read (as /api/units)")
    excluded: list[Excluded] = Field(
        description="units skipped per department; empty unless the caller reads all units")


class PublicRouting(BaseModel):
    """What a reporter learns of the routing: where it went, no units."""

    grid: Named | None
    community: Named | None
    street: Named | None
    zone: Named | None
    station: Named | None
    flags: list[str]


class MatchCandidate(BaseModel):
    public_id: str = Field(description="what me-too names the case by")
    category_code: str
    status: str
    distance_m: int
    reported_at: datetime = Field(description="to the hour")
    lon: float = Field(description="rounded to about 100 m")
    lat: float
    supporters: int


class IncidentCreated(BaseModel):
    id: int
    tracking_code: str
    reporter_token: str | None = Field(None, description="secret for tracking and rating; the same on a retry "
                                                         "with the same Idempotency-Key")
    status: str
    routing: Routing | PublicRouting
    candidates: list[MatchCandidate] = Field(
        default_factory=list, description="open cases of the same category within 250 m and 72 h: maybe the same "
                                          "problem (the desk can merge; a resident can say me-too instead)")


# ------------------------------------------------------------------ incidents

class IncidentEvent(BaseModel):
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    data: dict[str, Any]


class IncidentSummary(BaseModel):
    """An incident as a list shows it; without detail rights: no tracking code or description,
    place to about 100 m, times to the hour."""

    id: int
    tracking_code: str | None = None
    description: str | None = None
    category_code: str
    category_name: str
    status: str
    priority: str
    tier: str | None
    source: str
    reported_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    district_code: str | None
    zone_code: str | None
    station_code: str | None
    near_boundary: bool
    unrouted: bool
    rating: int | None
    lon: float
    lat: float


class IncidentDetail(IncidentSummary):
    """One incident; the case file, routing and contact only with detail (and contact) rights.
    With detail rights, also the case as the command room works it (``api.workflow``)."""

    routing: Routing | None = None
    events: list[IncidentEvent] | None = None
    h3_cell: str | None = None
    accuracy_m: float | None = None
    patrol_zone_code: str | None = None
    contact: str | None = None


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2)


class Link(BaseModel):
    rel: str
    type: str
    href: str


class IncidentFeature(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: PointGeometry
    properties: dict[str, Any]


class IncidentCollection(BaseModel):
    type: Literal["FeatureCollection"]
    numberMatched: int
    numberReturned: int
    features: list[IncidentFeature]
    links: list[Link]


# ------------------------------------------------------------------ map layers (GeoJSON built in SQL)

class Geometry(BaseModel):
    type: str
    coordinates: list[Any]


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: Geometry | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    numberReturned: int
    features: list[Feature]


# ------------------------------------------------------------------ catalog, units, public, audit

class Department(BaseModel):
    code: str
    name: str
    name_en: str


class Category(BaseModel):
    code: str
    name: str
    name_en: str
    departments: list[str]
    default_tier: str
    deadline_hours: dict[str, float]
    deadlines: dict[str, str] | None = Field(
        None, description="per priority: Nh clock hours, Nwh working hours, Nwd working days (Chinese calendar)")
    five_matters: str | None


class UnitPosition(BaseModel):
    code: str
    status: UnitStatus
    lon: float
    lat: float
    accuracy_m: float | None
    position_at: datetime


class PublicEvent(BaseModel):
    at: datetime
    kind: str
    status: str | None
    note: str | None = Field(None, description="what was done, where the unit or the desk chose to show it")
    photos: list[str] = Field(default_factory=list, description="photos of this step shown to the resident "
                                                                "(GET .../photos/{sha256})")


class PublicCase(BaseModel):
    tracking_code: str
    category: str
    category_name: str
    category_name_en: str = ""
    status: str
    reported_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    lon: float = Field(description="rounded to about 100 m")
    lat: float
    events: list[PublicEvent]
    merged_into: str | None = Field(None, description="the case this report was merged into (follow that one)")
    your_photos: list[str] = Field(default_factory=list, description="the photos the reporter sent (the reporter only)")


class GridCentre(BaseModel):
    code: str
    name: str
    lon: float
    lat: float
    retired: bool = Field(False, description="the grid was split, merged or redrawn away since the poster")
    successors: list[Named] = Field(default_factory=list, description="the grids that now cover its ground "
                                                                      "(a retired grid), largest share first")


class PublicWhere(BaseModel):
    grid: Named | None
    community: Named | None
    street: Named | None
    inside: bool = Field(description="false when the point is outside every grid (the report is still taken)")


class Matches(BaseModel):
    candidates: list[MatchCandidate]


class MeTooIn(LonLat):
    """Where the resident is: the case must be one that ``GET /api/public/matches`` offers there."""


class MeToo(BaseModel):
    tracking_code: str = Field(description="your own tracking code for the case you support")
    reporter_token: str = Field(description="your own secret to follow and rate the case with your tracking code")
    status: str
    supporters: int


class RatingIn(Strict):
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (very satisfied)")
    comment: str = Field("", max_length=500)


class RatingOut(BaseModel):
    tracking_code: str
    rating: int


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    client: str | None


class Catalogues(BaseModel):
    """The pages' translation catalogues in one document (``GET /i18n.json``)."""
    languages: list[str]
    catalogues: dict[str, dict[str, str]]
