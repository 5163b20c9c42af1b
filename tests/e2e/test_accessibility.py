"""Every page, in each state a person meets it, passes axe-core's WCAG 2 A/AA rules with no
violation: the map (login screen, logged in, a routing preview), the desk (login card, queue, a
case open, the dispatch form), the console (queue, warnings), the officer's phone (tasks, the
handle form, no task), the grid editor (with and without a grid selected), the calendar, the
hand-over sheet, the leaders' dashboard (tiles, map and charts; a figure's cases), the resident's
report form (also with the me-too offer open and with the sent card) and the tracking page (with
and without the secret). Eight states are checked in English too.
The Leaflet maps are checked with the rest of each page.

axe-core is a dev dependency (web/package.json): it is read from web/node_modules and evaluated
in the page by the test (through the DevTools protocol, so the page's Content-Security-Policy
stays as users get it); the app never serves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cycle_support import CaseMaker
from tests.e2e import test_map
from tests.e2e.test_map import DISTRICT, TIMEOUT_MS, browser, headers_for, http  # noqa: F401 (fixtures)
from tests.e2e.test_report import clear_grid_points

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}
DESKTOP = test_map.VIEWPORT

# Selectors left out of the check, each with the reason it cannot be fixed from our side (none
# today: Leaflet's controls and panes pass as they are).
EXCLUDE: list[list[str]] = []


@pytest.fixture(scope="module")
def axe_source() -> str:
    # `make test` installs it (npm ci, a dev dependency): missing is a failure, never a silent skip
    assert AXE.exists(), f"{AXE} is missing: cd web && npm ci"
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)  # a script evaluated by the protocol: no <script> tag for the CSP to refuse
    return page.evaluate("""async ([tags, exclude]) => {
        const context = exclude.length ? {include: [document], exclude} : document;
        const result = await window.axe.run(context, {runOnly: {type: 'tag', values: tags},
                                                      resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""", [TAGS, EXCLUDE])


def describe(violations: list[dict]) -> str:
    """One line per violation (id, impact, help), then each element's selector and what is wrong."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:12]:
            why = "; ".join(x.strip() for x in (n["summary"] or "").splitlines()[1:] if x.strip())
            lines.append(f"    {n['target']}  -- {why}")
        if len(v["nodes"]) > 12:
            lines.append(f"    ... and {len(v['nodes']) - 12} more")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def spots(engine):
    """Three grids' inner points, clear of other grids (each state files its own reports)."""
    return clear_grid_points(engine, "axe")


@pytest.fixture(scope="module")
def world(http, make_user, spots, engine):  # noqa: F811
    """Accounts and cases for the states: two cases sent to a unit (one accepted) with its officer,
    an officer whose unit has nothing to do, a triaged case, a closed case (the resident can rate
    it) and an open street-light case (the me-too offer)."""
    admin = headers_for(http, *make_user("admin", DISTRICT))
    with engine.connect() as conn:
        unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'enforcement' AND status = "
                                    "'available' ORDER BY md5(code || 'axe') LIMIT 1")).scalar_one()
        idle = conn.execute(sa.text("""
            SELECT code FROM unit u WHERE code <> :busy AND NOT EXISTS (
                SELECT 1 FROM assignment a WHERE a.unit_code = u.code AND a.cleared_at IS NULL)
            ORDER BY md5(code || 'axe') LIMIT 1"""), {"busy": unit}).scalar_one()
    spot = spots[0]
    maker = CaseMaker(http, admin, lon=spot["lon"], lat=spot["lat"], unit=unit, second_unit="",
                      category="street_vendor")
    dispatched = maker.report()
    maker.bring(dispatched["id"], "dispatched")
    accepted = maker.report()  # the unit's second task, accepted: its phone opens the handle form
    maker.bring(accepted["id"], "accepted")
    triaged = maker.report()  # the desk opens the dispatch form on it
    maker.bring(triaged["id"], "triaged")
    closed = maker.report()
    maker.act(closed["id"], "triage")
    maker.act(closed["id"], "resolve", note="已劝离")
    maker.act(closed["id"], "verify", note="ok")
    maker.act(closed["id"], "close")
    light = http.post("/api/incidents", json={"category": "street_light", "lon": spots[1]["lon"],
                                              "lat": spots[1]["lat"], "description": "路灯不亮 e2e-axe"})
    assert light.status_code == 201, light.text
    return {
        "spot": spot, "dispatcher": make_user("dispatcher", DISTRICT), "admin": make_user("admin", DISTRICT),
        "manager": make_user("grid_manager", DISTRICT), "officer": make_user("officer", DISTRICT, unit=unit),
        "idle_officer": make_user("officer", DISTRICT, unit=idle),
        "dispatched": dispatched, "accepted": accepted, "triaged": triaged, "closed": closed,
    }


def log_in(page, base: str, path: str, user: tuple[str, str]) -> None:
    page.goto(base + path)
    page.get_by_test_id("login-username").fill(user[0])
    page.get_by_test_id("login-password").fill(user[1])
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("app-view").wait_for(state="visible")


def fill_report(page, category: str, description: str) -> None:
    page.wait_for_selector("#report-map[data-placed='1']")
    page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")
    page.get_by_test_id("report-category").select_option(category)
    page.get_by_test_id("report-description").fill(description)
    page.get_by_test_id("report-submit").click()


# Each state: (viewport, spot index for the phone's position or None, function(page, base, world)).
def map_login(page, base, w):
    page.goto(base + "/")
    page.get_by_test_id("login-username").wait_for(state="visible")


def map_in(page, base, w):
    page.goto(base + "/")
    page.get_by_test_id("login-username").fill(w["dispatcher"][0])
    page.get_by_test_id("login-password").fill(w["dispatcher"][1])
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("body[data-map-ready='1']")


def desk_login(page, base, w):
    page.goto(base + "/desk")
    page.get_by_test_id("login-username").wait_for(state="visible")


def desk_queue(page, base, w):
    log_in(page, base, "/desk", w["dispatcher"])
    page.wait_for_selector("[data-testid=queue-row]")


def desk_case(page, base, w):
    log_in(page, base, "/desk", w["dispatcher"])
    page.goto(f"{base}/desk#case={w['dispatched']['id']}")
    page.reload()
    page.wait_for_selector(f"[data-testid=case-view][data-id='{w['dispatched']['id']}']")
    page.wait_for_selector("[data-testid=queue-row]")


def map_route(page, base, w):
    map_in(page, base, w)
    page.get_by_test_id("category-select").select_option("street_vendor")
    test_map.click_on_grid(page, {"geometry": {"type": "Point", "coordinates": [w["spot"]["lon"], w["spot"]["lat"]]}})
    page.wait_for_selector("[data-testid=route-panel][data-state=done]")


def desk_dispatch(page, base, w):
    log_in(page, base, "/desk", w["dispatcher"])
    page.goto(f"{base}/desk#case={w['triaged']['id']}")
    page.reload()
    page.wait_for_selector(f"[data-testid=case-view][data-id='{w['triaged']['id']}']")
    page.get_by_test_id("action-dispatch").click()
    page.wait_for_selector("[data-testid=recommend-unit]")


def console(page, base, w):
    log_in(page, base, "/console", w["dispatcher"])
    page.wait_for_selector("body[data-console-ready='1']")
    page.wait_for_selector("[data-testid=live-state][data-state=live]")
    page.wait_for_selector("[data-testid=console-row]")


def unit(page, base, w):
    log_in(page, base, "/unit", w["officer"])
    page.wait_for_selector(f"[data-testid=task][data-incident-id='{w['dispatched']['id']}']")


def console_warnings(page, base, w):
    console(page, base, w)
    page.get_by_test_id("tab-warnings").click()
    page.get_by_test_id("console-warnings").wait_for(state="visible")


def unit_empty(page, base, w):
    """An officer with nothing to do, sharing the phone's position."""
    log_in(page, base, "/unit", w["idle_officer"])
    page.get_by_test_id("tasks-empty").wait_for(state="visible")
    page.get_by_test_id("share-position").check()
    page.wait_for_function("() => document.querySelector('[data-testid=position-state]').textContent.length > 0")


def unit_handle(page, base, w):
    unit(page, base, w)
    task = page.locator(f"[data-testid=task][data-incident-id='{w['accepted']['id']}']")
    task.get_by_test_id("task-handle").click()
    page.get_by_test_id("task-note").wait_for(state="visible")


def editor(page, base, w):
    log_in(page, base, "/editor", w["manager"])
    page.wait_for_selector("body[data-editor-ready='1']")
    page.wait_for_function("() => Number(document.body.dataset.gridsLoaded) > 0")


def editor_grid(page, base, w):
    """A grid selected: its details and roster in the side panel."""
    editor(page, base, w)
    spot = w["spot"]
    xy = page.evaluate("""([lat, lon]) => new Promise(done => {
        const map = window.gridgovEditor.map;
        map.once('moveend', () => { const p = map.latLngToContainerPoint([lat, lon]); done([p.x, p.y]); });
        map.setView([lat, lon], 17, {animate: false});
    })""", [spot["lat"], spot["lon"]])
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_function("code => document.body.dataset.details === code", arg=spot["code"])


def calendar(page, base, w):
    log_in(page, base, "/admin/calendar", w["admin"])
    page.wait_for_selector("[data-testid=cal-year]")


def handover(page, base, w):
    log_in(page, base, f"/handover/{w['dispatched']['id']}", w["dispatcher"])
    page.wait_for_selector("body[data-ready='1']")


def report_form(page, base, w):
    page.goto(base + "/report")
    page.wait_for_selector("#report-map[data-placed='1']")
    page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")


def report_me_too(page, base, w):
    page.goto(base + "/report")
    fill_report(page, "street_light", "")
    page.get_by_test_id("matches").wait_for(state="visible")
    page.get_by_test_id("me-too").first.wait_for(state="visible")


def report_sent(page, base, w):
    page.goto(base + "/report")
    fill_report(page, "sewage", "井盖缺失 e2e-axe")
    page.wait_for_selector("[data-testid=report-anyway], [data-testid=report-sent]")
    if page.get_by_test_id("report-anyway").count():
        page.get_by_test_id("report-anyway").click()
    page.get_by_test_id("report-sent").wait_for(state="visible")
    page.get_by_test_id("tracking-code").wait_for(state="visible")


def track_plain(page, base, w):
    page.goto(f"{base}/track/{w['closed']['tracking_code']}")
    page.get_by_test_id("track-token").wait_for(state="visible")


def track_secret(page, base, w):
    page.goto(f"{base}/track/{w['closed']['tracking_code']}#t={w['closed']['reporter_token']}")
    page.get_by_test_id("track-status").wait_for()
    page.get_by_test_id("rating-form").wait_for(state="visible")


def dashboard(page, base, w):
    log_in(page, base, "/dashboard", w["dispatcher"])
    page.wait_for_selector("body[data-dash-ready='1']")


def dashboard_cases(page, base, w):
    dashboard(page, base, w)
    page.locator("[data-testid=tile][data-key=on_time_rate] [data-testid=tile-numerator]").click()
    page.wait_for_selector("[data-testid=dash-cases][data-ready='1']")


STATES = {
    "map-login": (DESKTOP, None, map_login),
    "map": (DESKTOP, None, map_in),
    "map-route": (DESKTOP, None, map_route),
    "desk-login": (DESKTOP, None, desk_login),
    "desk-queue": (DESKTOP, None, desk_queue),
    "desk-case": (DESKTOP, None, desk_case),
    "desk-dispatch": (DESKTOP, None, desk_dispatch),
    "console": (DESKTOP, None, console),
    "console-warnings": (DESKTOP, None, console_warnings),
    "unit": (PHONE, 0, unit),
    "unit-handle": (PHONE, 0, unit_handle),
    "unit-empty": (PHONE, 0, unit_empty),
    "editor": (LAPTOP, None, editor),
    "editor-grid": (LAPTOP, None, editor_grid),
    "calendar": (DESKTOP, None, calendar),
    "handover": (DESKTOP, None, handover),
    "report": (PHONE, 0, report_form),
    "report-me-too": (PHONE, 1, report_me_too),
    "report-sent": (PHONE, 2, report_sent),
    "track": (PHONE, None, track_plain),
    "track-secret": (PHONE, None, track_secret),
    "dashboard": ({"width": 1920, "height": 1080}, None, dashboard),
    "dashboard-cases": (LAPTOP, None, dashboard_cases),
}
ENGLISH = {"map-login", "desk-case", "console", "unit", "report-me-too", "report-sent", "track-secret", "dashboard"}
CASES = [pytest.param(name, "zh", id=name) for name in STATES] + [
    pytest.param(name, "en", id=f"{name}-en") for name in STATES if name in ENGLISH]


@pytest.mark.parametrize(("state", "lang"), CASES)
def test_the_page_passes_axe_wcag_2_aa(state, lang, browser, live_server, world, spots, axe_source):  # noqa: F811
    viewport, spot_index, bring = STATES[state]
    options = {"viewport": viewport, "locale": "zh-CN"}
    if spot_index is not None:
        spot = spots[spot_index]
        options |= {"permissions": ["geolocation"],
                    "geolocation": {"longitude": spot["lon"], "latitude": spot["lat"], "accuracy": 15}}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    if lang == "en":
        context.add_init_script("try { localStorage.setItem('gridgov.lang', 'en'); } catch (e) {}")
    try:
        page = context.new_page()
        bring(page, live_server, world)
        if lang == "en":
            page.wait_for_function("() => document.documentElement.lang === 'en'")
        if lang == "en":  # the names only assistive technology reads follow the language too
            untranslated = page.evaluate("""() => [...document.querySelectorAll('[data-i18n-aria-label]')]
                .filter(el => /[\\u4e00-\\u9fff]/.test(el.getAttribute('aria-label') || '')).map(el => el.id)""")
            assert untranslated == [], f"aria-label still in Chinese: {untranslated}"
        violations = axe_violations(page, axe_source)
        assert not violations, f"{state} ({lang}): {len(violations)} axe violation(s)\n{describe(violations)}"
    finally:
        context.close()
