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
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.settings import Settings, libpq_url

TEST_DB_SUFFIX = "_test"


def _base_settings() -> Settings:
    return Settings(env="test")


def _admin_dsn(url: str) -> str:
    return libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def database_url() -> str:
    base = _base_settings()
    source = make_url(base.url)
    name = f"{source.database}{TEST_DB_SUFFIX}"
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


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    return Settings(env="test", database_url=database_url, public_rate_per_minute=100_000)


@pytest.fixture(scope="session")
def engine(settings):
    eng = sa.create_engine(settings.url)
    with eng.begin() as conn:  # fresh simulated GPS fixes for the sample units
        from spatial.sample_load import refresh_unit_fixes
        refresh_unit_fixes(conn)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app):
    """The app served by uvicorn on a loopback port, for browsers and concurrency."""
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
