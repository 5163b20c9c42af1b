"""Vector tiles and their TileJSON: the area layers and the heatmap hexagons."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from api.auth.deps import IncidentReader, MapReader
from api.db import ConnDep
from api.heat import service as heat_service
from api.live.hub import listening
from api.routes.heat import Codes, From, To
from api.tiles import service
from api.tiles.schemas import TileJSON
from api.tiles.service import MAX_ZOOM, MEDIA_TYPE

router = APIRouter(prefix="/tiles", tags=["tiles"])

AreaLayer = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]
Z = Annotated[int, Path(ge=0, le=MAX_ZOOM)]
XY = Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=200)]
TILE = {200: {"content": {MEDIA_TYPE: {}}, "description": "a Mapbox Vector Tile"}, 304: {"description": "unchanged"}}
CACHING = "private, no-cache"  # reused by the browser, revalidated with the ETag: an edit shows at once


def _answer(tile: bytes, etag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHING}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(tile, media_type=MEDIA_TYPE, headers=headers)


@router.get("/hexagons/{z}/{x}/{y}.pbf", response_class=Response, responses=TILE)
async def hexagon_tile(z: Z, x: XY, y: XY, conn: ConnDep, request: Request, who: IncidentReader,
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
                    department: Annotated[str | None, Query(max_length=32, description="patrol zones of one "
                                                                                       "department")] = None):
    """Current areas of one kind in the caller's map scope."""
    tile, etag = await service.area_tile(request.app.state.autocommit_pool, request.app.state.tiles, who, layer, z, x, y,
                                         department, notes_arrive=listening(request.app))
    return _answer(tile, etag, if_none_match)


@router.get("/{layer}.json", response_model=TileJSON)
async def tilejson(layer: AreaLayer | Literal["hexagons"], request: Request, who: MapReader):
    """TileJSON 3.0.0 of a layer (for MapLibre, QGIS, Leaflet.VectorGrid); its tile URLs on the
    address the caller used."""
    return service.tilejson(str(request.base_url), layer)
