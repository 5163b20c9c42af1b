"""Star ratings (api.stars) through the API: a month's cases built through the API for three
workstations and one unit, computed and checked by hand; recomputation gives the same ratings;
a leader's adjustment needs a reason, is audited and shown beside the computed rating; scope;
bad input and bad configurations.

The cases are reported with the clock set into June 2025 (``api.clock.fixed``), before the
sample's year, at one point in each of three zones, in one category (street vendors: due at
17:00 of the first working day after the report; Tue 10 - Fri 13 June 2025 are working days).
The district's configuration is set through the API first (min_cases 4 so a handful of cases
is rated): on-time closure and satisfaction weighted 0.5 each, repeat complaints a penalty of 20
points at 100%, thresholds 60/75/85/95.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api import clock
from tests.cycle_support import CaseMaker, police_units

SH = ZoneInfo("Asia/Shanghai")
DISTRICT = "330503"
CATEGORY = "street_vendor"
MONTH = "2025-06"
CONFIG = {"note": "test", "min_cases": 4, "weights": {"on_time_rate": 0.5, "satisfaction": 0.5},
          "penalties": {"repeat_complaints": 20}, "thresholds": [60, 75, 85, 95]}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def assert_field_error(res, status: int, field: str, words: str = "") -> None:
    assert res.status_code == status, f"{res.status_code}: {res.text[:300]}"
    named = [e for e in res.json()["errors"] if e["field"] == field]
    assert named, f"no error names {field!r}: {res.json()}"
    assert any(words.lower() in e["reason"].lower() for e in named), f"reason lacks {words!r}: {named}"


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def zones(engine) -> list[dict]:
    """Three zones with their station, street and a point in one of their grids (the last codes:
    no other module reports there)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT DISTINCT ON (z.code) z.code AS zone, z.parent_code AS street, s.code AS station,
                   ST_X(x.p) AS lon, ST_Y(x.p) AS lat
            FROM area z JOIN station s ON s.zone_code = z.code
            JOIN area g ON g.kind = 'grid' AND g.valid_to IS NULL AND g.geom && z.geom
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS p) x
            WHERE z.kind = 'zone' AND z.valid_to IS NULL AND ST_Covers(z.geom, x.p)
            ORDER BY z.code DESC, g.code""")).mappings().all()
    streets: set[str] = set()
    picked = []
    for r in rows:  # three zones of three streets (a street's leader sees one of them)
        if r["street"] not in streets:
            streets.add(r["street"])
            picked.append(dict(r))
    return picked[:3]


@pytest.fixture(scope="module")
def world(client, admin, engine, zones):
    """Station A (6 cases), B (4 cases, through unit U), C (1 case):

    a1-a4  Tue 10 Jun 10:00, closed at the desk Wed 11 Jun 16:00 (due 11 Jun 17:00): on time;
           rated 5, 4, 3 and not rated
    a5     Tue 10 Jun 10:00, closed Thu 12 Jun 10:00: late
    a6     Thu 12 Jun 11:00 at the same point: a repeat complaint of a1 (closed the day before), open
    b1-b4  Wed 11 Jun 10:00, sent to unit U and closed 15:00 (due 12 Jun 17:00): on time; b1, b2 rated 5
    c1     Fri 13 Jun 10:00, open
    """
    unit, other = police_units(engine)
    makers = [CaseMaker(client, admin, lon=z["lon"], lat=z["lat"], unit=unit, second_unit=other, category=CATEGORY)
              for z in zones]
    a, b, c = makers
    made: list[int] = []

    def report(cm, at):
        with clock.fixed(at):
            doc = cm.report()
        made.append(doc["id"])
        return doc

    def rate(doc, stars, at):
        with clock.fixed(at):
            res = client.post(f"/api/public/incidents/{doc['tracking_code']}/rating", json={"rating": stars},
                              headers={"X-Reporter-Token": doc["reporter_token"]})
        assert res.status_code == 200, res.text

    res = client.put(f"/api/stars/config/{DISTRICT}", json=CONFIG, headers=admin)
    assert res.status_code == 200, res.text
    version = res.json()["version"]
    a_cases = [report(a, local(2025, 6, 10, 10)) for _ in range(5)]
    for doc in a_cases[:4]:
        with clock.fixed(local(2025, 6, 11, 16)):
            a.close_at_desk(doc["id"])
    with clock.fixed(local(2025, 6, 12, 10)):
        a.close_at_desk(a_cases[4]["id"])
    for doc, stars in zip(a_cases, (5, 4, 3), strict=False):
        rate(doc, stars, local(2025, 6, 12, 12))
    report(a, local(2025, 6, 12, 11))
    b_cases = [report(b, local(2025, 6, 11, 10)) for _ in range(4)]
    for doc in b_cases:
        with clock.fixed(local(2025, 6, 11, 15)):
            b.bring(doc["id"], "closed")
    for doc in b_cases[:2]:
        rate(doc, 5, local(2025, 6, 11, 16))
    report(c, local(2025, 6, 13, 10))
    with engine.connect() as conn:  # each case lies in its zone
        got = dict(conn.execute(sa.text("SELECT id, zone_code FROM incident WHERE id = ANY(:ids)"),
                                {"ids": made}).all())
    zone_of = [zones[0]["zone"]] * 6 + [zones[1]["zone"]] * 4 + [zones[2]["zone"]]
    assert [got[i] for i in made] == zone_of
    yield {"version": version, "unit": unit, "other": other}
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM incident WHERE id = ANY(:ids)"), {"ids": made})


def compute(client, admin) -> dict:
    res = client.post("/api/stars/compute", json={"month": MONTH, "district": DISTRICT}, headers=admin)
    assert res.status_code == 200, res.text
    return res.json()


def ratings(client, headers, kind: str = "station") -> dict[str, dict]:
    res = client.get("/api/stars", params={"month": MONTH, "kind": kind}, headers=headers)
    assert res.status_code == 200, res.text
    return {r["code"]: r for r in res.json()["ratings"]}


@pytest.fixture(scope="module")
def computed(client, admin, world):
    doc = compute(client, admin)
    assert doc["districts"] == [{"district": DISTRICT, "config_version": world["version"]}]
    return doc


def parts(rating: dict) -> dict[str, tuple]:
    return {e["key"]: (e["role"], e["numerator"], e["denominator"], e["weight"], e["points"])
            for e in rating["breakdown"]}


def test_hand_worked_ratings(client, admin, zones, world, computed):
    got = ratings(client, admin)
    a, b, c = (got[z["station"]] for z in zones)
    # A: on time 4 of 5 closed (a5 late), satisfied 2 of 3 rated (a3 gave 3), repeats 1 of 6 (a6):
    # 100 x (0.5 x 0.8 + 0.5 x 2/3) - 20 x 1/6 = 40 + 33.3333 - 3.3333 = 70.00: 2 stars (60 reached, 75 not)
    assert parts(a) == {"on_time_rate": ("weight", 4, 5, 0.5, 40.0),
                        "satisfaction": ("weight", 2, 3, 0.5, 33.3333),
                        "repeat_complaints": ("penalty", 1, 6, 20.0, -3.3333)}
    assert (a["cases"], a["rated"], a["score"], a["stars"]) == (6, True, 70.0, 2)
    # B: 4 of 4 on time, 2 of 2 satisfied, no repeat: 100, 5 stars
    assert parts(b) == {"on_time_rate": ("weight", 4, 4, 0.5, 50.0), "satisfaction": ("weight", 2, 2, 0.5, 50.0),
                        "repeat_complaints": ("penalty", 0, 4, 20.0, 0.0)}
    assert (b["cases"], b["rated"], b["score"], b["stars"]) == (4, True, 100.0, 5)
    # C: one case, fewer than min_cases: no score, no stars, never ranked
    assert (c["cases"], c["rated"], c["score"], c["stars"], c["rank"]) == (1, False, None, None, None)
    assert "fewer than 4" in c["unrated_reason"]
    assert b["rank"] < a["rank"]
    assert {a["config_version"], b["config_version"], c["config_version"]} == {world["version"]}
    # the unit sent to B's cases is rated over them; a unit sent nowhere that month has no cases
    units = ratings(client, admin, "unit")
    u, idle = units[world["unit"]], units[world["other"]]
    assert (u["cases"], u["score"], u["stars"]) == (4, 100.0, 5) and parts(u) == parts(b)
    assert (idle["cases"], idle["rated"], idle["rank"]) == (0, False, None)
    ranked = [r["rank"] for r in units.values() if r["rated"]]
    assert ranked and all(r["rank"] is None for r in units.values() if not r["rated"])


def test_recomputing_a_month_gives_the_same_ratings(client, admin, zones, computed):
    def comparable(rows: dict[str, dict]) -> dict[str, tuple]:
        return {code: (r["cases"], r["rated"], r["score"], r["stars"], r["breakdown"], r["config_version"], r["rank"])
                for code, r in rows.items()}

    before = ratings(client, admin)
    units_before = ratings(client, admin, "unit")
    again = compute(client, admin)
    after = ratings(client, admin)
    assert comparable(after) == comparable(before)
    assert comparable(ratings(client, admin, "unit")) == comparable(units_before)
    station = zones[0]["station"]
    assert after[station]["id"] != before[station]["id"] and after[station]["newest"]
    assert after[station]["computed_at"] == again["computed_at"] != before[station]["computed_at"]


def test_a_leader_adjusts_with_a_reason_audited_and_shown_beside(client, admin, make_user, login, zones, computed):
    leader = login(*make_user("leader", zones[0]["street"]))
    a = ratings(client, leader)[zones[0]["station"]]
    url = f"/api/stars/{a['id']}/adjustment"
    assert_field_error(client.post(url, json={"stars": 4}, headers=leader), 422, "reason")
    assert_field_error(client.post(url, json={"stars": 4, "reason": "   "}, headers=leader), 422, "reason", "reason")
    assert_field_error(client.post(url, json={"stars": 6, "reason": "r"}, headers=leader), 422, "stars")
    dispatcher = login(*make_user("dispatcher", zones[0]["street"]))
    assert client.post(url, json={"stars": 4, "reason": "r"}, headers=dispatcher).status_code == 403
    other_leader = login(*make_user("leader", zones[1]["street"]))
    assert client.post(url, json={"stars": 4, "reason": "r"}, headers=other_leader).status_code == 404
    assert not ratings(client, leader)[zones[0]["station"]]["adjustment"]  # nothing written by the refusals

    reason = "the late case waited for a part from the county (已核实)"
    res = client.post(url, json={"stars": 3, "reason": reason}, headers=leader)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert (doc["stars"], doc["score"], doc["stars_shown"]) == (2, 70.0, 3)  # the computed rating is kept
    assert doc["adjustment"]["reason"] == reason and doc["adjustment"]["stars"] == 3
    shown = ratings(client, admin)[zones[0]["station"]]
    assert (shown["stars"], shown["adjustment"]["stars"], shown["stars_shown"]) == (2, 3, 3)
    log = client.get("/api/admin/audit", params={"entity": "star_rating", "entity_id": str(a["id"])}, headers=admin)
    assert log.status_code == 200
    [entry] = [e for e in log.json() if e["action"] == "stars_adjust"]
    assert entry["after"]["reason"] == reason and entry["after"]["stars"] == 3
    assert entry["before"]["computed_stars"] == 2
    # recomputed: the adjustment stays beside the new computation; the old one is no longer adjustable
    compute(client, admin)
    newest = ratings(client, admin)[zones[0]["station"]]
    assert newest["id"] != a["id"] and newest["adjustment"]["rating_id"] == a["id"] and newest["stars_shown"] == 3
    assert client.post(url, json={"stars": 4, "reason": "r"}, headers=leader).status_code == 409
    history = client.get(f"/api/stars/station/{zones[0]['station']}/history", headers=leader)
    assert history.status_code == 200, history.text
    months = {m["month"]: m for m in history.json()["months"]}
    assert months[MONTH]["id"] == newest["id"] and months[MONTH]["adjustment"]["stars"] == 3
    # no stars to adjust on a month with too few cases
    c = ratings(client, admin)[zones[2]["station"]]
    third = login(*make_user("leader", zones[2]["street"]))
    res = client.post(f"/api/stars/{c['id']}/adjustment", json={"stars": 4, "reason": "r"}, headers=third)
    assert res.status_code == 409, res.text


def test_scope_a_street_leader_sees_its_own_stations_and_units(client, make_user, login, zones, engine, computed):
    street = zones[0]["street"]
    leader = login(*make_user("leader", street))
    with engine.connect() as conn:
        stations = set(conn.execute(sa.text(
            "SELECT s.code FROM station s JOIN area z ON z.code = s.zone_code AND z.valid_to IS NULL "
            "WHERE z.parent_code = :s"), {"s": street}).scalars())
        units = set(conn.execute(sa.text(
            "SELECT u.code FROM unit u JOIN station s ON s.code = u.station_code "
            "JOIN area z ON z.code = s.zone_code AND z.valid_to IS NULL WHERE z.parent_code = :s"),
            {"s": street}).scalars())
    assert zones[0]["station"] in stations
    assert set(ratings(client, leader)) == stations
    assert set(ratings(client, leader, "unit")) == units
    other = zones[1]["station"]
    assert client.get(f"/api/stars/station/{other}/history", headers=leader).status_code == 404
    assert client.get(f"/api/stars/station/{zones[0]['station']}/history", headers=leader).status_code == 200
    # an analyst reads, an officer does not
    assert client.get("/api/stars", params={"month": MONTH}, headers=login(*make_user("analyst", street))).status_code \
        == 200
    assert client.get("/api/stars", params={"month": MONTH}, headers=login(*make_user("grid_worker", street))) \
        .status_code == 403
    # the leader reads the KPIs of the street too
    assert client.get("/api/kpis", params={"area": street}, headers=leader).status_code == 200


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"month": "2025-13"}, "month", "YYYY-MM"),
    ({"month": "June"}, "month", "YYYY-MM"),
    ({"month": MONTH, "kind": "zone"}, "kind", "station, unit"),
])
def test_bad_month_or_kind_is_a_422_naming_the_field(client, admin, params, field, words):
    assert_field_error(client.get("/api/stars", params=params, headers=admin), 422, field, words)


def test_bad_compute_is_a_422_and_writes_nothing(client, admin):
    future = f"{datetime.now(SH).year + 1}-01"
    assert_field_error(client.post("/api/stars/compute", json={"month": future}, headers=admin), 422, "month",
                       "has not ended")
    res = client.post("/api/stars/compute", json={"month": "2025-05", "district": "nowhere"}, headers=admin)
    assert_field_error(res, 404, "district", "nowhere")
    assert client.get("/api/stars", params={"month": "2025-05"}, headers=admin).json()["ratings"] == []


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"weights": {"on_time_rate": 0.5, "satisfaction": 0.4}}, "weights", "sum to 1"),
    ({"weights": {"on_time_rate": 0.5, "happiness": 0.5}}, "weights.happiness", "unknown KPI key"),
    ({"weights": {"on_time_rate": 0.5, "reopen_rate": 0.5}}, "weights.reopen_rate", "not a KPI to weigh"),
    ({"penalties": {"satisfaction": 10}}, "penalties.satisfaction", "not a KPI to penalise"),
    ({"thresholds": [60, 75, 70, 95]}, "thresholds[2]", "must increase"),
    ({"thresholds": [60, 75, 95]}, "thresholds", "list of 4"),
    ({"min_cases": 0}, "min_cases", "whole number"),
    ({"colour": "blue"}, "colour", "unknown field"),
])
def test_a_bad_configuration_is_a_422_naming_the_field_and_stores_nothing(client, admin, change, field, words):
    before = client.get(f"/api/stars/config/{DISTRICT}", headers=admin).json()
    res = client.put(f"/api/stars/config/{DISTRICT}", json={**CONFIG, **change}, headers=admin)
    assert_field_error(res, 422, field, words)
    assert client.get(f"/api/stars/config/{DISTRICT}", headers=admin).json() == before


def test_configuration_versions(client, admin, make_user, login):
    first = client.put(f"/api/stars/config/{DISTRICT}", json=CONFIG, headers=admin).json()
    same = client.put(f"/api/stars/config/{DISTRICT}", json=CONFIG, headers=admin).json()
    assert same["version"] == first["version"]  # the same document stores nothing
    changed = client.put(f"/api/stars/config/{DISTRICT}", json={**CONFIG, "min_cases": 5}, headers=admin).json()
    assert changed["version"] == first["version"] + 1 and changed["document"]["min_cases"] == 5
    back = client.put(f"/api/stars/config/{DISTRICT}", json=CONFIG, headers=admin).json()
    assert back["version"] == first["version"] + 2
    leader = login(*make_user("leader", DISTRICT))
    assert client.get(f"/api/stars/config/{DISTRICT}", headers=leader).json()["version"] == back["version"]
    assert client.put(f"/api/stars/config/{DISTRICT}", json=CONFIG, headers=leader).status_code == 403


def test_the_default_configuration_is_valid_and_documented():
    from api.stars import config

    doc = config.validate(config.default_document())
    assert doc["min_cases"] == 20 and abs(sum(doc["weights"].values()) - 1) < 1e-9
    assert "min_cases" in doc["note"] and "threshold" in doc["note"]
