"""``python -m bench.tile_paths``: grid tiles through each entry point of our app, in one run,
side by side with tipg and the tile statement alone (issue 21).

Section 8's tile table on its own, with p90 too, and the app's two entry points for an area
tile measured in the same rounds: the plain FastAPI route and the ``AreaTileFastLane``
middleware (``app.state.tile_fast_lane`` switches between them). Each round empties the worker's
tile cache before each path, so "drawn" is a tile drawn from scratch and "cached" the same
tile asked again; the paths take turns going first. Round 0 warms connections and statements
and is not counted. Works in the bench's clone of the database (``bench.dbenv``).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psycopg

from api.settings import Settings
from bench import http1
from bench.common import serve
from bench.console import TILE_ZOOMS, _tile_list, _tipg_grid_view, tipg_server, TIPG_GRID_VIEW
from bench.dbenv import bench_database
from bench.report import RESULTS_DIR, Report, ratio
from bench.single import login

PATHS = {"route": False, "lane": True}   # label -> app.state.tile_fast_lane


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def run(report: Report, db, rounds: int) -> None:
    from api.main import create_app
    from spatial.sqlfiles import sql

    logging.getLogger("gridgov.request").setLevel(logging.WARNING)
    app = create_app(db.settings)
    tiles_ = _tile_list(db.dsn)
    statement = sql.query("tile_areas")
    keys = [f"{p} {b}" for p in PATHS for b in ("drawn", "cached")] + ["sql", "tipg", "tipg_view"]
    samples = {z: {k: [] for k in keys} for z in TILE_ZOOMS}
    samples["all"] = {k: [] for k in keys}
    lane_served = 0
    with serve(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=60) as client, \
            _tipg_grid_view(db.dsn, db.cloned) as view, tipg_server(db.dsn) as tipg_url, \
            psycopg.connect(db.dsn, autocommit=True, prepare_threshold=0) as raw:
        auth = login(client, db.username, db.password)
        ours = http1.Connection(url)
        tipg = http1.Connection(tipg_url) if tipg_url else None
        calls = [("tipg", "public.area_current", {"filter": "kind='grid'", "filter-lang": "cql2-text"})]
        if view:
            calls.append(("tipg_view", f"public.{TIPG_GRID_VIEW}", None))
        lane = None
        gc.collect()
        gc.freeze()
        for rnd in range(rounds + 1):
            order = list(PATHS) if rnd % 2 else list(PATHS)[::-1]
            for path in order:
                app.state.tile_fast_lane = PATHS[path]
                app.state.tiles.clear_tiles()
                for (z, x, y) in tiles_:
                    for bucket in ("drawn", "cached"):
                        t0 = time.perf_counter()
                        status, _, _ = ours.get(f"/tiles/grid/{z}/{x}/{y}.pbf", headers=auth)
                        took = time.perf_counter() - t0
                        if status != 200:
                            raise RuntimeError(f"{path}: tile {z}/{x}/{y} -> {status}")
                        if rnd:
                            samples[z][f"{path} {bucket}"].append(took)
                if lane is None:
                    lane = _lane_of(app)
            for (z, x, y) in tiles_:
                t0 = time.perf_counter()
                raw.execute(statement, {"z": z, "x": x, "y": y, "kind": "grid", "layer": "grid", "department": None,
                                        "visible": None}).fetchone()
                took = time.perf_counter() - t0
                if rnd:
                    samples[z]["sql"].append(took)
                for bucket, collection, query in calls if tipg else ():
                    t0 = time.perf_counter()
                    status, _, _ = tipg.get(f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}", query)
                    took = time.perf_counter() - t0
                    if status != 200:
                        raise RuntimeError(f"tipg tile {collection} {z}/{x}/{y} -> {status}")
                    if rnd:
                        samples[z][bucket].append(took)
        lane_served = lane.served if lane is not None else 0
        ours.close()
        if tipg:
            tipg.close()
    for z in TILE_ZOOMS:
        for k, v in samples[z].items():
            samples["all"][k] += v
    rows = []
    for z in (*TILE_ZOOMS, "all"):
        s = samples[z]
        p50 = {k: _p(v, 50) for k, v in s.items() if v}
        p90 = {k: _p(v, 90) for k, v in s.items() if v}
        tipg_best = min(p50[k] for k in ("tipg", "tipg_view") if k in p50) if "tipg" in p50 else None
        row = [z, len(s["sql"])]
        for k in ("route drawn", "lane drawn", "route cached", "lane cached", "sql"):
            row.append(f"{p50[k]:.2f} / {p90[k]:.2f}")
        row.append(f"{tipg_best:.2f}" if tipg_best else "-")
        row += [ratio(tipg_best, p50["route drawn"]) if tipg_best else "-",
                ratio(tipg_best, p50["lane drawn"]) if tipg_best else "-",
                ratio(p50["route drawn"], p50["lane drawn"]),
                f"{p50['route cached'] - p50['lane cached']:+.2f}",
                ratio(p50["route drawn"], p50["sql"])]
        rows.append(row)
    report.table(["zoom", "n", "route drawn p50/p90 ms", "lane drawn p50/p90", "route cached p50/p90",
                  "lane cached p50/p90", "statement alone p50/p90", "tipg p50", "tipg / route drawn",
                  "tipg / lane drawn", "route / lane drawn", "route - lane cached ms", "route drawn / statement"],
                 rows)
    report.out(f"  {rounds} rounds of {len(tiles_)} grid tiles (zooms {TILE_ZOOMS[0]}-{TILE_ZOOMS[-1]}), the bench's "
               "scoped account; route = the FastAPI route (tile_fast_lane off), lane = AreaTileFastLane; drawn = the "
               "worker's tile cache emptied before each path's pass, cached = the same tile asked again")
    report.out(f"  the lane answered {lane_served} requests (expected {rounds + 1} x {2 * len(tiles_)} = "
               f"{(rounds + 1) * 2 * len(tiles_)}); tipg p50 = the faster of its CQL2 filter and its grid view; "
               "statement alone = tile_areas.sql prepared on a psycopg connection in this process")


def _lane_of(app):
    from api.routes.tiles import AreaTileFastLane

    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, AreaTileFastLane):
        layer = getattr(layer, "app", None)
    return layer


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.tile_paths", description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=str(RESULTS_DIR / "tile_paths.txt"))
    args = p.parse_args(argv)
    report = Report()
    load = os.getloadavg()
    report.out(f"bench.tile_paths  {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; "
               f"{os.cpu_count()} cores; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    with bench_database(Settings(), public_rate_per_minute=10**9) as db:
        report.out(f"  {db.mode}")
        run(report, db, args.rounds)
    load = os.getloadavg()
    report.out(f"  load average at end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    report.save(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
