"""A layer's features snapped onto their parent's outline within a stated tolerance (metres).

A district's own files never match the official outline exactly: along the parent's edge a
feature sticks out by a metre here and stops short of it there. A piece that lies along the
outline (it touches it and no point of it is farther from it than the tolerance) is fixed:
an overhang is clipped off its feature, a gap is filled by the features beside it (split
between them where several border it: each part of the gap goes to the feature whose edge is
nearest, then to the one sharing the longest border with it). Each fix is returned for the
report. Wider pieces, and everything away from the outline (gaps and overlaps between
siblings), are left for the partition check to refuse.

A piece's width is how far it reaches from the outline (the largest distance of a point of
its edge from it), measured in metres on a plane tangent at the parent's centre.
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.partition.topology import M_PER_DEG, polygonal, shared_border
from spatial.partition.validate import significant

DEFAULT_M = 5.0   # the default edge tolerance of an import
MAX_M = 50.0      # more than this is not a file's imprecision but another outline
TOUCH_M = 0.05    # a piece this close to the outline touches it (rounding)
STEP_M = 0.5      # a piece's reach is measured at points this far apart along its edge
OVERHANG, GAP = "overhang_clipped", "gap_filled"


class Fix(TypedDict):
    index: int          # into the editable geometries
    fix: str            # OVERHANG or GAP
    area_m2: float
    width_m: float
    geometry: BaseGeometry


class _Plane:
    """Lon/lat to metres on a plane tangent at ``lat`` (for measuring only: the geometries kept
    and returned are never transformed)."""

    def __init__(self, origin: tuple[float, ...]):
        self.origin = np.asarray(origin, dtype=float)
        self.scale = np.asarray([M_PER_DEG * math.cos(math.radians(origin[1])), M_PER_DEG])

    def metres(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: (xy - self.origin) * self.scale)

    def degrees(self, metres: float) -> float:
        """A distance in degrees that is at least ``metres`` in every direction."""
        return metres / float(self.scale.min())


def _near(outline_m: BaseGeometry, piece_m: BaseGeometry, pad: float) -> BaseGeometry:
    x0, y0, x1, y1 = piece_m.bounds
    return shapely.clip_by_rect(outline_m, x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def reach_m(piece_m: BaseGeometry, outline_m: BaseGeometry, step_m: float = STEP_M) -> float:
    """How far (metres) the piece reaches from the outline: the largest distance of a point of
    its edge (every ``step_m`` along it) from the outline; infinite when it does not touch it."""
    if piece_m.is_empty:
        return 0.0
    near = _near(outline_m, piece_m, 1.0)
    if near.is_empty or shapely.distance(piece_m, near) > TOUCH_M:
        return math.inf
    xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(piece_m), step_m))
    return float(shapely.distance(shapely.points(xy), _near(outline_m, piece_m, 2 * step_m + 1)).max())


def _fixable(pieces: list[BaseGeometry], plane: _Plane, outline_m: BaseGeometry,
             tolerance_m: float) -> list[tuple[BaseGeometry, float, float]]:
    """(piece, area m², width m) of the pieces above rounding that lie along the outline, no
    farther from it than the tolerance."""
    arr = np.asarray(pieces, dtype=object)
    if not len(arr):
        return []
    out = []
    for piece, kept in zip(arr, significant(arr), strict=True):
        if kept is None:
            continue  # rounding: the partition check ignores it too
        piece_m = plane.metres(piece)
        width = reach_m(piece_m, outline_m)
        if width <= tolerance_m:
            out.append((piece, float(shapely.area(piece_m)), width))
    return out


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return list(shapely.get_parts(polygonal(geom)))


def _split(gap: BaseGeometry, neighbours: list[BaseGeometry], step_deg: float) -> list[tuple[int, BaseGeometry]]:
    """The gap cut between its neighbours: each point to the neighbour whose edge is nearest
    (Voronoi cells of points along each neighbour's edge beside the gap)."""
    zone = shapely.buffer(gap, step_deg / 10)
    coords, owner = [], []
    for k, geom in enumerate(neighbours):
        edge = shapely.segmentize(shapely.intersection(shapely.boundary(geom), zone), step_deg)
        xy = shapely.get_coordinates(edge)
        coords.append(xy)
        owner.append(np.full(len(xy), k))
    xy, who = np.concatenate(coords), np.concatenate(owner)
    xy, first = np.unique(np.round(xy, 9), axis=0, return_index=True)
    who = who[first]
    if len(set(who.tolist())) < 2:
        return [(int(who[0]), gap)] if len(who) else []
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=zone, ordered=True))
    out = []
    for k in np.unique(who):
        mine = shapely.intersection(gap, shapely.union_all(cells[who == k]))
        out += [(int(k), part) for part in _parts(mine)]
    return out


