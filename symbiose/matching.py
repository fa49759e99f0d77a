"""One matching run: candidates → valuation → pooling values → optimiser →
ranked, explained synergies.

The synergies are those of the plan (substitutions the optimiser retained
for the largest net € benefit, and the mutualisations of
:mod:`symbiose.pooling`, when that module is present), then worthwhile
candidates left out of the plan (``in_plan=False``, with the French
``reason``; valued as if done alone). At most ``alternatives`` left-out
candidates are kept per output flow, the best ones. They are ranked by
:func:`symbiose.ranking.rank_synergies`: plan first, then by a
multi-criteria score (benefit, CO2, classification confidence, how direct the
link is, the companies' own figures, checked quality, distance against the
resource's radius, share of the flow settled).

A practitioner's reading of the plan:

- a well-classified by-product (a waste code, both flows read with
  confidence) whose net € comes out at zero or below once handled and
  carried is not dropped when the CO2 it avoids pays its loss at the shadow
  price of carbon: it is added to the plan where the flows still have room
  (by tCO2e avoided), its € figure stated as it is (:func:`_byproduct_outlets`);
- an exchange below the materiality threshold (``materiality_min_eur`` €/yr
  and ``materiality_min_t`` t/yr, both) is a *piste mineure*: ``minor``,
  out of the plan and of its totals, listed after the options;
- two companies located at one postcode's centre are not "à 0 km": the
  distance is said to be approximate.
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from symbiose.candidates import generate_candidates, is_generic, links_between
from symbiose.classify import LOW_CONFIDENCE
from symbiose.domain import (
    Candidate,
    Diagnostic,
    Direction,
    Flow,
    Issue,
    MatchResult,
    Participant,
    RouteStop,
    Solution,
    Synergy,
    SynergyType,
    flow_location,
)
from symbiose.explain import substitution as explain
from symbiose.optimise import build_model, link_capacity, solve, status_rank
from symbiose.pooling import outside_values, pool_synergies
from symbiose.ranking import rank_synergies
from symbiose.taxonomy import Taxonomy, get_taxonomy
from symbiose.valuation import Valuation, Valuer, value_candidates

Progress = Callable[[int, int], None]
_STEPS = 5
AUTO = "auto"
AUTO_NEAREST_FROM_FLOWS = 10_000  # from this many flows, "auto" examines only the nearest partners
AUTO_NEAREST = 10  # partners per flow examined then
_EPS = 1e-7
_SAME_PLACE_KM = 0.05  # two companies this close, with one postcode: placed at its centre


class _Builder:
    """Turns candidates and allocations into substitution :class:`Synergy` objects."""

    def __init__(self, diagnostic: Diagnostic, taxonomy: Taxonomy):
        self.tax = taxonomy
        self.flows = {f.id: f for f in diagnostic.flows}
        self.companies = diagnostic.companies_by_id
        self.names = {c.id: c.name or c.id for c in diagnostic.companies}
        self.valuer = Valuer(taxonomy)
        self._radius: dict[tuple[str, str, str], float] = {}

    def radius_km(self, c: Candidate) -> float:
        """Largest distance of the link the candidate uses (its economic radius)."""
        key = (c.supply_resource, c.demand_resource, c.rule_id)
        if key not in self._radius:
            links = links_between(c.supply_resource, c.demand_resource, self.tax)
            self._radius[key] = next((lk.max_distance_km for lk in links if lk.rule_id == c.rule_id), 0.0)
        return self._radius[key]

    def valuation(self, c: Candidate) -> Valuation:
        return self.valuer.value(c, self.flows[c.supply_flow_id], self.flows[c.demand_flow_id])

    def _route(self, c: Candidate, q: float) -> tuple[RouteStop, ...]:
        stops = []
        for flow_id, company_id, amount, label in (
            (c.supply_flow_id, c.supplier_id, q, "départ"),
            (c.demand_flow_id, c.receiver_id, q * c.ratio, "arrivée"),
        ):
            where = flow_location(self.flows[flow_id], self.companies)
            if where is not None:
                stops.append(RouteStop(company_id, round(where[0], 6), round(where[1], 6), round(amount, 3), label))
        return tuple(stops)

    def approximate_distance(self, c: Candidate) -> bool:
        """Both companies share a postcode and sit at the same point: the distance is unknown, not zero."""
        a, b = self.companies.get(c.supplier_id), self.companies.get(c.receiver_id)
        return (
            a is not None and b is not None and bool(a.postcode) and a.postcode == b.postcode
            and c.distance_km <= _SAME_PLACE_KM
        )

    def _details(self, c: Candidate, v: Valuation, q: float) -> dict[str, Any]:
        """How the figures were made (rounded when written out)."""
        return {
            "candidate_id": c.id,
            "rule": c.rule_id,
            "ratio": c.ratio,
            "demand_resource": c.demand_resource,
            "demand_quantity": q * c.ratio,
            "demand_unit": self.flows[c.demand_flow_id].unit,
            "max_quantity": c.max_quantity,
            "month_overlap": c.month_overlap,
            "max_distance_km": self.radius_km(c),
            "value_eur_per_unit": v.value_eur_per_unit,
            "avoided_disposal_eur_per_unit": v.avoided_disposal_eur,
            "avoided_purchase_eur_per_unit": v.avoided_purchase_eur,
            "transport_eur_per_unit": v.transport_eur,
            "handling_eur_per_unit": v.handling_eur,
            "fixed_cost_eur": v.fixed_cost_eur,
            "co2_t_per_unit": v.co2_t_per_unit,
            "diverted": {"quantity": v.diverted(q), "unit": v.diverted_unit},
            "sources": [{"factor": name, "source": src} for name, src in v.sources],
            "missing": list(v.missing),
            "distance_approximate": self.approximate_distance(c),
        }

    def synergy(
        self, c: Candidate, q: float, net: float, in_plan: bool, reason: str | None = None, *, outlet: bool = False
    ) -> Synergy:
        v = self.valuation(c)
        co2 = c.co2_t_per_unit * q
        supply, demand = self.flows[c.supply_flow_id], self.flows[c.demand_flow_id]
        text = explain.explain_substitution(
            c, supply, demand, self.names, self.tax, q, net, co2, v, approximate=self.approximate_distance(c)
        )
        details = self._details(c, v, q)
        if outlet:
            text += " " + explain.byproduct_outlet_note(self.tax.param("co2_shadow_price_eur_per_t"))
            details["basis"] = "byproduct_outlet"
        return Synergy(
            id="",
            type=SynergyType.SUBSTITUTION,
            resource=c.supply_resource,
            suppliers=(Participant(c.supplier_id, c.supply_flow_id),),
            receivers=(Participant(c.receiver_id, c.demand_flow_id),),
            quantity=q,
            unit=f"{c.unit}/year",
            distance_km=c.distance_km,
            savings_eur=net,
            co2_avoided_t=co2,
            score=0.0,
            rank=0,
            explanation=text,
            in_plan=in_plan,
            reason=reason,
            tonnes_diverted=v.diverted(q) if v.diverted_unit == "t" else 0.0,
            route=self._route(c, q),
            details=details,
            checks=c.checks,
        )


def _standalone(c: Candidate, supplies: Mapping[str, float], demands: Mapping[str, float]) -> tuple[float, float]:
    """Quantity and net benefit of a candidate done alone."""
    q = link_capacity(c, supplies, demands)
    return q, c.value_eur_per_unit * q - c.fixed_cost_eur


def _left_out(
    b: _Builder,
    candidates: list[Candidate],
    solution: Solution,
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside: Mapping[str, float],
    per_supply: int,
) -> list[Synergy]:
    """Worthwhile candidates not in the plan, with why (at most ``per_supply`` per output flow)."""
    if per_supply <= 0:
        return []
    by_id = {c.id: c for c in candidates}
    sent: dict[str, float] = defaultdict(float)
    received: dict[str, float] = defaultdict(float)
    receivers_of: dict[str, list[str]] = defaultdict(list)
    suppliers_of: dict[str, list[str]] = defaultdict(list)
    for cid, alloc in solution.allocations.items():
        c = by_id[cid]
        sent[c.supply_flow_id] += alloc.quantity
        received[c.demand_flow_id] += alloc.quantity * c.ratio
        receivers_of[c.supply_flow_id].append(c.receiver_id)
        suppliers_of[c.demand_flow_id].append(c.supplier_id)
    options: dict[str, list[tuple[float, str, Candidate, float]]] = defaultdict(list)
    for c in candidates:
        if c.id in solution.allocations or c.value_eur_per_unit <= 0:
            continue
        q, net = _standalone(c, supplies, demands)
        if q <= _EPS:
            continue
        if net > 0 or c.fixed_cost_eur > 0:
            options[c.supply_flow_id].append((-net, c.id, c, q))
    out = []
    for supply_id in sorted(options):
        for neg_net, _, c, q in sorted(options[supply_id])[:per_supply]:
            net = -neg_net
            label = explain.resource_label(c.supply_resource, b.tax)
            d_label = explain.resource_label(c.demand_resource, b.tax)
            qty_s = supplies[c.supply_flow_id]
            if c.fixed_cost_eur > 0 and net <= 0:
                reason = explain.reason_link_cost(c.distance_km, c.fixed_cost_eur, b.valuation(c).pipe)
            elif sent[c.supply_flow_id] >= qty_s * (1 - 1e-6):
                reason = explain.reason_supply_taken(
                    label, c.supplier_id, sorted(set(receivers_of[c.supply_flow_id])), b.names
                )
            elif received[c.demand_flow_id] >= demands[c.demand_flow_id] * (1 - 1e-6):
                reason = explain.reason_demand_covered(
                    d_label, c.receiver_id, sorted(set(suppliers_of[c.demand_flow_id])), b.names
                )
            elif outside.get(c.supply_flow_id, 0.0) >= c.value_eur_per_unit:
                reason = explain.reason_supply_pooled(label, c.supplier_id, b.names)
            else:
                reason = explain.reason_better_plan()
            out.append(b.synergy(c, q, net, in_plan=False, reason=reason))
    return out


class LocalEngine:
    """Where a run's heavy steps run: here, in this process. :mod:`symbiose.distributed`
    provides the same two steps on Dask (partitions by geography, components)."""

    def candidates(
        self, diagnostic: Diagnostic, tax: Taxonomy, nearest: int | None
    ) -> tuple[int, list[Candidate], list[Issue]]:
        """How many candidates, the valued ones (in id order), and the flows skipped."""
        candidates, issues = generate_candidates(diagnostic, tax, nearest=nearest)
        return len(candidates), value_candidates(candidates, diagnostic, tax), issues

    def optimise(
        self,
        valued: list[Candidate],
        supplies: Mapping[str, float],
        demands: Mapping[str, float],
        outside: Mapping[str, float],
        time_limit_s: float | None,
    ) -> tuple[Solution, dict[str, Any]]:
        """The plan and the keys it adds to the run's ``solver`` field."""
        model = build_model(valued, supplies, demands, outside)
        solution = solve(model, time_limit_s=time_limit_s)
        return solution, {
            "milp_components": model.milp_components,
            "candidates_in_model": len(model.candidates),
            **model.solver_report(),
        }


