"""What a reporter without an account may do: follow and rate their own report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request

from api import duplicates, reporters
from api.auth.deps import Public, PublicAlwaysLimited
from api.db import ConnDep
from api.schemas import Matches, MeToo, PublicCase, RatingIn, RatingOut, RouteQuery

router = APIRouter(prefix="/api/public", tags=["public"])

ReporterToken = Annotated[str, Header(alias="X-Reporter-Token", min_length=8, max_length=128,
                                      pattern=r"^[\x21-\x7e]+$",
                                      description="the secret given with the tracking code")]
TrackingCode = Annotated[str, Path(max_length=32, description="the tracking code, e.g. XA-7K3M-9QXR-2PLD")]


@router.get("/incidents/{tracking_code}", response_model=PublicCase)
async def track(tracking_code: TrackingCode, conn: ConnDep, who: PublicAlwaysLimited, token: ReporterToken):
    """Follow a report: status, deadlines, the steps taken; location rounded to about 100 m."""
    return await reporters.track(conn, tracking_code, token)


@router.get("/matches", response_model=Matches)
async def matches(conn: ConnDep, who: Public, query: Annotated[RouteQuery, Query()]):
    """Before filing: open cases of this category within 250 m reported in the last 72 hours.
    Join one with me-too instead of filing a second report."""
    return {"candidates": await duplicates.matches(conn, category=query.category, lon=query.lon, lat=query.lat,
                                                   crs=query.crs)}


@router.post("/incidents/{incident_id}/me-too", response_model=MeToo, status_code=201)
async def me_too(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)], conn: ConnDep, who: PublicAlwaysLimited):
    """"Me too" (我也遇到): support an open case instead of filing another; answers its tracking code
    and your own token to follow and rate it."""
    return await duplicates.me_too(conn, who, incident_id)


@router.post("/incidents/{tracking_code}/rating", response_model=RatingOut)
async def rate(tracking_code: TrackingCode, body: RatingIn, conn: ConnDep, request: Request,
               who: PublicAlwaysLimited, token: ReporterToken):
    """Rate the outcome once the case is closed (满意度评价); once only."""
    return await reporters.rate(conn, who, tracking_code, token, body, request.app.state.settings)
