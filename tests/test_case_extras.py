"""What the case carries besides its states: photos without metadata, the printable
hand-over sheet, duplicate candidates, me-too supporters who follow and rate the case."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from pyproj import Geod

from api import clock, i18n
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


def _encoded(img: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def test_a_picture_too_big_to_decode_is_refused_from_its_header(client, cases, admin):
    """The probe's 154 kB PNG: 6300x6300 RGBA is 159 MB of pixels once decoded (issue 19)."""
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    bomb = _encoded(Image.new("RGBA", (6300, 6300), (30, 120, 200, 255)), "PNG")
    assert len(bomb) < 400_000
    res = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.png", bomb, "image/png")},
                      headers=admin)
    assert res.status_code == 422, res.text
    error = res.json()["errors"][0]
    assert error["field"] == "file"
    assert "6300×6300" in error["reason"] and "4 bands" in error["reason"] and "158.8 MB" in error["reason"]
    assert client.get(f"/api/incidents/{cid}", headers=admin).json()["attachments"] == []


def test_a_48_megapixel_phone_photo_is_taken_at_half_size(client, cases, admin):
    """8000x6000 decodes to 144 MB at full size; libjpeg decodes it at 1/2 scale instead."""
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    small = Image.frombytes("RGB", (80, 60), bytes(range(256)) * 56 + bytes(64))
    photo = _encoded(small.resize((8000, 6000), Image.Resampling.BILINEAR), "JPEG", quality=85)
    res = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.jpg", photo, "image/jpeg")},
                      headers=admin)
    assert res.status_code == 201, res.text
    assert (res.json()["width"], res.json()["height"]) == (4000, 3000)


SECRET = "secret-of-the-reporter"


def _with_metadata(fmt: str) -> bytes:
    """A small picture carrying an ICC profile and text in every place its format has one."""
    from PIL import ImageCms, PngImagePlugin

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = icc[:-len(SECRET)] + SECRET.encode()  # an ICC profile can carry any text (its description tags)
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET}-xmp</x:xmpmeta>'.encode()
    exif = Image.Exif()
    exif[0x010E] = f"{SECRET}-exif"  # ImageDescription
    img = Image.new("RGB", (40, 30), (10, 120, 200))
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", f"{SECRET}-tEXt")
        text.add_text("Author", f"{SECRET}-zTXt", zip=True)
        text.add_itxt("Description", f"{SECRET}-iTXt", lang="zh", tkey="说明")
        text.add_itxt("XML:com.adobe.xmp", xmp.decode())
        return _encoded(img, "PNG", pnginfo=text, icc_profile=icc, exif=exif)
    if fmt == "JPEG":
        return _encoded(img, "JPEG", icc_profile=icc, comment=f"{SECRET}-comment", xmp=xmp, exif=exif)
    return _encoded(img, "WEBP", icc_profile=icc, xmp=xmp, exif=exif)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_an_icc_profile_and_text_chunks_do_not_survive_cleaning(client, cases, admin, fmt):
    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    raw = _with_metadata(fmt)
    with Image.open(io.BytesIO(raw)) as sent:
        assert "icc_profile" in sent.info and SECRET.encode() in raw  # the test picture does carry them
    res = client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p", raw, "application/octet-stream")},
                      headers=admin)
    assert res.status_code == 201, res.text
    stored = client.get(f"/api/attachments/{res.json()['sha256']}", headers=admin).content
    assert SECRET.encode() not in stored and b"xmpmeta" not in stored
    with Image.open(io.BytesIO(stored)) as back:
        assert back.format == fmt and back.size == (40, 30)
        assert not {"icc_profile", "exif", "xmp", "comment", "Comment", "Author", "Description"} & set(back.info), \
            back.info
        assert len(back.getexif()) == 0


