"""Incident intake and reads through the API: tracking codes, routing snapshot, deadlines,
H3 cell, case file, anonymous view, unrouted reports, idempotent retries and list filters."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import chinese_calendar
import h3
import httpx
import pytest
import sqlalchemy as sa
from pyproj import Geod

DISTRICT = "330503"
TRACKING = re.compile(r"^XA-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}"
                      r"-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$")
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def spots(engine):
    """Interior points of a few grids (well inside: no boundary flag), with their hierarchy."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT g.code AS grid, c.code AS community, c.parent_code AS street, ST_X(g.p) AS lon, ST_Y(g.p) AS lat
            FROM (SELECT code, parent_code, ST_PointOnSurface(geom) AS p, geom FROM area
                  WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code || 'incidents') LIMIT 40) g
            JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL AND c.kind = 'community'
            WHERE NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL
                              AND o.code <> g.code AND ST_DWithin(o.geom::geography, g.p::geography, 50))
            ORDER BY g.code LIMIT 8""")).mappings().all()
    assert len(rows) == 8
    return [dict(r) for r in rows]


@pytest.fixture(scope="module")
def categories(client):
    res = client.get("/api/categories")
    assert res.status_code == 200
    return {c["code"]: c for c in res.json()}


def count_incidents(engine, where="true", **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM incident WHERE {where}"), params).scalar_one()


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


# --------------------------------------------------------------------------- intake

def test_report_is_routed_and_stored_with_snapshot_deadline_h3_and_case_file(
        client, admin, spots, categories, engine):
    spot = spots[0]
    body = {"category": "street_vendor", "lon": spot["lon"], "lat": spot["lat"], "accuracy_m": 8,
            "description": "占道经营 test", "source": "qr"}
    res = client.post("/api/incidents", json=body)
    assert res.status_code == 201, res.text
    created = res.json()
    assert TRACKING.match(created["tracking_code"]), created["tracking_code"]
    assert isinstance(created["reporter_token"], str) and len(created["reporter_token"]) >= 20
    assert created["status"] == "received"
    assert created["routing"]["grid"]["code"] == spot["grid"]
    assert res.headers["location"] == f"/api/incidents/{created['id']}"

    res = client.get(f"/api/incidents/{created['id']}", headers=admin)
    assert res.status_code == 200, res.text
    inc = res.json()
    assert inc["tracking_code"] == created["tracking_code"]
    assert inc["category_code"] == "street_vendor" and inc["priority"] == "normal" and inc["source"] == "qr"
    assert (inc["grid_code"], inc["community_code"], inc["street_code"], inc["district_code"]) == (
        spot["grid"], spot["community"], spot["street"], DISTRICT)
    assert inc["zone_code"] == inc["routing"]["zone"]["code"] and inc["zone_code"]
    assert inc["station_code"] == inc["routing"]["station"]["code"] and inc["station_code"]
    assert inc["near_boundary"] is False and inc["unrouted"] is False
    assert inc["accuracy_m"] == 8
    primary = next(p for p in inc["routing"]["patrol_zones"] if p["department"] == "enforcement")
    assert inc["patrol_zone_code"] == primary["code"]
    # the routing snapshot, as computed at intake, with units
    routing = inc["routing"]
    assert routing["grid"]["code"] == spot["grid"]
    assert routing["community"]["code"] == spot["community"]
    assert routing["category"]["code"] == "street_vendor"
    assert routing["units"] and all(u["department"] == "enforcement" for u in routing["units"])
    # location kept to 1e-7 degree
    assert inc["lon"] == pytest.approx(spot["lon"], abs=1e-7) and inc["lat"] == pytest.approx(spot["lat"], abs=1e-7)
    # deadline: street vending at normal priority is due by the end of the next working day
    assert categories["street_vendor"]["deadlines"]["normal"] == "1wd" and inc["deadline_spec"] == "1wd"
    due = ts(inc["due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    reported = ts(inc["reported_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert due.time() == time(17, 0) and due.date() > reported.date()
    assert chinese_calendar.is_workday(due.date())
    between = [reported.date() + timedelta(days=d) for d in range(1, (due.date() - reported.date()).days)]
    assert not any(chinese_calendar.is_workday(d) for d in between), "a working day was skipped"
    # H3 cell at resolution 9 containing the point
    cell = inc.get("h3_cell")
    assert cell, "h3_cell missing from the incident"
    assert h3.get_resolution(cell) == 9
    assert cell == h3.latlng_to_cell(inc["lat"], inc["lon"], 9)
    centre = h3.cell_to_latlng(cell)
    assert GEOD.inv(centre[1], centre[0], inc["lon"], inc["lat"])[2] < 400  # res-9 cells are ~175 m across
    # the case file starts with "reported"
    events = inc["events"]
    assert events and events[0]["kind"] == "reported" and events[0]["to_status"] == "received"
    assert events[0]["actor"] == "reporter"  # never the reporter's address
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_anonymous_reporter_sees_no_unit_positions(client, admin, spots):
    body = {"category": "fire_hazard", "lon": spots[1]["lon"], "lat": spots[1]["lat"]}
    anon = client.post("/api/incidents", json=body)
    assert anon.status_code == 201, anon.text
    routing = anon.json()["routing"]
    assert routing["grid"]["code"] == spots[1]["grid"]
    assert "units" not in routing and "candidates" not in routing
    text = json.dumps(routing)
    assert "U-" not in text and '"lon"' not in text and '"lat"' not in text and "distance_m" not in text
    # staff reporting the same thing do get the units (the difference is real)
    staff = client.post("/api/incidents", json=body, headers=admin)
    assert staff.status_code == 201, staff.text
    units = staff.json()["routing"]["units"]
    assert units and {"lon", "lat", "distance_m"} <= set(units[0])


def test_report_outside_every_grid_is_kept_unrouted_with_nearest_grid(client, admin, engine):
    with engine.connect() as conn:  # 5 km east of the easternmost point of the district
        lon, lat = conn.execute(sa.text("""
            WITH v AS (SELECT (ST_DumpPoints(geom)).geom AS p FROM area WHERE kind = 'district' AND valid_to IS NULL),
                 e AS (SELECT p FROM v ORDER BY ST_X(p) DESC LIMIT 1)
            SELECT ST_X(q), ST_Y(q)
            FROM (SELECT ST_Project(p::geography, 5000, radians(90))::geometry AS q FROM e) s""")).one()
    before = count_incidents(engine)
    res = client.post("/api/incidents", json={"category": "garbage", "lon": lon, "lat": lat})
    assert res.status_code == 201, res.text
    assert count_incidents(engine) == before + 1
    assert "unrouted" in res.json()["routing"]["flags"]
    inc = client.get(f"/api/incidents/{res.json()['id']}", headers=admin).json()
    assert inc["unrouted"] is True and inc["grid_code"] is None and inc["zone_code"] is None
    assert inc["district_code"] == DISTRICT  # still queued for the district's dispatchers
    assert inc["status"] == "received"
    nearest = inc["routing"]["nearest_grid"]
    assert nearest["code"].startswith(DISTRICT)
    assert nearest["distance_m"] == pytest.approx(5000, rel=0.01)
    assert "unrouted" in inc["routing"]["flags"]


def test_report_far_from_every_district_is_refused_and_nothing_is_written(client, admin, engine):
    """A point 1,000 km away is a wrong fix or not this service's matter: 422 naming the field."""
    before = count_incidents(engine)
    res = client.post("/api/incidents", json={"category": "garbage", "lon": 116.397, "lat": 39.909})  # Beijing
    assert res.status_code == 422, res.text
    assert [e["field"] for e in res.json()["errors"]] == ["lon"]
    assert "km from the nearest district" in res.json()["errors"][0]["reason"]
    hotline = client.post("/api/incidents", json={"category": "garbage", "lon": 116.397, "lat": 39.909,
                                                   "source": "hotline"}, headers=admin)
    assert hotline.status_code == 422, hotline.text
    assert count_incidents(engine) == before


