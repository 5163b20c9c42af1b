"""The dispatcher's console in headless Chromium: live map and queue, scoped to the street;
heatmap modes and the early-warning list."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cycle_support import two_street_spots
from tests.e2e.test_desk import login
from tests.e2e.test_map import Page, browser, headers_for, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
CATALOGUE = Path(__file__).resolve().parents[2] / "web/static/i18n/zh.json"
SCREENSHOT = Path(os.environ.get("GRIDGOV_CONSOLE_SCREENSHOT") or "/tmp/gridgov-screenshot-console.png")


@pytest.fixture(scope="module")
def streets(engine):
    return two_street_spots(engine)


def report(http, spot) -> int:  # noqa: F811
    res = http.post("/api/incidents", json={"category": "street_vendor", "lon": spot["lon"], "lat": spot["lat"],
                                            "accuracy_m": 5, "description": "console e2e"})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def open_console(web: Page, user) -> None:
    login(web, "/console", *user)
    web.page.wait_for_selector("body[data-console-ready='1']")
    web.page.wait_for_selector("[data-testid=live-state][data-state=live]")


def test_a_street_report_appears_live_and_another_streets_never_reaches_the_browser(
        browser, live_server, http, make_user, streets):  # noqa: F811
    mine, other = streets
    user = make_user("dispatcher", mine["street"])
    web = Page(browser, live_server)
    seen_bodies: list[str] = []
    web.page.on("response", lambda r: seen_bodies.append(r.text()) if "/api/" in r.url
                and "json" in r.headers.get("content-type", "") else None)
    try:
        open_console(web, user)
        page = web.page
        page.evaluate("""() => { window.__blocks = []; const live = window.gridgovConsole.live;
            const read = live.message.bind(live); live.message = (b) => { window.__blocks.push(b); read(b); }; }""")
        started = time.monotonic()
        first = report(http, mine)
        page.wait_for_selector(f"[data-testid=console-row][data-id='{first}']")
        shown_after = time.monotonic() - started
        assert page.evaluate(f"window.gridgovConsole.incidents.has({first})")
        assert page.evaluate(f"window.gridgovConsole.map.hasLayer(window.gridgovConsole.cluster)"
                             f" && window.gridgovConsole.cluster.hasLayer("
                             f"window.gridgovConsole.incidents.get({first}).marker)")
        elsewhere = report(http, other)
        barrier = report(http, mine)
        page.wait_for_selector(f"[data-testid=console-row][data-id='{barrier}']")
        blocks = page.evaluate("window.__blocks")
        assert any(f'"incident_id":{barrier},' in b for b in blocks)
        assert not any(f'"incident_id":{elsewhere},' in b for b in blocks)
        assert not any(f'"id":{elsewhere},' in b or f'"incident_id":{elsewhere},' in b for b in seen_bodies)
        assert page.locator(f"[data-testid=console-row][data-id='{elsewhere}']").count() == 0
        print(f"\nconsole: report shown {shown_after * 1000:.0f} ms after the POST started")
        web.assert_clean()
    finally:
        web.context.close()


def test_heatmap_modes_draw_and_the_warning_list_shows(browser, live_server, http, make_user, streets, engine):  # noqa: F811
    for _ in range(12):  # a spike in one grid today: an early warning
        report(http, streets[0])
    user = make_user("dispatcher", "330503")
    web = Page(browser, live_server)
    try:
        open_console(web, user)
        page = web.page
        page.get_by_test_id("heat-mode").select_option("hexagons")
        page.wait_for_function("() => document.body.dataset.heatMode === 'hexagons'"
                               " && Number(document.body.dataset.heatTotal) >= 12")
        assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() > 0
        page.get_by_test_id("heat-mode").select_option("density")
        page.wait_for_function("() => document.body.dataset.heatMode === 'density'")
        page.wait_for_selector("canvas.leaflet-heatmap-layer")
        page.get_by_test_id("tab-warnings").click()
        page.wait_for_selector("[data-testid=warning-row][data-by=grid]")
        with engine.connect() as conn:  # the spike's grid, by its name, with what was reported
            grid = conn.execute(sa.text("SELECT a.code, a.name FROM area a WHERE a.valid_to IS NULL AND a.kind = 'grid'"
                                        " AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
                                {"x": streets[0]["lon"], "y": streets[0]["lat"]}).mappings().one()
        row = page.locator(f"[data-testid=warning-row][data-by=grid][data-place='{grid['code']}']")
        assert row.get_by_test_id("warning-place").inner_text() == grid["name"]
        assert "流动摊贩" in row.get_by_test_id("warning-kinds").inner_text()
        assert "e-" not in row.inner_text()  # no raw p-value
        before = page.evaluate("window.gridgovConsole.map.getZoom()")
        row.click()
        page.wait_for_function("z => window.gridgovConsole.map.getZoom() > z", arg=before)
        page.get_by_test_id("heat-mode").select_option("incidents")
        page.wait_for_selector("[data-testid=points-legend]")
        page.get_by_test_id("heat-mode").select_option("hexagons")
        page.wait_for_function("() => document.body.dataset.heatMode === 'hexagons'")
        page.screenshot(path=str(SCREENSHOT))
        web.assert_clean()
    finally:
        web.context.close()


def test_an_analyst_reads_the_board_to_about_100_m_and_is_offered_no_case_to_open(
        browser, live_server, http, make_user, streets, engine):  # noqa: F811
    """The console as an analyst: the new case appears, placed to about 100 m with its time to
    the hour; its popup says so and offers no "open case / dispatch"; a dispatcher's popup does."""
    mine, _ = streets
    analyst = make_user("analyst", mine["street"])
    dispatcher = make_user("dispatcher", mine["street"])
    web = Page(browser, live_server)
    bodies: list[str] = []
    web.page.on("response", lambda r: bodies.append(r.text()) if "/api/" in r.url
                and "json" in r.headers.get("content-type", "") else None)
    try:
        open_console(web, analyst)
        page = web.page
        case = report(http, mine)
        page.wait_for_selector(f"[data-testid=console-row][data-id='{case}']")
        with engine.connect() as conn:
            code, lon, lat = conn.execute(sa.text("SELECT tracking_code, ST_X(location), ST_Y(location) "
                                                  "FROM incident WHERE id = :i"), {"i": case}).one()
        shown = page.evaluate("(id) => { const i = window.gridgovConsole.incidents.get(id).item;"
                              " return [i.lon, i.lat]; }", case)
        assert shown == [round(lon, 3), round(lat, 3)] and shown != [lon, lat]
        assert not any(code in b for b in bodies)  # no tracking code ever reached the analyst's browser
        page.click(f"[data-testid=console-row][data-id='{case}']")
        page.wait_for_selector(f"[data-testid=console-popup][data-id='{case}'] [data-testid=approximate]")
        assert page.locator("[data-testid=console-popup] [data-testid=open-case]").count() == 0
        web.assert_clean()
    finally:
        web.context.close()
    web = Page(browser, live_server)
    try:
        open_console(web, dispatcher)
        web.page.wait_for_selector(f"[data-testid=console-row][data-id='{case}']")
        web.page.click(f"[data-testid=console-row][data-id='{case}']")
        web.page.wait_for_selector(f"[data-testid=console-popup][data-id='{case}'] [data-testid=open-case]")
        assert web.page.locator("[data-testid=console-popup] [data-testid=approximate]").count() == 0
        web.assert_clean()
    finally:
        web.context.close()


HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
UNIT_TOOLTIPS = """() => [...window.gridgovConsole.units.values()].slice(0, 30).map(({ marker }) => {
    const c = marker.getTooltip()._content; return typeof c === "function" ? c(marker) : String(c); })"""


def console_words(page) -> dict[str, list[str]]:
    """The words the console shows of its own (not a name from the data): legend, category names,
    states of the queue's cases, the filters, units' states."""
    page.wait_for_selector("[data-testid=points-legend]")
    rows = page.locator("[data-testid=console-row]")
    return {
        "legend": [page.get_by_test_id("points-legend").inner_text()],
        "categories": page.locator("#h-category option").all_inner_texts(),
        "filters": page.locator("#h-status option, #h-tier option").all_inner_texts(),
        "queue": rows.all_inner_texts()[:20],
        # a unit's tooltip: its name (data) · its state · its position's age
        "unit states": [" · ".join(t.split(" · ")[1:]) for t in page.evaluate(UNIT_TOOLTIPS)],
    }


def test_the_console_speaks_one_language_at_a_time(browser, live_server, http, make_user, streets):  # noqa: F811
    """In English nothing of the console's own words is Chinese (the legend, category names, the
    states of cases and units); in Chinese none of them is English."""
    report(http, streets[0])
    web = Page(browser, live_server)
    try:
        open_console(web, make_user("dispatcher", "330503"))
        page = web.page
        page.wait_for_selector("[data-testid=console-row]")
        page.wait_for_function("() => window.gridgovConsole.units.size > 0")
        chinese = console_words(page)
        assert all(chinese.values()), chinese
        english_in_chinese = {k: [t for t in v if ENGLISH_WORD.search(t)] for k, v in chinese.items()}
        assert not any(english_in_chinese.values()), english_in_chinese
        page.get_by_test_id("lang-toggle").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        page.wait_for_function("() => !/[\\u3400-\\u9fff]/.test(document.querySelector('[data-testid=points-legend]')"
                               "?.textContent ?? '中')")
        english = console_words(page)
        han_in_english = {k: [t for t in v if HAN.search(t)] for k, v in english.items()}
        assert not any(han_in_english.values()), han_in_english
        page.get_by_test_id("lang-toggle").click()  # and back: the catalogues go round
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        web.assert_clean()
    finally:
        web.context.close()


def test_a_case_popup_opens_from_its_row_or_marker_and_follows_the_case_while_open(
        browser, live_server, http, make_user, streets):  # noqa: F811
    """A dispatcher clicks a row: the case's popup opens even while live frames move the case on,
    and shows the case's new state without being closed; a click on the marker opens it too."""
    mine, _ = streets
    dispatcher = make_user("dispatcher", mine["street"])
    auth = headers_for(http, *dispatcher)
    web = Page(browser, live_server)
    try:
        open_console(web, dispatcher)
        page = web.page
        case = report(http, mine)
        row = f"[data-testid=console-row][data-id='{case}']"
        popup = f"[data-testid=console-popup][data-id='{case}']"
        page.wait_for_selector(f"{row}[data-status=received]")
        page.click(row)  # the triage below reaches the console while the map zooms to the case
        res = http.post(f"/api/incidents/{case}/actions/triage", json={}, headers=auth)
        assert res.status_code == 200, res.text
        page.wait_for_selector(popup)
        page.wait_for_selector(f"{row}[data-status=triaged]")
        accepted = json.loads(CATALOGUE.read_text(encoding="utf-8"))["state.triaged"]
        page.wait_for_function("([sel, text]) => document.querySelector(sel)?.textContent.includes(text)",
                               arg=[popup, accepted])
        assert page.locator(".leaflet-popup").count() == 1
        page.locator(".leaflet-popup-close-button").click()
        page.wait_for_selector(popup, state="detached")
        page.evaluate("(id) => window.gridgovConsole.incidents.get(id).marker.fire('click')", case)
        page.wait_for_selector(popup)
        web.assert_clean()
    finally:
        web.context.close()
