"""Whom to visit first: the expected value of the synergies a firm's probable
flows would open with the flows already known.

The declared flows and the probable flows (as :class:`~symbiose.domain.Flow`
objects marked ``attributes["status"] = "probable"``) are matched together
by :func:`symbiose.matching.match`. For each synergy of the plan resting on
a probable flow of a firm not yet visited (no declared flow), the firm is
credited with ``savings x share x p_firm x p_others``: ``share`` is 1 for a
substitution and the firm's part of the pooled quantity for a
mutualisation; ``p_firm`` the probability of its flow; ``p_others`` the
probability that the partners' flows exist (1 for a declared flow; the
product over partners for a substitution, their mean for a mutualisation,
which does not need every member). Firms are ranked by that expected value.
The French reason names the flows that carry it, their range, and how many
neighbours are concerned (partners of the plan and of the alternatives).
A declared flow always wins over a probable one of the same firm, direction
and resource family: the probable one is dropped.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from symbiose.domain import Company, Diagnostic, Direction, Flow, MatchResult, Synergy, SynergyType
from symbiose.explain.format import UNIT_YEARLY_FR, euros, smart_number
from symbiose.prediagnostic.predict import ProbableFlow, resource_family
from symbiose.taxonomy import Taxonomy, get_taxonomy


ALTERNATIVES = 3  # left-out partners kept per output flow: the reason counts every neighbour concerned


def probable_flow_id(company_id: str, direction: str, resource: str) -> str:
    """Stable id of a probable flow (``P-`` + 12 hex digits), distinct from declared flow ids."""
    raw = "\x1f".join(("probable", company_id.strip(), direction, resource))
    return "P-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]


def as_flow(pf: ProbableFlow, company: Company) -> Flow:
    """The domain flow matching works with: the range's middle, marked probable."""
    from symbiose.matching import PROBABLE  # matching (OR-Tools) is loaded only when a ranking is made
    return Flow(
        id=probable_flow_id(pf.company_id, pf.direction, pf.resource), company_id=pf.company_id,
        direction=Direction(pf.direction), resource=pf.resource, quantity=pf.quantity, unit=pf.unit,
        lat=company.lat, lon=company.lon, confidence=1.0, label="", text="",
        attributes={"status": PROBABLE, "probability": pf.probability, "quantity_low": pf.quantity_low,
                    "quantity_high": pf.quantity_high, "source": pf.source, "profile": pf.profile},
    )


def without_declared(probable: Iterable[ProbableFlow], declared: Iterable[Flow], taxonomy: Taxonomy) -> list[ProbableFlow]:
    """Probable flows left once declared ones win (same firm, direction and resource family)."""
    known = {(f.company_id, str(f.direction), resource_family(f.resource, taxonomy)) for f in declared}
    return [p for p in probable if (p.company_id, p.direction, resource_family(p.resource, taxonomy)) not in known]


@dataclass
class VisitItem:
    company_id: str
    name: str
    naf: str | None
    visited: bool
    expected_value_eur: float = 0.0
    visit_rank: int | None = None
    reason: str = ""
    probable_flows: list[ProbableFlow] = field(default_factory=list)
    synergies: list[str] = field(default_factory=list)  # ids of the probable synergies it takes part in


@dataclass
class VisitPlan:
    items: list[VisitItem]
    result: MatchResult  # declared + probable flows matched together
    probable_synergies: list[Synergy]

    def ranked(self) -> list[VisitItem]:
        return sorted((i for i in self.items if i.visit_rank is not None), key=lambda i: i.visit_rank or 0)


def _label(code: str, taxonomy: Taxonomy) -> str:
    label = taxonomy.get(code).label_fr if code in taxonomy else code
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _range(pf: ProbableFlow) -> str:
    unit = UNIT_YEARLY_FR.get(pf.unit, pf.unit + "/an")
    return f"{smart_number(pf.quantity_low)} à {smart_number(pf.quantity_high)} {unit}"


def _of(label: str) -> str:
    """``de palettes`` / ``d'huiles``: French elision before a vowel or a mute h."""
    return f"d'{label}" if label[:1].lower() in "aeiouyéèêh" else f"de {label}"


def _neighbours(n: int) -> str:
    return "1 entreprise voisine" if n == 1 else f"{n} entreprises voisines"


