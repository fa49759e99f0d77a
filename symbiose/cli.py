"""The ``symbiose`` command (``cli.md``): a thin typer adapter over the services.

Exit status: 0 done (warnings allowed), 1 input rejected (every blocking
problem on stderr as ``row R, column C: found V, expected …``, nothing
written), 2 wrong usage.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from symbiose.cli_text import french_app, install as install_french_texts
from symbiose.domain import Issue

install_french_texts()
app = french_app(
    name="symbiose",
    help="symbiose — moteur d'écologie industrielle et territoriale : diagnostics de flux, synergies, rapports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
territory_app = french_app(help="Territoires (un territoire = un parc, une zone, un programme).", no_args_is_help=True)
apikey_app = french_app(help="Clés d'accès à l'API HTTP.", no_args_is_help=True)
app.add_typer(territory_app, name="territory")
app.add_typer(apikey_app, name="apikey")

# piped to a file or a log, lines are not limited to 80 columns (rich's default off a terminal)
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DbOption = Annotated[str | None, typer.Option("--db", help="URL de la base (sinon SYMBIOSE_DATABASE_URL, sinon SQLite dans le dossier de données de l'utilisateur).")]
REPO_DATASETS = Path(__file__).resolve().parents[1] / "datasets"
DEMO_FILE = REPO_DATASETS / "demo" / "diagnostic.csv"
DEMO_TERRITORY = "fos-demo"
DEMO_NAME = "ZI de Fos — Étang de Berre (démo)"


def _uow(db: str | None):
    from symbiose.store import UnitOfWork

    return UnitOfWork(db)


@contextmanager
def progress_bar(description: str) -> Iterator:
    """A rich progress callback ``(done, total)`` on a terminal; quiet otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def format_issue(issue: Issue) -> str:
    """``row R, column C: found V, expected …`` (the CLI contract's error line)."""
    parts = []
    if issue.row is not None:
        parts.append(f"row {issue.row}")
    if issue.column:
        parts.append(f"column {issue.column}")
    found = repr(issue.value) if issue.value not in (None, "") else "nothing"
    message = issue.message if issue.message.startswith("expected") else f"expected a valid value ({issue.message})"
    return f"{', '.join(parts) or 'file'}: found {found}, {message}"


def _reject(errors, *, summary: bool = True) -> None:
    """Every blocking problem on stderr, one unwrapped line each, then exit 1."""
    for issue in errors:
        print(format_issue(issue), file=sys.stderr)
    if summary:
        err.print(f"{len(errors)} erreur(s) bloquante(s) : rien n'a été écrit.", style="bold red")
    raise typer.Exit(1)


def _check_file(path: Path) -> None:
    if not path.is_file():
        err.print(f"fichier introuvable : {path}", markup=False)
        raise typer.Exit(2)


