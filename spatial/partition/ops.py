"""Edit operations on the children of one parent; each returns the new partition's changes.

Every operation works on ``children`` (``{code: (Multi)Polygon}``, the current areas of one
parent and one kind) and returns an :class:`Outcome`: the changed geometry of existing
codes, the new pieces (the caller gives them codes), the retired codes and the ground left
unassigned. Geometry is computed on the planar arrangement of :mod:`spatial.partition.topology`,
so the neighbours an edit re-draws share their new edges exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError, UnknownCode
from spatial.partition.topology import (
    GRID,
    POLYGONAL,
    dissolve,
    faces,
    owners,
    polygonal,
    same_shape,
    shared_border,
    snap_to,
)

FREED = ("neighbours", "gaps")
MAX_SPLIT_PIECES = 20  # a real split makes two pieces, a few at most; a zigzag of 4,000 vertices made 3,528
# Runs of the cutter inside the area: each run across it adds a piece, so a line with many
# more runs than the pieces allowed is refused before the arrangement is built (which took 18 s
# for a zigzag of 20,000 vertices); runs that end inside the area or at a hole add none, hence
# the margin.
MAX_CUT_RUNS = 4 * MAX_SPLIT_PIECES


@dataclass
class Outcome:
    """What an edit does to a partition."""

    changed: dict[str, BaseGeometry] = field(default_factory=dict)  # existing code -> new geometry
    created: list[BaseGeometry] = field(default_factory=list)       # new areas, in reading order
    retired: list[str] = field(default_factory=list)                # codes whose ground went elsewhere
    gaps: list[BaseGeometry] = field(default_factory=list)          # ground nobody owns any more


def _member(children: dict[str, BaseGeometry], code: str, field_name: str = "code") -> BaseGeometry:
    if code not in children:
        raise UnknownCode(field_name, f"{code!r} is not one of the areas of this parent")
    return children[code]


def _near(children: dict[str, BaseGeometry], region: BaseGeometry) -> list[str]:
    """Codes of the children whose bounding box meets ``region``'s."""
    codes = list(children)
    tree = shapely.STRtree(np.asarray([children[c] for c in codes], dtype=object))
    return sorted(codes[i] for i in tree.query(shapely.envelope(region)))


def _reading_order(pieces: Sequence[BaseGeometry] | NDArray[np.object_]) -> list[BaseGeometry]:
    """North to south, then west to east, by a point inside each piece."""
    pts = shapely.point_on_surface(np.asarray(pieces, dtype=object))
    order = np.lexsort((np.round(shapely.get_x(pts), 7), -np.round(shapely.get_y(pts), 7)))
    return [pieces[i] for i in order]


def _rebuilt(near: list[str], children: dict[str, BaseGeometry], fs: NDArray[np.object_], final: NDArray[np.int64],
             skip: Collection[str] = ()) -> dict[str, BaseGeometry]:
    """New geometry of the near children whose faces changed."""
    out: dict[str, BaseGeometry] = {}
    for j, code in enumerate(near):
        if code in skip:
            continue
        geom = dissolve(fs[final == j])
        if not same_shape(geom, children[code]):
            out[code] = geom
    return out


