"""A patrol walked in the browser (issue 24): a grid worker's phone (geolocation granted, the page's
clock under the test's control) starts a patrol on /patrol, walks a simulated route (the context's
geolocation moved step by step, ten seconds apart), settles a micro matter on the way (closed at
grid tier, linked to the patrol), ends it, and the page shows the coverage worked out by hand in the
test (shapely in the grid's UTM zone); the street's grid manager opens the same patrol from the list
and sees the same figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.e2e.test_desk import login
from tests.e2e.test_map import TIMEOUT_MS, Page, browser, headers_for, http  # noqa: F401 (fixtures)
from tests.test_patrols import GRID, LAT, LON0, LON1, STREET, expected_coverage, offset

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}
STEPS = 26  # about 25 m apart, 10 s apart: 2.5 m/s


def test_a_patrol_walked_in_the_browser_gives_the_coverage_worked_out_by_hand(
        browser, live_server, http, make_user, engine):  # noqa: F811
    worker = make_user("grid_worker", GRID)
    headers = headers_for(http, *worker)
    for code, north in (("E2E-PTL-NEAR", 12), ("E2E-PTL-FAR", -80)):
        lon, lat = offset(120.3633, LAT, north)
        res = http.post("/api/places", headers=headers, json={
            "code": code, "category": "shop", "name": code, "risk_level": "low", "lon": lon, "lat": lat})
        assert res.status_code == 201, res.text
    route = [(LON0 + (LON1 - LON0) * i / (STEPS - 1), LAT) for i in range(STEPS)]

    phone = Page.__new__(Page)
    phone.base = live_server
    phone.context = browser.new_context(viewport=PHONE, locale="zh-CN", permissions=["geolocation"], geolocation={
        "longitude": route[0][0], "latitude": route[0][1], "accuracy": 5})
    phone.context.set_default_timeout(TIMEOUT_MS)
    phone.page = phone.context.new_page()
    phone.console_errors, phone.page_errors = [], []
    phone.page.on("pageerror", lambda e: phone.page_errors.append(str(e)))
    page = phone.page
    page.clock.install(time=datetime.now(UTC))
    try:
        login(phone, "/patrol", *worker)
        page.wait_for_selector("body[data-patrol-ready='1']")
        page.get_by_test_id("patrol-start").click()
        page.wait_for_selector("body[data-patrol-id]")
        for i, (lon, lat) in enumerate(route):
            if i:
                page.clock.fast_forward(10_000)  # ten seconds of walking (the page sends what it has)
                phone.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
            page.wait_for_function(
                "n => document.querySelector('[data-testid=patrol-state]').dataset.stored * 1"
                " + document.querySelector('[data-testid=patrol-state]').dataset.pending * 1 >= n", arg=i + 1)
            if i == STEPS // 2:  # a micro matter on the way, settled on the spot (微事不出格)
                page.get_by_test_id("patrol-category").select_option("garbage")
                page.get_by_test_id("patrol-settled").check()
                page.get_by_test_id("patrol-note").fill("垃圾已清理")
                page.get_by_test_id("patrol-report-submit").click()
                page.wait_for_selector("[data-testid=patrol-report-state][data-status=closed]")
        page.get_by_test_id("patrol-stop").click()
        result = page.get_by_test_id("patrol-result")
        result.wait_for()
        shown = {k: result.get_attribute(f"data-{k}") for k in ("places-visited", "places-total", "area-share")}
        pid = int(page.evaluate("document.body.dataset.patrolId"))
        assert phone.page_errors == []
    finally:
        phone.context.close()

    listed = http.get("/api/places", headers=headers, params={"area": GRID, "limit": 1000}).json()["features"]
    places = [(f["properties"]["code"], *f["geometry"]["coordinates"]) for f in listed]
    share, visited = expected_coverage(engine, places, route)
    assert "E2E-PTL-NEAR" in visited and "E2E-PTL-FAR" not in visited
    assert int(shown["places-total"]) == len(places)
    assert int(shown["places-visited"]) == len(visited)
    assert float(shown["area-share"]) == pytest.approx(share, abs=0.002)
    with engine.connect() as conn:
        settled = conn.execute(sa.text("SELECT i.status, i.tier, r.point_index FROM patrol_report r "
                                       "JOIN incident i ON i.id = r.incident_id WHERE r.patrol_id = :p"),
                               {"p": pid}).all()
    assert [(s, tier) for s, tier, _ in settled] == [("closed", "grid")] and settled[0][2] is not None

    manager = Page(browser, live_server)
    try:
        login(manager, "/patrol", *make_user("grid_manager", STREET))
        manager.page.wait_for_selector("body[data-patrol-ready='1']")
        manager.page.locator(f"[data-testid=patrol-item][data-id='{pid}'] button").click()
        detail = manager.page.locator(f"[data-testid=patrol-detail][data-id='{pid}']")
        detail.wait_for()
        assert float(detail.get_attribute("data-area-share")) == pytest.approx(share, abs=0.002)
        assert int(detail.get_attribute("data-places-visited")) == len(visited)
        manager.assert_clean()
    finally:
        manager.context.close()
