"""The one area-layer query (``spatial/sql/areas_geojson.sql``) with every filter it takes.

``GET /api/areas``, the OGC API collections and the file export all read the layers through
it, so the visibility rule (the caller's map scope) lives in that one SQL file.
"""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from spatial.sqlfiles import sql as spatial_sql

NO_BBOX = {"xmin": None, "ymin": None, "xmax": None, "ymax": None}


def map_scope(who: Principal) -> list[str] | None:
    """The layer query's ``scope``: None for everywhere, else the areas granted for read_map."""
    r = reach(who, Capability.READ_MAP)
    return None if r.everywhere else list(r.areas)


async def layer_page(conn: AsyncConnection, who: Principal, *, kind: str, bbox: dict | None = None,
                     parent: str | None = None, under: str | None = None, department: str | None = None,
                     code: str | None = None, as_of: datetime | None = None, limit: int | None = None,
                     offset: int = 0, extent: bool = False) -> dict:
    """A FeatureCollection of the areas of ``kind`` the caller may see, filtered and paged.

    ``parent``: direct children of it; ``under``: anywhere below it; ``code``: that one area;
    ``limit`` None: all. The document carries ``numberMatched`` (before paging) and, with
    ``extent``, ``bbox`` (of every matched area; absent when none matched).
    """
    params = {"kind": kind, **(bbox or NO_BBOX), "parent": parent, "under": under, "department": department,
              "code": code, "as_of": as_of, "limit": limit, "offset": offset, "extent": extent,
              "scope": map_scope(who)}
    row = await spatial_sql.fetchone(conn, "areas_geojson", params)
    doc = row["doc"]
    if extent and row["bbox"] is not None:
        doc["bbox"] = [float(v) for v in row["bbox"]]
    return doc


async def area_visible(conn: AsyncConnection, who: Principal, code: str) -> bool:
    """Whether the caller's map shows the current area ``code`` (any kind)."""
    for kind in ("district", "street", "community", "grid", "zone", "patrol_zone"):
        doc = await layer_page(conn, who, kind=kind, code=code, limit=0)
        if doc["numberMatched"]:
            return True
    return False
