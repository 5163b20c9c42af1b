"""Several workers: what they share lives in PostgreSQL.

``gridgov serve --workers 2`` (a subprocess on a free port and the test database) serves logins,
``/api/auth/me`` and routed requests and stops cleanly; the public rate limit is one budget per
client across app instances (``rate_bucket``, migration 0013), not one per worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import PROJECT_ROOT, libpq_url

DISTRICT = "330503"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _grid_point(settings) -> tuple[str, float, float]:
    with psycopg.connect(libpq_url(settings.url)) as conn:
        return conn.execute("""SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM area
                               WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1) x""").fetchone()


def _workers(pid: int) -> list[int]:
    """The worker processes of a uvicorn supervisor (multiprocessing children, not its resource tracker)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [c for c in children if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture
def served(settings, tmp_path):
    """``gridgov serve --workers 2`` on the test database; yields (base URL, process)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=settings.database_url, GRIDGOV_ENV="test", GRIDGOV_HOME=str(settings.home),
               GRIDGOV_SUPERVISION_INTERVAL_S="0")
    script = Path(sys.executable).with_name("gridgov")
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([str(script), "serve", "--workers", "2", "--port", str(port)], env=env,
                            cwd=PROJECT_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"gridgov serve exited {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/api/bench-no-such-route", trust_env=False, timeout=2).status_code == 404 \
                        and len(_workers(proc.pid)) == 2:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gridgov serve did not answer within 60 s: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:  # the test failed half-way: stop the supervisor and its workers
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_serve_with_two_workers_answers_and_stops_cleanly(served, settings, make_user):
    url, proc = served
    workers = _workers(proc.pid)
    assert len(workers) == 2
    username, password = make_user("dispatcher", DISTRICT)
    code, lon, lat = _grid_point(settings)
    # fresh connections: the kernel hands them to either worker; every one must be answered
    with httpx.Client(base_url=url, trust_env=False, timeout=10) as c:
        token = c.post("/api/auth/token", data={"username": username, "password": password}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(12):
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as c:
            me = c.get("/api/auth/me", headers=auth)
            assert me.status_code == 200 and me.json()["username"] == username
            routed = c.get("/api/route", params={"lon": lon, "lat": lat, "category": "street_vendor"}, headers=auth)
            assert routed.status_code == 200 and routed.json()["grid"]["code"] == code
    assert all(Path(f"/proc/{pid}").exists() for pid in workers), "a worker died while serving"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/bench-no-such-route", trust_env=False, timeout=2)


def test_two_workers_share_one_clients_public_budget(settings):
    """3 a minute per client: three requests spread over two instances use it up, on both."""
    opts = {"public_rate_per_minute": 3, "supervision_interval_s": 0}
    code = _grid_point(settings)[0]
    addr = ("198.51.100.61", 1)
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False, client=addr) as a, \
            TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False, client=addr) as b:
        path = f"/api/public/grids/{code}"
        assert [c.get(path).status_code for c in (a, b, a)] == [200, 200, 200]
        for c in (b, a):
            refused = c.get(path)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["detail"].startswith("too many requests")
    # another client has its own budget
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False,
                    client=("198.51.100.62", 1)) as other:
        assert other.get(f"/api/public/grids/{code}").status_code == 200


def test_a_refused_request_spends_no_token(settings):
    """Retry-After is honest: waiting that long is enough, however often the client knocked meanwhile."""
    opts = {"public_rate_per_minute": 60, "supervision_interval_s": 0}
    code = _grid_point(settings)[0]
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False,
                    client=("198.51.100.63", 1)) as c:
        path = f"/api/public/grids/{code}"
        statuses = [c.get(path).status_code for _ in range(64)]
        assert statuses[:60] == [200] * 60 and 429 in statuses[60:]
        refused = c.get(path)
        assert refused.status_code == 429
        time.sleep(int(refused.headers["retry-after"]) + 0.05)
        assert c.get(path).status_code == 200


def test_hot_queries_are_prepared_from_their_second_call(settings):
    """Routing, the session check and the rate limit run as prepared statements on the app's pool."""
    import asyncio

    from api.auth.access import RateLimiter
    from api.db import make_pool
    from api.sqlfiles import sql
    from spatial.routing import route_point

    _, lon, lat = _grid_point(settings)

    async def run():
        pool = make_pool(settings.model_copy(update={"pool_min": 1}))
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                for _ in range(2):
                    await route_point(conn, lon, lat, "street_vendor")
                    await sql.fetchone(conn, "auth_principal", {"session_id": "nobody", "user_id": 0})
            limiter = RateLimiter(10**6)
            for _ in range(2):
                await limiter.allow(pool, "198.51.100.70")
                async with pool.connection() as conn:  # the session check, as a request makes it
                    await sql.fetchone(conn, "auth_principal", {"session_id": "nobody", "user_id": 0})
            assert pool.get_stats()["pool_size"] == 1, "every statement on the pool's one connection"
            async with pool.connection() as conn:
                return [r[0] for r in await (await conn.execute("SELECT statement FROM pg_prepared_statements"))
                        .fetchall()]
        finally:
            await pool.close()

    prepared = asyncio.run(run())
    assert any("covering AS (" in s for s in prepared), "route_point.sql"
    assert any("FROM auth_session s" in s for s in prepared), "auth_principal.sql"
    assert any("INSERT INTO rate_bucket" in s for s in prepared), "rate_take.sql"


def _hold(c: TestClient, n: int) -> list:
    """Take ``n`` connections of the app's pool and keep them (``_give_back`` returns them)."""
    pool = c.app.state.pool

    async def take():
        return [await pool.getconn() for _ in range(n)]
    return c.portal.call(take)


def _give_back(c: TestClient, held: list) -> None:
    async def give():
        for conn in held:
            await c.app.state.pool.putconn(conn)
    c.portal.call(give)


def test_a_public_request_is_answered_when_its_pool_has_one_connection_left(settings):
    """An anonymous request takes a connection for its rate check and gives it back before its
    route takes one: with one connection left in the app's one pool it is still answered (a
    request never waits for a second connection while holding one)."""
    code = _grid_point(settings)[0]
    opts = {"supervision_interval_s": 0, "pool_size": 4, "pool_min": 1}
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False,
                    client=("198.51.100.64", 1)) as c:
        held = _hold(c, c.app.state.pool.max_size - 1)  # the request gets the last one
        try:
            assert c.get(f"/api/public/grids/{code}").status_code == 200
        finally:
            _give_back(c, held)


