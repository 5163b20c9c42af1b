"""The satisfaction survey on a phone (360×740): open the street's signed poster link, score some
indicators and send; the same phone answers again (its answer is replaced: the count stays);
another phone (a second browser context, its own storage and so its own secret) adds one.
Counts come from the staff's scores API over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.surveys import periods
from api.surveys.poster import survey_url
from tests.e2e.test_map import DISTRICT, TIMEOUT_MS, Page, browser, headers_for, http  # noqa: F401 (fixtures)

PHONE = {"width": 360, "height": 740}
STREET = "330503107"  # no other test module surveys it


@pytest.fixture(scope="module")
def survey(http, make_user, settings):  # noqa: F811
    admin = headers_for(http, *make_user("admin", DISTRICT))
    day = periods.today(settings)
    res = http.post("/api/surveys/periods", headers=admin, json={
        "street": STREET, "opens": str(day - timedelta(days=1)), "closes": str(day + timedelta(days=60))})
    assert res.status_code == 201, res.text
    return {"period": res.json()["id"], "admin": admin}


def counts(http, survey) -> dict:  # noqa: F811
    doc = http.get(f"/api/surveys/periods/{survey['period']}/scores", headers=survey["admin"]).json()
    ind = {i["code"]: i for d in doc["dimensions"] for i in d["indicators"]}
    return {"n": doc["overall"]["n"], "garbage": ind["garbage_sorting"], "dogs": ind["dog_keeping"]}


def answer_on(page, url: str, scores: dict[str, int]) -> str:
    page.goto(url)
    page.get_by_test_id("survey-form").wait_for(state="visible")
    for code, n in scores.items():
        page.get_by_test_id(f"score-{code}-{n}").check()
    page.get_by_test_id("survey-submit").click()
    sent = page.get_by_test_id("survey-sent")
    sent.wait_for(state="visible")
    return sent.get_attribute("data-replaced")


def test_a_phone_answers_replaces_and_another_adds(browser, live_server, http, settings, survey):  # noqa: F811
    url = survey_url(live_server, settings.qr_key, STREET)
    first = Page(browser, live_server, viewport=PHONE)
    try:
        page = first.page
        assert answer_on(page, url, {"garbage_sorting": 2, "dog_keeping": 4}) == "0"
        assert page.get_by_test_id("survey-street").inner_text()  # the street by name
        c = counts(http, survey)
        assert (c["n"], c["garbage"]["n"], c["garbage"]["mean"]) == (1, 1, 2)
        # the same phone again: the page says it answered, shows its choices, and the answer is replaced
        page.goto(url)
        page.get_by_test_id("survey-again").wait_for(state="visible")
        assert page.get_by_test_id("score-garbage_sorting-2").is_checked()
        assert answer_on(page, url, {"garbage_sorting": 5}) == "1"  # the dogs' 4 stays chosen and is sent again
        c = counts(http, survey)
        assert (c["n"], c["garbage"]["n"], c["garbage"]["mean"], c["dogs"]["n"], c["dogs"]["mean"]) == (1, 1, 5, 1, 4)
        first.assert_clean()
    finally:
        first.context.close()
    second = Page(browser, live_server, viewport=PHONE)  # another phone: its own storage, its own secret
    try:
        assert answer_on(second.page, url, {"garbage_sorting": 3}) == "0"
        c = counts(http, survey)
        assert (c["n"], c["garbage"]["n"], c["garbage"]["mean"]) == (2, 2, 4)
        # in English too: the questions' names come from the template, the rest from the catalogue
        second.page.get_by_test_id("lang-toggle").click()
        second.page.goto(url)
        second.page.get_by_test_id("question-garbage_sorting").wait_for(state="visible")
        assert "Garbage sorting" in second.page.get_by_test_id("question-garbage_sorting").inner_text()
        assert "Very satisfied" in second.page.get_by_test_id("question-garbage_sorting").inner_text()
        second.assert_clean()
    finally:
        second.context.close()


def test_a_forged_link_is_refused_on_the_page(browser, live_server, settings, survey):  # noqa: F811
    phone = Page(browser, live_server, viewport=PHONE)
    try:
        phone.page.goto(f"{live_server}/survey?s={STREET}&sig=AAAAAAAAAAAAAAAA")
        error = phone.page.get_by_test_id("survey-error")
        error.wait_for(state="visible")
        assert "海报" in error.inner_text()  # error.survey_link in Chinese
    finally:
        phone.context.close()
