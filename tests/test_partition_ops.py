"""The partition core (spatial.partition): split, merge, reshape, retire and move keep a
partition of the parent, with hypothesis drawing the grids and the edits."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from shapely import LineString, box

from spatial.errors import InputError
from spatial.partition import ops
from spatial.partition.topology import GRID
from spatial.partition.validate import new_violations, violations

X0, Y0 = 120.3, 30.8  # somewhere in Nanxun: degrees, on the 1e-7 grid
CELL = 0.004


def grid_partition(nx: int, ny: int) -> tuple[dict, shapely.Geometry]:
    kids = {f"g{i:02d}{j:02d}": shapely.set_precision(
        box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL), GRID)
        for i in range(nx) for j in range(ny)}  # on the grid, as stored areas are
    return kids, shapely.set_precision(box(X0, Y0, X0 + nx * CELL, Y0 + ny * CELL), GRID)


def apply(kids: dict, out: ops.Outcome, prefix: str = "new") -> dict:
    after = {c: g for c, g in kids.items() if c not in out.retired}
    after.update(out.changed)
    after.update({f"{prefix}{k}": g for k, g in enumerate(out.created)})
    return after


def assert_partition(after: dict, parent) -> None:
    geoms = np.asarray(list(after.values()), dtype=object)
    assert shapely.is_valid(geoms).all()
    assert shapely.union_all(geoms).symmetric_difference(parent).area < 1e-14
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    assert shapely.area(shapely.intersection(geoms[a[keep]], geoms[b[keep]])).sum() < 1e-14
    coords = shapely.get_coordinates(geoms)
    assert np.allclose(np.round(coords / GRID) * GRID, coords, atol=1e-12, rtol=0)  # on the precision grid
    assert [v["reason"] for v in violations(list(after.items()), parent) if v["reason"] != "sliver"] == []


sizes = st.tuples(st.integers(2, 4), st.integers(2, 4))
frac = st.floats(0.05, 0.95)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes, st.data(), frac, frac, frac)
def test_split_by_any_crossing_line_is_a_partition(size, data, fx, f1, f2):
    kids, parent = grid_partition(*size)
    code = data.draw(st.sampled_from(sorted(kids)))
    minx, miny, maxx, maxy = kids[code].bounds
    x1, x2 = minx + f1 * (maxx - minx), minx + f2 * (maxx - minx)
    line = LineString([(x1, miny - 0.001), (x2, maxy + 0.001)])
    out = ops.split(kids, code, line)
    assert len(out.created) == 2 and out.retired == [code]
    assert sum(p.area for p in out.created) == pytest.approx(kids[code].area, rel=1e-9)
    assert_partition(apply(kids, out), parent)


@settings(max_examples=40, deadline=None)
@given(sizes, st.data(), frac, frac, frac, frac, st.sampled_from(["neighbours", "gaps"]))
def test_reshape_takes_and_frees_ground_exactly(size, data, a, b, c, d, freed):
    kids, parent = grid_partition(*size)
    code = data.draw(st.sampled_from(sorted(kids)))
    minx, miny, maxx, maxy = kids[code].bounds
    # an outline reaching over the neighbours on one side and leaving ground on another
    outline = shapely.Polygon([(minx - a * CELL, miny + b * CELL * 0.5), (maxx - c * CELL * 0.5, miny - 0.2 * CELL),
                               (maxx + d * CELL, maxy), (minx + 0.3 * CELL, maxy + 0.3 * CELL)])
    try:
        out = ops.reshape(kids, parent, code, outline, freed=freed)
    except InputError:
        return  # the outline left the area no ground
    after = apply(kids, out)
    if freed == "gaps" and out.gaps:
        found = [v for v in violations(list(after.items()), parent) if v["reason"] == "gap"]
        assert found and sum(g.area for g in out.gaps) == pytest.approx(
            sum(v["geometry"].area for v in found), rel=1e-6, abs=1e-13)
        return
    assert_partition(after, parent)
    new = after[code]
    # it covers its (snapped) outline; it may keep ground no neighbour borders
    assert shapely.difference(shapely.intersection(outline, parent), new).area < outline.length * 1e-5  # snapped


def test_freed_ground_goes_to_the_longest_border():
    kids = {"a": box(0, 0, 2, 1), "long": box(0, 1, 2, 2), "short": box(2, 0, 2.5, 1)}
    parent = box(0, 0, 2.5, 2)
    out = ops.reshape(kids, parent, "a", box(0, 0, 2, 0.5))  # frees the upper half of a
    assert out.changed["long"].area == pytest.approx(3.0)
    # short gains only the vertex where the new edge meets its border (so the edges still match)
    assert out.changed.get("short", kids["short"]).area == pytest.approx(0.5)


@settings(max_examples=30, deadline=None)
@given(sizes, st.data())
def test_merge_and_retire_are_partitions(size, data):
    kids, parent = grid_partition(*size)
    code = data.draw(st.sampled_from(sorted(kids)))
    neighbours = [c for c in kids if c != code and kids[c].boundary.intersection(kids[code].boundary).length > 0]
    other = data.draw(st.sampled_from(neighbours))
    out = ops.merge(kids, [code, other])
    assert out.retired == [max(code, other)]
    assert_partition(apply(kids, out), parent)
    out = ops.retire(kids, code, neighbours)
    assert_partition(apply(kids, out), parent)


def test_refusals_name_the_field():
    kids, parent = grid_partition(2, 2)
    with pytest.raises(InputError) as e:
        ops.split(kids, "g0000", LineString([(0, 0), (1, 1)]))
    assert e.value.field == "line"
    with pytest.raises(InputError) as e:
        ops.merge(kids, ["g0000", "g0101"])  # corners only touch
    assert e.value.field == "codes"
    with pytest.raises(InputError) as e:
        ops.retire(kids, "g0000", ["g0101"])
    assert e.value.field == "to"
    with pytest.raises(InputError) as e:
        ops.move({"p": parent, "q": box(10, 10, 11, 11)}, kids["g0000"], "p", "q")
    assert e.value.field == "parent"


def zigzag_across(area, teeth: int) -> LineString:
    """A line zigzagging across ``area`` from west to east, in and out ``teeth`` times."""
    minx, miny, maxx, maxy = area.bounds
    xs = np.linspace(minx - 1e-4, maxx + 1e-4, 2 * teeth + 1)
    ys = np.where(np.arange(xs.size) % 2 == 0, miny - 1e-4, maxy - (maxy - miny) / 3)
    return LineString(np.column_stack([xs, ys]))


def test_a_split_into_more_pieces_than_the_cap_is_refused_naming_the_count():
    kids, _ = grid_partition(2, 2)
    with pytest.raises(InputError) as e:
        ops.split(kids, "g0000", zigzag_across(kids["g0000"], 40))
    assert e.value.field == "line"
    assert "39 pieces" in e.value.reason and "at most 20" in e.value.reason
    few = ops.split(kids, "g0000", zigzag_across(kids["g0000"], 5))
    assert len(few.created) == 6 <= ops.MAX_SPLIT_PIECES == 20


def test_a_line_running_through_the_area_hundreds_of_times_is_refused_before_the_arrangement(monkeypatch):
    """Counting the pieces needs the planar arrangement (18 s for a zigzag of 20,000 vertices):
    a line with far more runs through the area than pieces allowed never gets that far."""
    kids, _ = grid_partition(2, 2)

    def arrangement(*args, **kwargs):
        raise AssertionError("the arrangement was built")

    monkeypatch.setattr(ops, "faces", arrangement)
    with pytest.raises(InputError) as e:
        ops.split(kids, "g0000", zigzag_across(kids["g0000"], 200))
    assert e.value.field == "line" and "at most 20 pieces" in e.value.reason and "stretches" in e.value.reason


def test_move_carries_the_ground_between_parents():
    out = ops.move({"p": box(0, 0, 2, 1), "q": box(2, 0, 3, 1)}, box(1, 0, 2, 1), "p", "q")
    assert out.changed["p"].equals(box(0, 0, 1, 1)) and out.changed["q"].equals(box(1, 0, 3, 1))


def test_validation_finds_each_reason():
    parent = box(0, 0, 0.01, 0.01)
    bowtie = shapely.Polygon([(0, 0), (0.001, 0.001), (0.001, 0), (0, 0.001)])
    kids = [("ok", box(0, 0, 0.005, 0.01)), ("over", box(0.004, 0, 0.009, 0.01)), ("out", box(0.009, 0, 0.011, 0.005)),
            ("bad", bowtie), ("multi", shapely.MultiPolygon([box(0.0095, 0.006, 0.0099, 0.007),
                                                             box(0.0095, 0.008, 0.0099, 0.009)])),
            ("thin", box(0.0099, 0.0095, 0.01, 0.0095 + 1e-9))]
    found = violations(kids, parent)
    reasons = {v["reason"] for v in found}
    assert reasons == {"invalid_geometry", "multipart", "outside_parent", "overlap", "gap", "sliver"}
    bad = next(v for v in found if v["reason"] == "invalid_geometry")
    assert bad["detail"].startswith("Self-intersection") and bad["geometry"].geom_type == "Point"
    assert next(v for v in found if v["reason"] == "overlap")["codes"] == ["ok", "over"]
    assert new_violations(found, found) == []


def test_validation_of_ten_thousand_cells_is_clean():
    kids, parent = grid_partition(100, 100)
    assert violations(list(kids.items()), parent) == []


def test_an_outline_drawn_a_little_off_the_corners_follows_them():
    """Browser snapping is by pixel: a vertex drawn 20 cm off the corner the four grids share
    becomes that corner, so the grids the manager did not mean to touch stay untouched."""
    kids, parent = grid_partition(2, 2)
    x0, y0, x1, y1 = kids["g0000"].bounds
    off = 2e-6  # about 20 cm
    outline = shapely.Polygon([(x0, y0), (x1 + CELL / 2, y0), (x1 + CELL / 2, y1), (x1 + off, y1 + off), (x0, y1)])
    out = ops.reshape(kids, parent, "g0000", outline)
    assert "g0001" not in out.changed  # would have lost a triangle at the corner
    assert out.changed.get("g0101", kids["g0101"]).area == pytest.approx(kids["g0101"].area, rel=1e-12)
    assert (x1, y1) in set(map(tuple, shapely.get_coordinates(out.changed["g0000"]).tolist()))
    assert_partition(apply(kids, out), parent)