def test_at_most_two_pictures_are_decoded_at_once_per_worker(client, cases, admin, monkeypatch):
    """Four uploads at once: the decoding (in threads) is admitted two at a time, so four
    hostile pictures cannot hold four decoded copies in one worker."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from api import attachments

    cid = cases.report()["id"]
    cases.bring(cid, "dispatched")
    inside, most, changed = 0, 0, threading.Condition()
    real = attachments.clean_image

    def counted(data):  # the real cleaning, counting how many run at the same moment
        nonlocal inside, most
        with changed:
            inside += 1
            most = max(most, inside)
            changed.notify_all()
            # wait (a few seconds at most) for a third picture to be decoded alongside: it comes at
            # once unless something holds it back
            changed.wait_for(lambda: inside > 2, timeout=5)
        try:
            return real(data)
        finally:
            with changed:
                inside -= 1

    monkeypatch.setattr(attachments, "clean_image", counted)

    def upload(i):
        photo = png_bytes((8 + i, 6))
        return client.post(f"/api/incidents/{cid}/attachments", files={"file": ("p.png", photo, "image/png")},
                           headers=admin).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(upload, range(4))) == [201] * 4
    assert most == 2, f"{most} pictures were decoded at once"
    assert attachments.MAX_DECODES == 2


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
    amount, unit = re.fullmatch(r"(\d+)(h|wh|wd)", case["deadline_spec"]).groups()  # the length, in words
    assert i18n.t(f"deadline.{unit}", "zh", n=amount) in html
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


PHONE = {"X-Device-Secret": "phone-one-" + "a" * 33}
OTHER_PHONE = {"X-Device-Secret": "phone-two-" + "b" * 33}


def offered(client, category: str, lon: float, lat: float) -> list[dict]:
    res = client.get("/api/public/matches", params={"lon": lon, "lat": lat, "category": category})
    assert res.status_code == 200, res.text
    return res.json()["candidates"]


def public_id_of(engine, incident_id: int) -> str:
    """The public id ``/matches`` shows for a case (checked to be offered by the tests that use it)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT public_id FROM incident WHERE id = :id"), {"id": incident_id}).scalar_one()


def me_too(client, public_id: str, lon: float, lat: float, phone=PHONE):
    return client.post(f"/api/public/incidents/{public_id}/me-too", json={"lon": lon, "lat": lat}, headers=phone)


