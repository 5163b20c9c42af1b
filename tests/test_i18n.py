"""The translation catalogues (web/static/i18n/<lang>.json): every language has the same keys,
no empty text and the same placeholders; every key the pages name literally is in them; the
server reads them (api/i18n.py) and answers in the request's language."""

from __future__ import annotations

import json
import re

import pytest

from api import i18n
from api.settings import PROJECT_ROOT

WEB = PROJECT_ROOT / "web"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# t("key") / tOr("key", ...) / t('key'); keys built at run time (t(`state.${s}`)) are checked by prefix
LITERAL_CALL = re.compile(r"""(?<![\w.$])(?:t|tOr)\(\s*(["'])([a-z_][\w.\-]*)\1""")
TEMPLATE_CALL = re.compile(r"""(?<![\w.$])(?:t|tOr)\(\s*`([a-z_][\w.\-]*?)\$\{""")
LABEL_CALL = re.compile(r"""\blabel\(\s*"([a-z_]+)",""")  # label("state", code): the prefix
ATTRIBUTE = re.compile(r"""data-i18n(?:-placeholder)?="([^"]+)\"""")
# keys handed to a helper that translates them: setError(el, "login.wrong"), status("warn", "ed.need.one")
KEY_ARGUMENT = re.compile(r"""(?<![\w$])(?:setError\(\w+,|status\("\w+",)\s*"([a-z_]+\.[\w.]+)\"""")


