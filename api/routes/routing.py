"""Routing preview: where would a report at this point go?"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api import routing_batch, routing_preview
from api.auth.deps import RoutingPreviewer
from api.db import ConnDep, pool_of
from api.schemas import InputCrs, RouteQuery, Routing

router = APIRouter(prefix="/api", tags=["routing"])


@router.get("/route", response_model=Routing)
async def route_preview(request: Request, who: RoutingPreviewer, q: Annotated[RouteQuery, Query()]):
    """Grid, hierarchy, zone, workstation, patrol zones, and the nearest available units the
    caller may read (staff)."""
    return await routing_preview.preview(pool_of(request.app), who, q, request.app.state.settings)


@router.post("/route/batch", response_class=StreamingResponse,
             openapi_extra={"requestBody": routing_batch.REQUEST_BODY},
             responses={200: {"content": {"text/csv": {}, "application/geo+json": {}},
                              "description": "the points with their routing, streamed in the format sent"}})
async def route_batch(request: Request, who: RoutingPreviewer, conn: ConnDep,
                      content_type: Annotated[str, Header(alias="Content-Type", max_length=100)] = "",
                      crs: Annotated[InputCrs, Query(description="the points' coordinate system")] = "wgs84"):
    """Route up to 100,000 points at once: send a CSV (a header with lon, lat and optionally id)
    or a GeoJSON FeatureCollection of Points; the answer is the same format with grid_code,
    community_code, street_code, district_code, zone_code and station_code for each point
    (empty outside every grid). A file with a bad row is refused whole, naming the rows."""
    points, fmt = routing_batch.parse(await request.body(), content_type, crs)
    await routing_batch.record(conn, who, points, fmt)
    return StreamingResponse(routing_batch.stream(pool_of(request.app), points, fmt),
                             media_type=routing_batch.MEDIA_TYPES[fmt])
