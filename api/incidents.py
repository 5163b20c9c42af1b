"""Incidents: intake (route, snapshot, insert, first event, audit) and reads in reach."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any

import h3
import orjson
from psycopg import AsyncConnection

from api import audit, clock, contact as contact_box, duplicates, qr, units
from api.auth.policy import Capability, holds, reach
from api.auth.principal import Principal
from api.casefile import REPORTER, hash_token, new_tracking_code
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.keyed import keyed_hash, keyed_token
from api.schemas import IncidentIn
from api.settings import Settings
from api.sqlfiles import sql
from api.workflow import deadlines
from spatial.routing import RoutingOptions, check_in_service_area, route_point

log = logging.getLogger("gridgov.incidents")

H3_RESOLUTION = 9

# sources only staff may claim, and the capability each needs
STAFF_SOURCES = {"grid_worker": Capability.REPORT_PATROL, "hotline": Capability.REPORT_HOTLINE}


def routing_options(settings: Settings) -> RoutingOptions:
    return RoutingOptions(
        boundary_tolerance_m=settings.boundary_tolerance_m,
        stale_position_s=settings.stale_position_s,
        units_per_department=settings.units_per_department,
    )


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


def check_report_rights(who: Principal, body: IncidentIn) -> None:
    """Staff-only sources and priorities: refused naming the field."""
    needed = STAFF_SOURCES.get(body.source)
    if needed and not holds(who, needed):
        raise Forbidden(f"source {body.source!r} needs the capability {needed.value!r}", field="source")
    if body.priority != "normal" and not holds(who, Capability.SET_PRIORITY):
        raise Forbidden("only staff who triage reports may set a priority; leave it 'normal'", field="priority")


def public_routing(routing: dict) -> dict:
    """What a reporter learns of the routing: where it went, no units."""
    def name(key):
        part = routing.get(key)
        return {"code": part["code"], "name": part["name"]} if part else None

    return {"grid": name("grid"), "community": name("community"), "street": name("street"),
            "zone": name("zone"), "station": name("station"), "flags": routing.get("flags", [])}


async def routing_shown_to(conn: AsyncConnection, who: Principal, routing: dict) -> dict:
    """The routing document as ``who`` may see it: public, or with the units they may read."""
    if not who.is_authenticated:
        return public_routing(routing)
    return await units.routing_for(conn, who, routing)


async def report(conn: AsyncConnection, who: Principal, body: IncidentIn, settings: Settings, *,
                 idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
    """Route and store a report; returns (document as ``who`` may see it, created).

    A retry with the same Idempotency-Key and the same body returns the same incident and the
    same reporter token, never a second incident; the same key with another body is a 409.
    Keys are per caller (:func:`idempotency_space`), so a 409 tells nobody about another
    caller's keys.

    Its one write is one statement (incident, first event, audit row), so ``POST /api/incidents``
    runs it on an autocommit connection: no BEGIN and COMMIT round trips, nothing half-written.
    """
    check_report_rights(who, body)
    routing = await route_point(
        conn, body.lon, body.lat, body.category, accuracy_m=body.accuracy_m,
        input_crs=body.crs, options=routing_options(settings),
    )
    if "unrouted" in routing["flags"]:  # by the border, kept for the desk; far away, refused
        await check_in_service_area(conn, routing["point"]["lon"], routing["point"]["lat"], settings.report_margin_m)
    if body.qr_grid is not None:  # kept and flagged for the desk, never silently trusted
        signed = qr.keys_of(settings.qr_key, settings.qr_overlap_until).signed(body.qr_grid, body.qr_sig, clock.now())
        routing["qr"] = {"grid": body.qr_grid, "key": signed}  # old posters are listed for reprint (qr stale)
        routing["flags"] += await qr.flags(conn, signed, body.qr_grid, routing["point"]["lon"],
                                           routing["point"]["lat"], (routing.get("grid") or {}).get("code"))
    secret = settings.hash_key  # kept when the token key rotates: retries and fingerprints still match
    key = None
    if idempotency_key is not None:
        key = keyed_hash(secret, "idempotency-key", f"{idempotency_space(who)}\n{idempotency_key}")
    request_hash = keyed_hash(secret, "report-body", json.dumps(body.model_dump(), sort_keys=True))
    token = keyed_token(secret, "reporter-token-for-key", key) if key else secrets.token_urlsafe(24)
    point = routing["point"]
    reported_at = clock.now()
    deadlines_of = routing["category"].pop("deadlines")  # read with the routing: one round trip less
    tracking_code = new_tracking_code()
    deadline = await _deadline(conn, deadlines_of, body.category, body.priority, reported_at, settings,
                               _snapshot_codes(routing)["district_code"])
    params = {
        "reported_at": reported_at, **deadline,
        "tracking_code": tracking_code, "idempotency_key": key,
        "request_hash": request_hash, "category": body.category, "description": body.description,
        "lon": point["lon"], "lat": point["lat"], "accuracy_m": body.accuracy_m,
        "input_crs": body.crs, "source": body.source, "priority": body.priority,
        "status": "received", "h3_cell": h3.latlng_to_cell(point["lat"], point["lon"], H3_RESOLUTION),
        "routing": routing_json(routing),
        "reporter_contact": contact_box.seal(settings.contact_key, body.contact),
        "reporter_token_hash": hash_token(token),
        **written_with(routing, tracking_code=tracking_code, category=body.category, source=body.source,
                       who=who, deadline=deadline),
    }
    inserted = await sql.fetchone(conn, "incident_insert", params)
    if inserted is None:  # the key was used before: hand back that incident, never a second
        existing = await sql.fetchone(conn, "incident_by_key", {"k": key})
        if existing["request_hash"] != request_hash:
            raise Conflict("Idempotency-Key was already used for a different report", field="Idempotency-Key")
        doc = {"id": existing["id"], "tracking_code": existing["tracking_code"], "reporter_token": token,
               "status": existing["status"], "routing": existing["routing"]}
        return {**doc, "routing": await routing_shown_to(conn, who, doc["routing"])}, False
    similar = [duplicates.shown_publicly(c) for c in inserted["candidates"]]
    return {"id": inserted["id"], "tracking_code": tracking_code, "reporter_token": token,
            "status": "received", "routing": await routing_shown_to(conn, who, routing),
            "candidates": similar}, True


def idempotency_space(who: Principal) -> str:
    """Whose Idempotency-Keys these are: the account's for staff, the phone's (its
    X-Device-Secret) for residents, else the caller's address."""
    if who.is_authenticated:
        return f"user:{who.user_id}"
    return f"device:{who.device}" if who.device else f"address:{who.client}"


