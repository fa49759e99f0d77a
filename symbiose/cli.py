"""The ``symbiose`` command (``cli.md``): a thin typer adapter over the services.

Exit status: 0 done (warnings allowed), 1 input rejected (every blocking
problem on stderr as ``ligne R, colonne C : « V » trouvé, … attendu``, nothing
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
region_app = french_app(help="Régions : plusieurs territoires appariés ensemble.", no_args_is_help=True)
apikey_app = french_app(help="Clés d'accès à l'API HTTP.", no_args_is_help=True)
app.add_typer(territory_app, name="territory")
app.add_typer(apikey_app, name="apikey")
app.add_typer(region_app, name="region")

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
    """``ligne R, colonne C : « V » trouvé, … attendu`` (the CLI contract's error line, in French)."""
    from symbiose.explain.issues import issue_line

    return issue_line(issue) or "erreur"


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
    except ValueError:  # the territory code (checked before the file is read)
        from symbiose.explain.issues import issue, issue_line

        err.print("--territory : " + issue_line(issue("territory.invalid", value=territory)), markup=False)
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
# review
# --------------------------------------------------------------------------


def _who(by: str | None) -> str:
    import getpass

    try:
        user = by or getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = by or "inconnu"
    return f"cli:{user}"[:128]


def _split_pair(value: str, option: str) -> tuple[str, str]:
    left, sep, right = value.rpartition("=")
    if not sep or not left.strip() or not right.strip():
        err.print(f"{option} attend la forme GAUCHE=CODE (reçu : {value!r})", markup=False)
        raise typer.Exit(2)
    return left.strip(), right.strip()


@app.command("review")
def review_cmd(
    territory: Annotated[str, typer.Option("--territory", help="Code du territoire à revoir.")],
    accept: Annotated[list[str] | None, typer.Option("--accept", metavar="FLOW_ID", help="Accepter la première proposition pour ce flux (répétable).")] = None,
    set_flow: Annotated[list[str] | None, typer.Option("--set", metavar="FLOW_ID=CODE", help="Donner ce code à ce flux (répétable).")] = None,
    set_text: Annotated[list[str] | None, typer.Option("--set-text", metavar="TEXTE=CODE", help="Donner ce code à ce libellé, pour tous ses flux et les imports suivants (répétable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Liste (ou corrections faites) en JSON.")] = False,
    interactive: Annotated[bool | None, typer.Option("--interactive/--no-interactive", help="Revoir flux par flux (par défaut sur un terminal, sans action ni --json).")] = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Page de la liste (à partir de 1).")] = 1,
    size: Annotated[int, typer.Option("--size", min=1, max=500, help="Flux par page.")] = 50,
    by: Annotated[str | None, typer.Option("--by", help="Qui corrige (enregistré avec la correction ; par défaut l'utilisateur).")] = None,
    db: DbOption = None,
) -> None:
    """Revoir les flux non reconnus ou classés avec une confiance faible, et les corriger."""
    from symbiose.services.queries import NotFound
    from symbiose.services.review import InvalidCorrection, review_flows
    from symbiose.services.review import accept as accept_guess
    from symbiose.services.review import correct
    from symbiose.services.territories import TerritoryNotFound

    actions = [("accept", f, None) for f in accept or []]
    actions += [("flow", *_split_pair(v, "--set")) for v in set_flow or []]
    actions += [("text", *_split_pair(v, "--set-text")) for v in set_text or []]
    who = _who(by)
    try:
        with _uow(db) as uow:
            if actions:
                done = []
                for kind, subject, code in actions:
                    if kind == "accept":
                        done.append(accept_guess(uow, territory, subject, actor=who))
                    elif kind == "flow":
                        done.append(correct(uow, territory, code=code, flow_id=subject, actor=who))
                    else:
                        done.append(correct(uow, territory, code=code, text=subject, actor=who))
                _print_corrections(territory, done, as_json)
                return
            listing = review_flows(uow, territory, page=page, size=size)
            if interactive is None:
                interactive = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
            if as_json:
                print(json.dumps({"territory": territory, **listing.to_dict()}, ensure_ascii=False, indent=2))
            elif interactive:
                _review_interactively(uow, territory, listing.items, who)
            else:
                _print_review(territory, listing)
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {territory!r} (voir symbiose territory list)", markup=False)
        raise typer.Exit(2) from None
    except NotFound as exc:
        err.print(f"introuvable dans ce territoire : {exc}", markup=False)
        raise typer.Exit(1) from None
    except InvalidCorrection as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def _guess_text(guesses) -> str:
    from symbiose.explain import format as fr

    return ", ".join(f"{i}. {g['code']} ({fr.number(g['confidence'], 2)})" for i, g in enumerate(guesses, 1))


def _print_review(territory: str, listing) -> None:
    from symbiose.explain import format as fr

    if not listing.total:
        out.print(f"Rien à revoir dans [cyan]{territory}[/] : tous les flux sont classés avec confiance.")
        return
    table = Table(title=f"À revoir — {territory} : {listing.total} flux (page {listing.page})")
    for col in ("flux", "entreprise", "libellé", "code actuel", "confiance", "propositions"):
        table.add_column(col)
    for item in listing.items:
        text = item["text"] or f"(code déchet {item['ewc']})"
        table.add_row(item["flow_id"], item["company_name"], text, item["resource"],
                      fr.number(item["confidence"], 2), _guess_text(item["guesses"]))
    out.print(table)
    out.print("Corriger : symbiose review --territory T --accept FLOW_ID | --set FLOW_ID=CODE | --set-text \"LIBELLÉ=CODE\"")


def _print_corrections(territory: str, done, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"territory": territory, "corrections": [d.to_dict() for d in done]}, ensure_ascii=False, indent=2))
        return
    for d in done:
        c = d.correction
        subject = f"« {c['text']} »" if c.get("text") else f"le flux {c.get('flow_id')}"
        out.print(f"Correction enregistrée : {subject} → [bold]{c['code']}[/] ; "
                  f"{plural(len(d.flows_updated), 'flux mis à jour', 'flux mis à jour')}.", highlight=False)
        for s in d.flows_skipped:
            out.print(f"[yellow]attention[/] flux {s['flow_id']} laissé tel quel : {s['reason']}", highlight=False)


