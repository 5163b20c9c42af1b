"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML, the spec's errors,
the privacy of the public views, API keys from the command line, and a real client library
from PyPI (``georeport``, unchanged) against a live server in both output formats.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests as http
import sqlalchemy as sa

from api import contact as contact_box
from api.settings import libpq_url

GRIDGOV = Path(sys.executable).with_name("gridgov")
BASE = "/open311/v2"
DISTRICT = "330503"
FORMATS = ("json", "xml")
TRACKING = re.compile(r"^X[A-Z]-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
CONTACT = {"email": "zhang.san@example.cn", "phone": "13800138000", "first_name": "Xiaolan-q7",
           "last_name": "Ouyang-q7",
           "account_id": "acct-778899", "device_id": "device-445566"}
SECRET_TEXT = "楼道里堆满纸箱，住在302室的王阿姨说"  # a description: never published


# --------------------------------------------------------------------------- helpers

def spec_errors(res) -> list[dict]:
    """The spec's error list from either format; asserts the shape and that the codes are the status."""
    if res.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(res.content)
        assert root.tag == "errors"
        errors = [{"code": int(e.findtext("code")), "description": e.findtext("description")}
                  for e in root.findall("error")]
    else:
        assert res.headers["content-type"] == "application/json"
        errors = res.json()
        assert isinstance(errors, list)
    assert errors and all(e["code"] == res.status_code and e["description"] for e in errors), res.text
    return errors


def expect_error(res, status: int, fmt: str, *words: str) -> str:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("text/xml" if fmt == "xml" else "application/json")
    text = " ".join(e["description"] for e in spec_errors(res))
    for w in words:
        assert w in text, text
    return text


def xml_items(res, root: str, item: str) -> list[dict]:
    """The children of a list document as dicts of their text (nested lists left as elements)."""
    assert res.headers["content-type"].startswith("text/xml"), res.headers
    doc = ET.fromstring(res.content)
    assert doc.tag == root
    return [{child.tag: child.text for child in element} for element in doc.findall(item)]


def listed(res, fmt: str) -> list[dict]:
    assert res.status_code == 200, res.text
    return res.json() if fmt == "json" else xml_items(res, "service_requests", "request")


@pytest.fixture(scope="module")
def gridgov_cli(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(GRIDGOV), "apikey", *args], capture_output=True, text=True, env=env, timeout=60)

    return run


def issue_key(cli, name: str) -> str:
    res = cli("add", name)
    assert res.returncode == 0, res.stderr
    match = re.search(r"api_key \(shown once\): (\S+)", res.stdout)
    assert match, res.stdout
    return match.group(1)


@pytest.fixture(scope="module")
def api_key(gridgov_cli) -> str:
    return issue_key(gridgov_cli, f"test-app-{os.getpid()}")


