"""Open311 client apps and their API keys (``gridgov apikey add|list|revoke``).

A key is shown once, when it is issued; the database keeps only its keyed digest
(:func:`api.keyed.keyed_hash` under ``GRIDGOV_HASH_KEY``, kept when the token key rotates), so
a copy of the database does not reveal or let anyone brute-force a key. A revoked client keeps
its row: the requests it posted still name it.
"""

from __future__ import annotations

import secrets

from psycopg import AsyncConnection

from api import audit
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.keyed import keyed_hash
from api.sqlfiles import sql
from api.text import bad_text_reason

KEY_LABEL = "open311-api-key"
KEY_PREFIX = "o311_"
MAX_NAME = 100


def key_digest(secret: str, api_key: str) -> str:
    return keyed_hash(secret, KEY_LABEL, api_key)


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or bad_text_reason(name):
        raise Invalid(f"the client name must be 1 to {MAX_NAME} characters of text", field="name")
    return name


async def add(conn: AsyncConnection, secret: str, name: str, *, actor: str = "cli") -> str:
    """Register a client app; returns its new API key (shown once, never stored)."""
    name = _check_name(name)
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = await sql.fetchone(conn, "open311_client_insert", {
        "name": name, "key_hash": key_digest(secret, api_key), "created_by": actor})
    if row is None:
        raise Conflict(f"a client app named {name!r} already exists", field="name")
    await audit.record(conn, actor=actor, action="create", entity="open311_client", entity_id=name,
                       after={"name": name})
    return api_key


async def listing(conn: AsyncConnection) -> list[dict]:
    return await sql.fetchall(conn, "open311_clients")


async def revoke(conn: AsyncConnection, name: str, *, actor: str = "cli") -> bool:
    """Revoke a client's key at once; False when it was revoked before."""
    row = await sql.fetchone(conn, "open311_client_revoke", {"name": name.strip()})
    if row is None:
        raise NotFound(f"no client app named {name!r}", field="name")
    if row["was_revoked_at"] is not None:
        return False
    await audit.record(conn, actor=actor, action="revoke", entity="open311_client", entity_id=name.strip(),
                       before={"revoked": False}, after={"revoked": True})
    return True


async def authenticate(conn: AsyncConnection, secret: str, api_key: str | None) -> dict:
    """The client app holding ``api_key``; 403 naming ``api_key`` when it is missing, unknown or revoked."""
    if not api_key:
        raise Forbidden("an api_key is required to post requests (the district issues one per client app)",
                        field="api_key")
    row = await sql.fetchone(conn, "open311_client_by_key", {"key_hash": key_digest(secret, api_key)})
    if row is None:
        raise Forbidden("invalid api_key", field="api_key")
    if row["revoked_at"] is not None:
        raise Forbidden("this api_key has been revoked", field="api_key")
    return {"id": row["id"], "name": row["name"]}
