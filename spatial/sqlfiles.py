"""SQL files beside the package that runs them, one file a query, loaded once.

``spatial`` keeps its spatial queries in ``spatial/sql/``; the API keeps accounts, audit,
incidents and catalog queries in ``api/sql/`` and loads them with the same helper:
``sql = SqlFiles("api")``.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")  # SQLAlchemy's ``:name`` (not ``::type`` casts)


def pyformat(query: str) -> tuple[str, frozenset[str]]:
    """``query`` with psycopg's ``%(name)s`` placeholders (literal ``%`` doubled), and the names."""
    escaped = query.replace("%", "%%")
    return BIND.sub(r"%(\1)s", escaped), frozenset(BIND.findall(escaped))


class SqlFiles:
    """``<package>/sql/<name>.sql`` as SQLAlchemy text clauses (bound ``:name`` parameters)."""

    def __init__(self, package: str):
        self.package = package
        self.text = functools.cache(self._read)
        self.clause = functools.cache(lambda name: text(self.text(name)))
        self.driver_text = functools.cache(lambda name: pyformat(self.text(name))[0])

    def _read(self, name: str) -> str:
        return resources.files(self.package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")

    def __call__(self, name: str) -> TextClause:
        return self.clause(name)

    async def fetchone(self, conn: AsyncConnection | psycopg.AsyncConnection, name: str, params: dict[str, Any]):
        """The first row (attributes by column name; None if none) of one query, run straight on
        the psycopg connection, prepared: for the hot paths, where SQLAlchemy's statement
        machinery (compile, cursor wrappers, greenlet hand-over) costs about 0.17 ms a call.

        ``conn``: a SQLAlchemy connection (its psycopg connection, same transaction, is used) or
        a psycopg one (the autocommit pool's, ``api.db.make_autocommit_pool``)."""
        driver = conn if isinstance(conn, psycopg.AsyncConnection) else \
            (await conn.get_raw_connection()).driver_connection
        cursor = driver.cursor(row_factory=namedtuple_row)
        try:
            await cursor.execute(self.driver_text(name), params)
            return await cursor.fetchone()
        finally:
            await cursor.close()


sql = SqlFiles("spatial")
raw_sql = sql.text
