"""Area scope, enforced in the database query: each caller sees only what its grants cover.

Expected sets are computed here with plain SQL on the area tree (``parent_code``), so a
scope filter that leaks or hides too much fails.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.cycle_support import CaseMaker

DISTRICT = "330503"
PHONE = "13800138000"


def _q(engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params)


def _all(engine, query: str, **params) -> list:
    return list(_q(engine, query, **params))


def _scalar(engine, query: str, **params):
    return _q(engine, query, **params).scalar()


UNDER = """
    WITH RECURSIVE down(code) AS (
        SELECT CAST(:root AS text)
        UNION SELECT a.code FROM area a JOIN down ON a.parent_code = down.code WHERE a.valid_to IS NULL
    ) SELECT code FROM down"""


def codes_under(engine, root: str) -> set[str]:
    """An area and everything under it (current tree), by plain recursion on parent_code."""
    return {r.code for r in _all(engine, UNDER, root=root)}


@pytest.fixture(scope="module")
def streets(engine) -> list[str]:
    """Streets with incidents, busiest first."""
    rows = _all(engine, """
        SELECT a.code FROM area a JOIN incident i ON i.street_code = a.code
        WHERE a.kind = 'street' AND a.valid_to IS NULL GROUP BY a.code ORDER BY count(*) DESC, a.code""")
    assert len(rows) >= 2, "the sample should have incidents in several streets"
    return [r.code for r in rows]


@pytest.fixture(scope="module")
def street_a(streets):
    return streets[1]  # not the busiest: keeps pages short


@pytest.fixture(scope="module")
def street_b(streets, street_a):
    return next(s for s in streets if s != street_a)


@pytest.fixture(scope="module")
def dispatcher_a(make_user, login, street_a):
    return login(*make_user("dispatcher", street_a))


def point_in(engine, street: str) -> tuple[float, float]:
    """A point well inside a grid of this street (so routing lands there)."""
    row = _q(engine, """
        SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (
            SELECT ST_PointOnSurface(g.geom) AS p FROM area g JOIN area c ON c.code = g.parent_code
            WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.valid_to IS NULL AND c.parent_code = :s
            ORDER BY ST_Area(g.geom) DESC LIMIT 1) x""", s=street).one()
    return row.lon, row.lat


def report(client, lon, lat, contact=PHONE) -> dict:
    res = client.post("/api/incidents", json={"category": "street_vendor", "lon": lon, "lat": lat,
                                              "description": "摊贩占道", "contact": contact})
    assert res.status_code == 201, res.text
    return res.json()


# --------------------------------------------------------------------------- dispatcher of one street

def test_dispatcher_lists_only_their_street(client, engine, dispatcher_a, street_a):
    expected = _scalar(engine, "SELECT count(*) FROM incident WHERE street_code = :s", s=street_a)
    assert expected > 0
    res = client.get("/api/incidents", params={"limit": 1000}, headers=dispatcher_a)
    assert res.status_code == 200
    doc = res.json()
    assert doc["numberMatched"] == expected
    assert doc["features"], "a dispatcher should see the incidents of their street"
    assert {f["properties"]["street_code"] for f in doc["features"]} == {street_a}
    # the next page stays in scope too
    if doc["links"]:
        nxt = client.get(doc["links"][0]["href"], headers=dispatcher_a).json()
        assert {f["properties"]["street_code"] for f in nxt["features"]} <= {street_a}


def test_dispatcher_filters_cannot_widen_scope(client, engine, dispatcher_a, street_a, street_b):
    """A bbox around another street's incident returns nothing of it."""
    lon, lat = _q(engine, "SELECT ST_X(location), ST_Y(location) FROM incident WHERE street_code = :s LIMIT 1",
                  s=street_b).one()
    bbox = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    doc = client.get("/api/incidents", params={"bbox": bbox, "limit": 1000}, headers=dispatcher_a).json()
    assert all(f["properties"]["street_code"] == street_a for f in doc["features"])


def test_other_street_incident_is_404_not_403(client, engine, dispatcher_a, street_a, street_b):
    own = _scalar(engine, "SELECT max(id) FROM incident WHERE street_code = :s", s=street_a)
    other = _scalar(engine, "SELECT max(id) FROM incident WHERE street_code = :s", s=street_b)
    assert client.get(f"/api/incidents/{own}", headers=dispatcher_a).status_code == 200
    hidden = client.get(f"/api/incidents/{other}", headers=dispatcher_a)
    missing_id = _scalar(engine, "SELECT max(id) + 1000 FROM incident")
    missing = client.get(f"/api/incidents/{missing_id}", headers=dispatcher_a)
    assert hidden.status_code == 404, hidden.text
    assert missing.status_code == 404
    assert hidden.json()["detail"].replace(str(other), "N") == missing.json()["detail"].replace(str(missing_id), "N")


