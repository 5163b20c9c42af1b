"""SQL files beside the package that runs them, one file a query, loaded once.

``spatial`` keeps its spatial queries in ``spatial/sql/``; the API keeps accounts, audit,
incidents and catalog queries in ``api/sql/`` and loads them with the same helper:
``sql = SqlFiles("api")``.
"""

from __future__ import annotations

import functools
from importlib import resources

from sqlalchemy import TextClause, text


class SqlFiles:
    """``<package>/sql/<name>.sql`` as SQLAlchemy text clauses (bound ``:name`` parameters)."""

    def __init__(self, package: str):
        self.package = package
        self.text = functools.cache(self._read)
        self.clause = functools.cache(lambda name: text(self.text(name)))

    def _read(self, name: str) -> str:
        return resources.files(self.package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")

    def __call__(self, name: str) -> TextClause:
        return self.clause(name)


sql = SqlFiles("spatial")
raw_sql = sql.text
