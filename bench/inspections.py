"""Joint inspections (综合查一次): planning a week for one zone (target under 10 s).

The sample has a handful of places a zone; seed 000 has 250+ enterprises a workstation. In a
clone (never in place) the zone is brought up to ``--places`` current places first: random points
in the zone, each with the grid, community and street it lies in, categories and risk levels
drawn like the sample's, registered on random days of 2024 (so all are due). Then the zone's
workstation plans seven days in a row for a joint team of one unit of each department with a
checklist (fire, market supervision, enforcement, emergency management where the station has
them), through the service the API runs (``api.inspections.plans.create``), each day in its own
transaction: the due list (risk × days since the last visit), OR-Tools' routing (capacity
``inspection_visits_per_day``, the solver's time limit), the plan and its visits written.

``python -m bench.inspections`` runs this section alone on a clone of ``GRIDGOV_PG_DATABASE``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import psycopg

from bench.report import Report

ZONE = "330503-Z10"
DAYS = 7
TARGET_S = 10.0
SCALE_TO = 250
CATEGORIES = ("enterprise", "shop", "restaurant", "rental_housing", "construction_site", "market",
              "hazardous_goods_store", "hotel", "entertainment_venue", "care_home", "school")

GENERATE = """
WITH z AS (SELECT geom FROM area WHERE code = %(zone)s AND valid_to IS NULL),
pts AS (SELECT (ST_Dump(ST_GeneratePoints(z.geom, %(n)s, 7))).geom AS p FROM z),
placed AS (
    SELECT row_number() OVER () AS n, pts.p, g.code AS grid, c.code AS community, c.parent_code AS street
    FROM pts
    JOIN area g ON g.kind = 'grid' AND g.valid_to IS NULL AND ST_Intersects(g.geom, pts.p)
    JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
)
INSERT INTO place (code, version, valid_from, category, name, risk_level, location, grid_code, community_code,
                   street_code, district_code, zone_code, changed_by)
SELECT 'BI' || lpad(n::text, 6, '0'), 1, timestamptz '2024-01-01' + (n %% 300) * interval '1 day',
       (%(categories)s::text[])[1 + (n %% cardinality(%(categories)s::text[]))], 'bench place ' || n,
       CASE WHEN n %% 10 = 0 THEN 'high' WHEN n %% 10 < 4 THEN 'medium' ELSE 'low' END,
       ST_SetSRID(p, 4326), grid, community, street, substr(grid, 1, 6), %(zone)s, 'bench'
FROM placed
"""


def scale(dsn: str, zone: str, want: int) -> tuple[int, int]:
    """Bring the zone up to ``want`` current places (a clone only): (before, after)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = conn.execute("SELECT count(*) FROM place WHERE zone_code = %s AND valid_to IS NULL",
                              (zone,)).fetchone()[0]
        if before < want:
            conn.execute(GENERATE, {"zone": zone, "n": want - before, "categories": list(CATEGORIES)})
        after = conn.execute("SELECT count(*) FROM place WHERE zone_code = %s AND valid_to IS NULL",
                             (zone,)).fetchone()[0]
    return before, after


def team_of(dsn: str, zone: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [r[0] for r in conn.execute("""
            SELECT DISTINCT ON (u.department_code) u.code FROM unit u JOIN station s ON s.code = u.station_code
            WHERE s.zone_code = %s AND u.department_code IN (SELECT department_code FROM checklist
                                                              WHERE valid_to IS NULL)
            ORDER BY u.department_code, u.code""", (zone,)).fetchall()]


async def _week(settings, zone: str, team: list[str], first: date) -> list[dict]:
    from api.cli_support import cli_admin, connect
    from api.inspections import plans
    from api.inspections.schemas import PlanIn

    out = []
    for k in range(DAYS):
        day = first + timedelta(days=k)
        t0 = time.perf_counter()
        async with await connect(settings.url) as conn:
            plan = await plans.create(conn, cli_admin(), settings, PlanIn(zone=zone, day=day, team=team))
        out.append({"day": day, "s": time.perf_counter() - t0, "visits": len(plan["visits"]),
                    "left_out": plan["left_out"], "route_m": plan["route_m"], "naive_m": plan["naive_m"],
                    "checks": sum(len(v["departments"]) for v in plan["visits"])})
    return out


def run(report: Report, db, *, zone: str = ZONE, places: int = SCALE_TO) -> dict:
    if db.cloned:
        before, after = scale(db.dsn, zone, places)
        grown = f"{before} sample places, {after - before} generated: {after}"
    else:
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            after = conn.execute("SELECT count(*) FROM place WHERE zone_code = %s AND valid_to IS NULL",
                                 (zone,)).fetchone()[0]
        grown = f"{after} (in place: none generated)"
    team = team_of(db.dsn, zone)
    first = date.today() + timedelta(days=3650)  # a week no one else plans (and not in the past)
    t0 = time.perf_counter()
    days = asyncio.run(_week(db.settings, zone, team, first))
    total = time.perf_counter() - t0
    rows = [[str(d["day"]), f"{d['s'] * 1000:.0f}", d["visits"], d["checks"], d["left_out"],
             f"{d['route_m'] / 1000:.1f}", f"{d['naive_m'] / 1000:.1f}"] for d in days]
    report.table(["day", "plan ms", "visits", "checks", "left out", "route km", "most-overdue-first km"], rows)
    visits = sum(d["visits"] for d in days)
    checks = sum(d["checks"] for d in days)
    saved = sum(1 - d["route_m"] / d["naive_m"] for d in days if d["naive_m"]) / max(1, len(days))
    limits = db.settings
    report.out(f"  zone {zone}: {grown} current places; team {', '.join(team)}; capacity "
               f"{limits.inspection_visits_per_day} visits a day, solver limit {limits.inspection_solver_s:g} s")
    report.out(f"  a week: {total:.2f} s (target < {TARGET_S:g} s: {'met' if total < TARGET_S else 'MISSED'}); "
               f"{visits} visits, {checks} department checks ({checks - visits} separate visits saved); "
               f"the solver's routes {saved:.0%} shorter than most-overdue-first on average (straight lines)")
    return {"total_s": total, "visits": visits, "checks": checks}


def main() -> int:
    from api.settings import Settings
    from bench.dbenv import bench_database

    report = Report()
    with bench_database(Settings()) as db:
        report.section(f"11. Joint inspections: planning a week for one zone ({ZONE}, scaled to {SCALE_TO} places)")
        run(report, db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
