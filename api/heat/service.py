"""Heatmaps, early warning and repeat complaints for the dispatcher's console (read-only).

Counts come from the rollup (``incident_heat``), never from scanning incidents per request,
and keep to the caller's reach over areas (the rule of ``incident_in_reach``; an officer's
own-unit reach is not a territory and shows no heat).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid
from api.params import parse_time
from api.settings import Settings
from api.sqlfiles import sql as api_sql
from api.workflow import machine
from spatial import heat
from spatial.sqlfiles import sql

MAX_WINDOW_DAYS = 400
SOURCES = ("qr", "web", "grid_worker", "hotline", "open311", "sample", "import")
TIERS = ("grid", "community", "zone", "street", "district")


@dataclass(frozen=True)
class Filters:
    categories: list[str] | None = None
    statuses: list[str] | None = None
    tiers: list[str] | None = None
    sources: list[str] | None = None


def _floor_hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def window(start: datetime | None, stop: datetime | None, settings: Settings, *,
           default_days: int = 30) -> tuple[datetime, datetime]:
    """Whole hours [start, stop) covering the asked window (the rollup's grain)."""
    stop = parse_time(stop, settings.timezone, "to") or datetime.now(UTC)
    start = parse_time(start, settings.timezone, "from") or stop - timedelta(days=default_days)
    if start >= stop:
        raise Invalid("from must be before to", field="from")
    if stop - start > timedelta(days=MAX_WINDOW_DAYS):
        raise Invalid(f"the window may span at most {MAX_WINDOW_DAYS} days", field="from")
    lo, hi = _floor_hour(start), _floor_hour(stop)
    return lo, hi if hi == stop.astimezone(UTC) else hi + timedelta(hours=1)


def _codes(field: str, value: str | None, allowed) -> list[str] | None:
    if not value:
        return None
    codes = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        raise Invalid(f"unknown {field}: {', '.join(unknown[:5])}", field=field)
    return codes


async def filters(conn: AsyncConnection, *, category: str | None, status: str | None, tier: str | None,
                  source: str | None) -> Filters:
    """Comma-separated filters checked against the catalog and the case states; ``status`` also
    takes ``open`` (every state before the end) and ``ended``."""
    known = {r["code"] for r in await api_sql.fetchall(conn, "categories")} if category else set()
    statuses = _codes("status", status, set(machine.STATES) | {"open", "ended"})
    if statuses:
        statuses = sorted({s for v in statuses for s in (
            machine.OPEN if v == "open" else machine.ENDED if v == "ended" else (v,))})
    return Filters(categories=_codes("category", category, known), statuses=statuses,
                   tiers=_codes("tier", tier, TIERS), sources=_codes("source", source, SOURCES))


SHOWN_MIN_COUNT = 5  # callers without detail rights never see a cell of fewer reports (k-anonymity)


def coarse_viewer(who: Principal) -> bool:
    """Whether ``who`` sees some incidents they may not see in detail (analysts): their cells
    keep to :data:`SHOWN_MIN_COUNT`, like the shown-place and shown-time rule of the lists."""
    seen, detailed = reach(who, Capability.READ_INCIDENTS), reach(who, Capability.READ_INCIDENT_DETAILS)
    return not (detailed.everywhere or set(seen.areas) <= set(detailed.areas))


def _scope(who: Principal) -> dict:
    r = reach(who, Capability.READ_INCIDENTS)
    return {"everywhere": r.everywhere, "scope": list(r.areas)}


async def hexagons(conn: AsyncConnection, who: Principal, settings: Settings, *, start, stop, resolution: int,
                   bbox: tuple[float, float, float, float] | None, f: Filters) -> dict:
    lo, hi = window(start, stop, settings)
    rows = await sql.fetchall(conn, "heat_cells", {
        "start": lo, "stop": hi, "categories": f.categories, "statuses": f.statuses, "tiers": f.tiers,
        "sources": f.sources, "resolution": resolution, **_scope(who)})
    counts = heat.aggregate([(r["cell"], r["n"]) for r in rows], resolution, bbox)
    floor = SHOWN_MIN_COUNT if coarse_viewer(who) else None
    if floor:
        counts = {cell: n for cell, n in counts.items() if n >= floor}
    return {**heat.feature_collection(counts, resolution), "window": {"from": lo, "to": hi},
            "suppressed_below": floor}


async def early_warnings(conn: AsyncConnection, who: Principal, settings: Settings, *, stop, by: str,
                         rule: heat.WarningRule, categories: list[str] | None) -> dict:
    """Cells or grids whose last ``recent_days`` are significantly above their own previous
    ``baseline_weeks`` weeks (Poisson test), with the figures that triggered each."""
    if by == "cell" and coarse_viewer(who) and rule.min_count < SHOWN_MIN_COUNT:
        rule = replace(rule, min_count=SHOWN_MIN_COUNT)  # no cell of fewer reports, as on the heatmap
    _, hi = window(None, stop, settings, default_days=1)
    recent_start = hi - timedelta(days=rule.recent_days)
    base_start = recent_start - timedelta(weeks=rule.baseline_weeks)
    rows = await sql.fetchall(conn, "heat_places", {
        "by_grid": by == "grid", "stop": hi, "recent_start": recent_start, "base_start": base_start,
        "categories": categories, "min_count": rule.min_count, **_scope(who)})
    flagged = heat.warnings({r["place"]: r["recent"] for r in rows}, {r["place"]: r["baseline"] for r in rows}, rule)
    centres = [heat.centre(w["place"]) if by == "cell" else (None, None) for w in flagged]
    described = {r["place"]: r for r in await sql.fetchall(conn, "heat_warning_places", {
        "places": [w["place"] for w in flagged], "lats": [c[0] for c in centres], "lons": [c[1] for c in centres],
        "by_grid": by == "grid", "recent_start": recent_start, "stop": hi, "categories": categories,
        **_scope(who)})} if flagged else {}
    for w in flagged:
        about = described.get(w["place"]) or {}
        w["geometry"] = heat.hexagon(w["place"]) if by == "cell" else about.get("outline")
        w["name"], w["grid_code"] = about.get("name"), about.get("grid_code")
        w["categories"] = about.get("categories") or {}
    return {"by": by, "recent": {"from": recent_start, "to": hi}, "baseline": {"from": base_start, "to": recent_start},
            "rule": {"min_count": rule.min_count, "alpha": rule.alpha}, "warnings": flagged}


async def repeat_complaints(conn: AsyncConnection, who: Principal, settings: Settings, *, start, stop,
                            days: int, radius_m: float, limit: int) -> dict:
    lo, hi = window(start, stop, settings)
    rows = await sql.fetchall(conn, "repeat_complaints", {
        "start": lo, "stop": hi, "days": days, "radius_m": radius_m, "limit": limit,
        **_scope(who)})
    return {"window": {"from": lo, "to": hi}, "days": days, "radius_m": radius_m, "grids": rows}
