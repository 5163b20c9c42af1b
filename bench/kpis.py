"""Section 10: KPIs (api.kpi) — every KPI for the district over one year, every street at once, a drill-down page.

Each figure three ways: (raw) a hand-written SQL baseline counting the simplest figures
(received, closed, on time) over the same rows with no facts, no reach function and no
percentile; (sql) the app's own statement (``kpi_figures`` / ``kpi_areas`` / a drill-down) on
psycopg with the app's parameters; (http) the API. ``python -m bench.kpis`` runs this section
alone, in place on ``GRIDGOV_PG_DATABASE`` (read only).

The raw baseline is not the app's query: three counts by district_code, where the app computes
33 per-case parts and two percentile pairs over the caller's reach. What the app's time was
(EXPLAIN ANALYZE, the sample's district year, before migration 0027): ~860 ms of ~1.1 s in the
repeat-complaint probe (a GiST lookup per case), ~230 ms in the per-case aggregates over
incident_event / assignment / department_call; both now live in ``case_fact``, kept by triggers.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import psycopg

from bench.report import Report, latency_stats, ms, ratio

RAW_DISTRICT = """SELECT count(*), count(*) FILTER (WHERE status = 'closed'),
    count(*) FILTER (WHERE status = 'closed' AND closed_at <= due_at)
FROM incident WHERE district_code = %(area)s AND reported_at >= %(start)s AND reported_at < %(stop)s"""
RAW_STREETS = """SELECT street_code, count(*), count(*) FILTER (WHERE status = 'closed'),
    count(*) FILTER (WHERE status = 'closed' AND closed_at <= due_at)
FROM incident WHERE district_code = %(area)s AND reported_at >= %(start)s AND reported_at < %(stop)s
GROUP BY 1"""
RAW_PAGE = """SELECT id, tracking_code, category_code, status, tier, reported_at, closed_at,
    ST_X(location), ST_Y(location)
FROM incident WHERE district_code = %(area)s AND reported_at >= %(start)s AND reported_at < %(stop)s
  AND status = 'closed' ORDER BY reported_at DESC, id DESC LIMIT %(limit)s"""


def _times(call, n: int, warm: int = 1) -> list[float]:
    for _ in range(warm):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def _window(dsn: str) -> tuple[str, object, object]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        district = conn.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL "
                                "ORDER BY code").fetchone()[0]
        newest = conn.execute("SELECT max(reported_at) FROM incident WHERE district_code = %s",
                              (district,)).fetchone()[0]
    stop = newest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return district, stop - timedelta(days=365), stop


def _app_params(settings, who, start, stop, area):
    """The bound parameters the API sends (its own function, on a connection of the app's kind)."""
    from api.kpi import service
    from api.settings import libpq_url

    async def get():
        async with await psycopg.AsyncConnection.connect(libpq_url(settings.url), autocommit=True) as conn:
            s = await service.scope(conn, settings, start=start, stop=stop, area=area)
            return await service._params(conn, who, settings, s)

    return asyncio.run(get())


def run(report: Report, db, client: httpx.Client, auth: dict, n: int = 5, warm: int = 1) -> None:
    from api.auth.principal import Grant, Principal
    from api.kpi import service

    district, start, stop = _window(db.dsn)
    who = Principal(username="bench", user_id=0, grants=(Grant("dispatcher", district),))
    params = _app_params(db.settings, who, start, stop, district)
    raw_args = {"area": district, "start": start, "stop": stop, "limit": 1000}
    q = {"from": start.isoformat(), "to": stop.isoformat(), "area": district}
    figures_sql = service.sql.query("kpi_figures")
    areas_sql = service.sql.query("kpi_areas")
    drill_sql = service.sql.query(service._drill_name("closed", None))
    from api.auth.policy import Capability, reach

    drill_params = {**params, **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_"), "limit": 1000,
                    "offset": 0}
    rows, matched = [], {}
    with psycopg.connect(db.dsn, autocommit=True) as raw, psycopg.connect(db.dsn, autocommit=True) as app_like:
        app_like.execute("SET jit = off")  # as the service does

        def http(path, extra=None, key=None):
            def call():
                res = client.get(path, params={**q, **(extra or {})}, headers=auth)
                if res.status_code != 200:
                    raise RuntimeError(f"{path} -> {res.status_code}: {res.text[:300]}")
                if key:
                    matched[key] = res.json()
            return call

        cases = [
            ("every KPI, district, one year", lambda: raw.execute(RAW_DISTRICT, raw_args).fetchall(),
             lambda: app_like.execute(figures_sql, params, prepare=False).fetchall(),
             http("/api/kpis", key="table")),
            ("every KPI per street (choropleth)", lambda: raw.execute(RAW_STREETS, raw_args).fetchall(),
             lambda: app_like.execute(areas_sql, {**params, "level": "street"}, prepare=False).fetchall(),
             http("/api/kpis/areas", {"level": "street"}, key="areas")),
            ("drill-down: closed cases, a page of 1,000", lambda: raw.execute(RAW_PAGE, raw_args).fetchall(),
             lambda: app_like.execute(drill_sql, drill_params, prepare=False).fetchall(),
             http("/api/kpis/closed/cases", {"part": "numerator", "limit": 1000}, key="page")),
        ]
        for label, raw_call, sql_call, http_call in cases:
            r, s, h = (latency_stats(_times(c, n, warm)) for c in (raw_call, sql_call, http_call))
            rows.append([label, ms(r["p50"]), ms(s["p50"]), ms(h["p50"]), ms(h["p95"]), ratio(h["p50"], r["p50"])])
    received = next(k for k in matched["table"]["kpis"] if k["key"] == "received")["numerator"]
    report.table(["request", "raw p50 ms", "app SQL p50 ms", "HTTP p50 ms", "HTTP p95 ms", "HTTP / raw"], rows)
    report.out(f"  district {district}, reported {start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M} UTC: {received:,} "
               f"cases; {len(matched['areas']['areas'])} streets; the page lists "
               f"{matched['page']['numberReturned']:,} of {matched['page']['numberMatched']:,}")
    report.out(f"  {n} timed run(s) each after {warm} warm-up(s); raw: three counts (received, closed, on time) "
               "by district and window, no per-case facts, no reach function, no percentiles; app SQL: the API's "
               "statement with its parameters (jit off, planned per call); a page: at most page_limit_max (1,000)")


def main() -> int:
    from api.main import create_app
    from api.settings import Settings, libpq_url
    from bench.common import serve
    from bench.dbenv import BenchDb, _clean_in_place, _create_user
    from bench.single import login

    settings = Settings()
    db = BenchDb(settings=settings, dsn=libpq_url(settings.url), mode="in place", cloned=False)
    _create_user(db)  # a dispatcher of every district, removed at the end
    report = Report()
    try:
        report.section("10. KPIs (api.kpi): every KPI for the district over one year, every street, a drill-down page")
        with serve(create_app(settings)) as url, httpx.Client(base_url=url, trust_env=False, timeout=600) as client:
            run(report, db, client, login(client, db.username, db.password))
    finally:
        _clean_in_place(db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
