"""The places register (民情地图): places built through the API as users would, new versions on
every change, history, scope (another street's staff see nothing), the contact only with
read_place_contact and each read audited; file import with a dry run naming each bad row and
writing nothing, GCJ-02 converted as spatial.crs converts; export without contacts; grid
aggregates as counts."""

from __future__ import annotations

import io
import json
import time

import pytest
import sqlalchemy as sa

from spatial import crs as datums

STREET_A = "330503001"   # 东迁街道
GRID_A = "330503001001001"
POINT_A = (120.36356736892097, 30.87223995)
STREET_B = "330503108"   # 石淙镇
POINT_B = (120.25511565128875, 30.760447149999997)


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", "330503"))


@pytest.fixture(scope="module")
def worker_a(make_user, login):
    return login(*make_user("grid_worker", STREET_A))


@pytest.fixture(scope="module")
def manager_b(make_user, login):
    return login(*make_user("grid_manager", STREET_B))


def place(code: str, point=POINT_A, **extra) -> dict:
    return {"code": code, "category": "restaurant", "name": f"小吃店 {code}", "address": "东迁街道 1 号",
            "licences": ["JY13305030001"], "responsible": "王五", "contact": "13800000001",
            "risk_level": "medium", "lon": point[0], "lat": point[1], **extra}


def audit_rows(engine, code: str, action: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE entity = 'place' AND entity_id = :c "
                                    "AND action = :a"), {"c": code, "a": action}).scalar_one()


def test_a_place_is_created_routed_versioned_and_kept_in_history(client, engine, worker_a):
    res = client.post("/api/places", headers=worker_a, json=place("T-P1"))
    assert res.status_code == 201, res.text
    doc = res.json()
    assert doc["version"] == 1 and doc["grid_code"] == GRID_A and doc["street_code"] == STREET_A
    assert doc["district_code"] == "330503" and doc["has_contact"]
    assert audit_rows(engine, "T-P1", "place.create") == 1

    res = client.patch("/api/places/T-P1", headers=worker_a, json={"risk_level": "high", "reason": "gas cylinders"})
    assert res.status_code == 200, res.text
    assert res.json()["version"] == 2 and res.json()["risk_level"] == "high" and res.json()["name"] == "小吃店 T-P1"
    hist = client.get("/api/places/T-P1/history", headers=worker_a).json()
    assert [v["version"] for v in hist["versions"]] == [1, 2]
    assert [v["risk_level"] for v in hist["versions"]] == ["medium", "high"]
    assert hist["versions"][0]["valid_to"] == hist["versions"][1]["valid_from"]
    assert all("contact" not in v or v["contact"] is None for v in hist["versions"])

    res = client.delete("/api/places/T-P1", headers=worker_a, params={"reason": "closed down"})
    assert res.status_code == 200 and res.json() == {"code": "T-P1", "version": 2, "retired": True}
    assert client.get("/api/places/T-P1", headers=worker_a).status_code == 404
    assert len(client.get("/api/places/T-P1/history", headers=worker_a).json()["versions"]) == 2


def test_another_streets_staff_see_nothing_and_cannot_edit(client, worker_a, manager_b):
    assert client.post("/api/places", headers=worker_a, json=place("T-P2")).status_code == 201
    assert client.get("/api/places/T-P2", headers=manager_b).status_code == 404
    assert client.get("/api/places/T-P2/history", headers=manager_b).status_code == 404
    listed = client.get("/api/places", headers=manager_b, params={"q": "T-P2"}).json()
    assert listed["numberMatched"] == 0
    assert client.patch("/api/places/T-P2", headers=manager_b, json={"name": "x"}).status_code == 404
    # a place on their street they may add; on another street not
    refused = client.post("/api/places", headers=manager_b, json=place("T-P3"))
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "lon"
    assert client.post("/api/places", headers=manager_b, json=place("T-P3", POINT_B)).status_code == 201
    mine = client.get("/api/places", headers=worker_a, params={"q": "T-P"}).json()
    assert {f["id"] for f in mine["features"]} >= {"T-P2"} and "T-P3" not in {f["id"] for f in mine["features"]}


