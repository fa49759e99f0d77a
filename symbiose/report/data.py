"""What a territory report shows, computed once from a diagnostic and its
synergy JSON: French labels, indicators by type and status, the collection
rounds and one sheet per company. The HTML, XLSX and chart writers only
format what this module returns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, datetime
from typing import Any

from symbiose.domain import Company, Diagnostic, Flow
from symbiose.explain import format as fr
from symbiose.explain.substitution import ewc_text
from symbiose.privacy import anonymised_label
from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import get_taxonomy

TYPE_FR = {"substitution": "Substitution", "mutualisation": "Mutualisation"}
STATUS_FR = {
    "proposed": "Proposée",
    "contacted": "Entreprises contactées",
    "studied": "À l'étude",
    "implemented": "Réalisée",
    "rejected": "Abandonnée",
}
STATUS_ORDER = tuple(STATUS_FR)
DIRECTION_FR = {"out": "Sortant", "in": "Entrant"}
PERIOD_FR = {"year": "par an", "month": "par mois", "week": "par semaine", "day": "par jour", "once": "ponctuel"}
ROLE_FR = {"supplier": "fournit", "receiver": "reçoit", "pool_out": "met en commun", "pool_in": "mutualise son besoin"}


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from; no database handle.

    Each synergy of ``document`` may carry its follow-up ``status`` and the
    ``consents`` given (company ids), as the API's synergy listing does.
    """

    territory: str
    name: str
    document: Mapping[str, Any]  # synergy JSON of ``synergy-output.md`` (+ in_plan, reason, route, details)
    diagnostic: Diagnostic
    source: str = ""  # where the data comes from, shown in the header
    visits: Mapping[str, Any] | None = None  # the pre-diagnostic's visit ranking (probable flows, kept apart)


@dataclass(frozen=True)
class SynergyView:
    """One synergy with its French labels and the names of its parties."""

    payload: Mapping[str, Any]
    type_label: str
    resource_label: str
    suppliers: tuple[Company, ...]
    receivers: tuple[Company, ...]
    status: str
    tonnes: float

    def __getattr__(self, name: str) -> Any:  # payload fields read as attributes in templates
        try:
            return self.payload[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def in_plan(self) -> bool:
        return bool(self.payload.get("in_plan", True))

    @property
    def to_complete(self) -> bool:
        """A pooling group below its critical mass, proposed as a lead « à compléter »."""
        return self.payload.get("kind") == "to_complete"

    @property
    def missing_fr(self) -> str:
        """What a lead « à compléter » lacks, in French (« 2 entreprises de plus », « 6,8 t/an de plus »)."""
        d = self.payload.get("details") or {}
        n, q = int(d.get("missing_companies") or 0), float(d.get("missing_quantity") or 0.0)
        firms = f"{n} entreprise{'s' if n > 1 else ''} de plus"
        if q > 0:
            unit = str(self.payload.get("unit", "")).split("/")[0]
            return f"{fr.quantity(q, unit)} de plus" + (f" (environ {firms})" if n else "")
        return firms

    @property
    def prospects(self) -> tuple[Mapping[str, Any], ...]:
        """The firms to approach of a lead « à compléter » (name, distance, why)."""
        return tuple((self.payload.get("details") or {}).get("prospects") or ())

    @property
    def counted(self) -> bool:
        """In the optimised plan, or taken up by the animator (as the API's indicators count)."""
        return self.in_plan or self.status != "proposed"

    @property
    def in_totals(self) -> bool:
        """Counted in totals and by type: counted and not rejected (``queries.indicators``'
        definition; a rejected synergy shows under its status only)."""
        return self.counted and self.status != "rejected"

    @property
    def status_label(self) -> str:
        return STATUS_FR.get(self.status, self.status)

    @property
    def company_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.id for c in (*self.suppliers, *self.receivers)))


@dataclass(frozen=True)
class SheetSynergy:
    """A synergy as seen from one company's sheet."""

    synergy: SynergyView
    role: str
    partners: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class CompanySheet:
    """One company's printable sheet: its flows and the synergies it takes part in."""

    company: Company
    naf_label: str
    outputs: tuple[Flow, ...]
    inputs: tuple[Flow, ...]
    synergies: tuple[SheetSynergy, ...]
    savings_eur: float
    co2_avoided_t: float


