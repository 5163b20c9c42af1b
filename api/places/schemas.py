"""The places register's request and response documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from api.places.catalogue import CODE_PATTERN, MAX_LICENCES
from api.schemas import Geometry, Strict

Category = Literal["enterprise", "shop", "restaurant", "rental_housing", "construction_site", "school", "market",
                   "hazardous_goods_store", "hotel", "entertainment_venue", "care_home", "other"]
RiskLevel = Literal["low", "medium", "high"]
PlaceCrs = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
Text200 = Field(min_length=1, max_length=200)


def _not_bool(value):
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


class PlaceFields(Strict):
    """What a place says of itself (all optional: an update sends what changes)."""

    category: Category | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    licences: list[str] | None = Field(None, max_length=MAX_LICENCES,
                                       description="licence numbers (business licence, food, fire ...)")
    responsible: str | None = Field(None, max_length=100, description="the responsible person's name")
    contact: str | None = Field(None, max_length=100, description="their phone: sealed at rest, shown only with "
                                                                  "read_place_contact (audited)")
    risk_level: RiskLevel | None = None
    lon: float | None = Field(None, description="longitude in `crs`")
    lat: float | None = Field(None, description="latitude in `crs`")
    crs: PlaceCrs = Field("wgs84", description="wgs84 or cgcs2000 (as is), gcj02 (AMap, Tencent), bd09 (Baidu)")
    reason: str | None = Field(None, max_length=500, description="kept with the new version")

    @field_validator("lon", "lat", mode="before")
    @classmethod
    def _numbers(cls, value):
        return _not_bool(value)

    @field_validator("licences")
    @classmethod
    def _licences(cls, value):
        if value is not None:
            for v in value:
                if not 1 <= len(v.strip()) <= 60:
                    raise ValueError("each licence number is 1 to 60 characters")
        return value

    @model_validator(mode="after")
    def _both_coordinates(self):
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat come together")
        return self


class PlaceIn(PlaceFields):
    code: str = Field(pattern=CODE_PATTERN, description="the place's own code (letters, digits, - and _)")
    category: Category
    name: str = Text200
    risk_level: RiskLevel = "low"
    lon: float
    lat: float


class PlaceUpdate(PlaceFields):
    pass


class Place(BaseModel):
    code: str
    version: int
    category: str
    name: str
    address: str | None
    licences: list[str]
    responsible: str | None
    has_contact: bool
    contact: str | None = Field(None, description="only for callers holding read_place_contact here (audited)")
    risk_level: str
    lon: float
    lat: float
    grid_code: str
    community_code: str | None
    street_code: str | None
    district_code: str | None
    zone_code: str | None
    valid_from: datetime
    valid_to: datetime | None
    changed_by: str
    reason: str | None


class PlaceFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: dict[str, Any]


class PlaceCollection(BaseModel):
    type: Literal["FeatureCollection"]
    numberMatched: int
    numberReturned: int
    features: list[PlaceFeature]


class PlaceHistory(BaseModel):
    code: str
    versions: list[Place]


class RowProblem(BaseModel):
    row: int
    column: str
    reason: str


class PlaceImportReport(BaseModel):
    file: str
    format: str
    crs: str
    rows: int
    dry_run: bool
    written: bool
    problems: list[RowProblem]
    added: list[str]
    updated: list[str]
    unchanged: list[str]


class AggregateIn(Strict):
    as_of: date = Field(description="the date the counts hold for")
    source: str = Field(min_length=1, max_length=200, description="where they come from (census, survey ...)")
    households: int | None = Field(None, ge=0, le=1_000_000)
    registered_residents: int | None = Field(None, ge=0, le=10_000_000, description="户籍人口")
    non_local_residents: int | None = Field(None, ge=0, le=10_000_000, description="流动人口 (from elsewhere)")
    elderly_alone: int | None = Field(None, ge=0, le=1_000_000, description="独居老人")

    @field_validator("households", "registered_residents", "non_local_residents", "elderly_alone", mode="before")
    @classmethod
    def _whole(cls, value):
        value = _not_bool(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("must be a whole number")
        return value


COUNTS = ("households", "registered_residents", "non_local_residents", "elderly_alone")


class Aggregate(BaseModel):
    grid_code: str
    as_of: date
    source: str
    households: int | None
    registered_residents: int | None
    non_local_residents: int | None
    elderly_alone: int | None
    recorded_at: datetime
    recorded_by: str


class AggregateTotals(BaseModel):
    area: str | None = Field(description="the area summed (none: every grid in reach)")
    grids: int = Field(description="grids with counts")
    households: int
    registered_residents: int
    non_local_residents: int
    elderly_alone: int
    places: dict[str, int] = Field(description="current places per category")


class Aggregates(BaseModel):
    totals: AggregateTotals
    grids: list[Aggregate] = Field(description="each grid's latest counts")


class PlaceRetired(BaseModel):
    code: str
    version: int = Field(description="the last version, now closed")
    retired: bool
