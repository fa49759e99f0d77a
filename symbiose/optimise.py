"""Which candidate exchanges to do, and how much: an OR-Tools model.

For candidates ``c`` (from supply ``s`` to demand ``d``)::

    maximise   Σ value_c · x_c − Σ fixed_c · y_c + Σ outside_s · z_s
    subject to Σ_c∈s x_c + z_s ≤ quantity_s          supply[s]
               Σ_c∈d ratio_c · x_c ≤ need_d          demand[d]
               x_c ≤ cap_c · y_c  (fixed_c > 0)      link[c]
               0 ≤ x_c ≤ cap_c,  z_s ≥ 0,  y_c ∈ {0, 1}

``z_s`` is the part of an output sent to pooled collection instead, worth
``outside_s`` per unit (mutualisation). Only candidates with a positive value
per unit enter. The model is built in fixed phases (arrays → components →
variables and constraints → objective) and split into the connected
components of the candidate graph: a component without fixed costs is a
linear programme (GLOP), one with fixed costs a mixed-integer programme
(SCIP). Each component is filled in bulk from numpy arrays and one sparse
constraint matrix (OR-Tools ``model_builder``), as PyPSA builds its models
from tables. Variables are laid out ``x`` (one per candidate, in id order),
then ``y``, then ``z``; rows ``supply``, ``demand``, then ``link``. Names
(``x[<candidate id>]``, ``supply[<flow id>]``...) are written when the LP
text is asked for. Values are read only after an OPTIMAL or FEASIBLE status.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb
from scipy.sparse.csgraph import connected_components

from symbiose.domain import Allocation, Candidate, Solution

_SOLVED = ("OPTIMAL", "FEASIBLE")
_STATUSES = (*_SOLVED, "INFEASIBLE", "UNBOUNDED", "ABNORMAL", "NOT_SOLVED", "MODEL_INVALID")  # others: ABNORMAL
_TOL = 1e-7  # relative amount below which a flow is read as zero
MIP_RELATIVE_GAP = 1e-4  # SCIP stops when its plan is within this share of the best bound


@dataclass
class Component:
    """One connected component of the candidate graph and its solver model.

    ``candidates`` are in id order, ``x`` variable ``i`` carrying candidate
    ``i``; ``fixed`` lists the candidates with a link to open (variable
    ``len(candidates) + k`` is the ``y`` of ``fixed[k]``); ``outside`` the
    supply flow ids with a ``z`` variable, after the ``y``.
    """

    index: int
    kind: str  # "LP" or "MILP"
    model: mb.Model
    candidates: list[Candidate]
    fixed: np.ndarray  # positions in ``candidates`` of the links with a fixed cost
    supplies: list[str]  # supply rows, in order
    demands: list[str]  # demand rows, in order
    outside: list[str]  # supply flow ids with a z variable, in order
    objective: np.ndarray  # objective coefficients, per variable
    upper: np.ndarray  # variable upper bounds
    status: str = "NOT_SOLVED"
    objective_eur: float = 0.0
    best_bound_eur: float = 0.0
    seconds: float = 0.0
    values: np.ndarray | None = None  # variable values once solved

    def upper_bound(self) -> float:
        """A bound no plan of this component can beat (used when it was not solved)."""
        positive = self.objective > 0
        return float(self.objective[positive] @ self.upper[positive])

    def lp_text(self) -> str:
        """The model in LP format, with its named variables and constraints."""
        helper = self.model.helper
        names = [f"x[{c.id}]" for c in self.candidates]
        names += [f"y[{self.candidates[i].id}]" for i in self.fixed]
        names += [f"z[{s}]" for s in self.outside]
        for i, name in enumerate(names):
            helper.set_var_name(i, name)
        rows = [f"supply[{s}]" for s in self.supplies] + [f"demand[{d}]" for d in self.demands]
        rows += [f"link[{self.candidates[i].id}]" for i in self.fixed]
        for i, name in enumerate(rows):
            helper.set_constraint_name(i, name)
        return self.model.export_to_lp_string(obfuscate=False)


@dataclass
class MatchingModel:
    """The optimisation model of one matching run, one solver model per component."""

    components: list[Component]
    candidates: dict[str, Candidate]

    @property
    def milp_components(self) -> int:
        return sum(1 for c in self.components if c.kind == "MILP")


def link_capacity(c: Candidate, supplies: Mapping[str, float], demands: Mapping[str, float]) -> float:
    """Most a candidate can carry: its own cap, its supply, its demand's need over the ratio."""
    return min(c.max_quantity, supplies.get(c.supply_flow_id, 0.0), demands.get(c.demand_flow_id, 0.0) / c.ratio)


