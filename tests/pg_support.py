"""Async psycopg connections for tests that call the app's services directly (as the command
line does), and a runner for a test's own SQL with ``:name`` binds on them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from api.db import tune
from api.settings import libpq_url
from spatial.sqlfiles import pyformat


async def connect(settings) -> psycopg.AsyncConnection:
    """A connection whose statements run in one transaction until ``commit()`` or ``rollback()``
    (``async with`` commits it, or rolls it back on error, and closes it)."""
    conn = await psycopg.AsyncConnection.connect(libpq_url(settings.url))
    tune(conn)
    return conn


def in_transaction(settings, work: Callable[[psycopg.AsyncConnection], Awaitable[Any]]) -> Any:
    """``await work(conn)`` in one transaction, committed when it returns."""
    async def go():
        async with await connect(settings) as conn:
            return await work(conn)
    return asyncio.run(go())


async def rows(conn: psycopg.AsyncConnection, text: str, params: dict | None = None) -> list[tuple]:
    """A test's own statement (``:name`` binds): its rows as tuples."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(pyformat(text)[0], params or {})
        return await cur.fetchall() if cur.description else []


async def scalar(conn: psycopg.AsyncConnection, text: str, params: dict | None = None) -> Any:
    found = await rows(conn, text, params)
    return found[0][0] if found else None
