"""Editing the grid map through the API: split, reshape, merge, retire, move, rename, roster;
versions and as_of; If-Match and concurrent saves; scope; bad input; re-routing; validation.

Each test works in its own community of street 330503108 so that the edits (committed by the
API) do not meet each other or the other test files' fixed points.
"""

from __future__ import annotations

import threading

import httpx
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import mapping

from tests.cycle_support import CaseMaker

STREET = "330503108"


def _rows(db, sql, **params):
    return db.execute(sa.text(sql), params).mappings().all()


def grids_of(engine, community) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = _rows(conn, "SELECT code, name, version, ST_AsBinary(geom) AS wkb FROM area "
                           "WHERE valid_to IS NULL AND parent_code = :p AND kind = 'grid' ORDER BY code", p=community)
    return {r["code"]: {**r, "geom": shapely.from_wkb(r["wkb"])} for r in rows}


def community_geom(engine, community):
    with engine.connect() as conn:
        wkb = conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM area WHERE valid_to IS NULL AND code = :c"),
                           {"c": community}).scalar_one()
    return shapely.from_wkb(wkb)


def grid_at(engine, point) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT min(code) FROM area WHERE kind = 'grid' AND valid_to IS NULL "
            "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), {"x": point.x, "y": point.y}).scalar()


def db_now(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT now()")).scalar().isoformat()


def adjacent_pair(grids):
    codes = sorted(grids)
    best = max(((a, b) for i, a in enumerate(codes) for b in codes[i + 1:]),
                key=lambda p: grids[p[0]]["geom"].boundary.intersection(grids[p[1]]["geom"].boundary).length)
    return best


def etag(code, version):
    return f'"{code}@{version}"'


def assert_partition(client, headers, community):
    res = client.get(f"/api/areas/{community}/validation", headers=headers)
    assert res.status_code == 200, res.text
    assert res.json()["features"] == [], res.json()["features"][:3]


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", "330503"))


@pytest.fixture(scope="module")
def communities(engine):
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text(
            "SELECT c.code FROM area c WHERE c.valid_to IS NULL AND c.parent_code = :s AND c.kind = 'community' "
            "AND (SELECT count(*) FROM area g WHERE g.valid_to IS NULL AND g.parent_code = c.code) >= 4 "
            "ORDER BY c.code"), {"s": STREET})]


def manager(make_user, login, community):
    return login(*make_user("grid_manager", community))


def cut_line(geom):
    minx, miny, maxx, maxy = geom.bounds
    x = geom.representative_point().x
    return {"type": "LineString", "coordinates": [[x, miny - 0.01], [x + 1e-5, maxy + 0.01]]}


def test_split_by_line_keeps_partition_and_routes_to_new_codes(client, engine, make_user, login, communities):
    community = communities[0]
    who = manager(make_user, login, community)
    grids = grids_of(engine, community)
    code = sorted(grids)[0]
    body = {"op": "split", "code": code, "line": cut_line(grids[code]["geom"]), "reason": "village grew"}
    prev = client.post("/api/areas/edits/preview", json=body, headers=who)
    assert prev.status_code == 200, prev.text
    assert not prev.json()["saved"]
    assert grids_of(engine, community).keys() == grids.keys()  # nothing written
    got = client.get(f"/api/areas/{code}", headers=who)
    assert got.headers["ETag"] == etag(code, 1)
    before = db_now(engine)
    res = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": got.headers["ETag"]})
    assert res.status_code == 200, res.text
    doc = res.json()
    created = [f for f in doc["affected"]["features"] if f["properties"]["change"] == "created"]
    assert len(created) == 2 and doc["saved"]
    assert {f["properties"]["name"] for f in created} == {f"{grids[code]['name']}-1", f"{grids[code]['name']}-2"}
    after = grids_of(engine, community)
    assert code not in after
    for f in created:
        new = f["properties"]["code"]
        assert new not in grids and new in after and new.startswith(community)
        assert grid_at(engine, shapely.geometry.shape(f["geometry"]).representative_point()) == new
    assert_partition(client, who, community)
    # the old boundary is still there as_of a time before the save, and in the history
    old = client.get(f"/api/areas/{code}", params={"as_of": before}, headers=who)
    assert old.status_code == 200 and "ETag" not in old.headers
    assert shapely.geometry.shape(old.json()["geometry"]).equals(grids[code]["geom"])
    gone = client.get(f"/api/areas/{code}", headers=who)
    assert gone.status_code == 404
    layer = client.get("/api/areas", params={"kind": "grid", "parent": community,
                                             "as_of": before}, headers=who).json()
    assert {f["id"] for f in layer["features"]} == set(grids)
    hist = client.get(f"/api/areas/{code}/history", headers=who).json()
    assert [f["properties"]["version"] for f in hist["features"]] == [1]
    assert hist["features"][0]["properties"]["valid_to"] is not None


