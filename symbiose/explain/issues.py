"""French wording of import problems for the pages and reports.

Issues keep one English message (the CLI and JSON contracts read
``row R, column C: found V, expected …``); this catalogue renders them in
French for animators. An unknown message is shown as it is.
"""

from __future__ import annotations

import re

from symbiose.domain import Issue

_DECIMAL = re.compile(r"\d+\.\d+")  # 0.36 -> 0,36 in French text

_CATALOGUE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), fr)
    for p, fr in [
        (r"^expected a number \(e\.g\. 1 250,5\)$", "attendu : un nombre (par exemple 1 250,5)"),
        (r"^expected a finite number$", "attendu : un nombre fini"),
        (r"^expected a number ≥ (?P<n>\S+)$", "attendu : un nombre supérieur ou égal à {n}"),
        (r"^expected a number ≤ 1e\+09$", "attendu : un nombre inférieur ou égal à un milliard (erreur d'unité ?)"),
        (r"^expected a number ≤ (?P<n>\S+)$", "attendu : un nombre inférieur ou égal à {n}"),
        (r"^expected true/false, oui/non or 1/0$", "attendu : oui/non, vrai/faux ou 1/0"),
        (r"^expected months 1 to 12.*$", "attendu : des mois de 1 à 12, par exemple 1-12, 5-9 ou 11,12,1,2"),
        (r"^expected a six-digit European waste code.*$", "attendu : un code déchet européen à six chiffres, par exemple 15 01 03 (avec * s'il est dangereux)"),
        (r"^expected a NAF rev\. 2 code.*$", "attendu : un code NAF rév. 2, par exemple 20.13B"),
        (r"^expected a five-digit French postcode$", "attendu : un code postal français à cinq chiffres"),
        (r"^expected the postcode of a French commune; this one is unknown$", "code postal inconnu : attendu le code postal d'une commune française"),
        (r"^expected a company id.*$", "attendu : l'identifiant de l'entreprise (SIRET ou identifiant du fichier)"),
        (r"^expected the company's name$", "attendu : le nom de l'entreprise"),
        (r"^expected out \(sortant\) or in \(entrant\)$", "attendu : sortant (out) ou entrant (in)"),
        (r"^expected a taxonomy code or a description of the resource$", "attendu : un code de la taxonomie ou une description de la ressource"),
        (r"^expected one of t, kg, m3, L, MWh, kWh, GJ, unit.*$", "attendu : t, kg, m3, L, MWh, kWh, GJ, unité (u, pièce, palette) ou un décompte (contrat, site, place, appareil, extincteur, kit, passage, visite, heure, jour, salarié, repas)"),
        (r"^expected year \(an\), month.*$", "attendu : an, mois, semaine, jour ou ponctuel"),
        (r"^expected a location: lat and lon, or a French postcode$", "attendu : une localisation (lat et lon, ou un code postal)"),
        (r"^expected both lat and lon.*$", "attendu : la latitude et la longitude (degrés WGS84)"),
        (r"^expected a column (?P<col>\S+) \(or (?P<aliases>.*)\)$", "colonne obligatoire absente : {col} (ou {aliases})"),
        (r"^expected location columns.*$", "colonnes de localisation absentes : lat et lon, ou code_postal"),
        (r"^expected each column once; (?P<col>\S+) appears twice$", "la colonne {col} apparaît deux fois"),
        (r"^expected a header row and one row per flow; the file is empty$", "le fichier est vide : attendu une ligne d'en-tête puis une ligne par flux"),
        (r"^expected at most (?P<n>\d+) rows$", "trop de lignes : {n} au plus"),
        (r"^the file cannot be read as (?P<kind>\w+);.*$", "le fichier ne peut pas être lu comme {kind} : attendu un CSV UTF-8 ou un classeur XLSX"),
        (r"^expected an existing territory code$", "attendu : le code d'un territoire existant"),
        (r"^(?P<q>\S+) (?P<u>\S+) of (?P<code>\S+) counted through the size the row states \((?P<d>.*)\): (?P<v>\S+) (?P<cu>\S+)/year, to check$",
         "{q} {u} de {code} comptés d'après la taille indiquée sur la ligne ({d}) : {v} {cu}/an, à vérifier"),
        (r"^(?P<code>\S+) cannot be counted in items.*$", "{code} ne se compte pas en unités : indiquez une masse (t, kg)"),
        (r"^(?P<u>.+) cannot be converted to (?P<target>\S+) for (?P<code>\S+); .*$", "{u} ne se convertit pas en {target} pour {code}"),
        (r"^unknown column kept as an attribute, not used$", "colonne inconnue, conservée comme attribut mais non utilisée"),
        (r"^could not be classified: imported as unknown, to review$", "libellé non reconnu : importé comme « unknown », à vérifier"),
        (r"^low-confidence classification as (?P<code>\S+) \((?P<c>[\d.]+)\), to review$", "classé en {code} avec une confiance faible ({c}), à vérifier"),
        (r"^(?P<code>\S+) is not counted in (?P<u>.+): classified as (?P<alt>\S+) instead, to review$", "{code} ne se compte pas en {u} : classé en {alt}, à vérifier"),
        (r"^(?P<code>\S+) is not counted in (?P<u>.+): imported as unknown, to review$", "{code} ne se compte pas en {u} : importé comme « unknown », à vérifier"),
        (r"^zero quantity: kept, but left out of matching$", "quantité nulle : flux conservé mais exclu de l'appariement"),
        (r"^same company, direction, resource and label as row (?P<r>\d+): quantities added$", "même entreprise, sens, ressource et libellé qu'à la ligne {r} : quantités additionnées"),
        (r"^company (?P<id>.+) is already named (?P<name>.+); first name kept$", "l'entreprise {id} porte déjà le nom {name} : premier nom conservé"),
        (r"^code not in the European List of Waste$", "code absent de la liste européenne des déchets"),
        (r"^commune not found for postcode (?P<p>\S+); located at (?P<c>.+)$", "commune introuvable pour le code postal {p} : localisée à {c}"),
        (r"^the file is not UTF-8; read as Windows-1252.*$", "le fichier n'est pas en UTF-8 : lu en Windows-1252 (export Excel)"),
        (r"^the file is UTF-16; read as such.*$", "le fichier est en UTF-16 (« texte Unicode » d'Excel) : lu comme tel, enregistrez-le de préférence en CSV UTF-8"),
        (r"^expected a column (?P<col>lat|lon) beside (?P<other>lat|lon) \(or a postcode column\)$", "colonne {col} absente à côté de {other} (ou une colonne code_postal)"),
        (r"^ambiguous number read as (?P<v>\S+); write it without a dot if thousands were meant$", "nombre ambigu lu comme {v} : écrivez-le sans point si c'était un séparateur de milliers"),
        (r"^the file has a header but no flow rows: nothing to import$", "le fichier a un en-tête mais aucune ligne de flux : rien à importer"),
    ]
]


def message_fr(message: str) -> str:
    """The French wording of an import message (the message itself when not catalogued)."""
    for pattern, french in _CATALOGUE:
        m = pattern.match(message)
        if m:
            values = {k: (v.replace(".", ",") if v and _DECIMAL.fullmatch(v) else v) for k, v in m.groupdict().items()}
            return french.format(**values)
    return message


def issue_fr(issue: Issue | dict) -> str:
    """French message of an :class:`Issue` or of its JSON form."""
    message = issue["message"] if isinstance(issue, dict) else issue.message
    return message_fr(message or "")
