"""Deadlines past the official holiday data, through the API on the real database.

The clock is set into 2031, a year no published schedule covers (``api.clock.fixed``): reports
and desk actions get provisional deadlines (statutory holidays, no swaps), marked on the case,
in the queue, on the hand-over sheet and in the case file; supervision flags them as any other.
Loading the year's official schedule (API and command line) recomputes them in one go, writes a
case-file event each and clears the mark; bad schedule files are refused naming the field; the
district desks are told 60 days before the official data runs out, once; the scheduler itself
recomputes a provisional deadline once its years are official (here: a calendar file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api import clock
from api.settings import Settings, libpq_url
from api.workflow import supervision
from tests import pg_support as pg
from tests.calendar_support import SCHEDULE_2031, YEAR, statutory_schedule

DISTRICT = "330503"
SH = ZoneInfo("Asia/Shanghai")
GRIDGOV = Path(sys.executable).with_name("gridgov")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def place(engine):
    """A grid well inside its community, and its street."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT g.code AS grid, c.parent_code AS street,
                   ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY md5(g.code || 'calendar') LIMIT 1""")).mappings().one()
    return dict(row)


@pytest.fixture(scope="module", autouse=True)
def _no_cases_left_in_2031(engine):
    """The cases reported with the clock in 2031 go when the module ends: left behind, they
    would sit at the top of every later "since" list of other tests."""
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM incident WHERE reported_at > now() + interval '30 days'"))


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def desk(make_user, login):
    return login(*make_user("dispatcher", DISTRICT))


def report(client, place, at: datetime, category: str = "street_vendor") -> int:
    with clock.fixed(at):
        res = client.post("/api/incidents", json={"category": category, "lon": place["lon"], "lat": place["lat"],
                                                  "accuracy_m": 5, "description": "calendar test"})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def act(client, headers, incident_id: int, action: str, at: datetime, **body) -> dict:
    with clock.fixed(at):
        res = client.post(f"/api/incidents/{incident_id}/actions/{action}", json=body, headers=headers)
    assert res.status_code == 200, f"{action}: {res.text}"
    return res.json()


def case(client, headers, incident_id: int) -> dict:
    res = client.get(f"/api/incidents/{incident_id}", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def queue_rows(client, headers, ids) -> dict[int, dict]:
    """The queue's rows of these cases, paging through (other tests fill the queue too)."""
    rows: dict[int, dict] = {}
    for offset in range(0, 10_000, 200):
        res = client.get("/api/desk/queue", params={"sort": "newest", "limit": 200, "offset": offset},
                         headers=headers)
        assert res.status_code == 200, res.text
        page = res.json()["items"]
        rows |= {r["id"]: r for r in page if r["id"] in ids}
        if set(rows) == set(ids) or len(page) < 200:
            break
    assert set(rows) == set(ids)
    return rows


def handover(client, headers, incident_id: int) -> str:
    res = client.get(f"/api/incidents/{incident_id}/handover", headers=headers)
    assert res.status_code == 200, res.text
    return res.text


def when(doc_value: str | None) -> datetime | None:
    return datetime.fromisoformat(doc_value) if doc_value else None


def tick_at(settings, moment: datetime, **kw) -> dict:
    raised = pg.in_transaction(
        settings, lambda conn: supervision.tick(conn, now=moment, settings=kw.get("with_settings", settings)))
    assert raised is not None, "another scheduler held the round"
    return raised


def load(client, admin, doc, at: datetime | None = None):
    if at is None:
        return client.post("/api/admin/calendar", json=doc, headers=admin)
    with clock.fixed(at):
        return client.post("/api/admin/calendar", json=doc, headers=admin)


# --------------------------------------------------------------------------- a year without data

