"""OGC API – Features at /ogc: documents, paging links, bbox, limits, content types, scope,
and GDAL's own OAPIF reader (ogrinfo / ogr2ogr from Debian's gdal-bin) against a live server.

Expected counts come from plain SQL on the area table, not from the code under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
import shapely.geometry
import sqlalchemy as sa

DISTRICT = "330503"
KINDS = ("district", "street", "community", "grid", "zone", "patrol_zone")
JSON = "application/json"
GEOJSON = "application/geo+json"
GDAL_MISSING = "ogrinfo/ogr2ogr not installed (Debian gdal-bin: `make gdal`, or apt-get install gdal-bin)"


def _scalar(engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


def _grids_under(engine, street: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT g.code FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.parent_code = :s"""), {"s": street})
        return {r.code for r in rows}


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def street(engine) -> str:
    return _scalar(engine, "SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL ORDER BY code LIMIT 1")


@pytest.fixture(scope="module")
def street_manager(make_user, login, street):
    return login(*make_user("grid_manager", street))


@pytest.fixture(scope="module")
def grid_count(engine) -> int:
    return _scalar(engine, "SELECT count(*) FROM area WHERE kind = 'grid' AND valid_to IS NULL")


def _ctype(res) -> str:
    return res.headers["content-type"]


# --------------------------------------------------------------------------- documents

