"""Section 5: the command-room cycle: a dispatch transition, and the desk's queue of a district
over the sample's year of incidents."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg

from bench.report import Report, latency_stats, ms, ratio

WARMUP = 5
ENDED = ("closed", "void", "duplicate", "not_responsible")

# The baseline: the same writes the service makes for a dispatch, by hand, in one transaction.
RAW_DISPATCH = [
    ("SELECT status FROM incident WHERE id = %(id)s FOR UPDATE", True),
    ("INSERT INTO assignment (incident_id, unit_code, dispatched_by, exclusive) "
     "VALUES (%(id)s, %(unit)s, 'bench', false)", False),
    ("UPDATE unit SET status = 'busy' WHERE code = %(unit)s AND status = 'available'", False),
    ("UPDATE incident SET status = 'dispatched', updated_at = now() WHERE id = %(id)s", False),
    ("INSERT INTO incident_event (incident_id, actor, kind, from_status, to_status, data) "
     "VALUES (%(id)s, 'bench', 'dispatch', 'triaged', 'dispatched', '{}')", False),
    ("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('bench', 'dispatch', 'incident', %(id)s::text)",
     False),
]

# The baseline queue: open cases of the district by deadline, without reach, counts or joins.
RAW_QUEUE = """
SELECT i.id, i.status, i.tier, i.priority, i.due_at, ST_X(i.location), ST_Y(i.location)
FROM incident i
WHERE i.district_code = %(district)s AND {status}
ORDER BY i.due_at NULLS LAST, i.id DESC LIMIT 50"""


def _triaged_cases(settings, who, bodies: list[dict], created: list[int]) -> list[int]:
    """Reports filed and triaged through the services (the state a dispatch starts from)."""
    from api.db import make_pool
    from api.incidents import report
    from api.schemas import IncidentIn
    from api.workflow import cases
    from api.workflow.schemas import ActionIn

    async def run():
        pool = make_pool(settings)
        await pool.open(wait=True)
        ids = []
        try:
            for body in bodies:
                async with pool.connection() as conn, conn.transaction():
                    doc, _ = await report(conn, who, IncidentIn(**body), settings, idempotency_key=None)
                    await cases.apply(conn, who, doc["id"], "triage", ActionIn(), settings)
                ids.append(doc["id"])
        finally:
            await pool.close()
        return ids

    ids = asyncio.run(run())
    created.extend(ids)
    return ids


def _service_dispatch(settings, who, ids: list[int], units: list[str]) -> list[float]:
    from api.db import make_pool
    from api.workflow import cases
    from api.workflow.schemas import ActionIn

    async def run():
        pool = make_pool(settings)
        await pool.open(wait=True)
        times = []
        try:
            for i, cid in enumerate(ids):
                body = ActionIn(units=[units[i % len(units)]], allow_busy=True)
                t0 = time.perf_counter()
                async with pool.connection() as conn, conn.transaction():
                    await cases.apply(conn, who, cid, "dispatch", body, settings)
                times.append(time.perf_counter() - t0)
        finally:
            await pool.close()
        return times[WARMUP:]

    return asyncio.run(run())


def _raw_dispatch(dsn: str, ids: list[int], units: list[str]) -> list[float]:
    times = []
    with psycopg.connect(dsn) as conn:
        for i, cid in enumerate(ids):
            params = {"id": cid, "unit": units[i % len(units)]}
            t0 = time.perf_counter()
            with conn.transaction():
                for statement, fetch in RAW_DISPATCH:
                    cur = conn.execute(statement, params)
                    if fetch:
                        cur.fetchone()
            times.append(time.perf_counter() - t0)
    return times[WARMUP:]


def _http_dispatch(client: httpx.Client, auth: dict, ids: list[int], units: list[str]) -> list[float]:
    times = []
    for i, cid in enumerate(ids):
        t0 = time.perf_counter()
        res = client.post(f"/api/incidents/{cid}/actions/dispatch",
                          json={"units": [units[i % len(units)]], "allow_busy": True}, headers=auth)
        times.append(time.perf_counter() - t0)
        if res.status_code != 200:
            raise RuntimeError(f"dispatch {cid} -> {res.status_code}: {res.text[:300]}")
    return times[WARMUP:]


def _queue_http(client: httpx.Client, auth: dict, params: dict, n: int) -> tuple[list[float], int]:
    times, matched = [], 0
    for _ in range(WARMUP + n):
        t0 = time.perf_counter()
        res = client.get("/api/desk/queue", params=params, headers=auth)
        times.append(time.perf_counter() - t0)
        if res.status_code != 200:
            raise RuntimeError(f"queue -> {res.status_code}: {res.text[:300]}")
        matched = res.json()["number_matched"]
    return times[WARMUP:], matched


def _queue_raw(dsn: str, district: str, ended: bool, n: int) -> list[float]:
    from api.workflow.machine import OPEN

    query = RAW_QUEUE.format(status="i.status = ANY(%(states)s)")
    states = list(ENDED) if ended else list(OPEN)
    times = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(WARMUP + n):
            t0 = time.perf_counter()
            conn.execute(query, {"district": district, "states": states}).fetchall()
            times.append(time.perf_counter() - t0)
    return times[WARMUP:]


def run(report: Report, db, client: httpx.Client, auth: dict, points, category: str, n: int) -> None:
    from api.auth.principal import Grant, Principal

    with psycopg.connect(db.dsn, autocommit=True) as conn:
        district = conn.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL").fetchone()[0]
        units = [r[0] for r in conn.execute(
            "SELECT code FROM unit WHERE department_code = (SELECT departments[1] FROM category WHERE code = %s) "
            "ORDER BY code", (category,))]
        total = conn.execute("SELECT count(*) FROM incident WHERE district_code = %s", (district,)).fetchone()[0]
    who = Principal(username=db.username, user_id=0, grants=(Grant("dispatcher", district),))
    lons, lats = points
    bodies = [{"category": category, "lon": float(lons[i % len(lons)]), "lat": float(lats[i % len(lats)]),
               "accuracy_m": 10, "description": f"bench cycle {i}"} for i in range(3 * (n + WARMUP))]
    ids = _triaged_cases(db.settings, who, bodies, db.created_incidents)
    k = n + WARMUP
    raw = latency_stats(_raw_dispatch(db.dsn, ids[:k], units))
    svc = latency_stats(_service_dispatch(db.settings, who, ids[k:2 * k], units))
    http = latency_stats(_http_dispatch(client, auth, ids[2 * k:], units))
    rows = [[label, n, ms(s["p50"]), ms(s["p95"]), ms(s["mean"]), ratio(s["p50"], raw["p50"])]
            for label, s in (("(a) raw SQL: the same 6 statements, psycopg (baseline)", raw),
                             ("(b) api.workflow.cases.apply, the app's pool", svc),
                             ("(c) POST /api/incidents/{id}/actions/dispatch, HTTP", http))]
    report.table(["dispatch transition", "runs", "p50 ms", "p95 ms", "mean ms", "p50 / (a)"], rows)
    report.out("  (b) locks the case, checks the table, the owner desk and the unit's reach, inserts the assignment, "
               "marks the unit busy, writes state, event and audit row; (c) also answers the whole case document")

    q = 50
    rows = []
    for label, params, ended in (("open cases (the live queue)", {"status": "open"}, False),
                                 ("closed cases (the year's history), first page", {"status": "closed"}, True)):
        t_http, matched = _queue_http(client, auth, {**params, "limit": 50}, q)
        t_raw = _queue_raw(db.dsn, district, ended, q)
        h, r = latency_stats(t_http), latency_stats(t_raw)
        rows.append([label, matched, ms(r["p50"]), ms(h["p50"]), ms(h["p95"]), ratio(h["p50"], r["p50"])])
    report.table(["GET /api/desk/queue, district dispatcher", "matched", "raw SQL p50 ms", "HTTP p50 ms",
                  "HTTP p95 ms", "HTTP / raw"], rows)
    report.out(f"  {total:,} incidents in the district; raw SQL: the page alone by district and status, no reach "
               f"function, no count, no category join; {q} runs each after {WARMUP} warm-up")
