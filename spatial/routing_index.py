"""The routing index: quadtree cells that answer point-in-grid without a polygon test.

A cell is a lon/lat square of ``2^-level`` degrees, ``level`` from :data:`MIN_LEVEL` (about
750 m) to :data:`MAX_LEVEL` (about 6 m), identified by ``level << 50 | i << 25 | j`` with
``i = floor((lon + 180) * 2^level)`` and ``j = floor((lat + 90) * 2^level)`` — plain float
arithmetic that SQL (``route_point.sql``) and numpy (:mod:`spatial.routing_engine`) both do,
so neither needs h3. A cell is stored only when its square widened by :data:`EPS_DEG`
(about 1 cm) lies within exactly one current grid or touches none, and likewise within one
zone or touches none; a cell that is neither is split into its four children, down to
:data:`MAX_LEVEL`, where what is left are the boundary cells, which the index does not hold:
points there take the exact ``ST_Covers`` query. The margin is many orders of magnitude above
float error, so a point can never be given to the wrong side of an edge.

Rows are replaced per root cell (a :data:`MIN_LEVEL` cell): ``rebuild(conn)`` redoes all of
them, ``rebuild(conn, ground)`` the roots touching ``ground``. The triggers of migration
0014 delete every cell touching changed ground in the writing transaction, so between the
write and the rebuild the index has a hole, never a wrong answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import shapely
from numpy.typing import ArrayLike, NDArray
from psycopg.rows import DictRow
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from spatial.sqlfiles import sql

MIN_LEVEL = 7
MAX_LEVEL = 14
EPS_DEG = 1e-7            # cell margin; the same constant is in routing_cell_box() (migration 0014)
CLEARANCE_CAP_M = 1000.0  # clearances are computed up to this distance
COORD_MASK = (1 << 25) - 1
INSERT_CHUNK = 200_000
INDEXED_KINDS = ("grid", "zone")


def cell_ids(level: int, i: ArrayLike, j: ArrayLike) -> NDArray[np.int64]:
    """Pack level and integer coordinates into cell ids (int64)."""
    return (np.int64(level) << 50) | (np.asarray(i, dtype=np.int64) << 25) | np.asarray(j, dtype=np.int64)


def cell_coords(cells: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Inverse of :func:`cell_ids`: ``(level, i, j)`` arrays."""
    ids = np.asarray(cells, dtype=np.int64)
    return ids >> 50, (ids >> 25) & COORD_MASK, ids & COORD_MASK


