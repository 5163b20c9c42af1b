"""The routing index never answers differently from the exact query.

The reference everywhere is a plain query written here: the current grid (and zone) that
``ST_Covers`` the point, lowest code on a shared edge. Checked for the bulk engine
(``spatial.routing.route_many`` through the in-process index) and the single-point SQL
(``route_point.sql``, which reads the index table): 100,000 random points over the district
bbox, points interpolated along shared grid edges, every grid vertex, points along the
district border and on the corners of index cells there; then after a partition edit, in the
editing transaction and after commit, and in an engine that lives on another connection.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from api.areas.versions import save_versions
from spatial import routing_index
from spatial.routing import ENGINE_RELOAD_POINTS, EVERY_UNIT, _route_exact, route_many
from spatial.routing_engine import ENGINE, RoutingEngine
from spatial.sqlfiles import sql
from tests import pg_support as pg

EXACT = sa.text("""
    WITH p AS (
        SELECT u.ord, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS g
        FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS u(x, y, ord)
    )
    SELECT (SELECT min(a.code) FROM area a
            WHERE a.kind = 'grid' AND a.valid_to IS NULL AND ST_Covers(a.geom, p.g)) AS grid,
           (SELECT min(a.code) FROM area a
            WHERE a.kind = 'zone' AND a.valid_to IS NULL AND ST_Covers(a.geom, p.g)) AS zone
    FROM p ORDER BY p.ord""")


def exact_sync(conn, xs, ys) -> list[tuple]:
    return [tuple(r) for r in conn.execute(EXACT, {"xs": list(map(float, xs)), "ys": list(map(float, ys))})]


async def exact_async(conn, xs, ys) -> list[tuple]:
    return await pg.rows(conn, EXACT.text, {"xs": list(map(float, xs)), "ys": list(map(float, ys))})


def route_point_grids(conn, xs, ys, tolerance_m=20.0) -> list[tuple]:
    """Grid and candidate codes from ``route_point.sql`` itself, one call per point."""
    out = []
    for x, y in zip(xs, ys, strict=True):
        doc = conn.execute(sa.text(sql.text("route_point")), {"lon": float(x), "lat": float(y), "category": "noise",
                                                "tolerance_m": tolerance_m, "stale_s": 1800, "k": 1,
                                                **EVERY_UNIT}).scalar_one()
        out.append(((doc["grid"] or {}).get("code"), tuple(sorted(c["code"] for c in doc["candidates"])),
                    tuple(doc["covering_grids"])))
    return out


CANDIDATES = sa.text("""
    SELECT a.code FROM area a
    WHERE a.kind = 'grid' AND a.valid_to IS NULL
      AND ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) <= :tol
    ORDER BY a.code""")


def assert_route_point_agrees(conn, xs, ys, tolerance_m=20.0):
    got = route_point_grids(conn, xs, ys, tolerance_m)
    want = exact_sync(conn, xs, ys)
    for (grid, candidates, covering), (exact_grid, _), x, y in zip(got, want, xs, ys, strict=True):
        assert grid == exact_grid, (x, y)
        covers = conn.execute(sa.text(
            "SELECT coalesce(array_agg(code ORDER BY code), '{}') FROM area WHERE kind = 'grid' AND valid_to IS NULL "
            "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), {"x": float(x), "y": float(y)}).scalar()
        assert list(covering) == list(covers), (x, y)
        near = [r[0] for r in conn.execute(CANDIDATES, {"x": float(x), "y": float(y), "tol": tolerance_m})]
        assert list(candidates) == near, (x, y)


def run_async(settings, fn):
    """``fn(connect)``: ``await connect()`` opens a connection (statements in one transaction
    until it commits or rolls back; ``async with`` closes it)."""
    return asyncio.run(fn(lambda: pg.connect(settings)))


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def indexed(engine):
    """The test database's index (cloned with the template; built here if the template has none)."""
    with engine.begin() as conn:
        driver = conn.connection.driver_connection  # the psycopg connection, same transaction
        if routing_index.is_empty(driver):
            routing_index.rebuild(driver)
        count = conn.execute(sa.text("SELECT count(*) FROM routing_cell")).scalar_one()
    assert count > 1000
    return count


@pytest.fixture(scope="module")
def layers(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT code, kind, ST_AsBinary(geom) AS wkb FROM area "
                                    "WHERE valid_to IS NULL AND kind IN ('grid', 'district') ORDER BY code")).all()
    grids = {r.code: shapely.from_wkb(r.wkb) for r in rows if r.kind == "grid"}
    district = shapely.union_all([shapely.from_wkb(r.wkb) for r in rows if r.kind == "district"])
    return grids, district