def test_in_a_year_without_a_schedule_deadlines_are_provisional_until_it_is_loaded(
        client, place, admin, desk, settings):
    friday = local(YEAR, 6, 20, 10)  # Friday 20 June 2031; 端午 is Tuesday 24 June
    plain = report(client, place, friday)                          # street vending, normal: 1 working day
    paused = report(client, place, friday)
    called = report(client, place, friday, category="dispute")     # community tier, normal: 3 working days
    act(client, admin, paused, "triage", friday + timedelta(minutes=30))
    act(client, admin, paused, "suspend", friday + timedelta(hours=1), reason="等待业主")
    act(client, admin, paused, "resume", friday + timedelta(hours=3))   # stood still 2 hours
    for n, department in enumerate((None, None, "planning")):           # community -> zone -> street -> district
        act(client, admin, called, "escalate", friday + timedelta(minutes=40 + n), reason="难事",
            **({"department": department} if department else {}))

    # provisional: Mon 23 June is a working day on the statutory rule (no bridge known yet)
    mon = local(YEAR, 6, 23, 17)
    doc = case(client, desk, plain)
    assert when(doc["due_at"]) == mon and doc["due_provisional"] is True and doc["deadline_spec"] == "1wd"
    first = doc["events"][0]
    assert first["kind"] == "reported" and first["data"]["due_provisional"] is True
    assert when(first["data"]["due_at"]) == mon
    doc = case(client, desk, paused)
    assert when(doc["due_at"]) == mon + timedelta(hours=2) and doc["due_provisional"] is True
    doc = case(client, desk, called)
    # 3 wd from Fri 20: Mon 23 (1), Tue 24 端午, Wed 25 (2), Thu 26 (3); the department answers by Mon 23
    assert when(doc["due_at"]) == local(YEAR, 6, 26, 17) and doc["due_provisional"] is True
    call = doc["department_call"]
    assert when(call["answer_due_at"]) == mon and call["answer_due_provisional"] is True
    rows = queue_rows(client, desk, {plain, paused, called})
    assert all(r["due_provisional"] for r in rows.values())
    sheet = handover(client, admin, plain)
    assert "data-provisional='true'" in sheet and "暂定" in sheet

    # supervision does not stop: 督办 at Monday 17:01, the department's silence flagged too
    tick_at(settings, mon + timedelta(minutes=1))
    doc = case(client, desk, plain)
    assert doc["deadline_flag"] == "overdue"
    assert [e["kind"] for e in doc["events"]].count("flag_overdue") == 1
    assert case(client, desk, called)["department_call"]["answer_overdue"] is True

    # Monday 17:30: the year's schedule is published and loaded (Mon 23 bridged, Sat 28 worked)
    res = load(client, admin, SCHEDULE_2031, at=mon + timedelta(minutes=30))
    assert res.status_code == 200, res.text
    report_doc = res.json()
    assert report_doc["years"] == [{"year": YEAR, "change": "added", "holidays": len(SCHEDULE_2031["holidays"]),
                                    "workdays": len(SCHEDULE_2031["workdays"])}]
    assert report_doc["recomputed"] >= 3

    wed = local(YEAR, 6, 25, 17)
    doc = case(client, desk, plain)
    assert when(doc["due_at"]) == wed and doc["due_provisional"] is False
    assert doc["deadline_flag"] is None  # no longer overdue: 督办 is raised again when it is
    last = doc["events"][-1]
    assert last["kind"] == "deadline_recomputed" and last["actor"].startswith("t-admin-")
    assert when(last["data"]["previous_due_at"]) == mon and when(last["data"]["due_at"]) == wed
    assert last["data"]["due_provisional"] is False and last["data"]["years"] == [YEAR]
    doc = case(client, desk, paused)
    assert when(doc["due_at"]) == wed + timedelta(hours=2) and doc["due_provisional"] is False  # the pause kept
    doc = case(client, desk, called)
    assert when(doc["due_at"]) == local(YEAR, 6, 27, 17) and doc["due_provisional"] is False
    call = doc["department_call"]
    assert when(call["answer_due_at"]) == wed and call["answer_due_provisional"] is False
    assert call["answer_overdue"] is False
    rows = queue_rows(client, desk, {plain, paused, called})
    assert not any(r["due_provisional"] for r in rows.values())
    sheet = handover(client, admin, plain)
    assert "data-provisional" not in sheet and "暂定" not in sheet
    audit = client.get("/api/admin/audit", params={"entity": "calendar_year"}, headers=admin).json()
    assert audit[0]["action"] == "load_calendar" and audit[0]["entity_id"] == str(YEAR)

    tick_at(settings, wed + timedelta(minutes=1))   # overdue on the official deadline
    assert [e["kind"] for e in case(client, desk, plain)["events"]].count("flag_overdue") == 2

    again = load(client, admin, SCHEDULE_2031, at=wed + timedelta(minutes=2))  # idempotent
    assert again.status_code == 200, again.text
    assert again.json()["years"][0]["change"] == "unchanged" and again.json()["recomputed"] == 0
    assert [e["kind"] for e in case(client, desk, plain)["events"]].count("deadline_recomputed") == 1

    status = client.get("/api/admin/calendar", headers=admin)
    assert status.status_code == 200, status.text
    loaded = next(y for y in status.json()["years"] if y["year"] == YEAR)
    assert loaded["source"] == "loaded" and loaded["notice"] == SCHEDULE_2031["notice"]