def split(children: dict[str, BaseGeometry], code: str, cutter: BaseGeometry) -> Outcome:
    """Cut ``code`` by a line (or a polygon's outline) into two or more new areas.

    Parameters
    ----------
    children : dict of str to shapely (Multi)Polygon
    code : str
        The area to split; it is retired and replaced by the pieces.
    cutter : shapely LineString, MultiLineString, Polygon or MultiPolygon
        Drawn across the area, from outside to outside (a polygon: the pieces inside and
        outside it).

    Returns
    -------
    Outcome
        ``created``: the pieces in reading order; ``changed``: neighbours that gained a
        vertex where the cut meets their border.

    Raises
    ------
    spatial.errors.InputError
        ``line`` / ``polygon``: the cutter does not cut the area in two, or cuts it into more
        than :data:`MAX_SPLIT_PIECES` pieces (refused before any piece is given a code, a name
        or a place in the preview).

    Examples
    --------
    >>> from shapely import box, LineString
    >>> out = split({"a": box(0, 0, 2, 1)}, "a", LineString([(1, -1), (1, 2)]))
    >>> len(out.created), out.retired
    (2, ['a'])
    """
    is_polygon = cutter.geom_type in POLYGONAL
    field_name = "polygon" if is_polygon else "line"
    target = _member(children, code)
    near = _near(children, target)
    cutter = snap_to(cutter, [children[c] for c in near])
    lines = shapely.boundary(cutter) if is_polygon else cutter
    cut = shapely.intersection(lines, target)
    if cut.is_empty or shapely.length(cut) == 0:
        raise InputError(field_name, f"does not cross area {code}")
    runs = shapely.get_num_geometries(cut)
    if runs > MAX_CUT_RUNS:
        raise InputError(field_name, f"runs through area {code} in {runs:,} separate stretches: a split makes at "
                                     f"most {MAX_SPLIT_PIECES} pieces; draw a simpler line")
    fs = faces([children[c] for c in near], [cut])
    own = owners(fs, [children[c] for c in near])
    t = near.index(code)
    pieces = list(fs[own == t])
    if len(pieces) < 2 or len(pieces) <= shapely.get_num_geometries(target):
        raise InputError(field_name, f"does not cut area {code} into two or more pieces; draw it across "
                                     "the area, from outside to outside")
    if len(pieces) > MAX_SPLIT_PIECES:
        raise InputError(field_name, f"cuts area {code} into {len(pieces):,} pieces: at most {MAX_SPLIT_PIECES} "
                                     "in one split; draw a simpler line")
    created = [polygonal(p) for p in _reading_order(pieces)]
    return Outcome(changed=_rebuilt(near, children, fs, own, skip={code}), created=created, retired=[code])


def merge(children: dict[str, BaseGeometry], codes: list[str]) -> Outcome:
    """Merge adjacent areas into the one with the lowest code; the others are retired.

    Examples
    --------
    >>> from shapely import box
    >>> out = merge({"a": box(0, 0, 1, 1), "b": box(1, 0, 2, 1)}, ["b", "a"])
    >>> sorted(out.changed), out.retired, out.changed["a"].area
    (['a'], ['b'], 2.0)
    """
    codes = sorted(set(codes))
    if len(codes) < 2:
        raise InputError("codes", "name two or more areas to merge")
    geoms = [_member(children, c, "codes") for c in codes]
    joined, todo = {0}, list(range(1, len(codes)))
    while todo:  # grow the merged set by neighbours sharing a border with it
        grown = [k for k in todo if shared_border(geoms[k], [geoms[j] for j in joined]).max() > 0]
        if not grown:
            raise InputError("codes", f"{', '.join(codes[k] for k in todo)} share no border with "
                                      f"{', '.join(codes[j] for j in sorted(joined))}")
        joined.update(grown)
        todo = [k for k in todo if k not in joined]
    return Outcome(changed={codes[0]: dissolve(geoms)}, retired=codes[1:])


