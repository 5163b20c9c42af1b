"""Photos of a case: decoded, re-encoded without any metadata (EXIF, GPS, XMP), stored by content.

Re-encoding the pixels is the only reliable way to drop every metadata block a phone
writes; the EXIF orientation is applied first so the picture still stands the right way.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncConnection

from api import audit
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid, NotFound, TooLarge
from api.sqlfiles import sql

MAX_PHOTO_BYTES = 8_000_000
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """The picture in ``data`` re-encoded without metadata: (bytes, media type, width, height)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge(f"a photo may be at most {MAX_PHOTO_BYTES // 1_000_000} MB", field="file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                kind = img.format
                if kind not in FORMATS:
                    raise Invalid(f"{kind or 'this file'} is not accepted: send a JPEG, PNG or WebP photo", field="file")
                if img.width * img.height > MAX_PIXELS:
                    raise Invalid(f"{img.width}x{img.height} pixels is too large a picture", field="file")
                img.load()
                upright = ImageOps.exif_transpose(img)
                if kind == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                out = io.BytesIO()
                upright.save(out, format=kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
                return out.getvalue(), FORMATS[kind], upright.width, upright.height
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as e:
        raise Invalid(f"not a readable picture ({type(e).__name__})", field="file") from None


async def upload(conn: AsyncConnection, who: Principal, incident_id: int, data: bytes) -> dict:
    """Store a photo and link it to a case the caller works on (its unit's, or in its area)."""
    r = reach(who, Capability.WORK_ASSIGNMENTS)
    if (await conn.execute(sql("incident_in_reach"), {"id": incident_id, **r.params()})).first() is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    return await store(conn, who, incident_id, data, actor=who.actor)


async def store(conn: AsyncConnection, who: Principal, incident_id: int, data: bytes, *, actor: str) -> dict:
    """Clean, store (once per content) and link a photo to a case; the audit row names ``who``."""
    # a 12-megapixel photo takes ~170 ms to decode and re-encode: off the event loop
    clean, media_type, width, height = await asyncio.to_thread(clean_image, data)
    digest = hashlib.sha256(clean).hexdigest()
    await conn.execute(sql("attachment_insert"), {"sha256": digest, "media_type": media_type, "bytes": clean,
                                                  "width": width, "height": height, "actor": actor})
    await conn.execute(sql("attachment_link_case"), {"incident_id": incident_id, "sha256": digest, "actor": actor})
    doc = {"sha256": digest, "media_type": media_type, "width": width, "height": height}
    await audit.record(conn, actor=who.actor, action="attach", entity="incident", entity_id=incident_id,
                       after=doc, client=who.client)
    return doc


async def fetch(conn: AsyncConnection, who: Principal, sha256: str) -> tuple[bytes, str]:
    """A stored photo, if it belongs to a case the caller may read in detail."""
    r = reach(who, Capability.READ_INCIDENT_DETAILS)
    row = (await conn.execute(sql("attachment_in_reach"), {"sha256": sha256, **r.params()})).first()
    if row is None:
        raise NotFound("no such photo", field="sha256")
    return row.bytes, row.media_type
