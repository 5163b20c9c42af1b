"""A layer's features snapped onto their parent's outline within a stated tolerance (metres).

A district's own files never match the official outline exactly: along the parent's edge a
feature sticks out by a metre here and stops short of it there. A piece that lies along the
outline (it touches it and no point of it is farther from it than the tolerance) is fixed:
an overhang is clipped off its feature, a gap is filled by the features beside it (where
several border it, it is cut where their shared border meets it, straight across to the
outline, and each piece goes to the feature sharing the longest border with it). Each fix is
returned for the report. Wider pieces, and everything away from the outline (gaps and overlaps between
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

from spatial.partition.topology import GRID, M_PER_DEG, owners, polygonal, shared_border
from spatial.partition.validate import significant

DEFAULT_M = 5.0   # the default edge tolerance of an import
MAX_M = 50.0      # more than this is not a file's imprecision but another outline
TOUCH_M = 0.05    # a piece this close to the outline touches it (rounding)
STEP_M = 1.0      # a piece's reach is measured at its vertices and points this far apart along its edge,
                  # or half the tolerance when that is more (its edge is the file's, tracing the outline)
HAIR_DEG = GRID / 10  # edges of two overlays that miss by less than this are one edge
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
        width = reach_m(piece_m, outline_m, max(STEP_M, tolerance_m / 2))
        if width <= tolerance_m:
            out.append((piece, float(shapely.area(piece_m)), width))
    return out


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return list(shapely.get_parts(polygonal(geom)))


def _split(gap: BaseGeometry, neighbours: list[BaseGeometry], outline: BaseGeometry,
           touch_deg: float) -> list[tuple[int, BaseGeometry]]:
    """The gap cut between its neighbours where their shared border meets it, straight across
    to the outline (the border's nearest way on); each piece to the neighbour sharing the
    longest border with it (the nearest when it shares none)."""
    cuts = []
    for a in range(len(neighbours)):
        for b in range(a + 1, len(neighbours)):
            common = shapely.intersection(shapely.boundary(neighbours[a]), shapely.boundary(neighbours[b]))
            if common.is_empty:
                continue
            for x, y in np.unique(np.round(shapely.get_coordinates(common), 9), axis=0):
                meet = shapely.Point(x, y)
                if shapely.distance(meet, gap) <= touch_deg:
                    cuts.append(_across(meet, outline, touch_deg))
    cuts = [c for c in cuts if c is not None]
    pieces = [gap]
    if cuts:  # the faces of the gap's outline and the cuts noded as they are (not on a grid: the gap's
        # edges stay those of its neighbours), the ones inside the gap by area (shapely.ops.split
        # decides by a point, which can fall on a thin face's edge and drop it)
        noded = shapely.union_all(np.asarray([shapely.boundary(gap), *cuts], dtype=object))
        cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        pieces = list(cells[owners(cells, [gap]) == 0])
    arr = np.asarray(neighbours, dtype=object)
    out = []
    for piece in _parts(shapely.GeometryCollection(pieces)):
        border = shared_border(piece, arr)
        k = int(np.argmax(border)) if border.max() > 0 else int(np.argmin(shapely.distance(piece, arr)))
        out.append((k, piece))
    return out


def _by_ground(gap: BaseGeometry, neighbours: list[BaseGeometry], ground: list[BaseGeometry | None],
               touch_deg: float) -> list[tuple[int, BaseGeometry]]:
    """The parts of the gap that each neighbour's stored ground held and that touch the neighbour
    as the file has it (index into ``neighbours``)."""
    out = []
    for k, geom in enumerate(ground):
        if geom is None or not shapely.intersects(gap, geom):
            continue
        held = np.asarray(_parts(shapely.intersection(gap, geom)), dtype=object)
        held = held[significant(held) != None] if len(held) else held  # noqa: E711 (element-wise)
        out += [(k, p) for p in held if shapely.dwithin(p, neighbours[k], touch_deg)]
    return out


def _across(meet: BaseGeometry, outline: BaseGeometry, past_deg: float) -> BaseGeometry | None:
    """The line from ``meet`` to the nearest point of the outline, a little longer at both ends."""
    x0, y0, x1, y1 = shapely.get_coordinates(shapely.shortest_line(meet, outline)).ravel()
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return None
    dx, dy = (x1 - x0) / length * past_deg * 4, (y1 - y0) / length * past_deg * 4
    return shapely.LineString([(x0 - dx, y0 - dy), (x1 + dx, y1 + dy)])


def _claimants(gap: BaseGeometry, near: list[int], children: np.ndarray, end_on_deg: float) -> list[int]:
    """The neighbours that border the gap along it, not only across its end (a sibling whose
    side meets the end of a strip): a border longer than twice the gap's width."""
    if len(near) < 2:
        return near
    border = shared_border(gap, children[near])
    along = [k for k, length in zip(near, border, strict=True) if length > end_on_deg]
    return along or near


def snap_to_outline(parent: BaseGeometry, editable: list[BaseGeometry], fixed: list[BaseGeometry],
                    tolerance_m: float, stored: list[BaseGeometry | None] | None = None,
                    ) -> tuple[list[BaseGeometry], list[Fix]]:
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
    stored : list of geometries or None, optional
        The current ground of each editable feature (None: a new one). A gap is first given
        back by it (the part of the gap each one held), so that a file that differs from the
        stored areas only along the outline comes back as the stored areas; the rest is cut
        between the neighbours.

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
    touch = plane.degrees(TOUCH_M)
    gained: dict[int, list[BaseGeometry]] = {}
    for gap, _, width in gaps:
        near = _claimants(gap, [int(k) for k in tree.query(gap, predicate="dwithin", distance=touch)], children,
                          plane.degrees(2 * width))
        if not any(k < len(out) for k in near):
            continue  # beside kept areas only: not the file's to fill
        neighbours = [children[k] for k in near]
        x0, y0, x1, y1 = gap.bounds
        pad = plane.degrees(tolerance_m + 1)
        outline = shapely.clip_by_rect(shapely.boundary(parent), x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        cut = _by_ground(gap, neighbours, [stored[k] if stored and k < len(out) else None for k in near], touch)
        rest = _parts(shapely.difference(gap, shapely.union_all([p for _, p in cut]))) if cut else [gap]
        for piece in rest:
            cut += [(0, piece)] if len(near) == 1 else _split(piece, neighbours, outline, touch)
        for k, part in cut:
            owner = near[k]
            if owner >= len(out):
                continue
            part_m = plane.metres(part)
            m2 = float(shapely.area(part_m))
            gained.setdefault(owner, []).append(part)
            if significant([part])[0] is not None:  # else a crumb of the cut: filled, not listed
                reach = min(reach_m(part_m, outline_m), width)  # a part of a gap reaches no farther than it
                fixes.append({"index": owner, "fix": GAP, "area_m2": m2, "width_m": reach, "geometry": part})
    for owner, parts in gained.items():
        out[owner] = _merged(out[owner], parts)
    return out, fixes


def _merged(geom: BaseGeometry, parts: list[BaseGeometry]) -> BaseGeometry:
    """``geom`` with the gap parts beside it. Their shared edge comes out of two overlays and may
    miss by a hair (the union then keeps the part apart): snapped onto ``geom`` first, and put
    on the stored coordinates' grid when even that leaves more parts than ``geom`` had."""
    had = len(_parts(geom))
    merged = _one(shapely.union_all([geom, *parts]), geom)
    if len(_parts(merged)) <= had:
        return merged
    merged = _one(shapely.union_all([geom, *shapely.snap(parts, geom, HAIR_DEG)]), geom)
    if len(_parts(merged)) <= had:
        return merged
    return _one(shapely.union_all([geom, *parts], grid_size=GRID), geom)


def _one(geom: BaseGeometry, before: BaseGeometry) -> BaseGeometry:
    """``geom`` without the crumbs an overlay leaves (parts below rounding), a Polygon when one
    part is left; ``before`` when nothing is."""
    parts = np.asarray(_parts(geom), dtype=object)
    kept = parts[significant(parts) != None] if len(parts) else parts  # noqa: E711 (element-wise)
    if not len(kept):
        return before
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(list(kept))
