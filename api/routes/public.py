"""What a reporter without an account may do: follow and rate their own report."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from api import audit
from api.auth.deps import Public
from api.db import ConnDep
from api.errors import Conflict, NotFound
from api.incidents import add_event, hash_token
from api.visibility import PUBLIC_DECIMALS
from spatial.sqlfiles import sql

router = APIRouter(prefix="/api/public", tags=["public"])

ReporterToken = Annotated[str, Header(alias="X-Reporter-Token", min_length=8, max_length=128,
                                      description="the secret given with the tracking code")]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (very satisfied)")
    comment: str = Field("", max_length=500)


async def _own_case(conn, tracking_code: str, token: str) -> dict:
    row = (await conn.execute(sql("incident_public"), {"tracking_code": tracking_code})).mappings().first()
    # unknown code and wrong token look the same
    if row is None or not row["reporter_token_hash"] or not hmac.compare_digest(
            row["reporter_token_hash"], hash_token(token)):
        raise NotFound("no report with this tracking code and token", field="tracking_code")
    return dict(row)


@router.get("/incidents/{tracking_code}")
async def track(tracking_code: str, conn: ConnDep, who: Public, token: ReporterToken) -> dict:
    """Follow a report: status, deadlines, the steps taken; location rounded to about 100 m."""
    row = await _own_case(conn, tracking_code, token)
    return {
        "tracking_code": row["tracking_code"], "category": row["category_code"],
        "category_name": row["category_name"], "status": row["status"], "reported_at": row["reported_at"],
        "due_at": row["due_at"], "closed_at": row["closed_at"], "rating": row["rating"],
        "lon": round(row["lon"], PUBLIC_DECIMALS), "lat": round(row["lat"], PUBLIC_DECIMALS),
        "events": row["events"],
    }


@router.post("/incidents/{tracking_code}/rating")
async def rate(tracking_code: str, body: RatingIn, conn: ConnDep, who: Public, token: ReporterToken) -> dict:
    """Rate the outcome once the case is resolved or closed (满意度评价); once only."""
    row = await _own_case(conn, tracking_code, token)
    rated = (await conn.execute(sql("incident_rate"), {"id": row["id"], "rating": body.rating})).first()
    if rated is None:
        reason = "already rated" if row["rating"] else f"cannot rate while the case is {row['status']}"
        raise Conflict(reason, field="rating")
    await add_event(conn, row["id"], actor="reporter", kind="rated", note=body.comment or None,
                    data={"rating": body.rating})
    await audit.record(conn, actor=who.actor, action="rate", entity="incident", entity_id=row["id"],
                       before={"rating": None}, after={"rating": body.rating}, client=who.client)
    return {"tracking_code": tracking_code, "rating": body.rating}
