"""Pooling valuation: money, distance and CO2 of a group (see the package doc for the cost model).

Collections are routed with :func:`symbiose.routing.solve_round`; groups are
independent and :func:`plan_groups` values them in a process pool.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.distance import pdist

from symbiose.domain import UNKNOWN_RESOURCE, Diagnostic, Direction, Issue, flow_location
from symbiose.explain import format as fmt
from symbiose.geo import haversine_km, km_for_chord, unit_vectors
from symbiose.pooling.groups import Group, find_groups
from symbiose.pooling.members import family_lookup, is_hazardous
from symbiose.routing import Round, RoundEstimate, Stop, estimate_round, solve_round
from symbiose.taxonomy import PoolingFamily, Taxonomy

Progress = Callable[[int, int], None]

MAX_WORKERS = 4  # processes routing groups by default, at most
POOL_MIN_ROUTED = 12  # groups to route from which a process pool pays for its start
ROUTED_STOPS_PER_RUN = 20_000  # stops routed in one call at most (a work limit): the rest is estimated
EXACT_DIAMETER_MAX = 2000  # above this many members, the diameter is bounded by 2 × radius
COLLECTOR_NAF = {False: ("38.11", "38.1"), True: ("38.12",)}  # NAF of waste collection, by hazard


@dataclass(frozen=True, slots=True)
class Depot:
    lat: float
    lon: float
    company_id: str | None  # the collector, or None for the group's centroid


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """A group valued: what it saves and how (``round`` for collections only)."""

    group: Group
    individual_cost_eur: float
    pooled_cost_eur: float
    co2_avoided_t: float
    distance_km: float
    collections_per_year: int = 0
    individual_km: float = 0.0
    pooled_km: float = 0.0
    approach_km: float = 0.0
    round: Round | None = None  # None for purchases, services and estimated rounds
    depot: Depot | None = None
    flow_unit_costs: dict[str, float] = field(default_factory=dict, compare=False)  # individual € per family unit
    transport_co2_avoided_t: float = 0.0  # truck-km saved (negative when the round drives more)
    treatment_co2_avoided_t: float = 0.0  # usual treatment avoided by the pooled stream's recovery
    estimated: bool = False  # the round's km estimated (routing.estimate_round), not routed
    trips: int = 0  # truck loads per round (collections)

    @property
    def savings_eur(self) -> float:
        return self.individual_cost_eur - self.pooled_cost_eur

    @property
    def pooled_eur_per_unit(self) -> float:
        q = self.group.quantity
        return self.pooled_cost_eur / q if q > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Settings:
    detour_factor: float
    truck_co2_kg_per_km: float
    max_stops: int | None


def _settings(taxonomy: Taxonomy, issues: list[Issue]) -> _Settings:
    def param(name: str, fallback: float, consequence: str) -> float:
        fig = taxonomy.parameters.get(name)
        if fig is None:
            issues.append(Issue(None, None, name, f"paramètre {name} absent de parameters.yaml : {consequence}"))
            return fallback
        return fig.value

    detour = param("road_detour_factor", 1.0, "distances de tournée comptées à vol d'oiseau")
    co2 = param("truck_co2_kg_per_km", 0.0, "CO₂ des tournées non compté")
    max_stops = taxonomy.parameters.get("max_stops_per_round")
    return _Settings(detour, co2, int(max_stops.value) if max_stops else None)


def _missing_figures(family: PoolingFamily) -> list[str]:
    needed = ["pooled_cost_eur_per_unit"]
    if family.kind == "collection":
        needed += ["cost_per_km_eur", "individual_trip_km"]
    return [name for name in needed if getattr(family, name) is None]


def collectors(diagnostic: Diagnostic, taxonomy: Taxonomy) -> dict[tuple[str, bool], list[Depot]]:
    """Companies of the data able to receive a collection, per (family id, hazardous):
    an ``in`` flow of the family with the same hazard, or a waste-collection NAF."""
    family_of = family_lookup(taxonomy)
    companies = diagnostic.companies_by_id
    found: dict[tuple[str, bool], dict[str, Depot]] = defaultdict(dict)
    for flow in diagnostic.flows:
        if flow.direction != Direction.IN or flow.resource == UNKNOWN_RESOURCE:
            continue
        family = family_of(flow.resource)
        loc = flow_location(flow, companies) if family is not None and family.kind == "collection" else None
        if family is not None and loc is not None:
            key = (family.id, is_hazardous(taxonomy, flow))
            found[key].setdefault(flow.company_id, Depot(loc[0], loc[1], flow.company_id))
    for company in diagnostic.companies:
        naf = (company.naf or "").upper()
        if company.lat is None or company.lon is None or not naf:
            continue
        naf = naf if "." in naf else f"{naf[:2]}.{naf[2:]}"
        for hazardous, prefixes in COLLECTOR_NAF.items():
            if naf.startswith(prefixes):
                for family in taxonomy.families.values():
                    if family.kind == "collection":
                        found[(family.id, hazardous)].setdefault(
                            company.id, Depot(company.lat, company.lon, company.id))
    return {key: [depots[k] for k in sorted(depots)] for key, depots in found.items()}


def _choose_depot(group: Group, candidates: Sequence[Depot]) -> tuple[Depot, bool]:
    """The nearest collector within reach of the centroid, else the centroid (second value False)."""
    lat, lon = group.centre
    family = group.family
    reach = max(family.radius_km.value, (family.individual_trip_km.value if family.individual_trip_km else 0) / 2)
    if candidates:
        d = haversine_km(lat, lon, np.array([c.lat for c in candidates]), np.array([c.lon for c in candidates]))
        best = int(np.argmin(d))
        if d[best] <= reach:
            return candidates[best], True
    return Depot(lat, lon, None), False


def _diameter_km(group: Group) -> float:
    ms = group.members
    if len(ms) > EXACT_DIAMETER_MAX:
        return 2.0 * group.family.radius_km.value
    chord = pdist(unit_vectors([m.lat for m in ms], [m.lon for m in ms])).max()
    return float(km_for_chord(chord))


def _per_year(quantity: float, family: PoolingFamily) -> int:
    """Collections a year for ``quantity``: the family's floor, or more to fit the vehicle."""
    capacity = family.vehicle_capacity.value if family.vehicle_capacity else math.inf
    needed = math.ceil(quantity / capacity - 1e-9) if math.isfinite(capacity) else 1
    return max(family.min_collections_per_year, needed, 1)


