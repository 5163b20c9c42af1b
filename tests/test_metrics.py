"""/metrics for the operator's Prometheus: request counts by route template (never a raw path),
the connection pool, the scheduler's last round, live clients; read only with ``read_metrics``
(admin, and the ``operator`` role that holds nothing else, whose long-lived token
``gridgov user token`` makes)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.cli import main
from api.main import create_app
from api.settings import Settings, get_settings
from tests.pg_support import sample_database, scratch_database

DISTRICT = "330503"
ROUTE = "/api/incidents/{incident_id}"


def scrape(client, headers) -> dict[str, list]:
    res = client.get("/metrics", headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain; version=0.0.4")
    families: dict[str, list] = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            families.setdefault(sample.name, []).append(sample)
    return families


def value(families, name: str, **labels) -> float:
    found = [s.value for s in families.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(found)


@pytest.fixture(scope="module")
def operator(make_user, login):
    return login(*make_user("operator", DISTRICT))


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


def test_metrics_need_the_read_metrics_capability(client, make_user, login, operator):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "login_required"
    for role in ("dispatcher", "analyst", "grid_manager"):
        refused = client.get("/metrics", headers=login(*make_user(role, DISTRICT)))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"].startswith("application/json") and "read_metrics" in refused.json()[
            "detail"]
    assert client.get("/metrics", headers=operator).status_code == 200
    # the operator's account reads nothing else, not even who it is
    assert client.get("/api/auth/me", headers=operator).status_code == 403
    assert client.get("/api/incidents", headers=operator).status_code == 403
    assert client.get("/healthz").status_code == 200  # the probes stay open


def test_requests_are_counted_by_route_template_exactly(client, admin, operator):
    made = client.post("/api/incidents", json={"category": "dispute", "lon": 120.42, "lat": 30.87})
    assert made.status_code == 201, made.text
    incident_id, tracking_code = made.json()["id"], made.json()["tracking_code"]
    before = scrape(client, operator)
    for _ in range(3):
        assert client.get(f"/api/incidents/{incident_id}", headers=admin).status_code == 200
    assert client.get("/api/incidents/999999999", headers=admin).status_code == 404
    assert client.get(f"/no/such/{tracking_code}").status_code == 404
    after = scrape(client, operator)

    def grew(route, status, method="GET"):
        labels = {"method": method, "route": route, "status": status}
        return value(after, "gridgov_http_requests_total", **labels) - value(
            before, "gridgov_http_requests_total", **labels)

    assert grew(ROUTE, "200") == 3
    assert grew(ROUTE, "404") == 1
    assert grew("unmatched", "404") == 1
    # the histogram saw the same requests
    count = {"method": "GET", "route": ROUTE, "status_class": "2xx"}
    assert value(after, "gridgov_http_request_duration_seconds_count", **count) - value(
        before, "gridgov_http_request_duration_seconds_count", **count) == 3

    routes = {s.labels["route"] for s in after["gridgov_http_requests_total"]}
    templates = {ctx.path for ctx in iter_route_contexts(client.app.router.routes)}
    for route in routes:
        assert route == "unmatched" or route in templates or route.endswith("/{path}"), route
    every_label = {v for samples in after.values() for s in samples for v in s.labels.values()}
    for raw in (str(incident_id), tracking_code, "999999999"):
        assert not any(raw in label for label in every_label), raw


def test_the_pool_and_the_live_hub_are_read_when_scraped(client, operator, settings):
    families = scrape(client, operator)
    assert value(families, "gridgov_db_pool_max") == settings.pool_size
    assert 1 <= value(families, "gridgov_db_pool_connections") <= settings.pool_size
    # this request's own caller check gave its connection back before the scrape: one lent out at most
    assert value(families, "gridgov_db_pool_in_use") <= value(families, "gridgov_db_pool_connections")
    assert "gridgov_db_pool_waiting" in families and "gridgov_db_pool_requests_total" in families
    assert value(families, "gridgov_live_listening") == 1
    assert value(families, "gridgov_scheduler_enabled") == 0  # the tests' app runs no scheduler loop
    assert "gridgov_scheduler_last_round_timestamp_seconds" not in families


def test_a_live_subscriber_is_a_live_client(app, client, operator):
    """The gauge counts the hub's subscribers (one per open /api/live stream: tests/test_live.py
    holds streams open and sees them fed); asked of the hub itself, so no stream's timing matters."""
    from api.auth.principal import Grant, Principal
    from api.live.documents import Sight

    hub = app.state.live
    before = value(scrape(client, operator), "gridgov_live_clients")
    assert before == len(hub.subscribers)
    watcher = Principal(username="metrics-watcher", user_id=10**9 + 7, grants=(Grant("dispatcher", DISTRICT),))
    sub = hub.subscribe(Sight.of(watcher))
    try:
        assert value(scrape(client, operator), "gridgov_live_clients") == before + 1
    finally:
        hub.unsubscribe(sub)
    assert value(scrape(client, operator), "gridgov_live_clients") == before


@pytest.fixture
def scheduled_db(database_url, settings):
    """A database of its own: a scheduler round at the real time flags the other tests' back-dated cases."""
    with scratch_database(database_url, "metrics_rounds", template=sample_database(settings)) as url:
        yield url


def cli(monkeypatch, capsys, url: str, *argv: str) -> str:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as ended:
            main(list(argv))
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert (ended.value.code or 0) == 0, err
    return out.strip()


def test_the_scheduler_round_shows_with_an_operator_token_from_the_command_line(
        scheduled_db, settings, monkeypatch, capsys, tmp_path):
    cli(monkeypatch, capsys, scheduled_db, "user", "add", "prometheus")
    cli(monkeypatch, capsys, scheduled_db, "user", "grant", "prometheus", "operator", DISTRICT)
    token_file = tmp_path / "gridgov.token"
    cli(monkeypatch, capsys, scheduled_db, "user", "token", "prometheus", "--days", "365", "--out", str(token_file))
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}

    app = create_app(Settings(env="test", database_url=scheduled_db, supervision_interval_s=3600))
    with TestClient(app) as c:
        c.portal.call(app.state.scheduler.wait_for, 1)  # the loop's first round runs at start
        families = scrape(c, headers)
        assert c.get("/api/auth/me", headers=headers).status_code == 403
    assert value(families, "gridgov_scheduler_enabled") == 1
    assert value(families, "gridgov_scheduler_rounds_total", outcome="done") == 1
    assert value(families, "gridgov_scheduler_last_round_failed") == 0
    assert value(families, "gridgov_scheduler_last_round_timestamp_seconds") > 1.7e9
    assert value(families, "gridgov_scheduler_last_round_duration_seconds") >= 0


def test_a_long_lived_token_is_only_for_an_operator_only_account(scheduled_db, monkeypatch, capsys):
    cli(monkeypatch, capsys, scheduled_db, "user", "add", "someone")
    cli(monkeypatch, capsys, scheduled_db, "user", "grant", "someone", "operator", DISTRICT)
    cli(monkeypatch, capsys, scheduled_db, "user", "grant", "someone", "dispatcher", DISTRICT)
    monkeypatch.setenv("DATABASE_URL", scheduled_db)
    get_settings.cache_clear()
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(["user", "token", "someone"])
    get_settings.cache_clear()
    err = capsys.readouterr().err
    assert ended.value.code == 2 and re.search(r"only role is operator .*dispatcher", err), err
