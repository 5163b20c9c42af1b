"""Preview and save of each edit operation on the partition of one parent.

A request names areas (``code`` / ``codes``); the caller may edit those whose parent lies in
their reach (checked in the query: anything else is a 404). A save takes the parents' edit
locks and the rows FOR UPDATE, then compares If-Match with the versions current *after* the
wait, so of two saves from the same version exactly one succeeds and the other gets 412.
The geometry is :mod:`spatial.partition.ops`; what is refused is what
:mod:`spatial.partition.validate` finds new in the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import psycopg
import shapely
from psycopg import AsyncConnection
from shapely.geometry.base import BaseGeometry

from api.areas import schemas as s
from api.areas.features import collection, feature, violation_features
from api.areas.versions import save_versions
from api.auth.policy import Capability, Reach, reach
from api.auth.principal import Principal
from api.errors import ApiError, Conflict, Invalid, NotFound
from api.sqlfiles import sql
from spatial.errors import InputError
from spatial.partition import ops
from spatial.partition.topology import owners
from spatial.partition.validate import new_violations, violations

ETAG = re.compile(r'^\s*(?:W/)?"([0-9A-Za-z_-]+)@(\d+)"\s*$')


class PreconditionRequired(ApiError):
    status = 428


class PreconditionFailed(ApiError):
    status = 412


class Refused(Invalid):
    """A save whose result has violations: the route answers 422 with one error per violation."""

    def __init__(self, found: list[dict]):
        super().__init__(f"the result would have {len(found)} violation(s); nothing was saved", field="geometry")
        self.errors = [{"field": "geometry", "reason": f"{v['reason']}: {v['detail']}"} for v in found]
        self.extra = {"violations": collection(violation_features(found))}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_code: str | None
    department_code: str | None
    attributes: dict
    version: int
    geom: BaseGeometry | None

    @classmethod
    def of(cls, row) -> Area:
        return cls(row["code"], row["name"], row["name_en"], row["kind"], row["parent_code"], row["department_code"],
                   dict(row["attributes"] or {}), row["version"], shapely.from_wkb(bytes(row["wkb"])))

    def same_layer(self, other: Area) -> bool:
        return (self.parent_code, self.kind, self.department_code) == \
            (other.parent_code, other.kind, other.department_code)


@dataclass
class Plan:
    """The outcome of an operation as changes for :func:`save_versions` and the result's features."""

    changes: list[dict]
    affected: list[dict]
    violations: list[dict]


def etag(code: str, version: int) -> str:
    return f'"{code}@{version}"'


def parse_if_match(header: str | None, named: list[str]) -> dict[str, int]:
    if not header or not header.strip():
        raise PreconditionRequired("a save needs If-Match with the ETag of "
                                   + ", ".join(etag(c, "<version>") for c in named), field="If-Match")
    given = {}
    for part in header.split(","):
        m = ETAG.match(part)
        if not m:
            raise Invalid(f"If-Match: {part.strip()[:80]!r} is not an area ETag like \"<code>@<version>\"",
                          field="If-Match")
        given[m.group(1)] = int(m.group(2))
    missing = [c for c in named if c not in given]
    if missing:
        raise PreconditionRequired(f"If-Match carries no ETag for {', '.join(missing)}", field="If-Match")
    return given


async def _editable(conn: AsyncConnection, r: Reach, codes: list[str], field: str) -> dict[str, Area]:
    rows = await sql.fetchall(conn, "area_editable", {"codes": codes, "everywhere": r.everywhere,
                                                     "scope": list(r.areas)})
    found = {row["code"]: Area.of(row) for row in rows}
    for code in codes:
        if code not in found:
            raise NotFound(f"area {code} not found (or not yours to edit)", field=field)
    return found


async def _children(conn: AsyncConnection, parents: list[str]) -> list[Area]:
    return [Area.of(r) for r in await sql.fetchall(conn, "area_children", {"parents": parents})]


async def _current(conn: AsyncConnection, code: str) -> Area | None:
    rows = await sql.fetchall(conn, "area_current_rows", {"codes": [code]})
    return Area.of(rows[0]) if rows else None


