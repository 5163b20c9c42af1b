"""The route × role matrix: every route of the app, called by every kind of caller.

The expected table is the explicit ``RULES`` dict below, not the code under test: a new
route without an entry, a route that lost its ``Access`` rule, or a rule that changed
without this table changing all fail here. Each route is then called with valid minimal
parameters by

* each role (admin, dispatcher, grid_manager, grid_worker, officer, analyst, operator, leader), every one
  granted over the district ``330503`` (the officer linked to a police unit),
* an out-of-scope dispatcher (granted over another street than the target incident and unit),
* a user with an account but no grants,
* anonymous callers, and callers with an expired, a forged and a garbage token,

and must answer: public routes succeed for everybody (never 401/403); protected routes
give 401 without a usable token, 403 to roles outside the rule, the route's success
status to roles in it, and 404 (not 403) to an in-role caller reaching for an object
outside its scope.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from api.auth import tokens
from api.auth.access import Access, rule_of
from tests.calendar_support import statutory_schedule
from tests.cycle_support import CaseMaker, png_bytes
from tests.open311_support import issue_open311_key

DISTRICT = "330503"
PNG = png_bytes()
# operator: the monitoring's account, which reads /metrics and nothing else (every other route: 403)
# leader (领导): reads KPIs, surveys and star ratings, adjusts star ratings; a session, nothing of the desks
ROLES = ("admin", "dispatcher", "grid_manager", "grid_worker", "officer", "analyst", "operator", "leader")
STAFF = frozenset(ROLES) - {"operator", "leader"}
SESSIONS = STAFF | {"leader"}  # session
PUBLIC = "public"
DESKS = frozenset({"admin", "dispatcher", "grid_worker"})  # grid workers: the desk of grid-tier matters
SENDERS = frozenset({"admin", "dispatcher"})  # sending units needs seeing them
UNIT_STEPS = frozenset({"admin", "dispatcher", "officer"})  # dispatchers record steps reported by radio
VERIFIERS = frozenset({"admin", "dispatcher", "grid_worker"})
SUPERVISORS = frozenset({"admin", "dispatcher", "analyst"})
KPI_READERS = frozenset({"admin", "dispatcher", "analyst", "grid_manager", "leader"})  # read_kpis
# officers navigate by the map
MAP_READERS = frozenset({"admin", "dispatcher", "grid_manager", "grid_worker", "analyst", "officer"})
SURVEY_READERS = frozenset({"admin", "dispatcher", "grid_manager", "analyst", "leader"})  # read_surveys
STAR_READERS = frozenset({"admin", "leader", "dispatcher", "analyst", "grid_manager"})  # read_stars
STAR_ADJUSTERS = frozenset({"admin", "leader"})  # adjust_stars
SURVEY_MANAGERS = frozenset({"admin", "analyst"})  # manage_surveys
PLACE_READERS = MAP_READERS - {"officer"}  # read_places: the ground every desk of the area knows
PLACE_EDITORS = frozenset({"admin", "grid_manager", "grid_worker"})  # edit_places
PATROLLERS = frozenset({"admin", "grid_worker"})  # report_patrol: the worker on patrol
# read_patrol_tracks: supervisors over the grid, and the worker their own
TRACK_READERS = frozenset({"admin", "dispatcher", "grid_manager", "grid_worker"})
INSPECTION_READERS = frozenset({"admin", "dispatcher", "analyst", "grid_manager"})  # read_inspections
INSPECTION_PLANNERS = frozenset({"admin", "dispatcher"})  # plan_inspections
INSPECTION_WORKERS = frozenset({"admin", "dispatcher", "officer"})  # work_inspections (officers: their team's)
CHECKLIST_MANAGERS = frozenset({"admin", "analyst"})  # manage_checklists

# (method, path) -> PUBLIC or the exact set of roles the route admits (admin included).
RULES: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", "/api/auth/token"): PUBLIC,
    ("POST", "/api/auth/refresh"): PUBLIC,
    ("POST", "/api/auth/logout"): SESSIONS,
    ("GET", "/api/auth/me"): SESSIONS,
    ("GET", "/api/categories"): PUBLIC,
    ("GET", "/api/departments"): PUBLIC,
    ("GET", "/api/areas"): MAP_READERS,
    ("GET", "/api/stations"): MAP_READERS,
    ("GET", "/api/units"): frozenset({"admin", "dispatcher", "officer"}),
    ("GET", "/api/route"): frozenset({"admin", "dispatcher", "grid_manager", "grid_worker"}),
    ("POST", "/api/route/batch"): frozenset({"admin", "dispatcher", "grid_manager", "grid_worker"}),
    ("POST", "/api/incidents"): PUBLIC,
    ("GET", "/api/incidents"): STAFF,
    ("GET", "/api/live"): STAFF,  # the stream is cut to the catch-up (once) here; tests/test_live.py holds real ones
    ("GET", "/api/heatmap"): STAFF,
    ("GET", "/api/heatmap/warnings"): STAFF,
    ("GET", "/api/heatmap/repeats"): STAFF,
    ("GET", "/api/kpis"): KPI_READERS,
    ("GET", "/api/kpis.{fmt}"): KPI_READERS,
    ("GET", "/api/kpis/definitions"): KPI_READERS,
    ("GET", "/api/kpis/areas"): KPI_READERS,
    ("GET", "/api/kpis/{key}/series"): KPI_READERS,
    ("GET", "/api/kpis/categories"): KPI_READERS,
    ("GET", "/api/kpis/series"): KPI_READERS,
    ("GET", "/api/kpis/{key}/histogram"): KPI_READERS,
    ("GET", "/api/kpis/{key}/cases"): KPI_READERS,
    ("GET", "/api/reports/monthly.{fmt}"): KPI_READERS,
    ("GET", "/tiles/hexagons/{z}/{x}/{y}.pbf"): STAFF,
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.pbf"): MAP_READERS,
    ("GET", "/tiles/{layer}.json"): MAP_READERS,
    ("GET", "/api/incidents/{incident_id}"): STAFF,
    ("GET", "/api/public/incidents/{tracking_code}"): PUBLIC,
    ("POST", "/api/public/incidents/{tracking_code}/rating"): PUBLIC,
    ("POST", "/api/units/{code}/position"): frozenset({"admin", "dispatcher", "officer"}),
    ("GET", "/api/admin/audit"): frozenset({"admin"}),
    ("GET", "/api/admin/calendar"): frozenset({"admin"}),   # manage_calendar
    ("POST", "/api/admin/calendar"): frozenset({"admin"}),
    ("GET", "/admin/calendar"): PUBLIC,  # the page logs in itself
    ("GET", "/handover/{incident_id}"): PUBLIC,  # the page reads the sheet with the desk's session
    ("GET", "/"): PUBLIC,
    ("GET", "/desk"): PUBLIC,
    ("GET", "/console"): PUBLIC,
    ("GET", "/dashboard"): PUBLIC,
    ("GET", "/editor"): PUBLIC,
    ("GET", "/unit"): PUBLIC,
    ("GET", "/patrol"): PUBLIC,
    ("GET", "/config.json"): PUBLIC,
    ("GET", "/i18n.json"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): frozenset({"admin", "operator"}),  # read_metrics: activity, for the monitoring
    ("GET", "/docs"): PUBLIC,
    # the command-room cycle
    ("GET", "/api/workflow/machine"): SESSIONS,
    ("GET", "/api/desk/queue"): STAFF,
    ("GET", "/api/desk/notifications"): DESKS,
    ("GET", "/api/incidents/{incident_id}/recommendations"): DESKS,
    ("GET", "/api/incidents/{incident_id}/units"): SENDERS,
    ("GET", "/api/unit/tasks"): UNIT_STEPS,
    ("GET", "/api/incidents/{incident_id}/handover"): DESKS,
    ("POST", "/api/incidents/{incident_id}/attachments"): UNIT_STEPS,
    ("GET", "/api/attachments/{sha256}"): frozenset({"admin", "dispatcher", "grid_manager", "grid_worker", "officer"}),
    ("GET", "/api/public/matches"): PUBLIC,
    ("GET", "/api/areas/{code}/poster.{fmt}"): MAP_READERS,
    ("GET", "/report"): PUBLIC,
    ("GET", "/track/{code}"): PUBLIC,
    ("GET", "/sw.js"): PUBLIC,
    ("GET", "/api/public/where"): PUBLIC,
    ("GET", "/api/public/grids/{code}"): PUBLIC,
    ("GET", "/api/public/base"): PUBLIC,  # the offline base map: outlines and names only
    ("GET", "/basemap/{z}/{x}/{y}"): PUBLIC,  # the local MBTiles file
    ("POST", "/api/public/incidents/{tracking_code}/attachments"): PUBLIC,
    ("GET", "/api/public/incidents/{tracking_code}/photos/{sha256}"): PUBLIC,
    ("POST", "/api/public/incidents/{public_id}/me-too"): PUBLIC,
    # Open311 GeoReport v2 (posting needs a client app's api_key, not an account)
    ("GET", "/open311/v2/discovery.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("POST", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): PUBLIC,
    # OGC API - Features (the layers: the map's visibility) and layer files
    ("GET", "/ogc"): PUBLIC,
    ("GET", "/ogc/conformance"): PUBLIC,
    ("GET", "/ogc/collections"): MAP_READERS,
    ("GET", "/ogc/collections/{collection_id}"): MAP_READERS,
    ("GET", "/ogc/collections/{collection_id}/items"): MAP_READERS,
    ("GET", "/ogc/collections/{collection_id}/items/{code}"): MAP_READERS,
    ("GET", "/api/areas/export"): MAP_READERS,
    ("POST", "/api/areas/import"): frozenset({"admin", "grid_manager"}),  # edit_areas
    # editing the grid map: one area, its versions and problems; previews and saves of edits
    ("GET", "/api/areas/{code}"): MAP_READERS,
    ("GET", "/api/areas/{code}/history"): MAP_READERS,
    ("GET", "/api/areas/{code}/validation"): MAP_READERS,
    ("POST", "/api/areas/edits/preview"): frozenset({"admin", "grid_manager"}),  # edit_areas
    ("POST", "/api/areas/edits"): frozenset({"admin", "grid_manager"}),
    # resident satisfaction surveys: the phone's survey and the public scores; the staff's periods and items
    ("GET", "/survey"): PUBLIC,
    ("GET", "/api/public/surveys/{street}"): PUBLIC,
    ("POST", "/api/public/surveys/{street}/answers"): PUBLIC,
    ("GET", "/api/public/surveys/{street}/scores"): PUBLIC,
    ("GET", "/api/public/surveys"): PUBLIC,
    ("GET", "/public"): PUBLIC,
    ("GET", "/api/public/disclosure"): PUBLIC,
    ("GET", "/api/public/disclosure/streets"): PUBLIC,
    ("GET", "/api/surveys/ranking"): SURVEY_READERS,
    ("POST", "/api/surveys/periods"): SURVEY_MANAGERS,
    ("GET", "/api/surveys/periods/{period_id}/scores"): SURVEY_READERS,
    ("POST", "/api/surveys/periods/{period_id}/followups"): SURVEY_MANAGERS,
    ("PATCH", "/api/surveys/followups/{followup_id}"): SURVEY_MANAGERS,
    # the places register (民情地图) and grid aggregates
    ("GET", "/api/places"): PLACE_READERS,
    ("POST", "/api/places"): PLACE_EDITORS,
    ("POST", "/api/places/import"): PLACE_EDITORS,
    ("GET", "/api/places/export"): PLACE_READERS,
    ("GET", "/api/places/aggregates"): PLACE_READERS,
    ("PUT", "/api/places/aggregates/{grid}"): PLACE_EDITORS,
    ("GET", "/api/places/{code}"): PLACE_READERS,
    ("PATCH", "/api/places/{code}"): PLACE_EDITORS,
    ("DELETE", "/api/places/{code}"): PLACE_EDITORS,
    ("GET", "/api/places/{code}/history"): PLACE_READERS,
    ("GET", "/tiles/places/{z}/{x}/{y}.pbf"): PLACE_READERS,
    # grid workers' patrols (巡查)
    ("POST", "/api/patrols"): PATROLLERS,
    ("GET", "/api/patrols"): TRACK_READERS,
    ("GET", "/api/patrols/coverage"): TRACK_READERS,
    ("GET", "/api/patrols/stale"): DESKS,
    ("GET", "/api/patrols/{patrol_id}"): TRACK_READERS,
    ("POST", "/api/patrols/{patrol_id}/positions"): PATROLLERS,
    ("POST", "/api/patrols/{patrol_id}/end"): PATROLLERS,
    ("POST", "/api/patrols/{patrol_id}/reports"): PATROLLERS,
    # joint inspections (综合查一次)
    ("GET", "/inspections"): PUBLIC,
    ("GET", "/api/inspections/checklists"): INSPECTION_READERS,
    ("POST", "/api/inspections/checklists"): CHECKLIST_MANAGERS,
    ("GET", "/api/inspections/due"): INSPECTION_READERS,
    ("POST", "/api/inspections/plans"): INSPECTION_PLANNERS,
    ("GET", "/api/inspections/plans"): INSPECTION_READERS,
    ("GET", "/api/inspections/plans/{plan_id}"): INSPECTION_READERS,
    ("GET", "/api/inspections/visits"): INSPECTION_WORKERS,
    ("POST", "/api/inspections/visits/{visit_id}/arrive"): INSPECTION_WORKERS,
    ("POST", "/api/inspections/visits/{visit_id}/photos"): INSPECTION_WORKERS,
    ("POST", "/api/inspections/visits/{visit_id}/checks"): INSPECTION_WORKERS,
    ("GET", "/api/inspections/figures"): INSPECTION_READERS,
    # star ratings (星级工作站): computing and configuring are the admin's (manage_stars)
    ("GET", "/api/stars"): STAR_READERS,
    ("GET", "/api/stars/{kind}/{code}/history"): STAR_READERS,
    ("POST", "/api/stars/{rating_id}/adjustment"): STAR_ADJUSTERS,
    ("POST", "/api/stars/compute"): frozenset({"admin"}),
    ("GET", "/api/stars/config/{district}"): STAR_READERS,
    ("PUT", "/api/stars/config/{district}"): frozenset({"admin"}),
}

# Each action of the cycle and the roles that may take it (the state and body of the
# request: tests/cycle_support.py).
ACTIONS: dict[str, frozenset[str]] = {
    **dict.fromkeys(["triage", "void", "not_responsible", "merge", "unmerge", "escalate", "hand_down", "answer",
                     "resolve", "close", "reopen", "suspend", "resume", "extend"], DESKS),
    **dict.fromkeys(["dispatch", "reinforce", "reassign"], SENDERS),
    **dict.fromkeys(["accept", "arrive", "handle", "return"], UNIT_STEPS),
    **dict.fromkeys(["verify", "reject"], VERIFIERS),
    "supervise": SUPERVISORS,
}
for _action, _roles in ACTIONS.items():
    RULES[("POST", f"/api/incidents/{{incident_id}}/actions/{_action}")] = _roles

# Status an admitted caller gets with valid minimal parameters.
SUCCESS = {key: 200 for key in RULES} | {
    ("GET", "/basemap/{z}/{x}/{y}"): 404,  # no local base-map file in the tests' app (test_basemap serves one)
    ("POST", "/api/auth/logout"): 204,
    ("POST", "/api/incidents"): 201,
    ("POST", "/api/places"): 201,
    ("POST", "/api/incidents/{incident_id}/attachments"): 201,
    ("POST", "/api/surveys/periods"): 201,
    ("POST", "/api/surveys/periods/{period_id}/followups"): 201,
    ("POST", "/api/public/incidents/{public_id}/me-too"): 201,
    ("POST", "/api/public/incidents/{tracking_code}/attachments"): 201,
    ("POST", "/open311/v2/requests.{fmt}"): 201,
    ("POST", "/api/patrols"): 201,
    ("POST", "/api/patrols/{patrol_id}/reports"): 201,
    ("POST", "/api/inspections/plans"): 201,
    ("POST", "/api/inspections/visits/{visit_id}/photos"): 201,
}

# Routes acting on one object: an admitted role out of the object's scope gets 404.
SCOPED_OBJECT = {("GET", "/api/incidents/{incident_id}"), ("POST", "/api/units/{code}/position"),
                 ("GET", "/api/areas/{code}/poster.{fmt}"),
                 ("GET", "/api/incidents/{incident_id}/recommendations"),
                 ("GET", "/api/incidents/{incident_id}/units"),
                 ("GET", "/api/incidents/{incident_id}/handover"),
                 ("POST", "/api/incidents/{incident_id}/attachments"),
                 ("GET", "/api/attachments/{sha256}")} | {
    ("POST", f"/api/incidents/{{incident_id}}/actions/{a}") for a in ACTIONS}
SCOPED_OBJECT |= {("GET", "/ogc/collections/{collection_id}/items/{code}"), ("GET", "/api/areas/export")}
SCOPED_OBJECT |= {("GET", "/api/surveys/periods/{period_id}/scores")}
SCOPED_OBJECT |= {("GET", "/api/areas/{code}"), ("GET", "/api/areas/{code}/history"),
                  ("GET", "/api/areas/{code}/validation")}
SCOPED_OBJECT |= {("GET", "/api/places/{code}"), ("GET", "/api/places/{code}/history")}
SCOPED_OBJECT |= {("GET", "/api/patrols/{patrol_id}")}
# a zone out of reach is as missing as a plan or a visit of another zone
SCOPED_OBJECT |= {("GET", "/api/inspections/due"), ("POST", "/api/inspections/plans"),
                  ("GET", "/api/inspections/plans/{plan_id}"), ("POST", "/api/inspections/visits/{visit_id}/arrive"),
                  ("POST", "/api/inspections/visits/{visit_id}/photos"),
                  ("POST", "/api/inspections/visits/{visit_id}/checks")}
SCOPED_OBJECT |= {("GET", "/api/stars/{kind}/{code}/history")}

# Routes outside the Access scheme, each for a documented reason.
UNRULED = {
    "/openapi.json",  # FastAPI's own schema document: public by design (schemathesis reads it)
}

ANONYMOUS_LIKE = ("anonymous", "expired", "forged", "garbage")
CALLERS = ROLES + ("out_of_scope", "no_grants") + ANONYMOUS_LIKE


def _is_static_mount(ctx) -> bool:
    route = ctx.original_route
    return isinstance(route, Mount) and isinstance(route.app, StaticFiles)


def _rule(ctx) -> Access | None:
    return rule_of(ctx) if hasattr(ctx, "dependant") else None


def enumerate_routes(app) -> dict[tuple[str, str], Any]:
    """(method, path) -> route context, for every callable route of the app (HEAD folded into GET)."""
    found = {}
    for ctx in iter_route_contexts(app.router.routes):
        if _is_static_mount(ctx):
            continue
        for method in sorted(ctx.methods or {"*"}):
            if method != "HEAD":
                found[(method, ctx.path)] = ctx
    return found


# --------------------------------------------------------------------------- the table itself

def test_every_route_declares_an_access_rule(app):
    missing = [f"{m} {p}" for (m, p), ctx in enumerate_routes(app).items()
               if p not in UNRULED and _rule(ctx) is None]
    assert not missing, f"routes without a declared Access rule: {missing}"


def test_mounts_are_static_files_only(app):
    for ctx in iter_route_contexts(app.router.routes):
        if isinstance(ctx.original_route, Mount):
            assert _is_static_mount(ctx), f"{ctx.path} is a mount that is not static files"


def test_table_covers_exactly_the_app_routes(app):
    routes = {k for k in enumerate_routes(app) if k[1] not in UNRULED}
    assert routes - RULES.keys() == set(), "routes missing from RULES (add them with their roles)"
    assert RULES.keys() - routes == set(), "RULES names routes the app no longer has"


def test_declared_rules_match_the_table(app):
    for key, ctx in enumerate_routes(app).items():
        if key[1] in UNRULED:
            continue
        rule, expected = _rule(ctx), RULES[key]
        if expected == PUBLIC:
            assert rule.public, f"{key} should be public, is {rule!r}"
        else:
            assert not rule.public, f"{key} should need {sorted(expected)}, is public"
            assert rule.roles == expected, f"{key}: rule {sorted(rule.roles)} != table {sorted(expected)}"


def test_openapi_document_is_public(client):
    assert client.get("/openapi.json").status_code == 200


# --------------------------------------------------------------------------- fixtures

@dataclass
class World:
    client: Any
    login: Callable
    engine: Any
    incident_id: int
    lon: float
    lat: float
    unit_code: str
    second_unit: str
    other_street: str
    login_user: tuple[str, str]
    photo: str = ""
    grid_code: str = ""
    creds: dict[str, tuple[str, str]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def fresh_headers(self, caller: str) -> dict[str, str]:
        """A new session for callers that own one (logout must not end the shared one)."""
        if caller in self.creds:
            return self.login(*self.creds[caller])
        return self.headers[caller]

    def reported_case(self, closed: bool = False) -> tuple[str, str]:
        res = self.client.post("/api/incidents", json={"category": "dispute", "lon": self.lon, "lat": self.lat})
        assert res.status_code == 201, res.text
        doc = res.json()
        if closed:
            self.bring(doc["id"], "closed")
        return doc["tracking_code"], doc["reporter_token"]

    @property
    def cases(self) -> CaseMaker:
        return CaseMaker(self.client, self.headers["admin"], lon=self.lon, lat=self.lat, unit=self.unit_code,
                         second_unit=self.second_unit)

    def bring(self, incident_id: int, state: str) -> None:
        self.cases.bring(incident_id, state)

    def case_for(self, action: str) -> dict:
        cid, body = self.cases.case_for(action)
        return {"url": f"/api/incidents/{cid}/actions/{action}", "json": body}


@pytest.fixture(scope="module")
def world(client, engine, settings, make_user, login) -> World:
    with engine.begin() as conn:
        unit_code, unit_lineage = conn.execute(sa.text("""
            SELECT u.code, area_lineage(st.zone_code) FROM unit u JOIN station st ON st.code = u.station_code
            WHERE u.department_code = 'police' ORDER BY u.code LIMIT 1""")).one()
        inc = conn.execute(sa.text("""
            SELECT id, street_code, ST_X(location) AS lon, ST_Y(location) AS lat FROM incident
            WHERE grid_code IS NOT NULL AND street_code IS NOT NULL AND district_code = :d
            ORDER BY id LIMIT 1"""), {"d": DISTRICT}).one()
        other_street = conn.execute(sa.text("""
            SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL
              AND code <> :s AND NOT (code = ANY(:lineage)) ORDER BY code LIMIT 1"""),
            {"s": inc.street_code, "lineage": list(unit_lineage)}).scalar_one()
        second_unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'police' AND code <> :u "
                                           "ORDER BY code LIMIT 1"), {"u": unit_code}).scalar_one()
    w = World(client=client, login=login, engine=engine, incident_id=inc.id, lon=inc.lon, lat=inc.lat,
              unit_code=unit_code, second_unit=second_unit, other_street=other_street, login_user=make_user())
    for role in ROLES:
        w.creds[role] = make_user(role, DISTRICT, unit=unit_code if role == "officer" else None)
    w.creds["out_of_scope"] = make_user("dispatcher", other_street)
    w.creds["no_grants"] = make_user()
    for caller, (username, password) in w.creds.items():
        w.headers[caller] = login(username, password)

    admin_token = w.headers["admin"]["Authorization"].split()[1]
    claims = jwt.decode(admin_token, settings.secret_key, algorithms=[tokens.ALGORITHM], issuer=tokens.ISSUER)
    expired = tokens.access_token(settings.secret_key, user_id=int(claims["sub"]), session_id=claims["sid"],
                                  minutes=-1)
    forged = tokens.access_token("not-the-server-secret-" + "x" * 30, user_id=int(claims["sub"]),
                                 session_id=claims["sid"], minutes=15)
    w.headers["anonymous"] = {}
    w.headers["expired"] = {"Authorization": f"Bearer {expired}"}
    w.headers["forged"] = {"Authorization": f"Bearer {forged}"}
    w.headers["garbage"] = {"Authorization": "Bearer not-a-token"}
    # the target incident: a fresh report where the sample's first one is; the officer's unit is sent to it
    res = client.post("/api/incidents", json={"category": "dispute", "lon": inc.lon, "lat": inc.lat})
    assert res.status_code == 201, res.text
    w.incident_id = res.json()["id"]
    w.bring(w.incident_id, "dispatched")
    res = client.post(f"/api/incidents/{w.incident_id}/attachments", files={"file": ("p.png", PNG, "image/png")},
                      headers=w.headers["admin"])
    assert res.status_code == 201, res.text
    w.photo = res.json()["sha256"]
    with engine.connect() as conn:
        w.grid_code = conn.execute(sa.text("SELECT grid_code FROM incident WHERE id = :id"),
                                   {"id": w.incident_id}).scalar_one()
    return w


# Valid minimal requests: (world, caller) -> (method, url, keyword arguments for client.request)
def _token(w, c):
    return {"data": {"username": w.login_user[0], "password": w.login_user[1]}}


def _refresh(w, c):
    res = w.client.post("/api/auth/token", data={"username": w.login_user[0], "password": w.login_user[1]})
    return {"json": {"refresh_token": res.json()["refresh_token"]}}


def _track(w, c):
    code, secret = w.reported_case()
    return {"url": f"/api/public/incidents/{code}", "headers": {"X-Reporter-Token": secret}}


def _rate(w, c):
    code, secret = w.reported_case(closed=True)
    return {"url": f"/api/public/incidents/{code}/rating", "headers": {"X-Reporter-Token": secret},
            "json": {"rating": 4}}


def _reporter_photo(w, c):
    code, secret = w.reported_case()
    return {"url": f"/api/public/incidents/{code}/attachments", "headers": {"X-Reporter-Token": secret},
            "files": {"file": ("p.png", PNG, "image/png")}}


def _reporter_photo_back(w, c):
    """The reporter sees the photo they sent."""
    code, secret = w.reported_case()
    sent = w.client.post(f"/api/public/incidents/{code}/attachments", headers={"X-Reporter-Token": secret},
                         files={"file": ("p.png", PNG, "image/png")})
    assert sent.status_code == 201, sent.text
    return {"url": f"/api/public/incidents/{code}/photos/{sent.json()['sha256']}",
            "headers": {"X-Reporter-Token": secret}}


_OPEN311: dict[str, str] = {}


def _open311_key(w) -> str:
    """One client app's api_key for the run, issued by the service `gridgov apikey add` calls."""
    if "key" not in _OPEN311:
        _OPEN311["key"] = issue_open311_key(w.client.app.state.settings, f"matrix-{id(w)}")
    return _OPEN311["key"]


