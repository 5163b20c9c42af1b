"""Response models of layer import (the per-feature report)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Change = Literal["created", "changed", "unchanged", "retired", "error"]


class FeatureProblem(BaseModel):
    field: str = Field(description="geometry, code, name, parent_code, households, attributes ...")
    reason: str = Field(description="invalid_geometry, not_polygon, missing_code, duplicate_code, "
                                    "outside_parent, overlap, gap, ...")
    detail: str


class FeatureReport(BaseModel):
    row: int = Field(description="the feature's position in the file, from 1")
    code: str | None
    name: str | None
    parent_code: str | None
    change: Change
    changed: list[str] = Field(default_factory=list, description="what differs: geometry, name, parent_code, ...")
    problems: list[FeatureProblem] = Field(default_factory=list)


class LayerProblem(BaseModel):
    """A problem of the layer as a whole (a gap no feature covers, a violation among kept areas)."""

    reason: str
    detail: str
    codes: list[str]
    rows: list[int]


class SnapFix(BaseModel):
    """One fix along a parent's outline, for the grid manager to look at: a part of a feature
    sticking out of the parent clipped off, or a gap between the features and the parent's edge
    filled by the feature beside it."""

    row: int = Field(description="the feature's row in the file")
    code: str | None
    parent_code: str | None = Field(description="the parent whose outline it was snapped to")
    fix: Literal["overhang_clipped", "gap_filled"]
    area_m2: float = Field(description="the piece clipped off or added, m²")
    width_m: float = Field(description="how far the piece reaches from the parent's outline, m "
                                       "(at most the import's snap_tolerance_m)")
    lon: float = Field(description="a point on the piece (WGS-84)")
    lat: float
    geometry: dict = Field(description="the piece as a GeoJSON geometry (WGS-84)")


class ImportSummary(BaseModel):
    features: int
    created: int
    changed: int
    unchanged: int
    retired: int
    missing: int = Field(description="areas of the layer under the parent that the file lacks")
    errors: int = Field(description="features with at least one problem, plus layer problems")
    snapped: int = Field(0, description="overhangs clipped and gaps filled along the parents' outlines")


class ImportReport(BaseModel):
    layer: str
    parent: str
    dry_run: bool
    applied: bool = Field(description="true when the changes were saved (one transaction)")
    file_format: str
    crs: str = Field(description="the CRS the file's coordinates were in")
    converted: str | None = Field(description="what was done to reach WGS-84 (null: taken as is)")
    summary: ImportSummary
    features: list[FeatureReport]
    missing: list[str] = Field(description="codes of areas under the parent absent from the file")
    retire_missing: bool
    layer_problems: list[LayerProblem]
    versions: dict[str, int] = Field(default_factory=dict, description="saved: code -> its new version")
    rerouted: int = 0
    snap_tolerance_m: float = Field(description="the widest overhang or gap along a parent's outline that was "
                                                "fixed, m (0: none)")
    snapped: list[SnapFix] = Field(default_factory=list, description="every fix along the parents' outlines")
    message: str
