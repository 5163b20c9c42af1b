"""What a reporter without an account may do: follow and rate their own report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, Path, Query, Request, Response, UploadFile

from api import duplicates, reporters
from api.auth.deps import Public, PublicAlwaysLimited
from api.db import ConnDep
from api.routes.attachments import Attachment
from api.schemas import (
    GridCentre,
    LonLat,
    Matches,
    MeToo,
    MeTooIn,
    PublicCase,
    PublicWhere,
    RatingIn,
    RatingOut,
    RouteQuery,
)

router = APIRouter(prefix="/api/public", tags=["public"])

ReporterToken = Annotated[str, Header(alias="X-Reporter-Token", min_length=8, max_length=128,
                                      pattern=r"^[\x21-\x7e]+$",
                                      description="the secret given with the tracking code")]
TrackingCode = Annotated[str, Path(max_length=32, description="the tracking code, e.g. XA-7K3M-9QXR-2PLD")]


@router.get("/incidents/{tracking_code}", response_model=PublicCase)
async def track(tracking_code: TrackingCode, who: PublicAlwaysLimited, conn: ConnDep, token: ReporterToken):
    """Follow a report: status, deadlines, the steps taken; location rounded to about 100 m."""
    return await reporters.track(conn, tracking_code, token)


@router.get("/matches", response_model=Matches)
async def matches(who: Public, conn: ConnDep, query: Annotated[RouteQuery, Query()]):
    """Before filing: open cases of this category within 250 m reported in the last 72 hours.
    Join one with me-too instead of filing a second report."""
    return {"candidates": await duplicates.matches(conn, category=query.category, lon=query.lon, lat=query.lat,
                                                   crs=query.crs)}


@router.post("/incidents/{public_id}/me-too", response_model=MeToo, status_code=201)
async def me_too(public_id: Annotated[str, Path(max_length=32, pattern=r"^R[0-9a-f]{20}$",
                                                description="the case's public id, as /matches showed it")],
                 body: MeTooIn, who: PublicAlwaysLimited, conn: ConnDep):
    """"Me too" (我也遇到): support an open case that ``/matches`` offered at your position instead
    of filing another (once per phone, a few a day); answers a tracking code and token of your own
    to follow the case and rate it once closed."""
    return await duplicates.me_too(conn, who, public_id, lon=body.lon, lat=body.lat, crs=body.crs)


@router.post("/incidents/{tracking_code}/attachments", response_model=Attachment, status_code=201)
async def add_photo(tracking_code: TrackingCode, who: PublicAlwaysLimited, conn: ConnDep, token: ReporterToken,
                    file: UploadFile = File(description="a JPEG, PNG or WebP photo, at most 8 MB")):
    """A photo of your own report (up to 4); its metadata (EXIF, GPS) is removed before it is stored."""
    from api.attachments import MAX_PHOTO_BYTES

    return await reporters.add_photo(conn, who, tracking_code, token, await file.read(MAX_PHOTO_BYTES + 1))


@router.get("/incidents/{tracking_code}/photos/{sha256}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
async def photo(tracking_code: TrackingCode, sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
                who: PublicAlwaysLimited, conn: ConnDep, token: ReporterToken):
    """A photo of your case: one you sent, or one the unit or the desk showed with what was done."""
    data, media_type = await reporters.photo(conn, tracking_code, token, sha256)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})


@router.get("/where", response_model=PublicWhere)
async def where(who: Public, conn: ConnDep, query: Annotated[LonLat, Query()]):
    """The grid, community and street a point falls in (what the report page shows before sending)."""
    return await reporters.where(conn, query.lon, query.lat, query.crs)


@router.get("/grids/{code}", response_model=GridCentre)
async def grid(code: Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z_-]+$")], who: Public, conn: ConnDep):
    """A grid's name and a point inside it (the report page's pin when the phone gives no position)."""
    return await reporters.grid_centre(conn, code)


@router.post("/incidents/{tracking_code}/rating", response_model=RatingOut)
async def rate(tracking_code: TrackingCode, body: RatingIn, request: Request,
               who: PublicAlwaysLimited, conn: ConnDep, token: ReporterToken):
    """Rate the outcome once the case is closed (满意度评价); once only."""
    return await reporters.rate(conn, who, tracking_code, token, body, request.app.state.settings)
