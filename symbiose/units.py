"""Units: a pint registry and the normalisation of a diagnostic quantity to a
yearly amount in the resource's canonical unit (t, MWh, m3 or unit)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pint

from symbiose.taxonomy import Resource
from symbiose.text import fold

# Diagnostic spellings → pint expressions (the spec's list plus common variants).
UNIT_ALIASES: dict[str, str] = {
    "t": "tonne", "tonne": "tonne", "tonnes": "tonne", "tonnes metriques": "tonne",
    "kg": "kilogram", "kilo": "kilogram", "kilos": "kilogram", "kilogramme": "kilogram", "kilogrammes": "kilogram",
    "g": "gram",
    "m3": "meter**3", "m³": "meter**3", "metre cube": "meter**3", "metres cubes": "meter**3",
    "l": "liter", "litre": "liter", "litres": "liter", "hl": "hectoliter",
    "mwh": "megawatt_hour", "kwh": "kilowatt_hour", "gwh": "gigawatt_hour", "gj": "gigajoule",
    "unit": "item", "u": "item", "unite": "item", "unites": "item", "piece": "item", "pieces": "item",
    "palette": "item", "palettes": "item", "pce": "item",
}
# Counted things people write for services and purchases ("1 contrat annuel", "3 places",
# "25 extincteurs", "2 passages"): each is a count unit of its own in the registry (a kind
# of ``item``), so a flow keeps what was counted (``raw_unit``) and a pooling family can
# convert it to its own unit with the figures of pooling.yaml (``unit_conversions``).
COUNT_NOUNS: dict[str, tuple[str, ...]] = {
    "contract": ("contrat", "contrats", "contrat annuel", "contrats annuels", "abonnement", "abonnements"),
    "site": ("site", "sites", "etablissement", "etablissements", "batiment", "batiments"),
    "place": ("place", "places", "berceau", "berceaux"),
    "appliance": ("appareil", "appareils", "equipement", "equipements", "machine", "machines", "vehicule", "vehicules"),
    "extinguisher": ("extincteur", "extincteurs"),
    "kit": ("kit", "kits", "lot", "lots", "dotation", "dotations", "trousse", "trousses"),
    "passage": ("passage", "passages", "ronde", "rondes"),
    "visit": ("visite", "visites", "controle", "controles", "verification", "verifications",
              "intervention", "interventions"),
    "service_hour": ("h", "heure", "heures", "heure de service", "heures de service"),
    "service_day": ("j", "journee", "journees", "jour", "jours", "jour homme", "jours hommes"),
    "person": ("salarie", "salaries", "personne", "personnes", "employe", "employes", "stagiaire", "stagiaires",
               "agent", "agents", "enfant", "enfants"),
    "meal": ("repas", "couvert", "couverts"),
}
UNIT_ALIASES.update({spelling: noun for noun, spellings in COUNT_NOUNS.items() for spelling in spellings})
UNIT_ALIASES.update({noun: noun for noun in COUNT_NOUNS})
PERIOD_ALIASES: dict[str, str] = {
    "year": "year", "an": "year", "annee": "year", "ans": "year", "yearly": "year", "annuel": "year", "/an": "year",
    "month": "month", "mois": "month", "mensuel": "month",
    "week": "week", "semaine": "week", "hebdomadaire": "week", "hebdo": "week",
    "day": "day", "jour": "day", "jours": "day", "quotidien": "day",
    "once": "once", "ponctuel": "once", "ponctuelle": "once", "une fois": "once",
}
CANONICAL_PINT = {"t": "tonne", "MWh": "megawatt_hour", "m3": "meter**3", "unit": "item"}


class UnitError(ValueError):
    """A unit or a conversion the resource does not allow."""


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The project's pint registry (with a countable ``item``)."""
    ureg = pint.UnitRegistry()
    ureg.define("item = [count]")
    for noun in COUNT_NOUNS:
        ureg.define(f"{noun} = item")
    return ureg


