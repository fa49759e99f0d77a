"""The review service on SQLite and PostgreSQL: a correction re-derives the
flow as an import would, reaches every flow of the same text, skips those
the code cannot count, and accepting takes the top guess."""

import pytest
from sqlalchemy import select

from symbiose.domain import flow_key
from symbiose.ingest import read_diagnostic
from symbiose.services import import_diagnostic
from symbiose.services.review import InvalidCorrection, accept, correct, list_corrections, review_flows, search_codes
from symbiose.store import UnitOfWork
from symbiose.store.orm import FlowRow

DIAGNOSTIC = (
    "siret;entreprise;sens;ressource;quantite;unite;frequence;code_postal;cout_unitaire;code_dechet\n"
    "a1;Atelier A;sortant;xqzzv bidules;40;palette;mois;13270;2;\n"
    "b1;Atelier B;sortant;Xqzzv, bidules;3;t;an;13270;;\n"
    "c1;Atelier C;sortant;XQZZV bidules;5;MWh;an;13270;;\n"
    "d1;Boulangerie;sortant;;4;t;an;13270;;02 03 04\n"
)


def _flows(url: str) -> dict[str, FlowRow]:
    with UnitOfWork(url) as uow:
        rows = uow.session.scalars(select(FlowRow)).all()
        return {r.text: (r.uid, r.resource, r.quantity, r.unit, r.confidence, r.cost_eur_per_unit) for r in rows}


def test_a_correction_reaches_every_flow_of_the_text_as_an_import_would(db_url):
    with UnitOfWork(db_url) as uow:
        assert import_diagnostic(uow, DIAGNOSTIC.encode(), territory="zt").written
    with UnitOfWork(db_url) as uow:
        assert review_flows(uow, "zt").total == 3  # the EWC-only row is mapped by the taxonomy: confident
        assert "d1" not in {i["company_id"] for i in review_flows(uow, "zt").items}
        a1 = next(i for i in review_flows(uow, "zt").items if i["company_id"] == "a1")
        done = correct(uow, "zt", code="wood.pallet", flow_id=a1["flow_id"], actor="test")
    assert len(done.flows_updated) == 2
    assert [s["reason"] for s in done.flows_skipped] == ["wood.pallet ne se compte pas en MWh"]
    # the same flows as an import of the file with the code written as such
    expected = read_diagnostic(DIAGNOSTIC.replace(";xqzzv bidules;", ";wood.pallet;").replace(";Xqzzv, bidules;", ";wood.pallet;")
                               .encode(), territory="zt")
    want = {f.company_id: f for f in expected.diagnostic.flows if f.resource == "wood.pallet"}
    got = _flows(db_url)
    for text, company in (("xqzzv bidules", "a1"), ("Xqzzv, bidules", "b1")):
        uid, resource, quantity, unit, confidence, cost = got[text]
        assert (resource, unit, confidence) == ("wood.pallet", want[company].unit, 1.0)
        assert quantity == pytest.approx(want[company].quantity)
        assert uid == flow_key(company, "out", "wood.pallet", text)  # the id follows the code, as a re-import computes it
    assert got["xqzzv bidules"][5] == pytest.approx(want["a1"].cost_eur_per_unit)
    assert got["XQZZV bidules"][1] == "unknown"  # MWh: left as it was
    with UnitOfWork(db_url) as uow:
        assert [c["text"] for c in list_corrections(uow, "zt").items] == ["xqzzv bidules"]
        c1 = next(i for i in review_flows(uow, "zt").items if i["company_id"] == "c1")
        with pytest.raises(InvalidCorrection, match="ne se compte pas en MWh"):
            correct(uow, "zt", code="wood.pallet", flow_id=c1["flow_id"])
        with pytest.raises(InvalidCorrection, match="Aucune proposition"):
            accept(uow, "zt", c1["flow_id"])
        # accepting the top guess works for any flow, here the EWC-only one (keyed by its code)
        d1_uid, d1_code = _flows(db_url)[""][0], _flows(db_url)[""][1]
        done = accept(uow, "zt", d1_uid, actor="test")
    assert done.correction["text"] == "EWC 020304" and done.correction["code"]
    assert _flows(db_url)[""][1:5:3] == (done.correction["code"], 1.0)
    assert d1_code  # it had a code before: accepting confirmed the classifier's reading
    with UnitOfWork(db_url) as uow:
        assert [i["company_id"] for i in review_flows(uow, "zt").items] == ["c1"]


def test_search_codes_reads_french():
    assert search_codes("palettes")[0]["code"].startswith("wood.pallet")
    assert "paper.cardboard" in [c["code"] for c in search_codes("cartons")]
    assert search_codes("   ") == []
