"""Every problem of every row of a roster file, against the database: nothing is written here.

Each kind's check gives the rows as they would be written (``records``) and the problems, each
naming its row, its column and the reason, all of them at once.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from api.auth.policy import ROLES
from api.auth.users import USERNAME, USERNAME_RULE
from api.roster.columns import KEY, required
from api.roster.reading import Table
from api.sqlfiles import sql
from api.workflow.calendar import parse_deadline
from api.workflow.deadline_order import PRIORITIES, order_problems
from spatial.errors import OutsideServiceArea
from spatial.routing import check_in_service_area

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CODE_RULE = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
TIERS = ("grid", "community", "zone", "street", "district")
FIVE_MATTERS = ("worry", "annoyance", "anxiety", "emergency", "hope")
LIST_SPLIT = re.compile(r"[;,|\s，；、]+")
HOURS_PER = {"h": 1, "wh": 1, "wd": 24}  # deadline_hours: a working day counted as a day


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str


@dataclass
class Checked:
    records: list[dict[str, Any]] = field(default_factory=list)  # in file order, one per row
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(row, column, reason))


def split_list(text: str) -> list[str]:
    """``police;fire`` (or commas, spaces, Chinese separators) as a list, in order, once each."""
    return list(dict.fromkeys(p for p in LIST_SPLIT.split(text) if p))


def _required_and_codes(table: Table, kind: str, out: Checked) -> None:
    needed = [c for c in table.headers if c in required(kind)]
    for number in table.overflowing:
        out.add(number, "-", "more cells than the header has columns (a comma inside a value needs quotes)")
    for number, row in table.rows:
        for column in needed:
            if not row.get(column):
                out.add(number, column, "required, empty here")
        code = row.get("code")
        if code and not CODE.match(code):
            out.add(number, "code", f"{code!r}: a code is {CODE_RULE}")


def _duplicates(table: Table, key: tuple[str, ...], out: Checked) -> None:
    first: dict[tuple[str, ...], int] = {}
    for number, row in table.rows:
        value = tuple(row.get(k, "") for k in key)
        if not all(value):
            continue
        if value in first:
            out.add(number, key[0], f"{'/'.join(value)} is also on row {first[value]}: one row each")
        else:
            first[value] = number


async def _known(conn: AsyncConnection, table_name: str, codes: set[str]) -> set[str]:
    rows = await sql.fetchall(conn, "roster_codes_of", {"table_name": table_name, "codes": sorted(codes)})
    return {r["code"] for r in rows}


async def _areas(conn: AsyncConnection, codes: set[str]) -> dict[str, dict[str, Any]]:
    return {r["code"]: dict(r) for r in await sql.fetchall(conn, "roster_areas", {"codes": sorted(codes)})}


def _position(number: int, row: dict[str, str], out: Checked) -> tuple[float, float] | None:
    """The row's lon/lat as WGS-84 degrees (7 decimals, about 1 cm), or None (a problem said when wrong)."""
    lon_text, lat_text = row.get("lon", ""), row.get("lat", "")
    if not lon_text and not lat_text:
        return None  # "required" is said by the required check
    if not (lon_text and lat_text):
        out.add(number, "lat" if lon_text else "lon", "lon and lat are given together or not at all")
        return None
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        out.add(number, "lon", f"{lon_text!r}, {lat_text!r}: not numbers (decimal degrees, WGS-84)")
        return None
    if -90 <= lon <= 90 and 90 < lat <= 180:
        out.add(number, "lon", f"{lon_text}, {lat_text}: lon and lat look swapped")
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        out.add(number, "lon", f"{lon_text}, {lat_text}: outside -180..180, -90..90")
        return None
    return round(lon, 7), round(lat, 7)


async def _departments_known(conn: AsyncConnection, table: Table, column: str, out: Checked) -> None:
    wanted = {d for _, row in table.rows for d in split_list(row.get(column, ""))}
    known = await _known(conn, "department", wanted)
    for number, row in table.rows:
        for d in split_list(row.get(column, "")):
            if d not in known:
                out.add(number, column, f"unknown department code {d!r} (import the departments file first)")


async def departments(conn: AsyncConnection, table: Table) -> Checked:
    out = Checked()
    _required_and_codes(table, "departments", out)
    _duplicates(table, ("code",), out)
    out.records = [{"code": r["code"], "name": r["name"], "name_en": r["name_en"]} for _, r in table.rows]
    return out


async def categories(conn: AsyncConnection, table: Table) -> Checked:
    out = Checked()
    _required_and_codes(table, "categories", out)
    _duplicates(table, ("code",), out)
    await _departments_known(conn, table, "departments", out)
    for number, row in table.rows:
        tier = row.get("default_tier", "")
        if tier and tier not in TIERS:
            out.add(number, "default_tier", f"{tier!r}: one of {', '.join(TIERS)}")
        matters = row.get("five_matters", "")
        if matters and matters not in FIVE_MATTERS:
            out.add(number, "five_matters", f"{matters!r}: one of {', '.join(FIVE_MATTERS)}, or empty")
        deadlines: dict[str, str] = {}
        hours: dict[str, int] = {}
        for p in PRIORITIES:
            if not row.get(p):
                continue
            try:
                spec = parse_deadline(row[p])
            except ValueError as exc:
                out.add(number, p, f"{exc}; a positive duration")
                continue
            deadlines[p], hours[p] = str(spec), spec.amount * HOURS_PER[spec.unit]
        if len(deadlines) == len(PRIORITIES):
            for problem in order_problems(deadlines):
                out.add(number, problem.split(" ", 1)[0], problem)
        out.records.append({"code": row["code"], "name": row["name"], "name_en": row["name_en"],
                            "departments": split_list(row.get("departments", "")), "default_tier": tier,
                            "deadlines": deadlines, "deadline_hours": hours, "five_matters": matters or None})
    return out


