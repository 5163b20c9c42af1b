"""``python -m bench.tiles``: grid tiles from our route, drawn and cached, side by side with
tipg and the tile statement alone; p50 and p90 (section 8's tile table on its own).

Each round empties the worker's tile cache, then asks every tile twice: "drawn" is the tile
drawn from scratch, "cached" the same tile again. Round 0 warms connections and statements and
is not counted. Works in the bench's clone of the database (``bench.dbenv``). Issue 21: the
route keeps drawn tiles >= 2.5x faster than tipg without a second entry point
(``AreaTileFastLane``, removed: it saved ~0.4 ms on a cached tile and nothing measurable on a
drawn one).
"""

from __future__ import annotations

import gc
import logging
import sys
import time

import httpx
import numpy as np
import psycopg

from bench import http1
from bench.common import serve
from bench.console import TILE_ZOOMS, TIPG_GRID_VIEW, _tile_list, _tipg_grid_view, tipg_server
from bench.report import RESULTS_DIR, Report, ratio, standalone
from bench.single import login


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def run(report: Report, db, rounds: int) -> None:
    from api.main import create_app
    from spatial.sqlfiles import sql

    logging.getLogger("gridgov.request").setLevel(logging.WARNING)
    app = create_app(db.settings)
    tiles_ = _tile_list(db.dsn)
    statement = sql.query("tile_areas")
    keys = ("drawn", "cached", "sql", "tipg", "tipg_view")
    samples = {z: {k: [] for k in keys} for z in (*TILE_ZOOMS, "all")}
    with serve(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=60) as client, \
            _tipg_grid_view(db.dsn, db.cloned) as view, tipg_server(db.dsn) as tipg_url, \
            psycopg.connect(db.dsn, autocommit=True, prepare_threshold=0) as raw:
        auth = login(client, db.username, db.password)
        ours = http1.Connection(url)
        tipg = http1.Connection(tipg_url) if tipg_url else None
        calls = [("tipg", "public.area_current", {"filter": "kind='grid'", "filter-lang": "cql2-text"})]
        if view:
            calls.append(("tipg_view", f"public.{TIPG_GRID_VIEW}", None))
        gc.collect()
        gc.freeze()
        for rnd in range(rounds + 1):   # round 0 warms up, not counted
            # one pass per server: tipg runs in a thread of this process too, and its leftover work
            # after an answer would land inside the next timing of ours if the two took turns per tile
            app.state.tiles.clear_tiles()
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in keys}
                for bucket in ("drawn", "cached"):
                    t0 = time.perf_counter()
                    status, _, _ = ours.get(f"/tiles/grid/{z}/{x}/{y}.pbf", headers=auth)
                    got[bucket].append(time.perf_counter() - t0)
                    if status != 200:
                        raise RuntimeError(f"our tile {z}/{x}/{y} -> {status}")
            for (z, x, y) in tiles_:
                got = samples[z] if rnd else {k: [] for k in keys}
                t0 = time.perf_counter()
                raw.execute(statement, {"z": z, "x": x, "y": y, "kind": "grid", "layer": "grid", "department": None,
                                        "visible": None}).fetchone()
                got["sql"].append(time.perf_counter() - t0)
                for bucket, collection, query in calls if tipg else ():
                    t0 = time.perf_counter()
                    status, _, _ = tipg.get(f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}", query)
                    got[bucket].append(time.perf_counter() - t0)
                    if status != 200:
                        raise RuntimeError(f"tipg tile {collection} {z}/{x}/{y} -> {status}")
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
        best = min((k for k in ("tipg", "tipg_view") if k in p50), key=p50.get, default=None)
        rows.append([z, len(s["sql"])] + [f"{p50[k]:.2f} / {p90[k]:.2f}" for k in ("drawn", "cached", "sql")] +
                    [f"{p50[best]:.2f} / {p90[best]:.2f}" if best else "-",
                     ratio(p50[best], p50["drawn"]) if best else "-",
                     ratio(p50[best], p50["cached"]) if best else "-",
                     ratio(p50["drawn"], p50["sql"])])
    report.table(["zoom", "n", "ours drawn p50/p90 ms", "ours cached p50/p90", "statement alone p50/p90",
                  "tipg p50/p90", "tipg / ours drawn", "tipg / ours cached", "ours drawn / statement"], rows)
    report.out(f"  {rounds} rounds of {len(tiles_)} grid tiles (zooms {TILE_ZOOMS[0]}-{TILE_ZOOMS[-1]}), the bench's "
               "account, one keep-alive connection; drawn = the worker's tile cache emptied before the round, "
               "cached = the same tile asked again; tipg = the faster (by p50) of its CQL2 filter on area_current "
               "and its own grid view; statement alone = tile_areas.sql prepared on a psycopg connection in this "
               "process; target: tipg / ours drawn >= 2.5 at every zoom")


def main() -> int:
    return standalone("python -m bench.tiles", __doc__, run, RESULTS_DIR / "tiles.txt")


if __name__ == "__main__":
    sys.exit(main())
