"""Mutualisation: pooled collection rounds, group purchases and shared services.

The work runs in four steps, one function each:

1. :func:`pooling_members` — per pooling family of the taxonomy, the companies
   with a poolable flow: an ``out`` flow for a *collection* family, an ``in``
   flow for a *purchase* or *service* family. Flows of different codes of one
   family pool together ("palettes EUR" with "palettes bois"); a family's
   flows are split by hazard and by food grade, which never mix. A company's
   flows of one family and class make one member (one stop of a round).
2. :func:`find_groups` — leader clustering within the family's ``radius_km``
   on a cKDTree of unit vectors: companies are taken in decreasing order of
   the quantity within reach; each one, still free, gathers the free
   companies within the radius around it, and the gathering becomes a group
   when it has at least two companies and reaches ``critical_mass``.
   Otherwise they all stay free. Each company is in at most one group per
   family and class; a company alone far away is simply in none.
3. :func:`plan_group` — money, distance and CO2 of a group. Collections are
   routed with :func:`symbiose.routing.solve_round`; groups are independent
   (:func:`plan_groups` can value them in a process pool).
4. :func:`pool_synergies` — one :class:`Synergy` per group worth doing
   (savings > 0), with its French explanation.

The matcher first asks :func:`outside_values` what each output would save in
a pooled collection (the optimiser's alternative to a substitution): the same
groups and cost model, with the rounds' km *estimated*
(:func:`symbiose.routing.estimate_round`, no solver), so that each group is
routed once per run, in :func:`pool_synergies` on what the substitutions
leave.

Cost model (figures of ``pooling.yaml``, ``parameters.yaml``):

- *individual* yearly cost of a flow: the company's own ``cost_eur_per_unit``
  when it reported one, else the family's ``individual_cost_eur_per_unit``
  (all-in: collection and treatment, or purchase price), times its quantity.
  For a collection, a company priced by the family's figure pays at least
  its own collections (``max(min_collections_per_year, ceil(q /
  vehicle_capacity))`` trips × (trip km × ``cost_per_km_eur`` +
  ``cost_per_stop_eur``)) plus the treatment (``q ×
  pooled_cost_eur_per_unit``): small producers pay for the trip, not only
  for the tonne;
- *pooled* yearly cost of a collection: ``rounds × round km ×
  cost_per_km_eur + visits × cost_per_stop_eur + quantity ×
  pooled_cost_eur_per_unit`` (treatment under a pooled contract, transport
  excluded since the round prices it); of a purchase or service:
  ``quantity × pooled_cost_eur_per_unit``;
- rounds per year: ``max(min_collections_per_year, ceil(total /
  vehicle_capacity))``, each visit taking ``quantity / rounds``; a round
  makes several trips when a truck cannot take it all or when it has more
  than ``max_stops_per_round`` stops (``parameters.yaml``, a working day);
- the depot is the nearest collector or recycler of the data (a company with
  an ``in`` flow of the family, or NAF 38.11 / 38.12 for hazardous waste)
  within the family's one-way trip distance (``individual_trip_km / 2``, at
  least ``radius_km``) of the group's centroid. Without one, the round
  starts at the group's centroid and each trip adds an approach of
  ``individual_trip_km`` (the collector's yard to the park and back, the same
  distance a lone company's collection costs);
- km: great-circle × ``road_detour_factor``; a lone company's trip is the
  return trip to the collector of the data, else ``individual_trip_km``;
  individual km: each company's own collections × its trip;
- CO2 avoided, two parts (both in ``details``): *transport*, km saved ×
  ``truck_co2_kg_per_km`` (negative when the round drives more than the lone
  trips, e.g. big producers already served by full trucks); *treatment*, for
  a family whose pooled route goes to recovery (``recovery``, true unless
  pooling.yaml says otherwise): the pooled quantity × its resource's
  ``co2_treatment_kg``. Small lots end up in the mixed skip and its usual
  treatment (landfill, incineration); the critical mass is what makes sorting
  and recovery pay (domain notes: "masse critique à partir de laquelle le tri
  et la valorisation sont économiquement possibles");
- purchases and services are not routed: ``distance_km`` is the group's
  diameter (great-circle, the widest distance between two members) and no
  CO2 is counted.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from symbiose.domain import (
    UNKNOWN_RESOURCE,
    Diagnostic,
    Direction,
    Flow,
    Issue,
    Participant,
    RouteStop,
    Synergy,
    SynergyType,
)
from symbiose.explain import pooling as explain
from symbiose.geo import centroid, chord_for_km, haversine_km, km_for_chord, unit_vectors
from symbiose.routing import Round, RoundEstimate, Stop, estimate_round, solve_round
from symbiose.taxonomy import PoolingFamily, Resource, Taxonomy
from symbiose.units import UnitError, to_yearly

Progress = Callable[[int, int], None]

ROUND_TIME_LIMIT_S = 1.0  # solver time cap for one group's round
EXACT_DIAMETER_MAX = 2000  # above this many members, the diameter is bounded by 2 × radius
COLLECTOR_NAF = {False: ("38.11", "38.1"), True: ("38.12",)}  # NAF of waste collection, by hazard
MAX_LISTED_IDS = 5  # flow ids quoted in one issue message


# --------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PooledFlow:
    """One flow as the pool sees it, converted to the family's unit."""

    flow_id: str
    resource: str
    quantity: float  # yearly, family unit
    unit_cost_eur: float  # individual € per family unit (reported, or the family's figure)
    reported: bool  # the company gave its own cost
    family_units_per_unit: float  # family units per canonical unit of the flow
    tonnes: float  # yearly tonnes (0 when the flow has no mass)
    treatment_co2_kg: float = 0.0  # yearly kgCO2e of the resource's usual treatment (co2_treatment_kg)


