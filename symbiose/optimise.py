"""Which candidate exchanges to do, and how much: an OR-Tools model.

For candidates ``c`` (from supply ``s`` to demand ``d``)::

    maximise   Σ value_c · x_c − Σ fixed_c · y_c + Σ outside_s · z_s
    subject to Σ_c∈s x_c + z_s ≤ quantity_s          supply[s]
               Σ_c∈d ratio_c · x_c ≤ need_d          demand[d]
               x_c ≤ cap_c · y_c  (fixed_c > 0)      link[c]
               0 ≤ x_c ≤ cap_c,  z_s ≥ 0,  y_c ∈ {0, 1}

``z_s`` is the part of an output sent to pooled collection instead, worth
``outside_s`` per unit (mutualisation). Only candidates with a positive value
per unit enter. The model is built in fixed phases (components → variables →
constraints → objective) and split into the connected components of the
candidate graph: a component without fixed costs is a linear programme
(GLOP), one with fixed costs a mixed-integer programme (SCIP), both through
``pywraplp``. Values are read only after an OPTIMAL or FEASIBLE status.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import networkx as nx
from ortools.linear_solver import pywraplp

from symbiose.domain import Allocation, Candidate, Solution

_STATUS = {
    pywraplp.Solver.OPTIMAL: "OPTIMAL",
    pywraplp.Solver.FEASIBLE: "FEASIBLE",
    pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
    pywraplp.Solver.UNBOUNDED: "UNBOUNDED",
    pywraplp.Solver.ABNORMAL: "ABNORMAL",
    pywraplp.Solver.MODEL_INVALID: "MODEL_INVALID",
    pywraplp.Solver.NOT_SOLVED: "NOT_SOLVED",
}
_TOL = 1e-7  # relative amount below which a flow is read as zero
MIP_RELATIVE_GAP = 1e-4  # SCIP stops when its plan is within this share of the best bound


@dataclass
class Component:
    """One connected component of the candidate graph and its solver model."""

    index: int
    kind: str  # "LP" or "MILP"
    solver: pywraplp.Solver
    candidates: list[Candidate]
    x: dict[str, pywraplp.Variable] = field(default_factory=dict)
    y: dict[str, pywraplp.Variable] = field(default_factory=dict)
    z: dict[str, pywraplp.Variable] = field(default_factory=dict)
    status: str = "NOT_SOLVED"
    objective_eur: float = 0.0
    best_bound_eur: float = 0.0
    seconds: float = 0.0

    def upper_bound(self) -> float:
        """A bound no plan of this component can beat (used when it was not solved)."""
        return sum(c.value_eur_per_unit * c.max_quantity for c in self.candidates) + sum(
            v.ub() * self.solver.Objective().GetCoefficient(v) for v in self.z.values()
        )

    def lp_text(self) -> str:
        """The model in LP format, with its named variables and constraints."""
        return self.solver.ExportModelAsLpFormat(False)


@dataclass
class MatchingModel:
    """The optimisation model of one matching run, one solver model per component."""

    components: list[Component]
    candidates: dict[str, Candidate]

    @property
    def milp_components(self) -> int:
        return sum(1 for c in self.components if c.kind == "MILP")


def _components(candidates: list[Candidate]) -> list[list[Candidate]]:
    """Candidates grouped by connected component of the supply–demand graph, in a stable order."""
    node: dict[tuple[str, str], int] = {}
    ends = [
        (node.setdefault(("s", c.supply_flow_id), len(node)), node.setdefault(("d", c.demand_flow_id), len(node)))
        for c in candidates
    ]
    graph = nx.Graph()
    graph.add_edges_from(ends)
    comp_of: dict[int, int] = {}
    for i, nodes in enumerate(nx.connected_components(graph)):
        comp_of.update(dict.fromkeys(nodes, i))
    groups: dict[int, list[Candidate]] = {}
    for c, (s, _) in zip(candidates, ends, strict=True):
        groups.setdefault(comp_of[s], []).append(c)
    ordered = [sorted(g, key=lambda c: c.id) for g in groups.values()]
    ordered.sort(key=lambda g: g[0].id)
    return ordered


def _build_component(
    index: int,
    cands: list[Candidate],
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside_value: Mapping[str, float],
) -> Component:
    kind = "MILP" if any(c.fixed_cost_eur > 0 for c in cands) else "LP"
    solver = pywraplp.Solver.CreateSolver("SCIP" if kind == "MILP" else "GLOP")
    if solver is None:  # pragma: no cover - OR-Tools wheels ship both
        raise RuntimeError(f"OR-Tools solver for {kind} not available")
    comp = Component(index=index, kind=kind, solver=solver, candidates=cands)
    inf = solver.infinity()
    objective = solver.Objective()
    # variables
    for c in cands:
        comp.x[c.id] = solver.NumVar(0.0, c.max_quantity, f"x[{c.id}]")
        if c.fixed_cost_eur > 0:
            comp.y[c.id] = solver.BoolVar(f"y[{c.id}]")
    supply_ids = sorted({c.supply_flow_id for c in cands})
    demand_ids = sorted({c.demand_flow_id for c in cands})
    for s in supply_ids:
        if outside_value.get(s, 0.0) > 0:
            comp.z[s] = solver.NumVar(0.0, supplies[s], f"z[{s}]")
    # constraints
    supply_rows = {s: solver.Constraint(-inf, supplies[s], f"supply[{s}]") for s in supply_ids}
    demand_rows = {d: solver.Constraint(-inf, demands[d], f"demand[{d}]") for d in demand_ids}
    for c in cands:
        x = comp.x[c.id]
        supply_rows[c.supply_flow_id].SetCoefficient(x, 1.0)
        demand_rows[c.demand_flow_id].SetCoefficient(x, c.ratio)
        if c.id in comp.y:
            link = solver.Constraint(-inf, 0.0, f"link[{c.id}]")
            link.SetCoefficient(x, 1.0)
            link.SetCoefficient(comp.y[c.id], -c.max_quantity)
    for s, z in comp.z.items():
        supply_rows[s].SetCoefficient(z, 1.0)
    # objective
    for c in cands:
        objective.SetCoefficient(comp.x[c.id], c.value_eur_per_unit)
        if c.id in comp.y:
            objective.SetCoefficient(comp.y[c.id], -c.fixed_cost_eur)
    for s, z in comp.z.items():
        objective.SetCoefficient(z, outside_value[s])
    objective.SetMaximization()
    return comp


def link_capacity(c: Candidate, supplies: Mapping[str, float], demands: Mapping[str, float]) -> float:
    """Most a candidate can carry: its own cap, its supply, its demand's need over the ratio."""
    return min(c.max_quantity, supplies.get(c.supply_flow_id, 0.0), demands.get(c.demand_flow_id, 0.0) / c.ratio)


