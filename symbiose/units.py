"""Units: a pint registry and the normalisation of a diagnostic quantity to a
yearly amount in the resource's canonical unit (t, MWh, m3 or unit)."""

from __future__ import annotations

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
    return ureg


_UNIT_KEYS = {alias.replace(" ", ""): alias for alias in UNIT_ALIASES}  # spaces do not count: "metre cube"


def normalise_unit(text: str) -> str:
    """Key of :data:`UNIT_ALIASES` for a spelling, or raise :class:`UnitError`."""
    key = _UNIT_KEYS.get(fold(text or "").replace(" ", ""))
    if key is not None:
        return key
    raise UnitError(f"unknown unit {text!r}; expected one of t, kg, m3, L, MWh, kWh, GJ, unit (u, piece, palette)")


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
    (and tonnes volumes) through ``density_t_per_m3``. ``once`` counts as one
    year's amount. Raises :class:`UnitError` when the resource lacks the factor.
    """
    ureg = registry()
    src = ureg.Quantity(quantity, UNIT_ALIASES[normalise_unit(unit)])
    target_unit = resource.unit if resource is not None else _natural_canonical(src)
    target = ureg(CANONICAL_PINT[target_unit]).units
    converted = _convert(src, target, target_unit, resource)
    per_year = converted.magnitude
    if period != "once":
        per_year = ureg.Quantity(per_year, f"1/{period}").to("1/year").magnitude
    return Yearly(float(per_year), target_unit)


def _natural_canonical(q: pint.Quantity) -> str:
    dims = q.dimensionality
    for canon, expr in CANONICAL_PINT.items():
        if registry()(expr).dimensionality == dims:
            return canon
    raise UnitError(f"no canonical unit for {q.units}")


def _convert(src: pint.Quantity, target, target_unit: str, resource: Resource | None) -> pint.Quantity:
    ureg = registry()
    if src.dimensionality == target.dimensionality:
        return src.to(target)
    code = resource.code if resource is not None else "unknown"
    mass, volume, count = (ureg("tonne").dimensionality, ureg("meter**3").dimensionality, ureg("item").dimensionality)
    if resource is not None and src.dimensionality == count and target.dimensionality == mass:
        if resource.unit_mass_t is None:
            raise UnitError(f"{code} cannot be counted in items: the taxonomy gives no unit mass; expected a mass (t, kg)")
        return ureg.Quantity(src.to("item").magnitude * resource.unit_mass_t.value, "tonne").to(target)
    energy = ureg("megawatt_hour").dimensionality
    if resource is not None and resource.energy_mwh_per_t is not None:
        mwh_per_t = resource.energy_mwh_per_t.value
        if src.dimensionality == mass and target.dimensionality == energy:
            return ureg.Quantity(src.to("tonne").magnitude * mwh_per_t, "megawatt_hour").to(target)
        if src.dimensionality == energy and target.dimensionality == mass:
            return ureg.Quantity(src.to("megawatt_hour").magnitude / mwh_per_t, "tonne").to(target)
    if resource is not None and resource.density_t_per_m3 is not None:
        density = resource.density_t_per_m3.value
        if src.dimensionality == volume and target.dimensionality == mass:
            return ureg.Quantity(src.to("meter**3").magnitude * density, "tonne").to(target)
        if src.dimensionality == mass and target.dimensionality == volume:
            return ureg.Quantity(src.to("tonne").magnitude / density, "meter**3").to(target)
    raise UnitError(f"{src.units:~} cannot be converted to {target_unit} for {code}; expected a unit of {target_unit}")
