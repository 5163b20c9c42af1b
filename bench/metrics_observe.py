"""One process's cost of counting a request (``RequestMetrics.observe``: a counter and a
histogram) and of rendering a scrape, as prometheus-client keeps its values in this process:
in memory, or in files (multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` set before it is
imported, as ``gridgov serve --workers N`` does). Prints one JSON line; bench.metrics_cost runs
it once each way in a fresh interpreter (the mode is chosen at import).
"""

from __future__ import annotations

import json
import time

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest

from api.metrics import shared
from api.metrics.requests import RequestMetrics

ROUTES = ("/healthz", "/api/auth/me", "/api/incidents/{incident_id}", "/api/route", "/tiles/{z}/{x}/{y}.pbf")
BATCH = 1000


def main() -> None:
    mode = "files" if shared.active() else "memory"
    own = None if shared.active() else CollectorRegistry()
    metrics = RequestMetrics(own)
    for route in ROUTES:  # the series exist: a request after start-up
        metrics.observe("GET", route, 200, 0.003)
    per: list[float] = []
    for n in range(40):
        route = ROUTES[n % len(ROUTES)]
        t0 = time.perf_counter()
        for _ in range(BATCH):
            metrics.observe("GET", route, 200, 0.003)
        per.append((time.perf_counter() - t0) / BATCH)
    readable = shared.registry() if shared.active() else own
    scrapes = []
    for _ in range(50):
        t0 = time.perf_counter()
        generate_latest(readable)
        scrapes.append(time.perf_counter() - t0)
    print(json.dumps({"mode": mode, "observe_us_p50": float(np.percentile(per, 50)) * 1e6,
                      "observe_us_p95": float(np.percentile(per, 95)) * 1e6,
                      "scrape_ms_p50": float(np.percentile(scrapes, 50)) * 1e3}))


if __name__ == "__main__":
    main()