def build_model(
    candidates: Iterable[Candidate],
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside_value: Mapping[str, float] | None = None,
) -> MatchingModel:
    """The optimisation model of valued candidates over supply and demand quantities.

    ``supplies`` and ``demands`` map flow ids to yearly quantities;
    ``outside_value`` maps supply flow ids to the € per unit the output is
    worth in pooled collection instead. Candidates whose value per unit is
    not positive, whose cap is zero, whose flows are unknown, or whose fixed
    cost exceeds all it could ever earn are left out (exact presolve); the
    cap of the others is tightened to ``min(cap, supply, need / ratio)``.
    """
    outside_value = outside_value or {}
    kept = []
    for c in candidates:
        cap = link_capacity(c, supplies, demands)
        if c.value_eur_per_unit <= 0 or cap <= 0:
            continue
        if c.fixed_cost_eur > 0 and c.value_eur_per_unit * cap <= c.fixed_cost_eur:
            continue  # opening it can never pay: leaving it out is exact
        kept.append(c if cap >= c.max_quantity else replace(c, max_quantity=cap))
    comps = [
        _build_component(i, group, supplies, demands, outside_value)
        for i, group in enumerate(_components(kept))
    ]
    return MatchingModel(components=comps, candidates={c.id: c for c in kept})


def solve(model: MatchingModel, time_limit_s: float = 10.0, mip_gap: float = MIP_RELATIVE_GAP) -> Solution:
    """Solve every component within ``time_limit_s`` in all, then :func:`extract` the plan.

    Mixed-integer components stop at a relative gap of ``mip_gap`` (their
    status is then still OPTIMAL, within that tolerance; the gap is reported).
    """
    deadline = time.perf_counter() + time_limit_s
    # linear components first (fast); then mixed-integer ones from the smallest, each
    # given an equal share of the time left, so one hard component cannot starve the rest
    order = sorted(model.components, key=lambda c: (c.kind == "MILP", len(c.candidates), c.index))
    milp_left = model.milp_components
    for comp in order:
        left_s = deadline - time.perf_counter()
        share = left_s / milp_left if comp.kind == "MILP" and milp_left > 0 else left_s
        comp.solver.SetTimeLimit(max(1, int(share * 1000)))
        params = pywraplp.MPSolverParameters()
        if comp.kind == "MILP":
            params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, mip_gap)
            milp_left -= 1
        start = time.perf_counter()
        status = _STATUS.get(comp.solver.Solve(params), "ABNORMAL")
        comp.seconds = time.perf_counter() - start
        comp.status = status
        if status in ("OPTIMAL", "FEASIBLE"):
            comp.objective_eur = comp.solver.Objective().Value()
            comp.best_bound_eur = (
                comp.solver.Objective().BestBound() if comp.kind == "MILP" else comp.objective_eur
            )
            comp.best_bound_eur = max(comp.best_bound_eur, comp.objective_eur)
        else:
            comp.objective_eur = 0.0  # nothing done in this component is always feasible
            comp.best_bound_eur = comp.upper_bound()
    return extract(model)


