"""Layers in and out as files: import (dry run or atomic, versioned apply) and export.

Import reads the file (``spatial.io``), lists every feature's problems with its row number,
compares each feature with the current area of the same code and, unless it is a dry run,
saves every change in the request's one transaction through
:func:`api.areas.versions.save_versions` (new codes get version 1, changed areas the next
version, unchanged ones nothing). Areas of the layer under the parent that the file lacks are
reported, and retired only when asked (``retire_missing``). A file with any problem writes
nothing.

Along each parent's outline the file's new and changed areas are snapped within
``snap_tolerance_m`` metres (:mod:`spatial.partition.edges`): narrow overhangs clipped, narrow
gaps filled by the areas beside them, each fix listed in the report (``snapped``) and kept in
the apply's audit row. Wider ones, and gaps or overlaps between siblings, stay problems.

Export runs the one layer query (``spatial/sql/areas_geojson.sql``: the caller's map scope,
``as_of``) and writes the result with :func:`spatial.io.write_layer`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import shapely
from psycopg import AsyncConnection

from api import layers
from api.areas.editing import Area
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.sqlfiles import sql
from api.text import check_nested
from spatial.io import FORMATS, read_layer, write_layer
from spatial.io.check import Problem, partition_problems, require_columns, row_problems, text_value
from spatial.partition import edges
from spatial.partition.topology import GRID as GRID_DEG  # the export's precision (7 decimals, about 1 cm)

LAYERS = ("district", "street", "community", "grid", "zone", "patrol_zone")
IMPORTABLE = ("street", "community", "grid", "zone", "patrol_zone")
KIND_PARENT = {"street": "district", "community": "street", "grid": "community"}  # zones hang under CODE
MAX_IMPORT_BYTES = 8_000_000
SAME_GEOMETRY_DEG = 1e-6  # about 0.1 m: the export's 7 decimals and format round trips stay "the same"
EXPORT_COLUMNS = ("code", "name", "name_en", "kind", "parent_code", "department", "version", "valid_from",
                  "valid_to", "households", "attributes")

SNAP_TOLERANCE_M = edges.DEFAULT_M  # the default edge tolerance (metres) of an import
MAX_SNAP_TOLERANCE_M = edges.MAX_M

Progress = Callable[[str, int, int], None]


def snap_tolerance(value: float) -> float:
    """The edge tolerance of an import, in metres: 0 (off) to :data:`MAX_SNAP_TOLERANCE_M`.

    Raises ``Invalid`` naming ``snap_tolerance_m`` otherwise (NaN too)."""
    if not isinstance(value, int | float) or not 0 <= value <= MAX_SNAP_TOLERANCE_M:
        raise Invalid(f"the edge tolerance must be 0 (off) to {MAX_SNAP_TOLERANCE_M:g} metres, not {value!r}",
                      field="snap_tolerance_m")
    return float(value)


@dataclass
class Feature:
    row: int
    code: str | None
    name: str | None
    name_en: str | None
    parent_code: str | None
    department_code: str | None
    attributes: dict
    geom: object
    problems: list[Problem] = field(default_factory=list)
    change: str = "error"
    changed: list[str] = field(default_factory=list)


async def _under(conn: AsyncConnection, kind: str, under: str, include_self: bool) -> list[Area]:
    rows = await sql.fetchall(conn, "area_files_under", {"kind": kind, "under": under, "include_self": include_self})
    return [Area.of(r) for r in rows]


def same_geometry(a, b, tolerance: float = SAME_GEOMETRY_DEG) -> bool:
    """Equal up to ``tolerance`` degrees everywhere (vertex order, ring start and single-part
    Multi/Polygon wrapping do not count)."""
    if a is None or b is None:
        return a is b
    na, nb = shapely.normalize(a), shapely.normalize(b)
    if shapely.equals_exact(na, nb, tolerance=tolerance):
        return True
    return shapely.hausdorff_distance(a, b) <= tolerance


def _json_attributes(value, row: int) -> tuple[dict, Problem | None]:
    """The ``attributes`` cell as a dict: a JSON object (GDAL gives a GeoJSON member as one
    already), nested at most ``api.text.MAX_DEPTH`` deep, with text PostgreSQL can store."""
    if isinstance(value, dict):
        doc = dict(value)
    else:
        text = text_value(value)
        if text is None:
            return {}, None
        try:
            doc = json.loads(text)
        except RecursionError:
            return {}, Problem(row, "attributes", "bad_attributes", "not JSON this can keep: nested too deeply")
        except ValueError as exc:
            return {}, Problem(row, "attributes", "bad_attributes", f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return {}, Problem(row, "attributes", "bad_attributes", "must be a JSON object")
    try:
        check_nested(doc)
    except ValueError as exc:
        return {}, Problem(row, "attributes", "bad_attributes", str(exc))
    return doc, None


def _households(value, row: int) -> tuple[int | None, Problem | None]:
    text = text_value(value)
    if text is None:
        return None, None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or not 0 <= number <= 10_000_000:
        return None, Problem(row, "households", "bad_households", f"{text[:40]!r} is not a whole number >= 0")
    return int(number), None


def _features(frame: gpd.GeoDataFrame) -> list[Feature]:
    problems: dict[int, list[Problem]] = {}
    for p in row_problems(frame):
        problems.setdefault(p.row, []).append(p)
    out = []
    cols = set(frame.columns)
    for i, rec in enumerate(frame.itertuples(index=False)):
        row = int(rec.row)
        mine = problems.get(row, [])
        attrs, bad = _json_attributes(getattr(rec, "attributes", None), row) if "attributes" in cols else ({}, None)
        mine += [bad] if bad else []
        households, bad = _households(getattr(rec, "households", None), row) if "households" in cols else (None, None)
        mine += [bad] if bad else []
        if households is not None:
            attrs["households"] = households
        geom = frame.geometry.values[i]
        out.append(Feature(
            row=row, code=text_value(rec.code), name=text_value(rec.name),
            name_en=text_value(getattr(rec, "name_en", None)) if "name_en" in cols else None,
            parent_code=text_value(getattr(rec, "parent_code", None)) if "parent_code" in cols else None,
            department_code=text_value(getattr(rec, "department", None)) if "department" in cols else None,
            attributes=attrs, geom=geom, problems=mine))
    return out


def _assign_parents(features: list[Feature], layer: str, parent: Area, candidates: list[Area]) -> None:
    """Each feature's direct parent: its ``parent_code`` column, else the import's parent when that
    is the right kind, else the candidate parent holding the feature's inner point."""
    by_code = {c.code: c for c in candidates}
    direct = layer not in KIND_PARENT or parent.kind == KIND_PARENT[layer]
    tree = shapely.STRtree([c.geom for c in candidates])
    for f in features:
        if f.parent_code is not None:
            if f.parent_code not in by_code:
                kind = KIND_PARENT.get(layer, parent.kind)
                f.problems.append(Problem(f.row, "parent_code", "bad_parent",
                                          f"{f.parent_code} is not a current {kind} under {parent.code}"))
                f.parent_code = None
            continue
        if direct:
            f.parent_code = parent.code
            continue
        if f.geom is None or not shapely.is_valid(f.geom) or shapely.is_empty(f.geom):
            continue
        hits = tree.query(shapely.point_on_surface(f.geom), predicate="within")
        if len(hits):
            f.parent_code = candidates[int(min(hits))].code
        else:
            f.problems.append(Problem(f.row, "geometry", "outside_parent",
                                      f"lies in no {KIND_PARENT[layer]} under {parent.code}", _codes(f)))