@dataclass(frozen=True)
class Totals:
    """Count, tonnes diverted, € saved and tCO2e avoided of a group of synergies."""

    synergies: int = 0
    tonnes: float = 0.0
    savings_eur: float = 0.0
    co2_avoided_t: float = 0.0

    def add(self, view: SynergyView) -> Totals:
        p = view.payload
        return Totals(self.synergies + 1, self.tonnes + view.tonnes,
                      self.savings_eur + float(p.get("savings_eur") or 0.0),
                      self.co2_avoided_t + float(p.get("co2_avoided_t") or 0.0))


@dataclass(frozen=True)
class Report:
    """The assembled report: views, indicators and sheets, ready to format."""

    input: ReportInput
    synergies: tuple[SynergyView, ...]  # every synergy, by rank
    by_type: dict[str, Totals]
    by_status: dict[str, Totals]
    sheets: tuple[CompanySheet, ...]
    generated_at: str

    @property
    def territory(self) -> str:
        return self.input.territory

    @property
    def name(self) -> str:
        return self.input.name

    @property
    def summary(self) -> Mapping[str, Any]:
        return self.input.document.get("summary", {})

    @cached_property  # read many times by the templates and the workbook
    def plan(self) -> tuple[SynergyView, ...]:
        """The synergies the report proposes: the optimised plan plus any the animator took up."""
        return tuple(s for s in self.synergies if s.counted)

    @property
    def outside_plan(self) -> tuple[SynergyView, ...]:
        return tuple(s for s in self.synergies
                     if not s.counted and not s.payload.get("minor") and not s.to_complete)

    @property
    def minor_leads(self) -> tuple[SynergyView, ...]:
        """Pistes mineures: below the materiality threshold, listed apart, out of the totals."""
        return tuple(s for s in self.synergies if not s.counted and s.payload.get("minor"))

    @property
    def to_complete(self) -> tuple[SynergyView, ...]:
        """Pooling groups below their critical mass (leads « à compléter », out of the totals)."""
        return tuple(s for s in self.synergies if not s.counted and s.to_complete)

    @cached_property  # read many times by the templates and the workbook
    def totals(self) -> Totals:
        out = Totals()
        for v in self.plan:
            if v.in_totals:
                out = out.add(v)
        return out

    @property
    def followed(self) -> bool:
        """True once some synergy of the plan has moved past ``proposed``."""
        return any(s.status != "proposed" for s in self.plan)

    @property
    def companies(self) -> tuple[Company, ...]:
        return self.input.diagnostic.companies

    @property
    def flows(self) -> tuple[Flow, ...]:
        return self.input.diagnostic.flows

    @property
    def rounds(self) -> tuple[SynergyView, ...]:
        """Mutualisations that come with an ordered collection round."""
        return tuple(s for s in self.synergies if s.payload.get("type") == "mutualisation" and len(s.payload.get("route") or ()) >= 2)


def resource_label(code: str) -> str:
    """French label of a taxonomy code (« Non classé — à revoir » for ``unknown``)."""
    if code == UNKNOWN_RESOURCE:
        return "Non classé — à revoir"
    res = get_taxonomy().resources.get(code)
    return res.label_fr if res is not None else code


def family(code: str) -> tuple[str, str]:
    """The resource family of a code (its taxonomy root) and its French label."""
    root = code.split(".", 1)[0]
    res = get_taxonomy().resources.get(root)
    return (root, res.label_fr) if res is not None else ("unknown", "Non classé")


def naf_label(naf: str | None) -> str:
    if not naf:
        return ""
    return get_taxonomy().naf_labels.get(naf, "")


def flow_details(f: Flow) -> str:
    """The particulars of a flow an animator checks on a visit, in French."""
    bits = []
    if f.hazardous:
        bits.append("dangereux")
    if f.ewc:
        bits.append(f"code déchet {ewc_text(f.ewc)}")
    if f.temperature_c is not None:
        bits.append(f"{fr.smart_number(f.temperature_c)} °C")
    if f.concentration_pct is not None:
        bits.append(f"{fr.smart_number(f.concentration_pct)} %")
    if f.cost_eur_per_unit is not None:
        bits.append(f"coût déclaré {fr.smart_number(f.cost_eur_per_unit)} €/{fr.UNIT_YEARLY_FR.get(f.unit, f.unit).split('/')[0]}")
    return ", ".join(bits)


def synergy_tonnes(payload: Mapping[str, Any]) -> float:
    """Tonnes diverted by a synergy: its own figure, else its quantity when counted in tonnes."""
    value = payload.get("tonnes_diverted")
    if value is not None:
        return float(value)
    return float(payload.get("quantity") or 0.0) if payload.get("unit", "").startswith("t") else 0.0


