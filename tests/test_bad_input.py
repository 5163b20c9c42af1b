"""Bad input gets a 4xx JSON error naming the field and the reason — never a 500 — and
nothing is written (incidents, case-file events and audit rows are counted around it)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

DISTRICT = "330503"
OK = {"category": "noise", "lon": 120.4263, "lat": 30.8727}  # a valid report in Nanxun town
JSON = {"content-type": "application/json"}


def raw(text: str) -> dict:
    return {"content": text.encode(), "headers": JSON}


def body(**changes) -> dict:
    doc = {**OK, **changes}
    return {"json": {k: v for k, v in doc.items() if v is not DROP}}


DROP = object()


def chunks(total: int):
    """A body sent without Content-Length (chunked), so only the running count can stop it."""
    def gen():
        yield b'{"category": "noise", "lon": 120.4263, "lat": 30.8727, "description": "'
        for _ in range(total // 100_000):
            yield b"x" * 100_000
        yield b'"}'
    return {"content": gen(), "headers": JSON}


# (id, request kwargs or a factory of them, status, field, words the reason must contain)
POST_CASES = [
    ("broken-json", raw('{"category": "noise", "lon": 120.4263'), 422, "body", "JSON"),
    ("trailing-garbage", raw(json.dumps(OK) + " }"), 422, "body", "JSON"),
    ("single-quotes", raw("{'category': 'noise'}"), 422, "body", "JSON"),
    ("empty-body", raw(""), 422, "body", ""),
    ("array-body", {"json": [OK]}, 422, "body", ""),
    ("null-body", raw("null"), 422, "body", ""),
    ("lon-text", body(lon="east"), 422, "lon", ""),
    ("lat-boolean", body(lat=True), 422, "lat", ""),
    ("lon-boolean", body(lon=False), 422, "lon", ""),
    ("lon-null", body(lon=None), 422, "lon", ""),
    ("lat-object", body(lat={"value": 30.87}), 422, "lat", ""),
    ("category-number", body(category=42), 422, "category", ""),
    ("accuracy-text", body(accuracy_m="good"), 422, "accuracy_m", ""),
    ("missing-category", body(category=DROP), 422, "category", "required"),
    ("missing-lat", body(lat=DROP), 422, "lat", "required"),
    ("empty-category", body(category=""), 422, "category", ""),
    ("unknown-category", body(category="no_such_thing"), 422, "category", "unknown"),
    ("lon-over-180", body(lon=200.0), 422, "lon", "range"),
    ("lon-under-minus-180", body(lon=-180.5), 422, "lon", "range"),
    ("lat-over-90", body(lat=95.0), 422, "lat", "range"),
    ("lat-under-minus-90", body(lat=-91.0), 422, "lat", "range"),
    ("lon-NaN", raw('{"category": "noise", "lon": NaN, "lat": 30.8727}'), 422, "lon", "finite"),
    ("lat-Infinity", raw('{"category": "noise", "lon": 120.4263, "lat": Infinity}'), 422, "lat", "finite"),
    ("lat-minus-Infinity", raw('{"category": "noise", "lon": 120.4263, "lat": -Infinity}'), 422, "lat", "finite"),
    ("lon-overflow", raw('{"category": "noise", "lon": 1e999, "lat": 30.8727}'), 422, "lon", "finite"),
    ("lon-NaN-string", body(lon="NaN"), 422, "lon", "finite"),
    ("swapped-lat-lon", body(lon=30.8727, lat=120.4263), 422, "lat", "swapped"),
    ("swapped-lat-lon-gcj02", body(lon=30.87, lat=120.42, crs="gcj02"), 422, "lat", "swapped"),
    ("unknown-crs", body(crs="epsg:3857"), 422, "crs", ""),
    ("accuracy-negative", body(accuracy_m=-1), 422, "accuracy_m", ""),
    ("accuracy-huge", body(accuracy_m=1e6), 422, "accuracy_m", ""),
    ("description-too-long", body(description="长" * 2001), 422, "description", "2000"),
    ("contact-too-long", body(contact="1" * 201), 422, "contact", "200"),
    ("unknown-priority", body(priority="critical"), 422, "priority", ""),
    ("unknown-source", body(source="carrier_pigeon"), 422, "source", ""),
    ("extra-field", body(foo=1), 422, "foo", ""),
    ("extra-field-grid-code", body(grid_code="330503100001001"), 422, "grid_code", ""),
    ("staff-source-anonymous", body(source="hotline"), 403, "source", ""),
    ("idempotency-key-with-space", {**body(), "headers": {"Idempotency-Key": "two words"}}, 422,
     "Idempotency-Key", ""),
    ("idempotency-key-too-long", {**body(), "headers": {"Idempotency-Key": "k" * 129}}, 422,
     "Idempotency-Key", ""),
    ("description-nested-500", raw(json.dumps(OK)[:-1] + ', "description": ' + "[" * 500 + "]" * 500 + "}"), 422,
     "description", ""),
    ("body-nested-1000", raw(json.dumps(OK)[:-1] + ', "description": ' + "[" * 1000 + "]" * 1000 + "}"), 422,
     "body", "nested"),
    ("body-not-utf8", {"content": json.dumps(OK)[:-1].encode() + b', "description": "a\xffb"}', "headers": JSON},
     422, "body", "UTF-8"),
    ("oversized-body", raw(json.dumps({**OK, "description": "x" * 1_100_000})), 413, "body", ""),
    ("oversized-chunked-body", lambda: chunks(1_200_000), 413, "body", ""),
]

GET_CASES = [
    ("bbox-three-numbers", "/api/incidents", {"bbox": "120.3,30.8,120.5"}, "bbox", "four"),
    ("bbox-five-numbers", "/api/incidents", {"bbox": "120.3,30.8,120.5,30.9,1"}, "bbox", "four"),
    ("bbox-text", "/api/incidents", {"bbox": "a,b,c,d"}, "bbox", "four"),
    ("bbox-xmin-gt-xmax", "/api/incidents", {"bbox": "120.5,30.8,120.3,30.9"}, "bbox", "xmax"),
    ("bbox-ymin-gt-ymax", "/api/incidents", {"bbox": "120.3,30.9,120.5,30.8"}, "bbox", "ymax"),
    ("bbox-lon-out-of-range", "/api/incidents", {"bbox": "120.3,30.8,190,30.9"}, "bbox", "180"),
    ("bbox-lat-out-of-range", "/api/incidents", {"bbox": "120.3,-95,120.5,30.9"}, "bbox", "90"),
    ("bbox-nan", "/api/incidents", {"bbox": "nan,30.8,120.5,30.9"}, "bbox", "finite"),
    ("bbox-inf", "/api/incidents", {"bbox": "120.3,30.8,inf,30.9"}, "bbox", "finite"),
    ("since-text", "/api/incidents", {"since": "yesterday"}, "since", ""),
    ("since-impossible-date", "/api/incidents", {"since": "2026-02-30"}, "since", ""),
    ("until-before-since", "/api/incidents", {"since": "2026-03-02", "until": "2026-03-01"}, "until", "since"),
    ("offset-negative", "/api/incidents", {"offset": "-1"}, "offset", ""),
    ("offset-text", "/api/incidents", {"offset": "ten"}, "offset", ""),
    ("limit-zero", "/api/incidents", {"limit": "0"}, "limit", ""),
    ("limit-text", "/api/incidents", {"limit": "all"}, "limit", ""),
    ("category-too-long", "/api/incidents", {"category": "c" * 65}, "category", ""),
    ("incident-id-text", "/api/incidents/abc", {}, "incident_id", ""),
    ("area-kind-unknown", "/api/areas", {"kind": "county"}, "kind", ""),
    ("area-kind-missing", "/api/areas", {}, "kind", "required"),
    ("area-bbox-bad", "/api/areas", {"kind": "grid", "bbox": "1,2"}, "bbox", "four"),
    ("route-unknown-crs", "/api/route", {**OK, "crs": "utm51"}, "crs", ""),
    ("route-lon-text", "/api/route", {**OK, "lon": "east"}, "lon", ""),
    ("route-lat-nan", "/api/route", {**OK, "lat": "nan"}, "lat", "finite"),
    ("route-lon-out-of-range", "/api/route", {**OK, "lon": "181"}, "lon", "range"),
    ("route-swapped", "/api/route", {**OK, "lon": "30.87", "lat": "120.42"}, "lat", "swapped"),
    ("route-unknown-category", "/api/route", {**OK, "category": "no_such_thing"}, "category", "unknown"),
    ("route-missing-category", "/api/route", {"lon": OK["lon"], "lat": OK["lat"]}, "category", "required"),
    ("route-accuracy-negative", "/api/route", {**OK, "accuracy_m": "-5"}, "accuracy_m", ""),
]


# Calendar extremes (issue 19): the first and last instants Python can hold, pushed past them by
# a ±14:00 offset once turned to UTC or shifted by a window's days, and times on either side of
# the accepted range. Every time a caller sends is a 422 naming its parameter, never a 500.
CALENDAR_EXTREMES = ["0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                     "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00", "1969-12-31T23:59:59Z",
                     "2200-01-01T00:00:00Z"]
TIME_PARAMETERS = [  # (path, the other parameters, the time parameter)
    ("/api/heatmap", {}, "to"), ("/api/heatmap", {}, "from"),
    ("/api/heatmap/warnings", {}, "to"),
    ("/api/heatmap/repeats", {}, "to"), ("/api/heatmap/repeats", {}, "from"),
    ("/api/incidents", {}, "since"), ("/api/incidents", {}, "until"),
    ("/api/areas", {"kind": "street"}, "as_of"),
    (f"/api/areas/{DISTRICT}", {}, "as_of"),
    ("/api/areas/export", {"layer": "street", "format": "geojson"}, "as_of"),
    ("/ogc/collections/street/items", {}, "datetime"),
    (f"/ogc/collections/district/items/{DISTRICT}", {}, "datetime"),
]


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture
def nothing_written(engine):
    def counts():
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM incident_event),"
                " (SELECT count(*) FROM audit_log WHERE action <> 'login')")).one()
    before = counts()
    yield
    assert counts() == before, "a refused request wrote something"


def assert_field_error(res, status: int, field: str, words: str) -> None:
    assert res.status_code == status, f"{res.status_code}: {res.text[:300]}"
    assert res.headers["content-type"].startswith("application/json")
    doc = res.json()
    assert isinstance(doc["detail"], str) and doc["detail"]
    assert isinstance(doc["errors"], list) and doc["errors"]
    for e in doc["errors"]:
        assert set(e) >= {"field", "reason"} and isinstance(e["reason"], str) and e["reason"]
    named = [e for e in doc["errors"] if e["field"] == field]
    assert named, f"no error names {field!r}: {doc['errors']}"
    assert any(words.lower() in e["reason"].lower() for e in named), f"reason lacks {words!r}: {named}"


def test_the_valid_report_used_below_is_accepted(client):
    """The cases below differ from this body in one thing only; it must itself pass."""
    res = client.post("/api/incidents", json=OK)
    assert res.status_code == 201, res.text


@pytest.mark.parametrize("case, request_kwargs, status, field, words", POST_CASES, ids=[c[0] for c in POST_CASES])
def test_bad_report_is_refused_naming_the_field(client, nothing_written, case, request_kwargs, status, field, words):
    kwargs = request_kwargs() if callable(request_kwargs) else request_kwargs
    res = client.post("/api/incidents", **kwargs)
    assert_field_error(res, status, field, words)


@pytest.mark.parametrize("case, path, params, field, words", GET_CASES, ids=[c[0] for c in GET_CASES])
def test_bad_query_is_refused_naming_the_field(client, admin, nothing_written, case, path, params, field, words):
    res = client.get(path, params=params, headers=admin)
    assert_field_error(res, 422, field, words)


def test_oversized_chunked_body_is_refused_by_the_live_server(live_server, nothing_written):
    """Through uvicorn (real chunked transfer), not only the in-process client."""
    import httpx

    res = httpx.post(f"{live_server}/api/incidents", timeout=30, **chunks(1_200_000))
    assert_field_error(res, 413, "body", "")


@pytest.mark.parametrize("value", CALENDAR_EXTREMES)
@pytest.mark.parametrize("path, params, field", TIME_PARAMETERS, ids=[f"{p} {f}" for p, _, f in TIME_PARAMETERS])
def test_calendar_extremes_are_refused_naming_the_field(client, admin, path, params, field, value):
    res = client.get(path, params={**params, field: value}, headers=admin)
    assert_field_error(res, 422, field, "between")


@pytest.mark.parametrize("path, params, field", TIME_PARAMETERS, ids=[f"{p} {f}" for p, _, f in TIME_PARAMETERS])
def test_the_first_and_last_accepted_times_pass(client, admin, path, params, field):
    """The range's own edges are accepted (a window's start goes with an end a day later); one
    area asked for at a time before it existed is a 404, not a refused time."""
    for value in ("1970-01-01T00:00:00Z", "2199-12-31T23:59:59Z"):
        asked = {field: value}
        if field == "from":
            asked = {"from": value, "to": "1970-01-02T00:00:00Z"} if value.startswith("1970") \
                else {"from": "2199-12-30T23:59:59Z", "to": value}
        res = client.get(path, params={**params, **asked}, headers=admin)
        assert res.status_code in (200, 404), f"{asked}: {res.status_code} {res.text[:300]}"


@pytest.mark.parametrize("lon, lat", [(120.4263, -5e-324), (5e-324, 30.8727), (120.4263, 2.2e-308)])
def test_a_subnormal_coordinate_is_answered_not_a_server_error(client, admin, lon, lat):
    """PostgreSQL's float8 input refuses a subnormal (5e-324: "underflow"); the app reads it as
    the 0 degrees it is (schemathesis found the 500)."""
    res = client.get("/api/route", params={"lon": lon, "lat": lat, "category": "noise"}, headers=admin)
    assert res.status_code < 500 and res.headers["content-type"].startswith("application/json"), res.text
    csv = f"id,lon,lat\na,{lon},{lat}\n"
    res = client.post("/api/route/batch", content=csv, headers={**admin, "Content-Type": "text/csv"})
    assert res.status_code < 500, res.text
