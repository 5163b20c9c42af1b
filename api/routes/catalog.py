"""Reference data and map layers: categories, departments, areas, stations, units."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request

from api import catalog, units
from api.auth.deps import MapReader, PublicUnlimited, UnitReader
from api.db import ConnDep
from api.geojson import GEOJSON_CONTENT, GeoJSONResponse
from api.params import parse_bbox, parse_time
from api.schemas import Category, Department, FeatureCollection, UnitStatus

router = APIRouter(prefix="/api", tags=["catalog"])

AreaKind = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]


@router.get("/categories", response_model=list[Category])
async def list_categories(who: PublicUnlimited, conn: ConnDep):
    """Categories with responsible departments, default tier and deadlines (public)."""
    return await catalog.categories(conn)


@router.get("/departments", response_model=list[Department])
async def list_departments(who: PublicUnlimited, conn: ConnDep):
    """Departments (public)."""
    return await catalog.departments(conn)


@router.get("/areas", response_model=FeatureCollection, response_class=GeoJSONResponse, responses=GEOJSON_CONTENT)
async def list_areas(
    who: MapReader, conn: ConnDep, request: Request,
    kind: AreaKind = Query(description="district, street, community, grid, zone or patrol_zone"),
    bbox: str | None = Query(None, max_length=200, description="xmin,ymin,xmax,ymax (WGS-84)"),
    parent: str | None = Query(None, max_length=32, description="only children of this area code"),
    department: str | None = Query(None, max_length=32, description="patrol zones of one department"),
    as_of: datetime | None = Query(None, description="ISO-8601 time: the boundaries as they were then"),
):
    """Areas of one kind within the caller's scope (current, or at `as_of`), as GeoJSON."""
    return GeoJSONResponse(await catalog.areas(
        conn, who, kind=kind, parent=parent, department=department, bbox=parse_bbox(bbox),
        as_of=parse_time(as_of, request.app.state.settings.timezone, "as_of")))


@router.get("/stations", response_model=FeatureCollection, response_class=GeoJSONResponse,
            responses=GEOJSON_CONTENT)
async def list_stations(who: MapReader, conn: ConnDep):
    """Linkage workstations (联动工作站) in scope, as GeoJSON points."""
    return GeoJSONResponse(await catalog.stations(conn, who))


@router.get("/units", response_model=FeatureCollection, response_class=GeoJSONResponse, responses=GEOJSON_CONTENT)
async def list_units(
    request: Request, who: UnitReader, conn: ConnDep,
    department: str | None = Query(None, max_length=32),
    status: UnitStatus | None = None,
):
    """Enforcement units with their last position: a dispatcher's in scope, an officer's own."""
    return GeoJSONResponse(await units.layer(conn, who, department=department, status=status,
                                             stale_s=request.app.state.settings.stale_position_s))