def test_reshape_takes_neighbour_ground_and_frees_to_longest_border(client, engine, make_user, login, communities):
    community = communities[1]
    who = manager(make_user, login, community)
    grids = grids_of(engine, community)
    a, b = adjacent_pair(grids)
    ga, gb = grids[a]["geom"], grids[b]["geom"]
    # grow a over a third of b's ground
    taken = gb.intersection(ga.buffer(gb.area ** 0.5 / 3, join_style="mitre"))
    outline = ga.union(taken).buffer(0)
    moved_point = taken.difference(ga).representative_point()
    report = client.post("/api/incidents", json={"lon": moved_point.x, "lat": moved_point.y, "category": "dispute"})
    assert report.status_code == 201 and report.json()["routing"]["grid"]["code"] == b
    body = {"op": "reshape", "code": a, "geometry": mapping(outline)}
    res = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": etag(a, grids[a]["version"])})
    assert res.status_code == 200, res.text
    changed = {f["properties"]["code"] for f in res.json()["affected"]["features"]}
    assert {a, b} <= changed
    after = grids_of(engine, community)
    assert after[a]["geom"].area > ga.area and after[b]["geom"].area < gb.area
    assert grid_at(engine, moved_point) == a
    assert res.json()["rerouted"] >= 1
    with engine.connect() as conn:
        row = _rows(conn, "SELECT id, grid_code, routing FROM incident WHERE tracking_code = :t",
                    t=report.json()["tracking_code"])[0]
        events = _rows(conn, "SELECT data FROM incident_event WHERE incident_id = :i AND kind = 'rerouted'",
                       i=row["id"])
    assert row["grid_code"] == a and row["routing"]["grid"]["code"] == a
    assert [(e["data"]["from_grid"], e["data"]["to_grid"]) for e in events] == [(b, a)]
    assert_partition(client, who, community)
    # shrink a back to its old outline: the freed piece goes to b (the longest border with it)
    body = {"op": "reshape", "code": a, "geometry": mapping(ga)}
    prev = client.post("/api/areas/edits/preview", json={**body, "freed": "gaps"}, headers=who).json()
    assert [v["properties"]["reason"] for v in prev["violations"]["features"]] == ["gap"]
    refused = client.post("/api/areas/edits", json={**body, "freed": "gaps"},
                          headers={**who, "If-Match": etag(a, after[a]["version"])})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "geometry"
    res = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": etag(a, after[a]["version"])})
    assert res.status_code == 200, res.text
    assert grid_at(engine, moved_point) == b
    assert_partition(client, who, community)
    hist = client.get(f"/api/areas/{a}/history", headers=who).json()["features"]
    assert [f["properties"]["version"] for f in hist] == [1, 2, 3]
    assert hist[1]["properties"]["changed_by"].startswith("t-grid_manager")