def _review_interactively(uow, territory: str, items, who: str) -> None:
    from rich.prompt import Prompt

    from symbiose.services.review import InvalidCorrection, correct, search_codes

    if not items:
        out.print(f"Rien à revoir dans [cyan]{territory}[/].")
        return
    out.print(f"{len(items)} flux à revoir. Pour chacun : le numéro d'une proposition, un code, "
              "un mot pour chercher un code, Entrée pour passer, q pour finir.")
    for item in items:
        text = item["text"] or f"(code déchet {item['ewc']})"
        out.print(f"\n[bold]{text}[/] — {item['company_name']} ({item['flow_id']}), "
                  f"actuellement {item['resource']}", highlight=False)
        if item["guesses"]:
            out.print("Propositions : " + _guess_text(item["guesses"]), highlight=False)
        while True:
            answer = Prompt.ask("Code", default="", show_default=False, console=out).strip()
            if answer.lower() == "q":
                return
            if not answer:
                break
            code = item["guesses"][int(answer) - 1]["code"] if answer.isdigit() and 0 < int(answer) <= len(item["guesses"]) else answer
            try:
                done = correct(uow, territory, code=code, flow_id=item["flow_id"], actor=who)
            except InvalidCorrection:
                found = search_codes(answer, limit=8)
                out.print("Codes proches : " + (", ".join(f"{c['code']} ({c['label']})" for c in found) or "aucun"),
                          highlight=False)
                continue
            _print_corrections(territory, [done], False)
            break


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
    fmt: Annotated[str, typer.Option("--format", help="Format de --json : json (compact), ndjson (une synergie par ligne) ou parquet.")] = "json",
    indent: Annotated[int | None, typer.Option("--indent", min=0, help="JSON indenté de N espaces (compact sinon).")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Apparier ensemble les territoires d'une région.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Grappe Dask tcp://HÔTE:PORT (sinon SYMBIOSE_DASK_SCHEDULER, sinon cette machine).")] = None,
    db: DbOption = None,
) -> None:
    """Trouver les synergies de substitution et de mutualisation."""
    from symbiose.report.synergy_json import FORMATS, synergy_to_dict, write_result
    from symbiose.services.runs import InputRejected, match_file, run_match

    if sum(x is not None for x in (file, territory, region)) != 1:
        err.print("indiquez soit un FICHIER, soit --territory CODE, soit --region CODE")
        raise typer.Exit(2)
    if fmt not in FORMATS:
        err.print(f"format inconnu : {fmt!r} ; attendu json, ndjson ou parquet", markup=False)
        raise typer.Exit(2)
    if fmt == "parquet" and json_out in (None, "-"):
        err.print("--format parquet écrit un fichier : indiquez --json FICHIER.parquet")
        raise typer.Exit(2)
    options = {"scheduler": scheduler or os.environ.get("SYMBIOSE_DASK_SCHEDULER") or None}
    with progress_bar("Appariement") as progress:
        if file is not None:
            _check_file(file)
            try:
                result = match_file(file, progress=progress, **options)
            except InputRejected as exc:
                _reject(exc.errors)
        else:
            from symbiose.services.territories import TerritoryNotFound

            try:
                with _uow(db) as uow:
                    if region is not None:
                        from symbiose.services.regions import RegionNotFound, run_region_match

                        try:
                            run_id, result = run_region_match(uow, region, actor="cli", progress=progress, **options)
                        except RegionNotFound:
                            err.print(f"région inconnue : {region!r} (voir symbiose region list)", markup=False)
                            raise typer.Exit(2) from None
                    else:
                        run_id, result = run_match(uow, territory, actor="cli", progress=progress, **options)
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
        elif region is not None:
            from symbiose.services.regions import load_region_diagnostic

            with _uow(db) as uow:
                diagnostic = load_region_diagnostic(uow, region)
        else:
            with _uow(db) as uow:
                diagnostic = load_diagnostic(uow, territory)
        export_flow_graph(diagnostic, result, graph)
    if json_out is not None:
        write_result(result, json_out, fmt, indent=indent, top=top)  # streamed, one synergy at a time
        if json_out == "-":
            return
    shown = top or 15
    print_summary({"territory": result.territory, "summary": result.summary,
                   "synergies": [synergy_to_dict(s) for s in result.synergies[:shown]]}, shown)
    if json_out:
        out.print(f"{'Parquet' if fmt == 'parquet' else fmt.upper()} écrit : {json_out}")
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


