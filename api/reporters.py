"""What a reporter without an account may do: follow and rate their own report.

The tracking code and the reporter token together are the reporter's key. Wrong guesses
count against the tracking code (``api.auth.throttle``): a locked code answers 429.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from psycopg import AsyncConnection

from api import audit
from api.auth import throttle
from api.auth.principal import Principal
from api.casefile import REPORTER, add_event, hash_token
from api.errors import Conflict, Forbidden, NotFound
from api.schemas import RatingIn
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import cases, machine

UNSATISFIED = 2  # stars at or below which the case is reopened

PUBLIC_CASE_FIELDS = ("category_name", "category_name_en", "status", "reported_at", "due_at", "closed_at",
                      "rating", "lon", "lat", "events", "merged_into")


@dataclass(frozen=True)
class Holder:
    """Whose secret opened the case: its reporter, the reporter of a duplicate merged into it
    (``role="reporter"``), or a supporter who said me-too (``role="supporter"``)."""

    supporter_id: int | None  # None: the case's own reporter
    role: str
    tracking_code: str        # the code they hold

    @property
    def is_reporter(self) -> bool:
        return self.role == "reporter"


def _holder(row: dict, tracking_code: str, token: str) -> Holder | None:
    """Whose token this is, or None."""
    digest = hash_token(token)
    if row["reporter_token_hash"] and hmac.compare_digest(row["reporter_token_hash"], digest):
        return Holder(None, "reporter", tracking_code)
    for s in row["supporters"]:  # me-too, and the reporters of duplicates merged into this case
        if hmac.compare_digest(s["token_hash"], digest):
            return Holder(s["id"], s["role"], tracking_code)
    return None


async def _own_case(conn: AsyncConnection, tracking_code: str, token: str) -> tuple[dict, Holder]:
    key = f"track:{tracking_code}"
    await throttle.check(conn, key, field="X-Reporter-Token")
    row = await sql.fetchone(conn, "incident_public_holder", {"tracking_code": tracking_code})
    holder = _holder(dict(row), tracking_code, token) if row is not None else None
    if holder is None:  # unknown code and wrong token look the same
        await throttle.failed(conn, key)
        await conn.commit()  # the failure must count although the request fails
        raise NotFound("no report with this tracking code and token", field="tracking_code")
    return dict(row), holder


async def _case_document(conn: AsyncConnection, row: dict, holder: Holder) -> dict:
    """What the holder reads of the case: a supporter's times to the hour (someone else's report)."""
    return await sql.fetchone(conn, "incident_public", {"id": row["id"], "detailed": holder.is_reporter})


async def track(conn: AsyncConnection, tracking_code: str, token: str) -> dict:
    """The reporter's view of their case: status, deadlines, steps; place to about 100 m. A
    supporter sees the times to the hour (the case is someone else's report)."""
    row, holder = await _own_case(conn, tracking_code, token)
    case = await _case_document(conn, row, holder)
    return {"tracking_code": holder.tracking_code, "category": case["category_code"],
            **{k: case[k] for k in PUBLIC_CASE_FIELDS},
            "your_photos": case["reporter_photos"] if holder.supporter_id is None else []}


MAX_REPORTER_PHOTOS = 4


async def photo(conn: AsyncConnection, tracking_code: str, token: str, sha256: str) -> tuple[bytes, str]:
    """A photo the holder may see: one the case's reporter sent (to that reporter), or one of a
    step shown to residents. Anything else looks missing."""
    row, holder = await _own_case(conn, tracking_code, token)
    case = await _case_document(conn, row, holder)
    shown = {p for e in case["events"] for p in e.get("photos") or ()}
    if holder.supporter_id is None:
        shown |= set(case["reporter_photos"])
    found = (await sql.fetchone(conn, "attachment_bytes", {"sha256": sha256})) if sha256 in shown else None
    if found is None:
        raise NotFound("no such photo on this case", field="sha256")
    return bytes(found["bytes"]), found["media_type"]


async def add_photo(conn: AsyncConnection, who: Principal, tracking_code: str, token: str, data: bytes) -> dict:
    """A reporter's photo of their own open case (up to four; the same photo twice is one).
    Supporters add none: the case is someone else's report."""
    from api import attachments

    row, holder = await _own_case(conn, tracking_code, token)
    if not holder.is_reporter:
        raise Forbidden("only the person who reported the case adds photos to it; report what you see "
                        "as a new case to send your own", field="X-Reporter-Token")
    if row["status"] in machine.ENDED:
        raise Conflict(f"the case is {row['status']}: photos can no longer be added", field="file",
                       extra={"status": row["status"]}, code="state_conflict", params={"state": row["status"]})
    count = await sql.fetchall(conn, "attachments_of", {"incident_id": row["id"]})
    doc = await attachments.store(conn, who, row["id"], data, actor=REPORTER)
    if doc["sha256"] not in {r["sha256"] for r in count} and len(count) >= MAX_REPORTER_PHOTOS:
        raise Conflict(f"at most {MAX_REPORTER_PHOTOS} photos per report", field="file")
    return doc


async def rate(conn: AsyncConnection, who: Principal, tracking_code: str, token: str, body: RatingIn,
               settings: Settings) -> dict:
    """Rate the outcome once the case is closed (满意度评价); once only. One or two stars from
    the case's reporter (or the reporter of a duplicate merged into it) send the case back to the
    desk (reopened by the system, in the case file); a supporter's rating is kept in the case
    file and reopens nothing."""
    row, holder = await _own_case(conn, tracking_code, token)
    if machine.step(row["status"], "rate") is None:
        raise Conflict(f"cannot rate while the case is {row['status']}", field="rating",
                       extra={"status": row["status"]}, code="state_conflict", params={"state": row["status"]})
    if holder.supporter_id is None:
        rated = await sql.fetchone(conn, "incident_rate", {"id": row["id"], "rating": body.rating})
        data = {"rating": body.rating}
    else:  # a supporter: their rating is in the case file, once each
        rated = await sql.fetchone(conn, "supporter_rated", {"id": row["id"], "supporter": holder.supporter_id}) is None
        data = {"rating": body.rating, "supporter": holder.supporter_id, "role": holder.role}
    if not rated:
        raise Conflict("already rated", field="rating", code="already_rated")
    await add_event(conn, row["id"], actor=REPORTER, kind="rated", note=body.comment or None, data=data)
    if body.rating <= UNSATISFIED and holder.is_reporter:
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
    row = await spatial_sql.fetchone(conn, "point_areas", {"lon": x, "lat": y})
    if row is None:
        return {"grid": None, "community": None, "street": None, "inside": False}

    def named(kind):
        return {"code": row[f"{kind}_code"], "name": row[f"{kind}_name"]} if row[f"{kind}_code"] else None

    return {"grid": named("grid"), "community": named("community"), "street": named("street"), "inside": True}


async def grid_centre(conn: AsyncConnection, code: str) -> dict:
    """A grid's name and a point inside it (public: the poster on the wall names it too). A grid
    since split, merged or redrawn away still answers, with the grids that now cover its ground:
    a poster stays on the wall long after an edit."""
    from spatial.sqlfiles import sql as spatial_sql

    row = await spatial_sql.fetchone(conn, "grid_centre", {"code": code})
    if row is not None:
        return {**row, "retired": False, "successors": []}
    row = await spatial_sql.fetchone(conn, "grid_successors", {"code": code})
    if row is None:
        raise NotFound(f"grid {code} not found", field="code")
    return {**row, "retired": True}