@pytest.fixture(scope="module")
def shared_edge_points(layers):
    """Points interpolated along the edges two grids share (and the segments' end vertices)."""
    grids, _ = layers
    codes = list(grids)
    geoms = np.array([grids[c] for c in codes])
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="touches")
    lines = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i < j:
            shared = shapely.intersection(geoms[i].boundary, geoms[j].boundary)
            lines += [g for g in shapely.get_parts(shapely.line_merge(shared)) if g.geom_type == "LineString"]
    assert len(lines) > 500
    fractions = np.array([0.0, 0.13, 0.25, 0.5, 0.618, 0.75, 0.999, 1.0])
    pts = shapely.line_interpolate_point(np.repeat(np.array(lines, dtype=object), len(fractions)),
                                         np.tile(fractions, len(lines)), normalized=True)
    xy = shapely.get_coordinates(pts)
    return xy[:, 0], xy[:, 1], lines


@pytest.fixture(scope="module")
def vertices(layers):
    grids, _ = layers
    xy = np.unique(shapely.get_coordinates(np.array(list(grids.values()))), axis=0)
    return xy[:, 0], xy[:, 1]


@pytest.fixture(scope="module")
def border_points(engine, layers, indexed):
    """On and beside the district border, and on corners and inside index cells along it."""
    _, district = layers
    ring = district.boundary
    t = np.linspace(0, 1, 4000, endpoint=False)
    on = shapely.get_coordinates(shapely.line_interpolate_point(ring, t, normalized=True))
    rng = np.random.default_rng(11)
    jitter = rng.choice([-1e-4, -1e-5, -1e-6, -1e-7, 1e-7, 1e-6, 1e-5, 1e-4], size=(len(on), 2))
    with engine.connect() as conn:  # the index cells within 0.002° of the border, 3000 of them at random
        every = np.array(conn.execute(sa.text("SELECT cell FROM routing_cell")).scalars().all(), dtype=np.int64)
    level, i, j = routing_index.cell_coords(every)
    size = 2.0 ** -level
    x0, y0 = i * size - 180.0, j * size - 90.0
    # an STRtree of the cells' boxes (ST_DWithin of 800,000 computed boxes against the border took 5 minutes)
    near = np.unique(shapely.STRtree(shapely.box(x0, y0, x0 + size, y0 + size)).query(
        ring, predicate="dwithin", distance=0.002))
    near = rng.choice(near, size=min(3000, len(near)), replace=False)
    assert len(near) > 100
    cells, size, x0, y0 = every[near], size[near], x0[near], y0[near]
    xs = [on[:, 0], on[:, 0] + jitter[:, 0], x0, x0 + size * 0.5, np.nextafter(x0 + size, -np.inf),
          x0 + size * rng.random(len(cells))]
    ys = [on[:, 1], on[:, 1] + jitter[:, 1], y0, y0 + size * 0.5, np.nextafter(y0 + size, -np.inf),
          y0 + size * rng.random(len(cells))]
    return np.concatenate(xs), np.concatenate(ys)


@pytest.fixture(scope="module")
def bbox(layers):
    _, district = layers
    return district.bounds


def engine_rows(settings, xs, ys):
    """``route_many`` through the in-process index (loaded first) and ``route_many.sql`` exact."""
    async def go(connect):
        async with await connect() as conn:
            snap = await ENGINE.current(conn)
            assert len(snap.lo) > 1000
            fast = await route_many(conn, xs, ys)
            exact = await _route_exact(conn, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
            plain = await exact_async(conn, xs, ys)
            hits = int((snap.lookup(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)) >= 0).sum())
            return fast, exact, plain, hits
    return run_async(settings, go)


def assert_bulk_agrees(settings, xs, ys, *, min_hits=0):
    fast, exact, plain, hits = engine_rows(settings, xs, ys)
    assert len(fast) == len(xs) and hits >= min_hits
    assert fast == exact                      # every column, idx included, None outside every grid
    assert [(r["grid_code"], r["zone_code"]) for r in fast] == plain


# --------------------------------------------------------------------------- the property tests

def test_100k_random_points_bulk_engine_agrees_with_st_covers(settings, indexed, bbox):
    rng = np.random.default_rng(20261201)
    xmin, ymin, xmax, ymax = bbox
    pad = 0.01   # some points outside the district too
    xs = rng.uniform(xmin - pad, xmax + pad, 100_000)
    ys = rng.uniform(ymin - pad, ymax + pad, 100_000)
    assert_bulk_agrees(settings, xs, ys, min_hits=90_000)   # most points answered from the index


