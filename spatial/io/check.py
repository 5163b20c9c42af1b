"""Every problem of every feature of an imported layer, with its row number.

Row checks (this module): a missing or non-polygon geometry, an invalid one with GEOS's
reason (self-intersection ...), a missing code or name, a code used twice. Partition checks
(outside the parent, overlaps between features, gaps against the parent, slivers) come from
:func:`spatial.partition.validate.violations` and are mapped back to rows by code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dataclass_field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError

if TYPE_CHECKING:
    from spatial.partition.validate import Violation

REQUIRED_COLUMNS = ("code", "name")
MAX_CODE_CHARS = 32
MAX_NAME_CHARS = 200
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class Problem:
    """One problem: ``row`` (1-based, None when not one feature's), the field, a reason key, text."""

    row: int | None
    field: str
    reason: str
    detail: str
    codes: list[str] = dataclass_field(default_factory=list)  # `field` is the attribute above

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "detail": self.detail,
                "codes": self.codes}


def text_value(value: Any) -> str | None:
    """A cell (of any type a file's column holds) as clean text: None for blanks and NaN; integral
    floats without ``.0`` (shapefile codes)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def require_columns(frame: gpd.GeoDataFrame) -> None:
    """Refuse a file without a ``code`` or ``name`` column, naming the column.

    Raises
    ------
    spatial.errors.InputError
        ``field`` is the missing column.
    """
    columns = [c for c in frame.columns if c not in ("row", frame.geometry.name)]
    for col in REQUIRED_COLUMNS:
        if col not in frame.columns:
            raise InputError(col, f"the file has no {col!r} column (its columns: {', '.join(columns) or 'none'})")


def row_problems(frame: gpd.GeoDataFrame) -> list[Problem]:
    """The problems each feature has on its own, and duplicate codes.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        As returned by :func:`spatial.io.read_layer` (``row``, ``code``, ``name``, ``geometry``).

    Returns
    -------
    list of Problem
        In row order.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> gdf = gpd.GeoDataFrame({"row": [1, 2], "code": ["a", "a"], "name": ["x", None]},
    ...                        geometry=[shapely.box(0, 0, 1, 1), bowtie])
    >>> [(p.row, p.reason) for p in row_problems(gdf)]
    [(1, 'duplicate_code'), (2, 'invalid_geometry'), (2, 'missing_name'), (2, 'duplicate_code')]
    """
    problems: list[Problem] = []
    geoms = frame.geometry.values
    types = shapely.get_type_id(geoms)
    valid = shapely.is_valid(geoms)
    codes = [text_value(v) for v in frame["code"]]
    rows_of: dict[str, list[int]] = {}
    for row, code in zip(frame["row"], codes, strict=True):
        if code is not None:
            rows_of.setdefault(code, []).append(int(row))
    for i, row in enumerate(frame["row"]):
        row = int(row)
        geom, code, name = geoms[i], codes[i], text_value(frame["name"].iloc[i])
        if geom is None or shapely.is_empty(geom):
            problems.append(Problem(row, "geometry", "missing_geometry", "the feature has no geometry", _c(code)))
        elif types[i] not in (3, 6):  # Polygon, MultiPolygon
            problems.append(Problem(row, "geometry", "not_polygon",
                                    f"a {geom.geom_type}, not a Polygon or MultiPolygon", _c(code)))
        elif not valid[i]:
            problems.append(Problem(row, "geometry", "invalid_geometry", shapely.is_valid_reason(geom), _c(code)))
        if code is None:
            problems.append(Problem(row, "code", "missing_code", "the feature has no code"))
        elif len(code) > MAX_CODE_CHARS or any(ch.isspace() for ch in code):
            problems.append(Problem(row, "code", "bad_code",
                                    f"a code has at most {MAX_CODE_CHARS} characters and no spaces", [code[:64]]))
        if name is None:
            problems.append(Problem(row, "name", "missing_name", "the feature has no name", _c(code)))
        elif len(name) > MAX_NAME_CHARS:
            problems.append(Problem(row, "name", "bad_name", f"a name has at most {MAX_NAME_CHARS} characters",
                                    _c(code)))
        if code is not None and len(rows_of[code]) > 1:
            others = [r for r in rows_of[code] if r != row]
            problems.append(Problem(row, "code", "duplicate_code",
                                    f"code {code} is also in row{'s' if len(others) > 1 else ''} "
                                    f"{', '.join(map(str, others))}", [code]))
    return problems


def _c(code: str | None) -> list[str]:
    return [code] if code else []


def partition_problems(children: list[dict[str, Any]], before: list[dict[str, Any]] | None, parent_code: str,
                       parent_geom: BaseGeometry, rows: dict[str, int]) -> list[Problem]:
    """Outside the parent, overlaps, gaps and slivers of ``children`` (the parent's whole new
    partition: imported features and the areas kept) that ``before`` (the current children)
    did not already have, mapped to the rows of the file.

    Parameters
    ----------
    children : list of dict
        Each ``{"code": str, "geometry": shapely polygonal}``; only valid polygons.
    before : list of dict or None
        The parent's current children (their existing violations are not the file's fault).
    parent_code : str
        For the messages.
    parent_geom : shapely geometry
        The parent's boundary.
    rows : dict
        code -> row number of the imported features (kept areas have none).

    Returns
    -------
    list of Problem
        One per violation; ``row`` is the first involved row of the file (None for a gap).
    """
    problems: list[Problem] = []
    for v in _violations(children, before, parent_geom):
        involved = sorted(rows[c] for c in v.get("codes", []) if c in rows)
        where = f" (rows {', '.join(map(str, involved))})" if len(involved) > 1 else ""
        detail = (v.get("detail") or v["reason"]) + where
        if v["reason"] == "gap":
            detail = f"{detail}: ground of {parent_code} that no feature covers"
        problems.append(Problem(involved[0] if involved else None, "geometry", v["reason"], detail,
                                list(v.get("codes", []))))
    return problems


def _violations(children: list[dict[str, Any]], before: list[dict[str, Any]] | None,
                parent_geom: BaseGeometry) -> list[Violation]:
    """The partition's validation (:mod:`spatial.partition.validate`), new violations only;
    the small check below when that module is absent."""
    try:
        from spatial.partition.validate import new_violations, violations
    except ImportError:
        return basic_violations(children, parent_geom)
    after = violations(children, parent_geom)
    if before is None or not after:
        return after
    return new_violations(violations(before, parent_geom), after)


#: Pieces smaller than this (square degrees, about 10 m² here) are rounding, not ground.
MIN_PIECE_DEG2 = 1e-9


def basic_violations(children: list[dict[str, Any]], parent_geom: BaseGeometry,
                     min_area: float = MIN_PIECE_DEG2) -> list[Violation]:
    """Outside the parent, overlaps between children and gaps in the parent (shapely only).

    A stand-in with the contract of :func:`spatial.partition.validate.violations` for when that
    module is absent: each violation ``{"reason", "detail", "codes", "geometry"}``.

    Examples
    --------
    >>> import shapely
    >>> parent = shapely.box(0, 0, 2, 1)
    >>> kids = [{"code": "a", "geometry": shapely.box(0, 0, 1.2, 1)},
    ...         {"code": "b", "geometry": shapely.box(1, 0, 1.8, 1)}]
    >>> sorted(v["reason"] for v in basic_violations(kids, parent))
    ['gap', 'overlap']
    """
    found: list[Violation] = []
    geoms = [c["geometry"] for c in children]
    codes = [c["code"] for c in children]
    for code, geom in zip(codes, geoms, strict=True):
        outside = shapely.difference(geom, parent_geom)
        if shapely.area(outside) > min_area:
            found.append({"reason": "outside_parent", "detail": f"{code} reaches outside its parent",
                          "codes": [code], "geometry": outside})
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i < j:
            overlap = shapely.intersection(geoms[i], geoms[j])
            if shapely.area(overlap) > min_area:
                found.append({"reason": "overlap", "detail": f"{codes[i]} and {codes[j]} overlap",
                              "codes": [codes[i], codes[j]], "geometry": overlap})
    covered = shapely.union_all(geoms) if geoms else shapely.Polygon()
    for piece in shapely.get_parts(shapely.difference(parent_geom, covered)):
        if shapely.area(piece) > min_area:
            found.append({"reason": "gap", "detail": f"a gap of {shapely.area(piece):.2e} square degrees",
                          "codes": [], "geometry": piece})
    return found
