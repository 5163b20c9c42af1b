"""KPI figures, trends, per-area tables and drill-down pages over the cases in the caller's reach.

Every query is ``api/sql/kpi_cases.sql`` (the cases and their facts) followed by a ``cases``
step that turns the facts into the parts of :mod:`api.kpi.definitions`, then one of: the
aggregates (figures), the aggregates per period (series) or per area (tables), or a page of
the rows where one part holds (drill-down). The text is composed here once, from the
definitions, and run by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import clock
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.kpi.definitions import KPI_BY_KEY, KPIS, PARTS, Kpi
from api.params import check_time
from api.settings import Settings
from api.workflow import deadlines
from spatial.sqlfiles import SqlFiles

MAX_WINDOW_DAYS = 3 * 366 + 1  # three years
DEFAULT_WINDOW_DAYS = 365
PERIODS = ("day", "week", "month")
# desk: the area whose desk owns the case at its tier now (case_owners), e.g. who voided it
LEVELS = {"grid": "grid_code", "community": "community_code", "zone": "zone_code", "street": "street_code",
          "district": "district_code", "desk": "desk_code"}
DRILL_PARTS = ("numerator", "denominator", "rest")  # rest: in the denominator, not in the numerator
# a duration KPI's distribution (the dashboard's histogram): bin edges in seconds of its measure;
# the last bin is open (at or above the last edge)
HISTOGRAM_EDGES = {
    "response_s": (0, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600),
    "handling_work_s": tuple(h * 3600 for h in (0, 1, 2, 4, 8, 16, 24, 40, 80, 160)),
}

# planned for each call's values: a reach of one street must use the areas index (see SqlFiles)
_NAMES = ("kpi_figures", "kpi_series", "kpi_areas", "kpi_categories",
          *(f"kpi_histogram_{m}" for m in HISTOGRAM_EDGES), *(f"kpi_drill_range_{m}" for m in HISTOGRAM_EDGES),
          *(f"kpi_drill_{p.key}" for p in PARTS),
          *(f"kpi_drill_{p.key}_rest_{q.key}" for p in PARTS for q in PARTS))
sql = SqlFiles("api", planned_per_call=frozenset(_NAMES))


# ---------------------------------------------------------------- the composed SQL

def _cases_step() -> str:
    cols = ",\n       ".join(f"({p.sql}) AS {p.key}" for p in PARTS)
    return (f", cases AS (\n    SELECT f.id, f.reported_at, f.grid_code, f.community_code, f.street_code, f.zone_code,"
            f" f.district_code, f.category_code,\n       (case_owners(f.tier, f.grid_code, f.community_code,"
            f" f.zone_code, f.street_code,"
            f" f.district_code))[1] AS desk_code,\n       {cols}\n    FROM facts f\n)\n")


def _aggregates() -> str:
    out = []
    for p in PARTS:
        if p.duration:
            out += [f"percentile_cont(0.5) WITHIN GROUP (ORDER BY c.{p.key}) AS {p.key}_p50",
                    f"percentile_cont(0.9) WITHIN GROUP (ORDER BY c.{p.key}) AS {p.key}_p90",
                    f"avg(c.{p.key}) AS {p.key}_mean"]
        else:
            out.append(f"count(*) FILTER (WHERE c.{p.key}) AS {p.key}")
    return ",\n       ".join(out)


def cases_sql() -> str:
    """The per-case rows every figure and list is made of (for the docs)."""
    return sql.text("kpi_cases") + _cases_step()


def facts_sql() -> str:
    """What ``case_fact`` holds for the cases ``:ids`` (for the docs: migration 0027 made it the
    database's ``case_fact_compute``)."""
    return sql.text("case_fact_compute")


def _define() -> None:
    base = cases_sql()
    sql.define("kpi_figures", base + f"SELECT {_aggregates()}\nFROM cases c\n")
    sql.define("kpi_series", base + (
        "SELECT date_trunc(CAST(:period AS text), c.reported_at AT TIME ZONE CAST(:tz AS text))::date AS period,\n"
        f"       {_aggregates()}\nFROM cases c\nGROUP BY 1 ORDER BY 1\n"))
    level_cases = " ".join(f"WHEN '{lv}' THEN c.{col}" for lv, col in LEVELS.items())
    sql.define("kpi_areas", base + (
        f"SELECT CASE CAST(:level AS text) {level_cases} END AS area_code,\n       {_aggregates()}\n"
        "FROM cases c\nGROUP BY 1 ORDER BY 1 NULLS LAST\n"))
    sql.define("kpi_categories", base + (
        f"SELECT c.category_code,\n       {_aggregates()}\nFROM cases c\nGROUP BY 1 ORDER BY count(*) DESC, 1\n"))
    for m in HISTOGRAM_EDGES:
        # the same column the duration KPI's median is taken over: one definition of the time
        sql.define(f"kpi_histogram_{m}", base + (
            f"SELECT width_bucket(c.{m}, CAST(:edges AS float8[])) AS bin, count(*) AS cases\n"
            f"FROM cases c WHERE c.{m} IS NOT NULL\nGROUP BY 1 ORDER BY 1\n"))


_define()


_drills: set[str] = set()  # the drill-down statements defined so far (one per part, or part minus part)


def _drill_name(part: str, minus: str | None) -> str:
    name = f"kpi_drill_{part}" + (f"_rest_{minus}" if minus else "")
    if name not in _drills:
        _drills.add(name)
        where = f"c.{part}" + (f" AND NOT coalesce(c.{minus}, false)" if minus else "")
        sql.define(name, cases_sql() + f"""
, listed AS (SELECT c.id, c.reported_at FROM cases c WHERE {where})
""" + sql.text("case_page"))
    return name


def _range_name(measure: str) -> str:
    """The drill-down of a duration KPI's measured cases with the measure in [:lo, :hi) (a histogram bin)."""
    name = f"kpi_drill_range_{measure}"
    if name not in _drills:
        _drills.add(name)
        sql.define(name, cases_sql() + f"""
, listed AS (SELECT c.id, c.reported_at FROM cases c
             WHERE c.{measure} >= CAST(:lo AS float8)
               AND (CAST(:hi AS float8) IS NULL OR c.{measure} < CAST(:hi AS float8)))
""" + sql.text("case_page"))
    return name


# ---------------------------------------------------------------- the request's scope

@dataclass(frozen=True)
class Scope:
    start: datetime
    stop: datetime
    area: str | None = None
    category: str | None = None
    department: str | None = None
    unit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.stop, "area": self.area, "category": self.category,
                "department": self.department, "unit": self.unit}