@dataclass(frozen=True, slots=True)
class Member:
    """A company's poolable flows of one family and class: one stop of a round."""

    company_id: str
    lat: float
    lon: float
    flows: tuple[PooledFlow, ...]
    quantity: float = field(init=False)  # yearly, family unit, all its flows

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", sum(f.quantity for f in self.flows))


@dataclass(frozen=True, slots=True)
class PoolClass:
    """Flows of one family that may share a truck or a contract."""

    family: str
    hazardous: bool
    food_grade: bool


@dataclass(frozen=True, slots=True)
class Group:
    """Members of one family class close enough, and big enough together, to pool."""

    family: PoolingFamily
    pool_class: PoolClass
    members: tuple[Member, ...]

    @property
    def quantity(self) -> float:
        return sum(m.quantity for m in self.members)

    @property
    def centre(self) -> tuple[float, float]:
        """Centroid of the members on the sphere (lat, lon)."""
        return centroid([m.lat for m in self.members], [m.lon for m in self.members])


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


def _family_lookup(taxonomy: Taxonomy) -> Callable[[str], PoolingFamily | None]:
    """``taxonomy.family_of`` remembered per code for one pass over the flows."""
    memo: dict[str, PoolingFamily | None] = {}

    def lookup(code: str) -> PoolingFamily | None:
        if code not in memo:
            memo[code] = taxonomy.family_of(code)
        return memo[code]

    return lookup


@dataclass(frozen=True, slots=True)
class _CodeInfo:
    """What pooling needs to know of one resource code, looked up once per pass."""

    family: PoolingFamily
    direction: Direction  # the direction a poolable flow of this code has
    resource: Resource | None
    hazardous: bool  # the resource is hazardous
    food_grade: bool


def _code_lookup(taxonomy: Taxonomy) -> Callable[[str], _CodeInfo | None]:
    """Per resource code, its family and classes (``None``: not poolable), remembered for one pass."""
    family_of = _family_lookup(taxonomy)
    memo: dict[str, _CodeInfo | None] = {}

    def lookup(code: str) -> _CodeInfo | None:
        if code not in memo:
            family = family_of(code) if code != UNKNOWN_RESOURCE else None
            resource = taxonomy.resources.get(code)
            memo[code] = None if family is None else _CodeInfo(
                family=family,
                direction=_wanted_direction(family),
                resource=resource,
                hazardous=bool(resource is not None and resource.hazardous),
                food_grade=bool(resource is not None and resource.food_grade),
            )
        return memo[code]

    return lookup


def _hazardous(taxonomy: Taxonomy, flow: Flow) -> bool:
    resource = taxonomy.resources.get(flow.resource)
    return bool(flow.hazardous or (resource is not None and resource.hazardous))


def _wanted_direction(family: PoolingFamily) -> Direction:
    return Direction.OUT if family.kind == "collection" else Direction.IN


