"""The database the bench works on: a throwaway clone, or the source with cleanup.

``CREATE DATABASE <db>_bench TEMPLATE <db>`` copies the loaded database in a second or
two, so the bench may insert incidents and accounts freely; the clone is dropped at the
end. PostgreSQL refuses the copy while anyone is connected to the source; the bench then
works in the source database and removes everything it created (temporary user with its
grants and sessions, the incidents it posted with their events, their audit rows).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg import sql as pgsql
from sqlalchemy.engine import make_url

from api.settings import Settings, libpq_url

BENCH_SUFFIX = "_bench"
BENCH_PASSWORD_BYTES = 18


@dataclass
class BenchDb:
    settings: Settings          # settings of the app under test (points at the bench database)
    dsn: str                    # libpq DSN of the same database, for raw psycopg
    mode: str                   # human-readable: clone or in place
    cloned: bool
    username: str = ""
    password: str = ""
    created_incidents: list[int] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)   # more users (extra_account), removed at the end


def _libpq(url) -> str:
    return libpq_url(url.render_as_string(hide_password=False))


def _connected_to(admin_dsn: str, database: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT coalesce(nullif(application_name, ''), usename, '?'), count(*)
            FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1""",
                            (database,)).fetchall()
    return ", ".join(f"{name} x{n}" for name, n in rows) or "unknown sessions"


def check_loaded(dsn: str) -> dict[str, int]:
    """Counts of the loaded sample; the bench needs grids to route anything."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        kinds = dict(conn.execute(
            "SELECT kind, count(*) FROM area WHERE valid_to IS NULL GROUP BY kind").fetchall())
        counts = {k: int(kinds.get(k, 0)) for k in ("district", "street", "community", "grid", "zone", "patrol_zone")}
        for table in ("station", "unit", "incident", "category"):
            counts[table] = conn.execute(
                pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier(table))).fetchone()[0]
        counts["available_units"] = conn.execute(
            "SELECT count(*) FROM unit WHERE status = 'available'").fetchone()[0]
    return counts


@contextmanager
def bench_database(base: Settings, *, in_place: bool = False, **overrides) -> Iterator[BenchDb]:
    """Yield a :class:`BenchDb`; drop the clone (or clean up in place) on the way out."""
    source = make_url(base.url)
    admin_dsn = _libpq(source.set(database="postgres"))
    clone = f"{source.database}{BENCH_SUFFIX}"
    reason = "--in-place given"
    cloned = False
    if not in_place:
        try:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(clone)))
                conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    pgsql.Identifier(clone), pgsql.Identifier(source.database)))
            cloned = True
        except psycopg.errors.ObjectInUse:
            reason = f"source database in use ({_connected_to(admin_dsn, source.database)})"
    if cloned:
        url = source.set(database=clone)
        mode = f"clone {clone} (TEMPLATE {source.database}), dropped at the end"
    else:
        url = source
        mode = f"in place in {source.database}: {reason}; temporary user and its rows deleted at the end"
    settings = Settings(database_url=url.render_as_string(hide_password=False), **overrides)
    db = BenchDb(settings=settings, dsn=_libpq(url), mode=mode, cloned=cloned)
    try:
        if cloned:
            _refresh_unit_fixes(settings)
        _create_user(db)
        yield db
    finally:
        if cloned:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(clone)))
        else:
            _clean_in_place(db)


def _refresh_unit_fixes(settings: Settings) -> None:
    """Fresh simulated GPS fixes in the clone (as the tests do), so units are not stale."""
    import sqlalchemy as sa

    from spatial.sample_load import refresh_unit_fixes

    engine = sa.create_engine(settings.url)
    try:
        with engine.begin() as conn:
            refresh_unit_fixes(conn.connection.driver_connection)
    finally:
        engine.dispose()


def _create_user(db: BenchDb) -> None:
    """A dispatcher over every district (GET /api/route needs staff)."""
    from api.auth.passwords import hash_password

    db.username = f"bench-{secrets.token_hex(4)}"
    db.password = secrets.token_urlsafe(BENCH_PASSWORD_BYTES)
    with psycopg.connect(db.dsn) as conn:
        uid = conn.execute(
            "INSERT INTO app_user (username, display_name, password_hash) VALUES (%s, 'bench', %s) RETURNING id",
            (db.username, hash_password(db.password))).fetchone()[0]
        conn.execute("""
            INSERT INTO role_grant (user_id, role, area_code, granted_by)
            SELECT %s, 'dispatcher', code, 'bench' FROM area WHERE kind = 'district' AND valid_to IS NULL""",
                     (uid,))


def extra_account(db: BenchDb, suffix: str, role: str, area_code: str) -> tuple[str, str]:
    """Another user with one grant (``role`` on ``area_code``); returns username and password."""
    from api.auth.passwords import hash_password

    username = f"{db.username}-{suffix}"
    password = secrets.token_urlsafe(BENCH_PASSWORD_BYTES)
    with psycopg.connect(db.dsn) as conn:
        uid = conn.execute(
            "INSERT INTO app_user (username, display_name, password_hash) VALUES (%s, 'bench', %s) RETURNING id",
            (username, hash_password(password))).fetchone()[0]
        conn.execute("INSERT INTO role_grant (user_id, role, area_code, granted_by) VALUES (%s, %s, %s, 'bench')",
                     (uid, role, area_code))
    db.accounts.append(username)
    return username, password


def _clean_in_place(db: BenchDb) -> None:
    if not db.username:
        return
    ids = [str(i) for i in db.created_incidents]
    with psycopg.connect(db.dsn) as conn:
        conn.execute("DELETE FROM audit_log WHERE entity = 'incident' AND entity_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM incident WHERE id = ANY(%s)", (db.created_incidents,))  # events cascade
        for username in (db.username, *db.accounts):
            conn.execute("DELETE FROM audit_log WHERE actor = %s OR (entity IN ('user', 'session') AND entity_id = %s)",
                         (username, username))
            conn.execute("DELETE FROM app_user WHERE username = %s", (username,))  # grants, sessions cascade
