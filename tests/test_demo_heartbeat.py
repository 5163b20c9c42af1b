"""The demo heartbeat: an hour after `make run` the sample's units still move, so the README's
`gridgov route 120.42 30.87 --category street_vendor` still recommends units; never in production.

Staleness is judged by the database's clock (``route_point.sql``: ``position_at < now() - ...``),
which a test cannot move; an hour passing is the sample's fixes made an hour older instead."""

from __future__ import annotations

import json

import pydantic
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.cli import main
from api.main import create_app
from api.settings import Settings, get_settings
from spatial.sample_load import refresh_unit_fixes
from tests.pg_support import sample_database, scratch_database

README_EXAMPLE = ["route", "120.42", "30.87", "--category", "street_vendor"]


@pytest.fixture
def demo_db(database_url, settings):
    """The units move: a database of the test's own, its fixes fresh as after `make run`, then an hour older."""
    with scratch_database(database_url, "heartbeat", template=sample_database(settings)) as url:
        engine = sa.create_engine(Settings(env="test", database_url=url).url)
        with engine.begin() as conn:
            refresh_unit_fixes(conn.connection.driver_connection)
            conn.execute(sa.text("UPDATE unit SET position_at = position_at - interval '1 hour'"))
        yield url, engine
        engine.dispose()


def recommended(monkeypatch, capsys, url: str) -> list[dict]:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as ended:
            main(README_EXAMPLE)
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert (ended.value.code or 0) == 0, err
    return json.loads(out)["units"]


def one_round(settings: Settings) -> None:
    """Start the app with the scheduler on and wait for its first round (it runs at start)."""
    app = create_app(settings)
    with TestClient(app) as c:
        c.portal.call(app.state.scheduler.wait_for, 1)
    assert app.state.scheduler.outcomes["failed"] == 0


def fixes(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {r.code: (r.lon, r.lat, r.position_at, r.inside, r.age_s) for r in conn.execute(sa.text("""
            SELECT u.code, ST_X(u.position) AS lon, ST_Y(u.position) AS lat, u.position_at,
                   extract(epoch FROM now() - u.position_at) AS age_s,
                   z.geom IS NULL OR ST_Intersects(z.geom, u.position) AS inside
            FROM unit u LEFT JOIN area z ON z.code = u.patrol_zone_code AND z.valid_to IS NULL"""))}


def test_an_hour_later_the_heartbeat_has_the_readme_example_recommend_units_again(
        demo_db, settings, monkeypatch, capsys):
    url, engine = demo_db
    assert recommended(monkeypatch, capsys, url) == []  # an hour on, every fix is stale
    before = fixes(engine)

    production = Settings(env="production", database_url=url, supervision_interval_s=3600,
                          secret_key=settings.secret_key, hash_key=settings.hash_key, contact_key=settings.contact_key,
                          qr_key=settings.qr_key, public_url="https://gridgov.example.gov.cn")
    assert not production.heartbeat_on
    one_round(production)
    assert {c: f[:4] for c, f in fixes(engine).items()} == {c: f[:4] for c, f in before.items()}
    assert recommended(monkeypatch, capsys, url) == []

    one_round(Settings(env="test", database_url=url, supervision_interval_s=3600, demo_heartbeat=True))
    units = recommended(monkeypatch, capsys, url)
    assert units and all(u["position_age_s"] < settings.stale_position_s for u in units)
    after = fixes(engine)
    moved = {code for code in after if after[code][:2] != before[code][:2]}
    refreshed = {code for code in after if after[code][2] != before[code][2]}  # a unit may stay put
    assert moved and all(after[code][4] < 60 for code in moved)
    assert all(after[code][3] or not before[code][3] for code in moved)  # kept in (or heading for) the zone
    with engine.connect() as conn:
        audited = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE actor = 'demo-heartbeat' "
                                       "AND action = 'position'")).scalar_one()
        off_duty_moved = conn.execute(sa.text("SELECT count(*) FROM unit WHERE status = 'off_duty' "
                                              "AND code = ANY(:moved)"), {"moved": sorted(refreshed)}).scalar_one()
    assert moved <= refreshed and audited == len(refreshed) and off_duty_moved == 0


def test_the_heartbeat_is_on_for_the_demo_only(settings):
    assert Settings(env="development").heartbeat_on
    assert not Settings(env="test").heartbeat_on
    assert not Settings(env="development", demo_heartbeat=False).heartbeat_on
    with pytest.raises(pydantic.ValidationError, match="GRIDGOV_DEMO_HEARTBEAT"):
        Settings(env="production", demo_heartbeat=True, secret_key=settings.secret_key, hash_key=settings.hash_key,
                 contact_key=settings.contact_key, qr_key=settings.qr_key, public_url="https://gridgov.example.gov.cn")