def test_within_the_official_data_nothing_is_provisional(client, place, desk):
    friday = local(2026, 10, 9, 10)  # 1 wd: Saturday 10 October 2026 was worked in exchange
    cid = report(client, place, friday)
    doc = case(client, desk, cid)
    assert when(doc["due_at"]) == local(2026, 10, 10, 17) and doc["due_provisional"] is False
    assert "due_provisional" not in doc["events"][0]["data"]
    assert queue_rows(client, desk, {cid})[cid]["due_provisional"] is False


def test_the_scheduler_recomputes_deadlines_whose_years_became_official(client, place, desk, settings, tmp_path):
    """A schedule the workers learn of otherwise than by a load (GRIDGOV_CALENDAR_FILE, an upgraded
    chinesecalendar package, a note heard late): the next round recomputes."""
    year = 2032
    cid = report(client, place, local(year, 3, 5, 10))
    assert case(client, desk, cid)["due_provisional"] is True
    assert "deadline_recomputed" not in tick_at(settings, local(year, 3, 5, 11))
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(statutory_schedule(year)), encoding="utf-8")
    with_file = Settings(env="test", database_url=settings.database_url, calendar_file=path)
    raised = tick_at(settings, local(year, 3, 5, 11, 1), with_settings=with_file)
    assert raised.get("deadline_recomputed", 0) >= 1
    doc = case(client, desk, cid)
    assert doc["due_provisional"] is False
    last = doc["events"][-1]
    assert last["kind"] == "deadline_recomputed" and last["actor"] == "system"
    assert "deadline_recomputed" not in tick_at(settings, local(year, 3, 5, 11, 2), with_settings=with_file)


# --------------------------------------------------------------------------- bad schedules

@pytest.mark.parametrize("doc,field", [
    ({"years": [2033], "holidays": ["2033-13-01"]}, "holidays[0]"),
    ({**statutory_schedule(2033), "workdays": ["2033-06-08"]}, "workdays[0]"),   # a Wednesday
    ({**statutory_schedule(2033), "holidays": [d for d in statutory_schedule(2033)["holidays"]
                                               if d != "2033-06-01"]}, "holidays"),   # no 端午 (a Wednesday)
    ({**statutory_schedule(2033), "years": [2033, "2034"]}, "years[1]"),
    ({**statutory_schedule(2033), "note": "x"}, "note"),
    ([2033], "body"),
])
def test_a_bad_schedule_is_refused_naming_the_field_and_nothing_is_loaded(client, admin, engine, doc, field):
    res = load(client, admin, doc)
    assert res.status_code == 422, res.text
    body = res.json()
    assert body["errors"][0]["field"] == field
    assert body.get("problems", body["errors"])[0]["field"] == field  # every problem listed, the first first
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM calendar_year WHERE year = 2033")).scalar() == 0


