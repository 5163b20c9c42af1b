"""In-process routing engine: the routing index (:mod:`spatial.routing_index`) as numpy arrays.

Every stored cell becomes a range of Morton codes at :data:`~spatial.routing_index.MAX_LEVEL`;
the ranges are disjoint and sorted, so the cell of a batch of points is one ``np.searchsorted``.
A point in a stored cell gets the cell's answer (grid and its community, street and district,
zone and its workstation, exactly what ``route_many.sql`` gives); a point in a boundary cell,
or outside the indexed ground, gets no answer here and the caller asks PostGIS for it.

A snapshot is keyed by the database and ``routing_index_state.version`` (a sequence value
taken by every change to ``area``, ``station`` or the cells, so a rolled-back change is never
mistaken for a later one); :meth:`RoutingEngine.current` costs one small query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from psycopg import AsyncConnection

from spatial.routing_index import cell_coords, cell_index
from spatial.sqlfiles import sql

COLUMNS = ("grid_code", "community_code", "street_code", "district_code", "zone_code", "station_code")
_MASKS = ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
          (2, 0x3333333333333333), (1, 0x5555555555555555))


def _spread(v: np.ndarray) -> NDArray[np.uint64]:
    v = v.astype(np.uint64)
    for shift, mask in _MASKS:
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def morton(i: np.ndarray, j: np.ndarray) -> NDArray[np.uint64]:
    """Interleave the bits of two non-negative integer arrays (< 2**32) into uint64 Morton codes."""
    return _spread(i) | (_spread(j) << np.uint64(1))


@dataclass(frozen=True)
class Snapshot:
    """One version of the routing index in memory."""

    key: tuple[str, int]     # (database, version)
    max_level: int
    lo: np.ndarray           # uint64, sorted: first Morton code (at max_level) of each cell
    hi: np.ndarray           # uint64: last Morton code of each cell
    pair: np.ndarray         # int32: index into answers per cell
    answers: tuple[dict[str, str | None] | None, ...]  # per pair: dict of COLUMNS values, or None (ask PostGIS)
    bounds: tuple[int, int, int, int]  # (imin, imax, jmin, jmax) at max_level, inclusive
    usable: np.ndarray       # bool per pair, and a trailing False (for -1)
    rows: tuple[dict[str, Any] | None, ...] = ()  # per pair: {"idx": 0, **answer} (a row template), or None
                                                  # (lookup gives -1 there); and a trailing {} for -1

    @property
    def nbytes(self) -> int:
        return self.lo.nbytes + self.hi.nbytes + self.pair.nbytes

    def lookup(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Per point the index into :attr:`answers`, or -1 (boundary cell or outside: ask PostGIS)."""
        out = np.full(len(lons), -1, dtype=np.int64)
        if not len(self.lo) or not len(lons):
            return out
        imin, imax, jmin, jmax = self.bounds
        # range check in degrees first: no overflow for far-away (but finite) coordinates
        size = 2.0 ** -self.max_level
        inside = ((lons >= imin * size - 180.0) & (lons < (imax + 1) * size - 180.0)
                  & (lats >= jmin * size - 90.0) & (lats < (jmax + 1) * size - 90.0))
        where = np.flatnonzero(inside)
        if not len(where):
            return out
        i, j = cell_index(lons[where], lats[where], self.max_level)
        code = morton(i, j)
        order = np.argsort(code)        # sorted needles: searchsorted stays in cache
        k = np.empty(len(code), dtype=np.int64)
        k[order] = np.searchsorted(self.lo, code[order], side="right") - 1
        hit = k >= 0
        hit[hit] = code[hit] <= self.hi[k[hit]]
        out[where[hit]] = self.pair[k[hit]]
        out[~self.usable[out]] = -1     # -1 indexes the trailing False
        return out


def build_snapshot(rows: Iterable[Mapping[str, Any]]) -> Snapshot:
    """A :class:`Snapshot` from the rows of ``routing_engine_load.sql``."""
    rows = list(rows)
    first = rows[0]
    max_level = int(first["max_level"])
    parts: list[NDArray[np.int64]] = []
    pairs: list[NDArray[np.int32]] = []
    answers: list[dict[str, str | None] | None] = []
    for k, r in enumerate(r for r in rows if r["cells"] is not None):
        cells = np.frombuffer(bytes(r["cells"]), dtype=">i8").astype(np.int64)
        parts.append(cells)
        pairs.append(np.full(len(cells), k, dtype=np.int32))
        answers.append({c: r[c] for c in COLUMNS} if r["usable"] else None)
    cells = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    pair = np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.int32)
    level, i, j = cell_coords(cells)
    shift = (max_level - level).astype(np.uint64)
    lo = morton(i.astype(np.uint64) << shift, j.astype(np.uint64) << shift)
    hi = lo + ((np.uint64(1) << (shift * np.uint64(2))) - np.uint64(1))
    order = np.argsort(lo)
    if len(cells):
        span = np.int64(1) << (max_level - level)
        bounds = (int((i * span).min()), int(((i + 1) * span).max() - 1),
                  int((j * span).min()), int(((j + 1) * span).max() - 1))
    else:
        bounds = (0, -1, 0, -1)
    return Snapshot(key=(first["db"], int(first["version"])), max_level=max_level, lo=lo[order], hi=hi[order],
                    pair=pair[order], answers=tuple(answers), bounds=bounds,
                    rows=tuple([None if a is None else {"idx": 0, **a} for a in answers] + [{}]),
                    usable=np.array([a is not None for a in answers] + [False], dtype=bool))


class RoutingEngine:
    """The process's copy of the routing index, loaded lazily and reloaded when stale."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None

    async def version(self, conn: AsyncConnection) -> tuple[str, int]:
        row = await sql.fetchone(conn, "routing_engine_version")
        assert row is not None  # one row: routing_index_state has exactly one
        return (row["db"], int(row["version"]))

    async def current(self, conn: AsyncConnection, *, load: bool = True) -> Snapshot | None:
        """The snapshot matching the database as ``conn`` sees it; loads it if stale and ``load``.

        Returns None when stale and not ``load``.
        """
        key = await self.version(conn)
        snap = self.snapshot
        if snap is not None and snap.key == key:
            return snap
        if not load:
            return None
        snap = build_snapshot(await sql.fetchall(conn, "routing_engine_load"))
        self.snapshot = snap
        return snap

    def forget(self) -> None:
        self.snapshot = None


ENGINE = RoutingEngine()
