"""The intake floor in its own process: ``python -m bench.raw_intake DSN CLIENTS < job.json``.

The same work as ``POST /api/incidents`` for an anonymous web report, straight through
psycopg with no web framework: ``route_point.sql`` (prepared from the 6th call), the routing
document shaped, ``incident_insert.sql`` (the incident, its first event and its audit row)
and a commit with fsync on, over ``CLIENTS`` threads with a connection each. Prints one JSON
line: ``wall`` seconds, per-request ``times``, created ``ids``.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from datetime import UTC, datetime

import h3
import psycopg

from api.auth.principal import anonymous
from api.casefile import hash_token, new_tracking_code
from api.incidents import H3_RESOLUTION, routing_json, written_with
from bench.common import psycopg_sql
from spatial.routing import EVERY_UNIT, shape_routing

REPORTER_WHO = anonymous("127.0.0.1")
WARM_PER_CLIENT = 6   # psycopg prepares a statement on its 6th execution


def run(dsn: str, clients: int, job: dict) -> dict:
    route_q, _ = psycopg_sql("route_point")
    insert_q, _ = psycopg_sql("incident_insert", "api")
    bodies, opts = job["bodies"], job["options"]
    warm = WARM_PER_CLIENT * clients
    queue = iter(bodies[warm:])
    lock = threading.Lock()
    times: list[float] = []
    ids: list[int] = []

    def one(conn, body) -> None:
        doc = conn.execute(route_q, {"lon": body["lon"], "lat": body["lat"], "category": body["category"],
                                     **opts, **EVERY_UNIT}).fetchone()[0]
        for unit in doc["units"]:
            unit.pop("shown")
        doc["category"].pop("deadlines")
        routing = shape_routing(doc, lon=body["lon"], lat=body["lat"], x=body["lon"], y=body["lat"],
                                input_crs="wgs84", tolerance_m=opts["tolerance_m"])
        code = new_tracking_code()
        now = datetime.now(UTC)
        row = conn.execute(insert_q, {
            "tracking_code": code, "idempotency_key": None, "request_hash": secrets.token_hex(16),
            "category": body["category"], "description": body["description"], "lon": body["lon"],
            "lat": body["lat"], "accuracy_m": body["accuracy_m"], "input_crs": "wgs84", "source": "web",
            "status": "received", "priority": "normal", "reported_at": now, "due_from": None, "due_at": None,
            "deadline_spec": None, "due_provisional": False,
            "h3_cell": h3.latlng_to_cell(body["lat"], body["lon"], H3_RESOLUTION),
            "routing": routing_json(routing), "reporter_contact": None,
            "reporter_token_hash": hash_token(secrets.token_urlsafe(24)),
            **written_with(routing, tracking_code=code, category=body["category"], source="web", who=REPORTER_WHO),
        }).fetchone()
        conn.commit()
        with lock:
            ids.append(row[0])

    failures: list[str] = []

    def worker(first: int) -> None:
        try:
            with psycopg.connect(dsn) as conn:
                for body in bodies[first:warm:clients]:  # past psycopg's prepare threshold, untimed
                    one(conn, body)
                start.wait()
                timed(conn)
        except Exception as exc:  # say what failed instead of leaving the others at the barrier
            failures.append(f"{type(exc).__name__}: {exc}")
            start.abort()

    def timed(conn) -> None:
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                return
            t0 = time.perf_counter()
            one(conn, body)
            with lock:
                times.append(time.perf_counter() - t0)

    start = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed: {failures[0]}")
    return {"wall": time.perf_counter() - t0, "times": times, "ids": ids}


def main() -> int:
    dsn, clients = sys.argv[1], int(sys.argv[2])
    print(json.dumps(run(dsn, clients, json.load(sys.stdin))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
