"""Reads of one area: as a feature (current or ``as_of``) with its ETag, and its history."""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection

from api.areas.editing import etag
from api.errors import NotFound
from api.layers import layer_page, map_scope
from api.sqlfiles import sql


async def area(conn: AsyncConnection, who, code: str, as_of: datetime | None) -> tuple[dict, str | None]:
    """The area as a GeoJSON Feature and its ETag (None unless it is the current version)."""
    kind = await sql.scalar(conn, "area_kind", {"code": code})
    doc = await layer_page(conn, who, kind=kind, code=code, as_of=as_of) if kind else {"features": []}
    if not doc["features"]:
        when = f" at {as_of.isoformat()}" if as_of else ""
        raise NotFound(f"area {code} not found{when}", field="code")
    feature = doc["features"][0]
    props = feature["properties"]
    return feature, etag(code, props["version"]) if props.get("valid_to") is None else None


async def history(conn: AsyncConnection, who, code: str) -> dict:
    """Every version of the area, oldest first."""
    doc = await sql.scalar(conn, "area_history", {"code": code, "scope": map_scope(who)})
    if not doc["numberReturned"]:
        raise NotFound(f"area {code} not found", field="code")
    return doc