def _open311_post(w, c):
    return {"url": "/open311/v2/requests.json",
            "data": {"api_key": _open311_key(w), "service_code": "dispute", "lat": w.lat, "long": w.lon}}


def _open311_posted(w) -> dict:
    if "posted" not in _OPEN311:
        res = w.client.post(**_open311_post(w, "anonymous"))
        assert res.status_code == 201, res.text
        _OPEN311["posted"] = res.json()[0]
    return _OPEN311["posted"]


REQUESTS: dict[tuple[str, str], Callable[[World, str], dict]] = {
    ("POST", "/api/auth/token"): _token,
    ("POST", "/api/auth/refresh"): _refresh,
    ("POST", "/api/auth/logout"): lambda w, c: {"fresh_session": True},
    ("GET", "/api/auth/me"): lambda w, c: {},
    ("GET", "/metrics"): lambda w, c: {},
    ("GET", "/api/categories"): lambda w, c: {},
    ("GET", "/api/departments"): lambda w, c: {},
    ("GET", "/api/areas"): lambda w, c: {"params": {"kind": "street"}},
    ("GET", "/api/stations"): lambda w, c: {},
    ("GET", "/api/units"): lambda w, c: {},
    ("GET", "/api/route"): lambda w, c: {"params": {"lon": w.lon, "lat": w.lat, "category": "dispute"}},
    ("POST", "/api/route/batch"): lambda w, c: {"content": f"id,lon,lat\n1,{w.lon},{w.lat}\n".encode(),
                                                "headers": {"Content-Type": "text/csv"}},
    ("POST", "/api/incidents"): lambda w, c: {"json": {"category": "dispute", "lon": w.lon, "lat": w.lat}},
    ("GET", "/api/incidents"): lambda w, c: {"params": {"limit": 5}},
    ("GET", "/api/live"): lambda w, c: {"params": {"once": "true"}, "headers": {"Last-Event-ID": "1"}},
    ("GET", "/api/heatmap"): lambda w, c: {"params": {"zoom": 12, "category": "dispute", "status": "open"}},
    ("GET", "/api/heatmap/warnings"): lambda w, c: {"params": {"by": "cell"}},
    ("GET", "/api/heatmap/repeats"): lambda w, c: {"params": {"days": 7}},
    # a day's window keeps the matrix fast; the figures themselves: tests/test_kpis.py
    ("GET", "/api/kpis"): lambda w, c: {"params": {"from": "2026-10-30", "to": "2026-10-31"}},
    ("GET", "/api/kpis.{fmt}"): lambda w, c: {"url": "/api/kpis.xlsx", "params": {"from": "2026-10-30",
                                                                                 "to": "2026-10-31"}},
    ("GET", "/api/kpis/definitions"): lambda w, c: {},
    ("GET", "/api/kpis/areas"): lambda w, c: {"params": {"from": "2026-10-30", "to": "2026-10-31"}},
    ("GET", "/api/kpis/{key}/series"): lambda w, c: {"url": "/api/kpis/closure_rate/series",
                                                     "params": {"from": "2026-10-30", "to": "2026-10-31", "by": "day"}},
    ("GET", "/api/kpis/categories"): lambda w, c: {"params": {"from": "2026-10-30", "to": "2026-10-31"}},
    ("GET", "/api/kpis/series"): lambda w, c: {"params": {"from": "2026-10-30", "to": "2026-10-31", "by": "day"}},
    ("GET", "/api/kpis/{key}/histogram"): lambda w, c: {"url": "/api/kpis/response_time/histogram",
                                                        "params": {"from": "2026-10-30", "to": "2026-10-31"}},
    ("GET", "/api/kpis/{key}/cases"): lambda w, c: {"url": "/api/kpis/closure_rate/cases",
                                                    "params": {"from": "2026-10-30", "to": "2026-10-31"}},
    # one grid's month keeps the matrix fast; the reports themselves: tests/test_monthly_report.py
    ("GET", "/api/reports/monthly.{fmt}"): lambda w, c: {"url": "/api/reports/monthly.html",
                                                         "params": {"area": w.grid_code, "month": "2026-10"}},
    ("GET", "/public"): lambda w, c: {},
    ("GET", "/api/public/disclosure"): lambda w, c: {"params": {"month": "2026-10"}},
    ("GET", "/api/public/disclosure/streets"): lambda w, c: {},
    ("GET", "/tiles/hexagons/{z}/{x}/{y}.pbf"): lambda w, c: {"url": "/tiles/hexagons/11/1708/839.pbf"},
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.pbf"): lambda w, c: {"url": "/tiles/grid/12/3416/1679.pbf"},
    ("GET", "/tiles/{layer}.json"): lambda w, c: {"url": "/tiles/grid.json"},
    ("GET", "/api/incidents/{incident_id}"): lambda w, c: {"url": f"/api/incidents/{w.incident_id}"},
    ("GET", "/api/public/incidents/{tracking_code}"): _track,
    ("POST", "/api/public/incidents/{tracking_code}/rating"): _rate,
    ("POST", "/api/units/{code}/position"): lambda w, c: {
        "url": f"/api/units/{w.unit_code}/position", "json": {"lon": w.lon, "lat": w.lat}},
    ("GET", "/api/admin/audit"): lambda w, c: {"params": {"limit": 5}},
    ("GET", "/api/admin/calendar"): lambda w, c: {},
    # a year far from every case; the notice changes on every call (a load that changes nothing writes nothing)
    ("POST", "/api/admin/calendar"): lambda w, c: {
        "json": {**statutory_schedule(2099), "notice": f"matrix {c}-{time.monotonic_ns()}"}},
    ("GET", "/admin/calendar"): lambda w, c: {},
    ("GET", "/handover/{incident_id}"): lambda w, c: {"url": f"/handover/{w.incident_id}"},
    ("GET", "/"): lambda w, c: {},
    ("GET", "/desk"): lambda w, c: {},
    ("GET", "/console"): lambda w, c: {},
    ("GET", "/dashboard"): lambda w, c: {},
    ("GET", "/editor"): lambda w, c: {},
    ("GET", "/unit"): lambda w, c: {},
    ("GET", "/patrol"): lambda w, c: {},
    ("GET", "/config.json"): lambda w, c: {},
    ("GET", "/i18n.json"): lambda w, c: {},
    ("GET", "/healthz"): lambda w, c: {},
    ("GET", "/readyz"): lambda w, c: {},
    ("GET", "/docs"): lambda w, c: {},
    ("GET", "/api/workflow/machine"): lambda w, c: {},
    ("GET", "/api/desk/queue"): lambda w, c: {"params": {"limit": 5}},
    ("GET", "/api/desk/notifications"): lambda w, c: {},
    ("GET", "/api/incidents/{incident_id}/recommendations"): lambda w, c: {
        "url": f"/api/incidents/{w.incident_id}/recommendations"},
    ("GET", "/api/incidents/{incident_id}/units"): lambda w, c: {
        "url": f"/api/incidents/{w.incident_id}/units", "params": {"q": "police"}},
    ("GET", "/api/unit/tasks"): lambda w, c: {},
    ("GET", "/api/incidents/{incident_id}/handover"): lambda w, c: {"url": f"/api/incidents/{w.incident_id}/handover"},
    ("POST", "/api/incidents/{incident_id}/attachments"): lambda w, c: {
        "url": f"/api/incidents/{w.incident_id}/attachments", "files": {"file": ("p.png", PNG, "image/png")}},
    ("GET", "/api/attachments/{sha256}"): lambda w, c: {"url": f"/api/attachments/{w.photo}"},
    ("GET", "/api/public/matches"): lambda w, c: {"params": {"lon": w.lon, "lat": w.lat, "category": "dispute"}},
    ("GET", "/api/areas/{code}/poster.{fmt}"): lambda w, c: {"url": f"/api/areas/{w.grid_code}/poster.pdf"},
    ("GET", "/report"): lambda w, c: {},
    ("GET", "/track/{code}"): lambda w, c: {"url": "/track/XA-2345-6789-ABCD"},
    ("GET", "/sw.js"): lambda w, c: {},
    ("GET", "/api/public/where"): lambda w, c: {"params": {"lon": w.lon, "lat": w.lat}},
    ("GET", "/api/public/grids/{code}"): lambda w, c: {"url": f"/api/public/grids/{w.grid_code}"},
    ("GET", "/api/public/base"): lambda w, c: {"params": {
        "zoom": 15, "bbox": f"{w.lon - 0.01},{w.lat - 0.01},{w.lon + 0.01},{w.lat + 0.01}"}},
    ("GET", "/basemap/{z}/{x}/{y}"): lambda w, c: {"url": "/basemap/1/0/0"},
    ("POST", "/api/public/incidents/{tracking_code}/attachments"): _reporter_photo,
    ("GET", "/api/public/incidents/{tracking_code}/photos/{sha256}"): _reporter_photo_back,
    ("POST", "/api/public/incidents/{public_id}/me-too"): lambda w, c: _me_too(w),
    ("GET", "/open311/v2/discovery.{fmt}"): lambda w, c: {"url": "/open311/v2/discovery.json"},
    ("GET", "/open311/v2/services.{fmt}"): lambda w, c: {"url": "/open311/v2/services.xml"},
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): lambda w, c: {"url": "/open311/v2/services/other.json"},
    ("GET", "/open311/v2/requests.{fmt}"): lambda w, c: {"url": "/open311/v2/requests.json",
                                                          "params": {"status": "open"}},
    ("POST", "/open311/v2/requests.{fmt}"): _open311_post,
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): lambda w, c: {
        "url": f"/open311/v2/requests/{_open311_posted(w)['service_request_id']}.xml"},
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): lambda w, c: {
        "url": f"/open311/v2/tokens/{_open311_posted(w)['token']}.json"},
}