def test_landing_page_links_are_absolute_and_typed(client):
    res = client.get("/ogc")
    assert res.status_code == 200 and _ctype(res) == JSON
    links = {link["rel"]: link for link in res.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= links.keys()
    assert links["service-desc"]["href"] == "http://testserver/openapi.json"
    assert links["data"]["href"] == "http://testserver/ogc/collections"
    assert client.get(links["service-desc"]["href"]).status_code == 200


def test_conformance_declares_core_geojson_and_openapi(client):
    res = client.get("/ogc/conformance", params={"f": "json"})
    assert res.status_code == 200 and _ctype(res) == JSON
    classes = res.json()["conformsTo"]
    for name in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_unknown_format_is_refused_naming_f(client):
    res = client.get("/ogc/conformance", params={"f": "html"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "f"


@pytest.mark.parametrize("path", ["/ogc/collections", "/ogc/collections/grid", "/ogc/collections/grid/items",
                                  "/ogc/collections/grid/items/330503001002004"])
def test_anonymous_gets_401_json(client, path):
    res = client.get(path)
    assert res.status_code == 401 and _ctype(res) == JSON
    assert res.json()["detail"]


def test_collections_one_per_kind_with_extent_from_data(client, admin, engine):
    res = client.get("/ogc/collections", headers=admin)
    assert res.status_code == 200 and _ctype(res) == JSON
    found = {c["id"]: c for c in res.json()["collections"]}
    assert set(found) == {*KINDS, "place"}  # the area kinds and the places register
    with engine.connect() as conn:
        ext = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM area WHERE kind = 'grid' AND valid_to IS NULL) x")).one()
    bbox = found["grid"]["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx(list(ext), abs=1e-6)
    items = next(link for link in found["grid"]["links"] if link["rel"] == "items")
    assert items["href"] == "http://testserver/ogc/collections/grid/items" and items["type"] == GEOJSON
    one = client.get("/ogc/collections/grid", headers=admin)
    assert one.status_code == 200 and one.json()["id"] == "grid"


def test_unknown_collection_is_404_json(client, admin):
    for path in ("/ogc/collections/parcels", "/ogc/collections/parcels/items"):
        res = client.get(path, headers=admin)
        assert res.status_code == 404 and _ctype(res) == JSON


# --------------------------------------------------------------------------- items and paging

def _link(doc: dict, rel: str) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


def test_items_are_geojson_with_counts_and_timestamp(client, admin, grid_count):
    res = client.get("/ogc/collections/grid/items", params={"limit": 7}, headers=admin)
    assert res.status_code == 200 and _ctype(res) == GEOJSON
    doc = res.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"]) == 7
    assert doc["numberMatched"] == grid_count
    assert doc["timeStamp"].endswith("Z")
    assert all(f["geometry"]["type"] == "MultiPolygon" and f["id"] == f["properties"]["code"] for f in doc["features"])
    assert _link(doc, "prev") is None


def test_next_links_walk_every_feature_once_keeping_the_query(client, admin, grid_count):
    url = "/ogc/collections/grid/items?limit=400&f=json"
    seen, pages = [], 0
    while url:
        res = client.get(url, headers=admin)
        assert res.status_code == 200, res.text
        doc = res.json()
        seen += [f["id"] for f in doc["features"]]
        pages += 1
        url = _link(doc, "next")
        if url:
            parts = urlsplit(url)
            assert parts.scheme == "http" and parts.netloc == "testserver"
            query = parse_qs(parts.query)
            assert query["f"] == ["json"] and query["limit"] == ["400"]
            assert query["offset"] == [str(400 * pages)]
    assert len(seen) == len(set(seen)) == grid_count
    assert pages == -(-grid_count // 400)


def test_prev_link_and_offset(client, admin):
    first = client.get("/ogc/collections/grid/items", params={"limit": 5}, headers=admin).json()
    second = client.get(_link(first, "next"), headers=admin).json()
    assert [f["id"] for f in first["features"]] != [f["id"] for f in second["features"]]
    back = client.get(_link(second, "prev"), headers=admin).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]


def test_limit_is_clamped_not_refused(client, admin, settings, grid_count):
    res = client.get("/ogc/collections/grid/items", params={"limit": 100000}, headers=admin)
    assert res.status_code == 200
    doc = res.json()
    assert doc["numberReturned"] == min(settings.page_limit_max, grid_count)
    assert parse_qs(urlsplit(_link(doc, "next")).query)["limit"] == [str(settings.page_limit_max)]
    small = client.get("/ogc/collections/grid/items", params={"limit": 0}, headers=admin)
    assert small.status_code == 200 and small.json()["numberReturned"] == 1


def test_bbox_filters_and_is_kept_in_next_link(client, admin, engine):
    with engine.connect() as conn:
        code, xmin, ymin, xmax, ymax = conn.execute(sa.text("""
            SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM area
            WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1""")).one()
        expected = conn.execute(sa.text("""SELECT count(*) FROM area WHERE kind = 'grid' AND valid_to IS NULL
                                           AND geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"""),
                                {"a": xmin, "b": ymin, "c": xmax, "d": ymax}).scalar()
    bbox = f"{xmin},{ymin},{xmax},{ymax}"
    res = client.get("/ogc/collections/grid/items", params={"bbox": bbox, "limit": 1}, headers=admin)
    doc = res.json()
    assert res.status_code == 200 and doc["numberMatched"] == expected >= 1
    if expected > 1:
        assert parse_qs(urlsplit(_link(doc, "next")).query)["bbox"] == [bbox]
    every = client.get("/ogc/collections/grid/items", params={"bbox": bbox, "limit": 1000}, headers=admin).json()
    assert code in {f["id"] for f in every["features"]}
    bad = client.get("/ogc/collections/grid/items", params={"bbox": "1,2,3"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "bbox"


def test_one_item(client, admin, engine):
    code = _scalar(engine, "SELECT code FROM area WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1")
    res = client.get(f"/ogc/collections/grid/items/{code}", headers=admin)
    assert res.status_code == 200 and _ctype(res) == GEOJSON
    doc = res.json()
    assert doc["type"] == "Feature" and doc["id"] == code
    assert _link(doc, "self") == f"http://testserver/ogc/collections/grid/items/{code}"
    assert client.get("/ogc/collections/street/items/" + code, headers=admin).status_code == 404


# --------------------------------------------------------------------------- scope

def test_street_manager_sees_only_its_streets_grids(client, street_manager, engine, street):
    expected = _grids_under(engine, street)
    doc = client.get("/ogc/collections/grid/items", params={"limit": 1000}, headers=street_manager).json()
    assert doc["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in doc["features"]} == expected
    other = _scalar(engine, """SELECT g.code FROM area g JOIN area c ON c.code = g.parent_code
                               WHERE g.kind = 'grid' AND g.valid_to IS NULL AND c.valid_to IS NULL
                                 AND c.parent_code <> :s ORDER BY g.code LIMIT 1""", s=street)
    res = client.get(f"/ogc/collections/grid/items/{other}", headers=street_manager)
    assert res.status_code == 404 and _ctype(res) == JSON
    mine = sorted(expected)[0]
    assert client.get(f"/ogc/collections/grid/items/{mine}", headers=street_manager).status_code == 200


# --------------------------------------------------------------------------- GDAL reads it

@pytest.fixture(scope="module")
def gdal_env(admin):
    if not (shutil.which("ogrinfo") and shutil.which("ogr2ogr")):
        pytest.skip(GDAL_MISSING)
    return {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: {admin['Authorization']}",
            "GDAL_HTTP_TIMEOUT": "60", "CPL_VSIL_CURL_USE_HEAD": "NO"}


def test_ogrinfo_lists_every_layer(live_server, gdal_env):
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc"], env=gdal_env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for kind in KINDS:
        assert f": {kind}" in out.stdout, out.stdout


def test_ogrinfo_without_token_is_refused(live_server, gdal_env):
    env = {k: v for k, v in gdal_env.items() if k != "GDAL_HTTP_HEADERS"}
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and "401" in out.stderr, out.stdout + out.stderr


def test_ogr2ogr_copies_every_grid(live_server, gdal_env, grid_count, tmp_path):
    target = tmp_path / "grids.gpkg"
    out = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server}/ogc", "grid"], env=gdal_env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    info = pyogrio.read_info(target, layer="grid")
    assert info["features"] == grid_count
    frame = pyogrio.read_dataframe(target, layer="grid", columns=["code"])
    assert frame["code"].nunique() == grid_count


# --------------------------------------------------------------------------- history (datetime)

def test_datetime_instant_shows_the_boundaries_as_they_were(client, admin, engine):
    import json as _json
    from datetime import datetime, timedelta

    with engine.connect() as conn:
        g = conn.execute(sa.text("SELECT code, name, parent_code, ST_AsGeoJSON(geom, 15) AS geom FROM area "
                                 "WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code DESC LIMIT 1")).one()
    before = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": _json.loads(g.geom),
                                                      "properties": {"code": g.code, "name": g.name + "（新）"}}]}
    res = client.post("/api/areas/import", params={"layer": "grid", "parent": g.parent_code, "dry_run": "false"},
                      files={"file": ("g.geojson", _json.dumps(doc).encode(), "application/geo+json")}, headers=admin)
    assert res.status_code == 200 and res.json()["summary"]["changed"] == 1, res.text
    now = client.get(f"/ogc/collections/grid/items/{g.code}", headers=admin).json()
    then = client.get(f"/ogc/collections/grid/items/{g.code}", params={"datetime": before}, headers=admin)
    assert then.status_code == 200
    assert (now["properties"]["name"], then.json()["properties"]["name"]) == (g.name + "（新）", g.name)
    assert "datetime=" in _link(then.json(), "self")
    box = shapely.geometry.shape(_json.loads(g.geom)).bounds
    page = client.get("/ogc/collections/grid/items", headers=admin,
                      params={"datetime": before, "bbox": ",".join(map(str, box)), "limit": 1000}).json()
    assert {f["id"]: f["properties"]["name"] for f in page["features"]}[g.code] == g.name
    bad = client.get("/ogc/collections/grid/items", params={"datetime": "2026-01-01/.."}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "datetime"
