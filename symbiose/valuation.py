"""What one candidate exchange is worth: €, tCO2e and tonnes diverted, per
unit of supply moved in a year (pure functions over the taxonomy's figures).

Per unit of supply moved::

    value = avoided disposal (supplier)         its own cost_eur_per_unit, else disposal_cost_eur of the supply code
          + avoided purchase (receiver) × ratio  its own cost_eur_per_unit, else purchase_price_eur of the demand code
          − transport                            transport_eur_per_tkm × km × t/unit (trucked resources)
          − handling                             handling_eur of the supply code, else handling_eur_per_t × t/unit

    tCO2e = (co2_virgin_kg(demand) × ratio + co2_treatment_kg(supply)
             − transport_co2_kg_per_tkm × km × t/unit) / 1000

Figures a practitioner signs:

- the avoided purchase is the demand code's price; between codes of one
  family (the same resource, a more specific or a more generic code) a
  missing price is the supply code's, and a generic supply is never valued
  above its own code's price (its grade is not known);
- a company's own cost is used only within ``own_cost_max_factor`` times the
  reference figure of its code (beyond, it is read as a unit slip: €/kg for
  €/t, a yearly total for a unit price) and the reference is used instead,
  listed in :attr:`Valuation.missing` as ``own cost out of range``;
- units are checked where a link is made (:func:`unit_ratio`): a rule's ratio
  never claims more tonnes or MWh than a unit of supply holds.

Resources carried by pipe (``infrastructure: pipe``: heat, steam, water
networks) have no per-unit transport; opening the link costs a yearly
``fixed_cost_eur`` instead: ``pipe_cost_eur_per_m × metres`` annualised over
``pipe_annuity_years`` at ``discount_rate``. A missing figure counts as zero
and is listed in :attr:`Valuation.missing`; every figure used is listed with
its source in :attr:`Valuation.sources` so reports can cite it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from symbiose.domain import Candidate, Diagnostic, Flow
from symbiose.taxonomy import Figure, Resource, Taxonomy

FROM_FLOW = "flow"  # source id of a figure the company reported itself
Num = float | np.ndarray  # a Python float or a numpy column


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


def unit_ratio(supply: Resource, demand: Resource, rule_ratio: float | None = None) -> float | None:
    """Demand units replaced per unit of supply, checked against the two codes' units.

    Without a rule (the same resource, a more specific or a more generic
    code): 1 when both count in the same unit, else the physical conversion
    (unit masses, densities, energy per tonne), else ``None``: the link is
    refused rather than valued per the wrong unit. With a rule, its ratio,
    bounded when the units differ by what the supply physically holds (a m3
    of liquid never replaces more tonnes than it weighs, a tonne of fuel
    never more MWh than its energy content): converted, never inflated.
    """
    if supply.unit == demand.unit:
        return 1.0 if rule_ratio is None else rule_ratio
    ts, td = tonnes_per_unit(supply), tonnes_per_unit(demand)
    bound: float | None = None
    if ts and td:  # both material, with a known mass per unit
        bound = ts / td
    elif ts and demand.unit == "MWh" and supply.energy_mwh_per_t is not None:
        bound = ts * supply.energy_mwh_per_t.value
    elif supply.unit == "MWh" and td and demand.energy_mwh_per_t is not None:
        bound = 1.0 / (td * demand.energy_mwh_per_t.value)
    if rule_ratio is None:
        return bound
    return rule_ratio if bound is None else min(rule_ratio, bound)


def pipe_link_cost_eur(distance_km: float, taxonomy: Taxonomy) -> float:
    """Yearly cost of a pipe of ``distance_km`` (investment annualised)."""
    invest = taxonomy.param("pipe_cost_eur_per_m") * distance_km * 1000.0
    return invest * annuity_factor(taxonomy.param("discount_rate"), taxonomy.param("pipe_annuity_years"))


@dataclass(frozen=True, slots=True)
class _Factors:
    """Figures of one (supply code, demand code) pair, with their sources.

    ``disposal`` / ``purchase`` are ``None`` when the company's own figure is
    used instead (the key says which flows report a cost)."""

    disposal: float | None
    purchase: float | None
    disposal_ref: float | None  # the reference figures, to bound a company's own cost
    purchase_ref: float | None
    co2_virgin: float
    co2_treatment: float
    handling: float | None  # per unit; None: handling_eur_per_t × t/unit
    tonnes: float | None
    pipe: bool
    diverted_unit: str
    sources: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Params:
    transport_eur_per_tkm: float
    transport_co2_kg_per_tkm: float
    handling_eur_per_t: float
    pipe_eur_per_km_year: float
    own_cost_max_factor: float | None
    sources: dict[str, str]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> _Params:
        names = (
            "transport_eur_per_tkm",
            "transport_co2_kg_per_tkm",
            "handling_eur_per_t",
            "pipe_cost_eur_per_m",
            "pipe_annuity_years",
            "discount_rate",
        )
        return cls(
            transport_eur_per_tkm=taxonomy.param("transport_eur_per_tkm"),
            transport_co2_kg_per_tkm=taxonomy.param("transport_co2_kg_per_tkm"),
            handling_eur_per_t=taxonomy.param("handling_eur_per_t"),
            pipe_eur_per_km_year=pipe_link_cost_eur(1.0, taxonomy),
            own_cost_max_factor=(
                taxonomy.param("own_cost_max_factor") if "own_cost_max_factor" in taxonomy.parameters else None
            ),
            sources={n: taxonomy.parameters[n].source for n in names},
        )


def _factors(
    supply_code: str, demand_code: str, own_disposal: bool, own_purchase: bool, taxonomy: Taxonomy, params: _Params
) -> _Factors:
    s = taxonomy.get(supply_code)
    d = taxonomy.get(demand_code)
    sources: list[tuple[str, str]] = []
    missing: list[str] = []

    def figure(name: str, own: bool, fig: Figure | None) -> float | None:
        if own:
            sources.append((name, FROM_FLOW))
            return None
        if fig is not None:
            sources.append((name, fig.source))
            return fig.value
        missing.append(name)
        return 0.0

    # heat taken from a water stream: the water stays with the supplier, who still treats or discharges it
    carrier_only = s.root == "water" and d.root == "energy"
    if carrier_only:
        sources.append(("disposal_cost_eur", "heat recovery: the water itself is not taken"))
        disposal, co2_treatment = 0.0, 0.0
    else:
        disposal = figure("disposal_cost_eur", own_disposal, s.disposal_cost_eur)
        co2_treatment = figure("co2_treatment_kg", False, s.co2_treatment_kg) or 0.0
    price_fig = _purchase_figure(s, d)
    purchase = figure("purchase_price_eur", own_purchase, price_fig)
    co2_virgin = figure("co2_virgin_kg", False, _family_figure(s, d, d.co2_virgin_kg, s.co2_virgin_kg)) or 0.0
    pipe = s.infrastructure == "pipe"
    tonnes = tonnes_per_unit(s)
    mass_fig = s.density_t_per_m3 if s.unit == "m3" else s.unit_mass_t if s.unit == "unit" else None
    if tonnes is None:
        missing.append("tonnes_per_unit")
    elif mass_fig is not None:
        sources.append(("tonnes_per_unit", mass_fig.source))
    handling: float | None
    if s.handling_eur is not None:
        handling = s.handling_eur.value
        sources.append(("handling_eur", s.handling_eur.source))
    elif pipe:
        handling = 0.0  # a pipe flow is not handled as goods
    else:
        handling = None
        sources.append(("handling_eur_per_t", params.sources["handling_eur_per_t"]))
    if pipe:
        sources.extend((n, params.sources[n]) for n in ("pipe_cost_eur_per_m", "pipe_annuity_years", "discount_rate"))
    else:
        sources.extend((n, params.sources[n]) for n in ("transport_eur_per_tkm", "transport_co2_kg_per_tkm"))
    return _Factors(
        disposal=disposal,
        purchase=purchase,
        disposal_ref=None if carrier_only or s.disposal_cost_eur is None else s.disposal_cost_eur.value,
        purchase_ref=None if price_fig is None else price_fig.value,
        co2_virgin=co2_virgin,
        co2_treatment=co2_treatment,
        handling=handling,
        tonnes=tonnes,
        pipe=pipe,
        diverted_unit="t" if (s.unit in ("t", "unit") or (s.unit == "m3" and not pipe)) else s.unit,
        sources=tuple(sources),
        missing=tuple(missing),
    )


def _family_figure(s: Resource, d: Resource, d_fig: Figure | None, s_fig: Figure | None) -> Figure | None:
    """The demand code's figure, else (codes of one family) the supply code's."""
    if d_fig is None and (Taxonomy.is_under(s.code, d.code) or Taxonomy.is_under(d.code, s.code)):
        return s_fig
    return d_fig


def _purchase_figure(s: Resource, d: Resource) -> Figure | None:
    """The price of what the receiver stops buying (see the module docstring)."""
    d_fig, s_fig = d.purchase_price_eur, s.purchase_price_eur
    if Taxonomy.is_under(d.code, s.code) and s.code != d.code and s_fig is not None:
        # a generic supply: valued at most at its own code's price
        return s_fig if d_fig is None or s_fig.value < d_fig.value else d_fig
    return _family_figure(s, d, d_fig, s_fig)


def _plausible(own: float, ref: float | None, factor: float | None) -> bool:
    """Whether a company's own figure is within ``factor`` times its reference (True when unbounded)."""
    if ref is None or factor is None or ref == 0:
        return True
    return abs(own) <= factor * abs(ref)


