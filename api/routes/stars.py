"""Star ratings (星级工作站, api.stars): a month's ratings ranked, a station's or unit's history, a
leader's adjustment with a reason; computing a month and the configuration (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request

from api.auth.deps import StarAdjuster, StarManager, StarReader
from api.db import ConnDep
from api.stars import compute, config, ratings
from api.stars.schemas import AdjustmentIn, Computed, ComputeIn, History, MonthRatings, Rating, StarConfig

router = APIRouter(prefix="/api/stars", tags=["stars"])

Month = Annotated[str, Query(max_length=7, description="YYYY-MM")]
Kind = Annotated[str, Path(max_length=16, description="station or unit")]
Code = Annotated[str, Path(max_length=64, description="the station's or unit's code")]
District = Annotated[str, Path(max_length=64, description="the district's code")]
RatingId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a rating's id")]


@router.get("", response_model=MonthRatings)
async def month_ratings(who: StarReader, conn: ConnDep, month: Month,
                        kind: Annotated[str, Query(max_length=16, description="station or unit")] = "station"):
    """A month's ratings of the stations or units in the caller's reach, ranked by score (ties share
    a rank), each with its breakdown and the newest adjustment; too few cases: shown, never ranked."""
    return await ratings.month(conn, who, month, kind)


@router.get("/{kind}/{code}/history", response_model=History)
async def history(kind: Kind, code: Code, who: StarReader, conn: ConnDep):
    """A station's or unit's monthly ratings, newest month first (the newest computation of each)."""
    return await ratings.history(conn, who, kind, code)


@router.post("/{rating_id}/adjustment", response_model=Rating)
async def adjust(rating_id: RatingId, body: AdjustmentIn, who: StarAdjuster, conn: ConnDep):
    """A leader's stars for a computed rating, with a reason: kept and shown beside the computed
    rating (never over it), audited."""
    return await ratings.adjust(conn, who, rating_id, body.stars, body.reason)


@router.post("/compute", response_model=Computed)
async def compute_month(body: ComputeIn, request: Request, who: StarManager, conn: ConnDep):
    """Rate every station and unit of a district (default: every district) for a month that has
    ended; a recomputation adds rows beside the earlier ones (the newest is shown)."""
    return await compute.run(conn, who, request.app.state.settings, body.month, body.district)


@router.get("/config/{district}", response_model=StarConfig)
async def get_config(district: District, who: StarReader, conn: ConnDep):
    """The configuration a district's next computation uses (its newest version, else the default)."""
    return await config.show(conn, district)


@router.put("/config/{district}", response_model=StarConfig)
async def put_config(district: District, who: StarManager, conn: ConnDep, body: Annotated[dict[str, Any], Body()]):
    """A new version of a district's configuration (weights summing to 1, penalties, 4 increasing
    thresholds, min_cases); the same document as the newest stores nothing."""
    return await config.put(conn, who, district, body)