def routing_json(routing: dict[str, Any]) -> str:
    """The routing document as stored with the incident (jsonb; orjson, a tenth of json.dumps's time)."""
    return orjson.dumps(routing, default=str).decode()


def written_with(routing: dict[str, Any], *, tracking_code: str, category: str, source: str,
                 who: Principal, deadline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters of ``incident_insert.sql`` that follow from the routing: the snapshot
    codes, the first case-file event and the audit row (written by the same statement), and the
    duplicate search it answers. A provisional deadline is named in the first event."""
    event = {"source": source, "flags": routing["flags"]}
    if deadline and deadline.get("due_provisional"):
        event.update(due_at=deadline["due_at"], deadline_spec=deadline["deadline_spec"], due_provisional=True)
    return {
        **_snapshot_codes(routing),
        "event_actor": who.actor if who.is_authenticated else REPORTER,
        "event_data": json.dumps(event, ensure_ascii=False, default=str),
        "audit_actor": who.actor, "client": who.client,
        "audit_after": audit.clean({"tracking_code": tracking_code, "category": category, "source": source,
                                    "flags": routing["flags"]}),
        "candidates_radius_m": duplicates.RADIUS_M, "candidates_hours": duplicates.WINDOW_H,
        "candidates_limit": duplicates.SHOWN,
    }


async def _deadline(conn: AsyncConnection, deadlines_of: dict | None, category: str, priority: str,
                    start: datetime, settings: Settings, district: str | None) -> dict[str, Any]:
    """The case's deadline from the moment it comes in (the category × priority spec on the
    working calendar), marked provisional when it counted a day of a year without an official
    schedule; none, logged, only where no calendar can count at all."""
    spec = deadlines.spec_for(deadlines_of, priority)
    try:
        due = await deadlines.due(conn, settings, start, spec, district=district)
    except deadlines.CalendarNotCovered as e:
        log.error("report of %s: no deadline: %s", category, e)
        due = None
    return {"due_at": due.at if due else None, "due_from": start if due else None,
            "deadline_spec": str(spec) if spec and due else None, "due_provisional": bool(due and due.provisional)}


# the list: the cases the filters match in the caller's reach, shown a page at a time by the
# one page every list of cases uses (case_page.sql; the KPI drill-downs append it too)
sql.define("incident_list", sql.text("incident_list_cases") + sql.text("case_page"))


def _reach_params(who: Principal) -> dict[str, Any]:
    """Bound parameters: what the caller may list, and what they may see in detail."""
    return {**reach(who, Capability.READ_INCIDENTS).params(),
            **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_")}


SUMMARY_HIDDEN = ("tracking_code", "description")  # not shown without detail rights


def _summary(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("detailed", "number_matched")}
    if not row["detailed"]:
        for k in SUMMARY_HIDDEN:
            out.pop(k, None)
    return out


async def list_page(conn: AsyncConnection, who: Principal, *, limit: int, offset: int,
                    filters: dict[str, Any]) -> tuple[list[dict], int]:
    """One page of incidents in reach, newest first, and how many match in all."""
    since, until = filters.get("since"), filters.get("until")
    if since and until and since >= until:
        raise Invalid("must be later than since", field="until")
    params = {"category": None, "status": None, "since": None, "until": None,
              "xmin": None, "ymin": None, "xmax": None, "ymax": None,
              **filters, **_reach_params(who), "limit": limit, "offset": offset}
    rows = await sql.fetchall(conn, "incident_list", params)
    matched = rows[0]["number_matched"] if rows else 0
    return [_summary(r) for r in rows if r["id"] is not None], matched


async def read_one(conn: AsyncConnection, who: Principal, incident_id: int, settings: Settings) -> dict:
    """One incident in reach with, for detail views, its case file and routing; the contact
    details for callers who may read them (each read audited). Out of reach = not found."""
    row = await sql.fetchone(conn, "incident_item", {"id": incident_id, **_reach_params(who)})
    if row is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    row = dict(row)
    sealed, routing = row.pop("reporter_contact"), row.pop("routing")
    out = _summary(row)
    if not row["detailed"]:
        for k in ("h3_cell", "accuracy_m", "patrol_zone_code"):
            out.pop(k)
        return out
    # bulk-loaded history (the sample) keeps only the snapshot codes, no routing document
    out["routing"] = await units.routing_for(conn, who, routing) if routing else None
    out["events"] = await sql.fetchall(conn, "incident_events", {"incident_id": incident_id})
    areas = [row[k] for k in ("grid_code", "community_code", "street_code", "district_code", "zone_code")]
    if sealed and reach(who, Capability.READ_CONTACT).covers(areas):
        out["contact"] = contact_box.unseal(settings.contact_key, sealed)
        await audit.record(conn, actor=who.actor, action="read_contact", entity="incident",
                           entity_id=incident_id, client=who.client)
    return out


def as_feature(row: dict) -> dict:
    props = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k not in ("lon", "lat")}
    return {"type": "Feature", "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}, "properties": props}
