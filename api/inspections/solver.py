"""A team-day's visits chosen and ordered with OR-Tools' routing solver (a TSP with a count
limit): from the station, through at most ``capacity`` places, back to the station; a place
left out costs a penalty that grows with how overdue it is, so when the day cannot hold every
due place the most overdue go first. Distances are straight lines (metres on the ground,
equirectangular: a zone is a few kilometres across), not the street network.

Pure: no database. ``solve`` is CPU work; the caller runs it in a thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

EARTH_M = 6_371_008.8
DROP_BASE = 10**9          # leaving a place out costs more than any detour in a zone ...
DROP_PER_PRIORITY = 10**7  # ... and more the more overdue it is (0.01 of priority = 100 km)


@dataclass(frozen=True)
class Route:
    order: list[int]     # indices into the places, in visiting order
    length_m: float      # station -> places -> station
    naive_m: float       # the same places in the order given (most overdue first)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line distance between two lon/lat points (equirectangular)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(lat)
    dy = math.radians(b[1] - a[1])
    return EARTH_M * math.hypot(dx, dy)


def tour_length(depot: tuple[float, float], points: Sequence[tuple[float, float]]) -> float:
    stops = [depot, *points, depot]
    return sum(metres(stops[i], stops[i + 1]) for i in range(len(stops) - 1)) if points else 0.0


def solve(depot: tuple[float, float], places: Sequence[tuple[float, float]], priorities: Sequence[float], *,
          capacity: int, time_limit_s: float) -> Route:
    """Choose at most ``capacity`` of ``places`` (given most overdue first) and order them."""
    n = len(places)
    if n == 0 or capacity < 1:
        return Route([], 0.0, 0.0)
    nodes = [depot, *places]
    dist = [[round(metres(a, b)) for b in nodes] for a in nodes]
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance(i: int, j: int) -> int:
        return dist[manager.IndexToNode(i)][manager.IndexToNode(j)]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance))
    count = routing.RegisterUnaryTransitCallback(lambda i: 0 if manager.IndexToNode(i) == 0 else 1)
    routing.AddDimensionWithVehicleCapacity(count, 0, [capacity], True, "visits")
    for k in range(n):
        penalty = DROP_BASE + round(max(priorities[k], 0.0) * DROP_PER_PRIORITY)
        routing.AddDisjunction([manager.NodeToIndex(k + 1)], penalty)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    # guided local search runs until its time is up: a few places need a fraction of the limit
    params.time_limit.FromMilliseconds(max(50, round(1000 * min(time_limit_s, 0.05 + 0.005 * n))))
    solution = routing.SolveWithParameters(params)
    if solution is None:  # cannot happen with disjunctions; say so rather than plan nothing silently
        raise RuntimeError("the routing solver found no plan")
    order = []
    i = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(i):
        order.append(manager.IndexToNode(i) - 1)
        i = solution.Value(routing.NextVar(i))
    chosen = [places[k] for k in order]
    naive = [places[k] for k in sorted(order)]
    return Route(order, tour_length(depot, chosen), tour_length(depot, naive))
