"""The base-map routes and settings: the local MBTiles file (TMS rows flipped to XYZ, 404 for a
missing tile, 4xx JSON for bad z/x/y), the public offline base, /config.json and the CSP per preset."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from api import basemap
from api.main import create_app
from api.security import content_security_policy


def make_file(path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "t"), ("format", "png")])
    # at z=2 the XYZ row 0 (north) is TMS row 3
    db.execute("INSERT INTO tiles VALUES (2, 1, 3, ?)", (b"\x89PNG north",))
    db.execute("INSERT INTO tiles VALUES (2, 1, 0, ?)", (b"\x89PNG south",))
    db.commit()
    db.close()


@pytest.fixture(scope="module")
def tile_client(settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("mbtiles") / "base.mbtiles"
    make_file(path)
    app = create_app(settings.model_copy(update={"basemap": "mbtiles", "basemap_file": path,
                                                 "supervision_interval_s": 0}))
    with TestClient(app) as c:
        yield c


def test_tiles_are_read_with_the_tms_row_flipped(tile_client):
    r = tile_client.get("/basemap/2/1/0")
    assert r.status_code == 200 and r.content == b"\x89PNG north" and r.headers["content-type"] == "image/png"
    assert tile_client.get("/basemap/2/1/3").content == b"\x89PNG south"


def test_a_missing_tile_is_a_404(tile_client):
    r = tile_client.get("/basemap/2/2/2")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "tile"


@pytest.mark.parametrize("path, field", [("/basemap/2/4/0", "x"), ("/basemap/2/0/9", "y"), ("/basemap/23/0/0", "z"),
                                         ("/basemap/a/0/0", "z"), ("/basemap/1/-1/0", "x")])
def test_bad_tile_addresses_are_4xx_json_naming_the_field(tile_client, path, field):
    r = tile_client.get(path)
    assert 400 <= r.status_code < 500
    assert field in str(r.json()), r.json()


def test_config_names_the_local_file_and_its_zooms(tile_client):
    c = tile_client.get("/config.json").json()
    assert c["basemap"] == "mbtiles" and c["tiles"][0]["url"] == "/basemap/{z}/{x}/{y}" and c["shift"] is None
    assert len(c["extent"]) == 4  # from the database


def test_without_a_preset_there_are_no_tiles_and_the_base_is_public(client):
    c = client.get("/config.json").json()
    assert c["basemap"] == "offline" and c["tiles"] == [] and c["extent"][0] < c["extent"][2]
    assert client.get("/basemap/1/0/0").status_code == 404
    x0, y0, x1, y1 = c["extent"]
    doc = client.get("/api/public/base", params={"zoom": 11, "bbox": f"{x0},{y0},{x1},{y1}"}).json()
    kinds = {f["properties"]["kind"] for f in doc["features"]}
    assert kinds == {"district", "street"}  # communities from 12, grids from 15: never incidents
    assert all(set(f["properties"]) <= {"code", "kind", "name", "name_en", "label"} for f in doc["features"])
    r = client.get("/api/public/base", params={"zoom": 18, "bbox": f"{x0},{y0},{x1},{y1}"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bbox"
    assert client.get("/api/public/base", params={"zoom": 11, "bbox": "1,2,3"}).status_code == 422


@pytest.mark.parametrize("update, hosts", [
    ({"basemap": "amap"}, [f"https://webrd0{s}.is.autonavi.com" for s in "1234"]),
    ({"basemap": "tianditu", "tianditu_key": "k"}, [f"https://t{s}.tianditu.gov.cn" for s in "01234567"]),
    ({"basemap": "xyz", "basemap_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png"},
     [f"https://{s}.tile.example.org" for s in "abc"]),
    ({"basemap": "xyz", "basemap_url": "http://10.0.0.5:8080/wmts/{z}/{x}/{y}"}, ["http://10.0.0.5:8080"]),
])
def test_each_preset_lists_its_tile_hosts_as_they_are(settings, update, hosts):
    csp = content_security_policy(settings.model_copy(update=update))
    img = next(d for d in csp.split("; ") if d.startswith("img-src")).split()
    assert set(hosts) <= set(img)
    assert not any("{" in s or "*" in s for s in img)  # no placeholder, no wildcard: each host as it is


def test_a_url_no_csp_could_allow_is_refused(settings):
    with pytest.raises(ValueError, match="GRIDGOV_BASEMAP_URL"):
        basemap.check(settings.model_copy(update={"basemap": "xyz", "basemap_url": "https://a.{s}.example.org/{z}"}))


def test_a_preset_without_what_it_needs_is_refused_naming_the_setting(clean_env, monkeypatch, tmp_path):
    from pydantic import ValidationError

    from api.settings import Settings

    monkeypatch.setenv("GRIDGOV_HOME", str(tmp_path))
    for preset, setting in [("tianditu", "GRIDGOV_TIANDITU_KEY"), ("xyz", "GRIDGOV_BASEMAP_URL"),
                            ("mbtiles", "GRIDGOV_BASEMAP_FILE")]:
        monkeypatch.setenv("GRIDGOV_BASEMAP", preset)
        with pytest.raises(ValidationError, match=setting):
            Settings()
    monkeypatch.delenv("GRIDGOV_BASEMAP")
    monkeypatch.setenv("GRIDGOV_BASEMAP_URL", "http://tiles.local/{z}/{x}/{y}.png")  # the older setting alone
    assert Settings().basemap == "xyz"
    monkeypatch.setenv("GRIDGOV_BASEMAP", "mbtiles")
    monkeypatch.setenv("GRIDGOV_BASEMAP_FILE", str(tmp_path / "missing.mbtiles"))
    with pytest.raises(ValueError, match="GRIDGOV_BASEMAP_FILE"):
        basemap.check(Settings())
