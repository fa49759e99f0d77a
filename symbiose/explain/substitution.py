"""French sentences for substitution synergies: who gives what to whom, how
much, how far, € and tCO2e, why it is compatible, and why a candidate was
left out of the plan.

Company names come from a ``names`` mapping (company id → name to show) so a
caller can pass anonymised labels for confidential companies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from symbiose.domain import Candidate, Flow
from symbiose.explain.format import euros, km, number, quantity, smart_number, tco2
from symbiose.taxonomy import Taxonomy
from symbiose.valuation import Valuation

_ELIDE = tuple("aeiouyhéèêàâîôûAEIOUYHÉÈÊÀÂÎÔÛ")


def resource_label(code: str, taxonomy: Taxonomy) -> str:
    """The French label of a code, lower-cased for use inside a sentence (acronyms kept)."""
    label = taxonomy.get(code).label_fr if code in taxonomy else code
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        label = label[0].lower() + label[1:]
    return label


def of(label: str) -> str:
    """``de`` + label, elided before a vowel or h: ``d'acide``, ``d'Aciérie``, ``de palettes``."""
    return f"d'{label}" if label.startswith(_ELIDE) else f"de {label}"


def ewc_text(ewc: str) -> str:
    """``150103`` → ``15 01 03``."""
    c = ewc.replace(" ", "").rstrip("*")
    return f"{c[:2]} {c[2:4]} {c[4:]}" if len(c) == 6 else ewc


def _rule_label(rule_id: str, taxonomy: Taxonomy) -> str | None:
    rule = taxonomy.rules_by_id.get(rule_id)
    return rule.label_fr if rule is not None else None


def compatibility(
    candidate: Candidate, supply: Flow, demand: Flow, taxonomy: Taxonomy, valuation: Valuation | None = None
) -> str:
    """Why the supply can feed the need, as a French clause list."""
    parts: list[str] = []
    s_label = resource_label(candidate.supply_resource, taxonomy)
    d_label = resource_label(candidate.demand_resource, taxonomy)
    if candidate.rule_id == "same":
        parts.append("même ressource")
    elif candidate.rule_id in ("descendant", "generic"):
        parts.append(f"« {s_label} » répond au besoin « {d_label} »")
    else:
        label = _rule_label(candidate.rule_id, taxonomy) or candidate.rule_id
        text = f"règle « {label} »"
        if abs(candidate.ratio - 1.0) > 1e-9:
            text += f" (1 {candidate.unit} remplace {smart_number(candidate.ratio)} {demand.unit})"
        parts.append(text)
    t_s, t_d = supply.temperature_c, demand.temperature_c
    if "temperature" in candidate.reasons and t_s is not None and t_d is not None:
        parts.append(f"température {number(t_s)} °C ≥ {number(t_d)} °C")
    c_s, c_d = supply.concentration_pct, demand.concentration_pct
    if "concentration" in candidate.reasons and c_s is not None and c_d is not None:
        parts.append(f"concentration {smart_number(c_s)} % pour {smart_number(c_d)} % demandés")
    if "hazardous" in candidate.reasons:
        parts.append("matière dangereuse acceptée par le receveur")
    if supply.ewc:
        parts.append(f"code déchet {ewc_text(supply.ewc)}")
    if "months" in candidate.reasons:
        parts.append(f"{candidate.month_overlap} mois sur 12 en commun")
    if valuation is not None and valuation.pipe and candidate.fixed_cost_eur > 0:
        parts.append(f"canalisation de {km(candidate.distance_km)} ({euros(candidate.fixed_cost_eur)}/an)")
    text = ", ".join(parts)
    if candidate.checks:
        text += " ; à vérifier : " + ", ".join(candidate.checks)
    return text


def explain_substitution(
    candidate: Candidate,
    supply: Flow,
    demand: Flow,
    names: Mapping[str, str],
    taxonomy: Taxonomy,
    moved: float,
    net_benefit_eur: float,
    co2_avoided_t: float,
    valuation: Valuation | None = None,
    *,
    approximate: bool = False,
) -> str:
    """One or two sentences: A gives B so much of what, how far, € and tCO2e, and why it fits.

    ``approximate``: both companies were placed at one postcode's centre, so
    the distance is said to be approximate rather than "à 0 km"."""
    supplier = names.get(candidate.supplier_id, candidate.supplier_id)
    receiver = names.get(candidate.receiver_id, candidate.receiver_id)
    label = resource_label(candidate.supply_resource, taxonomy)
    money = (
        f"{euros(net_benefit_eur)} d'économies par an"
        if net_benefit_eur >= 0
        else f"un coût net de {euros(-net_benefit_eur)} par an"
    )
    carbon = f"{tco2(co2_avoided_t)} évitées" if co2_avoided_t >= 0 else f"{tco2(-co2_avoided_t)} émises en plus"
    where = "même code postal : distance approximative" if approximate else f"à {km(candidate.distance_km)}"
    first = (
        f"{supplier} peut fournir {quantity(moved, candidate.unit)} {of(label)} à {receiver}, "
        f"{where} : {money} et {carbon}."
    )
    return f"{first} Compatible : {compatibility(candidate, supply, demand, taxonomy, valuation)}."


# --------------------------------------------------------------------------
# Why a candidate is not in the plan
# --------------------------------------------------------------------------


MAX_NAMED = 3  # companies named in one reason; the rest are counted


def _names(ids: Sequence[str], names: Mapping[str, str]) -> str:
    """``A``, ``A et B``, ``A, B et C``, ``A, B, C et 4 autres entreprises``."""
    shown = [names.get(i, i) for i in ids[:MAX_NAMED]]
    if len(ids) > MAX_NAMED:
        rest = len(ids) - MAX_NAMED
        return ", ".join(shown) + f" et {rest} autre" + ("s entreprises" if rest > 1 else " entreprise")
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " et " + shown[-1]


def reason_supply_taken(label: str, supplier_id: str, receiver_ids: Sequence[str], names: Mapping[str, str]) -> str:
    supplier = names.get(supplier_id, supplier_id)
    return f"le flux {of(label)} {of(supplier)} est déjà alloué à {_names(receiver_ids, names)}"


def reason_supply_pooled(label: str, supplier_id: str, names: Mapping[str, str]) -> str:
    supplier = names.get(supplier_id, supplier_id)
    return f"le flux {of(label)} {of(supplier)} rapporte davantage en collecte mutualisée"


def reason_demand_covered(label: str, receiver_id: str, supplier_ids: Sequence[str], names: Mapping[str, str]) -> str:
    receiver = names.get(receiver_id, receiver_id)
    return f"le besoin {of(label)} {of(receiver)} est déjà couvert par {_names(supplier_ids, names)}"


def reason_link_cost(distance_km: float, fixed_cost_eur: float, pipe: bool) -> str:
    what = f"canalisation de {km(distance_km)}" if pipe else f"{km(distance_km)}"
    return f"le lien ne couvre pas son coût d'investissement ({what}, {euros(fixed_cost_eur)}/an)"


def byproduct_outlet_note(shadow_eur_per_t: float) -> str:
    return (
        "Débouché de sous-produit retenu malgré sa valeur nette : le CO₂ évité, "
        f"à la valeur tutélaire du carbone ({euros(shadow_eur_per_t)}/tCO₂e), couvre ce coût."
    )


def reason_minor(min_eur: float, min_t: float) -> str:
    return (
        f"piste mineure : moins de {euros(min_eur)} par an et moins de {quantity(min_t, 't')} détournées, "
        "hors du plan et des totaux"
    )


def reason_better_plan() -> str:
    return "le plan optimal retient d'autres échanges plus rentables pour ces flux"
