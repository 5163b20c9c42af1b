"""Tiles of the area layers (scoped like GET /api/areas, cached per worker, invalidated by any
boundary edit through the area fingerprint) and of the heatmap hexagons (from the rollup)."""

from __future__ import annotations

import hashlib
import math

import orjson
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.heat import service as heat_service
from api.layers import map_scope
from api.settings import Settings
from api.sqlfiles import sql as api_sql
from api.tiles.cache import TileCache
from spatial import heat
from spatial.sqlfiles import sql

AREA_LAYERS = {"district": "district", "street": "street", "community": "community", "grid": "grid",
               "zone": "zone", "patrol_zone": "patrol_zone"}
MAX_ZOOM = 22
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
FIELDS = {"code": "String", "name": "String", "name_en": "String", "kind": "String", "parent_code": "String",
          "department": "String", "version": "Number"}
HEX_FIELDS = {"cell": "String", "count": "Number"}
PLACE_FIELDS = {"code": "String", "name": "String", "category": "String", "risk_level": "String",
                "grid_code": "String", "version": "Number"}


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's (west, south, east, north) in degrees (Web Mercator tiling)."""
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def etag_of(*parts) -> str:
    return '"' + hashlib.sha1(repr(parts).encode()).hexdigest()[:24] + '"'


async def _fingerprint(conn: psycopg.AsyncConnection, cache: TileCache, notes_arrive: bool) -> str:
    """The boundaries' fingerprint: the cached one while change notes are being received,
    else read (and kept, unless a note arrived meanwhile)."""
    if notes_arrive and cache.fingerprint is not None:
        return cache.fingerprint
    generation = cache.generation
    fingerprint = await sql.scalar(conn, "area_fingerprint")
    if notes_arrive and cache.generation == generation:
        cache.fingerprint = fingerprint
    return fingerprint


async def area_tile(pool: AsyncConnectionPool, cache: TileCache, who: Principal, layer: str, z: int, x: int,
                    y: int, department: str | None, *, notes_arrive: bool = False) -> tuple[bytes, str]:
    """One area tile (z/x/y checked by the route), drawn on a connection of ``pool`` (the app's
    pool, statements in autocommit); ``notes_arrive``: this worker is listening for boundary
    changes right now. A tile this worker drew since the last boundary change is served without
    a connection."""
    scope = map_scope(who)

    def key_of(fingerprint: str) -> tuple:
        return layer, z, x, y, department, tuple(scope) if scope is not None else None, fingerprint

    if notes_arrive and cache.fingerprint is not None:
        drawn = cache.get(key_of(cache.fingerprint))
        if drawn is not None:
            return drawn
    async with pool.connection() as conn:
        key = key_of(await _fingerprint(conn, cache, notes_arrive))
        drawn = cache.get(key)
        if drawn is None:
            visible = await _visible(conn, cache, scope, key[-1])
            tile = bytes(await sql.scalar(conn, "tile_areas", {
                "z": z, "x": x, "y": y, "kind": AREA_LAYERS[layer], "layer": layer, "department": department,
                "visible": visible}) or b"")
            drawn = tile, etag_of(*key)
            cache.put(key, *drawn)
    return drawn


async def _visible(conn: psycopg.AsyncConnection, cache: TileCache, scope: list[str] | None, fingerprint: str):
    """The codes a scope shows (None: everything, so no filter), once per scope and boundary
    fingerprint."""
    if scope is None:
        return None
    key = (tuple(scope), fingerprint)
    shown = cache.visible(key)
    if shown is None:
        row = await sql.fetchone(conn, "areas_visible", {"scope": scope})
        shown = (None,) if row["everything"] else (list(row["codes"]),)  # a tuple: None is a valid answer
        cache.keep_visible(key, shown)
    return shown[0]


async def hexagon_tile(conn: AsyncConnection, who: Principal, settings: Settings, z: int, x: int, y: int, *,
                       start, stop, f: heat_service.Filters) -> tuple[bytes, str]:
    resolution = heat.resolution_for_zoom(z)
    west, south, east, north = tile_bounds(z, x, y)
    pad_x, pad_y = (east - west) / 2, (north - south) / 2  # hexagons centred just outside still overlap
    doc = await heat_service.hexagons(conn, who, settings, start=start, stop=stop, resolution=resolution,
                                      bbox=(west - pad_x, south - pad_y, east + pad_x, north + pad_y), f=f)
    cells = [feat["id"] for feat in doc["features"]]
    tile = bytes((await sql.scalar(conn, "tile_hexagons", {
        "z": z, "x": x, "y": y, "cells": cells, "counts": [feat["properties"]["count"] for feat in doc["features"]],
        "outlines": [orjson.dumps(feat["geometry"]).decode() for feat in doc["features"]]})) or b"")
    return tile, etag_of("hexagons", hashlib.sha1(tile).hexdigest())


async def place_tile(pool: AsyncConnectionPool, cache: TileCache, who: Principal, z: int, x: int, y: int,
                     categories: list[str] | None, *, notes_arrive: bool = False) -> tuple[bytes, str]:
    """The places in the caller's reach (read_places) in one tile; the ETag is the tile's hash
    (the same on every worker). ``cache`` keeps the tiles this worker drew while it hears the
    notes of place writes (``notes_arrive``); a note makes every older tile unreachable."""
    r = reach(who, Capability.READ_PLACES)
    generation = cache.generation
    key = (z, x, y, tuple(sorted(categories)) if categories else None,
           True if r.everywhere else tuple(sorted(r.areas)), generation)
    if notes_arrive:
        drawn = cache.get(key)
        if drawn is not None:
            return drawn
    async with pool.connection() as conn:
        tile = bytes(await api_sql.scalar(conn, "tile_places", {
            "z": z, "x": x, "y": y, "everywhere": r.everywhere, "scope": list(r.areas),
            "categories": categories or None}) or b"")
    drawn = tile, etag_of("places", hashlib.sha1(tile).hexdigest())
    if notes_arrive and cache.generation == generation:  # no write heard while drawing: keep it
        cache.put(key, *drawn)
    return drawn


def tilejson(base_url: str, layer: str) -> dict:
    """TileJSON 3.0.0 of one layer (the district's bounds are the sample's; clients zoom to data)."""
    fields = HEX_FIELDS if layer == "hexagons" else PLACE_FIELDS if layer == "places" else FIELDS
    return {"tilejson": "3.0.0", "name": f"gridgov {layer}", "scheme": "xyz",
            "tiles": [f"{base_url.rstrip('/')}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"],
            "minzoom": 0, "maxzoom": MAX_ZOOM, "vector_layers": [{"id": layer, "fields": fields}]}
