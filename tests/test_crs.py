"""China datum conversions (spatial.crs): published reference values, round trips."""

import doctest

import numpy as np
import pytest
import shapely
from pyproj import Geod

from spatial import crs
from spatial.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat) from the test suite of googollee/eviltransform
# (python/test.py and go/transform_test.go, MIT): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM_WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# (function, input lon/lat, expected lon/lat) from the test suite of hujiulong/gcoord
# (test/unit/crs/*.spec.ts, MIT), which checks them to 5 decimals.
GCOORD_CASES = [
    (wgs84_to_gcj02, (123.0, 45.0), (123.00607541, 45.00197815)),
    (wgs84_to_bd09, (123.0, 45.0), (123.0124491, 45.0083293)),
    (gcj02_to_wgs84, (123.0, 45.0), (122.99395597, 44.99804071)),
    (gcj02_to_bd09, (123.0, 45.0), (123.00636499, 45.00636899)),
    (bd09_to_gcj02, (123.0, 45.0), (122.99363304, 44.99365430)),
    (bd09_to_wgs84, (123.0, 45.0), (122.98762210, 44.99171540)),
]


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def _china_grid(n=60):
    lon, lat = np.meshgrid(np.linspace(73.5, 134.5, n), np.linspace(18.5, 53.0, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize("wlon, wlat, glon, glat", EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    # eviltransform's Python test checks 6 decimals; we agree to ~1e-7 degree.
    assert abs(float(lon) - glon) < 1e-6
    assert abs(float(lat) - glat) < 1e-6


@pytest.mark.parametrize("wlon, wlat, glon, glat", EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_is_exact_on_eviltransform_points(wlon, wlat, glon, glat):
    lon, lat = gcj02_to_wgs84(glon, glat)
    # eviltransform accepts 0.5 m for its "exact" inverse; ours is far tighter.
    assert _metres(float(lon), float(lat), wlon, wlat) < 0.05


@pytest.mark.parametrize("func, given, expected", GCOORD_CASES)
def test_matches_gcoord_reference_values(func, given, expected):
    lon, lat = func(*given)
    assert abs(float(lon) - expected[0]) < 5e-6
    assert abs(float(lat) - expected[1]) < 5e-6


def test_vectorised_shapes_and_scalars():
    lon, lat = wgs84_to_gcj02(120.4, 30.8)
    assert lon.shape == () and lat.shape == ()
    lon, lat = wgs84_to_gcj02(np.array([[120.4, 120.5]]), 30.8)  # broadcasting
    assert lon.shape == (1, 2) and lat.shape == (1, 2)
    assert lat[0, 0] != lat[0, 1]


def test_round_trip_wgs_gcj_wgs_under_1m_across_china():
    lon, lat = _china_grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 1.0
    # The iterative inverse converges to < 1e-9 degree, not just < 1 m.
    assert np.max(np.abs(back_lon - lon)) < 1e-8
    assert np.max(np.abs(back_lat - lat)) < 1e-8


def test_round_trip_wgs_bd_wgs_under_1m_across_china():
    lon, lat = _china_grid()
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 1.0


def test_gcj_offset_is_hundreds_of_metres_in_china():
    lon, lat = _china_grid(20)
    inside = ~out_of_china(lon, lat)
    glon, glat = wgs84_to_gcj02(lon[inside], lat[inside])
    d = _metres(lon[inside], lat[inside], glon, glat)
    assert d.min() > 1.0 and d.max() < 1500.0


def test_out_of_china_points_unchanged():
    lon = np.array([2.3522, -74.006, 151.2093, 139.6917, 100.0, 0.0])
    lat = np.array([48.8566, 40.7128, -33.8688, 35.6895, 60.0, 0.0])
    assert out_of_china(lon, lat).all()
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
                 wgs84_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
    for name in crs.CRS_NAMES:
        out_lon, out_lat = to_wgs84(lon, lat, name)
        np.testing.assert_array_equal(out_lon, lon)


def test_out_of_china_box_edges():
    assert not out_of_china(120.4, 30.8)
    assert out_of_china(72.0, 30.0) and out_of_china(137.9, 30.0)
    assert out_of_china(100.0, 0.8) and out_of_china(100.0, 55.9)


def test_to_wgs84_dispatches_by_name():
    glon, glat = 120.4331, 30.8733
    np.testing.assert_array_equal(to_wgs84(glon, glat, "wgs84"), (glon, glat))
    np.testing.assert_array_equal(to_wgs84(glon, glat, "gcj02"), gcj02_to_wgs84(glon, glat))
    np.testing.assert_array_equal(to_wgs84(glon, glat, "GCJ02"), gcj02_to_wgs84(glon, glat))
    np.testing.assert_array_equal(to_wgs84(glon, glat, "bd09"), bd09_to_wgs84(glon, glat))


@pytest.mark.parametrize("bad", ["epsg:4326", "gcj-02", "", "mars", None])
def test_to_wgs84_bad_crs_raises_naming_it(bad):
    with pytest.raises(ValueError) as err:
        to_wgs84(120.4, 30.8, bad)
    assert repr(bad) in str(err.value)


def test_transform_geometry_polygon_and_array():
    square = shapely.box(120.40, 30.80, 120.41, 30.81)
    moved = transform_geometry(square, gcj02_to_wgs84)
    assert moved.geom_type == "Polygon" and moved.is_valid
    x0, y0 = square.exterior.coords[0]
    x1, y1 = moved.exterior.coords[0]
    expected = gcj02_to_wgs84(x0, y0)
    assert (x1, y1) == (float(expected[0]), float(expected[1]))
    back = transform_geometry(moved, wgs84_to_gcj02)
    assert shapely.equals_exact(back, square, tolerance=1e-9)
    arr = transform_geometry(np.array([square, shapely.Point(120.4, 30.8)]), wgs84_to_gcj02)
    assert [g.geom_type for g in arr] == ["Polygon", "Point"]


def test_docstring_examples_run():
    result = doctest.testmod(crs, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
