"""China map datums: WGS-84, GCJ-02 (AMap, Tencent) and BD-09 (Baidu).

GPS receivers and browsers report WGS-84. Maps licensed in China use GCJ-02, an
obfuscated, non-linear offset of WGS-84 (a few hundred metres), and Baidu adds its
own BD-09 offset on top of GCJ-02. Input arriving from those SDKs must be converted
to WGS-84 before storage; this module does it with vectorised numpy.

The forward formulas are the widely published ones (eviltransform,
coordTransform, gcoord), with the Krasovsky 1940 ellipsoid constants
``a = 6378245.0`` and ``ee = 0.00669342162296594323``. The inverse of GCJ-02 is
computed exactly by fixed-point iteration (to < 1e-9 degree), not by the crude
one-step approximation, so a WGS -> GCJ -> WGS round trip returns the same point to
well under a millimetre.

Outside China (the usual bounding box test, see :func:`out_of_china`) no datum
applies any offset: all three datums are taken to equal WGS-84 there, as in
eviltransform, so every conversion returns its input unchanged.

All functions take longitude first, accept scalars or array-likes (broadcast
together) and return numpy float64 values of the broadcast shape (0-d arrays for
scalar input; ``float(x)`` gives a plain number).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # the shapes shapely.transform takes (types-shapely)
    from shapely._typing import GeoArray, OptGeoArrayLikeSeq, OptGeoT

__all__ = [
    "A",
    "EE",
    "CRS_NAMES",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
    "transform_geometry",
]

#: Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02 (metres).
A = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid.
EE = 0.00669342162296594323
#: Names accepted by :func:`to_wgs84`.
CRS_NAMES = ("wgs84", "gcj02", "bd09")

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]
#: A ``(lon, lat) -> (lon, lat)`` conversion of this module.
Converter = Callable[[ArrayLike, ArrayLike], Coords]

_X_PI = np.pi * 3000.0 / 180.0
# Bounding box used by every published implementation for "inside China".
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271
_INVERSE_TOL = 1e-9  # degrees
_INVERSE_MAX_ITER = 50


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon_b, lat_b = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return lon_b, lat_b


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Tell whether points lie outside the box where GCJ-02 applies.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool
        True where the point is outside China's bounding box
        (72.004..137.8347 E, 0.8293..55.8271 N); no offset is applied there.

    Examples
    --------
    >>> from spatial.crs import out_of_china
    >>> out_of_china([120.4, 2.35], [30.8, 48.85]).tolist()
    [False, True]
    """
    lon, lat = _as_arrays(lon, lat)
    return (lon < _LON_MIN) | (lon > _LON_MAX) | (lat < _LAT_MIN) | (lat > _LAT_MAX)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    radlat = lat / 180.0 * np.pi
    magic = np.sin(radlat)
    magic = 1.0 - EE * magic * magic
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS-84 coordinates to GCJ-02 (AMap, Tencent, Apple in China).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import wgs84_to_gcj02
    >>> lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)  # Shanghai
    >>> round(float(lon), 6), round(float(lat), 6)
    (121.531542, 31.175304)
    """
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 coordinates to WGS-84, exactly (iterative inverse).

    The forward transform is inverted by fixed-point iteration
    ``w <- w - (gcj(w) - g)`` until every point moves less than 1e-9 degree,
    so ``wgs84_to_gcj02(*gcj02_to_wgs84(g)) == g`` to about 1e-9 degree
    (0.1 mm). The one-step approximation used by many libraries is off by up to
    a few metres.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import gcj02_to_wgs84
    >>> lon, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> round(float(lon), 7), round(float(lat), 7)
    (121.5272106, 31.1774276)
    """
    glon, glat = _as_arrays(lon, lat)
    outside = out_of_china(glon, glat)
    # Start from the one-step approximation, then iterate to the exact inverse.
    dlon, dlat = _delta(glon, glat)
    wlon, wlat = glon - dlon, glat - dlat
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _delta(wlon, wlat)
        err_lon = wlon + dlon - glon
        err_lat = wlat + dlat - glat
        wlon = wlon - err_lon
        wlat = wlat - err_lat
        if np.all(np.abs(err_lon) < _INVERSE_TOL) and np.all(np.abs(err_lat) < _INVERSE_TOL):
            break
    return np.where(outside, glon, wlon), np.where(outside, glat, wlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 coordinates to Baidu BD-09.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        BD-09 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import gcj02_to_bd09
    >>> lon, lat = gcj02_to_bd09(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (123.006365, 45.006369)
    """
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    blon = z * np.cos(theta) + 0.0065
    blat = z * np.sin(theta) + 0.006
    outside = out_of_china(x, y)
    return np.where(outside, x, blon), np.where(outside, y, blat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert Baidu BD-09 coordinates to GCJ-02.

    This is the closed-form inverse published with the forward formula; it
    agrees with the forward transform to about 1e-7 degree (about 1 cm).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import bd09_to_gcj02
    >>> lon, lat = bd09_to_gcj02(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (122.993633, 44.993654)
    """
    blon, blat = _as_arrays(lon, lat)
    x = blon - 0.0065
    y = blat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon = z * np.cos(theta)
    glat = z * np.sin(theta)
    outside = out_of_china(blon, blat)
    return np.where(outside, blon, glon), np.where(outside, blat, glat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS-84 coordinates to Baidu BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        BD-09 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import wgs84_to_bd09
    >>> lon, lat = wgs84_to_bd09(123.0, 45.0)
    >>> round(float(lon), 5), round(float(lat), 5)
    (123.01245, 45.00833)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert Baidu BD-09 coordinates to WGS-84 (via GCJ-02, exact inverse).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 coordinates; points outside China are returned unchanged.

    Examples
    --------
    >>> from spatial.crs import bd09_to_wgs84
    >>> lon, lat = bd09_to_wgs84(123.0, 45.0)
    >>> round(float(lon), 5), round(float(lat), 5)
    (122.98762, 44.99172)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Converter] = {
    "wgs84": lambda lon, lat: _as_arrays(lon, lat),
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> Coords:
    """Convert coordinates given in a named China datum to WGS-84.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees, in datum ``crs``.
    crs : {"wgs84", "gcj02", "bd09"}
        Datum of the input (case-insensitive).

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 coordinates.

    Raises
    ------
    ValueError
        If ``crs`` is not one of the names above; the message names it.

    Examples
    --------
    >>> from spatial.crs import to_wgs84
    >>> lon, lat = to_wgs84([120.4, 120.5], [30.8, 30.9], "gcj02")
    >>> lon.shape
    (2,)
    >>> to_wgs84(120.4, 30.8, "epsg:3857")
    Traceback (most recent call last):
    ...
    ValueError: unknown crs 'epsg:3857': expected one of 'wgs84', 'gcj02', 'bd09'
    """
    key = crs.lower() if isinstance(crs, str) else crs
    try:
        func = _TO_WGS84[key]
    except (KeyError, TypeError):
        expected = ", ".join(repr(name) for name in CRS_NAMES)
        raise ValueError(f"unknown crs {crs!r}: expected one of {expected}") from None
    return func(lon, lat)


@overload
def transform_geometry(geom: OptGeoT, func: Converter) -> OptGeoT: ...
@overload
def transform_geometry(geom: OptGeoArrayLikeSeq, func: Converter) -> GeoArray: ...
def transform_geometry(geom: OptGeoT | OptGeoArrayLikeSeq, func: Converter) -> OptGeoT | GeoArray:
    """Apply a coordinate conversion to shapely geometries.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of shapely.Geometry
        Geometries with (lon, lat) coordinates; Z values are dropped.
    func : callable
        One of the ``(lon, lat) -> (lon, lat)`` functions of this module.

    Returns
    -------
    shapely.Geometry or numpy.ndarray of shapely.Geometry
        Same geometry types and structure with converted coordinates.

    Examples
    --------
    >>> import shapely
    >>> from spatial.crs import gcj02_to_wgs84, transform_geometry
    >>> square = shapely.box(120.40, 30.80, 120.41, 30.81)
    >>> moved = transform_geometry(square, gcj02_to_wgs84)
    >>> moved.geom_type, round(moved.area / square.area, 3)
    ('Polygon', 1.0)
    """

    def _apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _apply)


def representable(value: float) -> float:
    """The coordinate as PostgreSQL can take it: a subnormal float (5e-324) is refused by
    float8 input ("underflow"), and is 0 degrees to within a nanometre anyway."""
    value = float(value)
    return 0.0 if abs(value) < sys.float_info.min else value
