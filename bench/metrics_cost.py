"""What counting every request for ``/metrics`` costs: the same app with and without its
request-metrics middleware (``api.metrics``), answering the HTTP floor (an unknown path: no
database), ``/healthz`` and ``/api/auth/me`` on one keep-alive connection, in alternating rounds
so that both see the same machine; and one scrape of ``/metrics`` itself. Then what sharing the
values between workers costs (prometheus-client's multiprocess mode, api.metrics.shared): counting
one request and rendering a scrape with the values in memory and in files (bench.metrics_observe,
a fresh interpreter each way), and ``gridgov serve --workers 1`` (memory) beside ``--workers 2``
(files) answering the same requests on one keep-alive connection each, in alternating rounds.

Run alone: ``python -m bench.metrics_cost`` (``make bench`` runs it as section 6c).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import httpx
import psycopg

from api.metrics.requests import RequestMetricsMiddleware
from api.settings import Settings
from bench import http1
from bench.common import serve
from bench.dbenv import BenchDb, extra_account
from bench.report import RESULTS_DIR, Report, latency_stats, ms, ratio, standalone
from bench.server import ROOT, serve_process
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


def _observe(multiprocess: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    with tempfile.TemporaryDirectory(prefix="gridgov-metrics-") as files:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = files
        out = subprocess.run([sys.executable, "-m", "bench.metrics_observe"], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_workers(report: Report, db: BenchDb, rounds: int = 5, per_round: int = 400) -> None:
    """One worker (values in memory) against two (values in files, summed at the scrape)."""
    report.out("  counting one request (a counter and a histogram) and rendering a scrape, in one process:")
    rows = []
    for multiprocess in (False, True, False, True):
        got = _observe(multiprocess)
        rows.append([got["mode"], f"{got['observe_us_p50']:.1f}", f"{got['observe_us_p95']:.1f}",
                     f"{got['scrape_ms_p50']:.2f}"])
    report.table(["values in", "observe p50 µs", "observe p95 µs", "scrape p50 ms (5 routes)"], rows)
    paths = PATHS[:2]
    times: dict[tuple[str, int], list[float]] = {(p, w): [] for p, _, _ in paths for w in (1, 2)}
    scrape: dict[int, list[float]] = {1: [], 2: []}
    with serve_process(db.settings, 1) as one, serve_process(db.settings, 2) as two:
        with psycopg.connect(db.dsn) as pg:
            district = pg.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL "
                                  "ORDER BY code LIMIT 1").fetchone()[0]
        with httpx.Client(base_url=one.url, trust_env=False, timeout=60) as client:
            scraper = login(client, *extra_account(db, "metrics2", "operator", district))
        for _ in range(rounds):
            for workers, served in ((1, one), (2, two)):
                with http1.Connection(served.url) as conn:
                    for path, status, _ in paths:
                        timed_gets(conn, path, {}, status, WARMUP)
                        times[(path, workers)] += timed_gets(conn, path, {}, status, per_round)
                    scrape[workers] += timed_gets(conn, "/metrics", scraper, 200, 20)
    rows = []
    for path, _, _ in paths:
        a, b = latency_stats(times[(path, 1)]), latency_stats(times[(path, 2)])
        rows.append([path, a["n"], ms(a["p50"]), ms(b["p50"]), ms(a["p95"]), ms(b["p95"]),
                     f"{(b['p50'] - a['p50']) * 1e3:+.0f} µs", ratio(b["p50"], a["p50"])])
    a, b = latency_stats(scrape[1]), latency_stats(scrape[2])
    rows.append(["/metrics (scrape)", a["n"], ms(a["p50"]), ms(b["p50"]), ms(a["p95"]), ms(b["p95"]),
                 f"{(b['p50'] - a['p50']) * 1e3:+.0f} µs", ratio(b["p50"], a["p50"])])
    report.table(["request", "n", "1 worker p50 ms", "2 workers p50", "1 worker p95", "2 workers p95",
                  "added at p50", "2 / 1"], rows)
    report.out(f"  gridgov serve --workers 1 and --workers 2 side by side, {rounds} alternating rounds of "
               f"{per_round} requests a path after {WARMUP} warm-up ones, one keep-alive connection a server a "
               "round (so one worker of the two answers it)")


def run_all(report: Report, db: BenchDb, rounds: int = 5) -> None:
    run(report, db, rounds)
    run_workers(report, db, rounds)


def main() -> int:
    return standalone("python -m bench.metrics_cost", __doc__, run_all, RESULTS_DIR / "metrics_cost.txt")


if __name__ == "__main__":
    sys.exit(main())
