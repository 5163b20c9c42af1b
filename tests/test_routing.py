"""Routing on the Nanxun sample, through the spatial core and through ``GET /api/route``.

Every expectation is computed independently of the routing SQL: hierarchy codes from
the area tree, zones and distances with shapely / pyproj, bulk results with a
geopandas spatial join on the same layers.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod, Transformer

from spatial import crs as datums
from spatial.routing import route_many, route_point
from tests import pg_support as pg

GEOD = Geod(ellps="WGS84")
UTM = 32651  # WGS 84 / UTM zone 51N covers Nanxun (120-126 E)
TO_UTM = Transformer.from_crs(4326, UTM, always_xy=True)
TO_WGS = Transformer.from_crs(UTM, 4326, always_xy=True)
CATEGORY = "fire_hazard"  # three responsible departments: fire, police, enforcement
DISTRICT = "330503"


# --------------------------------------------------------------------------- helpers

def run_async(settings, fn):
    """Run ``fn(conn)`` on a fresh async connection to the test database."""
    return pg.in_transaction(settings, fn)


def geod_m(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def read_layer(engine, kind: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(
        sa.text("SELECT code, parent_code, geom FROM area WHERE kind = :kind AND valid_to IS NULL ORDER BY code"),
        engine, geom_col="geom", params={"kind": kind})


@pytest.fixture(scope="module")
def headers(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def grids(engine) -> gpd.GeoDataFrame:
    df = read_layer(engine, "grid")
    assert len(df) > 50, "the Nanxun sample is not loaded"
    return df


@pytest.fixture(scope="module")
def zones(engine) -> gpd.GeoDataFrame:
    df = read_layer(engine, "zone")
    assert len(df) > 1
    return df


@pytest.fixture(scope="module")
def grids_utm(grids) -> gpd.GeoDataFrame:
    return grids.to_crs(UTM)


@pytest.fixture(scope="module")
def parents(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT code, parent_code FROM area WHERE valid_to IS NULL "
            "AND kind IN ('grid', 'community', 'street')")).all())


@pytest.fixture(scope="module")
def station_of_zone(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT zone_code, code FROM station")).all())


@pytest.fixture(scope="module")
def interior_points(engine):
    """30 grids picked pseudo-randomly, each with ST_PointOnSurface and its distance to the edge."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat,
                   ST_Distance(ST_Boundary(geom)::geography, p::geography) AS edge_m
            FROM (SELECT code, geom, ST_PointOnSurface(geom) AS p FROM area
                  WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code) LIMIT 30) g
            ORDER BY code""")).mappings().all()
    assert len(rows) == 30
    return [dict(r) for r in rows]


@pytest.fixture(scope="module")
def shared_vertices(engine):
    """Vertices shared by exactly two grids (ST_Covers true for both, no floating point doubt)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            WITH a AS (
                SELECT code, geom FROM area WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code) LIMIT 40
            ), v AS (
                SELECT DISTINCT d.geom AS p FROM a, ST_DumpPoints(a.geom) d
            )
            SELECT ST_X(v.p) AS lon, ST_Y(v.p) AS lat, array_agg(g.code ORDER BY g.code) AS codes
            FROM v JOIN area g ON g.kind = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, v.p)
            GROUP BY v.p HAVING count(*) = 2
            ORDER BY md5(ST_AsText(v.p)) LIMIT 6""")).mappings().all()
    assert len(rows) >= 3, "no vertex shared by two grids in the sample"
    return [dict(r) for r in rows]


def expected_zone(zones, lon, lat):
    pt = shapely.Point(lon, lat)
    hits = sorted(zones.loc[zones.covers(pt), "code"])
    return hits[0] if hits else None


def get_route(client, headers, **params):
    res = client.get("/api/route", params=params, headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def code(part):
    return part["code"] if part else None


# --------------------------------------------------------------------------- grids and hierarchy

def test_points_inside_grids_get_their_grid_hierarchy_zone_and_station(
        client, headers, settings, interior_points, parents, zones, station_of_zone, grids_utm):
    async def route_all(conn):
        return [await route_point(conn, p["lon"], p["lat"], CATEGORY) for p in interior_points]

    docs = run_async(settings, route_all)
    for p, doc in zip(interior_points, docs, strict=True):
        here = shapely.Point(TO_UTM.transform(p["lon"], p["lat"]))
        gap = grids_utm.loc[grids_utm["code"] != p["code"]].distance(here).min()  # to any other grid
        assert abs(gap - 20.0) > 0.5, "ambiguous probe"
        api = get_route(client, headers, lon=p["lon"], lat=p["lat"], category=CATEGORY)
        for d in (doc, api):
            assert code(d["grid"]) == p["code"]
            assert d["covering_grids"] == [p["code"]]
            assert code(d["community"]) == parents[p["code"]]
            assert code(d["street"]) == parents[parents[p["code"]]]
            assert code(d["district"]) == DISTRICT
            zone = expected_zone(zones, p["lon"], p["lat"])
            assert zone is not None
            assert code(d["zone"]) == zone
            assert code(d["station"]) == station_of_zone[zone]
            assert "unrouted" not in d["flags"] and "shared_edge" not in d["flags"]
            assert d["nearest_grid"] is None
            assert ("near_boundary" in d["flags"]) == (gap <= 20.0)
            assert d["point"] == {"lon": round(p["lon"], 7), "lat": round(p["lat"], 7)}
        assert api["grid"] == doc["grid"] and api["zone"] == doc["zone"] and api["station"] == doc["station"]


def test_point_on_shared_edge_takes_the_lowest_code(client, headers, settings, shared_vertices, parents):
    for v in shared_vertices:
        doc = get_route(client, headers, lon=v["lon"], lat=v["lat"], category=CATEGORY)
        assert "shared_edge" in doc["flags"], doc["flags"]
        assert doc["covering_grids"] == v["codes"]
        assert doc["grid"]["code"] == min(v["codes"])
        assert code(doc["community"]) == parents[min(v["codes"])]
        assert "unrouted" not in doc["flags"]
        # both grids are candidates at distance 0
        cands = {c["code"]: c["distance_m"] for c in doc["candidates"]}
        assert cands[v["codes"][0]] == 0 and cands[v["codes"][1]] == 0
    # the bulk path applies the same tie-break
    rows = run_async(settings, lambda conn: route_many(
        conn, [v["lon"] for v in shared_vertices], [v["lat"] for v in shared_vertices]))
    assert [r["grid_code"] for r in rows] == [min(v["codes"]) for v in shared_vertices]


# --------------------------------------------------------------------------- near a boundary

@pytest.fixture(scope="module")
def edge_probe(grids_utm):
    """A straight stretch of edge shared by grids A and B, and two points inside A on its normal:
    ``p5`` 5 m from B and ``p40`` 40 m from B, with no third grid nearby (all in UTM metres)."""
    geoms = grids_utm.geometry.values
    codes = grids_utm["code"].tolist()
    tree = shapely.STRtree(geoms)
    for i in range(len(geoms)):
        a = geoms[i]
        for j in tree.query(a, predicate="intersects"):
            if j == i:
                continue
            b = geoms[j]
            shared = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
            lines = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString"]
            for line in lines:
                xy = np.asarray(line.coords)
                for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
                    length = math.hypot(x1 - x0, y1 - y0)
                    if length < 150:
                        continue
                    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
                    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
                    if not a.contains(shapely.Point(mx + nx, my + ny)):
                        nx, ny = -nx, -ny
                    p5, p40 = shapely.Point(mx + 5 * nx, my + 5 * ny), shapely.Point(mx + 40 * nx, my + 40 * ny)
                    if not (a.contains(p5) and a.contains(p40)):
                        continue
                    if abs(b.distance(p5) - 5) > 0.01 or abs(b.distance(p40) - 40) > 0.01:
                        continue
                    others = np.delete(geoms, [i, j])
                    if shapely.distance(others, p5).min() < 30 or shapely.distance(others, p40).min() < 30:
                        continue
                    to_wgs = lambda p: TO_WGS.transform(p.x, p.y)  # noqa: E731
                    return {"a": codes[i], "b": codes[j], "p5": to_wgs(p5), "p40": to_wgs(p40),
                            "p40_utm": p40}
    pytest.fail("no long straight edge between two grids in the sample")


def test_near_boundary_reports_both_candidates_with_distances(client, headers, edge_probe):
    lon, lat = edge_probe["p5"]
    doc = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
    assert doc["grid"]["code"] == edge_probe["a"]
    assert "near_boundary" in doc["flags"] and "shared_edge" not in doc["flags"]
    assert doc["tolerance_m"] == 20.0
    cands = {c["code"]: c["distance_m"] for c in doc["candidates"]}
    assert set(cands) == {edge_probe["a"], edge_probe["b"]}
    assert cands[edge_probe["a"]] == 0
    assert cands[edge_probe["b"]] == pytest.approx(5.0, abs=0.1)
    # nearest first
    assert [c["code"] for c in doc["candidates"]] == [edge_probe["a"], edge_probe["b"]]


def test_gps_accuracy_widens_the_boundary_tolerance(client, headers, edge_probe, grids_utm):
    lon, lat = edge_probe["p40"]
    plain = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
    assert plain["grid"]["code"] == edge_probe["a"]
    assert "near_boundary" not in plain["flags"]
    assert [c["code"] for c in plain["candidates"]] == [edge_probe["a"]]
    small = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY, accuracy_m=5)
    assert small["tolerance_m"] == 20.0 and "near_boundary" not in small["flags"]  # at least 20 m, never less

    wide = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY, accuracy_m=60)
    assert wide["tolerance_m"] == 60.0
    assert wide["grid"]["code"] == edge_probe["a"]
    assert "near_boundary" in wide["flags"]
    cands = {c["code"]: c["distance_m"] for c in wide["candidates"]}
    assert cands[edge_probe["b"]] == pytest.approx(40.0, abs=0.2)
    within = {c for c, g in zip(grids_utm["code"], grids_utm.geometry, strict=True)
              if g.distance(edge_probe["p40_utm"]) <= 59.5}
    assert within <= set(cands) and all(d <= 60.0 for d in cands.values())


# --------------------------------------------------------------------------- outside the district

@pytest.fixture(scope="module")
def outline_utm(engine):
    df = gpd.read_postgis(sa.text("SELECT code, geom FROM area WHERE kind = 'district' AND valid_to IS NULL"),
                          engine, geom_col="geom")
    assert df["code"].tolist() == [DISTRICT]
    return df.to_crs(UTM).geometry.iloc[0]


@pytest.mark.parametrize("bearing", [0, 90, 135, 225, 300])
def test_point_outside_the_district_is_unrouted_with_the_nearest_grid(
        client, headers, settings, grids_utm, outline_utm, bearing):
    centre = outline_utm.centroid
    reach = max(shapely.Point(xy).distance(centre) for xy in outline_utm.convex_hull.exterior.coords)
    theta = math.radians(90 - bearing)
    far = shapely.Point(centre.x + (reach + 5000) * math.cos(theta), centre.y + (reach + 5000) * math.sin(theta))
    assert outline_utm.distance(far) >= 5000
    dists = grids_utm.distance(far)
    order = dists.sort_values()
    nearest, expected_m = grids_utm.loc[order.index[0], "code"], float(order.iloc[0])
    lon, lat = TO_WGS.transform(far.x, far.y)

    doc = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
    assert "unrouted" in doc["flags"]
    for key in ("grid", "community", "street", "district", "zone", "station"):
        assert doc[key] is None, key
    assert doc["covering_grids"] == [] and doc["candidates"] == []
    ng = doc["nearest_grid"]
    assert ng["distance_m"] == pytest.approx(expected_m, rel=0.01)
    if float(order.iloc[1]) > expected_m * 1.01:  # a clear winner: it must be that one
        assert ng["code"] == nearest
    else:
        assert ng["code"] in set(grids_utm.loc[order.index[:2], "code"])

    fn = run_async(settings, lambda conn: route_point(conn, lon, lat, CATEGORY))
    assert fn["nearest_grid"] == ng and fn["grid"] is None


# --------------------------------------------------------------------------- China datums

@pytest.mark.parametrize("datum, forward", [("gcj02", datums.wgs84_to_gcj02), ("bd09", datums.wgs84_to_bd09)])
def test_china_datum_input_routes_like_the_wgs84_point(client, headers, interior_points, datum, forward):
    points = [p for p in interior_points if p["edge_m"] > 10][:5]
    assert len(points) == 5
    for p in points:
        x, y = (float(v) for v in forward(p["lon"], p["lat"]))
        assert geod_m(x, y, p["lon"], p["lat"]) > 100  # the datums really differ here
        doc = get_route(client, headers, lon=x, lat=y, category=CATEGORY, crs=datum)
        assert doc["input"] == {"lon": x, "lat": y, "crs": datum}
        assert doc["grid"]["code"] == p["code"]
        assert geod_m(doc["point"]["lon"], doc["point"]["lat"], p["lon"], p["lat"]) < 1.0


# --------------------------------------------------------------------------- units

def eligible_units(engine, department: str, stale_s: int):
    with engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT code, status, ST_X(position) AS lon, ST_Y(position) AS lat
            FROM unit
            WHERE department_code = :d AND status = 'available' AND position IS NOT NULL
              AND position_at >= now() - make_interval(secs => :s)"""),
            {"d": department, "s": stale_s}).mappings().all()


