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
layout → variables and constraints → objective) and split into the connected
components of the candidate graph: a component without fixed costs is a
linear programme (GLOP), one with fixed costs a mixed-integer programme.

Each component's columns and rows are laid out by one :class:`Layout` of
named blocks (columns ``x``, ``y``, ``z``; rows ``supply``, ``demand``,
``link``): the build, the LP names and the extraction all read it, so a new
constraint is one more block and its coefficients.

A mixed-integer component is solved in three deterministic steps, so the
same input gives the same plan on any machine, whatever the load:

1. the linear relaxation (``y`` in [0, 1]) gives the bound no plan can beat;
2. a plan from it: open the links the relaxation uses, re-solve with ``y``
   fixed, close the links that do not pay their fixed cost, re-solve, until
   none is closed; then the same from the links a few rounds of dynamic
   slope scaling open (each fixed cost charged over what its link carried in
   the previous round), the better plan kept;
3. SCIP, seeded with that plan, improves it within a *work* limit (branch
   and bound nodes, see :class:`WorkLimit`), not a wall-clock one; its plan
   is kept only if better, its bound tightens the reported gap. Components
   whose plan is already close to the bound, or with more binaries than the
   limit allows, keep the step-2 plan.

Every component reports its status and its gap to the bound; values are read
only after an OPTIMAL or FEASIBLE status.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb
from scipy.sparse.csgraph import connected_components

from symbiose.domain import Allocation, Candidate, Solution

_SOLVED = ("OPTIMAL", "FEASIBLE")
_STATUSES = (*_SOLVED, "INFEASIBLE", "UNBOUNDED", "ABNORMAL", "NOT_SOLVED", "MODEL_INVALID")
_STATUS_RANK = {s: i for i, s in enumerate(_STATUSES)}  # worse statuses come later


def status_rank(status: str) -> int:
    """How bad a solver status is (0: OPTIMAL); an unknown status ranks last."""
    return _STATUS_RANK.get(status, len(_STATUS_RANK))
_TOL = 1e-7  # relative amount below which a flow is read as zero
MIP_RELATIVE_GAP = 1e-4  # a plan within this share of the bound is OPTIMAL
_MAX_REPAIRS = 50  # rounds of "close the links that do not pay" (each closes at least one)


@dataclass(frozen=True)
class WorkLimit:
    """How much work SCIP may spend improving a component's plan (deterministic).

    ``slope_rounds``: linear programmes of the slope-scaling search for a
    better set of open links before SCIP (0: none); ``nodes``:
    branch-and-bound nodes per component; ``cut_rounds``: rounds
    of cutting planes at the root (none in the tree); ``improve_above_gap``:
    SCIP runs only on components whose plan from the relaxation is further
    than this share from the bound; ``max_binaries``:
    components with more open/closed decisions keep the plan built from the
    relaxation (SCIP's presolve and root alone would outweigh the rest of the
    run); ``safety_seconds``: a wall-clock stop for pathological cases only —
    a SCIP run that reaches it is discarded for the relaxation's plan, so the
    result still does not depend on the machine's speed.
    """

    slope_rounds: int = 8
    nodes: int = 20
    cut_rounds: int = 5
    max_binaries: int = 500
    improve_above_gap: float = 0.002
    safety_seconds: float = 60.0

    def as_dict(self) -> dict[str, float]:
        return {"slope_rounds": self.slope_rounds, "nodes": self.nodes, "cut_rounds": self.cut_rounds, "max_binaries": self.max_binaries,
                "improve_above_gap": self.improve_above_gap}


DEFAULT_WORK = WorkLimit()