def test_report_is_committed_before_the_answer_is_sent(settings, spots, engine):
    """A phone that got 201 will not retry: by then the report must be stored, not about to be."""
    from api.main import create_app

    key = f"test-commit-{uuid.uuid4()}"
    body = json.dumps({"category": "noise", "lon": spots[0]["lon"], "lat": spots[0]["lat"]}).encode()
    seen = {}

    async def main():
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                     "scheme": "http", "path": "/api/incidents", "raw_path": b"/api/incidents",
                     "query_string": b"", "root_path": "", "client": ("127.0.0.1", 40000),
                     "server": ("testserver", 80), "state": {},
                     "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                                 (b"content-length", str(len(body)).encode()), (b"idempotency-key", key.encode())]}
            sent = False

            async def receive():
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.sleep(3600)

            async def send(message):
                if message["type"] == "http.response.start":
                    seen["status"] = message["status"]
                elif message["type"] == "http.response.body" and not message.get("more_body"):
                    # the client has the whole answer now: is the report visible to everyone else?
                    seen["stored"] = count_incidents(engine, "idempotency_key = :k", k=stored_key(settings, key))

            await app(scope, receive, send)

    asyncio.run(main())
    assert seen["status"] == 201
    assert seen["stored"] == 1, "the answer went out before the transaction committed"


