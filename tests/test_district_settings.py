"""A district's own settings (several districts in one instance): its office hours count in the
deadlines of its cases from the moment they are set, and `--reset` gives it the instance's
again. Runs on a database of its own (a district's hours would move other tests' deadlines)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from api import clock
from api.cli_exit import ExitCode
from api.main import create_app
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)

CST = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 12, 14, 8, 45, tzinfo=CST)  # a working day: no holiday, no swapped day near it
NANXUN = "330503"


@pytest.fixture
def own_database(database_url, settings):
    with scratch_database(database_url, "district_settings", template=sample_database(settings)) as url:
        yield url


def due_of_a_report(c: TestClient, auth: dict, point: dict) -> datetime:
    """A high-priority noise report (deadline 8 working hours) made on Monday at 08:45: its due time."""
    with clock.fixed(MONDAY):
        res = c.post("/api/incidents", headers=auth, json={"category": "noise", "priority": "high", **point})
    assert res.status_code == 201, res.text
    case = c.get(f"/api/incidents/{res.json()['id']}", headers=auth).json()
    assert case["deadline_spec"] == "8wh"
    return datetime.fromisoformat(case["due_at"]).astimezone(CST)


def due_once_heard(c: TestClient, auth: dict, point: dict, want: datetime) -> datetime:
    """The due time of a report filed once the app's worker has heard of a change made elsewhere
    (here the command line): the note reaches it within moments, far within the minute after
    which it would re-read anyway; the last due time seen when that does not happen."""
    deadline = time.monotonic() + 5
    while (got := due_of_a_report(c, auth, point)) != want and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


def test_a_districts_office_hours_count_in_its_deadlines(monkeypatch, capsys, own_database, settings, make_user):
    with TestClient(create_app(settings.model_copy(update={"database_url": own_database}))) as c:
        password = "district-settings-admin-1"
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(password + "\n"))
        assert run(monkeypatch, capsys, own_database, ["user", "add", "ds-admin", "--password-stdin"])[0] == 0
        assert run(monkeypatch, capsys, own_database, ["user", "grant", "ds-admin", "admin", NANXUN])[0] == 0
        token = c.post("/api/auth/token", data={"username": "ds-admin", "password": password}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        point = {"lon": 120.4263, "lat": 30.8727}

        # the instance's day, 09:00-17:00: the clock starts at 09:00 and runs 8 hours
        assert due_of_a_report(c, auth, point) == datetime(2026, 12, 14, 17, 0, tzinfo=CST)

        code, out, err = run(monkeypatch, capsys, own_database,
                             ["district", "set", NANXUN, "--office-hours", "08:00-16:00", "--json"])
        assert code == ExitCode.DONE, err
        assert json.loads(out)["office_hours"] == "08:00-16:00" and json.loads(out)["own"] == ["office_hours"]
        # Nanxun's day, 08:00-16:00: 7 h 15 on Monday from 08:45, the last 45 minutes on Tuesday
        want = datetime(2026, 12, 15, 8, 45, tzinfo=CST)
        assert due_once_heard(c, auth, point, want) == want

        code, out, _ = run(monkeypatch, capsys, own_database, ["district", "settings"])
        assert code == ExitCode.DONE and "08:00-16:00" in out and "its own: office_hours" in out
        audit = c.get("/api/admin/audit", headers=auth, params={"entity": "area", "entity_id": NANXUN})
        [row] = [r for r in audit.json() if r["action"] == "district_settings"]  # who changed what
        assert row["actor"] == "cli:root" and row["after"]["office_hours"] == "08:00-16:00"
        assert row["before"]["office_hours"] == "09:00-17:00"

        assert run(monkeypatch, capsys, own_database, ["district", "set", NANXUN, "--reset"])[0] == ExitCode.DONE
        want = datetime(2026, 12, 14, 17, 0, tzinfo=CST)
        assert due_once_heard(c, auth, point, want) == want


def test_bad_district_settings_are_refused_in_one_line(monkeypatch, capsys, own_database):
    for argv, field in ((["--office-hours", "18:00-08:00"], "office_hours"),
                        (["--office-hours", "8 to 5"], "office_hours"),
                        (["--answer-deadline", "3 days"], "answer_deadline"),
                        ([], "settings")):
        code, _, err = run(monkeypatch, capsys, own_database, ["district", "set", NANXUN, *argv])
        assert code == ExitCode.USAGE and said_in_one_line(err).startswith(f"{field}:"), (argv, err)
    code, _, err = run(monkeypatch, capsys, own_database, ["district", "set", "330599", "--reset"])
    assert code == ExitCode.USAGE and "no district 330599" in said_in_one_line(err)
    code, out, _ = run(monkeypatch, capsys, own_database, ["district", "settings", NANXUN, "--json"])
    assert json.loads(out)[0]["own"] == []  # nothing refused was written
