"""Checks of a batch of fixes before anything is written (pure: no database).

A phone buffers its fixes while offline, so a batch may arrive late, but its fixes must be in time
order and after the last one stored; consecutive fixes (the stored last one included) may not imply
a speed above ``max_speed_mps`` (a 50 km jump in a second is a wrong fix, not a walk). Each problem
is an :class:`InputError` naming the fix (``positions.3.at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pyproj import Geod

from api.patrols.schemas import Fix
from spatial.errors import InputError
from spatial.routing import check_coordinates

GEOD = Geod(ellps="WGS84")
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock may run this far ahead of the server's


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres on the WGS-84 ellipsoid."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def check_batch(fixes: Sequence[Fix], *, started_at: datetime, now: datetime, max_speed_mps: float,
                last: tuple[float, float, datetime] | None) -> float:
    """Refuse the batch naming its first bad fix; ``last`` is the stored last fix (lon, lat, at).
    Returns the metres the batch adds to the track (from the stored last fix on)."""
    previous = last
    walked = 0.0
    for i, fix in enumerate(fixes):
        name = f"positions.{i}"
        try:
            check_coordinates(fix.lon, fix.lat)
        except InputError as exc:
            raise InputError(f"{name}.{exc.field}", exc.reason) from None
        if fix.at < started_at - CLOCK_SKEW:
            raise InputError(f"{name}.at", f"{fix.at.isoformat()} is before the patrol started "
                                           f"({started_at.isoformat()})")
        if fix.at > now + CLOCK_SKEW:
            raise InputError(f"{name}.at", f"{fix.at.isoformat()} is in the future")
        if previous is not None:
            lon, lat, at = previous
            if fix.at <= at:
                raise InputError(f"{name}.at", f"time goes backwards: {fix.at.isoformat()} is not after the "
                                               f"previous fix ({at.isoformat()})")
            metres = distance_m(lon, lat, fix.lon, fix.lat)
            speed = metres / (fix.at - at).total_seconds()
            walked += metres
            if speed > max_speed_mps:
                raise InputError(f"{name}.lon", f"a jump of {metres:,.0f} m in {(fix.at - at).total_seconds():g} s "
                                                f"({speed:,.0f} m/s; at most {max_speed_mps:g} m/s): a wrong fix")
        previous = (fix.lon, fix.lat, fix.at)
    return walked
