"""Read one layer from a GeoJSON, GeoPackage, zipped Shapefile or KML file into WGS-84.

Coordinate reference systems (decided here, documented in the README):

* the CRS is read from the file; GeoJSON (RFC 7946) and KML are always longitude/latitude;
* EPSG:4326 (WGS-84) and EPSG:4490 (CGCS2000) are taken as they are: the two datums differ
  by centimetres, less than any boundary is drawn to;
* ``source_crs="gcj02"`` (or ``"bd09"``) says the longitudes/latitudes are in that China map
  datum (files traced on AMap / Tencent / Baidu): they are converted with :mod:`spatial.crs`;
* any other CRS the file declares (a CGCS2000 Gauss-Krüger zone such as EPSG:4549, UTM ...)
  is reprojected with pyproj; ``source_crs="EPSG:nnnn"`` names it for a file that declares
  none (a shapefile without its ``.prj``); a file without any CRS is refused.

Whatever the source, coordinates that are not plausible longitudes/latitudes afterwards are
refused with ``field="crs"`` (a projected file that claims to be WGS-84).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import cast

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from spatial import crs as china_crs
from spatial.errors import InputError
from spatial.io import unreadable
from spatial.io.formats import Format, detect_format

WGS84 = "EPSG:4326"
AS_IS_EPSG = (4326, 4490)
MAX_FEATURES = 50_000
# A zipped shapefile may unpack to this much: eight times the upload cap, where real layers
# (coordinates zip to a third or half) stay far below; a zip of zeros would unpack to GBs.
MAX_UNZIPPED_BYTES = 64_000_000


@dataclass
class Layer:
    """A layer read from a file: ``frame`` in EPSG:4326 with a 1-based ``row`` column."""

    frame: gpd.GeoDataFrame
    format: Format
    layer_name: str
    crs: str            # the CRS the file's coordinates were in
    converted: str | None  # what was done to reach WGS-84 (None: taken as is)


@dataclass(frozen=True)
class _Source:
    """Where GDAL reads the layer: ``gdal`` (a path, ``/vsizip/...`` for a zipped shapefile)."""

    gdal: str
    format: Format
    path: Path
    member: str | None = None  # the .shp inside a zip

    def unreadable(self, exc: Exception) -> InputError:
        """The ``file`` error for a GDAL failure, in words (never GDAL's message: it names the path)."""
        return InputError("file", unreadable.reason(self.format.key, str(exc), self.path, self.member))


def _datasource(path: Path, fmt: Format) -> _Source:
    """The data inside the file (a zipped shapefile: its one ``.shp``), refused when a zip would
    unpack to more than :data:`MAX_UNZIPPED_BYTES`."""
    if fmt.key != "shp":
        return _Source(str(path), fmt, path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.filename.startswith("__MACOSX/")]
    except zipfile.BadZipFile:
        raise InputError("file", "not a readable zip archive: the file is truncated or damaged") from None
    unpacked = sum(i.file_size for i in members)
    if unpacked > MAX_UNZIPPED_BYTES:
        raise InputError("file", f"the zip unpacks to {unpacked / 1e6:.1f} MB: at most "
                                 f"{MAX_UNZIPPED_BYTES / 1e6:.1f} MB in one import")
    names = [i.filename for i in members]
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        found = ", ".join(shps) if shps else "none"
        raise InputError("file", f"a zipped shapefile must hold exactly one .shp (found: {found})")
    stem = str(PurePosixPath(shps[0]).with_suffix("")).lower()
    missing = [ext for ext in (".shx", ".dbf") if stem + ext not in {n.lower() for n in names}]
    if missing:
        raise InputError("file", f"the shapefile {shps[0]} lacks its {' and '.join(missing)}")
    return _Source(f"/vsizip/{path}/{shps[0]}", fmt, path, shps[0])


def _layer_names(source: _Source, wanted: str | None) -> list[str]:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source.gdal)]
    except Exception as exc:  # noqa: BLE001 - GDAL's errors come in many classes; all mean "unreadable"
        raise source.unreadable(exc) from None
    if not layers:
        raise InputError("file", "the file holds no layer")
    if source.format.key == "kml":  # KML folders are layers: read them all
        return layers
    if len(layers) == 1:
        return layers
    if wanted in layers:
        return [wanted]
    raise InputError("file", f"the file holds several layers ({', '.join(layers)}); "
                             f"name one of them {wanted!r} or keep only one")


def _too_many(count: str, max_features: int) -> InputError:
    return InputError("file", f"the file holds {count} features: at most {max_features:,} in one import")


def _read_frames(source: _Source, layers: list[str], max_features: int) -> gpd.GeoDataFrame:
    """The layers' features, refused over ``max_features`` without reading them: by the count in
    the file's header when the driver knows it (GeoPackage, shapefile, GeoJSON and KML do),
    else by reading one feature more than the cap and no further."""
    try:
        counts = [pyogrio.read_info(source.gdal, layer=name)["features"] for name in layers]
    except Exception as exc:  # noqa: BLE001
        raise source.unreadable(exc) from None
    known = sum(c for c in counts if c > 0)
    if known > max_features:
        raise _too_many(f"{known:,}", max_features)
    frames, left = [], max_features + 1
    for name in layers:
        try:
            frames.append(pyogrio.read_dataframe(source.gdal, layer=name, max_features=left))
        except Exception as exc:  # noqa: BLE001
            raise source.unreadable(exc) from None
        left -= len(frames[-1])
        if left <= 0:
            raise _too_many(f"more than {max_features:,}", max_features)
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)


