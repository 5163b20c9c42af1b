"""Routing preview: where would a report at this point go?"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import routing_preview
from api.auth.deps import RoutingPreviewer
from api.db import ConnDep
from api.schemas import Routing, RouteQuery

router = APIRouter(prefix="/api", tags=["routing"])


@router.get("/route", response_model=Routing)
async def route_preview(conn: ConnDep, request: Request, who: RoutingPreviewer,
                        q: Annotated[RouteQuery, Query()]):
    """Grid, hierarchy, zone, workstation, patrol zones, and the nearest available units the
    caller may read (staff)."""
    return await routing_preview.preview(conn, who, q, request.app.state.settings)