def _codes(f: Feature) -> list[str]:
    return [f.code] if f.code else []


async def _check_foreign_codes(conn: AsyncConnection, features: list[Feature], existing: dict[str, Area],
                               layer: str, parent: str) -> None:
    foreign = sorted({f.code for f in features if f.code and f.code not in existing})
    if not foreign:
        return
    known = {r["code"]: r for r in await sql.fetchall(conn, "area_files_codes", {"codes": foreign})}
    for f in features:
        hit = known.get(f.code) if f.code else None
        if hit is None:
            continue
        if hit["is_current"]:  # a retired code may come back: its history goes on (the next version)
            where = (f"the {hit['kind']} under {hit['parent_code']}" if hit["kind"] != layer
                     else f"under {hit['parent_code']}")
            f.problems.append(Problem(f.row, "code", "code_in_use",
                                      f"code {f.code} is already {where}, not a {layer} under {parent}", [f.code]))


def _forgive_rounding(features: list[Feature], existing: dict[str, Area]) -> None:
    """A geometry that is only invalid because a file rounded the stored one (7 decimals can
    fold a ring onto itself) is the stored one: no problem, unchanged ground."""
    for f in features:
        old = existing.get(f.code) if f.code else None
        if old is None or [p.reason for p in f.problems] != ["invalid_geometry"]:
            continue
        if same_geometry(f.geom, old.geom):
            f.problems, f.geom = [], old.geom