def _normalise_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Column names in lower case (KML's ``Name``); the first of two that clash wins."""
    keep, seen = [], set()
    for col in frame.columns:
        key = col if col == frame.geometry.name else str(col).strip().lower()
        if key in seen:
            continue
        seen.add(key)
        keep.append((col, key))
    out = frame[[c for c, _ in keep]].copy()
    out.columns = [k for _, k in keep]
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out


def _declared_crs(frame: gpd.GeoDataFrame, fmt: Format, source_crs: str | None) -> CRS:
    if source_crs and source_crs.lower() not in china_crs.CRS_NAMES:
        try:
            return CRS.from_user_input(source_crs)
        except CRSError:
            raise InputError("crs", f"unknown CRS {source_crs!r}: use gcj02, bd09, wgs84 or EPSG:<code>") from None
    if frame.crs is not None:
        return CRS.from_user_input(frame.crs)
    if fmt.key in ("geojson", "kml"):
        return CRS.from_user_input(WGS84)
    raise InputError("crs", "the file declares no coordinate reference system (a shapefile needs its .prj); "
                            "name it with crs=EPSG:<code>")


def _is_lonlat_as_is(crs: CRS) -> bool:
    epsg = crs.to_epsg(min_confidence=70)
    if epsg in AS_IS_EPSG:
        return True
    name = (crs.datum.name if crs.datum else "").lower()
    wgs84 = "world geodetic system 1984" in name or ("wgs" in name and "84" in name)
    return crs.is_geographic and (wgs84 or "cgcs" in name or "china 2000" in name)


def _to_wgs84(geoms: gpd.GeoSeries, crs: CRS, source_crs: str | None) -> tuple[gpd.GeoSeries, str | None]:
    china = source_crs.lower() if source_crs and source_crs.lower() in china_crs.CRS_NAMES else None
    if china and china != "wgs84":
        if not _is_lonlat_as_is(crs):
            raise InputError("crs", f"crs={china} needs longitudes/latitudes, but the file is in {crs.to_string()}")
        func = china_crs.gcj02_to_wgs84 if china == "gcj02" else china_crs.bd09_to_wgs84
        moved = china_crs.transform_geometry(geoms.values, func)
        return gpd.GeoSeries(moved, index=geoms.index, crs=WGS84), china
    if _is_lonlat_as_is(crs):
        return geoms.set_crs(WGS84, allow_override=True), None
    try:
        return geoms.set_crs(crs, allow_override=True).to_crs(WGS84), f"{crs.to_string()} -> {WGS84}"
    except Exception:  # noqa: BLE001 - pyproj has no single error class for failed transforms
        raise InputError("crs", f"cannot reproject from {crs.to_string()} to WGS-84: name the file's CRS "
                                "with crs=EPSG:<code>") from None


def _check_lonlat(geoms: gpd.GeoSeries, crs: CRS) -> None:
    # a GeoSeries still (pandas-stubs 3 types a boolean selection as a plain Series)
    present = cast(gpd.GeoSeries, geoms[~(geoms.isna() | geoms.is_empty)])
    if present.empty:
        return
    xmin, ymin, xmax, ymax = present.total_bounds
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90) or not all(
            map(pd.notna, (xmin, ymin, xmax, ymax))):
        raise InputError("crs", f"coordinates such as ({xmin:.1f}, {ymin:.1f}) are not longitudes/latitudes, "
                                f"though the file says {crs.to_string()}: name the file's CRS with crs=EPSG:<code>")


def read_layer(path: Path, *, name: str | None = None, layer: str | None = None,
               source_crs: str | None = None, max_features: int = MAX_FEATURES) -> Layer:
    """Read the features of one layer file into WGS-84, numbering them from 1.

    Parameters
    ----------
    path : pathlib.Path
        GeoJSON, GeoPackage, zipped Shapefile or KML (told apart by content).
    name : str, optional
        The file's name as the user knows it (used in messages only).
    layer : str, optional
        Which layer to take from a file that holds several (GeoPackage).
    source_crs : str, optional
        ``"gcj02"`` / ``"bd09"``: the coordinates are in that China datum; ``"EPSG:nnnn"``:
        the file's CRS when it declares none or declares it wrongly; ``"wgs84"``: as is.
    max_features : int
        Refuse larger files.

    Returns
    -------
    Layer
        ``frame`` has lower-case column names, a ``geometry`` column in EPSG:4326 (Z dropped)
        and ``row``: the feature's position in the file, from 1.

    Raises
    ------
    spatial.errors.InputError
        ``field="file"`` for unreadable files, ``field="crs"`` for CRS problems.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.geojson"
    >>> square = {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30]]]}
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "properties": {"code": "1", "name": "a"}, "geometry": square}]}))
    >>> lay = read_layer(p)
    >>> list(lay.frame["row"]), lay.crs
    ([1], 'EPSG:4326')
    """
    fmt = detect_format(path, name)
    source = _datasource(path, fmt)
    names = _layer_names(source, layer)
    frame = _read_frames(source, names, max_features)
    frame = _normalise_columns(frame)
    declared = _declared_crs(frame, fmt, source_crs)
    geoms = gpd.GeoSeries(shapely.force_2d(frame.geometry.values), index=frame.index)
    geoms, converted = _to_wgs84(geoms, declared, source_crs)
    _check_lonlat(geoms, declared)
    frame = frame.set_geometry(geoms.values, crs=WGS84)
    frame.insert(0, "row", range(1, len(frame) + 1))
    return Layer(frame=frame.reset_index(drop=True), format=fmt, layer_name=",".join(names),
                 crs=declared.to_string(), converted=converted)
