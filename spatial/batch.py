"""Points to route in bulk, read from CSV or a GeoJSON FeatureCollection, and the answer written
back in the same format, chunk by chunk.

Every row is checked before anything is routed: a file with a bad row is refused whole, with
the row numbers and reasons (the first ``MAX_PROBLEMS``), so nobody gets half an answer.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from spatial import crs as datums
from spatial.errors import InputError

MAX_POINTS = 100_000
MAX_PROBLEMS = 50
MAX_ID_CHARS = 200
# Python's csv refuses a field over 131,072 characters with an error that names neither the row
# nor the column. No field can be longer than the file, which the callers cap (9 MB over HTTP):
# the limit is lifted to that here (the knob is module-level, as the csv module has it), and the
# row checks below name what is wrong (an id over 200 characters, a coordinate that is no number).
MAX_CSV_FIELD = 64 * 2**20
if csv.field_size_limit() < MAX_CSV_FIELD:
    csv.field_size_limit(MAX_CSV_FIELD)
ANSWER_COLUMNS = ("grid_code", "community_code", "street_code", "district_code", "zone_code", "station_code")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")

Problem = dict[str, int | str]  # {"row": 2, "field": "lon", "reason": "..."}


@dataclass
class Points:
    ids: list[str]
    lons: np.ndarray
    lats: np.ndarray
    problems: list[Problem] = field(default_factory=list)


def check_point(row: int, lon: Any, lat: Any, problems: list[Problem]) -> tuple[float, float]:
    """The row's point as floats; what is wrong with it goes into ``problems``.

    ``lon`` and ``lat`` are whatever the file holds there (text, a JSON value, None): ``float`` tells."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        problems.append({"row": row, "field": "lon/lat", "reason": "must be numbers"})
        return math.nan, math.nan
    x, y = datums.representable(x), datums.representable(y)
    if not (math.isfinite(x) and math.isfinite(y)):
        problems.append({"row": row, "field": "lon/lat", "reason": "must be finite numbers"})
    elif abs(x) > 180 or abs(y) > 90:
        swapped = abs(y) > 90 and abs(x) <= 90 and abs(y) <= 180
        problems.append({"row": row, "field": "lat" if abs(y) > 90 else "lon",
                         "reason": "out of range; longitude and latitude look swapped" if swapped
                         else "out of range [-180, 180] x [-90, 90]"})
    return x, y


def _id(row: int, value: object, problems: list[Problem]) -> str:
    """The row's id as text; a GeoJSON id must be a string or a number (RFC 7946), anything else
    (an object, a list nested 1,000 deep, a boolean) is the row's problem."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append({"row": row, "field": "id", "reason": "must be a string or a number"})
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text or len(text) > MAX_ID_CHARS:
        problems.append({"row": row, "field": "id", "reason": f"at most {MAX_ID_CHARS} characters, no NUL"})
        return text[:MAX_ID_CHARS]
    return text


def read_csv(text: str) -> Points:
    """A CSV with a header naming the longitude and latitude columns (``lon``/``lat`` or
    ``longitude``/``latitude``, ``lng``, ``x``/``y``) and optionally ``id``.

    >>> p = read_csv("id,lon,lat\\na,120.4,30.8\\n")
    >>> p.ids, p.lons.tolist(), p.problems
    (['a'], [120.4], [])
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))  # csv itself tells \r, \n and \r\n line ends apart
    try:
        return _read_rows(reader)
    except csv.Error as exc:  # a field longer than MAX_CSV_FIELD: only a file read from disk has room for one
        raise InputError("file", f"row {reader.line_num}: {exc}") from None


def _read_rows(reader: csv.DictReader[str]) -> Points:
    header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
    lon_key = next((header[n] for n in LON_NAMES if n in header), None)
    lat_key = next((header[n] for n in LAT_NAMES if n in header), None)
    if lon_key is None or lat_key is None:
        raise InputError("file", "the CSV header must name a longitude and a latitude column (lon, lat)")
    id_key = header.get("id")
    ids: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    problems: list[Problem] = []
    for n, rec in enumerate(reader, start=2):  # row 1 is the header
        if len(ids) >= MAX_POINTS:
            raise InputError("file", f"at most {MAX_POINTS:,} points in one batch")
        x, y = check_point(n, rec.get(lon_key), rec.get(lat_key), problems)
        ids.append(_id(n, (rec.get(id_key) or "") if id_key else n - 1, problems))  # a short row: no id
        lons.append(x)
        lats.append(y)
    return Points(ids, np.asarray(lons, dtype="float64"), np.asarray(lats, dtype="float64"), problems)


def read_geojson(data: bytes) -> Points:
    """A FeatureCollection of Points; a feature's ``id`` (or ``properties.id``) is kept."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError("file", f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InputError("file", "must be a GeoJSON FeatureCollection")
    features = doc["features"]
    if len(features) > MAX_POINTS:
        raise InputError("file", f"at most {MAX_POINTS:,} points in one batch")
    ids: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    problems: list[Problem] = []
    for n, f in enumerate(features, start=1):
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
        if not (isinstance(coords, list) and len(coords) >= 2):
            problems.append({"row": n, "field": "geometry", "reason": "must be a GeoJSON Point"})
            x = y = math.nan
        else:
            x, y = check_point(n, coords[0], coords[1], problems)
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            props = {}
        fid = f.get("id") if isinstance(f, dict) else None
        ids.append(_id(n, fid if fid is not None else props.get("id", n), problems))
        lons.append(x)
        lats.append(y)
    return Points(ids, np.asarray(lons, dtype="float64"), np.asarray(lats, dtype="float64"), problems)


def to_wgs84(points: Points, input_crs: str) -> Points:
    if input_crs != "wgs84" and len(points.ids):
        points.lons, points.lats = datums.to_wgs84(points.lons, points.lats, input_crs)
    return points


def csv_chunk(ids: Sequence[str], lons: np.ndarray, lats: np.ndarray, rows: list[dict[str, Any]], *,
              header: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if header:
        w.writerow(("id", "lon", "lat", *ANSWER_COLUMNS))
    for i, x, y, r in zip(ids, lons, lats, rows, strict=True):
        w.writerow((i, f"{x:.7f}", f"{y:.7f}", *(r.get(c) or "" for c in ANSWER_COLUMNS)))
    return out.getvalue()


def geojson_chunk(ids: Sequence[str], lons: np.ndarray, lats: np.ndarray, rows: list[dict[str, Any]], *,
                  first: bool) -> bytes:
    """Features of one chunk, comma-joined; the caller writes the collection's head and tail."""
    feats = [orjson.dumps({"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [x, y]},
                           "properties": {c: r.get(c) for c in ANSWER_COLUMNS}})
             for i, x, y, r in zip(ids, lons.tolist(), lats.tolist(), rows, strict=True)]
    body = b",".join(feats)
    return body if first or not body else b"," + body