# --------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(metavar="FICHIER", help="Diagnostic de flux, CSV ou XLSX.")],
    territory: Annotated[str, typer.Option("--territory", help="Code du territoire (créé s'il est nouveau).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vérifier seulement, ne rien écrire.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le rapport d'import en JSON.")] = False,
    name: Annotated[str | None, typer.Option("--name", metavar="NOM", help="Nom d'un nouveau territoire (sinon : d'après la commune de la plupart de ses entreprises).")] = None,
    db: DbOption = None,
) -> None:
    """Importer un diagnostic de flux dans un territoire."""
    from symbiose.services import import_diagnostic

    _check_file(file)
    try:
        with _uow(db) as uow, progress_bar("Import") as progress:
            report = import_diagnostic(uow, file, territory=territory, dry_run=dry_run, actor="cli", progress=progress)
        if report.written:
            from symbiose.services.territories import name_if_unnamed

            with _uow(db) as uow:
                named = name_if_unnamed(uow, territory, name)
            if named and not as_json:
                out.print(f"Territoire nommé : {territory} — {named} (symbiose territory rename pour changer)",
                          highlight=False, markup=False)
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_import(report)
    if report.errors:
        _reject(report.errors, summary=not as_json)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 entreprise``, ``0 entreprise``, ``2 entreprises`` (French: singular below 2)."""
    return f"{n} {word if abs(n) < 2 else (words or word + 's')}"


def _print_import(report) -> None:
    from symbiose.explain import format as fr
    from symbiose.explain.issues import issue_fr

    if report.errors:
        out.print(f"[bold red]Diagnostic refusé[/] — territoire [cyan]{report.territory}[/] : rien n'a été écrit.")
    else:
        verb = "vérifié (rien n'a été écrit)" if report.dry_run else "importé"
        out.print(f"[bold]Diagnostic {verb}[/] — territoire [cyan]{report.territory}[/] : "
                  f"{plural(report.companies, 'entreprise')}, {report.flows} flux.")
        would = "Seraient créés" if report.dry_run else "Créés"
        changed = "seraient mis à jour" if report.dry_run else "mis à jour"
        out.print(f"{would} : {plural(report.created['companies'], 'entreprise')}, {report.created['flows']} flux ; "
                  f"{changed} : {plural(report.updated['companies'], 'entreprise')}, {report.updated['flows']} flux.")
    if report.classified:
        table = Table(title="Classification des libellés", show_lines=False)
        for col in ("ligne", "texte", "code", "confiance"):
            table.add_column(col)
        for c in report.classified:
            table.add_row(str(c["row"]), c["text"], c["code"], fr.number(c["confidence"], 2))
        out.print(table)
    for w in report.warnings:
        where = ", ".join(x for x in (f"ligne {w.row}" if w.row else "", f"colonne {w.column}" if w.column else "") if x)
        out.print(f"[yellow]attention[/] {where + ' : ' if where else ''}{issue_fr(w)}", highlight=False)


# --------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------


@app.command("classify")
def classify_cmd(
    texts: Annotated[list[str], typer.Argument(metavar="TEXTE", help="Libellés de ressources en texte libre.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,  # accepted on every command (cli.md); classification reads no database
) -> None:
    """Classer des libellés libres dans la taxonomie des ressources."""
    from symbiose.classify import get_classifier
    from symbiose.explain import format as fr

    clf = get_classifier()
    results = [clf.classify(t) for t in texts]
    if as_json:
        print(json.dumps([
            {"text": r.text, "code": r.code, "label": r.label, "confidence": round(r.confidence, 3),
             "alternatives": [{"code": c, "confidence": round(p, 3)} for c, p in r.alternatives]}
            for r in results
        ], ensure_ascii=False, indent=2))
        return
    table = Table(title="Classification")
    for col in ("texte", "code", "libellé", "confiance", "alternatives"):
        table.add_column(col)
    for r in results:
        alts = ", ".join(f"{c} ({fr.number(p, 2)})" for c, p in r.alternatives)
        table.add_row(r.text, r.code, r.label, fr.number(r.confidence, 2), alts)
    out.print(table)


# --------------------------------------------------------------------------
# match
# --------------------------------------------------------------------------


@app.command("match")
def match_cmd(
    file: Annotated[Path | None, typer.Argument(metavar="FICHIER", help="Diagnostic à apparier, sans base de données.")] = None,
    territory: Annotated[str | None, typer.Option("--territory", help="Apparier les flux enregistrés d'un territoire.")] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Écrire le JSON des synergies dans ce fichier ('-' : sortie standard).")] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Garder les N meilleures synergies.")] = None,
    graph: Annotated[Path | None, typer.Option("--graph", help="Écrire aussi le graphe des flux (.graphml ou .json) pour les analystes.")] = None,
    db: DbOption = None,
) -> None:
    """Trouver les synergies de substitution et de mutualisation."""
    from symbiose.report.synergy_json import result_to_dict
    from symbiose.services.runs import InputRejected, match_file, run_match

    if (file is None) == (territory is None):
        err.print("indiquez soit un FICHIER, soit --territory CODE")
        raise typer.Exit(2)
    with progress_bar("Appariement") as progress:
        if file is not None:
            _check_file(file)
            try:
                result = match_file(file, progress=progress)
            except InputRejected as exc:
                _reject(exc.errors)
        else:
            from symbiose.services.territories import TerritoryNotFound

            try:
                with _uow(db) as uow:
                    run_id, result = run_match(uow, territory, actor="cli", progress=progress)
            except TerritoryNotFound:
                err.print(f"territoire inconnu : {territory!r} (voir symbiose territory list)", markup=False)
                raise typer.Exit(2) from None
            if result is None:
                err.print(f"l'appariement n° {run_id} a échoué (voir le message ci-dessus)", markup=False)
                raise typer.Exit(1)
    if graph is not None:
        from symbiose.services.runs import export_flow_graph, load_diagnostic

        if file is not None:
            from symbiose.services import read_file

            diagnostic = read_file(file, territory=result.territory).diagnostic
        else:
            with _uow(db) as uow:
                diagnostic = load_diagnostic(uow, territory)
        export_flow_graph(diagnostic, result, graph)
    doc = result_to_dict(result)
    if top is not None:
        doc["synergies"] = doc["synergies"][:top]
    if json_out == "-":
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    print_summary(doc, top or 15)
    if json_out:
        out.print(f"JSON écrit : {json_out}")
    if graph is not None:
        out.print(f"Graphe des flux écrit : {graph}")


def print_summary(doc: dict, top: int = 15) -> None:
    """A short French summary and the best synergies."""
    from symbiose.explain import format as fr

    s = doc["summary"]
    out.print(
        f"[bold]{doc['territory']}[/] : {plural(s['companies'], 'entreprise')}, {s['flows']} flux, "
        f"{plural(s['candidates'], 'piste examinée', 'pistes examinées')} ; "
        f"[green]{plural(s['synergies'], 'synergie retenue', 'synergies retenues')}[/] — {fr.euros(s['savings_eur'])}/an économisés, "
        f"{fr.smart_number(s['tonnes_diverted'])} t détournées, {fr.tco2(s['co2_avoided_t'])} évitées par an.",
        highlight=False,
        soft_wrap=True,  # numbers carry narrow no-break spaces: never break inside one
    )
    from symbiose.taxonomy import get_taxonomy

    labels = get_taxonomy().resources
    kinds = {"substitution": "subst.", "mutualisation": "mutual."}
    table = Table(show_lines=False)
    table.add_column("rang", justify="right", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("ressource", overflow="ellipsis", no_wrap=True, max_width=40)
    for col in ("quantité/an", "km", "€/an", "tCO₂e/an", "score"):
        table.add_column(col, justify="right", no_wrap=True)
    for syn in doc["synergies"][:top]:
        unit = syn["unit"].removesuffix("/year")
        resource = labels[syn["resource"]].label_fr if syn["resource"] in labels else syn["resource"]
        table.add_row(str(syn["rank"]), kinds.get(syn["type"], syn["type"]), resource,
                      f"{fr.smart_number(syn['quantity'])} {unit}", fr.smart_number(syn["distance_km"]),
                      fr.number(syn["savings_eur"]), fr.smart_number(syn["co2_avoided_t"]), fr.number(syn["score"], 2))
    out.print(table)


# --------------------------------------------------------------------------
# territory, apikey, serve
# --------------------------------------------------------------------------


@territory_app.command("list")
def territory_list(as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
    """Lister les territoires et leurs effectifs."""
    from symbiose.services import list_territories

    with _uow(db) as uow:
        rows = list_territories(uow)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Territoires")
    for col in ("code", "nom", "entreprises", "flux", "synergies"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["code"], r["name"], str(r["companies"]), str(r["flows"]), str(r["synergies"]))
    out.print(table)


@territory_app.command("create")
def territory_create(
    code: Annotated[str, typer.Argument(metavar="CODE", help="Code du territoire (minuscules, chiffres, - ou _).")],
    name: Annotated[str, typer.Option("--name", metavar="NOM", help="Nom du territoire, tel qu'il s'affiche.")],
    db: DbOption = None,
) -> None:
    """Créer un territoire avec son nom."""
    from symbiose.services.territories import TerritoryExists, create_territory

    try:
        with _uow(db) as uow:
            row = create_territory(uow, code, name)
            out.print(f"Territoire créé : {row.code} — {row.name}", highlight=False, markup=False)
    except TerritoryExists:
        err.print(f"le territoire {code!r} existe déjà (pour changer son nom : symbiose territory rename {code} "
                  "--name …)", markup=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None


@territory_app.command("rename")
def territory_rename(
    code: Annotated[str, typer.Argument(metavar="CODE", help="Code du territoire.")],
    name: Annotated[str, typer.Option("--name", metavar="NOM", help="Nouveau nom du territoire.")],
    db: DbOption = None,
) -> None:
    """Changer le nom d'un territoire (son code ne change pas)."""
    from symbiose.services.territories import TerritoryNotFound, rename_territory

    try:
        with _uow(db) as uow:
            row = rename_territory(uow, code, name)
            out.print(f"Territoire renommé : {row.code} — {row.name}", highlight=False, markup=False)
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {code!r} (voir symbiose territory list)", markup=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None