def catalogues() -> dict[str, dict[str, str]]:
    return {lang: json.loads((i18n.CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
            for lang in i18n.languages()}


def used_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(literal key -> files naming it, key prefix -> files building keys on it)."""
    literal: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for path in sorted((WEB / "static").glob("*.js")) + sorted(WEB.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (LITERAL_CALL, ATTRIBUTE, KEY_ARGUMENT):
            for m in pattern.finditer(text):
                literal.setdefault(m.group(m.lastindex), set()).add(path.name)
        for m in TEMPLATE_CALL.finditer(text):
            prefixes.setdefault(m.group(1), set()).add(path.name)
        for m in LABEL_CALL.finditer(text):
            prefixes.setdefault(m.group(1) + ".", set()).add(path.name)
    return literal, prefixes


def test_chinese_comes_first_and_every_file_is_a_language():
    langs = i18n.languages()
    assert langs[0] == "zh" and "en" in langs
    assert sorted(langs) == sorted(p.stem for p in i18n.CATALOGUES.glob("*.json"))


def test_every_catalogue_has_the_same_keys_no_empty_text_and_the_same_placeholders():
    cats = catalogues()
    zh = cats["zh"]
    problems = []
    for lang, cat in cats.items():
        missing, extra = sorted(zh.keys() - cat.keys()), sorted(cat.keys() - zh.keys())
        if missing or extra:
            problems.append(f"{lang}: missing {missing}, not in zh {extra}")
        problems += [f"{lang}: {k} is not text or is empty" for k, v in cat.items()
                     if not isinstance(v, str) or not v.strip()]
        problems += [f"{lang}: {k} has placeholders {sorted(set(PLACEHOLDER.findall(v)))}, zh has "
                     f"{sorted(set(PLACEHOLDER.findall(zh[k])))}"
                     for k, v in cat.items() if k in zh and isinstance(v, str)
                     and set(PLACEHOLDER.findall(v)) != set(PLACEHOLDER.findall(zh[k]))]
    assert not problems, "\n".join(problems)


def test_every_key_the_pages_name_is_in_the_catalogue():
    zh = catalogues()["zh"]
    literal, prefixes = used_keys()
    assert len(literal) > 300, "the scan finds the pages' keys"
    missing = {k: sorted(files) for k, files in literal.items() if k not in zh}
    assert not missing, f"keys the pages use but no catalogue has: {missing}"
    no_prefix = {p: sorted(files) for p, files in prefixes.items() if not any(k.startswith(p) for k in zh)}
    assert not no_prefix, f"keys built on these prefixes, none in the catalogue: {no_prefix}"


def test_the_catalogues_are_flat_json_objects_written_as_utf8():
    for path in i18n.CATALOGUES.glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict) and all(isinstance(v, str) for v in doc.values()), path.name


@pytest.mark.parametrize(("param", "header", "lang"), [
    (None, None, "zh"),
    ("en", None, "en"),
    ("EN-gb", "zh-CN", "en"),
    ("xx", "en-US,en;q=0.9", "en"),
    (None, "en-US,en;q=0.9,zh;q=0.8", "en"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    (None, "fr-FR, en;q=0.5", "en"),
    (None, "fr-FR", "zh"),
    (None, "en;q=0, zh;q=0.1", "zh"),
])
def test_the_language_of_a_request(param, header, lang):
    assert i18n.pick(param, header) == lang


def test_text_from_the_catalogue_with_placeholders_and_the_chinese_fallback():
    assert i18n.t("route.rank", "en", n=2) == "#2"
    assert i18n.t("route.rank", "zh", n=2) == "第2近"
    assert i18n.t("route.rank", "fr", n=2) == "第2近"  # no such catalogue: the default
    assert i18n.t("no.such.key", "en") == "no.such.key"
    assert i18n.t("route.skipped", "en", busy=1) == "skipped 1 busy/off duty and {stale} stale"


def test_the_pages_get_every_catalogue_in_one_document(client):
    res = client.get("/i18n.json")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json")
    doc = res.json()
    assert doc["languages"][0] == "zh" and set(doc["languages"]) == set(i18n.languages())
    assert doc["catalogues"]["en"]["app.title"] == catalogues()["en"]["app.title"]
    again = client.get("/i18n.json", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304


def test_every_action_state_and_tier_of_the_case_cycle_has_its_words_in_every_catalogue():
    from api.workflow import machine

    keys = ({f"action.{a}" for a in machine.ACTIONS} | {f"state.{s}" for s in machine.STATES}
            | {f"tier.{t}" for t in machine.TIERS})
    for lang, cat in catalogues().items():
        assert keys - cat.keys() == set(), lang
    rule = machine.step("received", "triage")
    assert (rule.label_zh, rule.label_en) == (catalogues()["zh"]["action.triage"], catalogues()["en"]["action.triage"])


ERROR_WITH_CODE = re.compile(r"\b(?:ApiError|Invalid|NotFound|Conflict|Unauthorized|Forbidden|TooLarge|TooManyRequests"
                             r"|Unavailable)\((?:[^()]|\([^()]*\))*?\bcode=\"(\w+)\"", re.S)


def test_every_error_code_the_server_sends_has_its_message_in_every_catalogue():
    from api.errors import STATUS_CODES

    named = {m.group(1) for path in (PROJECT_ROOT / "api").rglob("*.py")
             for m in ERROR_WITH_CODE.finditer(path.read_text(encoding="utf-8"))}
    assert {"login_wrong", "session_expired", "state_conflict"} <= named, named
    for lang, cat in catalogues().items():
        missing = sorted(c for c in named | set(STATUS_CODES.values()) if f"error.{c}" not in cat)
        assert not missing, f"{lang}: no error.<code> for {missing}"


def test_error_bodies_carry_the_message_code_and_its_params(client, make_user, login):
    wrong = client.post("/api/auth/token", data={"username": "nobody-i18n", "password": "wrong-password-1"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "login_wrong"
    assert set(wrong.json()) >= {"detail", "errors", "code"}
    anonymous = client.get("/api/desk/queue")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "login_required"
    headers = login(*make_user("dispatcher", "330503"))
    missing = client.get("/api/incidents/987654321", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    invalid = client.get("/api/desk/queue?limit=0", headers=headers)
    body = invalid.json()
    assert invalid.status_code == 422 and body["code"] == "invalid" and body["params"]["field"] == "limit"
    assert body["errors"][0]["field"] == "limit"  # the body keeps its shape
    unknown = client.get("/api/no-such-endpoint")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_a_refused_step_names_the_state_for_the_page_to_translate(client, make_user, login, engine):
    import sqlalchemy as sa

    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM area "
                                        "WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1) g")).one()
    created = client.post("/api/incidents", json={"category": "street_vendor", "lon": lon, "lat": lat,
                                                  "description": "i18n 409"})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    headers = login(*make_user("dispatcher", "330503"))
    assert client.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=headers).status_code == 200
    refused = client.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=headers)
    body = refused.json()
    assert refused.status_code == 409 and body["code"] == "state_conflict" and body["params"]["state"] == "triaged"
    assert body["status"] == "triaged" and body["errors"][0]["field"] == "action"
    assert "{state}" in i18n.t("error.state_conflict", "en")


def test_the_hand_over_sheet_is_written_in_the_language_asked_for(client, make_user, login, engine):
    import sqlalchemy as sa

    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM area "
                                        "WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1) g")).one()
    cid = client.post("/api/incidents", json={"category": "street_vendor", "lon": lon, "lat": lat,
                                              "description": "i18n sheet"}).json()["id"]
    headers = login(*make_user("dispatcher", "330503"))
    zh = client.get(f"/api/incidents/{cid}/handover", headers=headers).text
    en = client.get(f"/api/incidents/{cid}/handover?lang=en", headers=headers).text
    by_header = client.get(f"/api/incidents/{cid}/handover",
                           headers={**headers, "Accept-Language": "en-GB,en;q=0.9"}).text
    assert "交办单" in zh and "Hand-over sheet" not in zh and "lang='zh-CN'" in zh
    assert "Hand-over sheet" in en and "交办单" not in en and "lang='en'" in en
    assert by_header == en
    for key in ("handover.category", "handover.deadline", "handover.units"):
        assert i18n.t(key, "zh") in zh and i18n.t(key, "en") in en


def test_a_third_language_is_a_file(tmp_path, monkeypatch):
    for lang in ("zh", "en"):
        (tmp_path / f"{lang}.json").write_text((i18n.CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    french = {**catalogues()["en"], "lang.tag": "fr", "lang.locale": "fr-FR", "route.rank": "n° {n}"}
    (tmp_path / "fr.json").write_text(json.dumps(french, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path)
    for cached in (i18n.languages, i18n.catalogue, i18n.bundle):
        cached.cache_clear()
    try:
        assert i18n.languages() == ("zh", "en", "fr")
        assert i18n.t("route.rank", i18n.pick(None, "fr-FR,fr;q=0.9"), n=1) == "n° 1"
        assert json.loads(i18n.bundle()[0])["languages"] == ["zh", "en", "fr"]
    finally:
        for cached in (i18n.languages, i18n.catalogue, i18n.bundle):
            cached.cache_clear()
