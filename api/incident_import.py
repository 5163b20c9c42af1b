"""Load a history of incidents from another system (``gridgov import-incidents``): every row
checked first (a dry run lists each row's problems), then all routed in bulk and written with
COPY into a staging table and one INSERT, with the first case-file event of each and one audit
row. Rows carry the other system's id: importing the same file again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import h3
import numpy as np
from psycopg import AsyncConnection

from api import audit
from api.casefile import new_tracking_code
from api.incidents import H3_RESOLUTION
from api.keyed import keyed_hash
from api.params import check_time
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import machine
from spatial import batch
from spatial.errors import InputError
from spatial.routing import route_many

CHUNK = 10_000
PRIORITIES = ("urgent", "high", "normal", "low")
SNAPSHOT = ("grid_code", "community_code", "street_code", "district_code", "zone_code", "station_code")
COLUMNS = ("tracking_code", "idempotency_key", "category_code", "description", "lon", "lat", "status", "priority",
           "reported_at", "closed_at", "h3_cell", *SNAPSHOT)


@dataclass
class Loaded:
    rows: list[dict]
    problems: list[dict]


def _records(path: Path) -> list[dict]:
    """The file's rows as dicts, with ``lon``/``lat`` taken from a point geometry if there is one."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        return frame.to_dict("records")
    if suffix in (".gpkg", ".geojson", ".json"):
        import geopandas as gpd

        frame = gpd.read_file(path).to_crs(4326)
        records = (pd.DataFrame(frame.drop(columns="geometry")).astype(object)
                   .where(frame.notna(), "").to_dict("records"))
        for rec, geom in zip(records, frame.geometry, strict=True):
            if geom is not None and geom.geom_type == "Point":
                rec["lon"], rec["lat"] = geom.x, geom.y
        return [{str(k).lower(): v for k, v in r.items()} for r in records]
    raise ValueError(f"{path}: use .csv, .gpkg or .geojson")


def _time(value, zone: ZoneInfo, field: str) -> datetime | None:
    """An ISO 8601 time of the file (ValueError), in the range every caller's time is held to (InputError)."""
    text = str(value or "").strip()
    if not text:
        return None
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return check_time(t if t.tzinfo else t.replace(tzinfo=zone), field)


async def check(conn: AsyncConnection, path: Path, settings: Settings) -> Loaded:
    """Read and check every row (row numbers as a spreadsheet shows them: the header is row 1)."""
    records = _records(path)
    if len(records) > batch.MAX_POINTS * 10:
        raise ValueError(f"at most {batch.MAX_POINTS * 10:,} incidents in one file")
    categories = {r["code"] for r in await sql.fetchall(conn, "categories")}
    zone = ZoneInfo(settings.timezone)
    rows, problems, seen = [], [], {}
    for n, rec in enumerate(records, start=2):
        mine: list[dict] = []
        external = str(rec.get("id") or "").strip()
        if not external:
            mine.append({"row": n, "field": "id", "reason": "every row needs the other system's id"})
        elif external in seen:
            mine.append({"row": n, "field": "id", "reason": f"the same id as row {seen[external]}"})
        else:
            seen[external] = n
        lon, lat = batch.check_point(n, rec.get("lon"), rec.get("lat"), mine)
        category = str(rec.get("category") or "").strip()
        if category not in categories:
            mine.append({"row": n, "field": "category", "reason": f"unknown category {category!r}"})
        status = str(rec.get("status") or "closed").strip()
        if status not in machine.STATES:
            mine.append({"row": n, "field": "status", "reason": f"unknown state {status!r}"})
        priority = str(rec.get("priority") or "normal").strip()
        if priority not in PRIORITIES:
            mine.append({"row": n, "field": "priority", "reason": f"must be one of {', '.join(PRIORITIES)}"})
        reported = closed = None
        try:
            reported = _time(rec.get("reported_at"), zone, "reported_at")
            if reported is None:
                mine.append({"row": n, "field": "reported_at", "reason": "required (ISO 8601)"})
        except InputError as e:
            mine.append({"row": n, "field": e.field, "reason": e.reason})
        except ValueError:
            mine.append({"row": n, "field": "reported_at", "reason": "not an ISO 8601 time"})
        try:
            closed = _time(rec.get("closed_at"), zone, "closed_at")
        except InputError as e:
            mine.append({"row": n, "field": e.field, "reason": e.reason})
        except ValueError:
            mine.append({"row": n, "field": "closed_at", "reason": "not an ISO 8601 time"})
        description = str(rec.get("description") or "")
        if "\x00" in description or len(description) > 2000:
            mine.append({"row": n, "field": "description", "reason": "at most 2000 characters, no NUL"})
        problems += mine
        if not mine:
            rows.append({"external": external, "lon": lon, "lat": lat, "category_code": category, "status": status,
                         "priority": priority, "reported_at": reported,
                         "closed_at": closed if closed else (reported if status in machine.ENDED else None),
                         "description": description})
    return Loaded(rows, problems)


async def apply(conn: AsyncConnection, loaded: Loaded, settings: Settings, *, system: str, actor: str,
                progress=lambda done, total: None) -> dict:
    """Route and insert the checked rows in the caller's transaction; returns the counts."""
    rows = loaded.rows
    lons = np.array([r["lon"] for r in rows], dtype="float64")
    lats = np.array([r["lat"] for r in rows], dtype="float64")
    routed: list[dict] = []
    for start in range(0, len(rows), CHUNK):
        routed += await route_many(conn, lons[start:start + CHUNK], lats[start:start + CHUNK])
        progress(min(start + CHUNK, len(rows)), len(rows))
    async with conn.cursor() as cur:
        await cur.execute(sql.query("incident_import_stage"))
        async with cur.copy(f"COPY incident_import ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r, where in zip(rows, routed, strict=True):
                await copy.write_row((
                    new_tracking_code(), keyed_hash(settings.hash_key, "import", f"{system}\n{r['external']}"),
                    r["category_code"], r["description"], r["lon"], r["lat"], r["status"], r["priority"],
                    r["reported_at"], r["closed_at"], h3.latlng_to_cell(r["lat"], r["lon"], H3_RESOLUTION),
                    *(where[k] for k in SNAPSHOT)))
    inserted = await sql.scalar(conn, "incident_import_insert", {"actor": actor})
    await audit.record(conn, actor=actor, action="import_incidents", entity="incident",
                       after={"system": system, "rows": len(rows), "inserted": inserted,
                              "unrouted": sum(1 for w in routed if w["grid_code"] is None)})
    return {"rows": len(rows), "inserted": inserted, "already_there": len(rows) - inserted,
            "unrouted": sum(1 for w in routed if w["grid_code"] is None)}
