"""Request and response models of the survey API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictInt

from api.schemas import Strict

StreetCode = Field(max_length=64, pattern=r"^[0-9A-Za-z_-]+$")
# the days a caller sends lie where every time the app takes does (README "Layout": 1970 to 2200)
FIRST_DAY, END_DAY = date(1970, 1, 1), date(2200, 1, 1)


def Day(description: str) -> Any:  # noqa: N802 - a Field factory, named like the type it constrains
    return Field(ge=FIRST_DAY, lt=END_DAY, description=description)
Signature = Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="the link's signature (from the poster)")


class AnswerIn(Strict):
    sig: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="the signature of the street's link")
    scores: dict[str, StrictInt] = Field(max_length=200, description="indicator code -> score on the template's "
                                                                       "scale (1-5); unanswered questions left out")


class AnswerOut(BaseModel):
    period: int
    replaced: bool = Field(description="this phone had answered in this period: its earlier answer is replaced")
    questions: int = Field(description="how many questions the answer scored")


class PeriodRef(BaseModel):
    id: int
    opens: date
    closes: date


class SurveyForm(BaseModel):
    street: str
    street_name: str
    street_name_en: str | None
    period: PeriodRef | None = Field(description="the period open today (none: no survey now)")
    dimensions: list[dict[str, Any]] = Field(description="code, name, name_en, indicators [code, name, name_en]")
    scale: dict[str, Any] | None
    yours: dict[str, int] | None = Field(description="this phone's earlier answer in the period, if any")


class PeriodIn(Strict):
    street: str = StreetCode
    opens: date = Day("the first day of the period")
    closes: date = Day("the last day of the period (included)")


class Period(BaseModel):
    id: int
    street_code: str
    street_name: str | None
    street_name_en: str | None
    template_code: str
    opens: date
    closes: date
    state: Literal["scheduled", "open", "closed"]
    answers: int


class Score(BaseModel):
    n: int | None = Field(description="answers (public: withheld under 5)")
    mean: float | None = Field(description="mean score on the 1-5 scale")
    score: float | None = Field(description="points out of 100 (mean x 20)")
    ci_low: float | None = Field(description="95% confidence interval (Student's t), points")
    ci_high: float | None
    too_few: bool = Field(description="fewer than 30 answers: shown but never ranked")
    withheld: bool | None = None


class IndicatorScore(Score):
    code: str
    name: str
    name_en: str
    dimension: str
    rank: int | None = Field(description="1 = best among the street's indicators with enough answers")


class DimensionScore(Score):
    code: str
    name: str
    name_en: str
    indicators: list[IndicatorScore]


class PeriodState(BaseModel):
    id: int
    opens: date
    closes: date
    state: str


class FollowUpPublic(BaseModel):
    id: int
    indicator: str
    owner: str = Field(description="a department or unit code (never a person)")
    owner_name: str | None
    owner_name_en: str | None
    measures: str
    deadline: date
    status: Literal["planned", "in_progress", "done"]
    progress: str


class Scores(BaseModel):
    period: PeriodState
    street: str
    street_name: str | None
    street_name_en: str | None
    template: str
    overall: Score
    dimensions: list[DimensionScore]
    lowest: list[str] = Field(description="the lowest ranked indicators, lowest first: follow-up candidates")
    method: str
    followups: list[FollowUpPublic] = []


class PublicScores(BaseModel):
    street: str
    scores: Scores | None = Field(description="the open period's, else the latest one's (none: never surveyed)")


class FollowUpIn(Strict):
    indicator: str = Field(max_length=64)
    owner: str = Field(max_length=64, description="a department or unit code")
    measures: str = Field(min_length=1, max_length=2000)
    deadline: date = Day("the day the measures are due")


class FollowUpPatch(Strict):
    status: Literal["planned", "in_progress", "done"] | None = None
    progress: str | None = Field(None, max_length=2000)


class FollowUp(BaseModel):
    id: int
    period_id: int
    indicator: str
    owner: str
    measures: str
    deadline: date
    status: str
    progress: str


class StreetRank(Score):
    street: str
    street_name: str | None
    street_name_en: str | None
    period: PeriodState
    rank: int | None = Field(description="1 = best among the streets with enough answers; none: too few")
    dimensions: list[dict[str, Any]] = Field(description="each dimension's score (code, names, n, score, CI)")


class Ranking(BaseModel):
    on: date
    streets: list[StreetRank]