_UNIT_KEYS = {alias.replace(" ", ""): alias for alias in UNIT_ALIASES}  # spaces do not count: "metre cube"


def normalise_unit(text: str) -> str:
    """Key of :data:`UNIT_ALIASES` for a spelling, or raise :class:`UnitError`."""
    key = _UNIT_KEYS.get(fold(text or "").replace(" ", ""))
    if key is not None:
        return key
    raise UnitError(f"unknown unit {text!r}; {EXPECTED_UNITS}")


EXPECTED_UNITS = (
    "expected one of t, kg, m3, L, MWh, kWh, GJ, unit (u, piece, palette) or a count "
    "(contrat, site, place, appareil, extincteur, kit, passage, visite, heure, jour, salarié, repas)"
)


@lru_cache(maxsize=4096)
def count_noun(text: str | None) -> str | None:
    """What a count unit as written counts (``"3 places"`` → ``"place"``, a key of
    :data:`COUNT_NOUNS`), or ``None`` for a plain unit, item or unknown spelling."""
    key = _UNIT_KEYS.get(fold(text or "").replace(" ", ""))
    noun = UNIT_ALIASES.get(key) if key is not None else None
    return noun if noun in COUNT_NOUNS else None


def normalise_period(text: str | None) -> str:
    """``year``, ``month``, ``week``, ``day`` or ``once``; empty means ``year``."""
    if text is None or not str(text).strip():
        return "year"
    key = fold(str(text))
    key = key.removeprefix("par ").removeprefix("/").strip()
    if key in PERIOD_ALIASES:
        return PERIOD_ALIASES[key]
    raise UnitError(f"unknown period {text!r}; expected year (an), month (mois), week (semaine), day (jour) or once (ponctuel)")


@dataclass(frozen=True, slots=True)
class Yearly:
    quantity: float
    unit: str  # canonical: t, MWh, m3, unit


def to_yearly(quantity: float, unit: str, period: str, resource: Resource | None) -> Yearly:
    """Convert ``quantity unit per period`` to a yearly amount in the resource's canonical unit.

    Counted items become tonnes through ``unit_mass_t``, volumes become tonnes
    (and tonnes volumes) through ``density_t_per_m3``, steam or fuel tonnes
    MWh through ``energy_mwh_per_t``. ``once`` counts as one year's amount.
    Raises :class:`UnitError` when the resource lacks the factor.
    """
    key = normalise_unit(unit)
    source, factor = _canonical_factor(key)
    target = resource.unit if resource is not None else source
    value = _across(quantity * factor, source, target, resource, key)
    if period != "once":
        value *= _per_year(period)
    return Yearly(float(value), target)


@lru_cache(maxsize=None)
def _canonical_factor(key: str) -> tuple[str, float]:
    """The canonical unit of a diagnostic unit and how many of it one unit makes (pint, once per unit)."""
    ureg = registry()
    one = ureg.Quantity(1.0, UNIT_ALIASES[key])
    for canon, expr in CANONICAL_PINT.items():
        if one.dimensionality == ureg(expr).dimensionality:
            return canon, one.to(expr).magnitude
    raise UnitError(f"no canonical unit for {one.units}")


@lru_cache(maxsize=None)
def _per_year(period: str) -> float:
    return registry().Quantity(1.0, f"1/{period}").to("1/year").magnitude


def _across(value: float, source: str, target: str, resource: Resource | None, key: str) -> float:
    """``value`` in canonical unit ``source`` expressed in ``target`` through the resource's factors."""
    if source == target:
        return value
    code = resource.code if resource is not None else "unknown"
    if resource is not None and source == "unit" and target == "t":
        if resource.unit_mass_t is None:
            raise UnitError(f"{code} cannot be counted in items: the taxonomy gives no unit mass; expected a mass (t, kg)")
        return value * resource.unit_mass_t.value
    if resource is not None and resource.energy_mwh_per_t is not None:
        if (source, target) == ("t", "MWh"):
            return value * resource.energy_mwh_per_t.value
        if (source, target) == ("MWh", "t"):
            return value / resource.energy_mwh_per_t.value
    if resource is not None and resource.density_t_per_m3 is not None:
        if (source, target) == ("m3", "t"):
            return value * resource.density_t_per_m3.value
        if (source, target) == ("t", "m3"):
            return value / resource.density_t_per_m3.value
    shown = f"{registry()(UNIT_ALIASES[key]).units:~}"
    raise UnitError(f"{shown} cannot be converted to {target} for {code}; expected a unit of {target}")


