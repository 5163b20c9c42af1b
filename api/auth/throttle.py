"""Back-off on failed secret checks, per key, shared by every worker (in PostgreSQL).

A key is what the attacker guesses against: ``login:<username>`` (whether or not the
account exists, so the answer tells nothing about it) or ``track:<tracking code>``.
The ``FREE_FAILURES``-th failure within ``WINDOW_S`` locks the key for 2 s, and each
further one for twice as long as the last (4 s, 8 s ... at most 15 minutes); a success
clears it.
While locked, the secret is not even checked: the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from api.errors import TooManyRequests
from api.sqlfiles import sql

FREE_FAILURES = 5
BASE_LOCK_S = 2
MAX_LOCK_S = 900
WINDOW_S = 3600  # failures older than this are forgotten


async def check(conn: AsyncConnection, key: str, field: str) -> None:
    wait = await sql.scalar(conn, "throttle_check", {"key": key})
    if wait:
        raise TooManyRequests(f"too many failed attempts; retry in {wait} s", field=field, retry_after=wait,
                              code="too_many_attempts")


async def failed(conn: AsyncConnection, key: str) -> None:
    await sql.execute(conn, "throttle_fail", {"key": key, "free": FREE_FAILURES, "base_s": BASE_LOCK_S,
                                              "max_s": MAX_LOCK_S, "window_s": WINDOW_S})


async def cleared(conn: AsyncConnection, key: str) -> None:
    await sql.execute(conn, "throttle_clear", {"key": key})
