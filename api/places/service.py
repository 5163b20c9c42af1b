"""Places: new versions for every change (the old one closed, as areas are), each write with its
audit row; reads in the caller's reach (``read_places``); a contact unsealed only for callers
holding ``read_place_contact`` over the place, and each such read audited."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import AsyncConnection

from api import audit, contact as contact_box
from api.auth.policy import Capability, Reach, reach
from api.auth.principal import Principal
from api.errors import Forbidden, NotFound
from api.places.schemas import PlaceIn, PlaceUpdate
from api.settings import Settings
from api.sqlfiles import sql
from spatial import crs as datums
from spatial.errors import InputError
from spatial.routing import check_coordinates, route_many

ROUTED = ("grid_code", "community_code", "street_code", "district_code", "zone_code")
FIELDS = ("category", "name", "address", "licences", "responsible", "risk_level")


def contact_key(settings: Settings) -> str:
    """The key(s) sealing contacts (always set by the settings: from the environment or the secrets file)."""
    return settings.contact_key or ""


def to_wgs84(lons: list[float], lats: list[float], crs: str) -> tuple[list[float], list[float]]:
    """Longitudes/latitudes in ``crs`` (wgs84, cgcs2000, gcj02, bd09) as WGS-84."""
    if crs in ("wgs84", "cgcs2000") or not lons:
        return [datums.representable(v) for v in lons], [datums.representable(v) for v in lats]
    x, y = datums.to_wgs84(np.asarray(lons, dtype="float64"), np.asarray(lats, dtype="float64"), crs)
    return [datums.representable(float(v)) for v in np.atleast_1d(x)], \
        [datums.representable(float(v)) for v in np.atleast_1d(y)]


async def route(conn: AsyncConnection, lons: list[float], lats: list[float]) -> list[dict[str, Any]]:
    """Each WGS-84 point's grid, community, street, district and zone (grid None: outside every grid)."""
    return await route_many(conn, lons, lats) if lons else []


def areas_of(routed: dict[str, Any]) -> list[str]:
    return [routed[k] for k in ROUTED if routed.get(k)]


async def _locate(conn: AsyncConnection, lon: float, lat: float, crs: str) -> tuple[float, float, dict[str, Any]]:
    check_coordinates(lon, lat)
    [x], [y] = to_wgs84([lon], [lat], crs)
    [routed] = await route(conn, [x], [y])
    if routed["grid_code"] is None:
        raise InputError("lon", f"({lon}, {lat}) lies outside every district's grids: a place must be "
                                "on the ground of a district served here")
    return x, y, routed


def _may_edit(who: Principal, areas: list[str], what: str) -> None:
    if not reach(who, Capability.EDIT_PLACES).covers(areas):
        raise Forbidden(f"{what} lies outside the areas you keep places for", field="lon")


def row_values(code: str, doc: dict[str, Any], x: float, y: float, routed: dict[str, Any],
               sealed: bytes | None) -> dict[str, Any]:
    return {"code": code, **{k: doc.get(k) for k in FIELDS}, "contact": sealed, "lon": x, "lat": y,
            **{k: routed.get(k) for k in ROUTED}}


async def insert_versions(conn: AsyncConnection, rows: list[dict[str, Any]], *, actor: str,
                          reason: str | None) -> dict[str, int]:
    """Close the current versions of these codes and insert the new ones; returns code -> version."""
    if not rows:
        return {}
    ts = await sql.scalar(conn, "clock_now")
    locked = await sql.fetchall(conn, "place_current_lock", {"codes": [r["code"] for r in rows]})
    await sql.execute(conn, "place_close", {"ids": [r["id"] for r in locked], "ts": ts})
    col = lambda k: [r.get(k) for r in rows]  # noqa: E731
    out = await sql.fetchall(conn, "place_insert", {
        "codes": col("code"), "categories": col("category"), "names": col("name"), "addresses": col("address"),
        "licences": [json.dumps(r.get("licences") or [], ensure_ascii=False) for r in rows],
        "responsibles": col("responsible"), "contacts": col("contact"), "risks": col("risk_level"),
        "lons": col("lon"), "lats": col("lat"), "grids": col("grid_code"), "communities": col("community_code"),
        "streets": col("street_code"), "districts": col("district_code"), "zones": col("zone_code"),
        "ts": ts, "actor": actor, "reason": reason})
    return {r["code"]: r["version"] for r in out}