@pytest.fixture(scope="module")
def unit_probe(interior_points):
    """A point in the town of Nanxun (busiest area, many units nearby)."""
    town = [p for p in interior_points if p["code"].startswith("330503100")] or interior_points
    return town[0]


def test_units_are_the_nearest_available_fresh_ones_of_each_department(
        client, headers, engine, settings, unit_probe):
    lon, lat = unit_probe["lon"], unit_probe["lat"]
    doc = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
    with engine.connect() as conn:
        departments = conn.execute(sa.text("SELECT departments FROM category WHERE code = :c"),
                                   {"c": CATEGORY}).scalar_one()
        rows = {r["code"]: r for r in conn.execute(sa.text("""
            SELECT code, department_code, status, position_at,
                   extract(epoch FROM now() - position_at) AS age_s,
                   ST_Distance(position::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS pg_m
            FROM unit"""), {"lon": lon, "lat": lat}).mappings()}
    k = settings.units_per_department
    assert doc["units"], "no unit picked at all"
    assert {u["department"] for u in doc["units"]} <= set(departments)
    for dept in departments:
        mine = [u for u in doc["units"] if u["department"] == dept]
        for u in mine:
            row = rows[u["code"]]
            assert row["department_code"] == dept
            assert row["status"] == "available"
            assert row["age_s"] <= settings.stale_position_s
            assert u["distance_m"] == pytest.approx(row["pg_m"], abs=1.0)
            assert u["distance_m"] == pytest.approx(geod_m(u["lon"], u["lat"], lon, lat), abs=1.0)
            assert isinstance(u["reason"], str) and dept in u["reason"] and f"#{u['rank']}" in u["reason"]
        assert [u["rank"] for u in mine] == list(range(1, len(mine) + 1))
        assert [u["distance_m"] for u in mine] == sorted(u["distance_m"] for u in mine)
        # independently: the k nearest eligible units by geodesic distance
        pool = sorted(eligible_units(engine, dept, settings.stale_position_s),
                      key=lambda r: (round(geod_m(r["lon"], r["lat"], lon, lat), 1), r["code"]))
        assert [u["code"] for u in mine] == [r["code"] for r in pool[:k]]
        assert (dept in doc["departments_without_units"]) == (not pool)


