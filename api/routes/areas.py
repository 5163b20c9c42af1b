"""Area editing and history: preview / save of partition edits, one area with its ETag,
its versions, its validation report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request

from api.areas import editing, reads, validation
from api.areas.schemas import EditIn, EditResult
from api.auth.deps import AreaEditor, MapReader
from api.db import ConnDep
from api.errors import error_response
from api.geojson import GEOJSON_CONTENT, GeoJSONResponse
from api.params import parse_time
from api.schemas import Feature, FeatureCollection

router = APIRouter(prefix="/api/areas", tags=["areas"])

CodePath = Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
REFUSED = {412: {"description": "If-Match is stale: the body names the current versions"},
           428: {"description": "If-Match missing"},
           422: {"description": "bad input, or the result would have violations (listed in the body)"}}


async def _edit(conn, who, body, *, save: bool, if_match: str | None = None):
    try:
        return await editing.edit(conn, who, body, save=save, if_match=if_match, client=who.client)
    except editing.Refused as e:
        return error_response(e.status, e.detail, e.errors, extra=e.extra)


@router.post("/edits/preview", response_model=EditResult, responses=REFUSED)
async def preview_edit(who: AreaEditor, conn: ConnDep, body: Annotated[EditIn, Body()]):
    """What an edit would do: every affected area as it will be, and any violations. Nothing is written."""
    return await _edit(conn, who, body, save=False)


@router.post("/edits", response_model=EditResult, responses=REFUSED)
async def save_edit(who: AreaEditor, conn: ConnDep, body: Annotated[EditIn, Body()],
                    if_match: Annotated[str | None, Header(alias="If-Match", max_length=2000,
                                                           description='ETags of the named areas: '
                                                                       '"<code>@<version>"')] = None):
    """Save an edit as new versions of every affected area (If-Match required), re-routing open incidents."""
    return await _edit(conn, who, body, save=True, if_match=if_match)


@router.get("/{code}", response_model=Feature, response_class=GeoJSONResponse, responses=GEOJSON_CONTENT)
async def get_area(code: CodePath, who: MapReader, conn: ConnDep, request: Request,
                   as_of: datetime | None = Query(None, description="ISO-8601 time: the version valid then")):
    """One area as a GeoJSON Feature (current, or at `as_of`); the current version carries an ETag."""
    feature, tag = await reads.area(conn, who, code, parse_time(as_of, request.app.state.settings.timezone, "as_of"))
    return GeoJSONResponse(feature, headers={"ETag": tag} if tag else None)


@router.get("/{code}/history", response_model=FeatureCollection, response_class=GeoJSONResponse,
            responses=GEOJSON_CONTENT)
async def area_history(code: CodePath, who: MapReader, conn: ConnDep):
    """Every version of an area, oldest first, with who changed it and why."""
    return GeoJSONResponse(await reads.history(conn, who, code))


@router.get("/{code}/validation", response_model=FeatureCollection, response_class=GeoJSONResponse,
            responses=GEOJSON_CONTENT)
async def area_validation(code: CodePath, who: MapReader, conn: ConnDep):
    """Violations among the children of an area (and of the area against its parent), as features."""
    return GeoJSONResponse(await validation.report(conn, who, code))
