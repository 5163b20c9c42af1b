"""Area layers as files: export, import (dry run and atomic apply), formats, CRS, problems by row,
scope, limits, and the ``gridgov import`` / ``gridgov export`` commands.

Every expectation is read back from the database with plain SQL (versions, names).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from spatial.crs import transform_geometry, wgs84_to_gcj02

DISTRICT = "330503"
GPKG = "application/geopackage+sqlite3"


def _rows(engine, query: str, **params) -> list:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


@pytest.fixture(scope="module")
def street(engine) -> str:
    """The street with the fewest grids (short files, quick checks)."""
    return _rows(engine, """
        SELECT c.parent_code FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
        WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.kind = 'community'
        GROUP BY c.parent_code ORDER BY count(*), c.parent_code LIMIT 1""")[0].parent_code


@pytest.fixture(scope="module")
def street_grids(engine, street) -> dict[str, int]:
    """code -> current version of every grid under the street."""
    return {r.code: r.version for r in _rows(engine, """
        SELECT g.code, g.version FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
        WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.parent_code = :s""", s=street)}


@pytest.fixture(scope="module")
def manager(make_user, login, street):
    return login(*make_user("grid_manager", street))


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


def _versions(engine, codes) -> dict[str, int]:
    """code -> number of stored versions (rows, current and closed)."""
    rows = _rows(engine, "SELECT code, count(*) AS n FROM area WHERE code = ANY(:c) GROUP BY code", c=list(codes))
    return {r.code: r.n for r in rows}


def _export(client, headers, street, fmt="gpkg", **params) -> bytes:
    res = client.get("/api/areas/export", params={"layer": "grid", "parent": street, "format": fmt, **params},
                     headers=headers)
    assert res.status_code == 200, res.text
    return res.content


def _import(client, headers, street, content: bytes, name: str, dry_run=True, **params):
    return client.post("/api/areas/import",
                       params={"layer": "grid", "parent": street, "dry_run": str(dry_run).lower(), **params},
                       files={"file": (name, content, "application/octet-stream")}, headers=headers)


def _frame(content: bytes, suffix: str, tmp_path) -> gpd.GeoDataFrame:
    path = tmp_path / f"layer{suffix}"
    path.write_bytes(content)
    return gpd.read_file(path)


def _write(frame: gpd.GeoDataFrame, tmp_path, name="edited.gpkg", driver="GPKG") -> bytes:
    path = tmp_path / name
    pyogrio.write_dataframe(frame, path, driver=driver, layer="grid")
    return path.read_bytes()


# --------------------------------------------------------------------------- export

def test_export_a_streets_grids_to_geopackage(client, manager, street, street_grids, tmp_path):
    res = client.get("/api/areas/export", params={"layer": "grid", "parent": street, "format": "gpkg"},
                     headers=manager)
    assert res.status_code == 200
    assert res.headers["content-type"] == GPKG
    assert f'filename="grid-{street}.gpkg"' in res.headers["content-disposition"]
    frame = _frame(res.content, ".gpkg", tmp_path)
    assert set(frame["code"]) == set(street_grids)
    assert frame.crs.to_epsg() == 4326
    assert {"name", "parent_code", "version", "households"} <= set(frame.columns)


@pytest.mark.parametrize("fmt,check", [
    ("geojson", lambda b: json.loads(b)["type"] == "FeatureCollection"),
    ("shp", lambda b: any(n.endswith(".prj") for n in zipfile.ZipFile(io.BytesIO(b)).namelist())),
    ("kml", lambda b: b"<kml" in b[:400]),
])
def test_export_formats(client, manager, street, fmt, check):
    assert check(_export(client, manager, street, fmt))


def test_export_is_scoped(client, manager, engine, street):
    other = _rows(engine, "SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL AND code <> :s "
                          "ORDER BY code LIMIT 1", s=street)[0].code
    res = client.get("/api/areas/export", params={"layer": "grid", "parent": other}, headers=manager)
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "parent"
    assert client.get("/api/areas/export", params={"layer": "grid"}).status_code == 401


# --------------------------------------------------------------------------- round trip

def test_round_trip_geopackage_unchanged_writes_nothing(client, manager, engine, street, street_grids):
    content = _export(client, manager, street)
    before = _versions(engine, street_grids)
    dry = _import(client, manager, street, content, "grids.gpkg")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["summary"]["unchanged"] == len(street_grids)
    assert report["summary"]["created"] == report["summary"]["changed"] == report["summary"]["errors"] == 0
    assert report["missing"] == [] and report["file_format"] == "gpkg"
    res = _import(client, manager, street, content, "grids.gpkg", dry_run=False)
    assert res.status_code == 200, res.text
    assert res.json()["versions"] == {}
    assert _versions(engine, street_grids) == before


@pytest.mark.parametrize("fmt,name", [("shp", "grids.shp.zip"), ("kml", "grids.kml"), ("geojson", "grids.geojson")])
def test_other_formats_read_back_unchanged(client, manager, street, street_grids, fmt, name):
    report = _import(client, manager, street, _export(client, manager, street, fmt), name)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["file_format"] == fmt
    others = [f for f in body["features"] if f["change"] != "unchanged"]
    assert body["summary"]["unchanged"] == len(street_grids), others


def test_gcj02_file_is_converted(client, manager, street, street_grids, tmp_path):
    frame = _frame(_export(client, manager, street, "geojson"), ".geojson", tmp_path)
    frame = frame.set_geometry(transform_geometry(frame.geometry.values, wgs84_to_gcj02), crs="EPSG:4326")
    content = _write(frame, tmp_path, "gcj.geojson", "GeoJSON")
    shifted = _import(client, manager, street, content, "gcj.geojson").json()
    assert shifted["summary"]["unchanged"] == 0  # read as WGS-84, every grid moved by hundreds of metres
    res = _import(client, manager, street, content, "gcj.geojson", crs="gcj02")
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["converted"] == "gcj02"
    assert report["summary"]["unchanged"] == len(street_grids)


def test_projected_file_is_reprojected(client, manager, street, street_grids, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path).to_crs("EPSG:4549")  # CGCS2000 / 3° GK 120E
    report = _import(client, manager, street, _write(frame, tmp_path), "gk.gpkg").json()
    assert report["converted"].startswith("EPSG:4549")
    assert report["summary"]["unchanged"] == len(street_grids)


# --------------------------------------------------------------------------- problems, nothing written

def test_self_intersecting_polygon_is_a_row_error_and_nothing_is_written(client, manager, engine, street,
                                                                         street_grids, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    frame["name"] = frame["name"] + "·新"  # every other feature changes: an apply would write them all
    x0, y0, x1, y1 = frame.geometry.iloc[2].bounds
    frame.loc[2, "geometry"] = shapely.MultiPolygon([shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])])
    content = _write(frame, tmp_path)
    before = _versions(engine, street_grids)

    dry = _import(client, manager, street, content, "bad.gpkg")
    assert dry.status_code == 200
    row = next(f for f in dry.json()["features"] if f["row"] == 3)
    assert row["change"] == "error" and row["code"] == frame.loc[2, "code"]
    assert any(p["reason"] == "invalid_geometry" and "Self-intersection" in p["detail"] for p in row["problems"])

    res = _import(client, manager, street, content, "bad.gpkg", dry_run=False)
    assert res.status_code == 422
    body = res.json()
    assert body["errors"][0]["field"] == "features[3].geometry"
    assert body["report"]["applied"] is False
    assert _versions(engine, street_grids) == before


def test_overlap_is_reported_with_the_rows_involved(client, manager, street, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    frame.loc[0, "geometry"] = frame.geometry.iloc[0].buffer(0.002)
    report = _import(client, manager, street, _write(frame, tmp_path), "x.gpkg").json()
    first = next(f for f in report["features"] if f["row"] == 1)
    reasons = {p["reason"] for p in first["problems"]}
    assert {"overlap", "outside_parent"} & reasons, first
    overlap = next(p for p in first["problems"] if p["reason"] in ("overlap", "outside_parent"))
    assert "m²" in overlap["detail"]
    assert report["summary"]["errors"] >= 1 and first["change"] == "error"


def test_duplicate_code_names_both_rows(client, manager, street, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    last = len(frame)
    frame.loc[last - 1, "code"] = frame.loc[1, "code"]
    report = _import(client, manager, street, _write(frame, tmp_path), "x.gpkg").json()
    problems = {(f["row"], p["reason"]): p["detail"] for f in report["features"] for p in f["problems"]}
    assert f"also in row {last}" in problems[(2, "duplicate_code")]
    assert "also in row 2" in problems[(last, "duplicate_code")]


def test_missing_areas_are_reported_and_retired_only_when_asked(client, manager, engine, street, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    dropped = frame.loc[0, "code"]
    content = _write(frame.iloc[1:], tmp_path)
    report = _import(client, manager, street, content, "x.gpkg").json()
    assert report["missing"] == [dropped] and report["summary"]["errors"] == 0
    assert report["summary"]["retired"] == 0
    retiring = _import(client, manager, street, content, "x.gpkg", retire_missing="true").json()
    assert retiring["summary"]["retired"] == 1
    problems = [p for f in retiring["features"] for p in f["problems"]] + retiring["layer_problems"]
    assert any(p["reason"] == "gap" for p in problems)  # its ground would be in no grid
    assert _versions(engine, [dropped]) == {dropped: 1}


def test_changed_name_saves_the_next_version_and_as_of_export_shows_the_old(client, manager, engine, street,
                                                                            street_grids, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    code, old_name = frame.loc[0, "code"], frame.loc[0, "name"]
    frame.loc[0, "name"] = old_name + "（更名）"
    before = datetime.now(UTC) - timedelta(seconds=1)
    res = _import(client, manager, street, _write(frame, tmp_path), "x.gpkg", dry_run=False, reason="rename test")
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["applied"] and report["summary"]["changed"] == 1
    version = street_grids[code] + 1
    assert report["versions"] == {code: version}
    current = _rows(engine, "SELECT name, version FROM area WHERE code = :c AND valid_to IS NULL", c=code)[0]
    assert (current.name, current.version) == (old_name + "（更名）", version)
    past = _frame(_export(client, manager, street, "geojson", as_of=before.isoformat()), ".geojson", tmp_path)
    assert past.set_index("code").loc[code, "name"] == old_name


# --------------------------------------------------------------------------- bad files

def test_garbage_file_names_the_file_field(client, manager, street):
    res = _import(client, manager, street, b"\x00\x01not a layer at all" * 10, "x.gpkg")
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "file"
    empty = _import(client, manager, street, b"", "x.gpkg")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"


def test_projected_coordinates_claiming_wgs84_name_the_crs_field(client, manager, street):
    square = [[[500000, 3400000], [501000, 3400000], [501000, 3401000], [500000, 3400000]]]
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "x", "name": "x"},
                                                      "geometry": {"type": "Polygon", "coordinates": square}}]}
    res = _import(client, manager, street, json.dumps(doc).encode(), "x.geojson")
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "crs"
    bad = _import(client, manager, street, json.dumps(doc).encode(), "x.geojson", crs="EPSG:999999")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "crs"


def test_missing_code_column_names_it(client, manager, street, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path).drop(columns=["code"])
    res = _import(client, manager, street, _write(frame, tmp_path), "x.gpkg")
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "code"


def test_oversized_upload_is_413(client, manager, street):
    res = _import(client, manager, street, b"0" * 8_500_000, "big.geojson")
    assert res.status_code == 413 and res.json()["errors"][0]["field"] == "file"


def _zipped_shapefile(frame: gpd.GeoDataFrame, tmp_path, name="points") -> bytes:
    folder = tmp_path / name
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / f"{name}.shp")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    return out.getvalue()


def test_a_file_over_the_feature_cap_is_refused_by_its_count_unread(client, manager, street, tmp_path,
                                                                     monkeypatch):
    """The probe's zipped shapefile of many points: the count is in the file's header, so the
    features are never read (before: all of them were, then counted)."""
    from spatial.io import read

    n = read.MAX_FEATURES + 10_000
    frame = gpd.GeoDataFrame({"code": [str(i) for i in range(n)], "name": ["x"] * n},
                             geometry=shapely.points(np.full(n, 120.4), np.full(n, 30.8)), crs=4326)
    content = _zipped_shapefile(frame, tmp_path)
    assert len(content) < 8_000_000
    rows_read = []
    real = pyogrio.read_dataframe

    def counted(*args, **kwargs):  # the real reader, counting the features it returns
        out = real(*args, **kwargs)
        rows_read.append(len(out))
        return out

    monkeypatch.setattr(pyogrio, "read_dataframe", counted)
    res = _import(client, manager, street, content, "points.zip")
    assert res.status_code == 422, res.text
    assert sum(rows_read) <= read.MAX_FEATURES + 1, rows_read
    error = res.json()["errors"][0]
    assert error["field"] == "file" and f"{n:,} features" in error["reason"] and "50,000" in error["reason"]


def _broken_files(tmp_path) -> dict[str, bytes]:
    frame = gpd.GeoDataFrame({"code": ["a", "b"], "name": ["x", "y"]}, crs=4326,
                             geometry=[shapely.box(120, 30, 120.1, 30.1), shapely.box(120.1, 30, 120.2, 30.1)])
    gpkg, plain = tmp_path / "ok.gpkg", tmp_path / "plain.sqlite"
    pyogrio.write_dataframe(frame, gpkg, layer="grid")
    import sqlite3
    with sqlite3.connect(plain) as con:
        con.execute("CREATE TABLE t (a)")
    gpkg_bytes = gpkg.read_bytes()
    geojson = json.dumps(json.loads(frame.to_json()), indent=1).encode()
    kml_path = tmp_path / "ok.kml"
    pyogrio.write_dataframe(frame, kml_path, driver="KML")
    kml = kml_path.read_bytes()
    shp = _zipped_shapefile(frame, tmp_path, "ok")
    return {
        "x.gpkg": gpkg_bytes[:len(gpkg_bytes) // 2],                      # truncated
        "y.gpkg": b"SQLite format 3\x00" + b"\x00" * 300,                  # a header, then nothing
        "z.gpkg": plain.read_bytes(),                                     # SQLite, but no GeoPackage
        "x.geojson": geojson[:len(geojson) // 2],                          # truncated
        "y.geojson": b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                     b'"geometry": ' + b"[" * 2000 + b"]" * 2000 + b"}]}",  # nested 2000 deep
        "z.geojson": b'{"type": "Topology", "objects": {}}',              # JSON, not GeoJSON
        "w.geojson": b'{"type": "FeatureCollection", "features": [}',      # a syntax error
        "x.kml": kml[:len(kml) // 2],                                      # truncated
        "y.kml": b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                 b"<Placemark><name>a</Placemark></Document></kml>",       # mismatched tags
        "x.zip": shp[:len(shp) // 2],                                      # truncated
    }


BROKEN_REASONS = {
    "x.gpkg": "not a readable GeoPackage: the file is truncated or damaged",
    "y.gpkg": "not a readable GeoPackage",
    "z.gpkg": "not a GeoPackage",
    "x.geojson": "the file is truncated",
    "y.geojson": "nested",
    "z.geojson": "not a GeoJSON",
    "w.geojson": "line 1",
    "x.kml": "the file is truncated",
    "y.kml": "mismatched tag",
    "x.zip": "truncated or damaged",
}
LEAKS = ("/tmp", "gridgov-import", "upload.", "vsizip", "sqlite3_", "Failed to read", "OGR", "GDAL", "ERROR parsing")


@pytest.mark.parametrize("name", sorted(BROKEN_REASONS))
def test_a_broken_file_is_told_in_words_without_paths_or_gdal_internals(client, manager, street, tmp_path, name):
    res = _import(client, manager, street, _broken_files(tmp_path)[name], name)
    assert res.status_code == 422, res.text
    error = res.json()["errors"][0]
    assert error["field"] == "file", res.text
    assert BROKEN_REASONS[name] in error["reason"], res.text
    assert not [leak for leak in LEAKS if leak in res.text], res.text


def test_a_zip_that_would_unpack_to_more_than_the_cap_is_refused_unread(client, manager, street, tmp_path):
    """70 MB of zeros zip to 70 kB: the sizes in the zip's directory are checked before GDAL reads."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shx", "dbf"):
            zf.writestr(f"big.{ext}", b"")
        zf.writestr("big.shp", b"\x00" * 70_000_000)
    assert len(out.getvalue()) < 1_000_000
    res = _import(client, manager, street, out.getvalue(), "big.zip")
    assert res.status_code == 422, res.text
    error = res.json()["errors"][0]
    assert error["field"] == "file" and "70.0 MB" in error["reason"] and "64.0 MB" in error["reason"], res.text


