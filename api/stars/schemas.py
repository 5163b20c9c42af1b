"""Request and response models of the star ratings API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Strict


class BreakdownEntry(BaseModel):
    key: str                       # the KPI (GET /api/kpis/definitions)
    name_zh: str
    name_en: str
    role: str                      # weight | penalty
    numerator: int | None = None
    denominator: int
    value: float | None = None     # numerator / denominator; None: nothing to measure (left out)
    weight: float                  # weight: as configured; penalty: the points at a share of 100%
    weight_used: float | None = None  # the weight after leaving out KPIs with nothing to measure
    points: float                  # what it added to the score (a penalty: negative)


class Adjustment(BaseModel):
    id: int
    rating_id: int                 # the computation adjusted
    stars: int
    reason: str
    adjusted_by: str
    adjusted_at: datetime


class Rating(BaseModel):
    id: int
    kind: str                      # station | unit
    code: str
    name: str | None = None
    zone_code: str | None = None   # a station's zone
    department_code: str | None = None  # a unit's department
    month: str                     # YYYY-MM
    district: str
    config_version: int
    cases: int                     # received in the month (the minimum's count)
    rated: bool                    # false: no stars, never ranked
    unrated_reason: str | None = None
    score: float | None = None
    stars: int | None = None       # as computed
    stars_shown: int | None = None  # the newest adjustment's stars, else the computed
    breakdown: list[BreakdownEntry]
    computed_at: datetime
    computed_by: str
    newest: bool                   # the newest computation of this month (earlier ones are kept)
    adjustment: Adjustment | None = None
    rank: int | None = None        # in a month's list: rated subjects by score (ties share a rank)


class MonthRatings(BaseModel):
    month: str
    kind: str
    ratings: list[Rating]


class History(BaseModel):
    kind: str
    code: str
    name: str | None = None
    months: list[Rating]


class AdjustmentIn(Strict):
    stars: int = Field(ge=1, le=5, description="the leader's stars, 1 to 5")
    reason: str = Field(min_length=1, max_length=1000, description="why (shown beside the rating, audited)")


class ComputeIn(Strict):
    month: str = Field(max_length=7, description="YYYY-MM, a month that has ended")
    district: str | None = Field(None, max_length=64, description="one district (default: every one)")


class ComputedDistrict(BaseModel):
    district: str
    config_version: int


class Computed(BaseModel):
    month: str
    computed_at: datetime
    districts: list[ComputedDistrict]
    stations: int
    units: int
    rated: int
    unrated: int


class StarConfig(BaseModel):
    district: str
    version: int | None = None     # None: the shipped default, not yet stored for the district
    default: bool
    document: dict[str, Any]
    created_by: str | None = None
    created_at: datetime | None = None
