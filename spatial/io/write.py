"""Write a layer to GeoPackage, GeoJSON, zipped Shapefile or KML, as bytes."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from spatial.io.formats import FORMATS, Format

SHAPEFILE_FIELD_CHARS = 10  # dBASE field names


def _plain_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dicts and lists as JSON text: every format takes text, not every one takes structures."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].map(lambda v: isinstance(v, (dict, list))).any():
            out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    return out


def _shapefile_names(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    renames, used = {}, set()
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        short = str(col)[:SHAPEFILE_FIELD_CHARS]
        n = 1
        while short in used:
            suffix = str(n)
            short = str(col)[:SHAPEFILE_FIELD_CHARS - len(suffix)] + suffix
            n += 1
        used.add(short)
        renames[col] = short
    return frame.rename(columns=renames)


def write_layer(frame: gpd.GeoDataFrame, fmt: Format | str, layer_name: str) -> bytes:
    """The layer as the bytes of a file in ``fmt``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in EPSG:4326; dict/list values are written as JSON text.
    fmt : Format or str
        ``gpkg``, ``geojson``, ``shp`` (a zip of the shapefile's parts, UTF-8) or ``kml``
        (the ``name`` column becomes each placemark's name).
    layer_name : str
        The layer's name inside the file (and the shapefile's file names).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"code": ["1"], "name": ["a"]}, geometry=[shapely.box(120, 30, 120.1, 30.1)],
    ...                        crs="EPSG:4326")
    >>> write_layer(gdf, "gpkg", "grid")[:15]
    b'SQLite format 3'
    """
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    frame = _plain_columns(frame)
    with tempfile.TemporaryDirectory(prefix="gridgov-export-") as tmp:
        base = Path(tmp)
        if fmt.key == "shp":
            target = base / f"{layer_name}.shp"
            pyogrio.write_dataframe(_shapefile_names(frame), target, driver=fmt.driver, layer=layer_name,
                                    encoding="UTF-8")
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(base.iterdir()):
                    zf.write(part, part.name)
            return buffer.getvalue()
        target = base / f"{layer_name}{fmt.suffix}"
        options = {"NameField": "name"} if fmt.key == "kml" and "name" in frame.columns else None
        layer_options = {"RFC7946": "YES"} if fmt.key == "geojson" else None  # lon/lat, no "crs" member
        pyogrio.write_dataframe(frame, target, driver=fmt.driver, layer=layer_name, dataset_options=options,
                                layer_options=layer_options)
        return target.read_bytes()
