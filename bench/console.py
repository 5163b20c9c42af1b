"""Section 8: the dispatcher's console at scale: heatmaps over 1,000,000 incidents, grid tiles
side by side with tipg, and the live stream's delay from commit to client.

The million incidents are generated in the bench's own clone (never in the shipped sample):
clustered around the sample's 22,600 reports (each one seeds a cloud of about 44 within
~150 m, same category and routing), spread over the last year with a daily rhythm, written
with COPY in chunks (the heat rollup's statement trigger folds each chunk in one upsert).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from datetime import UTC, datetime, timedelta

import h3
import httpx
import numpy as np
import orjson
import psycopg

from bench import http1
from bench.common import free_port, psycopg_sql, serve
from bench.report import Report, latency_stats, ms, ratio
from spatial import heat

MILLION = 1_000_000
CHUNK = 100_000
TILE_ZOOMS = (12, 13, 14, 15, 16)
TILES_PER_ZOOM = 12
SSE_CLIENTS = 50
SSE_EVENTS = 40
HEAT_ZOOM = 10   # the whole district on one screen


def generate(dsn: str, n: int, seed: int, report: Report, *, open_cases: int = 0, prefix: str = "BN") -> float:
    """``n`` clustered incidents (source 'sample', closed but the newest ``open_cases``, which are
    spread over the open states with a deadline 120 days from now: the
    deadline scheduler flags none of them) with their rollup; returns seconds.
    ``prefix`` starts their tracking codes (one per call on the same database)."""
    from api.workflow.machine import OPEN, SUSPENDED

    live = [s for s in OPEN if s != SUSPENDED]   # a suspended case needs the state it resumes to
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # the per-case KPI facts (migration 0027) are kept by a statement trigger that also refreshes
        # every later report near a new closed case: chunk after chunk over dense ground that took ten
        # minutes a chunk. The bench's clone switches it off for the COPY and refreshes every case's
        # facts once, set-based, after (what the migration's backfill does).
        conn.execute("ALTER TABLE incident DISABLE TRIGGER case_fact_insert")
        seeds = conn.execute("""SELECT category_code, ST_X(location), ST_Y(location), grid_code, community_code,
            street_code, district_code, zone_code, station_code, patrol_zone_code, tier FROM incident
            WHERE source <> 'open311' ORDER BY id""").fetchall()
        now = datetime.now(UTC)
        # reports arrive in time order: so are they written (the heap and the rollup follow it)
        hours = rng.uniform(0, 365 * 24, n)
        hours = np.abs(hours - np.sin((hours % 24) / 24 * 2 * np.pi) * 3)  # more by day than by night
        hours.sort()
        hours = hours[::-1]
        done = 0
        while done < n:
            size = min(CHUNK, n - done)
            pick = rng.integers(0, len(seeds), size)
            lon = np.array([seeds[i][1] for i in pick]) + rng.normal(0, 0.0015, size)
            lat = np.array([seeds[i][2] for i in pick]) + rng.normal(0, 0.0013, size)
            states = rng.integers(0, len(live), size)
            with conn.cursor() as cur, cur.copy("""COPY incident (tracking_code, category_code, location, source,
                    status, reported_at, due_at, closed_at, h3_cell, grid_code, community_code, street_code,
                    district_code, zone_code, station_code, patrol_zone_code, tier) FROM STDIN""") as copy:
                for k, i in enumerate(pick):
                    s = seeds[i]
                    at = now - timedelta(hours=float(hours[done + k]))
                    is_open = n - (done + k) <= open_cases   # the last written are the newest
                    copy.write_row((f"{prefix}-{done + k:09d}", s[0], f"SRID=4326;POINT({lon[k]:.7f} {lat[k]:.7f})",
                                    "sample", live[states[k]] if is_open else "closed", at,
                                    now + timedelta(days=120) if is_open else None,
                                    None if is_open else at + timedelta(hours=20),
                                    h3.latlng_to_cell(float(lat[k]), float(lon[k]), 9), *s[3:]))
            done += size
            report.out(f"  generated {done:>9,} / {n:,} incidents  [{'#' * (20 * done // n):<20}] "
                       f"{time.perf_counter() - started:5.1f} s")
        conn.execute("ALTER TABLE incident ENABLE TRIGGER case_fact_insert")
        t0 = time.perf_counter()
        conn.execute("SELECT case_fact_refresh(ARRAY(SELECT id FROM incident))")
        report.out(f"  every case's KPI facts refreshed in {time.perf_counter() - t0:.1f} s")
        conn.execute("VACUUM ANALYZE incident")  # what autovacuum does soon after a bulk load
        conn.execute("VACUUM ANALYZE incident_heat")
        conn.execute("VACUUM ANALYZE case_fact")
    return time.perf_counter() - started


def heat_latency(report: Report, db, client: httpx.Client, auth: dict, repeat: int) -> None:
    """District-wide viewport, 30 days and a year: our route vs the rollup SQL alone vs a naive
    count over the incidents (the baseline the rollup replaces)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        rollup_q, _ = psycopg_sql("heat_cells")
        resolution = heat.resolution_for_zoom(HEAT_ZOOM)
        for label, days in (("30 days", 30), ("1 year", 365)):
            start = now - timedelta(days=days)
            params = {"from": start.isoformat(), "to": now.isoformat(), "zoom": HEAT_ZOOM}
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                res = client.get("/api/heatmap", params=params, headers=auth)
                times.append(time.perf_counter() - t0)
                res.raise_for_status()
            total = res.json()["total"]
            sql_params = {"start": start, "stop": now, "categories": None, "statuses": None, "tiers": None,
                          "sources": None, "everywhere": True, "scope": [], "resolution": resolution}
            raw, naive = [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                conn.execute(rollup_q, sql_params).fetchall()
                raw.append(time.perf_counter() - t0)
            for _ in range(max(3, repeat // 10)):
                t0 = time.perf_counter()
                conn.execute("""SELECT h3_cell, count(*) FROM incident WHERE reported_at >= %s AND reported_at < %s
                                GROUP BY h3_cell""", (start, now)).fetchall()
                naive.append(time.perf_counter() - t0)
            ours, r, nv = latency_stats(times), latency_stats(raw), latency_stats(naive)
            rows += [(f"GET /api/heatmap, {label}", ms(ours["p50"]), ms(ours["p99"]), f"{total:,}",
                      ratio(ours["p50"], r["p50"])),
                     (f"  rollup SQL alone, {label}", ms(r["p50"]), ms(r["p99"]), "", "1.00x"),
                     (f"  naive count over incidents, {label}", ms(nv["p50"]), ms(nv["p99"]), "",
                      ratio(nv["p50"], r["p50"]))]
    report.table([f"heatmap (district viewport, zoom {HEAT_ZOOM}, resolution {resolution})",
                  "p50 ms", "p99 ms", "incidents", "vs rollup SQL"], rows)
    report.out("  target: p50 < 50 ms for 30 days")


def _tile_list(dsn: str) -> list[tuple[int, int, int]]:
    """Tiles over the busiest part of the district at each zoom."""
    import math

    with psycopg.connect(dsn, autocommit=True) as conn:
        lon, lat = conn.execute("""SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(location)) c
            FROM (SELECT location FROM incident LIMIT 20000) s) x""").fetchone()
    out = []
    for z in TILE_ZOOMS:
        n = 1 << z
        x0 = int((lon + 180) / 360 * n)
        y0 = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        side = int(math.ceil(math.sqrt(TILES_PER_ZOOM)))
        out += [(z, x0 + dx, y0 + dy) for dx in range(side) for dy in range(side)][:TILES_PER_ZOOM]
    return out


def tcp_dsn(dsn: str) -> str:
    """tipg wants a URL with a host: the embedded cluster's socket becomes its loopback port."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    if parts.hostname or "host" not in query:
        return dsn
    port = query.get("port", ["5432"])[0]
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}127.0.0.1:{port}{parts.path}"


@contextlib.contextmanager
def tipg_server(dsn: str):
    """tipg (PyPI) serving the same database in this process's machine, on its own port."""
    try:
        import tipg  # noqa: F401
    except ImportError:
        yield None
        return
    os.environ["DATABASE_URL"] = tcp_dsn(dsn)
    os.environ["TIPG_DB_SCHEMAS"] = '["public"]'
    os.environ["TIPG_MAX_FEATURES_PER_TILE"] = "100000"
    import uvicorn
    from tipg.main import app as tipg_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(tipg_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}" if server.started else None
    finally:
        server.should_exit = True
        thread.join(timeout=10)


TIPG_GRID_VIEW = "bench_tipg_grid"   # the grid layer as its own view, for tipg (created in the clone only)
TILE_ROUNDS = 5   # each tile drawn this many times from scratch (the worker's cache emptied before each round)


@contextlib.contextmanager
def _tipg_grid_view(dsn: str, create: bool):
    """tipg's best case: the current grids as a view of their own, on the stored Web Mercator
    outline (no CQL2 filter to parse per request, no projecting per feature); dropped after.
    Yields whether it exists (``create``: only in the bench's own clone)."""
    if create:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"""CREATE OR REPLACE VIEW {TIPG_GRID_VIEW} AS
                SELECT code, name, name_en, kind, parent_code, department_code, version, geom_3857 AS geom
                FROM area WHERE valid_to IS NULL AND kind = 'grid'""")
    try:
        yield create
    finally:
        if create:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP VIEW IF EXISTS {TIPG_GRID_VIEW}")


def tiles(report: Report, db, app, client: httpx.Client, auth: dict) -> None:
    """Grid tiles at zooms 12-16: ours drawn from scratch (``app``'s tile cache emptied before
    each round) and from the cache, tipg on the same table, and the tile statement alone."""
    from spatial.sqlfiles import sql

    tiles_ = _tile_list(db.dsn)
    statement = sql.query("tile_areas")
    rows = []
    samples = {z: {k: [] for k in ("cold", "warm", "sql", "tipg", "tipg_view")} for z in TILE_ZOOMS}
    sizes = {z: [] for z in TILE_ZOOMS}
    ours = http1.Connection(str(client.base_url))   # the lean client for both servers
    with _tipg_grid_view(db.dsn, db.cloned) as view, tipg_server(db.dsn) as tipg_url, \
            psycopg.connect(db.dsn, autocommit=True, prepare_threshold=0) as raw:
        tipg_client = http1.Connection(tipg_url) if tipg_url else None
        calls = [("tipg", "public.area_current", {"filter": "kind='grid'", "filter-lang": "cql2-text"})]
        if view:
            calls.append(("tipg_view", f"public.{TIPG_GRID_VIEW}", None))
        for rnd in range(TILE_ROUNDS + 1):   # round 0 warms connections and statements, and is not counted
            app.state.tiles.clear_tiles()
            # one pass per server: tipg runs in a thread of this process, and its leftover work after
            # an answer would land in our next timing if the two took turns tile by tile (bench.tiles)
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in samples[z]}
                for bucket in ("cold", "warm"):  # first call draws, second is served by the worker's cache
                    t0 = time.perf_counter()
                    status, _, content = ours.get(f"/tiles/grid/{z}/{x}/{y}.pbf", headers=auth)
                    got[bucket].append(time.perf_counter() - t0)
                    if status != 200:
                        raise RuntimeError(f"our tile {z}/{x}/{y} -> {status}")
                if rnd == 1:
                    sizes[z].append(len(content))
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in samples[z]}
                t0 = time.perf_counter()
                raw.execute(statement, {"z": z, "x": x, "y": y, "kind": "grid", "layer": "grid", "department": None,
                                        "visible": None}).fetchone()
                got["sql"].append(time.perf_counter() - t0)
                if tipg_client is None:
                    continue
                for bucket, collection, query in calls:
                    t0 = time.perf_counter()
                    status, _, _ = tipg_client.get(
                        f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}", query)
                    got[bucket].append(time.perf_counter() - t0)
                    if status != 200:
                        raise RuntimeError(f"tipg tile {collection} {z}/{x}/{y} -> {status}")
        if tipg_client is not None:
            tipg_client.close()
    ours.close()
    for z in TILE_ZOOMS:
        got = samples[z]
        p50 = {k: latency_stats(v)["p50"] for k, v in got.items() if v}
        best = min(p50[k] for k in ("tipg", "tipg_view") if k in p50) if "tipg" in p50 else None
        rows.append((z, len(sizes[z]), f"{np.mean(sizes[z]) / 1024:.1f}", ms(p50["sql"]), ms(p50["cold"]),
                     ms(p50["warm"]), ms(p50["tipg"]) if "tipg" in p50 else "-",
                     ms(p50["tipg_view"]) if "tipg_view" in p50 else "-",
                     ratio(best, p50["cold"]) if best else "-", ratio(best, p50["warm"]) if best else "-",
                     ratio(best, p50["warm"] + p50["sql"]) if best else "-"))
    report.table(["zoom", "tiles", "KiB", "statement alone p50 ms", "ours drawn p50 ms", "ours cached p50 ms",
                  "tipg CQL2 p50 ms", "tipg grid view p50 ms", "tipg / ours drawn", "tipg / ours cached",
                  "tipg / (cached + statement)"], rows)
    report.out(f"  p50 over {TILE_ROUNDS} rounds of each tile; ours scoped (the bench's account), drawn = the worker's "
               "cache emptied before the round; tipg 1.6.1 on the same table: the view area_current with a CQL2 "
               f"filter kind='grid', and (clone only) a view of the current grids on geom_3857, its best case; "
               "ratios against the faster tipg")
    report.out("  statement alone = tile_areas.sql prepared on a psycopg connection in this process; the last column "
               "is the most any server drawing with this statement could reach (its HTTP floor taken as ours "
               "cached); target: tipg / ours >= 3")
    if tiles_ and not rows:
        report.out("  no tiles measured")