def _location(flow: Flow, diagnostic_companies: Mapping) -> tuple[float, float] | None:
    if flow.located:
        return float(flow.lat), float(flow.lon)  # type: ignore[arg-type]
    company = diagnostic_companies.get(flow.company_id)
    if company is not None and company.lat is not None and company.lon is not None:
        return float(company.lat), float(company.lon)
    return None


def _converter(taxonomy: Taxonomy) -> Callable[[Flow, str], float]:
    """Target units per canonical unit of a flow (raises :class:`UnitError`),
    remembered per (code, unit, target) for one pass over the flows."""
    memo: dict[tuple[str, str, str], float | UnitError] = {}

    def convert(flow: Flow, target_unit: str) -> float:
        if flow.unit == target_unit:
            return 1.0
        key = (flow.resource, flow.unit, target_unit)
        if key not in memo:
            resource = taxonomy.resources.get(flow.resource)
            try:
                if resource is None:
                    raise UnitError(f"{flow.resource} is not in the taxonomy")
                memo[key] = to_yearly(1.0, flow.unit, "year", replace(resource, unit=target_unit)).quantity
            except UnitError as exc:
                memo[key] = exc
        value = memo[key]
        if isinstance(value, UnitError):
            raise value
        return value

    return convert


def _treatment_co2_kg(
    flow: Flow, quantity: float, family: PoolingFamily, resource: Resource | None,
    convert: Callable[[Flow, str], float],
) -> float:
    """Yearly kgCO2e the usual treatment of ``quantity`` of a collected flow emits
    (its resource's ``co2_treatment_kg``; 0 when unknown or not convertible)."""
    if family.kind != "collection" or resource is None or resource.co2_treatment_kg is None:
        return 0.0
    try:
        return quantity * convert(flow, resource.unit) * resource.co2_treatment_kg.value
    except UnitError:
        return 0.0


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED_IDS])
    return shown + (f" (+{len(ids) - MAX_LISTED_IDS})" if len(ids) > MAX_LISTED_IDS else "")


def pooling_members(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
) -> tuple[dict[PoolClass, list[Member]], list[Issue]]:
    """Poolable members per family class, sorted by company id.

    ``available`` maps a flow id to its yearly quantity still free after the
    substitutions. An ``out`` flow it does not list has nothing left (the
    matcher lists the outputs with something left); an ``in`` flow it does
    not list keeps its whole quantity. ``None``: every flow whole.
    """
    issues: list[Issue] = []
    companies = diagnostic.companies_by_id
    unlocated: dict[str, list[str]] = defaultdict(list)
    # keyed by ((family id, hazardous, food grade), company id): plain tuples hash fast
    by_member: dict[tuple[tuple[str, bool, bool], str], list[PooledFlow]] = defaultdict(list)
    where: dict[tuple[tuple[str, bool, bool], str], tuple[str, tuple[float, float]]] = {}  # first flow id, place
    code_info = _code_lookup(taxonomy)
    convert = _converter(taxonomy)
    for flow in diagnostic.flows:
        info = code_info(flow.resource)
        if info is None or flow.direction != info.direction:
            continue
        family = info.family
        if available is None:
            quantity = flow.quantity
        else:
            quantity = available.get(flow.id, 0.0 if flow.direction == Direction.OUT else flow.quantity)
        if not quantity or quantity <= 0:
            continue
        location = _location(flow, companies)
        if location is None:
            unlocated[family.id].append(flow.id)
            continue
        try:
            ratio = convert(flow, family.unit)
        except UnitError:
            issues.append(Issue(None, "unit", flow.unit, (
                f"flux {flow.id} : quantité en {flow.unit} non convertible en {family.unit} "
                f"pour la mutualisation « {family.label_fr} » (masse unitaire ou densité manquante)")))
            continue
        try:
            tonnes_ratio = convert(flow, "t") if family.kind == "collection" else 0.0
        except UnitError:
            tonnes_ratio = 0.0
        treatment = _treatment_co2_kg(flow, quantity, family, info.resource, convert)
        cls = (family.id, bool(flow.hazardous or info.hazardous), info.food_grade)
        unit_cost = (
            flow.cost_eur_per_unit / ratio
            if flow.cost_eur_per_unit is not None and ratio > 0
            else family.individual_cost_eur_per_unit.value
        )
        key = (cls, flow.company_id)
        if key not in where or flow.id < where[key][0]:
            where[key] = (flow.id, location)
        by_member[key].append(PooledFlow(
            flow_id=flow.id,
            resource=flow.resource,
            quantity=quantity * ratio,
            unit_cost_eur=unit_cost,
            reported=flow.cost_eur_per_unit is not None and ratio > 0,
            family_units_per_unit=ratio,
            tonnes=quantity * tonnes_ratio,
            treatment_co2_kg=treatment,
        ))
    for family_id, ids in sorted(unlocated.items()):
        label = taxonomy.families[family_id].label_fr
        issues.append(Issue(None, "lat", None, (
            f"{len(ids)} flux « {label} » sans coordonnées ni code postal localisé : "
            f"exclus de la mutualisation ({_ids(sorted(ids))})")))
    members: dict[PoolClass, list[Member]] = defaultdict(list)
    classes = {key[0]: PoolClass(*key[0]) for key in by_member}
    for (cls, company_id), flows in by_member.items():
        lat, lon = where[(cls, company_id)][1]
        flows.sort(key=lambda f: f.flow_id)
        members[classes[cls]].append(Member(company_id, lat, lon, tuple(flows)))
    for cls in members:
        members[cls].sort(key=lambda m: m.company_id)
    return dict(members), issues


