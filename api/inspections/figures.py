"""What the joint inspections did between two days: visits made, separate visits saved (per
visit, the departments that checked minus one: each would otherwise have come on its own),
findings per place category, and findings rectified (their case closed), on time or not."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid
from api.inspections.plans import station_of
from api.inspections.sqlfiles import sql

MAX_DAYS = 3660


async def figures(conn: AsyncConnection, who: Principal, *, zone: str | None, from_day: date,
                  to_day: date) -> dict[str, Any]:
    if to_day < from_day:
        raise Invalid("to is before from", field="to")
    if (to_day - from_day).days > MAX_DAYS:
        raise Invalid(f"at most {MAX_DAYS} days at once", field="to")
    if zone is not None:
        await station_of(conn, who, zone, Capability.READ_INSPECTIONS)
    r = reach(who, Capability.READ_INSPECTIONS)
    row = await sql.fetchone(conn, "figures", {"zone": zone, "from_day": from_day, "to_day": to_day,
                                               "everywhere": r.everywhere, "scope": list(r.areas)})
    assert row is not None  # an aggregate answers one row
    return {"zone": zone, "from_day": from_day, "to_day": to_day, **row}
