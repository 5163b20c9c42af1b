"""Adding a district: its official outline becomes a root of the area tree, empty (no sample).
Its streets, communities, grids and zones then come from its own files (``gridgov import``)."""

from __future__ import annotations

import shapely
from psycopg import AsyncConnection

from api.areas.versions import save_versions
from api.auth.principal import Principal
from api.errors import Conflict, Invalid
from api.sqlfiles import sql
from spatial.outlines import Outline

# two official outlines of neighbours share their border; more overlap than this is a wrong file
MAX_OVERLAP_M2 = 10_000.0


async def add(conn: AsyncConnection, who: Principal, outline: Outline, *, name_en: str | None = None,
              source: str) -> dict:
    """Write the district (version 1) in the caller's transaction; the audit row says where its
    outline came from."""
    if await sql.fetchone(conn, "area_exists", {"code": outline.code}):
        raise Conflict(f"area {outline.code} exists already", field="code")
    wkb = shapely.to_wkb(outline.geom, hex=True)
    for row in await sql.fetchall(conn, "district_overlaps", {"wkb": wkb}):
        if row["overlap_m2"] > MAX_OVERLAP_M2:
            raise Invalid(f"the outline overlaps district {row['code']} ({row['name']}) by "
                          f"{row['overlap_m2'] / 1e6:.2f} km²: is it the right district?", field="code")
    saved = await save_versions(conn, actor=who.actor, reason=f"district added from {source}", changes=[{
        "code": outline.code, "kind": "district", "parent_code": None, "name": outline.name, "name_en": name_en,
        "attributes": {"province": outline.province, "city": outline.city} if outline.province else {},
        "geom": outline.geom, "retire": False}], action="district.add", client=who.client or None)
    area_km2 = await sql.scalar(conn, "area_km2", {"code": outline.code})
    return {"code": outline.code, "name": outline.name, "version": saved["versions"][outline.code],
            "area_km2": area_km2}
