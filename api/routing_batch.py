"""Bulk routing for users: a CSV or GeoJSON file of points in, the same file with each point's
grid, community, street, district, zone and workstation out, streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api import audit
from api.auth.principal import Principal
from api.errors import Invalid
from spatial import batch
from spatial.routing import route_many

CHUNK = 10_000
FORMATS = {"text/csv": "csv", "application/geo+json": "geojson", "application/json": "geojson"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}
# The request body as /openapi.json documents it (the route reads the raw body itself).
REQUEST_BODY = {"required": True, "content": {
    "text/csv": {"schema": {
        "type": "array", "maxItems": batch.MAX_POINTS,
        "description": "UTF-8 CSV: a header row naming the longitude and latitude columns (lon/lat, "
                       "longitude/latitude, lng, x/y) and optionally id, then one point a row; other columns "
                       "are ignored",
        "items": {"type": "object", "required": ["lon", "lat"], "properties": {
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "id": {"type": "string", "maxLength": batch.MAX_ID_CHARS}}}}},
    "application/geo+json": {"schema": {
        "type": "object", "required": ["type", "features"],
        "description": "a FeatureCollection of Points; a feature's id (a string or a number) or properties.id "
                       "comes back with it",
        "properties": {"type": {"const": "FeatureCollection"},
                       "features": {"type": "array", "maxItems": batch.MAX_POINTS, "items": {
                           "type": "object", "required": ["type", "geometry"], "properties": {
                               "type": {"const": "Feature"}, "id": {"type": ["string", "number"]},
                               "geometry": {"type": "object", "description": "a GeoJSON Point"},
                               "properties": {"type": ["object", "null"]}}}}}}},
}}


def parse(body: bytes, content_type: str, input_crs: str) -> tuple[batch.Points, str]:
    """The points of a request body, every row checked (422 with the rows' problems)."""
    fmt = FORMATS.get(content_type.split(";")[0].strip().lower())
    if fmt is None:
        raise Invalid("send text/csv or application/geo+json", field="Content-Type", status=415)
    if fmt == "csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("the CSV must be UTF-8", field="file") from None
        points = batch.read_csv(text)
    else:
        points = batch.read_geojson(body)
    if points.problems:
        raise Invalid(f"{len(points.problems)} row(s) cannot be routed; nothing was routed", field="file",
                      extra={"problems": points.problems[:batch.MAX_PROBLEMS]})
    if not points.ids:
        raise Invalid("no points in the file", field="file")
    return batch.to_wgs84(points, input_crs), fmt


async def record(conn: AsyncConnection, who: Principal, points: batch.Points, fmt: str) -> None:
    await audit.record(conn, actor=who.actor, action="route_batch", entity="routing",
                       after={"points": len(points.ids), "format": fmt}, client=who.client)


async def stream(pool: AsyncConnectionPool, points: batch.Points, fmt: str) -> AsyncIterator[bytes]:
    """The answer, one chunk of routed points at a time (one set-based query each)."""
    async with pool.connection() as conn:  # each chunk's query commits by itself
        if fmt == "geojson":
            yield b'{"type":"FeatureCollection","features":['
        for start in range(0, len(points.ids), CHUNK):
            ids = points.ids[start:start + CHUNK]
            lons, lats = points.lons[start:start + CHUNK], points.lats[start:start + CHUNK]
            rows = await route_many(conn, lons, lats)
            if fmt == "csv":
                yield batch.csv_chunk(ids, lons, lats, rows, header=start == 0).encode()
            else:
                yield batch.geojson_chunk(ids, lons, lats, rows, first=start == 0)
        if fmt == "geojson":
            yield b"]}"
