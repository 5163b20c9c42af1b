"""The public disclosure (公示): one month's per-street aggregates, survey scores and follow-up
items, and the streets' outlines for its map. No login; cached (ETag and Cache-Control)."""

from __future__ import annotations

import hashlib
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from api.auth.deps import Public, PublicUnlimited
from api.db import ConnDep
from api.disclosure import month as months, service
from api.disclosure.schemas import Disclosure
from api.geojson import GEOJSON_CONTENT
from api.schemas import FeatureCollection

router = APIRouter(prefix="/api/public/disclosure", tags=["public"])


def _cached(request: Request, doc: dict, media_type: str, max_age: int, model=None) -> Response:
    body = orjson.dumps(model.model_validate(doc).model_dump(mode="json") if model else doc)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("", response_model=Disclosure, responses={304: {"description": "not modified (If-None-Match)"}})
async def disclosure(request: Request, who: Public, conn: ConnDep,
                     month: Annotated[str | None, Query(max_length=7, description="YYYY-MM (default: the last "
                                                                                    "closed month)")] = None):
    """One month's figures per street and district (counts under 5 and rates of a denominator
    under 5 withheld, with a complementary street so that no withheld count follows from the
    total), the survey scores and the follow-up items with their progress. A month still running
    is labelled ``complete: false``."""
    settings = request.app.state.settings
    m = months.parse(month, settings.timezone)
    doc = await service.disclosure(conn, settings, m)
    return _cached(request, doc, "application/json", 3600 if m.complete else 300, Disclosure)


@router.get("/streets", response_model=FeatureCollection,
            responses={200: GEOJSON_CONTENT[200], 304: {"description": "not modified"}})
async def street_outlines(request: Request, who: PublicUnlimited, conn: ConnDep):
    """The current streets' outlines (simplified polygons, no label points) for the disclosure's map."""
    return _cached(request, await service.outlines(conn), "application/geo+json", 3600)
