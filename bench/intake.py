"""Section 3: incident intake, ``POST /api/incidents`` over HTTP (anonymous web reports)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import orjson

from bench import http1
from bench.report import Report, latency_stats, ms, ratio

WARMUP = 10


def payload(lon: float, lat: float, category: str, i: int) -> dict:
    return {"category": category, "lon": float(lon), "lat": float(lat), "accuracy_m": 15,
            "description": f"bench report {i}", "source": "web"}


def _created(status: int, content: bytes, created: list[int]) -> None:
    if status != 201:
        raise RuntimeError(f"POST /api/incidents -> {status}: {content[:300]!r}")
    created.append(orjson.loads(content)["id"])


def service_latency(settings, bodies: list[dict], created: list[int]) -> list[float]:
    """The same work without HTTP: ``api.incidents.report`` (route, insert, first event, audit row)
    on an autocommit connection of the app's pool, as ``POST /api/incidents`` runs it."""
    import asyncio

    from api.auth.principal import anonymous
    from api.db import make_pool
    from api.incidents import report
    from api.schemas import IncidentIn

    who = anonymous("bench")

    async def one(pool, body) -> None:
        async with pool.connection() as conn:
            doc, _ = await report(conn, who, IncidentIn(**body), settings, idempotency_key=None)
        created.append(doc["id"])

    async def run() -> list[float]:
        pool = make_pool(settings)
        await pool.open(wait=True)
        try:
            for body in bodies[:WARMUP]:
                await one(pool, body)
            times = []
            for body in bodies[WARMUP:]:
                t0 = time.perf_counter()
                await one(pool, body)
                times.append(time.perf_counter() - t0)
            return times
        finally:
            await pool.close()

    return asyncio.run(run())


def sequential(base_url: str, bodies: list[dict], created: list[int]) -> list[float]:
    """One report after another on one keep-alive connection of the lean client."""
    def post(body: dict) -> tuple[int, bytes]:
        status, _, content = conn.request("POST", "/api/incidents", headers={"Content-Type": "application/json"},
                                          body=orjson.dumps(body))
        return status, content

    with http1.Connection(base_url) as conn:
        for body in bodies[:WARMUP]:
            _created(*post(body), created)
        times = []
        for body in bodies[WARMUP:]:
            t0 = time.perf_counter()
            status, content = post(body)
            times.append(time.perf_counter() - t0)
            _created(status, content, created)
    return times