def test_the_contact_only_with_the_capability_and_each_read_audited(client, engine, worker_a, make_user, login):
    assert client.post("/api/places", headers=worker_a, json=place("T-P4")).status_code == 201
    before = audit_rows(engine, "T-P4", "read_contact")
    assert client.get("/api/places/T-P4", headers=worker_a).json()["contact"] == "13800000001"
    assert audit_rows(engine, "T-P4", "read_contact") == before + 1
    analyst = login(*make_user("analyst", STREET_A))  # reads places, not people's phones
    doc = client.get("/api/places/T-P4", headers=analyst).json()
    assert doc["has_contact"] and doc["contact"] is None
    assert audit_rows(engine, "T-P4", "read_contact") == before + 1
    listed = client.get("/api/places", headers=worker_a, params={"q": "T-P4"}).text
    assert "13800000001" not in listed
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT contact FROM place WHERE code = 'T-P4'")).scalar_one()
    assert b"13800000001" not in bytes(stored)


def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(client, engine, admin):
    cases = [
        (place("T-BAD", category="casino"), "category"),
        (place("T-BAD", risk_level="extreme"), "risk_level"),
        (place("T-BAD", point=(0.5, 0.5)), "lon"),
        (place("T-BAD", point=(120.36, 95.0)), "lat"),
        (place("bad code!"), "code"),
        ({**place("T-BAD"), "lat": None}, "lat"),
        (place("T-BAD", licences=["x" * 61]), "licences"),
    ]
    for body, field in cases:
        res = client.post("/api/places", headers=admin, json=body)
        assert 400 <= res.status_code < 500, (field, res.text)
        assert field in {e["field"] for e in res.json().get("errors", [])} | {res.json().get("field")}, \
            (field, res.json())
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM place WHERE code = 'T-BAD'")).scalar_one() == 0
    res = client.post("/api/places", headers=admin, json=place("T-P5"))
    assert res.status_code == 201
    again = client.post("/api/places", headers=admin, json=place("T-P5"))
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "code"
    empty = client.patch("/api/places/T-P5", headers=admin, json={"reason": "nothing"})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    assert len(client.get("/api/places/T-P5/history", headers=admin).json()["versions"]) == 1


def _csv(rows: list[list[str]]) -> bytes:
    header = "code,name,category,address,licences,responsible,contact,risk_level,lon,lat\n"
    return (header + "\n".join(",".join(r) for r in rows) + "\n").encode()


def test_import_dry_run_names_every_bad_row_and_writes_nothing(client, engine, admin):
    x, y = POINT_A
    data = _csv([
        ["T-I1", "五金店", "shop", "", "", "", "", "low", str(x), str(y)],
        ["T-I2", "仓库", "warehouse", "", "", "", "", "low", str(x), str(y)],
        ["T-I3", "工地", "construction_site", "", "", "", "", "severe", str(x), str(y)],
        ["T-I1", "重复", "shop", "", "", "", "", "low", str(x), str(y)],
        ["T-I4", "海上", "shop", "", "", "", "", "low", "0.5", "0.5"],
        ["T-I5", "坏坐标", "shop", "", "", "", "", "low", "abc", str(y)],
    ])
    res = client.post("/api/places/import", headers=admin, files={"file": ("places.csv", data, "text/csv")},
                      data={"dry_run": "false"})
    assert res.status_code == 200, res.text
    report = res.json()
    found = {(p["row"], p["column"]) for p in report["problems"]}
    assert found == {(3, "category"), (4, "risk_level"), (5, "code"), (6, "lon"), (7, "lon")}, report["problems"]
    assert not report["written"]
    with engine.connect() as conn:
        written = sa.text("SELECT count(*) FROM place WHERE code = ANY(:codes)")  # this file's codes only
        assert conn.execute(written, {"codes": ["T-I1", "T-I2", "T-I3", "T-I4", "T-I5"]}).scalar_one() == 0


