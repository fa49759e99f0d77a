"""``symbiose prediagnostic`` and ``symbiose visit`` (``cli.md`` v2): thin adapters
over :mod:`symbiose.services.prediagnostic`, registered on the main app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from symbiose.cli import DbOption, _check_file, _reject, _uow, app, err, out, plural

PREDIAG_DIR = Path(__file__).resolve().parents[1] / "datasets" / "prediagnostic"
DEMO_FIRMS = PREDIAG_DIR / "etablissements.csv"


def print_visits(firms: list[dict], top: int) -> None:
    """The head of the visit list, in French."""
    from symbiose.explain import format as fr

    ranked = [f for f in firms if f.get("visit_rank")]
    if not ranked:
        out.print("Aucune entreprise à visiter : toutes ont déjà des flux déclarés.")
        return
    table = Table(title="Entreprises à rencontrer en priorité", show_lines=False)
    table.add_column("rang", justify="right", no_wrap=True)
    table.add_column("entreprise", overflow="ellipsis", max_width=36)
    table.add_column("NAF", no_wrap=True)
    table.add_column("valeur attendue €/an", justify="right", no_wrap=True)
    table.add_column("pourquoi", overflow="fold")
    for f in ranked[:top]:
        table.add_row(str(f["visit_rank"]), f["name"], f.get("naf") or "", fr.number(f["expected_value_eur"]), f["reason"])
    out.print(table)


def _print_warnings(warnings) -> None:
    from symbiose.prediagnostic.messages import prediag_fr

    for w in warnings:
        where = ", ".join(x for x in (f"ligne {w.row}" if w.row else "", f"colonne {w.column}" if w.column else "") if x)
        out.print(f"[yellow]attention[/] {where + ' : ' if where else ''}{prediag_fr(w)}", highlight=False)


@app.command("prediagnostic")
def prediagnostic_cmd(
    file: Annotated[Path, typer.Argument(help="Liste d'établissements type SIRENE (CSV ou XLSX) : SIRET, raison sociale, NAF, tranche d'effectif, adresse.")],
    territory: Annotated[str, typer.Option("--territory", help="Code du territoire (créé s'il est nouveau).")],
    json_out: Annotated[str | None, typer.Option("--json", help="Écrire les flux probables et le classement en JSON (- pour la sortie standard).")] = None,
    top: Annotated[int, typer.Option("--top", help="Nombre d'entreprises affichées.")] = 15,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Calculer sans rien écrire.")] = False,
    db: DbOption = None,
) -> None:
    """Pré-diagnostic déductif : flux probables de chaque entreprise selon son secteur et sa taille, et qui visiter d'abord."""
    from symbiose.services.prediagnostic import run_prediagnostic

    _check_file(file)
    try:
        with _uow(db) as uow:
            report = run_prediagnostic(uow, file, territory=territory, actor="cli", dry_run=dry_run)
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    if report.errors:
        _reject(report.errors)
    doc = {"firms": [{k: f[k] for k in ("company_id", "naf", "probable_flows", "visit_rank", "reason")}
                     | {"name": f["name"], "expected_value_eur": f["expected_value_eur"]} for f in report.firms],
           "territory": territory, "warnings": report.to_dict()["warnings"],
           "probable_synergies": report.probable_synergies}
    if json_out == "-":
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if json_out:
        Path(json_out).write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    n_flows = sum(len(f["probable_flows"]) for f in report.firms)
    verb = "calculé (rien n'a été écrit)" if dry_run else "enregistré"
    out.print(f"[bold]Pré-diagnostic {verb}[/] — territoire [cyan]{territory}[/] : "
              f"{plural(len(report.firms), 'entreprise')}, {plural(n_flows, 'flux probable', 'flux probables')} "
              f"(à confirmer lors des visites ; ils ne comptent dans aucun total).", highlight=False)
    _print_warnings(report.warnings)
    print_visits(report.firms, top)
    if json_out:
        out.print(f"JSON : {json_out}", highlight=False, markup=False)


@app.command("visit")
def visit_cmd(
    flow_id: Annotated[str, typer.Argument(help="Identifiant du flux probable (P-…), voir GET /flows?status=probable.")],
    territory: Annotated[str, typer.Option("--territory", help="Code du territoire.")],
    quantity: Annotated[float | None, typer.Option("--quantity", help="Quantité constatée à la visite.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unité (t, kg, m3, L, MWh, kWh, GJ, unit).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="year, month, week, day (défaut : year).")] = None,
    absent: Annotated[bool, typer.Option("--absent", help="La visite montre que l'entreprise n'a pas ce flux.")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Remarque gardée dans la trace.")] = None,
    db: DbOption = None,
) -> None:
    """Confirmer à la visite un flux probable (il devient déclaré) ou l'écarter, en gardant la trace."""
    from symbiose.explain import format as fr
    from symbiose.services.prediagnostic import VisitError, confirm_visit
    from symbiose.services.territories import TerritoryNotFound

    try:
        with _uow(db) as uow:
            done = confirm_visit(uow, territory, flow_id, quantity=quantity, unit=unit, period=period,
                                 exists=not absent, note=note, actor="cli")
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {territory!r}", markup=False)
        raise typer.Exit(2) from None
    except VisitError as exc:
        err.print(f"{exc.field} : {exc.value!r} — {exc.message}", markup=False)
        raise typer.Exit(1) from None
    guess = done["probable"]
    said = f"{fr.smart_number(guess.get('quantity_low') or 0)} à {fr.smart_number(guess.get('quantity_high') or 0)} {guess.get('unit')}/an"
    if absent:
        out.print(f"Flux {flow_id} écarté (prévu : {said}, probabilité {fr.number(guess.get('probability') or 0, 2)}).", highlight=False)
    else:
        d = done["declared"]
        out.print(f"Flux {flow_id} confirmé : {fr.quantity(d['quantity'], d['unit'])} déclarés "
                  f"(prévu : {said}) ; nouvel identifiant {d['flow_id']}.", highlight=False)


def demo_prediagnostic(db: str | None, territory: str) -> list[dict]:
    """``symbiose demo``'s pre-diagnostic: the bundled firm list of the demo park; returns its firms."""
    from symbiose.services.prediagnostic import run_prediagnostic

    if not DEMO_FIRMS.is_file():
        err.print(f"liste d'établissements de démonstration introuvable : {DEMO_FIRMS}", markup=False)
        raise typer.Exit(2)
    with _uow(db) as uow:
        report = run_prediagnostic(uow, DEMO_FIRMS, territory=territory, actor="demo")
    if report.errors:
        _reject(report.errors)
    n_flows = sum(len(f["probable_flows"]) for f in report.firms)
    out.print(f"Pré-diagnostic : {plural(len(report.firms), 'entreprise')} pas encore visitées, "
              f"{n_flows} flux probables (à confirmer lors des visites).", highlight=False)
    return report.firms