def test_a_nearby_open_case_of_the_same_kind_is_offered_and_nothing_personal_leaks(client, cases, engine):
    first = client.post("/api/incidents", json={"category": "garbage", "lon": cases.lon, "lat": cases.lat,
                                                "description": "垃圾堆放 secret detail"}).json()
    first_public = public_id_of(engine, first["id"])
    near = moved(cases.lon, cases.lat, 100)
    far = moved(cases.lon, cases.lat, 300)
    got = offered(client, "garbage", *near)
    match = next(c for c in got if c["public_id"] == first_public)
    assert 95 <= match["distance_m"] <= 105
    # named by its public id only: no internal serial, no tracking code, nothing the reporter wrote
    assert "id" not in match and "description" not in match and "tracking_code" not in match
    assert first["tracking_code"] not in str(got)
    assert first_public not in [c["public_id"] for c in offered(client, "garbage", *far)]
    assert first_public not in [c["public_id"] for c in offered(client, "noise", *near)]
    second = client.post("/api/incidents", json={"category": "garbage", "lon": near[0], "lat": near[1]}).json()
    assert first_public in [c["public_id"] for c in second["candidates"]]
    assert all("id" not in c for c in second["candidates"])  # an anonymous reporter: public ids only
    with clock.fixed(datetime.now(UTC) - timedelta(hours=73)):  # 73 hours old: no longer the same problem
        stale = client.post("/api/incidents", json={"category": "garbage", "lon": cases.lon, "lat": cases.lat}).json()
    now_offered = [c["public_id"] for c in offered(client, "garbage", *near)]
    assert first_public in now_offered and public_id_of(engine, stale["id"]) not in now_offered
    bad = client.get("/api/public/matches", params={"lon": near[0], "lat": near[1], "category": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"


def test_me_too_supporters_follow_and_rate_the_case_without_taking_it_over(client, cases, admin, engine):
    # a kind nobody else reports here, so the case is among the few /matches offers
    res = client.post("/api/incidents", json={"category": "cooking_fumes", "lon": cases.lon, "lat": cases.lat})
    assert res.status_code == 201, res.text
    created = res.json()
    cid = created["id"]
    pid = public_id_of(engine, created["id"])
    assert pid in [c["public_id"] for c in offered(client, "cooking_fumes", cases.lon, cases.lat)]
    joined = me_too(client, pid, cases.lon, cases.lat)
    assert joined.status_code == 201, joined.text
    mine = joined.json()
    # a code of the supporter's own: the case's code (which wrong secrets can lock) stays the reporter's
    assert mine["tracking_code"] != created["tracking_code"] and mine["supporters"] == 1
    token = {"X-Reporter-Token": mine["reporter_token"]}
    followed = client.get(f"/api/public/incidents/{mine['tracking_code']}", headers=token)
    assert followed.status_code == 200, followed.text
    seen = followed.json()
    assert seen["tracking_code"] == mine["tracking_code"] and seen["events"][-1]["kind"] == "me_too"
    assert all(t.endswith(":00:00Z") or t.endswith(":00:00+00:00")  # someone else's case: to the hour
               for t in [seen["reported_at"], *[e["at"] for e in seen["events"]]]), seen
    # the supporter's secret does not open the case under the reporter's code, nor add photos
    assert client.get(f"/api/public/incidents/{created['tracking_code']}", headers=token).status_code == 404
    photo = client.post(f"/api/public/incidents/{mine['tracking_code']}/attachments", headers=token,
                        files={"file": ("p.png", png_bytes(), "image/png")})
    assert photo.status_code == 403 and photo.json()["errors"][0]["field"] == "X-Reporter-Token"
    assert me_too(client, pid, cases.lon, cases.lat).status_code == 409  # the same phone once per case
    cases.bring(cid, "closed")
    assert me_too(client, pid, cases.lon, cases.lat, OTHER_PHONE).status_code == 404  # closed: report anew
    rated = client.post(f"/api/public/incidents/{mine['tracking_code']}/rating", json={"rating": 1}, headers=token)
    assert rated.status_code == 200, rated.text
    case = client.get(f"/api/incidents/{cid}", headers=admin).json()
    assert case["status"] == "closed"  # a supporter's one star is heard, and reopens nothing
    twice = client.post(f"/api/public/incidents/{mine['tracking_code']}/rating", json={"rating": 5}, headers=token)
    assert twice.status_code == 409
    reporter = client.post(f"/api/public/incidents/{created['tracking_code']}/rating", json={"rating": 5},
                           headers={"X-Reporter-Token": created["reporter_token"]})
    assert reporter.status_code == 200  # the supporter's rating did not take the reporter's
    case = client.get(f"/api/incidents/{cid}", headers=admin).json()
    assert case["rating"] == 5 and [e["data"].get("rating") for e in case["events"] if e["kind"] == "rated"] == [1, 5]


def test_me_too_names_only_a_case_offered_where_the_resident_stands(client, cases, engine):
    case = cases.report()
    pid = public_id_of(engine, case["id"])
    far = moved(cases.lon, cases.lat, 2000)
    answers = {
        "far away": me_too(client, pid, *far),
        "unknown id": me_too(client, "R" + "0" * 20, cases.lon, cases.lat),
    }
    for what, res in answers.items():  # an unknown case and one elsewhere look the same
        assert res.status_code == 404, (what, res.text)
        assert res.json()["errors"][0]["field"] == "public_id"
    serial = client.post(f"/api/public/incidents/{case['id']}/me-too",  # the serial names no case
                         json={"lon": cases.lon, "lat": cases.lat}, headers=PHONE)
    assert serial.status_code == 422 and serial.json()["errors"][0]["field"] == "public_id"
    nophone = client.post(f"/api/public/incidents/{pid}/me-too", json={"lon": cases.lon, "lat": cases.lat})
    assert nophone.status_code == 422 and nophone.json()["errors"][0]["field"] == "X-Device-Secret"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT supporters FROM incident WHERE id = :id"),
                            {"id": case["id"]}).scalar_one() == 0


def test_me_too_is_bounded_per_phone_and_per_case(client, cases, engine, monkeypatch):
    from api import duplicates

    monkeypatch.setattr(duplicates, "ME_TOO_PER_CASE", 2)
    monkeypatch.setattr(duplicates, "ME_TOO_PER_PHONE_DAY", 2)

    def report():  # a kind no other test files here: each case is among the few /matches offers
        res = client.post("/api/incidents", json={"category": "street_light", "lon": cases.lon, "lat": cases.lat})
        assert res.status_code == 201, res.text
        return res.json()

    target = report()
    pid = public_id_of(engine, target["id"])
    phones = [{"X-Device-Secret": f"bounded-phone-{i:02d}-" + "c" * 30} for i in range(3)]
    assert [me_too(client, pid, cases.lon, cases.lat, p).status_code for p in phones] == [201, 201, 409]
    # one phone, many cases: a few a day
    busy = {"X-Device-Secret": "busy-phone-" + "d" * 32}
    others = [report() for _ in range(3)]
    pids = [public_id_of(engine, o["id"]) for o in others]
    codes = [me_too(client, p, cases.lon, cases.lat, busy) for p in pids]
    assert [c.status_code for c in codes] == [201, 201, 429], [c.text for c in codes]
    assert codes[2].json()["errors"][0]["field"] == "X-Device-Secret" and codes[2].headers["Retry-After"]
    with engine.connect() as conn:
        counts = conn.execute(sa.text("SELECT supporters FROM incident WHERE id = ANY(:ids) ORDER BY id"),
                              {"ids": [target["id"], *[o["id"] for o in others]]}).scalars().all()
    assert counts == [2, 1, 1, 0]


def test_a_merged_reporter_follows_the_original(client, cases, admin):
    original, copy = cases.report(), cases.report()
    cases.act(copy["id"], "merge", duplicate_of=original["id"])
    own = client.get(f"/api/public/incidents/{copy['tracking_code']}",
                     headers={"X-Reporter-Token": copy["reporter_token"]}).json()
    assert own["status"] == "duplicate" and own["merged_into"] == original["tracking_code"]
    follows = client.get(f"/api/public/incidents/{original['tracking_code']}",
                         headers={"X-Reporter-Token": copy["reporter_token"]})
    assert follows.status_code == 200 and follows.json()["status"] == "received"


def test_the_resident_sees_what_was_done_and_whose_photos_are_whose(client, cases, admin, engine):
    created = cases.report()
    cid, token = created["id"], {"X-Reporter-Token": created["reporter_token"]}
    code = created["tracking_code"]
    mine = client.post(f"/api/public/incidents/{code}/attachments", headers=token,
                       files={"file": ("mine.png", png_bytes((20, 10)), "image/png")}).json()["sha256"]
    cases.bring(cid, "accepted")
    theirs = client.post(f"/api/incidents/{cid}/attachments", headers=admin,
                         files={"file": ("after.png", png_bytes((12, 12)), "image/png")}).json()["sha256"]
    wrong = client.post(f"/api/incidents/{cid}/actions/triage", json={"public": True}, headers=admin)
    assert wrong.status_code in (409, 422)
    cases.act(cid, "handle", note="已清理路面并设置警示牌", photos=[theirs], public=True)
    cases.act(cid, "verify", note="内部核查记录")  # not shown: the desk did not choose to
    seen = client.get(f"/api/public/incidents/{code}", headers=token).json()
    handled = next(e for e in seen["events"] if e["kind"] == "handle")
    assert handled["note"] == "已清理路面并设置警示牌" and handled["photos"] == [theirs]
    verified = next(e for e in seen["events"] if e["kind"] == "verify")
    assert verified["note"] is None and verified["photos"] == []
    assert seen["your_photos"] == [mine]
    for sha in (mine, theirs):
        res = client.get(f"/api/public/incidents/{code}/photos/{sha}", headers=token)
        assert res.status_code == 200 and res.headers["content-type"].startswith("image/")
    # a photo of another case, or without the secret: missing either way
    other = cases.report()
    assert client.get(f"/api/public/incidents/{other['tracking_code']}/photos/{theirs}",
                      headers={"X-Reporter-Token": other["reporter_token"]}).status_code == 404
    assert client.get(f"/api/public/incidents/{code}/photos/{theirs}",
                      headers={"X-Reporter-Token": "wrong-token-123"}).status_code == 404
    refused = client.post(f"/api/incidents/{cid}/actions/close", json={"public": True}, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "public"
