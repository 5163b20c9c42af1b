"""Regression tests for the outside security probe (issue "foundation repair").

Each section names the finding. Every test here failed on the code before the repair and
passes after it (finding 1, secrets, is in ``test_secrets.py``; finding 8, the browser's
role lists, in ``tests/e2e/test_role_maps.py``; faults in ``test_faults.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.auth import tokens
from api.main import create_app
from api.settings import libpq_url

DISTRICT = "330503"
GRIDGOV = Path(sys.executable).with_name("gridgov")


def _one(engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).one()


@pytest.fixture(scope="module")
def spot(engine) -> dict:
    """A point well inside a grid, with its street and a police unit of another street."""
    row = _one(engine, """
        SELECT ST_X(p) AS lon, ST_Y(p) AS lat, street FROM (
            SELECT ST_PointOnSurface(g.geom) AS p, c.parent_code AS street
            FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL ORDER BY ST_Area(g.geom) DESC LIMIT 1) x""")
    other = _one(engine, """SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL AND code <> :s
                            ORDER BY code LIMIT 1""", s=row.street).code
    unit = _one(engine, "SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1").code
    return {"lon": row.lon, "lat": row.lat, "street": row.street, "other_street": other, "unit": unit}


@pytest.fixture(scope="module")
def callers(make_user, login, spot) -> dict[str, dict]:
    """Headers of one account per role over the district, plus street dispatchers."""
    out = {role: login(*make_user(role, DISTRICT, unit=spot["unit"] if role == "officer" else None))
           for role in ("admin", "dispatcher", "grid_manager", "grid_worker", "officer", "analyst")}
    out["street_dispatcher"] = login(*make_user("dispatcher", spot["street"]))
    out["other_street_dispatcher"] = login(*make_user("dispatcher", spot["other_street"]))
    out["anonymous"] = {}
    return out


def readable_units(client, headers) -> set[str]:
    res = client.get("/api/units", headers=headers)
    if res.status_code == 403 or not headers:
        return set()
    assert res.status_code == 200, res.text
    return {f["id"] for f in res.json()["features"]}


# --------------------------------------------------------------------------- 2. unit positions in routing

def test_routing_documents_show_only_units_the_caller_may_read(client, callers, spot):
    """GET /api/route, the POST /api/incidents answer and the stored case's routing all pass
    the /api/units rule: grid staff, officers and analysts see no other units' positions,
    a street dispatcher only their street's."""
    point = {"lon": spot["lon"], "lat": spot["lat"], "category": "fire_hazard"}  # fire, police, enforcement
    seen_any = False
    for name, headers in callers.items():
        allowed = readable_units(client, headers)
        docs = []
        route = client.get("/api/route", params=point, headers=headers)
        if route.status_code == 200:
            docs.append(route.json())
        created = client.post("/api/incidents", json=point, headers=headers)
        assert created.status_code == 201, (name, created.text)
        docs.append(created.json()["routing"])
        item = client.get(f"/api/incidents/{created.json()['id']}", headers=headers)
        if item.status_code == 200 and item.json().get("routing"):
            docs.append(item.json()["routing"])
        for doc in docs:
            shown = {u["code"] for u in doc.get("units", [])}
            assert shown <= allowed, f"{name} sees units {sorted(shown - allowed)} it may not read"
            if shown != allowed and name != "admin":
                assert doc.get("excluded", []) == [], f"{name} sees district-wide skip counts"
            seen_any |= bool(shown)
            assert "U-" not in json.dumps(doc.get("excluded", [])) or name == "admin"
        if name == "admin":
            assert docs[0]["units"], "the admin sees the nearest units (the filter is not just empty)"
    assert seen_any


def test_street_dispatcher_sees_own_street_units_in_routing(client, callers, spot):
    allowed = readable_units(client, callers["street_dispatcher"])
    assert allowed, "the street has units"
    doc = client.get("/api/route", params={"lon": spot["lon"], "lat": spot["lat"], "category": "fire_hazard"},
                     headers=callers["street_dispatcher"]).json()
    assert {u["code"] for u in doc["units"]} <= allowed
    every = client.get("/api/route", params={"lon": spot["lon"], "lat": spot["lat"], "category": "fire_hazard"},
                       headers=callers["admin"]).json()
    # decided in the routing statement: exactly the admin's pick, less the units out of reach, in order
    assert [u["code"] for u in doc["units"]] == [u["code"] for u in every["units"] if u["code"] in allowed]
    assert doc["units"] and doc["excluded"] == [] and every["excluded"]
    other = client.get("/api/route", params={"lon": spot["lon"], "lat": spot["lat"], "category": "fire_hazard"},
                       headers=callers["other_street_dispatcher"]).json()
    assert not ({u["code"] for u in other["units"]} - readable_units(client, callers["other_street_dispatcher"]))


