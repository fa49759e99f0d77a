"""Cell parsers: each returns the value of a cell or raises :class:`CellError`
with the message code (``symbiose.explain.issues``) of what was expected."""

from __future__ import annotations

import math
import re
from typing import Any

from symbiose.domain import ALL_MONTHS, Direction, months_mask
from symbiose.geocode import GeocodeError, normalise_postcode
from symbiose.text import fold

DIRECTIONS = {
    "out": Direction.OUT, "sortant": Direction.OUT, "sortie": Direction.OUT, "output": Direction.OUT, "s": Direction.OUT,
    "in": Direction.IN, "entrant": Direction.IN, "entree": Direction.IN, "input": Direction.IN, "e": Direction.IN,
}
BOOLEANS = {
    "true": True, "vrai": True, "oui": True, "yes": True, "1": True, "o": True, "y": True, "x": True,
    "false": False, "faux": False, "non": False, "no": False, "0": False, "n": False, "": False,
}


class CellError(ValueError):
    """A cell that does not hold what its column expects: the message code and its parameters."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
DOTTED_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")  # "1.250": 1,25 in English, 1 250 in a French sheet


def parse_number(text: str, column: str | None = None, *, minimum: float | None = None,
                 maximum: float | None = None) -> float:
    """French or English number: ``1 250,5``, ``1250.5``, ``1.250,5`` (``column`` is unused, kept for callers)."""
    s = _NUMBER_SPACES.sub("", text.strip())
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    else:
        s = s.replace(",", ".")
    try:
        value = float(s)
    except ValueError:
        raise CellError("number.invalid") from None
    if not math.isfinite(value):
        raise CellError("number.not_finite")
    if minimum is not None and value < minimum:
        raise CellError("number.below", minimum=float(minimum))
    if maximum is not None and value > maximum:
        raise CellError("number.above", maximum=float(maximum))
    return value


def parse_bool(text: str) -> bool:
    """``oui/non``, ``true/false``, ``1/0`` (and their short forms)."""
    key = fold(text)
    if key in BOOLEANS:
        return BOOLEANS[key]
    raise CellError("bool.invalid")


def parse_direction(text: str) -> Direction:
    """``out``/``sortant`` or ``in``/``entrant``."""
    direction = DIRECTIONS.get(fold(text))
    if direction is None:
        raise CellError("direction.invalid")
    return direction


def parse_months(text: str) -> int:
    """``1-12``, ``5-9``, ``11,12,1,2``, ``11-2`` (wraps) → month bit mask."""
    if not text.strip():
        return ALL_MONTHS
    months: set[int] = set()
    try:
        for part in re.split(r"[,;/ ]+", text.strip()):
            if not part:
                continue
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if not (1 <= a <= 12 and 1 <= b <= 12):
                    raise ValueError
                months.update(range(a, b + 1) if a <= b else [*range(a, 13), *range(1, b + 1)])
            else:
                m = int(part)
                if not 1 <= m <= 12:
                    raise ValueError
                months.add(m)
    except ValueError:
        raise CellError("months.invalid") from None
    if not months:
        raise CellError("months.invalid")
    return months_mask(months)


def parse_ewc(text: str) -> tuple[str, bool]:
    """``15 01 03*`` → (``150103``, hazardous)."""
    digits = re.sub(r"[\s.\-*]", "", text)
    if len(digits) != 6 or not digits.isdigit():
        raise CellError("ewc.invalid")
    return digits, "*" in text


def parse_naf(text: str) -> str:
    """``2013B`` / ``20.13B`` / ``20.13b`` → ``20.13B``."""
    s = re.sub(r"[\s.]", "", text).upper()
    if not re.fullmatch(r"\d{4}[A-Z]?|\d{2,3}", s):
        raise CellError("naf.invalid")
    return f"{s[:2]}.{s[2:]}" if len(s) > 2 else s


def parse_postcode(text: str) -> str:
    """A five-digit French postcode (spreadsheet spellings accepted)."""
    try:
        return normalise_postcode(text)
    except GeocodeError:
        raise CellError("postcode.invalid") from None
