"""The planar arrangement of a parent's children on one precision grid.

Every edit nodes the boundaries of the areas it touches, together with the new linework
(a cut line, a new outline), in ONE snap-rounded overlay on a grid of ``GRID`` degrees,
polygonizes the noded lines into faces, and gives each face an owner. An area is then the
union of its faces. Faces of one arrangement share their edges exactly, so neighbours that
the edit re-draws keep matching vertex for vertex: no sliver gaps or overlaps, whatever
the client sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

GRID = 1e-7  # degrees (about 1 cm): the stored coordinates' precision and GeoJSON's 7 decimals
SNAP_M = 0.5  # a drawn vertex this close to an existing vertex is that vertex (browser snapping is by pixel)
M_PER_DEG = 111_320.0
POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygon parts of ``geom`` (an overlay may add lines or points) as a MultiPolygon.

    Examples
    --------
    >>> from shapely import box, GeometryCollection, LineString
    >>> polygonal(GeometryCollection([box(0, 0, 1, 1), LineString([(1, 0), (2, 0)])])).geom_type
    'MultiPolygon'
    """
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL and not p.is_empty]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    return shapely.MultiPolygon(polys)


def snap_to(drawn: BaseGeometry, areas: Iterable[BaseGeometry | None], metres: float = SNAP_M) -> BaseGeometry:
    """``drawn`` with its vertices moved onto the areas' vertices within ``metres`` (and those
    vertices inserted into its segments), so an edge drawn along an existing one follows it exactly.

    Examples
    --------
    >>> from shapely import box, LineString
    >>> snap_to(LineString([(0.000001, 0.000002), (2, 2)]), [box(0, 0, 1, 1)], metres=1).coords[0]
    (0.0, 0.0)
    """
    areas = [a for a in areas if a is not None and not a.is_empty]
    if not areas or metres <= 0:
        return drawn
    lat = (drawn.bounds[1] + drawn.bounds[3]) / 2
    tolerance = metres / (M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    reference = shapely.union_all(shapely.boundary(np.asarray(areas, dtype=object)))
    snapped = shapely.snap(drawn, reference, tolerance)
    return snapped if snapped.is_valid else drawn


def faces(areas: Iterable[BaseGeometry], lines: Iterable[BaseGeometry] = ()) -> NDArray[np.object_]:
    """The faces of the arrangement of ``areas``' boundaries and extra ``lines``.

    Parameters
    ----------
    areas : sequence of shapely polygonal geometries
    lines : sequence of shapely lineal geometries, optional

    Returns
    -------
    numpy.ndarray of Polygon
        Faces whose edges are the noded input lines, snapped to ``GRID``.

    Examples
    --------
    >>> from shapely import box, LineString
    >>> len(faces([box(0, 0, 2, 1)], [LineString([(1, -1), (1, 2)])]))
    2
    """
    edges = list(shapely.boundary(np.asarray(list(areas), dtype=object))) + list(lines)
    noded = shapely.union_all(np.asarray(edges, dtype=object), grid_size=GRID)
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))


def owners(pieces: NDArray[np.object_], areas: Iterable[BaseGeometry | None]) -> NDArray[np.int64]:
    """Index into ``areas`` of the area holding most of each piece (-1: none holds half of it).

    Overlap areas, not a point inside each piece: a point on a thin sliver can fall on its edge.
    """
    areas = np.asarray(list(areas), dtype=object)
    pieces = np.asarray(pieces, dtype=object)
    out = np.full(len(pieces), -1, dtype=np.int64)
    if len(areas) == 0 or len(pieces) == 0:
        return out
    i, j = shapely.STRtree(areas).query(pieces, predicate="intersects")
    share = shapely.area(shapely.intersection(pieces[i], areas[j])) / np.maximum(shapely.area(pieces[i]), 1e-300)
    keep = share > 0.5
    out[i[keep]] = j[keep]
    return out


def dissolve(parts: Iterable[BaseGeometry | None]) -> BaseGeometry:
    """Union of faces of one arrangement (they share exact edges) as a MultiPolygon."""
    parts = [p for p in parts if p is not None and not p.is_empty]
    if not parts:
        return shapely.MultiPolygon()
    return polygonal(shapely.union_all(np.asarray(parts, dtype=object), grid_size=GRID))


def shared_border(geom: BaseGeometry, others: Iterable[BaseGeometry]) -> NDArray[np.float64]:
    """Length (degrees) of the border ``geom`` shares with each of ``others``."""
    others = np.asarray(list(others), dtype=object)
    if len(others) == 0:
        return np.zeros(0)
    common = shapely.intersection(shapely.boundary(geom), shapely.boundary(others), grid_size=GRID)
    return shapely.length(common)


def same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Whether two polygonal geometries have the same vertices (ring order and start aside)."""
    a, b = polygonal(a), polygonal(b)
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0))
