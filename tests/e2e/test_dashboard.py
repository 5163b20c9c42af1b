"""The leaders' dashboard (/dashboard) in headless Chromium: the tiles show what the KPI API
gives the same caller, a figure opens exactly the cases it counted, the choropleth draws one
shape per street in reach and a click on one rescopes the page, a bar of the top categories
opens its cases, a bin of the response-time histogram opens the cases measured in it, English
replaces the Chinese, and a big screen (1920×1080) or a laptop (1366×768) never scrolls sideways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from shapely.geometry import shape

from tests.cycle_support import CaseMaker, police_units
from tests.e2e.test_desk import login
from tests.e2e.test_map import DISTRICT, Page, browser, headers_for, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

STREET = "330503001"  # 东迁街道 of the sample
BIG = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
# a district's year of KPIs takes seconds on a machine busy with other tests: waits for a load get longer
LOAD_MS = 180_000
TILE_KEYS = ("received", "closure_rate", "on_time_rate", "open_overdue", "settled_street", "response_time",
             "satisfaction", "reopen_rate", "repeat_complaints")


@pytest.fixture(scope="module")
def dispatcher(make_user, http):  # noqa: F811
    user = make_user("dispatcher", STREET)
    return user, headers_for(http, *user)


def open_dashboard(web: Page, user) -> None:
    login(web, "/dashboard", *user)
    web.page.wait_for_selector("body[data-dash-ready='1']", timeout=LOAD_MS)


def shown(f: dict) -> str:
    """A figure as the tile writes it (the page's rule, in Chinese)."""
    if f["value"] is None:
        return "–"
    if f["kind"] == "rate":
        return f"{f['value'] * 100:.1f}%"
    if f["kind"] == "duration":
        raise AssertionError("the sample measures no response time: compare durations by hand")
    return f"{int(f['value']):,}"


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def wait_cases(page, key: str, part: str) -> dict:
    page.wait_for_selector(f"[data-testid=dash-cases][data-ready='1'][data-key={key}][data-part={part}]")
    panel = page.get_by_test_id("dash-cases")
    ids = [int(x) for x in page.locator("[data-testid=dash-case]").evaluate_all("els => els.map(e => e.dataset.id)")]
    return {"count": int(panel.get_attribute("data-count")), "ids": ids}


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("(() => { const d = document.querySelector('.dash');"
                         " return d.scrollWidth <= d.clientWidth; })()")


def test_tiles_equal_the_api_and_a_figure_opens_exactly_its_cases(browser, live_server, http, dispatcher):  # noqa: F811
    user, headers = dispatcher
    web = Page(browser, live_server, viewport=BIG)
    try:
        open_dashboard(web, user)
        page = web.page
        query = page.evaluate("window.gridgovDashboard.query")
        assert set(query) == {"from", "to"}  # the caller's whole reach over the last 12 months
        res = http.get("/api/kpis", params=query, headers=headers)
        assert res.status_code == 200, res.text
        api = {k["key"]: k for k in res.json()["kpis"]}
        assert api["received"]["numerator"] > 0
        for key in TILE_KEYS:
            tile = page.locator(f"[data-testid=tile][data-key={key}]")
            f = api[key]
            if f["kind"] == "duration":
                assert number(tile.get_by_test_id("tile-denominator").text_content()) == f["denominator"]
                continue
            assert tile.get_by_test_id("tile-value").text_content() == shown(f), key
            assert number(tile.get_by_test_id("tile-numerator").text_content()) == f["numerator"], key
            assert number(tile.get_by_test_id("tile-denominator").text_content()) == f["denominator"], key
        # the integrity signals sit beside the figures they can inflate, with their counts
        signals = page.locator("[data-testid=tile][data-key=on_time_rate] [data-testid=tile-signal]")
        beside = {s["key"] for s in api.values() if s["signal"] and "on_time_rate" in (s["beside"] or [])}
        assert set(signals.evaluate_all("els => els.map(e => e.dataset.key)")) == beside

        # the late cases: exactly the denominator minus the numerator, newest first as the API lists them
        on_time = api["on_time_rate"]
        page.locator("[data-testid=tile][data-key=on_time_rate] [data-testid=tile-rest]").click()
        late = wait_cases(page, "on_time_rate", "rest")
        assert late["count"] == on_time["denominator"] - on_time["numerator"] > 0
        listed = http.get("/api/kpis/on_time_rate/cases", params={**query, "part": "rest", "limit": 20},
                          headers=headers).json()
        assert late["ids"] == [c["id"] for c in listed["features"]]
        first = late["ids"][0]
        link = page.locator(f"[data-testid=dash-case][data-id='{first}'] a")
        assert link.get_attribute("href") == f"/desk#case={first}"
        assert "#cases?key=on_time_rate&part=rest" in page.url
        page.get_by_test_id("dash-next").click()
        page.wait_for_function("ids => { const el = document.querySelector('[data-testid=dash-case]');"
                               " return el && !ids.includes(Number(el.dataset.id)); }", arg=late["ids"])
        page.get_by_test_id("dash-cases").wait_for(state="visible")
        # the on-time cases themselves: the numerator
        page.locator("[data-testid=tile][data-key=on_time_rate] [data-testid=tile-numerator]").click()
        assert wait_cases(page, "on_time_rate", "numerator")["count"] == on_time["numerator"]
        # a bar of the top categories: that category's cases
        page.get_by_test_id("dash-cases-close").click()
        page.get_by_test_id("dash-cases").wait_for(state="hidden")
        rows = http.get("/api/kpis/categories", params=query, headers=headers).json()["categories"]
        top = rows[0]
        received = next(k for k in top["kpis"] if k["key"] == "received")["numerator"]
        xy = page.evaluate("""([value]) => {
            const c = window.gridgovDashboard.charts.get('dash-categories');
            const n = c.getOption().yAxis[0].data.length;
            return c.convertToPixel({seriesIndex: 0}, [value / 2, n - 1]); }""", [received])
        page.get_by_test_id("dash-categories").click(position={"x": xy[0], "y": xy[1]})
        page.wait_for_selector("[data-testid=dash-cases][data-ready='1'][data-key=received]")
        assert int(page.get_by_test_id("dash-cases").get_attribute("data-count")) == received
        assert page.evaluate("window.gridgovDashboard.drill.category") == top["category_code"]
        no_sideways_scroll(page)
        web.assert_clean()
    finally:
        web.context.close()


def test_the_choropleth_has_one_shape_per_street_and_a_click_rescopes(browser, live_server, http, make_user):  # noqa: F811
    user = make_user("analyst", DISTRICT)
    headers = headers_for(http, *user)
    streets = http.get("/api/areas", params={"kind": "street"}, headers=headers).json()["features"]
    assert len(streets) > 1
    web = Page(browser, live_server, viewport=LAPTOP)
    try:
        open_dashboard(web, user)
        page = web.page
        shapes = page.locator("path.dash-area")
        assert shapes.count() == len(streets)
        codes = shapes.evaluate_all("els => els.map(e => e.dataset.code)")
        assert sorted(codes) == sorted(f["id"] for f in streets)
        assert page.get_by_test_id("dash-legend").locator("li").count() >= 2
        no_sideways_scroll(page)
        target = STREET
        inside = shape(next(f for f in streets if f["id"] == target)["geometry"]).representative_point()
        xy = page.evaluate("""([code, lat, lon]) => { const g = window.gridgovDashboard;
            g.layer.eachLayer(l => { if (l.feature.properties.code === code)
                g.map.fitBounds(l.getBounds(), {animate: false}); });
            const p = g.map.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y]; }""", [target, inside.y, inside.x])
        assert page.locator(f"path.dash-area[data-code='{target}']").count() == 1
        page.evaluate("document.body.dataset.dashReady = 'clicked'")
        page.get_by_test_id("dash-map").click(position={"x": xy[0], "y": xy[1]})
        page.wait_for_selector("body[data-dash-ready='1']", timeout=LOAD_MS)
        assert page.get_by_test_id("dash-area").input_value() == target
        assert page.evaluate("window.gridgovDashboard.query.area") == target
        scoped = http.get("/api/kpis", params=page.evaluate("window.gridgovDashboard.query"), headers=headers).json()
        received = next(k for k in scoped["kpis"] if k["key"] == "received")
        tile = page.locator("[data-testid=tile][data-key=received] [data-testid=tile-value]")
        assert number(tile.text_content()) == received["numerator"]
        web.assert_clean()
    finally:
        web.context.close()


def test_english_replaces_the_chinese(browser, live_server, dispatcher):  # noqa: F811
    user, _ = dispatcher
    web = Page(browser, live_server, viewport=BIG)
    try:
        open_dashboard(web, user)
        page = web.page
        name = page.locator("[data-testid=tile][data-key=received] .dash-tile-name")
        assert name.text_content() == "接收"
        assert page.get_by_test_id("dash-window").locator("option[value=this_month]").text_content() == "本月"
        page.get_by_test_id("lang-toggle").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert name.text_content() == "Received"
        assert page.get_by_test_id("dash-window").locator("option[value=this_month]").text_content() == "This month"
        assert page.locator("[data-testid=dash-area] option[value='']").text_content() == "All in my reach"
        assert " to " in page.get_by_test_id("dash-period").text_content()
        no_sideways_scroll(page)
        web.assert_clean()
    finally:
        web.context.close()


@pytest.fixture(scope="module")
def arrived(http, make_user, engine):  # noqa: F811
    """A case of the street a unit reached seconds after its dispatch: a response time to bin."""
    admin = headers_for(http, *make_user("admin", DISTRICT))
    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM area "
            "WHERE kind = 'grid' AND valid_to IS NULL AND code LIKE :street || '%' ORDER BY code LIMIT 1"),
            {"street": STREET}).one()
    units = police_units(engine)
    maker = CaseMaker(http, admin, lon=lon, lat=lat, unit=units[0], second_unit=units[1], category="street_vendor")
    case = maker.report()
    maker.bring(case["id"], "accepted")
    maker.act(case["id"], "arrive")
    return case["id"]


