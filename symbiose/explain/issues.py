"""Import problems: one message code per problem, one French template per code.

Every problem the importer reports is an :class:`~symbiose.domain.Issue`
made by :func:`issue`: its ``code`` names the problem, its ``params`` hold
the values the template needs, and its ``message`` is the template filled
in French. An error's message says what was expected (``un nombre attendu
(ex. 1 250,5)``); :func:`issue_line` puts it after where and what was found,
as ``diagnostic-format.md`` writes it::

    ligne 4, colonne quantite : « beaucoup » trouvé, un nombre attendu (ex. 1 250,5)

The column is the header as the file wrote it (the importer passes it in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from symbiose.domain import Issue

VALUE_SHOWN = 200  # a longer value is shown cut, with "…"

TEMPLATES: dict[str, str] = {
    # -- the file
    "file.unreadable": "un CSV en UTF-8 ou un classeur XLSX attendu (le fichier ne se lit pas comme {kind})",
    "file.refused": "fichier refusé : {reason}",
    "file.empty": "une ligne d'en-tête puis une ligne par flux attendues (le fichier est vide)",
    "file.too_many_rows": "{maximum} lignes au plus attendues",
    "file.no_rows": "le fichier a un en-tête mais aucune ligne de flux : rien à importer",
    "file.cp1252": "le fichier n'est pas en UTF-8 : lu en Windows-1252 (export Excel)",
    "file.utf16": "le fichier est en UTF-16 (« texte Unicode » d'Excel) : lu comme tel, enregistrez-le de préférence en CSV UTF-8",
    # -- the header row
    "header.missing": "une colonne {field} attendue (ou {aliases})",
    "header.missing_location": "des colonnes de localisation attendues : lat et lon, ou code_postal",
    "header.lone_coordinate": "une colonne {field} attendue à côté de {other} (ou une colonne code_postal)",
    "header.duplicate": "une seule colonne {field} attendue ; « {first} » en est déjà une",
    "header.ambiguous": "en-tête ambigu : peut désigner {fields} ; colonne conservée comme attribut, renommez-la (par exemple {example})",
    "header.shadowed": "colonne non lue : {field} est déjà lu dans « {first} » ; conservée comme attribut",
    "header.unknown": "colonne inconnue, conservée comme attribut mais non utilisée",
    # -- one cell
    "number.invalid": "un nombre attendu (ex. 1 250,5)",
    "number.not_finite": "un nombre fini attendu",
    "number.below": "un nombre supérieur ou égal à {minimum} attendu",
    "number.above": "un nombre inférieur ou égal à {maximum} attendu",
    "quantity.too_large": "un nombre inférieur ou égal à un milliard attendu (erreur d'unité ?)",
    "quantity.missing": "une quantité attendue (un nombre ≥ 0)",
    "quantity.dotted": "nombre ambigu lu comme {read} : écrivez-le sans point si c'était un séparateur de milliers",
    "quantity.zero": "quantité nulle : flux conservé mais exclu de l'appariement",
    "bool.invalid": "oui/non, vrai/faux ou 1/0 attendu",
    "months.invalid": "des mois de 1 à 12 attendus, par exemple 1-12, 5-9 ou 11,12,1,2",
    "ewc.invalid": "un code déchet européen à six chiffres attendu, par exemple 15 01 03 (avec * s'il est dangereux)",
    "ewc.not_listed": "code absent de la liste européenne des déchets",
    "naf.invalid": "un code NAF rév. 2 attendu, par exemple 20.13B",
    "postcode.invalid": "un code postal français à cinq chiffres attendu",
    "postcode.unknown": "le code postal d'une commune française attendu (celui-ci est inconnu)",
    "city.mismatch": "commune introuvable pour le code postal {postcode} : localisée à {commune}",
    "location.missing": "une localisation attendue : lat et lon, ou un code postal",
    "coordinates.incomplete": "la latitude et la longitude attendues (degrés WGS84)",
    "company_id.missing": "l'identifiant de l'entreprise attendu (SIRET ou identifiant du fichier)",
    "company_name.missing": "le nom de l'entreprise attendu",
    "company.renamed": "l'entreprise {company} porte déjà le nom « {known} » : premier nom conservé",
    "direction.invalid": "sortant (out) ou entrant (in) attendu",
    "unit.invalid": "t, kg, m3, L, MWh, kWh, GJ, unité (u, pièce, palette) ou un décompte (contrat, site, place, appareil, extincteur, kit, passage, visite, heure, jour, salarié, repas) attendu",
    "unit.stated_size": "{quantity} {unit} de {code} comptés d'après la taille indiquée sur la ligne ({described}) : {amount} {canonical}/an, à vérifier",
    "unit.not_convertible": "une unité de {target} attendue pour {code} ({unit} ne s'y convertit pas)",
    "unit.no_unit_mass": "une masse (t, kg) attendue pour {code} : la taxonomie ne donne pas sa masse unitaire",
    "period.invalid": "an, mois, semaine, jour ou ponctuel attendu",
    "text.too_long": "{maximum} caractères au plus attendus (la valeur en a {length})",
    "territory.invalid": "un code de territoire attendu : lettres minuscules, chiffres, « - » ou « _ », 64 au plus",
    "territory.unknown": "le code d'un territoire existant attendu",
    "territory.other": "« {expected} » attendu : cet import n'écrit que dans ce territoire",
    # -- the resource
    "resource.missing": "un code de la taxonomie, une description de la ressource ou un code déchet (ewc) attendu",
    "resource.unknown": "libellé non reconnu : importé comme « unknown », à vérifier",
    "resource.low_confidence": "classé en {code} avec une confiance faible ({confidence}), à vérifier",
    "resource.unit_fallback": "{code} ne se compte pas en {unit} : classé en {fallback}, à vérifier",
    "resource.unit_unknown": "{code} ne se compte pas en {unit} : importé comme « unknown », à vérifier",
    "flow.duplicate": "même entreprise, sens, ressource et libellé qu'à la ligne {first_row} : quantités additionnées",
    # -- a firm list (pre-diagnostic)
    "firms.empty": "une ligne d'en-tête puis une ligne par établissement attendues (le fichier est vide)",
    "firms.no_rows": "le fichier a un en-tête mais aucun établissement : rien à lire",
    "firm.size_band": "une tranche d'effectif INSEE (NN, 00, 01, 02, 03, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 53) ou un effectif attendu",
    "firm.no_naf": "pas de code NAF : seuls les flux communs à presque toutes les entreprises sont supposés",
    "firm.no_size": "ni tranche d'effectif ni effectif : les fourchettes supposent 10 à 250 salariés",
    "firm.not_siret": "pas un SIRET à 14 chiffres : gardé comme identifiant",
    "firm.duplicate": "même identifiant qu'à la ligne {first_row} : ligne ignorée",
    "firm.no_profile": "le code NAF {naf} n'a pas de profil sectoriel : seuls les flux communs à presque toutes les entreprises (palettes, cartons, déchets ordinaires) sont supposés",
}


# warnings do not block an import; every other code is a blocking error
WARNINGS = frozenset({
    "file.no_rows", "file.cp1252", "file.utf16", "header.ambiguous", "header.shadowed", "header.unknown",
    "quantity.dotted", "quantity.zero", "ewc.not_listed", "city.mismatch", "company.renamed",
    "resource.unknown", "resource.low_confidence", "resource.unit_fallback", "resource.unit_unknown",
    "flow.duplicate", "unit.stated_size",
    "firms.no_rows", "firm.no_naf", "firm.no_size", "firm.not_siret", "firm.duplicate", "firm.no_profile",
})


def is_warning(item: Issue) -> bool:
    """True for a problem that does not block the import."""
    return item.code in WARNINGS


def _french(value: Any) -> str:
    """A parameter as French text: decimal comma, no trailing ``.0``."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        text = f"{value:g}" if abs(value) < 1e15 else f"{value:.3g}"
        return text.replace(".", ",")
    return str(value)