def _expiry(value: str | None):
    """``--expires``: a date (``2027-06-30``) or a number of days (``90``); None when not given."""
    from datetime import datetime, timedelta

    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.now() + timedelta(days=int(text))
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        err.print(f"--expires : « {value} » trouvé, une date (2027-06-30) ou un nombre de jours (90) attendu", markup=False)
        raise typer.Exit(2) from None


@apikey_app.command("create")
def apikey_create(
    territory: Annotated[str | None, typer.Option("--territory", help="code du territoire couvert par la clé")] = None,
    role: Annotated[str, typer.Option("--role", help="admin, animateur (animator), portail (portal) ou region (avec --region)")] = "",
    label: Annotated[str | None, typer.Option("--label", help="qui détient la clé (ex. « CCI Sud — portail »)")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="fin de validité : une date (2027-06-30) ou un nombre de jours")] = None,
    region: Annotated[str | None, typer.Option("--region", help="région d'une clé « region » (vue régionale, lecture seule)")] = None,
    db: DbOption = None,
) -> None:
    """Créer une clé d'API (affichée une seule fois ; seule son empreinte est conservée)."""
    from symbiose.services import create_api_key
    from symbiose.services.keys import role_of

    if role == "region" or region is not None:
        if role != "region" or region is None or territory is not None:
            err.print("une clé de région : --region CODE --role region (sans --territory)", markup=False)
            raise typer.Exit(2)
        from symbiose.services.keys import create_region_key
        from symbiose.services.regions import RegionNotFound

        try:
            with _uow(db) as uow:
                print(create_region_key(uow, region, label))
        except RegionNotFound:
            err.print(f"région inconnue : {region!r} (voir symbiose region list)", markup=False)
            raise typer.Exit(2) from None
        return
    if territory is None:
        err.print("indiquez --territory CODE", markup=False)
        raise typer.Exit(2)
    from symbiose.services.territories import TerritoryNotFound

    try:
        role = role_of(role)
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    until = _expiry(expires)
    try:
        with _uow(db) as uow:
            key = create_api_key(uow, territory, role, label, until)
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {territory!r} — importez d'abord un diagnostic (symbiose import … --territory {territory}) "
                  "ou créez le territoire avec une clé admin", markup=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    print(key)


