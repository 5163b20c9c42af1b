"""One subscriber's Server-Sent Events stream: what it missed, then what happens, filtered.

Messages (``event:`` names):

* ``hello`` — ``{"listening": bool, "units": bool}``: connected; whether unit moves come too;
* ``incident`` (with ``id:``, the case-file event id that ``Last-Event-ID`` resumes from) —
  ``{"event_id", "incident_id", "kind", "status", "category", "detailed", "at", "to_status",
  "priority", "due_at", "lon", "lat", "grid_code"}``; for callers without detail rights
  (``detailed`` false) the place is rounded to about 100 m and the times to the hour;
* ``unit`` — ``{"code", "name", "department", "status", "station_code", "lon", "lat", "position_at"}``;
* ``units_reload`` — many units changed at once: reload the unit layer;
* ``resync`` — the stream cannot say what changed (a bulk load, a stalled client): reconnect
  with ``Last-Event-ID``, or reload;
* ``end`` — the session ended (logout, expiry, deactivation): refresh the token and reconnect.

A comment line every ``PING_S`` seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from psycopg_pool import AsyncConnectionPool

from api.auth.principal import Principal
from api.auth.users import principal_for
from api.errors import ApiError
from api.live import documents
from api.live.documents import Sight
from api.live.hub import LiveHub
from api.settings import Settings
from api.sqlfiles import sql

PING_S = 15
SESSION_CHECK_S = 20   # a logout or deactivation ends an open stream within this
REPLAY_MAX = 5000      # more missed than this: resync instead
SEEN_MAX = 4096


async def _replay(pool: AsyncConnectionPool, sight: Sight, after: int) -> list[dict]:
    async with pool.connection() as conn:
        return await sql.fetchall(conn, "live_events", {"after": after, "lo": None, "hi": None,
                                                        "limit": REPLAY_MAX + 1, **sight.incidents.params()})


async def _session_alive(checks: AsyncConnectionPool, settings: Settings, token: str, client: str) -> bool:
    try:
        await principal_for(checks, settings, token, client)
        return True
    except ApiError:
        return False


async def events(hub: LiveHub, pool: AsyncConnectionPool, settings: Settings,
                 who: Principal, token: str, last_event_id: int | None, *, once: bool = False) -> AsyncIterator[bytes]:
    """The frames of one stream; subscribed before the replay so nothing falls in between.
    ``pool``: the app's pool, for the replay and the session checks (a connection each time, given
    back at once: a stream holds none while it waits).
    ``once``: only the hello and the replay, then the answer ends (clients that poll)."""
    sight = Sight.of(who)
    sub = hub.subscribe(sight)
    seen: set[int] = set()
    try:
        yield b"retry: 2000\n\n"
        yield documents.frame("hello", {"listening": hub.connected.is_set(), "units": sight.units.anything})
        if last_event_id is not None:
            rows = await _replay(pool, sight, last_event_id)
            if len(rows) > REPLAY_MAX:
                yield documents.frame("resync", {"reason": "too_many_missed"})
                return
            for row in rows:
                doc = documents.incident_view(sight, row)
                if doc is not None:
                    seen.add(row["event_id"])
                    yield documents.frame("incident", doc, event_id=row["event_id"])
        if once:
            return
        next_check = time.monotonic() + SESSION_CHECK_S
        while True:
            try:
                event_id, item = await asyncio.wait_for(sub.queue.get(), timeout=PING_S)
            except TimeoutError:
                event_id, item = None, documents.PING
            if event_id is not None:
                if event_id in seen:
                    continue
                if len(seen) < SEEN_MAX:
                    seen.add(event_id)
            yield item
            if sub.overflowed and sub.queue.empty():
                yield documents.frame("resync", {"reason": "slow_client"})
                return
            if time.monotonic() > next_check:
                if not await _session_alive(pool, settings, token, who.client):
                    yield documents.frame("end", {"reason": "session"})
                    return
                next_check = time.monotonic() + SESSION_CHECK_S
    finally:
        hub.unsubscribe(sub)