def test_attributes_nested_too_deep_are_a_row_problem(client, manager, street, tmp_path):
    square = {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30]]]}
    deep = "[" * 1000 + "]" * 1000
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": square, "properties": {
        "code": "deep-1", "name": "x", "attributes": json.dumps({"a": "x"})[:-1] + f', "b": {deep}}}'}}]}
    res = _import(client, manager, street, json.dumps(doc).encode(), "x.geojson")
    assert res.status_code == 200, res.text
    problems = res.json()["features"][0]["problems"]
    assert [p["field"] for p in problems if p["reason"] == "bad_attributes"] == ["attributes"], problems


def test_import_needs_edit_rights_in_scope(client, make_user, login, engine, street):
    content = b'{"type": "FeatureCollection", "features": []}'
    analyst = login(*make_user("analyst", DISTRICT))
    assert _import(client, analyst, street, content, "x.geojson").status_code == 403
    other = _rows(engine, "SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL AND code <> :s "
                          "ORDER BY code LIMIT 1", s=street)[0].code
    outsider = login(*make_user("grid_manager", other))
    res = _import(client, outsider, street, content, "x.geojson")
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "parent"
    assert _import(client, {}, street, content, "x.geojson").status_code == 401


# --------------------------------------------------------------------------- the command line

def _cli(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_cli_export_then_dry_run_import(database_url, street, street_grids, tmp_path):
    out = tmp_path / "grids.gpkg"
    res = _cli(database_url, "export", "--layer", "grid", "--parent", street, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert len(gpd.read_file(out)) == len(street_grids)
    res = _cli(database_url, "import", str(out), "--layer", "grid", "--parent", street, "--dry-run")
    assert res.returncode == 0, res.stderr + res.stdout
    assert f"{len(street_grids)} unchanged" in res.stdout


def test_cli_import_lists_row_problems_and_fails(database_url, street, tmp_path):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "", "name": "x"},
                                                      "geometry": {"type": "Point", "coordinates": [120.3, 30.8]}}]}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(doc))
    res = _cli(database_url, "import", str(path), "--layer", "grid", "--parent", street)
    assert res.returncode == 1
    assert "row 1" in res.stdout and "not_polygon" in res.stdout and "missing_code" in res.stdout