def test_the_calendar_is_for_administrators(client, desk):
    assert client.get("/api/admin/calendar", headers=desk).status_code == 403
    assert client.post("/api/admin/calendar", json=statutory_schedule(2033), headers=desk).status_code == 403
    assert client.post("/api/admin/calendar", json=statutory_schedule(2033)).status_code == 401


def _gridgov(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("GRIDGOV_") and k != "GRIDGOV_HOME") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)
    return subprocess.run([str(GRIDGOV), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_loads_a_schedule_file_once_and_refuses_a_bad_one(
        client, admin, database_url, tmp_path, engine):
    year = 2034
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**statutory_schedule(year), "workdays": [f"{year}-06-07"], "holiday": []}))
    res = _gridgov(database_url, "calendar", "load", str(bad))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "workdays[0]" in res.stderr and "holiday: unknown field" in res.stderr and "Traceback" not in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    res = _gridgov(database_url, "calendar", "load", str(broken))
    assert res.returncode == 2 and "not JSON" in res.stderr and "Traceback" not in res.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM calendar_year WHERE year = :y"), {"y": year}).scalar() == 0

    good = tmp_path / "good.json"
    good.write_text(json.dumps(statutory_schedule(year)))
    res = _gridgov(database_url, "calendar", "load", str(good))
    assert res.returncode == 0, res.stderr
    assert f"{year}: added" in res.stdout and "recomputed" in res.stdout
    res = _gridgov(database_url, "calendar", "load", str(good))
    assert f"{year}: unchanged" in res.stdout and "recomputed 0 " in res.stdout

    res = _gridgov(database_url, "calendar")
    assert f"{year}  loaded" in res.stdout
    warning = client.get("/api/admin/calendar", headers=admin).json()["warning"]  # the same clock as the CLI's
    assert (f"warning: {warning}" in res.stderr) if warning else ("warning" not in res.stderr)


# --------------------------------------------------------------------------- the district desks are told

def test_the_district_desks_are_told_once_60_days_before_the_official_data_runs_out(
        client, admin, desk, make_user, login, place, settings):
    year = 2035
    assert load(client, admin, statutory_schedule(year)).status_code == 200
    street_desk = login(*make_user("dispatcher", place["street"]))
    end = f"{year}-12-31"

    def told(headers) -> list[dict]:
        res = client.get("/api/desk/notifications", params={"limit": 500}, headers=headers)
        assert res.status_code == 200, res.text
        return [n for n in res.json() if n["kind"] == "calendar_data_ending" and n["data"]["data_end"] == end]

    assert "calendar_data_ending" not in tick_at(settings, local(year, 10, 31, 12))  # 61 days before
    assert told(desk) == []
    assert tick_at(settings, local(year, 11, 1, 12))["calendar_data_ending"] >= 1   # 60 days before
    notes = told(desk)
    assert len(notes) == 1 and notes[0]["incident_id"] is None and notes[0]["area_code"] == DISTRICT
    assert notes[0]["data"]["phase"] == "ending" and notes[0]["data"]["days_left"] == 60
    assert f"{year + 1}" in notes[0]["data"]["message"]
    assert told(street_desk) == []                       # the district's desks, not every street's
    assert "calendar_data_ending" not in tick_at(settings, local(year, 11, 1, 12, 1))  # once, not every minute
    assert "calendar_data_ending" not in tick_at(settings, local(year, 12, 20, 12))
    assert len(told(desk)) == 1
    assert tick_at(settings, local(year + 1, 1, 2, 9))["calendar_data_ending"] >= 1   # and when it has run out
    phases = sorted(n["data"]["phase"] for n in told(desk))
    assert phases == ["ended", "ending"]