async def _layer(conn: AsyncConnection, area: Area) -> tuple[dict[str, Area], BaseGeometry]:
    """``area`` and its siblings of the same layer, and their parent's geometry."""
    if area.parent_code is None:
        raise InputError("code", f"{area.code} is a root area: it has no parent partition to edit in")
    parent = await _current(conn, area.parent_code)
    layer = {a.code: a for a in await _children(conn, [area.parent_code]) if a.same_layer(area)}
    return layer, parent.geom


async def _next_codes(conn: AsyncConnection, like: Area, n: int) -> list[str]:
    """``n`` codes never used before, continuing the numbering of ``like``'s siblings."""
    parent, code = like.parent_code or "", like.code
    if code.startswith(parent) and code[len(parent):].isdigit():
        prefix, width = parent, len(code) - len(parent)
    else:
        m = re.match(r"^(.*?)(\d+)$", code)
        prefix, width = (m.group(1), len(m.group(2))) if m else (code + "-", 2)
    used = {r["code"] for r in await sql.fetchall(conn, "area_codes_under", {"prefix": prefix})}
    numbers = [int(c[len(prefix):]) for c in used if c[len(prefix):].isdigit()]
    start = max(numbers, default=0) + 1
    return [f"{prefix}{str(k).zfill(width)}" for k in range(start, start + n)]


def _change(area: Area, *, geom=None, retire=False, **fields) -> dict:
    a = replace(area, **fields)
    return {"code": a.code, "kind": a.kind, "parent_code": a.parent_code, "name": a.name, "name_en": a.name_en,
            "attributes": a.attributes, "geom": geom, "retire": retire, "department": a.department_code}


def _feature(change: dict, old: Area | None, kind_of_change: str) -> dict:
    geom = change["geom"] if change["geom"] is not None else (old.geom if old else None)
    version = old.version if kind_of_change == "retired" else (old.version + 1 if old else 1)
    return {"code": change["code"], "name": change["name"], "name_en": change["name_en"],
            "parent_code": change["parent_code"], "kind": change["kind"], "version": version,
            "change": kind_of_change, "attributes": change["attributes"], "geometry": geom}


def _layer_plan(layer: dict[str, Area], parent_geom, out: ops.Outcome, created: list[Area]) -> Plan:
    """Changes and new violations of one layer after an operation."""
    changes, affected = [], []
    for code, geom in sorted(out.changed.items()):
        changes.append(_change(layer[code], geom=geom))
        affected.append(_feature(changes[-1], layer[code], "changed"))
    for area in created:
        changes.append(_change(area, geom=area.geom))
        affected.append(_feature(changes[-1], None, "created"))
    for code in out.retired:
        changes.append(_change(layer[code], retire=True))
        affected.append(_feature(changes[-1], layer[code], "retired"))
    before = [(c, a.geom) for c, a in layer.items()]
    after = {c: a.geom for c, a in layer.items() if c not in out.retired}
    after.update(out.changed)
    after.update({a.code: a.geom for a in created})
    fresh = new_violations(violations(before, parent_geom), violations(list(after.items()), parent_geom))
    return Plan(changes, affected, fresh)


async def _follow(conn: AsyncConnection, plan: Plan, layer_before: dict[str, BaseGeometry],
                  layer_after: dict[str, BaseGeometry]) -> Plan:
    """Children of the areas whose ground changed go to the area that now holds most of them;
    the partitions they make are checked against their (new) parents."""
    moved = {c["code"]: c for c in plan.changes if c["retire"] or c["geom"] is not None}
    kids = await _children(conn, list(moved)) if moved else []
    if not kids:
        return plan
    codes = list(layer_after)
    holder = owners(np.asarray([k.geom for k in kids], dtype=object), [layer_after[c] for c in codes])
    new_parent = {k.code: (codes[h] if h >= 0 else k.parent_code) for k, h in zip(kids, holder, strict=True)}
    for kid in kids:
        if new_parent[kid.code] != kid.parent_code:
            plan.changes.append(_change(kid, parent_code=new_parent[kid.code]))
            plan.affected.append(_feature(plan.changes[-1], kid, "changed"))
    by_parent: dict[tuple, list] = {}
    for kid in kids:
        by_parent.setdefault((new_parent[kid.code], kid.kind, kid.department_code), []).append(kid)
    for (parent, _kind, _dept), group in by_parent.items():
        geom = layer_after.get(parent)
        if geom is None:
            continue
        old = [(k.code, k.geom) for k in group if k.parent_code == parent]
        before = violations(old, layer_before.get(parent)) if old else []
        plan.violations += new_violations(before, violations([(k.code, k.geom) for k in group], geom))
    return plan


