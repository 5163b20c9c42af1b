"""The live stream (/api/live): committed changes only, in the caller's reach only, resumable.

Each test holds real SSE connections to the app served by uvicorn; "nothing arrived" is
proved with a barrier, not a sleep: NOTIFY is delivered in commit order, so once a change
committed *after* the forbidden one has arrived, the forbidden one would have arrived first.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import httpx
import pytest
import sqlalchemy as sa

from api.live import stream
from tests.cycle_support import two_street_spots

WAIT_S = 15  # generous: the machine may be busy; the console's target is well under a second


class LiveClient:
    """An SSE reader on its own thread: keeps every message and the raw bytes."""

    def __init__(self, base: str, headers: dict, last_event_id: int | None = None):
        self.messages: list[dict] = []
        self.raw = bytearray()
        self.closed = threading.Event()
        self.status: int | None = None
        self._stop = False
        hdrs = {**headers, "Accept": "text/event-stream"}
        if last_event_id is not None:
            hdrs["Last-Event-ID"] = str(last_event_id)
        self._thread = threading.Thread(target=self._run, args=(base, hdrs), daemon=True)
        self._thread.start()
        self.wait_for(lambda m: m.get("event") == "hello")

    def _run(self, base, headers):
        try:
            with httpx.stream("GET", base + "/api/live", headers=headers, timeout=httpx.Timeout(5, read=60)) as res:
                self.status = res.status_code
                if res.status_code != 200:
                    self.raw += res.read()
                    self.messages.append({"event": "hello", "status": res.status_code})
                    return
                message: dict = {}
                for line in res.iter_lines():
                    self.raw += (line + "\n").encode()
                    if self._stop:
                        return
                    if line == "":
                        if message:
                            self.messages.append(message)
                        message = {}
                    elif line.startswith(":"):
                        continue
                    else:
                        key, _, value = line.partition(": ")
                        message[key] = json.loads(value) if key == "data" else value
        except httpx.HTTPError:
            pass
        finally:
            self.closed.set()

    def wait_for(self, predicate, timeout: float = WAIT_S) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in list(self.messages):
                if predicate(m):
                    return m
            if self.closed.is_set() and not any(predicate(m) for m in self.messages):
                break
            time.sleep(0.02)
        raise AssertionError(f"no such message; got {[m.get('event') for m in self.messages]}")

    def incident_ids(self) -> set[int]:
        return {m["data"]["incident_id"] for m in self.messages if m.get("event") == "incident"}

    def close(self):
        self._stop = True


def reported(incident_id: int):
    return lambda m: m.get("event") == "incident" and m["data"]["incident_id"] == incident_id \
        and m["data"]["kind"] == "reported"


@pytest.fixture(scope="module")
def streets(engine):
    """Two streets and a point well inside a grid of each."""
    return two_street_spots(engine)


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


def report(http, spot, headers=None) -> int:
    res = http.post("/api/incidents", json={"category": "garbage", "lon": spot["lon"], "lat": spot["lat"],
                                            "description": "live test"}, headers=headers or {})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def bearer(http, make_user, role, area, **kw) -> dict:
    username, password = make_user(role, area, **kw)
    res = http.post("/api/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def test_a_street_dispatcher_gets_its_streets_reports_and_never_another_streets(
        live_server, http, make_user, streets):
    mine, other = streets
    client = LiveClient(live_server, bearer(http, make_user, "dispatcher", mine["street"]))
    try:
        first = report(http, mine)
        message = client.wait_for(reported(first))
        assert message["id"] == str(message["data"]["event_id"])  # what Last-Event-ID resumes from
        assert {"lon", "lat", "at", "grid_code"} <= set(message["data"])  # a dispatcher sees the details
        elsewhere = report(http, other)
        barrier = report(http, mine)
        client.wait_for(reported(barrier))
        assert elsewhere not in client.incident_ids()
        assert f'"incident_id":{elsewhere},'.encode() not in client.raw
    finally:
        client.close()


def test_a_reconnecting_client_gets_what_it_missed(live_server, http, make_user, streets):
    headers = bearer(http, make_user, "dispatcher", streets[0]["street"])
    client = LiveClient(live_server, headers)
    first = report(http, streets[0])
    last_id = int(client.wait_for(reported(first))["id"])
    client.close()
    missed = [report(http, streets[0]), report(http, streets[0])]
    elsewhere = report(http, streets[1])
    again = LiveClient(live_server, headers, last_event_id=last_id)
    try:
        for incident_id in missed:
            again.wait_for(reported(incident_id))
        assert elsewhere not in again.incident_ids()  # the replay keeps to the caller's reach too
    finally:
        again.close()


def test_only_committed_changes_are_announced(live_server, http, make_user, streets, engine):
    client = LiveClient(live_server, bearer(http, make_user, "admin", "330503"))
    try:
        victim = report(http, streets[0])
        client.wait_for(reported(victim))
        with engine.connect() as conn:  # direct SQL: a rolled-back event is a state no API call leaves behind
            tx = conn.begin()
            ghost = conn.execute(sa.text("""INSERT INTO incident_event (incident_id, actor, kind, note)
                VALUES (:id, 'test', 'note', 'rolled back') RETURNING id"""), {"id": victim}).scalar_one()
            tx.rollback()
        barrier = report(http, streets[0])
        client.wait_for(reported(barrier))
        assert ghost not in {m["data"]["event_id"] for m in client.messages if m.get("event") == "incident"}
    finally:
        client.close()


def test_an_analyst_sees_which_case_changed_only_to_about_100_m_and_the_hour(live_server, http, make_user,
                                                                              streets, engine):
    client = LiveClient(live_server, bearer(http, make_user, "analyst", "330503"))
    try:
        incident_id = report(http, streets[0])
        data = client.wait_for(reported(incident_id))["data"]
        assert data["status"] == "received" and data["category"] == "garbage" and data["detailed"] is False
        with engine.connect() as conn:
            exact = conn.execute(sa.text("""SELECT ST_X(location) AS lon, ST_Y(location) AS lat, reported_at
                                             FROM incident WHERE id = :i"""), {"i": incident_id}).mappings().one()
        assert (data["lon"], data["lat"]) == (round(exact["lon"], 3), round(exact["lat"], 3))
        assert (data["lon"], data["lat"]) != (exact["lon"], exact["lat"])
        at = datetime.fromisoformat(data["at"])
        assert at == exact["reported_at"].replace(minute=0, second=0, microsecond=0)
    finally:
        client.close()


def test_unit_moves_reach_only_those_who_may_read_the_unit(live_server, http, make_user, engine, streets):
    with engine.connect() as conn:
        unit = conn.execute(sa.text("""
            SELECT u.code, st.zone_code, z.parent_code AS street,
                   ST_X(ST_PointOnSurface(z.geom)) AS lon, ST_Y(ST_PointOnSurface(z.geom)) AS lat
            FROM unit u JOIN station st ON st.code = u.station_code
            JOIN area z ON z.code = st.zone_code AND z.valid_to IS NULL
            ORDER BY u.code LIMIT 1""")).mappings().one()
        outside = conn.execute(sa.text("""SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL
            AND NOT (code = ANY(area_lineage(:zone))) ORDER BY code LIMIT 1"""),
            {"zone": unit["zone_code"]}).scalar_one()
        spot = conn.execute(sa.text("""
            SELECT ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL AND :s = ANY(area_lineage(g.code))
            ORDER BY g.code LIMIT 1"""), {"s": outside}).mappings().one()
    admin = bearer(http, make_user, "admin", "330503")
    watcher = LiveClient(live_server, admin)
    stranger = LiveClient(live_server, bearer(http, make_user, "dispatcher", outside))
    try:
        res = http.post(f"/api/units/{unit['code']}/position", headers=admin,
                        json={"lon": unit["lon"], "lat": unit["lat"], "status": "available"})
        assert res.status_code == 200, res.text
        moved = watcher.wait_for(lambda m: m.get("event") == "unit" and m["data"]["code"] == unit["code"])
        assert moved["data"]["lon"] == pytest.approx(unit["lon"]) and "id" not in moved
        barrier = report(http, dict(spot))
        stranger.wait_for(reported(barrier))
        assert not [m for m in stranger.messages if m.get("event") == "unit"]
        assert unit["code"].encode() not in stranger.raw
    finally:
        watcher.close()
        stranger.close()


def test_the_stream_needs_a_session_and_ends_with_it(live_server, http, make_user, monkeypatch):
    refused = LiveClient(live_server, {})
    assert refused.status == 401 and b'"detail"' in refused.raw
    monkeypatch.setattr(stream, "SESSION_CHECK_S", 0.2)
    monkeypatch.setattr(stream, "PING_S", 0.5)
    headers = bearer(http, make_user, "dispatcher", "330503")
    client = LiveClient(live_server, headers)
    assert http.post("/api/auth/logout", headers=headers).status_code in (200, 204)
    assert client.wait_for(lambda m: m.get("event") == "end")["data"] == {"reason": "session"}
    assert client.closed.wait(WAIT_S)


def test_many_clients_share_one_listening_connection(live_server, http, make_user, engine, settings):
    def listeners() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.text("""SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND query = 'LISTEN gridgov_live'""")).scalar_one()

    headers = bearer(http, make_user, "dispatcher", "330503")
    before = listeners()
    clients = [LiveClient(live_server, headers) for _ in range(5)]
    try:
        assert before >= 1 and listeners() == before
    finally:
        for c in clients:
            c.close()
