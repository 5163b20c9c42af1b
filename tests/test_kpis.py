"""KPIs (api.kpi) through the API: hand-worked figures, drill-down = figure, scope, bad input, exports.

The hand-worked cases are reported and walked through the cycle with the clock set into
September-October 2025 (``api.clock.fixed``), before the sample's year, in one grid and one
category: the 2025 National Day holiday (Wed 1 - Wed 8 October off, Sun 28 September and Sat
11 October worked in exchange) decides which of them were closed on time. Street-vendor cases
of normal priority are due at the end of office hours (17:00) of the first working day after
the day of the report (``1wd``).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from openpyxl import load_workbook

from api import clock
from tests.cycle_support import CaseMaker, police_units, two_street_spots

SH = ZoneInfo("Asia/Shanghai")
DISTRICT = "330503"
CATEGORY = "street_vendor"
WINDOW = {"from": "2025-09-29", "to": "2025-10-20"}
H = 3600.0


def assert_field_error(res, status: int, field: str, words: str) -> None:
    """As in tests/test_bad_input.py: a JSON error naming the field and the reason."""
    assert res.status_code == status, f"{res.status_code}: {res.text[:300]}"
    named = [e for e in res.json()["errors"] if e["field"] == field]
    assert named, f"no error names {field!r}: {res.json()}"
    assert any(words.lower() in e["reason"].lower() for e in named), f"reason lacks {words!r}: {named}"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def spots(engine):
    return two_street_spots(engine)


@pytest.fixture(scope="module")
def grid(engine, spots):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT code FROM area WHERE kind = 'grid' AND valid_to IS NULL "
            "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
            {"lon": spots[0]["lon"], "lat": spots[0]["lat"]}).scalar_one()


@pytest.fixture(scope="module")
def world(client, admin, engine, spots, grid):
    """Six street-vendor reports in one grid, worked by hand:

    A  Tue 30 Sep 10:00, closed Thu 9 Oct 16:00: due Thu 9 Oct 17:00 (1-8 Oct off) — on time
    B  Fri 10 Oct 10:00, closed Mon 13 Oct 10:00: due Sat 11 Oct 17:00 (a swapped working day) — late
    C  Mon 13 Oct 09:00, escalated three times (grid → community → zone → street) at 09:10, closed 10:00 — on time
    D  Tue 14 Oct 10:00, closed 11:00, rated 1 star at 12:00: reopened by the rating (open again)
    E  Wed 15 Oct 10:00, voided at 11:00
    F  Thu 16 Oct 10:00, left waiting: due Fri 17 Oct 17:00, overdue now
    """
    units = police_units(engine)
    cm = CaseMaker(client, admin, lon=spots[0]["lon"], lat=spots[0]["lat"], unit=units[0], second_unit=units[1],
                   category=CATEGORY)

    def report(at):
        with clock.fixed(at):
            return cm.report()

    def act(at, cid, action, **body):
        with clock.fixed(at):
            cm.act(cid, action, **body)

    def close(at, cid):
        with clock.fixed(at):
            cm.close_at_desk(cid)

    a = report(local(2025, 9, 30, 10))
    close(local(2025, 10, 9, 16), a["id"])
    b = report(local(2025, 10, 10, 10))
    close(local(2025, 10, 13, 10), b["id"])
    c = report(local(2025, 10, 13, 9))
    for _ in range(3):
        act(local(2025, 10, 13, 9, 10), c["id"], "escalate", reason="bigger than the grid")
    close(local(2025, 10, 13, 10), c["id"])
    d = report(local(2025, 10, 14, 10))
    close(local(2025, 10, 14, 11), d["id"])
    with clock.fixed(local(2025, 10, 14, 12)):
        res = client.post(f"/api/public/incidents/{d['tracking_code']}/rating", json={"rating": 1},
                          headers={"X-Reporter-Token": d["reporter_token"]})
        assert res.status_code == 200, res.text
    e = report(local(2025, 10, 15, 10))
    act(local(2025, 10, 15, 11), e["id"], "void", reason="a test report")
    f = report(local(2025, 10, 16, 10))
    ids = {k: v["id"] for k, v in zip("ABCDEF", (a, b, c, d, e, f), strict=True)}
    yield ids
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM incident WHERE id = ANY(:ids)"), {"ids": list(ids.values())})


def figures(client, headers, **params) -> dict[str, dict]:
    res = client.get("/api/kpis", params=params, headers=headers)
    assert res.status_code == 200, res.text
    return {k["key"]: k for k in res.json()["kpis"]}


def listed(client, headers, key: str, part: str, **params) -> set[int]:
    res = client.get(f"/api/kpis/{key}/cases", params={**params, "part": part, "limit": 1000}, headers=headers)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["numberMatched"] == len(doc["features"])
    return {f["id"] for f in doc["features"]}


def test_hand_worked_figures(client, admin, world, grid):
    k = figures(client, admin, area=grid, category=CATEGORY, **WINDOW)
    w = world
    expect = {  # key: (numerator, denominator)
        "received": (6, 6),
        "accepted": (4, 6),                   # A B C D; E void, F never triaged
        "closed": (3, 4), "closure_rate": (3, 4),
        "on_time_rate": (2, 3),               # A across the holiday, C; B late by the swapped Saturday
        "open_overdue": (2, 2),               # F; D's deadline restarted at the reopening, long past
        "escalations": (1, 6),
        "settled_grid": (2, 3), "settled_community": (2, 3), "settled_zone": (2, 3), "settled_street": (3, 3),
        "satisfaction": (0, 1), "rating_participation": (1, 4),
        "reopen_rate": (1, 4), "closed_then_reopened": (1, 4),
        "withdrawn_by_desk": (1, 6), "merged_duplicates": (0, 6), "verification_failures": (0, 4),
        "response_under_5min": (0, 0),
    }
    got = {key: (k[key]["numerator"], k[key]["denominator"]) for key in expect}
    assert got == expect
    assert k["on_time_rate"]["value"] == pytest.approx(2 / 3)
    # working hours from report to handling: A 7 h (30 Sep) + 7 h (9 Oct); B 7 h + 8 h (Sat 11 Oct) + 1 h;
    # C 1 h; D 1 h  →  1, 1, 14, 16 hours: median 7.5 h, mean 8 h
    handling = k["handling_time"]
    assert handling["denominator"] == 4
    assert handling["p50"] == pytest.approx(7.5 * H) and handling["mean"] == pytest.approx(8 * H)
    # the drill-down lists are the cases worked out above
    params = {"area": grid, "category": CATEGORY, **WINDOW}
    assert listed(client, admin, "on_time_rate", "rest", **params) == {w["B"]}
    assert listed(client, admin, "on_time_rate", "numerator", **params) == {w["A"], w["C"]}
    assert listed(client, admin, "settled_zone", "rest", **params) == {w["C"]}
    assert listed(client, admin, "reopen_rate", "numerator", **params) == {w["D"]}
    assert listed(client, admin, "open_overdue", "numerator", **params) == {w["D"], w["F"]}
    assert listed(client, admin, "withdrawn_by_desk", "numerator", **params) == {w["E"]}
    assert listed(client, admin, "handling_time", "denominator", **params) == {w[x] for x in "ABCD"}


def test_per_area_tables_add_up_and_name_the_owning_desk(client, admin, world, grid, spots):
    params = {"category": CATEGORY, **WINDOW}
    res = client.get("/api/kpis/areas", params={**params, "level": "street"}, headers=admin)
    assert res.status_code == 200, res.text
    streets = {a["area_code"]: {k["key"]: k for k in a["kpis"]} for a in res.json()["areas"]}
    total = figures(client, admin, area=DISTRICT, **params)
    for key in ("received", "closed", "on_time_rate", "withdrawn_by_desk"):
        assert sum(s[key]["numerator"] for s in streets.values()) == total[key]["numerator"], key
    assert streets[spots[0]["street"]]["received"]["numerator"] >= 6
    res = client.get("/api/kpis/areas", params={**params, "area": grid, "level": "desk"}, headers=admin)
    desks = {a["area_code"]: {k["key"]: k["numerator"] for k in a["kpis"]} for a in res.json()["areas"]}
    # E was voided by the grid's desk (a grid-tier case); C is owned by its street's desk now
    assert desks[grid]["withdrawn_by_desk"] == 1 and desks[spots[0]["street"]]["received"] == 1


def test_per_category_tables_add_up_to_the_figures(client, admin, world, grid):
    res = client.get("/api/kpis/categories", params={"area": grid, **WINDOW}, headers=admin)
    assert res.status_code == 200, res.text
    rows = {r["category_code"]: {k["key"]: k for k in r["kpis"]} for r in res.json()["categories"]}
    total = figures(client, admin, area=grid, **WINDOW)
    for key in ("received", "closed", "on_time_rate", "open_overdue"):
        assert sum(r[key]["numerator"] for r in rows.values()) == total[key]["numerator"], key
    vendor = rows[CATEGORY]
    assert (vendor["on_time_rate"]["numerator"], vendor["on_time_rate"]["denominator"]) == (2, 3)
    received = [r["received"]["numerator"] for r in rows.values()]
    assert received == sorted(received, reverse=True)  # most cases first


def test_the_histogram_bins_the_measured_cases(client, admin, world, grid):
    res = client.get("/api/kpis/handling_time/histogram", params={"area": grid, "category": CATEGORY, **WINDOW},
                     headers=admin)
    assert res.status_code == 200, res.text
    doc = res.json()
    # handling in working hours: C 1 h, D 1 h, A 14 h, B 16 h (test_hand_worked_figures)
    got = {(b["lo"] / H, None if b["hi"] is None else b["hi"] / H): b["cases"] for b in doc["bins"] if b["cases"]}
    assert got == {(1, 2): 2, (8, 16): 1, (16, 24): 1}
    assert doc["measured"] == 4 == figures(client, admin, area=grid, category=CATEGORY,
                                           **WINDOW)["handling_time"]["denominator"]
    assert doc["bins"][-1]["hi"] is None and doc["bins"][0]["lo"] == 0
    # a bin's cases: the drill-down of the measured cases with the time in [min_s, max_s)
    params = {"area": grid, "category": CATEGORY, "part": "denominator", **WINDOW}
    res = client.get("/api/kpis/handling_time/cases", params={**params, "min_s": H, "max_s": 2 * H}, headers=admin)
    assert res.status_code == 200, res.text
    assert {c["id"] for c in res.json()["features"]} == {world["C"], world["D"]} and res.json()["numberMatched"] == 2
    res = client.get("/api/kpis/handling_time/cases", params={**params, "min_s": 16 * H}, headers=admin)
    assert {c["id"] for c in res.json()["features"]} == {world["B"]}


def test_every_kpis_series_in_one_answer_equals_the_single_series(client, admin, world, grid):
    params = {"area": grid, "category": CATEGORY, "by": "week", **WINDOW}
    res = client.get("/api/kpis/series", params=params, headers=admin)
    assert res.status_code == 200, res.text
    every = {p["period"]: {k["key"]: k for k in p["kpis"]} for p in res.json()["points"]}
    for key in ("received", "on_time_rate", "handling_time"):
        one = client.get(f"/api/kpis/{key}/series", params=params, headers=admin).json()["points"]
        assert {p["period"]: (p["numerator"], p["denominator"], p["value"]) for p in one} == \
            {day: (k[key]["numerator"], k[key]["denominator"], k[key]["value"]) for day, k in every.items()}


def test_series_by_week_adds_up_to_the_window(client, admin, world, grid):
    res = client.get("/api/kpis/received/series", params={"area": grid, "category": CATEGORY, "by": "week",
                                                          **WINDOW}, headers=admin)
    assert res.status_code == 200, res.text
    points = {p["period"]: p["numerator"] for p in res.json()["points"]}
    # weeks from Monday: 29 Sep (A), 6 Oct (B), 13 Oct (C D E F)
    assert points == {"2025-09-29": 1, "2025-10-06": 1, "2025-10-13": 4}


def test_reach_intersects_the_scope(client, make_user, login, world, grid, spots):
    """A dispatcher of another street counts none of these cases, even asking for the whole district;
    one of their street counts them all, and an analyst of the district sees the same figures."""
    other = login(*make_user("dispatcher", spots[1]["street"]))
    own = login(*make_user("dispatcher", spots[0]["street"]))
    analyst = login(*make_user("analyst", DISTRICT))
    assert figures(client, other, area=grid, category=CATEGORY, **WINDOW)["received"]["numerator"] == 0
    assert listed(client, other, "received", "numerator", area=DISTRICT, category=CATEGORY, **WINDOW) \
        .isdisjoint(world.values())
    assert figures(client, own, area=grid, category=CATEGORY, **WINDOW)["received"]["numerator"] == 6
    seen = figures(client, analyst, area=grid, category=CATEGORY, **WINDOW)
    assert seen["on_time_rate"]["numerator"] == 2 and seen["closure_rate"]["denominator"] == 4
    res = client.get("/api/kpis/on_time_rate/cases", params={"area": grid, "category": CATEGORY, "part": "rest",
                                                            **WINDOW}, headers=analyst)
    (case,) = res.json()["features"]
    assert case["id"] == world["B"] and "description" not in case["properties"]
    assert case["properties"]["reported_at"].endswith(":00:00+00:00")  # to the hour, as in /api/incidents


def test_exports_read_back_equal_the_api(client, admin, world, grid):
    params = {"area": grid, "category": CATEGORY, **WINDOW}
    api = figures(client, admin, **params)
    res = client.get("/api/kpis.xlsx", params=params, headers=admin)
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(res.content))["kpis"]
    rows = list(sheet.iter_rows(values_only=True))
    head = rows[0]
    from_xlsx = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert set(from_xlsx) == set(api)
    for key, k in api.items():
        assert (from_xlsx[key]["numerator"], from_xlsx[key]["denominator"]) == (k["numerator"], k["denominator"])
        assert from_xlsx[key]["value"] == (pytest.approx(k["value"]) if k["value"] is not None else None)
    res = client.get("/api/kpis.csv", params=params, headers=admin)
    assert res.status_code == 200
    text = res.content.decode("utf-8-sig")
    table = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert {r["key"]: (r["numerator"], r["denominator"]) for r in table} == {
        key: (str(k["numerator"]) if k["numerator"] is not None else "", str(k["denominator"]))
        for key, k in api.items()}


@pytest.mark.parametrize("url, params, status, field, words", [
    ("/api/kpis", {"from": "yesterday"}, 422, "from", "datetime"),
    ("/api/kpis", {"from": "2026-02-01", "to": "2026-01-01"}, 422, "to", "later"),
    ("/api/kpis", {"from": "2020-01-01", "to": "2026-01-01"}, 422, "from", "three years"),
    ("/api/kpis", {"from": "2026-01-01T08:30:00", "to": "2026-02-01"}, 422, "from", "whole hour"),
    ("/api/kpis", {"area": "999999999"}, 422, "area", "unknown"),
    ("/api/kpis", {"category": "unicorns"}, 422, "category", "unknown"),
    ("/api/kpis", {"department": "nobody"}, 422, "department", "unknown"),
    ("/api/kpis.xlsx", {"unit": "nobody"}, 422, "unit", "unknown"),
    ("/api/kpis/no_such_kpi/cases", {}, 404, "key", "unknown"),
    ("/api/kpis/closure_rate/cases", {"part": "everything"}, 422, "part", "one of"),
    ("/api/kpis/handling_time/cases", {"part": "numerator"}, 422, "part", "duration"),
    ("/api/kpis/closure_rate/series", {"by": "year"}, 422, "by", "one of"),
    ("/api/kpis/series", {"by": "year"}, 422, "by", "one of"),
    ("/api/kpis/areas", {"level": "planet"}, 422, "level", "one of"),
    ("/api/kpis/closure_rate/histogram", {}, 422, "key", "not a duration"),
    ("/api/kpis/closure_rate/cases", {"part": "denominator", "min_s": "60"}, 422, "min_s", "not a duration"),
    ("/api/kpis/handling_time/cases", {"part": "numerator", "max_s": "60"}, 422, "part", "denominator"),
    ("/api/kpis/handling_time/cases", {"part": "denominator", "min_s": "60", "max_s": "60"}, 422, "max_s", "more"),
    ("/api/kpis/handling_time/cases", {"part": "denominator", "min_s": "-1"}, 422, "min_s", ""),
    ("/api/kpis/no_such_kpi/histogram", {}, 404, "key", "unknown"),
    ("/api/kpis/categories", {"category": "unicorns"}, 422, "category", "unknown"),
])
def test_bad_input_names_the_field(client, admin, url, params, status, field, words):
    assert_field_error(client.get(url, params=params, headers=admin), status, field, words)


def test_roles_without_read_kpis_are_refused(client, make_user, login):
    worker = login(*make_user("grid_worker", DISTRICT))
    assert client.get("/api/kpis", headers=worker).status_code == 403


def _sample_codes(engine) -> list[str]:
    with engine.connect() as conn:
        return [DISTRICT, *conn.execute(sa.text(
            "(SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL ORDER BY code LIMIT 3) UNION ALL "
            "(SELECT code FROM area WHERE kind IN ('community', 'zone') AND valid_to IS NULL "
            "ORDER BY md5(code) LIMIT 4)"
        )).scalars()]


@pytest.fixture(scope="module")
def codes(engine):
    return _sample_codes(engine)


@pytest.fixture(scope="module")
def callers(admin, make_user, login, spots):
    """An admin, a dispatcher of one street (reach smaller than most scopes drawn), an analyst of the
    district (coarse lists)."""
    return {"admin": admin, "street dispatcher": login(*make_user("dispatcher", spots[0]["street"])),
            "analyst": login(*make_user("analyst", DISTRICT))}


@hsettings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_figure_equals_the_size_of_its_lists(client, callers, codes, world, data):
    """On the sample's 22,600 cases and the hand-worked ones: random scopes, windows and filters;
    every KPI's numerator and denominator are the numberMatched of its drill-down lists, and
    rest = denominator - numerator."""
    day = data.draw(st.integers(0, 365), label="start day")
    days = data.draw(st.integers(1, 40), label="days")
    start = datetime(2025, 9, 25).toordinal() + day
    params = {"from": datetime.fromordinal(start).date().isoformat(),
              "to": datetime.fromordinal(start + days).date().isoformat()}
    area = data.draw(st.sampled_from([None, *codes]), label="area")
    if area:
        params["area"] = area
    category = data.draw(st.sampled_from([None, "noise", "garbage", CATEGORY]), label="category")
    if category:
        params["category"] = category
    who = callers[data.draw(st.sampled_from(sorted(callers)), label="caller")]
    k = figures(client, who, **params)
    for key in data.draw(st.lists(st.sampled_from(sorted(k)), min_size=3, max_size=3, unique=True), label="kpis"):
        f = k[key]
        total = client.get(f"/api/kpis/{key}/cases", params={**params, "part": "denominator", "limit": 1},
                           headers=who).json()["numberMatched"]
        assert total == f["denominator"], (key, params)
        if f["numerator"] is not None:
            num = client.get(f"/api/kpis/{key}/cases", params={**params, "part": "numerator", "limit": 1},
                             headers=who).json()["numberMatched"]
            rest = client.get(f"/api/kpis/{key}/cases", params={**params, "part": "rest", "limit": 1},
                              headers=who).json()["numberMatched"]
            assert (num, rest) == (f["numerator"], f["denominator"] - f["numerator"]), (key, params)


def test_docs_kpis_md_is_generated_from_the_module():
    from pathlib import Path

    from api.kpi import docs

    committed = (Path(__file__).resolve().parents[1] / "docs" / "kpis.md").read_text(encoding="utf-8")
    assert committed == docs.render(), "docs/kpis.md is stale: gridgov kpis doc --out docs/kpis.md --overwrite"
