"""The per-worker principal cache: a session checked once costs no database round trip, and a
logout, a deactivation or a removed grant written anywhere stops the next requests in every
worker within a bounded time (NOTIFY gridgov_cache, migration 0013). Two app instances on one
database stand for two workers, each with its own LISTEN connection; while a worker's listener
is down its cache is not trusted.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import users
from api.main import create_app
from api.settings import libpq_url

DISTRICT = "330503"
GUARD_S = 20.0  # a hang guard, not a speed claim: well under B's 60 s cache life, so a refusal
               # within it comes from the invalidation note, never from the entry expiring
               # (how fast the note travels is for `make bench`)


def _wait(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` until true (AssertionError after ``timeout``, a hang guard)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


@pytest.fixture
def workers(settings):
    """Two app instances (A, B) on the test database, each listening; B's cache lives 60 s."""
    opts = {"auth_cache_s": 60.0, "supervision_interval_s": 0}
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False) as a, \
            TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False) as b:
        for c in (a, b):
            _wait(c.app.state.live.connected.is_set, 10, "the hub listens")
        yield a, b


def _login(c: TestClient, username: str, password: str) -> dict[str, str]:
    res = c.post("/api/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def _cached_on(c: TestClient, auth: dict) -> bool:
    """B answers from its cache: it holds an entry for this token's session."""
    from api.auth import tokens
    claims = tokens.decode(c.app.state.settings.secret_key, auth["Authorization"].split()[1], "access")
    return (claims["sid"], int(claims["sub"])) in c.app.state.principals.entries


def _through(c: TestClient, service):
    """Run ``service(conn)`` in one transaction on that app's pool (the CLI's way of writing)."""
    async def run():
        async with c.app.state.pool.connection() as conn, conn.transaction():
            return await service(conn)
    return c.portal.call(run)


def test_a_cached_session_answers_without_the_database(workers, make_user):
    a, b = workers
    auth = _login(a, *make_user("dispatcher", DISTRICT))
    assert b.get("/api/auth/me", headers=auth).status_code == 200
    assert _cached_on(b, auth)
    # the cached principal takes each request's client address, not the first one's
    principal = b.app.state.principals.get(*_key(b, auth), client="198.51.100.44")
    assert principal is not None and principal.client == "198.51.100.44"
    # a second app with the cache off keeps asking the database
    off = create_app(b.app.state.settings.model_copy(update={"auth_cache_s": 0}))
    with TestClient(off) as c:
        _wait(c.app.state.live.connected.is_set, 10, "the hub listens")
        assert c.get("/api/auth/me", headers=auth).status_code == 200
        assert not _cached_on(c, auth)


def _key(c: TestClient, auth: dict) -> tuple[str, int]:
    from api.auth import tokens
    claims = tokens.decode(c.app.state.settings.secret_key, auth["Authorization"].split()[1], "access")
    return claims["sid"], int(claims["sub"])


def test_logout_on_one_worker_stops_the_token_on_the_other(workers, make_user):
    a, b = workers
    auth = _login(a, *make_user("dispatcher", DISTRICT))
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
    assert a.post("/api/auth/logout", headers=auth).status_code == 204
    _wait(lambda: b.get("/api/auth/me", headers=auth).status_code == 401, GUARD_S,
          "B refuses the logged-out token")
    assert a.get("/api/auth/me", headers=auth).status_code == 401  # and A at once


def test_logout_on_the_same_worker_stops_the_token_at_once(workers, make_user):
    _, b = workers
    auth = _login(b, *make_user("dispatcher", DISTRICT))
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
    assert b.post("/api/auth/logout", headers=auth).status_code == 204
    assert b.get("/api/auth/me", headers=auth).status_code == 401


def test_deactivation_through_one_worker_stops_the_token_on_the_other(workers, make_user):
    a, b = workers
    username, password = make_user("dispatcher", DISTRICT)
    auth = _login(a, username, password)
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
    _through(a, lambda conn: users.set_active(conn, username, False, actor="test"))
    _wait(lambda: b.get("/api/auth/me", headers=auth).status_code == 401, GUARD_S,
          "B refuses the deactivated account")


def test_a_removed_grant_is_refused_on_the_other_worker(workers, make_user):
    a, b = workers
    username, password = make_user("dispatcher", DISTRICT)
    auth = _login(a, username, password)
    with psycopg.connect(libpq_url(a.app.state.settings.url)) as conn:
        lon, lat = conn.execute("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM area
                                   WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1) x""").fetchone()
    spot = {"lon": lon, "lat": lat, "category": "street_vendor"}
    assert b.get("/api/route", params=spot, headers=auth).status_code == 200 and _cached_on(b, auth)
    _through(a, lambda conn: users.revoke(conn, username, "dispatcher", DISTRICT, actor="test"))
    _wait(lambda: b.get("/api/route", params=spot, headers=auth).status_code == 403, GUARD_S,
          "B refuses the caller without the grant")


def test_while_the_listener_is_down_the_cache_is_not_trusted(workers, make_user):
    a, b = workers
    auth = _login(a, *make_user("dispatcher", DISTRICT))
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
    b.portal.call(b.app.state.live.stop)  # B hears no notifications any more
    assert not b.app.state.live.connected.is_set() and not _cached_on(b, auth)
    # a revocation B cannot hear about: B asks the database and refuses at once
    with psycopg.connect(libpq_url(b.app.state.settings.url), autocommit=True) as conn:
        conn.execute("UPDATE auth_session SET revoked_at = now() WHERE id = %s", (_key(b, auth)[0],))
    assert b.get("/api/auth/me", headers=auth).status_code == 401


def test_a_reconnected_listener_starts_with_an_empty_cache(workers, make_user):
    _, b = workers
    auth = _login(b, *make_user("dispatcher", DISTRICT))
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
    hub = b.app.state.live
    old_pid = hub.backend_pid
    with psycopg.connect(libpq_url(b.app.state.settings.url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
    # the hub notices, drops the cache, reconnects (0.5 s back-off) and listens again
    _wait(lambda: hub.backend_pid != old_pid and hub.connected.is_set(), 10, "the hub reconnects")
    assert not _cached_on(b, auth)
    assert b.get("/api/auth/me", headers=auth).status_code == 200 and _cached_on(b, auth)