# --------------------------------------------------------------------------
# What a count counts, read from the row's own words
# --------------------------------------------------------------------------

_NUMBER = r"(\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?)"
_SIZE_UNITS = {"kg": "kilogram", "kilos": "kilogram", "t": "tonne", "tonne": "tonne", "tonnes": "tonne",
               "l": "liter", "litre": "liter", "litres": "liter", "m3": "meter**3", "m³": "meter**3"}
_SIZE = re.compile(_NUMBER + r"\s*(kg|kilos|tonnes?|t|litres?|l|m3|m³)(?![a-z0-9])")
_NOUN_AFTER_NUMBER = re.compile(_NUMBER + r"\s+([a-z]+)")
_TEXT_NOUNS = {s: noun for noun, spellings in COUNT_NOUNS.items() for s in spellings
               if " " not in s and len(s) > 3 and s not in {"lots", "agent", "agents", "jour", "jours"}}


def _number(text: str) -> float:
    return float(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))


@lru_cache(maxsize=4096)
def stated_size(text: str | None) -> tuple[float, str] | None:
    """The size of one counted item when the row says it (``"bac de 660 L"`` → ``(0.66, "m3")``,
    ``"24 appareils, ~25 kg pièce"`` → ``(0.025, "t")``): in t or m3, the first mass or volume
    written in ``text``; ``None`` when there is none."""
    folded = fold(text or "")
    for match in _SIZE.finditer(folded):
        value, unit = _number(match.group(1)), _SIZE_UNITS[match.group(2)]
        if value <= 0:
            continue
        q = registry().Quantity(value, unit)
        return (float(q.to("tonne").magnitude), "t") if q.check("[mass]") else (float(q.to("meter**3").magnitude), "m3")
    return None


@lru_cache(maxsize=4096)
def counted_in(text: str | None) -> str | None:
    """The count noun (key of :data:`COUNT_NOUNS`) a row's words say its count is made of:
    the word after a number first (``"28 extincteurs"``), else the first count word."""
    folded = fold(text or "")
    for match in _NOUN_AFTER_NUMBER.finditer(folded):
        noun = _TEXT_NOUNS.get(match.group(2))
        if noun is not None:
            return noun
    for word in re.findall(r"[a-z]+", folded):
        noun = _TEXT_NOUNS.get(word)
        if noun is not None:
            return noun
    return None


def to_yearly_stated(
    quantity: float, unit: str, period: str, resource: Resource | None, described: str,
    bulk_density_t_per_m3: float | None = None,
) -> Yearly | None:
    """A count of items of a mass or volume resource, through the size the row states
    (:func:`stated_size` of ``described``: "3 bacs de 660 L", "24 appareils, ~25 kg pièce");
    a volume becomes tonnes through the resource's density, else ``bulk_density_t_per_m3``
    (loose waste in a container). ``None`` when the unit is no count, the resource is
    counted in items anyway, or no size is stated."""
    if resource is None or resource.unit == "unit" or _canonical_factor(normalise_unit(unit))[0] != "unit":
        return None
    size = stated_size(described)
    if size is None:
        return None
    value, size_unit = size
    if size_unit == "m3" and resource.unit == "t" and resource.density_t_per_m3 is None:
        if not bulk_density_t_per_m3:
            return None
        value, size_unit = value * bulk_density_t_per_m3, "t"
    try:
        return to_yearly(quantity * value, size_unit, period, resource)
    except UnitError:
        return None