@pytest.fixture(scope="module")
def point(engine) -> dict:
    """A point inside a grid of the sample (where its first routed incident is)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT ST_X(location) AS lon, ST_Y(location) AS lat FROM incident "
                                   "WHERE grid_code IS NOT NULL AND NOT near_boundary ORDER BY id LIMIT 1")).one()
    return {"lat": row.lat, "long": row.lon}


def post(client, fmt: str = "json", **form):
    return client.post(f"{BASE}/requests.{fmt}", data=form)


@pytest.fixture(scope="module")
def posted(client, api_key, point) -> dict:
    """One request posted with everything the spec allows (contact, media_url, attribute)."""
    res = post(client, api_key=api_key, service_code="other", description=SECRET_TEXT,
               media_url="http://127.0.0.1:9/photo.jpg", address_string="南浔镇某小区", **point, **CONTACT,
               **{"attribute[five_matters]": "hope"})
    assert res.status_code == 201, res.text
    [doc] = res.json()
    return doc


# --------------------------------------------------------------------------- discovery and services

@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_and_both_formats(client, fmt):
    res = client.get(f"{BASE}/discovery.{fmt}")
    assert res.status_code == 200
    if fmt == "json":
        doc = res.json()
        [endpoint] = doc["endpoints"]
        formats = endpoint["formats"]
    else:
        root = ET.fromstring(res.content)
        assert root.tag == "discovery"
        endpoint = {e.tag: e.text for e in root.find("endpoints").find("endpoint")}
        formats = [f.text for f in root.find("endpoints/endpoint/formats").findall("format")]
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(formats) == {"application/json", "text/xml"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_categories(client, fmt):
    categories = {c["code"]: c for c in client.get("/api/categories").json()}
    departments = {d["code"]: d["name"] for d in client.get("/api/departments").json()}
    res = client.get(f"{BASE}/services.{fmt}")
    assert res.status_code == 200
    services = res.json() if fmt == "json" else xml_items(res, "services", "service")
    assert {s["service_code"] for s in services} == set(categories)
    for s in services:
        category = categories[s["service_code"]]
        assert s["service_name"] == category["name"]
        assert s["group"] == departments[category["departments"][0]]
        assert s["type"] == "realtime"
        assert str(s["metadata"]).lower() == ("true" if s["service_code"] == "other" else "false")


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definitions(client, fmt):
    res = client.get(f"{BASE}/services/other.{fmt}")
    assert res.status_code == 200
    if fmt == "json":
        doc = res.json()
        [attribute] = doc["attributes"]
        keys = [v["key"] for v in attribute["values"]]
        assert attribute["required"] is False and attribute["variable"] is True
    else:
        root = ET.fromstring(res.content)
        assert root.tag == "service_definition" and root.findtext("service_code") == "other"
        [attribute] = [{e.tag: e.text for e in a} for a in root.find("attributes").findall("attribute")]
        keys = [v.findtext("key") for v in root.find("attributes/attribute/values").findall("value")]
        assert attribute["required"] == "false" and attribute["variable"] == "true"
    assert attribute["code"] == "five_matters" and attribute["datatype"] == "singlevaluelist"
    assert keys == ["worry", "annoyance", "anxiety", "emergency", "hope"]

    plain = client.get(f"{BASE}/services/noise.{fmt}")
    assert plain.status_code == 200
    attributes = plain.json()["attributes"] if fmt == "json" else list(ET.fromstring(plain.content).find("attributes"))
    assert attributes == []
    expect_error(client.get(f"{BASE}/services/no_such_service.{fmt}"), 404, fmt, "no_such_service")


# --------------------------------------------------------------------------- posting a request

@pytest.mark.parametrize("fmt", FORMATS)
def test_post_goes_through_intake_and_answers_a_public_id_and_the_tracking_code(client, engine, settings, api_key,
                                                                                point, fmt):
    res = post(client, fmt, api_key=api_key, service_code="noise", description="夜里施工", **point,
               jurisdiction_id=DISTRICT)
    assert res.status_code == 201, res.text
    if fmt == "json":
        [doc] = res.json()
    else:
        [doc] = xml_items(res, "service_requests", "request")
    code = doc["service_request_id"]
    assert not TRACKING.match(code), code  # public lists never name the reporter's tracking code
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT i.id, i.source, i.status, i.grid_code, i.due_at, i.open311_token, i.tracking_code, c.name AS client
            FROM incident i JOIN open311_client c ON c.id = i.open311_client_id
            WHERE i.public_id = :code"""), {"code": code}).mappings().one()
        events = conn.execute(sa.text("SELECT kind FROM incident_event WHERE incident_id = :id ORDER BY id"),
                              {"id": row["id"]}).scalars().all()
        audited = conn.execute(sa.text("SELECT action FROM audit_log WHERE entity = 'incident' AND entity_id = :id"),
                               {"id": str(row["id"])}).scalars().all()
    assert str(row["id"]) != code
    assert doc["token"] and code in doc["service_notice"] and row["tracking_code"] in doc["service_notice"]
    assert row["source"] == "open311" and row["status"] == "received" and row["grid_code"]
    assert row["due_at"] is not None  # the category's deadline, as for any report
    assert row["open311_token"] == doc["token"] and row["client"].startswith("test-app-")
    assert events == ["reported", "open311"]
    assert {"create", "open311_request"} <= set(audited)

    again = client.get(f"{BASE}/requests/{code}.{fmt}")
    [shown] = listed(again, fmt)
    assert shown["service_request_id"] == code and shown["status"] == "open" and shown["service_code"] == "noise"
    tok = client.get(f"{BASE}/tokens/{doc['token']}.{fmt}")
    [answer] = listed(tok, fmt)
    assert answer == {"service_request_id": code, "token": doc["token"]}


