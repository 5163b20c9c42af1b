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


class ImportSummary(BaseModel):
    features: int
    created: int
    changed: int
    unchanged: int
    retired: int
    missing: int = Field(description="areas of the layer under the parent that the file lacks")
    errors: int = Field(description="features with at least one problem, plus layer problems")


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
    message: str
