"""Route geolocated incidents: grid and hierarchy, zone and workstation, patrol zones,
nearest available units of each responsible department.

The hot path is one SQL round trip (``sql/route_point.sql``); the bulk variant routes
arrays of points through the routing index in memory and one set-based statement for the
rest (``sql/route_many.sql``).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike
from psycopg import AsyncConnection

from spatial import crs as datums
from spatial.errors import InputError, OutsideServiceArea, SwappedCoordinates, UnknownCode
from spatial.routing_engine import ENGINE, Snapshot
from spatial.sqlfiles import sql

INPUT_CRS = ("wgs84", "gcj02", "bd09")
MAX_ACCURACY_M = 10_000.0
MIN_BOUNDARY_TOLERANCE_M = 20.0
ENGINE_MIN_POINTS = 1_000        # smaller batches: one route_many.sql statement is as quick
ENGINE_RELOAD_POINTS = 10_000    # a stale in-process index is reloaded only for a batch this big
SEND_YIELDS = 8                  # event-loop turns for the boundary points' query to be sent


EVERY_UNIT = {"everywhere": True, "scope": [], "unit": None}


@dataclass(frozen=True)
class RoutingOptions:
    boundary_tolerance_m: float = MIN_BOUNDARY_TOLERANCE_M
    stale_position_s: int = 1800
    units_per_department: int = 3


def check_coordinates(lon: float, lat: float) -> None:
    """Raise :class:`InputError` naming the field for non-finite or out-of-range values."""
    for field, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if value is None or not math.isfinite(value):
            raise InputError(field, "must be a finite number")
        if abs(value) > bound:
            if field == "lat" and abs(lon) <= 90.0 and abs(lat) <= 180.0:
                raise SwappedCoordinates(
                    "lat",
                    f"{lat} is out of range [-90, 90]; longitude and latitude look swapped "
                    f"(did you mean lon={lat}, lat={lon}?)",
                )
            raise InputError(field, f"{value} is out of range [-{bound:g}, {bound:g}]")


def to_wgs84(lon: float, lat: float, input_crs: str) -> tuple[float, float]:
    """Convert a point given in ``wgs84``, ``gcj02`` (AMap, Tencent) or ``bd09`` (Baidu)."""
    if input_crs not in INPUT_CRS:
        raise InputError("crs", f"unknown coordinate system {input_crs!r}; use one of {', '.join(INPUT_CRS)}")
    if input_crs == "wgs84":
        return datums.representable(lon), datums.representable(lat)
    x, y = datums.to_wgs84(lon, lat, input_crs)
    return datums.representable(float(x)), datums.representable(float(y))



def to_wgs84_checked(lon: float, lat: float, input_crs: str = "wgs84") -> tuple[float, float]:
    """Range-check a point (with the swapped lat/lon hint) and convert it to WGS-84."""
    check_coordinates(lon, lat)
    return to_wgs84(lon, lat, input_crs)


async def check_in_service_area(conn: AsyncConnection, lon: float, lat: float, margin_m: float) -> None:
    """Raise :class:`OutsideServiceArea` for a WGS-84 point farther than ``margin_m`` from every district.

    Examples
    --------
    >>> await check_in_service_area(conn, 0.0, 0.0, 50_000)  # doctest: +SKIP
    Traceback (most recent call last):
    OutsideServiceArea: lon: the point is 11,890 km from the nearest district (at most 50 km allowed)
    """
    distance = await sql.scalar(conn, "service_area_distance", {"lon": lon, "lat": lat})
    if distance is not None and distance > margin_m:
        raise OutsideServiceArea("lon", f"the point is {distance / 1000:,.0f} km from the nearest district "
                                        f"(at most {margin_m / 1000:g} km allowed)")


async def route_point(
    conn: AsyncConnection,
    lon: float,
    lat: float,
    category: str,
    *,
    accuracy_m: float | None = None,
    input_crs: str = "wgs84",
    options: RoutingOptions = RoutingOptions(),
    units_seen_by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Route one point and return the routing document.

    Parameters
    ----------
    conn : AsyncConnection
        Open connection to the gridgov database.
    lon, lat : float
        The point, in ``input_crs``.
    category : str
        Category code; decides the responsible departments.
    accuracy_m : float, optional
        GPS accuracy; widens the boundary tolerance beyond the 20 m minimum.
    input_crs : {"wgs84", "gcj02", "bd09"}
    units_seen_by : dict, optional
        A caller's reach over units as the SQL function ``unit_in_reach`` takes it
        (``everywhere``, ``scope``, ``unit``): the document then lists only the units picked
        that this caller may see, decided in the same statement. Default: every unit.

    Returns
    -------
    dict
        ``grid``, ``community``, ``street``, ``district``, ``zone``, ``station``,
        ``patrol_zones``, ``units`` (with ``distance_m`` and ``reason``), ``flags``,
        ``candidates`` and ``nearest_grid``.

    Examples
    --------
    >>> doc = await route_point(conn, 120.4263, 30.8727, "street_vendor")  # doctest: +SKIP
    >>> doc["street"]["name"]  # doctest: +SKIP
    '南浔镇'
    """
    if accuracy_m is not None and (not math.isfinite(accuracy_m) or not 0 <= accuracy_m <= MAX_ACCURACY_M):
        raise InputError("accuracy_m", f"must be between 0 and {MAX_ACCURACY_M:g} metres")
    x, y = to_wgs84_checked(lon, lat, input_crs)
    tolerance = max(options.boundary_tolerance_m, accuracy_m or 0.0)
    sight = units_seen_by or EVERY_UNIT
    row = await sql.fetchone(conn, "route_point", {
        "lon": x, "lat": y, "category": category, "tolerance_m": tolerance,
        "stale_s": options.stale_position_s, "k": options.units_per_department, **sight,
    })
    assert row is not None  # one row: the document is built FROM (SELECT 1)
    doc = row["doc"] if isinstance(row["doc"], dict) else json.loads(row["doc"])
    shown = {u["code"] for u in doc["units"] if u.pop("shown")}
    if doc["category"] is None:
        raise UnknownCode("category", f"unknown category code {category!r}")
    if doc["grid"] is None and doc["swapped_inside"]:
        raise SwappedCoordinates(
            "lat", f"({lon}, {lat}) is outside every grid but inside the district with longitude "
            f"and latitude exchanged; send lon={lat}, lat={lon}")
    routing = shape_routing(doc, lon=lon, lat=lat, x=x, y=y, input_crs=input_crs, tolerance_m=tolerance)
    return routing if sight["everywhere"] else only_units(routing, shown)


