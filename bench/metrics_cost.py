"""What counting every request for ``/metrics`` costs: the same app with and without its
request-metrics middleware (``api.metrics``), answering the HTTP floor (an unknown path: no
database), ``/healthz`` and ``/api/auth/me`` on one keep-alive connection, in alternating rounds
so that both see the same machine; and one scrape of ``/metrics`` itself.

Run alone: ``python -m bench.metrics_cost`` (``make bench`` runs it as section 6c).
"""

from __future__ import annotations

import sys

import httpx
import psycopg

from api.metrics.requests import RequestMetricsMiddleware
from api.settings import Settings
from bench import http1
from bench.common import serve
from bench.dbenv import BenchDb, extra_account
from bench.report import RESULTS_DIR, Report, latency_stats, ms, ratio, standalone
from bench.single import login, timed_gets

PATHS = (("/api/bench-no-such-route", 404, False), ("/healthz", 200, False), ("/api/auth/me", 200, True))
WARMUP = 100


def _app(settings: Settings, *, counted: bool):
    from api.main import create_app

    app = create_app(settings)
    if not counted:  # the stack is built at the first request: drop the middleware before it
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetricsMiddleware]
    return app


def run(report: Report, db: BenchDb, rounds: int = 5, per_round: int = 400) -> None:
    import logging

    logging.getLogger("gridgov.request").setLevel(logging.WARNING)
    times: dict[tuple[str, bool], list[float]] = {(p, c): [] for p, _, _ in PATHS for c in (True, False)}
    scrape: list[float] = []
    with serve(_app(db.settings, counted=True)) as on, serve(_app(db.settings, counted=False)) as off:
        with psycopg.connect(db.dsn) as pg:
            district = pg.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL "
                                  "ORDER BY code LIMIT 1").fetchone()[0]
        with httpx.Client(base_url=on, trust_env=False, timeout=60) as client:
            auth = login(client, db.username, db.password)
            scraper = login(client, *extra_account(db, "metrics", "operator", district))
        for _ in range(rounds):
            for counted, url in ((True, on), (False, off)):
                # a connection a round: an idle keep-alive one is closed by uvicorn after 5 s
                with http1.Connection(url) as conn:
                    for path, status, needs in PATHS:
                        timed_gets(conn, path, auth if needs else {}, status, WARMUP)
                        times[(path, counted)] += timed_gets(conn, path, auth if needs else {}, status, per_round)
                    if counted:
                        scrape += timed_gets(conn, "/metrics", scraper, 200, 20)
    rows = []
    for path, _, _ in PATHS:
        with_, without = latency_stats(times[(path, True)]), latency_stats(times[(path, False)])
        rows.append([path, with_["n"], ms(without["p50"]), ms(with_["p50"]), ms(without["p95"]), ms(with_["p95"]),
                     f"{(with_['p50'] - without['p50']) * 1e3:+.0f} µs", ratio(with_["p50"], without["p50"])])
    report.table(["request", "n", "without p50 ms", "with p50", "without p95", "with p95", "added at p50",
                  "with / without"], rows)
    s = latency_stats(scrape)
    report.out(f"  one scrape of /metrics (an operator's token; every route's series so far): p50 {ms(s['p50'])} ms, "
               f"p95 {ms(s['p95'])} ms over {s['n']}")
    report.out(f"  {rounds} alternating rounds of {per_round} requests a path, each after {WARMUP} warm-up ones; "
               "uvicorn in a thread of this process, one keep-alive connection an app a round")


def main() -> int:
    return standalone("python -m bench.metrics_cost", __doc__, run, RESULTS_DIR / "metrics_cost.txt")


if __name__ == "__main__":
    sys.exit(main())
