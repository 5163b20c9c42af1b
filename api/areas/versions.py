"""Saving area versions: close the current rows, insert the next ones, audit, re-route.

The one write path for areas (edits and file imports). Validation is the caller's job
(:mod:`spatial.partition.validate`).
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from psycopg import AsyncConnection

from api import audit
from api.errors import Conflict
from api.sqlfiles import sql
from spatial import routing_index
from spatial.routing import route_many

SNAPSHOT = ("grid_code", "community_code", "street_code", "district_code", "zone_code", "station_code",
            "patrol_zone_code")


def _hex(geom) -> str | None:
    return None if geom is None else shapely.to_wkb(geom, hex=True)


async def save_versions(conn: AsyncConnection, *, actor: str, reason: str | None, changes: list[dict],
                        action: str = "area.edit", client: str | None = None,
                        audit_extra: dict | None = None) -> dict:
    """Save new versions of areas in the caller's transaction.

    Parameters
    ----------
    changes : list of dict
        Each ``{"code", "kind", "parent_code", "name", "name_en", "attributes", "geom", "retire"}``
        (optional ``"department"``): ``geom`` a shapely (Multi)Polygon or None (keep the
        current one); ``retire`` closes the current row and opens none.

    Returns
    -------
    dict
        ``{"versions": {code: version}, "rerouted": int}`` (a retired code: its last version).

    ``audit_extra`` is added to the audit row's ``after`` (an import's edge fixes).
    """
    if not changes:
        return {"versions": {}, "rerouted": 0}
    codes = [c["code"] for c in changes]
    if len(set(codes)) != len(codes):
        raise ValueError("one change per code")
    ts = await sql.scalar(conn, "clock_now")
    locked = {r["code"]: r for r in await sql.fetchall(conn, "area_rows_lock", {"codes": codes})}
    old = {r["code"]: r for r in await sql.fetchall(conn, "area_current_rows", {"codes": codes})}
    for c in changes:
        if c.get("retire") and c["code"] not in locked:
            raise Conflict(f"area {c['code']} is no longer current; reload and try again", field="code")
    await sql.execute(conn, "area_close", {"ids": [r["id"] for r in locked.values()], "ts": ts})
    kept = [c for c in changes if not c.get("retire")]
    versions = {c["code"]: locked[c["code"]]["version"] for c in changes if c.get("retire")}
    if kept:
        rows = await sql.fetchall(conn, "area_insert_versions", {
            "codes": [c["code"] for c in kept], "names": [c["name"] for c in kept],
            "names_en": [c.get("name_en") for c in kept], "kinds": [c["kind"] for c in kept],
            "parents": [c.get("parent_code") for c in kept],
            "departments": [c.get("department", (old.get(c["code"]) or {}).get("department_code")) for c in kept],
            "attributes": [json.dumps(c.get("attributes") or {}, ensure_ascii=False) for c in kept],
            "wkbs": [_hex(c.get("geom")) for c in kept],
            "old_ids": [(locked.get(c["code"]) or {}).get("id") for c in kept],
            "ts": ts, "actor": actor, "reason": reason,
        })
        versions.update({r["code"]: r["version"] for r in rows})
    ground = _changed_ground(changes, old)
    indexed = _index_ground(changes, old)
    if indexed is not None:   # the area triggers emptied the routing cells here: fill them from the new rows
        await routing_index.rebuild_async(conn, indexed)
    rerouted = await reroute(conn, ground, actor=actor) if ground is not None else 0
    await audit.record(conn, actor=actor, action=action, entity="area", entity_id=",".join(sorted(codes))[:500],
                       before={c: r["version"] for c, r in locked.items()},
                       after={"versions": versions, "reason": reason, "rerouted": rerouted, **(audit_extra or {})},
                       client=client)
    return {"versions": versions, "rerouted": rerouted}


def _ground(changes: list[dict], old: dict, picked) -> Any:
    """Old and new ground of the changes ``picked(change, before)`` selects (None: none)."""
    pieces = []
    for c in changes:
        before = old.get(c["code"])
        if picked(c, before):
            if before is not None:
                pieces.append(shapely.from_wkb(before["wkb"]))
            if c.get("geom") is not None:
                pieces.append(c["geom"])
    return shapely.union_all(pieces) if pieces else None


CHANGED_MARGIN_DEG = 1e-7   # about 1 cm around the changed region: a point on a moved edge is in it


def _changed_ground(changes: list[dict], old: dict) -> Any:
    """Where routing may change: the whole ground of areas that are new, retired or moved to
    another parent (every case on it changes hierarchy), and for a new outline under the same
    parent only the ground that changed hands (old and new outline's symmetric difference, with
    a centimetre's margin): a case elsewhere in the area keeps its codes, so it is not touched."""
    pieces = []
    for c in changes:
        before = old.get(c["code"])
        moved = before is not None and before["parent_code"] != c.get("parent_code")
        if c.get("retire") or before is None or moved:
            pieces += [g for g in (before and shapely.from_wkb(before["wkb"]), c.get("geom")) if g is not None]
        elif c.get("geom") is not None:
            was = shapely.from_wkb(before["wkb"])
            pieces.append(shapely.symmetric_difference(was, c["geom"]).buffer(CHANGED_MARGIN_DEG))
    pieces = [p for p in pieces if not p.is_empty]
    return shapely.union_all(pieces) if pieces else None


def _index_ground(changes: list[dict], old: dict) -> Any:
    """Ground of every grid and zone written (old and new shape): its routing cells were dropped."""
    def indexed(c, before) -> bool:
        kinds = {c.get("kind"), (before or {}).get("kind")}
        return not kinds.isdisjoint(routing_index.INDEXED_KINDS)

    return _ground(changes, old, indexed)


async def reroute(conn: AsyncConnection, ground, *, actor: str) -> int:
    """Re-route the open incidents inside ``ground`` whose snapshot the new areas change."""
    found = await sql.fetchall(conn, "incidents_in_ground", {"ground": _hex(ground)})
    if not found:
        return 0
    routed = await route_many(conn, [r["lon"] for r in found], [r["lat"] for r in found])
    moved, data = [], []
    for row, new in zip(found, routed, strict=True):
        new = {**new, "patrol_zone_code": row["patrol_now"]}
        if all(row[k] == new[k] for k in SNAPSHOT if not (k == "district_code" and new[k] is None)):
            continue
        moved.append((row["id"], new))
        data.append(json.dumps({"from_grid": row["grid_code"], "to_grid": new["grid_code"],
                                "from_community": row["community_code"], "to_community": new["community_code"],
                                "from_street": row["street_code"], "to_street": new["street_code"],
                                "from_zone": row["zone_code"], "to_zone": new["zone_code"],
                                "from_patrol_zone": row["patrol_zone_code"], "to_patrol_zone": row["patrol_now"]}))
    if not moved:
        return 0
    ids = [i for i, _ in moved]
    await sql.execute(conn, "incident_reroute", {
        "ids": ids, "grids": [n["grid_code"] for _, n in moved], "communities": [n["community_code"] for _, n in moved],
        "streets": [n["street_code"] for _, n in moved], "districts": [n["district_code"] for _, n in moved],
        "zones": [n["zone_code"] for _, n in moved], "stations": [n["station_code"] for _, n in moved],
        "patrols": [n["patrol_zone_code"] for _, n in moved]})
    await sql.execute(conn, "incident_reroute_events", {"ids": ids, "data": data, "actor": actor,
                                                        "note": "boundaries changed: routed again"})
    return len(ids)
