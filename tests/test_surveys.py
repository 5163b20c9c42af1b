"""Resident satisfaction surveys through the API, as residents and staff use it: a period opened
by an admin, answers from phones (X-Device-Secret) through the street's signed link; a repeat
from the same phone replaces its answer, another phone adds one; bad input writes nothing;
scores and their t intervals checked against values worked out by hand below."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from api import qr
from api.cli_support import cli_admin
from api.errors import Forbidden
from api.surveys import periods
from api.surveys.answers import link_code
from api.surveys.poster import survey_url
from tests.pg_support import in_transaction

# each test its own street of the sample (they share one database)
STREETS = {"answers": "330503001", "bad": "330503002", "hand": "330503101", "ranked": "330503102",
           "closed": "330503103", "followup": "330503105", "scope": "330503106"}
T_975 = {1: 12.706205, 2: 4.302653}  # Student's t, 97.5% quantile, by degrees of freedom (from a table)


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", "330503"))


def phone() -> dict[str, str]:
    return {"X-Device-Secret": secrets.token_urlsafe(32)}


def sig(settings, street: str) -> str:
    return qr.signature(qr.keys_of(settings.qr_key).current, link_code(street))


def open_survey(client, admin, settings, street: str) -> int:
    today = periods.today(settings)
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": street, "opens": str(today - timedelta(days=10)), "closes": str(today + timedelta(days=80))})
    assert res.status_code == 201, res.text
    assert res.json()["state"] == "open"
    return res.json()["id"]


def answer(client, settings, street: str, device: dict, scores: dict, signature: str | None = None):
    return client.post(f"/api/public/surveys/{street}/answers", headers=device,
                       json={"sig": sig(settings, street) if signature is None else signature, "scores": scores})


def stored(engine, period: int) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT device, scores, answers FROM survey_answer WHERE period_id = :p ORDER BY device"),
            {"p": period}).mappings()]


def test_answer_replace_and_another_phone(client, admin, settings, engine):
    street = STREETS["answers"]
    period = open_survey(client, admin, settings, street)
    first, second = phone(), phone()
    res = answer(client, settings, street, first, {"garbage_sorting": 4, "dog_keeping": 2})
    assert res.status_code == 200, res.text
    assert res.json() == {"period": period, "replaced": False, "questions": 2}
    again = answer(client, settings, street, first, {"garbage_sorting": 1})
    assert again.json() == {"period": period, "replaced": True, "questions": 1}
    rows = stored(engine, period)
    assert len(rows) == 1 and rows[0]["scores"] == {"garbage_sorting": 1} and rows[0]["answers"] == 2
    assert first["X-Device-Secret"] not in rows[0]["device"]  # only a keyed hash is kept
    other = answer(client, settings, street, second, {"garbage_sorting": 5})
    assert other.json()["replaced"] is False
    assert len(stored(engine, period)) == 2
    # the form shows a phone its own earlier answer (to change it), and nobody else's
    form = client.get(f"/api/public/surveys/{street}", params={"sig": sig(settings, street)}, headers=first).json()
    assert form["yours"] == {"garbage_sorting": 1} and form["period"]["id"] == period
    assert sum(len(d["indicators"]) for d in form["dimensions"]) == 17 and len(form["dimensions"]) == 4
    assert client.get(f"/api/public/surveys/{street}", params={"sig": sig(settings, street)},
                      headers=phone()).json()["yours"] is None
    # no address, phone number, place or user agent in the table: its columns say so
    with engine.connect() as conn:
        columns = set(conn.execute(sa.text("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'survey_answer'")).scalars())
    assert columns == {"period_id", "device", "scores", "poster", "answered_on", "answers"}


@pytest.mark.parametrize("scores, headers, signature, field", [
    ({"garbage_sorting": 4, "nope": 3}, "phone", None, "scores.nope"),
    ({"garbage_sorting": 6}, "phone", None, "scores.garbage_sorting"),
    ({"garbage_sorting": 0}, "phone", None, "scores.garbage_sorting"),
    ({"garbage_sorting": "5"}, "phone", None, "scores.garbage_sorting"),
    ({"garbage_sorting": 4.5}, "phone", None, "scores.garbage_sorting"),
    ({}, "phone", None, "scores"),
    ({"garbage_sorting": 4}, None, None, "X-Device-Secret"),
    ({"garbage_sorting": 4}, "phone", "AAAAAAAAAAAAAAAA", "sig"),
    ({"garbage_sorting": 4}, "phone", "", "sig"),
])
def test_bad_input_names_the_field_and_writes_nothing(client, admin, settings, engine, scores, headers, signature,
                                                      field):
    street = STREETS["bad"]
    with engine.connect() as conn:
        period = conn.execute(sa.text("SELECT id FROM survey_period WHERE street_code = :s"), {"s": street}).scalar()
    if period is None:
        period = open_survey(client, admin, settings, street)
    device = phone()
    kept = answer(client, settings, street, device, {"dog_keeping": 3})
    assert kept.status_code == 200
    before = stored(engine, period)
    res = answer(client, settings, street, device if headers else {}, scores, signature)
    assert 400 <= res.status_code < 500, res.text
    assert res.json()["errors"][0]["field"] == field, res.json()
    assert stored(engine, period) == before  # the phone's earlier answer stands, nothing added


def test_a_closed_period_takes_no_answer(client, admin, settings, engine):
    street = STREETS["closed"]
    period = open_survey(client, admin, settings, street)
    res = client.post(f"/api/surveys/periods/{period}/followups", headers=admin, json={
        "indicator": "parking", "owner": "enforcement", "measures": "x", "deadline": "2000-01-01"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "deadline"
    # what gridgov survey close runs
    in_transaction(settings, lambda conn: periods.close(conn, cli_admin(), settings, period))
    res = answer(client, settings, street, phone(), {"garbage_sorting": 4})
    assert res.status_code == 409 and res.json()["errors"][0]["field"] == "period"
    assert stored(engine, period) == []
    form = client.get(f"/api/public/surveys/{street}", params={"sig": sig(settings, street)}).json()
    assert form["period"] is None


def test_overlapping_periods_are_refused(client, admin, settings):
    street = STREETS["answers"]
    today = periods.today(settings)
    later = today + timedelta(days=400)  # days no other test opens: this test stands on its own
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": street, "opens": str(later), "closes": str(later + timedelta(days=10))})
    assert res.status_code == 201, res.text
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": street, "opens": str(later + timedelta(days=5)), "closes": str(later + timedelta(days=20))})
    assert res.status_code == 409 and res.json()["errors"][0]["field"] == "opens"
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": street, "opens": str(today), "closes": str(today - timedelta(days=5))})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "closes"
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": "330503100001", "opens": str(today), "closes": str(today)})  # a community, not a street
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "street"
    res = client.post("/api/surveys/periods", headers=admin, json={
        "street": street, "opens": "2300-01-01", "closes": "2300-03-31"})  # past the days the app takes
    assert res.status_code == 422 and {e["field"] for e in res.json()["errors"]} == {"opens", "closes"}
    res = client.get("/api/surveys/ranking", headers=admin, params={"on": "1969-12-31"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "on"


def approx(x):
    return pytest.approx(x, abs=0.01)


def test_scores_and_intervals_worked_by_hand(client, admin, settings):
    street = STREETS["hand"]
    period = open_survey(client, admin, settings, street)
    a, b, c = phone(), phone(), phone()
    answer(client, settings, street, a, {"garbage_sorting": 1})  # replaced below
    for device, scores in ((a, {"garbage_sorting": 5, "dog_keeping": 3, "parking": 4, "property_services": 2}),
                           (b, {"garbage_sorting": 4, "dog_keeping": 4}), (c, {"garbage_sorting": 3})):
        assert answer(client, settings, street, device, scores).status_code == 200
    doc = client.get(f"/api/surveys/periods/{period}/scores", headers=admin).json()
    ind = {i["code"]: i for d in doc["dimensions"] for i in d["indicators"]}
    dim = {d["code"]: d for d in doc["dimensions"]}
    # garbage sorting: 5, 4, 3 -> mean 4 (80 points), s = 1, half width t(2) * 1 / sqrt(3) = 2.484 -> clipped at 5
    g = ind["garbage_sorting"]
    assert (g["n"], g["mean"], g["score"]) == (3, approx(4), approx(80))
    assert g["ci_low"] == approx((4 - T_975[2] / math.sqrt(3)) * 20) and g["ci_low"] == approx(30.32)
    assert g["ci_high"] == approx(100)
    # dogs: 3, 4 -> 70 points, s = 0.7071, t(1) = 12.7: the interval is the whole scale
    d = ind["dog_keeping"]
    assert (d["n"], d["score"], d["ci_low"], d["ci_high"]) == (2, approx(70), approx(20), approx(100))
    # property services: one answer, no interval
    p = ind["property_services"]
    assert (p["n"], p["score"], p["ci_low"], p["ci_high"]) == (1, approx(40), None, None)
    assert ind["openness"]["n"] == 0 and ind["openness"]["score"] is None
    # urban governance, each phone's mean: a (5+3+4)/3 = 4, b (4+4)/2 = 4, c 3 -> 3.667 (73.33), s = 0.5774
    u = dim["urban"]
    assert (u["n"], u["score"]) == (3, approx(73.33))
    assert u["ci_low"] == approx((11 / 3 - T_975[2] * math.sqrt(1 / 3) / math.sqrt(3)) * 20)  # 44.65
    assert u["ci_high"] == approx(100)
    # the street, each phone's mean: a (5+3+4+2)/4 = 3.5, b 4, c 3 -> 3.5 (70 points), s = 0.5
    o = doc["overall"]
    assert (o["n"], o["score"]) == (3, approx(70))
    assert (o["ci_low"], o["ci_high"]) == (approx((3.5 - T_975[2] * 0.5 / math.sqrt(3)) * 20), approx(94.84))
    # all too few: marked, none ranked, no follow-up candidates
    assert all(i["too_few"] and i["rank"] is None for i in ind.values()) and doc["lowest"] == []
    # the public sees no count under 5, nor its score
    public = client.get(f"/api/public/surveys/{street}/scores").json()["scores"]
    assert public["overall"]["n"] is None and public["overall"]["score"] is None and public["overall"]["withheld"]
    assert all(i["n"] is None for d in public["dimensions"] for i in d["indicators"])


def test_enough_answers_are_ranked_and_shown(client, admin, settings, make_user, login):
    street = STREETS["ranked"]
    period = open_survey(client, admin, settings, street)
    for k in range(30):
        scores = {"garbage_sorting": 5 if k % 2 else 4, "parking": 2 if k % 3 else 3}
        if k:  # 29 phones score the dogs: too few
            scores["dog_keeping"] = 1
        assert answer(client, settings, street, phone(), scores).status_code == 200
    doc = client.get(f"/api/surveys/periods/{period}/scores", headers=admin).json()
    ind = {i["code"]: i for d in doc["dimensions"] for i in d["indicators"]}
    assert (ind["garbage_sorting"]["n"], ind["garbage_sorting"]["score"]) == (30, approx(90))
    assert ind["garbage_sorting"]["rank"] == 1 and ind["parking"]["rank"] == 2
    assert ind["parking"]["score"] == approx((20 * 2 + 10 * 3) / 30 * 20)
    assert ind["dog_keeping"]["too_few"] and ind["dog_keeping"]["rank"] is None and ind["dog_keeping"]["n"] == 29
    assert doc["lowest"] == ["parking", "garbage_sorting"]
    assert doc["overall"]["n"] == 30 and not doc["overall"]["too_few"]
    public = client.get(f"/api/public/surveys/{street}/scores").json()["scores"]
    pub = {i["code"]: i for d in public["dimensions"] for i in d["indicators"]}
    assert pub["garbage_sorting"]["n"] == 30 and pub["dog_keeping"]["n"] == 29
    assert pub["openness"]["withheld"]
    # the streets side by side: only those with enough answers ranked, in the caller's reach
    # the street's overall: each phone's mean over garbage, parking (and dogs, for 29 of them)
    means = [((5 if k % 2 else 4) + (2 if k % 3 else 3) + (1 if k else 0)) / (3 if k else 2) for k in range(30)]
    ranking = client.get("/api/surveys/ranking", headers=admin).json()["streets"]
    row = next(r for r in ranking if r["street"] == street)
    assert row["n"] == 30 and row["score"] == approx(sum(means) / 30 * 20) and isinstance(row["rank"], int)
    assert all(r["rank"] is None for r in ranking if r["too_few"])
    ranks = [r["rank"] for r in ranking if r["rank"] is not None]
    assert ranks == list(range(1, len(ranks) + 1))
    elsewhere = client.get("/api/surveys/ranking", headers=login(*make_user("analyst", STREETS["hand"]))).json()
    assert street not in {r["street"] for r in elsewhere["streets"]}
    public_ranking = client.get("/api/public/surveys").json()["streets"]
    assert all(r["n"] is None or r["n"] >= 5 for r in public_ranking)
    assert next(r for r in public_ranking if r["street"] == street)["rank"] == row["rank"]  # admin: all streets too


def test_followups_are_public_without_staff_names(client, admin, settings, make_user, login):
    street = STREETS["followup"]
    period = open_survey(client, admin, settings, street)
    analyst = login(*make_user("analyst", street))
    res = client.post(f"/api/surveys/periods/{period}/followups", headers=analyst, json={
        "indicator": "parking", "owner": "enforcement", "measures": "施划停车位", "deadline": "2027-03-31"})
    assert res.status_code == 201, res.text
    item = res.json()["id"]
    for body, field in (({"indicator": "nope", "owner": "enforcement"}, "indicator"),
                        ({"indicator": "parking", "owner": "nobody"}, "owner")):
        bad = client.post(f"/api/surveys/periods/{period}/followups", headers=analyst,
                          json={**body, "measures": "x", "deadline": "2027-03-31"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field
    res = client.patch(f"/api/surveys/followups/{item}", headers=analyst,
                       json={"status": "in_progress", "progress": "已施划120个"})
    assert res.status_code == 200 and res.json()["status"] == "in_progress"
    assert client.patch(f"/api/surveys/followups/{item}", headers=analyst, json={"status": "gone"}).status_code == 422
    public = client.get(f"/api/public/surveys/{street}/scores")
    [shown] = public.json()["scores"]["followups"]
    assert shown["progress"] == "已施划120个" and shown["owner"] == "enforcement"
    assert "t-analyst" not in public.text and "created_by" not in public.text and "updated_by" not in public.text


def test_scores_stay_in_the_callers_reach(client, admin, settings, make_user, login):
    street = STREETS["scope"]
    period = open_survey(client, admin, settings, street)
    mine = login(*make_user("analyst", street))
    other = login(*make_user("analyst", STREETS["hand"]))
    assert client.get(f"/api/surveys/periods/{period}/scores", headers=mine).status_code == 200
    assert client.get(f"/api/surveys/periods/{period}/scores", headers=other).status_code == 404
    worker = login(*make_user("grid_worker", "330503"))
    assert client.get(f"/api/surveys/periods/{period}/scores", headers=worker).status_code == 403


def test_the_poster_link_opens_the_survey(client, admin, settings):
    url = survey_url("http://x", settings.qr_key, STREETS["answers"])
    query = url.split("?", 1)[1]
    res = client.get(f"/api/public/surveys/{STREETS['answers']}?{query}")
    assert res.status_code == 200 and res.json()["street"] == STREETS["answers"]
    # the signature of one street does not open another's survey
    res = client.get(f"/api/public/surveys/{STREETS['hand']}?{query}")
    assert res.status_code == 403 and res.json()["errors"][0]["field"] == "sig"


def test_the_printed_poster_scans_back_to_a_link_that_opens_the_survey(client, settings, monkeypatch, capsys,
                                                                          database_url, tmp_path):
    """`gridgov survey poster` (the PDF rendered as a printer would, pdftoppm) carries the signed
    link; the link it decodes to opens the street's survey."""
    import subprocess

    from tests.test_cli_exits import run
    from tests.test_qr import decode_qr

    street = STREETS["answers"]
    monkeypatch.setenv("GRIDGOV_QR_KEY", settings.qr_key)
    monkeypatch.setenv("GRIDGOV_PUBLIC_URL", "https://gridgov.example")
    code, out, err = run(monkeypatch, capsys, database_url, ["survey", "poster", "--street", street,
                                                             "--out", tmp_path])
    assert code == 0, err
    assert (tmp_path / f"survey-{street}.svg").read_text().startswith("<svg")
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / f"survey-{street}.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    [url] = decode_qr(tmp_path / "page.png")
    assert url == survey_url("https://gridgov.example", settings.qr_key, street)
    assert client.get(f"/api/public/surveys/{street}?{url.split('?', 1)[1]}").status_code == 200
    code, _, err = run(monkeypatch, capsys, database_url, ["survey", "poster", "--street", street, "--out", tmp_path])
    assert code == 2 and "--overwrite" in err  # never replaced silently


def test_after_a_key_rotation_old_posters_work_until_the_overlap_ends(settings):
    from datetime import UTC, datetime

    from api import clock
    from api.surveys import answers

    street = STREETS["answers"]
    old = sig(settings, street)
    rotated = settings.model_copy(update={"qr_key": f"{'n' * 40},{settings.qr_key}",
                                          "qr_overlap_until": datetime(2030, 1, 1, tzinfo=UTC)})
    with clock.fixed(datetime(2029, 12, 31, tzinfo=UTC)):
        assert answers.check_link(rotated, street, old) == "previous"
    with clock.fixed(datetime(2030, 1, 2, tzinfo=UTC)):
        with pytest.raises(Forbidden) as refused:
            answers.check_link(rotated, street, old)
        assert refused.value.field == "sig"
    assert answers.check_link(rotated, street, qr.signature("n" * 40, link_code(street))) == "current"