def test_a_point_outside_every_grid_is_kept_for_the_desk(client, engine, api_key):
    with engine.connect() as conn:  # 3 km east of the district's easternmost point
        lon, lat = conn.execute(sa.text("""
            WITH v AS (SELECT (ST_DumpPoints(geom)).geom AS p FROM area WHERE kind = 'district' AND valid_to IS NULL),
                 e AS (SELECT p FROM v ORDER BY ST_X(p) DESC LIMIT 1)
            SELECT ST_X(q), ST_Y(q) FROM (SELECT ST_Project(p::geography, 3000, radians(90))::geometry AS q FROM e) s
            """)).one()
    res = post(client, api_key=api_key, service_code="garbage", lat=f"{lat:.6f}", long=f"{lon:.6f}")
    assert res.status_code == 201, res.text
    [doc] = res.json()
    assert "outside every grid" in doc["service_notice"]
    with engine.connect() as conn:
        unrouted = conn.execute(sa.text("SELECT unrouted FROM incident WHERE public_id = :c"),
                                {"c": doc["service_request_id"]}).scalar_one()
    assert unrouted is True
    [shown] = listed(client.get(f"{BASE}/requests/{doc['service_request_id']}.json"), "json")
    assert shown["address"] is None


def test_contact_is_sealed_media_url_and_attributes_in_the_case_file(engine, settings, posted):
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, reporter_contact, description FROM incident WHERE public_id = :c"),
                           {"c": posted["service_request_id"]}).one()
        data = conn.execute(sa.text("SELECT data FROM incident_event WHERE incident_id = :id AND kind = 'open311'"),
                            {"id": row.id}).scalar_one()
    assert row.description == SECRET_TEXT  # the desk reads it
    assert CONTACT["email"].encode() not in bytes(row.reporter_contact)
    sealed = contact_box.unseal(settings.contact_key, row.reporter_contact)
    for value in CONTACT.values():
        assert value in sealed
    assert data["media_url"] == "http://127.0.0.1:9/photo.jpg"
    assert data["attributes"] == {"five_matters": "hope"}
    assert data["client"].startswith("test-app-")
    assert posted["account_id"] == CONTACT["account_id"]  # echoed to the client app that sent it, once