def test_a_bin_of_the_response_times_opens_the_cases_measured_in_it(
        browser, live_server, http, dispatcher, arrived):  # noqa: F811
    user, headers = dispatcher
    web = Page(browser, live_server, viewport=BIG)
    try:
        open_dashboard(web, user)
        page = web.page
        query = page.evaluate("window.gridgovDashboard.query")
        hist = http.get("/api/kpis/response_time/histogram", params=query, headers=headers).json()
        assert hist["measured"] >= 1
        assert page.get_by_test_id("dash-response").get_attribute("data-measured") == str(hist["measured"])
        index, b = next((i, b) for i, b in enumerate(hist["bins"]) if b["cases"])
        xy = page.evaluate("""([i, value]) => window.gridgovDashboard.charts.get('dash-response')
            .convertToPixel({seriesIndex: 0}, [i, value / 2])""", [index, b["cases"]])
        page.get_by_test_id("dash-response").click(position={"x": xy[0], "y": xy[1]})
        shown_cases = wait_cases(page, "response_time", "denominator")
        assert shown_cases["count"] == b["cases"]
        assert arrived in shown_cases["ids"]
        assert f"min_s={b['lo']:g}" in page.url
        web.assert_clean()
    finally:
        web.context.close()


def test_the_stations_stars_of_the_month_with_an_adjustment_beside_and_the_breakdown(
        browser, live_server, http, dispatcher, make_user):  # noqa: F811
    """The month's star ratings of the stations in reach, as the API ranks them; a leader's
    adjustment is shown beside the computed stars with its reason; a row opens its breakdown."""
    user, headers = dispatcher
    admin = headers_for(http, *make_user("admin", DISTRICT))
    month = "2026-10"
    res = http.post("/api/stars/compute", json={"month": month}, headers=admin)
    assert res.status_code == 200, res.text
    ratings = http.get("/api/stars", params={"month": month, "kind": "station"}, headers=headers).json()["ratings"]
    rated = [r for r in ratings if r["rated"]]
    assert rated, "the sample's street has rated stations in 2026-10"
    leader = headers_for(http, *make_user("leader", STREET))
    reason = "整改到位，群众认可"
    res = http.post(f"/api/stars/{rated[0]['id']}/adjustment", json={"stars": 5, "reason": reason}, headers=leader)
    assert res.status_code == 200, res.text
    web = Page(browser, live_server, viewport=BIG)
    try:
        open_dashboard(web, user)
        page = web.page
        page.get_by_test_id("dash-window").select_option("custom")
        page.get_by_test_id("dash-from").fill("2026-10-01")
        page.get_by_test_id("dash-to").fill("2026-10-31")
        page.get_by_test_id("dash-to").dispatch_event("change")
        page.wait_for_selector("[data-testid=dash-stars-month]:has-text('2026-10')", timeout=LOAD_MS)
        page.wait_for_selector("body[data-dash-ready='1']", timeout=LOAD_MS)
        rows = page.get_by_test_id("dash-star")
        assert rows.evaluate_all("els => els.map(e => e.dataset.code)") == [r["code"] for r in ratings]
        first = page.locator(f"[data-testid=dash-star][data-code='{rated[0]['code']}']")
        assert first.get_by_test_id("dash-star-stars").inner_text() == "★★★★★"  # the adjusted stars are shown
        adjusted = page.get_by_test_id("dash-star-adjusted").first
        assert reason in adjusted.inner_text() and "★" * rated[0]["stars"] in adjusted.inner_text()
        breakdown = page.get_by_test_id("dash-star-breakdown").first
        assert breakdown.is_hidden()
        first.click()
        assert breakdown.is_visible()
        assert breakdown.locator("li").count() == len(rated[0]["breakdown"])
        web.assert_clean()
    finally:
        web.context.close()
