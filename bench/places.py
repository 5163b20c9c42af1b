"""Section 8b: the places register's tiles (民情地图) at the seed's density, side by side with tipg.

Seed 000 counts 250+ enterprises per workstation; with shops, restaurants, rental housing and
the rest that is about 30,000 places for Nanxun's 38 zones. The sample holds 200, so the bench
adds the rest in its own clone (never in the shipped sample): points drawn in every current
grid with a fixed seed, routed by the grid they fall in. Then the same tiles as section 8's
grid tiles: ours over HTTP (scoped by the bench's account; drawn with the worker's cache
emptied, from the cache, and revalidated with the ETag: a 304), ``tile_places.sql`` alone on a
psycopg connection, and tipg on a view of the same table's current places.
"""

from __future__ import annotations

import contextlib
import time

import httpx
import psycopg

from bench import http1
from bench.console import TILE_ZOOMS, _tile_list, tipg_server
from bench.report import Report, latency_stats, ms, ratio

PLACES = 30_000
ROUNDS = 5
TIPG_VIEW = "bench_tipg_place"   # the current places as a view of their own (the clone only)

GENERATE = """
WITH grids AS (
    SELECT g.code, g.parent_code, g.geom, row_number() OVER (ORDER BY g.code) AS n, count(*) OVER () AS grids
    FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
), points AS (
    SELECT g.code, g.parent_code, (ST_Dump(ST_GeneratePoints(g.geom, CAST(ceil(%(n)s::float8 / g.grids) AS int),
                                                          CAST(g.n AS int)))).geom AS pt
    FROM grids g
), numbered AS (
    SELECT row_number() OVER (ORDER BY code) AS n, * FROM points
)
INSERT INTO place (code, version, valid_from, category, name, address, licences, risk_level, location,
                   grid_code, community_code, street_code, district_code, zone_code, changed_by, reason)
SELECT 'BP' || p.n, 1, now() - interval '1 day',
       (ARRAY['enterprise', 'shop', 'restaurant', 'rental_housing', 'shop', 'enterprise', 'construction_site',
              'market', 'hotel', 'school'])[1 + p.n %% 10],
       'bench place ' || p.n, c.name || ' ' || (p.n %% 97 + 1) || ' 号', '{}',
       (ARRAY['low', 'low', 'medium', 'high'])[1 + p.n %% 4], p.pt, p.code, c.code, s.code, s.parent_code,
       (SELECT z.code FROM area z WHERE z.kind = 'zone' AND z.valid_to IS NULL AND ST_Covers(z.geom, p.pt)
        ORDER BY z.code LIMIT 1),
       'bench', 'bench places at the seed''s density'
FROM numbered p
JOIN area c ON c.valid_to IS NULL AND c.code = p.parent_code
JOIN area s ON s.valid_to IS NULL AND s.code = c.parent_code
WHERE p.n <= %(n)s AND NOT EXISTS (SELECT 1 FROM place WHERE code LIKE 'BP%%')
"""