def test_moved_border_saves_both_grids_and_keeps_the_partition(client, manager, engine, street, street_grids,
                                                                tmp_path):
    from spatial.partition.validate import violations

    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    geoms = frame.geometry.values
    pairs = [(i, j) for i in range(len(frame)) for j in range(i + 1, len(frame))
             if frame.loc[i, "parent_code"] == frame.loc[j, "parent_code"]
             and shapely.length(shapely.intersection(geoms[i].boundary, geoms[j].boundary)) > 0.002]
    i, j = pairs[0]
    piece = shapely.intersection(geoms[j], geoms[i].buffer(0.0005))
    frame.loc[i, "geometry"] = shapely.union(geoms[i], piece)
    frame.loc[j, "geometry"] = shapely.difference(geoms[j], piece)
    a, b = frame.loc[i, "code"], frame.loc[j, "code"]
    res = _import(client, manager, street, _write(frame, tmp_path), "moved.gpkg", dry_run=False, reason="border")
    assert res.status_code == 200, res.text
    report = res.json()
    assert sorted(report["versions"]) == sorted([a, b]) and report["summary"]["changed"] == 2
    parent = frame.loc[i, "parent_code"]
    with engine.connect() as conn:
        kids = conn.execute(sa.text("SELECT code, ST_AsBinary(geom) AS g FROM area WHERE parent_code = :p "
                                    "AND kind = 'grid' AND valid_to IS NULL"), {"p": parent}).all()
        outline = conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM area WHERE code = :p AND valid_to IS NULL"),
                               {"p": parent}).scalar()
    found = violations([(k.code, shapely.from_wkb(bytes(k.g))) for k in kids], shapely.from_wkb(bytes(outline)))
    assert [v for v in found if v["reason"] in ("overlap", "gap", "outside_parent")] == []
    again = _frame(_export(client, manager, street), ".gpkg", tmp_path).set_index("code")
    assert again.loc[[a, b]].geometry.is_valid.all()  # still valid once written with 7 decimals