def storable(geom, anchor):
    """A changed geometry as it will be stored: snapped onto its kept neighbours and the parent
    (within :data:`SAME_GEOMETRY_DEG`), without near-duplicate vertices, and still valid once
    written with 7 decimals (else put on that 1e-7 grid)."""
    snapped = shapely.snap(geom, anchor, SAME_GEOMETRY_DEG)
    snapped = snapped if shapely.is_valid(snapped) else geom
    cleaned = shapely.remove_repeated_points(snapped, GRID_DEG)
    cleaned = cleaned if shapely.is_valid(cleaned) and not cleaned.is_empty else snapped
    if shapely.is_valid(shapely.set_precision(cleaned, GRID_DEG, mode="pointwise")):
        return cleaned
    gridded = shapely.set_precision(cleaned, GRID_DEG)
    return gridded if shapely.is_valid(gridded) and not gridded.is_empty else cleaned


def _diff(f: Feature, old: Area | None, layer: str) -> None:
    if f.problems:
        f.change = "error"
        return
    if old is None:
        f.change = "created"
        if layer == "patrol_zone" and not f.department_code:
            f.problems.append(Problem(f.row, "department", "missing_department",
                                      "a new patrol zone needs a department"))
            f.change = "error"
        return
    merged = {**old.attributes, **f.attributes}
    f.attributes = merged
    f.name_en = f.name_en if f.name_en is not None else old.name_en
    f.department_code = f.department_code or old.department_code
    checks = {"name": f.name != old.name, "name_en": f.name_en != old.name_en,
              "parent_code": f.parent_code != old.parent_code,
              "department": f.department_code != old.department_code,
              "attributes": merged != old.attributes,
              "geometry": not same_geometry(f.geom, old.geom)}
    f.changed = [k for k, v in checks.items() if v]
    f.change = "changed" if f.changed else "unchanged"


