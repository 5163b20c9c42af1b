"""OGC API – Features (Part 1 core + GeoJSON) at /ogc: GDAL's OAPIF driver and QGIS read it.

The landing page and the conformance classes describe the service and are public; the
collections and their features follow the map's visibility (capability read_map: a bearer
token, e.g. ``GDAL_HTTP_HEADERS="Authorization: Bearer ..."``).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.auth.deps import MapReader, PublicUnlimited
from api.db import ConnDep
from api.errors import Invalid
from api.geojson import GeoJSONResponse
from api.ogc import service
from api.ogc.models import Collection, Collections, Conformance, LandingPage, OgcFeature, OgcFeatureCollection
from api.params import clamp_limit, parse_bbox, parse_time

router = APIRouter(prefix="/ogc", tags=["ogc"])

FORMATS = {"json", "geojson", "application/json", "application/geo+json"}
MAX_OFFSET = 10_000_000
GEOJSON_DOC = {200: {"content": {"application/geo+json": {}}}}
F = Query(None, max_length=40, description="json (the only format; tolerated for clients that send it)")
CollectionId = Path(max_length=32, description="district, street, community, grid, zone, patrol_zone or place")
When = Query(None, alias="datetime", max_length=64,
             description="an instant (ISO-8601, e.g. 2026-11-30T10:00:00+08:00): the areas as they were then")


def _instant(request: Request, value: str | None) -> datetime | None:
    """OGC ``datetime`` as the layer query's ``as_of``: an instant only (areas have no interval query)."""
    if value is None or value == "":
        return None
    if "/" in value:
        raise Invalid("only an instant is supported (the boundaries valid at that time), not an interval",
                      field="datetime")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{value[:64]!r} is not an ISO-8601 time", field="datetime") from None
    return parse_time(when, request.app.state.settings.timezone, "datetime")


def _format(f: str | None) -> None:
    if f is not None and f.lower() not in FORMATS:
        raise Invalid(f"format {f[:40]!r} is not offered: only json (GeoJSON)", field="f")


@router.get("", response_model=LandingPage, response_class=JSONResponse)
async def landing_page(request: Request, who: PublicUnlimited, f: str | None = F):
    """The landing page: links to the API definition, the conformance classes and the collections."""
    _format(f)
    return JSONResponse(service.landing(request))


@router.get("/conformance", response_model=Conformance, response_class=JSONResponse)
async def conformance(who: PublicUnlimited, f: str | None = F):
    """The conformance classes: core, GeoJSON, OpenAPI 3.0."""
    _format(f)
    return JSONResponse(service.conformance())


@router.get("/collections", response_model=Collections, response_class=JSONResponse)
async def collections(request: Request, who: MapReader, conn: ConnDep, f: str | None = F):
    """One collection per area kind, with the extent of the areas the caller may see."""
    _format(f)
    return JSONResponse(await service.collections(conn, who, request))


@router.get("/collections/{collection_id}", response_model=Collection, response_class=JSONResponse)
async def collection(request: Request, who: MapReader, conn: ConnDep, collection_id: str = CollectionId,
                     f: str | None = F):
    """One collection (an area kind)."""
    _format(f)
    return JSONResponse(await service.collection(conn, who, request, collection_id))


@router.get("/collections/{collection_id}/items", response_model=OgcFeatureCollection,
            response_class=GeoJSONResponse, responses=GEOJSON_DOC)
async def items(
    request: Request, who: MapReader, conn: ConnDep, collection_id: str = CollectionId,
    bbox: str | None = Query(None, max_length=200, description="xmin,ymin,xmax,ymax (CRS84)"),
    limit: int = Query(service.DEFAULT_LIMIT, description="page size; larger values are clamped to the maximum",
                       json_schema_extra={"minimum": 1, "maximum": 1000}),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="features to skip (the next link carries it)"),
    when: str | None = When, f: str | None = F,
):
    """A page of the collection's features in the caller's scope, with numberMatched and next/prev links."""
    _format(f)
    page_max = request.app.state.settings.page_limit_max
    return GeoJSONResponse(await service.items(conn, who, request, collection_id, bbox=parse_bbox(bbox),
                                               limit=clamp_limit(limit, page_max), offset=offset,
                                               as_of=_instant(request, when)))


@router.get("/collections/{collection_id}/items/{code}", response_model=OgcFeature,
            response_class=GeoJSONResponse, responses=GEOJSON_DOC)
async def item(request: Request, who: MapReader, conn: ConnDep, collection_id: str = CollectionId,
               code: str = Path(max_length=32, description="the area code"), when: str | None = When,
               f: str | None = F):
    """One area as a GeoJSON feature, current or at ``datetime`` (404 outside the caller's scope)."""
    _format(f)
    return GeoJSONResponse(await service.item(conn, who, request, collection_id, code,
                                              as_of=_instant(request, when)))
