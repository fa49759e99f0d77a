"""Pooling members: per pooling family of the taxonomy, the companies with a poolable flow.

An ``out`` flow for a *collection* family, an ``in`` flow for a *purchase* or
*service* family. Flows of different codes of one family pool together
("palettes EUR" with "palettes bois"); a family's flows are split by hazard
and by food grade, which never mix. A company's flows of one family and class
make one member (one stop of a round).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from symbiose.domain import UNKNOWN_RESOURCE, Diagnostic, Direction, Flow, Issue, flow_location
from symbiose.taxonomy import PoolingFamily, Resource, Taxonomy
from symbiose.units import COUNT_NOUNS, UnitError, count_noun, counted_in, to_yearly

MAX_LISTED_IDS = 5  # flow ids quoted in one issue message


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


def family_lookup(taxonomy: Taxonomy) -> Callable[[str], PoolingFamily | None]:
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


def code_lookup(taxonomy: Taxonomy) -> Callable[[str], _CodeInfo | None]:
    """Per resource code, its family and classes (``None``: not poolable), remembered for one pass."""
    family_of = family_lookup(taxonomy)
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


def is_hazardous(taxonomy: Taxonomy, flow: Flow) -> bool:
    resource = taxonomy.resources.get(flow.resource)
    return bool(flow.hazardous or (resource is not None and resource.hazardous))


def _wanted_direction(family: PoolingFamily) -> Direction:
    return Direction.OUT if family.kind == "collection" else Direction.IN


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


def _counted(flow: Flow) -> str | None:
    """What a count flow counts: its unit as written ("3 contrats"), else the words of its row
    ("28 extincteurs", "heures de surveillance") when the unit is a plain count (u, unité)."""
    noun = count_noun(flow.raw_unit)
    if noun is not None:
        return noun
    return counted_in(flow.notes) or counted_in(flow.label) or counted_in(flow.text)


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
    unconverted: dict[tuple[str, str], list[str]] = defaultdict(list)  # (family, count noun) -> flow ids
    too_large: dict[str, list[str]] = defaultdict(list)  # family -> flows above its max_member_quantity
    # keyed by ((family id, hazardous, food grade), company id): plain tuples hash fast
    by_member: dict[tuple[tuple[str, bool, bool], str], list[PooledFlow]] = defaultdict(list)
    where: dict[tuple[tuple[str, bool, bool], str], tuple[str, tuple[float, float]]] = {}  # first flow id, place
    code_info = code_lookup(taxonomy)
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
        location = flow_location(flow, companies)
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
        noun = _counted(flow) if flow.unit == "unit" else None
        if noun is not None:
            figure = family.unit_conversions.get(noun)
            if figure is not None:
                ratio *= figure.value
            else:
                unconverted[(family.id, noun)].append(flow.id)
        cap = family.max_member_quantity
        if cap is not None and quantity * ratio > cap.value:  # a site that large keeps its own contract
            too_large[family.id].append(flow.id)
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
    for (family_id, noun), ids in sorted(unconverted.items()):
        label = taxonomy.families[family_id].label_fr
        issues.append(Issue(None, "unit", noun, (
            f"{len(ids)} flux « {label} » comptés en {COUNT_NOUNS[noun][1]} : pooling.yaml ne donne pas "
            f"leur équivalent pour cette mutualisation, comptés tels quels ({_ids(sorted(ids))})")))
    for family_id, ids in sorted(too_large.items()):
        family = taxonomy.families[family_id]
        issues.append(Issue(None, "quantity", None, (
            f"{len(ids)} flux « {family.label_fr} » au-delà de {family.max_member_quantity.value:g} {family.unit}/an : "
            f"un site de cette taille a son propre contrat, il reste hors de la mutualisation ({_ids(sorted(ids))})")))
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