def _partition(features: list[Feature], existing: dict[str, Area], retired: set[str], candidates: dict[str, Area],
               layer: str, tolerance_m: float = 0.0) -> tuple[list[Problem], list[dict]]:
    """Validate the new partition of every parent whose children change (new violations only).

    Unchanged features stand in with their stored geometry; changed and new ones are first
    snapped onto the parent's outline within ``tolerance_m`` metres (the fixes are returned,
    see :func:`_snap_edges`), then to their kept neighbours and the parent within
    :data:`SAME_GEOMETRY_DEG`, so that a file's rounding (7 decimals, a format round trip)
    leaves no hairline gap or overlap."""
    rows = {f.code: f.row for f in features if f.code}
    in_file = {f.code for f in features if f.code}

    def key(parent_code, department):
        return parent_code, department if layer == "patrol_zone" else None

    touched = set()
    for f in features:
        if f.change in ("created", "changed") and f.parent_code:
            touched.add(key(f.parent_code, f.department_code))
            old = existing.get(f.code)
            if old is not None and old.parent_code != f.parent_code:
                touched.add(key(old.parent_code, old.department_code))
    for code in retired:
        touched.add(key(existing[code].parent_code, existing[code].department_code))
    problems: list[Problem] = []
    fixes: list[dict] = []
    for parent_code, department in sorted(touched, key=lambda k: (k[0] or "", k[1] or "")):
        holder = candidates.get(parent_code)
        if holder is None:
            continue
        if any(f.problems for f in features if key(f.parent_code, f.department_code) == (parent_code, department)):
            continue  # its partition is checked once every feature of it is sound
        mine = [f for f in features if f.change in ("created", "changed", "unchanged")
                and key(f.parent_code, f.department_code) == (parent_code, department)]
        kept = [{"code": a.code, "geometry": a.geom} for a in existing.values()
                if key(a.parent_code, a.department_code) == (parent_code, department)
                and a.code not in in_file and a.code not in retired]
        same_ground = [f for f in mine if f.change == "unchanged" or (f.change == "changed"
                                                                       and "geometry" not in f.changed)]
        kept += [{"code": f.code, "geometry": existing[f.code].geom} for f in same_ground]
        anchor = shapely.union_all([shapely.boundary(holder.geom)] + [shapely.boundary(k["geometry"]) for k in kept])
        still = {id(f) for f in same_ground}
        moved = [f for f in mine if id(f) not in still]
        mended = _snap_edges(moved, kept, holder.geom, tolerance_m, fixes,
                             [existing[f.code].geom if f.code in existing else None for f in moved])
        for f in moved:
            f.geom = storable(f.geom, anchor)
        for f in mended:
            _same_ground_again(f, existing.get(f.code) if f.code else None)
        after = kept + [{"code": f.code, "geometry": f.geom} for f in moved]
        before = [{"code": a.code, "geometry": a.geom} for a in existing.values()
                  if key(a.parent_code, a.department_code) == (parent_code, department)]
        problems += partition_problems(after, before, parent_code, holder.geom, rows)
    return problems, fixes


def _snap_edges(moved: list[Feature], kept: list[dict], parent_geom, tolerance_m: float, fixes: list[dict],
                stored: list) -> list:
    """Snap the moved features onto the parent's outline (:func:`spatial.partition.edges.snap_to_outline`;
    ``stored``: each one's current ground or None), adding each fix to ``fixes`` as the report
    lists it; the features that were fixed."""
    if tolerance_m <= 0 or not moved:
        return []
    geoms, found = edges.snap_to_outline(parent_geom, [f.geom for f in moved], [k["geometry"] for k in kept],
                                         tolerance_m, stored)
    for f, geom in zip(moved, geoms, strict=True):
        f.geom = geom
    for fix in found:
        f = moved[fix["index"]]
        where = shapely.point_on_surface(fix["geometry"])
        fixes.append({"row": f.row, "code": f.code, "parent_code": f.parent_code, "fix": fix["fix"],
                      "area_m2": round(fix["area_m2"], 2), "width_m": round(fix["width_m"], 2),
                      "lon": round(where.x, 7), "lat": round(where.y, 7),
                      "geometry": json.loads(shapely.to_geojson(shapely.set_precision(fix["geometry"], GRID_DEG)))})
    return list({id(moved[x["index"]]): moved[x["index"]] for x in found}.values())


def _same_ground_again(f: Feature, old: Area | None) -> None:
    """A feature whose file geometry only differed along the parent's edge may be its stored
    ground once snapped: then its geometry is unchanged (and with nothing else, the feature)."""
    if old is None or "geometry" not in f.changed or not same_geometry(f.geom, old.geom):
        return
    f.geom = old.geom
    f.changed = [c for c in f.changed if c != "geometry"]
    if not f.changed:
        f.change = "unchanged"