@app.command("template")
def template_cmd(
    out_file: Annotated[Path, typer.Option("--out", metavar="FICHIER.xlsx", help="Où écrire le modèle.")] = Path("diagnostic-modele.xlsx"),
) -> None:
    """Écrire le modèle XLSX de diagnostic de flux (listes déroulantes, ligne d'exemple, notice)."""
    from symbiose.report.template import write_template

    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_template(out_file)
    out.print(f"Modèle écrit : {out_file}", highlight=False, markup=False)


@apikey_app.command("create")
def apikey_create(
    territory: Annotated[str, typer.Option("--territory", metavar="CODE", help="Code du territoire.")],
    role: Annotated[str, typer.Option("--role", metavar="RÔLE", help="admin, animateur (animator) ou portail (portal).")],
    label: Annotated[str | None, typer.Option("--label", metavar="TEXTE", help="Libellé de la clé (qui l'utilise).")] = None,
    db: DbOption = None,
) -> None:
    """Créer une clé d'API (affichée une seule fois ; seule son empreinte est conservée)."""
    from symbiose.explain.validation import role_code
    from symbiose.services import create_api_key

    code = role_code(role)
    if code is None:
        err.print(f"rôle invalide : {role!r} ; attendu admin, animateur (animator) ou portail (portal)", markup=False)
        raise typer.Exit(2)
    role = code
    from symbiose.services.territories import TerritoryNotFound

    try:
        with _uow(db) as uow:
            key = create_api_key(uow, territory, role, label)
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {territory!r} — importez d'abord un diagnostic (symbiose import … --territory {territory}) "
                  "ou créez le territoire avec une clé admin", markup=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    print(key)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    db: DbOption = None,
) -> None:
    """Servir l'API HTTP et les pages web (uvicorn)."""
    import uvicorn

    if db:
        os.environ["SYMBIOSE_DATABASE_URL"] = db
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_level="info")


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


