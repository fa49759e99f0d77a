"""The flow graph of a diagnostic (networkx), what reports and maps read.

Nodes are companies (``company:<id>``) and flows (``flow:<id>``). Edges go
company → its output flows, input flows → their company, and, for every
candidate exchange, output flow → input flow with the candidate's distance,
value, rule and, when a solution is given, the quantity allocated to it.
Attributes are plain numbers and strings (no ``None``) so the graph exports
to GraphML as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from symbiose.domain import Candidate, Diagnostic, Direction, Solution


def company_node(company_id: str) -> str:
    """Node key of a company."""
    return f"company:{company_id}"


def flow_node(flow_id: str) -> str:
    """Node key of a flow."""
    return f"flow:{flow_id}"


def _clean(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes GraphML can hold: drop ``None``, join tuples, keep scalars."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            value = ",".join(str(v) for v in value)
        elif not isinstance(value, (str, int, float, bool)):
            value = str(value)
        out[key] = value
    return out


def build_graph(
    diagnostic: Diagnostic, candidates: Iterable[Candidate], solution: Solution | None = None
) -> nx.DiGraph:
    """The flow graph of ``diagnostic`` with its candidate exchanges (and the plan, if given)."""
    g = nx.DiGraph(territory=diagnostic.territory)
    for c in sorted(diagnostic.companies, key=lambda c: c.id):
        g.add_node(
            company_node(c.id),
            **_clean(
                {
                    "kind": "company",
                    "company_id": c.id,
                    "name": c.name,
                    "lat": c.lat,
                    "lon": c.lon,
                    "postcode": c.postcode,
                    "city": c.city,
                    "naf": c.naf,
                    "confidential": c.confidential,
                }
            ),
        )
    for f in sorted(diagnostic.flows, key=lambda f: f.id):
        node = flow_node(f.id)
        g.add_node(
            node,
            **_clean(
                {
                    "kind": "flow",
                    "flow_id": f.id,
                    "company_id": f.company_id,
                    "direction": str(f.direction),
                    "resource": f.resource,
                    "quantity": f.quantity,
                    "unit": f.unit,
                    "lat": f.lat,
                    "lon": f.lon,
                    "label": f.label or f.text,
                    "hazardous": f.hazardous,
                    "temperature_c": f.temperature_c,
                    "concentration_pct": f.concentration_pct,
                    "months": f.months,
                }
            ),
        )
        company = company_node(f.company_id)
        if company not in g:
            g.add_node(company, kind="company", company_id=f.company_id, name=f.company_id)
        if f.direction == Direction.OUT:
            g.add_edge(company, node, kind="emits")
        else:
            g.add_edge(node, company, kind="consumes")
    allocations = solution.allocations if solution is not None else {}
    for c in sorted(candidates, key=lambda c: c.id):
        alloc = allocations.get(c.id)
        attrs = {
            "kind": "candidate",
            "candidate_id": c.id,
            "rule": c.rule_id,
            "distance_km": c.distance_km,
            "max_quantity": c.max_quantity,
            "unit": c.unit,
            "ratio": c.ratio,
            "value_eur_per_unit": c.value_eur_per_unit,
            "co2_t_per_unit": c.co2_t_per_unit,
            "fixed_cost_eur": c.fixed_cost_eur,
            "month_overlap": c.month_overlap,
            "reasons": c.reasons,
        }
        if solution is not None:
            attrs["allocated"] = alloc.quantity if alloc else 0.0
            attrs["net_benefit_eur"] = alloc.net_benefit_eur if alloc else 0.0
        g.add_edge(flow_node(c.supply_flow_id), flow_node(c.demand_flow_id), **_clean(attrs))
    return g


def export_graph(graph: nx.DiGraph, path: str | Path) -> Path:
    """Write the graph as GraphML (``.graphml``) or node-link JSON (``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        nx.write_graphml(graph, path)
    elif suffix == ".json":
        data = nx.node_link_data(graph, edges="edges")
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    else:
        raise ValueError(f"unknown graph format {suffix!r}; expected .graphml or .json")
    return path