def extract(model: MatchingModel) -> Solution:
    """The plan of a solved model: one :class:`Allocation` per candidate that carries something."""
    allocations: dict[str, Allocation] = {}
    statuses = [c.status for c in model.components]
    for comp in model.components:
        if comp.status not in ("OPTIMAL", "FEASIBLE"):
            continue
        for c in comp.candidates:
            q = comp.x[c.id].solution_value()
            if q <= _TOL * max(1.0, c.max_quantity):
                continue
            q = min(q, c.max_quantity)
            opened = c.id in comp.y and comp.y[c.id].solution_value() > 0.5
            allocations[c.id] = Allocation(
                candidate_id=c.id,
                quantity=q,
                net_benefit_eur=c.value_eur_per_unit * q - (c.fixed_cost_eur if opened else 0.0),
                co2_avoided_t=c.co2_t_per_unit * q,
            )
    # a component that was not solved keeps its empty plan, which is always feasible
    status = "OPTIMAL" if all(s == "OPTIMAL" for s in statuses) else "FEASIBLE"
    return Solution(
        status=status,
        objective_eur=sum(c.objective_eur for c in model.components),
        best_bound_eur=sum(c.best_bound_eur for c in model.components),
        allocations=dict(sorted(allocations.items())),
        components=len(model.components),
        solve_seconds=sum(c.seconds for c in model.components),
    )


def component_report(model: MatchingModel) -> list[dict[str, object]]:
    """Per component: kind, size, status, objective and bound (for logs and reports)."""
    return [
        {
            "index": c.index,
            "kind": c.kind,
            "candidates": len(c.candidates),
            "status": c.status,
            "objective_eur": c.objective_eur,
            "best_bound_eur": c.best_bound_eur,
            "seconds": c.seconds,
        }
        for c in model.components
    ]