async def _plan(conn: AsyncConnection, r: Reach, body, targets: dict[str, Area]) -> Plan:
    try:
        return await _plan_op(conn, r, body, targets)
    except shapely.errors.GEOSException as e:  # a shape the overlay cannot handle: the drawing's fault
        field = {"split": "line" if getattr(body, "line", None) else "polygon",
                 "reshape": "geometry"}.get(body.op, "code")
        raise InputError(field, f"the geometry engine could not apply this shape: {e}") from None


async def _plan_op(conn: AsyncConnection, r: Reach, body, targets: dict[str, Area]) -> Plan:
    if isinstance(body, s.RenameIn):
        area = targets[body.code]
        change = _change(area, name=body.name, name_en=body.name_en if body.name_en is not None else area.name_en)
        return Plan([change], [_feature(change, area, "changed")], [])
    if isinstance(body, s.AttributesIn):
        area = targets[body.code]
        roster = body.attributes.model_dump(exclude_unset=True)  # only what was sent (null clears)
        change = _change(area, attributes={**area.attributes, **roster})
        return Plan([change], [_feature(change, area, "changed")], [])
    if isinstance(body, s.MoveIn):
        return await _plan_move(conn, r, body, targets[body.code])

    first = targets[named(body)[0]]
    layer, parent_geom = await _layer(conn, first)
    geoms = {c: a.geom for c, a in layer.items()}
    created: list[Area] = []
    if isinstance(body, s.SplitIn):
        if (body.line is None) == (body.polygon is None):
            raise InputError("line", "give either a line or a polygon to split by")
        cutter = (s.to_shape(body.line, "line", s.LINEAL) if body.line is not None
                  else s.to_shape(body.polygon, "polygon", ("Polygon",)))
        out = ops.split(geoms, body.code, cutter)
        if body.names is not None and len(body.names) != len(out.created):
            raise InputError("names", f"the split makes {len(out.created)} pieces; give {len(out.created)} names")
        codes = await _next_codes(conn, first, len(out.created))
        names = body.names or [f"{first.name}-{i + 1}" for i in range(len(out.created))]
        created = [replace(first, code=c, name=n, name_en=f"{first.name_en}-{i + 1}" if first.name_en else None,
                           attributes={}, version=0, geom=g)
                   for i, (c, n, g) in enumerate(zip(codes, names, out.created, strict=True))]
    elif isinstance(body, s.MergeIn):
        for code, area in targets.items():
            if not area.same_layer(first):
                raise InputError("codes", f"{code} is not in the same layer and parent as {first.code}")
        out = ops.merge(geoms, body.codes)
        if body.name:
            survivor = min(body.codes)
            layer[survivor] = replace(layer[survivor], name=body.name)
    elif isinstance(body, s.ReshapeIn):
        outline = s.to_shape(body.geometry, "geometry", s.POLYGONAL)
        out = ops.reshape(geoms, parent_geom, body.code, outline, freed=body.freed)
    elif isinstance(body, s.RetireIn):
        out = ops.retire(geoms, body.code, body.to)
    else:  # pragma: no cover - the union is closed
        raise InputError("op", "unknown operation")
    if isinstance(body, s.MergeIn) and body.name:
        out.changed.setdefault(min(body.codes), layer[min(body.codes)].geom)
    plan = _layer_plan(layer, parent_geom, out, created)
    after = {c: g for c, g in geoms.items() if c not in out.retired}
    after.update(out.changed)
    after.update({a.code: a.geom for a in created})
    return await _follow(conn, plan, {c: a.geom for c, a in layer.items()}, after)


