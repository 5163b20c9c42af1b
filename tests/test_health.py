"""The proxy's and the operator's probes: /healthz says the process answers; /readyz says
whether it can serve, and what is down when it cannot."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app


def test_a_serving_worker_is_alive_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    res = client.get("/readyz")
    assert res.status_code == 200 and res.json() == {"status": "ready", "database": True, "listener": True}


def test_a_worker_without_its_database_is_alive_but_not_ready(settings):
    app = create_app(settings.model_copy(update={"database_url": "postgresql://gridgov@127.0.0.1:1/gridgov"}))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/healthz").status_code == 200
        res = c.get("/readyz")
        assert res.status_code == 503 and res.json() == {"status": "not_ready", "database": False, "listener": False}
