"""The TileJSON document (3.0.0) of a layer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class VectorLayer(BaseModel):
    id: str
    fields: dict[str, str]


class TileJSON(BaseModel):
    tilejson: Literal["3.0.0"]
    name: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    vector_layers: list[VectorLayer]