@apikey_app.command("list")
def apikey_list(
    territory: Annotated[str | None, typer.Option("--territory", help="seulement les clés de ce territoire")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="en JSON")] = False,
    db: DbOption = None,
) -> None:
    """Lister les clés (numéro, début de la clé, rôle, territoire, détenteur, dates) — jamais la clé elle-même."""
    from symbiose.services.keys import list_api_keys
    from symbiose.services.territories import TerritoryNotFound

    try:
        with _uow(db) as uow:
            rows = list_api_keys(uow, territory)
    except TerritoryNotFound:
        err.print(f"territoire inconnu : {territory!r}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Clés d'accès")
    for col in ("n°", "début", "rôle", "territoire", "détenteur", "créée", "expire", "état"):
        table.add_column(col)
    for r in rows:
        state = "active" if r["active"] else ("révoquée" if r["revoked_at"] else "expirée")
        table.add_row(str(r["id"]), r["prefix"] + "…", r["role"], r["territory"] or "", r["label"] or "",
                      (r["created_at"] or "")[:10], (r["expires_at"] or "")[:10], state)
    out.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="numéro de la clé (voir « symbiose apikey list »)")],
    db: DbOption = None,
) -> None:
    """Révoquer une clé, avec effet immédiat (API et sessions des pages)."""
    from symbiose.services.keys import revoke_api_key

    with _uow(db) as uow:
        found = revoke_api_key(uow, key_id)
    if not found:
        err.print(f"clé inconnue : n° {key_id} (voir « symbiose apikey list »)", markup=False)
        raise typer.Exit(2)
    out.print(f"Clé n° {key_id} révoquée.")


@region_app.command("create")
def region_create(
    code: Annotated[str, typer.Argument(help="Code de la région.")],
    territories: Annotated[list[str], typer.Option("--territory", help="Un territoire de la région (option répétée).")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    db: DbOption = None,
) -> None:
    """Créer (ou redéfinir) une région à partir de territoires existants."""
    from symbiose.services.regions import create_region, region_item
    from symbiose.services.territories import TerritoryNotFound

    try:
        with _uow(db) as uow:
            item = region_item(uow, create_region(uow, code, name, territories))
    except TerritoryNotFound as exc:
        err.print(f"territoire inconnu : {exc.args[0]!r} (voir symbiose territory list)", markup=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    out.print(f"Région [cyan]{item['code']}[/] : {', '.join(item['territories'])}.")


@region_app.command("list")
def region_list(as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
    """Lister les régions et leurs territoires."""
    from symbiose.services.regions import list_regions

    with _uow(db) as uow:
        rows = list_regions(uow)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Régions")
    for col in ("code", "nom", "territoires"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["code"], r["name"], ", ".join(r["territories"]))
    out.print(table)


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
    prediag = cli_prediagnostic.demo_prediagnostic(db, DEMO_TERRITORY)  # the park's firms not yet visited
    with _uow(db) as uow, progress_bar("Appariement") as progress:
        run_id, result = run_match(uow, DEMO_TERRITORY, actor="demo", progress=progress)
    if result is None:
        err.print(f"l'appariement n° {run_id} a échoué (voir le message ci-dessus)")
        raise typer.Exit(1)
    with _uow(db) as uow:
        paths = write_report_set(uow, DEMO_TERRITORY, out_dir)
    from symbiose.report.synergy_json import synergy_to_dict

    print_summary({"territory": result.territory, "summary": result.summary,
                   "synergies": [synergy_to_dict(s) for s in result.synergies[:10]]}, 10)
    cli_prediagnostic.print_visits(prediag, 5)
    out.print("[bold]Fichiers écrits :[/]")
    for kind, path in paths.items():
        out.print(f"  {kind:10} {path}", highlight=False)


from symbiose import cli_prediagnostic  # noqa: E402,F401 - registers prediagnostic and visit


def main() -> None:
    try:
        app()
    except OSError as exc:  # an output folder that cannot be written, a file that vanished...
        where = f" : {exc.filename}" if exc.filename else ""
        print(f"opération impossible{where} ({exc.strerror or exc})", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