def _per_unit(
    disposal: Num, purchase: Num, ratio: Num, km: Num, mass: Num, handling: Num, road: Num,
    co2_virgin: Num, co2_treatment: Num, p: _Params,
) -> tuple[Num, Num, Num, Num, Num, Num]:
    """The formulas of the module docstring, written once for Python floats and numpy arrays.

    ``road`` is 1 for trucked resources and 0 for piped ones (a pipe has a
    yearly fixed cost instead of a per-unit transport). Returns value,
    avoided purchase (ratio applied), transport, fixed cost, transport CO2
    (kg) and tCO2e, per unit of supply.
    """
    purchase = purchase * ratio
    transport = road * (p.transport_eur_per_tkm * km * mass)
    transport_co2 = road * (p.transport_co2_kg_per_tkm * km * mass)
    fixed = (1.0 - road) * (p.pipe_eur_per_km_year * km)
    value = disposal + purchase - transport - handling
    co2_t = (co2_virgin * ratio + co2_treatment - transport_co2) / 1000.0
    return value, purchase, transport, fixed, transport_co2, co2_t


class Valuer:
    """Values candidates against one taxonomy, caching its figures per pair of codes."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.params = _Params.of(taxonomy)
        self._factors: dict[tuple[str, str, bool, bool], _Factors] = {}

    def factors(self, supply_code: str, demand_code: str, own_disposal: bool, own_purchase: bool) -> _Factors:
        """The figures of one pair of codes (cached), company-reported costs left to the flows."""
        key = (supply_code, demand_code, own_disposal, own_purchase)
        f = self._factors.get(key)
        if f is None:
            f = self._factors[key] = _factors(*key, self.taxonomy, self.params)
        return f

    def value(self, candidate: Candidate, supply: Flow, demand: Flow) -> Valuation:
        """The :class:`Valuation` of one candidate between its two flows."""
        s_cost, d_cost = supply.cost_eur_per_unit, demand.cost_eur_per_unit
        f = self.factors(candidate.supply_resource, candidate.demand_resource, False, False)
        k = self.params.own_cost_max_factor
        notes: tuple[str, ...] = ()
        if s_cost is not None and not _plausible(s_cost, f.disposal_ref, k):
            s_cost, notes = None, (*notes, "own cost out of range: disposal_cost_eur")
        if d_cost is not None and not _plausible(d_cost, f.purchase_ref, k):
            d_cost, notes = None, (*notes, "own cost out of range: purchase_price_eur")
        f = self.factors(candidate.supply_resource, candidate.demand_resource, s_cost is not None, d_cost is not None)
        mass = f.tonnes or 0.0
        disposal = s_cost if f.disposal is None else f.disposal
        handling = self.params.handling_eur_per_t * mass if f.handling is None else f.handling
        value, purchase, transport, fixed, _, co2_t = _per_unit(
            disposal, d_cost if f.purchase is None else f.purchase, candidate.ratio, candidate.distance_km,
            mass, handling, 0.0 if f.pipe else 1.0, f.co2_virgin, f.co2_treatment, self.params,
        )
        return Valuation(
            value_eur_per_unit=value,
            avoided_disposal_eur=disposal,
            avoided_purchase_eur=purchase,
            transport_eur=transport,
            handling_eur=handling,
            fixed_cost_eur=fixed,
            co2_t_per_unit=co2_t,
            tonnes_per_unit=f.tonnes,
            diverted_unit=f.diverted_unit,
            pipe=f.pipe,
            sources=f.sources,
            missing=(*f.missing, *notes),
        )


def value_candidate(candidate: Candidate, supply: Flow, demand: Flow, taxonomy: Taxonomy) -> Valuation:
    """The :class:`Valuation` of one candidate (see the module docstring for the formulas)."""
    return Valuer(taxonomy).value(candidate, supply, demand)


def value_candidates(
    candidates: Iterable[Candidate], diagnostic: Diagnostic, taxonomy: Taxonomy
) -> list[Candidate]:
    """The candidates with ``value_eur_per_unit``, ``co2_t_per_unit`` and ``fixed_cost_eur`` filled in.

    The same figures as :meth:`Valuer.value`, computed on arrays: one pass
    to find each candidate's pair of codes, the formulas on numpy columns.
    """
    cands = list(candidates)
    if not cands:
        return []
    flows = {f.id: f for f in diagnostic.flows}
    valuer = Valuer(taxonomy)
    p = valuer.params
    pair: dict[tuple[str, str, bool, bool], int] = {}
    n = len(cands)
    which = np.empty(n, dtype=np.int64)
    s_cost = np.zeros(n)
    d_cost = np.zeros(n)
    k = p.own_cost_max_factor
    for i, c in enumerate(cands):
        sc, dc = flows[c.supply_flow_id].cost_eur_per_unit, flows[c.demand_flow_id].cost_eur_per_unit
        if sc is not None or dc is not None:
            ref = valuer.factors(c.supply_resource, c.demand_resource, False, False)
            if sc is not None and not _plausible(sc, ref.disposal_ref, k):
                sc = None
            if dc is not None and not _plausible(dc, ref.purchase_ref, k):
                dc = None
        key = (c.supply_resource, c.demand_resource, sc is not None, dc is not None)
        which[i] = pair.setdefault(key, len(pair))
        if sc is not None:
            s_cost[i] = sc
        if dc is not None:
            d_cost[i] = dc
    table = [valuer.factors(*key) for key in pair]

    def column(get: Callable[[_Factors], float | None]) -> np.ndarray:
        values = np.array([get(f) for f in table], dtype=float)  # None → NaN
        return values[which]

    mass = column(lambda f: f.tonnes or 0.0)
    disposal = column(lambda f: f.disposal)
    purchase = column(lambda f: f.purchase)
    handling = column(lambda f: f.handling)
    disposal = np.where(np.isnan(disposal), s_cost, disposal)
    purchase = np.where(np.isnan(purchase), d_cost, purchase)
    handling = np.where(np.isnan(handling), p.handling_eur_per_t * mass, handling)
    ratio = np.fromiter((c.ratio for c in cands), float, n)
    km = np.fromiter((c.distance_km for c in cands), float, n)
    value, _, _, fixed, _, co2_t = _per_unit(
        disposal, purchase, ratio, km, mass, handling, column(lambda f: 0.0 if f.pipe else 1.0),
        column(lambda f: f.co2_virgin), column(lambda f: f.co2_treatment), p,
    )
    return [
        _valued(c, v, co2, fx)
        for c, v, co2, fx in zip(cands, value.tolist(), co2_t.tolist(), fixed.tolist(), strict=True)
    ]


def _valued(c: Candidate, value: float, co2_t: float, fixed: float) -> Candidate:
    """The candidate with its money and carbon (a fast ``dataclasses.replace``)."""
    return Candidate(
        c.id, c.supply_flow_id, c.demand_flow_id, c.supplier_id, c.receiver_id, c.supply_resource,
        c.demand_resource, c.rule_id, c.distance_km, c.max_quantity, c.unit, c.ratio,
        value, co2_t, fixed, c.month_overlap, c.reasons, c.checks,
    )


def with_value(c: Candidate, v: Valuation) -> Candidate:
    """The candidate with the money and carbon of ``v``."""
    return _valued(c, v.value_eur_per_unit, v.co2_t_per_unit, v.fixed_cost_eur)
