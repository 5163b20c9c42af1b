"""Response models of the KPI API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class CaseLinks(BaseModel):
    """The drill-down lists of a figure (``rest``: in the denominator and not in the numerator,
    e.g. the late cases of the on-time rate); a duration KPI lists its denominator only."""

    numerator: str | None = None
    denominator: str
    rest: str | None = None


class KpiFigure(BaseModel):
    key: str
    name_zh: str
    name_en: str
    kind: str                   # count | rate | duration
    signal: bool                # an integrity signal
    unit: str | None = None     # cases | ratio | seconds
    numerator: int | None = None
    denominator: int
    value: float | None = None  # rate: numerator / denominator; count: numerator; duration: p50
    p50: float | None = None
    p90: float | None = None
    mean: float | None = None
    beside: list[str] | None = None  # signals: the KPIs they can inflate
    cases: CaseLinks | None = None


class KpiTable(BaseModel):
    window: dict[str, datetime]
    filters: dict[str, str | None]
    kpis: list[KpiFigure]


class SeriesPoint(BaseModel):
    period: date   # the first day of the day, week (Monday) or month, local time
    numerator: int | None = None
    denominator: int
    value: float | None = None
    p50: float | None = None
    p90: float | None = None
    mean: float | None = None


class KpiSeries(BaseModel):
    key: str
    by: str
    window: dict[str, datetime]
    filters: dict[str, str | None]
    points: list[SeriesPoint]


class AreaRow(BaseModel):
    area_code: str | None
    kpis: list[KpiFigure]


class KpiAreas(BaseModel):
    level: str
    window: dict[str, datetime]
    filters: dict[str, str | None]
    areas: list[AreaRow]


class KpiDefinition(BaseModel):
    key: str
    name_zh: str
    name_en: str
    kind: str
    signal: bool
    counts: str
    event: str
    window: str
    excludes: str
    note: str
    numerator_sql: str | None
    denominator_sql: str
    measure_sql: str | None
    beside: list[str]


class CategoryRow(BaseModel):
    category_code: str
    kpis: list[KpiFigure]


class KpiCategories(BaseModel):
    window: dict[str, datetime]
    filters: dict[str, str | None]
    categories: list[CategoryRow]


class HistogramBin(BaseModel):
    lo: float            # seconds, inclusive
    hi: float | None     # seconds, exclusive; None: the open last bin
    cases: int


class KpiHistogram(BaseModel):
    key: str
    window: dict[str, datetime]
    filters: dict[str, str | None]
    measured: int        # the KPI's denominator: the bins add up to it
    bins: list[HistogramBin]


class AllSeriesPoint(BaseModel):
    period: date
    kpis: list[KpiFigure]


class KpiAllSeries(BaseModel):
    by: str
    window: dict[str, datetime]
    filters: dict[str, str | None]
    points: list[AllSeriesPoint]