def test_gcj02_csv_is_converted_and_an_xlsx_round_trip_changes_nothing(client, engine, admin, tmp_path):
    from openpyxl import Workbook

    x, y = POINT_A
    gx, gy = (float(v) for v in datums.wgs84_to_gcj02(x, y))
    data = _csv([["T-G1", "超市", "shop", "", "A1;B2", "李四", "13900000002", "低", repr(gx), repr(gy)]])
    dry = client.post("/api/places/import", headers=admin, files={"file": ("g.csv", data, "text/csv")},
                      data={"crs": "gcj02"}).json()
    assert dry["dry_run"] and not dry["written"] and dry["added"] == ["T-G1"] and not dry["problems"]
    done = client.post("/api/places/import", headers=admin, files={"file": ("g.csv", data, "text/csv")},
                       data={"crs": "gcj02", "dry_run": "false"}).json()
    assert done["written"] and done["added"] == ["T-G1"]
    got = client.get("/api/places/T-G1", headers=admin).json()
    wx, wy = (float(v) for v in datums.gcj02_to_wgs84(gx, gy))
    assert abs(got["lon"] - wx) < 1e-7 and abs(got["lat"] - wy) < 1e-7
    assert abs(got["lon"] - x) < 1e-5 and abs(got["lat"] - y) < 1e-5   # back where it was, within a metre
    assert got["licences"] == ["A1", "B2"] and got["risk_level"] == "low" and got["contact"] == "13900000002"

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "category", "responsible", "contact", "risk_level", "licences", "lon", "lat"])
    sheet.append(["T-G1", "超市", "shop", "李四", "13900000002", "low", "A1;B2", got["lon"], got["lat"]])
    buf = io.BytesIO()
    book.save(buf)
    again = client.post("/api/places/import", headers=admin, data={"dry_run": "false"},
                        files={"file": ("g.xlsx", buf.getvalue(), "application/octet-stream")}).json()
    assert again["unchanged"] == ["T-G1"] and not again["added"] and not again["updated"], again


def test_geojson_import_and_export_never_carry_a_contact(client, admin):
    x, y = POINT_A
    layer = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": {"code": "T-J1", "name": "网吧", "category": "entertainment_venue", "contact": "13700000003"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x, y], [x + 0.001, y]]},
         "properties": {"code": "T-J2", "name": "线", "category": "shop"}}]}
    res = client.post("/api/places/import", headers=admin, data={"dry_run": "false"},
                      files={"file": ("p.geojson", json.dumps(layer).encode(), "application/geo+json")}).json()
    assert [(p["row"], p["column"]) for p in res["problems"]] == [(2, "geometry")] and not res["written"]
    layer["features"].pop()
    res = client.post("/api/places/import", headers=admin, data={"dry_run": "false"},
                      files={"file": ("p.geojson", json.dumps(layer).encode(), "application/geo+json")}).json()
    assert res["written"] and res["added"] == ["T-J1"]
    out = client.get("/api/places/export", headers=admin, params={"format": "geojson", "area": GRID_A})
    assert out.status_code == 200
    exported = out.json()
    assert "T-J1" in {f["properties"]["code"] for f in exported["features"]}
    assert "13700000003" not in out.text and "contact" not in out.text
    gpkg = client.get("/api/places/export", headers=admin, params={"format": "gpkg"})
    assert gpkg.status_code == 200 and gpkg.content.startswith(b"SQLite format 3")
    assert b"13700000003" not in gpkg.content


