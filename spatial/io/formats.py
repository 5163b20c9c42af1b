"""The file formats a layer is read from and written to, and how to tell them apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spatial.errors import InputError


@dataclass(frozen=True)
class Format:
    key: str             # gpkg | geojson | shp | kml: the ``format`` parameter
    driver: str          # the GDAL driver that writes it
    suffix: str          # the file name ending
    media_type: str      # the download's Content-Type


FORMATS: dict[str, Format] = {
    "gpkg": Format("gpkg", "GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "geojson": Format("geojson", "GeoJSON", ".geojson", "application/geo+json"),
    "shp": Format("shp", "ESRI Shapefile", ".shp.zip", "application/zip"),
    "kml": Format("kml", "KML", ".kml", "application/vnd.google-earth.kml+xml"),
}


def format_of_name(name: str) -> Format | None:
    """The format a file name announces (``grids.shp.zip`` and ``grids.zip`` are both shapefiles)."""
    lower = name.lower()
    if lower.endswith((".geojson", ".json")):
        return FORMATS["geojson"]
    if lower.endswith(".gpkg"):
        return FORMATS["gpkg"]
    if lower.endswith(".zip"):
        return FORMATS["shp"]
    if lower.endswith(".kml"):
        return FORMATS["kml"]
    return None


def detect_bytes(head: bytes, name: str | None = None) -> Format:
    """The format of a file from its first bytes (the name only breaks ties); see :func:`detect_format`."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"SQLite format 3\x00"):
        return FORMATS["gpkg"]
    if head.startswith(b"PK\x03\x04"):
        return FORMATS["shp"]
    if stripped.startswith(b"{"):
        return FORMATS["geojson"]
    if stripped.startswith(b"<") and b"kml" in head.lower():
        return FORMATS["kml"]
    by_name = format_of_name(name or "")
    hint = f" (the name says {by_name.key}, the content does not)" if by_name else ""
    raise InputError("file", "not a GeoJSON, GeoPackage, zipped Shapefile or KML file" + hint)


def save_upload(data: bytes, directory: Path, name: str | None = None) -> Path:
    """Write uploaded bytes into ``directory`` under a name GDAL recognises (``upload.gpkg`` ...).

    Raises
    ------
    spatial.errors.InputError
        ``field="file"`` when the content is no layer format.
    """
    fmt = detect_bytes(data[:512], name)
    path = Path(directory) / ("upload" + (".zip" if fmt.key == "shp" else fmt.suffix))
    path.write_bytes(data)
    return path


def detect_format(path: Path, name: str | None = None) -> Format:
    """The format of a file, from its first bytes (the name only breaks ties).

    Parameters
    ----------
    path : pathlib.Path
        The file on disk.
    name : str, optional
        The name the user gave it (an upload's file name).

    Returns
    -------
    Format

    Raises
    ------
    spatial.errors.InputError
        ``field="file"`` when the content is none of GeoJSON, GeoPackage, zipped Shapefile, KML.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_text('{"type": "FeatureCollection", "features": []}')
    >>> detect_format(p).key
    'geojson'
    """
    with open(path, "rb") as fh:
        return detect_bytes(fh.read(512), name or path.name)
