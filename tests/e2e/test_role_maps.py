"""Each role's map in headless Chromium, driven by the capabilities /api/auth/me returns.

Before the repair the browser kept its own role lists; they drifted, and officers got
"no permission to view the map" although the API served them. Now the page keeps no
role list at all. Per role (one browser for the module, a fresh context per role) these
tests check what a user relies on: the map opens; the layers the role may read are listed
in the layer control and drawn exactly as the API serves them to that user, the others are
neither listed nor requested; and a click on the map previews the routing of that point
only for accounts with ``preview_routing`` (the others never call /api/route and read a
plain note, in Chinese and English).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_map import DISTRICT, TIMEOUT_MS, Page, browser, click_on_grid, headers_for, http  # noqa: F401

pytestmark = pytest.mark.e2e

STREET = "330503100"  # 南浔镇: the street dispatcher's area
SCREENSHOT = "/tmp/officer-map.png"

# The layer control's labels (zh) of the layers that depend on the role.
LABELS = {"grids": "网格", "stations": "联动工作站", "units": "执法力量", "incidents": "近期事件"}
ROLE_NAMES = {"admin": "系统管理员", "dispatcher": "指挥调度员", "grid_manager": "网格管理员",
              "grid_worker": "网格员", "officer": "执法人员", "analyst": "分析/领导"}

# role -> (layers listed and drawn, layers neither listed nor requested, routing preview on click?)
# What the policy in api/auth/policy.py promises each role; the page learns it from /api/auth/me.
EXPECTED = {
    "admin": ({"grids", "stations", "units", "incidents"}, set(), True),
    "dispatcher": ({"grids", "stations", "units", "incidents"}, set(), True),
    "grid_manager": ({"grids", "stations", "incidents"}, {"units"}, True),
    "grid_worker": ({"grids", "stations", "incidents"}, {"units"}, True),
    "officer": ({"grids", "stations", "units", "incidents"}, set(), False),  # units: their own one only
    "analyst": ({"grids", "stations", "incidents"}, {"units"}, False),
}
API = {"grids": "/api/areas?kind=grid", "stations": "/api/stations", "units": "/api/units",
       "incidents": "/api/incidents?limit=500"}


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


def open_map(web: Page, username: str, password: str) -> None:
    """Log in through the form and wait until the app says it is ready (window.gridgov.ready)."""
    web.login(username, password)
    web.page.wait_for_function("() => window.gridgov && window.gridgov.ready.then(() => true)",
                               timeout=TIMEOUT_MS)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_its_map(browser, live_server, http, accounts, police_unit, role):  # noqa: F811
    listed, absent, previews = EXPECTED[role]
    username, password = accounts[role]
    headers = headers_for(http, username, password)
    served = {layer: http.get(API[layer], headers=headers) for layer in API}
    for layer in listed:
        assert served[layer].status_code == 200, (role, layer, served[layer].text)
    for layer in absent:
        assert served[layer].status_code == 403, (role, layer)  # the page and the server agree

    web = Page(browser, live_server)
    responses: list[tuple[str, int]] = []
    web.page.on("response", lambda r: responses.append((r.url, r.status)) if "/api/" in r.url else None)
    try:
        open_map(web, username, password)
        page = web.page
        # the map view opens, for this user, with no permission error
        assert page.get_by_test_id("app-view").is_visible()
        assert page.get_by_test_id("user-name").text_content() == username
        assert ROLE_NAMES[role] in page.get_by_test_id("user-roles").text_content()  # displayed, never decisive
        assert page.get_by_test_id("map-noaccess").count() == 0, f"{role}: no permission to view the map"
        assert "没有地图查看权限" not in page.get_by_test_id("side-panel").text_content()
        assert page.get_by_role("alert").count() == 0

        # the layers this role may read are listed and drawn as the API serves them; the others are not
        control = page.get_by_test_id("layer-control")
        for layer in listed:
            assert control.get_by_text(LABELS[layer], exact=True).count() == 1, (role, layer)
        for layer in absent:
            assert control.get_by_text(LABELS[layer], exact=True).count() == 0, (role, layer)
            assert page.evaluate(f"document.body.dataset.{layer}Loaded") is None
        grids = served["grids"].json()["features"]
        assert len(grids) > 100
        assert int(page.evaluate("document.body.dataset.gridsLoaded")) == len(grids)
        stations = served["stations"].json()["features"]
        assert page.locator(".leaflet-marker-pane .gg-station").count() == len(stations) > 0
        if "incidents" in listed:
            expected = served["incidents"].json()["numberReturned"]
            assert int(page.evaluate("document.body.dataset.incidentsLoaded")) == expected
            assert page.locator("path.gg-incident").count() == expected
        if "units" in listed:
            shown = page.evaluate("window.gridgov.layers.layers.units.getLayers().map(l => l.feature.id)")
            assert sorted(shown) == sorted(f["id"] for f in served["units"].json()["features"])
            assert page.locator("path.gg-unit").count() == len(shown) > 0
            if role == "officer":
                assert shown == [police_unit], "an officer sees their own unit only"
                assert page.get_by_test_id("stat-units").text_content().endswith("/ 1")
        else:
            assert page.locator("path.gg-unit").count() == 0
            assert page.get_by_test_id("stat-units").count() == 0
            assert "执法力量" not in page.get_by_test_id("legend").text_content()
        asked_refused = [(u, s) for u, s in responses if s == 403]
        assert asked_refused == [], f"{role}: the page asked for what the server refuses"

        if role == "officer":
            page.mouse.move(5, 880)  # no hover tooltip in the picture
            page.screenshot(path=SCREENSHOT)

        # a click on the map: the routing preview of that point, or a plain note and no /api/route call
        grid = sorted(grids, key=lambda f: f["properties"]["code"])[len(grids) // 3]
        click_on_grid(page, grid)
        panel = page.get_by_test_id("route-panel")
        if previews:
            page.wait_for_selector("[data-testid=route-panel][data-state=done]")
            assert grid["properties"]["code"] in page.get_by_test_id("route-grid").text_content()
            assert page.get_by_test_id("route-street").text_content().strip()
            assert any("/api/route?" in u and s == 200 for u, s in responses)
            if "units" in listed:  # the nearest units of the responsible departments
                assert page.get_by_test_id("route-unit").count() >= 1
                assert page.get_by_test_id("route-units-hidden").count() == 0
            else:  # the document carries no units for this role: say so, not "no unit available"
                assert page.get_by_test_id("route-units-hidden").is_visible()
                assert page.get_by_test_id("route-unit").count() == 0
                assert "无可用单位" not in panel.text_content()
            assert page.get_by_test_id("category-select").is_visible()
        else:
            page.wait_for_timeout(300)  # time for a request, had the click made one
            assert not [u for u, _ in responses if "/api/route" in u], f"{role} called /api/route"
            assert panel.get_attribute("data-state") == "unavailable"
            note = page.get_by_test_id("route-unavailable")
            assert note.is_visible() and "本账号不提供派单路由预览" in note.text_content()
            assert page.get_by_test_id("route-error").count() == 0
            assert page.get_by_test_id("category-select").is_hidden()
            page.get_by_test_id("lang-toggle").click()  # 中/EN
            expect(note).to_contain_text("Routing preview is not available for this account")
        web.assert_clean()
    finally:
        web.context.close()


def test_no_map_permission_message_only_without_read_map(browser, live_server, accounts):  # noqa: F811
    """No role lacks read_map today; an account whose /api/auth/me lists no read_map gets the
    message and the page asks for no layer (the answer is rewritten in the browser)."""
    username, password = accounts["analyst"]
    web = Page(browser, live_server)
    requested: list[str] = []
    web.page.on("request", lambda r: requested.append(r.url) if "/api/" in r.url else None)

    def without_read_map(route):
        res = route.fetch()
        me = res.json()
        me["capabilities"] = [c for c in me["capabilities"] if c == "session"]
        route.fulfill(response=res, body=json.dumps(me))

    web.page.route("**/api/auth/me", without_read_map)
    try:
        open_map(web, username, password)
        page = web.page
        note = page.get_by_test_id("map-noaccess")
        assert note.is_visible() and "您的账号没有地图查看权限" in note.text_content()
        assert [u for u in requested if "/api/areas" in u or "/api/stations" in u or "/api/units" in u
                or "/api/incidents" in u or "/api/route" in u] == []
        assert page.get_by_test_id("layer-control").locator("input").count() == 0
        page.get_by_test_id("lang-toggle").click()
        expect(note).to_have_text("Your account may not view the map.")
        web.assert_clean()
    finally:
        web.context.close()
