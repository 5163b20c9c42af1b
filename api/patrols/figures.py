"""A patrol's figures: duration and coverage of its grid, worked out in PostGIS from the track (the
length is summed as fixes arrive: :mod:`api.patrols.track`).

Coverage, as the README says: a place is *visited* when the track passes within
:data:`VISIT_DISTANCE_M` (30 m) of it, whatever the fix's accuracy; the *area* covered is the part
of the grid within :data:`BUFFER_M` (50 m) of the track. Both are measured in the grid's UTM zone
on the track simplified to about a metre (patrol_figures.sql), and kept on the patrol when it
ends (they outlive the track's retention).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from api.sqlfiles import sql

VISIT_DISTANCE_M = 30.0  # patrol_figures.sql
BUFFER_M = 50.0          # patrol_figures.sql


async def compute(conn: AsyncConnection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The figures of these patrols (those with a track)."""
    return await sql.fetchall(conn, "patrol_figures", {"ids": list(ids)}) if ids else []


async def store(conn: AsyncConnection, ids: Sequence[int]) -> int:
    """Compute and keep the figures of these patrols; returns how many had a track."""
    rows = await compute(conn, ids)
    if rows:
        await sql.execute(conn, "patrol_figures_store", {
            "ids": [r["id"] for r in rows], "durations": [r["duration_s"] for r in rows],
            "totals": [r["places_total"] for r in rows],
            "visited": json.dumps([r["places_visited"] for r in rows]), "shares": [r["area_share"] for r in rows]})
    return len(rows)


def with_shares(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row with its place share (None without places or figures)."""
    total, visited = row.get("places_total"), row.get("places_visited")
    if isinstance(visited, list):
        visited = len(visited)
    share = visited / total if total and visited is not None else None
    return {**row, "places_visited": visited, "place_share": share}


async def summary(conn: AsyncConnection, patrol_id: int) -> dict[str, Any]:
    row = await sql.fetchone(conn, "patrol_summary", {"id": patrol_id})
    return with_shares(dict(row))