def _individual_costs(
    member: Member, lone_transport_eur: float, pooled_unit: float
) -> dict[str, float]:
    """€ per family unit each flow of ``member`` costs today, alone (see the module doc)."""
    costs = {f.flow_id: f.unit_cost_eur for f in member.flows}
    priced = [f for f in member.flows if not f.reported]
    q = sum(f.quantity for f in priced)
    if priced and q > 0:
        floor = (lone_transport_eur * q / member.quantity + q * pooled_unit) / q
        for f in priced:
            costs[f.flow_id] = max(f.unit_cost_eur, floor)
    return costs


def _visits_per_year(group: Group, per_year: int, round_visits: int) -> int:
    """Calls at the members' doors a year in the pooled scheme: each member as often as its own
    collections need (``min_collections_per_year``, or more to fit the vehicle), at most once per
    round; plus the extra calls of members too big for one load per round. A firm with a weekly
    bin is not called on by each of a daily round's 200 passes."""
    family = group.family
    own = sum(min(per_year, _per_year(m.quantity, family)) for m in group.members)
    return own + per_year * max(0, round_visits - len(group.members))


def plan_group(
    group: Group,
    depots: Sequence[Depot],
    settings: _Settings,
    *,
    estimate: bool = False,
) -> GroupPlan:
    """Value one group: a routed round for a collection, prices for the rest.

    ``estimate``: the round's length comes from :func:`symbiose.routing.estimate_round`
    (geometry only, no solver, a few per cent off on average) instead of
    :func:`symbiose.routing.solve_round`; the plan then has no ``round``.
    """
    family = group.family
    total = group.quantity
    pooled_unit = family.pooled_cost_eur_per_unit.value if family.pooled_cost_eur_per_unit else 0.0
    if family.kind != "collection":
        costs = {f.flow_id: f.unit_cost_eur for m in group.members for f in m.flows}
        individual = sum(f.quantity * costs[f.flow_id] for m in group.members for f in m.flows)
        return GroupPlan(group, individual, total * pooled_unit, 0.0, _diameter_km(group), flow_unit_costs=costs)

    capacity = family.vehicle_capacity.value if family.vehicle_capacity else math.inf
    per_year = _per_year(total, family)
    depot, at_collector = _choose_depot(group, depots)
    stops = [Stop(m.company_id, m.lat, m.lon, m.quantity / per_year) for m in group.members]
    rnd: Round | RoundEstimate
    if estimate:
        rnd = estimate_round((depot.lat, depot.lon), stops, capacity,
                             detour_factor=settings.detour_factor, max_stops_per_trip=settings.max_stops)
    else:
        rnd = solve_round((depot.lat, depot.lon), stops, capacity,
                          detour_factor=settings.detour_factor, max_stops_per_trip=settings.max_stops)
    generic_trip = family.individual_trip_km.value if family.individual_trip_km else 0.0
    approach = 0.0 if at_collector else generic_trip
    round_km = rnd.km + approach * rnd.vehicles
    pooled_km = per_year * round_km
    per_km = family.cost_per_km_eur.value if family.cost_per_km_eur else 0.0
    per_stop = family.cost_per_stop_eur.value if family.cost_per_stop_eur else 0.0

    if at_collector:
        lone_trip = 2.0 * settings.detour_factor * haversine_km(
            depot.lat, depot.lon, np.array([m.lat for m in group.members]), np.array([m.lon for m in group.members]))
    else:
        lone_trip = np.full(len(group.members), generic_trip)
    individual_km = 0.0
    costs: dict[str, float] = {}
    for member, trip in zip(group.members, lone_trip):
        trips = _per_year(member.quantity, family)
        individual_km += trips * float(trip)
        costs.update(_individual_costs(member, trips * (float(trip) * per_km + per_stop), pooled_unit))
    individual = sum(f.quantity * costs[f.flow_id] for m in group.members for f in m.flows)
    visits = _visits_per_year(group, per_year, rnd.visits)
    pooled = pooled_km * per_km + visits * per_stop + total * pooled_unit
    transport_co2 = (individual_km - pooled_km) * settings.truck_co2_kg_per_km / 1000.0
    treatment_co2 = (
        sum(f.treatment_co2_kg for m in group.members for f in m.flows) / 1000.0 if family.recovery else 0.0
    )
    return GroupPlan(
        group=group,
        individual_cost_eur=individual,
        pooled_cost_eur=pooled,
        co2_avoided_t=transport_co2 + treatment_co2,
        distance_km=round_km,
        collections_per_year=per_year,
        individual_km=individual_km,
        pooled_km=pooled_km,
        approach_km=approach,
        round=rnd if isinstance(rnd, Round) else None,
        depot=depot,
        flow_unit_costs=costs,
        transport_co2_avoided_t=transport_co2,
        treatment_co2_avoided_t=treatment_co2,
        estimated=estimate,
        trips=rnd.vehicles,
    )