def test_grid_aggregates_are_counts_summed_up_the_tree(client, admin, worker_a, manager_b):
    body = {"as_of": "2026-11-30", "source": "2026 household survey", "households": 120,
            "registered_residents": 300, "non_local_residents": 80, "elderly_alone": 6}
    res = client.put(f"/api/places/aggregates/{GRID_A}", headers=worker_a, json=body)
    assert res.status_code == 200, res.text
    assert client.put(f"/api/places/aggregates/{GRID_A}", headers=manager_b, json=body).status_code == 404
    bad = client.put(f"/api/places/aggregates/{GRID_A}", headers=worker_a, json={**body, "households": -1})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "households"
    doc = client.get("/api/places/aggregates", headers=admin, params={"area": STREET_A}).json()
    assert doc["totals"]["households"] >= 120 and GRID_A in {g["grid_code"] for g in doc["grids"]}
    assert client.get("/api/places/aggregates", headers=manager_b,
                      params={"area": STREET_A}).json()["totals"]["grids"] == 0


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_ogc_collection_pages_within_scope(client, admin, worker_a, manager_b):
    for i in range(3):
        assert client.post("/api/places", headers=worker_a, json=place(f"T-O{i}")).status_code == 201
    cols = client.get("/ogc/collections", headers=worker_a).json()
    assert "place" in {c["id"] for c in cols["collections"]}
    page = client.get("/ogc/collections/place/items", headers=worker_a, params={"limit": 2}).json()
    assert page["numberReturned"] == 2 and page["numberMatched"] >= 3
    nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    assert nxt and "offset=2" in nxt[0]
    second = client.get("/ogc/collections/place/items", headers=worker_a, params={"limit": 2, "offset": 2}).json()
    assert not {f["id"] for f in page["features"]} & {f["id"] for f in second["features"]}
    everything = client.get("/ogc/collections/place/items", headers=worker_a, params={"limit": 1000}).json()
    assert all(f["properties"]["street_code"] == STREET_A for f in everything["features"])
    text = json.dumps(everything)
    assert "13800000001" not in text and '"contact"' not in text
    one = client.get("/ogc/collections/place/items/T-O1", headers=worker_a)
    assert one.status_code == 200 and one.json()["geometry"]["type"] == "Point"
    assert client.get("/ogc/collections/place/items/T-O1", headers=manager_b).status_code == 404
    theirs = client.get("/ogc/collections/place/items", headers=manager_b, params={"limit": 1000}).json()
    assert "T-O1" not in {f["id"] for f in theirs["features"]}
    refused = client.get("/ogc/collections/place/items", headers=worker_a, params={"datetime": "2026-01-01T00:00:00Z"})
    assert refused.status_code == 422 and "datetime" in refused.text


def test_the_places_tile_shows_the_place_and_never_a_contact(client, worker_a, manager_b):
    import mapbox_vector_tile

    assert client.post("/api/places", headers=worker_a, json=place("T-T1")).status_code == 201
    x, y = _tile_of(*POINT_A, 16)
    res = client.get(f"/tiles/places/16/{x}/{y}.pbf", headers=worker_a)
    assert res.status_code == 200, res.text
    layers = mapbox_vector_tile.decode(res.content)
    props = [f["properties"] for f in layers["places"]["features"]]
    assert "T-T1" in {p["code"] for p in props}
    assert all(set(p) == {"code", "name", "category", "risk_level", "grid_code", "version"} for p in props)
    assert b"13800000001" not in res.content and "王五".encode() not in res.content
    theirs = client.get(f"/tiles/places/16/{x}/{y}.pbf", headers=manager_b)
    assert theirs.status_code == 200 and not theirs.content
    assert client.get(f"/tiles/places/16/{x}/{y}.pbf", headers=worker_a,
                      params={"category": "nope"}).json()["errors"][0]["field"].startswith("category")
    assert client.get("/tiles/places/2/9/0.pbf", headers=worker_a).json()["errors"][0]["field"] == "x"
    assert client.get("/tiles/places.json", headers=worker_a).json()["vector_layers"][0]["id"] == "places"


