"""The web map in headless Chromium: login, grid layer, routing preview, scoped incidents.

Drives Debian's /usr/bin/chromium through Playwright's Python API against ``live_server``
(uvicorn on a throwaway clone of the sample database). Expectations come from the same
API over HTTP, as the logged-in user.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from shapely.geometry import shape

CHROMIUM = "/usr/bin/chromium"
DISTRICT = "330503"
# The README's picture is refreshed only on request (GRIDGOV_SCREENSHOT=docs/screenshot-map.png);
# a plain test run never rewrites tracked files.
SCREENSHOT = Path(os.environ.get("GRIDGOV_SCREENSHOT") or "/tmp/gridgov-screenshot-map.png")
VIEWPORT = {"width": 1600, "height": 900}
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright python package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


class Page:
    """A fresh browser context (own sessionStorage) that records console errors and CSP violations."""

    def __init__(self, browser, base_url: str, viewport: dict | None = None):
        self.base = base_url
        self.context = browser.new_context(viewport=viewport or VIEWPORT, locale="zh-CN")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.add_init_script("""
            window.__csp = [];
            document.addEventListener('securitypolicyviolation',
                e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
        """)

    def csp_violations(self) -> list[str]:
        found = self.page.evaluate("window.__csp || []")
        return found + [m for m in self.console_errors if "Content Security Policy" in m]

    def login(self, username: str, password: str) -> None:
        page = self.page
        page.goto(self.base + "/")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()

    def wait_map(self) -> None:
        self.page.wait_for_selector("body[data-map-ready='1']")

    def assert_clean(self) -> None:
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.csp_violations() == [], f"CSP violations: {self.csp_violations()}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


def click_on_grid(page, grid: dict) -> None:
    """A real mouse click inside ``grid`` (zoomed in, the point markers out of the way so they
    cannot swallow it), waited for until the map has seen it."""
    point = shape(grid["geometry"]).representative_point()
    page.evaluate("""([lat, lon]) => new Promise(done => {
        const g = window.gridgov;
        for (const id of ['incidents', 'units', 'stations']) g.map.removeLayer(g.layers.layers[id]);
        g.map.once('moveend', () => done());
        g.map.setView([lat, lon], 17, {animate: false});
    })""", [point.y, point.x])
    xy = page.evaluate("([lat, lon]) => { const p = window.gridgov.map.latLngToContainerPoint([lat, lon]);"
                       " window.__mapClicks = 0; window.gridgov.map.on('click', () => window.__mapClicks++);"
                       " return [p.x, p.y]; }", [point.y, point.x])
    page.get_by_test_id("map").click(position={"x": xy[0], "y": xy[1]})
    page.wait_for_function("() => window.__mapClicks === 1")


@pytest.fixture
def web(browser, live_server):
    w = Page(browser, live_server)
    yield w
    w.context.close()


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


def headers_for(http, username: str, password: str) -> dict[str, str]:
    res = http.post("/api/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


@pytest.fixture(scope="module")
def district_dispatcher(make_user, http):
    user, password = make_user("dispatcher", DISTRICT)
    return user, password, headers_for(http, user, password)


def test_dispatcher_sees_every_grid_drawn(web, http, district_dispatcher):
    user, password, headers = district_dispatcher
    grids = http.get("/api/areas", params={"kind": "grid"}, headers=headers).json()["features"]
    incidents = http.get("/api/incidents", params={"limit": 500}, headers=headers).json()
    assert len(grids) > 1000

    web.login(user, password)
    web.wait_map()
    page = web.page
    assert page.get_by_test_id("login-view").is_hidden()
    assert page.get_by_test_id("user-name").text_content() == user
    assert page.get_by_test_id("logout").is_visible()
    assert int(page.evaluate("document.body.dataset.gridsLoaded")) == len(grids)
    assert page.evaluate("window.gridgov.layers.layers.grids.getLayers().length") == len(grids)
    assert page.evaluate("window.gridgov.map.hasLayer(window.gridgov.layers.layers.grids)")
    assert page.locator("path.gg-incident").count() == incidents["numberReturned"]
    assert page.locator(".leaflet-pane canvas").count() == 1  # the area layers share one canvas
    control = page.get_by_test_id("layer-control")
    for label, layer in (("社区/村", "communities"), ("片区", "zones"), ("巡区", "patrol")):
        control.get_by_text(label, exact=True).click()  # off by default: fetched on first use
        page.wait_for_selector(f"body[data-{layer}-loaded]")
        assert int(page.evaluate(f"document.body.dataset.{layer}Loaded")) > 0
    web.assert_clean()


def test_wrong_password_stays_on_login(web, district_dispatcher):
    user, _, _ = district_dispatcher
    web.login(user, "not-the-password")
    error = web.page.get_by_test_id("login-error")
    error.wait_for(state="visible")
    assert error.text_content().strip()
    assert web.page.get_by_test_id("login-form").is_visible()
    assert web.page.get_by_test_id("app-view").is_hidden()
    assert web.page.evaluate("sessionStorage.getItem('gridgov.tokens')") is None
    assert "用户名或密码错误" in error.text_content()
    web.page.get_by_test_id("lang-toggle-login").click()  # 中/EN
    expect(web.page.get_by_test_id("login-submit")).to_have_text("Log in")
    expect(error).to_have_text("Wrong username or password")
    assert web.page_errors == [] and web.csp_violations() == []


def test_click_shows_routing_for_the_grid(web, http, district_dispatcher):
    user, password, headers = district_dispatcher
    grids = http.get("/api/areas", params={"kind": "grid"}, headers=headers).json()["features"]
    grid = sorted(grids, key=lambda f: f["properties"]["code"])[len(grids) // 3]
    point = shape(grid["geometry"]).representative_point()
    category = "street_vendor"  # enforcement: units near every grid of the sample
    expected = http.get("/api/route", params={"lon": point.x, "lat": point.y, "category": category},
                        headers=headers).json()
    assert expected["grid"]["code"] == grid["properties"]["code"]

    web.login(user, password)
    web.wait_map()
    page = web.page
    page.get_by_test_id("category-select").select_option(category)
    click_on_grid(page, grid)

    panel = page.get_by_test_id("route-panel")
    page.wait_for_selector("[data-testid=route-panel][data-state=done]")
    grid_line = page.get_by_test_id("route-grid").text_content()
    assert grid["properties"]["code"] in grid_line or grid["properties"]["name"] in grid_line
    units = page.get_by_test_id("route-unit")
    assert units.count() >= 1
    first = float(units.first.get_attribute("data-distance-m"))
    assert first >= 0 and first == pytest.approx(float(expected["units"][0]["distance_m"]), abs=5)
    assert "米" in units.first.get_by_test_id("route-distance").text_content()
    assert expected["street"]["name"] in panel.text_content()

    # the README picture: a three-department category, every layer back on, zoomed out
    page.get_by_test_id("category-select").select_option("fire_hazard")
    page.wait_for_selector("[data-testid=route-panel][data-state=done] [data-testid=route-dept][data-dept=fire]")
    page.evaluate("""([lat, lon]) => new Promise(done => {
        const g = window.gridgov;
        for (const id of ['incidents', 'units', 'stations']) g.layers.layers[id].addTo(g.map);
        g.map.once('moveend', () => setTimeout(done, 300));
        g.map.setView([lat, lon], 14, {animate: false});
    })""", [point.y, point.x])
    page.mouse.move(VIEWPORT["width"] - 100, VIEWPORT["height"] - 40)  # no hover tooltip in the picture
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    web.assert_clean()


def test_the_grid_poster_downloads_from_the_routing_panel(web, http, district_dispatcher, tmp_path):
    """A dispatcher clicks a grid and prints its QR poster: the PDF comes down with the token."""
    user, password, headers = district_dispatcher
    grids = http.get("/api/areas", params={"kind": "grid"}, headers=headers).json()["features"]
    grid = sorted(grids, key=lambda f: f["properties"]["code"])[len(grids) // 2]
    web.login(user, password)
    web.wait_map()
    page = web.page
    click_on_grid(page, grid)
    page.wait_for_selector("[data-testid=route-panel][data-state=done] [data-testid=route-poster]")
    with page.expect_download() as got:
        page.get_by_test_id("poster-pdf").click()
    download = got.value
    assert download.suggested_filename == f"poster-{grid['properties']['code']}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    web.assert_clean()


def test_street_dispatcher_sees_only_their_street(web, http, make_user, district_dispatcher):
    _, _, district_headers = district_dispatcher
    streets = http.get("/api/areas", params={"kind": "street"}, headers=district_headers).json()["features"]
    street = sorted(f["properties"]["code"] for f in streets)[0]
    user, password = make_user("dispatcher", street)
    headers = headers_for(http, user, password)
    mine = http.get("/api/incidents", params={"limit": 500}, headers=headers).json()
    everyone = http.get("/api/incidents", params={"limit": 1}, headers=district_headers).json()
    assert "numberReturned" in mine, mine
    assert mine["numberReturned"] > 0
    assert mine["numberMatched"] < everyone["numberMatched"]
    assert {f["properties"]["street_code"] for f in mine["features"]} == {street}

    web.login(user, password)
    web.wait_map()
    page = web.page
    page.wait_for_selector("body[data-incidents-loaded]")
    assert page.locator("path.gg-incident").count() == mine["numberReturned"]
    drawn = page.evaluate("window.gridgov.layers.layers.incidents.getLayers()"
                          ".map(l => l.feature.properties.street_code)")
    assert len(drawn) == mine["numberReturned"] and set(drawn) == {street}
    web.assert_clean()


def test_expired_access_token_is_refreshed_then_logout(web, district_dispatcher):
    user, password, _ = district_dispatcher
    web.login(user, password)
    web.wait_map()
    page = web.page
    before = page.evaluate("JSON.parse(sessionStorage.getItem('gridgov.tokens'))")
    page.evaluate("""() => {  // an access token the server no longer accepts
        const t = JSON.parse(sessionStorage.getItem('gridgov.tokens'));
        t.access = t.access.slice(0, -4) + 'AAAA';
        sessionStorage.setItem('gridgov.tokens', JSON.stringify(t));
    }""")
    page.evaluate("() => { const c = window.gridgov.map.getCenter(); window.gridgov.routing.route(c); }")
    page.wait_for_selector("[data-testid=route-panel][data-state=done]")
    after = page.evaluate("JSON.parse(sessionStorage.getItem('gridgov.tokens'))")
    assert after["refresh"] != before["refresh"]  # rotated once, the call retried
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-form").wait_for(state="visible")
    assert page.evaluate("sessionStorage.getItem('gridgov.tokens')") is None
    assert web.page_errors == [] and web.csp_violations() == []


def test_analyst_sees_no_units_and_no_routing_preview(web, make_user):
    user, password = make_user("analyst", DISTRICT)
    web.login(user, password)
    web.wait_map()
    page = web.page
    control = page.get_by_test_id("layer-control")
    assert control.get_by_text("网格", exact=True).is_visible()
    assert control.get_by_text("执法力量", exact=True).count() == 0  # units are not for analysts
    assert page.locator("path.gg-unit").count() == 0
    # no preview_routing capability: the page offers none (and so asks nothing that would be refused)
    assert page.evaluate("window.gridgov.routing") is None
    assert page.get_by_test_id("route-unavailable").is_visible()
    web.assert_clean()
