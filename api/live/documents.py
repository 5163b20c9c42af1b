"""What one subscriber may see of a live change, and its Server-Sent Events frame.

The reach rules are the policy's (:class:`api.auth.policy.Reach`), applied to the same facts
the SQL rules read (``incident_in_reach``: the case's areas and the units sent to it;
``unit_in_reach``: the lineage of a unit's workstation zone), so the stream never shows what
the API would refuse. A change outside a subscriber's reach is not sent at all, not even its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from api.auth.policy import Capability, Reach, reach
from api.auth.principal import Principal


@dataclass(frozen=True)
class Sight:
    """How far one subscriber sees, through each capability the stream serves."""

    incidents: Reach
    details: Reach
    units: Reach

    @classmethod
    def of(cls, who: Principal) -> Sight:
        return cls(incidents=reach(who, Capability.READ_INCIDENTS),
                   details=reach(who, Capability.READ_INCIDENT_DETAILS),
                   units=reach(who, Capability.READ_UNITS))


def incident_view(sight: Sight, row: dict[str, Any]) -> dict[str, Any] | None:
    """One case-file event as the subscriber may see it, or None when the case is out of reach.
    Without detail rights (analysts) the place is shown to about 100 m and the times to the hour,
    as in every other document (``shown_coordinate``, ``shown_time``: live_events.sql reads both)."""
    areas, units = [a for a in row["areas"] or () if a], row["units"] or ()
    if not sight.incidents.covers(areas, units):
        return None
    detailed = sight.details.covers(areas, units)
    shown = "" if detailed else "coarse_"
    return {"event_id": row["event_id"], "incident_id": row["incident_id"], "kind": row["kind"],
            "status": row["status"], "category": row["category"], "detailed": detailed,
            "to_status": row["to_status"], "priority": row["priority"], "grid_code": (row["areas"] or [None])[0],
            **{k: row[shown + k] for k in ("at", "due_at", "lon", "lat")}}


def unit_view(sight: Sight, row: dict[str, Any]) -> dict[str, Any] | None:
    """A unit's new status or position, for those who may read that unit."""
    if not sight.units.covers(row["areas"] or (), (row["code"],)):
        return None
    return {k: row[k] for k in ("code", "name", "department", "status", "station_code", "lon", "lat",
                                "position_at")}


def frame(event: str, data: dict[str, Any] | None = None, *, event_id: int | None = None) -> bytes:
    """One SSE message; ``id`` only on case-file events (what ``Last-Event-ID`` resumes from)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = orjson.dumps(data or {}, default=str).decode()  # datetimes natively, ISO 8601
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


PING = b": ping\n\n"
