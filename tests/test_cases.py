"""The command-room cycle through the API on the real database: one case from report to
rating, the owning desk, joint enforcement, the race for one unit, escalation to a district
department with deadlines on the Chinese calendar, the scheduler, suspension."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from tests import pg_support as pg

DISTRICT = "330503"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def place(engine):
    """A grid well inside its community, with its hierarchy and zone."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT g.code AS grid, c.code AS community, c.parent_code AS street, z.code AS zone,
                   ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            JOIN area z ON z.kind = 'zone' AND z.valid_to IS NULL AND ST_Covers(z.geom, ST_PointOnSurface(g.geom))
            WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY md5(g.code || 'cases') LIMIT 1""")).mappings().one()
    return dict(row)


@pytest.fixture(scope="module")
def desk(make_user, login):
    return login(*make_user("dispatcher", DISTRICT))


def report(client, place, category="street_vendor", **extra) -> dict:
    res = client.post("/api/incidents", json={"category": category, "lon": place["lon"], "lat": place["lat"],
                                              "accuracy_m": 5, "description": "cycle test", **extra})
    assert res.status_code == 201, res.text
    return res.json()


def act(client, headers, incident_id, action, expect=200, **body):
    res = client.post(f"/api/incidents/{incident_id}/actions/{action}", json=body, headers=headers)
    assert res.status_code == expect, f"{action}: {res.status_code} {res.text}"
    return res.json()


def free_units(client, headers, incident_id, department: str) -> list[str]:
    res = client.get(f"/api/incidents/{incident_id}/recommendations", headers=headers)
    assert res.status_code == 200, res.text
    for d in res.json()["departments"]:
        if d["department"] == department:
            return [u["code"] for u in d["units"]]
    return []


# --------------------------------------------------------------------------- one case, start to end

def test_one_case_from_report_to_rating_with_every_step_in_the_case_file(
        client, place, desk, make_user, login, engine):
    created = report(client, place)
    cid = created["id"]
    case = client.get(f"/api/incidents/{cid}", headers=desk).json()
    assert case["status"] == "received" and case["tier"] == "grid"
    assert {a["action"] for a in case["actions"]} >= {"triage", "void", "escalate", "not_responsible"}

    act(client, desk, cid, "triage", priority="high", expected_status="received")
    unit = free_units(client, desk, cid, "enforcement")[0]
    case = act(client, desk, cid, "dispatch", units=[unit])
    assert case["status"] == "dispatched" and case["assignments"][0]["unit_code"] == unit

    officer = login(*make_user("officer", DISTRICT, unit=unit))
    tasks = client.get("/api/unit/tasks", headers=officer).json()
    assert [t["incident_id"] for t in tasks["tasks"]] == [cid]
    assert [a["action"] for a in tasks["tasks"][0]["actions"]] == ["accept", "return"]
    act(client, officer, cid, "accept")
    act(client, officer, cid, "arrive")
    case = act(client, officer, cid, "handle", note="摊位已清理 stall cleared")
    assert case["status"] == "handled"
    a = case["assignments"][0]
    assert a["accepted_at"] and a["on_scene_at"] and a["cleared_at"] and a["cleared_reason"] == "handled"
    assert client.get("/api/unit/tasks", headers=officer).json()["tasks"] == []
    with engine.connect() as conn:  # the unit is free for the next case
        assert conn.execute(sa.text("SELECT status FROM unit WHERE code = :c"), {"c": unit}).scalar() == "available"

    act(client, desk, cid, "verify", note="现场核查通过")
    case = act(client, desk, cid, "close")
    assert case["status"] == "closed" and case["closed_at"]

    token = {"X-Reporter-Token": created["reporter_token"]}
    res = client.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 5}, headers=token)
    assert res.status_code == 200, res.text

    events = client.get(f"/api/incidents/{cid}", headers=desk).json()["events"]
    steps = [(e["kind"], e["actor"], e["to_status"]) for e in events]
    dispatcher = steps[1][1]
    officer_name = next(s[1] for s in steps if s[0] == "accept")
    assert steps == [
        ("reported", "reporter", "received"),
        ("triage", dispatcher, "triaged"),
        ("dispatch", dispatcher, "dispatched"),
        ("accept", officer_name, "accepted"),
        ("arrive", officer_name, "on_scene"),
        ("handle", officer_name, "handled"),
        ("verify", dispatcher, "verified"),
        ("close", dispatcher, "closed"),
        ("rated", "reporter", None),
    ]
    assert dispatcher.startswith("t-dispatcher-") and officer_name.startswith("t-officer-")


def test_the_table_refuses_with_409_naming_the_state_and_what_is_allowed(client, place, desk):
    cid = report(client, place)["id"]
    res = client.post(f"/api/incidents/{cid}/actions/close", json={}, headers=desk)
    assert res.status_code == 409
    body = res.json()
    assert body["status"] == "received" and "triage" in body["allowed"] and "close" not in body["allowed"]
    assert "received" in body["detail"]
    # a page showing an older state is told the case moved
    act(client, desk, cid, "triage")
    res = client.post(f"/api/incidents/{cid}/actions/void", json={"reason": "x", "expected_status": "received"},
                      headers=desk)
    assert res.status_code == 409 and res.json()["status"] == "triaged"


def test_what_an_action_needs_is_required_naming_the_field(client, place, desk):
    cid = report(client, place)["id"]
    res = client.post(f"/api/incidents/{cid}/actions/void", json={}, headers=desk)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "reason"
    act(client, desk, cid, "triage")
    res = client.post(f"/api/incidents/{cid}/actions/dispatch", json={"units": ["NO-SUCH-UNIT"]}, headers=desk)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "units"
    res = client.post(f"/api/incidents/{cid}/actions/extend",
                      json={"reason": "r", "deadline": "2020-01-01T00:00:00+08:00"}, headers=desk)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "deadline"
    res = client.post(f"/api/incidents/{cid}/actions/extend", json={"reason": "r", "deadline": "2030-01-01T00:00:00"},
                      headers=desk)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "deadline"
    with_nothing_changed = client.get(f"/api/incidents/{cid}", headers=desk).json()
    assert with_nothing_changed["status"] == "triaged"
    assert [e["kind"] for e in with_nothing_changed["events"]] == ["reported", "triage"]


# --------------------------------------------------------------------------- who acts

def test_only_the_owning_desk_acts_and_escalation_moves_the_case_up(client, place, make_user, login):
    community_desk = login(*make_user("dispatcher", place["community"]))
    street_desk = login(*make_user("dispatcher", place["street"]))
    grid_worker = login(*make_user("grid_worker", place["grid"]))
    analyst = login(*make_user("analyst", DISTRICT))
    cid = report(client, place, category="noise")["id"]  # a community-tier category
    # the grid worker sees the case but a community-tier case is not theirs to triage
    case = client.get(f"/api/incidents/{cid}", headers=grid_worker).json()
    assert case["tier"] == "community" and [a["action"] for a in case["actions"]] == []
    assert client.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=grid_worker).status_code == 403
    # analysts may not touch the desk at all
    assert client.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=analyst).status_code == 403

    case = act(client, community_desk, cid, "escalate", reason="涉及多个部门")
    assert case["tier"] == "zone" and case["status"] == "received" and case["owner_area"] == place["zone"]
    assert client.post(f"/api/incidents/{cid}/actions/triage", json={}, headers=community_desk).status_code == 403
    told = client.get("/api/desk/notifications", headers=street_desk).json()
    assert any(n["incident_id"] == cid and n["kind"] == "escalated" and n["area_code"] == place["zone"] for n in told)
    assert not any(n["incident_id"] == cid for n in client.get("/api/desk/notifications", headers=grid_worker).json())
    act(client, street_desk, cid, "hand_down", reason="社区可处理")
    case = act(client, community_desk, cid, "triage")
    assert case["tier"] == "community" and case["status"] == "triaged"


def test_an_officer_acts_only_on_their_own_units_assignment(client, place, desk, make_user, login):
    cid = report(client, place)["id"]
    act(client, desk, cid, "triage")
    mine, other = free_units(client, desk, cid, "enforcement")[:2]
    act(client, desk, cid, "dispatch", units=[mine])
    stranger = login(*make_user("officer", DISTRICT, unit=other))
    assert client.post(f"/api/incidents/{cid}/actions/accept", json={}, headers=stranger).status_code == 404
    assert client.get("/api/unit/tasks", headers=stranger).json()["tasks"] == []


# --------------------------------------------------------------------------- joint enforcement

def test_joint_enforcement_each_unit_has_its_own_times_and_a_return_leaves_the_others(
        client, place, desk, make_user, login):
    cid = report(client, place, category="fire_hazard")["id"]  # fire + police + enforcement
    act(client, desk, cid, "triage")
    case = client.get(f"/api/incidents/{cid}", headers=desk).json()
    departments = [d["department"] for d in client.get(f"/api/incidents/{cid}/recommendations",
                                                        headers=desk).json()["departments"]]
    assert len(departments) >= 2, departments
    units = {d: free_units(client, desk, cid, d)[0] for d in departments[:2]}
    case = act(client, desk, cid, "dispatch", units=list(units.values()))
    assert sorted(a["unit_code"] for a in case["assignments"]) == sorted(units.values())
    first, second = (login(*make_user("officer", DISTRICT, unit=u)) for u in units.values())
    act(client, first, cid, "accept")
    act(client, second, cid, "accept")
    case = act(client, second, cid, "return", reason="不属于本部门")
    assert case["status"] == "accepted", "the other unit carries on"
    act(client, first, cid, "arrive")
    case = act(client, first, cid, "handle", note="联合执法完成")
    assert case["status"] == "handled"
    reasons = {a["unit_code"]: a["cleared_reason"] for a in case["assignments"]}
    assert sorted(reasons.values()) == ["handled", "returned"]
    assert case["assignments"][0]["on_scene_at"] is not None or case["assignments"][1]["on_scene_at"] is not None


def test_a_last_unit_returning_sends_the_case_back_to_the_desk(client, place, desk, make_user, login):
    cid = report(client, place)["id"]
    act(client, desk, cid, "triage")
    unit = free_units(client, desk, cid, "enforcement")[0]
    act(client, desk, cid, "dispatch", units=[unit])
    officer = login(*make_user("officer", DISTRICT, unit=unit))
    case = act(client, officer, cid, "return", reason="not ours")
    assert case["status"] == "returned"
    assert {a["action"] for a in client.get(f"/api/incidents/{cid}", headers=desk).json()["actions"]} >= {
        "triage", "dispatch", "reassign"}


# --------------------------------------------------------------------------- the race for one unit

def test_fifty_desks_racing_for_one_unit_one_wins(client, live_server, place, make_user, login):
    desks = [login(*make_user("dispatcher", DISTRICT)) for _ in range(5)]
    ids = []
    for i in range(50):
        cid = report(client, place, description=f"race {i}")["id"]
        act(client, desks[i % 5], cid, "triage")
        ids.append(cid)
    unit = free_units(client, desks[0], ids[0], "enforcement")[0]

    async def race():
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
            return await asyncio.gather(*(http.post(f"/api/incidents/{cid}/actions/dispatch",
                                                    json={"units": [unit]}, headers=desks[i % 5])
                                          for i, cid in enumerate(ids)))

    answers = asyncio.run(race())
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1 and codes.count(409) == 49, codes
    loser = next(r for r in answers if r.status_code == 409).json()
    assert loser["errors"][0]["field"] == "units" and unit in loser["detail"]
    statuses = [client.get(f"/api/incidents/{cid}", headers=desks[0]).json()["status"] for cid in ids]
    assert statuses.count("dispatched") == 1 and statuses.count("triaged") == 49
    # the desk may still send a busy unit when it says so
    other = next(cid for cid, s in zip(ids, statuses, strict=True) if s == "triaged")
    case = act(client, desks[0], other, "dispatch", units=[unit], allow_busy=True)
    assert case["assignments"][0]["exclusive"] is False


# --------------------------------------------------------------------------- deadlines on the calendar

def run(settings, work):
    return pg.in_transaction(settings, work)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_escalation_grid_to_district_with_deadlines_across_national_day(
        client, place, make_user, login, settings, engine):
    """Worked by hand on the 2026 official calendar: National Day holiday 1–7 October
    (Thursday to Wednesday); 10 October (Saturday) is a working day in exchange."""
    from api import clock
    from api.auth.principal import Grant, Principal
    from api.workflow import cases
    from api.workflow.schemas import ActionIn

    with clock.fixed(local(2026, 9, 30, 15, 0)):  # reported on Wednesday 30 September 2026, 15:00 in Nanxun
        cid = report(client, place)["id"]  # street vending: grid tier; normal = 1wd, high = 4wh
    desk = Principal(username="desk-d", user_id=10**9, grants=(Grant("dispatcher", DISTRICT),))

    async def walk(conn):
        async def step(action, at, **body):
            return await cases.apply(conn, desk, cid, action, ActionIn(**body), settings, at=at)

        await step("triage", local(2026, 9, 30, 15, 30), priority="high")
        due = await pg.scalar(conn, "SELECT due_at FROM incident WHERE id = :id", {"id": cid})
        for _ in range(4):  # grid -> community -> zone -> street -> district
            await step("escalate", local(2026, 10, 9, 10, 0), reason="难事", department=None)
        return due

    with pytest.raises(Exception) as refused:  # the district tier needs the department called
        run(settings, walk)
    assert getattr(refused.value, "field", None) == "department"

    async def walk_with_department(conn):
        async def step(action, at, **body):
            return await cases.apply(conn, desk, cid, action, ActionIn(**body), settings, at=at)

        await step("triage", local(2026, 9, 30, 15, 30), priority="high")
        due = await pg.scalar(conn, "SELECT due_at FROM incident WHERE id = :id", {"id": cid})
        for _ in range(3):
            await step("escalate", local(2026, 10, 9, 9, 0), reason="难事")
        await step("escalate", local(2026, 10, 9, 10, 0), reason="需规划部门", department="planning")
        call = await pg.scalar(conn, "SELECT answer_due_at FROM department_call WHERE incident_id = :id", {"id": cid})
        return due, call

    due, answer_due = run(settings, walk_with_department)
    # 4 working hours from Wed 30 Sep 15:00: 2 h that day (to 17:00), 1–7 Oct are holidays,
    # 2 h on Thu 8 Oct from 09:00 -> 11:00 on 8 October.
    assert due == local(2026, 10, 8, 11, 0)
    # one working day after Fri 9 Oct: Sat 10 Oct is a swapped working day -> its end, 17:00.
    assert answer_due == local(2026, 10, 10, 17, 0)
    case = client.get(f"/api/incidents/{cid}", headers=login(*make_user("admin", DISTRICT))).json()
    assert case["tier"] == "district" and case["department_call"]["department_code"] == "planning"
    assert [e["data"].get("to_tier") for e in case["events"] if e["kind"] == "escalate"] == [
        "community", "zone", "street", "district"]

    # the scheduler: near expiry in the last quarter, overdue after, each flag once
    from api.workflow.supervision import tick

    def flags_at(when):
        return run(settings, lambda conn: tick(conn, now=when))

    flags_at(local(2026, 10, 1, 12, 0))  # early: nothing for this case
    kinds = lambda: [e["kind"] for e in client.get(  # noqa: E731
        f"/api/incidents/{cid}", headers=login(*make_user("admin", DISTRICT))).json()["events"]]
    assert "flag_near_due" not in kinds()
    flags_at(local(2026, 10, 7, 12, 0))   # 8 days allowed, less than 2 left: 催办
    flags_at(local(2026, 10, 7, 12, 5))
    assert kinds().count("flag_near_due") == 1
    flags_at(local(2026, 10, 8, 15, 1))   # past due: 督办
    flags_at(local(2026, 10, 8, 15, 2))
    assert kinds().count("flag_overdue") == 1
    flags_at(local(2026, 10, 10, 17, 1))  # the department did not answer in time
    assert kinds().count("flag_answer_overdue") == 1
    with engine.connect() as conn:
        told = conn.execute(sa.text("SELECT kind, area_code FROM desk_notification WHERE incident_id = :id"),
                            {"id": cid}).all()
    assert ("flag_overdue", DISTRICT) in told and ("flag_answer_overdue", DISTRICT) in told


def test_a_second_scheduler_in_another_worker_skips_the_round(settings):
    from api.workflow.supervision import tick

    async def both():
        async with await pg.connect(settings) as first, await pg.connect(settings) as second:
            return await tick(first), await tick(second)

    one, other = asyncio.run(both())
    assert one is not None and other is None


def test_the_app_runs_the_scheduler_itself_when_it_has_an_interval(settings, place, desk, engine, monkeypatch):
    """The tests turn the background scheduler off and drive it with their own clock; a served app
    (interval > 0) flags a case past its deadline by itself, once."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.workflow import supervision

    rounds: list = []  # one entry per round the app's own loop has run
    real_tick = supervision.tick

    async def counted_tick(conn, **kwargs):
        raised = await real_tick(conn, **kwargs)
        rounds.append(raised)
        return raised

    monkeypatch.setattr(supervision, "tick", counted_tick)

    def wait_until(condition, what: str):  # a hang guard, not a speed claim
        for _ in range(600):
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"not within 60 s: {what}")

    with TestClient(create_app(settings.model_copy(update={"supervision_interval_s": 1}))) as c:
        cid = report(c, place)["id"]
        # back-dated by SQL: the app's loop runs on the real clock and due_at is the database's own
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE incident SET due_at = now() - interval '1 minute' WHERE id = :id"),
                         {"id": cid})

        def kinds() -> list[str]:
            return [e["kind"] for e in c.get(f"/api/incidents/{cid}", headers=desk).json()["events"]]

        wait_until(lambda: "flag_overdue" in kinds(), "the loop flags the overdue case")
        seen = len(rounds)
        wait_until(lambda: len(rounds) >= seen + 2, "two more rounds of the loop")  # the first of them committed
        flags = kinds().count("flag_overdue")
    assert flags == 1, "the flag is raised once however many rounds run"


