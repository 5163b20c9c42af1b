"""The resident's pages on a phone (360×740, geolocation granted inside a grid): open the
signed QR link, report with a photo, get a tracking code; a response lost on the way is
retried with the same key and makes one incident; follow the case and rate it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from api import qr
from tests.cycle_support import CaseMaker, png_bytes
from tests.e2e.test_map import DISTRICT, TIMEOUT_MS, browser, headers_for, http  # noqa: F401 (fixtures)

PHONE = {"width": 360, "height": 740}


def clear_grid_points(engine, salt: str, n: int = 3) -> list[dict]:
    """``n`` grids' inner points, clear of other grids by 60 m, picked by ``salt`` (each module its own)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY md5(g.code || :salt) LIMIT :n"""), {"salt": salt, "n": n}).mappings().all()
    return [dict(r) for r in rows]


@pytest.fixture(scope="module")
def spots(engine):
    return clear_grid_points(engine, "report")


def phone(browser, spot):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="zh-CN", permissions=["geolocation"],
                                  geolocation={"longitude": spot["lon"], "latitude": spot["lat"], "accuracy": 15})
    context.set_default_timeout(TIMEOUT_MS)
    return context


def fill_report(page, description: str, photo: bool) -> None:
    page.wait_for_selector("#report-map[data-placed='1']")
    page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")
    page.get_by_test_id("report-category").select_option("sewage")
    page.get_by_test_id("report-description").fill(description)
    if photo:
        page.get_by_test_id("report-photos").set_input_files(
            {"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes((30, 20))})
    page.get_by_test_id("report-submit").click()
    anyway = page.get_by_test_id("report-anyway")
    page.wait_for_selector("[data-testid=report-anyway], [data-testid=report-sent], [data-testid=report-pending]")
    if anyway.count():
        anyway.click()


def incidents_described(engine, text: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT id, source, grid_code, routing -> 'flags' AS flags FROM incident WHERE description = :d"),
            {"d": text}).mappings()]


def test_a_qr_report_with_a_photo_reaches_the_desk(browser, live_server, http, make_user, settings, spots, engine):  # noqa: F811
    spot = spots[0]
    url = qr.report_url(live_server, settings.qr_key, spot["code"])
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_test_id("qr-grid").wait_for(state="visible")  # the grid the code names, by name
        fill_report(page, "井盖缺失 e2e-qr", photo=True)
        code = page.get_by_test_id("tracking-code").inner_text()
        assert code.startswith("XA-")
    finally:
        context.close()
    [row] = incidents_described(engine, "井盖缺失 e2e-qr")
    assert row["source"] == "qr" and row["grid_code"] == spot["code"]
    assert not {"qr_mismatch", "qr_bad_signature"} & set(row["flags"])
    desk = headers_for(http, *make_user("dispatcher", DISTRICT))
    case = http.get(f"/api/incidents/{row['id']}", headers=desk).json()
    assert case["tracking_code"] == code and len(case["attachments"]) == 1
    queue = http.get("/api/desk/queue", params={"sort": "newest", "limit": 200}, headers=desk).json()
    assert row["id"] in [i["id"] for i in queue["items"]]


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_incident(browser, live_server, spots, engine):  # noqa: F811
    spot = spots[1]
    context = phone(browser, spot)
    lost = []

    def drop_first_answer(route):
        response = route.fetch()  # the server takes the report ...
        if not lost:
            lost.append(response.status)
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.fulfill(response=response)

    try:
        page = context.new_page()
        page.route("**/api/incidents", drop_first_answer)
        page.goto(live_server + "/report")
        fill_report(page, "污水外溢 e2e-retry", photo=False)
        page.get_by_test_id("report-pending").wait_for()
        page.get_by_test_id("report-sent").wait_for(timeout=30_000)  # the outbox retried
    finally:
        context.close()
    assert lost == [201]
    assert len(incidents_described(engine, "污水外溢 e2e-retry")) == 1


def test_a_report_written_offline_is_sent_when_the_network_returns(browser, live_server, spots, engine):  # noqa: F811
    spot = spots[2]
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(live_server + "/report")
        page.wait_for_selector("#report-map[data-placed='1']")
        page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")
        context.set_offline(True)
        page.get_by_test_id("report-category").select_option("sewage")
        page.get_by_test_id("report-description").fill("管道破裂 e2e-offline")
        page.get_by_test_id("report-submit").click()
        page.get_by_test_id("report-pending").wait_for()
        assert incidents_described(engine, "管道破裂 e2e-offline") == []
        context.set_offline(False)
        page.get_by_test_id("report-sent").wait_for(timeout=30_000)
    finally:
        context.close()
    assert len(incidents_described(engine, "管道破裂 e2e-offline")) == 1


def test_the_resident_follows_and_rates_the_case(browser, live_server, client, make_user, login, spots):  # noqa: F811
    spot = spots[0]
    admin = login(*make_user("admin", DISTRICT))
    maker = CaseMaker(client, admin, lon=spot["lon"], lat=spot["lat"], unit="", second_unit="", category="sewage")
    created = maker.report()
    maker.act(created["id"], "triage")
    maker.act(created["id"], "resolve", note="已疏通")
    maker.act(created["id"], "verify", note="ok")
    maker.act(created["id"], "close")
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/track/{created['tracking_code']}")
        page.get_by_test_id("track-token").fill(created["reporter_token"])
        page.get_by_test_id("track-token").press("Enter")
        page.get_by_test_id("track-status").wait_for()
        assert page.get_by_test_id("track-status").inner_text() == "已办结"
        timeline = page.get_by_test_id("track-timeline").inner_text()
        assert "t-admin" not in timeline  # no staff names
        page.get_by_test_id("star-4").click()
        page.get_by_test_id("rating-submit").click()
        page.get_by_test_id("track-rated").wait_for()
    finally:
        context.close()
    case = client.get(f"/api/incidents/{created['id']}", headers=admin).json()
    assert case["rating"] == 4


def test_a_neighbour_says_me_too_and_follows_the_case_with_a_code_of_their_own(
        browser, live_server, http, spots, engine):  # noqa: F811
    """The same problem was reported here an hour ago: the page offers it plainly (category, when,
    how far, how many support it) with the send button out of the way; "me too" gives the
    neighbour a code of their own that opens the case on the track page."""
    spot = spots[2]
    first = http.post("/api/incidents", json={"category": "street_light", "lon": spot["lon"], "lat": spot["lat"],
                                              "description": "路灯不亮 e2e-me-too"})
    assert first.status_code == 201, first.text
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report")
        page.wait_for_selector("#report-map[data-placed='1']")
        page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")
        page.get_by_test_id("report-category").select_option("street_light")
        page.get_by_test_id("report-submit").click()
        offer = page.get_by_test_id("matches")
        offer.wait_for(state="visible")
        text = offer.inner_text()
        assert "路灯" in text and "米" in text and "附议" in text, text
        assert page.get_by_test_id("report-submit").is_hidden()  # one choice at a time
        page.screenshot(path="/tmp/gridgov-screenshot-me-too.png", full_page=True)
        page.get_by_test_id("me-too").first.click()
        code = page.get_by_test_id("tracking-code").inner_text().strip()
        assert code.startswith("XA-") and code != first.json()["tracking_code"]
        token = page.evaluate("(c) => localStorage.getItem(`gridgov.token.${c}`)", code)
        followed = http.get(f"/api/public/incidents/{code}", headers={"X-Reporter-Token": token})
        assert followed.status_code == 200 and followed.json()["events"][-1]["kind"] == "me_too"
    finally:
        context.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT supporters FROM incident WHERE id = :i"),
                            {"i": first.json()["id"]}).scalar_one() == 1


