"""What is wrong with a partition: every violation as a reason, a text and where it is.

Vectorised shapely 2: validity and parts per array, overlaps from an STRtree of the
children (skipped when ``shapely.coverage_is_valid`` already proves there are none), gaps
from the parent minus the union of the children, slivers from each part's area and width.
``shapely.is_valid_reason`` is GEOS's text, the same as PostGIS's ``ST_IsValidReason``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely._typing import OptGeoArrayLikeSeq
    from typing_extensions import TypeIs

    #: A GeoDataFrame with a ``code`` column, ``{"code", "geometry"}`` dicts or (code, geometry) pairs.
    Children = gpd.GeoDataFrame | Iterable[dict[str, Any] | tuple[str, BaseGeometry | None]]

REASONS = ("invalid_geometry", "multipart", "outside_parent", "overlap", "gap", "sliver")
M_PER_DEG = 111_320.0
TOLERANCE_M2 = 0.01     # overlaps, gaps and spill-overs smaller than this are rounding, not ground,
TOLERANCE_WIDTH_M = 0.05  # and so are those thinner than this (a few cells of the 1e-7° grid: where an
                          # edit's new vertex meets an edge it cannot lie exactly on)
MIN_AREA_M2 = 10.0      # a part smaller than this is a sliver
MIN_WIDTH_M = 1.0       # ... and so is one thinner than this (twice its area over its perimeter)
_WHERE = re.compile(r"\[\s*(-?[\d.eE+-]+)[\s,]+(-?[\d.eE+-]+)\s*\]")


class Violation(TypedDict):
    reason: str  # one of REASONS
    detail: str
    codes: list[str]
    geometry: BaseGeometry  # where


def _is_frame(children: Children) -> TypeIs[gpd.GeoDataFrame]:
    return hasattr(children, "geometry") and hasattr(children, "columns")


def _normalise(children: Children) -> tuple[list[str], NDArray[np.object_]]:
    """Codes and geometries from a GeoDataFrame (``code`` column), dicts or (code, geom) pairs."""
    if _is_frame(children):
        return [str(c) for c in children["code"]], np.asarray(children.geometry.values, dtype=object)
    codes: list[str] = []
    geoms: list[BaseGeometry | None] = []
    for item in children:
        if isinstance(item, dict):
            codes.append(str(item["code"]))
            geoms.append(item.get("geometry", item.get("geom")))
        else:
            codes.append(str(item[0]))
            geoms.append(item[1])
    return codes, np.asarray(geoms, dtype=object)


def _lat(geoms: np.ndarray) -> np.ndarray:
    bounds = shapely.bounds(geoms)  # NaN for empty geometries
    return np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)


def square_metres(geoms: OptGeoArrayLikeSeq) -> NDArray[np.float64]:
    """Approximate area in m² of lon/lat geometries (scaled at each one's latitude)."""
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return np.zeros(0)
    lat = _lat(arr)
    scale: NDArray[np.float64] = M_PER_DEG ** 2 * np.cos(np.radians(lat))
    return shapely.area(arr) * scale


def _widths_m(parts: np.ndarray) -> np.ndarray:
    lat = _lat(parts)
    perimeter = shapely.length(parts) * M_PER_DEG * np.sqrt(np.cos(np.radians(lat)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 2 * square_metres(parts) / perimeter, 0.0)


def significant(geoms: OptGeoArrayLikeSeq, tolerance_m2: float = TOLERANCE_M2) -> NDArray[np.object_]:
    """Each geometry reduced to its polygon parts above the tolerances (area and width)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0:
        return out
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return out
    polys = shapely.get_type_id(parts) == 3
    keep = polys.copy()
    keep[polys] = (square_metres(parts[polys]) > tolerance_m2) & (_widths_m(parts[polys]) > TOLERANCE_WIDTH_M)
    for k in np.unique(owner[keep]):
        chosen = parts[keep & (owner == k)]
        out[k] = chosen[0] if len(chosen) == 1 else shapely.MultiPolygon(list(chosen))
    return out


def _v(reason: str, detail: str, codes: Iterable[str], geometry: BaseGeometry) -> Violation:
    return {"reason": reason, "detail": detail, "codes": sorted(codes), "geometry": geometry}


def _where(reason: str, geom: BaseGeometry) -> BaseGeometry:
    m = _WHERE.search(reason)
    return shapely.Point(float(m.group(1)), float(m.group(2))) if m else geom


def _polygonal_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]


def violations(children: Children, parent_geom: BaseGeometry | None, *, min_area_m2: float = MIN_AREA_M2,
               min_width_m: float = MIN_WIDTH_M, tolerance_m2: float = TOLERANCE_M2) -> list[Violation]:
    """Every violation among the children of one parent (one kind).

    Parameters
    ----------
    children : GeoDataFrame (``code`` column), list of ``{"code", "geometry"}`` or of (code, geom)
    parent_geom : shapely polygonal geometry or None
        The parent's boundary; None skips the outside-parent and gap checks.
    min_area_m2, min_width_m : float
        Parts below either are slivers.
    tolerance_m2 : float
        Overlaps, gaps and spill-overs below this area are ignored (rounding).

    Returns
    -------
    list of dict
        Each ``{"reason", "detail", "codes", "geometry"}``; ``reason`` is one of
        invalid_geometry, multipart, outside_parent, overlap, gap, sliver.

    Examples
    --------
    >>> from shapely import box
    >>> [v["reason"] for v in violations([("a", box(0, 0, 1, 1)), ("b", box(0.5, 0, 2, 1))], box(0, 0, 2, 1))]
    ['overlap']
    """
    codes, geoms = _normalise(children)
    out: list[Violation] = []
    if len(geoms) == 0:
        return out
    codes_arr = np.asarray(codes, dtype=object)
    missing = np.asarray([g is None or g.is_empty for g in geoms])
    valid = np.zeros(len(geoms), dtype=bool)
    valid[~missing] = shapely.is_valid(geoms[~missing])
    for i in np.flatnonzero(~valid):
        if missing[i]:
            out.append(_v("invalid_geometry", "empty geometry", [codes[i]], shapely.Point()))
            continue
        reason = shapely.is_valid_reason(geoms[i])
        out.append(_v("invalid_geometry", reason, [codes[i]], _where(reason, geoms[i])))
    ok = np.flatnonzero(valid)
    good, good_codes = geoms[ok], codes_arr[ok]
    n_parts = shapely.get_num_geometries(good)
    for k in np.flatnonzero(n_parts > 1):
        out.append(_v("multipart", f"{n_parts[k]} separate parts where one is expected", [good_codes[k]], good[k]))

    if parent_geom is not None and len(good):
        spill = significant(shapely.difference(good, parent_geom), tolerance_m2)
        for k in np.flatnonzero(spill != None):  # noqa: E711 (element-wise)
            out.append(_v("outside_parent", f"{square_metres([spill[k]])[0]:.1f} m² outside the parent",
                          [good_codes[k]], spill[k]))

    coverage_ok = bool(shapely.coverage_is_valid(good)) if len(good) else True
    if not coverage_ok:
        a, b = shapely.STRtree(good).query(good, predicate="intersects")
        pair = a < b
        a, b = a[pair], b[pair]
        common = significant(shapely.intersection(good[a], good[b]), tolerance_m2)
        for k in np.flatnonzero(common != None):  # noqa: E711
            area = square_metres([common[k]])
            out.append(_v("overlap", f"{area[0]:.1f} m² claimed by both",
                          [good_codes[a[k]], good_codes[b[k]]], common[k]))

    if parent_geom is not None and len(good):
        union = shapely.coverage_union_all(good) if coverage_ok else shapely.union_all(good)
        holes = np.asarray(_polygonal_parts(shapely.difference(parent_geom, union)), dtype=object)
        holes = holes[significant(holes, tolerance_m2) != None]  # noqa: E711
        if len(holes):
            area = square_metres(holes)
            tree = shapely.STRtree(good)
            for hole, m2 in zip(holes, area, strict=True):
                around = good_codes[tree.query(hole, predicate="intersects")]
                out.append(_v("gap", f"{m2:.1f} m² of the parent in no area", list(around), hole))

    if len(good):
        parts = shapely.get_parts(good, return_index=True)
        pieces, owner = parts
        m2, width = square_metres(pieces), _widths_m(pieces)
        for k in np.flatnonzero((m2 < min_area_m2) | (width < min_width_m)):
            out.append(_v("sliver", f"a part of {m2[k]:.2f} m², {width[k]:.2f} m wide "
                                    f"(minimum {min_area_m2:g} m², {min_width_m:g} m)",
                          [good_codes[owner[k]]], pieces[k]))
    return out


def new_violations(before: list[Violation], after: list[Violation],
                   tolerance_m2: float = TOLERANCE_M2) -> list[Violation]:
    """The violations of ``after`` that ``before`` did not have (a gap inside an old gap is old)."""
    seen = {(v["reason"], tuple(v["codes"])) for v in before if v["reason"] != "gap"}
    old_gaps = shapely.union_all([v["geometry"] for v in before if v["reason"] == "gap"])
    fresh: list[Violation] = []
    for v in after:
        if v["reason"] == "gap":
            rest = shapely.difference(v["geometry"], old_gaps) if not old_gaps.is_empty else v["geometry"]
            if significant([rest], tolerance_m2)[0] is None:
                continue
        elif (v["reason"], tuple(v["codes"])) in seen:
            continue
        fresh.append(v)
    return fresh
