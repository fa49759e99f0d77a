"""French sentences for mutualisation synergies: pooled collection rounds,
group purchases and shared services."""

from __future__ import annotations

from symbiose.explain import format as fmt

_PER_UNIT_FR = {"t": "la tonne", "MWh": "le MWh", "m3": "le m³", "unit": "l'unité"}


def _lower_first(label: str) -> str:
    """``'Palettes bois' -> 'palettes bois'``; acronyms (``'DEEE'``) stay as written."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def _headline(label: str, lead_in: str, prefixes: tuple[str, ...], joiner: str) -> str:
    """``lead_in`` + the label's object: the family labels are whole phrases
    ("Collecte mutualisée des palettes", "Achat groupé de gaz naturel")."""
    for prefix in prefixes:
        if label.lower().startswith(prefix.lower()):
            rest = label[len(prefix):].strip()
            return f"{lead_in} {rest}" if rest else lead_in
    return f"{lead_in}{joiner}{_lower_first(label)}"


def _companies(n: int) -> str:
    return f"{n} entreprise" + ("s" if n > 1 else "")


def _per_year(value: float) -> str:
    return f"{fmt.euros(value)}/an"


def _legal(legal_fr: str | None) -> str:
    if not legal_fr:
        return ""
    text = legal_fr.strip()
    return " " + text + ("" if text.endswith((".", "!", "?")) else ".")


def collection_round(
    family_label: str,
    companies: int,
    quantity: float,
    unit: str,
    round_km: float,
    rounds_per_year: int,
    savings_eur: float,
    co2_avoided_t: float,
    *,
    trips_per_round: int = 1,
    hazardous: bool = False,
    legal_fr: str | None = None,
    estimated: bool = False,
) -> str:
    """``Tournée commune de collecte des palettes : 14 entreprises, 3,1 t/an, 6,2 km par tournée, ...``
    (``estimated``: the round's length estimated, not routed: « environ 6,2 km »)."""
    what = _headline(family_label, "Tournée commune de collecte",
                     ("Collecte mutualisée", "Collecte commune", "Collecte"), " : ")
    hazard = " (déchets dangereux, collecte séparée)" if hazardous and "dangereu" not in family_label.lower() else ""
    trips = f" en {trips_per_round} passages" if trips_per_round > 1 else ""
    co2 = (
        f" et {fmt.tco2(co2_avoided_t)} évitées"
        if co2_avoided_t > 0
        else f", mais {fmt.tco2(-co2_avoided_t)} de plus" if co2_avoided_t < 0 else ""
    )
    return (
        f"{what}{hazard} : {_companies(companies)}, "
        f"{fmt.quantity(quantity, unit)}, {'environ ' if estimated else ''}{fmt.km(round_km)} par tournée"
        f"{' (estimée, sans tracé)' if estimated else ''}{trips}, "
        f"{rounds_per_year} tournées/an ; économie estimée {_per_year(savings_eur)}{co2}."
        f"{_legal(legal_fr)}"
    )


def group_purchase(
    family_label: str,
    companies: int,
    quantity: float,
    unit: str,
    savings_eur: float,
    individual_eur_per_unit: float,
    pooled_eur_per_unit: float,
    *,
    legal_fr: str | None = None,
) -> str:
    """``Achat groupé de fournitures de bureau : 6 entreprises, 12 t/an ; économie estimée ...``"""
    per = _PER_UNIT_FR.get(unit, unit)
    return (
        f"{_headline(family_label, 'Achat groupé', ('Achat groupé', 'Achats groupés'), ' : ')} : "
        f"{_companies(companies)}, "
        f"{fmt.quantity(quantity, unit)} ; économie estimée {_per_year(savings_eur)} "
        f"({fmt.euros(individual_eur_per_unit)} → {fmt.euros(pooled_eur_per_unit)} {per} en moyenne)."
        f"{_legal(legal_fr)}"
    )


def shared_service(
    family_label: str,
    companies: int,
    quantity: float,
    unit: str,
    savings_eur: float,
    *,
    legal_fr: str | None = None,
) -> str:
    """``Service partagé : gardiennage pour 5 entreprises ; économie estimée ...``"""
    return (
        f"Service partagé : {_lower_first(family_label)} pour {_companies(companies)} "
        f"({fmt.quantity(quantity, unit)}) ; économie estimée {_per_year(savings_eur)}."
        f"{_legal(legal_fr)}"
    )


_SMALL_FR = {1: "une", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit", 9: "neuf",
             10: "dix", 11: "onze", 12: "douze"}
_WHAT_PAYS_FR = {
    "collection": "une tournée commune est rentable",
    "purchase": "un achat groupé est rentable",
    "service": "un service commun est rentable",
}
_WANT_FR = {"collection": "ont ce flux à faire enlever", "purchase": "achètent", "service": "en ont besoin"}


def _count_fr(n: int) -> str:
    return _SMALL_FR.get(n, fmt.number(n))


def group_to_complete(
    family_label: str,
    kind: str,
    companies: int,
    quantity: float,
    unit: str,
    missing_companies: int,
    missing_quantity: float,
    *,
    by_participants: bool,
    prospects: int,
    radius_km: float,
) -> str:
    """``Gardiennage mutualisé, à compléter : six entreprises en ont besoin (…) ; deux de plus et un
    service commun est rentable. Quatre entreprises à approcher à moins de 3 km (liste jointe).``"""
    head = f"{family_label}, à compléter : {_count_fr(companies)} entreprises {_WANT_FR.get(kind, 'en ont besoin')} " \
           f"({fmt.quantity(quantity, unit)})"
    pays = _WHAT_PAYS_FR.get(kind, "la mutualisation est rentable")
    if by_participants or missing_quantity <= 0:
        more = f"{_count_fr(max(1, missing_companies))} de plus et {pays}"
    else:
        about = (f", soit environ {_count_fr(missing_companies)} entreprise"
                 f"{'s' if missing_companies > 1 else ''} de cette taille") if missing_companies else ""
        more = f"encore {fmt.quantity(missing_quantity, unit)}{about}, et {pays}"
    if prospects:
        who = (f" {_count_fr(prospects).capitalize()} entreprise{'s' if prospects > 1 else ''} à approcher "
               f"à moins de {fmt.km(radius_km)} (liste jointe).")
    else:
        who = f" Aucune entreprise du territoire à moins de {fmt.km(radius_km)} ne semble concernée : à chercher au-delà."
    return f"{head} ; {more}.{who}"


def to_complete_reason(critical_mass: float, unit: str, critical_participants: float | None) -> str:
    """Why a lead ``à compléter`` is not in the plan: the critical mass it has not reached."""
    threshold = (f"{_count_fr(int(critical_participants))} entreprises" if critical_participants is not None
                 else fmt.quantity(critical_mass, unit))
    return (f"Groupe à compléter : sous la masse critique ({threshold}) ; piste à porter au prochain club "
            "d'entreprises, hors des totaux du plan.")
