"""The async engine (on ``app.state``) and the per-request connection dependency."""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
import psycopg
from fastapi import Depends, Request
from psycopg import _queries as _psycopg_queries
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from api.settings import Settings, libpq_url

# Connections kept open per worker. A connection beyond the pool is closed when it is given
# back, so a pool smaller than the requests in flight opens and closes a PostgreSQL backend
# (a fork, cold caches, every statement planned again) for nearly every request: at 8
# concurrent reports that capped intake near 120/s on 2 cores. A request holds at most one of
# this pool; its access check (a session read on a cache miss, the public rate limit) takes
# one of the check pool briefly.
POOL_SIZE = 20
POOL_OVERFLOW = 10
CHECK_POOL_SIZE = 8  # the autocommit pool (access checks, routing preview, area tiles): up to twice this
IDLE_PING_S = 5.0  # a pooled connection idle longer than this is pinged before use (one round trip)
# The request pool hands out the connection given back last (LIFO): the one whose statements
# are prepared and whose caches are warm, and never one idle long enough to need the ping; the
# connections a burst opened stay idle at the back. The autocommit pool (psycopg_pool) takes
# the oldest, but starts with one connection and opens another only when every one is busy.
PREPARE_THRESHOLD = 1  # psycopg prepares a query on its 2nd execution on a connection (default: 6th)
PREPARED_MAX = 200  # prepared statements kept per connection (psycopg's default 100; the app has ~150 queries)
QUERY_CACHE_CHARS = 32_768  # psycopg re-parses every query longer than 4096 characters on each call;
# route_point.sql is about 8000: keep its parsed form too (psycopg is pinned; the knob is module-level)
if getattr(_psycopg_queries, "MAX_CACHED_STATEMENT_LENGTH", QUERY_CACHE_CHARS) < QUERY_CACHE_CHARS:
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = QUERY_CACHE_CHARS


def make_engine(settings: Settings) -> AsyncEngine:
    """The pool: no ping per request; a connection idle for a while is pinged first, and a
    connection error met by a query invalidates the whole pool (SQLAlchemy's default), so the
    app recovers by itself after the database restarts."""
    engine = create_async_engine(settings.url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=False,
                                 pool_use_lifo=True, connect_args={"prepare_threshold": PREPARE_THRESHOLD})
    _tune_pool(engine)
    return engine


def make_autocommit_pool(settings: Settings) -> AsyncConnectionPool:
    """The app's pool of AUTOCOMMIT connections for single statements that hold no other
    connection while they run: the access checks (public rate limit, the session behind a token
    the worker has not cached), the routing preview and the area tiles. Not opened yet
    (``await pool.open()`` in the lifespan).

    Plain psycopg (``psycopg_pool``), not SQLAlchemy: these are the hottest reads, one prepared
    statement each, and SQLAlchemy's async checkout, greenlet hand-overs and return cost about
    0.2 ms a call on top of a 0.2-0.3 ms statement (bench section 8).

    Separate from the request pool on purpose: a request holds its connection while its access
    check runs, so drawing both from one pool could leave every request waiting for a second
    connection that no request gives back. A connection idle longer than ``IDLE_PING_S`` is
    pinged when handed out, and one that fails the ping is replaced, so the pool recovers by
    itself after the database restarts; a statement that meets a dead connection is a 503."""
    return AsyncConnectionPool(
        libpq_url(settings.url), min_size=1, max_size=2 * CHECK_POOL_SIZE, timeout=10, open=False,
        name="autocommit", kwargs={"autocommit": True, "prepare_threshold": PREPARE_THRESHOLD},
        configure=_configure_autocommit, check=_ping_if_idle)


_last_use: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tune_driver(conn: psycopg.AsyncConnection) -> None:
    """Every new connection of either pool: more prepared statements kept, and json/jsonb
    results (the routing document) parsed by orjson."""
    conn.prepared_max = PREPARED_MAX
    set_json_loads(orjson.loads, conn)


async def _configure_autocommit(conn: psycopg.AsyncConnection) -> None:
    _tune_driver(conn)
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


def _tune_pool(engine: AsyncEngine) -> None:
    """Prepared statements and orjson on every connection; a ping only after a quiet spell."""
    dialect = engine.sync_engine.dialect
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "connect")
    def _fresh(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()
        _tune_driver(dbapi_connection.driver_connection)

    @event.listens_for(pool, "checkin")
    def _idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping(dbapi_connection, record, proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < IDLE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:  # the server went away: every pooled connection is stale
            raise exc.InvalidatePoolError(str(error)) from error


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.begin() as conn:
        yield conn


# scope="function": commit when the route returns, before the answer is sent (FastAPI's
# default "request" scope would commit after the client already has its 201).
ConnDep = Annotated[AsyncConnection, Depends(get_conn, scope="function")]


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection without a transaction: each statement commits by itself (fsync on).

    For reads, and for writes that are one statement each. It never ends with a ROLLBACK, which
    matters: psycopg forgets every prepared statement of a connection on a rollback, so a read
    closed without commit (``engine.connect()``) would make the next request on that connection
    parse and plan its queries again (route_point.sql: about 1.5 ms)."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")
