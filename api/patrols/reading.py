"""Patrols read: only by supervisors in scope over the grid (grid managers, dispatchers) and by the
worker themself (``read_patrol_tracks``, reach ``own``); the scope is bound into every query."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import NotFound
from api.patrols import figures
from api.sqlfiles import sql


def scope_params(who: Principal) -> dict[str, Any]:
    r = reach(who, Capability.READ_PATROL_TRACKS)
    return {"everywhere": r.everywhere, "scope": list(r.areas), "own": r.own, "me": who.username}


async def listing(conn: AsyncConnection, who: Principal, *, area: str | None, worker: str | None,
                  since: datetime | None, until: datetime | None, limit: int) -> dict[str, Any]:
    rows = await sql.fetchall(conn, "patrol_list", {**scope_params(who), "area": area, "worker": worker,
                                                    "since": since, "until": until, "limit": limit})
    return {"patrols": [figures.with_shares(dict(r)) for r in rows]}


async def read_one(conn: AsyncConnection, who: Principal, patrol_id: int) -> dict[str, Any]:
    """One patrol with its track and times (an open one with its figures so far)."""
    row = await sql.fetchone(conn, "patrol_read", {"id": patrol_id, **scope_params(who)})
    if row is None:
        raise NotFound(f"patrol {patrol_id} not found", field="id")
    doc = dict(row)
    if doc["ended_at"] is None and doc["track_kept"]:
        for live in await figures.compute(conn, [patrol_id]):
            doc.update(duration_s=live["duration_s"],
                       places_total=live["places_total"], visited=live["places_visited"],
                       area_share=live["area_share"])
    doc["visited"] = doc.get("visited") or []
    doc["places_visited"] = len(doc["visited"]) if doc["places_total"] is not None else None
    if not doc["track_kept"]:
        doc["times"] = None
    return figures.with_shares(doc)


async def coverage(conn: AsyncConnection, who: Principal, *, area: str | None, since: datetime | None,
                   until: datetime | None, by: str) -> dict[str, Any]:
    """Ended patrols' coverage per patrol, per ISO week and grid, or per worker and grid."""
    rows = await sql.fetchall(conn, "patrol_coverage", {**scope_params(who), "area": area, "since": since,
                                                        "until": until, "by": by})
    return {"by": by, "visit_distance_m": figures.VISIT_DISTANCE_M, "buffer_m": figures.BUFFER_M,
            "rows": [figures.with_shares(dict(r)) for r in rows]}
