"""The star configuration of a district: which KPIs are weighted, which are penalties, the
thresholds from a score to stars and the fewest cases a month rated; versioned per district
(a stored version never changes: a rating names the version it used).

The shipped default is ``default_config.json`` (its ``note`` says how a score is made); a
district without a stored configuration is rated with it, stored as its version 1 on first use.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.kpi.definitions import KPI_BY_KEY
from api.stars import sql
from api.text import bad_text_reason

DEFAULT_FILE = "default_config.json"
STARS = 5
KEYS = ("note", "min_cases", "weights", "penalties", "thresholds")
# rates where more is better: what a rating may weigh
WEIGHABLE = ("accepted", "closure_rate", "on_time_rate", "department_on_time", "settled_grid", "settled_community",
             "settled_zone", "settled_street", "response_under_5min", "satisfaction", "rating_participation")
# shares where more is worse: what a rating may take points off for (the integrity signals among them)
PENALISABLE = ("reopen_rate", "repeat_complaints", "quick_close_no_photo", "closed_then_reopened",
               "verification_failures", "withdrawn_by_desk", "merged_duplicates", "extended_twice")
WEIGHT_TOLERANCE = 1e-6
MAX_MIN_CASES = 100_000


@cache
def default_text() -> str:
    return resources.files("api.stars").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


def default_document() -> dict[str, Any]:
    return json.loads(default_text())


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(f"must be a number, not {value!r}", field=field)
    return float(value)


def _kpi_map(doc: dict[str, Any], name: str, allowed: tuple[str, ...], low: float, high: float,
             what: str) -> dict[str, float]:
    found = doc.get(name)
    if not isinstance(found, dict):
        raise Invalid("must be an object of KPI keys and numbers", field=name)
    out: dict[str, float] = {}
    for key, value in found.items():
        field = f"{name}.{key}"
        if key not in KPI_BY_KEY:
            raise Invalid(f"unknown KPI key {key!r} (GET /api/kpis/definitions)", field=field)
        if key not in allowed:
            raise Invalid(f"{key} is not a KPI to {what}; one of: {', '.join(allowed)}", field=field)
        number = _number(value, field)
        if not low <= number <= high:
            raise Invalid(f"must be from {low:g} to {high:g}, not {number:g}", field=field)
        out[key] = number
    return out


def validate(doc: Any) -> dict[str, Any]:
    """The configuration checked: an :class:`Invalid` naming the first wrong field otherwise."""
    if not isinstance(doc, dict):
        raise Invalid("must be a JSON object with weights, penalties, thresholds and min_cases", field="config")
    for key in doc:
        if key not in KEYS:
            raise Invalid(f"unknown field {key!r}; fields: {', '.join(KEYS)}", field=str(key))
    note = doc.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        raise Invalid("must be a text of at most 2000 characters", field="note")
    if bad_text_reason(note):
        raise Invalid(bad_text_reason(note) or "", field="note")
    min_cases = doc.get("min_cases")
    if isinstance(min_cases, bool) or not isinstance(min_cases, int) or not 1 <= min_cases <= MAX_MIN_CASES:
        raise Invalid(f"must be a whole number from 1 to {MAX_MIN_CASES}", field="min_cases")
    weights = _kpi_map(doc, "weights", WEIGHABLE, 0.0, 1.0, "weigh")
    if not weights or not any(weights.values()):
        raise Invalid("weigh at least one KPI", field="weights")
    total = sum(weights.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise Invalid(f"the weights must sum to 1, not {total:g}", field="weights")
    penalties = _kpi_map(doc, "penalties", PENALISABLE, 0.0, 100.0, "penalise")
    thresholds = doc.get("thresholds")
    if not isinstance(thresholds, list) or len(thresholds) != STARS - 1:
        raise Invalid(f"must be a list of {STARS - 1} scores: the least score of 2, 3, 4 and 5 stars",
                      field="thresholds")
    values = [_number(t, f"thresholds[{i}]") for i, t in enumerate(thresholds)]
    for i, (a, b) in enumerate(zip(values, values[1:], strict=False)):
        if b <= a:
            raise Invalid(f"the thresholds must increase: {b:g} follows {a:g}", field=f"thresholds[{i + 1}]")
    if values[0] <= 0 or values[-1] > 100:
        raise Invalid("the thresholds must lie above 0 and at most 100", field="thresholds")
    return {"note": note, "min_cases": min_cases, "weights": weights, "penalties": penalties, "thresholds": values}


async def district(conn: AsyncConnection, code: str) -> dict[str, Any]:
    row = await sql.fetchone(conn, "star_district", {"code": code})
    if row is None:
        raise NotFound(f"no current district {code!r}", field="district")
    return row


async def districts(conn: AsyncConnection, code: str | None) -> list[str]:
    """The district asked for (checked), or every current one."""
    if code is not None:
        return [(await district(conn, code))["code"]]
    return [r["code"] for r in await sql.fetchall(conn, "star_districts")]


async def stored(conn: AsyncConnection, code: str, version: int | None = None) -> dict[str, Any] | None:
    """A district's configuration of a version (default: its newest), as stored."""
    return await sql.fetchone(conn, "star_config_get", {"district": code, "version": version})


async def show(conn: AsyncConnection, code: str) -> dict[str, Any]:
    """The configuration a district's next computation uses: its newest stored, else the default."""
    await district(conn, code)
    row = await stored(conn, code)
    if row is None:
        return {"district": code, "version": None, "default": True, "document": validate(default_document()),
                "created_by": None, "created_at": None}
    return {"district": code, "version": row["version"], "default": False, "document": row["document"],
            "created_by": row["created_by"], "created_at": row["created_at"]}


async def _insert(conn: AsyncConnection, code: str, doc: dict[str, Any], actor: str) -> dict[str, Any]:
    await sql.execute(conn, "star_config_lock", {"district": code})
    row = await sql.fetchone(conn, "star_config_insert", {
        "district": code, "document": json.dumps(doc, ensure_ascii=False), "actor": actor})
    assert row is not None
    return row


async def put(conn: AsyncConnection, who: Principal, code: str, doc: Any) -> dict[str, Any]:
    """Store a new version of a district's configuration (audited); the same document as the
    newest version stores nothing."""
    checked = validate(doc)
    await district(conn, code)
    current = await stored(conn, code)
    if current is not None and current["document"] == checked:
        return await show(conn, code)
    row = await _insert(conn, code, checked, who.actor)
    await audit.record(conn, actor=who.actor, action="stars_config", entity="star_config",
                       entity_id=f"{code}:{row['version']}",
                       before=current["document"] if current else None, after=checked, client=who.client)
    return await show(conn, code)


async def in_use(conn: AsyncConnection, code: str, actor: str) -> tuple[int, dict[str, Any]]:
    """The version and document a computation uses (the default stored as version 1 if none is)."""
    row = await stored(conn, code)
    if row is None:
        row = await _insert(conn, code, validate(default_document()), actor)
    return row["version"], row["document"]
