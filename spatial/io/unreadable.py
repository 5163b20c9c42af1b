"""What is wrong with a layer file GDAL cannot open or read, said for the person who sent it.

GDAL's messages name the server's temporary path and its internals (the SQL the GeoPackage
driver ran, the ``/vsizip/`` path, the driver's own words); none of that helps the sender and
the path is nobody's business. The common failures of each format are recognised and said
plainly; anything else gets the format's general sentence. The raw message is never passed on.

Examples
--------
>>> from pathlib import Path
>>> reason("gpkg", "sqlite3_prepare_v2(SELECT ...) failed: database disk image is malformed", Path("x"))
'not a readable GeoPackage: the file is truncated or damaged'
>>> reason("kml", "ERROR parsing kml /tmp/a/upload.kml :mismatched tag on line 3 at offset 9", Path("x"))
'not valid KML: mismatched tag at line 3'
"""

from __future__ import annotations

import json
import re
from pathlib import Path

GEOJSON_TYPES = {"FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection"}
_KML = re.compile(r"ERROR parsing kml .* :(?P<what>.+?) on line (?P<line>\d+)")
_EXPAT_WORDS = re.compile(r"^[a-z][a-z ()\-]{0,60}$")  # expat's own phrases ("mismatched tag", "no element found")


def reason(fmt: str, message: str, path: Path, member: str | None = None) -> str:
    """The sentence for a file of format ``fmt`` (gpkg, geojson, shp, kml) that GDAL refused
    with ``message``; ``path`` is the file (GeoJSON is parsed again to point at the fault),
    ``member`` the shapefile's name inside its zip."""
    if fmt == "gpkg":
        return _gpkg(message)
    if fmt == "geojson":
        return _geojson(path)
    if fmt == "kml":
        return _kml(message)
    name = f"the shapefile {member}" if member else "the shapefile"
    if "not recognized as being in a supported file format" in message:
        return f"{name} in the zip cannot be read: it is damaged or not a shapefile"
    return f"{name} in the zip cannot be read: it is truncated or damaged"


def _gpkg(message: str) -> str:
    if "required GeoPackage tables" in message:
        return "an SQLite database, but not a GeoPackage: it has no gpkg_contents table"
    if "file is not a database" in message:
        return "not a readable GeoPackage: the file is damaged, or it is not a GeoPackage at all"
    return "not a readable GeoPackage: the file is truncated or damaged"


def _geojson(path: Path) -> str:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(text)
    except RecursionError:
        return "not valid GeoJSON: arrays or objects nested too deeply"
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            return f"not valid GeoJSON: the file is truncated (it ends at line {e.lineno} before the JSON is complete)"
        return f"not valid GeoJSON: {e.msg.lower()} at line {e.lineno}, column {e.colno}"
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind not in GEOJSON_TYPES:
        what = f"its type is {str(kind)[:40]!r}" if kind is not None else "it has no GeoJSON type"
        return f"valid JSON, but not a GeoJSON FeatureCollection ({what})"
    return "not readable GeoJSON: a feature or geometry in it is malformed"


def _kml(message: str) -> str:
    m = _KML.search(message)
    if m is None:
        return "not readable KML: the file is damaged, or it is not KML"
    what, line = m.group("what").strip(), m.group("line")
    if what == "no element found":
        return f"not valid KML: the file is truncated (the XML ends at line {line} before its elements are closed)"
    if not _EXPAT_WORDS.match(what):
        what = "not well-formed XML"
    return f"not valid KML: {what} at line {line}"