async def _plan_move(conn: AsyncConnection, r: Reach, body: s.MoveIn, area: Area) -> Plan:
    if area.parent_code is None:
        raise InputError("code", f"{area.code} is a root area")
    both = await _editable(conn, r, [area.parent_code], "code")
    target_parent = (await _editable(conn, r, [body.parent], "parent"))[body.parent]
    old_parent = both[area.parent_code]
    if not target_parent.same_layer(old_parent):
        raise InputError("parent", f"{body.parent} is not a {old_parent.kind} beside {old_parent.code} "
                                   f"(same parent {old_parent.parent_code})")
    layer, grand_geom = await _layer(conn, old_parent)
    out = ops.move({c: a.geom for c, a in layer.items()}, area.geom, old_parent.code, body.parent)
    plan = _layer_plan(layer, grand_geom, out, [])
    before = {c: a.geom for c, a in layer.items()}
    return await _follow(conn, plan, before, {**before, **out.changed})


def named(body) -> list[str]:
    return s.named_codes(body)


async def _check_versions(conn: AsyncConnection, r: Reach, given: dict[str, int], codes: list[str],
                          field: str) -> dict:
    """404 for a code the caller cannot edit, 412 when If-Match is not the current version."""
    latest = {row["code"]: row for row in await sql.fetchall(conn, "area_latest_versions", {
        "codes": codes, "everywhere": r.everywhere, "scope": list(r.areas)})}
    for code in codes:
        if code not in latest or not latest[code]["editable"]:
            raise NotFound(f"area {code} not found (or not yours to edit)", field=field)
    stale = [c for c in codes if not latest[c]["current"] or latest[c]["version"] != given[c]]
    if stale:
        current = {c: (etag(c, latest[c]["version"]) if latest[c]["current"] else None) for c in codes}
        raise PreconditionFailed(
            "changed since you read it: " + ", ".join(
                f"{c} is now {current[c] or 'retired'}" for c in stale) + "; reload and edit again",
            field="If-Match", extra={"current": current})
    return latest


async def edit(conn: AsyncConnection, who: Principal, body, *, save: bool, if_match: str | None = None,
               client: str | None = None) -> dict:
    """Preview (``save=False``) or save one operation; the EditResult document."""
    r = reach(who, Capability.EDIT_AREAS)
    codes = named(body)
    field = "codes" if isinstance(body, s.MergeIn) else "code"
    if save:  # stale or missing first (a code retired by an earlier save is a 412, not a 404)
        given = parse_if_match(if_match, codes)
        latest = await _check_versions(conn, r, given, codes, field)
        parents = {row["parent_code"] for row in latest.values() if row["parent_code"]}
        if isinstance(body, s.MoveIn):
            parent = latest[body.code]["parent_code"]
            grand = await _current(conn, parent) if parent else None
            parents |= {body.parent} | ({grand.parent_code} if grand and grand.parent_code else set())
        await sql.execute(conn, "area_edit_lock", {"parents": sorted(parents)})
        await sql.execute(conn, "area_children_lock", {"parents": sorted(parents)})
        await _check_versions(conn, r, given, codes, field)  # what was saved while this one waited
    targets = await _editable(conn, r, codes, field)
    plan = await _plan(conn, r, body, targets)
    result = {"op": body.op, "saved": False, "rerouted": 0}
    if save:
        if plan.violations:
            raise Refused(plan.violations)
        try:
            saved = await save_versions(conn, actor=who.username, reason=body.reason, changes=plan.changes,
                                        action=f"area.{body.op}", client=client)
        except psycopg.errors.IntegrityError:
            raise Conflict("another edit of these areas was saved at the same time; reload and try again") from None
        for f in plan.affected:
            f["version"] = saved["versions"].get(f["code"], f["version"])
        result.update(saved=True, rerouted=saved["rerouted"])
    result["affected"] = collection([_affected_feature(f) for f in plan.affected])
    result["violations"] = collection(violation_features(plan.violations))
    return result


def _affected_feature(f: dict) -> dict:
    props = {k: v for k, v in f.items() if k != "geometry"}
    return feature(f["code"], f["geometry"], props)