@dataclass
class _Table:
    """The kept candidates as arrays (PyPSA-style bulk work)."""

    candidates: list[Candidate]  # in id order
    supply: np.ndarray  # index into supply_ids
    demand: np.ndarray  # index into demand_ids
    supply_ids: list[str]
    demand_ids: list[str]
    value: np.ndarray
    cap: np.ndarray
    ratio: np.ndarray
    fixed: np.ndarray


def _table(
    candidates: Iterable[Candidate], supplies: Mapping[str, float], demands: Mapping[str, float]
) -> _Table:
    """Candidates worth a variable, caps tightened, as arrays (the presolve of :func:`build_model`)."""
    cands = sorted(candidates, key=lambda c: c.id)
    n = len(cands)
    value = np.fromiter((c.value_eur_per_unit for c in cands), float, n)
    fixed = np.fromiter((c.fixed_cost_eur for c in cands), float, n)
    # link_capacity on columns
    need = np.fromiter((demands.get(c.demand_flow_id, 0.0) for c in cands), float, n)
    need /= np.fromiter((c.ratio for c in cands), float, n)
    cap = np.minimum(np.fromiter((c.max_quantity for c in cands), float, n),
                     np.fromiter((supplies.get(c.supply_flow_id, 0.0) for c in cands), float, n))
    cap = np.minimum(cap, need)
    keep = (value > 0) & (cap > 0) & ~((fixed > 0) & (value * cap <= fixed))
    kept: list[Candidate] = []
    for i in np.flatnonzero(keep).tolist():
        c = cands[i]
        kept.append(c if cap[i] >= c.max_quantity else replace(c, max_quantity=float(cap[i])))
    supply_ix: dict[str, int] = {}
    demand_ix: dict[str, int] = {}
    supply = np.fromiter((supply_ix.setdefault(c.supply_flow_id, len(supply_ix)) for c in kept), np.int64, len(kept))
    demand = np.fromiter((demand_ix.setdefault(c.demand_flow_id, len(demand_ix)) for c in kept), np.int64, len(kept))
    return _Table(
        candidates=kept,
        supply=supply,
        demand=demand,
        supply_ids=list(supply_ix),
        demand_ids=list(demand_ix),
        value=value[keep],
        cap=np.fromiter((c.max_quantity for c in kept), float, len(kept)),
        ratio=np.fromiter((c.ratio for c in kept), float, len(kept)),
        fixed=fixed[keep],
    )


def _component_rows(t: _Table) -> list[np.ndarray]:
    """Candidate positions of each connected component of the supply–demand graph, in a
    stable order (components by their first candidate id, candidates by id)."""
    n_s, n_d = len(t.supply_ids), len(t.demand_ids)
    graph = sp.coo_matrix((np.ones(len(t.supply)), (t.supply, n_s + t.demand)), shape=(n_s + n_d, n_s + n_d))
    _, label = connected_components(graph, directed=False)
    comp = label[t.supply]
    order = np.argsort(comp, kind="stable")  # candidates are in id order: stays so within a component
    starts = np.flatnonzero(np.r_[True, np.diff(comp[order]) != 0])
    groups = np.split(order, starts[1:])
    groups.sort(key=lambda rows: int(rows[0]))
    return groups


