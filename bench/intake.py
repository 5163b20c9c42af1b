"""Section 3: incident intake, ``POST /api/incidents`` over HTTP (anonymous web reports)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.report import Report, latency_stats, ms, ratio

WARMUP = 10


def payload(lon: float, lat: float, category: str, i: int) -> dict:
    return {"category": category, "lon": float(lon), "lat": float(lat), "accuracy_m": 15,
            "description": f"bench report {i}", "source": "web"}


def _created(res: httpx.Response, created: list[int]) -> None:
    if res.status_code != 201:
        raise RuntimeError(f"POST /api/incidents -> {res.status_code}: {res.text[:300]}")
    created.append(res.json()["id"])


def service_latency(settings, bodies: list[dict], created: list[int]) -> list[float]:
    """The same work without HTTP: ``api.incidents.report`` (route, insert, first event, audit row),
    one transaction each."""
    import asyncio

    from api.auth.principal import anonymous
    from api.db import make_engine
    from api.incidents import report
    from api.schemas import IncidentIn

    who = anonymous("bench")

    async def one(engine, body) -> None:
        async with engine.begin() as conn:
            doc, _ = await report(conn, who, IncidentIn(**body), settings, idempotency_key=None)
        created.append(doc["id"])

    async def run() -> list[float]:
        engine = make_engine(settings)
        try:
            for body in bodies[:WARMUP]:
                await one(engine, body)
            times = []
            for body in bodies[WARMUP:]:
                t0 = time.perf_counter()
                await one(engine, body)
                times.append(time.perf_counter() - t0)
            return times
        finally:
            await engine.dispose()

    return asyncio.run(run())


def sequential(client: httpx.Client, bodies: list[dict], created: list[int]) -> list[float]:
    for body in bodies[:WARMUP]:
        _created(client.post("/api/incidents", json=body), created)
    times = []
    for body in bodies[WARMUP:]:
        t0 = time.perf_counter()
        res = client.post("/api/incidents", json=body)
        times.append(time.perf_counter() - t0)
        _created(res, created)
    return times


def concurrent(base_url: str, bodies: list[dict], clients: int, created: list[int]) -> tuple[float, list[float]]:
    """``clients`` keep-alive connections in a child process (``bench.client``); (wall s, latencies)."""
    proc = subprocess.run([sys.executable, "-m", "bench.client", base_url, str(clients)],
                          input=json.dumps(bodies), capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.client failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    created.extend(out["ids"])
    if out["errors"]:
        raise RuntimeError(f"POST /api/incidents failed {len(out['errors'])} times: {out['errors'][:3]}")
    return out["wall"], out["times"]


def run(report: Report, settings, client: httpx.Client, base_url: str, points, category: str, n: int,
        clients: int, created: list[int], route_p50_ms: float | None) -> dict:
    lons, lats = points
    bodies = [payload(lons[i % len(lons)], lats[i % len(lats)], category, i) for i in range(WARMUP + n)]
    svc = latency_stats(service_latency(settings, bodies, created))
    seq = latency_stats(sequential(client, bodies, created))
    more = [payload(lons[(i * 7) % len(lons)], lats[(i * 7) % len(lats)], category, i) for i in range(clients + n)]
    wall, times = concurrent(base_url, more, clients, created)
    conc = latency_stats(times)
    rows = [
        ["service layer, no HTTP (baseline)", n, ms(svc["p50"]), ms(svc["p95"]), ms(svc["p99"]), ms(svc["mean"]),
         f"{1000.0 / svc['mean']:.1f}"],
        ["HTTP sequential, 1 client", n, ms(seq["p50"]), ms(seq["p95"]), ms(seq["p99"]), ms(seq["mean"]),
         f"{1000.0 / seq['mean']:.1f}"],
        [f"HTTP concurrent, {clients} clients", n, ms(conc["p50"]), ms(conc["p95"]), ms(conc["p99"]), ms(conc["mean"]),
         f"{n / wall:.1f}"],
    ]
    rows.append(["  ratio HTTP sequential/service", "", ratio(seq["p50"], svc["p50"]), ratio(seq["p95"], svc["p95"]),
                 ratio(seq["p99"], svc["p99"]), ratio(seq["mean"], svc["mean"]), ""])
    if route_p50_ms:
        rows.append(["  ratio HTTP sequential/GET /api/route", "", ratio(seq["p50"], route_p50_ms), "", "", "", ""])
    report.table(["POST /api/incidents", "requests", "p50 ms", "p95 ms", "p99 ms", "mean ms", "requests/s"], rows)
    report.out(f"  service layer: api.incidents.report (route, insert, event, audit row) per transaction on the app's engine (async SQLAlchemy); "
               f"HTTP sequential: httpx keep-alive in this process; {WARMUP} warm-up requests each")
    report.out(f"  HTTP concurrent: "
               f"{clients} keep-alive connections from a child process (bench.client), {clients} warm-up requests")
    report.out(f"  concurrent: {n} requests in {wall:.2f} s wall; throughput over sequential "
               f"{(n / wall) / (1000.0 / seq['mean']):.2f}x; every request routes, inserts the incident, "
               f"its first event and an audit row, and commits (fsync on)")
    return {"service": svc, "sequential": seq, "concurrent": conc, "concurrent_rps": n / wall}
