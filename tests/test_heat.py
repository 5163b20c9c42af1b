"""Heatmaps from the rollup: counts equal a plain count of the incidents, in reach, kept up to
date by every write; early warning flags a spike with its figures; repeat complaints per grid."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import h3
import pytest
import sqlalchemy as sa

from spatial import heat

DISTRICT = "330503"
YEAR = {"from": "2025-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}  # the sample's year


@pytest.fixture(scope="module")
def admin(make_user, login):
    return login(*make_user("admin", DISTRICT))


def plain_counts(engine, resolution: int, where: str = "TRUE", **params) -> dict[str, int]:
    """The independent answer: incidents counted straight from their table, parents by h3."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"""SELECT h3_cell, count(*) FROM incident
            WHERE reported_at >= :f AND reported_at < :t AND {where} GROUP BY h3_cell"""),
                            {"f": YEAR["from"], "t": YEAR["to"], **params}).all()
    out: Counter = Counter()
    for cell, n in rows:
        out[h3.cell_to_parent(cell, resolution)] += n
    return dict(out)


def served_counts(client, headers, **params) -> dict[str, int]:
    res = client.get("/api/heatmap", params={**YEAR, **params}, headers=headers)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["total"] == sum(f["properties"]["count"] for f in doc["features"])
    return {f["id"]: f["properties"]["count"] for f in doc["features"]}


@pytest.mark.parametrize("resolution", [5, 6, 7, 8, 9])  # parents summed in SQL: every level
def test_heatmap_counts_equal_a_plain_count_of_the_incidents(client, admin, engine, resolution):
    assert served_counts(client, admin, resolution=resolution) == plain_counts(engine, resolution)


def test_filters_match_the_plain_count(client, admin, engine):
    got = served_counts(client, admin, resolution=7, category="garbage,noise", source="qr", status="ended")
    want = plain_counts(engine, 7, "category_code IN ('garbage', 'noise') AND source = 'qr' "
                                   "AND status IN ('closed', 'void', 'duplicate', 'not_responsible')")
    assert got == want and sum(got.values()) > 0


def test_a_street_dispatcher_counts_only_its_street(client, make_user, login, engine):
    with engine.connect() as conn:
        street = conn.execute(sa.text(
            "SELECT street_code FROM incident GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
    headers = login(*make_user("dispatcher", street))
    assert served_counts(client, headers, resolution=8) == plain_counts(engine, 8, "street_code = :s", s=street)


def test_an_analyst_never_sees_a_cell_of_fewer_than_five_reports(client, make_user, login, engine):
    """One report in a cell at resolution 9 over two days is one household's complaint: callers
    without detail rights get only cells of five or more, in the document and in the tiles."""
    analyst = login(*make_user("analyst", DISTRICT))
    dispatcher = login(*make_user("dispatcher", DISTRICT))
    window = {"from": "2026-06-01T00:00:00Z", "to": "2026-06-03T00:00:00Z", "resolution": 9}
    full = client.get("/api/heatmap", params=window, headers=dispatcher).json()
    shown = client.get("/api/heatmap", params=window, headers=analyst).json()
    small = {f["id"] for f in full["features"] if f["properties"]["count"] < 5}
    assert small and full["suppressed_below"] is None  # the sample has single reports there
    assert shown["suppressed_below"] == 5
    assert {f["id"]: f["properties"]["count"] for f in shown["features"]} == {
        f["id"]: f["properties"]["count"] for f in full["features"] if f["properties"]["count"] >= 5}
    assert shown["total"] == sum(f["properties"]["count"] for f in shown["features"])
    # a coarser resolution sums its cells first, then keeps to the same floor
    coarse = client.get("/api/heatmap", params={**window, "resolution": 7}, headers=analyst).json()
    assert coarse["features"] and min(f["properties"]["count"] for f in coarse["features"]) >= 5
    # the hexagon tiles are drawn from the same document
    import mapbox_vector_tile

    cell = h3.cell_to_latlng(next(iter(small)))
    z = 15
    x, y = _tile_of(cell[1], cell[0], z)
    for headers, expect_small in ((dispatcher, True), (analyst, False)):
        res = client.get(f"/tiles/hexagons/{z}/{x}/{y}.pbf", params={k: window[k] for k in ("from", "to")},
                         headers=headers)
        assert res.status_code in (200, 204), res.text
        counts = [f["properties"]["count"] for layer in (mapbox_vector_tile.decode(res.content).values()
                                                          if res.status_code == 200 else [])
                  for f in layer["features"]]
        assert any(n < 5 for n in counts) is expect_small, (headers, counts)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_the_resolution_follows_the_zoom_and_the_bbox_cuts(client, admin):
    doc = client.get("/api/heatmap", params={**YEAR, "zoom": 12}, headers=admin).json()
    assert {f["properties"]["resolution"] for f in doc["features"]} == {7}
    everything = served_counts(client, admin, resolution=7)
    west = served_counts(client, admin, resolution=7, bbox="119.0,30.0,120.3,31.5")
    assert 0 < len(west) < len(everything)
    assert all(h3.cell_to_latlng(c)[1] <= 120.3 and everything[c] == n for c, n in west.items())


def test_the_rollup_follows_every_write(client, admin, engine):
    with engine.connect() as conn:
        spot = conn.execute(sa.text("""SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
            FROM area WHERE kind = 'grid' AND valid_to IS NULL ORDER BY code LIMIT 1""")).mappings().one()
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(hours=2)).isoformat(),
              "resolution": 9, "category": "noise"}
    cell = h3.latlng_to_cell(spot["lat"], spot["lon"], 9)

    def count(status):
        doc = client.get("/api/heatmap", params={**window, "status": status}, headers=admin).json()
        return {f["id"]: f["properties"]["count"] for f in doc["features"]}.get(cell, 0)

    before = count("received"), count("triaged")
    res = client.post("/api/incidents", json={"category": "noise", "lon": spot["lon"], "lat": spot["lat"]})
    assert res.status_code == 201, res.text
    assert (count("received"), count("triaged")) == (before[0] + 1, before[1])
    moved = client.post(f"/api/incidents/{res.json()['id']}/actions/triage", json={}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert (count("received"), count("triaged")) == (before[0], before[1] + 1)


@pytest.mark.parametrize("params, field", [
    ({"category": "no_such_thing"}, "category"), ({"status": "finished"}, "status"), ({"tier": "planet"}, "tier"),
    ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
    ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
    ({"resolution": 12}, "resolution"), ({"bbox": "1,2,3"}, "bbox"), ({"category": "a\x00b"}, "category"),
])
def test_bad_filters_are_refused_naming_the_field(client, admin, params, field):
    res = client.get("/api/heatmap", params=params, headers=admin)
    assert res.status_code == 422, res.text
    assert field in [e["field"] for e in res.json()["errors"]]


def test_who_may_see_heat(client, make_user, login):
    assert client.get("/api/heatmap").status_code == 401
    analyst = login(*make_user("analyst", DISTRICT))
    assert served_counts(client, analyst, resolution=6)  # aggregates are what analysts are for
    officer = login(*make_user("officer", DISTRICT))  # an own-unit reach is no territory: no heat
    res = client.get("/api/heatmap", params=YEAR, headers=officer)
    assert res.status_code == 200 and res.json()["total"] == 0


def test_a_spike_in_a_grid_is_an_early_warning_with_its_figures(client, admin, engine):
    with engine.connect() as conn:
        grid = conn.execute(sa.text("""SELECT code, name, ST_X(ST_PointOnSurface(geom)) AS lon,
            ST_Y(ST_PointOnSurface(geom)) AS lat FROM area WHERE kind = 'grid' AND valid_to IS NULL
            ORDER BY code DESC LIMIT 1""")).mappings().one()
    for _ in range(12):
        res = client.post("/api/incidents", json={"category": "sewage", "lon": grid["lon"], "lat": grid["lat"]})
        assert res.status_code == 201, res.text
    doc = client.get("/api/heatmap/warnings", params={"by": "grid"}, headers=admin).json()
    flagged = {w["place"]: w for w in doc["warnings"]}
    assert grid["code"] in flagged, doc
    w = flagged[grid["code"]]
    assert w["observed"] >= 12 and w["expected"] < w["observed"] and w["p_value"] < doc["rule"]["alpha"]
    with engine.connect() as conn:  # the figures are the grid's own, counted plainly
        since = datetime.fromisoformat(doc["recent"]["from"])
        plain = conn.execute(sa.text("SELECT count(*) FROM incident WHERE grid_code = :g AND reported_at >= :s"),
                             {"g": grid["code"], "s": since}).scalar_one()
    assert w["observed"] == plain
    # readable: the grid's name and outline, and what was reported there, by category
    assert w["name"] == grid["name"] and w["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert list(w["categories"])[0] == "sewage" and sum(w["categories"].values()) == w["observed"]
    cells = client.get("/api/heatmap/warnings", params={"by": "cell", "min_count": 12}, headers=admin).json()
    cell = next(c for c in cells["warnings"] if c["place"] == h3.latlng_to_cell(grid["lat"], grid["lon"], 9))
    assert cell["categories"]["sewage"] >= 12 and cell["name"]  # a cell is named by the grid at its centre
    assert all(c["geometry"]["type"] == "Polygon" for c in cells["warnings"])


def test_repeat_complaints_are_listed_per_grid(client, admin, engine):
    with engine.connect() as conn:
        grid = conn.execute(sa.text("""SELECT code, ST_X(ST_PointOnSurface(geom)) AS lon,
            ST_Y(ST_PointOnSurface(geom)) AS lat FROM area WHERE kind = 'grid' AND valid_to IS NULL
            ORDER BY code LIMIT 1 OFFSET 7""")).mappings().one()
    for dx in (0, 0.0001):  # about 10 m apart
        res = client.post("/api/incidents", json={"category": "illegal_parking", "lon": grid["lon"] + dx,
                                                  "lat": grid["lat"]})
        assert res.status_code == 201, res.text
    now = datetime.now(UTC)
    doc = client.get("/api/heatmap/repeats", params={"from": (now - timedelta(hours=1)).isoformat(),
                                                     "to": (now + timedelta(hours=1)).isoformat()},
                     headers=admin).json()
    rows = [g for g in doc["grids"] if g["grid_code"] == grid["code"] and g["category"] == "illegal_parking"]
    assert rows and rows[0]["repeats"] >= 1


def test_poisson_tail_against_a_direct_sum():
    import math

    for observed, expected in [(1, 0.5), (5, 2.0), (30, 10.0), (3, 8.0)]:
        direct = 1 - sum(math.exp(-expected) * expected ** k / math.factorial(k) for k in range(observed))
        assert heat.poisson_sf(observed, expected) == pytest.approx(direct, rel=1e-9, abs=1e-15)
