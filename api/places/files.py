"""Importing a places file (every row checked, each problem named by row and column; written all
at once or not at all) and exporting the places in reach (never a contact)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from psycopg import AsyncConnection

from api import audit, contact as contact_box
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.places import service
from api.places.catalogue import CATEGORIES, CODE_PATTERN, MAX_LICENCES, RISK_LEVELS
from api.places.reading import Row, read_places
from api.settings import Settings
from api.sqlfiles import sql
from spatial.errors import InputError
from spatial.io import FORMATS, write_layer
from spatial.routing import check_coordinates

LOCK_KEY = 0x706C61636573  # "places": one import at a time (two could add the same code at once)
MAX_IMPORT_BYTES = 8_000_000
EXPORT_FORMATS = ("geojson", "gpkg")
EXPORT_COLUMNS = ("code", "version", "category", "name", "address", "licences", "responsible", "risk_level",
                  "grid_code", "community_code", "street_code", "district_code", "zone_code", "valid_from")
BY_NAME = {zh: code for code, (zh, _) in CATEGORIES.items()}
RISK_NAMES = {"低": "low", "中": "medium", "高": "high"}
LIMITS = {"name": 200, "address": 300, "responsible": 100, "contact": 100}
SAME_POINT_DEG = 1e-7
# a column the file lacks keeps the stored value (an export has no contact: importing it back clears none)
KEPT_WHEN_ABSENT = ("address", "licences", "responsible", "contact", "risk_level")


def _split_licences(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；|]", text) if p.strip()]


def _check_fields(row: Row, seen: dict[str, int]) -> dict[str, Any]:
    """The row's document (category and risk level as codes); problems appended to the row."""
    v = row.values
    code = v["code"]
    if not code:
        row.problems.append(("code", "missing"))
    elif not re.match(CODE_PATTERN, code):
        row.problems.append(("code", f"{code[:40]!r}: letters, digits, - and _ only, at most 32"))
    elif code in seen:
        row.problems.append(("code", f"duplicate code {code} (also row {seen[code]})"))
    else:
        seen[code] = row.number
    if not v["name"]:
        row.problems.append(("name", "missing"))
    for col, most in LIMITS.items():
        if len(v[col]) > most:
            row.problems.append((col, f"longer than {most} characters"))
    category = BY_NAME.get(v["category"], v["category"])
    if category not in CATEGORIES:
        row.problems.append(("category", f"unknown category {v['category'][:40]!r} (one of {', '.join(CATEGORIES)})"))
    risk = RISK_NAMES.get(v["risk_level"], v["risk_level"].lower() or "low")
    if risk not in RISK_LEVELS:
        row.problems.append(("risk_level", f"bad risk level {v['risk_level'][:40]!r} (low, medium or high)"))
    licences = _split_licences(v["licences"])
    if len(licences) > MAX_LICENCES or any(len(x) > 60 for x in licences):
        row.problems.append(("licences", f"at most {MAX_LICENCES} numbers of at most 60 characters, split by ;"))
    if row.lon is not None and row.lat is not None:
        try:
            check_coordinates(row.lon, row.lat)
        except InputError as exc:
            row.problems.append((exc.field, exc.reason))
            row.lon = row.lat = None
    return {"code": code, "name": v["name"], "category": category, "risk_level": risk,
            "address": v["address"] or None, "licences": licences, "responsible": v["responsible"] or None,
            "contact": v["contact"] or None}


def _same(old: dict[str, Any], doc: dict[str, Any], x: float, y: float, contact: str | None, key: str) -> bool:
    return (all(old[k] == doc[k] for k in ("category", "name", "address", "responsible", "risk_level"))
            and list(old["licences"] or []) == doc["licences"]
            and abs(old["lon"] - x) < SAME_POINT_DEG and abs(old["lat"] - y) < SAME_POINT_DEG
            and contact_box.unseal(key, old["contact"]) == contact)