# --------------------------------------------------------------------------
# layout: named ranges of columns and rows
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A named range of columns or rows, one per key (``x[<candidate id>]``...)."""

    name: str
    keys: Sequence[str]
    start: int

    @property
    def stop(self) -> int:
        return self.start + len(self.keys)

    @property
    def index(self) -> np.ndarray:
        return np.arange(self.start, self.stop)

    def labels(self) -> list[str]:
        return [f"{self.name}[{k}]" for k in self.keys]


@dataclass(frozen=True)
class Layout:
    """The columns and rows of one component's model, in order, by name."""

    columns: tuple[Block, ...]
    rows: tuple[Block, ...]

    @staticmethod
    def of(columns: Sequence[tuple[str, Sequence[str]]], rows: Sequence[tuple[str, Sequence[str]]]) -> Layout:
        def blocks(spec: Sequence[tuple[str, Sequence[str]]]) -> tuple[Block, ...]:
            out, start = [], 0
            for name, keys in spec:
                out.append(Block(name, keys, start))
                start += len(keys)
            return tuple(out)

        return Layout(blocks(columns), blocks(rows))

    def col(self, name: str) -> Block:
        return next(b for b in self.columns if b.name == name)

    def row(self, name: str) -> Block:
        return next(b for b in self.rows if b.name == name)

    @property
    def n_columns(self) -> int:
        return self.columns[-1].stop if self.columns else 0

    @property
    def n_rows(self) -> int:
        return self.rows[-1].stop if self.rows else 0

    def column_names(self) -> list[str]:
        return [n for b in self.columns for n in b.labels()]

    def row_names(self) -> list[str]:
        return [n for b in self.rows for n in b.labels()]


@dataclass
class Component:
    """One connected component of the candidate graph and its solver model.

    ``candidates`` are in id order, column ``x[i]`` carrying candidate ``i``;
    ``fixed`` are the positions in ``candidates`` of the links with a fixed
    cost (one ``y`` column and one ``link`` row each, in that order).
    """

    index: int
    kind: str  # "LP" or "MILP"
    model: mb.Model
    layout: Layout
    candidates: list[Candidate]
    fixed: np.ndarray
    objective: np.ndarray  # objective coefficients, per column
    upper: np.ndarray  # column upper bounds
    status: str = "NOT_SOLVED"
    method: str = ""  # "lp", "relaxation" (plan from the relaxation) or "scip" (improved by SCIP)
    objective_eur: float = 0.0
    best_bound_eur: float = 0.0
    seconds: float = 0.0
    values: np.ndarray | None = None  # column values once solved

    @property
    def binaries(self) -> int:
        return len(self.fixed)

    @property
    def gap(self) -> float:
        return _gap(self.objective_eur, self.best_bound_eur)

    def upper_bound(self) -> float:
        """A bound no plan of this component can beat (used when it was not solved)."""
        positive = self.objective > 0
        return float(self.objective[positive] @ self.upper[positive])

    def lp_text(self) -> str:
        """The model in LP format, with its named variables and constraints."""
        helper = self.model.helper
        for i, name in enumerate(self.layout.column_names()):
            helper.set_var_name(i, name)
        for i, name in enumerate(self.layout.row_names()):
            helper.set_constraint_name(i, name)
        return self.model.export_to_lp_string(obfuscate=False)

    def report(self) -> dict[str, object]:
        """Status, method, gap, figures and size of this component (for the run's ``solver`` field)."""
        return {
            "index": self.index,
            "first_candidate": self.candidates[0].id if self.candidates else "",
            "kind": self.kind,
            "status": self.status,
            "method": self.method,
            "gap": round(self.gap, 6),
            "objective_eur": self.objective_eur,
            "best_bound_eur": self.best_bound_eur,
            "candidates": len(self.candidates),
            "binaries": self.binaries,
        }


def _gap(objective: float, bound: float) -> float:
    if abs(bound) < 1e-9:
        return 0.0
    return max(0.0, (bound - objective) / abs(bound))


