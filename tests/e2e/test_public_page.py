"""The public disclosure page (/public) in a browser, no login: the street table equals the API,
a street of 3 cases shows <5, the map draws the streets by the chosen figure, the page works on a
phone and in English, and every response the page receives is scanned (tests/test_public_disclosure.py
``scan``) for phone numbers, names from the database, fine coordinates and tracking codes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api import clock
from tests.cycle_support import CaseMaker, police_units, two_street_spots
from tests.e2e.test_map import DISTRICT, Page, browser, headers_for, http  # noqa: F401 (fixtures)
from tests.test_public_disclosure import names_in_the_database, scan, tracking_codes

SH = ZoneInfo("Asia/Shanghai")
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
pytestmark = pytest.mark.e2e
SMALL_MONTH = "2024-04"  # three cases in one street (no other module reports then)


@pytest.fixture(scope="module")
def world(http, make_user, engine):  # noqa: F811
    admin = headers_for(http, *make_user("admin", DISTRICT))
    make_user("dispatcher", DISTRICT)  # an account whose name the scan looks for
    spot = two_street_spots(engine)[0]
    units = police_units(engine)
    maker = CaseMaker(http, admin, lon=spot["lon"], lat=spot["lat"], unit=units[0], second_unit=units[1],
                      category="street_vendor")
    for i in range(3):
        with clock.fixed(datetime(2024, 4, 9, 9 + i, tzinfo=SH)):
            maker.report()
    return {"street": spot["street"]}


def open_public(browser, live_server, viewport, month: str | None = None):  # noqa: F811
    p = Page(browser, live_server, viewport=viewport)
    seen: list = []
    p.page.on("response", lambda r: seen.append(r))
    p.page.goto(live_server + "/public")
    p.page.wait_for_selector("body[data-loaded]")
    if month:
        p.page.get_by_test_id("public-month").fill(month)
        p.page.get_by_test_id("public-month").dispatch_event("change")
        p.page.wait_for_selector(f"body[data-loaded='{month}']")
    p.page.wait_for_selector(".public-map path.leaflet-interactive")
    return p, seen


def scan_all(seen, engine) -> int:
    names, codes = names_in_the_database(engine), tracking_codes(engine)
    scanned = 0
    for r in seen:
        if not r.ok or "json" not in (r.headers.get("content-type") or "") or r.url.endswith("/i18n.json"):
            continue  # (the translation catalogue is the repository's text: it names roles such as "admin")
        body = r.text()
        # the base map (outlines and label points of areas) and /config.json (the districts' extent)
        # are what every map draws on: checked for everything but coordinates
        scan(body, names, codes, r.url, base_map="/api/public/base" in r.url or r.url.endswith("/config.json"))
        scanned += 1
    return scanned


def test_the_table_and_map_equal_the_api_and_every_response_is_clean(browser, live_server, http, world,  # noqa: F811
                                                                     engine):
    p, seen = open_public(browser, live_server, LAPTOP, "2026-09")
    try:
        page = p.page
        doc = http.get("/api/public/disclosure", params={"month": "2026-09"}).json()
        streets = [s for d in doc["districts"] for s in d["streets"]]
        headers = page.get_by_test_id("public-table").locator("thead th").all_inner_texts()
        for s in streets:
            row = page.get_by_test_id(f"row-{s['code']}")
            assert row.locator("td[data-figure='received']").inner_text() == s["received_shown"]
            cells = row.locator("td").all_inner_texts()  # each figure under its own heading
            assert cells[headers.index("按期办结率")] == f"{s['on_time_rate'] * 100:.1f}%"
            assert cells[headers.index("办结率")] == f"{s['closure_rate'] * 100:.1f}%"
        total = page.get_by_test_id(f"total-{DISTRICT}").locator("td[data-figure='on_time_rate']").inner_text()
        assert total == f"{doc['districts'][0]['total']['on_time_rate'] * 100:.1f}%"
        assert page.locator(".public-map path.leaflet-interactive").count() >= len(streets)
        page.get_by_test_id("public-figure").select_option("received")
        assert "≥" in page.get_by_test_id("public-legend").inner_text()
        # a month with a street of three cases: shown as <5
        page.get_by_test_id("public-month").fill(SMALL_MONTH)
        page.get_by_test_id("public-month").dispatch_event("change")
        page.wait_for_selector(f"body[data-loaded='{SMALL_MONTH}']")
        row = page.get_by_test_id(f"row-{world['street']}")
        assert row.get_attribute("data-suppressed") == "true"
        assert row.locator("td[data-figure='received']").inner_text() == "<5"
        assert "3" not in page.get_by_test_id(f"total-{DISTRICT}").locator("td[data-figure='received']").inner_text()
        # English
        page.get_by_test_id("lang-toggle").click()
        assert "Street" in page.get_by_test_id("public-table").inner_text()
        assert scan_all(seen, engine) >= 4  # config, outlines, base map, two months
        assert any("/api/public/disclosure/streets" in r.url for r in seen)
        p.assert_clean()
    finally:
        p.context.close()


def test_the_page_fits_a_phone(browser, live_server, world, engine):  # noqa: F811
    p, seen = open_public(browser, live_server, PHONE)
    try:
        page = p.page
        assert page.get_by_test_id("public-map").is_visible()
        assert page.get_by_test_id("public-table").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"the page scrolls sideways: {width}px"
        assert scan_all(seen, engine) >= 3
        p.assert_clean()
    finally:
        p.context.close()