async def import_layer(conn: AsyncConnection, who: Principal, *, path: Path, filename: str | None, layer: str,
                       parent: str, dry_run: bool, source_crs: str | None = None, reason: str | None = None,
                       retire_missing: bool = False, snap_tolerance_m: float = SNAP_TOLERANCE_M,
                       progress: Progress | None = None) -> dict:
    """Check a layer file against the areas under ``parent`` and, unless ``dry_run``, save it.

    Overhangs and gaps along each parent's outline no wider than ``snap_tolerance_m`` metres
    (0: none) are fixed and listed in the report's ``snapped``.

    Returns the report (:class:`api.areas.file_models.ImportReport`). Raises ``Invalid`` (422,
    the report in the body) when an apply finds problems: nothing is written then.
    """
    say = progress or (lambda stage, done, total: None)
    if layer not in IMPORTABLE:
        raise Invalid(f"layer {layer!r} cannot be imported: one of {', '.join(IMPORTABLE)}", field="layer")
    tolerance_m = snap_tolerance(snap_tolerance_m)
    edit = reach(who, Capability.EDIT_AREAS)
    row = await sql.fetchone(conn, "area_files_parent", {"code": parent, **edit.params()})
    if row is None:
        raise NotFound(f"no area {parent} within your reach", field="parent")
    say("read", 0, 1)
    read = await asyncio.to_thread(read_layer, path, name=filename, layer=layer, source_crs=source_crs)
    require_columns(read.frame)
    say("read", 1, 1)
    holder = Area(code=row["code"], name=row["name"], name_en=None, kind=row["kind"], parent_code=None,
                  department_code=row["department_code"], attributes={}, version=0,
                  geom=shapely.from_wkb(bytes(row["wkb"])))
    if layer in KIND_PARENT:
        candidates = await _under(conn, KIND_PARENT[layer], parent, include_self=True)
        if not candidates:
            raise Invalid(f"{parent} is a {holder.kind}: there is no {KIND_PARENT[layer]} under it to hold "
                          f"{layer} areas", field="parent")
    else:
        candidates = [holder]
    existing = {a.code: a for a in await _under(conn, layer, parent, include_self=False)}

    features = _features(read.frame)
    _assign_parents(features, layer, holder, candidates)
    await _check_foreign_codes(conn, features, existing, layer, parent)
    _forgive_rounding(features, existing)
    for i, f in enumerate(features, 1):
        _diff(f, existing.get(f.code) if f.code else None, layer)
        if i % 50 == 0 or i == len(features):
            say("compare", i, len(features))
    in_file = {f.code for f in features if f.code}
    missing = sorted(set(existing) - in_file)
    retired = set(missing) if retire_missing else set()
    say("validate", 0, 1)
    layer_problems, snapped = _partition(features, existing, retired, {c.code: c for c in candidates}, layer,
                                         tolerance_m)
    say("validate", 1, 1)
    by_row = {f.row: f for f in features}
    loose = []
    for p in layer_problems:
        if p.row is not None and p.row in by_row:
            by_row[p.row].problems.append(p)
            by_row[p.row].change = "error"
        else:
            loose.append(p)
    rows_of = {f.code: f.row for f in features if f.code}
    errors = sum(1 for f in features if f.problems) + len(loose)
    report = {
        "layer": layer, "parent": parent, "dry_run": dry_run, "applied": False,
        "file_format": read.format.key, "crs": read.crs, "converted": read.converted,
        "features": [{"row": f.row, "code": f.code, "name": f.name, "parent_code": f.parent_code,
                      "change": "error" if f.problems else f.change, "changed": f.changed,
                      "problems": [{"field": p.field, "reason": p.reason, "detail": p.detail} for p in f.problems]}
                     for f in features],
        "missing": missing, "retire_missing": retire_missing,
        "layer_problems": [{"reason": p.reason, "detail": p.detail, "codes": p.codes,
                            "rows": sorted(rows_of[c] for c in p.codes if c in rows_of)} for p in loose],
        "versions": {}, "rerouted": 0, "snap_tolerance_m": tolerance_m, "snapped": snapped,
    }
    counts = {k: sum(1 for f in report["features"] if f["change"] == k) for k in ("created", "changed", "unchanged")}
    report["summary"] = {"features": len(features), **counts, "retired": len(retired), "missing": len(missing),
                         "errors": errors, "snapped": len(snapped)}
    if errors:
        report["message"] = f"{errors} problem(s): nothing {'would be' if dry_run else 'was'} saved"
        if not dry_run:
            first = _first_problem(features, loose)
            raise Invalid(f"{report['message']}; first: {first[1]}", field=first[0], extra={"report": report})
        return report
    changes = _changes(features, existing, retired, layer)
    if dry_run or not changes:
        report["message"] = (f"dry run: {len(changes)} area(s) would change" if dry_run
                             else "no change: every feature equals its area")
        report["applied"] = not dry_run
        return report
    say("save", 0, len(changes))
    from api.areas.versions import save_versions  # the partition helper's versioned write

    saved = await save_versions(conn, actor=who.actor, reason=reason or f"import of {filename or 'a file'}",
                                changes=changes, action="area.import", client=who.client or None,
                                audit_extra={"snap_tolerance_m": tolerance_m,
                                             "snapped": [{k: v for k, v in x.items() if k != "geometry"}
                                                         for x in snapped]})
    say("save", len(changes), len(changes))
    report.update(applied=True, versions=dict(saved.get("versions", {})), rerouted=int(saved.get("rerouted", 0)),
                  message=f"saved {len(changes)} area(s) in one transaction")
    return report


