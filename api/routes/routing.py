"""Routing preview: where would a report at this point go?"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from api.auth.deps import Router
from api.db import ConnDep
from api.incidents import routing_options
from api.schemas import InputCrs
from spatial.routing import route_point

router = APIRouter(prefix="/api", tags=["routing"])


@router.get("/route")
async def route_preview(
    conn: ConnDep, request: Request, who: Router,
    lon: float = Query(description="longitude"),
    lat: float = Query(description="latitude"),
    category: str = Query(min_length=1, max_length=64, description="category code"),
    accuracy_m: float | None = Query(None, ge=0, le=10000),
    crs: InputCrs = "wgs84",
) -> dict:
    """Grid, hierarchy, zone, workstation, patrol zones and nearest available units (staff)."""
    return await route_point(conn, lon, lat, category, accuracy_m=accuracy_m, input_crs=crs,
                             options=routing_options(request.app.state.settings))
