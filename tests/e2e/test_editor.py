"""The grid manager's editor (/editor) in headless Chromium.

A grid manager splits a grid by a line drawn with Geoman (real mouse clicks on the map), sees
the server's preview and saves; redraws a grid's outline across its neighbour, sees the
neighbour highlighted in the preview and saves. Then, through the API and the database: the
community is still an exact partition, a point in the moved ground routes to the new grid, and
``as_of`` a time before the edits still gives the old boundary, which the history slider shows.
Undo drops an unsaved step; a read-only account gets no tools; a stale save is told someone
else saved first; shift-click selects for merge and retire; problems show red with their reason
and block saving; dragging a corner previews a reshape; an exported layer dry-runs back clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect
from shapely import wkb
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.ops import linemerge, polylabel

from tests.e2e.test_map import Page, browser, headers_for, http  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}
# The README's picture is written only on request (GRIDGOV_SCREENSHOT_EDITOR=docs/screenshot-editor.png).
SCREENSHOT = Path(os.environ.get("GRIDGOV_SCREENSHOT_EDITOR") or "/tmp/gridgov-screenshot-editor.png")


class EditorPage(Page):
    """The editor on a laptop-sized screen."""

    def __init__(self, browser, base_url: str):  # noqa: F811
        super().__init__(browser, base_url, viewport=LAPTOP)

    def open(self, username: str, password: str) -> None:
        page = self.page
        page.goto(self.base + "/editor")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()
        page.wait_for_selector("body[data-editor-ready='1']")
        page.wait_for_function("() => Number(document.body.dataset.gridsLoaded) > 0")

    def look_at(self, geom) -> None:
        """Fit the map on ``geom`` (shapely, lon/lat) without animation, clear of the drawing hint bar."""
        xmin, ymin, xmax, ymax = geom.bounds
        # first let the page's own opening zoom finish: Leaflet ends a zoom animation by moving to
        # its target, over any view set meanwhile (on a loaded machine, after the click was aimed)
        self.page.evaluate("""async ([s, w, n, e]) => {
            const map = window.gridgovEditor.map;
            if (map._animatingZoom) await new Promise(done => map.once('zoomend', () => done()));
            await new Promise(done => {
                map.once('moveend', () => done());
                map.fitBounds([[s, w], [n, e]],
                              {animate: false, paddingTopLeft: [60, 90], paddingBottomRight: [40, 40]});
            });
        }""", [ymin, xmin, ymax, xmax])

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Page coordinates of a map point."""
        box = self.page.get_by_test_id("map").bounding_box()
        x, y = self.page.evaluate(
            "([lat, lon]) => { const p = window.gridgovEditor.map.latLngToContainerPoint([lat, lon]); "
            "return [p.x, p.y]; }",
            [lat, lon])
        return box["x"] + x, box["y"] + y

    def click_map(self, lon: float, lat: float, *, shift: bool = False) -> None:
        x, y = self.xy(lon, lat)
        if shift:
            self.page.keyboard.down("Shift")
        self.page.mouse.click(x, y)
        if shift:
            self.page.keyboard.up("Shift")

    def select(self, grid: dict, *, shift: bool = False) -> None:
        # inside the grid and outside every other current grid (earlier tests on this database may
        # have left overlapping ground, where a click picks the grid drawn on top)
        own = grid["geom"].difference(grid["others"]) if grid.get("others") is not None else grid["geom"]
        point = inner_point(own if not own.is_empty else grid["geom"])
        self.click_map(point.x, point.y, shift=shift)
        try:
            self.page.wait_for_function("code => document.body.dataset.selected.split(',').includes(code)",
                                        arg=grid["code"])
        except PlaywrightTimeout:
            raise AssertionError(f"clicking {grid['code']} at {point.x:.6f},{point.y:.6f} selected "
                                 f"{self.page.evaluate('document.body.dataset.selected')!r}") from None
        if not shift:  # its document (roster, ETag) has arrived
            self.page.wait_for_function("code => document.body.dataset.details === code", arg=grid["code"])

    def draw(self, points) -> None:
        """Click each (lon, lat) in turn; the caller's last point repeats the one that ends the shape."""
        for lon, lat in points:
            self.click_map(lon, lat)
            self.page.wait_for_timeout(60)  # Geoman places the vertex on the click's mouse position

    def wait_preview(self) -> str:
        self.page.wait_for_function(
            "() => ['shown', 'violations', 'error', 'blocked'].includes(document.body.dataset.previewState)")
        return self.page.evaluate("document.body.dataset.previewState")

    def affected(self) -> dict[str, str]:
        raw = self.page.evaluate("document.body.dataset.affected || ''")
        return dict(x.split(":", 1) for x in raw.split(",") if x)

    def save(self) -> str:
        self.page.get_by_test_id("save").click()
        self.page.wait_for_function(
            "() => ['saved', 'conflict', 'error'].includes(document.body.dataset.saveState)")
        return self.page.evaluate("document.body.dataset.saveState")


