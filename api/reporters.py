"""What a reporter without an account may do: follow and rate their own report.

The tracking code and the reporter token together are the reporter's key. Wrong guesses
count against the tracking code (``api.auth.throttle``): a locked code answers 429.
"""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncConnection

from api import audit
from api.auth import throttle
from api.auth.principal import Principal
from api.errors import Conflict, NotFound
from api.incidents import REPORTER, add_event, hash_token
from api.schemas import RatingIn
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import cases, machine

UNSATISFIED = 2  # stars at or below which the case is reopened

PUBLIC_CASE_FIELDS = ("tracking_code", "category_name", "status", "reported_at", "due_at", "closed_at",
                      "rating", "lon", "lat", "events", "merged_into")


def _holder(row: dict, token: str) -> str | int | None:
    """Whose token this is: the reporter's ("reporter"), a supporter's (their id), or nobody's."""
    digest = hash_token(token)
    if row["reporter_token_hash"] and hmac.compare_digest(row["reporter_token_hash"], digest):
        return REPORTER
    for s in row["supporters"]:  # me-too, and the reporters of duplicates merged into this case
        if hmac.compare_digest(s["token_hash"], digest):
            return s["id"]
    return None


async def _own_case(conn: AsyncConnection, tracking_code: str, token: str) -> tuple[dict, str | int]:
    key = f"track:{tracking_code}"
    await throttle.check(conn, key, field="X-Reporter-Token")
    row = (await conn.execute(sql("incident_public"), {"tracking_code": tracking_code})).mappings().first()
    holder = _holder(dict(row), token) if row is not None else None
    if holder is None:  # unknown code and wrong token look the same
        await throttle.failed(conn, key)
        await conn.commit()  # the failure must count although the request fails
        raise NotFound("no report with this tracking code and token", field="tracking_code")
    return dict(row), holder


async def track(conn: AsyncConnection, tracking_code: str, token: str) -> dict:
    """The reporter's view of their case: status, deadlines, steps; place to about 100 m."""
    row, _ = await _own_case(conn, tracking_code, token)
    return {"category": row["category_code"], **{k: row[k] for k in PUBLIC_CASE_FIELDS}}


MAX_REPORTER_PHOTOS = 4


async def add_photo(conn: AsyncConnection, who: Principal, tracking_code: str, token: str, data: bytes) -> dict:
    """A reporter's photo of their own open case (up to four; the same photo twice is one)."""
    from api import attachments

    row, _ = await _own_case(conn, tracking_code, token)
    if row["status"] in machine.ENDED:
        raise Conflict(f"the case is {row['status']}: photos can no longer be added", field="file",
                       extra={"status": row["status"]})
    count = (await conn.execute(sql("attachments_of"), {"incident_id": row["id"]})).all()
    doc = await attachments.store(conn, who, row["id"], data, actor=REPORTER)
    if doc["sha256"] not in {r.sha256 for r in count} and len(count) >= MAX_REPORTER_PHOTOS:
        raise Conflict(f"at most {MAX_REPORTER_PHOTOS} photos per report", field="file")
    return doc


async def rate(conn: AsyncConnection, who: Principal, tracking_code: str, token: str, body: RatingIn,
               settings: Settings) -> dict:
    """Rate the outcome once the case is closed (满意度评价); once only. One or two stars
    send the case back to the desk (reopened by the system, in the case file)."""
    row, holder = await _own_case(conn, tracking_code, token)
    if machine.step(row["status"], "rate") is None:
        raise Conflict(f"cannot rate while the case is {row['status']}", field="rating",
                       extra={"status": row["status"]})
    if holder == REPORTER:
        rated = (await conn.execute(sql("incident_rate"), {"id": row["id"], "rating": body.rating})).first()
        data = {"rating": body.rating}
    else:  # a supporter: their rating is in the case file, once each
        rated = (await conn.execute(sql("supporter_rated"), {"id": row["id"], "supporter": holder})).first() is None
        data = {"rating": body.rating, "supporter": holder}
    if not rated:
        raise Conflict("already rated", field="rating")
    await add_event(conn, row["id"], actor=REPORTER, kind="rated", note=body.comment or None, data=data)
    if body.rating <= UNSATISFIED:
        await cases.system_step(conn, row["id"], "reopen_on_rating", settings,
                                reason=f"the resident rated the outcome {body.rating}/5")
    await audit.record(conn, actor=who.actor, action="rate", entity="incident", entity_id=row["id"],
                       before={"rating": None}, after={"rating": body.rating}, client=who.client)
    return {"tracking_code": tracking_code, "rating": body.rating}


async def where(conn: AsyncConnection, lon: float, lat: float, crs: str) -> dict:
    """The grid, community and street of a point, for the report page (public place names only)."""
    from spatial.routing import to_wgs84_checked
    from spatial.sqlfiles import sql as spatial_sql

    x, y = to_wgs84_checked(lon, lat, crs)
    row = (await conn.execute(spatial_sql("point_areas"), {"lon": x, "lat": y})).mappings().first()
    if row is None:
        return {"grid": None, "community": None, "street": None, "inside": False}

    def named(kind):
        return {"code": row[f"{kind}_code"], "name": row[f"{kind}_name"]} if row[f"{kind}_code"] else None

    return {"grid": named("grid"), "community": named("community"), "street": named("street"), "inside": True}


async def grid_centre(conn: AsyncConnection, code: str) -> dict:
    """A grid's name and a point inside it (public: the poster on the wall names it too)."""
    from spatial.sqlfiles import sql as spatial_sql

    row = (await conn.execute(spatial_sql("grid_centre"), {"code": code})).mappings().first()
    if row is None:
        raise NotFound(f"grid {code} not found", field="code")
    return dict(row)
