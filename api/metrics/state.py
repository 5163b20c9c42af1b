"""What the app is doing now, read at scrape time: the connection pool, the deadline scheduler's
last round, the live stream's clients. Nothing is updated on the way; a scrape reads the values
the pool, the scheduler loop (api.workflow.supervision.Rounds) and the hub keep anyway."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# psycopg_pool's get_stats() names -> ours; the measures are gauges, the rest counters since start
POOL_GAUGES = {
    "pool_size": ("gridgov_db_pool_connections", "Connections the pool holds open (busy and idle)"),
    "pool_available": ("gridgov_db_pool_available", "Idle connections ready in the pool"),
    "pool_max": ("gridgov_db_pool_max", "The pool's maximum size (GRIDGOV_POOL_SIZE)"),
    "requests_waiting": ("gridgov_db_pool_waiting", "Requests waiting for a connection now"),
}
POOL_COUNTERS = {
    "requests_num": ("gridgov_db_pool_requests", "Connections asked of the pool"),
    "requests_queued": ("gridgov_db_pool_requests_queued", "Connection requests that had to wait"),
    "requests_errors": ("gridgov_db_pool_requests_errors", "Connection requests that failed (timeout, error)"),
    "connections_lost": ("gridgov_db_pool_connections_lost", "Connections found broken"),
}


def pool_stats(app: FastAPI) -> dict[str, int] | None:
    """psycopg_pool's counts of the pool of the server running now (None before it started)."""
    pool = None
    pools = getattr(app.state, "pools", {})
    try:  # the pool of the server this code runs in (api.db.pool_of)
        pool = pools.get(asyncio.get_running_loop())
    except RuntimeError:
        pass
    pool = pool or getattr(app.state, "pool", None)
    return None if pool is None else pool.get_stats()


class AppState(Collector):
    def __init__(self, app: FastAPI):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        yield from self._pool()
        yield from self._scheduler()
        yield from self._live()

    def _pool(self) -> Iterator[Metric]:
        stats = pool_stats(self.app)
        if stats is None:
            return
        for key, (name, doc) in POOL_GAUGES.items():
            yield GaugeMetricFamily(name, doc, value=stats.get(key, 0))
        busy = stats.get("pool_size", 0) - stats.get("pool_available", 0)
        yield GaugeMetricFamily("gridgov_db_pool_in_use", "Connections lent out now", value=busy)
        for key, (name, doc) in POOL_COUNTERS.items():
            yield CounterMetricFamily(name, doc, value=stats.get(key, 0))

    def _scheduler(self) -> Iterator[Metric]:
        rounds = getattr(self.app.state, "scheduler", None)
        if rounds is None:
            return
        yield GaugeMetricFamily("gridgov_scheduler_enabled", "1 when this worker runs the deadline scheduler "
                                "(GRIDGOV_SUPERVISION_INTERVAL_S > 0)", value=int(rounds.enabled))
        outcomes = CounterMetricFamily("gridgov_scheduler_rounds", "Scheduler rounds by outcome: done, skipped "
                                       "(another worker held the round) or failed", labels=["outcome"])
        for outcome, n in rounds.outcomes.items():
            outcomes.add_metric([outcome], n)
        yield outcomes
        if rounds.finished_at is None:
            return
        yield GaugeMetricFamily("gridgov_scheduler_last_round_timestamp_seconds",
                                "When the last round finished (Unix time)", value=rounds.finished_at)
        yield GaugeMetricFamily("gridgov_scheduler_last_round_duration_seconds", "How long the last round took",
                                value=rounds.duration_s or 0.0)
        yield GaugeMetricFamily("gridgov_scheduler_last_round_failed", "1 when the last round failed",
                                value=int(rounds.failed))

    def _live(self) -> Iterator[Metric]:
        hub = getattr(self.app.state, "live", None)
        if hub is None:
            return
        yield GaugeMetricFamily("gridgov_live_clients", "Live streams (/api/live) open on this worker",
                                value=len(hub.subscribers))
        yield GaugeMetricFamily("gridgov_live_listening", "1 when this worker's LISTEN connection is up",
                                value=int(hub.connected.is_set()))
