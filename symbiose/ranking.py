"""Which synergies are most worth doing: a multi-criteria score and the ranking.

An animator does not follow up the synergies in order of euros at reference
prices alone: an exchange the firms have already priced, on a resource read
for sure in the diagnostic, between close neighbours, that settles a flow
entirely, is worth a phone call before a larger but speculative one. Each
synergy gets factors in [0, 1]:

``benefit``
    net yearly benefit ``b``, on a log scale: ``ln(1+b)/ln(1+B)``, ``B`` the
    largest of the run (0 when ``b ≤ 0``); a 500 € exchange stays visible
    beside a 500 000 € one.
``co2``
    tCO2e avoided, on the same log scale against the run's largest.
``confidence``
    how sure the classification of the synergy's flows is (the lowest).
``link``
    how direct the substitution is: the same resource, a more specific one
    (descendant), a more generic one whose grade must be checked
    (generic), or a substitution rule of the taxonomy (``rank_link_*``
    parameters).
``figures``
    share of the synergy's flows whose cost the companies reported
    themselves (``cost_eur_per_unit``) rather than taken at reference prices.
``checked``
    share of the qualities the receiver's resource requires (temperature,
    concentration: the taxonomy gives them a range) that both companies
    stated, so the match was checked on their values.
``proximity``
    ``1 − d/R``: the distance against the economic radius ``R`` of the link
    (``max_distance_km`` of the rule or resource).
``coverage``
    the larger of the share of the output taken and the share of the need
    met: an exchange that settles one side's flow entirely needs no other
    partner.

A factor that does not apply is left out (``checked`` when no quality
matters; ``link``, ``checked``, ``proximity`` and ``coverage`` for a
mutualisation, which pools whole flows of one family over a round), and so
is a factor whose weight (or link figure) the taxonomy does not give. The
merit ``m`` is the weighted mean of the factors left (weights
``rank_weight_<factor>`` of ``parameters.yaml``, each with its rationale; a
taxonomy with none ranks by benefit alone). Score: ``0.5 + 0.5·m`` for a
synergy of the plan, ``0.1 + 0.4·m`` for an option left out, ``0.1·m`` for
a minor lead (``minor``, below the materiality threshold), so the plan
comes first, the minor leads last, and the score falls with the rank. Ids ``S-0001``... follow the rank;
ties are broken by net benefit, type, resource and participants, so a run is
deterministic. The factors are written in ``details["score_factors"]``.
The optimiser's plan itself is unchanged: it maximises the net € benefit;
ranking only orders what it and the left-out alternatives propose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from symbiose.domain import Flow, Synergy, SynergyType
from symbiose.taxonomy import Taxonomy

FACTORS = ("benefit", "co2", "confidence", "link", "figures", "checked", "proximity", "coverage")


def weights_of(taxonomy: Taxonomy) -> dict[str, float]:
    """The factor weights of ``parameters.yaml``, normalised to sum to 1.

    A factor without a ``rank_weight_<factor>`` parameter is not used; a
    taxonomy with none of them ranks by benefit alone."""
    raw = {f: max(0.0, taxonomy.param(name)) for f in FACTORS if (name := f"rank_weight_{f}") in taxonomy.parameters}
    total = sum(raw.values())
    if total <= 0:
        return {"benefit": 1.0}
    return {f: w / total for f, w in raw.items() if w > 0}


class Scorer:
    """The factors and merit of the synergies of one run (taxonomy figures read once)."""

    _QUALITIES = (("temperature_c", "temperature_range_c"), ("concentration_pct", "concentration_range_pct"))

    def __init__(self, flows: Mapping[str, Flow], taxonomy: Taxonomy, best_benefit: float, best_co2: float):
        self.flows = flows
        self.taxonomy = taxonomy
        self.weights = weights_of(taxonomy)
        self._log_benefit = math.log1p(best_benefit) if best_benefit > 0 else 0.0
        self._log_co2 = math.log1p(best_co2) if best_co2 > 0 else 0.0
        params = taxonomy.parameters
        self._link = {
            kind: params[name].value if (name := f"rank_link_{kind}") in params else None
            for kind in ("same", "descendant", "generic", "rule")
        }
        self._needs: dict[str, tuple[str, ...]] = {}  # demand code -> flow attributes it requires

    def _needed(self, code: str) -> tuple[str, ...]:
        attrs = self._needs.get(code)
        if attrs is None:
            res = self.taxonomy.resources.get(code)
            attrs = tuple(a for a, rng in self._QUALITIES if res is not None and getattr(res, rng) is not None)
            self._needs[code] = attrs
        return attrs

    @staticmethod
    def _log_share(x: float, log_best: float) -> float:
        return min(1.0, math.log1p(x) / log_best) if x > 0 and log_best > 0 else 0.0

    def factors(self, s: Synergy) -> dict[str, float]:
        """The factors of one synergy that apply to it, each in [0, 1] (see the module docstring)."""
        flows = self.flows
        own = [flows[p.flow_id] for p in (*s.suppliers, *s.receivers) if p.flow_id in flows]
        out: dict[str, float] = {
            "benefit": self._log_share(s.savings_eur, self._log_benefit),
            "co2": self._log_share(s.co2_avoided_t, self._log_co2),
            "confidence": min((f.confidence for f in own), default=1.0),
            "figures": sum(f.cost_eur_per_unit is not None for f in own) / len(own) if own else 0.0,
        }
        if s.type != SynergyType.SUBSTITUTION:
            return {f: min(1.0, max(0.0, v)) for f, v in out.items()}
        d = s.details or {}
        rule = d.get("rule", "rule")
        link = self._link[rule if rule in ("same", "descendant", "generic") else "rule"]
        if link is not None:
            out["link"] = link
        supply = flows.get(s.suppliers[0].flow_id or "")
        demand = flows.get(s.receivers[0].flow_id or "")
        if supply is not None and demand is not None:
            needed = self._needed(demand.resource)
            if needed:
                stated = sum(getattr(supply, a) is not None and getattr(demand, a) is not None for a in needed)
                out["checked"] = stated / len(needed)
        radius = float(d.get("max_distance_km") or 0.0)
        out["proximity"] = 1.0 - s.distance_km / radius if radius > 0 else 0.0
        coverage = 0.0
        if supply is not None and supply.quantity > 0:
            coverage = s.quantity / supply.quantity
        if demand is not None and demand.quantity > 0:
            coverage = max(coverage, float(d.get("demand_quantity", s.quantity)) / demand.quantity)
        out["coverage"] = coverage
        return {f: min(1.0, max(0.0, v)) for f, v in out.items()}


def merit(factors: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of the weighted factors that apply, in [0, 1]."""
    total = num = 0.0
    for f, v in factors.items():
        w = weights.get(f)
        if w:
            total += w
            num += w * v
    return num / total if total > 0 else 0.0


