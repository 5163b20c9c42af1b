"""Vector tiles and their TileJSON: the area layers and the heatmap hexagons."""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from api.auth.deps import IncidentReader, MapReader, PlaceReader
from api.db import ConnDep, pool_of
from api.errors import Invalid
from api.heat import service as heat_service
from api.live.hub import listening
from api.places.schemas import Category
from api.public_address import public_base
from api.routes.heat import Codes, From, To
from api.tiles import service
from api.tiles.schemas import TileJSON
from api.tiles.service import MAX_ZOOM, MEDIA_TYPE

router = APIRouter(prefix="/tiles", tags=["tiles"])

AreaLayer = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]
IF_NONE_MATCH_MAX = 200  # characters of If-None-Match
DEPARTMENT_MAX = 32      # characters of ?department=
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=IF_NONE_MATCH_MAX)]
TILE = {200: {"content": {MEDIA_TYPE: {}}, "description": "a Mapbox Vector Tile"}, 304: {"description": "unchanged"}}
CACHING = "private, no-cache"  # reused by the browser, revalidated with the ETag: an edit shows at once


class TileAddress(NamedTuple):
    z: int
    x: int
    y: int


async def tile_address(z: Annotated[int, Path(ge=0, le=MAX_ZOOM, description=f"zoom, 0..{MAX_ZOOM}")],
                       x: Annotated[int, Path(ge=0, description="column, 0..2^z - 1")],
                       y: Annotated[int, Path(ge=0, description="row, 0..2^z - 1")]) -> TileAddress:
    """The tile's z/x/y, checked here and nowhere else (the services take them as given): the
    zoom's range and x, y within 2^z. Async: a plain function would be run in a thread."""
    n = 1 << z
    for name, value in (("x", x), ("y", y)):
        if value >= n:
            raise Invalid(f"{name} must be within 0..{n - 1} at zoom {z}", field=name)
    return TileAddress(z, x, y)


Tile = Annotated[TileAddress, Depends(tile_address)]  # declared after the caller: no token is a 401 first


def _answer(tile: bytes, etag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHING}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(tile, media_type=MEDIA_TYPE, headers=headers)


@router.get("/hexagons/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def hexagon_tile(request: Request, who: IncidentReader, tile: Tile, conn: ConnDep,
                       if_none_match: IfNoneMatch = None, start: From = None, stop: To = None,
                       category: Codes = None, status: Codes = None, tier: Codes = None, source: Codes = None):
    """Heatmap hexagons (resolution by zoom) with their counts in the window and filters."""
    f = await heat_service.filters(conn, category=category, status=status, tier=tier, source=source)
    drawn, etag = await service.hexagon_tile(conn, who, request.app.state.settings, *tile,
                                             start=start, stop=stop, f=f)
    return _answer(drawn, etag, if_none_match)


@router.get("/places/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def place_tile(request: Request, who: PlaceReader, tile: Tile, if_none_match: IfNoneMatch = None,
                     category: Annotated[list[Category] | None, Query(description="one or more categories")] = None):
    """Current places in the caller's areas (read_places): code, name, category, risk level, grid; never a contact."""
    app = request.app
    drawn, etag = await service.place_tile(pool_of(app), app.state.place_tiles, who, *tile, category,
                                           notes_arrive=listening(app))
    return _answer(drawn, etag, if_none_match)


@router.get("/{layer}/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def area_tile(layer: AreaLayer, request: Request, who: MapReader, tile: Tile,
                    if_none_match: IfNoneMatch = None,
                    department: Annotated[str | None, Query(max_length=DEPARTMENT_MAX,
                                                            description="patrol zones of one department")] = None):
    """Current areas of one kind in the caller's map scope."""
    app = request.app
    drawn, etag = await service.area_tile(pool_of(app), app.state.tiles, who, layer, *tile, department,
                                          notes_arrive=listening(app))
    return _answer(drawn, etag, if_none_match)


@router.get("/{layer}.json", response_model=TileJSON)
async def tilejson(layer: AreaLayer | Literal["hexagons", "places"], request: Request, who: MapReader):
    """TileJSON 3.0.0 of a layer (for MapLibre, QGIS, Leaflet.VectorGrid); its tile URLs on the
    address the caller used."""
    return service.tilejson(public_base(request.app.state.settings, request), layer)
