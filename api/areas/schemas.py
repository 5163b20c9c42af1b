"""Bodies of the edit operations (a union on ``op``) and the documents the area routes return."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, field_validator, model_validator
from shapely.geometry.base import BaseGeometry

from api.schemas import FeatureCollection, Strict
from api.text import check_nested
from spatial.errors import InputError

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Person = Annotated[str, Field(min_length=1, max_length=50)]
MAX_VERTICES = 20_000
LINEAL = ("LineString", "MultiLineString")
POLYGONAL = ("Polygon", "MultiPolygon")


# A position is [lon, lat] or [lon, lat, height] (RFC 7946 3.1.1): numbers, never booleans or
# text. Each geometry type has its exact nesting, checked here before shapely sees the
# coordinates (a list nested 500 deep made shapely's GeoJSON reader recurse until it failed).
Position = Annotated[list[StrictFloat], Field(min_length=2, max_length=3)]


class _Geometry(BaseModel):
    """Numbers and a type only: no text to check (the edit's own validator checks the whole field)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LineStringIn(_Geometry):
    type: Literal["LineString"]
    coordinates: list[Position]


class MultiLineStringIn(_Geometry):
    type: Literal["MultiLineString"]
    coordinates: list[list[Position]]


class PolygonIn(_Geometry):
    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygonIn(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


GeoJSONIn = Annotated[LineStringIn | MultiLineStringIn | PolygonIn | MultiPolygonIn,
                      Field(discriminator="type", description="a GeoJSON geometry as drawn in the browser "
                                                               "(WGS-84 lon/lat)")]


def to_shape(doc: LineStringIn | MultiLineStringIn | PolygonIn | MultiPolygonIn, field: str,
             allowed: tuple[str, ...]) -> BaseGeometry:
    """A drawn geometry as shapely, refused naming ``field`` when it is not a usable shape."""
    if doc.type not in allowed:
        raise InputError(field, f"must be a {' or '.join(allowed)}, not a {doc.type}")
    try:
        geom = shapely.geometry.shape({"type": doc.type, "coordinates": doc.coordinates})
        coords = shapely.get_coordinates(geom)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as e:
        raise InputError(field, f"not a valid GeoJSON {doc.type}: {e}") from None
    if geom.is_empty or len(coords) == 0:
        raise InputError(field, "has no coordinates")
    if len(coords) > MAX_VERTICES:
        raise InputError(field, f"has {len(coords)} vertices (at most {MAX_VERTICES})")
    if not np.isfinite(coords).all():
        raise InputError(field, "coordinates must be finite numbers")
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise InputError(field, "longitudes must be within [-180, 180] and latitudes within [-90, 90] (lon, lat order)")
    if doc.type in POLYGONAL and not geom.is_valid:
        raise InputError(field, f"is not a valid polygon: {shapely.is_valid_reason(geom)}")
    if doc.type in LINEAL and geom.length == 0:
        raise InputError(field, "has no length")
    return geom


class EditBase(BaseModel):
    """Unknown fields refused, no NaN, no text PostgreSQL cannot store (as :class:`api.schemas.Strict`,
    but leaving ``op`` alone: the union is told apart by it)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reason: str | None = Field(None, max_length=500, description="the note kept with the new versions")

    @field_validator("code", "codes", "reason", "name", "name_en", "names", "to", "parent", "freed", "line",
                     "polygon", "geometry", "attributes", mode="before", check_fields=False)
    @classmethod
    def _storable_text(cls, value):
        return check_nested(value)


class SplitIn(EditBase):
    """Cut an area by a line (or by a polygon: inside and outside) into new areas."""

    op: Literal["split"]
    code: Code
    line: GeoJSONIn | None = Field(None, description="LineString or MultiLineString drawn across the area")
    polygon: GeoJSONIn | None = Field(None, description="Polygon: the pieces inside and outside it")
    names: list[Name] | None = Field(None, max_length=50, description="names of the pieces, in reading order")


class MergeIn(EditBase):
    """Merge adjacent areas of one parent into the one with the lowest code."""

    op: Literal["merge"]
    codes: list[Code] = Field(min_length=2, max_length=50)
    name: Name | None = None


class ReshapeIn(EditBase):
    """Give an area a new outline; it takes its neighbours' ground and gives back what it left."""

    op: Literal["reshape"]
    code: Code
    geometry: GeoJSONIn
    freed: Literal["neighbours", "gaps"] = "neighbours"


class MoveIn(EditBase):
    """Put an area under another parent of the same kind and the same grandparent."""

    op: Literal["move"]
    code: Code
    parent: Code


class RenameIn(EditBase):
    op: Literal["rename"]
    code: Code
    name: Name
    name_en: Name | None = None


class RetireIn(EditBase):
    """Retire an area; its ground goes to the named neighbours."""

    op: Literal["retire"]
    code: Code
    to: list[Code] = Field(min_length=1, max_length=20)


class AreaPerson(Strict):
    """One of the grid's N: a stairwell or block leader and the part of the grid they look after."""

    name: Person
    area: str = Field(min_length=1, max_length=50, description="their stairwell, building or block (3幢2单元)")


class Roster(Strict):
    """The grid's people and numbers (1+2+3+N: a grid leader, full-time and part-time grid
    workers, and the N: stairwell leaders 楼道长 and block leaders 片组长, each with their area)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    leader: Person | None = None
    full_time: list[Person] = Field(default_factory=list, max_length=20)
    part_time: list[Person] = Field(default_factory=list, max_length=50)
    stairwell_leaders: list[AreaPerson] = Field(default_factory=list, max_length=300)
    block_leaders: list[AreaPerson] = Field(default_factory=list, max_length=100)
    households: int | None = Field(None, ge=0, le=1_000_000)
    population: int | None = Field(None, ge=0, le=10_000_000)

    @field_validator("households", "population", mode="before")
    @classmethod
    def _whole_numbers(cls, value):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number")
        return value

    @model_validator(mode="after")
    def _few_simple_extras(self):
        extra = self.model_extra or {}
        if len(extra) > 20:
            raise ValueError("at most 20 more attributes")
        for key, value in extra.items():
            if len(key) > 50:
                raise ValueError(f"attribute name {key[:20]!r}... longer than 50 characters")
            if not isinstance(value, str | int | float | bool | None) or (isinstance(value, str) and len(value) > 200):
                raise ValueError(f"attribute {key!r} must be a number, a boolean or a text of at most 200 characters")
        return self


class AttributesIn(EditBase):
    op: Literal["attributes"]
    code: Code
    attributes: Roster


EditIn = Annotated[SplitIn | MergeIn | ReshapeIn | MoveIn | RenameIn | RetireIn | AttributesIn,
                   Field(discriminator="op")]


def named_codes(body) -> list[str]:
    """The codes an operation names (those whose ETags If-Match must carry)."""
    return sorted(set(body.codes)) if isinstance(body, MergeIn) else [body.code]


class EditResult(BaseModel):
    op: str
    saved: bool
    affected: FeatureCollection = Field(description="every area the edit changes: properties code, name, "
                                                    "parent_code, kind, version, change")
    violations: FeatureCollection = Field(description="what would be wrong with the result (empty when fine)")
    rerouted: int = Field(0, description="open incidents re-routed (saved only)")
