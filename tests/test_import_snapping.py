"""Edge snapping on layer import (issue 22): a district's own grid file never matches its
parent's outline exactly. Overhangs and gaps along the outline within the stated tolerance are
fixed and listed for the grid manager; wider ones are refused row by row and nothing is written.

The files are built here from one real community of the sample and its grids, read through
the API: along the east half of the outline every grid sticks out by ``metres``, along the west
half it stops short by as much, and the grids take new codes (a district's own file).
"""

from __future__ import annotations

import json

import pytest
import shapely
import sqlalchemy as sa

from api.cli_exit import ExitCode
from tests.test_cli_exits import fresh_settings, run  # noqa: F401 (fixture)

DISTRICT = "330503"
M_PER_DEG = 111_320.0


def _feature_geom(feature: dict) -> shapely.Geometry:
    return shapely.geometry.shape(feature["geometry"])


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def community(client, admin, engine) -> dict:
    """A community with 6 to 12 grids, its outline and its grids, as the API gives them; not in
    the street test_area_files edits (the one with the fewest grids)."""
    with engine.connect() as conn:  # test_area_files's `street` fixture
        edited = conn.execute(sa.text("""
            SELECT c.parent_code FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.kind = 'community'
            GROUP BY c.parent_code ORDER BY count(*), c.parent_code LIMIT 1""")).scalar()
    streets = client.get("/api/areas", params={"kind": "street"}, headers=admin).json()["features"]
    grid_counts = {}
    for s in sorted(streets, key=lambda f: f["properties"]["code"], reverse=True):
        if s["properties"]["code"] == edited:
            continue
        for c in client.get("/api/areas", params={"kind": "community", "parent": s["properties"]["code"]},
                            headers=admin).json()["features"]:
            code = c["properties"]["code"]
            grids = client.get("/api/areas", params={"kind": "grid", "parent": code}, headers=admin).json()["features"]
            grid_counts[code] = (c, grids)
            if 6 <= len(grids) <= 12:
                return {"code": code, "street": s["properties"]["code"], "outline": _feature_geom(c),
                        "grids": [(g["properties"]["code"], g["properties"]["name"], _feature_geom(g)) for g in grids]}
    pytest.fail(f"no community with 6 to 12 grids among {sorted(grid_counts)}")


@pytest.fixture(scope="module")
def manager(make_user, login, community):
    return login(*make_user("grid_manager", community["street"]))


def edged(community: dict, metres: float, new_codes: bool = True) -> bytes:
    """The community's grids as a GeoJSON file whose outer edge is off by ``metres``: sticking
    out of the outline on its east half, stopping short of it on its west half."""
    outline = community["outline"]
    d = metres / M_PER_DEG
    x0, y0, x1, y1 = outline.bounds
    cx = (x0 + x1) / 2
    east, west = shapely.box(cx, y0 - 1, x1 + 1, y1 + 1), shapely.box(x0 - 1, y0 - 1, cx, y1 + 1)
    band = shapely.intersection(shapely.difference(outline, shapely.buffer(outline, -d)), west)
    features = []
    for code, name, geom in community["grids"]:
        out = shapely.intersection(shapely.difference(shapely.buffer(geom, d), outline), east)
        moved = shapely.difference(shapely.union(geom, out), band)
        features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(moved)),
                         "properties": {"code": f"{code}S" if new_codes else code, "name": name}})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def _import(client, headers, community, content: bytes, dry_run=True, tolerance=None, **params):
    data = {} if tolerance is None else {"snap_tolerance_m": str(tolerance)}
    return client.post("/api/areas/import", params={"layer": "grid", "parent": community["code"],
                                                    "dry_run": str(dry_run).lower(), "retire_missing": "true",
                                                    **params},
                       data=data, files={"file": ("grids.geojson", content, "application/geo+json")}, headers=headers)


def _current_grids(client, headers, community) -> dict[str, int]:
    features = client.get("/api/areas", params={"kind": "grid", "parent": community["code"]},
                          headers=headers).json()["features"]
    return {f["properties"]["code"]: f["properties"]["version"] for f in features}


def _rows_with(report: dict, reason: str) -> set[int]:
    rows = {f["row"] for f in report["features"] for p in f["problems"] if p["reason"] == reason}
    return rows | {r for p in report["layer_problems"] if p["reason"] == reason for r in p["rows"]}


def test_a_bad_tolerance_is_422_naming_the_field(client, manager, community):
    content = edged(community, 1.5)
    for bad in (80, -1, "nan", "five"):
        res = _import(client, manager, community, content, tolerance=bad)
        assert res.status_code == 422, (bad, res.text)
        assert res.json()["errors"][0]["field"] == "snap_tolerance_m", (bad, res.text)


def test_wide_overhangs_and_gaps_are_refused_by_row_and_nothing_is_written(client, manager, community):
    before = _current_grids(client, manager, community)
    content = edged(community, 40)
    dry = _import(client, manager, community, content)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["snap_tolerance_m"] == 5 and report["summary"]["errors"] > 0
    assert report["snapped"] == [] and report["summary"]["snapped"] == 0
    assert _rows_with(report, "outside_parent"), report  # the east half's rows, each named
    assert _rows_with(report, "gap"), report             # the west half's strip, with the rows beside it
    res = _import(client, manager, community, content, dry_run=False)
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["field"].startswith("features[")
    assert _current_grids(client, manager, community) == before


def test_tolerance_zero_refuses_the_metre_and_a_half(client, manager, community):
    report = _import(client, manager, community, edged(community, 1.5), tolerance=0).json()
    assert report["snap_tolerance_m"] == 0 and report["snapped"] == []
    assert _rows_with(report, "outside_parent") and _rows_with(report, "gap")
    assert report["summary"]["errors"] > 0


