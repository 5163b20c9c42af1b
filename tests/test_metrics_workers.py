"""/metrics of ``gridgov serve --workers 2``: every scrape sums the workers, whichever answers.

The server runs as a subprocess on a free port against a copy of the sample database, with an
operator's long-lived token made by the command line; it shares its values in
``.gridgov/run/metrics-<pid>/`` (api.metrics_dir, api.metrics.shared), which is gone after it
stops. A killed worker's live series are swept by the others, its counts kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from api.metrics_dir import path_for
from api.settings import PROJECT_ROOT
from tests.pg_support import sample_database, scratch_database
from tests.test_metrics import DISTRICT, cli, value
from tests.test_workers import _free_port, _workers

pytestmark = pytest.mark.slow

REQUESTS = 40
POOL_SIZE = 6  # a worker's GRIDGOV_POOL_SIZE


@pytest.fixture
def sample_copy(database_url, settings):
    with scratch_database(database_url, "metrics_workers", template=sample_database(settings)) as url:
        yield url


def scrape(url: str, headers: dict) -> dict[str, list]:
    """One scrape on a connection of its own (the kernel hands it to either worker)."""
    from prometheus_client.parser import text_string_to_metric_families

    res = httpx.get(f"{url}/metrics", headers=headers, trust_env=False, timeout=10)
    assert res.status_code == 200, res.text
    families: dict[str, list] = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            families.setdefault(sample.name, []).append(sample)
    return families


def pids(families, name: str) -> set[str]:
    return {s.labels.get("pid") for s in families.get(name, [])}


def test_every_scrape_sums_both_workers_and_the_directory_goes_with_the_server(
        sample_copy, settings, monkeypatch, capsys, tmp_path):
    cli(monkeypatch, capsys, sample_copy, "user", "add", "prometheus")
    cli(monkeypatch, capsys, sample_copy, "user", "grant", "prometheus", "operator", DISTRICT)
    token_file = tmp_path / "gridgov.token"
    cli(monkeypatch, capsys, sample_copy, "user", "token", "prometheus", "--days", "1", "--out", str(token_file))
    auth = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDGOV_", "PROMETHEUS_")) and k != "DATABASE_URL"}
    env.update(DATABASE_URL=sample_copy, GRIDGOV_ENV="test", GRIDGOV_HOME=str(settings.home),
               GRIDGOV_SUPERVISION_INTERVAL_S="0", GRIDGOV_POOL_SIZE=str(POOL_SIZE), GRIDGOV_POOL_MIN="2",
               PYTHONPATH=str(PROJECT_ROOT))
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)],
                            env=env, cwd=PROJECT_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    shared = path_for(settings.data_dir, proc.pid)
    try:
        # ready: both workers have published their state (one series of theirs each, by pid)
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"gridgov serve exited {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                if len(_workers(proc.pid)) == 2 and \
                        len(pids(scrape(url, auth), "gridgov_worker_resident_memory_bytes")) == 2:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gridgov serve's workers did not both publish: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        workers = {str(pid) for pid in _workers(proc.pid)}
        assert shared.is_dir() and any(shared.iterdir())

        for _ in range(REQUESTS):  # a connection each: either worker answers
            assert httpx.get(f"{url}/healthz", trust_env=False, timeout=10).status_code == 200
        for _ in range(8):
            families = scrape(url, auth)
            assert value(families, "gridgov_http_requests_total", method="GET", route="/healthz",
                         status="200") == REQUESTS
            assert value(families, "gridgov_http_request_duration_seconds_count", route="/healthz") == REQUESTS
            # the state of each worker, merged: one series summed over both, or one per worker by pid
            assert pids(families, "gridgov_worker_resident_memory_bytes") == workers
            assert all(s.value > 1e6 for s in families["gridgov_worker_resident_memory_bytes"])
            assert len(families["gridgov_db_pool_max"]) == 1
            assert value(families, "gridgov_db_pool_max") == 2 * POOL_SIZE
            connections = value(families, "gridgov_db_pool_connections")
            assert 2 <= connections <= 2 * POOL_SIZE
            assert 0 <= value(families, "gridgov_db_pool_in_use") <= connections
            assert value(families, "gridgov_db_pool_requests_total") > 0
            assert value(families, "gridgov_live_clients") == 0
            assert value(families, "gridgov_live_listening") == 1  # every worker listens
            assert value(families, "gridgov_scheduler_enabled") == 0
            assert "process_cpu_seconds_total" not in families  # one process's: left out, see gridgov_worker_*

        # a worker killed (it cannot mark itself dead): uvicorn starts another, the others sweep
        # the dead one's live series within a publishing round, its counts stay
        killed = min(workers)
        os.kill(int(killed), signal.SIGKILL)
        deadline = time.monotonic() + 90
        while True:
            try:
                families = scrape(url, auth)
                now = pids(families, "gridgov_worker_resident_memory_bytes")
                if killed not in now and len(now) == 2 and value(families, "gridgov_db_pool_max") == 2 * POOL_SIZE:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the killed worker's series stayed: {now}: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        assert value(families, "gridgov_http_requests_total", method="GET", route="/healthz",
                     status="200") == REQUESTS
        assert value(families, "gridgov_live_listening") == 1

        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:  # the test failed half-way: stop the supervisor and its workers
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert not shared.exists(), "the metrics directory outlived the server"