def test_shared_edges_vertices_and_border_agree_in_bulk(settings, indexed, shared_edge_points, vertices,
                                                        border_points):
    xs = np.concatenate([shared_edge_points[0], vertices[0], border_points[0]])
    ys = np.concatenate([shared_edge_points[1], vertices[1], border_points[1]])
    assert len(xs) > ENGINE_RELOAD_POINTS
    assert_bulk_agrees(settings, xs, ys)


def test_single_point_sql_agrees_on_edges_vertices_border_and_random(engine, indexed, shared_edge_points, vertices,
                                                                     border_points, bbox):
    rng = np.random.default_rng(7)
    pick = lambda arr, n: rng.choice(len(arr[0]), size=min(n, len(arr[0])), replace=False)  # noqa: E731
    e, v, b = pick(shared_edge_points, 250), pick(vertices, 150), pick(border_points, 300)
    xmin, ymin, xmax, ymax = bbox
    rx, ry = rng.uniform(xmin, xmax, 300), rng.uniform(ymin, ymax, 300)
    xs = np.concatenate([shared_edge_points[0][e], vertices[0][v], border_points[0][b], rx])
    ys = np.concatenate([shared_edge_points[1][e], vertices[1][v], border_points[1][b], ry])
    with engine.connect() as conn:
        assert_route_point_agrees(conn, xs, ys)
        assert_route_point_agrees(conn, rx[:60], ry[:60], tolerance_m=150.0)   # a wide GPS accuracy


def test_most_random_points_are_answered_by_the_index_in_sql(engine, indexed, bbox):
    """The single-point SQL really takes the index (not only the exact path) for interior points."""
    rng = np.random.default_rng(3)
    xmin, ymin, xmax, ymax = bbox
    xs, ys = rng.uniform(xmin, xmax, 2000), rng.uniform(ymin, ymax, 2000)
    with engine.connect() as conn:
        found = conn.execute(sa.text("""
            SELECT count(*) FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS p(x, y)
            WHERE EXISTS (
                SELECT 1 FROM routing_index_state s,
                     generate_series(CAST(s.min_level AS int), CAST(s.max_level AS int)) AS l(level)
                JOIN routing_cell rc ON rc.cell = (CAST(l.level AS bigint) << 50)
                    | (CAST(floor((p.x + 180.0) * power(2.0::float8, l.level)) AS bigint) << 25)
                    | CAST(floor((p.y + 90.0) * power(2.0::float8, l.level)) AS bigint))"""),
            {"xs": xs.tolist(), "ys": ys.tolist()}).scalar_one()
    assert found > 0.95 * len(xs)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_hypothesis_points_single_sql(engine, indexed, bbox, fx, fy):
    xmin, ymin, xmax, ymax = bbox
    with engine.connect() as conn:
        assert_route_point_agrees(conn, [xmin + fx * (xmax - xmin)], [ymin + fy * (ymax - ymin)])


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(min_value=0), t=st.floats(0, 1))
def test_hypothesis_shared_edge_points_single_sql(engine, indexed, shared_edge_points, k, t):
    lines = shared_edge_points[2]
    p = shapely.line_interpolate_point(lines[k % len(lines)], t, normalized=True)
    with engine.connect() as conn:
        assert_route_point_agrees(conn, [p.x], [p.y])


# --------------------------------------------------------------------------- after edits

