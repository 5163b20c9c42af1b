"""Grid workers' patrols (巡查): a patrol walked through the API as the phone does; bad tracks refused
naming the fix, nothing written; coverage worked out by hand (shapely in the grid's UTM zone) and
compared; scope (another street's manager sees nothing, a worker only their own); retention drops
the geometry and keeps the summary; stale grids for the desk; a report on patrol linked to its fix,
and a micro matter settled on the spot closed at grid tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod, Transformer
from shapely.ops import transform

from api import clock
from api.patrols import neglect, retention
from tests import pg_support as pg

GRID = "330503001001001"      # 东迁街道, a 700 m × 740 m grid
COMMUNITY = "330503001001"
STREET = "330503001"
OTHER_STREET = "330503108"    # 石淙镇
LAT = 30.8712                 # the walk: due east along this latitude, inside the grid
LON0, LON1 = 120.3602, 120.3664
UTM = "EPSG:32651"            # the grid's UTM zone (51N), as patrol_figures.sql picks it
GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # a Monday morning in Beijing


@pytest.fixture(scope="module")
def worker(make_user, login):
    return login(*make_user("grid_worker", GRID))


@pytest.fixture(scope="module")
def worker2(make_user, login):
    return login(*make_user("grid_worker", GRID))


@pytest.fixture(scope="module")
def manager(make_user, login):
    return login(*make_user("grid_manager", STREET))


@pytest.fixture(scope="module")
def other_manager(make_user, login):
    return login(*make_user("grid_manager", OTHER_STREET))


@pytest.fixture(scope="module")
def dispatcher(make_user, login):
    return login(*make_user("dispatcher", STREET))


def walk(n: int = 50, step_s: float = 10.0, start: datetime = T0, lat: float = LAT) -> list[dict]:
    """``n`` fixes evenly from LON0 to LON1 along ``lat``, ``step_s`` apart (about 1.3 m/s)."""
    return [{"lon": LON0 + (LON1 - LON0) * i / (n - 1), "lat": lat, "accuracy": 5.0,
             "at": (start + timedelta(seconds=step_s * i)).isoformat()} for i in range(n)]


def offset(lon: float, lat: float, north_m: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 0 if north_m >= 0 else 180, abs(north_m))
    return x, y


def start(client, who, at: datetime = T0) -> int:
    with clock.fixed(at):
        res = client.post("/api/patrols", headers=who, json={})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def post(client, who, pid: int, fixes: list[dict], at: datetime):
    with clock.fixed(at):
        return client.post(f"/api/patrols/{pid}/positions", headers=who, json={"positions": fixes})


def end(client, who, pid: int, at: datetime) -> dict:
    with clock.fixed(at):
        res = client.post(f"/api/patrols/{pid}/end", headers=who)
    assert res.status_code == 200, res.text
    return res.json()


def field_of(res) -> str | None:
    errors = res.json().get("errors") or [{}]
    return errors[0].get("field")


def track_of(engine, pid: int) -> tuple[int, str | None]:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT fixes, ST_AsText(track) FROM patrol WHERE id = :i"), {"i": pid}).one()
    return row[0], row[1]


def test_bad_tracks_are_refused_naming_the_fix_and_nothing_is_written(client, engine, worker, worker2):
    pid = start(client, worker)
    fixes = walk(10)
    assert post(client, worker, pid, fixes[:5], T0 + timedelta(minutes=1)).status_code == 200
    cases = [
        # time going backwards within a batch
        ([fixes[6], fixes[5]], "positions.1.at", 422),
        # a batch older than what is stored
        ([fixes[3]], "positions.0.at", 422),
        # a jump of 50 km in a second
        ([fixes[5], {**fixes[6], "lon": fixes[6]["lon"] + 0.52,
                     "at": (datetime.fromisoformat(fixes[5]["at"]) + timedelta(seconds=1)).isoformat()}],
         "positions.1.lon", 422),
        # far outside every district (a fix off Africa), slowly enough
        ([{**fixes[5], "lon": 0.0, "lat": 0.0, "at": (T0 + timedelta(days=300)).isoformat()}], "positions.0.at", 422),
        ([{**fixes[5], "lat": 95.0}], "positions.0.lat", 422),
        ([{**fixes[5], "at": "2026-11-30T01:00:50"}], "positions.0.at", 422),  # no offset
    ]
    for batch, field, status in cases:
        res = post(client, worker, pid, batch, T0 + timedelta(minutes=2))
        assert res.status_code == status, (field, res.text)
        assert field_of(res) == field, res.json()
    assert track_of(engine, pid)[0] == 5
    # someone else's patrol: not found; an ended one: conflict
    res = post(client, worker2, pid, fixes[5:6], T0 + timedelta(minutes=2))
    assert res.status_code == 404 and field_of(res) == "id"
    # a second open patrol for the same worker: conflict
    with clock.fixed(T0):
        assert client.post("/api/patrols", headers=worker, json={}).status_code == 409
    end(client, worker, pid, T0 + timedelta(minutes=3))
    res = post(client, worker, pid, fixes[5:6], T0 + timedelta(minutes=3))
    assert res.status_code == 409 and field_of(res) == "id"
    assert track_of(engine, pid)[0] == 5


def test_far_fix_is_refused(client, worker):
    pid = start(client, worker, T0 + timedelta(hours=1))
    far = {"lon": 121.5, "lat": 31.2, "at": (T0 + timedelta(hours=1, minutes=1)).isoformat()}  # Shanghai
    res = post(client, worker, pid, [far], T0 + timedelta(hours=1, minutes=2))
    assert res.status_code == 422 and field_of(res) == "positions.0.lon", res.text
    end(client, worker, pid, T0 + timedelta(hours=1, minutes=3))


def expected_coverage(engine, places: list[tuple[str, float, float]], line: list[tuple[float, float]]):
    """Independently: the grid and the track in UTM 51N (shapely), 50 m buffer, places within 30 m."""
    with engine.connect() as conn:
        wkt = conn.execute(sa.text("SELECT ST_AsText(geom) FROM area WHERE code = :c AND valid_to IS NULL"),
                           {"c": GRID}).scalar_one()
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform
    grid = transform(to_utm, shapely.from_wkt(wkt))
    track = transform(to_utm, shapely.LineString(line))
    share = grid.intersection(track.buffer(50, quad_segs=8)).area / grid.area
    visited = sorted(code for code, lon, lat in places
                     if track.distance(shapely.Point(to_utm(lon, lat))) <= 30)
    return share, visited


def test_coverage_of_a_straight_walk_is_worked_out_by_hand(client, engine, worker, manager):
    near = offset(120.3630, LAT, 10)      # 10 m north of the walk: visited
    beyond = offset(120.3640, LAT, -45)   # 45 m south: not visited
    far = offset(120.3620, LAT, 150)      # 150 m north: not visited
    for code, (lon, lat) in (("T-PTL-NEAR", near), ("T-PTL-BEYOND", beyond), ("T-PTL-FAR", far)):
        res = client.post("/api/places", headers=worker, json={
            "code": code, "category": "shop", "name": code, "risk_level": "low", "lon": lon, "lat": lat})
        assert res.status_code == 201, res.text
    t = T0 + timedelta(days=1)
    pid = start(client, worker, t)
    fixes = walk(50, 10.0, t + timedelta(seconds=30))
    # the phone was offline: two batches arrive late, in order
    assert post(client, worker, pid, fixes[:20], t + timedelta(minutes=9)).status_code == 200
    res = post(client, worker, pid, fixes[20:], t + timedelta(minutes=9, seconds=10))
    assert res.status_code == 200 and res.json()["fixes"] == 50
    listed = client.get("/api/places", headers=manager, params={"area": GRID, "limit": 1000}).json()["features"]
    places = [(f["properties"]["code"], *f["geometry"]["coordinates"]) for f in listed]
    share, visited = expected_coverage(engine, places, [(f["lon"], f["lat"]) for f in fixes])
    assert "T-PTL-NEAR" in visited and "T-PTL-BEYOND" not in visited and "T-PTL-FAR" not in visited

    doc = end(client, worker, pid, t + timedelta(minutes=10))
    assert doc["places_total"] == len(places) and doc["places_visited"] == len(visited)
    assert doc["area_share"] == pytest.approx(share, abs=0.002)
    assert 0.1 < share < 0.2  # 620 m × 100 m of a 0.34 km² grid, give or take the ends
    assert doc["duration_s"] == pytest.approx(490)
    length = GEOD.line_length([LON0, LON1], [LAT, LAT])
    assert doc["length_m"] == pytest.approx(length, rel=1e-6)

    one = client.get(f"/api/patrols/{pid}", headers=manager).json()
    assert one["visited"] == visited and len(one["times"]) == 50
    assert one["track"]["type"] == "LineString" and len(one["track"]["coordinates"]) == 50

    cov = client.get("/api/patrols/coverage", headers=manager,
                     params={"area": GRID, "from": t.isoformat(), "to": (t + timedelta(hours=1)).isoformat()}).json()
    [row] = cov["rows"]
    assert row["key"] == str(pid) and row["area_share"] == pytest.approx(share, abs=0.002)
    assert row["place_share"] == pytest.approx(len(visited) / len(places))
    assert cov["visit_distance_m"] == 30 and cov["buffer_m"] == 50

    # a second walk the same week, 200 m north: per week the places visited are the union
    t2 = t + timedelta(days=1)
    pid2 = start(client, worker, t2)
    assert post(client, worker, pid2, walk(50, 10.0, t2 + timedelta(seconds=30), LAT + 0.0018),
                t2 + timedelta(minutes=9)).status_code == 200
    doc2 = end(client, worker, pid2, t2 + timedelta(minutes=10))
    week = client.get("/api/patrols/coverage", headers=manager, params={
        "area": GRID, "by": "week", "from": t.isoformat(), "to": (t2 + timedelta(hours=1)).isoformat()}).json()
    [row] = week["rows"]
    assert row["key"] == "2026-W49" and row["patrols"] == 2
    assert row["area_share"] == pytest.approx(max(doc["area_share"], doc2["area_share"]))
    both = set(visited) | set(client.get(f"/api/patrols/{pid2}", headers=manager).json()["visited"])
    assert row["places_visited"] == len(both)
    by_worker = client.get("/api/patrols/coverage", headers=manager, params={
        "area": GRID, "by": "worker", "from": t.isoformat(), "to": (t2 + timedelta(hours=1)).isoformat()}).json()
    assert [r["patrols"] for r in by_worker["rows"]] == [2]


def test_tracks_are_seen_only_by_supervisors_in_scope_and_the_worker(client, worker, worker2, manager,
                                                                       other_manager, dispatcher):
    t = T0 + timedelta(days=3)
    pid = start(client, worker, t)
    assert post(client, worker, pid, walk(5, 10.0, t), t + timedelta(minutes=1)).status_code == 200
    end(client, worker, pid, t + timedelta(minutes=2))
    for who in (worker, manager, dispatcher):
        assert client.get(f"/api/patrols/{pid}", headers=who).status_code == 200
        listed = client.get("/api/patrols", headers=who, params={"area": GRID}).json()["patrols"]
        assert pid in [p["id"] for p in listed]
    for who in (other_manager, worker2):  # another street's manager; a colleague in the same grid
        assert client.get(f"/api/patrols/{pid}", headers=who).status_code == 404
        assert pid not in [p["id"] for p in client.get("/api/patrols", headers=who).json()["patrols"]]
        rows = client.get("/api/patrols/coverage", headers=who, params={"area": GRID}).json()["rows"]
        assert str(pid) not in [r["key"] for r in rows]
    # nobody else may write to it, and the public sees nothing
    assert client.get(f"/api/patrols/{pid}").status_code == 401


def test_retention_drops_the_track_and_keeps_the_summary(client, settings, engine, worker, manager):
    t = T0 + timedelta(days=4)
    pid = start(client, worker, t)
    assert post(client, worker, pid, walk(20, 10.0, t), t + timedelta(minutes=4)).status_code == 200
    before = end(client, worker, pid, t + timedelta(minutes=5))
    day = timedelta(days=settings.patrol_retention_days)
    assert pid not in pg.in_transaction(settings, lambda c: retention.drop_expired(c, settings, now=t + day))
    later = t + day + timedelta(hours=1)
    dropped = pg.in_transaction(settings, lambda c: retention.drop_expired(c, settings, now=later))
    assert pid in dropped
    assert track_of(engine, pid)[1] is None
    after = client.get(f"/api/patrols/{pid}", headers=manager).json()
    assert after["track"] is None and after["times"] is None and not after["track_kept"]
    for key in ("length_m", "duration_s", "places_total", "places_visited", "area_share"):
        assert after[key] == pytest.approx(before[key]), key


def test_stale_grids_are_listed_for_the_communitys_desk(client, settings, worker, dispatcher):
    now = datetime.now(UTC)
    pid = start(client, worker, now)
    end(client, worker, pid, now)
    stale = client.get("/api/patrols/stale", headers=dispatcher, params={"area": COMMUNITY}).json()
    codes = [g["grid_code"] for g in stale["grids"]]
    assert GRID not in codes and codes  # the others in the community were never patrolled
    assert stale["stale_days"] == 7
    with clock.fixed(now + timedelta(days=8)):
        later = client.get("/api/patrols/stale", headers=dispatcher, params={"area": COMMUNITY}).json()
    [mine] = [g for g in later["grids"] if g["grid_code"] == GRID]
    assert mine["days"] == 8
    # the scheduler tells the community's desk, once per stale period (grids never patrolled: the list only)
    told = pg.in_transaction(settings, lambda c: neglect.notify(c, settings, now=now + timedelta(days=8)))
    assert COMMUNITY in told
    again = pg.in_transaction(settings, lambda c: neglect.notify(c, settings, now=now + timedelta(days=9)))
    assert COMMUNITY not in again
    notes = client.get("/api/desk/notifications", headers=dispatcher, params={"limit": 500}).json()
    [note] = [n for n in notes if n["kind"] == "patrol_stale" and n["area_code"] == COMMUNITY]
    assert GRID in note["data"]["grids"] and note["incident_id"] is None
    never = [g["grid_code"] for g in stale["grids"] if g["last_patrol_at"] is None]
    assert not set(never) & set(note["data"]["grids"])


def linked(engine, pid: int) -> tuple[int, int]:
    """Reports linked to the patrol, and incidents in all."""
    with engine.connect() as conn:
        links = conn.execute(sa.text("SELECT count(*) FROM patrol_report WHERE patrol_id = :p"), {"p": pid})
        return links.scalar_one(), conn.execute(sa.text("SELECT count(*) FROM incident")).scalar_one()


def test_a_report_on_patrol_is_linked_to_its_fix_and_a_micro_matter_closes_at_grid_tier(
        client, engine, worker, dispatcher):
    now = datetime.now(UTC)
    pid = start(client, worker, now)
    fixes = walk(10, 10.0, now - timedelta(minutes=2))
    assert post(client, worker, pid, fixes, now).status_code == 200
    lon, lat = offset(fixes[3]["lon"], LAT, 8)
    body = {"lon": lon, "lat": lat, "category": "garbage", "description": "垃圾堆放"}  # a grid-tier category
    res = client.post(f"/api/patrols/{pid}/reports", headers=worker, json=body)
    assert res.status_code == 201, res.text
    doc = res.json()
    assert doc["patrol_id"] == pid and doc["point_index"] == 3 and doc["distance_m"] == pytest.approx(8, abs=0.5)
    assert doc["status"] == "received" and not doc["settled_on_spot"]
    with engine.connect() as conn:
        source = conn.execute(sa.text("SELECT source FROM incident WHERE id = :i"), {"i": doc["id"]}).scalar_one()
    assert source == "grid_worker"

    # settled on the spot needs a note: nothing written without it
    res = client.post(f"/api/patrols/{pid}/reports", headers=worker, json={**body, "settled_on_spot": True})
    assert res.status_code == 422 and field_of(res) == "note"
    # a community-tier matter is not the grid worker's to settle: refused, nothing written
    before = linked(engine, pid)
    res = client.post(f"/api/patrols/{pid}/reports", headers=worker, json={
        **body, "category": "cooking_fumes", "settled_on_spot": True, "note": "劝导"})
    assert res.status_code == 422 and field_of(res) == "settled_on_spot", res.text
    assert linked(engine, pid) == before
    res = client.post(f"/api/patrols/{pid}/reports", headers=worker,
                      json={**body, "settled_on_spot": True, "note": "已清理"})
    assert res.status_code == 201, res.text
    settled = res.json()
    assert settled["status"] == "closed" and settled["settled_on_spot"]
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, tier FROM incident WHERE id = :i"), {"i": settled["id"]}).one()
        steps = conn.execute(sa.text("SELECT action FROM audit_log WHERE entity = 'incident' AND entity_id = :i "
                                     "ORDER BY id"), {"i": str(settled["id"])}).scalars().all()
    assert tuple(row) == ("closed", "grid")
    settle = ["triage", "resolve", "verify", "close"]
    assert [s for s in steps if s in settle] == settle
    end(client, worker, pid, now + timedelta(minutes=1))
    # a report to an ended patrol: refused, nothing written
    res = client.post(f"/api/patrols/{pid}/reports", headers=worker, json=body)
    assert res.status_code == 409
