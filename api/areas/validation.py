"""Validation reports: every violation of the partitions under an area (or the whole tree)."""

from __future__ import annotations

from collections import defaultdict

from psycopg import AsyncConnection

from api.areas.editing import Area
from api.areas.features import collection, violation_features
from api.errors import NotFound
from api.layers import area_visible
from api.sqlfiles import sql
from spatial.partition.validate import violations

OWN = ("invalid_geometry", "multipart", "outside_parent", "sliver")  # an area alone against its parent


def check(areas: list[Area], parents: dict[str, Area], *, only_parent: str | None = None) -> dict[str, list[dict]]:
    """Violations per parent code: each layer (kind, department) of its children against it."""
    layers = defaultdict(list)
    for a in areas:
        if a.parent_code is not None and (only_parent is None or a.parent_code == only_parent):
            layers[(a.parent_code, a.kind, a.department_code)].append(a)
    out: dict[str, list[dict]] = {}
    for (parent, _kind, _dept), kids in sorted(layers.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        p = parents.get(parent)
        found = violations([(k.code, k.geom) for k in kids], p.geom if p else None)
        if found:
            out.setdefault(parent, []).extend(found)
    return out


async def tree(conn: AsyncConnection, root: str | None) -> dict[str, list[dict]]:
    """Violations per parent at and below ``root`` (everything when None)."""
    areas = [Area.of(r) for r in await sql.fetchall(conn, "area_subtree", {"root": root})]
    if root is not None and not areas:
        raise NotFound(f"area {root} not found", field="code")
    by_code = {a.code: a for a in areas}
    return check(areas, by_code)


async def report(conn: AsyncConnection, who, code: str) -> dict:
    """The violations among the children of ``code`` and of ``code`` itself against its parent."""
    if not await area_visible(conn, who, code):
        raise NotFound(f"area {code} not found", field="code")
    rows = await sql.fetchall(conn, "area_current_rows", {"codes": [code]})
    me = Area.of(rows[0])
    kids = [Area.of(r) for r in await sql.fetchall(conn, "area_children", {"parents": [code]})]
    found = [v for vs in check(kids, {code: me}).values() for v in vs]
    if me.parent_code:
        parent = await sql.fetchall(conn, "area_current_rows", {"codes": [me.parent_code]})
        if parent:
            own = violations([(me.code, me.geom)], Area.of(parent[0]).geom)
            found += [v for v in own if v["reason"] in OWN]
    return collection(violation_features(found))