def _me_too(w) -> dict:
    """A case /matches offers at the world's spot, joined from a phone that has not joined it."""
    import secrets

    w.cases.report()
    offered = w.client.get("/api/public/matches", params={"lon": w.cases.lon, "lat": w.cases.lat,
                                                         "category": w.cases.category}).json()["candidates"]
    return {"url": f"/api/public/incidents/{offered[0]['public_id']}/me-too",
            "json": {"lon": w.cases.lon, "lat": w.cases.lat},
            "headers": {"X-Device-Secret": secrets.token_urlsafe(32)}}


def _area_file(w, c):
    """The target incident's grid as a one-feature GeoJSON file under its community, renamed
    (a change on every call: the import saves a version and its audit row)."""
    with w.engine.connect() as conn:
        g = conn.execute(sa.text("SELECT code, name, parent_code, ST_AsGeoJSON(geom, 15) AS geom FROM area "
                                 "WHERE code = :c AND valid_to IS NULL"), {"c": w.grid_code}).one()
    name = g.name.split("·")[0] + f"·{c}-{time.monotonic_ns()}"
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": json.loads(g.geom),
                                                      "properties": {"code": g.code, "name": name}}]}
    return {"url": "/api/areas/import", "params": {"layer": "grid", "parent": g.parent_code, "dry_run": "false"},
            "files": {"file": ("grid.geojson", json.dumps(doc).encode(), "application/geo+json")}}