# --------------------------------------------------------------------------- 3. brute force

@pytest.fixture
def throttled(settings):
    return create_app(settings.model_copy(update={"public_rate_per_minute": 5}))


def test_a_staff_token_does_not_lift_the_limit_on_login_or_reporter_secrets(throttled, make_user, login):
    staff = login(*make_user("dispatcher", DISTRICT))  # through the unthrottled app
    with TestClient(throttled, raise_server_exceptions=False, client=("198.51.100.20", 1)) as c:
        codes = [c.post("/api/auth/token", data={"username": "nobody-here", "password": "x" * 12},
                        headers=staff).status_code for _ in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429], codes
    with TestClient(throttled, raise_server_exceptions=False, client=("198.51.100.21", 1)) as c:
        codes = [c.get("/api/public/incidents/XA-AAAA-BBBB-CCCC", headers={**staff, "X-Reporter-Token": "guess-123"})
                 .status_code for _ in range(7)]
        assert 429 in codes, codes
        res = c.get("/api/public/incidents/XA-AAAA-BBBB-CCCC", headers={**staff, "X-Reporter-Token": "guess-123"})
        assert res.status_code == 429 and int(res.headers["retry-after"]) >= 1


@pytest.mark.parametrize("exists", [True, False])
def test_repeated_failed_logins_back_off_per_username(client, make_user, exists):
    username, password = make_user("dispatcher", DISTRICT) if exists else (f"ghost-{uuid.uuid4().hex[:8]}", "x" * 12)
    codes = [client.post("/api/auth/token", data={"username": username, "password": "wrong-password-1"}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429], codes
    locked = client.post("/api/auth/token", data={"username": username, "password": password})
    assert locked.status_code == 429, "while locked even the right password is not checked"
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.json()["errors"][0]["field"] == "username"
    # the lock is per name: another account is not affected
    other, other_password = make_user("dispatcher", DISTRICT)
    assert client.post("/api/auth/token", data={"username": other, "password": other_password}).status_code == 200


def test_a_lock_expires_and_a_success_clears_the_count(client, make_user, engine):
    username, password = make_user("dispatcher", DISTRICT)
    for _ in range(6):
        client.post("/api/auth/token", data={"username": username, "password": "wrong-password-1"})
    # Direct SQL to let the lock run out instead of sleeping 2 s for it: throttle_check.sql compares
    # locked_until with the database's now(), which no clock in the app moves (api.clock does not reach it).
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE auth_throttle SET locked_until = now() - interval '1 s' WHERE key = :k"),
                     {"k": f"login:{username}"})
    assert client.post("/api/auth/token", data={"username": username, "password": password}).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM auth_throttle WHERE key = :k"),
                            {"k": f"login:{username}"}).scalar_one() == 0


def test_login_time_does_not_tell_whether_a_username_exists(client, make_user, monkeypatch):
    """An unknown username costs what a wrong password costs: each attempt checks one argon2 hash
    of the same parameters (before: none at all, about 5 ms against 130 ms). The times
    themselves are measured in ``make bench`` (bench.login)."""
    from api.auth import passwords

    known, _ = make_user("dispatcher", DISTRICT)
    hasher = passwords._hasher()
    checked: list[str] = []
    real_verify = hasher.verify
    monkeypatch.setattr(hasher, "verify",
                        lambda password, hashed: checked.append(hashed) or real_verify(password, hashed))

    def attempts(username):
        checked.clear()
        for i in range(2):
            res = client.post("/api/auth/token", data={"username": username, "password": f"wrong-password-{i}"})
            assert res.status_code == 401
        return [h.rsplit("$", 2)[0] for h in checked]  # "$argon2id$v=19$m=…,t=…,p=…": the cost, not the salt

    unknown = attempts(f"ghost-{uuid.uuid4().hex[:8]}")
    wrong_password = attempts(known)
    assert len(unknown) == len(wrong_password) == 2 and set(unknown) == set(wrong_password), (unknown, wrong_password)