def test_merge_retire_rename_roster(client, engine, make_user, login, communities):
    community = communities[2]
    who = manager(make_user, login, community)
    grids = grids_of(engine, community)
    a, b = adjacent_pair(grids)
    res = client.post("/api/areas/edits", json={"op": "merge", "codes": [b, a], "name": "合并网格"},
                      headers={**who, "If-Match": f"{etag(a, 1)}, {etag(b, 1)}"})
    assert res.status_code == 200, res.text
    after = grids_of(engine, community)
    keep, gone = min(a, b), max(a, b)
    assert gone not in after and after[keep]["name"] == "合并网格"
    assert after[keep]["geom"].area == pytest.approx(grids[a]["geom"].area + grids[b]["geom"].area, rel=1e-9)
    assert_partition(client, who, community)
    # retire the merged grid into its neighbours
    others = [c for c in after if c != keep]
    neighbours = [c for c in others if after[c]["geom"].boundary.intersection(after[keep]["geom"].boundary).length > 0]
    res = client.post("/api/areas/edits", json={"op": "retire", "code": keep, "to": neighbours},
                      headers={**who, "If-Match": etag(keep, 2)})
    assert res.status_code == 200, res.text
    assert keep not in grids_of(engine, community)
    assert_partition(client, who, community)
    target = neighbours[0]
    version = grids_of(engine, community)[target]["version"]
    res = client.post("/api/areas/edits", json={"op": "rename", "code": target, "name": "新名字", "name_en": "New"},
                      headers={**who, "If-Match": etag(target, version)})
    assert res.status_code == 200, res.text
    roster = {"leader": "张三", "full_time": ["李四"], "part_time": ["王五", "赵六"], "households": 321,
              "population": 900}
    res = client.post("/api/areas/edits", json={"op": "attributes", "code": target, "attributes": roster},
                      headers={**who, "If-Match": etag(target, version + 1)})
    assert res.status_code == 200, res.text
    props = client.get(f"/api/areas/{target}", headers=who).json()["properties"]
    assert props["name"] == "新名字" and props["attributes"]["leader"] == "张三" and props["households"] == 321
    bad = client.post("/api/areas/edits/preview", json={"op": "attributes", "code": target,
                                                        "attributes": {"households": -1}}, headers=who)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("attributes")


def test_move_grid_to_neighbour_community_reroutes_open_incident(client, engine, make_user, login, communities,
                                                                  admin):
    street_manager = login(*make_user("grid_manager", STREET))
    comms = {c: community_geom(engine, c) for c in communities}
    # a grid of one community that borders another community
    pick = None
    for c in communities[3:]:
        for code, g in grids_of(engine, c).items():
            for other, og in comms.items():
                if other != c and g["geom"].boundary.intersection(og.boundary).length > 0:
                    pick = (c, code, g, other)
                    break
            if pick:
                break
        if pick:
            break
    assert pick, "no grid on a community border"
    old_parent, code, g, new_parent = pick
    point = g["geom"].representative_point()
    inc = client.post("/api/incidents", json={"lon": point.x, "lat": point.y, "category": "dispute"})
    assert inc.status_code in (200, 201), inc.text
    closed = client.post("/api/incidents", json={"lon": point.x, "lat": point.y + 1e-6, "category": "dispute"})
    assert closed.status_code == 201, closed.text
    CaseMaker(client, admin, lon=point.x, lat=point.y, unit="", second_unit="").close_at_desk(closed.json()["id"])
    # a manager of the old community alone may not redraw the communities
    own = login(*make_user("grid_manager", old_parent))
    res = client.post("/api/areas/edits/preview", json={"op": "move", "code": code, "parent": new_parent}, headers=own)
    assert res.status_code == 404
    res = client.post("/api/areas/edits", json={"op": "move", "code": code, "parent": new_parent},
                      headers={**street_manager, "If-Match": etag(code, g["version"])})
    assert res.status_code == 200, res.text
    assert res.json()["rerouted"] >= 1
    with engine.connect() as conn:
        rows = {r["tracking_code"]: r for r in _rows(conn, "SELECT id, tracking_code, community_code, grid_code "
                                                           "FROM incident WHERE tracking_code = ANY(:t)",
                                                     t=[inc.json()["tracking_code"], closed.json()["tracking_code"]])}
        moved = rows[inc.json()["tracking_code"]]
        assert moved["community_code"] == new_parent and moved["grid_code"] == code
        assert rows[closed.json()["tracking_code"]]["community_code"] == old_parent
        events = _rows(conn, "SELECT kind, data FROM incident_event WHERE incident_id = :i AND kind = 'rerouted'",
                       i=moved["id"])
        assert events and events[0]["data"]["from_grid"] == code
        assert conn.execute(sa.text("SELECT parent_code FROM area WHERE valid_to IS NULL AND code = :c"),
                            {"c": code}).scalar() == new_parent
    assert_partition(client, street_manager, STREET)
    assert_partition(client, street_manager, new_parent)
    assert_partition(client, street_manager, old_parent)