def _unknown_company(company_id: str) -> Company:
    return Company(id=company_id, name=company_id)


def _view(payload: Mapping[str, Any], companies: Mapping[str, Company], status: str) -> SynergyView:
    code = str(payload.get("resource", ""))
    sup = tuple(companies.get(p["company_id"]) or _unknown_company(p["company_id"]) for p in payload.get("suppliers", ()))
    rec = tuple(companies.get(p["company_id"]) or _unknown_company(p["company_id"]) for p in payload.get("receivers", ()))
    return SynergyView(
        payload=payload,
        type_label=TYPE_FR.get(str(payload.get("type")), str(payload.get("type"))),
        resource_label=resource_label(code),
        suppliers=sup,
        receivers=rec,
        status=status,
        tonnes=synergy_tonnes(payload),
    )


def _role(view: SynergyView, company_id: str) -> str:
    mutual = view.payload.get("type") == "mutualisation"
    if any(c.id == company_id for c in view.suppliers):
        return ROLE_FR["pool_out" if mutual else "supplier"]
    return ROLE_FR["pool_in" if mutual else "receiver"]


def shown_name(company: Company, view: SynergyView) -> str:
    """How ``company`` is named to the other parties of a synergy: a confidential
    company stays anonymous until every party has consented (double opt-in)."""
    if not company.confidential or set(view.company_ids) <= set(view.payload.get("consents") or ()):
        return company.name
    return anonymised_label(company.naf, company.postcode, company.city, company.lat, company.lon)


def _sheet_synergy(view: SynergyView, company: Company) -> SheetSynergy:
    """The synergy seen by ``company``: partners named as they may be shown to it."""
    explanation = str(view.payload.get("explanation", ""))
    partners = []
    for other in dict.fromkeys((*view.suppliers, *view.receivers)):
        if other.id == company.id:
            continue
        shown = shown_name(other, view)
        if shown != other.name and other.name:
            explanation = explanation.replace(other.name, shown)
        partners.append(shown)
    return SheetSynergy(synergy=view, role=_role(view, company.id), partners=tuple(partners), explanation=explanation)


def _french_date(iso: str, now: datetime | None) -> str:
    """``2026-11-23T10:00:00Z`` → ``23/11/2026`` (the run's date, so a report is reproducible)."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        when = now or datetime.now(UTC)
    return when.strftime("%d/%m/%Y")


def build_report(data: ReportInput, *, now: datetime | None = None) -> Report:
    """Assemble the report of ``data``: labels, indicators and company sheets."""
    companies = data.diagnostic.companies_by_id
    payloads = sorted(data.document.get("synergies", ()), key=lambda p: p.get("rank", 0))
    views = tuple(_view(p, companies, str(p.get("status") or "proposed")) for p in payloads)

    by_type: dict[str, Totals] = {t: Totals() for t in TYPE_FR}
    by_status: dict[str, Totals] = {s: Totals() for s in STATUS_ORDER}
    for v in views:
        if not v.counted:
            continue
        if v.in_totals:
            by_type[str(v.payload.get("type"))] = by_type.get(str(v.payload.get("type")), Totals()).add(v)
        by_status[v.status] = by_status.get(v.status, Totals()).add(v)

    flows_of: dict[str, list[Flow]] = defaultdict(list)
    for f in data.diagnostic.flows:
        flows_of[f.company_id].append(f)
    synergies_of: dict[str, list[SynergyView]] = defaultdict(list)
    for v in views:
        if v.counted:
            for cid in v.company_ids:
                synergies_of[cid].append(v)
    sheets = []
    for c in sorted(data.diagnostic.companies, key=lambda c: (c.name.casefold(), c.id)):
        mine = synergies_of.get(c.id, [])
        flows = sorted(flows_of.get(c.id, []), key=lambda f: (f.resource, f.label))
        sheets.append(CompanySheet(
            company=c,
            naf_label=naf_label(c.naf),
            outputs=tuple(f for f in flows if f.direction == "out"),
            inputs=tuple(f for f in flows if f.direction == "in"),
            synergies=tuple(_sheet_synergy(v, c) for v in mine),
            savings_eur=sum(float(v.payload.get("savings_eur") or 0.0) for v in mine if v.in_totals),
            co2_avoided_t=sum(float(v.payload.get("co2_avoided_t") or 0.0) for v in mine if v.in_totals),
        ))
    stamp = _french_date(str(data.document.get("generated_at") or ""), now)
    return Report(input=data, synergies=views, by_type=by_type, by_status=by_status, sheets=tuple(sheets), generated_at=stamp)
