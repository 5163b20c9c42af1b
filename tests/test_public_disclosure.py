"""The public disclosure (公示, api.disclosure) through the API: figures of cases built through the
API, small-cell and complementary suppression, bad months, caching, and a scan of every public
response for phone numbers, names, fine coordinates and tracking codes.

Cases are reported with the clock set into May and June 2024, long before the sample's year:
May has six cases in street A (all accepted, four closed at the desk); June has six in A and three in B (B is
under 5, A is withheld with it so that the total minus the shown streets does not give B)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api import clock
from api.disclosure import suppress
from tests.cycle_support import CaseMaker, police_units, two_street_spots

SH = ZoneInfo("Asia/Shanghai")
DISTRICT = "330503"
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CONTACT_FIELDS = ("contact", "phone", "reporter", "tracking_code", "username", "display_name", "created_by",
                  "updated_by", "actor")
TRACKING = re.compile(r"\b[A-Z]{2}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
FINE_NUMBER = re.compile(r"(?<![\d.])-?\d{2,3}\.\d{4,}")


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def world(client, admin, engine):
    spots = two_street_spots(engine)
    units = police_units(engine)
    a, b = (CaseMaker(client, admin, lon=s["lon"], lat=s["lat"], unit=units[0], second_unit=units[1],
                      category="street_vendor") for s in spots)

    def cases(maker, day, n, closed):
        ids = []
        for i in range(n):
            with clock.fixed(datetime(2024, day[0], day[1], 9 + i, tzinfo=SH)):
                ids.append(maker.report()["id"])
                if i < closed:
                    maker.close_at_desk(ids[-1])
                else:
                    maker.act(ids[-1], "triage")  # accepted (受理), open
        return ids

    cases(a, (5, 14), 6, 4)
    cases(a, (6, 11), 6, 6)
    cases(b, (6, 12), 3, 1)
    # a survey period of street A in May with a follow-up item whose text carries a phone number
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": spots[0]["street"], "opens": "2024-05-01", "closes": "2024-05-31"})
    assert res.status_code == 201, res.text
    period = res.json()["id"]
    res = client.post(f"/api/surveys/periods/{period}/followups", headers=admin, json={
        "indicator": "parking", "owner": "enforcement", "measures": "增设车位，联系电话13912345678",
        "deadline": "2024-08-31"})
    assert res.status_code == 201, res.text
    res = client.patch(f"/api/surveys/followups/{res.json()['id']}", headers=admin,
                       json={"status": "in_progress", "progress": "已完成一半"})
    assert res.status_code == 200, res.text
    return {"A": spots[0]["street"], "B": spots[1]["street"]}


def disclosure(client, month: str) -> dict:
    res = client.get("/api/public/disclosure", params={"month": month})
    assert res.status_code == 200, res.text
    return res.json()


def rows(doc: dict) -> dict:
    return {s["code"]: s for d in doc["districts"] for s in d["streets"]}


def test_a_streets_figures_are_the_cases_built_through_the_api(client, world):
    doc = disclosure(client, "2024-05")
    assert doc["complete"] is True
    a = rows(doc)[world["A"]]
    assert a["received"] == 6 and a["received_shown"] == "6" and not a["suppressed"]
    assert a["closure_rate"] == pytest.approx(0.667)  # 4 closed of 6 accepted
    assert a["satisfaction"] is None  # no rating: a denominator under 5
    assert a["settled_street"] is None  # of 4 closed: a denominator under 5
    assert rows(doc)[world["B"]]["received"] == 0  # a zero is shown
    [district] = doc["districts"]
    assert district["total"]["received"] == 6
    # the follow-up item: a department, its progress, the phone number masked
    [item] = a["survey"]["followups"]
    assert item["owner"] == "enforcement" and item["status"] == "in_progress" and item["progress"] == "已完成一半"
    assert "13912345678" not in json.dumps(doc) and "号码已隐去" in item["measures"]


def test_a_street_with_three_cases_is_suppressed_and_cannot_be_recovered_from_the_total(client, world):
    doc = disclosure(client, "2024-06")
    a, b = rows(doc)[world["A"]], rows(doc)[world["B"]]
    assert b["suppressed"] and b["received"] is None and b["received_shown"] == "<5"
    assert b["suppressed_reason"] == "under_5"
    assert all(b[k] is None for k in ("closure_rate", "on_time_rate", "satisfaction", "settled_street"))
    # A (6) is withheld with it: the total (9) minus what is shown gives only A + B
    assert a["suppressed"] and a["suppressed_reason"] == "complementary" and a["received"] is None
    [district] = doc["districts"]
    total = district["total"]["received"]
    assert total == 9
    shown = sum(s["received"] for s in district["streets"] if s["received"] is not None)
    assert total - shown == 9 and total - shown not in (3, 6)
    assert "3" not in {s["received_shown"] for s in district["streets"]}


@pytest.mark.parametrize("counts, hidden", [
    ({"a": 3, "b": 100, "c": 50, "d": 0}, {"a", "c"}),
    ({"a": 1, "b": 2, "c": 40}, {"a", "b", "c"}),    # 1 + 2 < 5: one more
    ({"a": 4, "b": 4, "c": 40}, {"a", "b"}),         # two cells adding up to 8
    ({"a": 7, "b": 9}, set()),
])
def test_the_complementary_suppression_rule(counts, hidden):
    assert suppress.suppressed_cells(counts) == hidden
    total = sum(counts.values())
    rest = total - sum(n for k, n in counts.items() if k not in hidden)
    assert not hidden or (len(hidden) >= 2 and rest >= suppress.MIN_COUNT)


def test_a_lone_street_under_5_hides_the_total():
    counts = {"a": 3, "b": 0}
    assert suppress.total_hidden(counts, suppress.suppressed_cells(counts))


@pytest.mark.parametrize("month, words", [("2024-13", "YYYY-MM"), ("24-05", "YYYY-MM"), ("1999-12", "2000"),
                                          ("2999-01", "not begun"), ("x" * 7, "YYYY-MM")])
def test_a_bad_month_is_a_422_naming_it(client, month, words):
    res = client.get("/api/public/disclosure", params={"month": month})
    assert res.status_code == 422, res.text
    [err] = [e for e in res.json()["errors"] if e["field"] == "month"]
    assert words.lower() in err["reason"].lower()


def test_the_month_so_far_is_labelled_and_responses_are_cacheable(client):
    now = clock.now().astimezone(SH)
    res = client.get("/api/public/disclosure", params={"month": f"{now:%Y-%m}"})
    assert res.status_code == 200 and res.json()["complete"] is False
    assert "max-age" in res.headers["cache-control"] and res.headers["etag"]
    again = client.get("/api/public/disclosure", params={"month": f"{now:%Y-%m}"},
                       headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304


def names_in_the_database(engine) -> set[str]:
    """Every person's name the database holds: accounts, grid rosters, places' contacts."""
    with engine.connect() as conn:
        names = set(conn.execute(sa.text(
            "SELECT username FROM app_user UNION SELECT display_name FROM app_user WHERE display_name IS NOT NULL"
        )).scalars())
        for attrs in conn.execute(sa.text("SELECT attributes FROM area WHERE kind = 'grid' AND valid_to IS NULL")
                                  ).scalars():
            for key in ("leader", "full_time", "part_time"):
                v = (attrs or {}).get(key)
                names.update([v] if isinstance(v, str) else v if isinstance(v, list) else [])
        for contact in conn.execute(sa.text("SELECT contact FROM place WHERE contact IS NOT NULL")).scalars():
            if isinstance(contact, dict):
                names.update(str(v) for k, v in contact.items() if "name" in k or k == "person")
    return {n for n in names if n and len(n) >= 2}


def tracking_codes(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT tracking_code FROM incident WHERE tracking_code IS NOT NULL "
                                        "ORDER BY id DESC LIMIT 5000")).scalars())


def _numbers_outside_geometry(doc) -> list[str]:
    """Numbers that look like a longitude or latitude with more than 3 decimals, anywhere but in
    the polygons of a GeoJSON geometry."""
    found: list[str] = []

    def walk(x, in_geometry: bool):
        if isinstance(x, dict):
            if x.get("type") == "Feature":
                geom = x.get("geometry") or {}
                assert geom.get("type") in ("Polygon", "MultiPolygon"), f"a {geom.get('type')} feature"
            for k, v in x.items():
                walk(v, in_geometry or k == "geometry")
        elif isinstance(x, list):
            for v in x:
                walk(v, in_geometry)
        elif isinstance(x, float) and not in_geometry and FINE_NUMBER.fullmatch(repr(x)):
            found.append(repr(x))

    walk(doc, False)
    return found


def scan(body: str, names: set[str], codes: set[str], url: str, base_map: bool = False) -> None:
    """What no public response may carry (tests/e2e/test_public_page.py scans the page's with it).
    ``base_map``: the offline base map itself (/api/public/base: the outlines and the label points
    of areas, the reference of what is coarse enough), checked for everything but coordinates."""
    assert not PHONE.search(body), f"{url}: a phone number {PHONE.search(body).group()}"
    doc = json.loads(body)

    def keys(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from keys(v)
        elif isinstance(x, list):
            for v in x:
                yield from keys(v)

    assert not {k for k in keys(doc) if k in CONTACT_FIELDS}, f"{url}: contact fields"
    leaked = [n for n in names if n in body]
    assert not leaked, f"{url}: names {leaked[:5]}"
    assert not TRACKING.search(body) and not [c for c in codes if c in body], f"{url}: a tracking code"
    if not base_map:
        assert not _numbers_outside_geometry(doc), f"{url}: coordinates {_numbers_outside_geometry(doc)[:3]}"


def test_no_public_response_carries_a_phone_a_name_a_fine_place_or_a_tracking_code(client, world, engine,
                                                                                   make_user):
    make_user("dispatcher", DISTRICT)  # at least one account's name to look for
    names = names_in_the_database(engine)
    assert names
    codes = tracking_codes(engine)
    assert codes
    for url, params in [("/api/public/disclosure", {"month": "2024-05"}),
                        ("/api/public/disclosure", {"month": "2024-06"}),
                        ("/api/public/disclosure", {"month": "2026-09"}),
                        ("/api/public/disclosure", {}),
                        ("/api/public/disclosure/streets", {})]:
        res = client.get(url, params=params)
        assert res.status_code == 200, res.text
        scan(res.text, names, codes, f"{url}?{params}")


def test_the_scanner_finds_what_it_looks_for():
    names, codes = {"张三"}, {"XA-AAAA-BBBB-CCCC"}
    for bad in ({"x": "call 13912345678"}, {"owner_name": "张三"}, {"phone": "x"}, {"n": "XA-AAAA-BBBB-CCCC"},
                {"lon": 120.123456}, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.1, 30.1]}}):
        with pytest.raises(AssertionError):
            scan(json.dumps(bad, ensure_ascii=False), names, codes, "test")
    scan(json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[120.12345, 30.12345]]]},
                     "properties": {"rate": 0.734}}), names, codes, "test")
