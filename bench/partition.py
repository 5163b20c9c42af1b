"""Section 7: the partition: validating 10,000 grids, and one reshape preview and save.

Validation: a regular split of the district's bbox clipped to the district (enough cells for
10,000 grids), checked by ``spatial.partition.validate.violations`` in-process, against the
plain PostGIS check of the same cells (invalid, pairwise ST_Overlaps, the gap left by ST_Union)
in one SQL statement. Editing: one grid's outline grown into its neighbour and back, as the
pure shapely operation, ``POST /api/areas/edits/preview`` and ``POST /api/areas/edits``.
"""

from __future__ import annotations

import math
import time

import httpx
import numpy as np
import psycopg
import shapely

from bench.report import Report, latency_stats, ms, ratio, spread

GRIDS = 10_000
RUNS = 3
EDITS = 10
ROUNDS = 3

PLAIN_SQL_CHECK = """
WITH c AS (SELECT id, geom FROM bench_cells)
SELECT (SELECT count(*) FROM c WHERE NOT ST_IsValid(geom)) AS invalid,
       (SELECT count(*) FROM c a JOIN c b
          ON a.id < b.id AND a.geom && b.geom AND ST_Overlaps(a.geom, b.geom)) AS overlaps,
       (SELECT ST_Area(ST_Difference(ST_GeomFromWKB(%(parent)s, 4326), ST_Union(geom))) FROM c) AS gap_area
"""


def cells(district, n: int = GRIDS) -> np.ndarray:
    """At least ``n`` cells: a k×k split of the district's bbox clipped to the district."""
    xmin, ymin, xmax, ymax = district.bounds
    k = math.ceil(math.sqrt(n * (xmax - xmin) * (ymax - ymin) / district.area))
    while True:
        xs, ys = np.linspace(xmin, xmax, k + 1), np.linspace(ymin, ymax, k + 1)
        boxes = shapely.box(*[a.ravel() for a in np.meshgrid(xs[:-1], ys[:-1])],
                            *[a.ravel() for a in np.meshgrid(xs[1:], ys[1:])])
        clipped = shapely.intersection(boxes, district, grid_size=1e-7)
        # single non-empty polygons (a corner cut into two parts would be a multipart grid)
        keep = (shapely.get_type_id(clipped) == 3) & ~shapely.is_empty(clipped)
        if keep.sum() >= n:
            return clipped[keep][:n]
        k += 5


def _reasons(found: list[dict]) -> str:
    counts: dict[str, int] = {}
    for v in found:
        counts[v["reason"]] = counts.get(v["reason"], 0) + 1
    return ", ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "none"


def _timed(fn, runs: int = RUNS) -> tuple[float, object]:
    best, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best.append(time.perf_counter() - t)
    return float(np.median(best)), out


def validation(report: Report, dsn: str, district) -> None:
    from spatial.partition.validate import violations

    grid = cells(district)
    # the cells that are not whole polygons were dropped, so the district is what they cover
    parent = shapely.union_all(grid, grid_size=1e-7)
    items = [(f"c{i}", g) for i, g in enumerate(grid)]
    t_ours, found = _timed(lambda: violations(items, parent))
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TEMP TABLE bench_cells (id int PRIMARY KEY, geom geometry(Polygon, 4326))")
        with conn.cursor().copy("COPY bench_cells (id, geom) FROM STDIN") as copy:
            for i, g in enumerate(grid):
                copy.write_row((i, shapely.to_wkb(g, hex=True, include_srid=False)))
        conn.execute("UPDATE bench_cells SET geom = ST_SetSRID(geom, 4326)")
        conn.execute("CREATE INDEX ON bench_cells USING gist (geom)")
        conn.execute("ANALYZE bench_cells")
        wkb = shapely.to_wkb(parent)
        t_sql, row = _timed(lambda: conn.execute(PLAIN_SQL_CHECK, {"parent": wkb}).fetchone())
        conn.rollback()
    report.table(["check", "cells", "p50 s", "vs PostGIS", "found"], [
        ["(a) spatial.partition.validate.violations (shapely 2, in-process)", f"{len(grid):,}", f"{t_ours:.3f}",
         ratio(t_ours, t_sql), f"{len(found)} violations ({_reasons(found)})"],
        ["(b) plain PostGIS: ST_IsValid, ST_Overlaps pairs, ST_Union gap", f"{len(grid):,}", f"{t_sql:.3f}", "1.00x",
         f"{row[0]} invalid, {row[1]} overlaps, gap {row[2]:.1e} deg²"],
    ])
    report.out(f"  median of {RUNS} runs; (a) also checks slivers and multipart areas and locates each problem")


