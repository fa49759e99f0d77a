"""Collection rounds: a capacitated vehicle routing problem solved with OR-Tools.

:func:`solve_round` visits every :class:`Stop` from one depot with vehicles of
one capacity and returns a :class:`Round`: the trips in visiting order and
their length. Distances are great-circle (haversine) kilometres times a road
detour factor; the solver works on integer metres (:data:`DISTANCE_SCALE`,
the only place where kilometres become solver units) and on loads counted in
millionths of the vehicle capacity (:data:`LOAD_RESOLUTION`).

The search is PATH_CHEAPEST_ARC for a first solution, then a greedy descent
(local search to the first local optimum), capped at :data:`SOLUTIONS_PER_VISIT`
solutions per visit: a deterministic amount of work, so the same stops give
the same round on any machine and under any load (no wall-clock limit unless a
caller asks for one with ``time_limit_s``; :attr:`Round.limit` says which limit
ended the search). Measured on the benchmark's dense territory (368 rounds,
9 161 stops), the descent drives 0.5 % more km than a guided local search
stopped at 2 solutions per visit, for a fifth of its time
(``benchmarks/results/pooling.md``); ``metaheuristic="guided"`` asks for the
latter.

A large round is split before routing (:func:`sweep_sectors`): the stops are
swept by angle around the depot and cut into sectors of at most
:data:`SECTOR_VISITS` visits and :data:`SECTOR_TRIPS` truck loads, each
routed on its own and the trips put together. The solver's work grows much
faster than linearly with the visits; sectors keep every solve small (a group
of 300 members is 8 small solves, not one that a limit cuts short).

:func:`estimate_round` gives a round's length from the geometry alone (no
solver), for callers that need many rough figures quickly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from scipy.sparse import csr_array
from scipy.sparse.csgraph import minimum_spanning_tree

from symbiose.geo import distance_matrix_km, haversine_km

DISTANCE_SCALE = 1000  # solver distance units per km (metres)
LOAD_RESOLUTION = 1_000_000  # solver load units per vehicle capacity
SOLUTIONS_PER_VISIT = 20  # the search stops after this many solutions per visit (the descent usually ends first)
GUIDED_SOLUTIONS_PER_VISIT = 2  # ... with metaheuristic="guided"
EXTRA_VEHICLES = 2  # vehicles offered beyond a first-fit-decreasing packing of the loads
SECTOR_VISITS = 40  # above this many visits, a round is routed in sectors swept around the depot
SECTOR_TRIPS = 4  # truck loads per sector at most
_METAHEURISTICS = {
    "greedy": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
    "guided": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
}
_STATUS_RANK = {"EMPTY": 0, "TRIVIAL": 0, "ROUTING_OPTIMAL": 1, "ROUTING_SUCCESS": 2}  # a merged round reports the worst


@dataclass(frozen=True, slots=True)
class Stop:
    """A place to visit: ``demand`` is the load picked up at each visit."""

    id: str
    lat: float
    lon: float
    demand: float


@dataclass(frozen=True, slots=True)
class Visit:
    """One call at a stop (``stop`` indexes the input stops) and the load taken."""

    stop: int
    load: float


@dataclass(frozen=True, slots=True)
class Round:
    """One collection round: one or more trips from the depot and back."""

    depot: tuple[float, float]
    stops: tuple[Stop, ...]
    trips: tuple[tuple[Visit, ...], ...]
    trip_km: tuple[float, ...]
    detour_factor: float
    status: str  # OR-Tools search status name, "TRIVIAL" or "EMPTY"
    limit: str = "solutions"  # "solutions", "time" or "none"
    solve_seconds: float = 0.0

    @property
    def km(self) -> float:
        """Road km of the whole round (all trips)."""
        return float(sum(self.trip_km))

    @property
    def vehicles(self) -> int:
        """Trips (vehicle loads) needed for one round."""
        return len(self.trips)

    @property
    def visits(self) -> int:
        return sum(len(t) for t in self.trips)

    @property
    def order(self) -> tuple[int, ...]:
        """Stop indexes in the order of their first visit."""
        seen: dict[int, None] = {}
        for trip in self.trips:
            for v in trip:
                seen.setdefault(v.stop, None)
        return tuple(seen)

    def individual_km(self) -> float:
        """Road km if each stop were served alone by a return trip from the depot."""
        if not self.stops:
            return 0.0
        d = haversine_km(
            self.depot[0], self.depot[1],
            np.array([s.lat for s in self.stops]), np.array([s.lon for s in self.stops]),
        )
        return float(np.sum(2.0 * d * np.array(self._visits_per_stop())) * self.detour_factor)

    def _visits_per_stop(self) -> list[int]:
        counts = [0] * len(self.stops)
        for trip in self.trips:
            for v in trip:
                counts[v.stop] += 1
        return counts


def _split_visits(stops: Sequence[Stop], capacity: float) -> list[Visit]:
    """One visit per stop; a stop whose demand exceeds the capacity gets full
    loads and one visit for the remainder."""
    visits = []
    for i, s in enumerate(stops):
        if s.demand < 0 or not math.isfinite(s.demand):
            raise ValueError(f"stop {s.id!r}: demand must be a finite number >= 0")
        full, rest = (divmod(s.demand, capacity) if math.isfinite(capacity) else (0.0, s.demand))
        if full and rest <= capacity * 1e-9:
            full, rest = full - 1, capacity
        visits.extend(Visit(i, capacity) for _ in range(int(full)))
        visits.append(Visit(i, rest))
    return visits


def _first_fit_decreasing(loads: Sequence[int], capacity: int) -> int:
    bins: list[int] = []
    for load in sorted(loads, reverse=True):
        for b, used in enumerate(bins):
            if used + load <= capacity:
                bins[b] += load
                break
        else:
            bins.append(load)
    return max(1, len(bins))


def _solver_loads(visits: Sequence[Visit], vehicle_capacity: float) -> list[int]:
    """Loads in millionths of the capacity (0 when the capacity is unbounded)."""
    if not math.isfinite(vehicle_capacity):
        return [0] * len(visits)
    return [round(v.load / vehicle_capacity * LOAD_RESOLUTION) for v in visits]


def _packed_trips(loads: Sequence[int], max_stops_per_trip: int | None) -> int:
    """Trips a first-fit-decreasing packing needs: by load, and by stops when they are capped."""
    packed = _first_fit_decreasing(loads, LOAD_RESOLUTION) if any(loads) else 1
    if max_stops_per_trip:
        packed = max(packed, math.ceil(len(loads) / max_stops_per_trip))
    return packed


def _trip_km(points_km: np.ndarray, trip: Sequence[int]) -> float:
    """Length of depot → nodes → depot on the float matrix (node 0 is the depot)."""
    path = [0, *trip, 0]
    return float(sum(points_km[a, b] for a, b in zip(path, path[1:])))


def sweep_sectors(
    depot: tuple[float, float],
    stops: Sequence[Stop],
    vehicle_capacity: float,
    *,
    max_visits: int = SECTOR_VISITS,
    max_trips: int = SECTOR_TRIPS,
) -> list[list[int]]:
    """Stop indexes cut into sectors swept by angle around ``depot`` (deterministic).

    The sweep starts after the widest empty angle (so a sector never straddles
    the stops' two extremes), takes the stops by angle, then distance, then
    index, and closes a sector before it would pass ``max_visits`` visits or
    ``max_trips`` truck loads. A stop is never split across sectors.
    """
    n = len(stops)
    if n == 0:
        return []
    lat0 = math.radians(depot[0])
    north = np.array([s.lat - depot[0] for s in stops])
    east = np.array([(s.lon - depot[1]) * math.cos(lat0) for s in stops])
    angle = np.round(np.arctan2(north, east), 12)
    dist = np.round(np.hypot(north, east), 12)
    order = sorted(range(n), key=lambda i: (angle[i], dist[i], i))
    ring = np.array([angle[i] for i in order])
    gaps = np.diff(np.r_[ring, ring[0] + 2 * math.pi])
    start = (int(np.argmax(gaps)) + 1) % n
    order = order[start:] + order[:start]
    load_cap = max_trips * vehicle_capacity if math.isfinite(vehicle_capacity) else math.inf
    sectors: list[list[int]] = []
    current: list[int] = []
    visits = load = 0.0
    for i in order:
        v = len(_split_visits((stops[i],), vehicle_capacity))
        d = stops[i].demand
        if current and (visits + v > max_visits or load + d > load_cap * (1 + 1e-9)):
            sectors.append(current)
            current, visits, load = [], 0.0, 0.0
        current.append(i)
        visits += v
        load += d
    if current:
        sectors.append(current)
    return sectors


def solve_round(
    depot: tuple[float, float],
    stops: Sequence[Stop],
    vehicle_capacity: float,
    *,
    time_limit_s: float | None = None,
    detour_factor: float = 1.0,
    solutions_per_visit: int | None = None,
    max_stops_per_trip: int | None = None,
    sector_visits: int | None = SECTOR_VISITS,
    metaheuristic: str = "greedy",
) -> Round:
    """Shortest round from ``depot`` (lat, lon) through every stop, trips within ``vehicle_capacity``.

    ``vehicle_capacity`` may be ``math.inf``; ``max_stops_per_trip`` caps the
    visits of one trip (a working day's round). A stop whose demand exceeds
    the capacity is visited several times (full loads, then the rest). When
    the solver finds nothing, every visit becomes its own trip and ``status``
    says so. More than ``sector_visits`` visits (``None``: no cut) are routed
    by sectors (:func:`sweep_sectors`). ``metaheuristic``: ``"greedy"`` (descent to
    a local optimum) or ``"guided"`` (guided local search); ``solutions_per_visit``
    defaults to :data:`SOLUTIONS_PER_VISIT`, or :data:`GUIDED_SOLUTIONS_PER_VISIT`
    when guided; ``0`` lets the search run to ``time_limit_s`` (which must then be given).
    """
    if vehicle_capacity <= 0:
        raise ValueError("vehicle_capacity must be > 0")
    if metaheuristic not in _METAHEURISTICS:
        raise ValueError(f"metaheuristic must be one of {sorted(_METAHEURISTICS)}")
    if solutions_per_visit is None:
        solutions_per_visit = GUIDED_SOLUTIONS_PER_VISIT if metaheuristic == "guided" else SOLUTIONS_PER_VISIT
    if not solutions_per_visit and time_limit_s is None:
        raise ValueError("the search needs a limit: solutions_per_visit or time_limit_s")
    stops = tuple(stops)
    if not stops:
        return Round(depot, stops, (), (), detour_factor, "EMPTY", "none")
    visits = _split_visits(stops, vehicle_capacity)
    if sector_visits and len(visits) > sector_visits:
        return _solve_by_sectors(depot, stops, vehicle_capacity, time_limit_s=time_limit_s,
                                 detour_factor=detour_factor, solutions_per_visit=solutions_per_visit,
                                 max_stops_per_trip=max_stops_per_trip, sector_visits=sector_visits,
                                 metaheuristic=metaheuristic)
    lat = np.array([depot[0], *(stops[v.stop].lat for v in visits)])
    lon = np.array([depot[1], *(stops[v.stop].lon for v in visits)])
    km = distance_matrix_km(lat, lon) * detour_factor
    if len(visits) == 1:
        trip = (visits[0],)
        return Round(depot, stops, (trip,), (_trip_km(km, [1]),), detour_factor, "TRIVIAL", "none")

    started = time.perf_counter()
    n_nodes = len(visits) + 1
    capped = math.isfinite(vehicle_capacity)
    loads = [0, *_solver_loads(visits, vehicle_capacity)]
    packed = _packed_trips(loads[1:], max_stops_per_trip)
    n_vehicles = min(len(visits), packed + EXTRA_VEHICLES) if capped or max_stops_per_trip else 1

    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    metres = np.rint(km * DISTANCE_SCALE).astype(np.int64).tolist()
    arc = model.RegisterTransitMatrix(metres)
    model.SetArcCostEvaluatorOfAllVehicles(arc)
    if capped:
        demand = model.RegisterUnaryTransitVector(loads)
        model.AddDimensionWithVehicleCapacity(demand, 0, [LOAD_RESOLUTION] * n_vehicles, True, "load")
    if max_stops_per_trip:
        count = model.RegisterUnaryTransitVector([0] + [1] * len(visits))
        model.AddDimensionWithVehicleCapacity(count, 0, [max_stops_per_trip] * n_vehicles, True, "stops")

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = _METAHEURISTICS[metaheuristic]
    if solutions_per_visit:
        params.solution_limit = solutions_per_visit * len(visits)
    if time_limit_s is not None:
        params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    solution = model.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(model.status())
    limit = "time" if time_limit_s is not None and elapsed >= time_limit_s else "solutions"

    if solution is None:
        trips = [[i] for i in range(1, n_nodes)]
    else:
        trips = []
        for vehicle in range(n_vehicles):
            index = model.Start(vehicle)
            nodes = []
            index = solution.Value(model.NextVar(index))
            while not model.IsEnd(index):
                nodes.append(manager.IndexToNode(index))
                index = solution.Value(model.NextVar(index))
            if nodes:
                trips.append(nodes)
    return Round(
        depot=depot,
        stops=stops,
        trips=tuple(tuple(visits[n - 1] for n in t) for t in trips),
        trip_km=tuple(_trip_km(km, t) for t in trips),
        detour_factor=detour_factor,
        status=status,
        limit=limit,
        solve_seconds=elapsed,
    )


def _solve_by_sectors(
    depot: tuple[float, float], stops: tuple[Stop, ...], vehicle_capacity: float, *, sector_visits: int, **solve,
) -> Round:
    """One round made of the rounds of each sector (trips in sector order, stop indexes of ``stops``)."""
    trips: list[tuple[Visit, ...]] = []
    trip_km: list[float] = []
    statuses, limits, seconds = [], [], 0.0
    for sector in sweep_sectors(depot, stops, vehicle_capacity, max_visits=sector_visits):
        part = solve_round(depot, [stops[i] for i in sector], vehicle_capacity, sector_visits=None, **solve)
        trips.extend(tuple(Visit(sector[v.stop], v.load) for v in trip) for trip in part.trips)
        trip_km.extend(part.trip_km)
        statuses.append(part.status)
        limits.append(part.limit)
        seconds += part.solve_seconds
    worst = max(statuses, key=lambda st: (_STATUS_RANK.get(st, len(_STATUS_RANK)), st))
    limit = "time" if "time" in limits else "solutions" if "solutions" in limits else "none"
    return Round(depot, stops, tuple(trips), tuple(trip_km), solve["detour_factor"], worst, limit, seconds)


# --------------------------------------------------------------------------
# Estimate without solving
# --------------------------------------------------------------------------

ESTIMATE_MST_FACTOR = 4.0 / 3.0  # round km ≈ 4/3 × spanning tree ...
ESTIMATE_FARTHEST_FACTOR = 2.0 / 3.0  # ... + 2/3 × the farthest stop from the depot
MIN_EDGE_KM = 1e-6  # scipy reads a zero as "no edge": co-located points are 1 mm apart


@dataclass(frozen=True, slots=True)
class RoundEstimate:
    """A round's length and size estimated without routing (see :func:`estimate_round`)."""

    km: float
    vehicles: int  # trips
    visits: int


def estimate_round(
    depot: tuple[float, float],
    stops: Sequence[Stop],
    vehicle_capacity: float,
    *,
    detour_factor: float = 1.0,
    max_stops_per_trip: int | None = None,
) -> RoundEstimate:
    """The length of the round :func:`solve_round` would find, estimated from the geometry alone.

    An estimate, not a route: ``4/3 × T + 2/3 × r_max + 2 × (trips − 1) × r_min``
    road km, where ``T`` is the minimum spanning tree of the depot and the
    stops, ``r_max`` / ``r_min`` the farthest and nearest stop from the depot
    and ``trips`` the first-fit-decreasing packing :func:`solve_round` starts
    from. The two limits it interpolates: stops spread around the depot
    (an optimal tour is about 4/3 of its spanning tree) and a cluster far from
    it (out to the cluster, a short tour, back); every trip beyond the first
    adds at least a return trip to the nearest stop. On the pooling datasets
    and the benchmark territories (430 rounds of 2 to 29 stops) it is within
    6 % of the routed length on average, 16 % at the 95th percentile
    (``benchmarks/bench_pooling.py`` measures it again).
    """
    stops = tuple(stops)
    if vehicle_capacity <= 0:
        raise ValueError("vehicle_capacity must be > 0")
    if not stops:
        return RoundEstimate(0.0, 0, 0)
    visits = _split_visits(stops, vehicle_capacity)
    trips = _packed_trips(_solver_loads(visits, vehicle_capacity), max_stops_per_trip)
    lat = np.array([depot[0], *(s.lat for s in stops)])
    lon = np.array([depot[1], *(s.lon for s in stops)])
    km = distance_matrix_km(lat, lon) * detour_factor
    edges = np.maximum(km, MIN_EDGE_KM)
    np.fill_diagonal(edges, 0.0)
    tree = float(minimum_spanning_tree(csr_array(edges)).sum())
    radial = km[0, 1:]
    length = (ESTIMATE_MST_FACTOR * tree + ESTIMATE_FARTHEST_FACTOR * float(radial.max())
              + 2.0 * (trips - 1) * float(radial.min()))
    return RoundEstimate(length, trips, len(visits))