def test_a_refused_caller_takes_no_connection(settings):
    """The caller is resolved before the route's connection is taken: with every connection of
    the pool held, a request without a token is a 401, and it never asked the pool for a
    connection (a request that did would wait ``CHECKOUT_TIMEOUT_S`` and answer 503)."""
    opts = {"supervision_interval_s": 0, "pool_size": 2, "pool_min": 1}
    with TestClient(create_app(settings.model_copy(update=opts)), raise_server_exceptions=False) as c:
        pool = c.app.state.pool
        held = _hold(c, pool.max_size)
        try:
            assert pool.pop_stats().get("requests_num", 0) >= pool.max_size  # the counter counts (the holds)
            res = c.get("/api/desk/queue")
            assert res.status_code == 401, res.text
            stats = pool.get_stats()
            assert stats.get("requests_num", 0) == 0, f"the refused request asked the pool for a connection: {stats}"
        finally:
            _give_back(c, held)


def test_every_route_resolves_its_caller_before_taking_a_connection(settings):
    """In every route the Access rule comes before the request connection (``api.db.ConnDep``):
    FastAPI resolves dependencies in the order of the parameters."""
    from fastapi.routing import iter_route_contexts

    from api.auth.access import Access
    from api.db import get_conn

    def calls(dependant, out):
        for d in dependant.dependencies:
            calls(d, out)
            out.append(d.call)
        return out

    late = []
    for ctx in iter_route_contexts(create_app(settings).router.routes):
        if not hasattr(ctx, "dependant"):
            continue
        order = calls(ctx.dependant, [])
        if get_conn in order:
            rule = next((i for i, call in enumerate(order) if isinstance(call, Access)), None)
            if rule is None or rule > order.index(get_conn):
                late.append(f"{sorted(ctx.methods or [])} {ctx.path}")
    assert not late, f"routes that take their connection before resolving the caller: {late}"


def test_workers_that_do_not_fit_the_cluster_refuse_to_start(settings):
    """workers x (pool + LISTEN) + spare beyond max_connections: a clear message at start."""
    from api.db import PoolDoesNotFit, check_budget

    check_budget(settings.model_copy(update={"workers": 2, "pool_size": 24}), 100, 3)  # 53 of 97: fits
    with pytest.raises(PoolDoesNotFit, match=r"GRIDGOV_POOL_SIZE=40 .* lower GRIDGOV_POOL_SIZE to at most 22"):
        check_budget(settings.model_copy(update={"workers": 4, "pool_size": 40}), 100, 3)
    with pytest.raises(PoolDoesNotFit, match="max_connections"):
        with TestClient(create_app(settings.model_copy(update={"workers": 1000, "supervision_interval_s": 0}))):
            pass
