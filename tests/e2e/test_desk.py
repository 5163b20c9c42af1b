"""The command-room pages in headless Chromium: one report walked from received to closed
through /desk (the dispatcher) and /unit (the officer's phone), then rated by the resident;
the buttons are exactly the actions the API allows; a stale page is told the case moved;
the officer's phone sends its position."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from api import i18n
from tests.cycle_support import png_bytes, two_street_spots
from tests.e2e.test_map import DISTRICT, TIMEOUT_MS, Page, browser, headers_for, http  # noqa: F401 (fixtures)

PHONE = {"width": 360, "height": 740}
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def catalogue(lang: str) -> dict[str, str]:
    return i18n.catalogue(lang)


@pytest.fixture(scope="module")
def spot(engine):
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT g.code AS grid, g.parent_code AS community,
                   ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY md5(g.code || 'desk') LIMIT 1""")).mappings().one()
    return dict(row)


def report(http, spot, category="street_vendor") -> dict:  # noqa: F811
    res = http.post("/api/incidents", json={"category": category, "lon": spot["lon"], "lat": spot["lat"],
                                            "accuracy_m": 5, "description": "人行道上有流动摊贩 <b>test</b>"})
    assert res.status_code == 201, res.text
    return res.json()


def login(web: Page, path: str, username: str, password: str) -> None:
    web.page.goto(web.base + path)
    web.page.get_by_test_id("login-username").fill(username)
    web.page.get_by_test_id("login-password").fill(password)
    web.page.get_by_test_id("login-submit").click()


def open_case(web: Page, incident_id: int, *, from_queue: bool = False) -> None:
    """Open a case from its queue row, or by its link (/desk#case=<id>: the queue shows 50 at a time)."""
    page = web.page
    page.get_by_test_id("app-view").wait_for(state="visible")  # logged in
    if from_queue:
        page.locator(f"[data-testid=queue-row][data-id='{incident_id}']").click()
    else:
        page.goto(f"{web.base}/desk#case={incident_id}")
        page.reload()
    page.wait_for_selector(f"[data-testid=case-view][data-id='{incident_id}']")


def act(web: Page, action: str, *, note: str | None = None, state: str) -> None:
    page = web.page
    page.get_by_test_id(f"action-{action}").click()
    if note is not None:
        page.get_by_test_id("action-note").fill(note)
    page.get_by_test_id("action-submit").click()
    page.wait_for_selector(f"[data-testid=case-view][data-state='{state}']")