def test_split_by_file_creates_new_codes_retires_the_old_and_as_of_export_shows_it(
        client, manager, engine, street, tmp_path):
    frame = _frame(_export(client, manager, street), ".gpkg", tmp_path)
    old = frame.loc[5, "code"]
    geom = frame.geometry.iloc[5]
    x0, _, x1, _ = geom.bounds
    cut = (x0 + x1) / 2
    minx, miny, maxx, maxy = geom.bounds
    west = shapely.intersection(geom, shapely.box(minx - 1, miny - 1, cut, maxy + 1))
    east = shapely.intersection(geom, shapely.box(cut, miny - 1, maxx + 1, maxy + 1))
    halves = gpd.GeoDataFrame({"code": [old + "91", old + "92"], "name": ["西半", "东半"],
                               "parent_code": [frame.loc[5, "parent_code"]] * 2}, geometry=[west, east], crs=4326)
    kept = frame.drop(index=5)[["code", "name", "parent_code", "geometry"]]
    edited = gpd.GeoDataFrame(list(kept.to_dict("records")) + list(halves.to_dict("records")), crs=4326)
    before = datetime.now(UTC) - timedelta(seconds=1)
    res = _import(client, manager, street, _write(edited, tmp_path), "split.gpkg", dry_run=False,
                  retire_missing="true")
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["summary"]["created"] == 2 and report["summary"]["retired"] == 1
    assert sorted(report["versions"]) == sorted([old, old + "91", old + "92"])
    assert report["versions"][old + "91"] == report["versions"][old + "92"] == 1
    assert _rows(engine, "SELECT count(*) AS n FROM area WHERE code = :c AND valid_to IS NULL", c=old)[0].n == 0
    now = set(_frame(_export(client, manager, street, "geojson"), ".geojson", tmp_path)["code"])
    assert {old + "91", old + "92"} <= now and old not in now
    past = set(_frame(_export(client, manager, street, "geojson", as_of=before.isoformat()), ".geojson",
                      tmp_path)["code"])
    assert old in past and not ({old + "91", old + "92"} & past)
