"""Reference data and map layers: categories, departments, areas, workstations."""

from __future__ import annotations

from psycopg import AsyncConnection

from api.auth.principal import Principal
from api.layers import layer_page, map_scope
from api.sqlfiles import sql
from spatial.sqlfiles import sql as spatial_sql


async def categories(conn: AsyncConnection) -> list[dict]:
    return await sql.fetchall(conn, "categories")


async def departments(conn: AsyncConnection) -> list[dict]:
    return await sql.fetchall(conn, "departments")


async def areas(conn: AsyncConnection, who: Principal, *, kind: str, parent: str | None,
                department: str | None, bbox: dict, as_of=None) -> dict:
    """Areas of one kind in the caller's map scope (current, or as they were at ``as_of``), as
    GeoJSON (the one layer query)."""
    return await layer_page(conn, who, kind=kind, parent=parent, department=department, bbox=bbox, as_of=as_of)


async def stations(conn: AsyncConnection, who: Principal) -> dict:
    return await spatial_sql.scalar(conn, "stations_geojson", {"scope": map_scope(who)})
