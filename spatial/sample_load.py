"""Load the Nanxun sample (``sample_geodata/``) into the database, idempotently.

Reference rows, areas, stations and units are inserted when their code is absent;
sample incidents carry the idempotency key ``sample:<id>``. A second run changes
nothing. Incidents are routed set-based with the same SQL as the bulk API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from spatial import routing_index
from spatial.sqlfiles import sql

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_geodata"
GPKG = "nanxun.gpkg"
HISTORY = "history.json"  # since when the sample's ground holds, and the grids split since
AREA_LAYERS = ("district", "street", "community", "grid", "zone", "patrol_zone")
H3_RESOLUTION = 9


def _multi(geoms: Iterable[BaseGeometry]) -> list[str]:
    """WKB hex of MultiPolygons (Polygons promoted)."""
    out: list[str] = []
    for g in geoms:
        if isinstance(g, shapely.Polygon):
            g = shapely.MultiPolygon([g])
        out.append(shapely.to_wkb(g, hex=True, output_dimension=2))
    return out


def read_layer(name: str, sample_dir: Path = SAMPLE_DIR) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(sample_dir / GPKG, layer=name)


def load_catalog(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> None:
    catalog = json.loads((sample_dir / "catalog.json").read_text(encoding="utf-8"))
    conn.execute(text("""
        INSERT INTO department (code, name, name_en) VALUES (:code, :name, :name_en)
        ON CONFLICT (code) DO NOTHING"""), catalog["departments"])
    conn.execute(text("""
        INSERT INTO category (code, name, name_en, departments, default_tier, deadline_hours, deadlines, five_matters)
        VALUES (:code, :name, :name_en, :departments, :default_tier, CAST(:deadline_hours AS jsonb),
                CAST(:deadlines AS jsonb), :five_matters)
        ON CONFLICT (code) DO UPDATE SET deadlines = excluded.deadlines, deadline_hours = excluded.deadline_hours
        WHERE category.deadlines IS DISTINCT FROM excluded.deadlines"""),  # a corrected sample reaches old copies
        [{**c, "deadline_hours": json.dumps(c["deadline_hours"]), "deadlines": json.dumps(c["deadlines"])}
         for c in catalog["categories"]])


def read_history(sample_dir: Path = SAMPLE_DIR) -> dict[str, Any]:
    return dict(json.loads((sample_dir / HISTORY).read_text(encoding="utf-8")))


def load_areas(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """The sample's areas as they are now, valid since the history's ``ground_since``, then its
    splits (:func:`load_history`)."""
    added = 0
    since = read_history(sample_dir)["ground_since"]
    district_code = str(read_layer("district", sample_dir)["code"].iloc[0])
    for kind in AREA_LAYERS:
        df = read_layer(kind, sample_dir)
        attrs = [json.dumps({k: (int(row[k]) if k == "households" else row[k])
                             for k in ("households", "kind") if k in df.columns and pd.notna(row[k])},
                            ensure_ascii=False) for _, row in df.iterrows()]
        if "parent_code" in df.columns:
            parent = df["parent_code"]
        elif "street_code" in df.columns:  # zones sit inside one street
            parent = df["street_code"]
        else:  # patrol zones hang under the district, for scope checks
            parent = pd.Series([district_code] * len(df))
        res = conn.execute(text("""
            INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, changed_by,
                              valid_from)
            SELECT x.code, x.name, x.name_en, :kind, x.parent_code, x.department_code, CAST(x.attributes AS jsonb),
                   ST_SetSRID(CAST(x.wkb AS geometry), 4326), 'sample', CAST(:since AS timestamptz)
            FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:name_en AS text[]),
                        CAST(:parent_code AS text[]), CAST(:department_code AS text[]),
                        CAST(:attributes AS text[]), CAST(:wkb AS text[]))
                 AS x(code, name, name_en, parent_code, department_code, attributes, wkb)
            -- any version: an area edited or retired since is not brought back
            WHERE NOT EXISTS (SELECT 1 FROM area a WHERE a.code = x.code)
        """), {
            "kind": kind, "since": since,
            "code": df["code"].tolist(), "name": df["name"].tolist(),
            "name_en": df["name_en"].tolist() if "name_en" in df.columns else [None] * len(df),
            "parent_code": [None if pd.isna(p) else p for p in parent.tolist()],
            "department_code": df["department_code"].tolist() if "department_code" in df.columns else [None] * len(df),
            "attributes": attrs, "wkb": _multi(df.geometry),
        })
        added += res.rowcount
    return added


def load_history(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """The sample's grid splits: before each, the old grid covered the new one's ground too
    (version 1), and the sample's reports made there then belonged to it. Idempotent."""
    history, done = read_history(sample_dir), 0
    for split in history["splits"]:
        params = {"from": split["from"], "new": split["new"], "at": split["at"], "reason": split["reason"],
                  "since": history["ground_since"]}
        if conn.execute(text(sql.text("sample_split_retire")), params).rowcount:
            conn.execute(text(sql.text("sample_split_before")), params)
            done += 1
    return done