def default_workers() -> int:
    """Processes :func:`plan_groups` routes with by default: the machine's cores, at most :data:`MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def plan_groups(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    estimate: bool = False,
    incomplete: bool = False,
    route_budget: int | None = ROUTED_STOPS_PER_RUN,
) -> tuple[list[GroupPlan], list[Issue]]:
    """Every group formed and valued (worth doing or not), with the issues met.

    ``incomplete``: the groups below their critical mass too (after the others),
    not valued (:func:`lead_plan`). Groups are independent: those to
    route go to a pool of ``workers`` processes (``None``: :func:`default_workers`)
    when there are at least :data:`POOL_MIN_ROUTED` of them; routing is
    deterministic, so the result is the same as in one process, in the same
    order. ``estimate``: every round estimated, none routed (see :func:`plan_group`).
    ``route_budget``: a deterministic work limit, the stops routed in one call at most
    (``None``: no limit); beyond it, the groups that save the most by estimate are
    routed and the others keep their estimated round (``estimated`` true, an issue says so).
    """
    issues: list[Issue] = []
    settings = _settings(taxonomy, issues)
    groups, member_issues = find_groups(diagnostic, taxonomy, available, incomplete=incomplete)
    issues.extend(member_issues)
    for family_id in sorted({g.family.id for g in groups}):
        family = taxonomy.families[family_id]
        missing = _missing_figures(family)
        if missing:
            issues.append(Issue(None, None, family.id, (
                f"mutualisation « {family.label_fr} » non chiffrée : "
                f"{', '.join(missing)} manquant dans pooling.yaml")))
    valued = [g for g in groups if not _missing_figures(g.family)]
    depots = collectors(diagnostic, taxonomy) if any(g.family.kind == "collection" for g in valued) else {}
    jobs = [(g, depots.get((g.family.id, g.pool_class.hazardous), []), settings, estimate or not g.complete)
            for g in valued]
    routed = [k for k, job in enumerate(jobs) if job[0].family.kind == "collection" and not job[3]]
    if route_budget is not None and sum(len(jobs[k][0].members) for k in routed) > route_budget:
        routed_all = routed
        routed = _within_budget(jobs, routed, route_budget)
        keep = set(routed)
        jobs = [job if job[3] or job[0].family.kind != "collection" or k in keep else (*job[:3], True)
                for k, job in enumerate(jobs)]
        issues.append(Issue(None, None, None, (
            f"{fmt.number(len(keep))} tournées tracées (les plus rentables, {fmt.number(route_budget)} arrêts "
            f"au plus par calcul) ; les {fmt.number(len(routed_all) - len(keep))} autres ont une longueur "
            "estimée, sans tracé")))
    workers = default_workers() if workers is None else workers
    plans: list[GroupPlan | None] = [None] * len(jobs)
    done = 0

    def record(k: int, plan: GroupPlan) -> None:
        nonlocal done
        plans[k] = plan
        done += 1
        if progress:
            progress(done, len(jobs))

    if workers > 1 and len(routed) >= POOL_MIN_ROUTED:
        # biggest rounds first so that no process is left with one long solve at the end
        order = sorted(routed, key=lambda k: (-len(jobs[k][0].members), k))
        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            for k, plan in zip(order, pool.map(_plan_job, [jobs[k] for k in order], chunksize=1)):
                record(k, plan)
    for k, job in enumerate(jobs):
        if plans[k] is None:
            record(k, _plan_job(job))
    return [p for p in plans if p is not None], issues


def _within_budget(jobs: Sequence[tuple], routed: Sequence[int], budget: int) -> list[int]:
    """The collection groups to route when all of them would pass ``budget`` stops: the most
    worthwhile first by their estimated savings (then by family and first member: deterministic)."""
    estimated = {k: plan_group(jobs[k][0], jobs[k][1], jobs[k][2], estimate=True).savings_eur for k in routed}
    order = sorted(routed, key=lambda k: (-estimated[k], jobs[k][0].family.id, jobs[k][0].members[0].company_id))
    chosen, used = [], 0
    for k in order:
        size = len(jobs[k][0].members)
        if used + size > budget:
            continue
        chosen.append(k)
        used += size
    return sorted(chosen)


def _pool_context() -> multiprocessing.context.BaseContext:
    """``spawn``: workers start small (they import symbiose, not a copy of the caller's memory,
    which may hold a million flows), inherit no lock held by a thread, and are the caller's own
    children (their memory is counted in its ``RUSAGE_CHILDREN``).
    """
    return multiprocessing.get_context("spawn")


def _plan_job(job: tuple[Group, Sequence[Depot], _Settings, bool]) -> GroupPlan:
    group, depots, settings, estimate = job
    if not group.complete:
        return lead_plan(group)
    return plan_group(group, depots, settings, estimate=estimate)


def lead_plan(group: Group) -> GroupPlan:
    """A group below its critical mass, not valued: what it would save depends on the firms still
    to join. Its distance is the members' spread (the diameter), as for a purchase."""
    return GroupPlan(group, 0.0, 0.0, 0.0, _diameter_km(group), estimated=True)