def _unit_state(engine, code):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT status, position_at FROM unit WHERE code = :c"), {"c": code}).one()


@pytest.mark.parametrize("change", ["busy", "off_duty", "stale"])
def test_a_busy_or_stale_unit_is_no_longer_picked(client, headers, engine, settings, unit_probe, change):
    lon, lat = unit_probe["lon"], unit_probe["lat"]
    before = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
    first = before["units"][0]
    dept = first["department"]
    same_dept = [u["code"] for u in before["units"] if u["department"] == dept]
    status, position_at = _unit_state(engine, first["code"])
    try:
        with engine.begin() as conn:  # committed: the app reads with its own connections
            if change == "stale":
                conn.execute(sa.text("UPDATE unit SET position_at = now() - make_interval(secs => :s) WHERE code = :c"),
                             {"c": first["code"], "s": settings.stale_position_s + 60})
            else:
                conn.execute(sa.text("UPDATE unit SET status = :st WHERE code = :c"),
                             {"c": first["code"], "st": change})
        after = get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)
        codes = [u["code"] for u in after["units"] if u["department"] == dept]
        assert first["code"] not in codes
        assert codes[: len(same_dept) - 1] == same_dept[1:]  # the others move up
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE unit SET status = :st, position_at = :at WHERE code = :c"),
                         {"c": first["code"], "st": status, "at": position_at})
    assert get_route(client, headers, lon=lon, lat=lat, category=CATEGORY)["units"][0]["code"] == first["code"]


