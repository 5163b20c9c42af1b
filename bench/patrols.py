"""Section 11: patrol coverage (api.patrols) for a day of every grid worker's tracks.

One track per current grid, 8 hours at a fix every 10 s (2,880 fixes), a worker sweeping the
grid's box, generated in the bench clone (``patrol`` rows, deleted at the end when working in
place). Then every track's figures at once, two ways: (app) the app's own statement
``patrol_figures.sql`` (places within 30 m, area within 50 m in the grid's UTM zone, on the
track simplified to about a metre), and (raw) the plain hand-written statement: the whole track
buffered in UTM 51N, places by ``ST_DWithin`` on geography; the largest difference of the area
shares is printed beside the times. Target: under 5 s.
``python -m bench.patrols`` runs this section alone in a clone of ``GRIDGOV_PG_DATABASE``.
"""

from __future__ import annotations

import time

import psycopg

from api.sqlfiles import sql
from bench.report import Report, ratio

FIXES = 2880          # 8 h at 10 s
STEP_S = 10
TARGET_S = 5.0
WORKER = "bench-patrol"

GENERATE = """
INSERT INTO patrol (grid_code, areas, worker, started_at, ended_at, track, fixes, first_at, last_at)
SELECT g.code, ARRAY[g.code], %(worker)s || '-' || g.code, %(t0)s, %(t0)s + interval '8 hours',
       ST_SetSRID(ST_MakeLine(array_agg(ST_MakePointM(
           ST_XMin(b) + (ST_XMax(b) - ST_XMin(b)) * (0.5 + 0.45 * sin(i / 40.0)),
           ST_YMin(b) + (ST_YMax(b) - ST_YMin(b)) * (0.05 + 0.9 * i / %(n)s::float8),
           extract(epoch FROM %(t0)s) + i * %(step)s) ORDER BY i)), 4326),
       %(n)s, %(t0)s, %(t0)s + make_interval(secs => (%(n)s - 1) * %(step)s)
FROM (SELECT code, ST_Envelope(geom) AS b FROM area WHERE kind = 'grid' AND valid_to IS NULL) g,
     generate_series(0, %(n)s - 1) AS i
GROUP BY g.code, g.b
RETURNING id"""

RAW = """
SELECT p.id,
       (SELECT count(*) FROM place x WHERE x.valid_to IS NULL AND x.grid_code = p.grid_code
          AND ST_DWithin(x.location::geography, p.track::geography, 30)) AS visited,
       ST_Area(ST_Intersection(ST_Transform(a.geom, 32651), ST_Buffer(ST_Transform(ST_Force2D(p.track), 32651), 50)))
         / ST_Area(ST_Transform(a.geom, 32651)) AS area_share
FROM patrol p JOIN area a ON a.code = p.grid_code AND a.valid_to IS NULL
WHERE p.id = ANY(%(ids)s)"""


def generate(dsn: str) -> list[int]:
    from datetime import UTC, datetime

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(GENERATE, {"worker": WORKER, "t0": datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
                                       "n": FIXES, "step": STEP_S}).fetchall()
    return [r[0] for r in rows]


def remove(dsn: str, ids: list[int]) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM patrol WHERE id = ANY(%s)", (ids,))


def _app(dsn: str, ids: list[int]) -> tuple[float, list[dict]]:
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        t0 = time.perf_counter()
        cur = conn.execute(sql.query("patrol_figures"), {"ids": ids})
        rows = cur.fetchall()
        return time.perf_counter() - t0, rows


def _raw(dsn: str, ids: list[int]) -> tuple[float, list[tuple]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        t0 = time.perf_counter()
        rows = conn.execute(RAW, {"ids": ids}).fetchall()
        return time.perf_counter() - t0, rows


def run(report: Report, dsn: str) -> dict[str, float]:
    t0 = time.perf_counter()
    ids = generate(dsn)
    made = time.perf_counter() - t0
    try:
        report.out(f"  {len(ids)} tracks of {FIXES} fixes ({len(ids) * FIXES:,} points) generated in {made:.1f} s")
        app_s, app_rows = _app(dsn, ids)
        raw_s, raw_rows = _raw(dsn, ids)
        raw_share = {r[0]: r[2] for r in raw_rows}
        diff = max((abs(r["area_share"] - raw_share[r["id"]]) for r in app_rows), default=0.0)
        visited = sum(len(r["places_visited"]) for r in app_rows)
        report.table(["statement", "tracks", "seconds", "per track ms", "vs raw"], [
            ["app patrol_figures.sql (UTM)", len(app_rows), f"{app_s:.2f}", f"{1000 * app_s / len(ids):.2f}",
             ratio(app_s, raw_s)],
            ["raw SQL, whole track", len(raw_rows), f"{raw_s:.2f}", f"{1000 * raw_s / len(ids):.2f}", "1.00x"],
        ])
        report.out(f"  places visited {visited}; largest area-share difference app vs raw {diff:.4f}; "
                   f"target < {TARGET_S:g} s: {'met' if app_s < TARGET_S else 'NO'}")
        return {"app_s": app_s, "raw_s": raw_s, "tracks": len(ids)}
    finally:
        remove(dsn, ids)


def main() -> int:
    from api.settings import Settings
    from bench.dbenv import bench_database

    report = Report()
    with bench_database(Settings()) as db:
        report.section("11. Patrol coverage: a day of every grid worker's tracks (8 h at 10 s), all at once")
        run(report, db.dsn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
