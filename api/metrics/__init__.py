"""Prometheus metrics of one app (``GET /metrics``, api.routes.metrics), for the operator.

Each app has a registry of its own (not prometheus-client's global one), so two apps in one
process (the tests) never share a counter. What changes on every request (counts and latencies
by route template) is counted by :mod:`api.metrics.requests`; what is a state (the connection
pool, the scheduler's last round, live clients) is read when scraped (:mod:`api.metrics.state`).

The values are this worker's: with ``gridgov serve --workers N`` a scrape reads the worker that
answered it.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from api.metrics.requests import RequestMetrics, RequestMetricsMiddleware
from api.metrics.state import AppState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text exposition format


class AppMetrics:
    def __init__(self, app: FastAPI):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestMetrics(self.registry)
        self.registry.register(AppState(app))
        ProcessCollector(namespace="", registry=self.registry)  # process_cpu_seconds_total, resident memory

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def install(app: FastAPI) -> None:
    """``app.state.metrics`` and the middleware that counts requests (add it innermost: it reads
    the route that matched from the scope the router filled in)."""
    metrics = app.state.metrics = AppMetrics(app)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics.requests)