@dataclass
class MatchingModel:
    """The optimisation model of one matching run, one solver model per component."""

    components: list[Component]
    candidates: dict[str, Candidate]
    work: WorkLimit = field(default_factory=WorkLimit)

    @property
    def milp_components(self) -> int:
        return sum(1 for c in self.components if c.kind == "MILP")

    def reports(self) -> list[dict[str, object]]:
        return [c.report() for c in self.components]

    def solver_report(self) -> dict[str, object]:
        """Keys added to the synergy JSON's ``solver`` field (see :func:`summarise`)."""
        return summarise(self.reports(), self.work)


def summarise(reports: Sequence[Mapping[str, object]], work: WorkLimit) -> dict[str, object]:
    """The run's worst component (worst status, then largest gap, then first in id order),
    how many components each method settled, and the work limit."""
    def badness(r: Mapping[str, object]) -> tuple[int, float, str]:
        return (-_STATUS_RANK.get(str(r["status"]), 99), -float(r["gap"]), str(r["first_candidate"]))  # type: ignore[arg-type]

    worst = min(reports, key=badness) if reports else None
    return {
        "worst_status": str(worst["status"]) if worst else "OPTIMAL",
        "worst_gap": round(float(worst["gap"]), 6) if worst else 0.0,  # type: ignore[arg-type]
        "worst_component": (
            {k: worst[k] for k in ("index", "kind", "status", "method", "gap", "candidates", "binaries")}
            if worst else None
        ),
        "components_by_method": {m: sum(1 for r in reports if r["method"] == m) for m in ("lp", "relaxation", "scip")},
        "largest_binaries": max((int(r["binaries"]) for r in reports), default=0),  # type: ignore[call-overload]
        "work_limit": work.as_dict(),
    }


def link_capacity(c: Candidate, supplies: Mapping[str, float], demands: Mapping[str, float]) -> float:
    """Most a candidate can carry: its own cap, its supply, its demand's need over the ratio."""
    return min(c.max_quantity, supplies.get(c.supply_flow_id, 0.0), demands.get(c.demand_flow_id, 0.0) / c.ratio)


# --------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------


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
    # sets: the component's supply and demand rows, its fixed links and outside options
    s_ix, s_local = np.unique(t.supply[rows], return_inverse=True)
    d_ix, d_local = np.unique(t.demand[rows], return_inverse=True)
    supply_ids = [t.supply_ids[i] for i in s_ix.tolist()]
    demand_ids = [t.demand_ids[i] for i in d_ix.tolist()]
    fixed = np.flatnonzero(t.fixed[rows] > 0)
    z_local = np.asarray([k for k, s in enumerate(supply_ids) if outside_value.get(s, 0.0) > 0], dtype=np.int64)
    outside = [supply_ids[k] for k in z_local.tolist()]
    fixed_ids = [cands[i].id for i in fixed.tolist()]
    layout = Layout.of(
        columns=(("x", [c.id for c in cands]), ("y", fixed_ids), ("z", outside)),
        rows=(("supply", supply_ids), ("demand", demand_ids), ("link", fixed_ids)),
    )
    x, y, z = layout.col("x").index, layout.col("y").index, layout.col("z").index
    supply_row, demand_row, link_row = (layout.row(n) for n in ("supply", "demand", "link"))
    # columns: bounds and objective, block by block
    cap = t.cap[rows]
    upper = np.concatenate((cap, np.ones(len(y)), [supplies[s] for s in outside]))
    objective = np.concatenate((t.value[rows], -t.fixed[rows][fixed], [outside_value[s] for s in outside]))
    # rows: one (row, column, coefficient) triplet set per constraint block
    triplets = (
        (supply_row.start + s_local, x, np.ones(len(x))),  # supply[s]: Σ x + z ≤ quantity
        (supply_row.start + z_local, z, np.ones(len(z))),
        (demand_row.start + d_local, x, t.ratio[rows]),  # demand[d]: Σ ratio · x ≤ need
        (link_row.index, x[fixed], np.ones(len(fixed))),  # link[c]: x − cap · y ≤ 0
        (link_row.index, y, -cap[fixed]),
    )
    r, c, v = (np.concatenate(parts) for parts in zip(*triplets, strict=True))
    matrix = sp.csr_matrix((v, (r, c)), shape=(layout.n_rows, layout.n_columns))
    row_upper = np.concatenate(
        ([supplies[s] for s in supply_ids], [demands[d] for d in demand_ids], np.zeros(len(fixed)))
    )
    model = mb.Model()
    model.helper.fill_model_from_sparse_data(
        np.zeros(layout.n_columns), upper, objective, np.full(layout.n_rows, -np.inf), row_upper, matrix
    )
    model.helper.set_maximize(True)
    return Component(
        index=index,
        kind="MILP" if len(fixed) else "LP",
        model=model,
        layout=layout,
        candidates=cands,
        fixed=fixed,
        objective=objective,
        upper=upper,
    )


