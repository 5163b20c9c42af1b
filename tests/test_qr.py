"""The QR code on the wall: a signed link per grid, posters that scan back to it, and reports
that arrive with a forged code or far from their grid kept and flagged for the desk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp

from api import posters, qr

DISTRICT = "330503"
GRIDGOV = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gridgov"


@pytest.fixture(scope="module")
def grids(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT g.code, g.parent_code AS community, ST_X(ST_PointOnSurface(g.geom)) AS lon,
                   ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM area o WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY g.code LIMIT 1""")).mappings().all()
        far = conn.execute(sa.text("""SELECT code FROM area WHERE kind = 'grid' AND valid_to IS NULL
            ORDER BY code DESC LIMIT 1""")).scalar_one()
    return {"near": dict(rows[0]), "far": far}


def test_the_signature_binds_the_grid_and_the_key():
    key = "k" * 40
    url = qr.report_url("https://gridgov.example", key, "330503001001001")
    query = parse_qs(urlsplit(url).query)
    assert query["g"] == ["330503001001001"] and qr.verify(key, "330503001001001", query["s"][0])
    assert not qr.verify(key, "330503001001002", query["s"][0])       # another grid
    assert not qr.verify("x" * 40, "330503001001001", query["s"][0])  # another key
    assert not qr.verify(key, "330503001001001", None) and not qr.verify(key, "330503001001001", "")


def report(client, spot, **extra):
    res = client.post("/api/incidents", json={"category": "garbage", "lon": spot["lon"], "lat": spot["lat"],
                                              "source": "qr", **extra})
    assert res.status_code == 201, res.text
    return res.json()["routing"]["flags"]


def test_reports_through_a_qr_code_are_checked_kept_and_flagged(client, settings, grids):
    near = grids["near"]
    good = qr.signature(settings.qr_key, near["code"])
    assert report(client, near, qr_grid=near["code"], qr_sig=good) == []
    assert "qr_bad_signature" in report(client, near, qr_grid=near["code"], qr_sig=good[:-2] + "AA")
    far_sig = qr.signature(settings.qr_key, grids["far"])
    assert "qr_mismatch" in report(client, near, qr_grid=grids["far"], qr_sig=far_sig)
    assert "qr_bad_signature" in report(client, near, qr_grid="no-such-grid", qr_sig=good)


def test_the_poster_routes_and_the_cli(client, make_user, login, grids, settings, tmp_path):
    user = login(*make_user("grid_manager", DISTRICT))
    res = client.get(f"/api/areas/{grids['near']['code']}/poster.svg", headers=user)
    assert res.status_code == 200 and res.headers["content-type"].startswith("image/svg+xml")
    assert "扫码上报" in res.text and grids["near"]["code"] in res.text
    res = client.get(f"/api/areas/{grids['near']['code']}/poster.pdf", headers=user)
    assert res.status_code == 200 and res.headers["content-type"] == "application/pdf"
    assert res.content.startswith(b"%PDF-") and b"poster-" in res.headers["content-disposition"].encode()
    assert client.get("/api/areas/nope/poster.svg", headers=user).status_code == 404
    bad = client.get(f"/api/areas/{grids['near']['code']}/poster.png", headers=user)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fmt"
    env = {**os.environ, "DATABASE_URL": settings.url, "GRIDGOV_QR_KEY": settings.qr_key}
    out = subprocess.run([str(GRIDGOV), "qr", "--area", grids["near"]["community"], "--out", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    svgs, pdfs = sorted(tmp_path.glob("poster-*.svg")), sorted(tmp_path.glob("poster-*.pdf"))
    assert f"poster-{grids['near']['code']}.svg" in [f.name for f in svgs] and len(svgs) >= 2
    assert [f.stem for f in pdfs] == [f.stem for f in svgs]


def test_a_poster_is_only_for_grids_in_the_callers_map(client, make_user, login, engine, grids):
    with engine.connect() as conn:  # a street other than the near grid's
        other = conn.execute(sa.text("""SELECT code FROM area_current WHERE kind = 'street'
            AND code <> left(:g, 9) ORDER BY code LIMIT 1"""), {"g": grids["near"]["code"]}).scalar_one()
    elsewhere = login(*make_user("grid_manager", other))
    assert client.get(f"/api/areas/{grids['near']['code']}/poster.pdf", headers=elsewhere).status_code == 404


def test_the_roster_is_on_the_poster():
    grid = {"code": "330503001001001", "name": "第1网格", "street": "南浔镇", "community": "东大街社区",
            "attributes": {"leader": "张三", "full_time": ["李四", "王五"], "part_time": "赵六", "households": 300}}
    texts = [ln.text for ln in posters.layout(grid)]
    assert "网格长 张三" in texts and "网格员 李四、王五、赵六" in texts and "南浔镇 东大街社区" in texts
    assert "网格长" not in " ".join(ln.text for ln in posters.layout({"code": "x", "name": "y"}))


def decode_qr(png: Path) -> list[str]:
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(png).convert("L"))]


