"""Heatmaps (H3 hexagons), early warning (预测预警) and repeat complaints, in the caller's reach."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.auth.deps import IncidentReader
from api.db import ConnDep
from api.heat import service
from api.heat.schemas import EarlyWarnings, HeatMap, RepeatComplaints
from api.params import parse_bbox
from spatial import heat

router = APIRouter(prefix="/api/heatmap", tags=["heatmap"])

From = Annotated[datetime | None, Query(alias="from", description="window start (default: 30 days before `to`)")]
To = Annotated[datetime | None, Query(alias="to", description="window end (default: now); times without an offset are "
                                                  "read in the server's zone")]
Codes = Annotated[str | None, Query(max_length=500)]


@router.get("", response_model=HeatMap)
async def heatmap(request: Request, who: IncidentReader, conn: ConnDep, start: From = None, stop: To = None,
                  zoom: Annotated[int | None, Query(ge=0, le=22, description="map zoom: picks the resolution")] = None,
                  resolution: Annotated[int | None, Query(ge=heat.COARSEST, le=heat.FINE_RESOLUTION)] = None,
                  bbox: Annotated[str | None, Query(max_length=200, description="xmin,ymin,xmax,ymax")] = None,
                  category: Codes = None,
                  status: Annotated[str | None, Query(max_length=500, description="states, or open / ended")] = None,
                  tier: Codes = None, source: Codes = None):
    """Reports per H3 hexagon in a window (whole hours), by category, state, tier and source;
    the resolution follows ``zoom`` unless given."""
    box = parse_bbox(bbox)
    f = await service.filters(conn, category=category, status=status, tier=tier, source=source)
    res = resolution or (heat.resolution_for_zoom(zoom) if zoom is not None else 7)
    return await service.hexagons(conn, who, request.app.state.settings, start=start, stop=stop, resolution=res,
                                  bbox=None if box["xmin"] is None else tuple(box.values()), f=f)


@router.get("/warnings", response_model=EarlyWarnings)
async def warnings(request: Request, who: IncidentReader, conn: ConnDep, stop: To = None,
                   by: Annotated[Literal["cell", "grid"], Query(description="hexagons or grids")] = "grid",
                   category: Codes = None,
                   recent_days: Annotated[int, Query(ge=1, le=31)] = 7,
                   baseline_weeks: Annotated[int, Query(ge=1, le=52)] = 8,
                   min_count: Annotated[int, Query(ge=1, le=10_000)] = 5,
                   alpha: Annotated[float, Query(ge=1e-12, le=0.5)] = 0.01):
    """Places whose reports over the last days are significantly above their own baseline
    (Poisson test against the weeks before), with the figures behind each flag."""
    f = await service.filters(conn, category=category, status=None, tier=None, source=None)
    rule = heat.WarningRule(recent_days=recent_days, baseline_weeks=baseline_weeks, min_count=min_count, alpha=alpha)
    return await service.early_warnings(conn, who, request.app.state.settings, stop=stop, by=by, rule=rule,
                                        categories=f.categories)


@router.get("/repeats", response_model=RepeatComplaints)
async def repeats(request: Request, who: IncidentReader, conn: ConnDep, start: From = None, stop: To = None,
                  days: Annotated[int, Query(ge=1, le=90)] = 30,
                  radius_m: Annotated[float, Query(ge=1, le=1000, description="metres")] = 50,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Repeat complaints per grid: reports of the same category within ``radius_m`` and ``days``
    of an earlier one."""
    return await service.repeat_complaints(conn, who, request.app.state.settings, start=start, stop=stop,
                                           days=days, radius_m=radius_m, limit=limit)