async def import_places(conn: AsyncConnection, who: Principal, settings: Settings, path: Path, *,
                        filename: str | None = None, crs: str = "wgs84", dry_run: bool = True,
                        reason: str | None = None,
                        progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Check every row of ``path`` and, unless it is a dry run or any row has a problem, write the
    new and changed places as new versions in the caller's transaction, with one audit row.

    Problems: unreadable values, unknown category, bad risk level, a duplicate code, a point
    outside every district's grids or outside the caller's areas."""
    name = filename or path.name
    read = await asyncio.to_thread(read_places, path, name=name, crs=crs)
    rows = read.rows
    await sql.execute(conn, "advisory_xact_lock_wait", {"key": LOCK_KEY})
    seen: dict[str, int] = {}
    docs = [_check_fields(r, seen) for r in rows]
    located = [(i, r.lon, r.lat) for i, r in enumerate(rows) if r.lon is not None and r.lat is not None]
    lons: list[float] = [lon for _, lon, _ in located]
    lats: list[float] = [lat for _, _, lat in located]
    if not read.converted_by_reader:
        lons, lats = service.to_wgs84(lons, lats, crs)
    routed = await service.route(conn, lons, lats)
    points: dict[int, tuple[float, float, dict[str, Any]]] = {}
    editable = reach(who, Capability.EDIT_PLACES)
    for (i, _, _), x, y, r in zip(located, lons, lats, routed, strict=True):
        if r["grid_code"] is None:
            rows[i].problems.append(("lon", "outside every district: the point is on no grid served here"))
        elif not editable.covers(service.areas_of(r)):
            rows[i].problems.append(("lon", "outside the areas you keep places for"))
        else:
            points[i] = (x, y, r)
    codes = [d["code"] for d in docs if d["code"]]
    current = {r["code"]: r for r in await sql.fetchall(conn, "place_current_lock", {"codes": codes})}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    writes: list[dict[str, Any]] = []
    key = service.contact_key(settings)
    for i, (row, doc) in enumerate(zip(rows, docs, strict=True)):
        old = current.get(doc["code"])
        if old is not None and not editable.covers(old["areas"]):
            row.problems.append(("code", f"place {doc['code']} exists outside the areas you keep places for"))
        if row.problems or i not in points:
            continue
        x, y, r = points[i]
        if old is None:
            added.append(doc["code"])
            writes.append(service.row_values(doc["code"], doc, x, y, r, contact_box.seal(key, doc["contact"])))
            continue
        kept = [c for c in KEPT_WHEN_ABSENT if c not in read.columns]
        doc.update({c: old[c] for c in kept if c != "contact"})
        contact = contact_box.unseal(key, old["contact"]) if "contact" in kept else doc["contact"]
        if _same(old, doc, x, y, contact, key):
            unchanged.append(doc["code"])
            continue
        updated.append(doc["code"])
        sealed = old["contact"] if "contact" in kept else contact_box.seal(key, doc["contact"])
        writes.append(service.row_values(doc["code"], doc, x, y, r, sealed))
    problems = [{"row": r.number, "column": col, "reason": why} for r in rows for col, why in r.problems]
    if not rows:
        problems.append({"row": 1, "column": "-", "reason": "no rows below the header"})
    report = {"file": name, "format": read.format, "crs": crs, "rows": len(rows), "dry_run": dry_run,
              "written": False, "problems": problems, "added": added, "updated": updated, "unchanged": unchanged}
    if problems or dry_run or not writes:
        return report
    if progress:
        progress(0, len(writes))
    versions = await service.insert_versions(conn, writes, actor=who.actor, reason=reason)
    if progress:
        progress(len(writes), len(writes))
    await audit.record(conn, actor=who.actor, action="place.import", entity="place", entity_id=name[:200],
                       after={"crs": crs, "added": len(added), "updated": len(updated), "unchanged": len(unchanged),
                              "versions": len(versions), "reason": reason}, client=who.client)
    report["written"] = True
    return report


async def export_places(conn: AsyncConnection, who: Principal, *, fmt: str, area: str | None = None,
                        categories: Sequence[str] | None = None) -> tuple[bytes, str]:
    """The current places in reach (under ``area``) as a GeoJSON or GeoPackage file, never a
    contact. Returns ``(content, file name)``."""
    if fmt not in EXPORT_FORMATS:
        raise InputError("format", f"{fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
    places, _ = await service.search(conn, who, bbox=dict.fromkeys(("xmin", "ymin", "xmax", "ymax")),
                                     categories=categories, area=area, limit=None)
    records = [{c: (";".join(p[c]) if c == "licences" else p[c]) for c in EXPORT_COLUMNS} for p in places]
    frame = gpd.GeoDataFrame(records, columns=list(EXPORT_COLUMNS),
                             geometry=[shapely.Point(p["lon"], p["lat"]) for p in places], crs="EPSG:4326")
    frame["valid_from"] = frame["valid_from"].map(lambda v: v.isoformat() if v is not None else None)
    content = await asyncio.to_thread(write_layer, frame, fmt, "place")
    return content, ("places-" + area if area else "places") + FORMATS[fmt].suffix
