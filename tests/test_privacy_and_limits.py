"""Reporter privacy, public tracking and rating, the audit log, rate and size limits,
security headers with the Content-Security-Policy, and CORS."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.main import create_app
from tests.cycle_support import CaseMaker, police_units

DISTRICT = "330503"
PHONE = "13912345678"
NAME = "王小明"


def _scalar(engine, query, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


@pytest.fixture(scope="module")
def place(engine) -> dict:
    """A point inside a grid, and the grid's street."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT ST_X(p) AS lon, ST_Y(p) AS lat, street FROM (
                SELECT ST_PointOnSurface(g.geom) AS p, c.parent_code AS street
                FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
                WHERE g.kind = 'grid' AND g.valid_to IS NULL ORDER BY ST_Area(g.geom) DESC LIMIT 1) x""")).one()
    return {"lon": row.lon, "lat": row.lat, "street": row.street}


def report(client, place, **extra) -> dict:
    body = {"category": "noise", "lon": place["lon"] + 0.000123, "lat": place["lat"] + 0.000123,
            "description": "夜间施工噪音", **extra}
    res = client.post("/api/incidents", json=body)
    assert res.status_code == 201, res.text
    return res.json()


@pytest.fixture(scope="module")
def case(client, place) -> dict:
    """A public report with the reporter's phone and name."""
    return report(client, place, contact=f"{NAME} {PHONE}")


@pytest.fixture(scope="module")
def dispatcher(make_user, login, place):
    return login(*make_user("dispatcher", place["street"]))


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def desk(client, engine, admin, place) -> CaseMaker:
    """Walks a report through the case cycle as an admin (to close it before a rating)."""
    unit, second = police_units(engine)
    return CaseMaker(client, admin, lon=place["lon"], lat=place["lat"], unit=unit, second_unit=second)


# --------------------------------------------------------------------------- reporter privacy

def test_contact_is_stored_encrypted(engine, case):
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT reporter_contact FROM incident WHERE id = :id"),
                           {"id": case["id"]}).scalar_one()
    raw = bytes(raw)
    assert raw, "the contact is stored"
    assert PHONE.encode() not in raw and NAME.encode() not in raw
    assert PHONE not in raw.decode("latin-1")


def test_contact_shown_to_in_scope_dispatcher_and_the_read_is_audited(client, engine, case, dispatcher):
    res = client.get(f"/api/incidents/{case['id']}", headers=dispatcher)
    assert res.status_code == 200
    assert res.json()["contact"] == f"{NAME} {PHONE}"
    assert _scalar(engine, """SELECT count(*) FROM audit_log WHERE action = 'read_contact'
                              AND entity = 'incident' AND entity_id = :id""", id=str(case["id"])) >= 1


def test_contact_never_in_public_list_or_analyst_views(client, case, dispatcher, make_user, login):
    assert PHONE not in json.dumps(case)  # the intake answer
    listing = client.get("/api/incidents", params={"limit": 20}, headers=dispatcher)
    assert listing.status_code == 200 and case["id"] in [f["id"] for f in listing.json()["features"]]
    assert PHONE not in listing.text and NAME not in listing.text

    analyst = login(*make_user("analyst", DISTRICT))
    for path in (f"/api/incidents/{case['id']}", "/api/incidents?limit=20"):
        res = client.get(path, headers=analyst)
        assert res.status_code == 200
        assert PHONE not in res.text and NAME not in res.text and "contact" not in res.text

    public = client.get(f"/api/public/incidents/{case['tracking_code']}",
                        headers={"X-Reporter-Token": case["reporter_token"]})
    assert public.status_code == 200
    assert PHONE not in public.text and NAME not in public.text and "contact" not in public.text


def test_contact_never_in_audit_log(engine, client, case, dispatcher):
    client.get(f"/api/incidents/{case['id']}", headers=dispatcher)
    with engine.connect() as conn:
        leaks = conn.execute(sa.text("""
            SELECT count(*) FROM audit_log
            WHERE concat_ws(' ', actor, entity_id, before::text, after::text, client) LIKE :p"""),
            {"p": f"%{PHONE}%"}).scalar_one()
        events = conn.execute(sa.text("SELECT count(*) FROM incident_event WHERE data::text LIKE :p OR note LIKE :p"),
                              {"p": f"%{PHONE}%"}).scalar_one()
    assert leaks == 0 and events == 0


