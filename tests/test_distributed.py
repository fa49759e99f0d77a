"""Partitioned matching on a Dask LocalCluster finds the single-process plan."""

from __future__ import annotations

import pytest

from symbiose.distributed import DaskEngine, dask_client, partitions, resource_groups
from symbiose.matching import match
from symbiose.report.synergy_json import dumps
from symbiose.taxonomy import get_taxonomy

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def territory():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from territories import dense_territory, even_territory

    tax = get_taxonomy()
    dense, even = dense_territory(900, tax), even_territory(900, tax)
    from symbiose.domain import Diagnostic

    # two territories side by side: the even park and the towns
    return Diagnostic("mix", companies=dense.companies + even.companies, flows=dense.flows + even.flows)


def test_partitions_cover_every_flow_once_with_a_halo(territory):
    tax = get_taxonomy()
    parts = partitions(territory, tax, nearest=10, flows_per_partition=150)
    cores = [p.core for p in parts]
    assert sum(len(c) for c in cores) == len(territory.flows)
    assert frozenset().union(*cores) == {f.id for f in territory.flows}
    assert len(parts) > 4
    assert any(len(p.diagnostic.flows) > len(p.core) for p in parts)  # halos
    _, radius = resource_groups(territory, tax)
    assert max(radius) >= 100  # the largest group reaches far: its halo is wide


@pytest.mark.parametrize("nearest", [None, 3])
def test_partitioned_run_equals_single_process(territory, nearest):
    tax = get_taxonomy()
    single = match(territory, tax, nearest=nearest, now=None)
    with dask_client(workers=2, processes=False) as client:
        engine = DaskEngine(client, flows_per_partition=200)
        assert len(partitions(territory, tax, nearest, 200)) > 3
        spread = match(territory, tax, nearest=nearest, engine=engine)
    assert spread.candidates == single.candidates
    def plan(result):
        return {s.details["candidate_id"]: round(s.quantity, 6)
                for s in result.synergies if s.in_plan and "candidate_id" in s.details}

    assert plan(single) and plan(spread) == plan(single)
    def timeless(solver):
        return {k: v for k, v in solver.items() if not k.endswith("_seconds")}

    assert timeless(spread.solver) == timeless(single.solver)
    assert dumps(spread).replace(spread.generated_at, "") == dumps(single).replace(single.generated_at, "")
