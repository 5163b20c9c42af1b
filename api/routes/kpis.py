"""KPIs (api.kpi): figures, trends, per-area tables, drill-down lists and exports, in the caller's reach."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth.deps import KpiReader
from api.db import ConnDep
from api.geojson import GEOJSON_CONTENT, GeoJSONResponse
from api.incidents import as_feature
from api.kpi import export, service
from api.kpi.definitions import KPIS, PART_BY_KEY
from api.kpi.schemas import KpiAllSeries, KpiAreas, KpiCategories, KpiDefinition, KpiHistogram, KpiSeries, KpiTable
from api.params import clamp_limit
from api.schemas import IncidentCollection

router = APIRouter(prefix="/api/kpis", tags=["kpis"])

From = Annotated[datetime | None, Query(alias="from", description="reported at or after: a date or a whole hour "
                                                                  "(default: a year before `to`)")]
To = Annotated[datetime | None, Query(alias="to", description="reported before: a date or a whole hour (default: "
                                                              "tomorrow); without an offset, the server's zone")]
Code = Annotated[str | None, Query(max_length=64)]
Key = Annotated[str, Path(max_length=64, description="a KPI key (GET /api/kpis/definitions)")]


async def _scope(conn, request: Request, start, stop, area, category, department, unit) -> service.Scope:
    return await service.scope(conn, request.app.state.settings, start=start, stop=stop, area=area,
                               category=category, department=department, unit=unit)


def _echo(s: service.Scope) -> tuple[dict, dict]:
    return ({"from": s.start, "to": s.stop},
            {"area": s.area, "category": s.category, "department": s.department, "unit": s.unit})


def _query(s: service.Scope) -> str:
    q = {"from": s.start.isoformat(), "to": s.stop.isoformat(), "area": s.area, "category": s.category,
         "department": s.department, "unit": s.unit}
    return urlencode({k: v for k, v in q.items() if v is not None})


def _with_links(figures: list[dict], s: service.Scope) -> list[dict]:
    q = _query(s)
    for f in figures:
        base = f"/api/kpis/{f['key']}/cases?{q}&part="
        has_num = f["numerator"] is not None
        f["cases"] = {"denominator": base + "denominator", "numerator": base + "numerator" if has_num else None,
                      "rest": base + "rest" if has_num else None}
    return figures


@router.get("", response_model=KpiTable)
async def kpis(request: Request, who: KpiReader, conn: ConnDep, start: From = None, stop: To = None,
               area: Code = None, category: Code = None, department: Code = None, unit: Code = None):
    """Every KPI and integrity signal over the cases in the caller's reach reported in the window,
    with numerator, denominator, value and links to the cases each counted.

    Reach and filters intersect: a dispatcher of one street asking for the district counts that
    street's cases (the drill-down lists the same cases)."""
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    window, filters = _echo(s)
    return {"window": window, "filters": filters,
            "kpis": _with_links(await service.figures(conn, who, request.app.state.settings, s), s)}


@router.get(".{fmt}", response_class=Response, responses={
    200: {"content": {export.CSV_TYPE: {}, export.XLSX_TYPE: {}}, "description": "the KPI table"}})
