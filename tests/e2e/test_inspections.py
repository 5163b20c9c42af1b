"""Joint inspections (综合查一次) in headless Chromium: the station's dispatcher plans tomorrow's
inspections for the zone on /inspections (numbered visits and the route on the map), the team's
officer works one visit on the phone (/unit, geolocation at the place) for both departments, one
failed check becomes a case the desk sees, and the re-check closes it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.cycle_support import png_bytes
from tests.e2e.test_desk import PHONE, login, open_case
from tests.e2e.test_map import TIMEOUT_MS, Page, browser, headers_for, http  # noqa: F401 (fixtures)

ZONE = "330503-Z29"
BOTH = ("shop", "restaurant", "market", "hotel", "entertainment_venue")  # fire and market both check these

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ground(engine):
    with engine.connect() as conn:
        street, station = conn.execute(sa.text(
            "SELECT a.parent_code, s.code FROM area a JOIN station s ON s.zone_code = a.code "
            "WHERE a.code = :z AND a.valid_to IS NULL"), {"z": ZONE}).one()
        team = [conn.execute(sa.text("SELECT code FROM unit WHERE station_code = :s AND department_code = :d "
                                     "ORDER BY code LIMIT 1"), {"s": station, "d": d}).scalar_one()
                for d in ("fire", "market")]
        place = conn.execute(sa.text(
            "SELECT code, ST_X(location) AS lon, ST_Y(location) AS lat FROM place WHERE zone_code = :z "
            "AND valid_to IS NULL AND category = ANY(:c) ORDER BY code LIMIT 1"), {"z": ZONE, "c": list(BOTH)}).one()
    return {"street": street, "team": team, "place": dict(place._mapping)}


def plan_on_the_page(page, team: list[str], day: str | None = None) -> None:
    page.locator(f"[data-testid=plan-zone] option[value='{ZONE}']").wait_for(state="attached")
    page.get_by_test_id("plan-zone").select_option(ZONE)
    page.get_by_test_id(f"team-{team[0]}").wait_for()
    for unit in team:
        page.get_by_test_id(f"team-{unit}").check()
    if day:
        page.get_by_test_id("plan-day").fill(day)
    page.get_by_test_id("plan-submit").click()


def fill_check(phone, visit, department: str, failing: str | None = None, photo: bool = False) -> None:
    form = visit.get_by_test_id(f"insp-check-{department}")
    for select in form.locator("select").all():
        select.select_option("yes")
    for number in form.locator("input[type=number]").all():
        number.fill("3")
    if failing:
        form.get_by_test_id(f"insp-item-{department}-{failing}").select_option("no")
        form.get_by_test_id(f"insp-findings-{department}").fill("后门堆放杂物，安全出口堵塞")
    if photo:
        form.get_by_test_id(f"insp-photo-{department}").set_input_files(
            {"name": "door.png", "mimeType": "image/png", "buffer": png_bytes((40, 30))})
    form.get_by_test_id(f"insp-submit-{department}").click()
    visit.get_by_test_id(f"insp-done-{department}").wait_for()


def arrived(phone, code: str):
    """The visit of the place the officer has just arrived at, found by its id (its status moves on)."""
    row = phone.page.locator(f"[data-testid=insp-visit][data-place='{code}'][data-status=arrived]")
    row.wait_for()
    return phone.page.locator(f"[data-testid=insp-visit][data-visit-id='{row.get_attribute('data-visit-id')}']")


def test_a_station_plans_the_team_works_a_visit_a_failure_becomes_a_case_and_the_recheck_closes_it(
        browser, live_server, http, make_user, ground):  # noqa: F811
    place = ground["place"]
    dispatcher = make_user("dispatcher", ground["street"])
    officer = make_user("officer", "330503", unit=ground["team"][0])
    station = Page(browser, live_server)
    phone_context = browser.new_context(viewport=PHONE, locale="zh-CN", permissions=["geolocation"], geolocation={
        "longitude": place["lon"], "latitude": place["lat"], "accuracy": 10})
    phone_context.set_default_timeout(TIMEOUT_MS)
    try:
        # the station plans tomorrow (the page's default day) for its zone with a two-department team
        login(station, "/inspections", *dispatcher)
        page = station.page
        page.get_by_test_id("app-view").wait_for(state="visible")
        plan_on_the_page(page, ground["team"])
        page.locator("[data-testid=plan-visit]").first.wait_for()
        visits = page.locator("[data-testid=plan-visit]")
        markers = page.locator("[data-testid=visit-marker]")
        assert visits.count() == markers.count() >= 1
        assert [markers.nth(i).get_attribute("data-seq") for i in range(markers.count())] == \
            [str(i) for i in range(1, markers.count() + 1)]
        assert page.locator("path.insp-route").count() == 1
        assert page.locator(f"[data-testid=plan-visit][data-place='{place['code']}']").count() == 1

        # the officer works the visit on the phone: arrives where the place is, both checklists
        phone = Page.__new__(Page)
        phone.base, phone.context = live_server, phone_context
        phone.page = phone_context.new_page()
        login(phone, "/unit", *officer)
        visit = phone.page.locator(f"[data-testid=insp-visit][data-place='{place['code']}'][data-status=planned]")
        visit.get_by_test_id("insp-arrive").click()
        visit = arrived(phone, place["code"])
        fill_check(phone, visit, "fire", failing="exits_clear", photo=True)
        assert visit.get_by_test_id("insp-done-fire").get_attribute("data-failed") == "1"
        fill_check(phone, visit, "market")
        assert visit.get_attribute("data-status") == "done"

        headers = headers_for(http, *dispatcher)
        plans = http.get("/api/inspections/plans", params={"zone": ZONE}, headers=headers).json()["plans"]
        worked = next(v for p in plans for v in p["visits"] if v["place"]["code"] == place["code"])
        [fire] = [c for c in worked["checks"] if c["department"] == "fire"]
        [case_id] = fire["cases"]

        # the desk of the place's street sees the case, at the place
        desk = Page(browser, live_server)
        try:
            login(desk, "/desk", *dispatcher)
            open_case(desk, case_id)
            assert place["code"] in desk.page.get_by_test_id("case-description").inner_text()
            case = http.get(f"/api/incidents/{case_id}", headers=headers).json()
            assert case["source"] == "inspection" and case["status"] == "received"

            # the re-check: the place is due again; the team passes it and the case closes
            page.reload()
            day_after = str(date.fromisoformat(worked["day"]) + timedelta(days=1))
            plan_on_the_page(page, ground["team"], day_after)
            page.locator(f"[data-testid=plan-visit][data-place='{place['code']}']").wait_for()
            phone.page.reload()
            again = phone.page.locator(
                f"[data-testid=insp-visit][data-place='{place['code']}'][data-status=planned]")
            again.get_by_test_id("insp-arrive").click()
            again = arrived(phone, place["code"])
            fill_check(phone, again, "fire")
            fill_check(phone, again, "market")
            assert http.get(f"/api/incidents/{case_id}", headers=headers).json()["status"] == "closed"
            desk.page.reload()
            desk.page.wait_for_selector(f"[data-testid=case-view][data-id='{case_id}'][data-state='closed']")
            desk.assert_clean()
        finally:
            desk.context.close()
        station.assert_clean()
    finally:
        station.context.close()
        phone_context.close()
