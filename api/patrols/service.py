"""Patrols written: start (the worker's grid), batches of fixes appended to the track, end (the
figures computed and kept). Each write with its audit row; every check before the first write, so
a refused batch leaves the track as it was."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import audit, clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.patrols import figures, track
from api.patrols.schemas import FixBatch, PatrolStart
from api.settings import Settings
from api.sqlfiles import sql
from spatial.errors import OutsideServiceArea


async def _grid_of(conn: AsyncConnection, who: Principal, grid: str | None) -> dict[str, Any]:
    """The grid walked: the one asked for, or the caller's one granted grid; in their reach."""
    r = reach(who, Capability.REPORT_PATROL)
    if grid is None:
        grids = [row for code in r.areas if (row := await sql.fetchone(conn, "patrol_grid", {"grid": code}))]
        if len(grids) != 1:
            raise Invalid("say which grid you patrol: your grant is not one grid", field="grid")
        return grids[0]
    row = await sql.fetchone(conn, "patrol_grid", {"grid": grid})
    if row is None:
        raise NotFound(f"no current grid {grid}", field="grid")
    if not r.covers(row["areas"]):
        raise Forbidden(f"grid {grid} is not one you patrol", field="grid")
    return row


async def start(conn: AsyncConnection, who: Principal, body: PatrolStart) -> dict[str, Any]:
    """A new patrol of the caller's grid (one open patrol per worker: end the last one first)."""
    grid = await _grid_of(conn, who, body.grid)
    row = await sql.fetchone(conn, "patrol_insert", {"grid": grid["code"], "areas": grid["areas"],
                                                     "worker": who.username, "ts": clock.now()})
    if row is None:
        open_id = await sql.scalar(conn, "patrol_open_of", {"worker": who.username})
        raise Conflict(f"your patrol {open_id} is still open: end it first", field="grid",
                       extra={"open_patrol": open_id})
    await audit.record(conn, actor=who.actor, action="patrol.start", entity="patrol", entity_id=row["id"],
                       after={"grid_code": row["grid_code"]}, client=who.client)
    return await figures.summary(conn, row["id"])


async def own_open(conn: AsyncConnection, who: Principal, patrol_id: int) -> dict[str, Any]:
    """The caller's own patrol, locked; 404 for anyone else's (nothing said of it), 409 once ended."""
    row = await sql.fetchone(conn, "patrol_lock", {"id": patrol_id})
    if row is None or row["worker"] != who.username:
        raise NotFound(f"patrol {patrol_id} not found among yours", field="id")
    if row["ended_at"] is not None:
        raise Conflict(f"patrol {patrol_id} ended at {row['ended_at'].isoformat()}: start a new one", field="id")
    return row


async def add_fixes(conn: AsyncConnection, who: Principal, settings: Settings, patrol_id: int,
                    body: FixBatch) -> dict[str, Any]:
    """Append a batch (checked whole first: order, speed, the district) to the caller's open patrol."""
    row = await own_open(conn, who, patrol_id)
    last = None if row["last_at"] is None else (row["last_lon"], row["last_lat"], row["last_at"])
    fixes = body.positions
    walked = track.check_batch(fixes, started_at=row["started_at"], now=clock.now(),
                      max_speed_mps=settings.patrol_max_speed_mps, last=last)
    lons, lats = [f.lon for f in fixes], [f.lat for f in fixes]
    far = await sql.fetchone(conn, "patrol_fixes_far", {"lons": lons, "lats": lats,
                                                         "margin_m": settings.patrol_margin_m})
    if far is not None:
        raise OutsideServiceArea(f"positions.{far['i']}.lon",
                                 f"the fix is {far['distance_m'] / 1000:,.1f} km from the nearest district "
                                 f"(at most {settings.patrol_margin_m / 1000:g} km allowed)")
    out = await sql.fetchone(conn, "patrol_append", {
        "id": patrol_id, "lons": lons, "lats": lats, "ats": [f.at.timestamp() for f in fixes],
        "accuracies": [f.accuracy for f in fixes], "added_m": walked})
    await audit.record(conn, actor=who.actor, action="patrol.fixes", entity="patrol", entity_id=patrol_id,
                       after={"fixes": len(fixes), "first_at": fixes[0].at, "last_at": fixes[-1].at},
                       client=who.client)
    return {"id": patrol_id, "stored": len(fixes), "fixes": out["fixes"], "last_at": out["last_at"]}


async def end(conn: AsyncConnection, who: Principal, patrol_id: int) -> dict[str, Any]:
    """End the caller's open patrol and keep its figures (length, duration, coverage)."""
    await own_open(conn, who, patrol_id)
    await sql.execute(conn, "patrol_end", {"id": patrol_id, "ts": clock.now()})
    await figures.store(conn, [patrol_id])
    doc = await figures.summary(conn, patrol_id)
    await audit.record(conn, actor=who.actor, action="patrol.end", entity="patrol", entity_id=patrol_id,
                       after={k: doc[k] for k in ("fixes", "length_m", "duration_s", "places_visited",
                                                  "places_total", "area_share")}, client=who.client)
    return doc
