"""Prometheus metrics of one app (``GET /metrics``, api.routes.metrics), for the operator.

Each app has a registry of its own (not prometheus-client's global one), so two apps in one
process (the tests) never share a counter. What changes on every request (counts and latencies
by route template) is counted by :mod:`api.metrics.requests`; what is a state (the connection
pool, the scheduler's last round, live clients) is read when scraped (:mod:`api.metrics.state`).

One process (``gridgov serve --workers 1``, the tests' apps) reads its own registry. With
``gridgov serve --workers N`` (N > 1) every worker writes its values into files that a scrape
merges, whichever worker answers it (prometheus-client's multiprocess mode:
:mod:`api.metrics.shared`).
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from api.metrics import shared
from api.metrics.requests import RequestMetrics, RequestMetricsMiddleware
from api.metrics.state import AppState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text exposition format


class AppMetrics:
    published: shared.Published | None = None  # this worker's state, in multiprocess mode (shared.start)

    def __init__(self, app: FastAPI):
        if shared.active():  # the values live in files: count into them, scrape them all merged
            self.requests = RequestMetrics(None)
            self.registry = shared.registry()
            return
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestMetrics(self.registry)
        self.registry.register(AppState(app))
        ProcessCollector(namespace="", registry=self.registry)  # process_cpu_seconds_total, resident memory

    def exposition(self) -> bytes:
        if self.published is not None:  # the answering worker's state is as fresh as the scrape
            self.published.publish()
        return generate_latest(self.registry)


def install(app: FastAPI) -> None:
    """``app.state.metrics`` and the middleware that counts requests (add it innermost: it reads
    the route that matched from the scope the router filled in)."""
    metrics = app.state.metrics = AppMetrics(app)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics.requests)
