"""Matching beyond one process, on Dask: the same result as :class:`symbiose.matching.LocalEngine`.

Two kinds of independent work are sent to Dask workers:

* **candidates and valuation, by geography.** Flows are first split by
  resource group (the connected parts of the supply-code → demand-code link
  graph: no candidate joins two groups), then each group into strips of
  longitude holding about the same number of flows. A partition holds its
  strip's flows (its *core*) and, around them, a *halo*: every flow of the
  group within the largest transport distance of the group's links — twice
  that with ``nearest`` (a halo flow's own nearest partners must be seen
  too). Each partition keeps the candidates whose supply is in its core, so
  every candidate comes from exactly one partition, as it would locally.
* **the optimiser, by connected component.** Components share nothing: they
  are packed into batches of similar size, each batch built and solved by a
  worker, and the plans and reports merged (components in id order).

The cluster: ``scheduler`` (``tcp://HOST:PORT``, else the environment
variable ``SYMBIOSE_DASK_SCHEDULER``), else a local cluster of ``workers``
processes on this machine.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components

from symbiose.candidates import _reach, generate_candidates
from symbiose.domain import Candidate, Diagnostic, Direction, Flow, Issue, Solution
from symbiose.optimise import DEFAULT_WORK, WorkLimit, _component_rows, _table, build_model, solve, summarise
from symbiose.taxonomy import Taxonomy
from symbiose.valuation import value_candidates

ENV_SCHEDULER = "SYMBIOSE_DASK_SCHEDULER"
KM_PER_DEG = 111.195
PARTITION_FLOWS = 25_000  # flows in a partition's core, about
BATCHES_PER_WORKER = 4  # optimiser batches per worker (balance against overhead)


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The Dask scheduler to use: the one given, else ``SYMBIOSE_DASK_SCHEDULER``, else None (local)."""
    return scheduler or os.environ.get(ENV_SCHEDULER) or None


@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, processes: bool = True) -> Iterator[Any]:
    """A Dask client on ``scheduler`` (see :func:`scheduler_address`), else on a local cluster
    of ``workers`` single-threaded workers (processes, or threads with ``processes=False``)."""
    from distributed import Client, LocalCluster

    address = scheduler_address(scheduler)
    if address:
        with Client(address) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


# --------------------------------------------------------------------------
# partitions by geography
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """The flows one worker matches: its core (whose supplies' candidates it keeps) and halo."""

    group: int
    core: frozenset[str]  # flow ids
    diagnostic: Diagnostic  # core and halo flows, and their companies


def _located(f: Flow, companies: Mapping[str, Any]) -> tuple[float, float] | None:
    lat, lon = f.lat, f.lon
    if lat is None or lon is None:
        c = companies.get(f.company_id)
        lat, lon = (c.lat, c.lon) if c is not None else (None, None)
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return lat, lon


def resource_groups(diagnostic: Diagnostic, taxonomy: Taxonomy) -> tuple[dict[tuple[str, str], int], list[float]]:
    """Group of each (direction, code) present, and each group's largest link distance (km):
    the connected parts of the graph of links between the supply and demand codes present."""
    outs = sorted({f.resource for f in diagnostic.flows if f.direction == Direction.OUT and f.resource in taxonomy})
    ins = sorted({f.resource for f in diagnostic.flows if f.direction == Direction.IN and f.resource in taxonomy})
    reach = _reach(outs, ins, taxonomy)
    nodes = {("out", c): i for i, c in enumerate(outs)}
    nodes.update({("in", c): len(outs) + i for i, c in enumerate(ins)})
    if not reach:
        return {}, []
    rows = [nodes[("out", s)] for s, _ in reach]
    cols = [nodes[("in", d)] for _, d in reach]
    import scipy.sparse as sp

    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
    _, label = connected_components(graph, directed=False)
    linked = set(rows) | set(cols)
    group_of = {key: int(label[i]) for key, i in nodes.items() if i in linked}
    n_groups = int(label.max()) + 1 if len(label) else 0
    radius = [0.0] * n_groups
    for (s, _), links in reach.items():
        g = int(label[nodes[("out", s)]])
        radius[g] = max(radius[g], max(lk.max_distance_km for lk in links))
    return group_of, radius


def partitions(
    diagnostic: Diagnostic, taxonomy: Taxonomy, nearest: int | None, flows_per_partition: int = PARTITION_FLOWS
) -> list[Partition]:
    """The diagnostic cut by resource group, then by strips of longitude, each with its halo
    (see the module docstring). Flows that cannot be matched (no group, no location) form
    one last partition of their own, for the warnings about them."""
    companies = diagnostic.companies_by_id
    group_of, radius = resource_groups(diagnostic, taxonomy)
    members: dict[int, list[tuple[Flow, float, float]]] = {}
    rest: list[Flow] = []
    for f in sorted(diagnostic.flows, key=lambda f: f.id):
        g = group_of.get((str(f.direction), f.resource))
        where = _located(f, companies)
        if g is None or where is None:
            rest.append(f)
            continue
        members.setdefault(g, []).append((f, *where))
    factor = 1.0 if nearest is None else 2.0
    out: list[Partition] = []
    for g in sorted(members):
        flows = members[g]
        lat = np.array([m[1] for m in flows])
        x = np.array([m[2] for m in flows]) * KM_PER_DEG * np.cos(np.radians(lat))  # km east, near enough
        order = np.argsort(x, kind="stable")
        n_parts = max(1, math.ceil(len(flows) / flows_per_partition))
        halo_km = factor * radius[g] * 1.01 + 1.0  # a margin over the projection's error
        for part in np.array_split(order, n_parts):
            if len(part) == 0:
                continue
            lo, hi = x[part].min(), x[part].max()
            inside = np.flatnonzero((x >= lo - halo_km) & (x <= hi + halo_km))
            chosen = [flows[i][0] for i in inside.tolist()]
            out.append(Partition(g, frozenset(flows[i][0].id for i in part.tolist()), _sub(diagnostic, chosen, companies)))
    if rest:
        out.append(Partition(-1, frozenset(f.id for f in rest), _sub(diagnostic, rest, companies)))
    return out