# --------------------------------------------------------------------------- idempotency

def stored_key(settings, key: str, namespace: str = "address:127.0.0.1") -> str:
    """How an Idempotency-Key is kept: a keyed hash, per caller (an anonymous caller without a
    phone secret: per address; these tests call from loopback)."""
    from api.keyed import keyed_hash
    return keyed_hash(settings.hash_key, "idempotency-key", f"{namespace}\n{key}")


def test_concurrent_retries_with_one_idempotency_key_make_one_incident(live_server, spots, engine, settings):
    key = f"test-{uuid.uuid4()}"
    body = {"category": "noise", "lon": spots[2]["lon"], "lat": spots[2]["lat"], "description": "retry storm"}

    async def storm():
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            return await asyncio.gather(*[
                c.post("/api/incidents", json=body, headers={"Idempotency-Key": key}) for _ in range(20)])

    responses = asyncio.run(storm())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], [r.text for r in responses if r.status_code not in (200, 201)]
    docs = [r.json() for r in responses]
    assert len({d["id"] for d in docs}) == 1
    assert len({d["tracking_code"] for d in docs}) == 1
    # every retry gets the reporter's secret back: a phone whose first answer was lost still has it
    assert len({d["reporter_token"] for d in docs}) == 1 and docs[0]["reporter_token"]
    assert count_incidents(engine, "idempotency_key = :k", k=stored_key(settings, key)) == 1
    with engine.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM incident_event WHERE incident_id = :i"),
                              {"i": docs[0]["id"]}).scalar_one()
    assert events == 1

    # the same key for a different report is refused, naming the header; nothing written
    before = count_incidents(engine)
    res = httpx.post(f"{live_server}/api/incidents", json={**body, "description": "something else"},
                     headers={"Idempotency-Key": key}, timeout=30)
    assert res.status_code == 409, res.text
    assert res.json()["errors"][0]["field"] == "Idempotency-Key"
    assert count_incidents(engine) == before


# --------------------------------------------------------------------------- list filters

@pytest.fixture(scope="module")
def batch(client, admin, spots, engine):
    """Five fresh reports, in order, after a recorded start time."""
    with engine.connect() as conn:
        start = conn.execute(sa.text("SELECT now()")).scalar_one()
    plan = [("noise", spots[3]), ("noise", spots[4]), ("garbage", spots[5]), ("dispute", spots[6]),
            ("noise", spots[7])]
    made = []
    for cat, spot in plan:
        res = client.post("/api/incidents", json={"category": cat, "lon": spot["lon"], "lat": spot["lat"]},
                          headers=admin)
        assert res.status_code == 201, res.text
        made.append({"id": res.json()["id"], "category": cat, "lon": spot["lon"], "lat": spot["lat"]})
    with engine.connect() as conn:
        at = dict(conn.execute(sa.text("SELECT id, reported_at FROM incident WHERE id = ANY(:ids)"),
                               {"ids": [m["id"] for m in made]}).all())
    for m in made:
        m["reported_at"] = at[m["id"]]
    return {"start": start, "items": made}