def test_concurrent_saves_one_wins(live_server, engine, make_user, login, communities):
    community = communities[4]
    who = manager(make_user, login, community)
    grids = grids_of(engine, community)
    code = sorted(grids)[-1]
    body = {"op": "split", "code": code, "line": cut_line(grids[code]["geom"])}
    results = []
    barrier = threading.Barrier(2)

    def save():
        barrier.wait()
        r = httpx.post(f"{live_server}/api/areas/edits", json=body, headers={**who, "If-Match": etag(code, 1)},
                       timeout=60)
        results.append(r)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
    stale = next(r for r in results if r.status_code == 412).json()
    assert stale["errors"][0]["field"] == "If-Match" and code in stale["current"]
    assert len([c for c in grids_of(engine, community) if c not in grids]) == 2


def test_if_match_scope_and_roles(client, engine, make_user, login, communities):
    community = communities[5]
    grids = grids_of(engine, community)
    code = sorted(grids)[0]
    body = {"op": "rename", "code": code, "name": "x"}
    who = manager(make_user, login, community)
    assert client.post("/api/areas/edits", json=body, headers=who).status_code == 428
    res = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": etag(code, 7)})
    assert res.status_code == 412 and res.json()["current"] == {code: etag(code, 1)}
    elsewhere = manager(make_user, login, communities[0])
    assert client.post("/api/areas/edits/preview", json=body, headers=elsewhere).status_code == 404
    dispatcher = login(*make_user("dispatcher", STREET))
    assert client.post("/api/areas/edits/preview", json=body, headers=dispatcher).status_code == 403
    assert grids_of(engine, community)[code]["version"] == 1


BAD = [
    ({"op": "reshape", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "geometry"),
    ({"op": "split", "line": {"type": "LineString", "coordinates": [[120.0, 30.0], [120.001, 30.001]]}}, "line"),
    ({"op": "split", "line": {"type": "LineString", "coordinates": [[500, 30], [120, 95]]}}, "line"),
    ({"op": "split", "line": {"type": "LineString", "coordinates": [[1]]}}, "line"),
    ({"op": "rename", "name": "a\u0000b"}, "name"),
    ({"op": "rename", "code": "330503999999999", "name": "x"}, "code"),
    ({"op": "merge", "codes": None}, "codes"),
    ({"op": "retire", "to": ["330503001001001"]}, "to"),
    ({"op": "split"}, "line"),
]


@pytest.mark.parametrize("body,field", BAD)
def test_bad_input_names_the_field_and_writes_nothing(client, engine, admin, communities, body, field):
    community = communities[5]
    grids = grids_of(engine, community)
    code = sorted(grids)[1]
    body = {"code": code, **body}
    if body.get("codes", 1) is None:  # codes of two different parents
        body = {"op": "merge", "codes": [code, sorted(grids_of(engine, communities[0]))[0]]}
    named = body.get("codes") if isinstance(body.get("codes"), list) else [body["code"]]
    if_match = ", ".join(etag(c, 1) for c in named)
    for path, headers in (("/api/areas/edits/preview", admin), ("/api/areas/edits", {**admin, "If-Match": if_match})):
        res = client.post(path, json=body, headers=headers)
        assert 400 <= res.status_code < 500, res.text
        assert any(field in (e["field"] or "").split(".") for e in res.json()["errors"]), res.json()
    assert grids_of(engine, community) == grids


def test_validation_reports_injected_overlap_and_gap(client, engine, admin, communities):
    community = communities[6]
    grids = grids_of(engine, community)
    victim = sorted(grids)[0]
    g = grids[victim]["geom"]
    # direct SQL: the edit API refuses overlaps and gaps, so only SQL can break the partition
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO area (code, name, kind, parent_code, geom) VALUES ('TEST-OVERLAP', 'bad', 'grid', :p, "
            "ST_Multi(ST_Buffer(ST_PointOnSurface(ST_GeomFromWKB(:w, 4326)), 0.0005)))"),
            {"p": community, "w": shapely.to_wkb(g)})
        conn.execute(sa.text("UPDATE area SET valid_to = now() WHERE code = :c AND valid_to IS NULL"), {"c": victim})
    try:
        res = client.get(f"/api/areas/{community}/validation", headers=admin)
        assert res.status_code == 200, res.text
        reasons = {f["properties"]["reason"] for f in res.json()["features"]}
        assert {"gap"} <= reasons
        overlap = [f for f in res.json()["features"] if "TEST-OVERLAP" in f["properties"]["codes"]]
        assert overlap  # the buffered row spills over the neighbours of the retired grid or is its ground
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM area WHERE code = 'TEST-OVERLAP'"))
            conn.execute(sa.text("DELETE FROM area WHERE code = :c AND valid_to IS NULL"), {"c": victim})
            conn.execute(sa.text("UPDATE area SET valid_to = NULL WHERE code = :c AND version = 1"), {"c": victim})


