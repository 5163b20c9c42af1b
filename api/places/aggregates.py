"""Grid aggregates: how many households, registered and non-local residents and elderly people
living alone a grid has, as counts with their date and source. No register of named residents:
the register knows numbers and places, not people (README, "The places register")."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Forbidden, NotFound
from api.places.schemas import COUNTS, AggregateIn
from api.sqlfiles import sql
from spatial.errors import InputError


async def set_counts(conn: AsyncConnection, who: Principal, grid: str, body: AggregateIn) -> dict[str, Any]:
    """Record a grid's counts as of a date (the same date again replaces them), audited."""
    lineage = await sql.fetchone(conn, "grid_lineage", {"code": grid})
    if lineage is None:
        raise NotFound(f"no current grid {grid}", field="grid")
    if not reach(who, Capability.READ_PLACES).covers(lineage["areas"]):
        raise NotFound(f"no current grid {grid} within your reach", field="grid")
    if not reach(who, Capability.EDIT_PLACES).covers(lineage["areas"]):
        raise Forbidden(f"grid {grid} lies outside the areas you keep places for", field="grid")
    if all(getattr(body, k) is None for k in COUNTS):
        raise InputError("households", "give at least one count (households, registered_residents, "
                                       "non_local_residents, elderly_alone)")
    row = await sql.fetchone(conn, "grid_aggregate_upsert", {
        "grid": grid, **body.model_dump(), "actor": who.actor})
    assert row is not None
    await audit.record(conn, actor=who.actor, action="grid_aggregate.set", entity="area", entity_id=grid,
                       after={**{k: row[k] for k in COUNTS}, "as_of": str(row["as_of"]), "source": row["source"]},
                       client=who.client)
    return dict(row)


async def show(conn: AsyncConnection, who: Principal, area: str | None = None) -> dict[str, Any]:
    """Each grid's latest counts under ``area`` (or everywhere in reach), and their sums with the
    current places per category."""
    r = reach(who, Capability.READ_PLACES)
    params = {"everywhere": r.everywhere, "scope": list(r.areas), "area": area}
    grids = await sql.fetchall(conn, "grid_aggregates_latest", params)
    counts = await sql.fetchall(conn, "place_counts", params)
    totals = {k: sum(g[k] or 0 for g in grids) for k in COUNTS}
    return {"totals": {"area": area, "grids": len(grids), **totals,
                       "places": {c["category"]: int(c["n"]) for c in counts}},
            "grids": [dict(g) for g in grids]}