def build_model(
    candidates: Iterable[Candidate],
    supplies: Mapping[str, float],
    demands: Mapping[str, float],
    outside_value: Mapping[str, float] | None = None,
    work: WorkLimit = DEFAULT_WORK,
) -> MatchingModel:
    """The optimisation model of valued candidates over supply and demand quantities.

    ``supplies`` and ``demands`` map flow ids to yearly quantities;
    ``outside_value`` maps supply flow ids to the € per unit the output is
    worth in pooled collection instead. Candidates whose value per unit is
    not positive, whose cap is zero, whose flows are unknown, or whose fixed
    cost exceeds all it could ever earn are left out (exact presolve); the
    cap of the others is tightened to ``min(cap, supply, need / ratio)``.
    The order of ``candidates`` does not matter.
    """
    outside_value = outside_value or {}
    t = _table(candidates, supplies, demands)
    comps = (
        [_build_component(i, t, rows, supplies, demands, outside_value) for i, rows in enumerate(_component_rows(t))]
        if t.candidates
        else []
    )
    return MatchingModel(components=comps, candidates={c.id: c for c in t.candidates}, work=work)


# --------------------------------------------------------------------------
# solve
# --------------------------------------------------------------------------


def _run(comp: Component, engine: str, params: str = "", seconds: float | None = None) -> tuple[str, np.ndarray | None, float, float, float]:
    """One solver call: status, column values (when solved), objective, bound, wall time."""
    solver = mb.Solver(engine)
    if seconds is not None:
        solver.set_time_limit_in_seconds(seconds)
    if params:
        solver.set_solver_specific_parameters(params)
    status = solver.solve(comp.model).name
    status = status if status in _STATUSES else "ABNORMAL"
    if status not in _SOLVED:
        return status, None, 0.0, 0.0, float(solver.wall_time)
    values = solver.values(comp.model.get_variables()).to_numpy(dtype=float)
    objective = float(solver.objective_value)
    bound = float(solver.best_objective_bound) if engine == "SCIP" else objective
    return status, values, objective, bound, float(solver.wall_time)


def _set_y_bounds(comp: Component, lower: np.ndarray, upper: np.ndarray) -> None:
    helper = comp.model.helper
    for var, lo, hi in zip(comp.layout.col("y").index.tolist(), lower.tolist(), upper.tolist(), strict=True):
        helper.set_var_lower_bound(var, lo)
        helper.set_var_upper_bound(var, hi)


def _true_objective(comp: Component, values: np.ndarray) -> float:
    """What a plan earns: the ``x`` and ``z`` terms, and the fixed cost of every link it uses."""
    y = comp.layout.col("y").index
    x_fixed = comp.fixed
    used = values[x_fixed] > _TOL * np.maximum(1.0, comp.upper[x_fixed])
    keep = np.ones(len(values), dtype=bool)
    keep[y] = False
    return float(comp.objective[keep] @ values[keep] + comp.objective[y] @ used)