HOSTILE_COORDINATES = [
    [], [[]], [[[]]], "x", [["a", "b"]], [[[1e308, 1e308], [1e308, -1e308], [0, 0], [1e308, 1e308]]],
    [[[120.3, 30.8], [120.3, 30.8], [120.3, 30.8], [120.3, 30.8]]],  # no area
    [[[120.3, 30.8], [120.4, 30.9]]],  # an unclosed ring of two points
    [[[[[[120.3]]]]]], [[[120.3, 30.8, 5, 7], [120.4, 30.8, 1, 2], [120.4, 30.9, 1, 1], [120.3, 30.8, 5, 7]]],
    [[[None, 30.8], [120.4, 30.8], [120.4, 30.9], [None, 30.8]]],
]


@pytest.mark.parametrize("coordinates", HOSTILE_COORDINATES)
@pytest.mark.parametrize("op,field,kind", [("reshape", "geometry", "Polygon"), ("reshape", "geometry", "MultiPolygon"),
                                           ("split", "line", "LineString"), ("split", "polygon", "Polygon")])
def test_hostile_shapes_are_4xx_json(client, engine, admin, communities, coordinates, op, field, kind):
    code = sorted(grids_of(engine, communities[5]))[2]
    body = {"op": op, "code": code, field: {"type": kind, "coordinates": coordinates}}
    res = client.post("/api/areas/edits/preview", json=body, headers=admin)
    assert 400 <= res.status_code < 500, res.text
    assert res.json()["errors"], res.json()


def test_a_split_into_too_many_pieces_is_refused_before_any_preview(client, engine, admin, communities):
    """The probe's 4,000-vertex line made 3,528 pieces in a 2.6 MB preview: at most 20 now."""
    import numpy as np

    grids = grids_of(engine, communities[5])
    code = sorted(grids)[3]
    minx, miny, maxx, maxy = grids[code]["geom"].bounds
    xs = np.linspace(minx - 1e-4, maxx + 1e-4, 4001)
    ys = np.where(np.arange(xs.size) % 2 == 0, miny - 1e-4, maxy + 1e-4)  # across and back, 2,000 times
    body = {"op": "split", "code": code, "line": {"type": "LineString", "coordinates": np.column_stack([xs, ys])
                                                  .tolist()}}
    for path, headers in (("/api/areas/edits/preview", admin), ("/api/areas/edits", {**admin, "If-Match":
                                                                                      etag(code, 1)})):
        res = client.post(path, json=body, headers=headers)
        assert res.status_code == 422, res.text[:300]
        assert len(res.content) < 2000
        error = res.json()["errors"][0]
        assert error["field"] == "line" and "at most 20" in error["reason"], error
    assert grids_of(engine, communities[5]) == grids