def _grid_parent(w) -> str:
    with w.engine.connect() as conn:
        return conn.execute(sa.text("SELECT parent_code FROM area WHERE code = :c AND valid_to IS NULL"),
                            {"c": w.grid_code}).scalar_one()


REQUESTS.update({
    ("GET", "/ogc"): lambda w, c: {},
    ("GET", "/ogc/conformance"): lambda w, c: {},
    ("GET", "/ogc/collections"): lambda w, c: {},
    ("GET", "/ogc/collections/{collection_id}"): lambda w, c: {"url": "/ogc/collections/grid"},
    ("GET", "/ogc/collections/{collection_id}/items"): lambda w, c: {"url": "/ogc/collections/grid/items",
                                                                      "params": {"limit": 2}},
    ("GET", "/ogc/collections/{collection_id}/items/{code}"): lambda w, c: {
        "url": f"/ogc/collections/grid/items/{w.grid_code}"},
    ("GET", "/api/areas/export"): lambda w, c: {"params": {"layer": "grid", "parent": _grid_parent(w),
                                                           "format": "geojson"}},
    ("POST", "/api/areas/import"): _area_file,
})


def _area_rename(w, c, save: bool) -> dict:
    """Rename the target incident's grid (a change on every call: a version and its audit row)."""
    with w.engine.connect() as conn:
        g = conn.execute(sa.text("SELECT name, version FROM area WHERE code = :c AND valid_to IS NULL"),
                         {"c": w.grid_code}).one()
    body = {"op": "rename", "code": w.grid_code, "name": g.name.split("·")[0] + f"·{c}-{time.monotonic_ns()}"}
    out = {"url": "/api/areas/edits" if save else "/api/areas/edits/preview", "json": body}
    if save:
        out["headers"] = {"If-Match": f'"{w.grid_code}@{g.version}"'}
    return out


