"""The places register on the console's map in headless Chromium: the overlay switch (in the
page's language) draws the places tiles of the caller's street."""

from __future__ import annotations

import pytest

from tests.e2e.test_console import open_console
from tests.e2e.test_map import Page, browser, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
POINT = (120.36356736892097, 30.87223995)  # 东迁街道, grid 330503001001001


def test_the_places_overlay_draws_the_places_tiles(browser, live_server, client, make_user, login):  # noqa: F811
    admin = login(*make_user("admin", "330503"))
    res = client.post("/api/places", headers=admin, json={"code": "E2E-P1", "category": "market", "name": "菜场",
                                                          "risk_level": "high", "lon": POINT[0], "lat": POINT[1]})
    assert res.status_code == 201, res.text
    web = Page(browser, live_server)
    try:
        open_console(web, make_user("dispatcher", "330503001"))
        page = web.page
        toggle = page.get_by_test_id("places-toggle")
        assert "场所" in toggle.inner_text()
        page.evaluate(f"() => window.gridgovConsole.map.setView([{POINT[1]}, {POINT[0]}], 16, {{animate: false}})")
        with page.expect_response(lambda r: "/tiles/places/16/" in r.url and r.status == 200) as drawn:
            toggle.locator("input").check()
        assert drawn.value.headers["content-type"].startswith("application/vnd.mapbox-vector-tile")
        page.get_by_test_id("lang-toggle").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert "Places" in page.get_by_test_id("places-toggle").inner_text()
        web.assert_clean()
    finally:
        web.context.close()
