"""Incident intake and reads: route, snapshot, insert, record the first event."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncConnection

from api import contact as contact_box
from api.errors import Conflict, NotFound
from api.schemas import IncidentIn
from api.settings import Settings
from spatial.routing import RoutingOptions, route_point
from spatial.sqlfiles import sql

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
H3_RESOLUTION = 9


def new_tracking_code() -> str:
    """Unguessable, readable over the phone: ``XA-7K3M-9QXR-2PLD`` (about 60 bits)."""
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(12))
    return f"XA-{body[:4]}-{body[4:8]}-{body[8:]}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def routing_options(settings: Settings) -> RoutingOptions:
    return RoutingOptions(
        boundary_tolerance_m=settings.boundary_tolerance_m,
        stale_position_s=settings.stale_position_s,
        units_per_department=settings.units_per_department,
    )


def _request_hash(body: IncidentIn) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()


def _snapshot_codes(routing: dict[str, Any]) -> dict[str, Any]:
    def code(key):
        return (routing.get(key) or {}).get("code")

    primary = routing["category"]["departments"][0] if routing["category"]["departments"] else None
    patrol = next((p["code"] for p in routing["patrol_zones"] if p["department"] == primary), None)
    district = code("district")
    if district is None and routing.get("nearest_grid"):
        district = routing["nearest_grid"]["code"][:6]  # grid codes extend the district code
    return {
        "grid_code": code("grid"), "community_code": code("community"), "street_code": code("street"),
        "district_code": district, "zone_code": code("zone"), "station_code": code("station"),
        "patrol_zone_code": patrol,
        "near_boundary": "near_boundary" in routing["flags"], "unrouted": "unrouted" in routing["flags"],
    }


async def create_incident(
    conn: AsyncConnection, body: IncidentIn, settings: Settings, *,
    idempotency_key: str | None, actor: str,
) -> tuple[dict[str, Any], bool]:
    """Route and store a report. Returns (created document, is_new)."""
    routing = await route_point(
        conn, body.lon, body.lat, body.category, accuracy_m=body.accuracy_m,
        input_crs=body.crs, options=routing_options(settings),
    )
    point = routing["point"]
    token = secrets.token_urlsafe(24)
    request_hash = _request_hash(body)
    params = {
        "tracking_code": new_tracking_code(), "idempotency_key": idempotency_key,
        "request_hash": request_hash, "category": body.category, "description": body.description,
        "lon": point["lon"], "lat": point["lat"], "accuracy_m": body.accuracy_m,
        "input_crs": body.crs, "source": body.source, "priority": body.priority,
        "status": "new", "h3_cell": h3.latlng_to_cell(point["lat"], point["lon"], H3_RESOLUTION),
        "routing": json.dumps(routing, ensure_ascii=False, default=str),
        "reporter_contact": contact_box.seal(settings.contact_key, body.contact),
        "reporter_token_hash": hash_token(token),
        **_snapshot_codes(routing),
    }
    inserted = (await conn.execute(sql("incident_insert"), params)).first()
    if inserted is None:  # the key was used before: hand back that incident, never a second
        existing = await find_incident(conn, idempotency_key=idempotency_key)
        if existing["request_hash"] != request_hash:
            raise Conflict("Idempotency-Key was already used for a different report", field="Idempotency-Key")
        return {"id": existing["id"], "tracking_code": existing["tracking_code"], "reporter_token": None,
                "status": existing["status"], "routing": existing["routing"]}, False
    incident_id = inserted.id
    await add_event(conn, incident_id, actor=actor, kind="reported", to_status="new",
                    data={"source": body.source, "flags": routing["flags"]})
    return {"id": incident_id, "tracking_code": params["tracking_code"], "reporter_token": token,
            "status": "new", "routing": routing}, True


async def find_incident(conn: AsyncConnection, *, idempotency_key: str) -> dict[str, Any]:
    row = (await conn.execute(sql("incident_by_key"), {"k": idempotency_key})).mappings().one()
    return dict(row)


async def add_event(conn, incident_id: int, *, actor: str, kind: str, from_status: str | None = None,
                    to_status: str | None = None, note: str | None = None, data: dict | None = None) -> None:
    await conn.execute(sql("incident_event_insert"), {
        "incident_id": incident_id, "actor": actor, "kind": kind, "from_status": from_status,
        "to_status": to_status, "note": note, "data": json.dumps(data or {}, ensure_ascii=False),
    })


EMPTY_FILTERS = {"id": None, "tracking_code": None, "category": None, "status": None, "since": None,
                 "until": None, "xmin": None, "ymin": None, "xmax": None, "ymax": None, "scope": None,
                 "unit": None}


async def select_incidents(conn: AsyncConnection, *, limit: int = 100, offset: int = 0, **filters) -> tuple[list[dict], int]:
    params = {**EMPTY_FILTERS, **filters, "limit": limit, "offset": offset}
    rows = [dict(r) for r in (await conn.execute(sql("incident_select"), params)).mappings()]
    matched = rows[0]["number_matched"] if rows else 0
    return rows, matched


async def get_incident(conn: AsyncConnection, incident_id: int, *, scope: list[str] | None = None,
                       unit: str | None = None) -> dict:
    rows, _ = await select_incidents(conn, id=incident_id, scope=scope, unit=unit, limit=1)
    if not rows:
        raise NotFound(f"incident {incident_id} not found", field="id")
    row = rows[0]
    row["events"] = [dict(e) for e in (await conn.execute(sql("incident_events"), {"incident_id": incident_id})).mappings()]
    return row