REQUESTS.update({
    ("GET", "/api/areas/{code}"): lambda w, c: {"url": f"/api/areas/{w.grid_code}"},
    ("GET", "/api/areas/{code}/history"): lambda w, c: {"url": f"/api/areas/{w.grid_code}/history"},
    ("GET", "/api/areas/{code}/validation"): lambda w, c: {"url": f"/api/areas/{_grid_parent(w)}/validation"},
    ("POST", "/api/areas/edits/preview"): lambda w, c: _area_rename(w, c, save=False),
    ("POST", "/api/areas/edits"): lambda w, c: _area_rename(w, c, save=True),
})
# a street no test module's own survey uses, never the out-of-scope dispatcher's (the lowest code)
SURVEY_STREET = "330503108"
_SURVEY: dict[str, int] = {}


def _survey_period(w) -> int:
    """The matrix's survey period: open today on SURVEY_STREET, opened once by the admin."""
    if "period" not in _SURVEY:
        from api.surveys.periods import today

        day = today(w.client.app.state.settings)
        res = w.client.post("/api/surveys/periods", headers=w.headers["admin"], json={
            "street": SURVEY_STREET, "opens": str(day), "closes": str(day + timedelta(days=30))})
        assert res.status_code == 201, res.text
        _SURVEY["period"] = res.json()["id"]
    return _SURVEY["period"]