def test_a_printed_pdf_poster_scans_back_to_its_signed_link_and_a_tampered_one_is_flagged(
        client, settings, grids, tmp_path):
    """Render the PDF as a printer would (pdftoppm), decode the QR from the picture; a link whose
    grid was edited no longer verifies, and a report sent with it is kept and flagged."""
    assert shutil.which("pdftoppm"), "make test installs poppler-utils"
    url = qr.report_url("http://gridgov.example:8000", settings.qr_key, grids["near"]["code"])
    (tmp_path / "poster.pdf").write_bytes(posters.pdf(url, {"code": grids["near"]["code"], "name": "第1网格",
                                                             "attributes": {"leader": "张三"}}))
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / "poster.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    assert decode_qr(tmp_path / "page.png") == [url]
    g = parse_qs(urlsplit(url).query)
    assert qr.verify(settings.qr_key, g["g"][0], g["s"][0])
    tampered = grids["far"]
    assert not qr.verify(settings.qr_key, tampered, g["s"][0])
    assert "qr_bad_signature" in report(client, grids["near"], qr_grid=tampered, qr_sig=g["s"][0])


@pytest.mark.e2e
def test_a_browser_printed_svg_poster_scans_back_to_its_signed_link(settings, grids, tmp_path):
    """Render the SVG poster as a browser prints it, then decode the QR from the picture."""
    from playwright import sync_api

    url = qr.report_url("http://gridgov.example:8000", settings.qr_key, grids["near"]["code"])
    svg = tmp_path / "poster.svg"
    svg.write_text(posters.svg(url, {"code": grids["near"]["code"], "name": "第1网格"}), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 794, "height": 1123})
        page.goto(svg.as_uri())
        page.screenshot(path=str(tmp_path / "poster.png"))
        browser.close()
    assert decode_qr(tmp_path / "poster.png") == [url]


def test_a_poster_of_a_grid_split_since_still_takes_reports_for_the_grids_that_took_its_ground(
        client, settings, engine, make_user, login):
    """Posters stay on walls for years: after a split the old code names the grids that took
    its ground, and a report through it goes to the one the resident stands in, flagged as from
    an old poster (not as a mismatch)."""
    import shapely

    with engine.connect() as conn:
        grid = conn.execute(sa.text("""
            SELECT code, parent_code, ST_AsBinary(geom) AS wkb FROM area
            WHERE kind = 'grid' AND valid_to IS NULL ORDER BY md5(code || 'poster-split') LIMIT 1""")).mappings().one()
    geom = shapely.from_wkb(grid["wkb"])
    minx, miny, maxx, maxy = geom.bounds
    x = geom.representative_point().x
    manager = login(*make_user("grid_manager", grid["parent_code"]))
    tag = client.get(f"/api/areas/{grid['code']}", headers=manager).headers["ETag"]
    saved = client.post("/api/areas/edits", headers={**manager, "If-Match": tag}, json={
        "op": "split", "code": grid["code"], "reason": "poster test",
        "line": {"type": "LineString", "coordinates": [[x, miny - 0.01], [x + 1e-5, maxy + 0.01]]}})
    assert saved.status_code == 200, saved.text
    created = {f["properties"]["code"] for f in saved.json()["affected"]["features"]
               if f["properties"]["change"] == "created"}
    old = client.get(f"/api/public/grids/{grid['code']}")
    assert old.status_code == 200, old.text
    doc = old.json()
    assert doc["retired"] and {s["code"] for s in doc["successors"]} == created
    piece = next(f for f in saved.json()["affected"]["features"] if f["properties"]["change"] == "created")
    inside = shapely.geometry.shape(piece["geometry"]).representative_point()
    res = client.post("/api/incidents", json={"category": "garbage", "lon": inside.x, "lat": inside.y, "source": "qr",
                                              "qr_grid": grid["code"],
                                              "qr_sig": qr.signature(settings.qr_key, grid["code"])})
    assert res.status_code == 201, res.text
    routing = res.json()["routing"]
    assert routing["grid"]["code"] == piece["properties"]["code"]
    assert "qr_retired_grid" in routing["flags"] and "qr_mismatch" not in routing["flags"]
    assert client.get("/api/public/grids/330503999999999").status_code == 404  # never a grid