def cell_index(lons: ArrayLike, lats: ArrayLike, level: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer cell coordinates of WGS-84 points at ``level`` (same arithmetic as the SQL)."""
    scale = 2.0 ** level
    return (np.floor((np.asarray(lons, dtype=np.float64) + 180.0) * scale).astype(np.int64),
            np.floor((np.asarray(lats, dtype=np.float64) + 90.0) * scale).astype(np.int64))


def cell_boxes(level: int, i: np.ndarray, j: np.ndarray, margin: float = 0.0) -> NDArray[np.object_]:
    """Shapely boxes of cells at one level, widened by ``margin`` degrees."""
    size = 2.0 ** -level
    x0 = i * size - 180.0
    y0 = j * size - 90.0
    return shapely.box(x0 - margin, y0 - margin, x0 + size + margin, y0 + size + margin)


@dataclass
class Layer:
    """Current polygons of one kind: codes (sorted) and shapely geometries."""

    codes: np.ndarray
    geoms: np.ndarray

    def __post_init__(self) -> None:
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)


@dataclass
class Cells:
    """Index rows: cell id, grid code, zone code (None: outside all), clearance in metres."""

    cell: np.ndarray
    grid: list[str | None]
    zone: list[str | None]
    clearance_m: np.ndarray

    def __len__(self) -> int:
        return len(self.cell)


def _resolve(layer: Layer, boxes: NDArray[np.object_]) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Per box: resolved? and the index of the one polygon it lies within (-1: touches none)."""
    n = len(boxes)
    hit_box, hit_geom = layer.tree.query(boxes, predicate="intersects")
    count = np.bincount(hit_box, minlength=n)
    one = np.full(n, -1, dtype=np.int64)
    one[hit_box] = hit_geom
    single = np.flatnonzero(count == 1)
    within = shapely.contains(layer.geoms[one[single]], boxes[single])
    owner = np.full(n, -1, dtype=np.int64)
    owner[single[within]] = one[single[within]]
    return (count == 0) | (owner >= 0), owner


def _metres_per_degree(lat_max: np.ndarray) -> NDArray[np.float64]:
    """A lower bound of the metres in one degree (either axis) up to ``|lat| = lat_max`` on WGS-84."""
    metres: NDArray[np.float64] = 0.99 * np.minimum(
        111_319.49 * np.cos(np.radians(np.minimum(np.abs(lat_max), 89.0))), 110_574.0)
    return metres


def _foreign_boundaries(grids: Layer) -> NDArray[np.object_]:
    """Per grid: its boundary plus the boundary of every grid overlapping its interior.

    The distance from a point inside grid A (and in no other grid) to any other grid B is at
    least its distance to that geometry, overlapping grids or not.
    """
    out = shapely.boundary(grids.geoms)
    a, b = grids.tree.query(grids.geoms, predicate="intersects")
    other = a != b
    a, b = a[other], b[other]
    shared_interior = ~shapely.touches(grids.geoms[a], grids.geoms[b])   # overlapping, within or containing
    for x, y in zip(a[shared_interior].tolist(), b[shared_interior].tolist(), strict=True):
        out[x] = shapely.union(out[x], shapely.boundary(grids.geoms[y]))
    return out


def _codes_at(layer: Layer, k: NDArray[np.int64]) -> NDArray[np.object_]:
    """The layer's code at each index of ``k``, None where it is -1."""
    out = np.full(len(k), None, dtype=object)
    hit = k >= 0
    out[hit] = layer.codes[k[hit]]
    return out


def build_cells(grids: Layer, zones: Layer, roots_i: np.ndarray, roots_j: np.ndarray) -> Cells:
    """Classify the quadtrees under the given :data:`MIN_LEVEL` roots.

    Parameters
    ----------
    grids, zones : Layer
        Every current grid and zone that may touch the roots (more is harmless).
    roots_i, roots_j : numpy.ndarray
        Integer coordinates of the root cells at :data:`MIN_LEVEL`.

    Returns
    -------
    Cells
        The resolved cells; boundary cells at :data:`MAX_LEVEL` are left out.
    """
    out_cell: list[NDArray[np.int64]] = []
    out_grid: list[NDArray[np.object_]] = []
    out_zone: list[NDArray[np.object_]] = []
    out_clear: list[NDArray[np.float32]] = []
    foreign = _foreign_boundaries(grids) if len(grids.geoms) else np.array([])
    i, j = np.asarray(roots_i, dtype=np.int64), np.asarray(roots_j, dtype=np.int64)
    for level in range(MIN_LEVEL, MAX_LEVEL + 1):
        if not len(i):
            break
        boxes = cell_boxes(level, i, j, EPS_DEG)
        ok, grid = _resolve(grids, boxes)
        zone = np.full(len(i), -1, dtype=np.int64)
        if ok.any():
            idx = np.flatnonzero(ok)
            zok, zown = _resolve(zones, boxes[idx])
            ok[idx] = zok
            zone[idx] = zown
        done = np.flatnonzero(ok)
        if len(done):
            out_cell.append(cell_ids(level, i[done], j[done]))
            g, z = grid[done], zone[done]
            out_grid.append(_codes_at(grids, g))
            out_zone.append(_codes_at(zones, z))
            clear = np.zeros(len(done), dtype=np.float32)
            inside = np.flatnonzero(g >= 0)
            if len(inside):
                raw = cell_boxes(level, i[done][inside], j[done][inside])
                deg = shapely.distance(raw, foreign[g[inside]])
                lat_y0 = j[done][inside] * 2.0 ** -level - 90.0   # the farthest latitude within the cap
                lat_far = np.maximum(np.abs(lat_y0), np.abs(lat_y0 + 2.0 ** -level)) + CLEARANCE_CAP_M / 100_000
                metres = deg * _metres_per_degree(lat_far)
                clear[inside] = np.minimum(metres, CLEARANCE_CAP_M)
            out_clear.append(clear)
        rest = np.flatnonzero(~ok)
        if level == MAX_LEVEL:
            break
        i, j = i[rest] * 2, j[rest] * 2
        i = np.concatenate([i, i + 1, i, i + 1])
        j = np.concatenate([j, j, j + 1, j + 1])
    if not out_cell:
        return Cells(np.zeros(0, dtype=np.int64), [], [], np.zeros(0, dtype=np.float32))
    return Cells(np.concatenate(out_cell), np.concatenate(out_grid).tolist(), np.concatenate(out_zone).tolist(),
                 np.concatenate(out_clear))


def roots_for(bounds: tuple[float, ...],
              ground: BaseGeometry | None = None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Root cells (:data:`MIN_LEVEL`) over ``bounds``, only those touching ``ground`` if given."""
    xmin, ymin, xmax, ymax = bounds
    (i0, i1), (j0, j1) = cell_index([xmin - EPS_DEG, xmax + EPS_DEG], [ymin - EPS_DEG, ymax + EPS_DEG], MIN_LEVEL)
    grid_i, grid_j = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1))
    i, j = grid_i.ravel(), grid_j.ravel()
    if ground is not None:
        keep = shapely.intersects(cell_boxes(MIN_LEVEL, i, j, EPS_DEG), ground)
        i, j = i[keep], j[keep]
    return i, j


def _layers(rows: Sequence[Mapping[str, Any]]) -> tuple[Layer, Layer]:
    def layer(kind: str) -> Layer:
        picked = [r for r in rows if r["kind"] == kind]
        return Layer(np.array([r["code"] for r in picked], dtype=object),
                     np.array(shapely.from_wkb([bytes(r["wkb"]) for r in picked]), dtype=object))
    return layer("grid"), layer("zone")


def _envelope(envelope: tuple[float, float, float, float] | None) -> dict[str, float | None]:
    return dict(zip(("xmin", "ymin", "xmax", "ymax"), envelope, strict=True)) if envelope else \
        {"xmin": None, "ymin": None, "xmax": None, "ymax": None}


# A step of the rebuild: (query name, parameters, whether its rows are wanted). The rebuild is
# written once, as a generator of steps that receives each step's rows, and driven on a sync
# connection (the command line's bulk work) or an async one (an area edit, in its transaction).
Step = tuple[str, dict[str, Any], bool]


def _rebuild_steps(ground: BaseGeometry | None, say: Callable[[str], None]) -> Generator[Step, Any, int]:
    t0 = time.perf_counter()
    if ground is not None and ground.is_empty:
        return 0
    if ground is None:
        grids, zones = _layers((yield "routing_index_layers", _envelope(None), True))
        allg = np.concatenate([grids.geoms, zones.geoms])
        yield "routing_index_clear", {}, False
        if not len(allg):
            yield "routing_index_built", {"min_level": MIN_LEVEL, "max_level": MAX_LEVEL}, False
            return 0
        roots_i, roots_j = roots_for(tuple(shapely.total_bounds(allg)))
    else:
        roots_i, roots_j = roots_for(ground.bounds, ground)
        if not len(roots_i):
            return 0
        size = 2.0 ** -MIN_LEVEL
        env = (roots_i.min() * size - 180.0, roots_j.min() * size - 90.0,
               (roots_i.max() + 1) * size - 180.0, (roots_j.max() + 1) * size - 90.0)
        pad = CLEARANCE_CAP_M / 90_000   # grids within the clearance cap matter too
        grids, zones = _layers((yield "routing_index_layers",
                                _envelope((env[0] - pad, env[1] - pad, env[2] + pad, env[3] + pad)), True))
        yield "routing_index_delete_roots", {
            "roots": cell_ids(MIN_LEVEL, roots_i, roots_j).tolist(), "min_level": MIN_LEVEL,
            "xmin": env[0], "ymin": env[1], "xmax": env[2], "ymax": env[3]}, False
    say(f"routing index: {len(grids.codes):,} grids, {len(zones.codes):,} zones, {len(roots_i):,} root cells")
    cells = build_cells(grids, zones, roots_i, roots_j)
    say(f"routing index: {len(cells):,} cells classified in {time.perf_counter() - t0:.1f} s; writing")
    for start in range(0, len(cells), INSERT_CHUNK):
        stop = start + INSERT_CHUNK
        yield "routing_index_insert", {
            "cells": cells.cell[start:stop].tolist(), "grids": cells.grid[start:stop],
            "zones": cells.zone[start:stop], "clearances": cells.clearance_m[start:stop].tolist()}, False
        say(f"routing index: {min(stop, len(cells)):,}/{len(cells):,} cells written")
    yield "routing_index_built", {"min_level": MIN_LEVEL, "max_level": MAX_LEVEL}, False
    return len(cells)


def rebuild(conn: psycopg.Connection, ground: BaseGeometry | None = None,
            progress: Callable[[str], None] | None = None) -> int:
    """Rebuild the index for all ground or the root cells touching ``ground``, in the caller's transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        An open connection in a transaction (sync; see :func:`rebuild_async`).
    ground : shapely geometry, optional
        Changed ground (old and new shapes); None rebuilds everything.
    progress : callable, optional
        Receives one line per step.

    Returns
    -------
    int
        Number of cells written.

    Examples
    --------
    >>> with psycopg.connect(dsn) as conn:  # doctest: +SKIP
    ...     rebuild(conn)
    812345
    """
    steps = _rebuild_steps(ground, progress or (lambda _line: None))
    rows: list[DictRow] | int | None = None
    try:
        while True:
            name, params, wanted = steps.send(rows)
            rows = sql.fetchall_sync(conn, name, params) if wanted else sql.execute_sync(conn, name, params)
    except StopIteration as done:
        written: int = done.value
        return written


async def rebuild_async(conn: psycopg.AsyncConnection, ground: BaseGeometry | None = None) -> int:
    """:func:`rebuild` on an async connection (same transaction)."""
    steps = _rebuild_steps(ground, lambda _line: None)
    rows: list[DictRow] | int | None = None
    try:
        while True:
            name, params, wanted = steps.send(rows)
            rows = await sql.fetchall(conn, name, params) if wanted else await sql.execute(conn, name, params)
    except StopIteration as done:
        written: int = done.value
        return written


def is_empty(conn: psycopg.Connection) -> bool:
    """True when the index holds no cell (fresh migration, or everything deleted)."""
    return not sql.fetchall_sync(conn, "routing_index_any")