def only_units(routing: dict[str, Any], codes: set[str]) -> dict[str, Any]:
    """The routing document for a caller who does not see every unit: the picked units among
    ``codes``, and nothing of what the pick skipped (``excluded`` counts units everywhere)."""
    return {**routing, "units": [u for u in routing["units"] if u["code"] in codes], "excluded": []}


def shape_routing(doc: dict[str, Any], *, lon: float, lat: float, x: float, y: float, input_crs: str,
                  tolerance_m: float) -> dict[str, Any]:
    flags: list[str] = []
    if doc["grid"] is None:
        flags.append("unrouted")
    if len(doc["covering_grids"]) > 1:
        flags.append("shared_edge")
    if len(doc["candidates"]) > 1:
        flags.append("near_boundary")
    missing = [d for d in doc["category"]["departments"] if not any(u["department"] == d for u in doc["units"])]
    if missing:
        flags.append("no_available_unit")
    doc.pop("swapped_inside", None)
    return {
        "input": {"lon": lon, "lat": lat, "crs": input_crs},
        "point": {"lon": round(x, 7), "lat": round(y, 7)},
        "tolerance_m": tolerance_m,
        "flags": flags,
        "departments_without_units": missing,
        **doc,
    }


async def route_many(conn: AsyncConnection, lons: ArrayLike, lats: ArrayLike) -> list[dict[str, Any]]:
    """Route arrays of WGS-84 points: from the in-process routing index, boundary points in PostGIS.

    Batches of :data:`ENGINE_MIN_POINTS` or more use :mod:`spatial.routing_engine` (reloaded
    when the index changed, for batches of :data:`ENGINE_RELOAD_POINTS` or more); the points
    it cannot answer, and smaller batches, go to ``route_many.sql`` in one set-based
    statement. Both give the exact ``ST_Covers`` answer.

    Returns one dict per input point, in input order, with ``grid_code``,
    ``community_code``, ``street_code``, ``district_code``, ``zone_code`` and
    ``station_code`` (``None`` outside every grid).

    Examples
    --------
    >>> rows = await route_many(conn, [120.42, 120.30], [30.87, 30.75])  # doctest: +SKIP
    >>> rows[0]["grid_code"]  # doctest: +SKIP
    '330503100001001'
    """
    lons = np.asarray(lons, dtype="float64")
    lats = np.asarray(lats, dtype="float64")
    if lons.shape != lats.shape:
        raise InputError("lats", "lons and lats must have the same length")
    if not (np.isfinite(lons).all() and np.isfinite(lats).all()):
        raise InputError("points", "coordinates must be finite numbers")
    if len(lons) >= ENGINE_MIN_POINTS:
        snapshot = await ENGINE.current(conn, load=len(lons) >= ENGINE_RELOAD_POINTS)
        if snapshot is not None:
            return await _route_indexed(conn, snapshot, lons, lats)
    return await _route_exact(conn, lons, lats)


async def _route_exact(conn: AsyncConnection, lons: np.ndarray, lats: np.ndarray) -> list[dict[str, Any]]:
    return await sql.fetchall(conn, "route_many", {"lons": lons.tolist(), "lats": lats.tolist()})


async def _route_indexed(conn: AsyncConnection, snapshot: Snapshot, lons: np.ndarray,
                         lats: np.ndarray) -> list[dict[str, Any]]:
    """Points in cells of the routing index from memory; the rest (boundary cells) exactly in PostGIS.

    The PostGIS query is sent first and runs while this process builds the other rows."""
    pair = snapshot.lookup(lons, lats)
    missing = np.flatnonzero(pair < 0)
    pending = asyncio.ensure_future(_route_exact(conn, lons[missing], lats[missing])) if len(missing) else None
    try:
        for _ in range(SEND_YIELDS if pending is not None else 0):
            await asyncio.sleep(0)       # let the query reach the server before the CPU-bound part
        # per pair a row template in route_many.sql's column order; the last one (-1) is overwritten below
        templates = cast("tuple[dict[str, Any], ...]", snapshot.rows)  # pair is never one without a template
        rows = list(map(dict.copy, map(templates.__getitem__, pair.tolist())))
        for idx, row in enumerate(rows, 1):
            row["idx"] = idx
    finally:
        exact = await pending if pending is not None else []
    for pos, row in zip(missing.tolist(), exact, strict=True):
        row["idx"] = pos + 1
        rows[pos] = row
    return rows
