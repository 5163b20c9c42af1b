"""Response models of the public disclosure (公示)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.surveys.schemas import FollowUpPublic  # the one public shape of a follow-up item


class Cell(BaseModel):
    received: int | None = Field(description="cases received in the month (None: suppressed)")
    received_shown: str = Field(description="the count as shown: a number, or <5")
    suppressed: bool = Field(description="the row's count and rates are withheld")
    suppressed_reason: Literal["under_5", "complementary"] | None = None
    closure_rate: float | None = Field(description="办结率: closed / accepted (None: denominator under 5)")
    on_time_rate: float | None = Field(description="按期办结率: closed on time / closed with a deadline")
    satisfaction: float | None = Field(description="满意率: ratings 4-5 / ratings")
    settled_street: float | None = Field(description="closed at street level or below / closed")


class PublicScore(BaseModel):
    n: int | None
    score: float | None
    ci_low: float | None
    ci_high: float | None
    too_few: bool
    withheld: bool | None = None


class PublicDimension(PublicScore):
    code: str
    name: str
    name_en: str


class PeriodShown(BaseModel):
    id: int
    opens: date
    closes: date
    state: str


class StreetSurvey(BaseModel):
    period: PeriodShown
    rank: int | None
    overall: PublicScore
    dimensions: list[PublicDimension]
    followups: list[FollowUpPublic]


class StreetRow(Cell):
    code: str
    name: str
    name_en: str
    survey: StreetSurvey | None = Field(description="the survey running on the month's last day (or today)")


class DistrictRows(BaseModel):
    code: str
    name: str
    name_en: str
    total: Cell
    streets: list[StreetRow]


class Disclosure(BaseModel):
    month: str
    complete: bool = Field(description="false: the month so far")
    window: dict[str, datetime]
    minimum: int = Field(description="the smallest count shown")
    method: str
    districts: list[DistrictRows]
