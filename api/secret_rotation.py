"""Rotating keys. contact: every stored contact re-encrypted under the new key in one
transaction, readable under it afterwards; nothing changes when any contact is unreadable.
jwt: every session ends (the new token key refuses the old tokens; the database agrees).
qr: nothing in the database changes; the rotation and its overlap are in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography.fernet import InvalidToken
from psycopg import AsyncConnection

from api import audit, contact
from api.sqlfiles import sql

BATCH = 2000


class RotationError(Exception):
    pass


async def reseal_contacts(conn: AsyncConnection, keys: str, progress: Callable[[int], None] = lambda n: None) -> int:
    """Re-encrypt every stored contact under the first of ``keys`` (comma-separated Fernet keys,
    each of which may read the old ones), in the caller's transaction. Returns how many."""
    done, unreadable = 0, 0
    # reporters' contacts, then the places register's (api.places): the same key seals both
    for sealed_sql, reseal_sql in (("contacts_sealed", "contacts_reseal"),
                                   ("place_contacts_sealed", "place_contacts_reseal")):
        after = 0
        while rows := await sql.fetchall(conn, sealed_sql, {"after_id": after, "batch": BATCH}):
            ids, sealed = [], []
            for row in rows:
                try:
                    sealed.append(contact.reseal(keys, row["reporter_contact"]))
                    ids.append(row["id"])
                except InvalidToken:
                    unreadable += 1
            if ids:
                await sql.execute(conn, reseal_sql, {"ids": ids, "sealed": sealed})
            done += len(ids)
            after = rows[-1]["id"]
            progress(done)
    if unreadable:
        raise RotationError(f"{unreadable} stored contact(s) cannot be read with any of the keys given: nothing "
                            f"changed (GRIDGOV_CONTACT_KEY=NEW,OLD must include the key they were sealed with)")
    return done


async def end_sessions(conn: AsyncConnection, actor: str = "cli") -> int:
    """End every live session (the token key is rotated), with one audit row; returns how many."""
    n = await sql.scalar(conn, "auth_sessions_revoke_all")
    await audit.record(conn, actor=actor, action="rotate_token_key", entity="session", after={"ended": n})
    return int(n or 0)


async def record_qr_rotation(conn: AsyncConnection, overlap_until: datetime, actor: str = "cli") -> None:
    """The audit row of a QR key rotation: until when posters signed with the previous key are accepted."""
    await audit.record(conn, actor=actor, action="rotate_qr_key", entity="qr_key",
                       after={"previous_accepted_until": overlap_until.isoformat()})
