"""What counting every request for ``/metrics`` costs: the same app with and without its
request-metrics middleware (``api.metrics``), answering the HTTP floor (an unknown path: no
database), ``/healthz`` and ``/api/auth/me`` on one keep-alive connection, in alternating rounds
so that both see the same machine; and one scrape of ``/metrics`` itself.

Run alone: ``python -m bench.metrics_cost`` (``make bench`` runs it as section 6c).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx
import psycopg

from api.metrics.requests import RequestMetricsMiddleware
from api.settings import Settings
from bench import http1
from bench.common import serve
from bench.dbenv import BenchDb, bench_database, extra_account
from bench.report import RESULTS_DIR, Report, latency_stats, ms, ratio
from bench.single import login

PATHS = (("/api/bench-no-such-route", 404, False), ("/healthz", 200, False), ("/api/auth/me", 200, True))
WARMUP = 200


def _app(settings: Settings, *, counted: bool):
    from api.main import create_app

    app = create_app(settings)
    if not counted:  # the stack is built at the first request: drop the middleware before it
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetricsMiddleware]
    return app


def _timed(conn: http1.Connection, path: str, status: int, headers: dict, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        got, _, content = conn.get(path, headers=headers)
        times.append(time.perf_counter() - t0)
        if got != status:
            raise RuntimeError(f"GET {path} -> {got}: {content[:200]!r}")
    return times


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
        with http1.Connection(on) as c_on, http1.Connection(off) as c_off:
            for conn in (c_on, c_off):
                for path, status, needs in PATHS:
                    _timed(conn, path, status, auth if needs else {}, WARMUP)
            for _ in range(rounds):
                for counted, conn in ((True, c_on), (False, c_off)):
                    for path, status, needs in PATHS:
                        times[(path, counted)] += _timed(conn, path, status, auth if needs else {}, per_round)
                scrape += _timed(c_on, "/metrics", 200, scraper, 20)
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
    report.out(f"  {rounds} alternating rounds of {per_round} requests a path, after {WARMUP} warm-up each; "
               "uvicorn in a thread of this process, one keep-alive connection per app")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.metrics_cost", description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=str(RESULTS_DIR / "metrics_cost.txt"))
    args = p.parse_args(argv)
    report = Report()
    load = os.getloadavg()
    report.out(f"bench.metrics_cost  {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; {os.cpu_count()} "
               f"cores; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    with bench_database(Settings(), public_rate_per_minute=10**9) as db:
        report.out(f"  {db.mode}")
        run(report, db, args.rounds)
    load = os.getloadavg()
    report.out(f"  load average at end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    report.save(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
