"""How a ``gridgov`` command ends: the documented exit codes, and one line saying what is wrong
and what to do for every expected failure (never a traceback). A traceback is left only for
what no operator can cause: a bug."""

from __future__ import annotations

import re
from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0
    FINDINGS = 1     # the command ran and found problems: violations, rows refused in a dry run
    USAGE = 2        # the command line or its input is wrong: an option, a file, a code that does not exist
    ENVIRONMENT = 3  # the setting, the database or an installed piece is missing or broken
    INTERRUPTED = 130


def settings_message(exc) -> str:
    """A refused setting as one line naming the variable and what it expects."""
    parts = []
    for e in exc.errors():
        field = ".".join(str(x) for x in e.get("loc", ()) if x != "__root__")
        name = "DATABASE_URL" if field == "database_url" else f"GRIDGOV_{field.upper()}" if field else ""
        reason = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        shown = f" (given {given!r})" if name and isinstance(given, str | int | float) and "key" not in field else ""
        parts.append(f"{name}: {reason}{shown}" if name else reason)
    return "refusing to start: " + "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _database_down(exc: BaseException) -> str:
    import os

    external = os.environ.get("DATABASE_URL") or os.environ.get("GRIDGOV_DATABASE_URL")
    todo = "check DATABASE_URL and that its server is up" if external else "start it with `gridgov db start`"
    return f"the database is not reachable ({_first_line(exc)}); {todo}"


def explain(exc: BaseException) -> tuple[str, ExitCode] | None:
    """The line and the exit code for an expected failure, or None for a bug."""
    import psycopg
    from alembic.util import CommandError
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import (
        OperationalError as SqlAlchemyOperationalError,
        ProgrammingError as SqlAlchemyProgrammingError,
    )

    from api.embedded_pg import ClusterError
    from api.errors import ApiError
    from spatial.errors import InputError

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", ExitCode.INTERRUPTED
    if isinstance(exc, ValidationError):
        return settings_message(exc), ExitCode.ENVIRONMENT
    if isinstance(exc, SettingsError):  # a value its source could not even parse (not JSON where JSON is due)
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"GRIDGOV_{field[1].upper()}" if field else "a setting"
        return f"refusing to start: {name}: cannot be read ({exc.__cause__ or exc})", ExitCode.ENVIRONMENT
    if isinstance(exc, SqlAlchemyOperationalError | SqlAlchemyProgrammingError) and exc.orig is not None:
        exc = exc.orig
    undefined = psycopg.errors.UndefinedTable | psycopg.errors.UndefinedFunction | psycopg.errors.UndefinedColumn
    if isinstance(exc, undefined):
        return (f"the database is not at this version of gridgov ({_first_line(exc)}); run `gridgov migrate`",
                ExitCode.ENVIRONMENT)
    if isinstance(exc, psycopg.OperationalError | ConnectionError):
        return _database_down(exc), ExitCode.ENVIRONMENT
    if isinstance(exc, ClusterError):
        return str(exc), ExitCode.ENVIRONMENT
    if isinstance(exc, CommandError):  # alembic: an unknown revision and the like
        return f"migrate: {_first_line(exc)}", ExitCode.USAGE
    if isinstance(exc, InputError):
        return f"{exc.field}: {exc.reason}", ExitCode.USAGE
    if isinstance(exc, ApiError):
        return f"{exc.field + ': ' if exc.field else ''}{exc.detail}", ExitCode.USAGE
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError):
        return f"{exc.filename or ''}: {exc.strerror or _first_line(exc)}".lstrip(": "), ExitCode.USAGE
    if type(exc).__module__.startswith("pyogrio"):  # GDAL cannot read the file
        reason = _first_line(exc).split("; It might help")[0].rstrip(".")  # GDAL's hint names its own syntax
        return f"the file cannot be read as geodata: {reason}", ExitCode.USAGE
    if isinstance(exc, UnicodeDecodeError):
        return f"the file is not UTF-8 text ({_first_line(exc)})", ExitCode.USAGE
    if isinstance(exc, ModuleNotFoundError):
        return (f"a piece of gridgov is not installed: {exc.name}; run `make setup` "
                f"(or pip install -e '.[sample]')", ExitCode.ENVIRONMENT)
    return None
