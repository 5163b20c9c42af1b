"""Every map has a base (issue 20), in headless Chromium: the offline base of the project's own
outlines and names on the public report page; a GCJ-02 preset draws a WGS-84 point on the pixel of
its GCJ-02 position; a local MBTiles file made here is served and drawn."""

from __future__ import annotations

import io
import math
import sqlite3

import pytest
import sqlalchemy as sa
from PIL import Image

from api.main import create_app
from spatial.crs import wgs84_to_gcj02
from tests.conftest import served
from tests.e2e.test_map import Page, browser  # noqa: F401 (fixture)
from tests.e2e.test_report import PHONE, phone, spots  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
TILE = "/vendor/leaflet/images/layers.png?{z}/{x}/{y}"  # any image the app serves: this test looks at pins


def world_px(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web Mercator pixel of a position at zoom z (256-pixel tiles)."""
    n = 256 * 2 ** z
    s = math.sin(math.radians(lat))
    return (lon + 180) / 360 * n, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n


def test_the_report_page_without_a_base_shows_the_outlines_and_names(browser, live_server, engine):  # noqa: F811
    with engine.connect() as conn:
        streets = set(conn.execute(sa.text("SELECT name FROM area_current WHERE kind = 'street'")).scalars())
    p = Page(browser, live_server, viewport=PHONE)
    p.page.goto(live_server + "/report")  # no login
    p.page.wait_for_selector("#report-map[data-base-ready='1']")
    assert p.page.locator("#report-map").get_attribute("data-basemap") == "offline"
    assert p.page.locator(".leaflet-base-pane path").count() >= 1 + len(streets)  # the district and its streets
    labels = p.page.locator(".base-label-street span")
    shown = {labels.nth(i).inner_text() for i in range(labels.count()) if labels.nth(i).is_visible()}
    assert shown & streets, f"no street name on the map: {shown}"
    assert p.page.locator(".leaflet-tile").count() == 0  # nothing asked of the internet
    p.assert_clean()


@pytest.fixture(scope="module")
def gcj_server(settings, engine):
    app = create_app(settings.model_copy(update={
        "basemap": "xyz", "basemap_url": TILE, "basemap_crs": "gcj02", "supervision_interval_s": 0}))
    with served(app) as url:
        yield url


def test_a_gcj02_preset_puts_a_known_point_on_the_pixel_of_its_gcj02_position(browser, gcj_server, spots):  # noqa: F811
    spot = spots[0]
    context = phone(browser, spot)  # the phone's GPS says where it is (WGS-84)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(gcj_server + "/report")
    page.wait_for_selector("#report-map[data-placed='1']")
    page.wait_for_selector("#report-map[data-base-ready='1']")
    page.wait_for_selector("#report-map img.leaflet-tile-loaded")
    z = page.evaluate("() => document.querySelector('#report-map') && window.__z || null")
    tiles = page.evaluate("""() => [...document.querySelectorAll('#report-map img.leaflet-tile')].map(i => {
        const r = i.getBoundingClientRect(); return {src: i.src, x: r.left, y: r.top, w: r.width}; })""")
    zooms = {int(t["src"].split("?")[1].split("/")[0]) for t in tiles}
    assert len(zooms) == 1, zooms
    z = zooms.pop()
    glon, glat = (float(v) for v in wgs84_to_gcj02(spot["lon"], spot["lat"]))
    gx, gy = world_px(glon, glat, z)
    tile = next((t for t in tiles if t["src"].endswith(f"?{z}/{int(gx // 256)}/{int(gy // 256)}")), None)
    assert tile is not None, "the tile under the GCJ-02 position is not drawn"
    scale = tile["w"] / 256
    want = (tile["x"] + (gx % 256) * scale, tile["y"] + (gy % 256) * scale)
    pin = page.evaluate("""() => {
        const r = document.querySelector('#report-map .leaflet-marker-icon').getBoundingClientRect();
        return [r.left + 12, r.top + 41]; }""")  # Leaflet's default pin: its tip is at (12, 41)
    assert abs(pin[0] - want[0]) <= 1.5 and abs(pin[1] - want[1]) <= 1.5, (pin, want)
    wx, wy = world_px(spot["lon"], spot["lat"], z)
    assert math.hypot(wx - gx, wy - gy) > 50  # unshifted, the pin would be far off (the test can fail)
    # the page's transform is spatial/crs.py's, both ways; the pin still means WGS-84
    back = page.evaluate("""async ([lon, lat]) => { const m = await import('/static/gcj02.js');
        const g = m.wgs84ToGcj02(lon, lat); return [g, m.gcj02ToWgs84(g[0], g[1])]; }""", [spot["lon"], spot["lat"]])
    assert back[0] == pytest.approx([glon, glat], abs=1e-9)
    assert back[1] == pytest.approx([spot["lon"], spot["lat"]], abs=1e-8)
    pinned = page.evaluate("() => { const m = document.querySelector('#report-map'); return m.dataset.placed; }")
    assert pinned == "1"
    assert errors == []
    context.close()


def make_mbtiles(path, bounds: tuple[float, float, float, float], zooms: range) -> int:
    """An MBTiles file (TMS rows) with one PNG for every tile over ``bounds``: the tile count."""
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 230, 201)).save(buf, "PNG")
    png = buf.getvalue()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [
        ("name", "test"), ("format", "png"), ("minzoom", str(zooms.start)), ("maxzoom", str(zooms.stop - 1)),
        ("bounds", ",".join(map(str, bounds))), ("attribution", "test tiles")])
    n = 0
    for z in zooms:
        x0, y0 = (int(v // 256) for v in world_px(bounds[0], bounds[3], z))
        x1, y1 = (int(v // 256) for v in world_px(bounds[2], bounds[1], z))
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, png))
                n += 1
    db.commit()
    db.close()
    return n


def test_a_local_mbtiles_file_is_served_and_drawn(browser, settings, engine, tmp_path):  # noqa: F811
    with engine.connect() as conn:
        e = conn.execute(sa.text("SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM "
                                 "(SELECT ST_Extent(geom) x FROM area_current WHERE kind = 'district') d")).one()
    file = tmp_path / "base.mbtiles"
    assert make_mbtiles(file, tuple(e), range(8, 14)) > 0
    app = create_app(settings.model_copy(update={"basemap": "mbtiles", "basemap_file": file,
                                                 "supervision_interval_s": 0}))
    with served(app) as url:
        p = Page(browser, url, viewport=PHONE)
        p.page.goto(url + "/report")
        p.page.wait_for_selector("#report-map[data-base-ready='1']")
        tile = p.page.locator("#report-map img.leaflet-tile-loaded[src*='/basemap/']").first
        tile.wait_for()
        assert tile.evaluate("i => i.naturalWidth") == 256
        assert p.page.locator(".leaflet-base-pane path").count() > 0  # the outlines still drawn over it
        p.assert_clean()


def test_on_gcj02_tiles_the_consoles_vector_tiles_move_with_the_shift(browser, gcj_server, make_user):  # noqa: F811
    from tests.e2e.test_console import open_console

    user = make_user("dispatcher", "330503")
    web = Page(browser, gcj_server)
    open_console(web, user)
    page = web.page
    page.wait_for_selector("#console-map .leaflet-tile-container canvas")
    centre, z, moved = page.evaluate("""() => { const m = window.gridgovConsole.map; const c = m.getCenter();
        const t = window.gridgovConsole.streetTiles.getContainer().style.transform;
        return [[c.lng, c.lat], m.getZoom(), t ? t.match(/-?[0-9.]+/g).map(Number) : [0, 0]]; }""")
    glon, glat = (float(v) for v in wgs84_to_gcj02(*centre))
    want = [a - b for a, b in zip(world_px(glon, glat, z), world_px(*centre, z), strict=True)]
    assert moved == pytest.approx(want, abs=0.5) and abs(want[0]) > 1  # moved by the GCJ-02 offset at the centre
    web.assert_clean()


@pytest.mark.parametrize("update", [
    {"basemap": "amap"},
    {"basemap": "tianditu", "tianditu_key": "0123456789abcdef"},
    {"basemap": "xyz", "basemap_url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"},
], ids=["amap", "tianditu", "xyz"])
def test_chromium_accepts_the_content_security_policy_of_each_preset(browser, settings, update):  # noqa: F811
    app = create_app(settings.model_copy(update={**update, "supervision_interval_s": 0}))
    with served(app) as url:
        p = Page(browser, url, viewport=PHONE)
        asked: list[str] = []
        # no request leaves the machine: the preset's tiles are answered here with a blank image
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), (240, 240, 240)).save(buf, "PNG")
        p.page.route(lambda u: not u.startswith(url), lambda route: (
            asked.append(route.request.url), route.fulfill(status=200, content_type="image/png", body=buf.getvalue())))
        p.page.goto(url + "/report")
        p.page.wait_for_selector("#report-map[data-base-ready='1']")
        p.page.wait_for_selector("#report-map img.leaflet-tile-loaded")  # the policy let the tile host in
        assert asked
        p.assert_clean()  # no CSP violation, no "invalid source" in the console
