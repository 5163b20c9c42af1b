"""Photos of a case: cleaned (:mod:`api.images`: decoded within a budget, re-encoded without
any metadata), stored by content, linked to the case, read back by those who may see it.

Decoding runs in threads, at most :data:`MAX_DECODES` at once per worker: each picture may
hold a few times ``api.images.DECODE_BUDGET_BYTES`` while it is cleaned, and uploads beyond
that wait their turn (without a thread) instead of multiplying the worker's memory.
"""

from __future__ import annotations

import hashlib

import anyio
from psycopg import AsyncConnection

from api import audit
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import NotFound
from api.images import MAX_PHOTO_BYTES, clean_image
from api.sqlfiles import sql

__all__ = ["MAX_DECODES", "MAX_PHOTO_BYTES", "clean_image", "fetch", "store", "upload"]

MAX_DECODES = 2  # pictures decoded at once per worker (two cores a worker at most; memory, see above)
DECODING = anyio.CapacityLimiter(MAX_DECODES)


async def upload(conn: AsyncConnection, who: Principal, incident_id: int, data: bytes) -> dict:
    """Store a photo and link it to a case the caller works on (its unit's, or in its area)."""
    r = reach(who, Capability.WORK_ASSIGNMENTS)
    if (await sql.fetchone(conn, "incident_in_reach", {"id": incident_id, **r.params()})) is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    return await store(conn, who, incident_id, data, actor=who.actor)


async def store(conn: AsyncConnection, who: Principal, incident_id: int, data: bytes, *, actor: str) -> dict:
    """Clean, store (once per content) and link a photo to a case; the audit row names ``who``."""
    # a 12-megapixel photo takes ~170 ms to decode and re-encode: off the event loop, two at a time
    clean, media_type, width, height = await anyio.to_thread.run_sync(clean_image, data, limiter=DECODING)
    digest = hashlib.sha256(clean).hexdigest()
    await sql.execute(conn, "attachment_insert", {"sha256": digest, "media_type": media_type, "bytes": clean,
                                                  "width": width, "height": height, "actor": actor})
    await sql.execute(conn, "attachment_link_case", {"incident_id": incident_id, "sha256": digest, "actor": actor})
    doc = {"sha256": digest, "media_type": media_type, "width": width, "height": height}
    await audit.record(conn, actor=who.actor, action="attach", entity="incident", entity_id=incident_id,
                       after=doc, client=who.client)
    return doc


async def fetch(conn: AsyncConnection, who: Principal, sha256: str) -> tuple[bytes, str]:
    """A stored photo, if it belongs to a case the caller may read in detail."""
    r = reach(who, Capability.READ_INCIDENT_DETAILS)
    row = await sql.fetchone(conn, "attachment_in_reach", {"sha256": sha256, **r.params()})
    if row is None:
        raise NotFound("no such photo", field="sha256")
    return row["bytes"], row["media_type"]
