"""Evidence beyond the words: EWC code, NAF code, unit, direction, temperature, concentration.

Each piece of evidence a row carries moves the score of the codes it points
at (a boost) or away from those it rules out (a penalty):

- the EWC code: the resource the taxonomy maps it to (``Taxonomy.resource_for_ewc``
  when the taxonomy has it), the codes listing it, then its sub-chapter and
  chapter; a hazardous entry ("*") points at hazardous resources;
- the company's NAF code: the codes whose ``naf_hints`` it starts with;
- the unit: a code counted natively in the row's unit (MWh is energy, m3 of a
  gas is a gas) gains, a code that cannot be counted in it loses
  (``unit_evidence`` in ``vocabulary.yaml``);
- the direction: codes that only make sense as needs (purchases, services)
  lose on an output row (``direction_evidence``);
- temperature and concentration: inside a code's range gains (the tightest
  band wins), outside loses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from symbiose.taxonomy import Resource, Taxonomy
from symbiose.text import fold
from symbiose.units import UnitError, to_yearly

BOOST_EWC = 0.30
BOOST_EWC_MAPPED = 0.34  # the resource the taxonomy maps the EWC entry to
BOOST_EWC_SUBCHAPTER = 0.06
BOOST_EWC_CHAPTER = 0.03
BOOST_HAZARDOUS = 0.05  # a hazardous EWC code ("*") points at hazardous resources
BOOST_NAF = 0.05
BOOST_LEVEL = 0.05  # a child that lists the EWC/NAF code as well as its parent is more specific
BOOST_RANGE = 0.10  # temperature/concentration inside a code's own range
PENALTY_RANGE = 0.15  # temperature/concentration outside a code's range
BOOST_CACHE = 500_000


@dataclass(frozen=True, slots=True)
class Context:
    """The evidence of a row besides its words."""

    ewc: str | None = None
    hazardous: bool = False  # the EWC code is a hazardous entry ("*")
    naf: str = ""
    temperature_c: float | None = None
    concentration_pct: float | None = None
    unit: str | None = None  # canonical unit of the row's unit: t, MWh, m3, unit
    direction: str | None = None  # "in" or "out"


def norm_naf(naf: str | None) -> str:
    """NAF code as bare upper-case characters: "56.10A" -> "5610A"."""
    return re.sub(r"[^0-9A-Z]", "", (naf or "").upper())


def norm_ewc(ewc: Any) -> str | None:
    """Six-digit EWC code, or None."""
    if not ewc:
        return None
    digits = re.sub(r"\D", "", str(ewc))
    return digits if len(digits) == 6 else None


def finite(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def unit_dimension(unit: Any) -> str | None:
    """Canonical unit (t, MWh, m3, unit) of a unit spelling (``symbiose.units``), None when unknown."""
    if unit is None or not str(unit).strip():
        return None
    try:
        return to_yearly(1.0, str(unit), "once", None).unit
    except UnitError:
        return None


def direction_of(direction: Any, aliases: Mapping[str, str]) -> str | None:
    """``in`` or ``out`` from a direction spelling (entrant, sortant, in, out...)."""
    if direction is None:
        return None
    value = getattr(direction, "value", direction)
    return aliases.get(fold(str(value)))


def mapped_resource(taxonomy: Taxonomy, ewc: str | None) -> str | None:
    """The resource the taxonomy maps an EWC code to (``resource_for_ewc``), else the
    single most specific code listing it, else None."""
    if not ewc:
        return None
    lookup = getattr(taxonomy, "resource_for_ewc", None)
    if lookup is not None:
        try:
            found = lookup(ewc)
        except (KeyError, ValueError):
            found = None
        if found is not None:
            return getattr(found, "code", found)
    listed = taxonomy.codes_for_ewc(ewc)
    if not listed:
        return None
    deepest = max(c.count(".") for c in listed)
    best = [c for c in listed if c.count(".") == deepest]
    return best[0] if len(best) == 1 else None


class Evidence:
    """Boosts and penalties of codes from a row's context."""

    def __init__(self, taxonomy: Taxonomy, lineage: Mapping[str, list[Resource]], vocabulary_units: Mapping[str, Any], directions: Mapping[str, Any]):
        self.taxonomy = taxonomy
        self.lineage = lineage
        self.unit_native = float(vocabulary_units.get("native_boost", 0.05))
        self.unit_penalty = float(vocabulary_units.get("incompatible_penalty", 0.2))
        self.direction_aliases = {fold(str(k)): str(v) for k, v in (directions.get("aliases") or {}).items()}
        self.needs_only = tuple(str(c) for c in directions.get("needs_only") or ())
        self.direction_penalty = float(directions.get("penalty", 0.1))
        self._mapped: dict[str, str | None] = {}
        self._boosts: dict[tuple[str, Context], float] = {}
        self._naf_hints = {code: tuple(norm_naf(h) for h in res.naf_hints) for code, res in taxonomy.resources.items()}
        self._units: dict[tuple[str, str], tuple[bool, bool]] = {}

    def mapped(self, ewc: str | None) -> str | None:
        """Cached :func:`mapped_resource`."""
        if not ewc:
            return None
        if ewc not in self._mapped:
            self._mapped[ewc] = mapped_resource(self.taxonomy, ewc)
        return self._mapped[ewc]

    def _countable(self, res: Resource, unit: str) -> tuple[bool, bool]:
        """(native, convertible): whether a code is counted in ``unit`` or can be converted
        from it (the import's own conversion, ``symbiose.units.to_yearly``)."""
        key = (res.code, unit)
        if key not in self._units:
            try:
                to_yearly(1.0, unit, "once", res)
                convertible = True
            except UnitError:
                convertible = False
            self._units[key] = (res.unit == unit, convertible)
        return self._units[key]

    def boost(self, code: str, ctx: Context) -> float:
        """Boost (or penalty) of a code from the row's context (remembered per code and context)."""
        key = (code, ctx)
        hit = self._boosts.get(key)
        if hit is None:
            if len(self._boosts) >= BOOST_CACHE:
                self._boosts.clear()
            hit = self._boosts[key] = self._boost(code, ctx)
        return hit

    def _boost(self, code: str, ctx: Context) -> float:
        lineage = self.lineage[code]
        boost = 0.0
        if ctx.ewc:
            mapped = self.mapped(ctx.ewc)
            levels = sum(ctx.ewc in r.ewc for r in lineage)
            if mapped is not None and mapped == code:
                boost += BOOST_EWC_MAPPED
            elif levels:
                boost += BOOST_EWC + BOOST_LEVEL * (levels - 1)
            else:
                listed = [e for r in lineage for e in r.ewc]
                if any(e[:4] == ctx.ewc[:4] for e in listed):
                    boost += BOOST_EWC_SUBCHAPTER
                elif any(e[:2] == ctx.ewc[:2] for e in listed):
                    boost += BOOST_EWC_CHAPTER
            if ctx.hazardous and lineage[0].hazardous:
                boost += BOOST_HAZARDOUS
        if ctx.naf:
            levels = sum(any(h and ctx.naf.startswith(h) for h in self._naf_hints[r.code]) for r in lineage)
            if levels:
                boost += BOOST_NAF + BOOST_LEVEL * (levels - 1)
        if ctx.unit:
            native, convertible = self._countable(lineage[0], ctx.unit)
            if native:
                boost += self.unit_native
            elif not convertible:
                boost -= self.unit_penalty
        if ctx.direction == "out" and any(Taxonomy.is_under(code, p) for p in self.needs_only):
            boost -= self.direction_penalty
        for value, attr in (
            (ctx.temperature_c, "temperature_range_c"),
            (ctx.concentration_pct, "concentration_range_pct"),
        ):
            if value is None:
                continue
            rng = getattr(lineage[0], attr)
            if rng is not None and not rng[0] <= value <= rng[1]:
                boost -= PENALTY_RANGE
                continue
            # each level that narrows the range around the value adds a boost, so the
            # tightest band wins ("vapeur 12 bar" -> medium-pressure steam)
            for level, res in enumerate(lineage):
                own = getattr(res, attr)
                above = getattr(lineage[level + 1], attr) if level + 1 < len(lineage) else None
                if own is not None and own != above and own[0] <= value < own[1]:
                    boost += BOOST_RANGE  # half-open bands: 60 °C is "60-90", not "< 60"
        return boost