# --------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------


def cluster(
    lat: Sequence[float],
    lon: Sequence[float],
    quantity: Sequence[float],
    keys: Sequence[str],
    radius_km: float,
    critical_mass: float,
) -> list[tuple[int, ...]]:
    """Leader clustering: index tuples of the groups formed (see the module doc).

    Deterministic: leaders by decreasing quantity within reach, then by number
    of neighbours, then by ``keys``.
    """
    n = len(keys)
    if n < 2:
        return []
    xyz = unit_vectors(np.asarray(lat), np.asarray(lon))
    q = np.asarray(quantity, dtype=float)
    neighbours = cKDTree(xyz).query_ball_point(xyz, chord_for_km(radius_km), return_sorted=True)
    counts = np.fromiter((len(nb) for nb in neighbours), np.int64, n)  # each point is its own neighbour
    flat = np.fromiter(itertools.chain.from_iterable(neighbours), np.int64, int(counts.sum()))
    reach = np.add.reduceat(q[flat], np.r_[0, np.cumsum(counts)[:-1]]).tolist()
    order = sorted(range(n), key=lambda i: (-reach[i], -len(neighbours[i]), keys[i]))
    taken = np.zeros(n, dtype=bool)
    groups = []
    for i in order:
        if taken[i] or reach[i] < critical_mass:
            continue
        free = [j for j in neighbours[i] if not taken[j]]
        if len(free) >= 2 and q[free].sum() >= critical_mass:
            taken[free] = True
            groups.append(tuple(free))
    return groups


def find_groups(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
) -> tuple[list[Group], list[Issue]]:
    """Groups that reach their family's critical mass, in a deterministic order."""
    members, issues = pooling_members(diagnostic, taxonomy, available)
    groups = []
    for cls in sorted(members, key=lambda c: (c.family, c.hazardous, c.food_grade)):
        family = taxonomy.families[cls.family]
        ms = members[cls]
        for idx in cluster(
            [m.lat for m in ms], [m.lon for m in ms], [m.quantity for m in ms],
            [m.company_id for m in ms], family.radius_km.value, family.critical_mass.value,
        ):
            groups.append(Group(family, cls, tuple(sorted((ms[i] for i in idx), key=lambda m: m.company_id))))
    return groups, issues


# --------------------------------------------------------------------------
# Valuation
# --------------------------------------------------------------------------


def _missing_figures(family: PoolingFamily) -> list[str]:
    needed = ["pooled_cost_eur_per_unit"]
    if family.kind == "collection":
        needed += ["cost_per_km_eur", "individual_trip_km"]
    return [name for name in needed if getattr(family, name) is None]


