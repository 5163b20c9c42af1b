"""Every page starts through web/static/page.js (issue 20), in headless Chromium: one login card on
each staff page, a visible and translated alert when a load fails (with a retry that recovers),
and an account without the page's capability told so with a way to sign out, not a broken page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_desk import login, report, spot  # noqa: F401 (fixture)
from tests.e2e.test_map import DISTRICT, Page, browser, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

STAFF_PAGES = ["/", "/desk", "/console", "/unit", "/editor", "/admin/calendar", "/handover/1", "/dashboard",
               "/patrol"]
CARD = ["login-form", "login-username", "login-password", "login-submit", "lang-toggle-login"]


class Failing:
    """Answers the requests ``match`` picks with a 500 while ``on``; lets them through after."""

    def __init__(self, page, match, *, abort: bool = False):
        self.on = True
        self.seen = 0

        def handle(route):
            if not self.on:
                route.continue_()
                return
            self.seen += 1
            if abort:
                route.abort()
            else:
                route.fulfill(status=500, content_type="application/json", body='{"detail": "boom (test)"}')

        page.route(match, handle)


def alert_of(page):
    return page.locator("[data-testid=load-error][role=alert]")


def assert_no_page_errors(web: Page) -> None:
    """The refused requests log "Failed to load resource"; nothing else may go wrong."""
    assert web.page_errors == [] and web.csp_violations() == []
    assert [m for m in web.console_errors if "Failed to load resource" not in m] == []


def recover(web: Page, failing: Failing, text: str) -> None:
    """The alert names what failed; a retry once the server answers again clears it."""
    page = web.page
    alert = alert_of(page)
    alert.wait_for(state="visible")
    assert failing.seen >= 1
    assert text in alert.inner_text(), alert.inner_text()
    failing.on = False
    alert.get_by_test_id("load-error-retry").click()
    alert.wait_for(state="hidden")


@pytest.fixture(scope="module")
def dispatcher(make_user):
    return make_user("dispatcher", DISTRICT)


@pytest.fixture(scope="module")
def officer(make_user, engine):
    with engine.connect() as conn:
        unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'enforcement' "
                                    "ORDER BY md5(code || 'page') LIMIT 1")).scalar_one()
    return make_user("officer", DISTRICT, unit=unit)


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_the_same_login_card_on_every_staff_page(browser, live_server, dispatcher, path):  # noqa: F811
    web = Page(browser, live_server)
    try:
        page = web.page
        page.goto(live_server + path)
        for testid in CARD:
            assert page.get_by_test_id(testid).count() == 1, (path, testid)
        assert page.get_by_test_id("app-view").is_hidden()
        page.get_by_test_id("login-username").fill(dispatcher[0])
        page.get_by_test_id("login-password").fill("not-the-password")
        page.get_by_test_id("login-submit").click()
        error = page.get_by_test_id("login-error")
        error.wait_for(state="visible")
        assert "用户名或密码错误" in error.inner_text()
        page.get_by_test_id("lang-toggle-login").click()
        expect(error).to_have_text("Wrong username or password")
        expect(page.get_by_test_id("login-submit")).to_have_text("Log in")
        page.get_by_test_id("lang-toggle-login").click()
        page.get_by_test_id("login-password").fill(dispatcher[1])
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("app-view").wait_for(state="visible")
        assert page.get_by_test_id("login-view").is_hidden()
        assert_no_page_errors(web)
    finally:
        web.context.close()


def test_a_failed_queue_on_the_desk_is_shown_translated_and_retried(browser, live_server, dispatcher):  # noqa: F811
    web = Page(browser, live_server)
    try:
        failing = Failing(web.page, "**/api/desk/queue*")
        login(web, "/desk", *dispatcher)
        page = web.page
        alert = alert_of(page)
        alert.wait_for(state="visible")
        assert "事件队列加载失败" in alert.inner_text() and "boom (test)" in alert.inner_text()
        page.get_by_test_id("lang-toggle").click()
        expect(alert).to_contain_text("The case queue failed to load")
        page.get_by_test_id("lang-toggle").click()
        recover(web, failing, "事件队列加载失败")
        page.locator("[data-testid=queue-row]").first.wait_for()
        assert_no_page_errors(web)
    finally:
        web.context.close()


def test_a_failed_load_on_the_console_is_shown_and_retried(browser, live_server, dispatcher):  # noqa: F811
    web = Page(browser, live_server)
    try:
        failing = Failing(web.page, "**/api/desk/queue*")
        login(web, "/console", *dispatcher)
        page = web.page
        page.wait_for_selector("body[data-console-ready='1']")  # the rest of the page still works
        recover(web, failing, "事件点位加载失败")
        page.locator("[data-testid=console-row]").first.wait_for()
        assert_no_page_errors(web)
    finally:
        web.context.close()


def test_a_failed_chart_on_the_dashboard_is_shown_and_retried(browser, live_server, dispatcher):  # noqa: F811
    web = Page(browser, live_server)
    try:
        failing = Failing(web.page, "**/api/kpis/categories*")
        login(web, "/dashboard", *dispatcher)
        page = web.page
        page.wait_for_selector("body[data-dash-ready='1']", timeout=180_000)  # the rest of the page still works
        recover(web, failing, "事件类别加载失败")
        page.wait_for_function("() => Number(document.querySelector('[data-testid=dash-categories]').dataset.bars) > 0")
        assert_no_page_errors(web)
    finally:
        web.context.close()


def test_a_failed_task_list_on_the_phone_is_shown_and_retried(browser, live_server, officer):  # noqa: F811
    web = Page(browser, live_server, viewport={"width": 360, "height": 740})
    try:
        failing = Failing(web.page, "**/api/unit/tasks")
        login(web, "/unit", *officer)
        page = web.page
        recover(web, failing, "我的任务加载失败")
        page.locator("[data-testid=tasks] > li").first.wait_for()
        assert page.get_by_test_id("unit-name").inner_text().strip()
        assert_no_page_errors(web)
    finally:
        web.context.close()


def test_a_layer_that_cannot_be_fetched_on_the_map_is_shown_and_retried(browser, live_server, dispatcher):  # noqa: F811
    web = Page(browser, live_server)
    try:
        failing = Failing(web.page, lambda url: "/api/areas" in url and "kind=grid" in url, abort=True)
        web.login(*dispatcher)
        web.wait_map()  # the other layers are drawn
        page = web.page
        assert page.evaluate("document.body.dataset.gridsLoaded") is None
        assert int(page.evaluate("document.body.dataset.streetsLoaded")) > 0
        recover(web, failing, "网格加载失败")
        page.wait_for_function("() => Number(document.body.dataset.gridsLoaded) > 1000")
        assert web.page_errors == [] and web.csp_violations() == []
    finally:
        web.context.close()


def test_an_officer_opening_the_desk_is_told_it_is_not_theirs_and_may_sign_out(
        browser, live_server, officer):  # noqa: F811
    web = Page(browser, live_server)
    asked: list[str] = []
    web.page.on("request", lambda r: asked.append(r.url) if "/api/desk/" in r.url else None)
    try:
        login(web, "/desk", *officer)
        page = web.page
        message = page.get_by_test_id("desk-noaccess")
        message.wait_for(state="visible")
        assert "调度台" in message.inner_text()
        assert page.get_by_test_id("queue").is_hidden() and page.get_by_test_id("case-view").is_hidden()
        assert page.get_by_test_id("notifications").is_hidden()
        assert asked == []  # the page asked for nothing it may not have
        page.get_by_test_id("lang-toggle").click()
        expect(message).to_contain_text("dispatch desk")
        page.get_by_test_id("noaccess-logout").click()
        page.get_by_test_id("login-form").wait_for(state="visible")
        assert page.evaluate("sessionStorage.getItem('gridgov.tokens')") is None
        web.assert_clean()
    finally:
        web.context.close()


def test_a_lost_session_brings_the_login_card_back_without_an_error_alert(
        browser, live_server, dispatcher):  # noqa: F811
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *dispatcher)
        page = web.page
        page.locator("[data-testid=queue-row]").first.wait_for()
        page.evaluate("""() => {  // neither token is accepted any more (revoked elsewhere)
            const t = JSON.parse(sessionStorage.getItem('gridgov.tokens'));
            t.access = t.access.slice(0, -4) + 'AAAA';
            t.refresh = 'revoked';
            sessionStorage.setItem('gridgov.tokens', JSON.stringify(t));
        }""")
        page.get_by_test_id("filter-overdue").check()  # the queue reloads
        error = page.get_by_test_id("login-error")
        error.wait_for(state="visible")
        assert "登录已过期" in error.inner_text()
        assert page.get_by_test_id("app-view").is_hidden()
        assert alert_of(page).is_hidden()  # a lost session is the card's to say, not a failed load
        page.get_by_test_id("login-username").fill(dispatcher[0])
        page.get_by_test_id("login-password").fill(dispatcher[1])
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("app-view").wait_for(state="visible")
        page.locator("[data-testid=queue-row]").first.wait_for()
        assert web.page_errors == [] and web.csp_violations() == []
    finally:
        web.context.close()


def test_a_public_page_reports_its_failed_load_the_same_way(browser, live_server, http, spot):  # noqa: F811
    """The resident's tracking page (no login) starts through page.js too: the case that could not
    be fetched is said so, in words, and comes with a retry."""
    created = report(http, spot)
    web = Page(browser, live_server, viewport={"width": 360, "height": 740})
    try:
        failing = Failing(web.page, "**/api/public/incidents/*", abort=True)
        web.page.goto(f"{live_server}/track/{created['tracking_code']}#t={created['reporter_token']}")
        assert web.page.get_by_test_id("login-view").count() == 0
        recover(web, failing, "办理进度加载失败")
        web.page.get_by_test_id("track-status").wait_for()
        assert web.page_errors == [] and web.csp_violations() == []
    finally:
        web.context.close()


def test_the_top_bar_lists_the_other_pages_the_account_may_open(browser, live_server, dispatcher, make_user):  # noqa: F811
    """A dispatcher on the desk finds the map, the console, the patrols they supervise, the dashboard
    and the public results in the top bar's menu, never the grid editor or the holiday calendar (nor
    the page they are on); a grid worker finds the patrol and not the dashboard."""
    web = Page(browser, live_server)
    try:
        page = web.page
        login(web, "/desk", *dispatcher)
        nav = page.get_by_test_id("page-nav")
        nav.wait_for()
        hrefs = page.get_by_test_id("page-nav-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert {"/", "/console", "/patrol", "/dashboard", "/public"} <= set(hrefs)
        assert not {"/desk", "/editor", "/admin/calendar"} & set(hrefs)
        nav.locator("summary").click()
        expect(page.locator("[data-testid=page-nav-link][href='/dashboard']")).to_have_text("领导驾驶舱")
        page.get_by_test_id("lang-toggle").click()
        expect(page.locator("[data-testid=page-nav-link][href='/dashboard']")).to_have_text("Dashboard")
        page.locator("[data-testid=page-nav-link][href='/console']").click()
        page.wait_for_url("**/console")
        page.get_by_test_id("page-nav").wait_for()  # the same session: no login card
        assert page.get_by_test_id("login-form").is_hidden()
        assert_no_page_errors(web)
    finally:
        web.context.close()
    worker = Page(browser, live_server)
    try:
        login(worker, "/desk", *make_user("grid_worker", "330503001001001"))
        worker.page.get_by_test_id("page-nav").wait_for()
        hrefs = worker.page.get_by_test_id("page-nav-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert "/patrol" in hrefs and "/dashboard" not in hrefs
    finally:
        worker.context.close()