def render(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The French message of ``code`` with its parameters."""
    template = TEMPLATES[code]
    return template.format(**{k: _french(v) for k, v in (params or {}).items()})


def shown(value: Any) -> str | None:
    """A cell value as reported: text, cut to :data:`VALUE_SHOWN` characters."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def issue(code: str, /, *, row: int | None = None, column: str | None = None, value: Any = None, **params: Any) -> Issue:
    """An import problem with its code, parameters and French message."""
    return Issue(row, column, shown(value), render(code, params), code=code, params=dict(params))


def issue_line(item: Issue | Mapping[str, Any], *, found: bool = True) -> str:
    """``ligne R, colonne C : « V » trouvé, …`` (``found``: say what was found, for errors)."""
    get = item.get if isinstance(item, Mapping) else lambda k: getattr(item, k)
    row, column, value, message = get("row"), get("column"), get("value"), get("message") or ""
    where = ", ".join(p for p in (f"ligne {row}" if row is not None else "", f"colonne {column}" if column else "") if p)
    if found and value is not None:
        message = f"{'« ' + value + ' » trouvé' if value != '' else 'rien trouvé'}, {message}"
    return f"{where} : {message}" if where else message


def issue_fr(item: Issue | Mapping[str, Any]) -> str:
    """The French message of an issue (or of its JSON form), for the pages."""
    return (item.get("message") if isinstance(item, Mapping) else item.message) or ""


def issues_as_dicts(issues: Iterable[Issue]) -> list[dict[str, Any]]:
    """The ``errors``/``warnings`` shape of the import report (``code``: the message code, an addition)."""
    return [{"row": i.row, "column": i.column, "value": i.value, "message": i.message, "code": i.code} for i in issues]
