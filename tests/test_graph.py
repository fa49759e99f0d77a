"""The flow graph: nodes, edges, the plan on it, and its GraphML / JSON exports."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from symbiose.candidates import generate_candidates
from symbiose.domain import Direction
from symbiose.graph import build_graph, company_node, export_graph, flow_node
from symbiose.optimise import build_model, solve
from symbiose.valuation import value_candidates
from tests.conftest import company, diagnostic, flow


@pytest.fixture()
def territory(small_taxonomy):
    d = diagnostic(
        [company("A"), company("B", 3), company("C", 6)],
        [
            flow("S", "A", "out", "paper", 100, label="papiers de bureau"),
            flow("D1", "B", "in", "paper", 70),
            flow("D2", "C", "in", "paper", 70),
            flow("X", "C", "out", "wood", 5),  # nobody needs it
        ],
    )
    cands = value_candidates(generate_candidates(d, small_taxonomy)[0], d, small_taxonomy)
    supplies = {f.id: f.quantity for f in d.flows if f.direction == Direction.OUT}
    demands = {f.id: f.quantity for f in d.flows if f.direction == Direction.IN}
    return d, cands, solve(build_model(cands, supplies, demands))


def test_nodes_and_edges(territory):
    d, cands, _ = territory
    g = build_graph(d, cands)
    assert g.number_of_nodes() == 3 + 4
    assert g.nodes[company_node("A")]["kind"] == "company"
    assert g.nodes[flow_node("S")]["label"] == "papiers de bureau"
    assert g.has_edge(company_node("A"), flow_node("S"))  # company → its output
    assert g.has_edge(flow_node("D1"), company_node("B"))  # input → its company
    candidate_edges = [(u, v) for u, v, k in g.edges(data="kind") if k == "candidate"]
    assert sorted(candidate_edges) == [(flow_node("S"), flow_node("D1")), (flow_node("S"), flow_node("D2"))]
    e = g.edges[flow_node("S"), flow_node("D1")]
    assert e["rule"] == "same" and e["distance_km"] == pytest.approx(3, rel=1e-3) and e["value_eur_per_unit"] > 0
    assert "allocated" not in e


def test_plan_is_on_the_edges(territory):
    d, cands, sol = territory
    g = build_graph(d, cands, sol)
    near = g.edges[flow_node("S"), flow_node("D1")]
    far = g.edges[flow_node("S"), flow_node("D2")]
    assert near["allocated"] == pytest.approx(70)  # the nearer receiver is filled first
    assert far["allocated"] == pytest.approx(30)
    assert sum(a for _, _, a in g.out_edges(flow_node("S"), data="allocated")) == pytest.approx(100)


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_exports_round_trip(territory, tmp_path, suffix):
    d, cands, sol = territory
    g = build_graph(d, cands, sol)
    path = export_graph(g, tmp_path / f"graph{suffix}")
    if suffix == ".graphml":
        back = nx.read_graphml(path)
    else:
        back = nx.node_link_graph(json.loads(path.read_text(encoding="utf-8")), edges="edges")
    assert set(back.nodes) == set(g.nodes)
    assert back.number_of_edges() == g.number_of_edges()
    assert float(back.edges[flow_node("S"), flow_node("D1")]["allocated"]) == pytest.approx(70)


def test_unknown_export_format(territory, tmp_path):
    d, cands, _ = territory
    with pytest.raises(ValueError):
        export_graph(build_graph(d, cands), tmp_path / "graph.txt")