async def _sse_latency(url: str, auth: dict, post_auth: dict, spot: tuple[float, float]) -> tuple[list, list]:
    """50 streams open; each report's event timed at every client, from the POST being sent and
    from its 201 (which the server sends after the commit)."""
    arrivals: dict[int, list[float]] = {}
    ready = asyncio.Event()
    connected = 0

    async def listen(client: httpx.AsyncClient):
        nonlocal connected
        async with client.stream("GET", "/api/live", headers={**auth, "Accept": "text/event-stream"}) as res:
            async for line in res.aiter_lines():
                if line.startswith("event: hello"):
                    connected += 1
                    if connected == SSE_CLIENTS:
                        ready.set()
                elif line.startswith("data: ") and '"kind":"reported"' in line:
                    doc = orjson.loads(line[6:])
                    arrivals.setdefault(doc["incident_id"], []).append(time.perf_counter())

    limits = httpx.Limits(max_connections=SSE_CLIENTS + 5)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(10, read=120), limits=limits,
                                 trust_env=False) as client:
        tasks = [asyncio.create_task(listen(client)) for _ in range(SSE_CLIENTS)]
        await asyncio.wait_for(ready.wait(), 60)
        from_send, from_commit = [], []
        for _ in range(SSE_EVENTS):
            t0 = time.perf_counter()
            res = await client.post("/api/incidents", json={"category": "noise", "lon": spot[0], "lat": spot[1]},
                                    headers=post_auth)
            t1 = time.perf_counter()
            res.raise_for_status()
            incident = res.json()["id"]
            deadline = time.perf_counter() + 10
            while len(arrivals.get(incident, [])) < SSE_CLIENTS and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            for at in arrivals.get(incident, []):
                from_send.append(at - t0)
                from_commit.append(max(0.0, at - t1))
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return from_send, from_commit


