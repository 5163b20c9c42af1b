"""Reference data and map layers: categories, departments, areas, workstations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.sqlfiles import sql
from spatial.sqlfiles import sql as spatial_sql


async def categories(conn: AsyncConnection) -> list[dict]:
    return [dict(r) for r in (await conn.execute(sql("categories"))).mappings()]


async def departments(conn: AsyncConnection) -> list[dict]:
    return [dict(r) for r in (await conn.execute(sql("departments"))).mappings()]


def map_scope(who: Principal) -> list[str] | None:
    r = reach(who, Capability.READ_MAP)
    return None if r.everywhere else list(r.areas)


async def areas(conn: AsyncConnection, who: Principal, *, kind: str, parent: str | None,
                department: str | None, bbox: dict) -> dict:
    """Current areas of one kind in the caller's map scope, as GeoJSON."""
    params = {"kind": kind, "parent": parent, "department": department, "scope": map_scope(who), **bbox}
    return (await conn.execute(spatial_sql("areas_geojson"), params)).scalar_one()


async def stations(conn: AsyncConnection, who: Principal) -> dict:
    return (await conn.execute(spatial_sql("stations_geojson"), {"scope": map_scope(who)})).scalar_one()