def test_one_report_from_received_to_closed_through_the_desk_and_the_unit_page(
        browser, live_server, http, make_user, spot, engine):  # noqa: F811
    created = report(http, spot)
    cid = created["id"]
    dispatcher = make_user("dispatcher", DISTRICT)
    desk = Page(browser, live_server)
    phone_context = browser.new_context(viewport=PHONE, locale="zh-CN", geolocation={
        "longitude": spot["lon"], "latitude": spot["lat"], "accuracy": 12}, permissions=["geolocation"])
    try:
        login(desk, "/desk", *dispatcher)
        desk.page.get_by_test_id("filter-sort").select_option("newest")  # the new report on top
        open_case(desk, cid, from_queue=True)
        page = desk.page
        assert "<b>test</b>" in page.get_by_test_id("case-description").inner_text()  # text, not markup
        act(desk, "triage", note="占道经营，派综合执法", state="triaged")

        page.get_by_test_id("action-dispatch").click()
        page.wait_for_selector("[data-testid=recommend-unit]")
        box = page.locator("[data-testid=recommend-unit][data-department=enforcement]").first
        unit = box.get_attribute("value")
        box.check()
        page.get_by_test_id("action-submit").click()
        page.wait_for_selector("[data-testid=case-view][data-state='dispatched']")
        assert page.locator(f"[data-testid=assignment][data-unit='{unit}']").count() == 1

        officer = make_user("officer", DISTRICT, unit=unit)
        phone = Page.__new__(Page)
        phone.base, phone.context = live_server, phone_context
        phone.page = phone_context.new_page()
        phone.page.set_default_timeout(TIMEOUT_MS)
        login(phone, "/unit", *officer)
        task = phone.page.locator(f"[data-testid=task][data-incident-id='{cid}']")
        task.wait_for()
        phone.page.get_by_test_id("share-position").check()
        phone.page.wait_for_function(
            "() => document.querySelector('[data-testid=position-state]').textContent.length > 0")
        task.get_by_test_id("task-accept").click()
        phone.page.wait_for_selector(f"[data-testid=task][data-incident-id='{cid}'][data-state='accepted']")
        task.get_by_test_id("task-arrive").click()
        phone.page.wait_for_selector(f"[data-testid=task][data-incident-id='{cid}'][data-state='on_scene']")
        task.get_by_test_id("task-handle").click()
        phone.page.get_by_test_id("task-note").fill("已劝离摊贩，现场恢复通行")
        phone.page.get_by_test_id("task-photo").set_input_files(
            {"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes((40, 30))})
        phone.page.get_by_test_id("task-handle-submit").click()
        phone.page.wait_for_selector("[data-testid=tasks-empty]")

        page.reload()
        page.wait_for_selector(f"[data-testid=case-view][data-id='{cid}'][data-state='handled']")
        page.wait_for_selector("[data-testid=photo][src^='blob:']")
        act(desk, "verify", note="现场核查已整改", state="verified")
        act(desk, "close", state="closed")
        desk.assert_clean()
    finally:
        desk.context.close()
        phone_context.close()

    # the resident's tracking page shows what was done: the officer's note and photo, labelled
    resident = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    try:
        track = resident.new_page()
        track.goto(f"{live_server}/track/{created['tracking_code']}#t={created['reporter_token']}")
        track.get_by_test_id("track-note").wait_for()
        assert "已劝离摊贩" in track.get_by_test_id("track-note").inner_text()
        track.wait_for_selector("[data-testid=track-staff-photos] img[data-loaded='1']")
        assert "办理人员" in track.get_by_test_id("track-staff-photos").inner_text()
    finally:
        resident.close()
    rated = http.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 5},
                      headers={"X-Reporter-Token": created["reporter_token"]})
    assert rated.status_code == 200, rated.text
    case = http.get(f"/api/incidents/{cid}", headers=headers_for(http, *dispatcher)).json()
    steps = [(e["kind"], e["actor"]) for e in case["events"]]
    assert steps == [("reported", "reporter"), ("triage", dispatcher[0]), ("dispatch", dispatcher[0]),
                     ("accept", officer[0]), ("arrive", officer[0]), ("handle", officer[0]),
                     ("verify", dispatcher[0]), ("close", dispatcher[0]), ("rated", "reporter")]
    assert len(case["attachments"]) == 1 and case["status"] == "closed"
    a = case["assignments"][0]
    assert a["accepted_at"] and a["on_scene_at"] and a["cleared_reason"] == "handled"
    with engine.connect() as conn:  # the phone sent its GPS fix: the unit stands where the browser said
        off_m, accuracy = conn.execute(sa.text("""
            SELECT ST_Distance(position::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography),
                   position_accuracy_m FROM unit WHERE code = :u"""), {"u": unit, **spot}).one()
    assert off_m < 1 and accuracy == 12


def test_the_buttons_are_exactly_what_the_api_allows_this_user(
        browser, live_server, http, make_user, spot):  # noqa: F811
    cid = report(http, spot, category="noise")["id"]  # a community-tier case
    for role, area in (("dispatcher", DISTRICT), ("grid_worker", spot["grid"])):
        user = make_user(role, area)
        allowed = [a["action"]
                   for a in http.get(f"/api/incidents/{cid}", headers=headers_for(http, *user)).json()["actions"]]
        web = Page(browser, live_server)
        try:
            login(web, "/desk", *user)
            open_case(web, cid)
            shown = [b.get_attribute("data-testid").removeprefix("action-")
                     for b in web.page.locator("[data-testid=case-actions] [data-testid^=action-]").all()]
            assert shown == allowed, role
            web.assert_clean()
        finally:
            web.context.close()
    assert "triage" in [a for a in allowed] or allowed == []  # the grid worker owns no community case


