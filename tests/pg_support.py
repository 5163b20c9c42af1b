"""Async psycopg connections for tests that call the app's services directly (as the command
line does), and a runner for a test's own SQL with ``:name`` binds on them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy.engine import make_url

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


@contextmanager
def scratch_database(database_url: str, suffix: str, *, template: str | None) -> Iterator[str]:
    """A database of the test's own beside the session's, for work that must not reach the other
    tests (a key rotation, a second district, a restore): a copy of ``template`` (the sample
    database), or an empty one (``template=None``, from template0). Its URL; dropped after."""
    url = make_url(database_url)
    name = f"{url.database}_{suffix}"
    admin = libpq_url(url.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sample_database(settings) -> str:
    """The name of the database the session's copy was made from (`make run`'s)."""
    return make_url(settings.model_copy(update={"database_url": None}).url).database
