"""Vector tiles and their TileJSON: the area layers and the heatmap hexagons; and the fast lane
that answers well-formed area-tile requests before FastAPI routes them."""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from fastapi.security.utils import get_authorization_scheme_param

from api.auth.access import rule_of
from api.auth.deps import IncidentReader, MapReader
from api.db import ConnDep, pool_of
from api.heat import service as heat_service
from api.live.hub import listening
from api.public_address import public_base
from api.routes.heat import Codes, From, To
from api.tiles import service
from api.tiles.schemas import TileJSON
from api.tiles.service import MAX_ZOOM, MEDIA_TYPE

router = APIRouter(prefix="/tiles", tags=["tiles"])

AreaLayer = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]
Z = Annotated[int, Path(ge=0, le=MAX_ZOOM)]
XY = Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1)]
IF_NONE_MATCH_MAX = 200  # characters of If-None-Match (the route's bound, and the fast lane's)
DEPARTMENT_MAX = 32      # characters of ?department=
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=IF_NONE_MATCH_MAX)]
TILE = {200: {"content": {MEDIA_TYPE: {}}, "description": "a Mapbox Vector Tile"}, 304: {"description": "unchanged"}}
CACHING = "private, no-cache"  # reused by the browser, revalidated with the ETag: an edit shows at once


def _answer(tile: bytes, etag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHING}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(tile, media_type=MEDIA_TYPE, headers=headers)


@router.get("/hexagons/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def hexagon_tile(z: Z, x: XY, y: XY, request: Request, who: IncidentReader, conn: ConnDep,
                       if_none_match: IfNoneMatch = None, start: From = None, stop: To = None,
                       category: Codes = None, status: Codes = None, tier: Codes = None, source: Codes = None):
    """Heatmap hexagons (resolution by zoom) with their counts in the window and filters."""
    f = await heat_service.filters(conn, category=category, status=status, tier=tier, source=source)
    tile, etag = await service.hexagon_tile(conn, who, request.app.state.settings, z, x, y,
                                            start=start, stop=stop, f=f)
    return _answer(tile, etag, if_none_match)


@router.get("/{layer}/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def area_tile(layer: AreaLayer, z: Z, x: XY, y: XY, request: Request, who: MapReader,
                    if_none_match: IfNoneMatch = None,
                    department: Annotated[str | None, Query(max_length=DEPARTMENT_MAX,
                                                            description="patrol zones of one department")] = None):
    """Current areas of one kind in the caller's map scope."""
    return await _area_tile(request, who, layer, z, x, y, department, if_none_match)


async def _area_tile(request: Request, who, layer: str, z: int, x: int, y: int, department: str | None,
                     if_none_match: str | None) -> Response:
    app = request.app
    tile, etag = await service.area_tile(pool_of(app), app.state.tiles, who, layer, z, x, y, department,
                                         notes_arrive=listening(app))
    return _answer(tile, etag, if_none_match)


@router.get("/{layer}.json", response_model=TileJSON)
async def tilejson(layer: AreaLayer | Literal["hexagons"], request: Request, who: MapReader):
    """TileJSON 3.0.0 of a layer (for MapLibre, QGIS, Leaflet.VectorGrid); its tile URLs on the
    address the caller used."""
    return service.tilejson(public_base(request.app.state.settings, request), layer)


WELL_FORMED = re.compile(rf"/tiles/({'|'.join(get_args(AreaLayer))})/(\d{{1,2}})/(\d{{1,7}})/(\d{{1,7}})\.pbf")


class AreaTileFastLane:
    """ASGI middleware (inside the request log and the security headers): a well-formed GET of
    an area tile by a caller the route admits is answered here, by the route's own code, without
    FastAPI's routing and dependency solving, which took about 0.25 of the 0.5 ms a cached tile
    cost end to end (bench section 8). Anything else (a bad zoom, another query parameter, no
    token, a refused caller, a database error...) goes on to the route, which answers it as
    always; so the answers are the route's in every case, this only makes the common one cheap.
    ``app.state.tile_fast_lane = False`` turns it off (tests compare the two)."""

    def __init__(self, app):
        self.app = app
        route = next(r for r in router.routes if getattr(r, "endpoint", None) is area_tile)
        self.rule = rule_of(route)  # the capability the route declares, from the one policy
        self.served = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and (match := WELL_FORMED.fullmatch(scope["path"])) \
                and getattr(scope["app"].state, "tile_fast_lane", True):
            response = await self._answer(scope, match)
            if response is not None:
                self.served += 1
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _answer(self, scope, match) -> Response | None:
        layer, z, x, y = match[1], int(match[2]), int(match[3]), int(match[4])
        if z > MAX_ZOOM or x >= 1 << z or y >= 1 << z:
            return None
        department = None
        if scope["query_string"]:
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)  # as Starlette
            if len(query) != 1 or query[0][0] != "department" or len(query[0][1]) > DEPARTMENT_MAX:
                return None
            department = query[0][1]
        request = Request(scope)
        if_none_match = request.headers.get("if-none-match")
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))  # as oauth2
        if (if_none_match is not None and len(if_none_match) > IF_NONE_MATCH_MAX) or scheme.lower() != "bearer" \
                or not token:
            return None
        try:
            who = await self.rule(request, token)
            return await _area_tile(request, who, layer, z, x, y, department, if_none_match)
        except Exception:  # noqa: BLE001 - the route answers it (its error handlers are not out here)
            return None