def _changes(features: list[Feature], existing: dict[str, Area], retired: set[str], layer: str) -> list[dict]:
    out = []
    for f in features:
        if f.change not in ("created", "changed"):
            continue
        geometry_same = f.change == "changed" and "geometry" not in f.changed
        out.append({"code": f.code, "kind": layer, "parent_code": f.parent_code, "name": f.name,
                    "name_en": f.name_en, "attributes": f.attributes, "department": f.department_code,
                    "geom": None if geometry_same else f.geom, "retire": False})
    for code in sorted(retired):
        a = existing[code]
        out.append({"code": code, "kind": layer, "parent_code": a.parent_code, "name": a.name, "name_en": a.name_en,
                    "attributes": a.attributes, "department": a.department_code, "geom": None, "retire": True})
    return out


def _first_problem(features: list[Feature], loose: list[Problem]) -> tuple[str, str]:
    """(field, reason) of the first problem, for the error body (the report lists them all)."""
    for f in features:
        if f.problems:
            return f"features[{f.row}].{f.problems[0].field}", f"row {f.row}: {f.problems[0].detail}"
    return "geometry", loose[0].detail


# --------------------------------------------------------------------------- export

async def export_layer(conn: AsyncConnection, who: Principal, *, layer: str, parent: str | None, fmt: str,
                       as_of: datetime | None = None) -> tuple[bytes, str]:
    """The areas of ``layer`` under ``parent`` (or all in scope), current or ``as_of``, as a file.

    Returns ``(content, file name)``. Areas outside the caller's map scope are not in it; a
    parent outside it is a 404.
    """
    if layer not in LAYERS:
        raise Invalid(f"layer must be one of {', '.join(LAYERS)}", field="layer")
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}", field="format")
    doc = await layers.layer_page(conn, who, kind=layer, under=parent, as_of=as_of)
    if parent is not None and not doc["features"] and not await layers.area_visible(conn, who, parent):
        raise NotFound(f"no area {parent} within your reach", field="parent")
    frame = features_frame(doc["features"])
    name = f"{layer}-{parent}" if parent else layer
    if as_of is not None:
        name += "-" + as_of.strftime("%Y%m%dT%H%M")
    content = await asyncio.to_thread(write_layer, frame, fmt, layer)
    return content, name + FORMATS[fmt].suffix


def features_frame(features: list[dict]) -> gpd.GeoDataFrame:
    """GeoJSON features of the layer query as a frame with the export's columns."""
    records = []
    for feat in features:
        props = feat.get("properties") or {}
        records.append({col: props.get(col) for col in EXPORT_COLUMNS})
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    frame = gpd.GeoDataFrame(records, columns=list(EXPORT_COLUMNS), geometry=geoms, crs="EPSG:4326")
    for col in ("valid_from", "valid_to"):
        frame[col] = frame[col].map(lambda v: None if v is None else str(v))
    frame["attributes"] = frame["attributes"].map(lambda v: json.dumps(v, ensure_ascii=False) if v else None)
    return frame