def test_suspension_stops_the_clock_and_extension_needs_a_reason(client, place, desk, settings):
    from api.auth.principal import Grant, Principal
    from api.workflow import cases
    from api.workflow.schemas import ActionIn

    cid = report(client, place, priority="normal")["id"]
    who = Principal(username="desk-s", user_id=10**9 + 1, grants=(Grant("dispatcher", DISTRICT),))
    start = datetime.now(SH).replace(microsecond=0)

    async def walk(conn):
        await cases.apply(conn, who, cid, "triage", ActionIn(), settings, at=start)
        before = await pg.scalar(conn, "SELECT due_at FROM incident WHERE id = :id", {"id": cid})
        await cases.apply(conn, who, cid, "suspend", ActionIn(reason="等待业主"), settings,
                          at=start + timedelta(hours=1))
        await cases.apply(conn, who, cid, "resume", ActionIn(), settings, at=start + timedelta(hours=4))
        (after,) = await pg.rows(conn, "SELECT due_at, status FROM incident WHERE id = :id", {"id": cid})
        return before, after

    before, after = run(settings, walk)
    due_at, status = after
    assert status == "triaged" and due_at - before == timedelta(hours=3)
    later = (due_at + timedelta(days=2)).isoformat()
    case = act(client, desk, cid, "extend", reason="需协调", deadline=later)
    assert datetime.fromisoformat(case["due_at"]) == datetime.fromisoformat(later)
    assert case["deadline_flag"] is None