def test_media_url_is_never_fetched(client, api_key, point):
    """The app makes no request to the link it is given (it answers before any fetch could be made)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        res = post(client, api_key=api_key, service_code="garbage", media_url=f"http://127.0.0.1:{port}/p.jpg",
                   **point)
        assert res.status_code == 201, res.text
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # a fetch would have queued a connection here


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_views_publish_no_contact_description_or_exact_place(client, engine, posted, fmt):
    code = posted["service_request_id"]
    outputs = [client.get(f"{BASE}/requests/{code}.{fmt}"),
               client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": code}),
               client.get(f"{BASE}/requests.{fmt}", params={"service_code": "other"}),
               client.get(f"{BASE}/tokens/{posted['token']}.{fmt}")]
    for res in outputs:
        assert res.status_code == 200, res.text
        text = res.content.decode()
        for secret in [*CONTACT.values(), SECRET_TEXT, "127.0.0.1:9", "南浔镇某小区"]:
            assert secret not in text, (secret, res.url)
    [shown] = listed(outputs[0], fmt)
    with engine.connect() as conn:
        exact = conn.execute(sa.text("SELECT ST_X(location) AS lon, ST_Y(location) AS lat, reported_at, "
                                     "grid_code FROM incident WHERE public_id = :c"), {"c": code}).one()
        grid_name = conn.execute(sa.text("SELECT name FROM area WHERE code = :g AND valid_to IS NULL"),
                                 {"g": exact.grid_code}).scalar_one()
    lat, lon = float(shown["lat"]), float(shown["long"])
    assert lat == round(exact.lat, 3) and lon == round(exact.lon, 3)  # ~100 m, like the track view
    assert (lat, lon) != (exact.lat, exact.lon)
    requested = datetime.fromisoformat(shown["requested_datetime"])
    assert requested.utcoffset() is not None
    assert requested == exact.reported_at.replace(minute=0, second=0, microsecond=0)  # to the hour
    assert shown["address"] == grid_name
    assert "description" not in shown and "media_url" not in shown
    assert shown["agency_responsible"]  # the departments, never staff


# --------------------------------------------------------------------------- request errors

@pytest.mark.parametrize("fmt", FORMATS)
def test_api_key_missing_unknown_or_revoked_is_403(client, gridgov_cli, point, fmt):
    form = {"service_code": "noise", **point}
    expect_error(post(client, fmt, **form), 403, fmt, "api_key")
    expect_error(post(client, fmt, api_key="o311_not-a-key", **form), 403, fmt, "api_key", "invalid")
    name = f"revoked-app-{fmt}-{os.getpid()}"
    key = issue_key(gridgov_cli, name)
    assert post(client, fmt, api_key=key, **form).status_code == 201
    res = gridgov_cli("revoke", name)
    assert res.returncode == 0 and "revoked" in res.stdout, res.stderr
    expect_error(post(client, fmt, api_key=key, **form), 403, fmt, "revoked")


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_requests_are_400_in_the_spec_format(client, api_key, point, fmt):
    ok = {"api_key": api_key, "service_code": "noise", **point}
    cases = [
        ({**ok, "service_code": "no_such_thing"}, "no_such_thing"),
        ({"api_key": api_key, "service_code": "noise"}, "location is required"),
        ({"api_key": api_key, "service_code": "noise", "address_string": "南浔区人民政府"}, "no geocoder"),
        ({"api_key": api_key, "service_code": "noise", "lat": point["lat"]}, "long"),
        ({**ok, "lat": "95", "long": "120.4"}, "lat"),
        ({**ok, "lat": "30.8", "long": "200"}, "lon"),
        ({**ok, "lat": "39.909", "long": "116.397"}, "from the nearest district"),  # Beijing
        ({**ok, "lat": point["long"], "long": point["lat"]}, "swapped"),
        ({**ok, "lat": "abc"}, "lat"),
        ({**ok, "lat": "NaN"}, "lat"),
        ({**ok, "description": "a\x00b"}, "description"),
        ({**ok, "email": "a\x00b@example.cn"}, "email"),
        ({**ok, "media_url": "javascript:alert(1)"}, "media_url"),
        ({**ok, "attribute[five_matters]": "hope"}, "attribute[five_matters]"),
        ({**ok, "service_code": "other", "attribute[five_matters]": "sometimes"}, "attribute[five_matters]"),
        ({**ok, "service_code": "other", "attribute[five_matters]": "h\x00pe"}, "attribute[five_matters]"),
        ({**ok, "description": "x" * 2001}, "description"),
        ({**ok, "first_name": "x" * 60, "last_name": "y" * 60, "email": "z" * 90 + "@example.cn"}, "too long"),
    ]
    for form, word in cases:
        expect_error(post(client, fmt, **form), 400, fmt, word)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_filters_are_400(client, fmt):
    cases = [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-10-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-10-01T00:00:00Z", "end_date": "2026-09-01T00:00:00Z"}, "end_date"),
        ({"start_date": "9999-12-31T23:59:59Z"}, "start_date"),
        ({"start_date": "0001-01-01T00:00:00+14:00"}, "start_date"),  # calendar extremes (issue 19)
        ({"end_date": "9999-12-31T23:59:59-14:00"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"service_code": "noise,no_such_thing"}, "no_such_thing"),
        ({"service_request_id": ",".join(["XA-2345-6789-ABCD"] * 101)}, "service_request_id"),
        ({"service_code": "a\x00b"}, "service_code"),
    ]
    for params, word in cases:
        expect_error(client.get(f"{BASE}/requests.{fmt}", params=params), 400, fmt, word)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_ids_tokens_and_jurisdictions_are_404(client, api_key, point, posted, fmt):
    expect_error(client.get(f"{BASE}/requests/XA-2345-6789-ABCD.{fmt}"), 404, fmt, "XA-2345-6789-ABCD")
    expect_error(client.get(f"{BASE}/tokens/not-a-token.{fmt}"), 404, fmt, "token")
    code = posted["service_request_id"]
    for path in ("discovery", "services", "services/noise", "requests", f"requests/{code}",
                 f"tokens/{posted['token']}"):
        res = client.get(f"{BASE}/{path}.{fmt}", params={"jurisdiction_id": DISTRICT})
        assert res.status_code == 200, (path, res.text)
        if path != "discovery":  # discovery describes the endpoint, whatever the jurisdiction
            expect_error(client.get(f"{BASE}/{path}.{fmt}", params={"jurisdiction_id": "110101"}), 404, fmt,
                         "jurisdiction_id")
    expect_error(post(client, fmt, api_key=api_key, service_code="noise", jurisdiction_id="110101", **point),
                 404, fmt, "jurisdiction_id")


def test_other_errors_under_open311_keep_the_spec_format(client):
    expect_error(client.delete(f"{BASE}/requests.xml"), 405, "xml")
    expect_error(client.get(f"{BASE}/nothing-here"), 404, "json")
    expect_error(client.get(f"{BASE}/services.yaml"), 400, "json", "fmt")
    # NUL in a query string is refused before the routes, still in the spec's format
    expect_error(client.get(f"{BASE}/requests.xml?status=a%00b"), 400, "xml", "status")
    expect_error(client.get(f"{BASE}/requests/a%00b.json"), 400, "json", "NUL")
    # the rest of the app keeps its own error body
    assert client.get("/api/public/grids/nope").json()["detail"]


def test_posting_is_rate_limited_for_everybody(settings, api_key, point):
    """POST takes the public limiter for all callers (429 with Retry-After, in the spec's format)."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    limited = create_app(settings.model_copy(update={"public_rate_per_minute": 2, "supervision_interval_s": 0}))
    with TestClient(limited) as c:
        form = {"api_key": api_key, "service_code": "noise", **point}
        statuses = [c.post(f"{BASE}/requests.xml", data=form) for _ in range(3)]
        assert [r.status_code for r in statuses] == [201, 201, 429]
        expect_error(statuses[-1], 429, "xml", "too many requests")
        assert int(statuses[-1].headers["Retry-After"]) >= 1


# --------------------------------------------------------------------------- filters

@pytest.mark.parametrize("fmt", FORMATS)
def test_request_filters(client, api_key, point, posted, fmt):
    a = posted["service_request_id"]
    [b] = post(client, api_key=api_key, service_code="street_light", **point).json()
    both = listed(client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": f"{a},{b['service_request_id']},"
                                                                                      "XA-2345-6789-ABCD"}), fmt)
    assert {r["service_request_id"] for r in both} == {a, b["service_request_id"]}
    # the ids override the other filters, as the spec says
    assert len(listed(client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": a, "status": "closed"}),
                      fmt)) == 1
    lights = listed(client.get(f"{BASE}/requests.{fmt}", params={"service_code": "street_light", "status": "open"}),
                    fmt)
    assert b["service_request_id"] in {r["service_request_id"] for r in lights}
    assert {r["service_code"] for r in lights} == {"street_light"} and {r["status"] for r in lights} == {"open"}
    closed = listed(client.get(f"{BASE}/requests.{fmt}", params={"status": "closed"}), fmt)
    assert closed and {r["status"] for r in closed} == {"closed"}
    # default: the last 90 days, newest first, at most 1000
    recent = listed(client.get(f"{BASE}/requests.{fmt}"), fmt)
    assert 0 < len(recent) <= 1000
    times = [datetime.fromisoformat(r["requested_datetime"]) for r in recent]
    assert times == sorted(times, reverse=True)
    assert min(times) >= datetime.now(UTC) - timedelta(days=90, hours=1)


