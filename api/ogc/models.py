"""The documents of OGC API – Features Part 1 (landing page, conformance, collections, items)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import Geometry


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]] = Field(description="[[xmin, ymin, xmax, ymax]] in CRS84")
    crs: str


class TemporalExtent(BaseModel):
    interval: list[list[str | None]]
    trs: str


class Extent(BaseModel):
    spatial: SpatialExtent
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    id: str
    title: str
    description: str
    itemType: Literal["feature"] = "feature"
    crs: list[str]
    extent: Extent | None = Field(None, description="of the areas the caller may see (none: no area)")
    links: list[Link]


class Collections(BaseModel):
    collections: list[Collection]
    links: list[Link]


class OgcFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: Geometry | None
    properties: dict[str, Any]
    links: list[Link] = []


class OgcFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[OgcFeature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[Link]
