"""SQL files beside the package that runs them, one file a query, loaded once: the app's one
way to run SQL.

``spatial`` keeps its spatial queries in ``spatial/sql/``; the API keeps accounts, audit,
incidents and catalog queries in ``api/sql/`` and loads them with the same helper:
``sql = SqlFiles("api")``.

The files bind parameters as ``:name``; each file is turned into psycopg's ``%(name)s`` form
once, when first used, and run straight on a ``psycopg.AsyncConnection`` (prepared after its
first execution on a connection: ``api.db``). Rows come back in ONE shape, dictionaries keyed
by column name (``psycopg.rows.dict_row``): ``row["code"]``.

Transactions are the caller's: the request connection (``api.db.ConnDep``) runs in one explicit
transaction; a connection taken from the pool directly (``async with pool.connection()``) runs
each statement in its own (autocommit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row, tuple_row

# ``:name`` binds, not ``::type`` casts; possessive, so a word right before a colon (``at :now:``
# in a comment) is no bind at all rather than a shorter one (``:no``)
BIND = re.compile(r"(?<![:\w\\]):(\w++)(?!:)")

Params = Mapping[str, Any] | None


def pyformat(query: str) -> tuple[str, frozenset[str]]:
    """``query`` with psycopg's ``%(name)s`` placeholders (literal ``%`` doubled), and the names."""
    escaped = query.replace("%", "%%")
    return BIND.sub(r"%(\1)s", escaped), frozenset(BIND.findall(escaped))


def _merge(params: Params, kw: dict[str, Any]) -> Mapping[str, Any]:
    if not kw:
        return params or {}
    return {**params, **kw} if params else kw


class SqlFiles:
    """``<package>/sql/<name>.sql``, run on a psycopg async connection.

    ``fetchone`` / ``fetchall`` / ``scalar`` / ``execute`` take the connection, the file's name
    and its parameters (a mapping, keywords, or both)."""

    def __init__(self, package: str, planned_per_call: frozenset[str] = frozenset()):
        self.package = package
        # queries never prepared: PostgreSQL plans them for each call's values. A prepared
        # statement switches to a generic plan after five runs, and a generic plan cannot see
        # that a caller's reach is one street (the GIN index on incident.areas) rather than
        # the whole district (a scan): it scans for everyone.
        self.planned_per_call = planned_per_call
        self._texts: dict[str, str] = {}
        self._queries: dict[str, str] = {}

    def text(self, name: str) -> str:
        """The file as written (``:name`` binds)."""
        found = self._texts.get(name)
        if found is None:
            found = self._texts[name] = resources.files(self.package).joinpath(
                "sql", f"{name}.sql").read_text(encoding="utf-8")
        return found

    def define(self, name: str, text: str) -> None:
        """A query composed in code (``:name`` binds), run by name like a file."""
        self._texts[name] = text
        self._queries.pop(name, None)

    def _prepare(self, name: str) -> bool | None:
        return False if name in self.planned_per_call else None   # None: the connection's threshold

    def query(self, name: str) -> str:
        """The file in psycopg's form (``%(name)s`` placeholders), converted once."""
        found = self._queries.get(name)
        if found is None:
            found = self._queries[name] = pyformat(self.text(name))[0]
        return found

    async def fetchone(self, conn: psycopg.AsyncConnection, name: str, params: Params = None,
                       /, **kw: Any) -> DictRow | None:
        """The first row (None when there is none)."""
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(self.query(name), _merge(params, kw), prepare=self._prepare(name))
            return await cur.fetchone()

    async def fetchall(self, conn: psycopg.AsyncConnection, name: str, params: Params = None,
                       /, **kw: Any) -> list[DictRow]:
        """Every row."""
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(self.query(name), _merge(params, kw), prepare=self._prepare(name))
            return await cur.fetchall()

    async def scalar(self, conn: psycopg.AsyncConnection, name: str, params: Params = None,
                     /, **kw: Any) -> Any:
        """The first column of the first row (None when there is no row)."""
        async with conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(self.query(name), _merge(params, kw), prepare=self._prepare(name))
            row = await cur.fetchone()
            return None if row is None else row[0]

    async def execute(self, conn: psycopg.AsyncConnection, name: str, params: Params = None,
                      /, **kw: Any) -> int:
        """Run a statement; the number of rows it touched."""
        async with conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(self.query(name), _merge(params, kw), prepare=self._prepare(name))
            return cur.rowcount

    # the sync twins, for the command line's bulk work on a ``psycopg.Connection``
    def fetchall_sync(self, conn: psycopg.Connection, name: str, params: Params = None, /, **kw: Any) -> list[DictRow]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.query(name), _merge(params, kw))
            return cur.fetchall()

    def execute_sync(self, conn: psycopg.Connection, name: str, params: Params = None, /, **kw: Any) -> int:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(self.query(name), _merge(params, kw))
            return cur.rowcount


sql = SqlFiles("spatial")
raw_sql = sql.text