@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+14:00",
                                      "0001-01-01T00:00:00+14:00", "2200-01-01T00:00:00Z"])
def test_an_extension_to_a_calendar_extreme_is_refused_naming_the_deadline(client, place, desk, deadline):
    """Beyond what survives a conversion to UTC (or the accepted range): a 422 naming the field,
    and the case as it was (no deadline stored that could not be read back)."""
    cid = report(client, place)["id"]
    before = client.get(f"/api/incidents/{cid}", headers=desk).json()
    res = client.post(f"/api/incidents/{cid}/actions/extend", json={"reason": "需协调", "deadline": deadline},
                      headers=desk)
    assert res.status_code == 422, res.text
    assert "deadline" in [e["field"] for e in res.json()["errors"]]
    after = client.get(f"/api/incidents/{cid}", headers=desk).json()
    assert (after["due_at"], len(after["events"])) == (before["due_at"], len(before["events"]))


# --------------------------------------------------------------------------- the queue

def test_queue_filters_and_sorts_by_deadline(client, place, desk, engine):
    a = report(client, place)["id"]
    b = report(client, place)["id"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET due_at = now() - interval '1 hour' WHERE id = :id"), {"id": a})
    res = client.get("/api/desk/queue", params={"overdue": "true", "limit": 200}, headers=desk).json()
    ids = [i["id"] for i in res["items"]]
    assert a in ids and b not in ids and all(i["overdue"] for i in res["items"])
    res = client.get("/api/desk/queue", params={"limit": 200}, headers=desk).json()
    dues = [i["due_at"] for i in res["items"] if i["due_at"]]
    assert dues == sorted(dues, key=datetime.fromisoformat)
    assert res["number_matched"] >= 2
    assert client.get("/api/desk/queue", params={"status": "nonsense"}, headers=desk).status_code == 422
    assert client.get("/api/desk/queue", params={"tier": "planet"}, headers=desk).status_code == 422


def test_the_desk_finds_a_case_by_code_text_or_place_in_one_step(client, place, desk, make_user, login, engine):
    """A resident phones in with a code (read out with or without dashes): one search finds the
    case, closed ones too; words of the text or the grid's name find open cases. Rows tell cases
    apart: report time, grid and community names, the first words of the text."""
    created = report(client, place, description="窨井盖缺失 searchable-word-7731 near the school")
    other = report(client, place, description="unrelated")
    with engine.connect() as conn:
        grid_name = conn.execute(sa.text("SELECT name FROM area WHERE code = :c AND valid_to IS NULL"),
                                 {"c": place["grid"]}).scalar_one()

    def found(headers, q, **params):
        res = client.get("/api/desk/queue", params={"q": q, "limit": 200, **params}, headers=headers)
        assert res.status_code == 200, res.text
        return {item["id"]: item for item in res.json()["items"]}

    spoken = created["tracking_code"].replace("-", " ").lower()
    by_code = found(desk, spoken)
    assert list(by_code) == [created["id"]]
    row = by_code[created["id"]]
    assert row["tracking_code"] == created["tracking_code"] and row["grid_name"] == grid_name
    assert row["excerpt"].startswith("窨井盖缺失 searchable-word-7731") and row["reported_at"]
    by_text = found(desk, "searchable-word-7731")
    assert created["id"] in by_text and other["id"] not in by_text
    assert {created["id"], other["id"]} <= set(found(desk, grid_name, sort="newest"))
    act(client, desk, created["id"], "void", reason="test")  # ended: still found by its code
    assert list(found(desk, created["tracking_code"])) == [created["id"]]
    assert created["id"] not in found(desk, "searchable-word-7731")  # words search the open queue
    # an analyst finds no case by a code or by words it may not read, and rows carry neither
    analyst = login(*make_user("analyst", DISTRICT))
    assert found(analyst, created["tracking_code"]) == {}
    assert other["id"] not in found(analyst, "unrelated")
    rows = found(analyst, grid_name, sort="newest")
    assert other["id"] in rows and rows[other["id"]]["excerpt"] is None and rows[other["id"]]["tracking_code"] is None
    # LIKE's wildcards are plain characters in the search
    assert found(desk, "%") == {} or all("%" in (r["excerpt"] or "") or "%" in (r["grid_name"] or "")
                                          for r in found(desk, "%").values())


def test_the_table_is_served(client, desk):
    doc = client.get("/api/workflow/machine", headers=desk).json()
    assert "received" in doc["states"] and doc["tiers"][0] == "grid" and doc["tiers"][-1] == "district"
    assert any(r["action"] == "dispatch" and r["from"] == "triaged" and r["to"] == "dispatched" for r in doc["rules"])
    assert doc["calendar_years"][0] <= 2026 <= doc["calendar_years"][1]


# --------------------------------------------------------------------------- duplicates and ratings

def test_merge_moves_the_reporters_to_the_original_and_unmerge_brings_them_back(client, place, desk):
    original = report(client, place)
    copy = report(client, place)
    case = act(client, desk, copy["id"], "merge", duplicate_of=original["id"], note="同一摊位")
    assert case["status"] == "duplicate" and case["duplicate_of"] == original["id"]
    first = client.get(f"/api/incidents/{original['id']}", headers=desk).json()
    assert first["supporters"] == 1 and first["events"][-1]["kind"] == "merged_in"
    # a duplicate of a duplicate, or of itself, is refused naming the field
    third = report(client, place)
    for target in (copy["id"], third["id"]):
        res = client.post(f"/api/incidents/{third['id']}/actions/merge", json={"duplicate_of": target},
                          headers=desk)
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == "duplicate_of"
    case = act(client, desk, copy["id"], "unmerge", reason="不是同一处")
    assert case["status"] == "received" and case["duplicate_of"] is None
    assert client.get(f"/api/incidents/{original['id']}", headers=desk).json()["supporters"] == 0


def test_an_unsatisfied_rating_reopens_the_case_with_a_new_deadline(client, place, desk, make_user, login):
    created = report(client, place)
    cid = created["id"]
    act(client, desk, cid, "triage")
    act(client, desk, cid, "resolve", note="网格员现场劝离")
    act(client, desk, cid, "verify", note="ok")
    act(client, desk, cid, "close")
    token = {"X-Reporter-Token": created["reporter_token"]}
    early = client.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 1},
                        headers=token)
    assert early.status_code == 200, early.text
    case = client.get(f"/api/incidents/{cid}", headers=desk).json()
    assert case["status"] == "reopened" and case["closed_at"] is None and case["due_at"]
    assert [(e["kind"], e["actor"]) for e in case["events"][-2:]] == [("rated", "reporter"),
                                                                     ("reopen_on_rating", "system")]
    again = client.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 5},
                        headers=token)
    assert again.status_code == 409


