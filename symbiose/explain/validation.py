"""French texts for the checks of the adapters: pydantic validation errors
(API request fields, CLI options coerced by typer) by error type, values
shown without Python's notation, and the French words accepted for roles
and follow-up statuses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from symbiose.text import fold

_TEMPLATES = {
    "missing": "valeur obligatoire manquante",
    "extra_forbidden": "champ inconnu",
    "query_unknown": "paramètre inconnu (paramètres possibles : {known})",
    "literal_error": "valeur attendue : {expected}",
    "enum": "valeur attendue : {expected}",
    "int_parsing": "un nombre entier attendu",
    "int_type": "un nombre entier attendu",
    "int_from_float": "un nombre entier attendu (sans décimales)",
    "float_parsing": "un nombre attendu (ex. 1250,5)",
    "float_type": "un nombre attendu (ex. 1250,5)",
    "finite_number": "un nombre fini attendu",
    "bool_parsing": "oui/non (true/false) attendu",
    "bool_type": "oui/non (true/false) attendu",
    "string_type": "un texte attendu",
    "string_too_short": "au moins {min_length} caractère(s) attendu(s)",
    "string_too_long": "au plus {max_length} caractères attendus",
    "string_pattern_mismatch": "format non reconnu",
    "greater_than": "un nombre supérieur à {gt} attendu",
    "greater_than_equal": "un nombre supérieur ou égal à {ge} attendu",
    "less_than": "un nombre inférieur à {lt} attendu",
    "less_than_equal": "un nombre inférieur ou égal à {le} attendu",
    "too_short": "au moins {min_length} élément(s) attendu(s)",
    "too_long": "au plus {max_length} éléments attendus",
    "json_invalid": "JSON illisible",
    "json_type": "JSON attendu",
    "dict_type": "un objet JSON attendu",
    "model_type": "un objet JSON attendu",
    "model_attributes_type": "un objet JSON attendu",
    "list_type": "une liste attendue",
    "date_parsing": "une date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "une date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "une date et heure attendues (AAAA-MM-JJTHH:MM)",
    "uuid_parsing": "un identifiant UUID attendu",
    "url_parsing": "une adresse URL attendue",
    "value_error": "valeur invalide",
    "assertion_error": "valeur invalide",
    "path_not_exists": "chemin introuvable",
    "path_type": "un chemin attendu",
}


def _expected(text: str) -> str:
    """``"'proposed', 'contacted' or 'studied'"`` → ``'proposed', 'contacted' ou 'studied'``."""
    return re.sub(r"\bor\b", "ou", text)


def french_message(error: Mapping[str, Any]) -> str:
    """The French message of one pydantic error (``ValidationError.errors()`` item), by its ``type``."""
    kind = str(error.get("type", ""))
    ctx = {k: (_expected(str(v)) if k == "expected" else shown(v)) for k, v in (error.get("ctx") or {}).items()}
    template = _TEMPLATES.get(kind)
    if template is None:
        return "valeur invalide"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(":")[0].split("{")[0].strip() or "valeur invalide"


def shown(value: Any, limit: int = 200) -> str | None:
    """A value as the user typed it: text as is, bytes decoded (never ``b'…'``), others as written."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# French words (folded: no accents, lower case) → the code the API and the CLI store.
ROLE_WORDS = {
    "admin": "admin", "administrateur": "admin", "administratrice": "admin", "administration": "admin",
    "animator": "animator", "animateur": "animator", "animatrice": "animator", "animation": "animator",
    "portal": "portal", "portail": "portal",
}
STATUS_WORDS = {
    "proposed": "proposed", "proposee": "proposed", "propose": "proposed",
    "contacted": "contacted", "contacte": "contacted", "contactee": "contacted", "contactees": "contacted",
    "entreprises contactees": "contacted",
    "studied": "studied", "etudiee": "studied", "etudie": "studied", "a l'etude": "studied", "a letude": "studied",
    "implemented": "implemented", "realisee": "implemented", "realise": "implemented",
    "mise en oeuvre": "implemented", "mise en œuvre": "implemented",
    "rejected": "rejected", "abandonnee": "rejected", "abandonne": "rejected", "rejetee": "rejected",
    "rejete": "rejected",
}


def _key(word: str) -> str:
    return " ".join(fold(word).replace("’", "'").split())


def role_code(word: str) -> str | None:
    """``animateur`` → ``animator``; ``None`` for a word that names no role."""
    return ROLE_WORDS.get(_key(word))


def status_code(word: str) -> str | None:
    """``contacté``, ``à l'étude``, ``Réalisée`` → ``contacted``, ``studied``, ``implemented``."""
    return STATUS_WORDS.get(_key(word))
