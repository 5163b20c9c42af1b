"""The principals of one app worker, so that a known session costs no database round trip.

An entry (the account, its unit and grants; never the client address, which belongs to the
request) is keyed by (session id, user id) and lives at most ``settings.auth_cache_s`` seconds
and never beyond the session's expiry. It is dropped as soon as the database says the session,
the account or its grants changed: migration 0013 sends ``{"t": "sessions"|"users", "ids": [...]}``
(or ``"all": true``) on channel ``gridgov_cache`` from the writing transaction, and the worker's
LISTEN connection (:class:`api.live.hub.LiveHub`) hands those notes to :meth:`PrincipalCache.note`.

While that connection is down notifications may be lost, so the cache is then bypassed, and it
is emptied whenever the connection is lost or made again (``trusted`` reports the hub's state).

A lookup that misses reads the database; what it read is stored only if no invalidation arrived
in between (``generation``), so a revocation that commits while a request is reading the old
state cannot leave that old state behind in the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from api.auth.principal import Principal

MAX_ENTRIES = 10_000  # logged-in sessions a worker remembers; beyond: expired ones go, else all

Key = tuple[str, int]


class PrincipalCache:
    def __init__(self, ttl_s: float, trusted: Callable[[], bool] = lambda: False,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.trusted = trusted          # True while the invalidation channel is listened to
        self.clock = clock
        self.generation = 0             # bumped by every invalidation
        self.entries: dict[Key, tuple[float, Principal]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and self.trusted()

    def get(self, session_id: str, user_id: int, client: str) -> Principal | None:
        """The cached principal with this request's client address, or None."""
        if not self.enabled:
            return None
        hit = self.entries.get((session_id, user_id))
        if hit is None:
            return None
        until, principal = hit
        if self.clock() >= until:
            self.entries.pop((session_id, user_id), None)
            return None
        return replace(principal, client=client)

    def put(self, principal: Principal, expires_at: datetime, generation: int) -> None:
        """Remember ``principal`` if nothing was invalidated since ``generation`` was read."""
        if not self.enabled or generation != self.generation:
            return
        if principal.session_id is None or principal.user_id is None:  # only sessions are cached
            return
        left = expires_at.timestamp() - time.time()  # the session's own end
        ttl = min(self.ttl_s, left)
        if ttl <= 0:
            return
        if len(self.entries) >= MAX_ENTRIES:
            self._evict()
        self.entries[(principal.session_id, principal.user_id)] = (self.clock() + ttl, replace(principal, client=""))

    def _evict(self) -> None:
        now = self.clock()
        for key in [k for k, (until, _) in self.entries.items() if until <= now]:
            del self.entries[key]
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()

    def drop_session(self, session_id: str | None) -> None:
        """This worker ended the session (logout): forget it now, before the notification."""
        self.generation += 1
        for key in [k for k in self.entries if k[0] == session_id]:
            del self.entries[key]

    def note(self, note: dict[str, Any]) -> None:
        """One ``gridgov_cache`` notification (``sessions`` or ``users``), or ``all`` after a reconnect."""
        self.generation += 1
        if note.get("all") or not isinstance(note.get("ids"), list):
            self.entries.clear()
            return
        ids = {str(i) for i in note["ids"]}
        position = 0 if note.get("t") == "sessions" else 1
        for key in [k for k in self.entries if str(k[position]) in ids]:
            del self.entries[key]