def test_a_stale_page_is_told_the_case_moved(browser, live_server, http, make_user, spot):  # noqa: F811
    cid = report(http, spot)["id"]
    user = make_user("dispatcher", DISTRICT)
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        open_case(web, cid)
        web.page.get_by_test_id("action-void").click()  # the form is open when someone else acts
        web.page.get_by_test_id("action-reason").fill("重复")
        moved = http.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=headers_for(http, *user))
        assert moved.status_code == 200
        web.page.get_by_test_id("action-submit").click()
        error = web.page.get_by_test_id("action-error")
        error.wait_for(state="visible")
        # the 409 is told in the page's language, from the catalogue (error.state_conflict), the
        # state by its name there: no English from the server in the Chinese page
        assert error.inner_text() == catalogue("zh")["error.state_conflict"].format(
            state=catalogue("zh")["state.triaged"])
        assert not ENGLISH_WORD.search(error.inner_text())
        web.page.get_by_test_id("lang-toggle").click()  # the same refusal in English
        web.page.wait_for_function("() => document.documentElement.lang === 'en'")
        web.page.get_by_test_id("action-void").click()
        web.page.get_by_test_id("action-reason").fill("重复")
        web.page.get_by_test_id("action-submit").click()
        web.page.wait_for_function("(t) => document.querySelector('[data-testid=action-error]').textContent === t",
                                   arg=catalogue("en")["error.state_conflict"].format(state="Triaged"))
        assert not HAN.search(error.inner_text())
    finally:
        web.context.close()


def test_the_queue_and_the_open_case_follow_the_street_live(browser, live_server, http, make_user, engine):  # noqa: F811
    """A street dispatcher's desk shows a new report of the street and a step taken elsewhere on
    the open case without reloading; another street's report never shows up."""
    spots = two_street_spots(engine)
    mine, other = spots
    user = make_user("dispatcher", mine["street"])
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        page = web.page
        page.wait_for_selector("[data-testid=live-state][data-state=live]")
        with page.expect_response(lambda r: "/api/desk/queue" in r.url and "sort=newest" in r.url):
            page.get_by_test_id("filter-sort").select_option("newest")
        first = report(http, mine)["id"]
        page.wait_for_selector(f"[data-testid=queue-row][data-id='{first}']")
        open_case(web, first, from_queue=True)
        moved = http.post(f"/api/incidents/{first}/actions/triage", json={}, headers=headers_for(http, *user))
        assert moved.status_code == 200
        page.wait_for_selector(f"[data-testid=case-view][data-id='{first}'][data-state=triaged]")
        elsewhere = report(http, other)["id"]
        barrier = report(http, mine)["id"]
        page.wait_for_selector(f"[data-testid=queue-row][data-id='{barrier}']")
        assert page.locator(f"[data-testid=queue-row][data-id='{elsewhere}']").count() == 0
        web.assert_clean()
    finally:
        web.context.close()


def test_overdue_filter_and_english(browser, live_server, http, make_user, spot, engine):  # noqa: F811
    late, fresh = report(http, spot)["id"], report(http, spot)["id"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET due_at = now() - interval '2 hours' WHERE id = :id"), {"id": late})
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *make_user("dispatcher", DISTRICT))
        page = web.page
        page.wait_for_selector(f"[data-testid=queue-row][data-id='{late}'][data-flag=overdue]")
        page.get_by_test_id("filter-overdue").check()
        page.wait_for_selector(f"[data-testid=queue-row][data-id='{fresh}']", state="detached")
        assert page.locator(f"[data-testid=queue-row][data-id='{late}']").count() == 1
        page.get_by_test_id("lang-toggle").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert "Overdue" in page.get_by_test_id("queue-filters").inner_text()
        web.assert_clean()
    finally:
        web.context.close()


def test_an_account_without_a_unit_is_told_so_on_the_phone(browser, live_server, make_user):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(live_server + "/unit")
        user = make_user("analyst", DISTRICT)
        page.get_by_test_id("login-username").fill(user[0])
        page.get_by_test_id("login-password").fill(user[1])
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("unit-none").wait_for(state="visible")
    finally:
        context.close()


def test_a_resident_phoning_in_with_a_code_is_found_in_one_step(browser, live_server, http, make_user, spot):  # noqa: F811
    """The dispatcher types the code as the resident reads it out (lower case, spaces): the one
    case is listed with its time, place, code and first words; one click opens it."""
    user = make_user("dispatcher", DISTRICT)
    created = report(http, spot)
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        page = web.page
        page.get_by_test_id("app-view").wait_for(state="visible")
        page.get_by_test_id("queue-search").fill(created["tracking_code"].replace("-", " ").lower())
        row = page.locator(f"[data-testid=queue-row][data-id='{created['id']}']")
        row.wait_for()
        page.locator("[data-testid=queue-row]").nth(1).wait_for(state="detached")  # the one case only
        assert row.get_by_test_id("row-code").inner_text().strip(" ·") == created["tracking_code"]
        assert "<b>" in row.get_by_test_id("row-excerpt").inner_text()  # the resident's text, escaped
        assert spot["community"] not in row.get_by_test_id("row-place").inner_text()  # names, not codes
        assert row.get_by_test_id("row-place").inner_text().strip()
        row.click()
        page.wait_for_selector(f"[data-testid=case-view][data-id='{created['id']}']")
        web.assert_clean()
    finally:
        web.context.close()