def live(report: Report, db, app, spot, auth: dict) -> None:
    with serve(app) as url:
        from_send, from_commit = asyncio.run(_sse_latency(url, auth, auth, spot))
    a, b = latency_stats(from_send), latency_stats(from_commit)
    report.table(["intake -> SSE event at a client", "n", "p50 ms", "p99 ms", "max ms"], [
        ("from the POST sent", a["n"], ms(a["p50"]), ms(a["p99"]), ms(a["max"])),
        ("from its 201 (after the commit)", b["n"], ms(b["p50"]), ms(b["p99"]), ms(b["max"])),
    ])
    report.out(f"  {SSE_CLIENTS} clients connected to one worker, {SSE_EVENTS} reports one after another; "
               f"expected {SSE_CLIENTS * SSE_EVENTS} deliveries, got {a['n']}; target p99 < 500 ms")


def scale_to(dsn: str, total: int, open_cases: int, seed: int, report: Report) -> tuple[int, int]:
    """Generate incidents (:func:`generate`) until the database holds ``total`` of them, ``open_cases``
    open (the newest); returns the counts reached. Nothing is generated when there are enough."""
    from api.workflow.machine import ENDED

    def counts() -> tuple[int, int]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return conn.execute("SELECT count(*), count(*) FILTER (WHERE status <> ALL(%s)) FROM incident",
                                (list(ENDED),)).fetchone()

    have, have_open = counts()
    more = max(0, total - have)
    if more:
        generate(dsn, more, seed, report, open_cases=min(more, max(0, open_cases - have_open)), prefix="BS")
    return counts()
