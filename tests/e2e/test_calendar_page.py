"""The administrator's working-calendar page (/admin/calendar) in headless Chromium: the years the
API calls official or provisional, a bad schedule file refused with each problem named, a good
one loaded, both languages, and a dispatcher kept out."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from api.workflow.calendar import PACKAGE_YEARS
from tests.calendar_support import statutory_schedule
from tests.e2e.test_map import DISTRICT, Page, browser, headers_for, http  # noqa: F401 (fixtures)

YEAR = 2037  # a year no other test loads


def login(web: Page, username: str, password: str) -> None:
    web.page.goto(web.base + "/admin/calendar")
    web.page.get_by_test_id("login-username").fill(username)
    web.page.get_by_test_id("login-password").fill(password)
    web.page.get_by_test_id("login-submit").click()
    web.page.get_by_test_id("app-view").wait_for(state="visible")


def upload(page, name: str, doc) -> None:
    page.get_by_test_id("cal-file").set_input_files(
        {"name": name, "mimeType": "application/json", "buffer": json.dumps(doc).encode()})
    page.get_by_test_id("cal-submit").click()


def test_the_admin_sees_official_and_provisional_years_and_loads_a_schedule(
        browser, live_server, http, make_user):  # noqa: F811
    admin = make_user("admin", DISTRICT)
    status = http.get("/api/admin/calendar", headers=headers_for(http, *admin)).json()
    web = Page(browser, live_server)
    try:
        login(web, *admin)
        page = web.page
        page.wait_for_selector("[data-testid=cal-year]")
        shown = {int(r.get_attribute("data-year")): r.get_attribute("data-source")
                 for r in page.locator("[data-testid=cal-year]").all()}
        assert shown == {y["year"]: y["source"] for y in status["years"]}
        assert shown[PACKAGE_YEARS[1]] == "chinesecalendar"
        provisional = next(y for y in status["years"] if y["source"] == "provisional")
        row = page.locator(f"[data-testid=cal-year][data-year='{provisional['year']}']")
        assert row.locator("li").count() == len(provisional["days_off"])
        assert "暂定" in row.inner_text() and "法定节假日" in row.inner_text()
        assert page.get_by_test_id("cal-warning").is_visible() == bool(status["warning"])
        if status["warning"]:  # in the page's language, from the same dates
            assert status["official_until"] in page.get_by_test_id("cal-warning").inner_text()

        bad = {**statutory_schedule(YEAR), "workdays": [f"{YEAR}-06-10"]}  # a Wednesday
        upload(page, "bad.json", bad)
        page.wait_for_selector("[data-testid=cal-problem][data-field='workdays[0]']")
        assert "Wednesday" in page.get_by_test_id("cal-error").inner_text()

        upload(page, "good.json", statutory_schedule(YEAR))
        page.wait_for_selector(f"[data-testid=cal-loaded][data-year='{YEAR}'][data-change='added']")
        page.wait_for_selector(f"[data-testid=cal-year][data-year='{YEAR}'][data-source='loaded']")
        assert "官方（已导入）" in page.locator(f"[data-testid=cal-year][data-year='{YEAR}']").inner_text()

        page.get_by_test_id("lang-toggle").click()
        expect(page.locator(f"[data-testid=cal-year][data-year='{YEAR}']")).to_contain_text("Official (loaded)")
        expect(page.locator(f"[data-testid=cal-year][data-year='{provisional['year']}']")).to_contain_text(
            "Provisional")
        assert web.page_errors == [] and web.csp_violations() == []
        # the one error the browser logs is the refused file's answer
        assert web.console_errors == ["Failed to load resource: the server responded with a status of 422 "
                                      "(Unprocessable Entity)"]
    finally:
        web.context.close()


def test_a_dispatcher_is_told_the_page_is_for_administrators(browser, live_server, make_user):  # noqa: F811
    web = Page(browser, live_server)
    try:
        login(web, *make_user("dispatcher", DISTRICT))
        web.page.get_by_test_id("cal-noaccess").wait_for(state="visible")
        assert web.page.locator("[data-testid=cal-year]").count() == 0
        web.assert_clean()
    finally:
        web.context.close()
