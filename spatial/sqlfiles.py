"""The SQL the spatial core runs, one file a query, loaded once."""

from __future__ import annotations

import functools
from importlib import resources

from sqlalchemy import TextClause, text


@functools.cache
def sql(name: str) -> TextClause:
    """Return ``spatial/sql/<name>.sql`` as a SQLAlchemy text clause (bound parameters)."""
    return text(resources.files("spatial").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))


@functools.cache
def raw_sql(name: str) -> str:
    """The same file as a plain string, for psycopg ``%(name)s``-free callers (bench)."""
    return resources.files("spatial").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
