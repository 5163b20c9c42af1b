"""Each role's map in headless Chromium, driven by the capabilities /api/auth/me returns.

Before the repair the browser kept its own role lists; they drifted, and officers got
"no permission to view the map" although the API served them. Now the page keeps no
role list at all: these tests check, per role, that the map opens, that the layers the
role may read are drawn (and the others not offered), and that a map click previews the
routing only for accounts with ``preview_routing`` (others never call /api/route).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.e2e.test_map import DISTRICT, Page, browser, headers_for, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
STREET = "330503100"

# role -> (layers drawn, layers not offered, routing preview?)
EXPECTED = {
    "admin": ({"grids", "stations", "units", "incidents"}, set(), True),
    "dispatcher": ({"grids", "stations", "units", "incidents"}, set(), True),
    "grid_manager": ({"grids", "stations", "incidents"}, {"units"}, True),
    "grid_worker": ({"grids", "stations", "incidents"}, {"units"}, True),
    "officer": ({"grids", "stations", "units"}, set(), False),
    "analyst": ({"grids", "stations", "incidents"}, {"units"}, False),
}


@pytest.fixture(scope="module")
def police_unit(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1")).scalar_one()


@pytest.fixture(scope="module")
def accounts(make_user, police_unit) -> dict[str, tuple[str, str]]:
    out = {role: make_user(role, DISTRICT, unit=police_unit if role == "officer" else None)
           for role in EXPECTED if role != "dispatcher"}
    out["dispatcher"] = make_user("dispatcher", STREET)
    return out


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_its_map(browser, live_server, http, accounts, police_unit, role):  # noqa: F811
    drawn, absent, previews = EXPECTED[role]
    username, password = accounts[role]
    api_units = http.get("/api/units", headers=headers_for(http, username, password))
    web = Page(browser, live_server)
    route_calls: list[str] = []
    web.page.on("request", lambda r: route_calls.append(r.url) if "/api/route" in r.url else None)
    try:
        web.login(username, password)
        web.wait_map()
        page = web.page
        assert page.get_by_test_id("map-noaccess").count() == 0, f"{role}: no permission to view the map"
        for layer in drawn:
            page.wait_for_selector(f"body[data-{layer}-loaded]")
        assert int(page.evaluate("document.body.dataset.gridsLoaded")) > 0
        unavailable = set(page.evaluate("[...window.gridgov.layers.unavailable]"))
        assert absent <= unavailable and not (drawn & unavailable), (role, unavailable)
        if "units" in drawn:
            shown = page.evaluate("window.gridgov.layers.layers.units.getLayers().map(l => l.feature.id)")
            assert sorted(shown) == sorted(f["id"] for f in api_units.json()["features"])
            if role == "officer":
                assert shown == [police_unit], "an officer sees their own unit only"
        else:
            assert api_units.status_code == 403

        # a click on the map: routing preview, or a plain note
        page.evaluate("() => { window.gridgov.map.fire('click', {latlng: window.gridgov.map.getCenter()}); }")
        if previews:
            page.wait_for_selector("[data-testid=route-panel][data-state=done]")
            assert page.get_by_test_id("route-panel").inner_text().strip()
            assert route_calls, f"{role}: the preview called no /api/route"
        else:
            assert page.get_by_test_id("route-unavailable").is_visible()
            page.wait_for_timeout(300)
            assert route_calls == [], f"{role} called /api/route without preview_routing"
            assert page.get_by_test_id("route-panel").get_attribute("data-state") == "unavailable"
        if role == "officer":
            page.screenshot(path="/tmp/gridgov-officer-map.png")
        web.assert_clean()
    finally:
        web.context.close()