def test_department_without_available_units_is_flagged(client, headers, engine, unit_probe):
    lon, lat = unit_probe["lon"], unit_probe["lat"]
    with engine.connect() as conn:
        saved = conn.execute(sa.text("SELECT code, status FROM unit WHERE department_code = 'market'")).all()
    assert saved
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE unit SET status = 'busy' WHERE department_code = 'market'"))
        doc = get_route(client, headers, lon=lon, lat=lat, category="food_safety")
        assert doc["units"] == []
        assert "no_available_unit" in doc["flags"]
        assert doc["departments_without_units"] == ["market"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE unit SET status = :s WHERE code = :c"), [{"c": c, "s": s} for c, s in saved])
    doc = get_route(client, headers, lon=lon, lat=lat, category="food_safety")
    assert doc["units"] and "no_available_unit" not in doc["flags"]


# --------------------------------------------------------------------------- bulk routing

def test_bulk_routing_agrees_with_a_geopandas_spatial_join(settings, grids, zones, parents, shared_vertices):
    rng = np.random.default_rng(20261121)
    xmin, ymin, xmax, ymax = grids.total_bounds
    dx, dy = (xmax - xmin) * 0.05, (ymax - ymin) * 0.05
    n = 10_000
    lons = rng.uniform(xmin - dx, xmax + dx, n)
    lats = rng.uniform(ymin - dy, ymax + dy, n)
    # plus the exact shared vertices, where only the tie-break decides
    lons = np.concatenate([lons, [v["lon"] for v in shared_vertices]])
    lats = np.concatenate([lats, [v["lat"] for v in shared_vertices]])

    rows = run_async(settings, lambda conn: route_many(conn, lons, lats))
    assert [r["idx"] for r in rows] == list(range(1, len(lons) + 1))

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), crs=grids.crs)

    def lowest(layer):
        j = gpd.sjoin(pts, layer[["code", "geom"]], predicate="intersects", how="inner")
        return j.groupby(level=0)["code"].min().reindex(range(len(pts)))

    want_grid = lowest(grids)
    want_zone = lowest(zones)
    got_grid = [r["grid_code"] for r in rows]
    got_zone = [r["zone_code"] for r in rows]
    want_grid_list = [None if isinstance(c, float) else c for c in want_grid]
    want_zone_list = [None if isinstance(c, float) else c for c in want_zone]
    routed = sum(c is not None for c in want_grid_list)
    assert 0.2 * n < routed < 0.95 * n  # both routed and unrouted points are exercised
    mismatch = [i for i in range(len(pts)) if got_grid[i] != want_grid_list[i]]
    assert not mismatch, f"{len(mismatch)} grid mismatches, e.g. {[(lons[i], lats[i]) for i in mismatch[:3]]}"
    mismatch = [i for i in range(len(pts)) if got_zone[i] != want_zone_list[i]]
    assert not mismatch, f"{len(mismatch)} zone mismatches, e.g. {[(lons[i], lats[i]) for i in mismatch[:3]]}"
    for r in rows:
        if r["grid_code"] is None:
            assert r["community_code"] is None and r["street_code"] is None and r["district_code"] is None
        else:
            assert r["community_code"] == parents[r["grid_code"]]
            assert r["street_code"] == parents[r["community_code"]]
            assert r["district_code"] == DISTRICT


def test_a_zone_has_one_workstation(db):
    """The bulk router pairs each point with one routing row: a zone with a second station would
    give its points two. The database refuses the second station (migration 0022)."""
    zone, = db.execute(sa.text("SELECT zone_code FROM station ORDER BY code LIMIT 1")).one()
    with pytest.raises(sa.exc.IntegrityError, match="station_zone"):
        db.execute(sa.text("INSERT INTO station (code, name, zone_code, departments, geom) "
                           "SELECT code || '-2', name || ' 2', zone_code, departments, geom FROM station "
                           "WHERE zone_code = :z"), {"z": zone})