def _survey_sig(w) -> str:
    from api import qr
    from api.surveys.answers import link_code

    return qr.signature(qr.keys_of(w.client.app.state.settings.qr_key).current, link_code(SURVEY_STREET))


def _new_period(w, c) -> dict:
    """Two days of their own in the far future for every call (periods of a street never overlap)."""
    _survey_period(w)
    n = _SURVEY["next"] = _SURVEY.get("next", 0) + 1
    opens = date(2100, 1, 1) + timedelta(days=3 * n)
    return {"json": {"street": SURVEY_STREET, "opens": str(opens), "closes": str(opens + timedelta(days=1))}}


def _followup(w) -> int:
    if "followup" not in _SURVEY:
        res = w.client.post(f"/api/surveys/periods/{_survey_period(w)}/followups", headers=w.headers["admin"],
                            json={"indicator": "parking", "owner": "enforcement", "measures": "m",
                                  "deadline": "2099-12-31"})
        assert res.status_code == 201, res.text
        _SURVEY["followup"] = res.json()["id"]
    return _SURVEY["followup"]


REQUESTS.update({
    ("GET", "/survey"): lambda w, c: {"params": {"s": SURVEY_STREET, "sig": "x"}},
    ("GET", "/api/public/surveys/{street}"): lambda w, c: {
        "url": f"/api/public/surveys/{SURVEY_STREET}", "params": {"sig": _survey_sig(w)}},
    ("POST", "/api/public/surveys/{street}/answers"): lambda w, c: (_survey_period(w), {
        "url": f"/api/public/surveys/{SURVEY_STREET}/answers",
        "headers": {"X-Device-Secret": secrets.token_urlsafe(32)},  # a phone of its own every call
        "json": {"sig": _survey_sig(w), "scores": {"parking": 3}}})[1],
    ("GET", "/api/public/surveys/{street}/scores"): lambda w, c: {"url": f"/api/public/surveys/{SURVEY_STREET}/scores"},
    ("POST", "/api/surveys/periods"): _new_period,
    ("GET", "/api/public/surveys"): lambda w, c: {},
    ("GET", "/api/surveys/ranking"): lambda w, c: {"params": {"on": "2026-12-01"}},
    ("GET", "/api/surveys/periods/{period_id}/scores"): lambda w, c: {
        "url": f"/api/surveys/periods/{_survey_period(w)}/scores"},
    ("POST", "/api/surveys/periods/{period_id}/followups"): lambda w, c: {
        "url": f"/api/surveys/periods/{_survey_period(w)}/followups",
        "json": {"indicator": "parking", "owner": "enforcement", "measures": f"m {c}", "deadline": "2099-12-31"}},
    ("PATCH", "/api/surveys/followups/{followup_id}"): lambda w, c: {
        "url": f"/api/surveys/followups/{_followup(w)}", "json": {"progress": f"{c} {time.monotonic_ns()}"}},
})
for _action in ACTIONS:
    REQUESTS[("POST", f"/api/incidents/{{incident_id}}/actions/{_action}")] = (
        lambda action: lambda w, c: w.case_for(action) if expected_status(
            ("POST", f"/api/incidents/{{incident_id}}/actions/{action}"), c) not in (401, 403)
        else {"url": f"/api/incidents/{w.incident_id}/actions/{action}", "json": {}})(_action)


def _new_place(w, c) -> dict:
    """A place body of its own: on a rounded point near the target incident (no incident's exact place)."""
    return {"code": f"M-{c}-{time.monotonic_ns() % 10**12}", "category": "shop", "name": "matrix shop",
            "contact": "13800000009", "lon": round(w.lon, 3), "lat": round(w.lat, 3)}


def _a_place(w, c) -> str:
    """A place the admin made, for the requests that read, change or retire one."""
    res = w.client.post("/api/places", headers=w.headers["admin"], json=_new_place(w, f"{c}-base"))
    assert res.status_code == 201, res.text
    return res.json()["code"]


def _places_file(w, c) -> dict:
    body = _new_place(w, f"{c}-file")
    row = ",".join(str(body[k]) for k in ("code", "name", "category", "lon", "lat"))
    return {"url": "/api/places/import", "data": {"dry_run": "false"},
            "files": {"file": ("p.csv", f"code,name,category,lon,lat\n{row}\n".encode(), "text/csv")}}


REQUESTS.update({
    ("GET", "/api/places"): lambda w, c: {"params": {"limit": 5}},
    ("POST", "/api/places"): lambda w, c: {"json": _new_place(w, c)},
    ("POST", "/api/places/import"): _places_file,
    ("GET", "/api/places/export"): lambda w, c: {"params": {"format": "geojson"}},
    ("GET", "/api/places/aggregates"): lambda w, c: {},
    ("PUT", "/api/places/aggregates/{grid}"): lambda w, c: {
        "url": f"/api/places/aggregates/{w.grid_code}",
        "json": {"as_of": "2026-11-30", "source": f"matrix {c}", "households": 10}},
    ("GET", "/api/places/{code}"): lambda w, c: {"url": f"/api/places/{_a_place(w, c)}"},
    ("PATCH", "/api/places/{code}"): lambda w, c: {"url": f"/api/places/{_a_place(w, c)}",
                                                   "json": {"risk_level": "high"}},
    ("DELETE", "/api/places/{code}"): lambda w, c: {"url": f"/api/places/{_a_place(w, c)}"},
    ("GET", "/api/places/{code}/history"): lambda w, c: {"url": f"/api/places/{_a_place(w, c)}/history"},
    ("GET", "/tiles/places/{z}/{x}/{y}.pbf"): lambda w, c: {"url": "/tiles/places/12/3416/1679.pbf"},
})


_PATROL: dict[str, int] = {}


def _start_patrol(w, c) -> int:
    """A new open patrol of caller ``c`` in the target's grid, through the API (its open one ended first)."""
    h = w.headers[c]
    res = w.client.post("/api/patrols", headers=h, json={"grid": w.grid_code})
    if res.status_code == 409:
        w.client.post(f"/api/patrols/{res.json()['open_patrol']}/end", headers=h)
        res = w.client.post("/api/patrols", headers=h, json={"grid": w.grid_code})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def _no_open_patrol(w, c) -> dict:
    if expected_status(("POST", "/api/patrols"), c) == 201:
        pid = _start_patrol(w, c)
        w.client.post(f"/api/patrols/{pid}/end", headers=w.headers[c])
    return {"json": {"grid": w.grid_code}}


def _walked_patrol(w) -> int:
    """The matrix grid worker's patrol of the target's grid: one fix, ended."""
    if "walked" not in _PATROL:
        pid = _start_patrol(w, "grid_worker")
        h = w.headers["grid_worker"]
        res = w.client.post(f"/api/patrols/{pid}/positions", headers=h, json={"positions": [
            {"lon": w.lon, "lat": w.lat, "at": datetime.now().astimezone().isoformat()}]})
        assert res.status_code == 200, res.text
        assert w.client.post(f"/api/patrols/{pid}/end", headers=h).status_code == 200
        _PATROL["walked"] = pid
    return _PATROL["walked"]


def _on_patrol(w, c, tail: str, body: dict | None = None) -> dict:
    """The caller's own open patrol when it may patrol; the matrix's patrol otherwise (refused anyway)."""
    admitted = expected_status(("POST", "/api/patrols/{patrol_id}" + tail), c) not in (401, 403)
    pid = _start_patrol(w, c) if admitted else _walked_patrol(w)
    return {"url": f"/api/patrols/{pid}{tail}", **({"json": body} if body is not None else {})}


