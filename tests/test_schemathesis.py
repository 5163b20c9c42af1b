"""Property-based API run (schemathesis) against the app's own /openapi.json.

Every operation is exercised as four callers: an admin (reaches the code behind each
rule), a street dispatcher and an analyst (the scoped and the coarse views, and the 403
paths), and anonymously (the 401 paths and the public routes), checking that nothing
answers 5xx and that response bodies conform to their documented schemas. Bounded: a few
examples per operation, no Hypothesis deadline, no example database.

Two operations are treated specially (neither is excluded): ``POST /api/auth/logout`` would
end the admin session mid-run, so it gets a fresh login of its own for every example; the live
stream ``GET /api/live`` never ends by itself, so it is always asked for its catch-up answer
(``once=true``; tests/test_live.py holds real streams).
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app
from api.settings import Settings

CHECKS = [not_a_server_error, response_schema_conformance]
MAX_EXAMPLES = 15
LOGOUT = ("POST", "/api/auth/logout")
LIVE = ("GET", "/api/live")
DISTRICT = "330503"
STREET = "330503100"


@pytest.fixture(scope="module")
def st_app(settings):
    """A separate app instance: schemathesis runs its lifespan on its own event loop."""
    from schemathesis.python import asgi

    yield create_app(settings)
    asgi.shutdown_lifespans()  # close its connection pool before the test database is dropped


@pytest.fixture(scope="module")
def admin_account(make_user):
    return make_user("admin", DISTRICT)


@pytest.fixture(scope="module")
def admin_headers(admin_account, login):
    return login(*admin_account)


@pytest.fixture(scope="module")
def staff_accounts(make_user, login):
    """role -> (account, headers): a dispatcher of one street and a district analyst."""
    accounts = {"street_dispatcher": make_user("dispatcher", STREET), "analyst": make_user("analyst", DISTRICT)}
    return {name: (account, login(*account)) for name, account in accounts.items()}


# The schema is loaded at import time (pytest parametrizes from it), from the document the
# app generates; no database is touched. ``schemathesis.pytest.from_fixture`` would be the
# natural loader, but schemathesis 4.32.5 reads ``request.node._nodeid``, gone in pytest 9.
# Every call goes to ``st_app`` on the throwaway test database; the test below checks that the
# served /openapi.json is this very document.
OPENAPI = create_app(Settings(env="test")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)
BASE = "http://testserver"

HYPOTHESIS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))


def test_schema_is_the_served_document_and_lists_every_api_operation(client):
    assert client.get("/openapi.json").json() == OPENAPI
    ops = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert ("GET", "/api/incidents") in ops and LOGOUT in ops
    assert len(ops) >= 15


def ready(case, st_app) -> None:
    """The app's first calls may come before its live hub has connected: /readyz then rightly says
    503 (not ready). The readiness probe is checked once the app is up, as a proxy would."""
    if (case.method.upper(), case.path) != ("GET", "/readyz"):
        return
    for _ in range(100):
        if case.call(app=st_app, base_url=BASE).status_code == 200:
            return
        time.sleep(0.1)


def bounded(case):
    """The live stream answers only its catch-up here, whatever else was generated."""
    if (case.method.upper(), case.path) == LIVE:
        case.query = {**(case.query or {}), "once": "true"}
    return case


@schema.parametrize()
@HYPOTHESIS
def test_api_as_admin(case, st_app, admin_headers, admin_account, login):
    headers = dict(admin_headers)
    if (case.method.upper(), case.path) == LOGOUT:
        headers = login(*admin_account)  # its own session: logging it out leaves the run's token alive
    ready(case, st_app)
    bounded(case).call_and_validate(app=st_app, base_url=BASE, headers=headers, checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
@pytest.mark.parametrize("caller", ["street_dispatcher", "analyst"])
def test_api_as_scoped_staff(case, caller, st_app, staff_accounts, login):
    account, headers = staff_accounts[caller]
    if (case.method.upper(), case.path) == LOGOUT:
        headers = login(*account)
    ready(case, st_app)
    bounded(case).call_and_validate(app=st_app, base_url=BASE, headers=headers, checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_api_anonymous(case, st_app):
    ready(case, st_app)
    bounded(case).call_and_validate(app=st_app, base_url=BASE, checks=CHECKS)


def test_sessions_survived_the_run(client, admin_headers, staff_accounts):
    assert client.get("/api/auth/me", headers=admin_headers).status_code == 200
    for _, headers in staff_accounts.values():
        assert client.get("/api/auth/me", headers=headers).status_code == 200
