"""Reading ratings (a month ranked, a subject's history) in the caller's reach, and a leader's
adjustment: kept beside the computed rating (never over it), with its reason, audited.

In reach: a station whose zone lies in one of the caller's areas (the zone, its street or its
district); a unit whose home station or patrol zone does (api/stars/sql/star_subjects.sql).
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Conflict, Invalid, NotFound
from api.stars import sql
from api.stars.compute import month_text, parse_month

KINDS = ("station", "unit")
MAX_REASON = 1000


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"must be one of {', '.join(KINDS)}", field="kind")
    return kind


def _shown(r: dict[str, Any]) -> dict[str, Any]:
    adj = None
    if r["adjustment_id"] is not None:
        adj = {"id": r["adjustment_id"], "rating_id": r["adjustment_rating_id"], "stars": r["adjustment_stars"],
               "reason": r["adjustment_reason"], "adjusted_by": r["adjusted_by"], "adjusted_at": r["adjusted_at"]}
    return {"id": r["id"], "kind": r["kind"], "code": r["subject"], "name": r["name"], "zone_code": r["zone_code"],
            "department_code": r["department_code"], "month": month_text(r["month"]),
            "district": r["district_code"], "config_version": r["config_version"], "cases": r["cases"],
            "rated": r["rated"], "unrated_reason": r["unrated_reason"],
            "score": float(r["score"]) if r["score"] is not None else None, "stars": r["stars"],
            "breakdown": r["breakdown"], "computed_at": r["computed_at"], "computed_by": r["computed_by"],
            "newest": r["id"] == r["newest_id"], "adjustment": adj,
            "stars_shown": adj["stars"] if adj else r["stars"]}


async def _rows(conn: AsyncConnection, who: Principal, capability: Capability, *, month=None, kind=None,
                subject=None, rating_id=None) -> list[dict[str, Any]]:
    rows = await sql.fetchall(conn, "star_ratings", {"month": month, "kind": kind, "subject": subject,
                                                     "id": rating_id, **reach(who, capability).params()})
    return [_shown(r) for r in rows]


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rated subjects by score (ties share a rank: 1, 2, 2, 4), then the unrated, never ranked."""
    rated = sorted((r for r in rows if r["rated"]), key=lambda r: (-r["score"], r["code"]))
    out, previous, place = [], None, 0
    for i, r in enumerate(rated, 1):
        if r["score"] != previous:
            place, previous = i, r["score"]
        out.append({**r, "rank": place})
    return out + [{**r, "rank": None} for r in sorted((r for r in rows if not r["rated"]), key=lambda r: r["code"])]


async def month(conn: AsyncConnection, who: Principal, month_: str, kind: str) -> dict[str, Any]:
    """A month's ratings of stations or units in reach, ranked."""
    first = parse_month(month_)
    rows = await _rows(conn, who, Capability.READ_STARS, month=first, kind=check_kind(kind))
    return {"month": month_text(first), "kind": kind, "ratings": rank(rows)}


async def history(conn: AsyncConnection, who: Principal, kind: str, code: str) -> dict[str, Any]:
    """A station's or unit's months, newest first (404 outside the caller's reach)."""
    check_kind(kind)
    subject = await sql.fetchone(conn, "star_subjects", {"kind": kind, "code": code, "district": None})
    if subject is None or not reach(who, Capability.READ_STARS).covers(subject["areas"]):
        raise NotFound(f"no {kind} {code!r}", field="code")
    return {"kind": kind, "code": code, "name": subject["name"],
            "months": await _rows(conn, who, Capability.READ_STARS, kind=kind, subject=code)}


async def one(conn: AsyncConnection, who: Principal, rating_id: int,
              capability: Capability = Capability.READ_STARS) -> dict[str, Any]:
    found = await sql.fetchone(conn, "star_rating_kind", {"id": rating_id})
    rows = [] if found is None else await _rows(conn, who, capability, month=found["month"], kind=found["kind"],
                                                  subject=found["subject"], rating_id=rating_id)
    if not rows:
        raise NotFound(f"no star rating {rating_id}", field="id")
    return rows[0]


async def adjust(conn: AsyncConnection, who: Principal, rating_id: int, stars: int, reason: str) -> dict[str, Any]:
    """A leader's stars for a computed rating, with the reason; the computed rating stays as it was."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("an adjustment needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"at most {MAX_REASON} characters", field="reason")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise Invalid("must be a whole number of stars from 1 to 5", field="stars")
    before = await one(conn, who, rating_id, Capability.ADJUST_STARS)
    if not before["newest"]:
        raise Conflict(f"rating {rating_id} was computed again since: adjust the newest computation of "
                       f"{before['code']} {before['month']}", field="id")
    if not before["rated"]:
        raise Conflict(f"rating {rating_id} has no stars to adjust ({before['unrated_reason']}): "
                       "a month with too few cases is never rated", field="id")
    aid = await sql.scalar(conn, "star_adjustment_insert", {"rating_id": rating_id, "stars": stars,
                                                            "reason": reason, "actor": who.actor, "at": clock.now()})
    prior = before["adjustment"]
    await audit.record(conn, actor=who.actor, action="stars_adjust", entity="star_rating", entity_id=rating_id,
                       before={"computed_stars": before["stars"], "adjusted_stars": prior["stars"] if prior else None},
                       after={"adjustment": aid, "stars": stars, "reason": reason}, client=who.client)
    return await one(conn, who, rating_id, Capability.ADJUST_STARS)
