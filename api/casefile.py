"""The case file (一事一档): its events, one step each, and the handles a resident follows a case
by (tracking code, reporter token, known only by its digest). Intake, me-too, ratings, the
workflow and Open311 all write here; this module imports none of them."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime

from api.sqlfiles import sql

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
REPORTER = "reporter"  # the actor of a public report's events: never an address or a name


def new_tracking_code() -> str:
    """Unguessable, readable over the phone: ``XA-7K3M-9QXR-2PLD`` (about 60 bits)."""
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(12))
    return f"XA-{body[:4]}-{body[4:8]}-{body[8:]}"


def hash_token(token: str) -> str:
    """Reporter tokens carry 144+ random bits: a plain digest cannot be brute-forced."""
    return hashlib.sha256(token.encode()).hexdigest()


async def add_event(conn, incident_id: int, *, actor: str, kind: str, from_status: str | None = None,
                    to_status: str | None = None, note: str | None = None, data: dict | None = None,
                    at: datetime | None = None) -> int:
    """Write one step into the case file; returns the event id."""
    return await sql.scalar(conn, "incident_event_insert", {
        "incident_id": incident_id, "actor": actor, "kind": kind, "from_status": from_status,
        "to_status": to_status, "note": note, "data": json.dumps(data or {}, ensure_ascii=False, default=str),
        "at": at,
    })
