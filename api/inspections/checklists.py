"""The departments' checklists per place category: every change a new version (the old one
closed, kept: visits made against it still name it), audited; all of a batch checked before
anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection
from pydantic import ValidationError

from api import audit
from api.auth.principal import Principal
from api.errors import Invalid
from api.inspections.schemas import ChecklistIn, ChecklistsIn
from api.inspections.sqlfiles import sql
from api.places.catalogue import CATEGORIES

MAX_FILE_BYTES = 2_000_000


def _check_items(c: ChecklistIn, where: str, at: str) -> None:
    keys = [i.key for i in c.items]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise Invalid(f"{where}: item key {dup[0]!r} appears twice", field=f"{at}.items")
    for i in c.items:
        if i.kind != "number" and (i.min is not None or i.max is not None):
            raise Invalid(f"{where}: item {i.key!r}: min and max are for number items", field=f"{at}.items")
        if i.min is not None and i.max is not None and i.min > i.max:
            raise Invalid(f"{where}: item {i.key!r}: min is above max", field=f"{at}.items")


async def check(conn: AsyncConnection, batch: list[ChecklistIn]) -> None:
    """Every checklist names a known department, place category and incident category, once."""
    known = await sql.fetchone(conn, "known_codes")
    departments, categories = set(known["departments"] or []), set(known["categories"] or [])
    seen: set[tuple[str, str]] = set()
    for n, c in enumerate(batch, 1):
        where, at = f"checklist {n} ({c.department}/{c.category})", f"checklists.{n - 1}"
        if c.department not in departments:
            raise Invalid(f"{where}: no department {c.department!r} (known: {', '.join(sorted(departments))})",
                          field=f"{at}.department")
        if c.category not in CATEGORIES:
            raise Invalid(f"{where}: no place category {c.category!r} (known: {', '.join(CATEGORIES)})",
                          field=f"{at}.category")
        if c.case_category not in categories:
            raise Invalid(f"{where}: no incident category {c.case_category!r}", field=f"{at}.case_category")
        if (c.department, c.category) in seen:
            raise Invalid(f"{where}: the same department and category twice in one batch", field=f"{at}.category")
        seen.add((c.department, c.category))
        _check_items(c, where, at)


def _items(c: ChecklistIn) -> list[dict[str, Any]]:
    return [i.model_dump(exclude_none=True) for i in c.items]


async def save(conn: AsyncConnection, who: Principal, batch: list[ChecklistIn]) -> list[dict[str, Any]]:
    """New versions of the checklists that differ from their current one (all checked first);
    an unchanged checklist writes nothing."""
    await check(conn, batch)
    ts = await sql.scalar(conn, "clock_now")
    current = {(r["department"], r["category"]): r for r in await sql.fetchall(conn, "checklist_lock", {
        "departments": [c.department for c in batch], "categories": [c.category for c in batch]})}
    out = []
    for c in batch:
        old = current.get((c.department, c.category))
        items = _items(c)
        if old is not None and old["items"] == items and old["case_category"] == c.case_category:
            out.append({"department": c.department, "category": c.category, "version": old["version"],
                        "changed": False})
            continue
        if old is not None:
            await sql.execute(conn, "checklist_close", {"ids": [old["id"]], "ts": ts})
        version = await sql.scalar(conn, "checklist_insert", {
            "department": c.department, "category": c.category, "case_category": c.case_category,
            "items": json.dumps(items, ensure_ascii=False), "ts": ts, "actor": who.actor})
        await audit.record(conn, actor=who.actor, action="checklist.save", entity="checklist",
                           entity_id=f"{c.department}/{c.category}",
                           before={"version": old["version"]} if old else None,
                           after={"version": version, "case_category": c.case_category,
                                  "items": [i["key"] for i in items]}, client=who.client)
        out.append({"department": c.department, "category": c.category, "version": version, "changed": True})
    return out


async def listing(conn: AsyncConnection, *, department: str | None = None, category: str | None = None,
                  history: bool = False) -> list[dict[str, Any]]:
    return await sql.fetchall(conn, "checklist_list", {"all": history, "department": department,
                                                       "category": category})


def read_file(path: Path) -> list[ChecklistIn]:
    """A checklists file (JSON: ``{"checklists": [...]}``, see sample_geodata/templates/checklists.json)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise Invalid(f"a checklists file may be at most {MAX_FILE_BYTES // 1_000_000} MB", field="file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Invalid(f"not a JSON file: {e}", field="file") from None
    try:
        return ChecklistsIn.model_validate(doc).checklists
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(f"{where}: {first['msg']}", field=where or "file") from None
