"""The per-case KPI facts (case_fact, migration 0027) follow the case cycle as the API drives it,
and a table rebuilt from scratch equals the one the triggers keep.

The cases are reported and walked through the cycle with the clock set into August 2025 (before
the sample's year and before the KPI tests' weeks), at a point of the second street, so no other
report is a neighbour of theirs.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api import clock
from tests.cycle_support import CaseMaker, police_units, two_street_spots

SH = ZoneInfo("Asia/Shanghai")
CATEGORY = "dispute"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", "330503"))


@pytest.fixture(scope="module")
def maker(client, admin, engine):
    spot = two_street_spots(engine)[1]
    units = police_units(engine)
    return CaseMaker(client, admin, lon=spot["lon"], lat=spot["lat"], unit=units[0], second_unit=units[1],
                     category=CATEGORY)


def facts(engine, incident_id: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM case_fact WHERE incident_id = :id"), {"id": incident_id})
        found = row.mappings().one_or_none()
    assert found is not None, f"no facts for case {incident_id}"
    return dict(found)


def test_facts_change_as_the_case_is_closed_rated_reopened_and_escalated(client, maker, engine):
    with clock.fixed(local(2025, 8, 4, 9)):
        a = maker.report()
    fresh = facts(engine, a["id"])
    assert not fresh["closed_ever"] and not fresh["handled_ever"] and fresh["dispatched_at"] is None
    assert fresh["escalations"] == 0 and fresh["reopenings"] == 0 and not fresh["repeats_closed_case"]

    with clock.fixed(local(2025, 8, 4, 10)):
        maker.bring(a["id"], "closed")   # triage, dispatch, accept, handle, verify, close
    closed = facts(engine, a["id"])
    assert closed["triaged_ever"] and closed["closed_ever"] and closed["handled_ever"]
    assert closed["dispatched_at"] == local(2025, 8, 4, 10) and closed["handled_at"] == local(2025, 8, 4, 10)
    assert closed["first_closed_at"] == local(2025, 8, 4, 10)

    # a second report of the same category at the same place a week after the close: a repeat complaint
    with clock.fixed(local(2025, 8, 11, 9)):
        b = maker.report()
    assert facts(engine, b["id"])["repeats_closed_case"]

    # the resident rates the first case 1 star: reopened by the rating, so the second is no longer
    # a repeat of a closed case
    with clock.fixed(local(2025, 8, 11, 10)):
        res = client.post(f"/api/public/incidents/{a['tracking_code']}/rating", json={"rating": 1},
                          headers={"X-Reporter-Token": a["reporter_token"]})
        assert res.status_code == 200, res.text
    reopened = facts(engine, a["id"])
    assert reopened["reopenings"] == 1 and reopened["rating_reopenings"] == 1 and reopened["closed_ever"]
    assert not facts(engine, b["id"])["repeats_closed_case"]

    with clock.fixed(local(2025, 8, 11, 11)):
        maker.act(b["id"], "escalate", reason="bigger than the grid")
        maker.act(b["id"], "escalate", reason="bigger than the community")
    assert facts(engine, b["id"])["escalations"] == 2


def test_a_department_call_is_a_fact_of_its_case(maker, engine):
    with clock.fixed(local(2025, 8, 5, 9)):
        cid = maker.report()["id"]
        maker.bring(cid, "called")   # escalated to the street, which calls the planning department
    called = facts(engine, cid)
    assert called["calls"] == 1 and called["calls_answered"] == 0 and called["calls_pending_due_max"] is not None
    with clock.fixed(local(2025, 8, 5, 10)):
        maker.act(cid, "answer")
    answered = facts(engine, cid)
    assert answered["calls_answered"] == 1 and answered["calls_pending_due_max"] is None and answered["calls_on_time"]


def test_rebuilt_facts_equal_the_maintained_ones(engine):
    """Every incident (the sample and the cases above) has one row, equal to the facts computed now."""
    with engine.connect() as conn:
        incidents = conn.execute(sa.text("SELECT count(*) FROM incident")).scalar_one()
        kept = conn.execute(sa.text("SELECT count(*) FROM case_fact")).scalar_one()
        differ = conn.execute(sa.text("""
            (SELECT * FROM case_fact_compute(ARRAY(SELECT id FROM incident)) EXCEPT SELECT * FROM case_fact)
            UNION ALL
            (SELECT * FROM case_fact EXCEPT SELECT * FROM case_fact_compute(ARRAY(SELECT id FROM incident)))
        """)).all()
    assert kept == incidents > 22_000
    assert differ == []


def test_the_database_computes_the_facts_the_docs_show(engine):
    """Migration 0027 holds a frozen copy of api/sql/case_fact_compute.sql: a change to the file needs
    a migration that replaces the function (and rebuilds the table)."""
    from api.kpi.service import facts_sql

    def words(text: str) -> list[str]:
        return [w for line in text.splitlines() if not line.lstrip().startswith("-- The KPI facts")
                for w in line.split("--")[0].split()]

    with engine.connect() as conn:
        body = conn.execute(sa.text("SELECT prosrc FROM pg_proc WHERE proname = 'case_fact_compute'")).scalar_one()
    assert words(body) == words(facts_sql().replace("CAST(:ids AS bigint[])", "ids"))
