"""Hostile values in every parameter of every operation: the answer is a 4xx JSON error (or a
success when the value happens to be acceptable), never a 5xx and never a non-JSON error.
Under /open311 the error body is the GeoReport v2 list instead (``open311_problem``).

The operations and their parameters come from the app's own /openapi.json (path, query and
header parameters, every property of JSON bodies and of each variant of a union body, and one
level inside them (a geometry's coordinates, a feature's id), every field of form bodies, every
column of a CSV body, the whole JSON body, and the bearer token), so a new route or parameter
is fuzzed without touching this file; a parameter in a place this file cannot fill (a cookie,
a new body media type) fails the run instead of being skipped. Each request is valid except for the one parameter under
attack: the valid examples below are built from the sample data, and
``test_valid_example_is_accepted`` proves each of them succeeds unchanged. Requests go as an
admin (passes authorisation and reaches the code); public operations are also sent
anonymously.

The values: a NUL character, a lone UTF-16 surrogate (``"\\ud800"`` as a JSON escape,
``%ED%A0%80`` in URLs and forms, the raw bytes in headers), invalid UTF-8 (``%FF``), a
10 kB string, huge numbers (±1e308, 10**400), non-finite numbers (NaN, ±Infinity as JSON
literals and as text), and every wrong JSON type (list, object, boolean, null, number,
string); and the shapes of issue 19 (``SHAPES``): lists and objects nested 500 and 1,000 deep,
a GeoJSON geometry whose coordinates are nested that deep, and a 200 kB string (past Python's
csv field limit of 131,072 in a CSV cell; well under the body limit as JSON). Header values go
through the in-process ASGI client as raw bytes, so NUL reaches the app even though a real
HTTP server would refuse it first.

Failures are collected per operation and reported at once: operation, parameter, value
kind, caller, status and an excerpt of the body.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts

from api.auth.access import rule_of
from api.main import create_app
from api.settings import Settings
from tests.calendar_support import statutory_schedule
from tests.cycle_support import ACTION_SETUP, CaseMaker, png_bytes
from tests.open311_support import issue_open311_key

DISTRICT = "330503"
PNG = png_bytes()
_APP = create_app(Settings(env="test"))  # only read: its OpenAPI document and its routes' rules
OPENAPI = _APP.openapi()
# Operations whose declared Access rule is public (as in test_access_matrix): also fuzzed anonymously.
# Not from the document: it lists the optional bearer scheme on every operation, public or not.
PUBLIC = {(m, ctx.path) for ctx in iter_route_contexts(_APP.router.routes) if hasattr(ctx, "dependant")
          and (rule := rule_of(ctx)) is not None and rule.public for m in ctx.methods or ()}


@dataclass(frozen=True)
class Value:
    """One hostile value in each of its wire forms."""

    json: bytes  # a JSON literal, spliced into the body as raw bytes
    url: str  # already percent-encoded, for paths, query strings and form bodies
    header: bytes  # raw header bytes


def _text(s: str) -> Value:
    return Value(json.dumps(s).encode(), quote(s, safe=""), s.encode())


def _literal(lit: str) -> Value:
    return Value(lit.encode(), quote(lit, safe=""), lit.encode())


HOSTILE: dict[str, Value] = {
    "nul": Value(b'"a\\u0000b"', "a%00b", b"a\x00b"),
    "nul_only": Value(b'"\\u0000"', "%00", b"\x00"),
    "lone_surrogate": Value(b'"a\\ud800b"', "a%ED%A0%80b", b"a\xed\xa0\x80b"),
    "invalid_utf8": Value(b'"a\xffb"', "a%FFb", b"a\xffb"),
    "10kB": _text("x" * 10_240),
    "huge": _literal("1e308"),
    "huge_negative": _literal("-1e308"),
    "beyond_float": _literal("1" + "0" * 400),
    "nan": _literal("NaN"),
    "infinity": _literal("Infinity"),
    "minus_infinity": _literal("-Infinity"),
    "list": Value(b"[1, 2]", quote("[1,2]", safe=""), b"[1,2]"),
    "object": Value(b'{"a": 1}', quote('{"a":1}', safe=""), b'{"a":1}'),
    "bool": _literal("true"),
    "null": Value(b"null", "", b""),
    "number": _literal("12345"),
    "string": Value(b'"abc"', "abc", b"abc"),
}

# Calendar extremes (issue 19), in every parameter like the values above, so no parameter that
# takes a time can answer one with a 500: the first and last instants Python holds, pushed past
# them by a ±14:00 offset once turned to UTC (or by a window's days), a five-digit year, dates
# far before the epoch, with and without a time of day.
CALENDAR_EXTREMES: dict[str, str] = {
    "year1_minus14": "0001-01-01T00:00:00-14:00",
    "year1_plus14": "0001-01-01T00:00:00+14:00",
    "year9999_minus14": "9999-12-31T23:59:59-14:00",
    "year9999_plus14": "9999-12-31T23:59:59+14:00",
    "year10000": "10000-01-01T00:00:00Z",
    "year1000": "1000-06-15T12:00:00+08:00",
    "year1_date": "0001-01-01",
    "year9999_date": "9999-12-31",
}
HOSTILE.update({f"calendar_{kind}": _text(text) for kind, text in CALENDAR_EXTREMES.items()})


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# Deep nesting and huge fields (issue 19): each reached a RecursionError or csv's field limit
# somewhere (shapely's GeoJSON reader, repr of a batch id, csv) and answered 500.
SHAPES: dict[str, Value] = {
    **{f"list_{n}_deep": _literal(_nested(n)) for n in (500, 1000)},
    **{f"object_{n}_deep": _literal('{"a":' * n + "1" + "}" * n) for n in (500, 1000)},
    **{f"coordinates_{n}_deep": _literal('{"type":"Polygon","coordinates":' + _nested(n, "120.4,30.8") + "}")
       for n in (500, 1000)},
    # in a URL only as much as httpx sends (64 kB; real servers refuse 8-16 kB before the app)
    "200kB": Value(json.dumps("x" * 200_000).encode(), "x" * 60_000, b"x" * 200_000),
}
HOSTILE.update(SHAPES)

# Where a parameter lives: OpenAPI "in" values plus the bodies and the token.
LOCATIONS = {"path", "query", "header", "json", "form", "multipart", "json_body", "bearer", "authorization", "csv"}
BODY_MEDIA = {"application/json": "json", "application/x-www-form-urlencoded": "form",
              "multipart/form-data": "multipart", "application/geo+json": "json",
              "text/csv": "csv"}  # a CSV body: its columns are the items' properties
BOUNDARY = "gridgov-fuzz-boundary"


def multipart(files: dict[str, bytes]) -> bytes:
    """A multipart/form-data body with each field as a file part (raw bytes, hostile or not)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="x.png"\r\n'
             f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n" for name, data in files.items()]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@dataclass
