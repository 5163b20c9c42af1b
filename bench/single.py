"""Section 1: single-point routing latency, the same points through every layer."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import psycopg

from api.auth.policy import Capability, reach
from api.auth.principal import Grant, Principal
from api.incidents import routing_options
from api.settings import libpq_url
from bench import http1
from bench.common import psycopg_sql
from bench.report import Report, latency_stats, ms, ratio
from spatial.routing import EVERY_UNIT

WARMUP = 25


def route_params(settings, lon: float, lat: float, category: str, sight: dict | None = None) -> dict:
    """The bound parameters ``spatial.routing.route_point`` sends (WGS-84 input); ``sight``: the
    caller's reach over units (default: every unit, as for a report)."""
    opts = routing_options(settings)
    return {"lon": float(lon), "lat": float(lat), "category": category,
            "tolerance_m": opts.boundary_tolerance_m, "stale_s": opts.stale_position_s,
            "k": opts.units_per_department, **(sight or EVERY_UNIT)}


def dispatcher_sight(dsn: str) -> dict:
    """The bench account's reach over units (a dispatcher of every district, bench.dbenv), from
    the permission policy as ``GET /api/route`` binds it: the raw baseline runs the same
    statement with the same values."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        codes = [r[0] for r in conn.execute(
            "SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL ORDER BY code")]
    who = Principal(username="bench", user_id=0, grants=tuple(Grant("dispatcher", c) for c in codes))
    return reach(who, Capability.READ_UNITS).params()


PREPARED_PLANS = """SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
                    FROM pg_prepared_statements WHERE strpos(statement, 'covering AS (') > 0"""


def raw_sql_latency(dsn: str, settings, points, warm, category: str, *,
                    prepare_threshold: int | None = 5) -> tuple[list[float], list, tuple[int, int]]:
    """psycopg sync, autocommit; ``prepare_threshold`` as psycopg's (5: prepared from the 6th call on);
    the units seen as the bench's dispatcher sees them."""
    sight = dispatcher_sight(dsn)
    query, names = psycopg_sql("route_point")
    grids = []
    times = []
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=prepare_threshold) as conn:
        missing = names - set(route_params(settings, 0, 0, category))
        if missing:
            raise RuntimeError(f"route_point.sql needs parameters the bench does not send: {sorted(missing)}")
        cur = conn.cursor()
        for lon, lat in warm:
            cur.execute(query, route_params(settings, lon, lat, category, sight)).fetchone()
        for lon, lat in points:
            params = route_params(settings, lon, lat, category, sight)
            t0 = time.perf_counter()
            doc = cur.execute(query, params).fetchone()[0]
            times.append(time.perf_counter() - t0)
            grids.append((doc["grid"] or {}).get("code"))
        plans = tuple(int(v) for v in conn.execute(PREPARED_PLANS, prepare=False).fetchone())
    return times, grids, plans


def function_latency(settings, points, warm, category: str) -> tuple[list[float], list, tuple[int, int]]:
    """``spatial.routing.route_point`` on one pooled async connection (the app's pool), autocommit,
    the units seen as the bench's dispatcher sees them."""
    from api.db import make_pool
    from spatial.routing import route_point

    opts = routing_options(settings)
    sight = dispatcher_sight(libpq_url(settings.url))

    async def run():
        pool = make_pool(settings)
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                for lon, lat in warm:
                    await route_point(conn, lon, lat, category, options=opts, units_seen_by=sight)
                times, grids = [], []
                for lon, lat in points:
                    t0 = time.perf_counter()
                    doc = await route_point(conn, lon, lat, category, options=opts, units_seen_by=sight)
                    times.append(time.perf_counter() - t0)
                    grids.append((doc["grid"] or {}).get("code"))
                plans = tuple(int(v) for v in await (await conn.execute(PREPARED_PLANS)).fetchone())
                return times, grids, plans
        finally:
            await pool.close()

    return asyncio.run(run())


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    res = client.post("/api/auth/token", data={"username": username, "password": password})
    res.raise_for_status()
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def http_latency(conn: http1.Connection, auth: dict, points, warm, category: str) -> tuple[list[float], list]:
    """Sequential ``GET /api/route`` on one keep-alive connection of the lean client."""
    def get(lon, lat):
        status, _, content = conn.get("/api/route", {"lon": repr(float(lon)), "lat": repr(float(lat)),
                                                     "category": category}, auth)
        if status != 200:
            raise RuntimeError(f"GET /api/route -> {status}: {content[:300]!r}")
        return orjson.loads(content)

    for lon, lat in warm:
        get(lon, lat)
    times, grids = [], []
    for lon, lat in points:
        t0 = time.perf_counter()
        doc = get(lon, lat)
        times.append(time.perf_counter() - t0)
        grids.append((doc["grid"] or {}).get("code"))
    return times, grids


def timed_gets(conn: http1.Connection, path: str, headers: dict, status: int, n: int) -> list[float]:
    """``n`` GETs of ``path`` on one keep-alive connection: each one's seconds (any other status
    than ``status`` is an error)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        got, _, content = conn.get(path, headers=headers)
        times.append(time.perf_counter() - t0)
        if got != status:
            raise RuntimeError(f"GET {path} -> {got}: {content[:300]!r}")
    return times


def http_floor_latency(conn: http1.Connection, auth: dict, n: int) -> tuple[list[float], list[float]]:
    """Reference points for (c): an unknown path (404: HTTP stack and middleware, no database) and
    ``GET /api/auth/me`` (plus token check, session query, one transaction; no routing)."""
    def timed(path, headers, status):
        timed_gets(conn, path, headers, status, WARMUP)
        return timed_gets(conn, path, headers, status, n)

    return timed("/api/bench-no-such-route", {}, 404), timed("/api/auth/me", auth, 200)


def print_latency(report: Report, results: dict[str, list[float]], base_key: str) -> dict[str, dict]:
    stats = {k: latency_stats(v) for k, v in results.items()}
    base = stats[base_key]
    rows = []
    for label, s in stats.items():
        rows.append([label, s["n"], ms(s["p50"]), ms(s["p95"]), ms(s["p99"]), ms(s["mean"]), ms(s["max"])])
    for label, s in stats.items():
        if label == base_key:
            continue
        rows.append([f"  ratio {label.split()[0]}/{base_key.split()[0]}", "", ratio(s["p50"], base["p50"]),
                     ratio(s["p95"], base["p95"]), ratio(s["p99"], base["p99"]), ratio(s["mean"], base["mean"]), ""])
    report.table(["layer", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms"], rows)
    return stats