REQUESTS.update({
    ("POST", "/api/patrols"): _no_open_patrol,
    ("GET", "/api/patrols"): lambda w, c: {"params": {"area": w.grid_code}},
    ("GET", "/api/patrols/coverage"): lambda w, c: {"params": {"area": w.grid_code, "by": "week"}},
    ("GET", "/api/patrols/stale"): lambda w, c: {"params": {"area": w.grid_code}},
    ("GET", "/api/patrols/{patrol_id}"): lambda w, c: {"url": f"/api/patrols/{_walked_patrol(w)}"},
    ("POST", "/api/patrols/{patrol_id}/positions"): lambda w, c: _on_patrol(w, c, "/positions", {"positions": [
        {"lon": w.lon, "lat": w.lat, "accuracy": 8, "at": datetime.now().astimezone().isoformat()}]}),
    ("POST", "/api/patrols/{patrol_id}/end"): lambda w, c: _on_patrol(w, c, "/end"),
    ("POST", "/api/patrols/{patrol_id}/reports"): lambda w, c: _on_patrol(w, c, "/reports", {
        "lon": w.lon, "lat": w.lat, "category": "garbage", "description": "matrix"}),
})


_INSPECTIONS: dict[str, Any] = {"days": 0}


def _inspection_zone(w) -> dict[str, Any]:
    """The officer's unit's zone, a fire unit of its station (the team with the officer's unit), a point of the zone."""
    if "zone" not in _INSPECTIONS:
        with w.engine.connect() as conn:
            zone, station = conn.execute(sa.text("SELECT st.zone_code, st.code FROM unit u JOIN station st "
                                                 "ON st.code = u.station_code WHERE u.code = :u"),
                                         {"u": w.unit_code}).one()
            fire = conn.execute(sa.text("SELECT code FROM unit WHERE station_code = :s AND department_code = 'fire' "
                                        "ORDER BY code LIMIT 1"), {"s": station}).scalar_one()
            lon, lat = conn.execute(sa.text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
                                            "FROM area WHERE code = :z AND valid_to IS NULL) q"), {"z": zone}).one()
        _INSPECTIONS.update(zone=zone, team=[fire, w.unit_code], lon=lon, lat=lat)
    return _INSPECTIONS


def _plan_body(w) -> dict[str, Any]:
    z = _inspection_zone(w)
    _INSPECTIONS["days"] += 1  # a day of its own: a plan never waits on another's pending visits
    return {"zone": z["zone"], "day": str(date.today() + timedelta(days=_INSPECTIONS["days"])), "team": z["team"]}


def _fresh_visit(w) -> int:
    """A visit of its own: a new restaurant in the zone (due at once), a plan for a new day, arrived at."""
    z = _inspection_zone(w)
    code = f"M-I{time.monotonic_ns() % 10**12}"
    res = w.client.post("/api/places", headers=w.headers["admin"], json={
        "code": code, "category": "restaurant", "name": "matrix inspected", "lon": z["lon"], "lat": z["lat"]})
    assert res.status_code == 201, res.text
    # the zone may hold places more overdue than a new one (other modules share this database): each
    # plan takes the next day's share of them, and a place planned is not due again, so plan until it comes
    for _ in range(50):
        res = w.client.post("/api/inspections/plans", headers=w.headers["admin"], json=_plan_body(w))
        assert res.status_code == 201, res.text
        visit = next((v for v in res.json()["visits"] if v["place"]["code"] == code), None)
        if visit is not None:
            break
    assert visit is not None, f"{code} never planned"
    res = w.client.post(f"/api/inspections/visits/{visit['id']}/arrive", headers=w.headers["admin"],
                        json={"lon": z["lon"], "lat": z["lat"]})
    assert res.status_code == 200, res.text
    return visit["id"]


def _a_visit(w) -> int:
    if "visit" not in _INSPECTIONS:
        _INSPECTIONS["visit"] = _fresh_visit(w)
    return _INSPECTIONS["visit"]


def _a_plan(w) -> int:
    _a_visit(w)
    res = w.client.get("/api/inspections/plans", headers=w.headers["admin"])
    return res.json()["plans"][-1]["id"]


def _checklist(c) -> dict[str, Any]:
    item = {"key": "exits_clear", "zh": f"安全出口畅通 {c} {time.monotonic_ns()}", "en": "Exits clear",
            "kind": "yes_no"}
    return {"checklists": [{"department": "fire", "category": "other", "case_category": "fire_hazard",
                            "items": [item]}]}


FIRE_ANSWERS = {"exits_clear": True, "extinguishers_valid": True, "wiring_safe": True, "extinguisher_count": 2,
                "gas_cylinders_safe": True}
REQUESTS.update({
    ("GET", "/inspections"): lambda w, c: {},
    ("GET", "/api/inspections/checklists"): lambda w, c: {},
    ("POST", "/api/inspections/checklists"): lambda w, c: {"json": _checklist(c)},
    ("GET", "/api/inspections/due"): lambda w, c: {"params": {"zone": _inspection_zone(w)["zone"],
                                                             "day": str(date.today() + timedelta(days=1))}},
    ("POST", "/api/inspections/plans"): lambda w, c: {"json": _plan_body(w)},
    ("GET", "/api/inspections/plans"): lambda w, c: {},
    ("GET", "/api/inspections/plans/{plan_id}"): lambda w, c: {"url": f"/api/inspections/plans/{_a_plan(w)}"},
    ("GET", "/api/inspections/visits"): lambda w, c: {},
    ("POST", "/api/inspections/visits/{visit_id}/arrive"): lambda w, c: {
        "url": f"/api/inspections/visits/{_a_visit(w)}/arrive",
        "json": {"lon": _inspection_zone(w)["lon"], "lat": _inspection_zone(w)["lat"]}},
    ("POST", "/api/inspections/visits/{visit_id}/photos"): lambda w, c: {
        "url": f"/api/inspections/visits/{_a_visit(w)}/photos", "files": {"file": ("p.png", PNG, "image/png")}},
    ("POST", "/api/inspections/visits/{visit_id}/checks"): lambda w, c: {
        "url": f"/api/inspections/visits/{_fresh_visit(w) if c in INSPECTION_WORKERS else _a_visit(w)}/checks",
        "json": {"department": "fire", "answers": FIRE_ANSWERS}},
    ("GET", "/api/inspections/figures"): lambda w, c: {"params": {"from": "2026-01-01", "to": "2030-12-31"}},
})


STARS_MONTH = "2026-10"  # a month of the sample that has ended


def _star_config(w, c) -> dict:
    from api.stars.config import default_document

    return {"url": f"/api/stars/config/{DISTRICT}",
            "json": {**default_document(), "note": f"matrix {c} {time.monotonic_ns()}"}}  # a new version each


def _star_rating(w, c) -> dict:
    """A rated station's newest rating of the month (computed first if the month has none)."""
    def rated():
        res = w.client.get("/api/stars", params={"month": STARS_MONTH}, headers=w.headers["admin"])
        assert res.status_code == 200, res.text
        return [r for r in res.json()["ratings"] if r["rated"]]

    found = rated()
    if not found:
        res = w.client.post("/api/stars/compute", json={"month": STARS_MONTH}, headers=w.headers["admin"])
        assert res.status_code == 200, res.text
        found = rated()
    return {"url": f"/api/stars/{found[0]['id']}/adjustment", "json": {"stars": 3, "reason": f"matrix {c}"}}


REQUESTS.update({
    ("GET", "/api/stars"): lambda w, c: {"params": {"month": STARS_MONTH, "kind": "unit"}},
    ("GET", "/api/stars/{kind}/{code}/history"): lambda w, c: {"url": f"/api/stars/unit/{w.unit_code}/history"},
    ("POST", "/api/stars/{rating_id}/adjustment"): _star_rating,
    ("POST", "/api/stars/compute"): lambda w, c: {"json": {"month": STARS_MONTH, "district": DISTRICT}},
    ("GET", "/api/stars/config/{district}"): lambda w, c: {"url": f"/api/stars/config/{DISTRICT}"},
    ("PUT", "/api/stars/config/{district}"): _star_config,
})


def test_every_route_has_a_request():
    assert REQUESTS.keys() == RULES.keys()


def expected_status(key: tuple[str, str], caller: str) -> int:
    rule = RULES[key]
    if rule == PUBLIC:
        return SUCCESS[key]
    if caller in ANONYMOUS_LIKE:
        return 401
    role = "dispatcher" if caller == "out_of_scope" else caller
    if caller == "no_grants" or role not in rule:
        return 403
    if caller == "out_of_scope" and key in SCOPED_OBJECT:
        return 404
    return SUCCESS[key]