@app.command("report")
def report_cmd(
    file: Annotated[Path | None, typer.Argument(metavar="FICHIER", help="Diagnostic à analyser, sans base de données.")] = None,
    territory: Annotated[str | None, typer.Option("--territory", help="Dernière analyse d'un territoire enregistré.")] = None,
    all_territories: Annotated[bool, typer.Option("--all", help="Tous les territoires : un dossier chacun et un index.html.")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Dossier où écrire les rapports.")] = None,
    db: DbOption = None,
) -> None:
    """Écrire le rapport HTML, le classeur XLSX, le GeoJSON et le JSON des synergies."""
    from symbiose.services import reports
    from symbiose.services.runs import InputRejected
    from symbiose.services.territories import TerritoryNotFound

    if sum((file is not None, territory is not None, all_territories)) != 1:
        err.print("indiquez exactement un de : FICHIER, --territory CODE ou --all", markup=False)
        raise typer.Exit(2)
    if out_dir is None:
        err.print("option --out DOSSIER manquante", markup=False)
        raise typer.Exit(2)
    if file is not None:
        _check_file(file)
        with progress_bar("Appariement") as progress:
            try:
                paths = reports.write_file_report_set(file, out_dir, progress=progress)
            except InputRejected as exc:
                _reject(exc.errors)
    elif territory is not None:
        try:
            with _uow(db) as uow:
                paths = reports.write_report_set(uow, territory, out_dir)
        except TerritoryNotFound:
            err.print(f"territoire inconnu : {territory!r} (voir symbiose territory list)", markup=False)
            raise typer.Exit(2) from None
        except reports.NoFinishedRun:
            err.print(f"le territoire {territory!r} n'a pas encore d'analyse terminée : "
                      f"lancez d'abord `symbiose match --territory {territory}`", markup=False)
            raise typer.Exit(2) from None
    else:
        with _uow(db) as uow, progress_bar("Rapports") as progress:
            batch = reports.write_all_report_sets(uow, out_dir, progress=progress)
        out.print(f"[bold]{len(batch.written)} rapport(s) écrit(s)[/], {len(batch.skipped)} territoire(s) sans analyse terminée.")
        for code, reason in batch.skipped.items():
            out.print(f"  {code} : {reason}", highlight=False, markup=False)
        out.print(f"Index : {batch.index}", highlight=False, markup=False)
        return
    out.print("[bold]Fichiers écrits :[/]")
    for kind, path in paths.items():
        out.print(f"  {kind:10} {path}", highlight=False, markup=False)


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------


@app.command("demo")
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier où écrire les rapports.")] = Path("symbiose-demo"),
    db: DbOption = None,
) -> None:
    """Tout le parcours sur le territoire de démonstration fourni (import, appariement, rapports)."""
    from symbiose.services import import_diagnostic, run_match
    from symbiose.services.reports import write_report_set

    if not DEMO_FILE.is_file():
        err.print(f"données de démonstration introuvables : {DEMO_FILE}", markup=False)
        raise typer.Exit(2)
    with _uow(db) as uow, progress_bar("Import") as progress:
        report = import_diagnostic(uow, DEMO_FILE, territory=DEMO_TERRITORY, actor="demo", progress=progress)
        if report.errors:
            _reject(report.errors)
        from symbiose.services.territories import get_territory

        t = get_territory(uow, DEMO_TERRITORY)
        if t.name != DEMO_NAME:
            t.name = DEMO_NAME
            uow.commit()
    out.print(f"Import : {report.companies} entreprises, {report.flows} flux "
              f"({len(report.warnings)} avertissements, {sum(1 for c in report.classified if c['code'] != 'unknown')} libellés classés).")
    with _uow(db) as uow, progress_bar("Appariement") as progress:
        run_id, result = run_match(uow, DEMO_TERRITORY, actor="demo", progress=progress)
    if result is None:
        err.print(f"l'appariement n° {run_id} a échoué (voir le message ci-dessus)")
        raise typer.Exit(1)
    with _uow(db) as uow:
        paths = write_report_set(uow, DEMO_TERRITORY, out_dir)
    from symbiose.report.synergy_json import result_to_dict

    print_summary(result_to_dict(result), 10)
    out.print("[bold]Fichiers écrits :[/]")
    for kind, path in paths.items():
        out.print(f"  {kind:10} {path}", highlight=False)


def main() -> None:
    try:
        app()
    except OSError as exc:  # an output folder that cannot be written, a file that vanished...
        where = f" : {exc.filename}" if exc.filename else ""
        print(f"opération impossible{where} ({exc.strerror or exc})", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