@pytest.mark.parametrize("kind", ["grid", "community", "street"])
def test_dispatcher_sees_only_areas_of_their_street(client, engine, dispatcher_a, street_a, kind):
    under = codes_under(engine, street_a)
    expected = {r.code for r in _all(engine, "SELECT code FROM area WHERE kind = :k AND valid_to IS NULL", k=kind)
                } & under
    assert expected
    doc = client.get("/api/areas", params={"kind": kind}, headers=dispatcher_a).json()
    got = {f["properties"]["code"] for f in doc["features"]}
    assert got == expected
    for f in doc["features"]:  # every grid's lineage has the street
        lineage = _scalar(engine, "SELECT area_lineage(:c)", c=f["properties"]["code"])
        assert street_a in lineage


def test_dispatcher_cannot_list_another_streets_children(client, dispatcher_a, street_b):
    doc = client.get("/api/areas", params={"kind": "community", "parent": street_b}, headers=dispatcher_a).json()
    assert doc["features"] == []


def test_dispatcher_sees_only_stations_and_units_in_scope(client, engine, dispatcher_a, street_a):
    under = codes_under(engine, street_a)
    stations = {r.code for r in _all(engine, "SELECT code, zone_code FROM station")
                if _scalar(engine, "SELECT parent_code FROM area WHERE code = :z AND valid_to IS NULL",
                           z=r.zone_code) in under}
    assert stations, "the street should have a linkage workstation"
    got = {f["properties"]["code"] for f in client.get("/api/stations", headers=dispatcher_a).json()["features"]}
    assert got == stations

    units = {r.code for r in _all(engine, "SELECT code FROM unit WHERE station_code = ANY(:s)", s=list(stations))}
    doc = client.get("/api/units", headers=dispatcher_a).json()
    assert {f["properties"]["code"] for f in doc["features"]} == units
    assert units


def test_dispatcher_cannot_move_another_streets_unit(client, engine, dispatcher_a, street_a):
    under = codes_under(engine, street_a)
    row = _q(engine, """
        SELECT u.code, ST_AsText(u.position) AS pos FROM unit u JOIN station s ON s.code = u.station_code
        JOIN area z ON z.code = s.zone_code AND z.valid_to IS NULL
        WHERE NOT (z.parent_code = ANY(:under)) ORDER BY u.code LIMIT 1""", under=list(under)).one()
    res = client.post(f"/api/units/{row.code}/position", json={"lon": 120.4, "lat": 30.8}, headers=dispatcher_a)
    assert res.status_code == 404
    assert _scalar(engine, "SELECT ST_AsText(position) FROM unit WHERE code = :c", c=row.code) == row.pos


# --------------------------------------------------------------------------- grid worker, officer

def test_grid_worker_sees_only_their_grid(client, engine, make_user, login):
    grid, expected = _q(engine, """
        SELECT grid_code, count(*) FROM incident WHERE grid_code IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC LIMIT 1""").one()
    headers = login(*make_user("grid_worker", grid))
    doc = client.get("/api/incidents", params={"limit": 1000}, headers=headers).json()
    assert doc["numberMatched"] == expected
    assert {f["properties"]["grid_code"] for f in doc["features"]} == {grid}
    other = _scalar(engine, "SELECT max(id) FROM incident WHERE grid_code <> :g", g=grid)
    assert client.get(f"/api/incidents/{other}", headers=headers).status_code == 404


@pytest.fixture(scope="module")
def officer_unit(engine):
    return _all(engine, "SELECT code FROM unit WHERE department_code = 'police' ORDER BY code DESC LIMIT 2")


def test_officer_sees_only_their_units_tasks(client, engine, make_user, login, officer_unit, street_a):
    """Two cases of its own, each dispatched through the API: one to the officer's unit, one to another."""
    unit, other_unit = officer_unit[0].code, officer_unit[1].code
    lon, lat = point_in(engine, street_a)
    cases = CaseMaker(client, login(*make_user("admin", DISTRICT)), lon=lon, lat=lat, unit=unit, second_unit=other_unit,
                      category="street_vendor")
    task, not_task = cases.report()["id"], cases.report()["id"]
    cases.bring(task, "dispatched")
    cases.act(not_task, "triage")
    cases.act(not_task, "dispatch", units=[other_unit], allow_busy=True)
    expected = {r.incident_id for r in _all(engine, "SELECT incident_id FROM assignment WHERE unit_code = :u",
                                            u=unit)}
    headers = login(*make_user("officer", DISTRICT, unit=unit))
    doc = client.get("/api/incidents", params={"limit": 1000}, headers=headers).json()
    assert {f["id"] for f in doc["features"]} == expected
    assert task in expected and not_task not in expected
    assert client.get(f"/api/incidents/{task}", headers=headers).status_code == 200
    assert client.get(f"/api/incidents/{not_task}", headers=headers).status_code == 404