def reshape(children: dict[str, BaseGeometry], parent: BaseGeometry, code: str, outline: BaseGeometry,
            *, freed: str = "neighbours") -> Outcome:
    """Give ``code`` a new outline: it takes the ground it now covers from its neighbours.

    The outline is clipped to the parent. Each piece of ground the area leaves goes to the
    neighbour sharing the longest border with that piece (``freed="neighbours"``; a piece no
    neighbour borders stays with the area) or is returned in ``gaps`` (``freed="gaps"``).

    Examples
    --------
    >>> from shapely import box
    >>> kids = {"a": box(0, 0, 1, 1), "b": box(1, 0, 2, 1)}
    >>> out = reshape(kids, box(0, 0, 2, 1), "a", box(0, 0, 1.5, 1))
    >>> out.changed["a"].area, out.changed["b"].area
    (1.5, 0.5)
    """
    if freed not in FREED:
        raise InputError("freed", f"must be one of {', '.join(FREED)}")
    old = _member(children, code)
    outline = snap_to(outline, [children[c] for c in _near(children, outline)] + [parent])
    new = polygonal(shapely.intersection(outline, parent, grid_size=GRID))
    if new.is_empty:
        raise InputError("geometry", "the new outline covers no ground of the parent")
    near = _near(children, shapely.union(shapely.envelope(old), shapely.envelope(new)))
    near_geoms = [children[c] for c in near]
    fs = faces(near_geoms, [shapely.boundary(new)])
    own = owners(fs, near_geoms)
    a = near.index(code)
    inside = owners(fs, [new]) == 0
    final = np.where(inside, a, own)
    left = ~inside & (own == a)
    final[left] = -2
    gaps = []
    pieces = list(shapely.get_parts(dissolve(fs[left]))) if left.any() else []
    if pieces:
        piece_of = owners(fs, pieces)
        others = [j for j in range(len(near)) if j != a]
        after = [dissolve(fs[final == j]) for j in others]
        for k, piece in enumerate(pieces):
            lengths = shared_border(piece, after) if others else np.zeros(0)
            if freed == "gaps":
                gaps.append(polygonal(piece))
            elif len(lengths) and lengths.max() > 0:
                final[left & (piece_of == k)] = others[int(np.argmax(lengths))]
            else:  # no neighbour borders it (a corner against the parent's edge): the area keeps it
                final[left & (piece_of == k)] = a
    changed = _rebuilt(near, children, fs, final)
    retired = [c for c, g in changed.items() if g.is_empty]
    if code in retired:
        raise InputError("geometry", "the new outline leaves the area no ground")
    return Outcome(changed={c: g for c, g in changed.items() if c not in retired}, retired=retired, gaps=gaps)


def retire(children: dict[str, BaseGeometry], code: str, to: list[str]) -> Outcome:
    """Retire ``code``: each of its pieces goes to the named neighbour sharing the longest border.

    Examples
    --------
    >>> from shapely import box
    >>> out = retire({"a": box(0, 0, 1, 1), "b": box(1, 0, 2, 1)}, "a", ["b"])
    >>> out.retired, out.changed["b"].area
    (['a'], 2.0)
    """
    target = _member(children, code)
    to = list(dict.fromkeys(to))
    if not to:
        raise InputError("to", "name the neighbours that take the ground")
    if code in to:
        raise InputError("to", f"{code} cannot take its own ground")
    receivers = [_member(children, n, "to") for n in to]
    gains = defaultdict(list)
    for piece in shapely.get_parts(target):
        lengths = shared_border(piece, receivers)
        if lengths.max() <= 0:
            raise InputError("to", f"none of {', '.join(to)} shares a border with area {code}")
        gains[to[int(np.argmax(lengths))]].append(piece)
    changed = {n: dissolve([children[n], *pieces]) for n, pieces in gains.items()}
    return Outcome(changed=changed, retired=[code])


def move(parents: dict[str, BaseGeometry], area: BaseGeometry, old_parent: str, new_parent: str) -> Outcome:
    """Re-parent an area: its ground leaves ``old_parent`` and joins ``new_parent``.

    ``parents`` are the siblings of the two parents (one partition one level up); the area's
    own geometry does not change.

    Examples
    --------
    >>> from shapely import box
    >>> out = move({"p": box(0, 0, 2, 1), "q": box(2, 0, 3, 1)}, box(1, 0, 2, 1), "p", "q")
    >>> out.changed["p"].area, out.changed["q"].area
    (1.0, 2.0)
    """
    if new_parent == old_parent:
        raise InputError("parent", f"the area already lies in {new_parent}")
    old = _member(parents, old_parent, "code")
    new = _member(parents, new_parent, "parent")
    if shared_border(area, [new])[0] <= 0:
        raise InputError("parent", f"the area shares no border with {new_parent}")
    rest = polygonal(shapely.difference(old, area, grid_size=GRID))
    if rest.is_empty:
        raise InputError("code", f"the area is all of {old_parent}: merge or retire {old_parent} instead")
    return Outcome(changed={old_parent: rest, new_parent: dissolve([new, area])})
