"""Vector tiles: decoded, their features are exactly the areas the tile covers in the caller's
scope; ETags revalidate, an edit invalidates; hexagon tiles carry the heatmap's counts."""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from api.tiles.service import tile_bounds

DISTRICT = "330503"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def centre(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("""SELECT g.code, c.parent_code AS street,
            ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL ORDER BY g.code LIMIT 1 OFFSET 40""")).mappings().one()


def codes_in_tile(client, headers, layer, z, x, y) -> set[str]:
    res = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(res.content)
    return {f["properties"]["code"] for f in decoded.get(layer, {}).get("features", [])}


def expected_codes(engine, kind, z, x, y, where="TRUE", **params) -> set[str]:
    west, south, east, north = tile_bounds(z, x, y)
    with engine.connect() as conn:
        return set(conn.execute(sa.text(f"""SELECT code FROM area WHERE valid_to IS NULL AND kind = :k
            AND ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326)) AND {where}"""),
            {"k": kind, "w": west, "s": south, "e": east, "n": north, **params}).scalars())


@pytest.mark.parametrize("z", [12, 14, 16])
def test_a_grid_tile_holds_exactly_the_grids_it_covers(client, admin, engine, centre, z):
    x, y = tile_of(centre["lon"], centre["lat"], z)
    got = codes_in_tile(client, admin, "grid", z, x, y)
    assert centre["code"] in got
    want = expected_codes(engine, "grid", z, x, y)
    # the tile keeps a 64-pixel buffer: it may hold neighbours just outside, never miss one inside
    assert want <= got and len(got - want) <= max(3, len(want))


def test_a_district_dispatcher_sees_the_whole_districts_grids(client, admin, make_user, login, centre):
    """A scope that shows every area gets the same tile as an admin (drawn without a filter)."""
    z = 13
    x, y = tile_of(centre["lon"], centre["lat"], z)
    dispatcher = login(*make_user("dispatcher", DISTRICT))
    assert codes_in_tile(client, dispatcher, "grid", z, x, y) == codes_in_tile(client, admin, "grid", z, x, y)


def test_a_street_manager_sees_only_its_streets_grids(client, make_user, login, engine, centre):
    z = 12
    x, y = tile_of(centre["lon"], centre["lat"], z)
    headers = login(*make_user("grid_manager", centre["street"]))
    got = codes_in_tile(client, headers, "grid", z, x, y)
    with engine.connect() as conn:
        theirs = set(conn.execute(sa.text("""SELECT g.code FROM area g JOIN area c ON c.code = g.parent_code
            AND c.valid_to IS NULL WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.parent_code = :s"""),
            {"s": centre["street"]}).scalars())
    assert centre["code"] in got and got <= theirs


def _rename(engine, code: str, suffix: str) -> None:
    """An edit as another worker or a script would make it: the area's next version, renamed
    (the partition stays exact), committed."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            WITH old AS (UPDATE area SET valid_to = now() WHERE code = :c AND valid_to IS NULL RETURNING *)
            INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, version,
                              valid_from, changed_by)
            SELECT code, name || :suffix, name_en, kind, parent_code, department_code, attributes,
                   geom, version + 1, now(), 'test' FROM old"""), {"c": code, "suffix": suffix})


def _names(tile: bytes) -> dict[str, str]:
    return {f["properties"]["code"]: f["properties"]["name"]
            for f in mapbox_vector_tile.decode(tile)["grid"]["features"]}


NOTE_WAIT_S = 20.0  # a hang guard for the NOTIFY that invalidates the tile cache (it has no expiry of its own)