def list_ids(client, admin, **params):
    res = client.get("/api/incidents", params=params, headers=admin)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"])
    return [f["id"] for f in doc["features"]], doc


def test_list_since_until(client, admin, batch):
    items, start = batch["items"], batch["start"].isoformat()
    ids, doc = list_ids(client, admin, since=start)
    assert ids == [m["id"] for m in reversed(items)]  # newest first
    assert doc["numberMatched"] == 5
    ids, _ = list_ids(client, admin, since=start, until=items[2]["reported_at"].isoformat())
    assert ids == [items[1]["id"], items[0]["id"]]  # until is exclusive


def test_list_category_and_status(client, admin, batch):
    items, start = batch["items"], batch["start"].isoformat()
    ids, _ = list_ids(client, admin, since=start, category="noise")
    assert sorted(ids) == sorted(m["id"] for m in items if m["category"] == "noise")
    ids, _ = list_ids(client, admin, since=start, status="received")
    assert sorted(ids) == sorted(m["id"] for m in items)
    ids, _ = list_ids(client, admin, since=start, status="closed")
    assert ids == []
    _, doc = list_ids(client, admin, status="closed", category="dispute", limit=50)
    assert doc["numberMatched"] > 0
    assert {f["properties"]["status"] for f in doc["features"]} == {"closed"}
    assert {f["properties"]["category_code"] for f in doc["features"]} == {"dispute"}


def test_list_bbox(client, admin, batch):
    items = batch["items"]
    target = items[2]
    d = 0.0005
    box = (target["lon"] - d, target["lat"] - d, target["lon"] + d, target["lat"] + d)
    bbox = ",".join(f"{v:.7f}" for v in box)
    ids, doc = list_ids(client, admin, bbox=bbox, since=batch["start"].isoformat())
    expected = [m["id"] for m in reversed(items)
                if box[0] <= m["lon"] <= box[2] and box[1] <= m["lat"] <= box[3]]
    assert target["id"] in ids and ids == expected
    _, doc = list_ids(client, admin, bbox=bbox, limit=1000)
    for f in doc["features"]:
        x, y = f["geometry"]["coordinates"]
        assert box[0] <= x <= box[2] and box[1] <= y <= box[3]


def test_list_paging_follows_next_links_keeping_the_filters(client, admin, batch):
    items, start = batch["items"], batch["start"].isoformat()
    url, params = "/api/incidents", {"since": start, "status": "received", "limit": 2}
    seen, pages = [], 0
    while url:
        res = client.get(url, params=params, headers=admin)
        assert res.status_code == 200, res.text
        doc = res.json()
        assert doc["numberMatched"] == 5
        seen += [f["id"] for f in doc["features"]]
        pages += 1
        nxt = [link for link in doc["links"] if link["rel"] == "next"]
        if nxt:
            q = parse_qs(urlsplit(nxt[0]["href"]).query)
            assert q["since"] == [start] and q["status"] == ["received"] and q["limit"] == ["2"]
            assert q["offset"] == [str(len(seen))]
            url, params = nxt[0]["href"], None
        else:
            url = None
    assert pages == 3
    assert seen == [m["id"] for m in reversed(items)]
    ids, doc = list_ids(client, admin, since=start, limit=2, offset=4)
    assert ids == [items[0]["id"]] and doc["links"] == []


def test_list_limit_above_maximum_is_clamped(client, admin, settings):
    res = client.get("/api/incidents", params={"limit": settings.page_limit_max * 10}, headers=admin)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["numberMatched"] > settings.page_limit_max  # the sample has ~22,600 reports
    assert doc["numberReturned"] == settings.page_limit_max
    nxt = parse_qs(urlsplit(doc["links"][0]["href"]).query)
    assert nxt["limit"] == [str(settings.page_limit_max)] and nxt["offset"] == [str(settings.page_limit_max)]