async def _current(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    rows = await sql.fetchall(conn, "place_current_lock", {"codes": [code]})
    return rows[0] if rows else None


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in (*FIELDS, "lon", "lat", "grid_code")} | {"contact": bool(row.get("contact"))}


async def create(conn: AsyncConnection, who: Principal, settings: Settings, body: PlaceIn) -> dict[str, Any]:
    """A new place (its code not current anywhere), routed and in the caller's reach."""
    x, y, routed = await _locate(conn, body.lon, body.lat, body.crs)
    _may_edit(who, areas_of(routed), "the point")
    if await _current(conn, body.code) is not None:
        raise InputError("code", f"a place {body.code} exists already: change it instead")
    doc = body.model_dump()
    doc["licences"] = [v.strip() for v in body.licences or []]
    row = row_values(body.code, doc, x, y, routed, contact_box.seal(contact_key(settings), body.contact))
    versions = await insert_versions(conn, [row], actor=who.actor, reason=body.reason)
    await audit.record(conn, actor=who.actor, action="place.create", entity="place", entity_id=body.code,
                       after={**_audit_view(row), "version": versions[body.code]}, client=who.client)
    return await read_one(conn, who, settings, body.code, audit_contact=False)


async def update(conn: AsyncConnection, who: Principal, settings: Settings, code: str,
                 body: PlaceUpdate) -> dict[str, Any]:
    """A new version with what the body changes (a new point is routed again)."""
    old = await _current(conn, code)
    if old is None or not reach(who, Capability.READ_PLACES).covers(old["areas"]):
        raise NotFound(f"no current place {code} within your reach", field="code")
    _may_edit(who, old["areas"], f"place {code}")
    sent = body.model_dump(exclude_unset=True)
    if not set(sent) - {"crs", "reason"}:
        raise InputError("body", "say what changes: category, name, address, licences, responsible, contact, "
                                 "risk_level or lon and lat")
    if body.lon is not None and body.lat is not None:
        x, y, routed = await _locate(conn, body.lon, body.lat, body.crs)
        _may_edit(who, areas_of(routed), "the new point")
    else:
        x, y, routed = old["lon"], old["lat"], {k: old[k] for k in ROUTED}
    doc = {k: old[k] for k in FIELDS} | {k: sent[k] for k in FIELDS if k in sent}
    for k in ("category", "name", "risk_level"):
        if doc[k] is None:
            raise InputError(k, "may not be cleared")
    doc["licences"] = [v.strip() for v in doc["licences"] or []]
    sealed = old["contact"] if "contact" not in sent else contact_box.seal(contact_key(settings), body.contact)
    row = row_values(code, doc, x, y, routed, sealed)
    versions = await insert_versions(conn, [row], actor=who.actor, reason=body.reason)
    await audit.record(conn, actor=who.actor, action="place.update", entity="place", entity_id=code,
                       before={**_audit_view(old), "version": old["version"]},
                       after={**_audit_view(row), "version": versions[code], "reason": body.reason},
                       client=who.client)
    return await read_one(conn, who, settings, code, audit_contact=False)


async def retire(conn: AsyncConnection, who: Principal, code: str, reason: str | None) -> dict[str, Any]:
    """Close the place's current version (it stays in its history)."""
    old = await _current(conn, code)
    if old is None or not reach(who, Capability.READ_PLACES).covers(old["areas"]):
        raise NotFound(f"no current place {code} within your reach", field="code")
    _may_edit(who, old["areas"], f"place {code}")
    ts = await sql.scalar(conn, "clock_now")
    await sql.execute(conn, "place_close", {"ids": [old["id"]], "ts": ts})
    await audit.record(conn, actor=who.actor, action="place.retire", entity="place", entity_id=code,
                       before={**_audit_view(old), "version": old["version"]}, after={"reason": reason},
                       client=who.client)
    return {"code": code, "version": old["version"], "retired": True}