def _worse(a: str, b: str) -> str:
    """The worse of two solver statuses (:func:`symbiose.optimise.status_rank`)."""
    return max(a, b, key=status_rank)


def _plan(
    engine: LocalEngine,
    valued: list[Candidate],
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside: Mapping[str, float],
    time_limit_s: float | None,
) -> tuple[Solution, dict[str, Any]]:
    """The optimiser's plan: exact matches first, then generic ones on what they leave.

    A match on a generic code (its grade to be checked) must not take a need
    from a certain one because its figures happen to be larger: the exact
    candidates are solved first, the generic ones then fill the quantities
    still open (each a full solve by the engine, here or on Dask)."""
    exact = [c for c in valued if not is_generic(c)]
    generic = [c for c in valued if is_generic(c)]
    first, keys = engine.optimise(exact, supplies, demands, outside, time_limit_s)
    if not generic:
        return first, keys
    by_id = {c.id: c for c in exact}
    room_s, room_d = dict(supplies), dict(demands)
    for cid, alloc in first.allocations.items():
        c = by_id[cid]
        room_s[c.supply_flow_id] -= alloc.quantity
        room_d[c.demand_flow_id] -= alloc.quantity * c.ratio
    room_s = {k: max(0.0, v) for k, v in room_s.items()}
    room_d = {k: max(0.0, v) for k, v in room_d.items()}
    second, keys2 = engine.optimise(generic, room_s, room_d, outside, time_limit_s)
    merged = dict(max((keys, keys2), key=lambda k: (status_rank(str(k.get("worst_status", "OPTIMAL"))),
                                                    float(k.get("worst_gap", 0.0)))))  # the worse stage speaks
    for k in ("milp_components", "candidates_in_model"):
        merged[k] = int(keys.get(k, 0)) + int(keys2.get(k, 0))
    if "largest_binaries" in keys or "largest_binaries" in keys2:
        merged["largest_binaries"] = max(int(keys.get("largest_binaries", 0)), int(keys2.get("largest_binaries", 0)))
    if "components_by_method" in keys and "components_by_method" in keys2:
        merged["components_by_method"] = {m: keys["components_by_method"].get(m, 0) + keys2["components_by_method"].get(m, 0)
                                          for m in {*keys["components_by_method"], *keys2["components_by_method"]}}
    return Solution(
        status=_worse(first.status, second.status),
        objective_eur=first.objective_eur + second.objective_eur,
        best_bound_eur=first.best_bound_eur + second.best_bound_eur,
        allocations={**first.allocations, **second.allocations},
        components=first.components + second.components,
        solve_seconds=first.solve_seconds + second.solve_seconds,
    ), merged


