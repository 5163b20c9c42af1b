"""``python -m bench``: run every section, print the tables, write bench/results/latest.txt."""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import httpx
import numpy as np
import psycopg

from api.settings import Settings
from bench import (
    bulk,
    console,
    cycle,
    goals,
    hostile,
    http1,
    inspections,
    intake,
    kpis,
    login,
    metrics_cost,
    partition,
    patrols,
    places,
    plan,
    reporter,
    single,
)
from bench.common import district_shape, points_inside, serve
from bench.dbenv import bench_database, check_loaded
from bench.report import RESULTS_DIR, Report
from bench.server import serve_process

PREFERRED_CATEGORY = "street_vendor"
LOAD_SHARE = 0.7        # the load test offers this share of the throughput section 3 measured
LOAD_CONNECTIONS = 32


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--points", type=int, default=500, help="single-point routing: points per layer (500)")
    p.add_argument("--bulk", default="10000,100000", help="bulk routing sizes, comma-separated (10000,100000)")
    p.add_argument("--intake", type=int, default=200, help="incident intake: requests per run (200)")
    p.add_argument("--clients", type=int, default=8, help="incident intake: concurrent clients (8)")
    p.add_argument("--cycle", type=int, default=100, help="command-room cycle: dispatches per layer (100)")
    p.add_argument("--category", default=None, help=f"category code (default {PREFERRED_CATEGORY} if present)")
    p.add_argument("--incidents", type=int, default=console.MILLION,
                   help="console: incidents generated in the bench clone for the heatmaps (1000000; 0 skips)")
    p.add_argument("--scale", default="31000,8000",
                   help="sections 5 and 7: incidents and open cases generated in the bench clone before the incident "
                        "list and the area save are measured (31000,8000; 0 skips)")
    p.add_argument("--workers", type=int, default=0, help="app workers for sections 3 and 9 (0: one per usable core)")
    p.add_argument("--load-seconds", type=float, default=60.0, help="load test length (60 s)")
    p.add_argument("--load-rate", type=float, default=0.0,
                   help=f"load test rate, reports/s (0: {LOAD_SHARE * 100:.0f}%% of the throughput measured in "
                        "section 3)")
    p.add_argument("--seed", type=int, default=20261121)
    p.add_argument("--in-place", action="store_true",
                   help="do not clone the database; work in it with a temporary user, cleaned up at the end")
    p.add_argument("--out", default=str(RESULTS_DIR / "latest.txt"))
    return p.parse_args(argv)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def machine(report: Report, db, counts: dict) -> None:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute(
            "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()").fetchone()
        knobs = dict(conn.execute("""SELECT name, setting || coalesce(unit, '') FROM pg_settings
            WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather')""").fetchall())
    import shapely
    report.out(f"gridgov bench  {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    report.out(f"machine     {platform.system()} {platform.release()} {platform.machine()}; {cpu}; "
               f"{cores} cores ({usable} usable); {ram:.1f} GiB RAM")
    report.out(f"python      {platform.python_implementation()} {platform.python_version()}; "
               f"fastapi {_version('fastapi')}, uvicorn {_version('uvicorn')}, SQLAlchemy {_version('SQLAlchemy')}, "
               f"psycopg {psycopg.__version__}, httpx {_version('httpx')}")
    report.out(f"             geopandas {_version('geopandas')}, shapely {shapely.__version__} "
               f"(GEOS {shapely.geos_version_string}), pandas {_version('pandas')}, numpy {np.__version__}")
    report.out(f"database    PostgreSQL {pg}, PostGIS {postgis[0]} (GEOS {postgis[1]}, PROJ {postgis[2]}); "
               + ", ".join(f"{k} {v}" for k, v in sorted(knobs.items())))
    report.out(f"             {db.mode}")
    report.out(f"data        {counts['grid']:,} grids, {counts['community']:,} communities, "
               f"{counts['street']:,} streets, "
               f"{counts['zone']:,} zones, {counts['patrol_zone']:,} patrol zones, {counts['station']:,} stations, "
               f"{counts['unit']:,} units ({counts['available_units']:,} available), {counts['incident']:,} incidents")
    load = os.getloadavg()
    report.out(f"note        client, server (uvicorn thread) and PostgreSQL share these cores; load average at start "
               f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min); gc.freeze() after set-up")