def test_date_window_uses_the_hour_shown(client, engine):
    """start_date/end_date select on the time to the hour (what the output shows), inclusive."""
    with engine.connect() as conn:
        code, at = conn.execute(sa.text("SELECT public_id, reported_at FROM incident WHERE category_code = 'noise' "
                                        "AND date_part('minute', reported_at) > 0 ORDER BY id LIMIT 1")).one()
    hour = at.replace(minute=0, second=0, microsecond=0)

    def ids(start, end):
        res = client.get(f"{BASE}/requests.json", params={"service_code": "noise", "start_date": start.isoformat(),
                                                          "end_date": end.isoformat()})
        return {r["service_request_id"] for r in listed(res, "json")}

    assert code in ids(hour, hour)  # the exact time lies after the hour, the hour shown matches
    assert code not in ids(hour + timedelta(minutes=1), hour + timedelta(hours=2))
    assert code not in ids(hour - timedelta(hours=2), hour - timedelta(minutes=1))
    local = hour.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)  # no offset: Asia/Shanghai
    assert code in ids(local, local)


# --------------------------------------------------------------------------- the command line

def test_cli_lists_clients_never_their_keys(gridgov_cli, api_key, posted):
    res = gridgov_cli("list")
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith(f"test-app-{os.getpid()}"))
    assert "active" in line and "request(s)" in line
    assert api_key not in res.stdout
    dup = gridgov_cli("add", f"test-app-{os.getpid()}")
    assert dup.returncode != 0 and "already exists" in dup.stderr
    missing = gridgov_cli("revoke", "no-such-app")
    assert missing.returncode != 0 and "no client app" in missing.stderr


