"""Reference data: categories, departments, areas, stations, units."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.db import ConnDep
from api.params import parse_bbox
from spatial.sqlfiles import sql

router = APIRouter(prefix="/api", tags=["catalog"])

AreaKind = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]


def geojson(doc) -> JSONResponse:
    return JSONResponse(doc, media_type="application/geo+json")


@router.get("/categories")
async def list_categories(conn: ConnDep) -> list[dict]:
    """Categories with responsible departments, default tier and deadlines."""
    return [dict(r) for r in (await conn.execute(sql("categories"))).mappings()]


@router.get("/departments")
async def list_departments(conn: ConnDep) -> list[dict]:
    return [dict(r) for r in (await conn.execute(sql("departments"))).mappings()]


@router.get("/areas", response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
async def list_areas(
    conn: ConnDep,
    kind: AreaKind = Query(description="district, street, community, grid, zone or patrol_zone"),
    bbox: str | None = Query(None, description="xmin,ymin,xmax,ymax (WGS-84)"),
    parent: str | None = Query(None, max_length=32, description="only children of this area code"),
    department: str | None = Query(None, max_length=32, description="patrol zones of one department"),
):
    """Current areas of one kind as GeoJSON."""
    params = {"kind": kind, "parent": parent, "department": department, **parse_bbox(bbox)}
    return geojson((await conn.execute(sql("areas_geojson"), params)).scalar_one())


@router.get("/stations", response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
async def list_stations(conn: ConnDep):
    """Linkage workstations (联动工作站) as GeoJSON points."""
    return geojson((await conn.execute(sql("stations_geojson"))).scalar_one())


@router.get("/units", response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
async def list_units(
    conn: ConnDep, request: Request,
    department: str | None = Query(None, max_length=32),
    status: Literal["available", "busy", "off_duty"] | None = None,
):
    """Enforcement units with their last position as GeoJSON."""
    stale_s = request.app.state.settings.stale_position_s
    return geojson((await conn.execute(sql("units_geojson"),
                                       {"department": department, "status": status, "stale_s": stale_s})).scalar_one())
