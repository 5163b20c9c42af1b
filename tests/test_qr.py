"""The QR code on the wall: a signed link per grid, posters that scan back to it, and reports
that arrive with a forged code or far from their grid kept and flagged for the desk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from api import qr

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


def test_the_poster_route_and_the_cli(client, make_user, login, grids, settings, tmp_path):
    user = login(*make_user("grid_manager", DISTRICT))
    res = client.get(f"/api/areas/{grids['near']['code']}/poster.svg", headers=user)
    assert res.status_code == 200 and res.headers["content-type"].startswith("image/svg+xml")
    assert "扫码上报" in res.text and grids["near"]["code"] in res.text
    assert client.get("/api/areas/nope/poster.svg", headers=user).status_code == 404
    env = {**os.environ, "DATABASE_URL": settings.url, "GRIDGOV_QR_KEY": settings.qr_key}
    out = subprocess.run([str(GRIDGOV), "qr", "--area", grids["near"]["community"], "--out", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    files = sorted(tmp_path.glob("poster-*.svg"))
    assert f"poster-{grids['near']['code']}.svg" in [f.name for f in files] and len(files) >= 2


@pytest.mark.e2e
def test_a_printed_poster_scans_back_to_its_signed_link(settings, grids, tmp_path):
    """Render the poster as a browser prints it, then decode the QR from the picture."""
    zxingcpp = pytest.importorskip("zxingcpp")
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image

    url = qr.report_url("http://gridgov.example:8000", settings.qr_key, grids["near"]["code"])
    svg = tmp_path / "poster.svg"
    svg.write_text(qr.poster_svg(url, {"code": grids["near"]["code"], "name": "第1网格"}), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 794, "height": 1123})
        page.goto(svg.as_uri())
        page.screenshot(path=str(tmp_path / "poster.png"))
        browser.close()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "poster.png").convert("L"))]
    assert found == [url]
    g = parse_qs(urlsplit(found[0]).query)
    assert qr.verify(settings.qr_key, g["g"][0], g["s"][0])
