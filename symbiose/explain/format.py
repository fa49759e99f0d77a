"""French formatting of quantities, money, distances (Babel, CLDR data)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

_LOCALE = "fr_FR"
UNIT_YEARLY_FR = {"t": "t/an", "MWh": "MWh/an", "m3": "m³/an", "unit": "unités/an"}


@lru_cache(maxsize=1)
def _locale() -> Locale:
    return Locale.parse(_LOCALE)


@lru_cache(maxsize=8)
def _pattern(decimals: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "#" * decimals if decimals > 0 else ""))


def number(value: float, decimals: int = 0) -> str:
    """``1500.5 -> '1 500,5'`` with French separators (narrow no-break space)."""
    # what babel.numbers.format_decimal does, with the locale and pattern parsed once
    return _pattern(decimals).apply(value, _locale())


def smart_number(value: float) -> str:
    """Few significant digits: 12 345 → '12 345', 3.14159 → '3,1', 0.042 → '0,04'."""
    a = abs(value)
    decimals = 0 if a >= 100 else 1 if a >= 1 else 2
    return number(value, decimals)


def quantity(value: float, unit: str) -> str:
    """Yearly quantity: ``(1200, 't') -> '1 200 t/an'``."""
    return f"{smart_number(value)} {UNIT_YEARLY_FR.get(unit, unit + '/an')}"


def euros(value: float) -> str:
    """``12345.6 -> '12 346 €'``; large amounts rounded to the hundred."""
    v = round(value, -2) if abs(value) >= 10_000 else round(value)
    return f"{number(v)} €"


def km(value: float) -> str:
    return f"{smart_number(value)} km"


def tco2(value: float) -> str:
    return f"{smart_number(value)} tCO₂e"
