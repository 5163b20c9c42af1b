"""Behind a reverse proxy: a trusted proxy's X-Forwarded-For is the resident (so the per-client
limits tell residents apart) and its X-Forwarded-Proto the scheme of the links; anyone else's
forwarded headers are ignored. GRIDGOV_PUBLIC_URL, when set, starts every link that leaves the
server, and production refuses to start without it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.settings import Settings
from tests.test_privacy_and_limits import place  # noqa: F401 (fixture)

PROXY = "10.20.0.5"


@pytest.fixture(scope="module")
def proxied(settings):
    return create_app(settings.model_copy(update={
        "public_rate_per_minute": 2, "public_ip_rate_per_minute": 2, "trusted_proxies": ["10.20.0.0/24"]}))


def test_a_trusted_proxy_names_the_resident_and_another_callers_header_is_ignored(proxied, place):  # noqa: F811
    body = {"category": "noise", "lon": place["lon"], "lat": place["lat"]}
    with TestClient(proxied, raise_server_exceptions=False, client=(PROXY, 40000)) as proxy:
        first = [proxy.post("/api/incidents", json=body, headers={"X-Forwarded-For": "198.51.100.20"}).status_code
                 for _ in range(3)]
        assert first == [201, 201, 429]  # one resident: their own limit
        other = proxy.post("/api/incidents", json=body, headers={"X-Forwarded-For": "198.51.100.21"})
        assert other.status_code == 201  # a neighbour through the same proxy is not refused with them
    with TestClient(proxied, raise_server_exceptions=False, client=("192.0.2.66", 40000)) as stranger:
        made_up = [stranger.post("/api/incidents", json=body,
                                 headers={"X-Forwarded-For": f"198.51.100.{30 + i}"}).status_code for i in range(3)]
        assert made_up == [201, 201, 429]  # not a proxy of ours: one address, whatever it claims


def test_links_follow_the_trusted_proxys_scheme_and_host(proxied):
    headers = {"X-Forwarded-For": "198.51.100.40", "X-Forwarded-Proto": "https", "Host": "gridgov.example.gov.cn"}
    with TestClient(proxied, raise_server_exceptions=False, client=(PROXY, 40000)) as proxy:
        doc = proxy.get("/open311/v2/discovery.json", headers=headers).json()
        assert doc["endpoints"][0]["url"] == "https://gridgov.example.gov.cn/open311/v2"
    with TestClient(proxied, raise_server_exceptions=False, client=("192.0.2.67", 40000)) as stranger:
        doc = stranger.get("/open311/v2/discovery.json", headers=headers).json()
        assert doc["endpoints"][0]["url"].startswith("http://gridgov.example.gov.cn/")  # its own scheme stays


def test_the_public_url_starts_every_link_that_leaves_the_server(settings, client, make_user):
    app = create_app(settings.model_copy(update={"public_url": "https://gridgov.example.gov.cn/nanxun"}))
    user, password = make_user("grid_manager", "330503")
    with TestClient(app, raise_server_exceptions=False) as c:
        token = c.post("/api/auth/token", data={"username": user, "password": password}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/open311/v2/discovery.json").json()["endpoints"][0]["url"] == \
            "https://gridgov.example.gov.cn/nanxun/open311/v2"
        assert c.get("/tiles/grid.json", headers=auth).json()["tiles"][0].startswith(
            "https://gridgov.example.gov.cn/nanxun/tiles/grid/")
        links = c.get("/ogc", headers=auth).json()["links"]
        assert links and all(link["href"].startswith("https://gridgov.example.gov.cn/nanxun/") for link in links)


@pytest.mark.parametrize(("given", "words"), [
    ({"trusted_proxies": ["proxy.local"]}, "not an IP address or network"),
    ({"public_url": "gridgov.example.gov.cn"}, "http(s)://host"),
    ({"env": "production"}, "GRIDGOV_PUBLIC_URL"),
])
def test_a_bad_address_setting_is_refused_naming_it(clean_env, tmp_path, given, words):
    secrets = {"secret_key": "s" * 40, "hash_key": "h" * 40, "contact_key": Fernet.generate_key().decode(),
               "qr_key": "q" * 40}
    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings(home=tmp_path, **secrets, **given)


def test_trusted_proxies_may_be_comma_separated(clean_env, tmp_path):
    clean_env.setenv("GRIDGOV_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16")
    assert Settings(home=tmp_path).trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