def _nested(depth: int, inner: str = "[120.4, 30.8]") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("depth", [1, 500, 1000])
def test_a_reshape_with_coordinates_nested_too_deep_names_the_field(client, engine, admin, communities, depth):
    """A Polygon's coordinates are lists 3 deep: one more is the wrong shape; 500 more (a
    RecursionError in shapely before) and 1,000 more (past the JSON parser's limit) are refused
    naming the field too, never a 500."""
    code = sorted(grids_of(engine, communities[5]))[2]
    body = f'{{"op": "reshape", "code": "{code}", "geometry": {{"type": "Polygon", "coordinates": {_nested(depth)}}}}}'
    res = client.post("/api/areas/edits/preview", content=body.encode(),
                      headers={**admin, "Content-Type": "application/json"})
    assert res.status_code == 422, res.text[:300]
    fields = [e["field"] for e in res.json()["errors"]]
    assert fields == ["body"] if depth == 1000 else fields and all("geometry" in f.split(".") for f in fields), fields


def test_saving_a_retired_area_again_is_stale_not_missing(client, engine, make_user, login, communities):
    community = communities[6]
    who = manager(make_user, login, community)
    grids = grids_of(engine, community)
    code = sorted(grids)[-1]
    version = grids[code]["version"]  # another module's test may have saved it already
    body = {"op": "split", "code": code, "line": cut_line(grids[code]["geom"])}
    first = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": etag(code, version)})
    assert first.status_code == 200, first.text
    again = client.post("/api/areas/edits", json=body, headers={**who, "If-Match": etag(code, version)})
    assert again.status_code == 412 and again.json()["current"] == {code: None}


def test_retiring_a_patrol_zone_hands_its_open_cases_to_the_neighbour_beat(client, engine, admin):
    """Patrol zones are a partition per department too: when a beat's ground goes to the next
    beat, an open case in it changes beat (case file says so); a closed one keeps its own."""
    with engine.connect() as conn:
        pair = _rows(conn, """
            SELECT p.code AS gone, p.version, q.code AS heir, p.department_code AS dept,
                   ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat
            FROM area p JOIN area q ON q.kind = 'patrol_zone' AND q.valid_to IS NULL AND q.code <> p.code
              AND q.department_code = p.department_code AND q.parent_code = p.parent_code
              AND ST_Length(ST_Intersection(ST_Boundary(p.geom), ST_Boundary(q.geom))) > 0
            WHERE p.kind = 'patrol_zone' AND p.valid_to IS NULL AND p.department_code = (
                SELECT departments[1] FROM category WHERE code = 'noise')
            ORDER BY ST_Length(ST_Intersection(ST_Boundary(p.geom), ST_Boundary(q.geom))) DESC, p.code LIMIT 1""")
    assert pair, "no two neighbouring patrol zones of one department"
    p = pair[0]
    open_case = client.post("/api/incidents", json={"lon": p["lon"], "lat": p["lat"], "category": "noise"}).json()
    closed = client.post("/api/incidents", json={"lon": p["lon"], "lat": p["lat"] + 1e-6, "category": "noise"}).json()
    CaseMaker(client, admin, lon=p["lon"], lat=p["lat"], unit="", second_unit="").close_at_desk(closed["id"])
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT patrol_zone_code FROM incident WHERE id = :i"),
                              {"i": open_case["id"]}).scalar_one()
    assert before == p["gone"]
    res = client.post("/api/areas/edits", json={"op": "retire", "code": p["gone"], "to": [p["heir"]]},
                      headers={**admin, "If-Match": etag(p["gone"], p["version"])})
    assert res.status_code == 200, res.text
    with engine.connect() as conn:
        beats = dict(conn.execute(sa.text("SELECT id, patrol_zone_code FROM incident WHERE id = ANY(:i)"),
                                  {"i": [open_case["id"], closed["id"]]}).all())
        event = _rows(conn, "SELECT data FROM incident_event WHERE incident_id = :i AND kind = 'rerouted'",
                      i=open_case["id"])
    assert beats == {open_case["id"]: p["heir"], closed["id"]: p["gone"]}
    assert event and event[0]["data"]["from_patrol_zone"] == p["gone"]
    assert event[0]["data"]["to_patrol_zone"] == p["heir"]
