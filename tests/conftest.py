"""Test fixtures: a throwaway copy of the loaded gridgov database on the real PostGIS.

``make test`` has started the cluster (or DATABASE_URL points at a server), migrated
it and loaded the Nanxun sample. Each test session clones that database with
``CREATE DATABASE ... TEMPLATE`` (a file copy, about a second), so tests may write
freely and the development data stays untouched.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.settings import Settings, libpq_url

TEST_DB_SUFFIX = "_test"

# Modules left out of the development lane (`make test-fast`); `make test` and CI run them all.
SLOW_MODULES = {
    "test_fuzz",            # hostile values in every parameter of every operation (~10,000 requests)
    "test_schemathesis",    # generated requests per operation and role
    "test_access_matrix",   # every route as every caller, and the analyst's walk
    "test_faults",          # builds and kills a cluster of its own
    "test_workers",         # `gridgov serve --workers 2` in a subprocess
    "test_routing_index",   # property tests over the whole partition and its index
    "test_sample_geodata",  # generates the sample twice
    "test_migrations",      # migrates a fresh database up and down
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def _base_settings() -> Settings:
    return Settings(env="test")


def _admin_dsn(url: str) -> str:
    return libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def database_url() -> str:
    base = _base_settings()
    source = make_url(base.url)
    name = os.environ.get("GRIDGOV_TEST_DB") or f"{source.database}{TEST_DB_SUFFIX}_{os.getpid()}"
    test_url = source.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_admin_dsn(base.url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
        except psycopg.errors.ObjectInUse:
            pytest.exit(f"database {source.database} is in use (is `make run` serving?); "
                        "stop the server so the test database can be cloned from it", returncode=3)
    yield test_url
    with psycopg.connect(_admin_dsn(base.url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clean_env(monkeypatch):
    """No GRIDGOV_* or DATABASE_URL from the caller's environment (settings tests)."""
    for name in list(os.environ):
        if name.startswith("GRIDGOV_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    # the tests drive the deadline scheduler with their own clock (supervision.tick(now=...)): a
    # background one at the real time would flag their back-dated cases overdue under them
    return Settings(env="test", database_url=database_url, public_rate_per_minute=100_000,
                    public_ip_rate_per_minute=100_000, supervision_interval_s=0)


@pytest.fixture(scope="session")
def engine(settings):
    eng = sa.create_engine(settings.url)
    with eng.begin() as conn:  # fresh simulated GPS fixes for the sample units
        from spatial.sample_load import refresh_unit_fixes
        refresh_unit_fixes(conn.connection.driver_connection)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine):
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        tx = conn.begin()
        yield conn
        tx.rollback()


@pytest.fixture(scope="session")
def app(settings, engine):
    from api.main import create_app
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def make_user(engine):
    """Create an account with known password and grants: ``make_user("dispatcher", "330503100")``.

    Returns ``(username, password)``. ``grants`` may add more ``(role, area)`` pairs.
    """
    import secrets

    from api.auth.passwords import hash_password

    hashed = hash_password("test-password-123")  # argon2 is slow on purpose: hash once

    def make(role: str | None = None, area: str | None = None, *, unit: str | None = None,
             grants: list[tuple[str, str]] = ()) -> tuple[str, str]:
        username = f"t-{role or 'none'}-{secrets.token_hex(4)}"
        with engine.begin() as conn:
            uid = conn.execute(sa.text(
                "INSERT INTO app_user (username, password_hash, unit_code) VALUES (:u, :h, :unit) RETURNING id"),
                {"u": username, "h": hashed, "unit": unit}).scalar_one()
            pairs = ([(role, area)] if role else []) + list(grants)
            for r, a in pairs:
                conn.execute(sa.text("INSERT INTO role_grant (user_id, role, area_code) VALUES (:id, :r, :a)"),
                             {"id": uid, "r": r, "a": a})
        return username, "test-password-123"

    return make


@pytest.fixture(scope="session")
def login(client):
    """``login(username, password)`` → headers with a fresh bearer token."""
    def do(username: str, password: str) -> dict[str, str]:
        res = client.post("/api/auth/token", data={"username": username, "password": password})
        assert res.status_code == 200, res.text
        return {"Authorization": f"Bearer {res.json()['access_token']}"}

    return do


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(app):
    """``app`` served by uvicorn on a free loopback port (in a thread) while the block runs: its URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served by uvicorn on a loopback port, for browsers and concurrency."""
    with served(app) as url:
        yield url