def test_a_kept_tile_gives_way_to_a_new_place_at_once(client, worker_a):
    """The worker keeps the places tiles it drew; a place written anywhere (here: through the
    API; a note from the database in any case) makes the next request draw the tile again."""
    import mapbox_vector_tile

    x, y = _tile_of(*POINT_A, 15)
    path = f"/tiles/places/15/{x}/{y}.pbf"
    first = client.get(path, headers=worker_a)
    assert first.status_code == 200, first.text
    assert client.get(path, headers={**worker_a, "If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.post("/api/places", headers=worker_a, json=place("T-T2")).status_code == 201
    deadline = time.monotonic() + 5  # the note reaches this worker within moments
    while (now := client.get(path, headers=worker_a)).headers["etag"] == first.headers["etag"]:
        assert time.monotonic() < deadline, "the tile kept showing the places as they were"
        time.sleep(0.05)
    codes = {f["properties"]["code"] for f in mapbox_vector_tile.decode(now.content)["places"]["features"]}
    assert "T-T2" in codes


def test_the_command_line_imports_exports_and_keeps_counts(monkeypatch, capsys, database_url, tmp_path):
    from api.cli_exit import ExitCode
    from tests.test_cli_exits import run

    x, y = POINT_A
    gx, gy = (float(v) for v in datums.wgs84_to_gcj02(x, y))
    src = tmp_path / "p.csv"
    src.write_bytes(_csv([["T-C1", "药店", "shop", "", "", "", "13600000004", "", repr(gx), repr(gy)],
                          ["T-C2", "修车", "shop", "", "", "", "", "", "120.9", "31.9"]]))
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "import", src, "--crs", "gcj02", "--json"])
    report = json.loads(out)
    assert code == ExitCode.FINDINGS and [(p["row"], p["column"]) for p in report["problems"]] == [(3, "lon")]
    src.write_bytes(_csv([["T-C1", "药店", "shop", "", "", "", "13600000004", "", repr(gx), repr(gy)]]))
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "import", src, "--crs", "gcj02", "--dry-run"])
    assert code == ExitCode.DONE and "would be 1 added" in out
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "import", src, "--crs", "gcj02"])
    assert code == ExitCode.DONE and "1 added" in out
    target = tmp_path / "grid.geojson"
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "export", "--out", target, "--area", GRID_A])
    assert code == ExitCode.DONE and target.is_file()
    exported = json.loads(target.read_text())
    assert "T-C1" in {f["properties"]["code"] for f in exported["features"]} and "13600000004" not in target.read_text()
    code, _, err = run(monkeypatch, capsys, database_url, ["places", "export", "--out", target])
    assert code == ExitCode.USAGE and "--overwrite" in err
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "aggregate", GRID_A, "--as-of", "2026-10-01",
                                                           "--source", "survey", "--elderly-alone", "4", "--json"])
    assert code == ExitCode.DONE and json.loads(out)["elderly_alone"] == 4
    code, out, _ = run(monkeypatch, capsys, database_url, ["places", "aggregates", GRID_A, "--json"])
    assert code == ExitCode.DONE and json.loads(out)["totals"]["places"]["shop"] >= 1


def test_the_grid_roster_holds_1_2_3_n_each_with_their_area(client, make_user, login):
    manager = login(*make_user("grid_manager", STREET_A))
    roster = {"leader": "张三", "full_time": ["李四"], "part_time": ["王五", "赵六"],
              "stairwell_leaders": [{"name": "李娜", "area": "3幢2单元"}, {"name": "周七", "area": "5幢1单元"}],
              "block_leaders": [{"name": "孙八", "area": "东片"}]}
    bad = client.post("/api/areas/edits/preview", headers=manager, json={
        "op": "attributes", "code": GRID_A, "attributes": {"stairwell_leaders": [{"name": "李娜"}]}})
    assert bad.status_code == 422 and "stairwell_leaders.0.area" in bad.json()["errors"][0]["field"]
    tag = client.get(f"/api/areas/{GRID_A}", headers=manager).headers["ETag"]
    res = client.post("/api/areas/edits", headers={**manager, "If-Match": tag},
                      json={"op": "attributes", "code": GRID_A, "attributes": roster})
    assert res.status_code == 200, res.text
    saved = client.get(f"/api/areas/{GRID_A}", headers=manager).json()["properties"]["attributes"]
    assert saved["stairwell_leaders"] == roster["stairwell_leaders"] and saved["block_leaders"][0]["area"] == "东片"


def test_an_exported_file_imports_back_unchanged_and_keeps_the_contacts(client, admin, worker_a):
    assert client.post("/api/places", headers=worker_a, json=place("T-R1")).status_code == 201
    out = client.get("/api/places/export", headers=admin, params={"format": "gpkg", "area": GRID_A})
    res = client.post("/api/places/import", headers=admin, data={"dry_run": "false"},
                      files={"file": ("back.gpkg", out.content, "application/geopackage+sqlite3")}).json()
    assert not res["problems"] and not res["added"] and not res["updated"] and "T-R1" in res["unchanged"], res
    assert client.get("/api/places/T-R1", headers=worker_a).json()["contact"] == "13800000001"