def _build_component(
    index: int,
    t: _Table,
    rows: np.ndarray,
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside_value: Mapping[str, float],
) -> Component:
    cands = [t.candidates[i] for i in rows.tolist()]
    m = len(rows)
    # sets: the component's supply and demand rows, its fixed links and outside options
    s_ix, s_local = np.unique(t.supply[rows], return_inverse=True)
    d_ix, d_local = np.unique(t.demand[rows], return_inverse=True)
    supply_ids = [t.supply_ids[i] for i in s_ix.tolist()]
    demand_ids = [t.demand_ids[i] for i in d_ix.tolist()]
    fixed = np.flatnonzero(t.fixed[rows] > 0)
    z_local = [k for k, s in enumerate(supply_ids) if outside_value.get(s, 0.0) > 0]
    outside = [supply_ids[k] for k in z_local]
    nf, nz, ns, nd = len(fixed), len(z_local), len(supply_ids), len(demand_ids)
    n_vars = m + nf + nz
    # variables: x, then y, then z
    cap = t.cap[rows]
    upper = np.concatenate((cap, np.ones(nf), [supplies[s] for s in outside]))
    objective = np.concatenate((t.value[rows], -t.fixed[rows][fixed], [outside_value[s] for s in outside]))
    # constraints: supply[s], demand[d], link[c]
    x = np.arange(m)
    y = m + np.arange(nf)
    z = m + nf + np.arange(nz)
    link_rows = ns + nd + np.arange(nf)
    r = np.concatenate((s_local, ns + d_local, np.asarray(z_local, dtype=np.int64), link_rows, link_rows))
    c = np.concatenate((x, x, z, fixed, y))
    v = np.concatenate((np.ones(m), t.ratio[rows], np.ones(nz), np.ones(nf), -cap[fixed]))
    matrix = sp.csr_matrix((v, (r, c)), shape=(ns + nd + nf, n_vars))
    row_upper = np.concatenate(([supplies[s] for s in supply_ids], [demands[d] for d in demand_ids], np.zeros(nf)))
    model = mb.Model()
    model.helper.fill_model_from_sparse_data(
        np.zeros(n_vars), upper, objective, np.full(len(row_upper), -np.inf), row_upper, matrix
    )
    for var in y.tolist():
        model.helper.set_var_integrality(var, True)
    model.helper.set_maximize(True)
    return Component(
        index=index,
        kind="MILP" if nf else "LP",
        model=model,
        candidates=cands,
        fixed=fixed,
        supplies=supply_ids,
        demands=demand_ids,
        outside=outside,
        objective=objective,
        upper=upper,
    )


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
    t = _table(candidates, supplies, demands)
    comps = (
        [_build_component(i, t, rows, supplies, demands, outside_value) for i, rows in enumerate(_component_rows(t))]
        if t.candidates
        else []
    )
    return MatchingModel(components=comps, candidates={c.id: c for c in t.candidates})


def _solve_component(comp: Component, time_limit_s: float, mip_gap: float) -> None:
    solver = mb.Solver("SCIP" if comp.kind == "MILP" else "GLOP")
    solver.set_time_limit_in_seconds(max(0.001, time_limit_s))
    if comp.kind == "MILP":
        solver.set_solver_specific_parameters(f"limits/gap = {mip_gap!r}")
    start = time.perf_counter()
    status = solver.solve(comp.model).name
    comp.seconds = time.perf_counter() - start
    comp.status = status if status in _STATUSES else "ABNORMAL"
    if comp.status in _SOLVED:
        comp.values = solver.values(comp.model.get_variables()).to_numpy(dtype=float)
        comp.objective_eur = float(solver.objective_value)
        bound = float(solver.best_objective_bound) if comp.kind == "MILP" else comp.objective_eur
        comp.best_bound_eur = max(bound, comp.objective_eur)
    else:
        comp.values = None
        comp.objective_eur = 0.0  # nothing done in this component is always feasible
        comp.best_bound_eur = comp.upper_bound()


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
        if comp.kind == "MILP":
            milp_left -= 1
        _solve_component(comp, share, mip_gap)
    return extract(model)


def extract(model: MatchingModel) -> Solution:
    """The plan of a solved model: one :class:`Allocation` per candidate that carries something."""
    allocations: dict[str, Allocation] = {}
    statuses = [c.status for c in model.components]
    for comp in model.components:
        if comp.status not in _SOLVED or comp.values is None:
            continue
        m = len(comp.candidates)
        caps = comp.upper[:m]
        q = np.minimum(comp.values[:m], caps)
        opened = np.zeros(m, dtype=bool)
        opened[comp.fixed] = comp.values[m : m + len(comp.fixed)] > 0.5
        carried = comp.values[:m] > _TOL * np.maximum(1.0, caps)
        for i in np.flatnonzero(carried).tolist():
            c = comp.candidates[i]
            qi = float(q[i])
            allocations[c.id] = Allocation(
                candidate_id=c.id,
                quantity=qi,
                net_benefit_eur=c.value_eur_per_unit * qi - (c.fixed_cost_eur if opened[i] else 0.0),
                co2_avoided_t=c.co2_t_per_unit * qi,
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