def inner_point(geom) -> Point:
    """A point well inside ``geom`` (shapely), away from its edges where a click could miss."""
    core = geom.buffer(-0.25 * (geom.area ** 0.5) / 2)
    return (core if not core.is_empty else geom).representative_point()


def grids_of(engine, parent: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT g.code, g.name, g.version, ST_AsBinary(g.geom) AS geom,
                   (SELECT ST_AsBinary(ST_Union(o.geom)) FROM area o
                    WHERE o.kind = 'grid' AND o.valid_to IS NULL AND o.code <> g.code
                      AND ST_Intersects(o.geom, g.geom)) AS others
            FROM area g
            WHERE g.kind = 'grid' AND g.valid_to IS NULL AND g.parent_code = :p ORDER BY g.code"""),
            {"p": parent}).mappings()
        return [{"code": r["code"], "name": r["name"], "version": r["version"], "geom": wkb.loads(bytes(r["geom"])),
                 "others": wkb.loads(bytes(r["others"])) if r["others"] is not None else None}
                for r in rows]


def partition_problems(engine, parent: str) -> dict:
    """The parent's current grids against the parent: area difference and overlapping pairs."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("""
            WITH kids AS (SELECT code, geom FROM area WHERE valid_to IS NULL AND kind = 'grid' AND parent_code = :p),
                 par AS (SELECT geom FROM area WHERE valid_to IS NULL AND code = :p)
            SELECT abs(ST_Area((SELECT ST_Union(geom) FROM kids)::geography)
                       - ST_Area((SELECT geom FROM par)::geography)) AS area_diff_m2,
                   ST_Area(ST_SymDifference((SELECT ST_Union(geom) FROM kids), (SELECT geom FROM par))::geography)
                       AS symdiff_m2,
                   (SELECT count(*) FROM kids a JOIN kids b ON a.code < b.code
                     WHERE ST_Overlaps(a.geom, b.geom) OR ST_Within(a.geom, b.geom)) AS overlaps,
                   ST_Area((SELECT geom FROM par)::geography) AS parent_m2
            """), {"p": parent}).mappings().one())


@pytest.fixture(scope="module")
def community(engine) -> str:
    """A community with several grids, none of them multi-part (so clicks land predictably)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT parent_code FROM area WHERE kind = 'grid' AND valid_to IS NULL
            GROUP BY parent_code HAVING count(*) BETWEEN 5 AND 9 AND max(ST_NumGeometries(geom)) = 1
            ORDER BY md5(parent_code || 'editor') LIMIT 1""")).scalar_one()


@pytest.fixture
def editor(browser, live_server):  # noqa: F811
    w = EditorPage(browser, live_server)
    yield w
    w.context.close()


def test_a_read_only_account_sees_the_grids_but_no_tools(editor, make_user, community, engine):
    user, password = make_user("dispatcher", community)
    editor.open(user, password)
    page = editor.page
    assert page.get_by_test_id("readonly-note").is_visible()
    assert page.get_by_test_id("edit-tools").is_hidden()
    assert page.get_by_test_id("save").is_hidden()
    grids = grids_of(engine, community)
    assert int(page.evaluate("document.body.dataset.gridsLoaded")) == len(grids)
    editor.look_at(grids[0]["geom"])
    editor.select(grids[0])
    expect(page.get_by_test_id("selected-code")).to_have_text(grids[0]["code"])
    assert page.get_by_test_id("roster-leader").is_disabled()  # the roster is shown, not editable
    assert page.get_by_test_id("roster-apply").count() == 0
    with page.expect_download() as got:  # the grid's QR poster, fetched with the caller's token
        page.get_by_test_id("poster-svg").click()
    assert got.value.suggested_filename == f"poster-{grids[0]['code']}.svg"
    assert Path(got.value.path()).read_bytes().lstrip().startswith(b"<")
    editor.assert_clean()


def route_grid(http, headers, point: Point) -> str | None:  # noqa: F811
    res = http.get("/api/route", params={"lon": point.x, "lat": point.y, "category": "street_vendor"}, headers=headers)
    assert res.status_code == 200, res.text
    grid = res.json().get("grid")
    return grid["code"] if grid else None


def longest_border_pair(grids: list[dict]) -> tuple[dict, dict]:
    best = None
    for i, a in enumerate(grids):
        for b in grids[i + 1:]:
            length = a["geom"].boundary.intersection(b["geom"].boundary).length
            if best is None or length > best[0]:
                best = (length, a, b)
    return best[1], best[2]


def degrees_per_pixel(editor: EditorPage) -> float:
    return editor.page.evaluate("""() => { const m = window.gridgovEditor.map, b = m.getBounds();
        return (b.getEast() - b.getWest()) / m.getSize().x; }""")


def test_a_manager_splits_a_grid_and_redraws_another_across_its_neighbour(
        editor, make_user, community, engine, http):  # noqa: F811
    page = editor.page
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT now()")).scalar_one().isoformat()
    dispatcher = headers_for(http, *make_user("dispatcher", community[:6]))
    editor.open(*make_user("grid_manager", community))
    assert page.get_by_test_id("edit-tools").is_visible()
    assert page.get_by_test_id("readonly-note").is_hidden()
    grids = grids_of(engine, community)
    assert partition_problems(engine, community)["overlaps"] == 0

    # a roster step, previewed, then undone: nothing is left pending
    first = grids[0]
    editor.look_at(first["geom"])
    editor.select(first)
    page.get_by_test_id("roster-leader").fill("王建国")
    page.get_by_test_id("roster-full_time").fill("李娜\n张伟")
    page.get_by_test_id("roster-stairwell_leaders").fill("赵敏 3幢2单元\n钱多 5幢")  # name, then their area
    page.get_by_test_id("roster-block_leaders").fill("孙立：东片")
    page.get_by_test_id("roster-apply").click()
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()
    assert editor.affected() == {first["code"]: "changed"}
    assert page.get_by_test_id("pending-step").count() == 1
    page.get_by_test_id("undo").click()
    page.wait_for_selector("body[data-pending='0']")
    assert page.get_by_test_id("pending-step").count() == 0
    assert page.get_by_test_id("save").is_disabled()

    # split the largest grid by a line drawn across it with Geoman
    big = max(grids, key=lambda g: g["geom"].area)
    xmin, _, xmax, _ = big["geom"].bounds
    y = inner_point(big["geom"]).y
    margin = 0.15 * (xmax - xmin)
    line = [(xmin - margin, y), (xmax + margin, y)]
    editor.look_at(big["geom"].buffer(0.4 * (xmax - xmin)))
    editor.select(big)
    page.get_by_test_id("tool-split").click()
    page.wait_for_selector("body[data-mode='split']")
    editor.draw([line[0], line[1], line[1]])  # clicking the last vertex again ends the line
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()
    affected = editor.affected()
    assert affected.pop(big["code"]) == "retired"
    created = {c for c, change in affected.items() if change == "created"}
    assert len(created) >= 2, affected
    assert editor.save() == "saved", page.get_by_test_id("status").inner_text()
    # the new grids' posters, one click each; the old code's poster keeps working
    assert {b.get_attribute("data-code") for b in page.get_by_test_id("reprint-poster").all()} == created
    with page.expect_download() as got:
        page.get_by_test_id("reprint-poster").first.click()
    assert got.value.suggested_filename.endswith(".pdf")
    expect(page.get_by_test_id("status")).to_contain_text(big["code"])
    now = grids_of(engine, community)
    with engine.connect() as conn:
        between = conn.execute(sa.text("SELECT now()")).scalar_one().isoformat()
    assert big["code"] not in {g["code"] for g in now}
    assert created <= {g["code"] for g in now}
    pieces = [g["geom"] for g in now if g["code"] in created]
    assert abs(sum(p.area for p in pieces) - big["geom"].area) < 1e-5 * big["geom"].area  # the pieces cover it

    # redraw one grid's outline so that it takes a bite of its neighbour: its own corners (which
    # the clicks snap to) and one new corner inside the neighbour
    a, b = longest_border_pair(now)
    border = a["geom"].boundary.intersection(b["geom"].boundary)
    if border.geom_type != "LineString":
        border = linemerge(border)
    if border.geom_type != "LineString":
        border = max(border.geoms, key=lambda g: g.length)
    tip = LineString([border.interpolate(0.5, normalized=True), polylabel(b["geom"], tolerance=1e-7)]) \
        .interpolate(0.6, normalized=True)
    bite = Polygon(list(border.coords) + [tip.coords[0]]).buffer(0).intersection(b["geom"])
    outline = a["geom"].union(bite)
    if outline.geom_type != "Polygon":
        outline = max(outline.geoms, key=lambda g: g.area)
    editor.look_at(a["geom"].union(b["geom"]))
    moved = polylabel(bite, tolerance=1e-7)
    px = degrees_per_pixel(editor)
    assert bite.exterior.distance(moved) > 25 * px, "the bite is too thin to click reliably"
    assert route_grid(http, dispatcher, moved) == b["code"]
    editor.select(a)
    page.get_by_test_id("tool-draw").click()
    page.wait_for_selector("body[data-mode='draw']")
    ring = list(outline.exterior.coords)[:-1]
    editor.draw(ring + [ring[0]])  # clicking the first vertex closes the outline
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()
    affected = editor.affected()
    assert affected.get(a["code"]) == "changed" and affected.get(b["code"]) == "changed", affected
    assert page.locator("path.ed-affected.ed-changed").count() >= 2  # the neighbour is highlighted too
    page.mouse.move(5, 300)  # no hover tooltip in the picture
    page.evaluate("document.body.style.opacity = '0.999'")  # headless Chromium: repaint everything first
    page.wait_for_timeout(300)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.evaluate("document.body.style.opacity = ''")
    assert editor.save() == "saved", page.get_by_test_id("status").inner_text()

    # the partition holds, the bite now routes to the redrawn grid, the past is kept
    problems = partition_problems(engine, community)
    assert problems["overlaps"] == 0, problems
    assert problems["symdiff_m2"] < 1.0, problems
    assert problems["area_diff_m2"] < 1.0, problems
    assert route_grid(http, dispatcher, moved) == a["code"]
    old = http.get("/api/areas", params={"kind": "grid", "parent": community, "as_of": before}, headers=dispatcher)
    assert old.status_code == 200, old.text
    past = {f["properties"]["code"]: shape(f["geometry"]) for f in old.json()["features"]}
    assert past.keys() == {g["code"] for g in grids}
    assert past[big["code"]].symmetric_difference(big["geom"]).area < 1e-12
    res = http.get("/api/areas", params={"kind": "grid", "parent": community, "as_of": between}, headers=dispatcher)
    assert res.status_code == 200, res.text
    then = {f["properties"]["code"]: shape(f["geometry"]) for f in res.json()["features"]}
    assert then.keys() == {g["code"] for g in now}
    assert then[b["code"]].symmetric_difference(b["geom"]).area < 1e-12  # the neighbour before the bite
    assert then[b["code"]].contains(moved) and not then[a["code"]].contains(moved)

    # the history slider shows the map as it was before the split, read only
    page.get_by_test_id("history-prev").click()
    page.wait_for_function("() => document.body.dataset.asOf && Number(document.body.dataset.gridsLoaded) > 0")
    page.get_by_test_id("history-prev").click()
    page.wait_for_function("code => document.body.dataset.gridsLoaded !== '' && window.gridgovEditor.index.has(code)",
                           arg=big["code"])
    assert page.get_by_test_id("history-banner").is_visible()
    assert page.get_by_test_id("tool-split").is_disabled()
    page.get_by_test_id("history-now").click()
    page.wait_for_function("code => document.body.dataset.asOf === '' && document.body.dataset.gridsLoaded !== ''"
                           " && !window.gridgovEditor.index.has(code)", arg=big["code"])
    editor.assert_clean()


def test_a_stale_save_is_told_that_someone_else_saved_first(editor, make_user, engine, http):  # noqa: F811
    with engine.connect() as conn:
        other = conn.execute(sa.text("""
            SELECT parent_code FROM area WHERE kind = 'grid' AND valid_to IS NULL
            GROUP BY parent_code HAVING count(*) BETWEEN 3 AND 9
            ORDER BY md5(parent_code || 'stale') LIMIT 1""")).scalar_one()
    grid = grids_of(engine, other)[0]
    page = editor.page
    editor.open(*make_user("grid_manager", other))
    editor.look_at(grid["geom"])
    editor.select(grid)
    page.get_by_test_id("tool-rename").click()
    page.get_by_test_id("rename-name").fill("我的新名字")
    page.get_by_test_id("mode-finish").click()
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()

    rival = headers_for(http, *make_user("grid_manager", other))
    etag = http.get(f"/api/areas/{grid['code']}", headers=rival).headers["ETag"]
    res = http.post("/api/areas/edits", json={"op": "rename", "code": grid["code"], "name": "别人的名字"},
                    headers={**rival, "If-Match": etag})
    assert res.status_code == 200, res.text

    assert editor.save() == "conflict"
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-kind", "conflict")
    expect(status).to_contain_text("其他人已先保存")
    expect(status).to_contain_text(f"{grid['code']}@{grid['version'] + 1}")  # the version that won
    assert page.get_by_test_id("pending-step").count() == 0
    page.wait_for_function("code => window.gridgovEditor.index.get(code)?.feature.properties.name === '别人的名字'",
                           arg=grid["code"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM area WHERE code = :c AND valid_to IS NULL"),
                            {"c": grid["code"]}).scalar_one() == "别人的名字"


def test_the_files_panel_exports_the_grids_and_dry_runs_them_back_unchanged(editor, make_user, community, engine):
    page = editor.page
    editor.open(*make_user("grid_manager", community))
    grid = grids_of(engine, community)[0]
    editor.look_at(grid["geom"])
    editor.select(grid)  # the forms take its parent
    page.locator("#ed-files-sect > summary").click()
    page.get_by_test_id("exp-format").select_option("geojson")
    assert page.get_by_test_id("exp-parent").input_value() == community
    with page.expect_download() as got:
        page.get_by_test_id("export-download").click()
    assert got.value.suggested_filename == f"grid-{community}.geojson"  # the server's name, with its extension
    path = got.value.path()
    page.get_by_test_id("imp-file").set_input_files(path)
    assert page.get_by_test_id("imp-parent").input_value() == community
    # the parent is required, and the form says so before sending
    assert page.get_by_test_id("imp-parent-required").is_visible()
    page.get_by_test_id("imp-parent").fill("")
    page.get_by_test_id("import-dry-run").click()
    page.wait_for_selector("[data-kind=warn]")
    expect(page.locator("#ed-status")).to_contain_text("上级编码")
    page.get_by_test_id("imp-parent").fill(community)
    page.get_by_test_id("import-dry-run").click()
    report = page.locator("[data-testid=import-report] > .notice")
    report.wait_for()
    assert report.get_attribute("data-ok") == "true", report.inner_text()
    assert page.get_by_test_id("import-problem").count() == 0
    assert page.get_by_test_id("import-apply").is_enabled()
    editor.assert_clean()


def test_shift_click_merges_neighbours_and_problems_show_red_before_saving(editor, make_user, engine):
    with engine.connect() as conn:
        parent = conn.execute(sa.text("""
            SELECT parent_code FROM area WHERE kind = 'grid' AND valid_to IS NULL
            GROUP BY parent_code HAVING count(*) BETWEEN 4 AND 9 AND max(ST_NumGeometries(geom)) = 1
            ORDER BY md5(parent_code || 'merge') LIMIT 1""")).scalar_one()
    a, b = longest_border_pair(grids_of(engine, parent))
    page = editor.page
    editor.open(*make_user("grid_manager", parent))
    editor.look_at(a["geom"].union(b["geom"]))

    # a smaller outline whose freed ground is kept as a gap: red, with its reason, and no saving
    editor.select(a)
    page.get_by_test_id("tool-draw").click()
    page.get_by_test_id("tool-freed").select_option("gaps")
    centre = a["geom"].centroid
    shrunk = [(centre.x + 0.6 * (x - centre.x), centre.y + 0.6 * (y - centre.y))
              for x, y in list(a["geom"].geoms[0].exterior.coords)[:-1]]
    editor.draw(shrunk + [shrunk[0]])
    assert editor.wait_preview() == "violations", page.get_by_test_id("status").inner_text()
    assert page.locator("path.ed-violation").count() >= 1
    popup = page.get_by_test_id("violation-popup")
    popup.wait_for()
    assert "空隙" in popup.inner_text()
    assert page.get_by_test_id("save").is_disabled()
    page.get_by_test_id("undo").click()
    page.wait_for_selector("body[data-pending='0']")
    assert page.locator("path.ed-violation").count() == 0

    # shift-click the neighbour: retiring the first selected hands its ground to the other (undone)
    editor.select(b, shift=True)
    page.get_by_test_id("tool-retire").click()
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()
    assert editor.affected().get(a["code"]) == "retired" and editor.affected().get(b["code"]) == "changed"
    page.get_by_test_id("undo").click()
    page.wait_for_selector("body[data-pending='0']")

    # merge the two, save
    assert page.get_by_test_id("tool-merge").is_enabled()
    page.get_by_test_id("tool-merge").click()
    assert editor.wait_preview() == "shown", page.get_by_test_id("status").inner_text()
    low, high = sorted([a["code"], b["code"]])
    assert editor.affected() == {low: "changed", high: "retired"}
    assert editor.save() == "saved", page.get_by_test_id("status").inner_text()
    now = {g["code"]: g for g in grids_of(engine, parent)}
    assert high not in now
    assert now[low]["geom"].symmetric_difference(a["geom"].union(b["geom"])).area < 1e-12
    assert partition_problems(engine, parent)["overlaps"] == 0
    editor.assert_clean()


def test_dragging_a_corner_of_the_outline_previews_a_reshape(editor, make_user, community, engine):
    page = editor.page
    editor.open(*make_user("grid_manager", community))
    a, b = longest_border_pair(grids_of(engine, community))
    editor.look_at(a["geom"].union(b["geom"]))
    editor.select(a)
    page.get_by_test_id("tool-reshape").click()
    page.wait_for_selector("body[data-mode='reshape']")
    border = a["geom"].boundary.intersection(b["geom"].boundary)
    corner = min(a["geom"].geoms[0].exterior.coords, key=lambda c: Point(c).distance(border))  # on the shared border
    x, y = editor.xy(*corner)
    tx, ty = editor.xy(*polylabel(b["geom"], tolerance=1e-7).coords[0])
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):  # Geoman moves the vertex marker with the drag
        page.mouse.move(x + (tx - x) * 0.04 * i, y + (ty - y) * 0.04 * i)
    page.mouse.up()
    page.get_by_test_id("mode-finish").click()
    editor.wait_preview()
    affected = editor.affected()
    assert affected.get(a["code"]) == "changed", page.get_by_test_id("status").inner_text()
    assert affected.get(b["code"]) == "changed", affected  # the neighbour gives up the ground
    editor.assert_clean()