def test_officer_without_unit_sees_no_tasks(client, make_user, login):
    headers = login(*make_user("officer", DISTRICT))
    doc = client.get("/api/incidents", headers=headers).json()
    assert doc["numberMatched"] == 0 and doc["features"] == []


def test_officer_posts_only_their_own_units_position(client, engine, make_user, login, officer_unit):
    unit, other_unit = officer_unit[0].code, officer_unit[1].code
    headers = login(*make_user("officer", DISTRICT, unit=unit))
    before_other = _scalar(engine, "SELECT ST_AsText(position) FROM unit WHERE code = :c", c=other_unit)

    res = client.post(f"/api/units/{unit}/position", json={"lon": 120.41, "lat": 30.87, "status": "busy"},
                      headers=headers)
    assert res.status_code == 200, res.text
    row = _q(engine, "SELECT ST_X(position) AS lon, ST_Y(position) AS lat, status FROM unit WHERE code = :c",
             c=unit).one()
    assert (round(row.lon, 6), round(row.lat, 6), row.status) == (120.41, 30.87, "busy")

    res = client.post(f"/api/units/{other_unit}/position", json={"lon": 120.42, "lat": 30.88}, headers=headers)
    assert res.status_code == 404
    assert _scalar(engine, "SELECT ST_AsText(position) FROM unit WHERE code = :c", c=other_unit) == before_other

    # and the unit list shows the officer their own unit only
    doc = client.get("/api/units", headers=headers).json()
    assert [f["properties"]["code"] for f in doc["features"]] == [unit]


# --------------------------------------------------------------------------- analyst

@pytest.fixture(scope="module")
def analyst(make_user, login):
    return login(*make_user("analyst", DISTRICT))


def _rounded(x: float) -> bool:
    return round(x, 3) == x


def test_analyst_list_has_no_personal_data(client, engine, analyst, street_a):
    lon, lat = point_in(engine, street_a)
    report(client, lon + 0.00012345, lat + 0.00012345)
    res = client.get("/api/incidents", params={"limit": 200}, headers=analyst)
    assert res.status_code == 200
    assert PHONE not in res.text
    doc = res.json()
    assert doc["numberMatched"] == _scalar(engine, "SELECT count(*) FROM incident WHERE district_code = :d",
                                           d=DISTRICT)
    for f in doc["features"]:
        props = f["properties"]
        assert not {"tracking_code", "description", "contact", "reporter_contact", "routing"} & props.keys()
        assert all(_rounded(c) for c in f["geometry"]["coordinates"]), f["geometry"]


def test_analyst_item_has_no_personal_data(client, engine, analyst, street_a):
    lon, lat = point_in(engine, street_a)
    created = report(client, lon + 0.00012345, lat + 0.00012345)
    res = client.get(f"/api/incidents/{created['id']}", headers=analyst)
    assert res.status_code == 200
    assert PHONE not in res.text and created["tracking_code"] not in res.text
    doc = res.json()
    assert not {"tracking_code", "description", "contact", "routing", "events"} & doc.keys()
    assert _rounded(doc["lon"]) and _rounded(doc["lat"])
    assert abs(doc["lon"] - (lon + 0.00012345)) < 0.0006


def test_dispatcher_in_scope_sees_contact(client, engine, dispatcher_a, street_a):
    created = report(client, *point_in(engine, street_a))
    doc = client.get(f"/api/incidents/{created['id']}", headers=dispatcher_a).json()
    assert doc["street_code"] == street_a
    assert doc["contact"] == PHONE


# --------------------------------------------------------------------------- per-grant scope

def test_scope_is_checked_per_grant(client, engine, make_user, login, street_a, street_b):
    """Dispatcher over street A, analyst over the district: contact (and case detail) only in A."""
    headers = login(*make_user("dispatcher", street_a, grants=[("analyst", DISTRICT)]))
    in_a = report(client, *point_in(engine, street_a))
    in_b = report(client, *point_in(engine, street_b))

    a = client.get(f"/api/incidents/{in_a['id']}", headers=headers)
    assert a.status_code == 200
    assert a.json()["street_code"] == street_a and a.json()["contact"] == PHONE

    b = client.get(f"/api/incidents/{in_b['id']}", headers=headers)
    assert b.status_code == 200, "the analyst grant covers street B"
    assert b.json()["street_code"] == street_b
    assert "contact" not in b.json() and PHONE not in b.text
    # through the analyst grant, street B is seen as an analyst sees it
    assert not {"tracking_code", "description", "routing", "events"} & b.json().keys()
    assert _rounded(b.json()["lon"]) and _rounded(b.json()["lat"])

    listing = client.get("/api/incidents", params={"limit": 50}, headers=headers).json()  # newest first
    by_id = {f["id"]: f["properties"] for f in listing["features"]}
    assert by_id[in_a["id"]]["description"] and by_id[in_a["id"]]["tracking_code"] == in_a["tracking_code"]
    assert not {"description", "tracking_code"} & by_id[in_b["id"]].keys()
