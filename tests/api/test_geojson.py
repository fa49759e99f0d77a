"""The territory map as GeoJSON, and the follow-up's transition rule."""

from __future__ import annotations

import pytest

from symbiose.domain import Company, Direction, Flow, Participant, RouteStop, Synergy, SynergyType
from symbiose.report.geojson import territory_geojson
from symbiose.services.followup import TransitionRejected, check_transition

A = Company("A", "Alpha", lat=43.40, lon=4.80, naf="20.13B")
B = Company("B", "Beta", lat=43.50, lon=4.90)
C = Company("C", "Gamma", lat=43.45, lon=4.85)
NOWHERE = Company("D", "Delta")
FLOWS = [
    Flow("F-a", "A", Direction.OUT, "chemical.acid.hcl", 100.0, "t", lat=43.41, lon=4.81),
    Flow("F-a2", "A", Direction.OUT, "wood.pallet", 10.0, "t"),
    Flow("F-b", "B", Direction.IN, "chemical.acid.hcl", 80.0, "t"),
    Flow("F-c", "C", Direction.OUT, "wood.pallet", 12.0, "t"),
]


def _synergy(**kw) -> dict:
    base = {"id": "S-0001", "type": "substitution", "resource": "chemical.acid.hcl", "suppliers": [], "receivers": [],
            "quantity": 80.0, "unit": "t/year", "savings_eur": 1000.0, "co2_avoided_t": 2.0}
    return {**base, **kw}


def test_companies_are_points_with_their_flows() -> None:
    fc = territory_geojson([A, B, NOWHERE], FLOWS, [])
    assert fc["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f for f in fc["features"]}
    assert by_id["A"]["geometry"] == {"type": "Point", "coordinates": [4.8, 43.4]}  # GeoJSON is lon, lat
    assert by_id["A"]["properties"] == {"kind": "company", "id": "A", "name": "Alpha", "naf": "20.13B", "flows": 2,
                                        "resource_families": ["chemical", "wood"]}
    assert by_id["D"]["geometry"] is None and by_id["D"]["properties"]["flows"] == 0


def test_substitution_is_a_line_from_supplier_to_receiver() -> None:
    s = _synergy(suppliers=[{"company_id": "A", "flow_id": "F-a"}], receivers=[{"company_id": "B"}], status="studied")
    line = territory_geojson([A, B], FLOWS, [s])["features"][-1]
    # the supplier's flow has its own location, which wins over the company's
    assert line["geometry"] == {"type": "LineString", "coordinates": [[4.81, 43.41], [4.9, 43.5]]}
    assert line["properties"] == {"kind": "synergy", "id": "S-0001", "type": "substitution",
                                  "resource": "chemical.acid.hcl", "quantity": 80.0, "unit": "t/year",
                                  "savings_eur": 1000.0, "co2_avoided_t": 2.0, "status": "studied",
                                  "in_plan": True, "distance_km": None}
    two = _synergy(suppliers=[{"company_id": "A"}, {"company_id": "C"}], receivers=[{"company_id": "B"}])
    multi = territory_geojson([A, B, C], FLOWS, [two])["features"][-1]["geometry"]
    assert multi["type"] == "MultiLineString" and len(multi["coordinates"]) == 2


def test_mutualisation_follows_its_round_and_domain_objects_work_too() -> None:
    round_ = Synergy(
        id="S-0002", type=SynergyType.MUTUALISATION, resource="wood.pallet",
        suppliers=(Participant("A", "F-a2"), Participant("C", "F-c")), receivers=(), quantity=22.0, unit="t/year",
        distance_km=12.0, savings_eur=300.0, co2_avoided_t=0.5, score=0.7, rank=2, explanation="…",
        route=(RouteStop(None, 43.45, 4.84), RouteStop("A", 43.40, 4.80), RouteStop("C", 43.45, 4.85),
               RouteStop(None, 43.45, 4.84)),
    )
    feature = territory_geojson([A, C], FLOWS, [round_])["features"][-1]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"] == [[4.84, 43.45], [4.8, 43.4], [4.85, 43.45], [4.84, 43.45]]
    assert feature["properties"]["type"] == "mutualisation" and feature["properties"]["status"] == "proposed"
    # without a route, the participants in order
    bare = _synergy(id="S-0003", type="mutualisation", suppliers=[{"company_id": "A"}, {"company_id": "C"}])
    assert territory_geojson([A, C], FLOWS, [bare])["features"][-1]["geometry"]["coordinates"] == [[4.8, 43.4], [4.85, 43.45]]


def test_redact_rewrites_every_feature() -> None:
    seen = []

    def redact(feature: dict) -> dict:
        seen.append(feature["properties"]["kind"])
        return {**feature, "properties": {**feature["properties"], "name": "x"}}

    fc = territory_geojson([A, B], FLOWS, [_synergy(suppliers=[{"company_id": "A"}], receivers=[{"company_id": "B"}])],
                           redact=redact)
    assert seen == ["company", "company", "synergy"]
    assert {f["properties"]["name"] for f in fc["features"]} == {"x"}


@pytest.mark.parametrize(("current", "requested", "allowed"), [
    ("proposed", "contacted", True),
    ("proposed", "implemented", True),   # forward steps may be skipped
    ("studied", "contacted", False),     # never backward
    ("contacted", "contacted", False),   # not a move (a note alone is sent without a status change)
    ("implemented", "rejected", True),   # rejected from any status
    ("rejected", "proposed", False),     # rejected is final
    ("rejected", "contacted", False),
])
def test_follow_up_transitions(current: str, requested: str, allowed: bool) -> None:
    if allowed:
        check_transition(current, requested)
    else:
        with pytest.raises(TransitionRejected):
            check_transition(current, requested)


def test_a_group_purchase_is_its_members_not_a_round() -> None:
    s = _synergy(type="mutualisation", suppliers=[], receivers=[{"company_id": "A"}, {"company_id": "B"}], route=[])
    geometry = territory_geojson([A, B], FLOWS, [s])["features"][-1]["geometry"]
    assert geometry["type"] == "MultiPoint" and len(geometry["coordinates"]) == 2