def _slope_scaling(comp: Component, relaxed: np.ndarray, rounds: int) -> np.ndarray:
    """Links opened by dynamic slope scaling: every link open, its fixed cost charged per unit
    over what it carried in the previous round (at first its capacity: the relaxation), ``rounds``
    linear programmes; the links used by the best plan met (deterministic)."""
    x_fixed = comp.fixed
    helper = comp.model.helper
    caps = comp.upper[x_fixed]
    value = comp.objective[x_fixed]
    cost = -comp.objective[comp.layout.col("y").index]
    ones = np.ones(comp.binaries)
    _set_y_bounds(comp, ones, ones)
    carried = relaxed[x_fixed]
    best, best_open = _true_objective(comp, relaxed), carried > _TOL * np.maximum(1.0, caps)
    slope_base = np.maximum(caps, 1e-9)
    for _ in range(rounds):
        used = carried > _TOL * np.maximum(1.0, caps)
        slope_base = np.where(used, np.maximum(carried, 1e-6 * caps), slope_base)
        for var, coef in zip(x_fixed.tolist(), (value - cost / slope_base).tolist(), strict=True):
            helper.set_var_objective_coefficient(var, coef)
        _, values, _, _, _ = _run(comp, "GLOP")
        if values is None:
            break
        earned = _true_objective(comp, values)
        carried = values[x_fixed]
        if earned > best + 1e-9 * max(1.0, abs(best)):
            best, best_open = earned, carried > _TOL * np.maximum(1.0, caps)
    for var, coef in zip(x_fixed.tolist(), value.tolist(), strict=True):
        helper.set_var_objective_coefficient(var, coef)
    return best_open


def _plan_from_relaxation(
    comp: Component, relaxed: np.ndarray, is_open: np.ndarray | None = None
) -> tuple[str, np.ndarray | None, float]:
    """Open the links the relaxation uses (or ``is_open``), re-solve with ``y`` fixed, close those
    that do not pay their fixed cost, until none is closed: a feasible plan (deterministic)."""
    m = len(comp.candidates)
    x_fixed = comp.fixed  # positions of the fixed-cost candidates among the x columns
    caps = comp.upper[x_fixed]
    value = comp.objective[x_fixed]
    cost = -comp.objective[comp.layout.col("y").index]
    if is_open is None:
        is_open = relaxed[x_fixed] > _TOL * np.maximum(1.0, caps)
    is_open = is_open.copy()
    for _ in range(_MAX_REPAIRS):
        flag = is_open.astype(float)
        _set_y_bounds(comp, flag, flag)
        status, values, objective, _, _ = _run(comp, "GLOP")
        if values is None:
            return status, None, 0.0
        earns = value * np.minimum(values[:m][x_fixed], caps)
        losing = is_open & (earns < cost * (1 - 1e-9))
        if not losing.any():
            return status, values, objective
        is_open &= ~losing
    return status, values, objective


