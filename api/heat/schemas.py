"""Response documents of the heatmap routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class HexProperties(BaseModel):
    cell: str
    count: int
    resolution: int


class Hexagon(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: HexProperties


class HeatMap(BaseModel):
    """H3 hexagons with the number of reports in the window and filters."""

    type: Literal["FeatureCollection"]
    features: list[Hexagon]
    numberReturned: int
    total: int
    max: int
    window: dict[str, datetime]
    suppressed_below: int | None = Field(None, description="cells with fewer reports are left out (callers "
                                                           "without detail rights)")


class EarlyWarning(BaseModel):
    place: str = Field(description="the grid code, or the H3 cell")
    name: str | None = Field(None, description="the grid's name (for a cell: the grid its centre lies in)")
    grid_code: str | None = None
    categories: dict[str, int] = Field(default_factory=dict,
                                       description="the recent reports by category, most first")
    observed: int
    expected: float
    baseline: int
    ratio: float
    p_value: float
    geometry: dict[str, Any] | None = None


class EarlyWarnings(BaseModel):
    by: Literal["cell", "grid"]
    recent: dict[str, datetime]
    baseline: dict[str, datetime]
    rule: dict[str, float]
    warnings: list[EarlyWarning]


class RepeatGrid(BaseModel):
    grid_code: str
    grid_name: str | None
    category: str
    repeats: int


class RepeatComplaints(BaseModel):
    window: dict[str, datetime]
    days: int
    radius_m: float
    grids: list[RepeatGrid]
