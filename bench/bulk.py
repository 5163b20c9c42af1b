"""Section 2: bulk routing throughput, PostGIS ``route_many.sql``, the routing index engine
(``spatial.routing.route_many``: cells in memory, boundary cells in PostGIS) and geopandas ``sjoin``.

All answer the same question for every point: the grid covering it (lowest code
on a shared edge), its community, street and district, the zone covering it (lowest
code) and the zone's workstation. geopandas reads the grids, zones, the area tree and
the stations once (``read_postgis``) and builds its STRtrees; that load is timed apart
and then added to the in-memory time in the "incl. read" row; the engine's one-off load of
the index (``spatial.routing_engine``) likewise. ``python -m bench.bulk N SEED`` measures the
engine's peak RSS in a fresh process (as ``bench.gpd_memory`` does for geopandas).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from bench.common import psycopg_sql
from bench.report import Report, rate
from spatial.routing_engine import ENGINE

REPEAT = 3
MILLION = (1_000_000,)   # engine-only row (RSS, one run) after a 100,000-point size, unless --bulk has it


@dataclass
class Layers:
    grids: object      # GeoDataFrame code, parent_code, geometry
    zones: object      # GeoDataFrame code, geometry
    parent_of: pd.Series    # community/street code -> parent code
    station_of: pd.Series   # zone code -> station code (lowest)


def load_layers(settings) -> Layers:
    import geopandas as gpd
    import sqlalchemy as sa

    engine = sa.create_engine(settings.url)
    try:
        with engine.connect() as conn:
            grids = gpd.read_postgis(sa.text(
                "SELECT code, parent_code, geom FROM area WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code"),
                conn, geom_col="geom")
            zones = gpd.read_postgis(sa.text(
                "SELECT code, geom FROM area WHERE kind = 'zone' AND valid_to IS NULL ORDER BY code"),
                conn, geom_col="geom")
            tree = pd.read_sql(sa.text("""SELECT code, parent_code FROM area
                                          WHERE kind IN ('community', 'street') AND valid_to IS NULL"""), conn)
            stations = pd.read_sql(sa.text("SELECT code, zone_code FROM station ORDER BY zone_code, code"), conn)
    finally:
        engine.dispose()
    _ = grids.sindex, zones.sindex  # build the STRtrees now (part of the one-off load)
    return Layers(grids=grids, zones=zones,
                  parent_of=tree.set_index("code")["parent_code"],
                  station_of=stations.drop_duplicates("zone_code").set_index("zone_code")["code"])


def _first_cover(points, polygons, n: int) -> pd.DataFrame:
    """For every point the polygon covering it with the lowest code (rows 0..n-1)."""
    import geopandas as gpd

    hits = gpd.sjoin(points, polygons, how="inner", predicate="covered_by")
    hits = hits.drop(columns=["geometry", "index_right"]).sort_values("code", kind="stable")
    hits = hits[~hits.index.duplicated(keep="first")]
    return hits.reindex(pd.RangeIndex(n))


def gpd_route(layers: Layers, lons: np.ndarray, lats: np.ndarray) -> pd.DataFrame:
    import geopandas as gpd

    n = len(lons)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), crs=layers.grids.crs)
    grid = _first_cover(points, layers.grids, n)
    zone = _first_cover(points, layers.zones, n)
    parent_of = layers.parent_of
    community = grid["parent_code"].where(grid["parent_code"].isin(parent_of.index))
    street = community.map(parent_of)
    street = street.where(street.isin(parent_of.index))
    return pd.DataFrame({
        "grid_code": grid["code"], "community_code": community, "street_code": street,
        "district_code": street.map(parent_of), "zone_code": zone["code"],
        "station_code": zone["code"].map(layers.station_of),
    })


def postgis_route(conn: psycopg.Connection, lons: np.ndarray, lats: np.ndarray) -> list[tuple]:
    query, _ = psycopg_sql("route_many")
    return conn.execute(query, {"lons": lons.tolist(), "lats": lats.tolist()}).fetchall()


def function_route(settings, lons: np.ndarray, lats: np.ndarray, *, indexed: bool = True
                   ) -> tuple[float, list[dict], float]:
    """``spatial.routing.route_many`` on an async psycopg connection; returns (seconds, rows, index load seconds).

    The connection is opened and warmed (PostGIS loaded in the backend) outside the timing;
    ``indexed``: the routing index is made current in the process first (its load, if the
    process had none or a stale one, timed apart: 0 when it was current), and each timed
    run includes the version check, the PostGIS query for the points in boundary cells and
    building the row dicts. Not ``indexed``: the exact path alone (``route_many.sql``), as
    before the index."""
    from api.db import tune
    from api.settings import libpq_url
    from spatial.routing import _route_exact, route_many
    from spatial.routing_engine import ENGINE

    async def run():
        async with await psycopg.AsyncConnection.connect(libpq_url(settings.url), autocommit=True) as conn:
            tune(conn)
            await _route_exact(conn, lons[:100], lats[:100])
            t0 = time.perf_counter()
            if indexed:
                await ENGINE.current(conn)
            load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            rows = await (route_many if indexed else _route_exact)(conn, lons, lats)
            return time.perf_counter() - t0, rows, load_s

    return asyncio.run(run())


def engine_memory(db, n: int, seed: int) -> dict:
    env = {**os.environ, "BENCH_DSN": db.dsn, "BENCH_URL": db.settings.url}
    proc = subprocess.run([sys.executable, "-m", "bench.bulk", str(n), str(seed)], env=env,
                          capture_output=True, text=True, timeout=900, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.bulk engine memory failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _engine_memory_main() -> int:
    """``python -m bench.bulk N SEED``: peak RSS of loading the index and routing N points, fresh process."""
    from api.db import tune
    from api.settings import Settings, libpq_url
    from bench.common import PeakRss, district_shape, points_in_bbox
    from spatial.routing import route_many
    from spatial.routing_engine import ENGINE

    n, seed = int(sys.argv[1]), int(sys.argv[2])
    lons, lats = points_in_bbox(district_shape(os.environ["BENCH_DSN"]), n, np.random.default_rng(seed + n))
    out = {}

    async def run():
        async with await psycopg.AsyncConnection.connect(
                libpq_url(Settings(database_url=os.environ["BENCH_URL"]).url), autocommit=True) as conn:
            tune(conn)
            await route_many(conn, lons[:100], lats[:100])
            with PeakRss() as load:
                snap = await ENGINE.current(conn)
            with PeakRss() as route:
                t0 = time.perf_counter()
                rows = await route_many(conn, lons, lats)
                out["route_s"] = time.perf_counter() - t0
            out.update(load_mib=load.mib, route_mib=route.mib, index_mib=snap.nbytes / 2**20,
                       cells=len(snap.lo), routed=sum(1 for r in rows if r["grid_code"]),
                       exact=route.exact)

    asyncio.run(run())
    print(json.dumps(out))
    return 0


def fresh_process_memory(db, n: int, seed: int) -> dict:
    env = {**os.environ, "BENCH_DSN": db.dsn, "BENCH_URL": db.settings.url}   # not argv: may hold a password
    proc = subprocess.run([sys.executable, "-m", "bench.gpd_memory", str(n), str(seed)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.gpd_memory failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _agreement(pg_rows: list[tuple], frame: pd.DataFrame, column: int, name: str) -> tuple[int, int]:
    pg = np.array([r[column] or "" for r in pg_rows], dtype=object)
    gp = frame[name].fillna("").to_numpy(dtype=object)
    return int((pg == gp).sum()), int((pg != "").sum())


def run(report: Report, db, shape, sizes: list[int], seed: int) -> dict:
    from bench.common import points_in_bbox

    settings = db.settings
    conn = psycopg.connect(db.dsn, autocommit=True)   # one connection, warmed with a small batch
    rng = np.random.default_rng(seed + 1)
    wl, wt = points_in_bbox(shape, 2000, rng)
    postgis_route(conn, wl, wt)

    t0 = time.perf_counter()
    layers = load_layers(settings)
    load_s = time.perf_counter() - t0
    gpd_route(layers, wl[:200], wt[:200])  # import / first-call costs out of the timing
    gc.collect()
    gc.freeze()   # long-lived objects out of the collector's way: no full-heap scans inside the timings

    rows = []
    checks = []
    results = {"load_s": load_s, "sizes": {}}
    for n in sizes:
        lons, lats = points_in_bbox(shape, n, np.random.default_rng(seed + n))
        pg_runs, fn_runs, gp_runs, eng_runs, eng_loads = [], [], [], [], []
        ENGINE.forget()           # the first indexed run loads the index (timed apart)
        for _ in range(REPEAT):   # median of REPEAT runs each, interleaved
            t0 = time.perf_counter()
            pg_rows = postgis_route(conn, lons, lats)
            pg_runs.append(time.perf_counter() - t0)
            fn_s, fn_rows, _ = function_route(settings, lons, lats, indexed=False)
            fn_runs.append(fn_s)
            del fn_rows
            eng_rows = None
            eng_s, eng_rows, eng_load = function_route(settings, lons, lats)
            eng_runs.append(eng_s)
            eng_loads.append(eng_load)
            t0 = time.perf_counter()
            frame = gpd_route(layers, lons, lats)
            gp_runs.append(time.perf_counter() - t0)
        eng_load_s = eng_loads[0]
        pg_s, fn_s, gp_s = (float(np.median(r)) for r in (pg_runs, fn_runs, gp_runs))
        eng_s = float(np.median(eng_runs))
        eng_mem = engine_memory(db, n, seed)
        tracemalloc.start()
        gpd_route(layers, lons, lats)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        mem = fresh_process_memory(db, n, seed)

        pg_rate = n / pg_s
        rows += [
            [f"{n:,}", "PostGIS route_many.sql (psycopg)", f"{pg_s:.3f}", rate(pg_rate), "1.00x", "", ""],
            ["", "spatial.route_many, exact path only (async)", f"{fn_s:.3f}", rate(n / fn_s),
             f"{(n / fn_s) / pg_rate:.2f}x", "", ""],
            ["", "spatial.route_many, routing index (async)", f"{eng_s:.3f}", rate(n / eng_s),
             f"{(n / eng_s) / pg_rate:.2f}x", f"{eng_mem['route_mib']:.0f}", ""],
            ["", "geopandas sjoin (in memory)", f"{gp_s:.3f}", rate(n / gp_s), f"{(n / gp_s) / pg_rate:.2f}x",
             f"{mem['route_mib']:.0f}", f"{traced_peak / 2**20:.0f}"],
            ["", "geopandas incl. read_postgis + STRtree", f"{gp_s + load_s:.3f}", rate(n / (gp_s + load_s)),
             f"{(n / (gp_s + load_s)) / pg_rate:.2f}x", f"{mem['route_mib'] + mem['load_mib']:.0f}", ""],
        ]
        columns = ("idx", "grid_code", "community_code", "street_code", "district_code", "zone_code", "station_code")
        eng_same = sum(1 for a, b in zip(pg_rows, eng_rows, strict=True) if tuple(b[c] for c in columns) == tuple(a))
        gp_eng = (n / eng_s) / (n / gp_s)
        checks.append(f"  {n:>7,} points: routing index engine = PostGIS on every column for {eng_same:,}/{n:,}; "
                      f"{gp_eng:.2f}x geopandas sjoin (goal >= 3x); index load {eng_load_s:.2f} s, "
                      f"{eng_mem['cells']:,} cells, {eng_mem['index_mib']:.0f} MiB arrays, "
                      f"peak RSS +{eng_mem['load_mib']:.0f} "
                      f"MiB to load, +{eng_mem['route_mib']:.0f} MiB to route (row dicts included)")
        del eng_rows
        routed = sum(1 for r in pg_rows if r[1] is not None)
        grid_same, _ = _agreement(pg_rows, frame, 1, "grid_code")
        zone_same, _ = _agreement(pg_rows, frame, 5, "zone_code")
        station_same, _ = _agreement(pg_rows, frame, 6, "station_code")
        street_same, _ = _agreement(pg_rows, frame, 3, "street_code")
        checks.append(f"  {n:>7,} points: {routed:,} inside a grid ({routed / n:.0%}, bbox sample); "
                      f"PostGIS = geopandas on grid {grid_same:,}/{n:,}, street {street_same:,}/{n:,}, "
                      f"zone {zone_same:,}/{n:,}, station {station_same:,}/{n:,}"
                      + ("" if len(pg_rows) == n else f"; PostGIS returned {len(pg_rows):,} rows"))
        results["sizes"][n] = {"postgis_s": pg_s, "function_s": fn_s, "gpd_s": gp_s, "rss_mib": mem["route_mib"],
                               "traced_mib": traced_peak / 2**20, "engine_s": eng_s, "agreement": eng_same,
                               "engine_load_s": eng_load_s, "engine_rss_mib": eng_mem["route_mib"]}
    for n in MILLION if 100_000 <= max(sizes, default=0) < MILLION[0] else ():
        mem = engine_memory(db, n, seed)   # the engine alone (PostGIS would take a minute per run)
        rows.append([f"{n:,}", "spatial.route_many, routing index (one run, fresh process)", f"{mem['route_s']:.3f}",
                     rate(n / mem["route_s"]), "", f"{mem['route_mib']:.0f}", ""])
        checks.append(f"  {n:>7,} points: engine only, {mem['routed']:,} inside a grid; "
                      f"peak RSS +{mem['load_mib']:.0f} MiB "
                      f"to load the index, +{mem['route_mib']:.0f} MiB to route (a list of {n:,} row dicts)")
        results["sizes_engine_only"] = {n: mem}
    conn.close()
    report.table(["points", "method", "seconds", "points/s", "vs PostGIS", "peak RSS MiB", "tracemalloc MiB"],
                 rows)
    report.out(f"  geopandas one-off load: {len(layers.grids):,} grids + {len(layers.zones):,} zones + tree + "
               f"stations via read_postgis, STRtrees built: {load_s:.3f} s, peak RSS +{mem['load_mib']:.0f} MiB")
    report.out(f"  seconds: median of {REPEAT} interleaved runs, warm caches, connections opened outside the timing; "
               f"PostGIS rows include fetching them, route_many also builds the dicts")
    report.out("  peak RSS: in a fresh process (bench.gpd_memory), high-water mark above the resident size before "
               "the step, GEOS included; tracemalloc: Python/numpy allocations in this process only")
    report.out("  agreement check:")
    for line in checks:
        report.out(line)
    return results


if __name__ == "__main__":
    sys.exit(_engine_memory_main())
