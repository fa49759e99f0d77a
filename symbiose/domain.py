"""Domain model of symbiose: plain frozen dataclasses, no I/O.

A *diagnostic* lists companies and their flows. A flow is one resource that
one company lets out (``out``) or takes in (``in``), normalised at import to a
yearly quantity in the resource's canonical unit. Matching turns flows into
:class:`Candidate` exchanges, the optimiser into a :class:`Solution`, and the
report layer into :class:`Synergy` objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ALL_MONTHS = 0xFFF  # bit i (0-based) set = month i+1 present
UNKNOWN_RESOURCE = "unknown"


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class SynergyType(StrEnum):
    SUBSTITUTION = "substitution"
    MUTUALISATION = "mutualisation"


class FollowUpStatus(StrEnum):
    PROPOSED = "proposed"
    CONTACTED = "contacted"
    STUDIED = "studied"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Company:
    """A company of a territory, identified by ``id`` within its diagnostic."""

    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    postcode: str | None = None
    city: str | None = None
    naf: str | None = None
    confidential: bool = False
    territory: str | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow of one company, as a yearly amount in its canonical unit."""

    id: str
    company_id: str
    direction: Direction
    resource: str
    quantity: float
    unit: str
    lat: float | None = None
    lon: float | None = None
    text: str = ""
    confidence: float = 1.0
    raw_quantity: float | None = None
    raw_unit: str | None = None
    period: str = "year"
    hazardous: bool = False
    ewc: str | None = None
    temperature_c: float | None = None
    concentration_pct: float | None = None
    cost_eur_per_unit: float | None = None  # € per canonical unit, as the company reports it
    months: int = ALL_MONTHS
    label: str = ""
    notes: str = ""
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


def flow_key(company_id: str, direction: str, resource: str, label: str) -> str:
    """Stable id of a flow: the spec's idempotency key, hashed to 12 hex digits."""
    raw = "\x1f".join((company_id.strip(), str(direction), resource, label.strip()))
    return "F-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]


def months_mask(months: list[int] | set[int] | tuple[int, ...]) -> int:
    """Bit mask of months 1..12."""
    mask = 0
    for m in months:
        mask |= 1 << (int(m) - 1)
    return mask


def months_overlap(a: int, b: int) -> int:
    """Number of months present in both masks."""
    return (a & b).bit_count()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """The companies and flows of one territory, as read from a file or a store."""

    territory: str
    companies: tuple[Company, ...]
    flows: tuple[Flow, ...]

    def company(self, company_id: str) -> Company:
        for c in self.companies:
            if c.id == company_id:
                return c
        raise KeyError(company_id)

    @property
    def companies_by_id(self) -> dict[str, Company]:
        return {c.id: c for c in self.companies}


def flow_location(flow: Flow, companies: Mapping[str, Company]) -> tuple[float, float] | None:
    """Where a flow is: its own coordinates, else its company's (``companies`` by id); ``None`` when neither is known."""
    if flow.lat is not None and flow.lon is not None:
        return float(flow.lat), float(flow.lon)
    company = companies.get(flow.company_id)
    if company is not None and company.lat is not None and company.lon is not None:
        return float(company.lat), float(company.lon)
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible exchange from one output flow to one input flow.

    ``max_quantity`` is in the supply's canonical unit; ``ratio`` converts it to
    the demand's unit (1.0 for the same resource). Money and CO2 are per unit
    of supply moved; ``fixed_cost_eur`` is the yearly cost of opening the link
    (annualised infrastructure), zero when no infrastructure is needed.
    """

    id: str
    supply_flow_id: str
    demand_flow_id: str
    supplier_id: str
    receiver_id: str
    supply_resource: str
    demand_resource: str
    rule_id: str
    distance_km: float
    max_quantity: float
    unit: str
    ratio: float = 1.0
    value_eur_per_unit: float = 0.0
    co2_t_per_unit: float = 0.0
    fixed_cost_eur: float = 0.0
    month_overlap: int = 12
    reasons: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # French: what the partners must verify (generic codes, unknown qualities)


@dataclass(frozen=True, slots=True)
class Allocation:
    """How much one candidate carries in a solution."""

    candidate_id: str
    quantity: float
    net_benefit_eur: float
    co2_avoided_t: float


@dataclass(frozen=True, slots=True)
class Solution:
    """The optimiser's plan, keyed by candidate id."""

    status: str  # "OPTIMAL", "FEASIBLE", ...
    objective_eur: float
    best_bound_eur: float
    allocations: dict[str, Allocation]
    components: int = 1
    solve_seconds: float = 0.0

    @property
    def gap(self) -> float:
        if abs(self.best_bound_eur) < 1e-9:
            return 0.0
        return max(0.0, (self.best_bound_eur - self.objective_eur) / abs(self.best_bound_eur))


@dataclass(frozen=True, slots=True)
class Participant:
    company_id: str
    flow_id: str | None = None


@dataclass(frozen=True, slots=True)
class RouteStop:
    company_id: str | None
    lat: float
    lon: float
    quantity: float = 0.0
    label: str = ""


@dataclass(frozen=True, slots=True)
class Synergy:
    """A proposed synergy, as written in the synergy JSON (``synergy-output.md``)."""

    id: str
    type: SynergyType
    resource: str
    suppliers: tuple[Participant, ...]
    receivers: tuple[Participant, ...]
    quantity: float
    unit: str
    distance_km: float
    savings_eur: float
    co2_avoided_t: float
    score: float
    rank: int
    explanation: str
    in_plan: bool = True
    reason: str | None = None
    tonnes_diverted: float = 0.0
    route: tuple[RouteStop, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    checks: tuple[str, ...] = ()  # French: what the partners must verify before the exchange
    minor: bool = False  # below the materiality threshold: a "piste mineure", out of the plan and totals
    kind: str = "synergy"  # "synergy", or "to_complete": a pooling group below its critical mass (a lead)

    @property
    def key(self) -> str:
        """Identity across runs: type, resource and participants (for follow-up)."""
        sup = ",".join(sorted(p.company_id for p in self.suppliers))
        rec = ",".join(sorted(p.company_id for p in self.receivers))
        return f"{self.type}|{self.resource}|{sup}|{rec}"


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in an input: a row error (blocking) or a warning."""

    row: int | None
    column: str | None
    value: str | None
    message: str
    code: str | None = None  # message code of ``symbiose.explain.issues`` (import problems)
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_text(self) -> str:
        """``ligne R, colonne C : message`` (French, as the messages)."""
        where = []
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column:
            where.append(f"colonne {self.column}")
        prefix = ", ".join(where)
        return f"{prefix} : {self.message}" if prefix else self.message


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Everything one matching run produced, ready for the synergy JSON."""

    territory: str
    generated_at: str  # ISO 8601, UTC, "Z"
    companies: int
    flows: int
    candidates: int
    synergies: tuple[Synergy, ...]
    warnings: tuple[Issue, ...] = ()
    solver: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def summary(self) -> dict[str, Any]:
        """The ``summary`` object of ``synergy-output.md`` (plan synergies only)."""
        plan = [s for s in self.synergies if s.in_plan]
        return {
            "companies": self.companies,
            "flows": self.flows,
            "candidates": self.candidates,
            "synergies": len(plan),
            "tonnes_diverted": round(sum(s.tonnes_diverted for s in plan), 3),
            "savings_eur": round(sum(s.savings_eur for s in plan), 2),
            "co2_avoided_t": round(sum(s.co2_avoided_t for s in plan), 3),
        }