async def kpis_file(request: Request, who: KpiReader, conn: ConnDep,
                    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv or xlsx")],
                    start: From = None, stop: To = None, area: Code = None, category: Code = None,
                    department: Code = None, unit: Code = None):
    """The KPI table of ``GET /api/kpis`` as a CSV (UTF-8, with the scope as ``#`` lines) or XLSX file."""
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    figures = await service.figures(conn, who, request.app.state.settings, s)
    window, filters = _echo(s)
    meta = {**window, **filters}
    body = export.as_csv(figures, meta) if fmt == "csv" else export.as_xlsx(figures, meta)
    name = f"kpis-{s.area or 'all'}-{s.start:%Y%m%d}-{s.stop:%Y%m%d}.{fmt}"
    return Response(body, media_type=export.CSV_TYPE if fmt == "csv" else export.XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/definitions", response_model=list[KpiDefinition])
async def definitions(who: KpiReader):
    """Every KPI's definition as docs/kpis.md gives it: what is counted, from which event, over
    which window, what is excluded, and the SQL of its parts."""
    return [{"key": k.key, "name_zh": k.name_zh, "name_en": k.name_en, "kind": k.kind, "signal": k.signal,
             "counts": k.counts, "event": k.event, "window": k.window, "excludes": k.excludes, "note": k.note,
             "numerator_sql": PART_BY_KEY[k.numerator].sql if k.numerator else None,
             "denominator_sql": PART_BY_KEY[k.denominator].sql,
             "measure_sql": PART_BY_KEY[k.measure].sql if k.measure else None, "beside": list(k.beside)}
            for k in KPIS]


@router.get("/areas", response_model=KpiAreas)
async def by_area(request: Request, who: KpiReader, conn: ConnDep,
                  level: Annotated[str, Query(max_length=16, description="grid, community, zone, street, "
                                                                         "district, or desk (the area whose desk "
                                                                         "owns the case at its tier)")] = "street",
                  start: From = None, stop: To = None, area: Code = None, category: Code = None,
                  department: Code = None, unit: Code = None):
    """Every KPI per area of one level in one query (all streets at once: the choropleth); ``desk``
    groups by the desk that owns each case at its tier (voids and "not ours" by the desk)."""
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    rows = await service.by_area(conn, who, request.app.state.settings, s, level)
    window, filters = _echo(s)
    return {"level": level, "window": window, "filters": filters, "areas": rows}


@router.get("/series", response_model=KpiAllSeries)
async def series_all(request: Request, who: KpiReader, conn: ConnDep,
                     by: Annotated[str, Query(max_length=8, description="day, week or month")] = "month",
                     start: From = None, stop: To = None, area: Code = None, category: Code = None,
                     department: Code = None, unit: Code = None):
    """Every KPI per day, week or month in one query (the dashboard's trends); one KPI alone:
    ``/api/kpis/{key}/series``."""
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    window, filters = _echo(s)
    return {"by": by, "window": window, "filters": filters,
            "points": await service.series_all(conn, who, request.app.state.settings, s, by)}


@router.get("/categories", response_model=KpiCategories)
async def by_category(request: Request, who: KpiReader, conn: ConnDep, start: From = None, stop: To = None,
                      area: Code = None, category: Code = None, department: Code = None, unit: Code = None):
    """Every KPI per category, most cases first (the dashboard's top categories); a category's
    cases are ``/api/kpis/{key}/cases`` with ``category`` set."""
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    rows = await service.by_category(conn, who, request.app.state.settings, s)
    window, filters = _echo(s)
    return {"window": window, "filters": filters, "categories": rows}


@router.get("/{key}/histogram", response_model=KpiHistogram)
async def histogram(key: Key, request: Request, who: KpiReader, conn: ConnDep, start: From = None,
                    stop: To = None, area: Code = None, category: Code = None, department: Code = None,
                    unit: Code = None):
    """A duration KPI's distribution (response_time, handling_time): its measured cases per bin of
    seconds, over the same per-case time its median is taken of; the bins add up to ``measured``
    (the KPI's denominator, listed by ``/api/kpis/{key}/cases?part=denominator``)."""
    k = service.kpi(key)
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    bins = await service.histogram(conn, who, request.app.state.settings, s, k)
    window, filters = _echo(s)
    return {"key": k.key, "window": window, "filters": filters, "measured": sum(b["cases"] for b in bins),
            "bins": bins}


@router.get("/{key}/series", response_model=KpiSeries)
async def series(key: Key, request: Request, who: KpiReader, conn: ConnDep,
                 by: Annotated[str, Query(max_length=8, description="day, week or month")] = "month",
                 start: From = None, stop: To = None, area: Code = None, category: Code = None,
                 department: Code = None, unit: Code = None):
    """One KPI per day, week or month (of the report's local date) over the window."""
    k = service.kpi(key)
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    window, filters = _echo(s)
    return {"key": k.key, "by": by, "window": window, "filters": filters,
            "points": await service.series(conn, who, request.app.state.settings, s, k, by)}


@router.get("/{key}/cases", response_model=IncidentCollection, response_class=GeoJSONResponse,
            responses=GEOJSON_CONTENT)
async def cases(key: Key, request: Request, who: KpiReader, conn: ConnDep,
                part: Annotated[str, Query(max_length=16, description="numerator, denominator or rest "
                                                                      "(denominator minus numerator)")] = "numerator",
                start: From = None, stop: To = None, area: Code = None, category: Code = None,
                department: Code = None, unit: Code = None,
                limit: int = Query(100, ge=1, le=2**31 - 1, description="page size, clamped to the server maximum"),
                offset: int = Query(0, ge=0, le=10_000_000),
                min_s: float | None = Query(None, ge=0, le=10**9, description="duration KPIs: measured at least "
                                                                              "this many seconds (a histogram bin)"),
                max_s: float | None = Query(None, gt=0, le=10**9, description="duration KPIs: measured less than "
                                                                             "this many seconds")):
    """The cases a figure counted, newest first, as ``/api/incidents`` shows them (``numberMatched``
    equals the figure's numerator or denominator for the same parameters; with ``min_s``/``max_s``,
    a histogram bin's count)."""
    k = service.kpi(key)
    settings = request.app.state.settings
    s = await _scope(conn, request, start, stop, area, category, department, unit)
    limit = clamp_limit(limit, settings.page_limit_max)
    rows, matched = await service.cases(conn, who, settings, s, k, part, limit=limit, offset=offset,
                                        min_s=min_s, max_s=max_s)
    links = []
    if offset + len(rows) < matched:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))})
    return GeoJSONResponse({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(rows),
                            "features": [as_feature(r) for r in rows], "links": links})
