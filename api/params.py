"""Query-parameter parsing shared by the list endpoints."""

from __future__ import annotations

import math
from datetime import datetime
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


def parse_time(value: datetime | None, timezone: str) -> datetime | None:
    """A query time as an aware datetime: without an offset it is read in the server's zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(timezone))
