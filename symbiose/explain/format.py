"""French formatting of quantities, money, distances (Babel, CLDR data)."""

from __future__ import annotations

from babel.numbers import format_decimal

_LOCALE = "fr_FR"
UNIT_YEARLY_FR = {"t": "t/an", "MWh": "MWh/an", "m3": "m³/an", "unit": "unités/an"}


def number(value: float, decimals: int = 0) -> str:
    """``1500.5 -> '1 500,5'`` with French separators (narrow no-break space)."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=_LOCALE)


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
