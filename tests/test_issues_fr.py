"""Every problem the importer reports has a French wording for the pages."""

from pathlib import Path

from symbiose.explain.issues import message_fr
from symbiose.ingest import read_diagnostic

ROOT = Path(__file__).resolve().parents[1]
MESSY = (
    "company_id,company_name,direction,resource,quantity,unit,period,lat,lon,postcode,ewc,naf,hazardous,months,couleur\n"
    "A,a,out,wood.pallet,beaucoup,t,an,43,5,,,,,,\n"
    "A,a,sideways,wood.pallet,-1,brouettes,parfois,200,5,,15 01,99,peut-être,13-14,\n"
    ",,out,,1,t,an,,,99999,,,,,\n"
    "B,b,out,xqzzv,0,t,an,43,5,,999999,,,,bleu\n"
    "B,c,out,xqzzv,0,t,an,43,,,,,,,\n"
    "C,c,out,wood.pallet,1,t,an,,,7500,,,,,\n"
)


def test_every_importer_message_is_translated():
    messages = set()
    for data in [MESSY.encode(), b"", b"\xff\xfe\x00garbage", b"a,b\n1,2\n"]:
        p = read_diagnostic(data, territory="t")
        messages |= {i.message for i in (*p.errors, *p.warnings)}
    for path in sorted((ROOT / "datasets").rglob("*.csv")):
        p = read_diagnostic(path, territory="t")
        messages |= {i.message for i in (*p.errors, *p.warnings)}
    assert len(messages) > 15
    untranslated = sorted(m for m in messages if message_fr(m) == m)
    assert untranslated == []


def test_templated_messages_keep_their_values():
    assert message_fr("expected a number ≥ 0") == "attendu : un nombre supérieur ou égal à 0"
    assert message_fr("same company, direction, resource and label as row 12: quantities added").endswith("ligne 12 : quantités additionnées")
    assert message_fr("something new") == "something new"