def _claimants(gap: BaseGeometry, near: list[int], children: np.ndarray, end_on_deg: float) -> list[int]:
    """The neighbours that border the gap along it, not only across its end (a sibling whose
    side meets the end of a strip): a border longer than twice the gap's width."""
    if len(near) < 2:
        return near
    border = shared_border(gap, children[near])
    along = [k for k, length in zip(near, border, strict=True) if length > end_on_deg]
    return along or near


def snap_to_outline(parent: BaseGeometry, editable: list[BaseGeometry], fixed: list[BaseGeometry],
                    tolerance_m: float) -> tuple[list[BaseGeometry], list[Fix]]:
    """Clip the narrow overhangs of ``editable`` off ``parent`` and fill the narrow gaps along its
    outline with the editable features beside them.

    Parameters
    ----------
    parent : shapely polygonal geometry (lon/lat)
    editable : list of valid polygonal geometries
        The features that may change (a file's new and changed areas).
    fixed : list of valid polygonal geometries
        The parent's other children (kept as they are; a gap beside them is left alone).
    tolerance_m : float
        The widest overhang or gap fixed, in metres (0: none).

    Returns
    -------
    (list of geometries, list of Fix)
        ``editable`` with the fixes applied, in the same order, and every fix.

    Examples
    --------
    >>> from shapely import box
    >>> d = 1 / 111_320  # about a metre of latitude
    >>> geoms, fixes = snap_to_outline(box(0, 0, 0.01, 0.01), [box(0, 0, 0.005, 0.01 + d),
    ...                                box(0.005, 0, 0.01, 0.01 - d)], [], 5)
    >>> sorted(f["fix"] for f in fixes), geoms[0].bounds[3] == geoms[1].bounds[3] == 0.01
    (['gap_filled', 'overhang_clipped'], True)
    """
    out = list(editable)
    fixes: list[Fix] = []
    if tolerance_m <= 0 or not out or parent is None or parent.is_empty:
        return out, fixes
    plane = _Plane(shapely.centroid(parent).coords[0])
    outline_m = plane.metres(shapely.boundary(parent))
    arr = np.asarray(out, dtype=object)
    loose = np.flatnonzero(~shapely.covered_by(arr, parent))
    for i in loose:
        clipped = []
        for piece, m2, width in _fixable(_parts(shapely.difference(arr[i], parent)), plane, outline_m, tolerance_m):
            clipped.append(piece)
            fixes.append({"index": int(i), "fix": OVERHANG, "area_m2": m2, "width_m": width, "geometry": piece})
        if clipped:
            out[i] = _one(shapely.difference(out[i], shapely.union_all(clipped)), out[i])

    children = np.asarray(out + [g for g in fixed if g is not None and not g.is_empty], dtype=object)
    gaps = _fixable(_parts(shapely.difference(parent, shapely.union_all(children))), plane, outline_m, tolerance_m)
    if not gaps:
        return out, fixes
    tree = shapely.STRtree(children)
    step = plane.degrees(max(tolerance_m / 2, 0.5))
    touch = plane.degrees(TOUCH_M)
    gained: dict[int, list[BaseGeometry]] = {}
    for gap, _, width in gaps:
        near = _claimants(gap, [int(k) for k in tree.query(gap, predicate="dwithin", distance=touch)], children,
                          plane.degrees(2 * width))
        if not any(k < len(out) for k in near):
            continue  # beside kept areas only: not the file's to fill
        neighbours = [children[k] for k in near]
        split = [(0, gap)] if len(near) == 1 else _split(gap, neighbours, step)
        for k, part in split:
            border = shared_border(part, neighbours)
            owner = near[int(np.argmax(border))] if len(border) and border.max() > 0 else near[k]
            if owner >= len(out):
                continue
            part_m = plane.metres(part)
            m2 = float(shapely.area(part_m))
            gained.setdefault(owner, []).append(part)
            if significant([part])[0] is not None:  # else a crumb of the cut: filled, not listed
                reach = min(reach_m(part_m, outline_m), width)  # a part of a gap reaches no farther than it
                fixes.append({"index": owner, "fix": GAP, "area_m2": m2, "width_m": reach, "geometry": part})
    for owner, parts in gained.items():
        out[owner] = _one(shapely.union_all([out[owner], *parts]), out[owner])
    return out, fixes


def _one(geom: BaseGeometry, before: BaseGeometry) -> BaseGeometry:
    """``geom`` without the crumbs an overlay leaves (parts below rounding), a Polygon when one
    part is left; ``before`` when nothing is."""
    parts = np.asarray(_parts(geom), dtype=object)
    kept = parts[significant(parts) != None] if len(parts) else parts  # noqa: E711 (element-wise)
    if not len(kept):
        return before
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(list(kept))