def generate(dsn: str, report: Report, n: int = PLACES) -> int:
    """Bring the clone's current places up to about ``n`` (once); how many there are."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM place WHERE valid_to IS NULL").fetchone()[0]
        if have < n:
            t0 = time.perf_counter()
            added = conn.execute(GENERATE, {"n": n - have}).rowcount
            conn.execute("ANALYZE place")
            report.out(f"  {added:,} places generated in {time.perf_counter() - t0:.1f} s")
        return conn.execute("SELECT count(*) FROM place WHERE valid_to IS NULL").fetchone()[0]


@contextlib.contextmanager
def _tipg_view(dsn: str):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"""CREATE OR REPLACE VIEW {TIPG_VIEW} AS
            SELECT code, name, category, risk_level, grid_code, version, location AS geom
            FROM place WHERE valid_to IS NULL""")
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP VIEW IF EXISTS {TIPG_VIEW}")


def tiles(report: Report, db, app, client: httpx.Client, auth: dict) -> None:
    """Places tiles at zooms 12-16 over the busiest part of the district."""
    from api.sqlfiles import sql

    if not db.cloned:
        report.out("  working in place: no places generated (they would stay in the source database); skipped")
        return
    total = generate(db.dsn, report)
    with psycopg.connect(db.dsn, autocommit=True) as conn:  # the bench account's grant: the district
        scope = [r[0] for r in conn.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL")]
    tiles_ = _tile_list(db.dsn)
    statement = sql.query("tile_places")
    keys = ("drawn", "cached", "revalidated", "sql", "tipg")
    samples = {z: {k: [] for k in keys} for z in TILE_ZOOMS}
    sizes: dict[int, list[int]] = {z: [] for z in TILE_ZOOMS}
    ours = http1.Connection(str(client.base_url))
    with _tipg_view(db.dsn), tipg_server(db.dsn) as tipg_url, \
            psycopg.connect(db.dsn, autocommit=True, prepare_threshold=0) as raw:
        tipg_client = http1.Connection(tipg_url) if tipg_url else None
        for rnd in range(ROUNDS + 1):   # round 0 warms connections and statements, and is not counted
            app.state.place_tiles.clear_tiles()
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in keys}
                for bucket in ("drawn", "cached"):  # first call draws, second is served by the worker's cache
                    t0 = time.perf_counter()
                    status, headers, content = ours.get(f"/tiles/places/{z}/{x}/{y}.pbf", headers=auth)
                    got[bucket].append(time.perf_counter() - t0)
                    if status != 200:
                        raise RuntimeError(f"our places tile {z}/{x}/{y} -> {status}")
                etag = headers[b"etag"].decode()
                t0 = time.perf_counter()
                status, _, _ = ours.get(f"/tiles/places/{z}/{x}/{y}.pbf", headers={**auth, "If-None-Match": etag})
                got["revalidated"].append(time.perf_counter() - t0)
                if status != 304:
                    raise RuntimeError(f"our places tile {z}/{x}/{y} with its ETag -> {status}")
                if rnd == 1:
                    sizes[z].append(len(content))
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in keys}
                t0 = time.perf_counter()
                raw.execute(statement, {"z": z, "x": x, "y": y, "everywhere": False, "scope": scope,
                                        "categories": None}).fetchone()
                got["sql"].append(time.perf_counter() - t0)
                if tipg_client is None:
                    continue
                t0 = time.perf_counter()
                status, _, _ = tipg_client.get(f"/collections/public.{TIPG_VIEW}/tiles/WebMercatorQuad/{z}/{x}/{y}")
                got["tipg"].append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"tipg places tile {z}/{x}/{y} -> {status}")
        if tipg_client is not None:
            tipg_client.close()
    ours.close()
    rows = []
    for z in TILE_ZOOMS:
        p50 = {k: latency_stats(v)["p50"] for k, v in samples[z].items() if v}
        rows.append((z, len(sizes[z]), f"{sum(sizes[z]) / max(len(sizes[z]), 1) / 1024:.1f}", ms(p50["sql"]),
                     ms(p50["drawn"]), ms(p50["cached"]), ms(p50["revalidated"]),
                     ms(p50["tipg"]) if "tipg" in p50 else "-",
                     ratio(p50["tipg"], p50["drawn"]) if "tipg" in p50 else "-",
                     ratio(p50["tipg"], p50["cached"]) if "tipg" in p50 else "-"))
    report.table(["zoom", "tiles", "KiB", "statement alone p50 ms", "ours drawn p50 ms", "ours cached p50 ms",
                  "ours revalidated (304) p50 ms", "tipg p50 ms", "tipg / ours drawn", "tipg / ours cached"], rows)
    report.out(f"  {total:,} current places; p50 over {ROUNDS} rounds of each tile; ours scoped (the bench's "
               "account, a dispatcher of the district); drawn = the worker's places tile cache emptied before the "
               "round, cached = the same tile again, revalidated = with its ETag (a 304); tipg 1.6.1 on a view of "
               "the same table's current places (no cache)")