def test_the_desk_sends_a_unit_it_found_itself_and_sees_why_it_was_not_recommended(
        browser, live_server, http, make_user, spot):  # noqa: F811
    user = make_user("dispatcher", DISTRICT)
    headers = headers_for(http, *user)
    created = report(http, spot)
    assert http.post(f"/api/incidents/{created['id']}/actions/triage", json={}, headers=headers).status_code == 200
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        open_case(web, created["id"])
        page = web.page
        page.get_by_test_id("action-dispatch").click()
        page.wait_for_selector("[data-testid=recommend-unit]")
        page.get_by_test_id("unit-search-box").locator("summary").click()
        page.wait_for_selector("[data-testid=pick-unit]")
        chosen = http.get(f"/api/incidents/{created['id']}/units", params={"q": "police"}, headers=headers).json()
        unit = next(u for u in chosen["units"] if not u["recommended"] and u["status"] == "available")
        page.get_by_test_id("unit-search").fill(unit["name"])
        pick = page.locator(f"[data-testid=pick-unit][data-code='{unit['code']}']")
        pick.wait_for()
        why = pick.locator("xpath=..").get_by_test_id("why-not").inner_text()
        assert "未推荐" in why, why
        pick.check()
        page.get_by_test_id("action-submit").click()
        page.wait_for_selector("[data-testid=case-view][data-state='dispatched']")
        case = http.get(f"/api/incidents/{created['id']}", headers=headers).json()
        assert unit["code"] in [a["unit_code"] for a in case["assignments"]]
        web.assert_clean()
    finally:
        web.context.close()


def test_an_officer_is_alerted_of_a_new_task_at_once_with_a_way_to_navigate(
        browser, live_server, http, make_user, spot, engine):  # noqa: F811
    """The phone is open on /unit with nothing to do; the desk sends the unit: the task and its
    alert arrive over the live stream (the page's 20 s poll is stopped here, so only the stream
    can bring it), with a geo: link to the place."""
    with engine.connect() as conn:
        unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'enforcement' AND status = "
                                    "'available' ORDER BY md5(code || 'alert') LIMIT 1")).scalar_one()
    officer = make_user("officer", DISTRICT, unit=unit)
    desk_headers = headers_for(http, *make_user("dispatcher", DISTRICT))
    created = report(http, spot)
    assert http.post(f"/api/incidents/{created['id']}/actions/triage", json={},
                     headers=desk_headers).status_code == 200
    web = Page(browser, live_server)
    try:
        web.page.add_init_script("window.setInterval = () => 0;")  # no poll: the stream alone
        login(web, "/unit", *officer)
        page = web.page
        page.wait_for_selector("[data-testid=live-state][data-state=live]")
        sent = http.post(f"/api/incidents/{created['id']}/actions/dispatch",
                         json={"units": [unit], "allow_busy": True}, headers=desk_headers)
        assert sent.status_code == 200, sent.text
        task = page.locator(f"[data-testid=task][data-incident-id='{created['id']}']")
        task.wait_for()
        alert = page.get_by_test_id("new-task-alert")
        assert alert.is_visible() and alert.inner_text().strip()
        href = task.get_by_test_id("navigate").get_attribute("href")
        lat, lon = (float(v) for v in href.split("?q=")[1].split(","))
        assert abs(lat - spot["lat"]) < 1e-5 and abs(lon - spot["lon"]) < 1e-5 and href.startswith("geo:")
        alert.click()
        assert alert.is_hidden()
        web.assert_clean()
    finally:
        web.context.close()


def test_the_desk_escalates_two_tiers_in_one_step_and_the_timeline_names_them(
        browser, live_server, http, make_user, spot):  # noqa: F811
    user = make_user("dispatcher", DISTRICT)
    created = report(http, spot, category="dispute")  # the community tier's
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        open_case(web, created["id"])
        page = web.page
        page.get_by_test_id("action-escalate").click()
        page.get_by_test_id("action-tier").select_option("street")
        assert page.get_by_test_id("action-department").is_hidden()  # only the district tier calls one
        page.get_by_test_id("action-reason").fill("需街道协调")
        page.get_by_test_id("action-submit").click()
        tiers = page.locator("[data-testid=event][data-kind=escalate] [data-testid=event-tiers]")
        tiers.wait_for()
        assert "社区" in tiers.inner_text() and "街道" in tiers.inner_text()
        case = http.get(f"/api/incidents/{created['id']}", headers=headers_for(http, *user)).json()
        assert case["tier"] == "street" and sum(e["kind"] == "escalate" for e in case["events"]) == 1
        web.assert_clean()
    finally:
        web.context.close()


