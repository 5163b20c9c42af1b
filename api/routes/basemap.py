"""Base maps: the local MBTiles file (air-gapped command rooms) and the offline base of outlines
and names that every map draws (public: the posters name the grids; never an incident)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api import basemap
from api.auth.deps import PublicUnlimited
from api.db import ConnDep
from api.geojson import GEOJSON_CONTENT, GeoJSONResponse
from api.params import parse_bbox
from api.schemas import FeatureCollection

router = APIRouter(tags=["basemap"])

Z = Annotated[int, Path(ge=0, le=basemap.MAX_ZOOM, description="zoom")]
XY = Annotated[int, Path(ge=0, le=2 ** basemap.MAX_ZOOM - 1, description="XYZ tile column or row (y from the north)")]
PNG = {200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}}


@router.get("/basemap/{z}/{x}/{y}", response_class=Response, responses=PNG, include_in_schema=False)
async def basemap_tile(z: Z, x: XY, y: XY, request: Request, who: PublicUnlimited):
    """A tile of the configured local MBTiles file (``GRIDGOV_BASEMAP=mbtiles``), XYZ addressed."""
    data, media_type = basemap.mbtiles_tile(request.app.state.settings, z, x, y)
    return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/api/public/base", response_model=FeatureCollection, response_class=GeoJSONResponse,
            responses=GEOJSON_CONTENT)
async def base_outlines(who: PublicUnlimited, conn: ConnDep,  # reference data like the catalogue: a map
                        # fetches it as it moves, and panning must not spend the budget a report needs
                        zoom: Annotated[int, Query(ge=0, le=basemap.MAX_ZOOM, description="the map's zoom")],
                        bbox: Annotated[str, Query(max_length=200, description="xmin,ymin,xmax,ymax (WGS-84)")]):
    """The offline base map: district and street outlines and names, communities from zoom 12,
    grids from street zoom (15), linkage workstations from 13, simplified for the zoom; GeoJSON
    with a label point per area. Outlines and names only (public, cached)."""
    doc = await basemap.outlines(conn, zoom, parse_bbox(bbox))
    return GeoJSONResponse(doc, headers={"Cache-Control": "public, max-age=300"})