class Base:
    """A valid request for one operation: path values, query, headers, JSON or form body.

    ``fresh(where, name)``, when given, returns the base for one request (a new account, a
    new report, a new login): for operations whose valid context is used up or locked by a
    request (a rating is given once, failed secrets back off per username and per tracking
    code, a refresh token works once), so every request meets the same valid context.

    ``json_for`` gives a JSON body of one variant of a union (``oneOf``) for the properties
    only that variant has (a reshape's ``geometry``, a split's ``line``), so the hostile value
    reaches the code that reads it instead of an "extra field" refusal.
    """

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    files: dict[str, bytes] | None = None
    fresh: Callable[[str, str], Base] | None = None
    csv: dict[str, str] | None = None  # a valid CSV row (column -> cell), for a body that may be CSV
    json_for: dict[str, dict[str, Any]] = field(default_factory=dict)  # property -> the body that has it

    def for_request(self, where: str, name: str) -> Base:
        return self.fresh(where, name) if self.fresh else self


@pytest.fixture(scope="module")
def world(client, engine, make_user, login):
    with engine.connect() as conn:
        unit = conn.execute(sa.text(
            "SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1")).scalar_one()
        inc = conn.execute(sa.text("""SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat FROM incident
                                      WHERE grid_code IS NOT NULL ORDER BY id LIMIT 1""")).one()
    admin_account = make_user("admin", DISTRICT)
    point = {"lon": inc.lon, "lat": inc.lat}

    def new_case(resolved: bool = False) -> dict:
        res = client.post("/api/incidents", json={"category": "noise", **point})
        assert res.status_code == 201, res.text
        case = res.json()
        if resolved:  # a rating needs a closed case; the desk closes it through the API (no public route does)
            cases.close_at_desk(case["id"])
        return case

    def fresh_login(where: str, name: str) -> Base:
        user, password = make_user("dispatcher", DISTRICT)
        return Base(form={"username": user, "password": password})

    def fresh_refresh(where: str, name: str) -> Base:
        if (where, name) == ("json", "refresh_token") or where == "json_body":
            return Base(json={"refresh_token": "x" * 40})  # replaced by the hostile value: no login needed
        user, password = make_user("analyst", DISTRICT)
        res = client.post("/api/auth/token", data={"username": user, "password": password})
        assert res.status_code == 200, res.text
        return Base(json={"refresh_token": res.json()["refresh_token"]})

    def fresh_logout(where: str, name: str) -> Base:
        # Logout's only parameter is the bearer token: when it is under attack the hostile token
        # replaces any session. Otherwise (the valid example) a login of its own, never the run's.
        if where in ("bearer", "authorization"):
            return Base()
        return Base(headers=login(*make_user("admin", DISTRICT)))

    def fresh_case(resolved: bool) -> Callable[[str, str], Base]:
        def make(where: str, name: str) -> Base:
            case = new_case(resolved)
            return Base(path={"tracking_code": case["tracking_code"]},
                        headers={"X-Reporter-Token": case["reporter_token"]},
                        json={"rating": 4, "comment": "ok"} if resolved else None)
        return make

    admin = login(*admin_account)
    second = conn_scalar(engine, "SELECT code FROM unit WHERE department_code = 'police' AND code <> :u "
                                 "ORDER BY code LIMIT 1", u=unit)
    cases = CaseMaker(client, admin, lon=inc.lon, lat=inc.lat, unit=unit, second_unit=second, category="noise")
    target = cases.report()["id"]
    cases.bring(target, "dispatched")
    res = client.post(f"/api/incidents/{target}/attachments", files={"file": ("p.png", PNG, "image/png")},
                      headers=admin)
    assert res.status_code == 201, res.text
    photo = res.json()["sha256"]
    shared: dict[str, Base] = {}
    grid = conn_scalar(engine, "SELECT grid_code FROM incident WHERE id = :i", i=target)

    def fresh_photo_back(where: str, name: str) -> Base:
        case = new_case()
        sent = client.post(f"/api/public/incidents/{case['tracking_code']}/attachments", files={"file": (
            "p.png", PNG, "image/png")}, headers={"X-Reporter-Token": case["reporter_token"]})
        assert sent.status_code == 201, sent.text
        return Base(path={"tracking_code": case["tracking_code"], "sha256": sent.json()["sha256"]},
                    headers={"X-Reporter-Token": case["reporter_token"]})

    def fresh_me_too(where: str, name: str) -> Base:
        """A case /matches offers at the point, joined from a phone that has not joined it."""
        offered = client.get("/api/public/matches", params={**point, "category": "noise"}).json()["candidates"]
        return Base(path={"public_id": offered[0]["public_id"]}, json={"lon": point["lon"], "lat": point["lat"]},
                    headers={"X-Device-Secret": secrets.token_urlsafe(32)})

    def fresh_photo(where: str, name: str) -> Base:
        case = new_case()
        return Base(path={"tracking_code": case["tracking_code"]}, headers={"X-Reporter-Token": case["reporter_token"]},
                    files={"file": PNG})

    def action_case(action: str) -> Callable[[str, str], Base]:
        """The valid example gets a fresh case in the action's start state; the hostile requests
        share one (an accepted value moves it on, and later requests meet a proper 409)."""
        def make(where: str, name: str) -> Base:
            if where == "" or action not in shared:
                cid, body = cases.case_for(action)
                base = Base(path={"incident_id": str(cid)}, json=body)
                if where == "":
                    return base
                shared[action] = base
            return shared[action]
        return make

    bases = {
        ("POST", "/api/auth/token"): Base(fresh=fresh_login),
        ("POST", "/api/auth/refresh"): Base(fresh=fresh_refresh),
        ("POST", "/api/auth/logout"): Base(fresh=fresh_logout),
        ("GET", "/api/auth/me"): Base(),
        ("GET", "/api/categories"): Base(),
        ("GET", "/healthz"): Base(),
        ("GET", "/readyz"): Base(),
        ("GET", "/metrics"): Base(),
        ("GET", "/api/departments"): Base(),
        ("GET", "/api/areas"): Base(query={"kind": "street"}),
        ("GET", "/api/stations"): Base(),
        ("GET", "/api/units"): Base(),
        ("GET", "/api/route"): Base(query={**{k: str(v) for k, v in point.items()}, "category": "noise"}),
        ("POST", "/api/route/batch"): Base(json={"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
             "properties": {"id": "a"}}]}, csv={"lon": str(point["lon"]), "lat": str(point["lat"]), "id": "a"}),
        # No Idempotency-Key in the example (it is optional): with one, every accepted hostile
        # value would meet the first request's key (409) instead of the code that stores a report.
        ("POST", "/api/incidents"): Base(json={"category": "noise", **point}),
        ("GET", "/api/incidents"): Base(query={"limit": "2"}),
        ("GET", "/api/live"): Base(query={"once": "true"}, headers={"Last-Event-ID": "1"}),
        ("GET", "/api/heatmap"): Base(query={"zoom": "12", "category": "dispute", "status": "open",
                                             "from": "2026-01-01T00:00:00+08:00", "bbox": "120,30.5,120.6,31"}),
        ("GET", "/api/heatmap/warnings"): Base(query={"by": "grid", "min_count": "3"}),
        ("GET", "/api/heatmap/repeats"): Base(query={"days": "7", "radius_m": "30"}),
        ("GET", "/tiles/hexagons/{z}/{x}/{y}.pbf"): Base(path={"z": "11", "x": "1708", "y": "839"},
                                                         query={"category": "dispute"}),
        ("GET", "/tiles/{layer}/{z}/{x}/{y}.pbf"): Base(path={"layer": "grid", "z": "12", "x": "3416", "y": "1679"},
                                                        headers={"If-None-Match": '"x"'}),
        ("GET", "/tiles/{layer}.json"): Base(path={"layer": "street"}),
        ("GET", "/api/incidents/{incident_id}"): Base(path={"incident_id": str(inc.id)}),
        ("GET", "/api/public/incidents/{tracking_code}"): Base(fresh=fresh_case(resolved=False)),
        ("POST", "/api/public/incidents/{tracking_code}/rating"): Base(fresh=fresh_case(resolved=True)),
        ("POST", "/api/units/{code}/position"): Base(path={"code": unit}, json={**point, "accuracy_m": 10}),
        ("GET", "/api/admin/audit"): Base(query={"limit": "2"}),
        ("GET", "/api/admin/calendar"): Base(),
        ("POST", "/api/admin/calendar"): Base(json=statutory_schedule(2098)),  # a year far from every case
        # the command-room cycle
        ("GET", "/api/workflow/machine"): Base(),
        ("GET", "/api/desk/queue"): Base(query={"limit": "2", "status": "open"}),
        ("GET", "/api/desk/notifications"): Base(query={"limit": "2"}),
        ("GET", "/api/incidents/{incident_id}/recommendations"): Base(path={"incident_id": str(target)}),
        ("GET", "/api/incidents/{incident_id}/units"): Base(path={"incident_id": str(target)},
                                                            query={"q": "police", "department": "police"}),
        ("GET", "/api/incidents/{incident_id}/handover"): Base(path={"incident_id": str(target)}),
        ("GET", "/api/unit/tasks"): Base(),
        ("POST", "/api/incidents/{incident_id}/attachments"): Base(path={"incident_id": str(target)},
                                                                   files={"file": PNG}),
        ("GET", "/api/attachments/{sha256}"): Base(path={"sha256": photo}),
        ("GET", "/api/areas/{code}/poster.{fmt}"): Base(path={"code": grid, "fmt": "pdf"}),
        ("GET", "/api/public/where"): Base(query={k: str(v) for k, v in point.items()}),
        ("GET", "/api/public/grids/{code}"): Base(path={"code": grid}),
        ("GET", "/api/public/base"): Base(query={"zoom": "15", "bbox": ",".join(
            str(v) for v in (point["lon"] - 0.01, point["lat"] - 0.01, point["lon"] + 0.01, point["lat"] + 0.01))}),
        ("POST", "/api/public/incidents/{tracking_code}/attachments"): Base(fresh=fresh_photo),
        ("GET", "/api/public/incidents/{tracking_code}/photos/{sha256}"): Base(fresh=fresh_photo_back),
        ("GET", "/api/public/matches"): Base(query={**{k: str(v) for k, v in point.items()}, "category": "noise"}),
        ("POST", "/api/public/incidents/{public_id}/me-too"): Base(fresh=fresh_me_too),
        **{("POST", f"/api/incidents/{{incident_id}}/actions/{action}"): Base(fresh=action_case(action))
           for action in ACTION_SETUP},
    }
    bases.update(open311_bases(client, engine, point))
    bases.update(layer_bases(engine, grid))
    bases.update(edit_bases(engine, grid))
    admin = login(*admin_account)
    bases.update(survey_bases(client, admin))
    bases.update(place_bases(client, admin, point, grid))
    bases.update(kpi_bases(grid))
    bases.update(patrol_bases(client, admin, point, grid))
    bases.update(inspection_bases(client, engine, admin))
    bases.update(star_bases(client, admin, unit))
    return {"client": client, "bases": bases, "admin": admin}


