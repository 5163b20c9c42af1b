"""Bulk routing for users (POST /api/route/batch): CSV or GeoJSON in, the same out, every point
given the grid an independent ST_Covers query picks; a bad row refuses the file whole."""

from __future__ import annotations

import csv
import io

import numpy as np
import orjson
import pytest
import sqlalchemy as sa

from spatial import crs as datums

DISTRICT = "330503"


@pytest.fixture(scope="module")
def dispatcher(make_user, login):
    return login(*make_user("dispatcher", DISTRICT))


@pytest.fixture(scope="module")
def points(engine):
    with engine.connect() as conn:
        xmin, ymin, xmax, ymax = conn.execute(sa.text("""SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
            FROM (SELECT ST_Extent(geom) e FROM area WHERE kind = 'district' AND valid_to IS NULL) x""")).one()
    rng = np.random.default_rng(7)
    return [(float(x), float(y))
            for x, y in zip(rng.uniform(xmin, xmax, 600), rng.uniform(ymin, ymax, 600), strict=True)]


def covering_grid(engine, pts) -> list[str | None]:
    """The independent answer: the lowest-code current grid covering each point."""
    with engine.connect() as conn:
        return [conn.execute(sa.text("""SELECT min(code) FROM area WHERE kind = 'grid' AND valid_to IS NULL
                AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"""), {"x": x, "y": y}).scalar()
                for x, y in pts]


