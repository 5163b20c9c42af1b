"""Incident heatmaps on H3 hexagons, and early warning (预测预警) against each place's own past.

The database keeps counts per resolution-9 cell and hour (table ``incident_heat``, kept up to
date by triggers); a coarser hexagon is the sum of its children, so a map at any zoom is one
grouped read plus :func:`aggregate`. Early warning compares the last days with the same
place's baseline under a Poisson model (:func:`poisson_sf`), with a minimum count so that one
or two reports in a quiet corner raise nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3

FINE_RESOLUTION = 9   # the rollup's cells (api.incidents.H3_RESOLUTION)
COARSEST = 5
# map zoom -> hexagon resolution: about 20-40 px a hexagon on screen
ZOOM_TO_RESOLUTION = {10: 5, 11: 6, 12: 7, 13: 8, 14: 9}

GeoJSON = dict[str, Any]  # a GeoJSON object, as orjson writes it


def resolution_for_zoom(zoom: int) -> int:
    """The hexagon resolution that keeps cells a readable size on screen at ``zoom``.

    >>> resolution_for_zoom(8), resolution_for_zoom(12), resolution_for_zoom(17)
    (5, 7, 9)
    """
    return ZOOM_TO_RESOLUTION.get(zoom, COARSEST if zoom < 10 else FINE_RESOLUTION)


def aggregate(rows: Iterable[tuple[str, int]], resolution: int,
              bbox: tuple[float, float, float, float] | None = None) -> dict[str, int]:
    """Sum fine-cell counts into their parents at ``resolution``; keep the hexagons whose centre
    lies in ``bbox`` (xmin, ymin, xmax, ymax) when given.

    >>> cell = h3.latlng_to_cell(30.87, 120.42, 9)
    >>> aggregate([(cell, 2), (cell, 3)], 7) == {h3.cell_to_parent(cell, 7): 5}
    True
    """
    if not COARSEST <= resolution <= FINE_RESOLUTION:
        raise ValueError(f"resolution must be {COARSEST}..{FINE_RESOLUTION}, not {resolution}")
    counts: dict[str, int] = defaultdict(int)
    for cell, n in rows:
        counts[cell if resolution == FINE_RESOLUTION else h3.cell_to_parent(cell, resolution)] += n
    if bbox is not None:
        xmin, ymin, xmax, ymax = bbox
        counts = {c: n for c, n in counts.items()
                  if xmin <= (ll := h3.cell_to_latlng(c))[1] <= xmax and ymin <= ll[0] <= ymax}
    return dict(counts)


def hexagon(cell: str) -> GeoJSON:
    """The cell's outline as a GeoJSON Polygon (lon, lat; closed ring)."""
    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [ring + ring[:1]]}


def centre(cell: str) -> tuple[float, float]:
    """The cell's centre as (lat, lon)."""
    latlng: tuple[float, float] = h3.cell_to_latlng(cell)
    return latlng


def feature_collection(counts: dict[str, int], resolution: int) -> GeoJSON:
    """Hexagons with their counts, largest first, as GeoJSON."""
    features = [{"type": "Feature", "id": cell, "geometry": hexagon(cell),
                 "properties": {"cell": cell, "count": n, "resolution": resolution}}
                for cell, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features),
            "total": sum(counts.values()), "max": max(counts.values(), default=0)}


def poisson_sf(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected): how surprising ``observed`` is.

    >>> round(poisson_sf(0, 3.0), 6), round(poisson_sf(10, 2.0), 6)
    (1.0, 4.6e-05)
    """
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    # 1 - P(X <= observed - 1), summed in log space so large counts neither overflow nor underflow
    log_terms = [-expected + k * math.log(expected) - math.lgamma(k + 1) for k in range(observed)]
    top = max(log_terms)
    below = math.exp(top) * sum(math.exp(t - top) for t in log_terms)
    if below < 0.5:
        return 1.0 - below
    # the upper tail directly when it is the small side (keeps precision for tiny p-values)
    tail, k, term = 0.0, observed, math.exp(-expected + observed * math.log(expected) - math.lgamma(observed + 1))
    while term > 1e-300 and (tail == 0 or term > tail * 1e-16):
        tail += term
        k += 1
        term *= expected / k
    return min(1.0, tail)


@dataclass(frozen=True)
class WarningRule:
    recent_days: int = 7
    baseline_weeks: int = 8
    min_count: int = 5
    alpha: float = 0.01


def warnings(recent: dict[str, int], baseline: dict[str, int], rule: WarningRule) -> list[dict[str, Any]]:
    """Places whose count in the recent window is significantly above their own baseline.

    ``recent`` and ``baseline`` map a place (a cell or a grid code) to its count in the last
    ``recent_days`` and in the ``baseline_weeks`` weeks before them. Expected = the baseline's
    rate over the same number of days (at least half a report, so a place with no history is
    judged against a small rate, not zero).

    >>> flagged = warnings({"a": 12, "b": 3}, {"a": 16, "b": 24}, WarningRule())
    >>> [(w["place"], w["observed"], w["expected"]) for w in flagged]
    [('a', 12, 2.0)]
    """
    days_baseline = rule.baseline_weeks * 7
    out: list[dict[str, Any]] = []  # the caller adds the place's outline and names
    for place, observed in recent.items():
        if observed < rule.min_count:
            continue
        expected = max(baseline.get(place, 0) * rule.recent_days / days_baseline, 0.5)
        p = poisson_sf(observed, expected)
        if p < rule.alpha:
            out.append({"place": place, "observed": observed, "expected": round(expected, 3),
                        "baseline": baseline.get(place, 0), "ratio": round(observed / expected, 2),
                        "p_value": p})
    return sorted(out, key=lambda w: (w["p_value"], -w["observed"], w["place"]))