def child(module: str, args: list[str], payload, timeout: float = 600) -> dict:
    """``python -m <module> ARGS`` with ``payload`` as JSON on stdin; its one JSON line."""
    proc = subprocess.run([sys.executable, "-m", module, *args], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def concurrent(base_url: str, bodies: list[dict], clients: int, created: list[int]) -> tuple[float, list[float]]:
    """``clients`` keep-alive connections in a child process (``bench.client``); (wall s, latencies)."""
    out = child("bench.client", [base_url, str(clients)], bodies)
    created.extend(out["ids"])
    if out["errors"]:
        raise RuntimeError(f"POST /api/incidents failed {len(out['errors'])} times: {out['errors'][:3]}")
    return out["wall"], out["times"]


def raw_floor(db, bodies: list[dict], clients: int) -> tuple[float, list[float]]:
    """The same route + insert + event + audit + commit straight through psycopg, ``clients``
    threads in a child process (``bench.raw_intake``)."""
    from bench.single import route_params

    opts = route_params(db.settings, 0, 0, bodies[0]["category"])
    opts = {k: v for k, v in opts.items() if k not in ("lon", "lat", "category")}
    out = child("bench.raw_intake", [db.dsn, str(clients)], {"bodies": bodies, "options": opts})
    db.created_incidents.extend(out["ids"])
    return out["wall"], out["times"]


def run(report: Report, db, base_url: str, points, category: str, n: int,
        clients: int, route_p50_ms: float | None, served_url: str | None = None, workers: int = 0) -> dict:
    """Section 3's table; ``served_url``: the app under ``gridgov serve --workers N`` as well."""
    lons, lats = points
    created = db.created_incidents
    bodies = [payload(lons[i % len(lons)], lats[i % len(lats)], category, i) for i in range(WARMUP + n)]
    svc = latency_stats(service_latency(db.settings, bodies, created))
    seq = latency_stats(sequential(base_url, bodies, created))

    def more(shift: int, warm: int) -> list[dict]:
        return [payload(lons[(i * shift) % len(lons)], lats[(i * shift) % len(lats)], category, i)
                for i in range(warm + n)]

    from bench.raw_intake import WARM_PER_CLIENT

    floor_wall, floor_times = raw_floor(db, more(3, clients * WARM_PER_CLIENT), clients)
    floor = latency_stats(floor_times)
    floor_rps = n / floor_wall
    wall, times = concurrent(base_url, more(7, clients), clients, created)
    conc = latency_stats(times)
    rows = [
        ["service layer, no HTTP", n, ms(svc["p50"]), ms(svc["p95"]), ms(svc["p99"]), ms(svc["mean"]),
         f"{1000.0 / svc['mean']:.1f}", ""],
        ["HTTP sequential, 1 client (in-process server)", n, ms(seq["p50"]), ms(seq["p95"]), ms(seq["p99"]),
         ms(seq["mean"]), f"{1000.0 / seq['mean']:.1f}", ""],
        [f"raw psycopg floor, {clients} threads (baseline)", n, ms(floor["p50"]), ms(floor["p95"]), ms(floor["p99"]),
         ms(floor["mean"]), f"{floor_rps:.1f}", "100%"],
        [f"HTTP {clients} clients, in-process server (1 worker)", n, ms(conc["p50"]), ms(conc["p95"]),
         ms(conc["p99"]), ms(conc["mean"]), f"{n / wall:.1f}", f"{n / wall / floor_rps:.0%}"],
    ]
    result = {"service": svc, "sequential": seq, "floor": floor, "floor_rps": floor_rps, "concurrent": conc,
              "concurrent_rps": n / wall}
    if served_url:
        wall_w, times_w = concurrent(served_url, more(11, clients), clients, created)
        work = latency_stats(times_w)
        rows.append([f"HTTP {clients} clients, gridgov serve --workers {workers}", n, ms(work["p50"]), ms(work["p95"]),
                     ms(work["p99"]), ms(work["mean"]), f"{n / wall_w:.1f}", f"{n / wall_w / floor_rps:.0%}"])
        result.update(workers=work, workers_rps=n / wall_w)
    if route_p50_ms:
        rows.append(["  ratio HTTP sequential/GET /api/route", "", ratio(seq["p50"], route_p50_ms), "", "", "", "", ""])
    report.table(["POST /api/incidents", "requests", "p50 ms", "p95 ms", "p99 ms", "mean ms", "requests/s",
                  "of floor"], rows)
    report.out("  every request routes, inserts the incident, its first event and its audit row in one statement, "
               "and commits (fsync and synchronous_commit on)")
    report.out("  service layer: api.incidents.report on an autocommit connection of the app's pool; "
               "raw floor: route_point.sql + "
               f"incident_insert.sql + commit through psycopg, {clients} threads in a child process (bench.raw_intake)")
    report.out(f"  HTTP clients: {clients} keep-alive connections from a child process (bench.client on the lean "
               "bench.http1 client: httpx spent 1.7 ms of CPU per POST on these 2 cores), "
               f"{clients} warm-up requests; HTTP sequential: the same client in this process, "
               f"{WARMUP} warm-up requests")
    return result


def load_test(report: Report, db, served, points, category: str, rate: float, seconds: float,
              connections: int) -> dict:
    """An open-loop load of ``rate`` reports/s for ``seconds`` against the served app; then every
    201 is looked up in the database."""
    import psycopg

    lons, lats = points
    bodies = [payload(lons[(i * 13) % len(lons)], lats[(i * 13) % len(lats)], category, i) for i in range(5000)]
    out = child("bench.load", [served.url, f"{rate:.1f}", str(seconds), str(connections)], bodies,
                timeout=seconds * 3 + 120)
    ids = out["ids"]
    db.created_incidents.extend(ids)
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        stored = conn.execute("SELECT count(*) FROM incident WHERE id = ANY(%s)", (ids,)).fetchone()[0]
        events = conn.execute("""SELECT count(DISTINCT incident_id) FROM incident_event
                                 WHERE incident_id = ANY(%s) AND kind = 'reported'""", (ids,)).fetchone()[0]
    statuses = out["statuses"]
    server_errors = sum(v for k, v in statuses.items() if k.startswith("5"))
    lat = latency_stats(out["times"]) if out["times"] else None
    rss = served.peak_rss_mib()
    report.table(
        ["offered", "seconds", "sent", "201", "5xx", "other", "transport errors", "late", "in database",
         "p50 ms", "p99 ms", "max ms"],
        [[f"{rate:.0f}/s", f"{out['wall']:.1f}", out["sent"], statuses.get("201", 0), server_errors,
          sum(v for k, v in statuses.items() if k != "201" and not k.startswith("5")), len(out["errors"]),
          out["late"], f"{stored} ({events} with their event)",
          ms(lat["p50"]) if lat else "-", ms(lat["p99"]) if lat else "-", ms(lat["max"]) if lat else "-"]])
    lost = len(ids) - stored
    report.out(f"  lost: {lost} of {len(ids)} acknowledged reports (every 201's id looked up afterwards); "
               f"5xx: {server_errors}; latency counted from when each request was due (open loop, "
               f"at most {connections} connections)")
    if rss:
        report.out("  peak RSS per worker: "
                   + ", ".join(f"pid {pid} {mib:.0f} MiB" for pid, mib in sorted(rss.items())))
    return {"lost": lost, "server_errors": server_errors, "latency": lat, "rss": rss, "statuses": statuses}
