"""Requests counted and timed by method, route template and status.

The route label is the template that matched (``/api/incidents/{incident_id}``), never the
path: no ids, codes or tracking codes reach a label, and the label set is bounded by the app's
routes. A static mount is its prefix with ``{path}``; a path no route matched is ``unmatched``;
a method the app does not serve is ``other``.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# seconds: a cached tile is ~1 ms, a routing preview ~5, an export seconds; streams run for minutes
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry | None):
        self.count = Counter("gridgov_http_requests", "HTTP requests answered, by method, route template and status",
                             ["method", "route", "status"], registry=registry)
        self.latency = Histogram("gridgov_http_request_duration_seconds",
                                 "Time to answer (the whole stream for /api/live), by method, route template "
                                 "and status class", ["method", "route", "status_class"],
                                 buckets=BUCKETS, registry=registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.count.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, f"{status // 100}xx").observe(seconds)


def route_of(scope: Scope) -> str:
    """The template of the route the router matched in ``scope`` (FastAPI puts it there)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is not None and app is not None:  # a mount (static files): its prefix
        for candidate in getattr(app, "routes", ()):
            if isinstance(candidate, Mount) and candidate.app is endpoint:
                return f"{candidate.path}/{{path}}"
    return UNMATCHED


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the answer started: the log middleware answers 500

        async def send_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(scope.get("method", ""), route_of(scope), status, time.perf_counter() - started)
