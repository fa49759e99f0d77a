"""Import into the database: one transaction, idempotent, nothing written on error."""

from pathlib import Path

import pytest
from sqlalchemy import select

from symbiose.services import import_diagnostic, list_territories
from symbiose.store import UnitOfWork
from symbiose.store.orm import Base

ROOT = Path(__file__).resolve().parents[1]
GOOD = (
    "id_entreprise;entreprise;sens;ressource;quantite;unite;frequence;code_postal;commune\n"
    "c1;Chlorochimie du Golfe;sortant;palettes bois;40;palette;mois;13270;Fos-sur-Mer\n"
    "c2;Aciérie de la Crau;entrant;wood.pallet;2;t;an;13310;Saint-Martin-de-Crau\n"
    "c3;Garage du Port;sortant;huiles moteur usagées;800;L;an;13110;Port-de-Bouc\n"
)


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, to compare a database before and after."""
    with UnitOfWork(url) as uow:
        out = {}
        for table in Base.metadata.sorted_tables:
            rows = uow.session.execute(select(table)).all()
            out[table.name] = sorted(tuple(map(str, r)) for r in rows)
        return out


def test_import_then_reimport_is_idempotent(db_url):
    with UnitOfWork(db_url) as uow:
        first = import_diagnostic(uow, GOOD.encode(), territory="fos", filename="d.csv")
    assert first.written and not first.errors
    assert first.created == {"companies": 3, "flows": 3}
    before = dump(db_url)
    with UnitOfWork(db_url) as uow:
        second = import_diagnostic(uow, GOOD.encode(), territory="fos", filename="d.csv")
    assert second.written
    assert second.created == {"companies": 0, "flows": 0}
    assert second.updated == {"companies": 0, "flows": 0}
    after = dump(db_url)
    assert {k: v for k, v in after.items() if k != "imports"} == {k: v for k, v in before.items() if k != "imports"}
    assert len(after["imports"]) == 2  # each import is recorded (hash, report, who, when)
    with UnitOfWork(db_url) as uow:
        assert list_territories(uow) == [{"code": "fos", "name": "fos", "companies": 3, "flows": 3, "synergies": 0}]


def test_changed_quantity_updates_in_place(db_url):
    with UnitOfWork(db_url) as uow:
        import_diagnostic(uow, GOOD.encode(), territory="fos")
    changed = GOOD.replace("huiles moteur usagées;800", "huiles moteur usagées;1600")
    with UnitOfWork(db_url) as uow:
        report = import_diagnostic(uow, changed.encode(), territory="fos")
    assert report.created["flows"] == 0 and report.updated["flows"] == 1


BAD_ROWS = {
    "bad quantity": ("c4;X;sortant;carton;beaucoup;t;an;13270;Fos-sur-Mer", "quantite", "quantity"),
    "unknown unit": ("c4;X;sortant;carton;3;brouettes;an;13270;Fos-sur-Mer", "unite", "unit"),
    "unknown postcode": ("c4;X;sortant;carton;3;t;an;99999;Nulle-part", "code_postal", "postcode"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_file_writes_nothing(db_url, case):
    with UnitOfWork(db_url) as uow:
        import_diagnostic(uow, GOOD.encode(), territory="fos")
    before = dump(db_url)
    row, column, _ = BAD_ROWS[case]
    bad = GOOD + row + "\n"
    with UnitOfWork(db_url) as uow:
        report = import_diagnostic(uow, bad.encode(), territory="fos")
    assert not report.written
    assert any(e.row == 5 and e.column == column for e in report.errors), report.errors
    assert dump(db_url) == before


def test_dry_run_counts_but_writes_nothing(db_url):
    before = dump(db_url)
    with UnitOfWork(db_url) as uow:
        report = import_diagnostic(uow, GOOD.encode(), territory="fos", dry_run=True)
    assert not report.written and report.created["flows"] == 3
    assert dump(db_url) == before


def test_missing_column_and_bad_latitude_write_nothing(sqlite_url):
    before = dump(sqlite_url)
    no_qty = "company_id,company_name,direction,resource,unit,lat,lon\nA,a,out,wood.pallet,t,43,5\n"
    bad_lat = "company_id,company_name,direction,resource,quantity,unit,lat,lon\nA,a,out,wood.pallet,1,t,43,5\nB,b,in,wood.pallet,1,t,200,5\n"
    with UnitOfWork(sqlite_url) as uow:
        r1 = import_diagnostic(uow, no_qty.encode(), territory="x")
        r2 = import_diagnostic(uow, bad_lat.encode(), territory="x")
    assert [(e.row, e.column) for e in r1.errors] == [(1, "quantity")]
    assert [(e.row, e.column) for e in r2.errors] == [(3, "lat")]
    assert dump(sqlite_url) == before


def diagnostics_in_datasets() -> list[Path]:
    files = []
    for folder in ("demo", "cases", "pooling"):
        files += sorted((ROOT / "datasets" / folder).rglob("*.csv"))
        files += sorted((ROOT / "datasets" / folder).rglob("*.xlsx"))
    return files


@pytest.mark.parametrize("path", diagnostics_in_datasets(), ids=lambda p: str(p.relative_to(ROOT / "datasets")))
def test_every_dataset_imports(sqlite_url, path):
    with UnitOfWork(sqlite_url) as uow:
        report = import_diagnostic(uow, path, territory="datasets")
    assert report.written, [e.as_text() for e in report.errors]
    assert report.flows > 0


BAD_FILES = {  # the column named as the file wrote it (a missing column: its canonical name)
    "bad_direction.csv": "sens",
    "bad_latitude.csv": "lat",
    "bad_quantity.csv": "quantite",
    "missing_column.csv": "quantity",
    "negative_quantity.csv": "quantite",
    "unknown_postcode.csv": "code_postal",
    "unknown_unit.csv": "unite",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_dataset_is_rejected_whole(sqlite_url, name):
    with UnitOfWork(sqlite_url) as uow:
        import_diagnostic(uow, GOOD.encode(), territory="fos")
    before = dump(sqlite_url)
    with UnitOfWork(sqlite_url) as uow:
        report = import_diagnostic(uow, ROOT / "datasets" / "bad" / name, territory="fos")
    assert not report.written
    assert [e.column for e in report.errors] == [BAD_FILES[name]]
    assert report.errors[0].row is not None and report.errors[0].code and "attendu" in report.errors[0].message
    assert dump(sqlite_url) == before


def test_over_long_values_are_row_errors_on_every_database(db_url):
    """Checked while reading: the same row errors on SQLite and PostgreSQL, even in a dry run; at the limit, stored."""
    header = "id_entreprise;entreprise;sens;ressource;quantite;unite;code_postal;commune\n"
    too_long = header + (
        f"{'1' * 129};a;sortant;carton;1;t;13270;Fos-sur-Mer\n"
        f"B;{'n' * 513};sortant;carton;1;t;13270;Fos-sur-Mer\n"
        f"C;c;sortant;carton;1;t;13270;{'v' * 129}\n"
    )
    for dry_run in (True, False):
        with UnitOfWork(db_url) as uow:
            report = import_diagnostic(uow, too_long.encode(), territory="fos", dry_run=dry_run)
        assert not report.written
        assert [(e.row, e.column, e.code) for e in report.errors] == [
            (2, "id_entreprise", "text.too_long"), (3, "entreprise", "text.too_long"), (4, "commune", "text.too_long"),
        ]
    at_limit = header + f"{'2' * 128};{'n' * 512};sortant;carton;1;t;13270;Fos-sur-Mer\n"
    with UnitOfWork(db_url) as uow:
        report = import_diagnostic(uow, at_limit.encode(), territory="fos")
    assert report.written, report.errors


def test_a_correction_survives_a_reimport(db_url):
    from symbiose.services.review import correct, review_flows

    text = GOOD + "c4;Atelier;sortant;xqzzv bidules;3;t;an;13270;Fos-sur-Mer\n"
    with UnitOfWork(db_url) as uow:
        first = import_diagnostic(uow, text.encode(), territory="fos")
    assert [c["code"] for c in first.classified if c["text"] == "xqzzv bidules"] == ["unknown"]
    with UnitOfWork(db_url) as uow:
        assert [i["text"] for i in review_flows(uow, "fos").items] == ["xqzzv bidules"]
        done = correct(uow, "fos", code="wood.pallet", text="Xqzzv Bidules", actor="test:animatrice")
    assert len(done.flows_updated) == 1 and done.correction["actor"] == "test:animatrice"
    before = dump(db_url)
    with UnitOfWork(db_url) as uow:
        again = import_diagnostic(uow, text.encode(), territory="fos")
        assert review_flows(uow, "fos").total == 0
    assert [(c["code"], c["source"]) for c in again.classified if c["text"] == "xqzzv bidules"] == [("wood.pallet", "correction")]
    assert again.created == {"companies": 0, "flows": 0} and again.updated == {"companies": 0, "flows": 0}
    after = dump(db_url)
    assert {k: v for k, v in after.items() if k != "imports"} == {k: v for k, v in before.items() if k != "imports"}