def test_a_csv_of_points_comes_back_routed(client, dispatcher, engine, points):
    body = "id,lon,lat\n" + "".join(f"p{i},{x!r},{y!r}\n" for i, (x, y) in enumerate(points))
    res = client.post("/api/route/batch", content=body.encode(), headers={**dispatcher, "Content-Type": "text/csv"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(len(points))]
    assert [r["grid_code"] or None for r in rows] == covering_grid(engine, points)
    inside = [r for r in rows if r["grid_code"]]
    assert inside and all(r["community_code"] and r["street_code"] and r["district_code"] == DISTRICT for r in inside)


def test_geojson_in_geojson_out_and_gcj02_converted(client, dispatcher, engine, points):
    pts = points[:50]
    gx, gy = datums.wgs84_to_gcj02(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"f{i}", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
         "properties": {}} for i, (x, y) in enumerate(zip(gx, gy, strict=True))]}
    res = client.post("/api/route/batch", params={"crs": "gcj02"}, content=orjson.dumps(doc),
                      headers={**dispatcher, "Content-Type": "application/geo+json"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/geo+json")
    out = res.json()
    assert [f["id"] for f in out["features"]] == [f"f{i}" for i in range(len(pts))]
    back = [tuple(f["geometry"]["coordinates"]) for f in out["features"]]
    assert np.allclose(back, pts, atol=1e-5)  # converted to WGS-84 before routing
    assert [f["properties"]["grid_code"] for f in out["features"]] == covering_grid(engine, back)


def test_a_bad_row_refuses_the_file_whole_naming_the_rows(client, dispatcher, engine):
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'route_batch'")).scalar_one()
    body = "lon,lat\n120.4,30.8\n30.8,120.4\nabc,30.8\n120.4,30.8\n"
    res = client.post("/api/route/batch", content=body.encode(), headers={**dispatcher, "Content-Type": "text/csv"})
    assert res.status_code == 422, res.text
    problems = res.json()["problems"]
    assert [p["row"] for p in problems] == [3, 4]
    assert "swapped" in problems[0]["reason"]
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'route_batch'")).scalar_one()
    assert after == before


@pytest.mark.parametrize("content, content_type, status, field", [
    (b"lon,lat\n", "text/csv", 422, "file"),
    (b"a,b\n1,2\n", "text/csv", 422, "file"),
    (b"not json", "application/geo+json", 422, "file"),
    (b'{"type": "Feature"}', "application/json", 422, "file"),
    (b"lon,lat\n1,2\n", "text/plain", 415, "Content-Type"),
    (b"lon,lat\n" + b"120.4,30.8\n" * 100_001, "text/csv", 422, "file"),
    (b"lon,lat\n\xff\xfe,1\n", "text/csv", 422, "file"),
    (b"id,lon,lat\na\x00b,120.4,30.8\n", "text/csv", 422, "file"),
])
def test_bad_files_are_4xx_naming_the_field(client, dispatcher, content, content_type, status, field):
    res = client.post("/api/route/batch", content=content, headers={**dispatcher, "Content-Type": content_type})
    assert res.status_code == status, res.text
    assert field in [e["field"] for e in res.json()["errors"]]


def _feature_with_id(raw_id: bytes) -> bytes:
    return (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "id": ' + raw_id +
            b', "geometry": {"type": "Point", "coordinates": [120.4, 30.8]}, "properties": {}}]}')


@pytest.mark.parametrize("raw_id", [b"[" * 1000 + b"1" + b"]" * 1000, b'{"a": 1}', b"[1, 2]", b"true"],
                         ids=["list-1000-deep", "object", "list", "boolean"])
def test_a_feature_id_must_be_a_string_or_a_number(client, dispatcher, raw_id):
    res = client.post("/api/route/batch", content=_feature_with_id(raw_id),
                      headers={**dispatcher, "Content-Type": "application/geo+json"})
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["field"] == "file"
    assert res.json()["problems"] == [{"row": 1, "field": "id", "reason": "must be a string or a number"}]


@pytest.mark.parametrize("column", ["id", "lon"])
def test_a_csv_field_over_csvs_own_limit_is_a_row_problem(client, dispatcher, column):
    """Python's csv refuses fields over 131,072 characters (an error naming neither row nor
    column); the file is refused naming both instead."""
    cells = {"id": "a", "lon": "120.4", "lat": "30.8"}
    cells[column] = "1" * 140_000
    body = "id,lon,lat\nok,120.4,30.8\n" + ",".join(cells.values()) + "\n"
    res = client.post("/api/route/batch", content=body.encode(), headers={**dispatcher, "Content-Type": "text/csv"})
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["field"] == "file"
    assert [(p["row"], p["field"]) for p in res.json()["problems"]] == [(3, "id" if column == "id" else "lon/lat")]


def test_a_csv_with_old_mac_line_ends_is_read(client, dispatcher):
    body = "id,lon,lat\ra,120.4,30.8\rb,120.41,30.81\r"
    res = client.post("/api/route/batch", content=body.encode(), headers={**dispatcher, "Content-Type": "text/csv"})
    assert res.status_code == 200, res.text
    assert [r["id"] for r in csv.DictReader(io.StringIO(res.text))] == ["a", "b"]


def test_only_routing_staff_may_route_in_bulk(client, make_user, login):
    analyst = login(*make_user("analyst", DISTRICT))
    res = client.post("/api/route/batch", content=b"lon,lat\n120.4,30.8\n",
                      headers={**analyst, "Content-Type": "text/csv"})
    assert res.status_code == 403


def test_gridgov_route_file_csv_to_geopackage_and_back(engine, settings, points, tmp_path):
    import os
    import subprocess
    from pathlib import Path

    gridgov = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gridgov"
    env = {**os.environ, "DATABASE_URL": settings.url}
    src = tmp_path / "points.csv"
    src.write_text("id,lon,lat\n" + "".join(f"p{i},{x!r},{y!r}\n" for i, (x, y) in enumerate(points[:80])))
    for args in ([src, tmp_path / "routed.gpkg"], [tmp_path / "routed.gpkg", tmp_path / "again.csv"]):
        run = subprocess.run([str(gridgov), "route-file", *map(str, args)], env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "again.csv").read_text())))
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(80)]
    assert [r["grid_code"] or None for r in rows] == covering_grid(engine, points[:80])
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n30.8,120.4\n")
    run = subprocess.run([str(gridgov), "route-file", str(bad), str(tmp_path / "x.csv")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "row 2" in run.stderr and not (tmp_path / "x.csv").exists()
