"""The report outbox on a phone against real refusals (issue 19): a report the server rate-limits
(a real 429 with Retry-After from a second app instance with a low public rate) stays on the
phone, says it will be retried, and is created exactly once after Retry-After; a report the
server refuses (422) stays with the server's reason until the resident discards it. Every
request to /api/public/* and POST /api/incidents carries this phone's device secret."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from api.main import create_app
from tests.conftest import served
from tests.cycle_support import png_bytes
from tests.e2e.test_map import browser  # noqa: F401 (fixture)
from tests.e2e.test_report import incidents_described, phone, spots  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
RATE = 6  # public requests a minute per client: a token every 10 s, so Retry-After is at most 10 s
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")

# The outbox as the page keeps it in IndexedDB (what survives a reload).
OUTBOX = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open("gridgov-report", 1);
  req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "key" });
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const got = req.result.transaction("outbox").objectStore("outbox").getAll();
    got.onerror = () => reject(got.error);
    got.onsuccess = () => resolve(got.result.map((e) => ({ state: e.state, description: e.body.description })));
  };
})"""


@pytest.fixture(scope="module")
def limited_server(settings, engine):
    """A second instance of the app on the same database, with a low public rate limit."""
    app = create_app(settings.model_copy(update={"public_rate_per_minute": RATE, "supervision_interval_s": 0}))
    with served(app) as url:
        yield url


def exhaust(base: str, secret: str, spot: dict) -> None:
    """Spend this client's public budget (as this phone: same address, same device secret)."""
    with httpx.Client(base_url=base, trust_env=False, timeout=30,
                      headers={"X-Device-Secret": secret}) as http:
        for _ in range(RATE + 5):
            if http.get("/api/public/where", params={"lon": spot["lon"], "lat": spot["lat"]}).status_code == 429:
                return
    raise AssertionError(f"no 429 after {RATE + 5} requests: is the public rate limit {RATE} a minute?")


