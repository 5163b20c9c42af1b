"""Writing checked roster rows: upsert by code, in the caller's transaction, saying what changed.

A row equal to what the database holds is left alone (a second import of the same file changes
nothing). Accounts go through :mod:`api.auth.users` (each with its own audit row); a new account
gets a random password, returned to be written to the credentials file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth import passwords, users
from api.sqlfiles import sql

Progress = Callable[[int, int], None]  # (rows done, rows)

# per kind: the SQL that reads the rows there are, and the columns compared
COMPARED = {
    "departments": ("roster_departments", ("name", "name_en")),
    "categories": ("roster_categories", ("name", "name_en", "departments", "default_tier", "deadlines",
                                         "five_matters")),
    "stations": ("roster_stations", ("name", "zone", "departments", "lon", "lat")),
    "units": ("roster_units", ("name", "department", "station", "patrol_zone")),
}
UPSERT = {"departments": "roster_department_upsert", "categories": "roster_category_upsert",
          "stations": "roster_station_upsert"}


@dataclass
class Outcome:
    added: list[str] = field(default_factory=list)
    updated: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # code -> column -> [before, after]
    unchanged: list[str] = field(default_factory=list)
    new_passwords: list[tuple[str, str]] = field(default_factory=list)  # (username, random password)


def _differences(before: dict[str, Any], after: dict[str, Any], columns: tuple[str, ...]) -> dict[str, list[Any]]:
    return {c: [before[c], after[c]] for c in columns if before[c] != after[c]}


def _params(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    if kind == "categories":
        return {**record, "deadlines": json.dumps(record["deadlines"]),
                "deadline_hours": json.dumps(record["deadline_hours"])}
    return record


def _kept(record: dict[str, Any], before: dict[str, Any] | None, absent: frozenset[str]) -> dict[str, Any]:
    """The record with what a row there has in the columns the file lacks (a file without the
    optional ``station`` column does not take every unit off its station)."""
    if before is None:
        return record
    return {**record, **{k: before[k] for k in absent if k in before}}


async def upsert(conn: AsyncConnection, kind: str, records: list[dict[str, Any]], *,
                 absent: frozenset[str] = frozenset(), progress: Progress | None = None) -> Outcome:
    """Departments, categories, stations or units: new codes added, changed ones updated (in the
    columns the file has: ``absent`` names the optional ones it lacks)."""
    reader, columns = COMPARED[kind]
    there = {r["code"]: dict(r) for r in await sql.fetchall(conn, reader, {"codes": [r["code"] for r in records]})}
    out = Outcome()
    for i, record in enumerate(records, 1):
        if progress is not None:
            progress(i, len(records))
        before = there.get(record["code"])
        record = _kept(record, before, absent)
        changes = _differences(before, record, columns) if before else None
        if before is not None and not changes:
            out.unchanged.append(record["code"])
            continue
        if kind == "units":
            await sql.execute(conn, "roster_unit_update" if before else "roster_unit_insert", record)
        else:
            await sql.execute(conn, UPSERT[kind], _params(kind, record))
        if before is None:
            out.added.append(record["code"])
        else:
            out.updated[record["code"]] = changes or {}
    return out


async def accounts(conn: AsyncConnection, records: list[dict[str, Any]], *, actor: str,
                   absent: frozenset[str] = frozenset(), progress: Progress | None = None) -> Outcome:
    """New accounts made with a random password each; an account there has its name and unit set
    as the file says and gains the file's grants it lacks (grants are never taken away here:
    ``gridgov user revoke`` does that)."""
    there = {r["username"]: dict(r) for r in await sql.fetchall(
        conn, "roster_accounts", {"usernames": [r["username"] for r in records]})}
    out = Outcome()
    for i, record in enumerate(records, 1):
        if progress is not None:
            progress(i, len(records))
        username, before = record["username"], there.get(record["username"])
        record = _kept(record, before, absent)
        if before is None:
            password = passwords.random_password()
            await users.create_user(conn, username, password, display_name=record["display_name"],
                                    unit_code=record["unit_code"], actor=actor)
            out.new_passwords.append((username, password))
            held: set[tuple[str, str]] = set()
        else:
            held = {(role, area) for role, area in (g.split("|", 1) for g in before["grants"])}
        changes = _differences(before, record, ("display_name", "unit_code")) if before else {}
        if changes:
            await sql.execute(conn, "roster_account_update", record)
            await audit.record(conn, actor=actor, action="update", entity="user", entity_id=username,
                               before={c: v[0] for c, v in changes.items()},
                               after={c: v[1] for c, v in changes.items()})
        missing = [g for g in record["grants"] if g not in held]
        for role, area in missing:
            await users.grant(conn, username, role, area, actor=actor)
        if missing and before is not None:
            changes["grants"] = [sorted(f"{r}@{a}" for r, a in held), [f"{r}@{a}" for r, a in missing]]
        if before is None:
            out.added.append(username)
        elif changes:
            out.updated[username] = changes
        else:
            out.unchanged.append(username)
    return out