def _solve_component(comp: Component, work: WorkLimit, mip_gap: float) -> None:
    start = time.perf_counter()
    if comp.kind == "LP":
        status, values, objective, _, _ = _run(comp, "GLOP")
        comp.method, bound = "lp", objective
    else:
        # 1. relaxation: y in [0, 1] (the model carries no integrality until SCIP runs)
        status, relaxed, bound, _, _ = _run(comp, "GLOP")
        values, objective = None, 0.0
        if relaxed is not None:
            # 2. a plan from the relaxation
            status, values, objective = _plan_from_relaxation(comp, relaxed)
            comp.method = "relaxation"
            if values is not None and work.slope_rounds and _gap(objective, bound) > mip_gap:
                scaled = _plan_from_relaxation(comp, relaxed, _slope_scaling(comp, relaxed, work.slope_rounds))
                if scaled[1] is not None and scaled[2] > objective + 1e-9 * max(1.0, abs(objective)):
                    status, values, objective = scaled
            # 3. SCIP improves it within the work limit
            if values is not None and comp.binaries <= work.max_binaries \
                    and _gap(objective, bound) > max(mip_gap, work.improve_above_gap):
                better = _improve_with_scip(comp, values, work, mip_gap)
                if better is not None and better[1] > objective + 1e-9 * max(1.0, abs(objective)):
                    values, objective = better[0], better[1]
                    comp.method = "scip"
                if better is not None:
                    bound = min(bound, max(better[2], objective))
            _set_y_bounds(comp, np.zeros(comp.binaries), np.ones(comp.binaries))
    comp.seconds = time.perf_counter() - start
    if values is None:
        comp.status, comp.values = status, None
        comp.objective_eur = 0.0  # nothing done in this component is always feasible
        comp.best_bound_eur = comp.upper_bound()
        return
    comp.values, comp.objective_eur = values, objective
    comp.best_bound_eur = max(bound, objective)
    comp.status = "OPTIMAL" if comp.gap <= mip_gap else "FEASIBLE"


def _improve_with_scip(
    comp: Component, plan: np.ndarray, work: WorkLimit, mip_gap: float
) -> tuple[np.ndarray, float, float] | None:
    """SCIP seeded with ``plan``, within ``work``: its plan, objective and bound, or None
    when it stopped on the safety clock (its result would depend on the machine)."""
    y = comp.layout.col("y").index
    helper = comp.model.helper
    _set_y_bounds(comp, np.zeros(len(y)), np.ones(len(y)))
    for var in y.tolist():
        helper.set_var_integrality(var, True)
    hint = plan.copy()
    hint[y] = np.round(hint[y])
    comp.model.clear_hints()
    for var, value in enumerate(hint.tolist()):
        helper.add_hint(var, value)
    params = "\n".join((
        f"limits/gap = {mip_gap!r}",
        f"limits/nodes = {work.nodes}",
        f"separating/maxroundsroot = {work.cut_rounds}",  # a few rounds of cuts at the root...
        "separating/maxrounds = 0",  # ...none in the tree: most of SCIP's time otherwise
    ))
    try:
        status, values, objective, bound, wall = _run(comp, "SCIP", params, work.safety_seconds)
    finally:
        for var in y.tolist():
            helper.set_var_integrality(var, False)
        comp.model.clear_hints()
    if values is None or wall >= work.safety_seconds * 0.98:
        return None
    return values, objective, bound


def solve(
    model: MatchingModel,
    time_limit_s: float | None = None,
    mip_gap: float = MIP_RELATIVE_GAP,
    work: WorkLimit | None = None,
) -> Solution:
    """Solve every component, then :func:`extract` the plan.

    Deterministic: the work limit (``work``, else the model's) bounds SCIP in
    nodes, not seconds. ``time_limit_s``, kept for callers, only lowers the
    safety clock of each SCIP call. Components are independent: their order
    does not change the plan.
    """
    work = work or model.work
    if time_limit_s is not None:
        work = replace(work, safety_seconds=min(work.safety_seconds, max(0.01, time_limit_s)))
    for comp in model.components:
        _solve_component(comp, work, mip_gap)
    return extract(model)


def extract(model: MatchingModel) -> Solution:
    """The plan of a solved model: one :class:`Allocation` per candidate that carries something."""
    allocations: dict[str, Allocation] = {}
    statuses = [c.status for c in model.components]
    for comp in model.components:
        if comp.status not in _SOLVED or comp.values is None:
            continue
        x, y = comp.layout.col("x"), comp.layout.col("y")
        caps = comp.upper[x.start : x.stop]
        q = np.minimum(comp.values[x.start : x.stop], caps)
        opened = np.zeros(len(caps), dtype=bool)
        opened[comp.fixed] = comp.values[y.start : y.stop] > 0.5
        carried = q > _TOL * np.maximum(1.0, caps)
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
