"""Query-parameter parsing shared by the list endpoints."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from spatial.errors import InputError


def parse_bbox(bbox: str | None) -> dict[str, float | None]:
    """``"xmin,ymin,xmax,ymax"`` in WGS-84 → bound parameters (all ``None`` when absent)."""
    if bbox is None or bbox == "":
        return {"xmin": None, "ymin": None, "xmax": None, "ymax": None}
    parts = bbox.split(",")
    if len(parts) != 4:
        raise InputError("bbox", "must be four numbers: xmin,ymin,xmax,ymax")
    try:
        xmin, ymin, xmax, ymax = (float(p) for p in parts)
    except ValueError:
        raise InputError("bbox", "must be four numbers: xmin,ymin,xmax,ymax") from None
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise InputError("bbox", "coordinates must be finite")
    if not (-180 <= xmin <= 180 and -180 <= xmax <= 180 and -90 <= ymin <= 90 and -90 <= ymax <= 90):
        raise InputError("bbox", "longitudes must be within [-180, 180] and latitudes within [-90, 90]")
    if xmin > xmax or ymin > ymax:
        raise InputError("bbox", "xmin must not exceed xmax, nor ymin ymax")
    return {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}


def clamp_limit(limit: int, maximum: int) -> int:
    """Clamp instead of failing (pygeoapi habit)."""
    return max(1, min(limit, maximum))


# The times a caller may send, anywhere: well inside what Python's datetime (years 1-9999) and
# PostgreSQL can hold after a conversion to UTC (a ±14:00 offset moves 9999-12-31 into year 10000)
# and after a window's days or a deadline's hours are added or taken away. A time outside is a
# 422 naming its parameter, before any conversion or arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # excluded


def check_time(value: datetime, field: str) -> datetime:
    """``value`` (aware) if it lies in [EARLIEST, LATEST); else an error naming ``field``.

    Comparing aware datetimes subtracts their offsets as timedeltas, so it never overflows.

    Examples
    --------
    >>> check_time(datetime.fromisoformat("9999-12-31T23:59:59-14:00"), "to")
    Traceback (most recent call last):
    spatial.errors.InputError: to: must be between 1970-01-01 and 2200-01-01 (UTC), not 9999-12-31T23:59:59-14:00
    """
    if not EARLIEST <= value < LATEST:
        raise InputError(field, f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC), "
                                f"not {value.isoformat()[:40]}")
    return value


def parse_time(value: datetime | None, timezone: str, field: str) -> datetime | None:
    """A caller's time as an aware datetime in the accepted range (:func:`check_time`): without
    an offset it is read in the server's zone; ``field`` names the parameter in the error."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return check_time(value, field)