# --------------------------------------------------------------------------- public tracking and rating

def test_public_tracking_needs_the_reporter_token(client, case):
    url = f"/api/public/incidents/{case['tracking_code']}"
    ok = client.get(url, headers={"X-Reporter-Token": case["reporter_token"]})
    assert ok.status_code == 200
    assert ok.json()["tracking_code"] == case["tracking_code"] and ok.json()["status"] == "received"
    wrong = client.get(url, headers={"X-Reporter-Token": case["reporter_token"][:-2] + "xx"})
    unknown = client.get("/api/public/incidents/XA-AAAA-AAAA-AAAA",
                         headers={"X-Reporter-Token": case["reporter_token"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json(), "a wrong token and an unknown code look the same"
    assert client.get(url).status_code == 422  # no token at all


def test_public_tracking_rounds_the_location(client, engine, case):
    doc = client.get(f"/api/public/incidents/{case['tracking_code']}",
                     headers={"X-Reporter-Token": case["reporter_token"]}).json()
    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(location), ST_Y(location) FROM incident WHERE id = :id"),
                                {"id": case["id"]}).one()
    assert round(doc["lon"], 3) == doc["lon"] and round(doc["lat"], 3) == doc["lat"]
    assert (doc["lon"], doc["lat"]) != (lon, lat)
    assert abs(doc["lon"] - lon) <= 0.0005 + 1e-9 and abs(doc["lat"] - lat) <= 0.0005 + 1e-9  # within ~55 m
    assert "description" not in doc and "reporter_token" not in json.dumps(doc)


def test_rating_only_when_closed_and_once(client, engine, place, desk):
    case = report(client, place)
    url = f"/api/public/incidents/{case['tracking_code']}/rating"
    token = {"X-Reporter-Token": case["reporter_token"]}
    early = client.post(url, json={"rating": 5}, headers=token)
    assert early.status_code == 409
    assert client.post(url, json={"rating": 5}, headers={"X-Reporter-Token": "wrong-token-123"}).status_code == 404

    desk.close_at_desk(case["id"])
    ok = client.post(url, json={"rating": 4, "comment": "处理及时"}, headers=token)
    assert ok.status_code == 200, ok.text
    again = client.post(url, json={"rating": 1}, headers=token)
    assert again.status_code == 409
    assert _scalar(engine, "SELECT rating FROM incident WHERE id = :id", id=case["id"]) == 4
    tracked = client.get(f"/api/public/incidents/{case['tracking_code']}", headers=token).json()
    assert tracked["rating"] == 4 and "rated" in [e["kind"] for e in tracked["events"]]


# --------------------------------------------------------------------------- audit log

def _audit(engine, **where) -> list:
    cond = " AND ".join(f"{k} = :{k}" for k in where)
    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT * FROM audit_log WHERE {cond} ORDER BY id"), where))


def test_every_write_is_audited(client, engine, place, admin, desk, make_user, login, settings):
    # incident create (anonymous: the actor is "public", the address is kept in its own column)
    case = report(client, place, contact=PHONE)
    (row,) = _audit(engine, entity="incident", entity_id=str(case["id"]), action="create")
    assert row.actor == "public" and row.at is not None and row.client == "testclient"
    assert row.after["tracking_code"] == case["tracking_code"] and row.before is None

    # rating
    desk.close_at_desk(case["id"])
    client.post(f"/api/public/incidents/{case['tracking_code']}/rating", json={"rating": 3},
                headers={"X-Reporter-Token": case["reporter_token"]})
    (row,) = _audit(engine, entity="incident", entity_id=str(case["id"]), action="rate")
    assert row.before == {"rating": None} and row.after == {"rating": 3}

    # unit position: before and after
    unit = _scalar(engine, "SELECT code FROM unit ORDER BY code LIMIT 1")
    old = _scalar(engine, "SELECT ST_X(position) FROM unit WHERE code = :c", c=unit)
    res = client.post(f"/api/units/{unit}/position", json={"lon": 120.43, "lat": 30.85, "status": "busy"},
                      headers=admin)
    assert res.status_code == 200
    row = _audit(engine, entity="unit", entity_id=unit, action="position")[-1]
    assert row.actor.startswith("t-admin-")
    assert row.before["lon"] == pytest.approx(old) and row.after["lon"] == pytest.approx(120.43)
    assert row.after["status"] == "busy"

    # login
    username, password = make_user("analyst", DISTRICT)
    login(username, password)
    (row,) = _audit(engine, actor=username, action="login")
    assert row.entity == "session" and row.entity_id

    # user grant (the service the CLI and admin tools call)
    from api.auth import users
    from tests import pg_support as pg

    pg.in_transaction(settings, lambda conn: users.grant(conn, username, "dispatcher", place["street"],
                                                         actor="auditor-test"))
    (row,) = _audit(engine, entity="user", entity_id=username, action="grant")
    assert row.actor == "auditor-test" and row.after == {"role": "dispatcher", "area_code": place["street"]}

    # the admin reads it through the API; nobody else may
    res = client.get("/api/admin/audit", params={"entity": "user", "entity_id": username}, headers=admin)
    assert res.status_code == 200 and res.json()[0]["action"] == "grant"


# --------------------------------------------------------------------------- rate limit

@pytest.fixture
def throttled(settings):
    app = create_app(settings.model_copy(update={"public_rate_per_minute": 5}))
    return app


def test_public_intake_is_rate_limited_per_client(throttled, place, make_user, login):
    staff = login(*make_user("grid_worker", DISTRICT))  # logged in through the unthrottled app
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"]}
    with TestClient(throttled, raise_server_exceptions=False) as c:
        codes = [c.post("/api/incidents", json=body).status_code for _ in range(6)]
        assert codes == [201] * 5 + [429]
        res = c.post("/api/incidents", json=body)
        assert res.status_code == 429
        assert res.headers["content-type"].startswith("application/json") and res.json()["detail"]
        # staff with a token are not throttled
        assert [c.post("/api/incidents", json=body, headers=staff).status_code for _ in range(8)] == [201] * 8
        # a stale token does not dodge the limit
        stale = {"Authorization": "Bearer not-a-token"}
        assert c.post("/api/incidents", json=body, headers=stale).status_code == 429
    # limits are per client: another address still gets through
    with TestClient(throttled, raise_server_exceptions=False, client=("198.51.100.7", 40000)) as other:
        assert other.post("/api/incidents", json=body).status_code == 201


def test_phones_behind_one_address_are_limited_one_by_one_under_a_ceiling(settings, place):
    """Carrier NAT: a whole neighbourhood shares one public address. Each phone (its
    X-Device-Secret) has its own bucket; the address has a much higher ceiling."""
    app = create_app(settings.model_copy(update={"public_rate_per_minute": 3, "public_ip_rate_per_minute": 8}))
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"]}
    phones = [{"X-Device-Secret": f"nat-phone-{i}-" + "n" * 30} for i in range(4)]
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 40000)) as c:
        first = [c.post("/api/incidents", json=body, headers=phones[0]).status_code for _ in range(4)]
        assert first == [201] * 3 + [429]  # one phone: its own rate
        second = [c.post("/api/incidents", json=body, headers=phones[1]).status_code for _ in range(3)]
        assert second == [201] * 3  # a neighbour behind the same address is not refused with it
        # the address's ceiling (8) holds whatever secrets a client makes up
        rest = [c.post("/api/incidents", json=body, headers=p).status_code for p in phones[2:] for _ in range(2)]
        assert rest == [201, 201, 429, 429], rest
        refused = c.post("/api/incidents", json=body, headers={"X-Device-Secret": "made-up-" + "z" * 30})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        bad = c.post("/api/incidents", json=body, headers={"X-Device-Secret": "short"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "X-Device-Secret"


def test_an_anonymous_idempotency_key_is_the_phones_own(client, place):
    """A key another phone used tells nothing: it makes a new report, not a 409 that shows the
    key exists; the same phone retrying gets its own report back."""
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"]}
    key = {"Idempotency-Key": "shared-key-00000001"}
    mine = {**key, "X-Device-Secret": "idem-phone-a-" + "a" * 30}
    theirs = {**key, "X-Device-Secret": "idem-phone-b-" + "b" * 30}
    first = client.post("/api/incidents", json=body, headers=mine)
    assert first.status_code == 201, first.text
    again = client.post("/api/incidents", json=body, headers=mine)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["reporter_token"] == first.json()["reporter_token"]
    other_body = client.post("/api/incidents", json={**body, "description": "another"}, headers=theirs)
    assert other_body.status_code == 201 and other_body.json()["id"] != first.json()["id"]
    clash = client.post("/api/incidents", json={**body, "description": "changed"}, headers=mine)
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "Idempotency-Key"


# --------------------------------------------------------------------------- size limit

def _incident_count(engine):
    return _scalar(engine, "SELECT count(*) FROM incident")


def test_oversized_body_is_refused_and_nothing_written(client, engine, place):
    before = _incident_count(engine)
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"], "description": "x" * 1_100_000}
    res = client.post("/api/incidents", json=body)
    assert res.status_code == 413
    assert res.headers["content-type"].startswith("application/json") and res.json()["detail"]
    assert _incident_count(engine) == before


def test_oversized_streamed_body_is_refused(client, engine, place):
    """Without a Content-Length (chunked upload) the limit still holds."""
    before = _incident_count(engine)
    payload = json.dumps({"category": "noise", "lon": place["lon"], "lat": place["lat"],
                          "description": "x" * 1_100_000}).encode()

    def chunks():
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i:i + 64 * 1024]

    res = client.post("/api/incidents", content=chunks(), headers={"Content-Type": "application/json"})
    assert res.status_code == 413, res.text
    assert res.json()["detail"]
    assert _incident_count(engine) == before


def test_body_under_the_limit_is_accepted(client, place):
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"], "description": "y" * 1999}
    assert client.post("/api/incidents", json=body).status_code == 201


# --------------------------------------------------------------------------- headers and CSP

def _csp(res) -> dict[str, list[str]]:
    out = {}
    for part in res.headers["content-security-policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", ["/", "/api/categories", "/api/auth/me", "/no-such-page"])
def test_security_headers(client, path):
    res = client.get(path)
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["x-frame-options"] == "DENY"
    assert res.headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin", "same-origin")
    csp = _csp(res)
    assert "'self'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("style-src", [])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert not any(s in ("*", "http:", "https:") for d in csp.values() for s in d)


def test_docs_page_is_the_only_inline_exception(client):
    res = client.get("/docs")
    assert res.status_code == 200
    assert "'unsafe-inline'" in _csp(res)["script-src"]  # Swagger UI boots from an inline script
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in res.text


class _PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts, self.handlers, self.styles, self.urls = 0, [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [k for k in attrs if k.startswith("on")]
        if "style" in attrs:
            self.styles.append(tag)
        if tag == "script":
            self._in_script = "src" not in attrs
            if "src" in attrs:
                self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href") and attrs.get("rel") in ("stylesheet", "modulepreload"):
            self.urls.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_map_page_works_under_its_csp(client):
    """Everything the page loads is same-origin and nothing is inline, so the strict CSP does not break it."""
    res = client.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    page = _PageAudit()
    page.feed(res.text)
    assert page.inline_scripts == 0, "inline <script> is blocked by script-src 'self'"
    assert page.handlers == [], "inline event handlers are blocked by the CSP"
    assert page.styles == [], "style attributes are blocked by style-src 'self'"
    assert page.urls
    for url in page.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not same-origin"
        asset = client.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
    for url in page.urls:
        if url.endswith(".js"):
            for imported in re.findall(r"""^\s*import\b[^'"]*['"]([^'"]+)['"]""", client.get(url).text, re.M):
                assert not re.match(r"(https?:)?//", imported), f"{url} imports {imported} from elsewhere"


# --------------------------------------------------------------------------- CORS

def test_cors_off_by_default(client):
    res = client.get("/api/categories", headers={"Origin": "https://evil.example"})
    assert res.status_code == 200
    assert "access-control-allow-origin" not in res.headers
    pre = client.options("/api/incidents", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_for_a_configured_origin(settings):
    app = create_app(settings.model_copy(update={"cors_origins": ["https://gov.example.cn"]}))
    with TestClient(app, raise_server_exceptions=False) as c:
        res = c.get("/api/categories", headers={"Origin": "https://gov.example.cn"})
        assert res.headers["access-control-allow-origin"] == "https://gov.example.cn"
        pre = c.options("/api/incidents", headers={"Origin": "https://gov.example.cn",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://gov.example.cn"
        other = c.get("/api/categories", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert "access-control-allow-credentials" not in res.headers