def test_a_resident_reports_on_one_phone_and_tracks_on_another_from_what_the_page_showed(
        browser, live_server, spots, engine):  # noqa: F811
    spot = spots[1]
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report")
        fill_report(page, "楼道堆物 e2e-two-phones", photo=False)
        code = page.get_by_test_id("tracking-code").inner_text().strip()
        page.wait_for_timeout(6000)  # the card stays: it used to be wiped at the next round
        card = page.get_by_test_id("report-sent")
        assert card.is_visible() and page.get_by_test_id("tracking-code").inner_text().strip() == code
        secret = page.get_by_test_id("tracking-secret").inner_text().strip()
        link = page.get_by_test_id("track-link").get_attribute("href")
        assert link.endswith(f"/track/{code}#t={secret}")  # the secret only in the fragment
        assert page.get_by_test_id("copy-link").is_visible()
    finally:
        context.close()
    other = browser.new_context(viewport=PHONE, locale="zh-CN")  # another phone: nothing stored
    try:
        page = other.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(link)
        page.get_by_test_id("track-status").wait_for()
        assert "#" not in page.url  # taken out of the address bar once kept
        assert not any(secret in url for url in requested)  # never sent in a URL
    finally:
        other.close()


def test_a_poster_of_a_grid_redrawn_since_still_opens_the_report_page_with_its_grid(
        browser, live_server, http, settings, engine, make_user):  # noqa: F811
    import shapely

    with engine.connect() as conn:
        grid = conn.execute(sa.text("""
            SELECT code, name, parent_code, ST_AsBinary(geom) AS wkb FROM area
            WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code || 'old-poster') LIMIT 1""")).mappings().one()
    geom = shapely.from_wkb(grid["wkb"])
    minx, miny, maxx, maxy = geom.bounds
    x = geom.representative_point().x
    manager = headers_for(http, *make_user("grid_manager", grid["parent_code"]))
    tag = http.get(f"/api/areas/{grid['code']}", headers=manager).headers["ETag"]
    saved = http.post("/api/areas/edits", headers={**manager, "If-Match": tag}, json={
        "op": "split", "code": grid["code"],
        "line": {"type": "LineString", "coordinates": [[x, miny - 0.01], [x + 1e-5, maxy + 0.01]]}})
    assert saved.status_code == 200, saved.text
    spot = {"lon": geom.representative_point().x, "lat": geom.representative_point().y}
    context = phone(browser, spot)
    try:
        page = context.new_page()
        page.goto(qr.report_url(live_server, settings.qr_key, grid["code"]))
        line = page.get_by_test_id("qr-grid")
        line.wait_for(state="visible")
        assert line.get_attribute("data-retired") == "1" and grid["name"] in line.inner_text()
        assert f"{grid['name']}-1" in line.inner_text()  # the grids that took its ground, by name
    finally:
        context.close()