def _place(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("contact", "areas", "matched")}
    out["licences"] = list(out.get("licences") or [])
    return out


def _reach_params(r: Reach) -> dict[str, Any]:
    return {"everywhere": r.everywhere, "scope": list(r.areas)}


async def _versions(conn: AsyncConnection, who: Principal, code: str) -> list[dict[str, Any]]:
    rows = await sql.fetchall(conn, "place_versions",
                              {"code": code, **_reach_params(reach(who, Capability.READ_PLACES))})
    if not rows:
        raise NotFound(f"no place {code} within your reach", field="code")
    return rows


async def read_one(conn: AsyncConnection, who: Principal, settings: Settings, code: str, *,
                   audit_contact: bool = True) -> dict[str, Any]:
    """The current version; its contact for a caller holding read_place_contact over it (audited)."""
    rows = await _versions(conn, who, code)
    last = rows[-1]
    if last["valid_to"] is not None:
        raise NotFound(f"place {code} was retired (its history is at /api/places/{code}/history)", field="code")
    out = _place(last)
    if last["contact"] and reach(who, Capability.READ_PLACE_CONTACT).covers(last["areas"]):
        out["contact"] = contact_box.unseal(contact_key(settings), last["contact"])
        if audit_contact:
            await audit.record(conn, actor=who.actor, action="read_contact", entity="place", entity_id=code,
                               client=who.client)
    return out


async def history(conn: AsyncConnection, who: Principal, code: str) -> dict[str, Any]:
    """Every version, oldest first (never a contact)."""
    return {"code": code, "versions": [_place(r) for r in await _versions(conn, who, code)]}


async def search(conn: AsyncConnection, who: Principal, *, bbox: dict, categories: Sequence[str] | None = None,
                 risks: Sequence[str] | None = None, area: str | None = None, q: str | None = None,
                 limit: int | None = 100, offset: int = 0,
                 capability: Capability = Capability.READ_PLACES) -> tuple[list[dict[str, Any]], int]:
    """Current places in reach, filtered, ordered by code: (page, matched before paging)."""
    rows = await sql.fetchall(conn, "place_list", {
        **_reach_params(reach(who, capability)), **bbox, "categories": list(categories) if categories else None,
        "risks": list(risks) if risks else None, "area": area, "q": q or None, "limit": limit, "offset": offset})
    matched = int(rows[0]["matched"]) if rows else 0
    return [_place(r) for r in rows if r["code"] is not None], matched


def as_feature(place: dict[str, Any]) -> dict[str, Any]:
    props = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in place.items()
             if k not in ("lon", "lat", "contact")}
    return {"type": "Feature", "id": place["code"],
            "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]}, "properties": props}


async def layer_page(conn: AsyncConnection, who: Principal, *, bbox: dict | None = None, code: str | None = None,
                     limit: int | None = 100, offset: int = 0, extent: bool = False) -> dict[str, Any]:
    """The places as a layer for the OGC API: a FeatureCollection page with numberMatched (and,
    with ``extent``, the bbox of every place in reach). Scoped by read_places; never a contact."""
    r = reach(who, Capability.READ_PLACES)
    if code is not None:
        rows, _ = await search(conn, who, bbox=bbox or dict.fromkeys(("xmin", "ymin", "xmax", "ymax")), q=code,
                               limit=None)
        places = [p for p in rows if p["code"] == code][:1]
        matched = len(places)
    else:
        places, matched = await search(conn, who, bbox=bbox or dict.fromkeys(("xmin", "ymin", "xmax", "ymax")),
                                       limit=limit, offset=offset)
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": [as_feature(p) for p in places],
                           "numberMatched": matched, "numberReturned": len(places)}
    if extent:
        box = await sql.fetchone(conn, "place_extent", _reach_params(r))
        if box and box["xmin"] is not None:
            doc["bbox"] = [float(box[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
    return doc