def test_a_burst_of_failed_logins_does_not_stall_other_requests(live_server, make_user, monkeypatch):
    """argon2 runs off the event loop: while every login of a burst is held inside its password
    check (a gate the test opens), another request is answered. On the loop, the first held check
    would stall the server and the probe would time out (the timeouts are hang guards only)."""
    import threading

    from api.auth import passwords

    usernames = [make_user("dispatcher", DISTRICT)[0] for _ in range(4)]
    entered, gate = threading.Event(), threading.Event()
    real_verify = passwords.verify_password

    def held_verify(password, password_hash):
        entered.set()
        gate.wait(60)
        return real_verify(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", held_verify)

    async def scenario():
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            logins = [asyncio.ensure_future(c.post("/api/auth/token", data={
                "username": usernames[i % 4], "password": f"nope-{i}-xxxxxx"})) for i in range(16)]
            try:
                assert await asyncio.to_thread(entered.wait, 30), "no login reached its password check"
                probe = await c.get("/api/departments", timeout=15)
                pending = sum(not t.done() for t in logins)
            finally:
                gate.set()
            answers = await asyncio.gather(*logins)
            return probe.status_code, pending, [r.status_code for r in answers]

    probe_status, pending, login_codes = asyncio.run(scenario())
    assert probe_status == 200
    assert pending == 16, "the probe was answered while every login was still inside its check"
    assert login_codes == [401] * 16


# --------------------------------------------------------------------------- 4. analysts cannot bisect

@pytest.fixture(scope="module")
def off_grid_case(engine) -> dict:
    """A sample incident whose exact place and time differ from their coarse values."""
    row = _one(engine, """
        SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat, reported_at, category_code
        FROM incident
        WHERE abs(ST_X(location) - round(ST_X(location)::numeric, 3)) > 0.0002
          AND abs(ST_Y(location) - round(ST_Y(location)::numeric, 3)) > 0.0002
          AND reported_at <> date_trunc('hour', reported_at) AND grid_code IS NOT NULL
        ORDER BY id LIMIT 1""")
    return dict(row._mapping)


def _hits(client, headers, case, **params) -> int:
    res = client.get("/api/incidents", params={"category": case["category_code"], "limit": 1000, **params},
                     headers=headers)
    assert res.status_code == 200, res.text
    return sum(1 for f in res.json()["features"] if f["id"] == case["id"])


def test_analyst_cannot_recover_exact_location_with_a_tiny_bbox(client, callers, off_grid_case):
    case, eps = off_grid_case, 1e-6
    tiny = f"{case['lon'] - eps},{case['lat'] - eps},{case['lon'] + eps},{case['lat'] + eps}"
    assert _hits(client, callers["dispatcher"], case, bbox=tiny) == 1  # the exact box finds it in detail
    assert _hits(client, callers["analyst"], case, bbox=tiny) == 0
    coarse_lon, coarse_lat = round(case["lon"], 3), round(case["lat"], 3)
    around_coarse = f"{coarse_lon - eps},{coarse_lat - eps},{coarse_lon + eps},{coarse_lat + eps}"
    assert _hits(client, callers["analyst"], case, bbox=around_coarse) == 1
    feature = next(f for f in client.get("/api/incidents", params={"category": case["category_code"], "limit": 1000,
                                                                     "bbox": around_coarse},
                                         headers=callers["analyst"]).json()["features"] if f["id"] == case["id"])
    assert feature["geometry"]["coordinates"] == [coarse_lon, coarse_lat]


def test_analyst_cannot_recover_exact_time_with_a_microsecond_window(client, callers, off_grid_case):
    case = off_grid_case
    at = case["reported_at"]
    window = {"since": at.isoformat(), "until": (at + timedelta(microseconds=1)).isoformat()}
    assert _hits(client, callers["dispatcher"], case, **window) == 1
    assert _hits(client, callers["analyst"], case, **window) == 0
    hour = at.replace(minute=0, second=0, microsecond=0)
    by_hour = {"since": hour.isoformat(), "until": (hour + timedelta(hours=1)).isoformat()}
    assert _hits(client, callers["analyst"], case, **by_hour) == 1
    item = client.get(f"/api/incidents/{case['id']}", headers=callers["analyst"]).json()
    assert datetime.fromisoformat(item["reported_at"]) == hour
    assert "tracking_code" not in item and "description" not in item and "events" not in item


# --------------------------------------------------------------------------- 5. 5xx on bad input

NUL_CASES = [
    ("GET", "/api/public/incidents/XA-%00", {"headers": {"X-Reporter-Token": "token-1234"}}, "path"),
    ("GET", "/api/incidents", {"params": {"category": "noise\x00"}}, "category"),
    ("GET", "/api/incidents", {"params": {"status": "\x00"}}, "status"),
    ("GET", "/api/areas", {"params": {"kind": "grid", "parent": "33\x00"}}, "parent"),
    ("GET", "/api/units", {"params": {"department": "po\x00lice"}}, "department"),
    ("GET", "/api/admin/audit", {"params": {"entity": "user\x00"}}, "entity"),
    ("GET", "/api/route", {"params": {"lon": 120.4, "lat": 30.8, "category": "fi\x00ght"}}, "category"),
    ("POST", "/api/units/U-%00/position", {"json": {"lon": 120.4, "lat": 30.8}}, "path"),
    ("POST", "/api/incidents", {"json": {"category": "noise", "lon": 120.4, "lat": 30.8, "description": "a\x00b"}},
     "description"),
    ("POST", "/api/incidents", {"json": {"category": "noi\x00se", "lon": 120.4, "lat": 30.8}}, "category"),
    ("POST", "/api/incidents", {"json": {"category": "noise", "lon": 120.4, "lat": 30.8, "contact": "138\x00"}},
     "contact"),
    ("POST", "/api/auth/token", {"data": {"username": "ad\x00min", "password": "x" * 12}}, "username"),
    ("POST", "/api/auth/refresh", {"json": {"refresh_token": "abc\x00defghijkl"}}, "refresh_token"),
]


@pytest.mark.parametrize("method,url,kwargs,field", NUL_CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in NUL_CASES])
def test_nul_bytes_are_refused_naming_the_field(client, callers, method, url, kwargs, field):
    res = client.request(method, url, headers={**callers["admin"], **kwargs.pop("headers", {})}, **kwargs)
    assert res.status_code == 422, res.text
    assert res.headers["content-type"] == "application/json"
    assert field in {e["field"] for e in res.json()["errors"]}, res.json()