def test_only_a_keyed_digest_of_the_key_is_stored(engine, api_key):
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT key_hash FROM open311_client WHERE name = :n"),
                              {"n": f"test-app-{os.getpid()}"}).scalar_one()
    assert api_key not in stored and len(stored) == 64
    import hashlib
    assert stored != hashlib.sha256(api_key.encode()).hexdigest()  # keyed, not a plain digest


# --------------------------------------------------------------------------- a real client: georeport

@pytest.mark.parametrize("fmt", FORMATS)
def test_georeport_client_unchanged(live_server, api_key, point, fmt):
    """``georeport`` (PyPI) reads everything; it cannot post, so a plain form POST as a client app would."""
    from georeport import GeoReport

    root = f"{live_server}{BASE}"
    res = http.post(f"{root}/requests.{fmt}", data={"api_key": api_key, "service_code": "other",
                                                   "attribute[five_matters]": "worry", "description": "路面塌陷",
                                                   "jurisdiction_id": DISTRICT, **point}, timeout=30)
    assert res.status_code == 201, res.text
    code = res.json()[0]["service_request_id"] if fmt == "json" else \
        ET.fromstring(res.content).findtext("request/service_request_id")

    for jurisdiction in (None, DISTRICT):
        client = GeoReport(root, jurisdiction=jurisdiction, output_format=fmt)
        services = client.get_service_list()
        assert "other" in {s["service_code"] for s in services}
        definition = client.get_service_definition("other")
        attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
        attribute = attributes[0] if fmt == "json" else attributes
        assert attribute["code"] == "five_matters"

        one = client.get_service_request(code)
        assert one["service_request_id"] == code and one["status"] == "open" and one["service_code"] == "other"
        found = client.get_service_requests(service_request_id=code)
        found = found if isinstance(found, list) else [found]  # xmltodict: one element is a dict
        assert [r["service_request_id"] for r in found] == [code]
        recent = client.get_service_requests(service_code="other", status="open")
        recent = recent if isinstance(recent, list) else [recent]
        assert code in {r["service_request_id"] for r in recent}
        start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert client.get_service_requests(start_date=start, service_code="other")

    with pytest.raises(http.HTTPError) as failed:
        GeoReport(root, output_format=fmt).get_service_request("XA-2345-6789-ABCD")
    assert failed.value.response.status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_lists_never_carry_the_reporters_tracking_codes(client, posted, fmt):
    """A tracking code is the reporter's key to their case (and failed secrets lock it): a public
    list names reports by their public id instead."""
    res = client.get(f"{BASE}/requests.{fmt}")
    assert res.status_code == 200 and len(listed(res, fmt)) > 1
    assert not re.search(r"XA-[0-9A-Z]{4}-[0-9A-Z]{4}", res.text)
