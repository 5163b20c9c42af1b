"""Audit log of every write: who, when, what, before/after — in the write's transaction."""

from __future__ import annotations

import json
from typing import Any

from api.sqlfiles import sql

REDACT = {"password", "password_hash", "contact", "reporter_contact", "reporter_token", "reporter_token_hash"}


def clean(doc: Any) -> str | None:
    """A before/after document as the audit row stores it: JSON, secrets redacted."""
    if doc is None:
        return None
    if isinstance(doc, dict):
        doc = {k: ("[redacted]" if k in REDACT else v) for k, v in doc.items()}
    return json.dumps(doc, ensure_ascii=False, default=str)


async def record(conn, *, actor: str, action: str, entity: str, entity_id: Any = None,
                 before: Any = None, after: Any = None, client: str | None = None) -> None:
    await sql.execute(conn, "audit_insert", {
        "actor": actor, "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": clean(before), "after": clean(after), "client": client,
    })


async def recent(conn, *, entity: str | None, entity_id: str | None, limit: int) -> list[dict]:
    """The newest audit rows, optionally of one entity."""
    return await sql.fetchall(conn, "audit_select", {"entity": entity, "entity_id": entity_id, "limit": limit})
