"""French wording of the pre-diagnostic's messages (the import's catalogue otherwise)."""

from __future__ import annotations

import re

from symbiose.domain import Issue
from symbiose.explain.issues import issue_fr

_CATALOGUE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), fr)
    for p, fr in [
        (r"^expected an INSEE size band .*$", "attendu : une tranche d'effectif INSEE (NN, 00, 01, 02, 03, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 53) ou un effectif"),
        (r"^expected a header row and one row per firm; the file is empty$", "le fichier est vide : attendu une ligne d'en-tête puis une ligne par établissement"),
        (r"^the file has a header but no firm rows: nothing to read$", "le fichier a un en-tête mais aucun établissement : rien à lire"),
        (r"^no NAF code: .*$", "pas de code NAF : seuls les flux communs à presque toutes les entreprises sont supposés"),
        (r"^no size band nor headcount: .*$", "ni tranche d'effectif ni effectif : les fourchettes supposent 10 à 250 salariés"),
        (r"^not a 14-digit SIRET; kept as the firm's id$", "pas un SIRET à 14 chiffres : gardé comme identifiant"),
        (r"^same firm id as row (?P<r>\d+): this row is ignored$", "même identifiant qu'à la ligne {r} : ligne ignorée"),
        (r"^NAF (?P<naf>\S+) has no sector profile: .*$", "le code NAF {naf} n'a pas de profil sectoriel : seuls les flux communs à presque toutes les entreprises (palettes, cartons, déchets ordinaires) sont supposés"),
    ]
]


def prediag_fr(issue: Issue | dict) -> str:
    """The French message of a pre-diagnostic issue."""
    message = issue["message"] if isinstance(issue, dict) else issue.message
    for pattern, french in _CATALOGUE:
        m = pattern.match(message or "")
        if m:
            return french.format(**m.groupdict())
    return issue_fr(issue)