def _bound(value: datetime | None, tz: ZoneInfo, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    check_time(value, field)
    if value.astimezone(UTC).replace(minute=0, second=0, microsecond=0) != value.astimezone(UTC):
        # whole hours: callers who see times to the hour (analysts) count the same cases as the others
        raise Invalid("must be a whole hour (a date, or a time with minutes and seconds zero)", field=field)
    return value.astimezone(UTC)


async def scope(conn: AsyncConnection, settings: Settings, *, start: datetime | None, stop: datetime | None,
                area: str | None = None, category: str | None = None, department: str | None = None,
                unit: str | None = None) -> Scope:
    """The checked window and filters: a 422 naming the field for anything wrong."""
    tz = ZoneInfo(settings.timezone)
    hi = _bound(stop, tz, "to")
    lo = _bound(start, tz, "from")
    if hi is None:
        today = clock.now().astimezone(tz).date()
        hi = datetime.combine(today + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    if lo is None:
        lo = hi - timedelta(days=DEFAULT_WINDOW_DAYS)
    if lo >= hi:
        raise Invalid("must be later than from", field="to")
    if hi - lo > timedelta(days=MAX_WINDOW_DAYS):
        raise Invalid(f"the window may span at most {MAX_WINDOW_DAYS} days (three years)", field="from")
    checks = (("area", area, "SELECT 1 FROM area WHERE code = %s"),
              ("category", category, "SELECT 1 FROM category WHERE code = %s"),
              ("department", department, "SELECT 1 FROM department WHERE code = %s"),
              ("unit", unit, "SELECT 1 FROM unit WHERE code = %s"))
    for field, value, query in checks:
        if value is None:
            continue
        if value == "" or len(value) > 64:
            raise Invalid("must be a code of 1 to 64 characters", field=field)
        async with conn.cursor() as cur:
            await cur.execute(query, (value,))
            if await cur.fetchone() is None:
                raise Invalid(f"unknown {field} {value!r}", field=field)
    return Scope(lo, hi, area, category, department, unit)


def kpi(key: str) -> Kpi:
    found = KPI_BY_KEY.get(key)
    if found is None:
        raise NotFound(f"unknown KPI {key!r}", field="key")
    return found


async def _params(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope) -> dict[str, Any]:
    # the planner's cost of a district's year calls for JIT compilation, which took longer (4 s on
    # the sample) than the query itself: off for the request's transaction (a connection in
    # autocommit, outside the app, is left as it is)
    if not conn.autocommit:
        await conn.execute("SET LOCAL jit = off")
    cal = await deadlines.calendar(conn, settings)
    now = clock.now()
    first = s.start.astimezone(cal.tz).date()
    last = max(now.astimezone(cal.tz).date(), s.stop.astimezone(cal.tz).date()) + timedelta(days=1)
    office_s = (datetime.combine(first, cal.day_end) - datetime.combine(first, cal.day_start)).total_seconds()
    work, cum = _working_days(cal, first, last, office_s)
    return {
        # the reach first: its own ``unit`` (an officer's, unused by kpi_cases.sql) must not replace the unit filter
        **reach(who, Capability.READ_KPIS).params(),
        "start": s.start, "stop": s.stop, "area": s.area, "category": s.category, "department": s.department,
        "unit": s.unit, "now": now, "tz": str(cal.tz), "day_start": cal.day_start, "office_s": office_s,
        "cal_first": first, "cal_work": work, "cal_cum": cum,
    }


def _working_days(cal, first: date, last: date, office_s: float) -> tuple[list[bool], list[float]]:
    """From ``first`` to ``last``, a day each: whether it is a working day, and the working
    seconds before it (from ``first``)."""
    work: list[bool] = []
    cum: list[float] = []
    total, d = 0.0, first
    while d <= last:
        try:
            on = cal.is_working_day(d)
        except deadlines.CalendarNotCovered:
            on = False  # a year no calendar covers counts no working time (never in practice: provisional)
        work.append(on)
        cum.append(total)
        total += office_s if on else 0.0
        d += timedelta(days=1)
    return work, cum


# ---------------------------------------------------------------- figures

def _figure(k: Kpi, row: dict) -> dict[str, Any]:
    den = int(row[k.denominator] or 0)
    num = int(row[k.numerator] or 0) if k.numerator else None
    out: dict[str, Any] = {"key": k.key, "name_zh": k.name_zh, "name_en": k.name_en, "kind": k.kind,
                           "signal": k.signal, "unit": k.unit or None, "numerator": num, "denominator": den}
    if k.kind == "rate":
        out["value"] = (num or 0) / den if den else None
        out["unit"] = "ratio"
    elif k.kind == "count":
        out["value"] = num
    else:
        m = k.measure
        p50, p90, mean = (row[f"{m}_p50"], row[f"{m}_p90"], row[f"{m}_mean"])
        out.update(value=float(p50) if p50 is not None else None, p50=float(p50) if p50 is not None else None,
                   p90=float(p90) if p90 is not None else None, mean=float(mean) if mean is not None else None)
    if k.beside:
        out["beside"] = list(k.beside)
    return out


async def figures(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope) -> list[dict[str, Any]]:
    """Every KPI and signal over the scope, in the order of the definitions."""
    row = await sql.fetchone(conn, "kpi_figures", await _params(conn, who, settings, s))
    return [_figure(k, row or {}) for k in KPIS]


async def series(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope, k: Kpi,
                 period: str) -> list[dict[str, Any]]:
    """One KPI per day, week (from Monday) or month of the report's local date; periods without cases are left out."""
    if period not in PERIODS:
        raise Invalid(f"must be one of {', '.join(PERIODS)}", field="by")
    rows = await sql.fetchall(conn, "kpi_series", {**await _params(conn, who, settings, s), "period": period})
    return [{"period": r["period"], **{x: v for x, v in _figure(k, r).items()
                                       if x in ("numerator", "denominator", "value", "p50", "p90", "mean")}}
            for r in rows]


async def series_all(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope,
                     period: str) -> list[dict[str, Any]]:
    """Every KPI per day, week or month, in one query (the dashboard's sparklines)."""
    if period not in PERIODS:
        raise Invalid(f"must be one of {', '.join(PERIODS)}", field="by")
    rows = await sql.fetchall(conn, "kpi_series", {**await _params(conn, who, settings, s), "period": period})
    return [{"period": r["period"], "kpis": [_figure(k, r) for k in KPIS]} for r in rows]


async def by_area(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope,
                  level: str) -> list[dict[str, Any]]:
    """Every KPI per area of one level (all streets at once: the choropleth), in one query."""
    if level not in LEVELS:
        raise Invalid(f"must be one of {', '.join(LEVELS)}", field="level")
    rows = await sql.fetchall(conn, "kpi_areas", {**await _params(conn, who, settings, s), "level": level})
    return [{"area_code": r["area_code"], "kpis": [_figure(k, r) for k in KPIS]} for r in rows]


async def by_category(conn: AsyncConnection, who: Principal, settings: Settings,
                      s: Scope) -> list[dict[str, Any]]:
    """Every KPI per category (most cases first), in one query: the dashboard's top categories."""
    rows = await sql.fetchall(conn, "kpi_categories", await _params(conn, who, settings, s))
    return [{"category_code": r["category_code"], "kpis": [_figure(k, r) for k in KPIS]} for r in rows]


async def histogram(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope,
                    k: Kpi) -> list[dict[str, Any]]:
    """How a duration KPI's measured cases spread over bins of its measure (seconds): every bin,
    empty ones too; the counts add up to the KPI's denominator."""
    if k.measure not in HISTOGRAM_EDGES:
        raise Invalid(f"{k.key} is not a duration: only durations have a distribution", field="key")
    edges = HISTOGRAM_EDGES[k.measure]
    rows = await sql.fetchall(conn, f"kpi_histogram_{k.measure}",
                              {**await _params(conn, who, settings, s), "edges": [float(e) for e in edges]})
    counts = {int(r["bin"]): int(r["cases"]) for r in rows}
    return [{"lo": lo, "hi": edges[i + 1] if i + 1 < len(edges) else None, "cases": counts.get(i + 1, 0)}
            for i, lo in enumerate(edges)]


def drill_part(k: Kpi, part: str) -> tuple[str, str | None]:
    """The part (and the part taken away, for ``rest``) a drill-down lists."""
    if part not in DRILL_PARTS:
        raise Invalid(f"must be one of {', '.join(DRILL_PARTS)}", field="part")
    if part == "denominator":
        return k.denominator, None
    if k.numerator is None:
        raise Invalid(f"{k.key} is a duration: list its denominator (the cases measured)", field="part")
    if part == "numerator":
        return k.numerator, None
    return k.denominator, k.numerator


async def cases(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope, k: Kpi, part: str, *,
                limit: int, offset: int, min_s: float | None = None,
                max_s: float | None = None) -> tuple[list[dict], int]:
    """One page of the cases a figure counted (newest first) and how many there are; shown as in
    ``/api/incidents`` (place to ~100 m and time to the hour outside the caller's detail reach).
    ``min_s``/``max_s``: a duration KPI's measured cases with the measure in [min_s, max_s) (a
    histogram bin)."""
    if min_s is not None or max_s is not None:
        return await _cases_in_range(conn, who, settings, s, k, part, limit=limit, offset=offset,
                                     lo=min_s or 0.0, hi=max_s, field="min_s" if min_s is not None else "max_s")
    from api.incidents import _summary  # the list's own shown rule

    col, minus = drill_part(k, part)
    params = {**await _params(conn, who, settings, s), **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_"),
              "limit": limit, "offset": offset}
    rows = await sql.fetchall(conn, _drill_name(col, minus), params)
    matched = rows[0]["number_matched"] if rows else 0
    return [_summary(r) for r in rows if r["id"] is not None], matched


async def _cases_in_range(conn: AsyncConnection, who: Principal, settings: Settings, s: Scope, k: Kpi, part: str, *,
                          limit: int, offset: int, lo: float, hi: float | None,
                          field: str) -> tuple[list[dict], int]:
    from api.incidents import _summary

    if k.measure is None:
        raise Invalid(f"{k.key} is not a duration: only a duration's cases have a range", field=field)
    if part != "denominator":
        raise Invalid("a range lists measured cases: part must be denominator", field="part")
    if hi is not None and hi <= lo:
        raise Invalid("must be more than min_s", field="max_s")
    params = {**await _params(conn, who, settings, s), **reach(who, Capability.READ_INCIDENT_DETAILS).params("d_"),
              "limit": limit, "offset": offset, "lo": float(lo), "hi": None if hi is None else float(hi)}
    rows = await sql.fetchall(conn, _range_name(k.measure), params)
    matched = rows[0]["number_matched"] if rows else 0
    return [_summary(r) for r in rows if r["id"] is not None], matched