def pick_category(dsn: str, wanted: str | None) -> tuple[str, list[str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT code, departments FROM category ORDER BY code").fetchall()
    codes = [r[0] for r in rows]
    if not codes:
        raise SystemExit("no categories in the database: load the sample first")
    if wanted:
        if wanted not in codes:
            raise SystemExit(f"unknown category {wanted!r}; categories: {', '.join(codes)}")
        code = wanted
    else:
        code = PREFERRED_CATEGORY if PREFERRED_CATEGORY in codes else codes[0]
    return code, dict(rows)[code]


def _scale(report: Report, db, args) -> tuple[int, int] | None:
    """The bench clone brought to ``--scale`` incidents and open cases (issue 21's database);
    None when skipped (0, or working in place: they would stay in the source database)."""
    total, open_cases = (int(x) for x in args.scale.split(","))
    if not total:
        return None
    if not db.cloned:
        report.out("  working in place: no incidents generated for the incident list and the area save at scale")
        return None
    counts = console.scale_to(db.dsn, total, open_cases, args.seed, report)
    report.out(f"  the clone now holds {counts[0]:,} incidents, {counts[1]:,} open (the incident list below, and "
               "section 7's area saves, run on them)")
    return counts


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    base = Settings()
    sizes = [int(s) for s in args.bulk.split(",") if s.strip()]
    report = Report()
    out_path = os.path.abspath(args.out)

    with bench_database(base, in_place=args.in_place, public_rate_per_minute=10**9) as db:
        counts = check_loaded(db.dsn)
        if counts["grid"] == 0:
            print("no grids in the database: load the sample first (`make bench` runs `gridgov load-sample`)",
                  file=sys.stderr)
            return 2
        machine(report, db, counts)
        category, departments = pick_category(db.dsn, args.category)
        shape = district_shape(db.dsn)
        rng = np.random.default_rng(args.seed)
        lons, lats = points_inside(shape, args.points, rng)
        wl, wt = points_inside(shape, single.WARMUP, np.random.default_rng(args.seed + 1))
        points, warm = list(zip(lons, lats, strict=True)), list(zip(wl, wt, strict=True))

        import logging

        from api.main import create_app

        logging.getLogger("gridgov.request").setLevel(logging.WARNING)  # one log line per request: not here

        gc.collect()
        gc.freeze()   # set-up objects out of the collector's way: no full-heap scans inside the timings

        # 1 -------------------------------------------------------------------------------
        report.section(f"1. Single-point routing latency: {args.points} random points inside the district "
                       f"(seed {args.seed}), category {category} ({', '.join(departments)})")
        a_times, a_grids, a_plans = single.raw_sql_latency(db.dsn, db.settings, points, warm, category)
        a0_times, _, _ = single.raw_sql_latency(db.dsn, db.settings, points, warm, category, prepare_threshold=None)
        b_times, b_grids, b_plans = single.function_latency(db.settings, points, warm, category)
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            auth = single.login(client, db.username, db.password)
            with http1.Connection(url) as conn:
                c_times, c_grids = single.http_latency(conn, auth, points, warm, category)
                c0_times, c1_times = single.http_floor_latency(conn, auth, len(points))
        with serve_process(db.settings, 2) as served, \
                httpx.Client(base_url=served.url, trust_env=False, timeout=60) as client:
            auth = single.login(client, db.username, db.password)
            with http1.Connection(served.url) as conn:
                d_times, d_grids = single.http_latency(conn, auth, points, warm, category)
                d0_times, d1_times = single.http_floor_latency(conn, auth, len(points))
        stats = single.print_latency(report, {
            goals.RAW: a_times,
            "(b) spatial.routing.route_point, the app's pool": b_times,
            goals.IN_PROCESS: c_times,
            "(a0) raw SQL, psycopg, never prepared": a0_times,
            "(c0) HTTP floor: GET unknown path -> 404, no database": c0_times,
            "(c1) GET /api/auth/me: token + session (per-worker cache)": c1_times,
            "(d) GET /api/route, `gridgov serve --workers 2` subprocess": d_times,
            "(d0) HTTP floor of (d): unknown path -> 404": d0_times,
            "(d1) GET /api/auth/me on (d): token + cached session": d1_times,
        }, goals.RAW)
        in_grid = sum(g is not None for g in a_grids)
        same = a_grids == b_grids == c_grids == d_grids
        report.out(f"  {single.WARMUP} warm-up calls per layer, autocommit, one connection; {in_grid}/{len(points)} "
                   f"points inside a grid; (a), (b), (c), (d) agree on every grid: {'yes' if same else 'NO'}")
        report.out("  (c*) uvicorn in a thread of this process (client and server share one interpreter); (d*) the "
                   "app in its own processes (uvloop, httptools), one keep-alive connection, so one worker answers")
        report.out(f"  prepared statements: (a) psycopg's default, from the 6th execution, ran {a_plans[0]} generic / "
                   f"{a_plans[1]} custom plans; (b) the app's pool, from the 2nd (api.db.PREPARE_THRESHOLD), "
                   f"{b_plans[0]} / {b_plans[1]}; (a0) plans every call")

        # 2 -------------------------------------------------------------------------------
        report.section("2. Bulk routing throughput: random points in the district bbox (grid, hierarchy, zone, "
                       "station)")
        bulk_stats = bulk.run(report, db, shape, sizes, args.seed)

        # 3 -------------------------------------------------------------------------------
        report.section(f"3. Incident intake: POST /api/incidents (anonymous web reports, category {category}; "
                       f"rate limit lifted for the bench)")
        workers = args.workers or len(os.sched_getaffinity(0))
        with serve(create_app(db.settings)) as url, serve_process(db.settings, workers) as served:
            intake_stats = intake.run(report, db, url, (lons, lats), category, args.intake, args.clients,
                                      stats[goals.IN_PROCESS]["p50"],
                                      served.url, workers)

        rate = args.load_rate or LOAD_SHARE * intake_stats["workers_rps"]
        report.section(f"9. Load test: {args.load_seconds:g} s of anonymous reports at {rate:.0f}/s "
                       f"({'given' if args.load_rate else f'{LOAD_SHARE:.0%} of the throughput measured in 3'}), "
                       f"gridgov serve --workers {workers}")
        with serve_process(db.settings, workers) as served:
            load_stats = intake.load_test(report, db, served, (lons, lats), category, rate, args.load_seconds,
                                          LOAD_CONNECTIONS)

        # 5 (before the plan check, which prints last) -------------------------------------
        report.section("5. Command-room cycle: a dispatch transition, and the district's queue")
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            cycle.run(report, db, client, single.login(client, db.username, db.password), (lons, lats),
                      category, args.cycle)
            report.out()
            scaled = _scale(report, db, args)
            if scaled:
                cycle.incident_list(report, db, client, 20)

        report.section("6. The resident: photo intake and the report page's weight")
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            reporter.run(report, client, (float(lons[0]), float(lats[0])), 20, args.seed, db.created_incidents)

        report.section("6a. Failed logins: does the answer's time tell whether a username exists?")
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            login.run(report, client, db.username)

        report.section("6b. Hostile requests: one worker's peak memory and CPU (photos, a layer file, a split)")
        hostile.run(report, db, args.seed)

        report.section("6c. What /metrics costs: every request counted and timed, against the same app without; "
                       "one worker against two sharing their values")
        metrics_cost.run_all(report, db)

        report.section("7. The partition: validating 10,000 grids; one reshape preview and save")
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            partition.run(report, db, client, single.login(client, db.username, db.password), shape)
            if scaled:
                report.out()
                partition.save_floor(report, db.dsn, client, single.login(client, db.username, db.password),
                                     db.username, f"{scaled[0]:,} incidents, {scaled[1]:,} open")

        report.section(f"8. The console: heatmaps over {args.incidents:,} more incidents, grid tiles vs tipg, "
                       "the live stream")
        if args.incidents and db.cloned:
            took = console.generate(db.dsn, args.incidents, args.seed, report)
            report.out(f"  {args.incidents:,} incidents generated in {took:.1f} s ({args.incidents / took:,.0f}/s, "
                       "COPY + the rollup's statement trigger)")
        elif args.incidents:
            report.out("  working in place: no incidents generated (they would stay in the source database)")
        console_app = create_app(db.settings)
        with serve(console_app) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=120) as client:
            auth = single.login(client, db.username, db.password)
            console.heat_latency(report, db, client, auth, repeat=50)
            console.tiles(report, db, console_app, client, auth)
        console.live(report, db, create_app(db.settings), (float(lons[0]), float(lats[0])),
                     auth)

        report.section(f"8b. The places register's tiles at the seed's density ({places.PLACES:,} places) vs tipg")
        places_app = create_app(db.settings)
        with serve(places_app) as url, httpx.Client(base_url=url, trust_env=False, timeout=120) as client:
            places.tiles(report, db, places_app, client, single.login(client, db.username, db.password))

        # 10 ------------------------------------------------------------------------------
        report.section("10. KPIs (api.kpi): every KPI for the district over one year, every street at once, "
                       "a drill-down page (on the incidents of section 8)")
        with serve(create_app(db.settings)) as url, \
                httpx.Client(base_url=url, trust_env=False, timeout=1200) as client:
            # three runs each after a warm-up: the per-case facts (case_fact) are kept by the generator's COPY
            kpis.run(report, db, client, single.login(client, db.username, db.password), n=3, warm=1)

        # 11 ------------------------------------------------------------------------------
        report.section("11. Patrol coverage (api.patrols): a day of every grid worker's tracks (8 h at 10 s), "
                       "all at once, against the plain statement")
        patrols.run(report, db.dsn)
        report.section(f"12. Joint inspections: planning a week for one zone ({inspections.ZONE}, scaled to "
                       f"{inspections.SCALE_TO} places), OR-Tools routing")
        inspections.run(report, db)

        # 4 -------------------------------------------------------------------------------
        report.section("4. Plan check: EXPLAIN (ANALYZE, BUFFERS) route_point.sql")
        plan.run(report, db.dsn, single.route_params(db.settings, lons[0], lats[0], category),
                 RESULTS_DIR / "route_point_plan.txt")

        report.section("Issue 11 goals, all figures from this run")
        goals.summary(report, stats, bulk_stats, intake_stats, load_stats, args.clients)

    report.out()
    load = os.getloadavg()
    report.out(f"load average at end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
               f"total {time.perf_counter() - started:.1f} s; written to {os.path.relpath(out_path)}")
    report.save(Path(out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
