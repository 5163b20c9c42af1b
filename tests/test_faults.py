"""Faults: the database server is killed (``kill -9``) under load.

The test builds a throwaway embedded cluster of its own (``gridgov db start`` with
``GRIDGOV_HOME`` in a temporary directory and a free port), so the shared cluster of the
other tests is never touched. While the server is down every request must answer 503 JSON
with ``Retry-After``; ``gridgov db start`` run right after the crash must wait for the dying
server's processes and start it; the app must then answer again by itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from pathlib import Path

import httpx
import psycopg
import pytest

from api.settings import PROJECT_ROOT, Settings

IN_FLIGHT = 4  # requests holding pooled connections when the server dies
LINGER_S = 3  # an orphaned backend keeps running its statement this long after it started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gridgov(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("gridgov")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]
    return subprocess.run([*cmd, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout)


def _wait_for(condition, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)
    return result


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _runs_in(pid: int, data: Path) -> bool:
    """Whether ``pid`` is a live process of the cluster in ``data`` (its working directory)."""
    try:
        return Path(f"/proc/{pid}/cwd").resolve() == data.resolve()
    except OSError:
        return False


@pytest.fixture
def throwaway_cluster(clean_env):
    """An embedded cluster of this test only: ``(settings, env for the CLI, data dir)``."""
    home = Path(tempfile.mkdtemp(prefix="gridgov-faults-", dir="/tmp"))
    home.chmod(0o755)  # as root the server runs as `postgres`, which must reach the data dir
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env.update(GRIDGOV_HOME=str(home), GRIDGOV_PG_PORT=str(port), GRIDGOV_ENV="test")
    data = home / ".gridgov" / "pg" / "data"
    try:
        for args in (("db", "start"), ("migrate",)):
            res = _gridgov(env, *args)
            assert res.returncode == 0, f"gridgov {' '.join(args)}: {res.stdout}{res.stderr}"
        yield Settings(env="test", home=home, pg_port=port, public_rate_per_minute=100_000,
                    public_ip_rate_per_minute=100_000), env, data
    finally:
        with suppress(subprocess.TimeoutExpired):
            _gridgov(env, "db", "stop", timeout=60)
        pid = _postmaster_pid(data)
        if pid and _runs_in(pid, data):  # still up (stop failed): it is ours, end it
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def served(throwaway_cluster):
    """The app on the throwaway cluster, served by uvicorn on a loopback port."""
    import uvicorn

    from api.main import create_app

    settings, env, data = throwaway_cluster
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_for(lambda: server.started, 30, "uvicorn to start")
        yield f"http://127.0.0.1:{server.config.port}", settings, env, data
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _libpq_dsn(settings: Settings) -> str:
    return (f"host={settings.pg_dir} port={settings.pg_port} user={settings.pg_user} "
            f"dbname={settings.pg_database}")


def _busy_statement(dsn: str) -> None:
    """A statement of ``LINGER_S`` seconds that does not notice the postmaster's death: its
    orphaned backend keeps the old server's shared memory attached until it is over."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DO $$ BEGIN WHILE clock_timestamp() < statement_timestamp() + "
                         f"interval '{LINGER_S} s' LOOP END LOOP; END $$")
    except psycopg.OperationalError:
        pass  # the server is gone: expected


def _assert_unavailable(res: httpx.Response) -> None:
    assert res.status_code == 503, (res.status_code, res.text)
    assert res.headers["content-type"] == "application/json"
    assert res.headers["retry-after"].isdigit()
    assert res.headers["x-content-type-options"] == "nosniff"
    body = res.json()
    assert set(body) == {"detail", "code", "params", "errors"} and body["errors"] == []
    assert body["code"] == "unavailable" and body["params"]["seconds"] >= 1
    assert "database" in body["detail"]


def test_kill_9_of_the_database_503_then_cli_restart_and_the_app_recovers(served):
    base, settings, env, data = served
    dsn = _libpq_dsn(settings)
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/categories").status_code == 200

        with ThreadPoolExecutor(IN_FLIGHT + 1) as pool, closing(psycopg.connect(dsn)) as locker, \
                closing(psycopg.connect(dsn, autocommit=True)) as monitor:  # closed before the pool waits
            # Pooled connections busy: requests blocked on a lock inside the database, and a
            # backend in the middle of a statement (it keeps the old server's shared memory
            # attached, so PostgreSQL may not start again before it is over).
            locker.execute("LOCK TABLE category IN ACCESS EXCLUSIVE MODE")
            in_flight = [pool.submit(httpx.get, f"{base}/api/categories", timeout=30) for _ in range(IN_FLIGHT)]
            busy = pool.submit(_busy_statement, dsn)
            _wait_for(lambda: monitor.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE '%%FROM category%%') >= %s"
                " AND bool_or(query LIKE 'DO %%' AND state = 'active') FROM pg_stat_activity", (IN_FLIGHT,)
            ).fetchone()[0], 10, "the requests to wait on the lock and the statement to run")
            orphan = monitor.execute("SELECT pid FROM pg_stat_activity WHERE query LIKE 'DO %%' AND state = 'active'"
                                     ).fetchone()[0]  # the backend that outlives the postmaster

            pid = _postmaster_pid(data)
            assert pid and _runs_in(pid, data)
            os.kill(pid, signal.SIGKILL)

            # During the outage: the requests in flight and new ones answer 503 JSON with Retry-After.
            for future in in_flight:
                _assert_unavailable(future.result(timeout=30))
            _assert_unavailable(client.get("/api/categories"))
            _assert_unavailable(client.post("/api/incidents", json={"category": "street_vendor", "lon": 120.42,
                                                                    "lat": 30.87}))

            # `gridgov db start` while the orphaned backend still runs (its process is alive, its
            # statement not over): it waits for the dying processes, then starts.
            assert _runs_in(orphan, data) and not busy.done(), "the orphaned backend ended before the restart"
            res = _gridgov(env, "db", "start")
            assert res.returncode == 0, f"gridgov db start after kill -9: {res.stdout}{res.stderr}"
            assert "database ready" in res.stdout
            busy.result(timeout=30)

        # The app reconnects by itself: its pool serves the routes again, and the rate limit an
        # anonymous report takes before anything else (a 4xx here: no sample).
        _wait_for(lambda: client.get("/api/categories").status_code == 200, 30, "the app to answer 200 again", 0.2)
        _wait_for(lambda: client.post("/api/incidents", json={"category": "street_vendor", "lon": 120.42,
                                                              "lat": 30.87}).status_code < 500,
                  30, "an anonymous report to be answered without a 5xx again", 0.2)


def test_a_hung_database_is_a_503_too(settings):
    """No pooled connection comes free (a frozen server): 503 with Retry-After, not a 500."""
    from fastapi.testclient import TestClient

    from api import db
    from api.main import create_app

    app = create_app(settings.model_copy(update={"pool_size": 2, "pool_min": 1}))
    with TestClient(app, raise_server_exceptions=False) as c:
        pool = app.state.pool
        pool.timeout = 0.2  # (CHECKOUT_TIMEOUT_S in the app)

        async def hold():  # take every connection and keep them
            return [await pool.getconn() for _ in range(pool.max_size)]

        held = c.portal.call(hold)
        try:
            res = c.get("/api/categories")
        finally:
            async def give_back():
                for conn in held:
                    await pool.putconn(conn)
            c.portal.call(give_back)
            pool.timeout = db.CHECKOUT_TIMEOUT_S
    assert res.status_code == 503, res.text
    assert res.headers["content-type"] == "application/json" and res.headers["retry-after"]
