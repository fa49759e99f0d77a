"""Pooling synergies: one :class:`Synergy` per group worth doing, with its French explanation,
one lead ``à compléter`` per group below its critical mass, and the per-flow values the
matcher weighs against substitutions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from symbiose.domain import Diagnostic, Issue, Participant, RouteStop, Synergy, SynergyType

TO_COMPLETE = "to_complete"  # Synergy.kind of a group below its critical mass
KIND_FR = {"synergy": "proposée", TO_COMPLETE: "à compléter"}
from symbiose.explain import pooling as explain
from symbiose.pooling.members import PoolClass, PooledFlow, code_lookup
from symbiose.pooling.recruit import Prospect, Recruiter, wanted_prospects
from symbiose.pooling.valuation import GroupPlan, Progress, plan_groups
from symbiose.taxonomy import PoolingFamily, Taxonomy


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
        assert plan.depot is not None
        details.update({
            "collections_per_year": plan.collections_per_year,
            "quantity_per_collection": round(total / plan.collections_per_year, 6),
            "round_km": round(plan.distance_km, 3),
            "trips_per_round": plan.trips,
            "approach_km": plan.approach_km,
            "individual_km": round(plan.individual_km, 3),
            "pooled_km": round(plan.pooled_km, 3),
            "transport_co2_avoided_t": round(plan.transport_co2_avoided_t, 3),
            "treatment_co2_avoided_t": round(plan.treatment_co2_avoided_t, 3),
            "recovery": family.recovery,
            "depot": {"company_id": plan.depot.company_id, "lat": plan.depot.lat, "lon": plan.depot.lon},
            "detour_factor": rnd.detour_factor if rnd else None,
            "routing_status": rnd.status if rnd else "ESTIMATED",
            "routing_limit": rnd.limit if rnd else "budget",
            "estimated": rnd is None,
        })
        text = explain.collection_round(
            family.label_fr, n, total, family.unit, plan.distance_km, plan.collections_per_year,
            plan.savings_eur, plan.co2_avoided_t, trips_per_round=plan.trips,
            hazardous=group.pool_class.hazardous, legal_fr=legal, estimated=rnd is None,
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


def _lead(plan: GroupPlan, taxonomy: Taxonomy, number: int, prospects: Sequence[Prospect]) -> Synergy:
    """A group below its critical mass as a lead ``à compléter``: out of the plan and its totals,
    with what it lacks and the firms to approach."""
    group, family = plan.group, plan.group.family
    flows = [f for m in group.members for f in m.flows]
    participants = tuple(Participant(m.company_id, f.flow_id) for m in group.members for f in m.flows)
    collection = family.kind == "collection"
    n = len(group.members)
    missing_companies, missing_quantity = group.missing()
    by_participants = family.critical_participants is not None
    details: dict = {
        "family": family.id,
        "family_label": family.label_fr,
        "kind": family.kind,
        "kind_fr": KIND_FR[TO_COMPLETE],
        "hazardous": group.pool_class.hazardous,
        "food_grade": group.pool_class.food_grade,
        "companies": n,
        "critical_mass": family.critical_mass.value,
        "critical_participants": family.critical_participants.value if by_participants else None,
        "missing_companies": missing_companies,
        "missing_quantity": round(missing_quantity, 6),
        "radius_km": family.radius_km.value,
        "diameter_km": round(plan.distance_km, 3),
        "prospects": [p.as_dict() for p in prospects],
        "legal_fr": family.legal_fr,
    }
    text = explain.group_to_complete(
        family.label_fr, family.kind, n, group.quantity, family.unit, missing_companies,
        missing_quantity, by_participants=by_participants, prospects=len(prospects),
        radius_km=family.radius_km.value,
    )
    return Synergy(
        id=f"P-{family.id}-{number}",
        type=SynergyType.MUTUALISATION,
        resource=_main_resource(taxonomy, family, flows),
        suppliers=participants if collection else (),
        receivers=() if collection else participants,
        quantity=round(group.quantity, 6),
        unit=f"{family.unit}/year",
        distance_km=round(plan.distance_km, 3),
        savings_eur=0.0,  # not valued: what it saves depends on the firms still to join
        co2_avoided_t=0.0,
        score=0.0,
        rank=0,
        explanation=text,
        in_plan=False,
        reason=explain.to_complete_reason(family.critical_mass.value, family.unit,
                                          family.critical_participants.value if by_participants else None),
        tonnes_diverted=round(sum(f.tonnes for f in flows), 6) if collection else 0.0,
        details=details,
        kind=TO_COMPLETE,
    )


def _declared(diagnostic: Diagnostic, taxonomy: Taxonomy) -> dict[str, set[str]]:
    """Company ids with a poolable flow, per family id (whatever its quantity left)."""
    info = code_lookup(taxonomy)
    found: dict[str, set[str]] = {}
    for flow in diagnostic.flows:
        i = info(flow.resource)
        if i is not None and flow.direction == i.direction:
            found.setdefault(i.family.id, set()).add(flow.company_id)
    return found


def pool_synergies(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    leads: bool = True,
) -> tuple[list[Synergy], list[Issue]]:
    """Unranked mutualisation synergies (ids ``P-<family>-<n>``) and the issues met.

    ``available``: flow id → yearly quantity still free after substitutions
    (``None``: every flow whole; an ``out`` flow not listed has nothing left,
    an ``in`` flow not listed is whole). Groups that reach their critical mass
    are returned when they save money (``kind`` ``synergy``); with ``leads``,
    the groups below it too, as leads ``à compléter`` (``kind`` ``to_complete``,
    out of the plan, with the firms to approach). ``progress(done, total)`` is
    called after each group is valued; ``workers``: see :func:`plan_groups`.
    """
    plans, issues = plan_groups(diagnostic, taxonomy, available, progress=progress, workers=workers,
                                incomplete=leads)
    counters: Counter[str] = Counter()
    synergies = []
    taken: dict[PoolClass, set[str]] = {}
    for plan in plans:
        taken.setdefault(plan.group.pool_class, set()).update(m.company_id for m in plan.group.members)
    recruiter = Recruiter(diagnostic.companies, taxonomy) if any(not p.group.complete for p in plans) else None
    declared = _declared(diagnostic, taxonomy) if recruiter is not None else {}
    for plan in plans:
        group = plan.group
        if group.complete and plan.savings_eur <= 0:
            continue
        counters[group.family.id] += 1
        if group.complete:
            synergies.append(_synergy(plan, taxonomy, counters[group.family.id]))
            continue
        assert recruiter is not None
        used = taken[group.pool_class]
        free = {c: None for c in sorted(declared.get(group.family.id, set()) - used)}
        prospects = recruiter.prospects(group, used, free, wanted_prospects(group.missing()[0]))
        synergies.append(_lead(plan, taxonomy, counters[group.family.id], prospects))
    return synergies, issues