async def stations(conn: AsyncConnection, table: Table) -> Checked:
    out = Checked()
    _required_and_codes(table, "stations", out)
    _duplicates(table, ("code",), out)
    _duplicates(table, ("zone",), out)  # one workstation a zone (migration 0022)
    await _departments_known(conn, table, "departments", out)
    zones = {row["zone"] for _, row in table.rows if row.get("zone")}
    areas = await _areas(conn, zones)
    taken = {r["zone"]: r["code"] for r in await sql.fetchall(conn, "roster_zone_stations", {"zones": sorted(zones)})}
    for number, row in table.rows:
        zone = row.get("zone", "")
        place = _position(number, row, out)
        if zone and zone not in areas:
            out.add(number, "zone", f"unknown area code {zone!r}")
        elif zone and areas[zone]["kind"] != "zone":
            out.add(number, "zone", f"{zone} is a {areas[zone]['kind']}, not a zone (片区)")
        elif zone:
            if taken.get(zone, row["code"]) != row["code"]:
                out.add(number, "zone", f"zone {zone} has station {taken[zone]} already: one station a zone")
            if place is not None:
                off = await sql.scalar(conn, "roster_point_outside", {"code": zone, "lon": place[0], "lat": place[1]})
                if off and off > 0:
                    out.add(number, "lon", f"the station lies {off:,.0f} m outside its zone {zone}")
        out.records.append({"code": row["code"], "name": row["name"], "zone": zone,
                            "departments": split_list(row.get("departments", "")),
                            "lon": place[0] if place else None, "lat": place[1] if place else None})
    return out


async def units(conn: AsyncConnection, table: Table) -> Checked:
    out = Checked()
    _required_and_codes(table, "units", out)
    _duplicates(table, ("code",), out)
    await _departments_known(conn, table, "department", out)
    known_stations = await _known(conn, "station", {r["station"] for _, r in table.rows if r.get("station")})
    patrol = await _areas(conn, {r["patrol_zone"] for _, r in table.rows if r.get("patrol_zone")})
    for number, row in table.rows:
        station, zone, department = row.get("station", ""), row.get("patrol_zone", ""), row.get("department", "")
        if station and station not in known_stations:
            out.add(number, "station", f"unknown station code {station!r} (import the stations file first)")
        if zone and zone not in patrol:
            out.add(number, "patrol_zone", f"unknown area code {zone!r}")
        elif zone and patrol[zone]["kind"] != "patrol_zone":
            out.add(number, "patrol_zone", f"{zone} is a {patrol[zone]['kind']}, not a patrol zone")
        elif zone and department and patrol[zone]["department_code"] != department:
            out.add(number, "patrol_zone", f"patrol zone {zone} is {patrol[zone]['department_code']}'s, "
                                           f"not {department}'s")
        place = _position(number, row, out)
        if place is not None:
            try:
                await check_in_service_area(conn, place[0], place[1], 0.0)
            except OutsideServiceArea as exc:
                out.add(number, "lon", f"outside every district: {exc.reason}")
        out.records.append({"code": row["code"], "name": row["name"], "department": department,
                            "station": station or None, "patrol_zone": zone or None,
                            "lon": place[0] if place else None, "lat": place[1] if place else None})
    return out


async def accounts(conn: AsyncConnection, table: Table) -> Checked:
    """One row a grant; an account's name and unit are the same on each of its rows."""
    out = Checked()
    _required_and_codes(table, "accounts", out)
    _duplicates(table, ("username", "role", "area"), out)
    areas = await _areas(conn, {r["area"] for _, r in table.rows if r.get("area")})
    units_known = await _known(conn, "unit", {r["unit"] for _, r in table.rows if r.get("unit")})
    first: dict[str, tuple[int, str, str]] = {}
    grants: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for number, row in table.rows:
        username = row.get("username", "").strip().lower()
        role, area, unit, name = row.get("role", ""), row.get("area", ""), row.get("unit", ""), row.get("name", "")
        if username and not USERNAME.match(username):
            out.add(number, "username", f"{row['username']!r}: a username is {USERNAME_RULE}")
        if role and role not in ROLES:
            out.add(number, "role", f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if area and area not in areas:
            out.add(number, "area", f"unknown area code {area!r}")
        if unit and unit not in units_known:
            out.add(number, "unit", f"unknown unit code {unit!r} (import the units file first)")
        if role == "officer" and not unit:
            out.add(number, "unit", "an officer's account names its unit (it sees its unit's work only)")
        if username in first and first[username][1:] != (name, unit):
            out.add(number, "name" if first[username][1] != name else "unit",
                    f"{username}'s name and unit differ from row {first[username][0]}: the same on each of its rows")
        first.setdefault(username, (number, name, unit))
        grants[username].append((role, area))
    out.records = [{"username": u, "display_name": first[u][1], "unit_code": first[u][2] or None,
                    "grants": sorted(set(g))} for u, g in grants.items() if u]
    return out


CHECKS = {"departments": departments, "categories": categories, "stations": stations, "units": units,
          "accounts": accounts}
assert set(CHECKS) == set(KEY)