FUZZ_STREET = "330503100"  # no other module's survey: periods of a street never overlap


def survey_bases(client, admin: dict[str, str]) -> dict[tuple[str, str], Base]:
    """Valid examples of the survey operations: a period open today on a street of its own, an
    answer from a new phone each time, a follow-up item; new periods on days of their own."""
    from datetime import timedelta

    from api import qr
    from api.surveys.answers import link_code
    from api.surveys.periods import today

    settings = client.app.state.settings
    day = today(settings)
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": FUZZ_STREET, "opens": str(day), "closes": str(day + timedelta(days=30))})
    assert res.status_code == 201, res.text
    period = str(res.json()["id"])
    res = client.post(f"/api/surveys/periods/{period}/followups", headers=admin, json={
        "indicator": "parking", "owner": "enforcement", "measures": "fuzz", "deadline": "2099-12-31"})
    assert res.status_code == 201, res.text
    item = str(res.json()["id"])
    sig = qr.signature(qr.keys_of(settings.qr_key).current, link_code(FUZZ_STREET))
    street = {"street": FUZZ_STREET}
    days = iter(range(1, 1_000_000))

    def fresh_period(where: str, name: str) -> Base:
        opens = day.replace(year=2150) + timedelta(days=3 * next(days) % 15000)
        return Base(json={"street": FUZZ_STREET, "opens": str(opens), "closes": str(opens + timedelta(days=1))})

    def fresh_answer(where: str, name: str) -> Base:
        return Base(path=street, json={"sig": sig, "scores": {"parking": 4, "dog_keeping": 2}},
                    headers={"X-Device-Secret": secrets.token_urlsafe(32)})

    return {
        ("GET", "/api/public/surveys/{street}"): Base(path=street, query={"sig": sig},
                                                      headers={"X-Device-Secret": secrets.token_urlsafe(32)}),
        ("POST", "/api/public/surveys/{street}/answers"): Base(fresh=fresh_answer),
        ("GET", "/api/public/surveys/{street}/scores"): Base(path=street),
        ("GET", "/api/public/surveys"): Base(query={"on": str(day)}),
        ("GET", "/api/surveys/ranking"): Base(query={"on": str(day)}),
        ("POST", "/api/surveys/periods"): Base(fresh=fresh_period),
        ("GET", "/api/surveys/periods/{period_id}/scores"): Base(path={"period_id": period}),
        ("POST", "/api/surveys/periods/{period_id}/followups"): Base(path={"period_id": period}, json={
            "indicator": "parking", "owner": "enforcement", "measures": "fuzz", "deadline": "2099-12-31"}),
        ("PATCH", "/api/surveys/followups/{followup_id}"): Base(path={"followup_id": item},
                                                                json={"status": "in_progress", "progress": "fuzz"}),
    }