def _reason(item: VisitItem, contributions: Mapping[str, tuple[float, set[str], str]], by_id: Mapping[str, ProbableFlow],
            taxonomy: Taxonomy) -> str:
    """French reason: the flows that carry the value, with their range and who else is concerned."""
    parts = []
    for fid, (_value, partners, kind) in sorted(contributions.items(), key=lambda kv: -kv[1][0])[:2]:
        pf = by_id[fid]
        what = f"probablement {_range(pf)} {_of(_label(pf.resource, taxonomy))}"
        if kind == SynergyType.MUTUALISATION:
            tail = f"collecte ou achat groupé possible avec {_neighbours(len(partners))}"
        elif pf.direction == "out":
            tail = f"{_neighbours(len(partners))} en {'cherche' if len(partners) == 1 else 'cherchent'}"
        else:
            tail = f"{_neighbours(len(partners))} en {'a' if len(partners) == 1 else 'ont'} à céder"
        parts.append(f"{what} ; {tail}")
    if not parts:
        top = item.probable_flows[:2]
        if not top:
            return "aucun flux probable connu pour ce secteur"
        flows = ", ".join(f"{_label(p.resource, taxonomy)} ({_range(p)})" for p in top)
        return f"pas de synergie évidente avec les flux connus ; flux probables : {flows}"
    return " ; ".join(parts) + f" (valeur attendue ≈ {euros(item.expected_value_eur)}/an)"


def _expected_gain(s: Synergy, p, parts, pflows: Mapping[str, ProbableFlow], flow_by_id: Mapping[str, Flow],
                   total_q: float) -> float:
    """What one participant's probable flow is expected to bring from synergy ``s`` (see the module doc)."""
    pf = pflows[p.flow_id]
    others = [pflows[o.flow_id].probability if o.flow_id in pflows else 1.0 for o in parts if o.company_id != p.company_id]
    if s.type == SynergyType.MUTUALISATION:
        share = flow_by_id[p.flow_id].quantity / total_q
        p_others = sum(others) / len(others) if others else 1.0
    else:
        share, p_others = 1.0, 1.0
        for o in others:
            p_others *= o
    return max(s.savings_eur, 0.0) * share * pf.probability * p_others


def rank_visits(
    companies: Sequence[Company],
    declared: Sequence[Flow],
    probable: Mapping[str, list[ProbableFlow]],
    *,
    territory: str,
    taxonomy: Taxonomy | None = None,
    now: datetime | None = None,
    time_limit_s: float = 10.0,
) -> VisitPlan:
    """Rank the firms not yet visited by the expected value of the synergies their probable flows open."""
    from symbiose.matching import match

    tax = taxonomy or get_taxonomy()
    by_company = {c.id: c for c in companies}
    visited = {f.company_id for f in declared}
    kept = {cid: without_declared(flows, declared, tax) for cid, flows in probable.items()}
    pflows: dict[str, ProbableFlow] = {}
    flows: list[Flow] = list(declared)
    for cid, items in kept.items():
        for pf in items:
            f = as_flow(pf, by_company[cid])
            pflows[f.id] = pf
            flows.append(f)
    result = match(Diagnostic(territory, tuple(companies), tuple(flows)), tax, now=now, time_limit_s=time_limit_s,
                   alternatives=ALTERNATIVES)
    flow_by_id = {f.id: f for f in flows}
    value: dict[str, float] = defaultdict(float)
    contributions: dict[str, dict[str, tuple[float, set[str], str]]] = defaultdict(dict)
    involved: dict[str, list[str]] = defaultdict(list)
    probable_synergies = [s for s in result.synergies if s.details.get("probable_flows")]
    for s in probable_synergies:
        parts = [p for p in (*s.suppliers, *s.receivers) if p.flow_id in flow_by_id]
        total_q = sum(flow_by_id[p.flow_id].quantity for p in parts) or 1.0
        for p in parts:
            pf = pflows.get(p.flow_id or "")
            if pf is None or p.company_id in visited:
                continue
            partners = {o.company_id for o in parts if o.company_id != p.company_id}
            gain = _expected_gain(s, p, parts, pflows, flow_by_id, total_q) if s.in_plan else 0.0
            value[p.company_id] += gain
            old = contributions[p.company_id].get(p.flow_id)
            kind = str(s.type) if old is None or old[2] == str(s.type) else str(SynergyType.SUBSTITUTION)
            contributions[p.company_id][p.flow_id] = (
                (old[0] if old else 0.0) + gain, (old[1] if old else set()) | partners, kind)
            if s.in_plan:
                involved[p.company_id].append(s.id)
    items = []
    for c in companies:
        items.append(VisitItem(c.id, c.name, c.naf, c.id in visited, round(value.get(c.id, 0.0), 2),
                               probable_flows=kept.get(c.id, []), synergies=sorted(set(involved.get(c.id, [])))))
    order = sorted((i for i in items if not i.visited and i.probable_flows),
                   key=lambda i: (-i.expected_value_eur, -sum(p.probability for p in i.probable_flows), i.company_id))
    for rank, item in enumerate(order, start=1):
        item.visit_rank = rank
    by_pid = pflows
    for item in items:
        if item.visited:
            item.reason = "déjà visitée : ses flux déclarés priment sur les flux probables"
        else:
            item.reason = _reason(item, contributions.get(item.company_id, {}), by_pid, tax)
    return VisitPlan(items, result, probable_synergies)
