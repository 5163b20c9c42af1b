"""Section 5: the command-room cycle: a dispatch transition, and the desk's queue of a district
over the sample's year of incidents."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg

from bench.report import Report, latency_stats, ms, ratio, spread

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


# The baseline list: the newest page of the caller's district or street, without reach, count or joins.
RAW_LIST = """
SELECT i.id, i.status, i.tier, i.priority, i.reported_at, ST_X(i.location), ST_Y(i.location)
FROM incident i
WHERE i.{column} = %(code)s
ORDER BY i.reported_at DESC, i.id DESC LIMIT 50"""
ROUNDS = 3


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


def _timed_rounds(call, n: int, rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """``rounds`` × (``WARMUP`` untimed + ``n`` timed) calls: all timings, and each round's p50 (ms)."""
    every, p50s = [], []
    for _ in range(rounds):
        times = []
        for _ in range(WARMUP + n):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        every += times[WARMUP:]
        p50s.append(latency_stats(times[WARMUP:])["p50"])
    return every, p50s


def incident_list(report: Report, db, client: httpx.Client, n: int) -> None:
    """The first page of ``GET /api/incidents?limit=50`` for a district dispatcher, an analyst of the
    district (coarse place and time) and a street's dispatcher, against the raw page of the same
    area, the list's own statement (incident_list.sql on psycopg, prepared as the app's pool does),
    and the district's desk queue (closed cases, newest first: the same rows with a count)."""
    from api.auth.policy import Capability, reach
    from api.auth.principal import Grant, Principal
    from bench.dbenv import extra_account
    from bench.single import login

    with psycopg.connect(db.dsn, autocommit=True) as conn:
        district = conn.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL "
                                "ORDER BY code").fetchone()[0]
        street = conn.execute("SELECT street_code FROM incident WHERE district_code = %s AND street_code IS NOT NULL "
                              "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", (district,)).fetchone()[0]
        total, open_ = conn.execute("SELECT count(*), count(*) FILTER (WHERE status <> ALL(%s)) FROM incident",
                                    (list(ENDED),)).fetchone()
    callers = [("district dispatcher", "dispatcher", district, "district_code", (db.username, db.password)),
               ("district analyst (coarse)", "analyst", district, "district_code",
                extra_account(db, "analyst", "analyst", district)),
               ("street dispatcher", "dispatcher", street, "street_code",
                extra_account(db, "street", "dispatcher", street))]
    import api.incidents  # noqa: F401 (it composes the list's statement: incident_list_cases + case_page)
    from api.sqlfiles import sql as api_sql

    statement = api_sql.query("incident_list")
    # as the app's pool runs it: planned per call, or prepared from the 2nd run
    prepare = False if "incident_list" in getattr(api_sql, "planned_per_call", ()) else None
    filters = {"category": None, "status": None, "since": None, "until": None,
               "xmin": None, "ymin": None, "xmax": None, "ymax": None, "limit": 50, "offset": 0}
    rows = []
    with psycopg.connect(db.dsn, autocommit=True) as raw, \
            psycopg.connect(db.dsn, autocommit=True, prepare_threshold=1) as app_like:
        for label, role, area, column, (user, password) in callers:
            auth = login(client, user, password)
            who = Principal(username=user, user_id=0, grants=(Grant(role, area),))
            params = {**filters, **reach(who, Capability.READ_INCIDENTS).params(),
                      **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_")}
            page, matched = RAW_LIST.format(column=column), []

            def get(auth=auth, matched=matched):
                res = client.get("/api/incidents", params={"limit": 50}, headers=auth)
                if res.status_code != 200:
                    raise RuntimeError(f"incidents -> {res.status_code}: {res.text[:300]}")
                matched.append(res.json()["numberMatched"])

            t_raw, _ = _timed_rounds(lambda page=page, area=area: raw.execute(page, {"code": area}).fetchall(), n)
            t_sql, _ = _timed_rounds(lambda params=params: app_like.execute(statement, params, prepare=prepare)
                                     .fetchall(), n)
            t_http, r_http = _timed_rounds(get, n)
            r, h = latency_stats(t_raw), latency_stats(t_http)
            rows.append([label, f"{matched[-1]:,}", ms(r["p50"]), ms(latency_stats(t_sql)["p50"]), ms(h["p50"]),
                         spread(r_http), ms(h["p95"]), ratio(h["p50"], r["p50"])])
        auth = login(client, db.username, db.password)
        t_queue, r_queue = _timed_rounds(lambda: client.get("/api/desk/queue", headers=auth, params={
            "status": "closed", "sort": "newest", "limit": 50}).raise_for_status(), n)
    q = latency_stats(t_queue)
    rows.append(["GET /api/desk/queue?status=closed&sort=newest, district dispatcher", "", "", "", ms(q["p50"]),
                 spread(r_queue), ms(q["p95"]), ""])
    report.table(["GET /api/incidents?limit=50, first page", "matched", "raw page p50 ms", "list SQL p50 ms",
                  "HTTP p50 ms", "HTTP p50 per round", "HTTP p95 ms", "HTTP / raw"], rows)
    report.out(f"  {total:,} incidents, {open_:,} open; raw page: the newest 50 of the caller's district or street "
               f"by an equality, no reach function, no count, no category join; list SQL: incident_list_cases.sql "
               f"+ case_page.sql as the app runs it (psycopg; "
               f"{'planned per call' if prepare is False else 'prepared from the 2nd run'}); "
               f"{ROUNDS} rounds of {n} runs after {WARMUP} warm-up each, p50 per round min-max")