def _byproduct_outlets(
    b: _Builder, candidates: list[Candidate], room: dict[str, float], outside: Mapping[str, float]
) -> list[tuple[Candidate, float]]:
    """By-product exchanges the € plan leaves out at a zero or negative net value, worth doing anyway.

    A candidate qualifies when its supply carries a waste code (the flow's or
    its resource's), both flows were read with at least ``LOW_CONFIDENCE``,
    both codes are certain (no generic code whose grade is to be checked), a
    pooled collection (``outside``) is worth no more for the supply, it needs
    no pipe, and its loss per unit is paid by the CO2 it avoids at
    the shadow price of carbon (``co2_shadow_price_eur_per_t``): a traded
    by-product whose market price cancels the receiver's (FGD gypsum sold at
    5 €/t, bought at 7 €/t) is still an outlet that avoids disposal and
    extraction. Its € figure stays what it is (zero or a small cost, said in
    the explanation). The quantity is what both flows still have room for
    (``room``, updated), the candidates taken by tCO2e avoided per unit."""
    if "co2_shadow_price_eur_per_t" not in b.tax.parameters:
        return []
    shadow = b.tax.param("co2_shadow_price_eur_per_t")
    out = []
    ranked = sorted(
        (c for c in candidates if c.value_eur_per_unit <= 0 < c.co2_t_per_unit and c.fixed_cost_eur <= 0
         and c.value_eur_per_unit + shadow * c.co2_t_per_unit >= 0 and not is_generic(c)
         and outside.get(c.supply_flow_id, -math.inf) <= c.value_eur_per_unit),
        key=lambda c: (-c.co2_t_per_unit, c.id),
    )
    for c in ranked:
        supply, demand = b.flows[c.supply_flow_id], b.flows[c.demand_flow_id]
        if min(supply.confidence, demand.confidence) < LOW_CONFIDENCE:
            continue
        if not (supply.ewc or b.tax.get(c.supply_resource).ewc) or b.valuation(c).pipe:
            continue
        q = min(room.get(c.supply_flow_id, 0.0), room.get(c.demand_flow_id, 0.0) / c.ratio, c.max_quantity)
        if q <= _EPS:
            continue
        room[c.supply_flow_id] -= q
        room[c.demand_flow_id] -= q * c.ratio
        out.append((c, q))
    return out


