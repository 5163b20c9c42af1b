"""Reference data and map layers: categories, departments, areas, stations, units."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth.deps import MapReader, PublicUnlimited, UnitReader
from api.db import ConnDep
from api.params import parse_bbox
from spatial.sqlfiles import sql

router = APIRouter(prefix="/api", tags=["catalog"])

AreaKind = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]
GEOJSON = {200: {"content": {"application/geo+json": {}}}}
MAP_ROLES = ("dispatcher", "grid_manager", "grid_worker", "analyst", "officer")


def geojson(doc) -> JSONResponse:
    return JSONResponse(doc, media_type="application/geo+json")


@router.get("/categories")
async def list_categories(conn: ConnDep, who: PublicUnlimited) -> list[dict]:
    """Categories with responsible departments, default tier and deadlines (public)."""
    return [dict(r) for r in (await conn.execute(sql("categories"))).mappings()]


@router.get("/departments")
async def list_departments(conn: ConnDep, who: PublicUnlimited) -> list[dict]:
    """Departments (public)."""
    return [dict(r) for r in (await conn.execute(sql("departments"))).mappings()]


@router.get("/areas", response_class=JSONResponse, responses=GEOJSON)
async def list_areas(
    conn: ConnDep, who: MapReader,
    kind: AreaKind = Query(description="district, street, community, grid, zone or patrol_zone"),
    bbox: str | None = Query(None, description="xmin,ymin,xmax,ymax (WGS-84)"),
    parent: str | None = Query(None, max_length=32, description="only children of this area code"),
    department: str | None = Query(None, max_length=32, description="patrol zones of one department"),
):
    """Current areas of one kind within the caller's scope, as GeoJSON."""
    params = {"kind": kind, "parent": parent, "department": department, "scope": who.scope(MAP_ROLES),
              **parse_bbox(bbox)}
    return geojson((await conn.execute(sql("areas_geojson"), params)).scalar_one())


@router.get("/stations", response_class=JSONResponse, responses=GEOJSON)
async def list_stations(conn: ConnDep, who: MapReader):
    """Linkage workstations (联动工作站) in scope, as GeoJSON points."""
    return geojson((await conn.execute(sql("stations_geojson"), {"scope": who.scope(MAP_ROLES)})).scalar_one())


@router.get("/units", response_class=JSONResponse, responses=GEOJSON)
async def list_units(
    conn: ConnDep, request: Request, who: UnitReader,
    department: str | None = Query(None, max_length=32),
    status: Literal["available", "busy", "off_duty"] | None = None,
):
    """Enforcement units with their last position: a dispatcher's in scope, an officer's own."""
    scope, unit = unit_visibility(who)
    stale_s = request.app.state.settings.stale_position_s
    return geojson((await conn.execute(sql("units_geojson"), {
        "department": department, "status": status, "stale_s": stale_s, "scope": scope, "unit": unit,
    })).scalar_one())


def unit_visibility(who) -> tuple[list[str] | None, str | None]:
    """(area scope, own unit): dispatchers by area, officers only their own unit."""
    if who.is_admin:
        return None, None
    if "dispatcher" in who.roles:
        return who.scope(("dispatcher",)), None
    return None, who.unit_code or "-"