def _adjacent_pair(engine, layers):
    """Two touching grids of one community outside the area-edit tests' street, with a long shared edge."""
    grids, _ = layers
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT code, name, name_en, parent_code, attributes FROM area
            WHERE kind = 'grid' AND valid_to IS NULL AND parent_code NOT LIKE '330503108%'
            ORDER BY code""")).mappings().all()
    by_parent: dict[str, list] = {}
    for r in rows:
        by_parent.setdefault(r["parent_code"], []).append(dict(r))
    for parent in sorted(by_parent, reverse=True):
        members = by_parent[parent]
        for x in members:
            for y in members:
                if x["code"] < y["code"]:
                    shared = grids[x["code"]].boundary.intersection(grids[y["code"]].boundary)
                    if shared.length > 0.003:
                        return x, y
    raise AssertionError("no two adjacent grids with a long shared edge")


def _reshape(a_geom, b_geom):
    """``b`` gives ``a`` a strip along their shared edge."""
    strip = shapely.intersection(b_geom, a_geom.buffer(0.0006))
    new_a = shapely.union(a_geom, strip)
    new_b = shapely.difference(b_geom, strip)
    new_a, new_b = (shapely.get_parts(g) for g in (new_a, new_b))
    pick = [shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon" and p.area > 1e-9])
            for parts in (new_a, new_b)]
    assert all(g.is_valid and not g.is_empty for g in pick)
    return pick[0], pick[1], strip


def _change(row, geom):
    return {"code": row["code"], "kind": "grid", "parent_code": row["parent_code"], "name": row["name"],
            "name_en": row["name_en"], "attributes": row["attributes"], "geom": geom}


def test_partition_edit_keeps_index_exact_in_transaction_after_commit_and_elsewhere(settings, engine, indexed,
                                                                                    layers):
    grids, _ = layers
    a, b = _adjacent_pair(engine, layers)
    new_a, new_b, strip = _reshape(grids[a["code"]], grids[b["code"]])
    ground = shapely.union_all([grids[a["code"]], grids[b["code"]]])
    xmin, ymin, xmax, ymax = ground.buffer(0.001).bounds
    rng = np.random.default_rng(99)
    n = ENGINE_RELOAD_POINTS + 5_000
    xs = np.concatenate([rng.uniform(xmin, xmax, n), shapely.get_coordinates(new_a)[:, 0],
                         shapely.get_coordinates(strip.boundary)[:, 0]])
    ys = np.concatenate([rng.uniform(ymin, ymax, n), shapely.get_coordinates(new_a)[:, 1],
                         shapely.get_coordinates(strip.boundary)[:, 1]])
    inside_strip = shapely.contains_xy(strip, xs, ys)
    assert inside_strip.sum() > 50
    other = RoutingEngine()

    async def go(connect):
        async with await connect() as watcher:
            before_key = (await other.current(watcher)).key
            await watcher.rollback()
            async with await connect() as conn:
                assert [r["grid_code"] for r in await route_many(conn, xs[inside_strip], ys[inside_strip])] \
                    == [b["code"]] * int(inside_strip.sum())  # before: the strip is b's
                await save_versions(conn, actor="test", reason="routing index test",
                                    changes=[_change(a, new_a), _change(b, new_b)])
                # same transaction: the index was emptied and refilled on the changed ground
                cells_a = await pg.scalar(conn,
                    "SELECT count(*) FROM routing_cell WHERE grid_code = :a AND ST_Intersects(routing_cell_box(cell), "
                    "ST_GeomFromText(:strip, 4326))", {"a": a["code"], "strip": strip.wkt})
                assert cells_a > 0
                assert (await ENGINE.version(conn)) != before_key
                fast = await route_many(conn, xs, ys)
                assert ENGINE.snapshot.key == await ENGINE.version(conn)    # the engine reloaded in the transaction
                assert [(r["grid_code"], r["zone_code"]) for r in fast] == await exact_async(conn, xs, ys)
                assert fast == await _route_exact(conn, xs, ys)
                assert {r["grid_code"] for r, s in zip(fast, inside_strip, strict=True) if s} == {a["code"]}
                # the watcher's transaction does not see the edit yet: its engine copy stays as it was
                assert (await other.current(watcher)).key == before_key
                await watcher.rollback()
                await conn.commit()
            # after commit, the engine of the other connection notices and answers with the new shapes
            snap = await other.current(watcher)
            assert snap.key != before_key
            pair = snap.lookup(xs, ys)
            exact = await exact_async(watcher, xs, ys)
            for k, want in zip(pair.tolist(), exact, strict=True):
                if k >= 0:
                    assert (snap.answers[k]["grid_code"], snap.answers[k]["zone_code"]) == want
            assert (pair >= 0).mean() > 0.8
            await watcher.rollback()
    run_async(settings, go)
    with engine.connect() as conn:   # committed: the single-point SQL agrees on the changed ground
        pick = rng.choice(len(xs), 300, replace=False)
        assert_route_point_agrees(conn, xs[pick], ys[pick])


def test_a_direct_area_update_leaves_a_hole_never_a_wrong_answer(settings, engine, indexed, layers):
    grids, _ = layers
    a, b = _adjacent_pair(engine, layers)
    with engine.connect() as conn:
        tx = conn.begin()
        # b swallows a without any rebuild: the triggers must drop the cells on a's and b's ground
        conn.execute(sa.text("UPDATE area SET geom = ST_Multi(ST_Union(geom, (SELECT geom FROM area WHERE code = :a "
                             "AND valid_to IS NULL))) WHERE code = :b AND valid_to IS NULL"),
                     {"a": a["code"], "b": b["code"]})
        conn.execute(sa.text("UPDATE area SET valid_to = now() + interval '1 second' "
                             "WHERE code = :a AND valid_to IS NULL"),
                     {"a": a["code"]})
        left = conn.execute(sa.text(
            "SELECT count(*) FROM routing_cell WHERE grid_code = :a"), {"a": a["code"]}).scalar_one()
        assert left == 0
        ground = shapely.union(grids[a["code"]], grids[b["code"]])
        rng = np.random.default_rng(5)
        xmin, ymin, xmax, ymax = ground.bounds
        xs, ys = rng.uniform(xmin, xmax, 300), rng.uniform(ymin, ymax, 300)
        assert_route_point_agrees(conn, xs, ys)
        tx.rollback()


def test_rebuilding_unchanged_ground_gives_the_same_cells(engine, indexed, layers):
    grids, _ = layers
    code = sorted(grids)[len(grids) // 3]
    ground = grids[code]
    cells_near = sa.text("SELECT cell, grid_code, zone_code, clearance_m FROM routing_cell "
                         "WHERE routing_cell_box(cell) && ST_Expand(ST_GeomFromText(:g, 4326), 0.02) ORDER BY cell")
    with engine.connect() as conn:
        tx = conn.begin()
        before = conn.execute(cells_near, {"g": ground.wkt}).all()
        version = conn.execute(sa.text("SELECT version FROM routing_index_state")).scalar_one()
        written = routing_index.rebuild(conn.connection.driver_connection, ground)
        after = conn.execute(cells_near, {"g": ground.wkt}).all()
        assert written > 0 and len(before) > written / 2
        assert after == before
        assert conn.execute(sa.text("SELECT version FROM routing_index_state")).scalar_one() != version
        tx.rollback()


def _two_pairs_one_root(engine, layers):
    """Two disjoint pairs of touching grids close enough to share routing root cells."""
    grids, _ = layers
    codes = sorted(c for c in grids if not c.startswith("330503108"))
    geoms = np.array([grids[c] for c in codes])
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="touches")
    pairs = [(codes[i], codes[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)
             if i < j and grids[codes[i]].boundary.intersection(grids[codes[j]].boundary).length > 0.002]
    for k, (x, y) in enumerate(pairs):
        for u, v in pairs[k + 1:]:
            if {x, y} & {u, v}:
                continue
            if shapely.union_all([grids[x], grids[y]]).distance(shapely.union_all([grids[u], grids[v]])) < 0.002:
                return (x, y), (u, v)
    raise AssertionError("no two nearby pairs of grids")


def test_concurrent_edits_on_nearby_ground_keep_the_index_exact(settings, engine, indexed, layers):
    grids, _ = layers
    first, second = _two_pairs_one_root(engine, layers)
    with engine.connect() as conn:
        rows = {r["code"]: dict(r) for r in conn.execute(sa.text(
            "SELECT code, name, name_en, parent_code, attributes FROM area WHERE valid_to IS NULL AND code = ANY(:c)"),
            {"c": [*first, *second]}).mappings()}

    def changes(pair):
        new_a, new_b, _ = _reshape(grids[pair[0]], grids[pair[1]])
        return [_change(rows[pair[0]], new_a), _change(rows[pair[1]], new_b)]

    async def go(connect):
        async with await connect() as one, await connect() as two:
            await save_versions(one, actor="test", reason="concurrent 1", changes=changes(first))

            async def second_edit():
                await save_versions(two, actor="test", reason="concurrent 2", changes=changes(second))
                await two.commit()
            task = asyncio.ensure_future(second_edit())   # waits for the first writer's lock on the index state
            async with await connect() as watcher:        # seen waiting on a lock: it ran, and it is held up
                for _ in range(600):
                    waiting = await (await watcher.execute(
                        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                        (two.info.backend_pid,))).fetchone()
                    await watcher.rollback()
                    if (waiting and waiting[0]) or task.done():
                        break
                    await asyncio.sleep(0.05)
            assert waiting and waiting[0] and not task.done()  # serialised behind the first writer
            await one.commit()
            await task
    run_async(settings, go)
    ground = shapely.union_all([grids[c] for c in (*first, *second)]).buffer(0.003)
    xmin, ymin, xmax, ymax = ground.bounds
    rng = np.random.default_rng(17)
    xs = rng.uniform(xmin, xmax, ENGINE_RELOAD_POINTS + 2_000)
    ys = rng.uniform(ymin, ymax, ENGINE_RELOAD_POINTS + 2_000)
    assert_bulk_agrees(settings, xs, ys, min_hits=len(xs) // 2)
    with engine.connect() as conn:
        assert_route_point_agrees(conn, xs[:200], ys[:200])
        # the cells on both grounds are there again (each rebuild saw the other's committed rows)
        for code in (*first, *second):
            assert conn.execute(sa.text("SELECT count(*) FROM routing_cell WHERE grid_code = :c"),
                                {"c": code}).scalar_one() > 0