def created(engine, text: str) -> list[tuple[str, int]]:
    """(tracking code, photos) of each incident with this description."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("""
            SELECT i.tracking_code, (SELECT count(*) FROM incident_attachment a WHERE a.incident_id = i.id)
            FROM incident i WHERE i.description = :d"""), {"d": text})]


def test_a_rate_limited_report_is_delivered_once_after_retry_after(
        browser, limited_server, spots, engine):  # noqa: F811
    text = "垃圾堆积 e2e-429"
    context = phone(browser, spots[1])
    requests: list[tuple[str, str, dict]] = []  # what the page sent: method, path, headers
    answers: list[tuple[int, str | None]] = []  # POST /api/incidents: status, Retry-After
    photos: list[int] = []  # the photo's uploads: status
    context.on("request", lambda r: requests.append((r.method, r.url.split("?")[0].replace(limited_server, ""),
                                                     r.headers)))

    def answered(r):
        if r.request.method == "POST" and r.url == f"{limited_server}/api/incidents":
            answers.append((r.status, r.headers.get("retry-after")))
        elif r.request.method == "POST" and r.url.endswith("/attachments"):
            photos.append(r.status)

    context.on("response", answered)
    try:
        page = context.new_page()
        page.goto(limited_server + "/report")
        page.wait_for_selector("#report-map[data-placed='1']")
        page.wait_for_function("() => document.querySelector('[data-testid=where]').dataset.grid")
        page.get_by_test_id("report-category").select_option("sewage")
        page.get_by_test_id("report-description").fill(text)
        page.get_by_test_id("report-photos").set_input_files(
            {"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes((30, 20))})
        secret = page.evaluate("() => localStorage.getItem('gridgov-device')")
        assert SECRET.match(secret or ""), secret
        exhaust(limited_server, secret, spots[1])
        page.get_by_test_id("report-submit").click()
        page.wait_for_selector("[data-testid=report-anyway], [data-testid=report-pending], [data-testid=report-sent]")
        if page.get_by_test_id("report-anyway").count():  # the duplicate offer got through: file it anyway
            page.get_by_test_id("report-anyway").click()

        waiting = page.locator("[data-testid=report-pending][data-wait=busy]")
        waiting.wait_for()  # refused for now: kept, on screen, and it says it will try again
        assert "自动重试" in waiting.inner_text() and text in waiting.inner_text()
        assert page.evaluate(OUTBOX) == [{"state": "pending", "description": text}]
        assert created(engine, text) == []

        page.get_by_test_id("report-sent").wait_for(timeout=90_000)  # after Retry-After, by itself, photo too
        code = page.get_by_test_id("tracking-code").inner_text()
        secret_after = page.evaluate("() => localStorage.getItem('gridgov-device')")
    finally:
        context.close()
    assert created(engine, text) == [(code, 1)]  # exactly once, with its photo (which waits its turn likewise)
    assert photos and photos[-1] == 201 and set(photos[:-1]) <= {429}, photos
    assert answers[0][0] == 429 and int(answers[0][1]) >= 1, answers
    assert answers[-1][0] == 201 and {s for s, _ in answers[:-1]} == {429}, answers
    posts = [h for m, p, h in requests if (m, p) == ("POST", "/api/incidents")]
    assert len(posts) == len(answers) and len({h["idempotency-key"] for h in posts}) == 1  # one key for every try
    public = [h for m, p, h in requests  # the base map's outlines are reference data, not limited
              if p.startswith("/api/public/") and not p.startswith("/api/public/base")] + posts
    assert public and {h.get("x-device-secret") for h in public} == {secret} and secret_after == secret


def test_a_refused_report_stays_with_its_reason_until_the_resident_discards_it(
        browser, live_server, spots, engine):  # noqa: F811
    text = "路灯不亮 e2e-422"
    context = phone(browser, spots[2])
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report?g={'9' * 65}&s=x")  # a damaged QR code: the server refuses its grid (422)
        page.wait_for_selector("#report-map[data-placed='1']")
        page.get_by_test_id("report-category").select_option("sewage")
        page.get_by_test_id("report-description").fill(text)
        page.get_by_test_id("report-submit").click()
        page.wait_for_selector("[data-testid=report-anyway], [data-testid=report-failed], [data-testid=report-sent]")
        if page.get_by_test_id("report-anyway").count():
            page.get_by_test_id("report-anyway").click()
        failed = page.get_by_test_id("report-failed")
        failed.wait_for()
        reason = page.get_by_test_id("failed-reason").inner_text()
        # the server's reason, in the page's language (the field qr_grid is the QR code), and what was written
        assert "二维码" in reason and "qr_grid" not in reason and text in failed.inner_text()

        page.reload()  # the page never deletes it by itself: it is there on the next visit too
        failed.wait_for()
        assert page.get_by_test_id("failed-reason").inner_text() == reason
        assert page.evaluate(OUTBOX) == [{"state": "failed", "description": text}]

        page.get_by_test_id("report-edit").click()  # editing puts it back in the form and keeps it meanwhile
        # the form is filled once the outbox (IndexedDB) has answered: wait for it, as a resident does
        expect(page.get_by_test_id("report-description")).to_have_value(text)
        expect(page.get_by_test_id("report-category")).to_have_value("sewage")
        assert page.get_by_test_id("report-form").is_visible()
        assert failed.count() == 1

        page.get_by_test_id("report-discard").click()  # discarding asks once more
        page.get_by_test_id("report-discard-cancel").click()
        assert failed.count() == 1 and page.evaluate(OUTBOX) != []
        page.get_by_test_id("report-discard").click()
        page.get_by_test_id("report-discard-confirm").click()
        failed.wait_for(state="detached")
        assert page.evaluate(OUTBOX) == []
    finally:
        context.close()
    assert incidents_described(engine, text) == []


def test_the_track_page_sends_the_same_device_secret(browser, live_server, client, spots):  # noqa: F811
    res = client.post("/api/incidents", json={"category": "sewage", "lon": spots[0]["lon"], "lat": spots[0]["lat"]})
    assert res.status_code == 201, res.text
    case = res.json()
    context = phone(browser, spots[0])
    sent: list[dict] = []
    context.on("request", lambda r: sent.append(r.headers) if "/api/public/incidents/" in r.url else None)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report")  # the phone got its secret here first
        page.wait_for_selector("#report-map[data-placed='1']")
        secret = page.evaluate("() => localStorage.getItem('gridgov-device')")
        page.goto(f"{live_server}/track/{case['tracking_code']}")
        page.get_by_test_id("track-token").fill(case["reporter_token"])
        page.get_by_test_id("track-token").press("Enter")
        page.get_by_test_id("track-status").wait_for()
    finally:
        context.close()
    assert SECRET.match(secret or "") and sent and {h.get("x-device-secret") for h in sent} == {secret}
