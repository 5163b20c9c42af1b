"""What the case carries besides its states: photos without metadata, the printable
hand-over sheet, duplicate candidates, me-too supporters who follow and rate the case."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from pyproj import Geod

from tests.cycle_support import CaseMaker, png_bytes

DISTRICT = "330503"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


@pytest.fixture(scope="module")
def cases(client, engine, admin):
    with engine.connect() as conn:
        spot = conn.execute(sa.text("""
            SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM area
            WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code || 'extras') LIMIT 1""")).one()
        units = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 2"
                                     )).scalars().all()
    return CaseMaker(client, admin, lon=spot.lon, lat=spot.lat, unit=units[0], second_unit=units[1])


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"               # Make
    exif[0x8825] = {1: "N", 2: (30.0, 52.0, 20.0), 3: "E", 4: (120.0, 25.0, 35.0)}  # GPS
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


# --------------------------------------------------------------------------- photos

def test_a_photo_loses_its_gps_and_camera_metadata(client, cases, admin):
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x010F) == "PhoneMaker"  # the test photo does carry it
    res = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.jpg", raw, "image/jpeg")},
                      headers=admin)
    assert res.status_code == 201, res.text
    doc = res.json()
    assert (doc["width"], doc["height"], doc["media_type"]) == (64, 48, "image/jpeg")
    stored = client.get(f"/api/attachments/{doc['sha256']}", headers=admin)
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    back = Image.open(io.BytesIO(stored.content))
    assert back.size == (64, 48) and len(back.getexif()) == 0 and b"PhoneMaker" not in stored.content
    again = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.jpg", raw, "image/jpeg")},
                        headers=admin)
    assert again.json()["sha256"] == doc["sha256"]


def test_bad_or_oversized_photos_are_refused_naming_the_field(client, cases, admin):
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    url = f"/api/incidents/{cid}/attachments"
    bad = client.post(url, files={"file": ("x.jpg", b"not a picture at all", "image/jpeg")}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    refused = client.post(url, files={"file": ("x.gif", gif.getvalue(), "image/gif")}, headers=admin)
    assert refused.status_code == 422 and "GIF" in refused.json()["detail"]
    big = client.post(url, files={"file": ("x.jpg", b"\xff" * 9_500_000, "image/jpeg")}, headers=admin)
    assert big.status_code == 413
    assert client.get(f"/api/incidents/{cid}", headers=admin).json()["attachments"] == []


def test_photos_stay_with_those_who_may_see_the_case(client, cases, admin, make_user, login):
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")  # the first police unit is on it
    sha = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.png", png_bytes(), "image/png")},
                      headers=admin).json()["sha256"]
    other_officer = login(*make_user("officer", DISTRICT, unit=cases.second_unit))
    assert client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.png", png_bytes(), "image/png")},
                       headers=other_officer).status_code == 404
    assert client.get(f"/api/attachments/{sha}", headers=other_officer).status_code == 404
    own_officer = login(*make_user("officer", DISTRICT, unit=cases.unit))
    assert client.get(f"/api/attachments/{sha}", headers=own_officer).status_code == 200
    analyst = login(*make_user("analyst", DISTRICT))
    assert client.get(f"/api/attachments/{sha}", headers=analyst).status_code == 403
    assert client.get(f"/api/attachments/{sha}").status_code == 401


# --------------------------------------------------------------------------- hand-over sheet

def test_the_hand_over_sheet_names_measures_deadline_and_units_but_never_the_reporter(
        client, cases, admin, make_user, login, engine):
    res = client.post("/api/incidents", json={"category": "dispute", "lon": cases.lon, "lat": cases.lat,
                                              "description": "<script>alert(1)</script>邻里噪声纠纷",
                                              "contact": "13912345678"})
    cid = res.json()["id"]
    cases.act(cid, "triage", note="约谈双方")
    cases.act(cid, "dispatch", units=[cases.unit], allow_busy=True)
    sheet = client.get(f"/api/incidents/{cid}/handover", headers=admin)
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/html")
    html = sheet.text
    assert "交办单" in html and "约谈双方" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "13912345678" not in html
    with engine.connect() as conn:
        unit_name = conn.execute(sa.text("SELECT name FROM unit WHERE code = :u"), {"u": cases.unit}).scalar_one()
    assert unit_name in html
    case = client.get(f"/api/incidents/{cid}", headers=admin).json()
    assert case["deadline_spec"] and case["deadline_spec"] in html
    other = conn_street_other(engine, case["street_code"])
    outsider = login(*make_user("dispatcher", other))
    assert client.get(f"/api/incidents/{cid}/handover", headers=outsider).status_code == 404


def conn_street_other(engine, street: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL AND code <> :s "
                                    "ORDER BY code LIMIT 1"), {"s": street}).scalar_one()


# --------------------------------------------------------------------------- duplicates and me-too

def moved(lon, lat, metres, bearing=90):
    x, y, _ = GEOD.fwd(lon, lat, bearing, metres)
    return x, y


def test_a_nearby_open_case_of_the_same_kind_is_offered_and_nothing_personal_leaks(client, cases, engine):
    first = client.post("/api/incidents", json={"category": "garbage", "lon": cases.lon, "lat": cases.lat,
                                                "description": "垃圾堆放 secret detail"}).json()
    near = moved(cases.lon, cases.lat, 100)
    far = moved(cases.lon, cases.lat, 300)
    got = client.get("/api/public/matches", params={"lon": near[0], "lat": near[1], "category": "garbage"}).json()
    match = next(c for c in got["candidates"] if c["id"] == first["id"])
    assert 95 <= match["distance_m"] <= 105
    assert "description" not in match and "tracking_code" not in match and first["tracking_code"] not in str(got)
    assert first["id"] not in [c["id"] for c in client.get("/api/public/matches", params={
        "lon": far[0], "lat": far[1], "category": "garbage"}).json()["candidates"]]
    assert first["id"] not in [c["id"] for c in client.get("/api/public/matches", params={
        "lon": near[0], "lat": near[1], "category": "noise"}).json()["candidates"]]
    second = client.post("/api/incidents", json={"category": "garbage", "lon": near[0], "lat": near[1]}).json()
    assert first["id"] in [c["id"] for c in second["candidates"]]
    with engine.begin() as conn:  # 73 hours old: no longer the same problem
        conn.execute(sa.text("UPDATE incident SET reported_at = now() - interval '73 hours' WHERE id = :id"),
                     {"id": first["id"]})
    assert first["id"] not in [c["id"] for c in client.get("/api/public/matches", params={
        "lon": near[0], "lat": near[1], "category": "garbage"}).json()["candidates"]]
    bad = client.get("/api/public/matches", params={"lon": near[0], "lat": near[1], "category": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"


def test_me_too_supporters_follow_and_rate_the_case(client, cases, admin):
    created = cases.report()
    cid = created["id"]
    joined = client.post(f"/api/public/incidents/{cid}/me-too")
    assert joined.status_code == 201, joined.text
    mine = joined.json()
    assert mine["tracking_code"] == created["tracking_code"] and mine["supporters"] == 1
    token = {"X-Reporter-Token": mine["reporter_token"]}
    followed = client.get(f"/api/public/incidents/{mine['tracking_code']}", headers=token)
    assert followed.status_code == 200 and followed.json()["events"][-1]["kind"] == "me_too"
    cases.bring(cid, "closed")
    assert client.post(f"/api/public/incidents/{cid}/me-too").status_code == 409  # closed: report anew
    rated = client.post(f"/api/public/incidents/{mine['tracking_code']}/rating", json={"rating": 4}, headers=token)
    assert rated.status_code == 200, rated.text
    twice = client.post(f"/api/public/incidents/{mine['tracking_code']}/rating", json={"rating": 5}, headers=token)
    assert twice.status_code == 409
    reporter = client.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 5},
                           headers={"X-Reporter-Token": created["reporter_token"]})
    assert reporter.status_code == 200  # the supporter's rating did not take the reporter's
    case = client.get(f"/api/incidents/{cid}", headers=admin).json()
    assert case["rating"] == 5 and [e["data"].get("rating") for e in case["events"] if e["kind"] == "rated"] == [4, 5]


def test_a_merged_reporter_follows_the_original(client, cases, admin):
    original, copy = cases.report(), cases.report()
    cases.act(copy["id"], "merge", duplicate_of=original["id"])
    own = client.get(f"/api/public/incidents/{copy['tracking_code']}",
                     headers={"X-Reporter-Token": copy["reporter_token"]}).json()
    assert own["status"] == "duplicate" and own["merged_into"] == original["tracking_code"]
    follows = client.get(f"/api/public/incidents/{original['tracking_code']}",
                         headers={"X-Reporter-Token": copy["reporter_token"]})
    assert follows.status_code == 200 and follows.json()["status"] == "received"
