"""What each caller may see of an incident: scope filters and the fields shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.auth.principal import CONTACT_ROLES, Principal

INCIDENT_ROLES = ("dispatcher", "grid_manager", "grid_worker", "analyst")
PUBLIC_DECIMALS = 3  # ~100 m: public and analyst views round the location

LIST_FIELDS = ("id", "tracking_code", "category_code", "category_name", "description", "status", "priority",
               "tier", "source", "reported_at", "due_at", "closed_at", "grid_code", "community_code",
               "street_code", "district_code", "zone_code", "station_code", "near_boundary", "unrouted", "rating")
ANALYST_HIDDEN = ("tracking_code", "description")
FULL_VIEW_ROLES = ("dispatcher", "grid_manager", "grid_worker")  # act on cases: see them whole
AREA_KEYS = ("grid_code", "community_code", "street_code", "district_code", "zone_code")


def incident_filters(who: Principal) -> dict[str, Any]:
    """Bound parameters restricting incident queries to the caller's scope."""
    if who.is_admin:
        return {"scope": None, "unit": None}
    scope = who.scope(INCIDENT_ROLES)
    if scope:
        return {"scope": scope, "unit": None}
    return {"scope": None, "unit": who.unit_code or "-"}  # officers: their unit's tasks


def _in_scope_of(who: Principal, row: dict, roles) -> bool:
    """Whether one of the caller's grants for ``roles`` covers this incident's areas."""
    codes = {row.get(k) for k in AREA_KEYS}
    return bool(codes & set(who.scope(roles) or []))


def analyst_view(who: Principal, row: dict) -> bool:
    """Whether the caller sees this incident only through an analyst grant (checked per grant).

    A dispatcher of street A who is also an analyst of the district sees street A's cases
    whole and every other street's as an analyst does: no personal data, rounded location.
    """
    if who.is_admin or "analyst" not in who.roles:
        return False
    return not _in_scope_of(who, row, FULL_VIEW_ROLES)


def may_see_contact(who: Principal, row: dict) -> bool:
    return who.is_admin or _in_scope_of(who, row, CONTACT_ROLES)


def shape(row: dict, who: Principal) -> dict:
    """An incident row as the caller may see it."""
    out = {k: row[k] for k in LIST_FIELDS}
    out["lon"], out["lat"] = row["lon"], row["lat"]
    if analyst_view(who, row):
        for k in ANALYST_HIDDEN:
            out.pop(k, None)
        out["lon"], out["lat"] = round(row["lon"], PUBLIC_DECIMALS), round(row["lat"], PUBLIC_DECIMALS)
    return out


def as_feature(row: dict) -> dict:
    props = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k not in ("lon", "lat")}
    return {"type": "Feature", "id": row.get("id"),
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}, "properties": props}


def public_routing(routing: dict) -> dict:
    """What a reporter learns of the routing: where it went, no unit positions."""
    def name(key):
        part = routing.get(key)
        return {"code": part["code"], "name": part["name"]} if part else None

    return {"grid": name("grid"), "community": name("community"), "street": name("street"),
            "zone": name("zone"), "station": name("station"), "flags": routing.get("flags", [])}