def _grant_editor(dsn: str, username: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("""INSERT INTO role_grant (user_id, role, area_code, granted_by)
                        SELECT u.id, 'grid_manager', a.code, 'bench' FROM app_user u, area a
                        WHERE u.username = %s AND a.kind = 'district' AND a.valid_to IS NULL
                        ON CONFLICT DO NOTHING""", (username,))


def _pair(dsn: str):
    """A grid and the neighbour it shares the longest border with, and their parent."""
    with psycopg.connect(dsn) as conn:
        return conn.execute("""
            SELECT a.code, b.code, ST_AsBinary(a.geom), ST_AsBinary(b.geom), ST_AsBinary(p.geom)
            FROM area a JOIN area b ON b.parent_code = a.parent_code AND b.kind = 'grid' AND b.valid_to IS NULL
                 AND b.code <> a.code AND ST_Intersects(a.geom, b.geom)
            JOIN area p ON p.code = a.parent_code AND p.valid_to IS NULL
            WHERE a.kind = 'grid' AND a.valid_to IS NULL
            ORDER BY ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) DESC LIMIT 1""").fetchone()


def editing(report: Report, dsn: str, client: httpx.Client, auth: dict, username: str) -> None:
    from spatial.partition import ops

    _grant_editor(dsn, username)
    a, b, wa, wb, wp = _pair(dsn)
    ga, gb, parent = (shapely.from_wkb(bytes(w)) for w in (wa, wb, wp))
    grown, outlines = _grown(ga, gb)
    kids = {a: ga, b: gb}
    pure = []
    for i in range(EDITS):
        t = time.perf_counter()
        ops.reshape(kids, parent, a, grown if i % 2 == 0 else ga)
        pure.append(time.perf_counter() - t)
    preview = []
    for i in range(EDITS):
        body = {"op": "reshape", "code": a, "geometry": outlines[i % 2]}
        t = time.perf_counter()
        res = client.post("/api/areas/edits/preview", json=body, headers=auth)
        preview.append(time.perf_counter() - t)
        res.raise_for_status()
    save, _ = _timed_saves(client, auth, a, outlines)
    base = latency_stats(pure)["p50"]
    rows = []
    for name, times in (("(a) spatial.partition.ops.reshape, two grids (pure shapely)", pure),
                        ("(b) POST /api/areas/edits/preview (the whole community)", preview),
                        ("(c) POST /api/areas/edits: locks, versions, audit, re-route", save)):
        st = latency_stats(times)
        rows.append([name, st["n"], ms(st["p50"]), ms(st["p95"]), ratio(st["p50"], base)])
    report.table(["reshape of one grid across its neighbour and back", "n", "p50 ms", "p95 ms", "vs (a)"], rows)
    report.out(f"  grid {a} into {b}; the saves alternate the two outlines, each with the ETag read just before")


# The floor of a reshape save: the statements any save must run, by hand, in one transaction
# (rolled back): lock and close the two current rows (the routing-index triggers fire), insert
# their next versions, lock the open cases inside the changed ground, write the audit row.
RAW_SAVE = [
    ("SELECT id, version FROM area WHERE valid_to IS NULL AND code = ANY(%(codes)s) ORDER BY code FOR UPDATE", True),
    ("UPDATE area SET valid_to = now() WHERE valid_to IS NULL AND code = ANY(%(codes)s)", False),
    ("""INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, version,
                          valid_from, changed_by, reason)
        SELECT a.code, a.name, a.name_en, a.kind, a.parent_code, a.department_code, a.attributes,
               ST_Multi(ST_GeomFromWKB(n.wkb, 4326)), a.version + 1, now() + interval '1 microsecond', 'bench', 'bench'
        FROM unnest(%(codes)s::text[], %(wkbs)s::bytea[]) AS n(code, wkb)
        JOIN area a ON a.code = n.code AND a.valid_to = now()""", False),
    ("""SELECT i.id FROM incident i
        WHERE i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
          AND ST_Intersects(i.location, ST_GeomFromWKB(%(ground)s, 4326)) ORDER BY i.id FOR UPDATE""", True),
    ("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('bench', 'area.reshape', 'area', 'bench')",
     False),
]


def save_floor(report: Report, dsn: str, client: httpx.Client, auth: dict, username: str, label: str) -> None:
    """One reshape save over HTTP (``POST /api/areas/edits``, the grid grown into its neighbour
    and back) against :data:`RAW_SAVE`, on the database as it is (run it before and after many
    open cases are added: the save should not grow with them)."""
    from api.workflow.machine import ENDED

    _grant_editor(dsn, username)
    a, b, wa, wb, _ = _pair(dsn)
    ga, gb = shapely.from_wkb(bytes(wa)), shapely.from_wkb(bytes(wb))
    grown, outlines = _grown(ga, gb)
    changed = shapely.to_wkb(shapely.union_all([ga, gb]))
    wkbs = [shapely.to_wkb(grown), shapely.to_wkb(gb.difference(grown, grid_size=1e-9))]
    with psycopg.connect(dsn) as conn:
        open_ = conn.execute("SELECT count(*) FROM incident WHERE status <> ALL(%s)", (list(ENDED),)).fetchone()[0]
        inside = conn.execute(RAW_SAVE[3][0].replace("FOR UPDATE", ""), {"ground": changed}).rowcount
        conn.rollback()
        raw, raw_rounds = [], []
        for _ in range(ROUNDS):
            times = []
            for _ in range(EDITS):
                t = time.perf_counter()
                with conn.transaction(force_rollback=True):
                    for statement, fetch in RAW_SAVE:
                        cur = conn.execute(statement, {"codes": [a, b], "wkbs": wkbs, "ground": changed})
                        if fetch:
                            cur.fetchall()
                times.append(time.perf_counter() - t)
            raw += times
            raw_rounds.append(latency_stats(times)["p50"])
    saves, save_rounds, rerouted = [], [], 0
    for _ in range(ROUNDS):
        times, moved = _timed_saves(client, auth, a, outlines)
        rerouted += moved
        saves += times
        save_rounds.append(latency_stats(times)["p50"])
    r, h = latency_stats(raw), latency_stats(saves)
    report.table([f"reshape save, {label}", "open cases", "in the 2 grids", "n", "p50 ms", "p50 per round",
                  "p95 ms", "vs (a)"], [
        ["(a) raw SQL floor: lock, close, insert 2 versions, lock the open cases inside, audit", f"{open_:,}",
         inside, r["n"], ms(r["p50"]), spread(raw_rounds), ms(r["p95"]), "1.00x"],
        ["(b) POST /api/areas/edits (also rebuilds the routing cells, re-routes)", f"{open_:,}", inside, h["n"],
         ms(h["p50"]), spread(save_rounds), ms(h["p95"]), ratio(h["p50"], r["p50"])],
    ])
    report.out(f"  grid {a} grown into {b} and back; {ROUNDS} rounds of {EDITS}; (a) rolled back each time; "
               f"{rerouted} cases re-routed by the {h['n']} saves")


def _grown(ga, gb):
    """Grid a grown into a quarter of its neighbour b: (the grown shape, [grown, a] as GeoJSON)."""
    grown = ga.union(gb.intersection(ga.buffer(math.sqrt(gb.area) / 4, join_style="mitre")))
    return grown, [shapely.geometry.mapping(grown), shapely.geometry.mapping(ga)]


def _timed_saves(client: httpx.Client, auth: dict, code: str, outlines: list) -> tuple[list[float], int]:
    """EDITS reshape saves of ``code`` over HTTP, alternating the outlines: (each one's time, cases re-routed)."""
    times, rerouted = [], 0
    for i in range(EDITS):
        tag = client.get(f"/api/areas/{code}", headers=auth).headers["ETag"]
        body = {"op": "reshape", "code": code, "geometry": outlines[i % 2], "reason": "bench"}
        t = time.perf_counter()
        res = client.post("/api/areas/edits", json=body, headers={**auth, "If-Match": tag})
        times.append(time.perf_counter() - t)
        if res.status_code != 200:
            raise RuntimeError(res.text)
        rerouted += res.json()["rerouted"]
    return times, rerouted


def run(report: Report, db, client: httpx.Client, auth: dict, district) -> None:
    validation(report, db.dsn, district)
    report.out()
    editing(report, db.dsn, client, auth, db.username)