def reroute_history(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> None:
    """The sample's reports in a split-off grid's ground, made before the split, go to the old grid."""
    for split in read_history(sample_dir)["splits"]:
        conn.execute(text(sql.text("sample_split_incidents")), {"from": split["from"], "new": split["new"],
                                                                "at": split["at"]})


def load_places(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """The sample's places register: 200 places drawn in the grids with a fixed seed (no contact). Idempotent."""
    return conn.execute(text(sql.text("sample_places")), {"since": read_history(sample_dir)["ground_since"]}).rowcount


def load_stations_units(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    st = read_layer("station", sample_dir)
    conn.execute(text("""
        INSERT INTO station (code, name, zone_code, departments, geom)
        SELECT x.code, x.name, x.zone_code, string_to_array(x.departments, ','),
               ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326)
        FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:zone_code AS text[]),
                    CAST(:departments AS text[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]))
             AS x(code, name, zone_code, departments, lon, lat)
        ON CONFLICT (code) DO NOTHING
    """), {"code": st["code"].tolist(), "name": st["name"].tolist(), "zone_code": st["zone_code"].tolist(),
           "departments": st["departments"].tolist(), "lon": st.geometry.x.tolist(), "lat": st.geometry.y.tolist()})
    un = read_layer("unit", sample_dir)
    res = conn.execute(text("""
        INSERT INTO unit (code, name, department_code, station_code, patrol_zone_code, status, position, position_at)
        SELECT x.code, x.name, x.department_code, x.station_code, x.patrol_zone_code, x.status,
               ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326), now() - make_interval(secs => x.age)
        FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:department_code AS text[]),
                    CAST(:station_code AS text[]), CAST(:patrol_zone_code AS text[]), CAST(:status AS text[]),
                    CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:age AS float8[]))
             AS x(code, name, department_code, station_code, patrol_zone_code, status, lon, lat, age)
        ON CONFLICT (code) DO NOTHING
    """), {c: un[c].tolist() for c in ("code", "name", "department_code", "station_code", "patrol_zone_code", "status")}
        | {"lon": un.geometry.x.tolist(), "lat": un.geometry.y.tolist(),
           "age": un["position_age_s"].astype(float).tolist()})
    return res.rowcount


def refresh_unit_fixes(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """Simulate the units' GPS heartbeat: sample units get fixes of their sample age again.

    Sample positions age like real ones; a demo started a day later would otherwise
    find every unit stale. Touches only units from the sample.

    Then ANALYZE unit: every position moved at once, and until autovacuum noticed, the
    planner would still think the units as stale as at the last ANALYZE. route_point.sql then
    looked cheaper planned per call than prepared, and ran 2.85 ms instead of 1.15 (measured:
    positions moved one hour after an ANALYZE, 0 generic / 320 custom plans).
    """
    un = read_layer("unit", sample_dir)
    moved = conn.execute(text("""
        UPDATE unit u SET position_at = now() - make_interval(secs => x.age)
        FROM unnest(CAST(:code AS text[]), CAST(:age AS float8[])) AS x(code, age)
        WHERE u.code = x.code
    """), {"code": un["code"].tolist(), "age": un["position_age_s"].astype(float).tolist()}).rowcount
    conn.execute(text("ANALYZE unit"))
    return moved


def _tracking_code(sample_id: object) -> str:
    digest = hashlib.sha256(f"gridgov-sample-{sample_id}".encode()).hexdigest().upper()
    return f"XS-{digest[:4]}-{digest[4:8]}-{digest[8:12]}"


def load_incidents(conn: Connection, sample_dir: Path = SAMPLE_DIR, progress: Callable[[str], None] = print) -> int:
    df = read_layer("incident", sample_dir)
    keys = [f"sample:{s}" for s in df["sample_id"]]
    present = set(conn.execute(text("SELECT idempotency_key FROM incident WHERE idempotency_key = ANY(:k)"),
                               {"k": keys}).scalars())
    mask = np.array([k not in present for k in keys])
    df = df[mask].reset_index(drop=True)
    if df.empty:
        return 0
    lons, lats = df.geometry.x.to_numpy(), df.geometry.y.to_numpy()
    progress(f"routing {len(df)} sample incidents (set-based)")
    routed = pd.DataFrame([dict(r._mapping) for r in conn.execute(
        text(sql.text("route_many")), {"lons": lons.tolist(), "lats": lats.tolist()})])
    cells = [h3.latlng_to_cell(y, x, H3_RESOLUTION) for x, y in zip(lons, lats, strict=True)]

    def col(name: str) -> list[Any]:
        return [None if pd.isna(v) else v for v in df[name].tolist()]

    progress(f"inserting {len(df)} sample incidents")
    res = conn.execute(text("""
        WITH x AS (
            SELECT * FROM unnest(
                CAST(:key AS text[]), CAST(:tracking AS text[]), CAST(:category AS text[]),
                CAST(:description AS text[]),
                CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:accuracy AS float8[]), CAST(:source AS text[]),
                CAST(:status AS text[]), CAST(:priority AS text[]), CAST(:reported AS timestamptz[]),
                CAST(:closed AS timestamptz[]), CAST(:rating AS int[]), CAST(:h3 AS text[]),
                CAST(:grid AS text[]), CAST(:community AS text[]), CAST(:street AS text[]), CAST(:district AS text[]),
                CAST(:zone AS text[]), CAST(:station AS text[]))
            AS t(key, tracking, category, description, lon, lat, accuracy, source, status, priority, reported,
                 closed, rating, h3, grid, community, street, district, zone, station)
        ), ins AS (
            INSERT INTO incident (idempotency_key, tracking_code, category_code, description, location, accuracy_m,
                source, status, priority, tier, reported_at, due_from, due_at, closed_at, rating, h3_cell, grid_code,
                community_code, street_code, district_code, zone_code, station_code, unrouted, created_at)
            SELECT x.key, x.tracking, x.category, x.description, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326),
                   x.accuracy, x.source, x.status, x.priority, c.default_tier, x.reported, x.reported,
                   x.reported + make_interval(hours => CAST(c.deadline_hours ->> x.priority AS int)),
                   x.closed, x.rating, x.h3, x.grid, x.community, x.street, x.district, x.zone, x.station,
                   x.grid IS NULL, x.reported
            FROM x JOIN category c ON c.code = x.category
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, status, reported_at, closed_at
        ), ev AS (
            INSERT INTO incident_event (incident_id, at, actor, kind, to_status)
            SELECT id, reported_at, 'sample', 'reported', 'received' FROM ins
            UNION ALL
            SELECT id, closed_at, 'sample', 'closed', 'closed' FROM ins WHERE closed_at IS NOT NULL
        )
        SELECT count(*) FROM ins
    """), {
        "key": [f"sample:{s}" for s in df["sample_id"]],
        "tracking": [_tracking_code(s) for s in df["sample_id"]],
        "category": col("category_code"), "description": col("description"),
        "lon": lons.tolist(), "lat": lats.tolist(), "accuracy": col("accuracy_m"), "source": col("source"),
        "status": ["received" if s == "open" else s for s in col("status")],  # open = not yet triaged
        "priority": col("priority"), "reported": col("reported_at"),
        "closed": col("closed_at"), "rating": [None if pd.isna(v) else int(v) for v in df["rating"].tolist()],
        "h3": cells, "grid": routed["grid_code"].tolist(), "community": routed["community_code"].tolist(),
        "street": routed["street_code"].tolist(), "district": routed["district_code"].tolist(),
        "zone": routed["zone_code"].tolist(), "station": routed["station_code"].tolist(),
    })
    return int(res.scalar_one())


def load_sample(conn: Connection, sample_dir: Path = SAMPLE_DIR,
                progress: Callable[[str], None] = print) -> dict[str, int]:
    """Load everything in one transaction (the caller's). Returns counts of new rows."""
    progress("loading departments and categories")
    load_catalog(conn, sample_dir)
    progress("loading areas (district, streets, communities, grids, zones, patrol zones)")
    areas = load_areas(conn, sample_dir)
    load_history(conn, sample_dir)
    progress("loading workstations and units")
    units = load_stations_units(conn, sample_dir)
    incidents = load_incidents(conn, sample_dir, progress)
    if incidents:
        reroute_history(conn, sample_dir)
    progress("loading the places register")
    places = load_places(conn, sample_dir)
    driver = conn.connection.driver_connection  # the psycopg connection, in the same transaction
    assert isinstance(driver, psycopg.Connection)
    if areas or routing_index.is_empty(driver):
        progress("building the routing index")
        routing_index.rebuild(driver, progress=progress)
        conn.execute(text("ANALYZE routing_cell"))
    if areas or units or incidents or places:
        # planner statistics now, not whenever autovacuum gets to it: without them bulk
        # routing over the fresh tables ran three times slower in the bench
        progress("analysing the loaded tables")
        for table in ANALYSED_TABLES:
            conn.execute(text(f"ANALYZE {table}"))
    return {"areas": areas, "units": units, "incidents": incidents, "places": places}


ANALYSED_TABLES = ("area", "station", "unit", "incident", "incident_event", "place")