def test_the_hand_over_sheet_opens_as_a_page_of_the_app_with_its_style(
        browser, live_server, http, make_user, spot):  # noqa: F811
    """The sheet used to open as a blob: page whose stylesheet never loaded: it is a page now,
    read with the desk's session, and prints styled."""
    user = make_user("dispatcher", DISTRICT)
    created = report(http, spot)
    triaged = http.post(f"/api/incidents/{created['id']}/actions/triage", json={}, headers=headers_for(http, *user))
    assert triaged.status_code == 200, triaged.text  # a case ready to hand over
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        open_case(web, created["id"])
        with web.context.expect_page() as opened:
            web.page.get_by_test_id("handover").click()
        sheet = opened.value
        sheet.wait_for_selector("body[data-ready='1']")
        assert sheet.url.startswith(f"{live_server}/handover/{created['id']}")
        assert created["tracking_code"] in sheet.get_by_test_id("handover-sheet").inner_text()
        # handover.css applies: the title is centred and spaced for print
        assert sheet.evaluate("getComputedStyle(document.querySelector('#sheet h1')).textAlign") == "center"
        assert sheet.get_by_test_id("login-view").is_hidden()  # the desk's session came along
        web.assert_clean()
    finally:
        web.context.close()


def desk_words(page, case_id: int) -> dict[str, list[str]]:
    """The desk's own words about a case (not the data's names): its state in the queue and the
    case view, the routing flags, the timeline's events and tiers, the notifications."""
    page.wait_for_selector("[data-testid=notification]", state="attached")
    row = page.locator(f"[data-testid=queue-row][data-id='{case_id}'] .state")
    return {
        "queue state": row.all_inner_texts(),
        "case state": [page.get_by_test_id("case-status").inner_text()],
        "routing flags": [page.get_by_test_id("routing-flags").inner_text()],
        "events": page.locator("[data-testid=event] b").all_inner_texts(),
        "tiers": page.locator("[data-testid=event-tiers]").all_inner_texts(),
        # the bell's list: time · what happened · the case's number
        "notifications": [t for t in page.locator("[data-testid=notification]").all_text_contents()],
    }


def test_the_desk_speaks_one_language_at_a_time(browser, live_server, http, make_user, spot):  # noqa: F811
    """Routing flags, states, events and notifications: no English in the Chinese desk, no Chinese
    in the English one (a QR code that does not check out flags the routing)."""
    user = make_user("dispatcher", DISTRICT)
    res = http.post("/api/incidents", json={"category": "dispute", "lon": spot["lon"], "lat": spot["lat"],
                                            "accuracy_m": 5, "description": "语言测试", "qr_grid": spot["grid"],
                                            "qr_sig": "not-a-signature"})
    assert res.status_code == 201, res.text
    cid = res.json()["id"]
    moved = http.post(f"/api/incidents/{cid}/actions/escalate", json={"reason": "需街道协调", "tier": "street"},
                      headers=headers_for(http, *user))
    assert moved.status_code == 200, moved.text  # the street's desk is notified
    web = Page(browser, live_server)
    try:
        login(web, "/desk", *user)
        open_case(web, cid)
        page = web.page
        chinese = desk_words(page, cid)
        assert all(chinese[k] for k in ("case state", "routing flags", "events", "tiers", "notifications")), chinese
        english_in_chinese = {k: [t for t in v if ENGLISH_WORD.search(t)] for k, v in chinese.items()}
        assert not any(english_in_chinese.values()), english_in_chinese
        page.get_by_test_id("lang-toggle").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=notification]')]"
                               ".every((n) => !/[\\u3400-\\u9fff]/.test(n.textContent))")
        english = desk_words(page, cid)
        han_in_english = {k: [t for t in v if HAN.search(t)] for k, v in english.items()}
        assert not any(han_in_english.values()), han_in_english
        web.assert_clean()
    finally:
        web.context.close()
