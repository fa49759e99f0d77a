"""Collection rounds (OR-Tools CVRP) against brute force on small cases."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from symbiose.geo import haversine_km
from symbiose.routing import DISTANCE_SCALE, Stop, estimate_round, solve_round, sweep_sectors

DEPOT = (43.40, 5.00)


def random_stops(n: int, seed: int, demand: float = 1.0, spread: float = 0.08) -> list[Stop]:
    rng = random.Random(seed)
    return [
        Stop(f"C{i}", DEPOT[0] + rng.uniform(-spread, spread), DEPOT[1] + rng.uniform(-spread, spread), demand)
        for i in range(n)
    ]


def tour_km(points: list[tuple[float, float]]) -> float:
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    return float(haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def brute_force_tsp(depot, stops) -> float:
    best = math.inf
    for perm in itertools.permutations(stops):
        best = min(best, tour_km([depot, *((s.lat, s.lon) for s in perm), depot]))
    return best


def brute_force_cvrp(depot, stops, capacity) -> float:
    """Every visiting order, cut into consecutive trips in every feasible way."""
    best = math.inf
    n = len(stops)
    for perm in itertools.permutations(stops):
        for cuts in itertools.product((False, True), repeat=n - 1):
            trips, current = [], [perm[0]]
            for stop, cut in zip(perm[1:], cuts):
                if cut:
                    trips.append(current)
                    current = []
                current.append(stop)
            trips.append(current)
            if any(sum(s.demand for s in t) > capacity + 1e-9 for t in trips):
                continue
            km = sum(tour_km([depot, *((s.lat, s.lon) for s in t), depot]) for t in trips)
            best = min(best, km)
    return best


def rounding_slack_km(n_visits: int) -> float:
    """The solver sees metres: each arc may be off by half a metre."""
    return (n_visits + 1) * 0.5 / DISTANCE_SCALE + 1e-9


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("seed", [1, 2])
def test_single_trip_matches_brute_force(n, seed):
    stops = random_stops(n, seed)
    rnd = solve_round(DEPOT, stops, math.inf)
    assert rnd.vehicles == 1
    assert sorted(rnd.order) == list(range(n))
    optimum = brute_force_tsp(DEPOT, stops)
    assert rnd.km == pytest.approx(optimum, abs=rounding_slack_km(n))
    # the reported km is the length of the reported order
    ordered = [DEPOT, *((stops[v.stop].lat, stops[v.stop].lon) for v in rnd.trips[0]), DEPOT]
    assert rnd.km == pytest.approx(tour_km(ordered), rel=1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_capacitated_round_matches_brute_force(seed):
    rng = random.Random(seed)
    stops = [Stop(s.id, s.lat, s.lon, rng.choice([1.0, 2.0, 3.0])) for s in random_stops(5, seed)]
    capacity = 4.0
    rnd = solve_round(DEPOT, stops, capacity)
    assert rnd.km == pytest.approx(brute_force_cvrp(DEPOT, stops, capacity), abs=rounding_slack_km(10))


def test_capacity_forces_several_trips_and_each_is_within_it():
    stops = random_stops(9, 7, demand=3.0)
    capacity = 10.0
    rnd = solve_round(DEPOT, stops, capacity)
    assert rnd.vehicles >= math.ceil(sum(s.demand for s in stops) / capacity)
    for trip in rnd.trips:
        assert sum(v.load for v in trip) <= capacity * (1 + 1e-6)
    visited = sorted(v.stop for trip in rnd.trips for v in trip)
    assert visited == list(range(len(stops)))
    assert len(rnd.trip_km) == rnd.vehicles
    assert rnd.km == pytest.approx(sum(rnd.trip_km))


@pytest.mark.parametrize("parts", [3, 7])
def test_loads_that_exactly_fill_the_truck_share_one_trip(parts):
    """Loads are rounded to millionths of the capacity: thirds and sevenths still fit."""
    stops = [Stop(s.id, s.lat, s.lon, 10.0 / parts) for s in random_stops(parts, 6)]
    rnd = solve_round(DEPOT, stops, 10.0)
    assert rnd.vehicles == 1
    bigger = [Stop(s.id, s.lat, s.lon, s.demand * 1.001) for s in stops]
    assert solve_round(DEPOT, bigger, 10.0).vehicles == 2


def test_stops_per_trip_are_capped():
    stops = random_stops(10, 4, demand=0.1)
    rnd = solve_round(DEPOT, stops, math.inf, max_stops_per_trip=4)
    assert rnd.vehicles == 3
    assert all(len(trip) <= 4 for trip in rnd.trips)
    assert sorted(v.stop for t in rnd.trips for v in t) == list(range(10))
    assert rnd.km > solve_round(DEPOT, stops, math.inf).km


def test_stop_larger_than_the_vehicle_is_visited_several_times():
    stops = [Stop("big", 43.41, 5.01, 25.0), Stop("small", 43.42, 5.00, 2.0)]
    rnd = solve_round(DEPOT, stops, 10.0)
    loads = [v.load for trip in rnd.trips for v in trip if v.stop == 0]
    assert len(loads) == 3
    assert sum(loads) == pytest.approx(25.0)
    assert all(load <= 10.0 + 1e-9 for load in loads)
    assert rnd.vehicles == 3  # 25 + 2 in trucks of 10


@pytest.mark.parametrize("n", [3, 8, 20])
def test_round_beats_individual_return_trips(n):
    stops = random_stops(n, 11)
    rnd = solve_round(DEPOT, stops, math.inf, detour_factor=1.3)
    assert rnd.km < rnd.individual_km()
    lone = sum(2 * haversine_km(*DEPOT, s.lat, s.lon) * 1.3 for s in stops)
    assert rnd.individual_km() == pytest.approx(lone)


def test_detour_factor_scales_lengths():
    stops = random_stops(6, 2)
    plain = solve_round(DEPOT, stops, math.inf)
    road = solve_round(DEPOT, stops, math.inf, detour_factor=1.25)
    assert road.km == pytest.approx(plain.km * 1.25, rel=1e-6)


def test_fifty_stops_all_visited_with_a_work_limit_not_a_clock():
    stops = random_stops(50, 5, demand=0.2)
    rnd = solve_round(DEPOT, stops, 4.0)
    assert sorted(v.stop for t in rnd.trips for v in t) == list(range(50))
    assert rnd.limit == "solutions"  # no wall-clock limit unless asked
    assert rnd.status in {"ROUTING_SUCCESS", "ROUTING_OPTIMAL", "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"}


def test_sweep_sectors_cover_every_stop_once_within_their_limits():
    stops = [Stop(s.id, s.lat, s.lon, random.Random(i).uniform(0.1, 3.0)) for i, s in enumerate(random_stops(150, 8))]
    sectors = sweep_sectors(DEPOT, stops, 5.0, max_visits=20, max_trips=3)
    assert sorted(i for sec in sectors for i in sec) == list(range(150))
    for sec in sectors:
        assert len(sec) <= 20 and sum(stops[i].demand for i in sec) <= 15.0 + 1e-9
    # sectors are angular slices around the depot: their angle ranges do not interleave
    def angle(i):
        return math.atan2(stops[i].lat - DEPOT[0], (stops[i].lon - DEPOT[1]) * math.cos(math.radians(DEPOT[0])))
    spans = sorted((min(map(angle, sec)), max(map(angle, sec))) for sec in sectors)
    overlaps = sum(1 for (_, hi), (lo, _) in zip(spans, spans[1:]) if lo < hi - 1e-12)
    assert overlaps <= 1  # at most the sector that wraps round the widest gap


def test_large_round_is_routed_by_sectors_and_stays_close_to_one_solve():
    stops = random_stops(120, 3, demand=0.3)
    whole = solve_round(DEPOT, stops, 6.0, sector_visits=None)
    cut = solve_round(DEPOT, stops, 6.0, sector_visits=40)
    assert sorted(v.stop for t in cut.trips for v in t) == list(range(120))
    for trip in cut.trips:
        assert sum(v.load for v in trip) <= 6.0 * (1 + 1e-6)
    assert cut.km == pytest.approx(sum(cut.trip_km))
    assert cut.km <= whole.km * 1.15  # sectors cost little: each holds whole truck loads
    again = solve_round(DEPOT, stops, 6.0, sector_visits=40)
    assert (again.trips, again.km) == (cut.trips, cut.km)


def test_guided_search_needs_a_limit_and_unknown_metaheuristics_are_refused():
    stops = random_stops(5, 1)
    with pytest.raises(ValueError):
        solve_round(DEPOT, stops, 4.0, solutions_per_visit=0)
    with pytest.raises(ValueError):
        solve_round(DEPOT, stops, 4.0, metaheuristic="tabu")
    guided = solve_round(DEPOT, stops, math.inf, metaheuristic="guided")
    assert sorted(guided.order) == list(range(5))


def test_same_input_same_round():
    stops = random_stops(25, 9, demand=0.5)
    a = solve_round(DEPOT, stops, 5.0)
    b = solve_round(DEPOT, stops, 5.0)
    assert a.trips == b.trips and a.km == b.km


def test_empty_and_single_stop():
    assert solve_round(DEPOT, [], 10.0).km == 0.0
    one = solve_round(DEPOT, [Stop("a", 43.41, 5.0, 1.0)], 10.0)
    assert one.km == pytest.approx(2 * haversine_km(*DEPOT, 43.41, 5.0))
    with pytest.raises(ValueError):
        solve_round(DEPOT, [Stop("a", 43.41, 5.0, -1.0), Stop("b", 43.42, 5.0, 1.0)], 10.0)



# --------------------------------------------------------------------------
# Estimate without solving
# --------------------------------------------------------------------------


def test_estimate_of_one_stop_is_the_return_trip():
    stop = Stop("a", 43.43, 5.02, 1.0)
    est = estimate_round(DEPOT, [stop], 10.0, detour_factor=1.3)
    assert est.km == pytest.approx(2 * haversine_km(*DEPOT, stop.lat, stop.lon) * 1.3)
    assert (est.vehicles, est.visits) == (1, 1)
    # a second firm at the same address changes nothing but the visits
    twin = estimate_round(DEPOT, [stop, Stop("b", stop.lat, stop.lon, 1.0)], 10.0, detour_factor=1.3)
    assert twin.km == pytest.approx(est.km, abs=1e-4) and twin.visits == 2


@pytest.mark.parametrize("seed", range(6))
def test_estimate_is_close_to_the_routed_round(seed):
    stops = random_stops(12, seed, demand=1.0, spread=0.05)
    far_depot = (DEPOT[0] + 0.15, DEPOT[1])  # a collector 17 km north of the park
    for depot in (DEPOT, far_depot):
        routed = solve_round(depot, stops, math.inf, detour_factor=1.3)
        est = estimate_round(depot, stops, math.inf, detour_factor=1.3)
        assert est.km == pytest.approx(routed.km, rel=0.25)


def test_estimate_counts_trips_like_the_solver():
    stops = random_stops(9, 3, demand=2.0, spread=0.03)
    est = estimate_round(DEPOT, stops, 5.0)  # two stops a truck: 5 trips
    assert (est.vehicles, est.visits) == (5, 9)
    assert est.vehicles == solve_round(DEPOT, stops, 5.0).vehicles
    assert estimate_round(DEPOT, stops, math.inf, max_stops_per_trip=4).vehicles == 3
    big = estimate_round(DEPOT, [Stop("big", 43.45, 5.0, 12.0)], 5.0)  # 5 + 5 + 2: three visits
    assert (big.vehicles, big.visits) == (3, 3)
    assert big.km == pytest.approx(3 * 2 * haversine_km(*DEPOT, 43.45, 5.0))
    assert estimate_round(DEPOT, [], 5.0).km == 0.0
