"""Joint inspections (综合查一次), built through the API as users would: checklists versioned
(bad input refused naming the field, nothing written), the places due in a zone, a plan for a
two-department team (each due place once with both departments, the day's capacity, an order no
longer than the naive one), the visit on the phone (arrival checked against the place), a failed
check becoming a case the desk sees, the re-check closing it, and the figures worked by hand."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api import clock
from api.inspections.solver import tour_length
from tests.cycle_support import png_bytes

ZONE_A, STATION_A = "330503-Z10", "330503-S10"
SAMPLE_A = {"SP0026", "SP0028", "SP0029", "SP0030", "SP0031", "SP0032", "SP0033", "SP0041", "SP0045", "SP0055",
            "SP0063"}  # the sample's places in the zone
CAPACITY = 12  # visits per team-day (the default inspection_visits_per_day)
TEAM_A = ["U-fire-003", "U-market-001"]
ZONE_B = "330503-Z18"                               # 6 sample places; SP0072 a restaurant
STREET_B = "330503101"
TEAM_B = ["U-fire-013", "U-market-013"]
RESTAURANT = "SP0072"
FIRE_PASS = {"exits_clear": True, "extinguishers_valid": True, "wiring_safe": True, "extinguisher_count": 2,
             "gas_cylinders_safe": True}
MARKET_PASS = {"licence_displayed": True, "food_hygiene": True}


def day(n: int) -> date:
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=n)


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", "330503"))


@pytest.fixture(scope="module")
def analyst(make_user, login):
    return login(*make_user("analyst", "330503"))


@pytest.fixture(scope="module")
def desk_b(make_user, login):
    return login(*make_user("dispatcher", STREET_B))


@pytest.fixture(scope="module")
def fire_b(make_user, login):
    return login(*make_user("officer", "330503", unit=TEAM_B[0]))


@pytest.fixture(scope="module")
def market_b(make_user, login):
    return login(*make_user("officer", "330503", unit=TEAM_B[1]))


def field_of(res) -> set[str]:
    """The fields an error names, each also as its last part (checklists.1.items: items)."""
    doc = res.json()
    named = {e.get("field") or "" for e in doc.get("errors", [])} | {doc.get("field") or ""}
    return named | {f.rsplit(".", 1)[-1] for f in named}


def count(engine, query: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar_one()


def fire_checklist(**extra) -> dict:
    items = [{"key": "exits_clear", "zh": "安全出口畅通", "en": "Exits clear", "kind": "yes_no"},
             {"key": "extinguisher_count", "zh": "灭火器数量", "en": "Extinguishers", "kind": "number", "min": 2}]
    return {"department": "fire", "category": "other", "case_category": "fire_hazard", "items": items, **extra}


def test_checklists_are_versioned_and_bad_input_writes_nothing(client, engine, analyst, admin):
    before = count(engine, "SELECT count(*) FROM checklist")
    bad = [
        (fire_checklist(department="nosuch"), "department"),
        (fire_checklist(category="casino"), "category"),
        (fire_checklist(case_category="nosuch"), "case_category"),
        (fire_checklist(items=[]), "items"),
        (fire_checklist(items=[{"key": "a", "zh": "甲", "en": "A", "kind": "colour"}]), "kind"),
        (fire_checklist(items=[{"key": "a", "zh": "甲", "en": "A", "kind": "yes_no"}] * 2), "items"),
    ]
    for body, field in bad:
        # the bad one second in a batch: the good first one is not written either
        res = client.post("/api/inspections/checklists", headers=analyst,
                          json={"checklists": [fire_checklist(category="care_home"), body]})
        assert 400 <= res.status_code < 500 and field in field_of(res), (field, res.text)
    assert count(engine, "SELECT count(*) FROM checklist") == before

    # other modules on this database may have saved fire/other checklists already: count from theirs,
    # and send items of this run's own so the first save is a change
    v0 = count(engine, "SELECT coalesce(max(version), 0) FROM checklist "
                       "WHERE department_code = 'fire' AND category = 'other'")
    audits = count(engine, "SELECT count(*) FROM audit_log WHERE action = 'checklist.save' "
                           "AND entity_id = 'fire/other'")
    mine = fire_checklist()
    mine["items"][0]["en"] = f"Exits clear ({v0})"
    res = client.post("/api/inspections/checklists", headers=analyst, json={"checklists": [mine]})
    assert res.status_code == 200, res.text
    assert res.json()["saved"] == [{"department": "fire", "category": "other", "version": v0 + 1, "changed": True}]
    same = client.post("/api/inspections/checklists", headers=analyst, json={"checklists": [mine]})
    assert same.json()["saved"][0] == {"department": "fire", "category": "other", "version": v0 + 1,
                                       "changed": False}
    changed = {**mine, "items": mine["items"][:1]}
    res = client.post("/api/inspections/checklists", headers=analyst, json={"checklists": [changed]})
    assert res.json()["saved"][0]["version"] == v0 + 2
    listed = client.get("/api/inspections/checklists?department=fire&category=other&history=true", headers=admin)
    versions = [(c["version"], c["valid_to"] is None, len(c["items"])) for c in listed.json()["checklists"]]
    assert versions[-2:] == [(v0 + 1, False, 2), (v0 + 2, True, 1)]
    assert all(not current for _, current, _ in versions[:-1])  # one current version
    assert count(engine, "SELECT count(*) FROM audit_log WHERE action = 'checklist.save' "
                         "AND entity_id = 'fire/other'") == audits + 2


def test_due_places_rank_risk_and_time_since_the_last_visit(client, admin):
    res = client.get(f"/api/inspections/due?zone={ZONE_A}&day={day(1)}", headers=admin)
    assert res.status_code == 200, res.text
    places = res.json()["places"]
    # the sample's places were registered on 2024-01-01 and never visited: every one is due
    assert SAMPLE_A <= {p["code"] for p in places}
    overdue = [p["overdue"] for p in places]
    assert overdue == sorted(overdue, reverse=True) and min(overdue) >= 1
    # a medium-risk care home (60 days) is more overdue than a low-risk shop (180 days)
    by_code = {p["code"]: p for p in places}
    assert by_code["SP0030"]["interval_days"] == 60 and by_code["SP0031"]["interval_days"] == 180
    assert by_code["SP0030"]["overdue"] == pytest.approx(3 * by_code["SP0031"]["overdue"], rel=0.01)
    assert by_code["SP0031"]["departments"] == ["enforcement", "fire", "market"]


def test_bad_plans_are_refused_naming_the_field(client, engine, admin, desk_b):
    before = count(engine, "SELECT count(*) FROM inspection_plan")
    for body, field in [
        ({"zone": ZONE_A, "day": str(day(1)), "team": []}, "team"),
        ({"zone": ZONE_A, "day": str(day(1)), "team": ["U-nosuch"]}, "team"),
        ({"zone": ZONE_A, "day": str(day(1)), "team": ["U-fire-013"]}, "team"),   # of another station
        ({"zone": ZONE_A, "day": str(day(-1)), "team": TEAM_A}, "day"),
        ({"zone": "330503-Z99", "day": str(day(1)), "team": TEAM_A}, "zone"),
        ({"zone": ZONE_A, "day": "someday", "team": TEAM_A}, "day"),
    ]:
        res = client.post("/api/inspections/plans", headers=admin, json=body)
        assert 400 <= res.status_code < 500 and field in field_of(res), (field, res.text)
    other = client.post("/api/inspections/plans", headers=desk_b, json={"zone": ZONE_A, "day": str(day(1)),
                                                                         "team": TEAM_A})
    assert other.status_code == 404 and "zone" in field_of(other)
    assert count(engine, "SELECT count(*) FROM inspection_plan") == before


def test_a_two_department_plan_covers_each_place_once_within_capacity_in_order(client, engine, admin):
    # three more places in the zone: 14 due, more than a team-day holds (12)
    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(location), ST_Y(location) FROM place WHERE code = 'SP0031' "
                                        "AND valid_to IS NULL")).one()
    for n in range(3):
        res = client.post("/api/places", headers=admin, json={
            "code": f"T-INSP-{n}", "category": "restaurant", "name": f"面馆 {n}", "risk_level": "low",
            "lon": lon + 0.0004 * (n + 1), "lat": lat})
        assert res.status_code == 201, res.text
        with engine.begin() as conn:  # registered long ago (after the sample's, on 2024-01-01), a month apart
            conn.execute(sa.text("UPDATE place SET valid_from = :d WHERE code = :c"),
                         {"c": f"T-INSP-{n}", "d": f"2024-0{6 + n}-01"})
    due = client.get(f"/api/inspections/due?zone={ZONE_A}&day={day(1)}&team={TEAM_A[0]}&team={TEAM_A[1]}",
                     headers=admin).json()["places"]
    assert len(due) >= 14 and SAMPLE_A | {"T-INSP-0", "T-INSP-1", "T-INSP-2"} <= {p["code"] for p in due}

    res = client.post("/api/inspections/plans", headers=admin,
                      json={"zone": ZONE_A, "day": str(day(1)), "team": TEAM_A})
    assert res.status_code == 201, res.text
    plan = res.json()
    visits = plan["visits"]
    assert plan["departments"] == ["fire", "market"] and plan["station"] == STATION_A
    assert len(visits) == CAPACITY and plan["left_out"] == len(due) - CAPACITY
    codes = [v["place"]["code"] for v in visits]
    assert len(set(codes)) == CAPACITY and [v["seq"] for v in visits] == list(range(1, CAPACITY + 1))
    # the most overdue went first: those left out are the least overdue of the places due
    left_out = {p["code"] for p in due} - set(codes)
    assert left_out == {p["code"] for p in due[CAPACITY:]}
    # each place with every department of the team whose checklist covers its category
    market_checks = {"shop", "restaurant", "market", "hotel", "entertainment_venue"}
    for v in visits:
        expected = ["fire", "market"] if v["place"]["category"] in market_checks else ["fire"]
        assert v["departments"] == expected, v
    # the order is no longer than visiting them most overdue first (both from the station and back)
    station = (plan["station_lon"], plan["station_lat"])
    routed = tour_length(station, [(v["place"]["lon"], v["place"]["lat"]) for v in visits])
    naive = tour_length(station, [(p["lon"], p["lat"]) for p in due if p["code"] in set(codes)])
    assert plan["route_m"] == pytest.approx(routed, rel=1e-6)
    assert routed <= naive + 1e-6 and plan["naive_m"] == pytest.approx(naive, rel=1e-6)
    # planned places are not due again while their visit is pending
    again = client.get(f"/api/inspections/due?zone={ZONE_A}&day={day(2)}", headers=admin).json()["places"]
    assert {p["code"] for p in again} == left_out


def _visit(client, headers, code: str) -> dict:
    res = client.get("/api/inspections/visits", headers=headers)
    assert res.status_code == 200, res.text
    return next(v for v in res.json()["visits"] if v["place"]["code"] == code and v["status"] != "done")


def test_a_failed_check_becomes_a_case_and_the_recheck_closes_it(client, engine, desk_b, fire_b, market_b, admin):
    res = client.post("/api/inspections/plans", headers=desk_b, json={"zone": ZONE_B, "day": str(day(1)),
                                                                       "team": TEAM_B})
    assert res.status_code == 201, res.text
    visit = _visit(client, fire_b, RESTAURANT)
    assert visit["departments"] == ["fire", "market"]
    assert {c["department"] for c in visit["checklists"]} == {"fire", "market"}
    place = visit["place"]

    far = client.post(f"/api/inspections/visits/{visit['id']}/arrive", headers=fire_b,
                      json={"lon": place["lon"] + 0.01, "lat": place["lat"]})
    assert far.status_code == 422 and "lon" in field_of(far) and " m from " in far.text
    early = client.post(f"/api/inspections/visits/{visit['id']}/checks", headers=fire_b,
                        json={"department": "fire", "answers": FIRE_PASS})
    assert early.status_code == 409
    near = client.post(f"/api/inspections/visits/{visit['id']}/arrive", headers=fire_b,
                       json={"lon": place["lon"] + 0.0005, "lat": place["lat"]})
    assert near.status_code == 200 and near.json()["status"] == "arrived"
    assert 40 < near.json()["arrived_distance_m"] < 60

    photo = client.post(f"/api/inspections/visits/{visit['id']}/photos", headers=fire_b,
                        files={"file": ("p.png", png_bytes(), "image/png")})
    assert photo.status_code == 201, photo.text
    sha = photo.json()["sha256"]
    for body, field in [({"department": "police", "answers": {}}, "department"),
                        ({"department": "fire", "answers": {**FIRE_PASS, "nosuch": True}}, "answers"),
                        ({"department": "fire", "answers": {"exits_clear": True}}, "answers"),
                        ({"department": "fire", "answers": {**FIRE_PASS, "exits_clear": "yes"}}, "answers"),
                        ({"department": "fire", "answers": FIRE_PASS, "photos": ["0" * 64]}, "photos")]:
        res = client.post(f"/api/inspections/visits/{visit['id']}/checks", headers=fire_b, json=body)
        assert res.status_code == 422 and field in field_of(res), (field, res.text)

    failed = client.post(f"/api/inspections/visits/{visit['id']}/checks", headers=fire_b, json={
        "department": "fire", "answers": {**FIRE_PASS, "exits_clear": False}, "findings": "后门堆放杂物",
        "photos": [sha]})
    assert failed.status_code == 200, failed.text
    [fire_check] = failed.json()["checks"]
    assert fire_check["failed"] == ["exits_clear"] and failed.json()["status"] == "arrived"
    [case_id] = fire_check["cases"]
    market = client.post(f"/api/inspections/visits/{visit['id']}/checks", headers=market_b,
                         json={"department": "market", "answers": MARKET_PASS})
    assert market.status_code == 200 and market.json()["status"] == "done"

    # the desk of the place's street sees the case: source inspection, at the place, with the photo
    case = client.get(f"/api/incidents/{case_id}", headers=desk_b)
    assert case.status_code == 200, case.text
    doc = case.json()
    assert doc["source"] == "inspection" and doc["category_code"] == "fire_hazard" and doc["status"] == "received"
    assert RESTAURANT in doc["description"] and "安全出口" in doc["description"]
    assert doc.get("due_at")
    queue = client.get("/api/desk/queue", headers=desk_b, params={"q": RESTAURANT}).json()
    assert case_id in {c["id"] for c in queue["items"]}
    assert count(engine, "SELECT count(*) FROM incident_attachment WHERE incident_id = :i", i=case_id) == 1
    assert count(engine, "SELECT count(*) FROM inspection_finding WHERE incident_id = :i AND place_code = :p",
                 i=case_id, p=RESTAURANT) == 1

    # the re-check: the place is due again (its finding is open) and a passing fire check closes the case
    due = client.get(f"/api/inspections/due?zone={ZONE_B}&day={day(2)}", headers=desk_b).json()["places"]
    assert next(p for p in due if p["code"] == RESTAURANT)["recheck"]
    res = client.post("/api/inspections/plans", headers=desk_b, json={"zone": ZONE_B, "day": str(day(2)),
                                                                       "team": TEAM_B})
    assert res.status_code == 201, res.text
    recheck = _visit(client, fire_b, RESTAURANT)
    assert recheck["recheck"] and recheck["id"] != visit["id"]
    client.post(f"/api/inspections/visits/{recheck['id']}/arrive", headers=fire_b,
                json={"lon": place["lon"], "lat": place["lat"]})
    res = client.post(f"/api/inspections/visits/{recheck['id']}/checks", headers=fire_b,
                      json={"department": "fire", "answers": FIRE_PASS})
    assert res.status_code == 200, res.text
    closed = client.get(f"/api/incidents/{case_id}", headers=desk_b).json()
    assert closed["status"] == "closed"
    assert count(engine, "SELECT count(*) FROM incident_event WHERE incident_id = :i AND kind = 'close_on_recheck' "
                         "AND actor = 'system'", i=case_id) == 1
    assert count(engine, "SELECT count(*) FROM audit_log WHERE entity = 'incident' AND entity_id = :i "
                         "AND action = 'close_on_recheck'", i=str(case_id)) == 1
    client.post(f"/api/inspections/visits/{recheck['id']}/checks", headers=market_b,
                json={"department": "market", "answers": MARKET_PASS})

    # figures by hand: two visits made, each by fire and market (one separate visit saved each),
    # one finding at a restaurant, rectified (closed) before its deadline
    figures = client.get("/api/inspections/figures", headers=desk_b,
                         params={"zone": ZONE_B, "from": str(day(1)), "to": str(day(2))})
    assert figures.status_code == 200, figures.text
    f = figures.json()
    assert (f["visits_made"], f["checks_made"], f["separate_visits_saved"]) == (2, 4, 2)
    assert f["findings"] == 1 and f["findings_per_category"] == [{"category": "restaurant", "findings": 1}]
    assert (f["rectified"], f["rectified_on_time"]) == (1, 1)
    bad = client.get("/api/inspections/figures", headers=desk_b,
                     params={"zone": ZONE_B, "from": str(day(2)), "to": str(day(1))})
    assert bad.status_code == 422 and "to" in field_of(bad)


def test_an_officer_sees_only_their_own_teams_visits(client, engine, make_user, login):
    with engine.connect() as conn:  # a unit no plan on this database has in its team (other modules plan too)
        free = conn.execute(sa.text("SELECT code FROM unit WHERE code NOT IN (SELECT unnest(team) FROM "
                                    "inspection_plan) ORDER BY code DESC LIMIT 1")).scalar_one()
    other = login(*make_user("officer", "330503", unit=free))
    res = client.get("/api/inspections/visits", headers=other)
    assert res.status_code == 200 and res.json()["visits"] == []