def open311_bases(client, engine, point: dict) -> dict[tuple[str, str], Base]:
    """Valid examples of the Open311 operations: a client app's key and one request posted with it."""
    key = issue_open311_key(client.app.state.settings, f"fuzz-{id(client)}")
    form = {"api_key": key, "service_code": "noise", "lat": str(point["lat"]), "long": str(point["lon"])}
    res = client.post("/open311/v2/requests.json", data=form)
    assert res.status_code == 201, res.text
    posted = res.json()[0]
    fmt = {"fmt": "json"}
    return {
        ("GET", "/open311/v2/discovery.{fmt}"): Base(path=fmt),
        ("GET", "/open311/v2/services.{fmt}"): Base(path=fmt),
        ("GET", "/open311/v2/services/{service_code}.{fmt}"): Base(path={**fmt, "service_code": "other"}),
        ("GET", "/open311/v2/requests.{fmt}"): Base(path=fmt, query={"status": "open"}),
        ("POST", "/open311/v2/requests.{fmt}"): Base(path=fmt, form=form),
        ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): Base(
            path={**fmt, "service_request_id": posted["service_request_id"]}),
        ("GET", "/open311/v2/tokens/{token}.{fmt}"): Base(path={**fmt, "token": posted["token"]}),
    }


def layer_bases(engine, grid: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the OGC API and layer-file operations: the target incident's grid, and a
    dry-run import of it (unchanged) under its community."""
    with engine.connect() as conn:
        g = conn.execute(sa.text("SELECT code, name, parent_code, ST_AsGeoJSON(geom, 15) AS geom FROM area "
                                 "WHERE code = :c AND valid_to IS NULL"), {"c": grid}).one()
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": json.loads(g.geom),
                                                      "properties": {"code": g.code, "name": g.name}}]}
    items = {"collection_id": "grid"}
    return {
        ("GET", "/ogc"): Base(query={"f": "json"}),
        ("GET", "/ogc/conformance"): Base(query={"f": "json"}),
        ("GET", "/ogc/collections"): Base(),
        ("GET", "/ogc/collections/{collection_id}"): Base(path=items),
        ("GET", "/ogc/collections/{collection_id}/items"): Base(path=items, query={"limit": "2", "offset": "1"}),
        ("GET", "/ogc/collections/{collection_id}/items/{code}"): Base(path={**items, "code": g.code}),
        ("GET", "/api/areas/export"): Base(query={"layer": "grid", "parent": g.parent_code, "format": "geojson"}),
        ("POST", "/api/areas/import"): Base(query={"layer": "grid", "parent": g.parent_code, "dry_run": "true"},
                                            files={"file": json.dumps(doc).encode()}),
    }


def edit_bases(engine, grid: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the area-editing operations: the grid, its community, a rename of the
    grid (a save gets If-Match of the version current when it is sent); the preview also has a
    split (by a line and by a polygon), a reshape to its own outline, a merge with and a
    retirement into a neighbour and a roster, for the properties only those have."""
    parent = conn_scalar(engine, "SELECT parent_code FROM area WHERE code = :c AND valid_to IS NULL", c=grid)
    rename = {"op": "rename", "code": grid, "name": "fuzz"}
    with engine.connect() as conn:
        g = conn.execute(sa.text("""
            SELECT ST_AsGeoJSON(g.geom, 7) AS outline, ST_XMin(g.geom) AS x0, ST_YMin(g.geom) AS y0,
                   ST_XMax(g.geom) AS x1, ST_YMax(g.geom) AS y1, ST_X(ST_PointOnSurface(g.geom)) AS x,
                   (SELECT n.code FROM area n WHERE n.parent_code = g.parent_code AND n.kind = g.kind
                      AND n.valid_to IS NULL AND n.code <> g.code
                      AND ST_Length(ST_Intersection(ST_Boundary(n.geom), ST_Boundary(g.geom))) > 0
                    ORDER BY n.code LIMIT 1) AS neighbour
            FROM area g WHERE g.code = :c AND g.valid_to IS NULL"""), {"c": grid}).one()
    split = {"op": "split", "code": grid, "line": {"type": "LineString", "coordinates": [
        [g.x, g.y0 - 0.001], [g.x + 1e-5, g.y1 + 0.001]]}}
    by_polygon = {"op": "split", "code": grid, "polygon": {"type": "Polygon", "coordinates": [[
        [g.x0 - 0.001, g.y0 - 0.001], [g.x, g.y0 - 0.001], [g.x, g.y1 + 0.001], [g.x0 - 0.001, g.y1 + 0.001],
        [g.x0 - 0.001, g.y0 - 0.001]]]}}
    reshape = {"op": "reshape", "code": grid, "geometry": json.loads(g.outline)}
    variants = {"line": split, "names": split, "polygon": by_polygon, "geometry": reshape, "freed": reshape,
                "codes": {"op": "merge", "codes": [grid, g.neighbour]},
                "to": {"op": "retire", "code": grid, "to": [g.neighbour]},
                "attributes": {"op": "attributes", "code": grid, "attributes": {"leader": "fuzz"}}}

    def fresh_save(where: str, name: str) -> Base:
        version = conn_scalar(engine, "SELECT version FROM area WHERE code = :c AND valid_to IS NULL", c=grid)
        return Base(json=rename, headers={"If-Match": f'"{grid}@{version}"'})

    return {
        ("GET", "/api/areas/{code}"): Base(path={"code": grid}),
        ("GET", "/api/areas/{code}/history"): Base(path={"code": grid}),
        ("GET", "/api/areas/{code}/validation"): Base(path={"code": parent}),
        ("POST", "/api/areas/edits/preview"): Base(json=rename, json_for=variants),
        ("POST", "/api/areas/edits"): Base(fresh=fresh_save),
    }


def place_bases(client, admin: dict[str, str], point: dict, grid: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the places register: a new place per request where one is used up (a
    code is created once, a retired place is gone), one kept place to read and change."""
    counter = iter(range(10**9))

    def new_place() -> dict:
        return {"code": f"FZ-{secrets.token_hex(4)}-{next(counter)}", "category": "shop", "name": "fuzz shop",
                "contact": "13800000000", "licences": ["A1"], "risk_level": "low", **point}

    def made() -> str:
        res = client.post("/api/places", headers=admin, json=new_place())
        assert res.status_code == 201, res.text
        return res.json()["code"]

    kept = made()
    layer = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": "FZ-FILE", "name": "fuzz", "category": "shop"},
        "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]}}]}
    return {
        ("GET", "/api/places"): Base(query={"limit": "2", "category": "shop", "risk": "low", "area": grid, "q": "fuzz",
                                            "bbox": "120,30.5,120.6,31"}),
        ("POST", "/api/places"): Base(fresh=lambda where, name: Base(json=new_place())),
        ("POST", "/api/places/import"): Base(files={"file": json.dumps(layer).encode()}),
        ("GET", "/api/places/export"): Base(query={"format": "geojson", "area": grid, "category": "shop"}),
        ("GET", "/api/places/aggregates"): Base(query={"area": grid}),
        ("PUT", "/api/places/aggregates/{grid}"): Base(path={"grid": grid}, json={
            "as_of": "2026-11-30", "source": "fuzz", "households": 1, "registered_residents": 2,
            "non_local_residents": 3, "elderly_alone": 0}),
        ("GET", "/api/places/{code}"): Base(path={"code": kept}),
        ("PATCH", "/api/places/{code}"): Base(path={"code": kept}, json={"risk_level": "medium", "name": "fuzz"}),
        ("DELETE", "/api/places/{code}"): Base(fresh=lambda where, name: Base(path={"code": made()},
                                                                              query={"reason": "fuzz"})),
        ("GET", "/api/places/{code}/history"): Base(path={"code": kept}),
        ("GET", "/tiles/places/{z}/{x}/{y}.pbf"): Base(path={"z": "12", "x": "3416", "y": "1679"},
                                                       query={"category": "shop"}, headers={"If-None-Match": '"x"'}),
    }


def patrol_bases(client, admin: dict[str, str], point: dict, grid: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the patrols: a new open patrol of the admin's for every write (its open one
    ended first), a fix at the target's point now; one ended patrol to read."""
    from datetime import datetime

    def open_patrol() -> int:
        res = client.post("/api/patrols", headers=admin, json={"grid": grid})
        if res.status_code == 409:
            client.post(f"/api/patrols/{res.json()['open_patrol']}/end", headers=admin)
            res = client.post("/api/patrols", headers=admin, json={"grid": grid})
        assert res.status_code == 201, res.text
        return res.json()["id"]

    def none_open(where: str, name: str) -> Base:
        client.post(f"/api/patrols/{open_patrol()}/end", headers=admin)
        return Base(json={"grid": grid})

    def fix() -> dict:
        return {**point, "accuracy": 8, "at": datetime.now().astimezone().isoformat()}

    kept = open_patrol()
    assert client.post(f"/api/patrols/{kept}/positions", headers=admin, json={"positions": [fix()]}).status_code == 200
    assert client.post(f"/api/patrols/{kept}/end", headers=admin).status_code == 200
    window = {"area": grid, "from": "2026-01-01", "to": "2100-01-01"}
    return {
        ("POST", "/api/patrols"): Base(fresh=none_open),
        ("GET", "/api/patrols"): Base(query={**window, "limit": "5", "worker": "someone"}),
        ("GET", "/api/patrols/coverage"): Base(query={**window, "by": "week"}),
        ("GET", "/api/patrols/stale"): Base(query={"area": grid, "days": "7"}),
        ("GET", "/api/patrols/{patrol_id}"): Base(path={"patrol_id": str(kept)}),
        ("POST", "/api/patrols/{patrol_id}/positions"): Base(fresh=lambda where, name: Base(
            path={"patrol_id": str(open_patrol())}, json={"positions": [fix()]})),
        ("POST", "/api/patrols/{patrol_id}/end"): Base(fresh=lambda where, name: Base(
            path={"patrol_id": str(open_patrol())})),
        ("POST", "/api/patrols/{patrol_id}/reports"): Base(fresh=lambda where, name: Base(
            path={"patrol_id": str(open_patrol())}, json={**point, "accuracy_m": 5, "category": "garbage",
                                                          "description": "fuzz", "priority": "normal",
                                                          "settled_on_spot": False, "note": "fuzz"})),
    }


def inspection_bases(client, engine, admin: dict[str, str]) -> dict[tuple[str, str], Base]:
    """Valid examples of the joint inspections: plans of a zone's fire unit, each for a day of its own;
    a visit arrived at for arriving, photos and checks (a fresh one for the valid check: a department
    checks a visit once; the hostile ones meet the shared one)."""
    zone, station = "330503-Z07", "330503-S07"
    with engine.connect() as conn:
        fire = conn.execute(sa.text("SELECT code FROM unit WHERE station_code = :s AND department_code = 'fire' "
                                    "ORDER BY code LIMIT 1"), {"s": station}).scalar_one()
        lon, lat = conn.execute(sa.text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM area "
                                        "WHERE code = :z AND valid_to IS NULL) q"), {"z": zone}).one()
    days = iter(range(400, 10**6))

    def plan_body() -> dict[str, Any]:
        return {"zone": zone, "day": str(date.today() + timedelta(days=next(days))), "team": [fire]}

    def visit() -> int:
        code = f"FZ-I{secrets.token_hex(5)}"
        res = client.post("/api/places", headers=admin, json={"code": code, "category": "restaurant",
                                                               "name": "fuzz inspected", "lon": lon, "lat": lat})
        assert res.status_code == 201, res.text
        res = client.post("/api/inspections/plans", headers=admin, json=plan_body())
        assert res.status_code == 201, res.text
        vid = next(v["id"] for v in res.json()["visits"] if v["place"]["code"] == code)
        res = client.post(f"/api/inspections/visits/{vid}/arrive", headers=admin, json={"lon": lon, "lat": lat})
        assert res.status_code == 200, res.text
        return vid

    shared = visit()
    answers = {"exits_clear": True, "extinguishers_valid": True, "wiring_safe": True, "extinguisher_count": 2,
               "gas_cylinders_safe": True}
    item = {"key": "exits_clear", "zh": "安全出口畅通", "en": "Exits clear", "kind": "yes_no"}
    return {
        ("GET", "/api/inspections/checklists"): Base(query={"department": "fire", "category": "shop",
                                                            "history": "true"}),
        ("POST", "/api/inspections/checklists"): Base(json={"checklists": [{
            "department": "fire", "category": "other", "case_category": "fire_hazard", "items": [item]}]}),
        ("GET", "/api/inspections/due"): Base(query={"zone": zone, "day": str(date.today() + timedelta(days=1)),
                                                     "team": fire}),
        ("POST", "/api/inspections/plans"): Base(fresh=lambda where, name: Base(json=plan_body())),
        ("GET", "/api/inspections/plans"): Base(query={"zone": zone, "day": str(date.today())}),
        ("GET", "/api/inspections/plans/{plan_id}"): Base(path={"plan_id": str(conn_scalar(
            engine, "SELECT plan_id FROM inspection_visit WHERE id = :v", v=shared))}),
        ("GET", "/api/inspections/visits"): Base(query={"day": str(date.today())}),
        ("POST", "/api/inspections/visits/{visit_id}/arrive"): Base(path={"visit_id": str(shared)},
                                                                    json={"lon": lon, "lat": lat, "accuracy_m": 5}),
        ("POST", "/api/inspections/visits/{visit_id}/photos"): Base(path={"visit_id": str(shared)},
                                                                    files={"file": png_bytes()}),
        ("POST", "/api/inspections/visits/{visit_id}/checks"): Base(fresh=lambda where, name: Base(
            path={"visit_id": str(visit() if where == "" else shared)},
            json={"department": "fire", "answers": answers, "findings": "fuzz", "photos": []})),
        ("GET", "/api/inspections/figures"): Base(query={"zone": zone, "from": "2026-01-01", "to": "2026-12-31"}),
    }


def kpi_bases(grid: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the KPI operations: a quarter of the sample's year over one grid."""
    window = {"from": "2026-01-01", "to": "2026-04-01", "area": grid, "category": "noise", "department": "police"}
    return {
        ("GET", "/api/kpis"): Base(query=window),
        ("GET", "/api/kpis.{fmt}"): Base(path={"fmt": "csv"}, query=window),
        ("GET", "/api/kpis/definitions"): Base(),
        ("GET", "/api/kpis/areas"): Base(query={**window, "level": "street"}),
        ("GET", "/api/kpis/{key}/series"): Base(path={"key": "closure_rate"}, query={**window, "by": "month"}),
        ("GET", "/api/reports/monthly.{fmt}"): Base(path={"fmt": "html"}, query={"area": grid, "month": "2026-03"}),
        ("GET", "/api/public/disclosure"): Base(query={"month": "2026-03"}),
        ("GET", "/api/public/disclosure/streets"): Base(),
        ("GET", "/api/kpis/categories"): Base(query=window),
        ("GET", "/api/kpis/series"): Base(query={**window, "by": "week"}),
        ("GET", "/api/kpis/{key}/histogram"): Base(path={"key": "response_time"}, query=window),
        ("GET", "/api/kpis/{key}/cases"): Base(path={"key": "closure_rate"},
                                               query={**window, "part": "denominator", "limit": "5", "offset": "0"}),
    }


def star_bases(client, admin: dict[str, str], unit: str) -> dict[tuple[str, str], Base]:
    """Valid examples of the star ratings operations: the sample's October 2026 (computed once for
    the adjustment's rating), an empty month to compute, the default configuration."""
    from api.stars.config import default_document

    month = "2026-10"

    def fresh_adjustment(where: str, name: str) -> Base:
        def rated():
            res = client.get("/api/stars", params={"month": month}, headers=admin)
            assert res.status_code == 200, res.text
            return [r for r in res.json()["ratings"] if r["rated"]]

        found = rated()
        if not found:
            assert client.post("/api/stars/compute", json={"month": month}, headers=admin).status_code == 200
            found = rated()
        return Base(path={"rating_id": str(found[0]["id"])}, json={"stars": 4, "reason": "checked on the ground"})

    return {
        ("GET", "/api/stars"): Base(query={"month": month, "kind": "station"}),
        ("GET", "/api/stars/{kind}/{code}/history"): Base(path={"kind": "unit", "code": unit}),
        ("POST", "/api/stars/{rating_id}/adjustment"): Base(fresh=fresh_adjustment),
        ("POST", "/api/stars/compute"): Base(json={"month": "2025-01", "district": "330503"}),
        ("GET", "/api/stars/config/{district}"): Base(path={"district": "330503"}),
        ("PUT", "/api/stars/config/{district}"): Base(path={"district": "330503"}, json=default_document()),
    }


def conn_scalar(engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar_one()


def operations() -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, ops in OPENAPI["paths"].items() for method, op in ops.items()]


def _schema(ref_or_schema: dict) -> dict:
    if "$ref" in ref_or_schema:
        return OPENAPI["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def _properties(schema: dict) -> dict[str, dict]:
    """Properties of an object schema and of every variant of a union (``oneOf``/``anyOf``)."""
    schema = _schema(schema)
    out = dict(schema.get("properties", {}))
    for variant in schema.get("oneOf", []) + schema.get("anyOf", []):
        for name, sub in _properties(variant).items():
            out.setdefault(name, sub)
    return out


def _inner(name: str, schema: dict) -> list[str]:
    """Names one level inside a JSON property: ``geometry.coordinates``, ``features.0.id``."""
    schema = _schema(schema)
    items = [_schema(v) for v in [schema] + schema.get("anyOf", []) if _schema(v).get("type") == "array"]
    if items:
        return [f"{name}.0.{sub}" for sub in _properties(items[0].get("items", {}))]
    return [f"{name}.{sub}" for sub in _properties(schema)]


def targets(op: dict) -> list[tuple[str, str]]:
    """(location, name) of every parameter of the operation, the whole JSON body and the token;
    JSON properties also one level in (the coordinates of a geometry, the id of a feature)."""
    out = [(p["in"], p["name"]) for p in op.get("parameters", [])]
    for media, content in op.get("requestBody", {}).get("content", {}).items():
        where = BODY_MEDIA.get(media, f"unsupported body {media}")
        schema = _schema(content["schema"])
        schema = _schema(schema.get("items", {})) if where == "csv" else schema
        names = [n for name, sub in _properties(schema).items()
                 for n in [name, *(_inner(name, sub) if where == "json" else [])]]
        out += [(where, name) for name in names if (where, name) not in out]
        if where == "json" and ("json_body", "(whole body)") not in out:
            out.append(("json_body", "(whole body)"))
    if op.get("security"):
        out += [("bearer", "Authorization"), ("authorization", "Authorization")]  # "Bearer <v>" and bare <v>
    return out


def callers_of(method: str, path: str, where: str) -> list[str]:
    if where in ("bearer", "authorization"):
        return ["token"]  # the hostile token replaces the caller's: one caller is enough
    return ["admin", "anonymous"] if (method, path) in PUBLIC else ["admin"]


MARKER = "<fuzz value>"


def _placed(doc: Any, keys: list[str], marker: str) -> Any:
    """A copy of ``doc`` with ``marker`` at the path ``keys`` (list indexes as digits); made where missing."""
    if not keys:
        return marker
    key, rest = keys[0], keys[1:]
    if isinstance(doc, list) and key.isdigit():
        copy = list(doc) or [{}]
        copy[int(key)] = _placed(copy[int(key)], rest, marker)
        return copy
    copy = dict(doc) if isinstance(doc, dict) else {}
    copy[key] = _placed(copy.get(key, {}), rest, marker)
    return copy


def request_for(base: Base, path: str, where: str, name: str, value: Value, auth: dict[str, str]) -> dict:
    """The keyword arguments of one request: ``base`` with the one parameter set to ``value``."""
    url = path
    for key, v in base.path.items():
        url = url.replace("{" + key + "}", value.url if (where, key) == ("path", name) else quote(v, safe=""))
    if where == "path":
        url = url.replace("{" + name + "}", value.url)
    pairs = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in base.query.items()
             if (where, k) != ("query", name)]
    if where == "query":
        pairs.append(f"{quote(name, safe='')}={value.url}")
    if pairs:
        url += "?" + "&".join(pairs)

    headers: dict[str, str | bytes] = {**auth, **base.headers}
    if where == "header":
        headers[name] = value.header
    elif where == "bearer":
        headers["Authorization"] = b"Bearer " + value.header
    elif where == "authorization":
        headers["Authorization"] = value.header

    content = None
    if where == "csv":
        cells = [value.header if column == name else cell.encode() for column, cell in base.csv.items()]
        quoted = b",".join(b'"' + c.replace(b'"', b'""') + b'"' for c in cells)
        return {"url": url, "headers": {**headers, "Content-Type": "text/csv"},
                "content": ",".join(base.csv).encode() + b"\n" + quoted + b"\n"}
    if where == "json_body":
        content = value.json
    elif base.json is not None or where == "json":
        body = base.json_for.get(name.split(".")[0], base.json) if where == "json" else base.json
        kept = {k: v for k, v in (body or {}).items() if (where, k) != ("json", name)}
        content = json.dumps(kept).encode()
        if where == "json" and "." in name:  # inside a property: a marker in its place, then the raw bytes
            content = json.dumps(_placed(body or {}, name.split("."), MARKER)).encode().replace(
                json.dumps(MARKER).encode(), value.json)
        elif where == "json":
            content = content[:-1] + (b", " if kept else b"") + json.dumps(name).encode() + b": " + value.json + b"}"
    elif base.files is not None:
        files = {**base.files, **({name: value.header} if where == "multipart" else {})}
        return {"url": url, "headers": {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                "content": multipart(files)}
    elif base.form is not None or where == "form":
        kept = {k: v for k, v in (base.form or {}).items() if (where, k) != ("form", name)}
        content = "&".join(filter(None, [urlencode(kept), f"{quote(name, safe='')}={value.url}"
                                         if where == "form" else ""])).encode()
    if content is not None:
        headers["Content-Type"] = "application/json" if base.form is None and where != "form" \
            else "application/x-www-form-urlencoded"
    return {"url": url, "headers": headers, "content": content}


def problem_with(res, path: str = "") -> str | None:
    """What is wrong with an answer to a hostile request (None: a 2xx/3xx, or a proper 4xx JSON error)."""
    excerpt = res.content[:300].decode("utf-8", "replace")
    if res.status_code >= 500:
        return f"{res.status_code} {excerpt}"
    if res.status_code < 400:
        return None
    if path.startswith("/open311/"):
        return open311_problem(res, excerpt)
    ctype = res.headers.get("content-type", "")
    if ctype.split(";")[0].strip() != "application/json":
        return f"{res.status_code} with content-type {ctype!r}: {excerpt}"
    try:
        body = res.json()
    except ValueError:
        return f"{res.status_code} with a body that is not JSON: {excerpt}"
    if not (isinstance(body, dict) and isinstance(body.get("detail"), str) and isinstance(body.get("errors"), list)):
        return f"{res.status_code} without the error body {{detail, errors}}: {excerpt}"
    if res.status_code == 422:
        if not body["errors"] or not all(isinstance(e, dict) and isinstance(e.get("field"), str) and e["field"]
                                         for e in body["errors"]):
            return f"422 that names no field: {excerpt}"
    return None


def open311_problem(res, excerpt: str) -> str | None:
    """Under /open311 errors take the GeoReport v2 body instead of the app's (a standard its clients
    parse): a JSON list of {code, description} (XML <errors> for .xml paths, in tests/test_open311.py),
    the code being the status, 400 for bad input (the spec knows no 422)."""
    if res.status_code == 422:
        return f"422 under /open311 (the spec answers bad input with 400): {excerpt}"
    if res.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return f"{res.status_code} with content-type {res.headers.get('content-type')!r}: {excerpt}"
    try:
        body = res.json()
    except ValueError:
        return f"{res.status_code} with a body that is not JSON: {excerpt}"
    if not (isinstance(body, list) and body and all(
            isinstance(e, dict) and e.get("code") == res.status_code and isinstance(e.get("description"), str)
            and e["description"] for e in body)):
        return f"{res.status_code} without the GeoReport v2 error list [{{code, description}}]: {excerpt}"
    return None


OPS = operations()
IDS = [f"{m} {p}" for m, p, _ in OPS]


def test_every_operation_has_a_valid_example_and_known_parameter_places(world):
    assert {(m, p) for m, p, _ in OPS} == set(world["bases"]), "add a valid example for the new operation"
    unknown = [(m, p, where, name) for m, p, op in OPS for where, name in targets(op) if where not in LOCATIONS]
    assert not unknown, f"parameters this file cannot fill yet (teach request_for): {unknown}"
    assert PUBLIC & {(m, p) for m, p, _ in OPS}, "no public operation found: the anonymous runs would be empty"


@pytest.mark.parametrize("method,path,op", OPS, ids=IDS)
def test_valid_example_is_accepted(world, method, path, op):
    """The hostile requests differ from this one in one parameter only; it must itself succeed."""
    client = world["client"]
    for caller in callers_of(method, path, ""):
        base = world["bases"][(method, path)].for_request("", "")
        auth = world["admin"] if caller == "admin" else {}
        if base.headers.get("Authorization"):
            auth = {}
        kwargs = request_for(base, path, "", "", HOSTILE["string"], auth)
        res = client.request(method, **kwargs)
        assert res.status_code < 300, f"{caller}: {res.status_code} {res.text[:300]}"
        for variant in {id(b): b for b in base.json_for.values()}.values():  # each union variant as it is
            res = client.request(method, **request_for(replace(base, json=variant), path, "", "", HOSTILE["string"],
                                                       auth))
            assert res.status_code < 300, f"{caller} {variant.get('op')}: {res.status_code} {res.text[:300]}"
        if base.csv is not None:  # the same request as CSV: a cell under attack is sent quoted, so is this
            column = next(iter(base.csv))
            res = client.request(method, **request_for(base, path, "csv", column, _text(base.csv[column]), auth))
            assert res.status_code < 300, f"{caller} as CSV: {res.status_code} {res.text[:300]}"


@pytest.mark.parametrize("method,path,op", OPS, ids=IDS)
def test_hostile_values_in_every_parameter(world, method, path, op):
    client, base = world["client"], world["bases"][(method, path)]
    failures, sent = [], 0
    for where, name in targets(op):
        for kind, value in HOSTILE.items():
            for caller in callers_of(method, path, where):
                one = base.for_request(where, name)
                auth = world["admin"] if caller == "admin" else {}
                if one.headers.get("Authorization"):
                    auth = {}  # the example brings its own session (logout)
                kwargs = request_for(one, path, where, name, value, auth)
                res = client.request(method, **kwargs)
                sent += 1
                problem = problem_with(res, path)
                if problem:
                    failures.append(f"{where} {name} = {kind} as {caller}: {problem}")
    assert sent > 0
    assert not failures, f"{method} {path}: {len(failures)} bad answers of {sent}:\n  " + "\n  ".join(failures)
