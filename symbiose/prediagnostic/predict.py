"""Probable flows of a firm from its NAF code and its size.

For every flow of the firm's merged profile: the probability of its size
class, and the yearly quantity range ``[low x employees_low, high x
employees_high]`` (per-employee figures) or ``[low, high]`` (per-firm
figures), in the resource's canonical unit. ``quantity`` is the geometric
middle of the range, the single figure matching works with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symbiose.explain.issues import issue
from symbiose.domain import Issue
from symbiose.prediagnostic.firms import Firm
from symbiose.prediagnostic.profiles import Profiles, ProfileFlow, size_class
from symbiose.taxonomy import Taxonomy



@dataclass(frozen=True, slots=True)
class ProbableFlow:
    """A flow the firm probably has, never a declared one."""

    company_id: str
    resource: str
    direction: str
    probability: float
    quantity_low: float
    quantity_high: float
    unit: str
    source: str
    profile: str

    @property
    def quantity(self) -> float:
        """Geometric middle of the range (the range's arithmetic middle when it starts at 0)."""
        if self.quantity_low <= 0:
            return self.quantity_high / 2
        return math.sqrt(self.quantity_low * self.quantity_high)

    def to_dict(self) -> dict:
        return {
            "resource": self.resource, "direction": self.direction, "probability": round(self.probability, 3),
            "quantity_low": _round(self.quantity_low), "quantity_high": _round(self.quantity_high), "unit": self.unit,
            "source": self.source, "profile": self.profile,
        }


def _round(value: float) -> float:
    if value == 0:
        return 0.0
    digits = max(0, 3 - int(math.floor(math.log10(abs(value)))) - 1)
    return round(value, digits)


def headcount_range(firm: Firm, profiles: Profiles) -> tuple[float, float, bool]:
    """(low, high, known) headcount of a firm: its headcount, its band's range, or the unknown-size range."""
    if firm.employees is not None:
        return firm.employees, firm.employees, True
    band = profiles.band(firm.size_band) if firm.size_band else None
    if band is not None:
        return float(band[0]), float(band[1]), True
    low, high = profiles.data.unknown_size
    return float(low), float(high), False


def _size_class(low: float, high: float) -> int:
    return size_class(math.sqrt(max(low, 1.0) * max(high, 1.0)))


def _probable(firm: Firm, pf: ProfileFlow, cls: int, n_low: float, n_high: float, unit: str) -> ProbableFlow:
    if pf.per_employee:
        low, high = pf.low * max(n_low, 1.0), pf.high * max(n_high, 1.0)  # a firm of 0 employees still has its owner
    else:
        low, high = pf.low, pf.high
    return ProbableFlow(firm.id, pf.resource, pf.direction, pf.probability[cls], low, high, unit, pf.source, pf.profile)


def predict_firm(firm: Firm, profiles: Profiles, taxonomy: Taxonomy) -> tuple[list[ProbableFlow], list[Issue]]:
    """The probable flows of one firm, most probable first (the residual mixed bin last), and its warnings."""
    warnings: list[Issue] = []
    profile = profiles.for_naf(firm.naf)
    if profile.key is None and firm.naf:
        warnings.append(issue("firm.no_profile", row=firm.row, column="naf", value=firm.naf, naf=firm.naf))
    n_low, n_high, _ = headcount_range(firm, profiles)
    cls = _size_class(n_low, n_high)
    flows = [
        _probable(firm, pf, cls, n_low, n_high, taxonomy.get(pf.resource).unit)
        for pf in profile.flows
        if pf.probability[cls] >= profiles.data.min_probability
    ]
    residual = set(profiles.data.residual)
    flows.sort(key=lambda f: (f.resource in residual, -f.probability, f.direction, f.resource))
    return flows, warnings


def resource_family(code: str, taxonomy: Taxonomy) -> str:
    """The family a resource counts in for the backtest: its taxonomy family, else its first two segments."""
    if code in taxonomy:
        family = taxonomy.get(code).family
        if family:
            return family
    return ".".join(code.split(".")[:2])