def test_the_stored_grids_a_metre_and_a_half_off_the_outline_come_back_unchanged(client, manager, community):
    """Clipped back onto the outline, and each gap given to the grid whose stored ground held
    it, the file is the stored grids again: no new version."""
    report = _import(client, manager, community, edged(community, 1.5, new_codes=False)).json()
    assert report["summary"]["errors"] == 0, report
    assert {x["fix"] for x in report["snapped"]} == {"overhang_clipped", "gap_filled"}
    assert report["summary"]["unchanged"] == len(community["grids"]), report["features"]
    assert report["message"] == "dry run: 0 area(s) would change"


def test_a_narrow_gap_between_two_grids_is_not_snapped_but_refused(client, manager, community):
    """Only the parent's outline is snapped: a metre between two of the file's own grids, even
    where it reaches the outline, is the grid manager's to settle."""
    grids = community["grids"]
    a, b = next((i, j) for i in range(len(grids)) for j in range(len(grids)) if i != j
                and shapely.length(shapely.intersection(grids[i][2].boundary, grids[j][2].boundary)) * M_PER_DEG > 50)
    shrunk = shapely.difference(grids[a][2], shapely.buffer(grids[b][2], 1 / M_PER_DEG))
    features = [{"type": "Feature", "properties": {"code": code, "name": name},
                 "geometry": json.loads(shapely.to_geojson(shrunk if k == a else geom))}
                for k, (code, name, geom) in enumerate(grids)]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    report = _import(client, manager, community, content).json()
    assert report["summary"]["errors"] > 0 and a + 1 in _rows_with(report, "gap"), report
    assert not [x for x in report["snapped"] if x["fix"] == "gap_filled"], report["snapped"]


def test_cli_lists_the_fixes_and_refuses_a_bad_tolerance(monkeypatch, capsys, database_url, community, tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_bytes(edged(community, 1.5))
    args = ["import", path, "--layer", "grid", "--parent", community["code"], "--retire-missing", "--dry-run"]
    code, out, err = run(monkeypatch, capsys, database_url, args)
    assert code == ExitCode.DONE, out + err
    assert "overhang clipped" in out and "gap filled" in out and "snapped to the parent's outline" in out
    code, out, err = run(monkeypatch, capsys, database_url, [*args, "--json"])
    assert code == ExitCode.DONE, out + err
    assert {x["fix"] for x in json.loads(out)["snapped"]} == {"overhang_clipped", "gap_filled"}
    code, out, err = run(monkeypatch, capsys, database_url, [*args, "--snap-tolerance", "0"])
    assert code == ExitCode.FINDINGS and "outside_parent" in out
    code, out, err = run(monkeypatch, capsys, database_url, [*args, "--snap-tolerance", "51"])
    assert code == ExitCode.USAGE and "--snap-tolerance" in err


def test_a_metre_and_a_half_off_the_outline_is_snapped_listed_and_partitions_the_parent(client, manager, admin,
                                                                                        community):
    content = edged(community, 1.5)
    n = len(community["grids"])
    dry = _import(client, manager, community, content)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["summary"]["errors"] == 0, [f["problems"] for f in report["features"] if f["problems"]]
    fixes = report["snapped"]
    assert {x["fix"] for x in fixes} == {"overhang_clipped", "gap_filled"}
    assert report["summary"]["snapped"] == len(fixes)
    rows = {f["row"]: f["code"] for f in report["features"]}
    x0, y0, x1, y1 = community["outline"].bounds
    for x in fixes:
        assert rows[x["row"]] == x["code"] and x["parent_code"] == community["code"]
        assert 1.0 <= x["width_m"] <= 5 and x["area_m2"] > 0
        assert x0 - 1e-3 <= x["lon"] <= x1 + 1e-3 and y0 - 1e-3 <= x["lat"] <= y1 + 1e-3
        assert shapely.geometry.shape(x["geometry"]).area > 0
    east = (x0 + x1) / 2
    assert all(x["lon"] >= east - 1e-4 for x in fixes if x["fix"] == "overhang_clipped")
    assert all(x["lon"] <= east + 1e-4 for x in fixes if x["fix"] == "gap_filled")

    res = _import(client, manager, community, content, dry_run=False, reason="the district's own grid file")
    assert res.status_code == 200, res.text
    applied = res.json()
    assert applied["applied"] and applied["summary"]["created"] == n and applied["summary"]["retired"] == n
    assert [(x["row"], x["fix"]) for x in applied["snapped"]] == [(x["row"], x["fix"]) for x in fixes]

    now = client.get("/api/areas", params={"kind": "grid", "parent": community["code"]},
                     headers=manager).json()["features"]
    assert sorted(f["properties"]["code"] for f in now) == sorted(f"{c}S" for c, _, _ in community["grids"])
    found = client.get(f"/api/areas/{community['code']}/validation", headers=manager).json()["features"]
    assert [f["properties"] for f in found if f["properties"]["reason"] in ("overlap", "gap", "outside_parent")] == []
    union = shapely.union_all([_feature_geom(f) for f in now])
    off = shapely.get_parts(shapely.symmetric_difference(union, community["outline"]))
    widths = 2 * shapely.area(off) / shapely.length(off) * M_PER_DEG if len(off) else [0]
    assert max(widths) < 0.05, "the grids' union is the community up to the 7 decimals' rounding (a few mm)"

    audit = client.get("/api/admin/audit", params={"entity": "area", "limit": 20}, headers=admin).json()
    row = next(a for a in audit if a["action"] == "area.import" and f"{community['grids'][0][0]}S" in a["entity_id"])
    assert row["after"]["snap_tolerance_m"] == 5
    assert [(x["row"], x["fix"]) for x in row["after"]["snapped"]] == [(x["row"], x["fix"]) for x in fixes]
