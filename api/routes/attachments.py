"""Photos of a case: upload (EXIF stripped) and read back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from api import attachments
from api.auth.access import Access
from api.auth.policy import Capability
from api.auth.principal import Principal
from api.db import ConnDep

router = APIRouter(tags=["attachments"])

FieldWorker = Annotated[Principal, Depends(Access(Capability.WORK_ASSIGNMENTS))]
DetailReader = Annotated[Principal, Depends(Access(Capability.READ_INCIDENT_DETAILS))]


class Attachment(BaseModel):
    sha256: str
    media_type: str
    width: int
    height: int


@router.post("/api/incidents/{incident_id}/attachments", response_model=Attachment, status_code=201)
async def upload_photo(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)], who: FieldWorker, conn: ConnDep,
                       file: UploadFile = File(description="a JPEG, PNG or WebP photo, at most 8 MB")):
    """Attach a photo to a case you work on; metadata (EXIF, GPS) is removed before it is stored.

    Send its sha256 in ``photos`` when reporting back (回单)."""
    data = await file.read(attachments.MAX_PHOTO_BYTES + 1)
    return await attachments.upload(conn, who, incident_id, data)


@router.get("/api/attachments/{sha256}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
async def read_photo(sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")], who: DetailReader, conn: ConnDep):
    """A photo attached to a case you may read in detail."""
    data, media_type = await attachments.fetch(conn, who, sha256)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})