def _sub(diagnostic: Diagnostic, flows: Sequence[Flow], companies: Mapping[str, Any]) -> Diagnostic:
    used = sorted({f.company_id for f in flows})
    return Diagnostic(
        territory=diagnostic.territory,
        companies=tuple(companies[c] for c in used if c in companies),
        flows=tuple(flows),
    )


def _partition_candidates(
    part: Partition, tax: Taxonomy, nearest: int | None
) -> tuple[int, list[Candidate], list[Issue]]:
    """Worker task: the valued candidates of the partition's core supplies, and its warnings."""
    cands, issues = generate_candidates(part.diagnostic, tax, nearest=nearest)
    kept = [c for c in cands if c.supply_flow_id in part.core]
    mine = [i for i in issues if i.value in part.core]
    return len(kept), value_candidates(kept, part.diagnostic, tax), mine


# --------------------------------------------------------------------------
# optimiser by connected component
# --------------------------------------------------------------------------


def _solve_batch(
    candidates: list[Candidate],
    supplies: dict[str, float],
    demands: dict[str, float],
    outside: dict[str, float],
    work: WorkLimit,
    time_limit_s: float | None,
) -> tuple[Solution, list[dict[str, object]], int]:
    """Worker task: build and solve whole components; the plan, component reports, MILP count."""
    model = build_model(candidates, supplies, demands, outside, work=work)
    solution = solve(model, time_limit_s=time_limit_s)
    return solution, model.reports(), model.milp_components


def _batches(sizes: Sequence[int], n_batches: int) -> list[list[int]]:
    """Components packed into ``n_batches`` of similar total size (largest first, into the
    lightest batch; deterministic)."""
    loads = [0] * n_batches
    out: list[list[int]] = [[] for _ in range(n_batches)]
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        b = min(range(n_batches), key=lambda b: (loads[b], b))
        out[b].append(i)
        loads[b] += sizes[i] + 50  # a fixed cost per component (model build, solver start)
    return [sorted(b) for b in out if b]


class DaskEngine:
    """Candidates by geographic partition and the optimiser by component, on a Dask client."""

    def __init__(self, client: Any, work: WorkLimit = DEFAULT_WORK, flows_per_partition: int = PARTITION_FLOWS):
        self.client = client
        self.work = work
        self.flows_per_partition = flows_per_partition

    def _workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def candidates(
        self, diagnostic: Diagnostic, tax: Taxonomy, nearest: int | None
    ) -> tuple[int, list[Candidate], list[Issue]]:
        parts = partitions(diagnostic, tax, nearest, self.flows_per_partition)
        shared = self.client.scatter(tax, broadcast=True)
        futures = self.client.map(_partition_candidates, parts, tax=shared, nearest=nearest, pure=False)
        total, valued, issues = 0, [], []
        for n, cands, found in self.client.gather(futures):
            total += n
            valued.extend(cands)
            issues.extend(found)
        valued.sort(key=lambda c: c.id)
        issues.sort(key=lambda i: str(i.value))
        return total, valued, issues

    def optimise(
        self,
        valued: list[Candidate],
        supplies: Mapping[str, float],
        demands: Mapping[str, float],
        outside: Mapping[str, float],
        time_limit_s: float | None,
    ) -> tuple[Solution, dict[str, Any]]:
        t = _table(valued, supplies, demands)
        groups = _component_rows(t) if t.candidates else []
        batches = _batches([len(g) for g in groups], self._workers() * BATCHES_PER_WORKER) if groups else []
        futures = []
        for batch in batches:
            rows = np.concatenate([groups[i] for i in batch])
            cands = [t.candidates[i] for i in rows.tolist()]
            s_ids = {c.supply_flow_id for c in cands}
            d_ids = {c.demand_flow_id for c in cands}
            futures.append(self.client.submit(
                _solve_batch, cands, {k: supplies[k] for k in s_ids}, {k: demands[k] for k in d_ids},
                {k: outside[k] for k in s_ids if k in outside}, self.work, time_limit_s, pure=False,
            ))
        allocations, reports, milp, seconds = {}, [], 0, 0.0
        for solution, batch_reports, batch_milp in self.client.gather(futures):
            allocations.update(solution.allocations)
            reports.extend(batch_reports)
            milp += batch_milp
            seconds += solution.solve_seconds
        # components in id order, numbered as the single-process model numbers them
        reports.sort(key=lambda r: str(r["first_candidate"]))
        for i, r in enumerate(reports):
            r["index"] = i
        solution = Solution(
            status="OPTIMAL" if all(r["status"] == "OPTIMAL" for r in reports) else "FEASIBLE",
            objective_eur=sum(float(r["objective_eur"]) for r in reports),  # type: ignore[arg-type]
            best_bound_eur=sum(float(r["best_bound_eur"]) for r in reports),  # type: ignore[arg-type]
            allocations=dict(sorted(allocations.items())),
            components=len(reports),
            solve_seconds=seconds,
        )
        return solution, {
            "milp_components": milp,
            "candidates_in_model": len(t.candidates),
            **summarise(reports, self.work),
        }
