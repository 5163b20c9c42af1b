"""Resident satisfaction surveys (满意度测评): the public survey of a street (signed link, one
answer per phone) and its aggregate scores; the staff's periods, scores and follow-up items."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.auth.access import DeviceSecret
from api.auth.deps import Public, PublicAlwaysLimited, SurveyManager, SurveyReader
from api.db import ConnDep
from api.surveys import answers, followups, periods, scores
from api.surveys.schemas import (
    END_DAY,
    FIRST_DAY,
    AnswerIn,
    AnswerOut,
    FollowUp,
    FollowUpIn,
    FollowUpPatch,
    Period,
    PeriodIn,
    PublicScores,
    Ranking,
    Scores,
    SurveyForm,
)

router = APIRouter(tags=["surveys"])

Street = Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z_-]+$", description="the street's code")]
PeriodId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/api/public/surveys/{street}", response_model=SurveyForm)
async def survey_form(street: Street, request: Request, who: Public, conn: ConnDep, device_secret: DeviceSecret = None,
                      sig: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = ""):
    """The street's survey as the page shows it (the link's signature is checked: 403 otherwise)."""
    return await answers.form(conn, request.app.state.settings, street, sig, device_secret)


@router.post("/api/public/surveys/{street}/answers", response_model=AnswerOut)
async def survey_answer(street: Street, body: AnswerIn, request: Request, who: PublicAlwaysLimited, conn: ConnDep,
                        device_secret: DeviceSecret = None):
    """One phone's answer (X-Device-Secret) for the street's open period; a repeat replaces it."""
    return await answers.answer(conn, who, request.app.state.settings, street, body.sig, device_secret,
                                dict(body.scores))


@router.get("/api/public/surveys/{street}/scores", response_model=PublicScores)
async def public_scores(street: Street, request: Request, who: Public, conn: ConnDep):
    """The street's scores for everyone (no count under 5) and its follow-up items' progress."""
    doc = await scores.of_street(conn, request.app.state.settings, street)
    if doc is None:
        return {"street": street, "scores": None}
    return {"street": street, "scores": {**scores.public(doc),
                                         "followups": await followups.of_period(conn, doc["period"]["id"])}}


@router.get("/api/public/surveys", response_model=Ranking)
async def public_ranking(request: Request, who: Public, conn: ConnDep,
                         on: Annotated[date | None, Query(ge=FIRST_DAY, lt=END_DAY,
                                                        description="a day of the periods (default today)")] = None):
    """Every street surveyed on a day, for everyone: overall and dimension scores, no count under 5;
    streets with too few answers are shown unranked."""
    settings = request.app.state.settings
    return await scores.ranking(conn, settings, on or periods.today(settings), public_view=True)


@router.get("/api/surveys/ranking", response_model=Ranking)
async def ranking(request: Request, who: SurveyReader, conn: ConnDep,
                  on: Annotated[date | None, Query(ge=FIRST_DAY, lt=END_DAY,
                                                   description="a day of the periods (default today)")] = None):
    """The streets in the caller's reach surveyed on a day, ranked by their overall score (too few
    answers: shown, never ranked)."""
    settings = request.app.state.settings
    return await scores.ranking(conn, settings, on or periods.today(settings), who)


@router.post("/api/surveys/periods", response_model=Period, status_code=201)
async def open_period(body: PeriodIn, request: Request, who: SurveyManager, conn: ConnDep):
    """Open a street's survey for a period (days included); periods of a street never overlap."""
    return await periods.open_period(conn, who, request.app.state.settings, body.street, body.opens, body.closes)


@router.get("/api/surveys/periods/{period_id}/scores", response_model=Scores)
async def period_scores(period_id: PeriodId, request: Request, who: SurveyReader, conn: ConnDep):
    """A period's scores with every count and interval (the street in the caller's reach)."""
    settings = request.app.state.settings
    period = await periods.get(conn, settings, period_id, who)
    doc = await scores.of_period(conn, settings, period)
    return {**doc, "followups": await followups.of_period(conn, period_id)}


@router.post("/api/surveys/periods/{period_id}/followups", response_model=FollowUp, status_code=201)
async def add_followup(period_id: PeriodId, body: FollowUpIn, request: Request, who: SurveyManager, conn: ConnDep):
    """A follow-up item (整改事项) of an indicator: its owner (department or unit), measures, deadline."""
    return await followups.add(conn, who, request.app.state.settings, period_id, indicator=body.indicator,
                               owner=body.owner, measures=body.measures, deadline=body.deadline)


@router.patch("/api/surveys/followups/{followup_id}", response_model=FollowUp)
async def update_followup(followup_id: PeriodId, body: FollowUpPatch, who: SurveyManager, conn: ConnDep):
    """Its status (planned, in_progress, done) and progress, shown publicly."""
    return await followups.update(conn, who, followup_id, status=body.status, progress=body.progress)