def test_the_desk_can_pick_any_unit_in_reach_and_sees_why_it_was_not_recommended(client, place, desk):
    case = report(client, place)
    act(client, desk, case["id"], "triage")
    res = client.get(f"/api/incidents/{case['id']}/units", params={"limit": 200}, headers=desk)
    assert res.status_code == 200, res.text
    doc = res.json()
    units = doc["units"]
    recommended = {u["code"] for u in units if u["recommended"]}
    rec = client.get(f"/api/incidents/{case['id']}/recommendations", headers=desk).json()
    assert recommended == {u["code"] for d in rec["departments"] for u in d["units"]}
    assert all(u["why_not"] is None for u in units if u["recommended"])
    placed = [u["distance_m"] for u in units if u["distance_m"] is not None]
    assert placed == sorted(placed)  # nearest first
    reasons = {u["why_not"] for u in units if not u["recommended"]}
    assert "other_department" in reasons and "farther" in reasons, reasons
    for u in units:  # each reason is true of its unit
        if u["why_not"] in ("busy", "off_duty"):
            assert u["status"] == u["why_not"]
        if u["why_not"] == "other_department":
            assert u["department"] not in doc["responsible_departments"] and u["status"] == "available"
        if u["why_not"] == "farther":
            assert u["department"] in doc["responsible_departments"] and u["status"] == "available"
    # a unit that was not recommended can still be sent
    other = next(u for u in units if u["why_not"] in ("farther", "other_department"))
    sent = act(client, desk, case["id"], "dispatch", units=[other["code"]], allow_busy=True)
    assert other["code"] in [a["unit_code"] for a in sent["assignments"]]
    named = client.get(f"/api/incidents/{case['id']}/units", params={"q": other["name"][:4]}, headers=desk).json()
    assert other["code"] in [u["code"] for u in named["units"]]


