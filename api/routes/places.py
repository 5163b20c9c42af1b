"""The places register (民情地图): places in the caller's reach, their versions, import and export,
and the grid aggregates (counts, never people)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import Response

from api.auth.deps import PlaceEditor, PlaceReader
from api.db import ConnDep
from api.errors import Invalid, TooLarge
from api.geojson import GeoJSONResponse
from api.params import clamp_limit, parse_bbox
from api.places import aggregates, files, service
from api.places.schemas import (
    Aggregate,
    AggregateIn,
    Aggregates,
    Category,
    Place,
    PlaceCollection,
    PlaceCrs,
    PlaceHistory,
    PlaceImportReport,
    PlaceIn,
    PlaceRetired,
    PlaceUpdate,
    RiskLevel,
)
from spatial.io import FORMATS
from spatial.io.formats import save_upload

router = APIRouter(prefix="/api/places", tags=["places"])

CODE = r"^[0-9A-Za-z_-]+$"
CodePath = Annotated[str, PathParam(max_length=32, pattern=CODE, description="a code")]

EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {FORMATS[f].media_type: {} for f in files.EXPORT_FORMATS},
          "description": "the places file (no contact in it)"}}


@router.get("", response_model=PlaceCollection, response_class=GeoJSONResponse)
async def list_places(
    request: Request, who: PlaceReader, conn: ConnDep,
    bbox: str | None = Query(None, max_length=200, description="xmin,ymin,xmax,ymax (WGS-84)"),
    category: list[Category] | None = Query(None, description="one or more categories"),
    risk: list[RiskLevel] | None = Query(None, description="one or more risk levels"),
    area: str | None = Query(None, max_length=32, pattern=CODE,
                             description="only places in this area (grid, community ...)"),
    q: str | None = Query(None, max_length=100, description="name, address or code contains"),
    limit: int = Query(100, description="page size (clamped to the maximum)"),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """Current places in the caller's areas as GeoJSON points, ordered by code (never a contact)."""
    places, matched = await service.search(
        conn, who, bbox=parse_bbox(bbox), categories=category, risks=risk, area=area, q=q,
        limit=clamp_limit(limit, request.app.state.settings.page_limit_max), offset=offset)
    return GeoJSONResponse({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(places),
                            "features": [service.as_feature(p) for p in places]})


@router.post("", response_model=Place, status_code=201)
async def create_place(request: Request, who: PlaceEditor, conn: ConnDep, body: Annotated[PlaceIn, Body()]):
    """A new place: routed to its grid, community, street and zone (a point outside every
    district is refused naming ``lon``); its contact sealed."""
    return await service.create(conn, who, request.app.state.settings, body)


@router.post("/import", response_model=PlaceImportReport)
async def import_places(
    request: Request, who: PlaceEditor, conn: ConnDep,
    file: UploadFile = File(description="CSV (UTF-8) or XLSX with lon, lat columns; GeoJSON or GeoPackage points"),
    crs: PlaceCrs = Form("wgs84", description="what the coordinates are in: wgs84, cgcs2000, gcj02 or bd09"),
    dry_run: bool = Form(True, description="only check and report (default); false writes everything or nothing"),
    reason: str | None = Form(None, max_length=500, description="kept with the new versions"),
):
    """Check every row (problems by row and column) and, with dry_run=false and no problem, write
    the new and changed places in one transaction."""
    data = await file.read(files.MAX_IMPORT_BYTES + 1)
    if len(data) > files.MAX_IMPORT_BYTES:
        raise TooLarge(f"a places file may be at most {files.MAX_IMPORT_BYTES // 1_000_000} MB", field="file")
    if not data:
        raise Invalid("the file is empty", field="file")
    name = file.filename or "upload"
    with tempfile.TemporaryDirectory(prefix="gridgov-places-") as tmp:
        suffix = Path(name).suffix.lower()
        if suffix in (".csv", ".xlsx"):
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
        else:
            path = save_upload(data, Path(tmp), name)
        return await files.import_places(conn, who, request.app.state.settings, path, filename=name, crs=crs,
                                         dry_run=dry_run, reason=reason)


@router.get("/export", response_class=Response, responses=EXPORT_CONTENT)
async def export_places(
    who: PlaceReader, conn: ConnDep,
    format: Literal["geojson", "gpkg"] = Query("geojson", description="geojson or gpkg"),
    area: str | None = Query(None, max_length=32, pattern=CODE, description="only the places in this area"),
    category: list[Category] | None = Query(None, description="one or more categories"),
):
    """The current places in the caller's areas as a file; contacts are never exported."""
    content, name = await files.export_places(conn, who, fmt=format, area=area, categories=category)
    return Response(content, media_type=FORMATS[format].media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/aggregates", response_model=Aggregates)
async def grid_aggregates(who: PlaceReader, conn: ConnDep,
                          area: str | None = Query(None, max_length=32, pattern=CODE,
                                                   description="sum the grids under it")):
    """Each grid's latest counts (households, residents, elderly living alone) and their sums."""
    return await aggregates.show(conn, who, area)


@router.put("/aggregates/{grid}", response_model=Aggregate)
async def set_grid_aggregate(who: PlaceEditor, conn: ConnDep, grid: CodePath, body: Annotated[AggregateIn, Body()]):
    """A grid's counts as of a date, with their source (the same date again replaces them)."""
    return await aggregates.set_counts(conn, who, grid, body)


@router.get("/{code}", response_model=Place)
async def get_place(request: Request, who: PlaceReader, conn: ConnDep, code: CodePath):
    """One current place; its contact only for callers holding read_place_contact here (each read audited)."""
    return await service.read_one(conn, who, request.app.state.settings, code)


@router.patch("/{code}", response_model=Place)
async def update_place(request: Request, who: PlaceEditor, conn: ConnDep, code: CodePath,
                       body: Annotated[PlaceUpdate, Body()]):
    """A new version with the fields sent (a new point is routed again)."""
    return await service.update(conn, who, request.app.state.settings, code, body)


@router.delete("/{code}", response_model=PlaceRetired)
async def retire_place(who: PlaceEditor, conn: ConnDep, code: CodePath,
                       reason: str | None = Query(None, max_length=500, description="why it closes")):
    """Retire a place (closed, gone): its history stays."""
    return await service.retire(conn, who, code, reason)


@router.get("/{code}/history", response_model=PlaceHistory)
async def place_history(who: PlaceReader, conn: ConnDep, code: CodePath):
    """Every version of a place, oldest first (never a contact)."""
    return await service.history(conn, who, code)
