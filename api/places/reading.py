"""A places file into rows of text with their point: CSV or XLSX (``lon``/``lat`` columns, read
by the roster's reader) or a point layer (GeoJSON, GeoPackage, read by :mod:`spatial.io`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from api.places.catalogue import INPUT_CRS
from api.roster.reading import read_table
from spatial.errors import InputError
from spatial.io import read_layer

COLUMNS = ("code", "name", "category", "address", "licences", "responsible", "contact", "risk_level")
REQUIRED = ("code", "name", "category")
TABLE_COLUMNS = (*COLUMNS, "lon", "lat")
# what an export adds and an import works out itself: read past, so an exported file imports back
DERIVED = ("version", "grid_code", "community_code", "street_code", "district_code", "zone_code", "valid_from")
# what read_layer is told of the file's coordinates (None: what the file declares)
LAYER_CRS = {"wgs84": None, "cgcs2000": "EPSG:4490", "gcj02": "gcj02", "bd09": "bd09"}


@dataclass
class Row:
    number: int
    values: dict[str, str]
    lon: float | None = None
    lat: float | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)


@dataclass
class PlacesFile:
    format: str                 # csv | xlsx | geojson | gpkg
    rows: list[Row]
    converted_by_reader: bool   # the layer reader converted to WGS-84 already
    columns: frozenset[str]     # the place columns the file has (an absent one keeps what is stored)


def _header(headers: list[str], allowed: tuple[str, ...], required: tuple[str, ...], name: str) -> None:
    unknown = [h for h in headers if h not in allowed and h not in DERIVED]
    lacking = [c for c in required if c not in headers]
    if unknown or lacking:
        said = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
               ([f"missing column(s) {', '.join(lacking)}"] if lacking else [])
        raise InputError("header", f"{name}: {'; '.join(said)} (columns: {', '.join(allowed)})")


def _number(row: Row, column: str) -> float | None:
    text = row.values.get(column, "").strip()
    if not text:
        row.problems.append((column, "missing"))
        return None
    try:
        value = float(text)
    except ValueError:
        row.problems.append((column, f"{text[:40]!r} is not a number"))
        return None
    if not math.isfinite(value):
        row.problems.append((column, "must be a finite number"))
        return None
    return value


def _table(path: Path, name: str) -> PlacesFile:
    table = read_table(path)
    _header(table.headers, TABLE_COLUMNS, (*REQUIRED, "lon", "lat"), name)
    rows = []
    for number, values in table.rows:
        row = Row(number, {c: values.get(c, "") for c in COLUMNS})
        row.values.update(lon=values.get("lon", ""), lat=values.get("lat", ""))
        row.lon, row.lat = _number(row, "lon"), _number(row, "lat")
        if number in table.overflowing:
            row.problems.append(("-", "more cells than the header has columns"))
        rows.append(row)
    return PlacesFile(path.suffix.lower().lstrip("."), rows, converted_by_reader=False,
                      columns=frozenset(table.headers) & set(COLUMNS))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _layer(path: Path, name: str, crs: str) -> PlacesFile:
    layer = read_layer(path, name=name, source_crs=LAYER_CRS[crs])
    if layer.format.key not in ("geojson", "gpkg"):
        raise InputError("file", f"{name}: places come as CSV, XLSX, GeoJSON or GeoPackage")
    frame = layer.frame
    headers = [str(c) for c in frame.columns if c not in ("row", "geometry", "fid")]
    _header(headers, COLUMNS, REQUIRED, name)
    rows = []
    for record in frame.to_dict("records"):
        row = Row(int(record["row"]), {c: _text(record.get(c)) for c in COLUMNS})
        geom = record["geometry"]
        if geom is None or geom.is_empty:
            row.problems.append(("geometry", "no point"))
        elif geom.geom_type != "Point":
            row.problems.append(("geometry", f"a place is a Point, not a {geom.geom_type}"))
        else:
            row.lon, row.lat = float(geom.x), float(geom.y)
        rows.append(row)
    return PlacesFile(layer.format.key, rows, converted_by_reader=True, columns=frozenset(headers) & set(COLUMNS))


def read_places(path: Path, *, name: str | None = None, crs: str = "wgs84") -> PlacesFile:
    """Read a places file; ``InputError`` (``file``, ``header``, ``crs``) when it cannot be read at all."""
    if crs not in INPUT_CRS:
        raise InputError("crs", f"{crs!r}: one of {', '.join(INPUT_CRS)}")
    name = name or path.name
    if path.suffix.lower() in (".csv", ".xlsx"):
        return _table(path, name)
    return _layer(path, name, crs)