def score_of(s: Synergy, m: float) -> float:
    """The score of a synergy of merit ``m``: plan in [0.5, 1], options in [0.1, 0.5], minor leads in [0, 0.1]."""
    if s.in_plan:
        return 0.5 + 0.5 * m
    return 0.1 * m if s.minor else 0.1 + 0.4 * m


def rank_synergies(
    synergies: Iterable[Synergy], flows: Mapping[str, Flow], taxonomy: Taxonomy
) -> tuple[Synergy, ...]:
    """Plan first, then left-out; by score; with rank, score, factors and ``S-0001``-style ids."""
    items = list(synergies)
    scorer = Scorer(
        flows,
        taxonomy,
        max((s.savings_eur for s in items), default=0.0),
        max((s.co2_avoided_t for s in items), default=0.0),
    )
    scored: list[tuple[tuple[Any, ...], Synergy, float, dict[str, float]]] = []
    for s in items:
        factors = scorer.factors(s)
        score = round(min(1.0, max(0.0, score_of(s, merit(factors, scorer.weights)))), 4)
        ids = tuple(p.flow_id or "" for p in s.suppliers + s.receivers)
        key = (not s.in_plan, s.minor, -score, -round(s.savings_eur, 2), str(s.type), s.resource, s.key, ids)
        scored.append((key, s, score, factors))
    scored.sort(key=lambda item: item[0])
    out = []
    for i, (_, s, score, factors) in enumerate(scored, start=1):
        details = {**(s.details or {}), "score_factors": {f: round(v, 4) for f, v in factors.items()}}
        out.append(replace(s, id=f"S-{i:04d}", rank=i, score=score, details=details))
    return tuple(out)