def test_the_desk_escalates_to_any_higher_tier_in_one_step(client, place, desk):
    case = report(client, place, category="dispute")  # starts at the community tier
    start = client.get(f"/api/incidents/{case['id']}", headers=desk).json()
    assert start["tier"] == "community"
    lower = client.post(f"/api/incidents/{case['id']}/actions/escalate", json={"reason": "r", "tier": "grid"},
                        headers=desk)
    assert lower.status_code == 422 and lower.json()["errors"][0]["field"] == "tier"
    needs_department = client.post(f"/api/incidents/{case['id']}/actions/escalate",
                                   json={"reason": "r", "tier": "district"}, headers=desk)
    assert needs_department.status_code == 422 and needs_department.json()["errors"][0]["field"] == "department"
    up = act(client, desk, case["id"], "escalate", reason="矛盾较大，需街道协调", tier="street")
    assert up["tier"] == "street"
    [event] = [e for e in up["events"] if e["kind"] == "escalate"]
    assert (event["data"]["from_tier"], event["data"]["to_tier"]) == ("community", "street")
    top = act(client, desk, case["id"], "escalate", reason="需规划部门", tier="district", department="planning")
    assert top["tier"] == "district" and top["department_call"]["department_code"] == "planning"
    down = act(client, desk, case["id"], "hand_down", reason="交社区", tier="community")
    assert down["tier"] == "community"
    other = report(client, place)
    odd = client.post(f"/api/incidents/{other['id']}/actions/triage", json={"tier": "street"}, headers=desk)
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "tier"


def test_an_action_answers_the_case_as_a_fresh_read_shows_it(client, place, desk):
    """The answer of an action is drawn from the case ``apply`` wrote (no second read): the same
    document ``GET /api/incidents/{id}`` gives right after, through a department call and a dispatch."""
    cid = report(client, place)["id"]
    steps = [("triage", {}), ("escalate", {"reason": "难事", "tier": "district", "department": "planning"}),
             ("answer", {"note": "规划部门已答复"}), ("triage", {}), ("dispatch", None)]
    for action, body in steps:
        if body is None:
            body = {"units": [free_units(client, desk, cid, "enforcement")[0]], "allow_busy": True}
        answer = act(client, desk, cid, action, **body)
        assert answer == client.get(f"/api/incidents/{cid}", headers=desk).json(), action
    assert answer["status"] == "dispatched" and answer["department_call"]["answered_at"] is not None