def call(world: World, key: tuple[str, str], caller: str):
    """Send the route's valid minimal request as ``caller``."""
    method, path = key
    kwargs = REQUESTS[key](world, caller)
    url = kwargs.pop("url", path)
    fresh = kwargs.pop("fresh_session", False)
    headers = {**(world.fresh_headers(caller) if fresh else world.headers[caller]), **kwargs.pop("headers", {})}
    return world.client.request(method, url, headers=headers, **kwargs)


@pytest.mark.parametrize("key", list(RULES), ids=[f"{m} {p}" for m, p in RULES])
def test_route_against_every_caller(world, key):
    method, path = key
    wrong = []
    for caller in CALLERS:
        res = call(world, key, caller)
        want = expected_status(key, caller)
        if res.status_code != want:
            wrong.append(f"{caller}: {res.status_code} (expected {want}) {res.text[:160]}")
        if RULES[key] == PUBLIC:
            assert res.status_code not in (401, 403), f"public {method} {path} refused {caller}"
        if res.status_code in (401, 403, 404):
            assert res.headers["content-type"].startswith("application/json"), (caller, res.headers)
            assert res.json()["detail"]
        if res.status_code == 401:
            assert res.headers.get("www-authenticate") == "Bearer"
    assert not wrong, f"{method} {path}:\n  " + "\n  ".join(wrong)


def test_out_of_scope_object_looks_like_a_missing_one(world):
    """404 for another street's incident has the same shape as for an id that does not exist."""
    h = world.headers["out_of_scope"]
    hidden = world.client.get(f"/api/incidents/{world.incident_id}", headers=h)
    missing = world.client.get("/api/incidents/999999999", headers=h)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(world.incident_id), "N") == \
        missing.json()["detail"].replace("999999999", "N")


# --------------------------------------------------------------------------- every write is audited

READ_ONLY_POSTS = {("POST", "/api/areas/edits/preview")}  # a POST for its body; writes nothing by design
WRITES = [key for key in RULES if key[0] in ("POST", "PUT", "PATCH", "DELETE") and key not in READ_ONLY_POSTS]


@pytest.mark.parametrize("key", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_every_successful_write_leaves_an_audit_row(world, key):
    """Services own writes and write the audit row: a new write route that forgets it fails here."""
    method, path = key
    with world.engine.connect() as conn:
        last = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()
    res = call(world, key, "admin")
    assert res.status_code == SUCCESS[key], res.text
    with world.engine.connect() as conn:
        written = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE id > :last"), {"last": last}).scalar_one()
    assert written >= 1, f"{method} {path} wrote without an audit row"


# --------------------------------------------------------------------------- the shown-place/shown-time rule

TRACKING_CODE = re.compile(r"XA-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


@dataclass
class Exact:
    """What an analyst must never see of the incidents in reach: their exact places (where they
    differ from the ~100 m shown), their exact times (off the hour) and their tracking codes."""

    places: set[tuple[float, float]]
    times: set[datetime]

    @classmethod
    def of(cls, engine) -> Exact:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT ST_X(location), ST_Y(location) FROM incident")).all()
            times = conn.execute(sa.text("""
                SELECT t FROM (SELECT reported_at AS t FROM incident UNION SELECT due_at FROM incident
                               UNION SELECT closed_at FROM incident UNION SELECT at FROM incident_event) x
                WHERE t IS NOT NULL AND t <> date_trunc('hour', t)""")).scalars().all()
            # points shown anyway (workstations, the base map's label point of each area, which is where
            # many tests report; a registered place, where a joint inspection's failed check is reported
            # and which the register shows its readers): a case reported right at one is no leak
            public = {(round(x, 6), round(y, 6)) for x, y in conn.execute(sa.text(
                "SELECT ST_X(geom), ST_Y(geom) FROM station UNION ALL "
                "SELECT ST_X(location), ST_Y(location) FROM place UNION ALL "
                "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM area "
                "WHERE valid_to IS NULL")).all()}
        places = {(round(x, 6), round(y, 6)) for x, y in rows if (round(x, 3), round(y, 3)) != (x, y)} - public
        return cls(places=places, times=set(times))

    def leaks(self, text: str, doc: Any) -> list[str]:
        found = [f"tracking code {m}" for m in set(TRACKING_CODE.findall(text))]
        for stamp in set(ISO_TIME.findall(text)):
            try:
                t = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                continue
            if t.tzinfo is not None and t in self.times:
                found.append(f"exact time {stamp}")
        found += [f"exact place {p}" for p in self._pairs(doc) if (round(p[0], 6), round(p[1], 6)) in self.places]
        return found

    def _pairs(self, doc: Any):
        if isinstance(doc, dict):
            for xs, ys in (("lon", "lat"), ("x", "y"), ("longitude", "latitude"), ("long", "lat")):
                if isinstance(doc.get(xs), (int, float)) and isinstance(doc.get(ys), (int, float)):
                    yield float(doc[xs]), float(doc[ys])
            for v in doc.values():
                yield from self._pairs(v)
        elif isinstance(doc, list):
            if len(doc) >= 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in doc[:2]):
                yield float(doc[0]), float(doc[1])
            for v in doc:
                yield from self._pairs(v)


def _documents(res) -> tuple[str, Any]:
    """The text of an answer and what it carries as data (JSON, SSE frames, vector tile properties)."""
    kind = res.headers.get("content-type", "")
    if "protobuf" in kind or "mvt" in kind:
        import mapbox_vector_tile

        layers = mapbox_vector_tile.decode(res.content) if res.content else {}
        props = [f["properties"] for layer in layers.values() for f in layer["features"]]
        return json.dumps(props, default=str), props
    if not (kind.startswith("application/") and "json" in kind or kind.startswith("text/")):
        return "", None  # images, PDF: no incident in them
    text = res.text
    if kind.startswith("text/event-stream"):
        frames = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        return text, frames
    try:
        return text, res.json()
    except ValueError:
        return text, None


@pytest.fixture(scope="module")
def exact(world) -> Exact:
    # fresh reports and a few steps, so that the queue, the lists and the live replay carry cases
    # with exact places and times to hide
    for state in ("received", "dispatched", "closed"):
        cid = world.cases.report()["id"]
        world.bring(cid, state)
    return Exact.of(world.engine)


# answers about the caller's own report, under the code and secret it holds: its own code and place
OWN_REPORT = {("POST", "/api/incidents"), ("GET", "/api/public/incidents/{tracking_code}"),
              ("GET", "/api/public/incidents/{tracking_code}/photos/{sha256}"),
              ("POST", "/api/public/incidents/{tracking_code}/rating"),
              ("POST", "/api/public/incidents/{tracking_code}/attachments"),
              ("POST", "/api/public/incidents/{public_id}/me-too"), ("POST", "/open311/v2/requests.{fmt}"),
              ("GET", "/open311/v2/tokens/{token}.{fmt}")}


def test_an_analyst_never_sees_an_exact_place_an_exact_time_or_a_tracking_code(world, exact):
    """Every operation of the app, called as an analyst (granted over the whole district): no
    incident's exact place or time, no tracking code, in any document: lists, the queue, the live
    stream, tiles, heatmaps, case views, exports."""
    with world.engine.connect() as conn:
        last_event = conn.execute(sa.text("SELECT max(id) FROM incident_event")).scalar_one()
    leaks, carried = [], []
    for key in set(RULES) - OWN_REPORT:
        kwargs = REQUESTS[key](world, "analyst")
        if key == ("GET", "/api/live"):  # a replay of the latest events, not a resync
            kwargs["headers"] = {"Last-Event-ID": str(last_event - 30)}
        method, path = key
        url = kwargs.pop("url", path)
        kwargs.pop("fresh_session", None)
        headers = {**world.fresh_headers("analyst"), **kwargs.pop("headers", {})}
        res = world.client.request(method, url, headers=headers, **kwargs)
        if res.status_code >= 400:
            continue
        text, doc = _documents(res)
        found = exact.leaks(text, doc)
        if found:
            leaks.append(f"{method} {path}: {sorted(set(found))[:3]}")
        if any(mark in text for mark in ('"incident_id"', '"lon"', '"Point"')):
            carried.append(path)
    # the walk met incidents (else it proves nothing): lists, the queue and the live replay
    assert {"/api/incidents", "/api/desk/queue", "/api/live"} <= set(carried), carried
    assert not leaks, "\n".join(leaks)
