"""The transition table: pure checks, and random action sequences by every role through the
API on the real database: no state is reached except through the table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from api.auth.policy import Capability, roles_with
from api.workflow import machine
from api.workflow.machine import PREVIOUS, STAY

DISTRICT = "330503"


# --------------------------------------------------------------------------- the table itself

def test_every_state_is_reachable_from_received_and_every_open_state_can_end():
    reach = {machine.RECEIVED}
    frontier = [machine.RECEIVED]
    while frontier:
        s = frontier.pop()
        for rule in machine.actions_from(s):
            targets = machine.RESUMABLE if rule.target == PREVIOUS else {s if rule.target == STAY else rule.target}
            for t in targets - reach:
                reach.add(t)
                frontier.append(t)
    assert reach == set(machine.STATES)
    for s in machine.OPEN:  # nothing gets stuck: from every open state some path ends the case
        seen, todo = {s}, [s]
        while todo:
            x = todo.pop()
            for rule in machine.actions_from(x):
                if rule.actor == machine.SYSTEM or rule.actor == machine.REPORTER:
                    continue
                t = x if rule.target == STAY else (rule.target if rule.target != PREVIOUS else None)
                for y in ([t] if t else machine.RESUMABLE):
                    if y not in seen:
                        seen.add(y)
                        todo.append(y)
        assert machine.CLOSED in seen, f"{s} cannot reach closed"


def test_every_staff_action_has_one_capability_held_by_some_role_and_labels_in_both_languages():
    for action in machine.ACTIONS:
        rules = [r for r in machine.TABLE.values() if r.action == action]
        staff = {r.actor for r in rules if isinstance(r.actor, Capability)}
        assert len(staff) <= 1, action
        for cap in staff:
            assert roles_with(cap) - {"admin"}, f"{action}: no role but admin may"
        assert all(r.label_zh and r.label_en for r in rules), action


def test_ended_states_only_reopen_unmerge_or_rate():
    for s in machine.ENDED:
        assert {r.action for r in machine.actions_from(s)} <= {"reopen", "reopen_on_rating", "unmerge", "rate"}, s
    assert machine.actions_from(machine.VOID) == [] and machine.actions_from(machine.NOT_RESPONSIBLE) == []


def test_next_state_follows_the_table_and_refuses_the_rest():
    assert machine.next_state("received", "triage") == "triaged"
    assert machine.next_state("dispatched", "supervise") == "dispatched"
    assert machine.next_state("suspended", "resume", suspended_from="accepted") == "accepted"
    with pytest.raises(KeyError):
        machine.next_state("closed", "dispatch")
    with pytest.raises(KeyError):
        machine.next_state("suspended", "resume", suspended_from="closed")


def test_the_migration_knows_the_same_states():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "migrations" / "versions" / "0005_case_cycle.py"
    spec = importlib.util.spec_from_file_location("m0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.STATES == machine.STATES and set(module.ENDED) == machine.ENDED


# --------------------------------------------------------------------------- random walks through the API

ROLES = ("dispatcher", "grid_worker", "officer", "analyst", "stranger")
STAFF_ACTIONS = [a for a in machine.ACTIONS
                 if any(isinstance(r.actor, Capability) for r in machine.TABLE.values() if r.action == a)]


@pytest.fixture(scope="module")
def walkers(client, engine, make_user, login):
    """A grid and one account per role around it; the officer's unit is the one sent."""
    with engine.connect() as conn:
        spot = conn.execute(sa.text("""
            SELECT g.code AS grid, ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY md5(g.code || 'walk') LIMIT 1""")).mappings().one()
        unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'enforcement' "
                                    "ORDER BY code LIMIT 1")).scalar_one()
        other_street = conn.execute(sa.text("SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL "
                                            "ORDER BY code DESC LIMIT 1")).scalar_one()
    users = {
        "dispatcher": login(*make_user("dispatcher", DISTRICT)),
        "grid_worker": login(*make_user("grid_worker", spot["grid"])),
        "officer": login(*make_user("officer", DISTRICT, unit=unit)),
        "analyst": login(*make_user("analyst", DISTRICT)),
        "stranger": login(*make_user("dispatcher", other_street)),
    }
    return {"spot": dict(spot), "unit": unit, "users": users}


def _body(action: str, unit: str, department: bool) -> dict:
    if action == "merge":
        return {"duplicate_of": 1}
    body = {"note": "n", "reason": "r", "units": [unit], "allow_busy": True, "priority": "high",
            "deadline": "2099-01-01T00:00:00+08:00"}
    return {**body, "department": "planning"} if department else body


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(STAFF_ACTIONS), st.booleans()),
                      min_size=1, max_size=14))
def test_random_actions_by_every_role_only_move_cases_along_the_table(client, engine, walkers, steps):
    spot, unit, users = walkers["spot"], walkers["unit"], walkers["users"]
    res = client.post("/api/incidents", json={"category": "street_vendor", "lon": spot["lon"],
                                              "lat": spot["lat"], "accuracy_m": 5})
    assert res.status_code == 201
    cid = res.json()["id"]
    state, suspended_from = "received", None
    for role, action, department in steps:
        res = client.post(f"/api/incidents/{cid}/actions/{action}", json=_body(action, unit, department),
                          headers=users[role])
        assert res.status_code < 500, res.text
        if res.status_code == 200:
            rule = machine.step(state, action)
            assert rule is not None, f"{role} did {action} in {state}: not in the table"
            assert role != "stranger", f"the desk of another street could {action}"
            assert role in roles_with(rule.actor), (role, action)
            new = res.json()["status"]
            expected = {machine.next_state(state, action, suspended_from=suspended_from)}
            if action == "return":  # a joint case stays where it was while other units work on it
                expected.add(state)
            assert new in expected, (state, action, new)
            suspended_from = state if action == "suspend" else (None if action == "resume" else suspended_from)
            state = new
        else:
            assert res.status_code in (403, 404, 409, 422), (role, action, res.status_code, res.text)
            if res.status_code == 409 and "allowed" in res.json():
                assert res.json()["status"] == state
    with engine.connect() as conn:
        db_state, last = conn.execute(sa.text("""
            SELECT i.status, (SELECT to_status FROM incident_event e WHERE e.incident_id = i.id
                              AND e.to_status IS NOT NULL ORDER BY e.at DESC, e.id DESC LIMIT 1)
            FROM incident i WHERE i.id = :id"""), {"id": cid}).one()
    assert db_state == state == last