def test_etags_revalidate_and_an_edit_invalidates(client, admin, engine, centre):
    z = 14
    x, y = tile_of(centre["lon"], centre["lat"], z)
    url = f"/tiles/grid/{z}/{x}/{y}.pbf"
    first = client.get(url, headers=admin)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    again = client.get(url, headers={**admin, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    _rename(engine, centre["code"], " (new)")
    deadline = time.monotonic() + NOTE_WAIT_S
    while True:  # the edit's note reaches this worker's cache asynchronously: a bounded wait
        changed = client.get(url, headers={**admin, "If-None-Match": etag})
        if changed.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert _names(changed.content)[centre["code"]].endswith("(new)")


def test_without_the_listener_every_tile_rereads_the_boundaries(client, admin, engine, centre):
    """Notes may be missed while the listening connection is down: then no cached fingerprint is
    trusted, and an edit shows on the very next request."""
    z = 15
    x, y = tile_of(centre["lon"], centre["lat"], z)
    url = f"/tiles/grid/{z}/{x}/{y}.pbf"
    hub = client.app.state.live
    etag = client.get(url, headers=admin).headers["etag"]
    hub.connected.clear()   # as when the hub loses its connection
    try:
        _rename(engine, centre["code"], " (offline)")
        changed = client.get(url, headers={**admin, "If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert _names(changed.content)[centre["code"]].endswith("(offline)")
    finally:
        hub.connected.set()


def test_hexagon_tiles_carry_the_heatmaps_counts(client, admin, centre):
    z = 11
    x, y = tile_of(centre["lon"], centre["lat"], z)
    window = {"from": "2025-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    res = client.get(f"/tiles/hexagons/{z}/{x}/{y}.pbf", params=window, headers=admin)
    assert res.status_code == 200
    features = mapbox_vector_tile.decode(res.content)["hexagons"]["features"]
    from_tile = {f["properties"]["cell"]: f["properties"]["count"] for f in features}
    heat = client.get("/api/heatmap", params={**window, "zoom": z}, headers=admin).json()
    from_api = {f["id"]: f["properties"]["count"] for f in heat["features"]}
    assert from_tile and all(from_api[c] == n for c, n in from_tile.items())


def test_tilejson_and_bad_tiles(client, admin):
    doc = client.get("/tiles/grid.json", headers=admin).json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith("/tiles/grid/{z}/{x}/{y}.pbf")
    assert doc["vector_layers"][0]["id"] == "grid"
    assert client.get("/tiles/planet/3/1/1.pbf", headers=admin).status_code == 422
    assert client.get("/tiles/grid/3/1/1.pbf").status_code == 401


@pytest.mark.parametrize("layer", ["grid", "hexagons"])
@pytest.mark.parametrize("address, field", [("3/9/1", "x"), ("3/1/8", "y"), ("23/0/0", "z"), ("-1/0/0", "z"),
                                            ("3/-1/0", "x"), ("3/a/0", "x"), ("0/0/0", None), ("3/7/7", None)])
def test_a_tile_address_is_checked_once_for_every_layer(client, admin, layer, address, field):
    """z within 0..22, x and y within 0..2^z - 1: a 422 naming the field, the same for area and
    hexagon tiles; the caller is checked first (no token: 401 whatever the address)."""
    res = client.get(f"/tiles/{layer}/{address}.pbf", headers=admin)
    if field is None:
        assert res.status_code == 200, res.text
    else:
        assert res.status_code == 422, res.text
        assert [e["field"] for e in res.json()["errors"]] == [field], res.json()
    assert client.get(f"/tiles/{layer}/{address}.pbf").status_code == 401


def test_query_parameters_of_an_area_tile(client, admin, centre):
    """?department= narrows patrol zones to one department's; an unknown parameter is ignored; a
    long department or If-None-Match is a 422."""
    z = 13
    x, y = tile_of(centre["lon"], centre["lat"], z)
    url = f"/tiles/patrol_zone/{z}/{x}/{y}.pbf"
    every = client.get(url, headers=admin)
    assert every.status_code == 200

    def departments(res) -> list[str]:
        return [f["properties"]["department"]
                for f in mapbox_vector_tile.decode(res.content).get("patrol_zone", {}).get("features", [])]

    assert "police" in departments(every) and set(departments(every)) != {"police"}
    assert set(departments(client.get(url, params={"department": "police"}, headers=admin))) == {"police"}
    assert client.get(url, params={"other": "1"}, headers=admin).content == every.content
    assert client.get(url, params={"department": "x" * 33}, headers=admin).status_code == 422
    assert client.get(url, headers={**admin, "If-None-Match": "x" * 201}).status_code == 422
    again = client.get(url, headers={**admin, "If-None-Match": f'"other", {every.headers["etag"]}'})
    assert again.status_code == 304 and again.headers["etag"] == every.headers["etag"]
