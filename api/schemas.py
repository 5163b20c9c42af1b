"""Request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Priority = Literal["urgent", "high", "normal", "low"]
InputCrs = Literal["wgs84", "gcj02", "bd09"]
ReportSource = Literal["qr", "web", "grid_worker", "hotline"]


class IncidentIn(BaseModel):
    """A report from a phone, a grid worker or the hotline desk."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    category: str = Field(min_length=1, max_length=64, description="category code, see /api/categories")
    lon: float = Field(description="longitude in `crs` (WGS-84 by default)")
    lat: float = Field(description="latitude in `crs`")
    accuracy_m: float | None = Field(None, ge=0, le=10000, description="GPS accuracy in metres")
    crs: InputCrs = Field("wgs84", description="wgs84 (GPS, browsers), gcj02 (AMap, Tencent, WeChat), bd09 (Baidu)")
    description: str = Field("", max_length=2000)
    source: ReportSource = "web"
    priority: Priority = "normal"
    contact: str | None = Field(None, max_length=200, description="phone or name; stored encrypted, never published")

    @field_validator("lon", "lat", "accuracy_m", mode="before")
    @classmethod
    def _no_booleans(cls, value):
        if isinstance(value, bool):  # lax mode would read true as 1.0: a point off Africa, not an error
            raise ValueError("must be a number, not a boolean")
        return value


class IncidentCreated(BaseModel):
    id: int
    tracking_code: str
    reporter_token: str | None = Field(None, description="secret for tracking and rating; shown only once")
    status: str
    routing: dict[str, Any]
