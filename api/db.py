"""The app's one connection pool (``pool_of(app)``) and the per-request connection dependency.

One ``psycopg_pool.AsyncConnectionPool`` per worker, of AUTOCOMMIT connections: a statement run
on a connection taken from the pool directly commits by itself (no BEGIN and COMMIT round
trips: the access checks, the routing preview, the area tiles, the live replay); a request's
connection (``ConnDep``) runs in one transaction, committed before the answer is sent.
SQL runs through ``SqlFiles`` (``spatial.sqlfiles``): rows are dictionaries.

A request never holds two connections of the pool: its caller is resolved (``api.auth.access``,
a connection taken and given back at once, or none when the worker has the session cached)
before the route's connection is taken, so one pool cannot deadlock, and a refused caller (401,
403, 429) never takes the route's connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
import psycopg
from fastapi import Depends, Request
from psycopg import _queries as _psycopg_queries
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.settings import Settings, libpq_url

log = logging.getLogger("gridgov.db")

IDLE_PING_S = 5.0  # a pooled connection idle longer than this is pinged before use (one round trip)
PREPARE_THRESHOLD = 1  # psycopg prepares a query on its 2nd execution on a connection (default: 6th)
PREPARED_MAX = 200  # prepared statements kept per connection (psycopg's default 100; the app has ~150 queries)
QUERY_CACHE_CHARS = 32_768  # psycopg re-parses every query longer than 4096 characters on each call;
# route_point.sql is about 8000: keep its parsed form too (psycopg is pinned; the knob is module-level)
if getattr(_psycopg_queries, "MAX_CACHED_STATEMENT_LENGTH", QUERY_CACHE_CHARS) < QUERY_CACHE_CHARS:
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = QUERY_CACHE_CHARS
CHECKOUT_TIMEOUT_S = 10.0  # a request waiting longer than this for a connection is a 503
RECONNECT_S = 10.0  # the pool gives a failed background connection attempt up after this
WAIT_SLICE_S = 0.5  # a waiting request looks whether the database went away this often
LISTEN_CONNECTIONS = 1  # per worker, outside the pool: the live hub's LISTEN connection (api.live.hub)
SPARE_CONNECTIONS = 3  # left for the command line and a psql session beside the workers
BUDGET_QUERY = ("SELECT current_setting('max_connections')::int,"  # and the connections reserved
                " coalesce(current_setting('superuser_reserved_connections', true), '0')::int"
                " + coalesce(current_setting('reserved_connections', true), '0')::int")


class PoolDoesNotFit(RuntimeError):
    """The workers' pools would need more connections than the cluster accepts."""


class Pool(AsyncConnectionPool):
    """``psycopg_pool.AsyncConnectionPool`` that answers at once while the database is down.

    psycopg_pool retries a failed connection in the background (with backoff) and lets a
    request wait for it up to its timeout: a request would hang ``CHECKOUT_TIMEOUT_S`` before
    its 503. Here, once a connection attempt of the pool failed, each request first tries one
    connection of its own: refused (the database is down) is a ``psycopg.OperationalError`` at
    once, a 503 (``api.errors``); accepted (it is back) lets the request wait in the pool as
    usual. Failed background attempts give up after ``RECONNECT_S`` so that requests start
    fresh attempts soon after the database is back (no backoff of minutes)."""

    def __init__(self, conninfo: str, **kwargs):
        self.unreachable = False  # the pool's last connection attempt failed

        pool = self

        class Connection(psycopg.AsyncConnection):
            @classmethod
            async def connect(cls, *args, **kw):
                try:
                    conn = await super().connect(*args, **kw)
                except psycopg.OperationalError:
                    pool.unreachable = True
                    raise
                pool.unreachable = False
                return conn

        super().__init__(conninfo, connection_class=Connection, reconnect_timeout=RECONNECT_S, **kwargs)

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if self.unreachable:
                await self._probe()
            try:  # in slices: a database lost while this request waits is noticed within one
                return await super().getconn(min(WAIT_SLICE_S, max(0.0, deadline - time.monotonic())))
            except PoolTimeout:
                if time.monotonic() >= deadline:
                    raise

    async def _probe(self) -> None:
        # made with a conninfo string and a kwargs dict (make_pool), never the callables psycopg_pool also takes
        assert isinstance(self.conninfo, str) and isinstance(self.kwargs, dict)
        conn = await psycopg.AsyncConnection.connect(self.conninfo, **{**self.kwargs, "connect_timeout": 2})
        await conn.close()
        self.unreachable = False


def make_pool(settings: Settings) -> Pool:
    """The worker's pool, not opened yet (``await open_pool(pool, settings)`` in the lifespan).

    It starts with ``pool_min`` connections and opens more, up to ``pool_size``, only when every
    one is busy; connections above ``pool_min`` idle for 10 minutes are closed. A connection idle
    longer than ``IDLE_PING_S`` is pinged when handed out and replaced when the ping fails, and a
    connection that broke while in use is replaced when given back, so the pool recovers by
    itself after the database restarts (a statement that meets a dead connection is a 503)."""
    return Pool(
        libpq_url(settings.url), min_size=min(settings.pool_min, settings.pool_size), max_size=settings.pool_size,
        timeout=CHECKOUT_TIMEOUT_S, open=False, name="gridgov",
        kwargs={"autocommit": True, "prepare_threshold": PREPARE_THRESHOLD},
        configure=_configure, check=_ping_if_idle)


