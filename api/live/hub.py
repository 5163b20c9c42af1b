"""One LISTEN connection per app worker, fanned out to that worker's live subscribers.

PostgreSQL delivers a NOTIFY only when the writing transaction commits (the triggers of
migration 0008 send them), so nothing is announced that did not happen. The hub reads the rows
behind each batch of notifications once, then hands every subscriber what its reach allows
(:mod:`api.live.documents`). A subscriber too slow to keep up, or a hub that lost its
connection, tells the clients to resynchronise: they reconnect with ``Last-Event-ID`` and the
stream replays what they missed from the case files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from api.live import documents
from api.live.documents import Sight
from api.settings import Settings, libpq_url
from api.sqlfiles import sql

log = logging.getLogger("gridgov.live")

CHANNEL = "gridgov_live"   # the triggers' channel (migration 0008)
CACHE_CHANNEL = "gridgov_cache"  # cache invalidation (migration 0013): {"t": "sessions"|"users"|"areas", ...}
BATCH_ROWS = 2000          # events read per notification batch; a bigger burst: resync
QUEUE_MAX = 1000           # frames buffered per subscriber before it is told to resync
RECONNECT_S = (0.5, 1, 2, 5)


@dataclass(eq=False)
class Subscriber:
    sight: Sight
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflowed: bool = False

    def offer(self, item: bytes, event_id: int | None = None) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((event_id, item))
        except asyncio.QueueFull:  # a stalled client: let it catch up from the case files
            self.overflowed = True


def listening(app) -> bool:
    """Whether this worker hears the NOTIFYs now (its caches may be trusted): the app's hub is
    started and its connection is up."""
    hub = getattr(app.state, "live", None)
    return hub is not None and hub.connected.is_set()


class LiveHub:
    def __init__(self, pool: AsyncConnectionPool, settings: Settings):
        self.pool = pool  # the worker's pool: the rows behind the notes (the LISTEN connection is its own)
        self.dsn = libpq_url(settings.url)
        self.subscribers: set[Subscriber] = set()
        self.connected = asyncio.Event()
        self.last_event_id: int | None = None  # the newest event handed out (replayed after a reconnect)
        self.backend_pid: int | None = None  # of the listening connection
        self._task: asyncio.Task | None = None
        self._cache_handlers: dict[str, list[Callable[[dict], None]]] = {}

    def on_cache(self, kind: str, handler: Callable[[dict], None]) -> None:
        """Call ``handler(note)`` for each ``gridgov_cache`` note of type ``kind`` ("sessions", "users",
        "areas"), in the hub's task, before anything else is read. While the listening connection is
        down notes may be lost: ``handler({"t": kind, "all": True})`` is called when it is lost and
        again once it is back, and ``connected`` is clear in between (trust no cache then)."""
        self._cache_handlers.setdefault(kind, []).append(handler)

    def _cache_note(self, note: dict) -> None:
        for handler in self._cache_handlers.get(note.get("t"), ()):
            try:
                handler(note)
            except Exception:
                log.exception("live: a cache handler failed on %s", note.get("t"))

    def _cache_lost(self) -> None:
        for kind in self._cache_handlers:
            self._cache_note({"t": kind, "all": True})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gridgov-live")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, sight: Sight) -> Subscriber:
        sub = Subscriber(sight)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CACHE_CHANNEL}")
                    await conn.execute(f"LISTEN {CHANNEL}")  # last: pg_stat_activity shows it (tests look)
                    self.backend_pid = conn.info.backend_pid
                    self._cache_lost()  # whatever was cached before now may have missed a note
                    self.connected.set()
                    if attempt:  # notifications sent while we were away: read them from the tables
                        await self._catch_up()
                    attempt = 0
                    await self._listen(conn)
            except asyncio.CancelledError:
                self.connected.clear()
                self._cache_lost()
                raise
            except Exception as exc:  # the database went away: keep the clients, try again
                self.connected.clear()
                self._cache_lost()
                delay = RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)]
                attempt += 1
                log.warning("live: listening connection lost (%s); retrying in %ss", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    async def _listen(self, conn: psycopg.AsyncConnection) -> None:
        while True:
            batch = [self._note(n) async for n in conn.notifies(stop_after=1)]
            # what else arrives within 10 ms: a burst costs one read, not one per statement
            batch += [self._note(n) async for n in conn.notifies(timeout=0.01)]
            batch = [note for note in batch if note is not None]
            if not batch:
                continue
            try:
                await self._dispatch(batch)
            except Exception:
                log.exception("live: could not read a notified change; clients told to resync")
                self._broadcast(documents.frame("resync", {"reason": "server"}))

    def _note(self, notify: psycopg.Notify) -> dict | None:
        """A live note for the batch; cache notes are handed to their handlers at once (None)."""
        note = orjson.loads(notify.payload)
        if notify.channel == CACHE_CHANNEL:
            self._cache_note(note)
            return None
        return note

    async def _dispatch(self, notes: list[dict]) -> None:
        ranges = [(n["from"], n["to"]) for n in notes if n.get("t") == "events"]
        unit_codes = sorted({c for n in notes if n.get("t") == "units" for c in n.get("codes", ())})
        reload_units = any(n.get("t") == "units" and n.get("all") for n in notes)
        if ranges:
            await self._events(min(lo for lo, _ in ranges), max(hi for _, hi in ranges))
        if reload_units:
            self._broadcast(documents.frame("units_reload"), units=True)
        elif unit_codes:
            await self._units(unit_codes)

    async def _events(self, lo: int, hi: int) -> None:
        params = {"lo": lo, "hi": hi, "after": None, "limit": BATCH_ROWS + 1,
                  "everywhere": True, "scope": [], "unit": None}  # every subscriber's filter is applied below
        async with self.pool.connection() as conn:
            rows = await sql.fetchall(conn, "live_events", params)
        if len(rows) > BATCH_ROWS:  # a bulk load: nobody watches it row by row
            self._broadcast(documents.frame("resync", {"reason": "bulk"}))
            self.last_event_id = max(self.last_event_id or 0, hi)
            return
        for row in rows:
            for sub in list(self.subscribers):
                doc = documents.incident_view(sub.sight, row)
                if doc is not None:
                    sub.offer(documents.frame("incident", doc, event_id=row["event_id"]), row["event_id"])
            self.last_event_id = max(self.last_event_id or 0, row["event_id"])

    async def _units(self, codes: list[str]) -> None:
        async with self.pool.connection() as conn:
            rows = await sql.fetchall(conn, "live_units", {"codes": codes})
        for row in rows:
            for sub in list(self.subscribers):
                doc = documents.unit_view(sub.sight, row)
                if doc is not None:
                    sub.offer(documents.frame("unit", doc))

    async def _catch_up(self) -> None:
        """After a lost connection: the events written meanwhile, from the case files."""
        if self.last_event_id is None:
            self._broadcast(documents.frame("resync", {"reason": "reconnected"}))
            return
        async with self.pool.connection() as conn:
            newest = await sql.scalar(conn, "live_newest_event")
        if newest and newest > self.last_event_id:
            await self._events(self.last_event_id + 1, newest)
        self._broadcast(documents.frame("units_reload"), units=True)

    def _broadcast(self, item: bytes, *, units: bool = False) -> None:
        for sub in list(self.subscribers):
            if not units or sub.sight.units.anything:
                sub.offer(item)