def collectors(diagnostic: Diagnostic, taxonomy: Taxonomy) -> dict[tuple[str, bool], list[Depot]]:
    """Companies of the data able to receive a collection, per (family id, hazardous):
    an ``in`` flow of the family with the same hazard, or a waste-collection NAF."""
    family_of = _family_lookup(taxonomy)
    companies = diagnostic.companies_by_id
    found: dict[tuple[str, bool], dict[str, Depot]] = defaultdict(dict)
    for flow in diagnostic.flows:
        if flow.direction != Direction.IN or flow.resource == UNKNOWN_RESOURCE:
            continue
        family = family_of(flow.resource)
        loc = _location(flow, companies) if family is not None and family.kind == "collection" else None
        if family is not None and loc is not None:
            key = (family.id, _hazardous(taxonomy, flow))
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


def plan_group(
    group: Group,
    depots: Sequence[Depot],
    settings: _Settings,
    *,
    time_limit_s: float = ROUND_TIME_LIMIT_S,
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
        rnd = solve_round((depot.lat, depot.lon), stops, capacity, time_limit_s=time_limit_s,
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
    pooled = pooled_km * per_km + per_year * rnd.visits * per_stop + total * pooled_unit
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
    )


def plan_groups(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    estimate: bool = False,
) -> tuple[list[GroupPlan], list[Issue]]:
    """Every group formed and valued (worth doing or not), with the issues met.

    Groups are independent: ``workers`` > 1 values them in a process pool
    (same result, in the same order). ``estimate``: rounds estimated, not
    routed (see :func:`plan_group`).
    """
    issues: list[Issue] = []
    settings = _settings(taxonomy, issues)
    groups, member_issues = find_groups(diagnostic, taxonomy, available)
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
    jobs = [(g, depots.get((g.family.id, g.pool_class.hazardous), []), settings, estimate) for g in valued]
    plans: list[GroupPlan] = []
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for plan in pool.map(_plan_job, jobs, chunksize=max(1, len(jobs) // (8 * workers))):
                plans.append(plan)
                if progress:
                    progress(len(plans), len(jobs))
    else:
        for job in jobs:
            plans.append(_plan_job(job))
            if progress:
                progress(len(plans), len(jobs))
    return plans, issues


def _plan_job(job: tuple[Group, Sequence[Depot], _Settings, bool]) -> GroupPlan:
    group, depots, settings, estimate = job
    return plan_group(group, depots, settings, estimate=estimate)


# --------------------------------------------------------------------------
# Public API used by the matcher
# --------------------------------------------------------------------------


def outside_values(diagnostic: Diagnostic, taxonomy: Taxonomy) -> dict[str, float]:
    """€ per canonical unit each ``out`` flow saves in a pooled collection rather
    than its own; only flows of a group worth doing, only positive values.

    An estimate: the groups are those :func:`pool_synergies` would form on the
    whole flows, valued with the same cost model, but their rounds' km come
    from :func:`symbiose.routing.estimate_round` (no routing), so the matcher
    routes each group once, in :func:`pool_synergies`.
    """
    plans, _ = plan_groups(diagnostic, taxonomy, estimate=True)
    values: dict[str, float] = {}
    for plan in plans:
        if plan.group.family.kind != "collection" or plan.savings_eur <= 0:
            continue
        pooled_unit = plan.pooled_eur_per_unit
        for member in plan.group.members:
            for f in member.flows:
                value = (plan.flow_unit_costs[f.flow_id] - pooled_unit) * f.family_units_per_unit
                if value > 0:
                    values[f.flow_id] = value
    return values


def _main_resource(taxonomy: Taxonomy, family: PoolingFamily, flows: Sequence[PooledFlow]) -> str:
    """The deepest code covering every pooled flow when it lies within the
    family (``wood.pallet`` for EUR and damaged pallets), else the family's
    first member code."""
    parts = [f.resource.split(".") for f in flows]
    common: list[str] = []
    for level in zip(*parts):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    code = ".".join(common)
    if code in taxonomy.resources and any(taxonomy.is_under(code, m) for m in family.members):
        return code
    return family.members[0]


def _route(plan: GroupPlan) -> tuple[RouteStop, ...]:
    rnd, depot = plan.round, plan.depot
    if rnd is None or depot is None:
        return ()
    label = "Collecteur / recycleur (dépôt)" if depot.company_id else "Centre du groupe (entrée de la tournée)"
    start = RouteStop(depot.company_id, depot.lat, depot.lon, 0.0, label)
    route = [start]
    for trip in rnd.trips:
        for visit in trip:
            s = rnd.stops[visit.stop]
            route.append(RouteStop(s.id, s.lat, s.lon, round(visit.load, 6)))
        route.append(start)
    return tuple(route)


def _synergy(plan: GroupPlan, taxonomy: Taxonomy, number: int) -> Synergy:
    group, family = plan.group, plan.group.family
    flows = [f for m in group.members for f in m.flows]
    participants = tuple(Participant(m.company_id, f.flow_id) for m in group.members for f in m.flows)
    total = group.quantity
    n = len(group.members)
    legal = family.legal_fr
    details: dict = {
        "family": family.id,
        "family_label": family.label_fr,
        "kind": family.kind,
        "hazardous": group.pool_class.hazardous,
        "food_grade": group.pool_class.food_grade,
        "companies": n,
        "critical_mass": family.critical_mass.value,
        "radius_km": family.radius_km.value,
        "individual_cost_eur": round(plan.individual_cost_eur, 2),
        "pooled_cost_eur": round(plan.pooled_cost_eur, 2),
        "legal_fr": legal,
    }
    if family.kind == "collection":
        rnd = plan.round
        assert rnd is not None and plan.depot is not None
        details.update({
            "collections_per_year": plan.collections_per_year,
            "quantity_per_collection": round(total / plan.collections_per_year, 6),
            "round_km": round(plan.distance_km, 3),
            "trips_per_round": rnd.vehicles,
            "approach_km": plan.approach_km,
            "individual_km": round(plan.individual_km, 3),
            "pooled_km": round(plan.pooled_km, 3),
            "transport_co2_avoided_t": round(plan.transport_co2_avoided_t, 3),
            "treatment_co2_avoided_t": round(plan.treatment_co2_avoided_t, 3),
            "recovery": family.recovery,
            "depot": {"company_id": plan.depot.company_id, "lat": plan.depot.lat, "lon": plan.depot.lon},
            "detour_factor": rnd.detour_factor,
            "routing_status": rnd.status,
            "routing_limit": rnd.limit,
        })
        text = explain.collection_round(
            family.label_fr, n, total, family.unit, plan.distance_km, plan.collections_per_year,
            plan.savings_eur, plan.co2_avoided_t, trips_per_round=rnd.vehicles,
            hazardous=group.pool_class.hazardous, legal_fr=legal,
        )
    else:
        details["diameter_km"] = round(plan.distance_km, 3)
        if family.kind == "purchase":
            text = explain.group_purchase(
                family.label_fr, n, total, family.unit, plan.savings_eur,
                plan.individual_cost_eur / total, plan.pooled_eur_per_unit, legal_fr=legal,
            )
        else:
            text = explain.shared_service(family.label_fr, n, total, family.unit, plan.savings_eur, legal_fr=legal)
    collection = family.kind == "collection"
    return Synergy(
        id=f"P-{family.id}-{number}",
        type=SynergyType.MUTUALISATION,
        resource=_main_resource(taxonomy, family, flows),
        suppliers=participants if collection else (),
        receivers=() if collection else participants,
        quantity=round(total, 6),
        unit=f"{family.unit}/year",
        distance_km=round(plan.distance_km, 3),
        savings_eur=round(plan.savings_eur, 2),
        co2_avoided_t=round(plan.co2_avoided_t, 3),
        score=0.0,
        rank=0,
        explanation=text,
        tonnes_diverted=round(sum(f.tonnes for f in flows), 6) if collection else 0.0,
        route=_route(plan),
        details=details,
    )


def pool_synergies(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
    *,
    progress: Progress | None = None,
    workers: int = 1,
) -> tuple[list[Synergy], list[Issue]]:
    """Unranked mutualisation synergies (ids ``P-<family>-<n>``) and the issues met.

    ``available``: flow id → yearly quantity still free after substitutions
    (``None``: every flow whole; an ``out`` flow not listed has nothing left,
    an ``in`` flow not listed is whole). Only groups that save money are returned.
    ``progress(done, total)`` is called after each group is valued;
    ``workers`` > 1 routes the groups in a process pool.
    """
    plans, issues = plan_groups(diagnostic, taxonomy, available, progress=progress, workers=workers)
    counters: Counter[str] = Counter()
    synergies = []
    for plan in plans:
        if plan.savings_eur <= 0:
            continue
        counters[plan.group.family.id] += 1
        synergies.append(_synergy(plan, taxonomy, counters[plan.group.family.id]))
    return synergies, issues