def _materiality(tax: Taxonomy) -> tuple[float, float] | None:
    names = ("materiality_min_eur", "materiality_min_t")
    if not all(n in tax.parameters for n in names):
        return None
    return tax.param(names[0]), tax.param(names[1])


def _mark_minor(synergies: list[Synergy], tax: Taxonomy) -> list[Synergy]:
    """Substitutions below the materiality threshold become pistes mineures (out of the plan and totals)."""
    bounds = _materiality(tax)
    if bounds is None:
        return synergies
    min_eur, min_t = bounds
    out = []
    for s in synergies:
        if s.type == SynergyType.SUBSTITUTION and abs(s.savings_eur) < min_eur and s.tonnes_diverted < min_t:
            s = replace(s, in_plan=False, minor=True, reason=explain.reason_minor(min_eur, min_t))
        out.append(s)
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off during a run, then as it was: a run allocates
    hundreds of thousands of acyclic objects (candidates, synergies) and each
    collection would rescan them all (about a fifth of the run at 5 000 flows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_gc_paused()
def match(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy | None = None,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
    warnings: Iterable[Issue] = (),
    time_limit_s: float | None = None,
    alternatives: int = 1,
    nearest: int | str | None = AUTO,
    engine: LocalEngine | None = None,
) -> MatchResult:
    """Match a diagnostic: every synergy worth proposing, ranked and explained in French.

    ``progress(done, total)`` is called after each of the five steps;
    ``now`` fixes ``generated_at``; ``warnings`` (e.g. the import's) are
    passed through to the result. ``time_limit_s`` lowers the optimiser's
    safety clock (its plan is bounded by a deterministic work limit, not time),
    ``alternatives`` the left-out candidates shown per output flow, and
    ``nearest`` (see :func:`generate_candidates`) the partners examined per
    flow (``None``: all within reach; ``"auto"``: all below
    ``AUTO_NEAREST_FROM_FLOWS`` flows, the ``AUTO_NEAREST`` nearest above).
    ``engine`` runs candidates and optimiser (default: this process; see
    :mod:`symbiose.distributed`): the result does not depend on it.
    """
    tax = taxonomy or get_taxonomy()
    step = 0

    def done() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, _STEPS)

    if nearest == AUTO:
        nearest = AUTO_NEAREST if len(diagnostic.flows) >= AUTO_NEAREST_FROM_FLOWS else None
    engine = engine or LocalEngine()
    n_candidates, valued, issues = engine.candidates(diagnostic, tax, nearest)
    done()
    done()
    b = _Builder(diagnostic, tax)
    outside = dict(outside_values(diagnostic, tax))
    supplies = {f.id: f.quantity for f in diagnostic.flows if f.direction == Direction.OUT}
    demands = {f.id: f.quantity for f in diagnostic.flows if f.direction == Direction.IN}
    solution, solver_keys = _plan(engine, valued, supplies, demands, outside, time_limit_s)
    done()
    by_id = {c.id: c for c in valued}
    synergies: list[Synergy] = []
    used: dict[str, float] = defaultdict(float)  # supply sent / need covered, per flow
    for cid, alloc in solution.allocations.items():
        c = by_id[cid]
        used[c.supply_flow_id] += alloc.quantity
        used[c.demand_flow_id] += alloc.quantity * c.ratio
        synergies.append(b.synergy(c, alloc.quantity, alloc.net_benefit_eur, in_plan=True))
    room = {f.id: max(0.0, f.quantity - used.get(f.id, 0.0)) for f in diagnostic.flows}
    for c, q in _byproduct_outlets(b, [c for c in valued if c.id not in solution.allocations], room, outside):
        used[c.supply_flow_id] += q
        used[c.demand_flow_id] += q * c.ratio
        synergies.append(b.synergy(c, q, c.value_eur_per_unit * q, in_plan=True, outlet=True))
    synergies = _mark_minor(synergies, tax)
    for s in synergies:
        if s.minor:  # a minor lead leaves its flows free, e.g. for a pooled collection
            used[s.suppliers[0].flow_id or ""] -= s.quantity
            used[s.receivers[0].flow_id or ""] -= float(s.details.get("demand_quantity", s.quantity))
    # what every flow still has to give or still needs once the substitutions are done
    available = {
        f.id: max(0.0, f.quantity - used.get(f.id, 0.0)) for f in sorted(diagnostic.flows, key=lambda f: f.id)
    }
    pooled, pool_issues = pool_synergies(diagnostic, tax, available)
    synergies.extend(pooled)
    done()
    synergies.extend(_left_out(b, valued, solution, supplies, demands, outside, alternatives))
    ranked = mark_probable(rank_synergies(_mark_minor(synergies, tax), b.flows, tax), b.flows)  # the options left out too
    done()
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return MatchResult(
        territory=diagnostic.territory,
        generated_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        companies=len(diagnostic.companies),
        flows=len(diagnostic.flows),
        candidates=n_candidates,
        synergies=ranked,
        warnings=(*warnings, *issues, *pool_issues),
        solver={
            "status": solution.status,
            "objective_eur": round(solution.objective_eur, 2),
            "best_bound_eur": round(solution.best_bound_eur, 2),
            "gap": round(solution.gap, 6),
            "components": solution.components,
            "solve_seconds": round(solution.solve_seconds, 3),
            "time_limit_s": time_limit_s,
            "nearest": nearest,
            **solver_keys,
        },
    )


# --------------------------------------------------------------------------
# Probable flows (pre-diagnostic): a synergy resting on one is to be confirmed
# --------------------------------------------------------------------------

PROBABLE = "probable"  # Flow.attributes["status"] of a flow guessed from the firm's sector and size
TO_CONFIRM_FR = "À confirmer lors de la visite."


def mark_probable(synergies: Iterable[Synergy], flows: Mapping[str, Flow]) -> tuple[Synergy, ...]:
    """Synergies with a probable flow among their participants say so: ``details["probable_flows"]``
    lists those flows and the explanation ends with "à confirmer lors de la visite"."""
    out = []
    for s in synergies:
        ids = [p.flow_id for p in (*s.suppliers, *s.receivers) if p.flow_id]
        probable = sorted({i for i in ids if i in flows and flows[i].attributes.get("status") == PROBABLE})
        if probable:
            s = replace(s, explanation=f"{s.explanation.rstrip()} {TO_CONFIRM_FR}",
                        details={**s.details, "probable_flows": probable})
        out.append(s)
    return tuple(out)
