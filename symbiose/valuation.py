"""What one candidate exchange is worth: €, tCO2e and tonnes diverted, per
unit of supply moved in a year (pure functions over the taxonomy's figures).

Per unit of supply moved::

    value = avoided disposal (supplier)         its own cost_eur_per_unit, else disposal_cost_eur of the supply code
          + avoided purchase (receiver) × ratio  its own cost_eur_per_unit, else purchase_price_eur of the demand code
          − transport                            transport_eur_per_tkm × km × t/unit (trucked resources)
          − handling                             handling_eur of the supply code, else handling_eur_per_t × t/unit

    tCO2e = (co2_virgin_kg(demand) × ratio + co2_treatment_kg(supply)
             − transport_co2_kg_per_tkm × km × t/unit) / 1000

Resources carried by pipe (``infrastructure: pipe``: heat, steam, water
networks) have no per-unit transport; opening the link costs a yearly
``fixed_cost_eur`` instead: ``pipe_cost_eur_per_m × metres`` annualised over
``pipe_annuity_years`` at ``discount_rate``. A missing figure counts as zero
and is listed in :attr:`Valuation.missing`; every figure used is listed with
its source in :attr:`Valuation.sources` so reports can cite it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from symbiose.domain import Candidate, Diagnostic, Flow
from symbiose.taxonomy import Figure, Resource, Taxonomy

FROM_FLOW = "flow"  # source id of a figure the company reported itself


@dataclass(frozen=True, slots=True)
class Valuation:
    """Money and carbon of moving one unit of supply along one candidate."""

    value_eur_per_unit: float
    avoided_disposal_eur: float  # per unit of supply
    avoided_purchase_eur: float  # per unit of supply (ratio applied)
    transport_eur: float  # per unit of supply
    handling_eur: float  # per unit of supply
    fixed_cost_eur: float  # per year, when the link needs infrastructure
    co2_t_per_unit: float
    tonnes_per_unit: float | None  # mass of one unit of supply (None: unknown)
    diverted_unit: str  # "t" (mass diverted) or the canonical unit counted (MWh, m3)
    pipe: bool
    sources: tuple[tuple[str, str], ...]  # (factor, source id); FROM_FLOW for company figures
    missing: tuple[str, ...] = ()

    def net_benefit_eur(self, quantity: float) -> float:
        """Yearly net benefit of moving ``quantity`` (fixed cost paid when anything moves)."""
        if quantity <= 0:
            return 0.0
        return self.value_eur_per_unit * quantity - self.fixed_cost_eur

    def diverted(self, quantity: float) -> float:
        """Amount diverted in :attr:`diverted_unit` (tonnes for materials)."""
        if self.diverted_unit == "t":
            return quantity * (self.tonnes_per_unit or 0.0)
        return quantity


def annuity_factor(rate: float, years: float) -> float:
    """Share of an investment paid each year over ``years`` at ``rate`` (capital recovery factor)."""
    if years <= 0:
        raise ValueError("annuity years must be positive")
    if abs(rate) < 1e-12:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def tonnes_per_unit(resource: Resource) -> float | None:
    """Mass of one canonical unit of a resource, in tonnes (0 for energy, None when unknown)."""
    if resource.unit == "t":
        return 1.0
    if resource.unit == "MWh":
        return 0.0
    if resource.unit == "m3":
        return resource.density_t_per_m3.value if resource.density_t_per_m3 else None
    return resource.unit_mass_t.value if resource.unit_mass_t else None


def pipe_link_cost_eur(distance_km: float, taxonomy: Taxonomy) -> float:
    """Yearly cost of a pipe of ``distance_km`` (investment annualised)."""
    invest = taxonomy.param("pipe_cost_eur_per_m") * distance_km * 1000.0
    return invest * annuity_factor(taxonomy.param("discount_rate"), taxonomy.param("pipe_annuity_years"))


@dataclass(frozen=True, slots=True)
class _Factors:
    """What a valuation needs from the taxonomy for one pair of codes."""

    disposal: Figure | None
    purchase: Figure | None
    co2_virgin: Figure | None
    co2_treatment: Figure | None
    handling: Figure | None
    tonnes: float | None
    tonnes_source: str | None
    pipe: bool
    diverted_unit: str


def _factors(supply_code: str, demand_code: str, taxonomy: Taxonomy) -> _Factors:
    s = taxonomy.get(supply_code)
    d = taxonomy.get(demand_code)
    pipe = s.infrastructure == "pipe"
    tonnes = tonnes_per_unit(s)
    mass_fig = s.density_t_per_m3 if s.unit == "m3" else s.unit_mass_t if s.unit == "unit" else None
    return _Factors(
        disposal=s.disposal_cost_eur,
        purchase=d.purchase_price_eur,
        co2_virgin=d.co2_virgin_kg,
        co2_treatment=s.co2_treatment_kg,
        handling=s.handling_eur,
        tonnes=tonnes,
        tonnes_source=mass_fig.source if mass_fig else None,
        pipe=pipe,
        diverted_unit="t" if (s.unit in ("t", "unit") or (s.unit == "m3" and not pipe)) else s.unit,
    )


@dataclass(frozen=True, slots=True)
class _Params:
    transport_eur_per_tkm: float
    transport_co2_kg_per_tkm: float
    handling_eur_per_t: float
    sources: dict[str, str]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> _Params:
        names = ("transport_eur_per_tkm", "transport_co2_kg_per_tkm", "handling_eur_per_t")
        values = {n: taxonomy.param(n) for n in names}
        return cls(**values, sources={n: taxonomy.parameters[n].source for n in names})


class Valuer:
    """Values candidates against one taxonomy, caching its per-code figures."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.params = _Params.of(taxonomy)
        self._factors: dict[tuple[str, str], _Factors] = {}
        self._pipe_cost_per_km: float | None = None
        self._pipe_sources: tuple[tuple[str, str], ...] = ()

    def _pair(self, supply_code: str, demand_code: str) -> _Factors:
        key = (supply_code, demand_code)
        f = self._factors.get(key)
        if f is None:
            f = self._factors[key] = _factors(supply_code, demand_code, self.taxonomy)
        return f

    def _pipe_per_km(self) -> float:
        if self._pipe_cost_per_km is None:
            self._pipe_cost_per_km = pipe_link_cost_eur(1.0, self.taxonomy)
            self._pipe_sources = tuple(
                (n, self.taxonomy.parameters[n].source)
                for n in ("pipe_cost_eur_per_m", "pipe_annuity_years", "discount_rate")
            )
        return self._pipe_cost_per_km

    def value(self, candidate: Candidate, supply: Flow, demand: Flow) -> Valuation:
        """The :class:`Valuation` of one candidate between its two flows."""
        f = self._pair(candidate.supply_resource, candidate.demand_resource)
        p = self.params
        sources: list[tuple[str, str]] = []
        missing: list[str] = []

        def figure(name: str, own: float | None, fig: Figure | None) -> float:
            if own is not None:
                sources.append((name, FROM_FLOW))
                return own
            if fig is not None:
                sources.append((name, fig.source))
                return fig.value
            missing.append(name)
            return 0.0

        disposal = figure("disposal_cost_eur", supply.cost_eur_per_unit, f.disposal)
        purchase = figure("purchase_price_eur", demand.cost_eur_per_unit, f.purchase) * candidate.ratio
        co2_virgin = figure("co2_virgin_kg", None, f.co2_virgin) * candidate.ratio
        co2_treatment = figure("co2_treatment_kg", None, f.co2_treatment)
        tonnes = f.tonnes
        if tonnes is None:
            missing.append("tonnes_per_unit")
        elif f.tonnes_source:
            sources.append(("tonnes_per_unit", f.tonnes_source))
        mass = tonnes or 0.0
        if f.pipe:
            transport = transport_co2 = 0.0
            fixed = self._pipe_per_km() * candidate.distance_km
            sources.extend(self._pipe_sources)
            handling = f.handling.value if f.handling else 0.0
            if f.handling:
                sources.append(("handling_eur", f.handling.source))
        else:
            fixed = 0.0
            transport = p.transport_eur_per_tkm * candidate.distance_km * mass
            transport_co2 = p.transport_co2_kg_per_tkm * candidate.distance_km * mass
            sources.append(("transport_eur_per_tkm", p.sources["transport_eur_per_tkm"]))
            sources.append(("transport_co2_kg_per_tkm", p.sources["transport_co2_kg_per_tkm"]))
            if f.handling is not None:
                handling = f.handling.value
                sources.append(("handling_eur", f.handling.source))
            else:
                handling = p.handling_eur_per_t * mass
                sources.append(("handling_eur_per_t", p.sources["handling_eur_per_t"]))
        return Valuation(
            value_eur_per_unit=disposal + purchase - transport - handling,
            avoided_disposal_eur=disposal,
            avoided_purchase_eur=purchase,
            transport_eur=transport,
            handling_eur=handling,
            fixed_cost_eur=fixed,
            co2_t_per_unit=(co2_virgin + co2_treatment - transport_co2) / 1000.0,
            tonnes_per_unit=tonnes,
            diverted_unit=f.diverted_unit,
            pipe=f.pipe,
            sources=tuple(sources),
            missing=tuple(missing),
        )


def value_candidate(candidate: Candidate, supply: Flow, demand: Flow, taxonomy: Taxonomy) -> Valuation:
    """The :class:`Valuation` of one candidate (see the module docstring for the formulas)."""
    return Valuer(taxonomy).value(candidate, supply, demand)


def value_candidates(
    candidates: Iterable[Candidate], diagnostic: Diagnostic, taxonomy: Taxonomy
) -> list[Candidate]:
    """The candidates with ``value_eur_per_unit``, ``co2_t_per_unit`` and ``fixed_cost_eur`` filled in."""
    flows = {f.id: f for f in diagnostic.flows}
    valuer = Valuer(taxonomy)
    out = []
    for c in candidates:
        v = valuer.value(c, flows[c.supply_flow_id], flows[c.demand_flow_id])
        out.append(
            replace(
                c,
                value_eur_per_unit=v.value_eur_per_unit,
                co2_t_per_unit=v.co2_t_per_unit,
                fixed_cost_eur=v.fixed_cost_eur,
            )
        )
    return out