async def open_pool(pool: AsyncConnectionPool, settings: Settings) -> None:
    """Open the pool after checking that every worker's pool fits the cluster's connections.

    Raises :class:`PoolDoesNotFit` naming the settings when they don't; a database that is not up
    yet is not checked (the pool opens anyway and connects when it can)."""
    try:
        async with await psycopg.AsyncConnection.connect(libpq_url(settings.url), autocommit=True,
                                                         connect_timeout=5) as conn:
            row = await (await conn.execute(BUDGET_QUERY)).fetchone()
            assert row is not None  # a SELECT without FROM: one row
            max_connections, reserved = row
    except psycopg.OperationalError as exc:
        log.warning("connection budget not checked at start (database not reachable: %s)", type(exc).__name__)
    else:
        check_budget(settings, max_connections, reserved)
    await pool.open(wait=False)


def check_budget_sync(settings: Settings) -> None:
    """:func:`check_budget` before a server starts its workers (``gridgov serve``); nothing is
    checked when the database is not reachable yet."""
    try:
        with psycopg.connect(libpq_url(settings.url), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(BUDGET_QUERY).fetchone()
            assert row is not None  # a SELECT without FROM: one row
            max_connections, reserved = row
    except psycopg.OperationalError:
        return
    check_budget(settings, max_connections, reserved)


def check_budget(settings: Settings, max_connections: int, reserved: int) -> None:
    """Fail unless ``workers × (pool_size + LISTEN) + spare`` fits ``max_connections - reserved``."""
    per_worker = settings.pool_size + LISTEN_CONNECTIONS
    need = settings.workers * per_worker + SPARE_CONNECTIONS
    usable = max_connections - reserved
    if need > usable:
        most = max(0, (usable - SPARE_CONNECTIONS) // settings.workers - LISTEN_CONNECTIONS)
        raise PoolDoesNotFit(
            f"{settings.workers} worker(s) x (GRIDGOV_POOL_SIZE={settings.pool_size} + {LISTEN_CONNECTIONS} LISTEN)"
            f" + {SPARE_CONNECTIONS} spare = {need} connections, but the database accepts {usable}"
            f" (max_connections={max_connections} minus {reserved} reserved): lower GRIDGOV_POOL_SIZE"
            f" to at most {most}, run fewer workers, or raise max_connections")


_last_use: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tune(conn: psycopg.AsyncConnection | psycopg.Connection) -> None:
    """More prepared statements kept, and json/jsonb results (the routing document) parsed by orjson."""
    conn.prepared_max = PREPARED_MAX
    set_json_loads(orjson.loads, conn)


async def _configure(conn: psycopg.AsyncConnection) -> None:
    tune(conn)
    _last_use[conn] = time.monotonic()


async def _ping_if_idle(conn: psycopg.AsyncConnection) -> None:
    """Run as a connection is handed out: a ping if it was last handed out a while ago (its
    statements take milliseconds, so that is how long it has been idle). No ``reset`` callback:
    psycopg_pool gives a connection back through a background task when there is one, and a
    request right behind would find the pool empty and open another connection."""
    now = time.monotonic()
    if now - _last_use.get(conn, 0.0) >= IDLE_PING_S:
        await conn.execute("")
    _last_use[conn] = now


async def answers(pool: AsyncConnectionPool, timeout_s: float) -> bool:
    """Whether the database answers a statement on a connection of ``pool`` within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s), pool.connection() as conn:
            await conn.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure is "does not answer"
        return False
    return True


def pool_of(app) -> Pool:
    """The pool of the server this request runs in. A pool belongs to the event loop that opened
    it; a worker has one. The tests serve one app object twice (TestClient beside uvicorn, two
    loops): each server's lifespan registers its own pool (``app.state.pools``)."""
    return app.state.pools[asyncio.get_running_loop()]


async def get_conn(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    """One transaction per request: committed when the route returns, rolled back on error.

    The pool's connection leaves autocommit for the request: its transaction begins with its
    first statement (a route that runs none sends no BEGIN and no COMMIT), and a route may
    commit what it wrote so far before failing (``conn.commit()``: a failed login's audit row,
    a throttle failure), which psycopg forbids inside a ``conn.transaction()`` block."""
    async with pool_of(request.app).connection() as conn:
        await conn.set_autocommit(False)
        try:
            yield conn
        except BaseException as exc:
            if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):  # the node was demoted (a failover):
                await conn.close()  # never hand this connection out again; new ones find the primary
            if not (conn.broken or conn.closed):
                await conn.rollback()
            raise
        else:
            await conn.commit()
        finally:  # back to the pool in autocommit, outside any transaction, whatever happened
            if not (conn.broken or conn.closed):
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.rollback()
                await conn.set_autocommit(True)


# scope="function": commit when the route returns, before the answer is sent (FastAPI's
# default "request" scope would commit after the client already has its 201).
ConnDep = Annotated[psycopg.AsyncConnection, Depends(get_conn, scope="function")]