def test_lone_surrogates_in_json_are_refused(client, engine):
    before = _one(engine, "SELECT count(*) AS n FROM incident").n
    body = '{"category": "noise", "lon": 120.4, "lat": 30.8, "description": "bad \\ud800 text"}'
    res = client.post("/api/incidents", content=body, headers={"Content-Type": "application/json"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "description"
    assert _one(engine, "SELECT count(*) AS n FROM incident").n == before


def test_naive_and_aware_times_in_one_query(client, callers):
    res = client.get("/api/incidents", params={"since": "2026-01-01T00:00:00", "until": "2026-02-01T00:00:00+08:00",
                                               "limit": 1}, headers=callers["admin"])
    assert res.status_code == 200, res.text
    res = client.get("/api/incidents", params={"since": "2026-02-01T00:00:00", "until": "2026-01-01T00:00:00Z"},
                     headers=callers["admin"])
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "until"


@pytest.mark.parametrize("claims", [
    {"sub": ["1"]}, {"sub": "one"}, {"sub": 7}, {"sub": "9" * 40}, {"sid": 12345}, {"sid": ["x"]},
    {"sid": "a\x00b"}, {"sid": {"k": "v"}},
], ids=lambda c: json.dumps(c))
def test_signed_tokens_with_odd_claim_types_are_401(client, settings, callers, claims):
    real = tokens.decode(settings.secret_key, callers["admin"]["Authorization"].split()[1], "access")
    now = int(time.time())
    doc = {**real, "iat": now, "exp": now + 600, **claims}
    odd = jwt.encode(doc, settings.secret_key, algorithm="HS256")
    res = client.get("/api/auth/me", headers={"Authorization": f"Bearer {odd}"})
    assert res.status_code == 401 and res.headers["content-type"] == "application/json"


def test_an_internal_error_is_json_with_security_headers_and_logged(settings, monkeypatch, caplog):
    from api import catalog

    async def broken(conn):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(catalog, "departments", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        res = c.get("/api/departments", headers={"X-Request-ID": "probe-request-0001"})
    assert res.status_code == 500
    assert res.headers["content-type"] == "application/json"
    assert res.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in res.headers
    assert res.headers["x-request-id"] == "probe-request-0001"
    body = res.json()
    assert "probe-request-0001" in body["detail"] and "boom" not in body["detail"] and body["errors"] == []
    logged = [r for r in caplog.records if r.name == "gridgov.request"]
    assert any(getattr(r, "fields", {}).get("request_id") == "probe-request-0001" and r.exc_info for r in logged)


def test_every_request_is_one_json_log_line(client, caplog):
    from api.requestlog import JsonFormatter

    caplog.clear()
    res = client.get("/api/categories?x=secret-query-value")
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "gridgov.request"]
    doc = json.loads(lines[-1])
    assert doc["request_id"] == res.headers["x-request-id"]
    assert doc["status"] == 200 and doc["path"] == "/api/categories" and doc["method"] == "GET"
    assert isinstance(doc["ms"], float)
    assert "secret-query-value" not in lines[-1]  # query strings are not logged


# --------------------------------------------------------------------------- 6. privacy

def test_reporter_address_is_not_in_the_case_file(client, callers, spot):
    created = client.post("/api/incidents", json={"category": "noise", "lon": spot["lon"], "lat": spot["lat"],
                                                  "contact": "13800000000"})
    doc = client.get(f"/api/incidents/{created.json()['id']}", headers=callers["grid_manager"]).json()
    assert doc["events"][0]["actor"] == "reporter"
    assert "testclient" not in json.dumps(doc) and "contact" not in doc


def test_request_hash_is_keyed(client, engine, spot):
    key = f"hash-{uuid.uuid4()}"
    body = {"category": "noise", "lon": spot["lon"], "lat": spot["lat"], "contact": "13812345678"}
    assert client.post("/api/incidents", json=body, headers={"Idempotency-Key": key}).status_code == 201
    from api.schemas import IncidentIn
    unkeyed = hashlib.sha256(json.dumps(IncidentIn(**body).model_dump(), sort_keys=True).encode()).hexdigest()
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT request_hash, idempotency_key FROM incident ORDER BY id DESC LIMIT 1")).one()
    assert stored.request_hash != unkeyed and len(stored.request_hash) == 64
    assert stored.idempotency_key != key and key not in stored.idempotency_key


def test_idempotency_keys_belong_to_their_caller(client, make_user, login, spot):
    key = f"shared-key-{uuid.uuid4()}"
    body = {"category": "noise", "lon": spot["lon"], "lat": spot["lat"], "description": "one report"}
    a = login(*make_user("grid_worker", DISTRICT))
    b = login(*make_user("grid_worker", DISTRICT))
    first = client.post("/api/incidents", json=body, headers={**a, "Idempotency-Key": key})
    assert first.status_code == 201
    # the same key by another account, or anonymously, is another report: nothing of A's comes back
    other = client.post("/api/incidents", json=body, headers={**b, "Idempotency-Key": key})
    anon = client.post("/api/incidents", json=body, headers={"Idempotency-Key": key})
    assert other.status_code == 201 and anon.status_code == 201
    codes = {first.json()["tracking_code"], other.json()["tracking_code"], anon.json()["tracking_code"]}
    assert len(codes) == 3
    # A's own retry gets A's report back
    again = client.post("/api/incidents", json=body, headers={**a, "Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["tracking_code"] == first.json()["tracking_code"]
    # a stranger replaying an anonymous key with another body learns nothing
    stranger = client.post("/api/incidents", json={**body, "description": "guess"}, headers={"Idempotency-Key": key})
    assert stranger.status_code == 409 and anon.json()["tracking_code"] not in stranger.text


# --------------------------------------------------------------------------- 7. small ones

def test_the_public_cannot_set_a_priority(client, callers, spot):
    body = {"category": "noise", "lon": spot["lon"], "lat": spot["lat"], "priority": "urgent"}
    res = client.post("/api/incidents", json=body)
    assert res.status_code == 403 and res.json()["errors"][0]["field"] == "priority"
    assert client.post("/api/incidents", json=body, headers=callers["dispatcher"]).status_code == 201


@pytest.mark.parametrize("body,field", [
    ({"lon": True, "lat": 30.8}, "lon"),
    ({"lon": 120.4, "lat": False}, "lat"),
    ({"lon": 0.0, "lat": 0.0}, "lon"),            # off Africa: far outside every district
    ({"lon": 121.5, "lat": 31.2}, "lon"),         # Shanghai: 100 km away
    ({"lon": 30.8, "lat": 120.4}, "lat"),         # swapped
    ({"lon": 120.4, "lat": 30.8, "accuracy_m": -1}, "accuracy_m"),
    ({"lon": 120.4, "lat": 30.8, "status": "asleep"}, "status"),
])
def test_unit_positions_are_checked(client, callers, spot, body, field):
    res = client.post(f"/api/units/{spot['unit']}/position", json=body, headers=callers["officer"])
    assert res.status_code == 422, res.text
    assert field in {e["field"] for e in res.json()["errors"]}


def test_unit_position_keeps_its_accuracy(client, callers, spot):
    res = client.post(f"/api/units/{spot['unit']}/position",
                      json={"lon": spot["lon"], "lat": spot["lat"], "accuracy_m": 12.5}, headers=callers["officer"])
    assert res.status_code == 200, res.text
    assert res.json()["accuracy_m"] == 12.5
    units = client.get("/api/units", headers=callers["officer"]).json()["features"]
    assert [u["properties"]["accuracy_m"] for u in units if u["id"] == spot["unit"]] == [12.5]


@pytest.mark.parametrize("username", ["admin\nforged-line", "x" * 10_000, "", " "])
def test_usernames_are_bounded_and_never_logged_verbatim(client, engine, username):
    res = client.post("/api/auth/token", data={"username": username, "password": "x" * 12})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "username"
    with engine.connect() as conn:
        bad = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE actor ~ '[\\n\\r]' OR length(actor) > 64"))
        assert bad.scalar_one() == 0


def test_refresh_rotation_and_replay_are_audited(client, engine, make_user):
    username, password = make_user("dispatcher", DISTRICT)
    first = client.post("/api/auth/token", data={"username": username, "password": password}).json()
    rotated = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    replay = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE actor = :u AND entity = 'session' ORDER BY id"), {"u": username})]
    assert actions == ["login", "refresh", "refresh_refused_session_ended"]


def test_deactivation_ends_sessions_and_refresh(client, database_url, make_user, engine):
    username, password = make_user("dispatcher", DISTRICT)
    pair = client.post("/api/auth/token", data={"username": username, "password": password}).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/auth/me", headers=bearer).status_code == 200
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)
    res = subprocess.run([str(GRIDGOV), "user", "deactivate", username], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "ended 1 session" in res.stdout
    assert client.get("/api/auth/me", headers=bearer).status_code == 401  # at once, not at expiry
    assert client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.post("/api/auth/token", data={"username": username, "password": password}).status_code == 401
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT after FROM audit_log WHERE entity = 'user' AND entity_id = :u "
                                   "AND action = 'deactivate'"), {"u": username}).one()
    assert row.after == {"active": False, "sessions_ended": 1}
    res = subprocess.run([str(GRIDGOV), "user", "activate", username], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert client.post("/api/auth/token", data={"username": username, "password": password}).status_code == 200


def test_a_new_password_ends_the_old_one_and_its_sessions(client, database_url, make_user, engine):
    username, password = make_user("dispatcher", DISTRICT)
    pair = client.post("/api/auth/token", data={"username": username, "password": password}).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)
    new = "a-new-password-for-the-post-7"
    res = subprocess.run([str(GRIDGOV), "user", "password", username, "--password-stdin"], input=new + "\n",
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "ended 1 session" in res.stdout and new not in res.stdout
    assert client.get("/api/auth/me", headers=bearer).status_code == 401  # whoever held the old one is out
    assert client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.post("/api/auth/token", data={"username": username, "password": password}).status_code == 401
    assert client.post("/api/auth/token", data={"username": username, "password": new}).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT after FROM audit_log WHERE entity = 'user' AND entity_id = :u "
                                   "AND action = 'set_password'"), {"u": username}).one()
    assert row.after == {"sessions_ended": 1}  # never the password, nor its hash
    res = subprocess.run([str(GRIDGOV), "user", "password", "nobody-here"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2 and "nobody-here" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([str(GRIDGOV), "user", "password", username, "--password-stdin"], input="short\n",
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "password" in res.stderr


def test_number_matched_past_the_end(client, callers):
    first = client.get("/api/incidents", params={"category": "noise", "limit": 1}, headers=callers["admin"]).json()
    total = first["numberMatched"]
    assert total > 10
    past = client.get("/api/incidents", params={"category": "noise", "limit": 5, "offset": total + 100},
                      headers=callers["admin"]).json()
    assert past["numberMatched"] == total and past["numberReturned"] == 0 and past["features"] == []
    assert past["links"] == []
