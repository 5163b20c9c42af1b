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
import pyogrio
import shapely
from psycopg import Connection
from shapely.geometry.base import BaseGeometry

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
    with conn.cursor() as cur:
        cur.executemany(sql.query("sample_departments"), catalog["departments"])
        cur.executemany(sql.query("sample_categories"), [
            {**c, "deadline_hours": json.dumps(c["deadline_hours"]), "deadlines": json.dumps(c["deadlines"])}
            for c in catalog["categories"]])


def load_checklists(conn: Connection) -> int:
    """The default joint-inspection checklists of the catalogue's departments (idempotent)."""
    from importlib import resources

    doc = resources.files("api.inspections").joinpath("default_checklists.json").read_text(encoding="utf-8")
    return sql.execute_sync(conn, "sample_checklists", {"doc": doc})


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
        added += sql.execute_sync(conn, "sample_areas", {
            "kind": kind, "since": since,
            "code": df["code"].tolist(), "name": df["name"].tolist(),
            "name_en": df["name_en"].tolist() if "name_en" in df.columns else [None] * len(df),
            "parent_code": [None if pd.isna(p) else p for p in parent.tolist()],
            "department_code": df["department_code"].tolist() if "department_code" in df.columns else [None] * len(df),
            "attributes": attrs, "wkb": _multi(df.geometry),
        })
    return added


def load_history(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """The sample's grid splits: before each, the old grid covered the new one's ground too
    (version 1), and the sample's reports made there then belonged to it. Idempotent."""
    history, done = read_history(sample_dir), 0
    for split in history["splits"]:
        params = {"from": split["from"], "new": split["new"], "at": split["at"], "reason": split["reason"],
                  "since": history["ground_since"]}
        if sql.execute_sync(conn, "sample_split_retire", params):
            sql.execute_sync(conn, "sample_split_before", params)
            done += 1
    return done


def reroute_history(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> None:
    """The sample's reports in a split-off grid's ground, made before the split, go to the old grid."""
    for split in read_history(sample_dir)["splits"]:
        sql.execute_sync(conn, "sample_split_incidents",
                         {"from": split["from"], "new": split["new"], "at": split["at"]})


def load_places(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    """The sample's places register: 200 places drawn in the grids with a fixed seed (no contact). Idempotent."""
    return sql.execute_sync(conn, "sample_places", {"since": read_history(sample_dir)["ground_since"]})


def load_stations_units(conn: Connection, sample_dir: Path = SAMPLE_DIR) -> int:
    st = read_layer("station", sample_dir)
    sql.execute_sync(conn, "sample_stations", {c: st[c].tolist() for c in ("code", "name", "zone_code", "departments")}
                     | {"lon": st.geometry.x.tolist(), "lat": st.geometry.y.tolist()})
    un = read_layer("unit", sample_dir)
    columns = ("code", "name", "department_code", "station_code", "patrol_zone_code", "status")
    return sql.execute_sync(conn, "sample_units", {c: un[c].tolist() for c in columns}
                            | {"lon": un.geometry.x.tolist(), "lat": un.geometry.y.tolist(),
                               "age": un["position_age_s"].astype(float).tolist()})


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
    moved = sql.execute_sync(conn, "sample_unit_fixes",
                             {"code": un["code"].tolist(), "age": un["position_age_s"].astype(float).tolist()})
    conn.execute("ANALYZE unit")
    return moved


def _tracking_code(sample_id: object) -> str:
    digest = hashlib.sha256(f"gridgov-sample-{sample_id}".encode()).hexdigest().upper()
    return f"XS-{digest[:4]}-{digest[4:8]}-{digest[8:12]}"


def load_incidents(conn: Connection, sample_dir: Path = SAMPLE_DIR, progress: Callable[[str], None] = print) -> int:
    df = read_layer("incident", sample_dir)
    keys = [f"sample:{s}" for s in df["sample_id"]]
    present = {r["idempotency_key"] for r in sql.fetchall_sync(conn, "sample_incidents_present", {"k": keys})}
    mask = np.array([k not in present for k in keys])
    df = df[mask].reset_index(drop=True)
    if df.empty:
        return 0
    lons, lats = df.geometry.x.to_numpy(), df.geometry.y.to_numpy()
    progress(f"routing {len(df)} sample incidents (set-based)")
    routed = pd.DataFrame(sql.fetchall_sync(conn, "route_many", {"lons": lons.tolist(), "lats": lats.tolist()}))
    cells = [h3.latlng_to_cell(y, x, H3_RESOLUTION) for x, y in zip(lons, lats, strict=True)]

    def col(name: str) -> list[Any]:
        return [None if pd.isna(v) else v for v in df[name].tolist()]

    progress(f"inserting {len(df)} sample incidents")
    [row] = sql.fetchall_sync(conn, "sample_incidents", {
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
    return int(row["count"])


def load_sample(conn: Connection, sample_dir: Path = SAMPLE_DIR,
                progress: Callable[[str], None] = print) -> dict[str, int]:
    """Load everything in one transaction (the caller's). Returns counts of new rows."""
    progress("loading departments and categories")
    load_catalog(conn, sample_dir)
    load_checklists(conn)
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
    if areas or routing_index.is_empty(conn):
        progress("building the routing index")
        routing_index.rebuild(conn, progress=progress)
        conn.execute("ANALYZE routing_cell")
    if areas or units or incidents or places:
        # planner statistics now, not whenever autovacuum gets to it: without them bulk
        # routing over the fresh tables ran three times slower in the bench
        progress("analysing the loaded tables")
        for table in ANALYSED_TABLES:
            conn.execute(f"ANALYZE {table}")  # noqa: S608 - the module's own table names
    return {"areas": areas, "units": units, "incidents": incidents, "places": places}


ANALYSED_TABLES = ("area", "station", "unit", "incident", "incident_event", "place")
