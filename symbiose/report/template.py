"""The French XLSX diagnostic template (``symbiose template``, the upload
page, ``GET /api/v1/diagnostic-template.xlsx``): a ``flux`` sheet with one
column per field of ``diagnostic-format.md`` under French headers the
importer reads, drop-down lists for direction, unit, period and yes/no, an
example row that imports as it is, and a ``notice`` sheet explaining each
column. The values offered in the lists are checked against the importer's
own parsers by the tests, never parsed here."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from symbiose.report.xlsx import safe_text

DIRECTIONS_FR = ("sortant", "entrant")
UNITS_FR = ("t", "kg", "m3", "L", "MWh", "kWh", "GJ", "unité", "palette")
PERIODS_FR = ("an", "mois", "semaine", "jour", "ponctuel")
YES_NO_FR = ("oui", "non")
ROWS = 1000  # rows of the sheet given the drop-down lists and formats


@dataclass(frozen=True)
class TemplateColumn:
    """A column of the template: its French header, the field it fills, whether required, what it means,
    the example's value, its width and its drop-down list."""

    header: str
    field: str
    required: bool
    meaning: str
    example: str | float
    width: float = 14
    choices: tuple[str, ...] = ()
    text: bool = False  # kept as text (postcodes, codes with leading zeros)


COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn("Id entreprise", "company_id", True, "Identifiant stable de l'entreprise dans le fichier "
                   "(son SIRET si vous le connaissez) ; le même sur chacune de ses lignes.", "E01", 14, text=True),
    TemplateColumn("Entreprise", "company_name", True, "Nom de l'entreprise.", "Chlorochimie du Golfe", 26),
    TemplateColumn("Sens", "direction", True, "« sortant » : l'entreprise l'a à donner, vendre ou éliminer ; "
                   "« entrant » : elle en a besoin ou l'achète.", "sortant", 10, DIRECTIONS_FR),
    TemplateColumn("Ressource", "resource", True, "Ce qui sort ou entre, en mots simples (« palettes bois 120x80 », "
                   "« eaux chaudes process 60 °C ») ou un code de la taxonomie (wood.pallet) ; vide si le code "
                   "déchet suffit.", "Acide chlorhydrique 33 % coproduit", 34),
    TemplateColumn("Quantité", "quantity", True, "Nombre ≥ 0, dans l'unité et par période indiquées "
                   "(1 250,5 s'écrit comme vous le voulez).", 3500.0, 11),
    TemplateColumn("Unité", "unit", True, "t, kg, m3, L, MWh, kWh, GJ, unité ou palette.", "t", 9, UNITS_FR),
    TemplateColumn("Fréquence", "period", False, "Période de la quantité : an (par défaut), mois, semaine, jour "
                   "ou ponctuel.", "an", 11, PERIODS_FR),
    TemplateColumn("Code postal", "postcode", False, "Code postal du site (ou bien latitude et longitude) : "
                   "l'un des deux est nécessaire.", "13270", 11, text=True),
    TemplateColumn("Commune", "city", False, "Commune du site (aide à choisir parmi les communes d'un même "
                   "code postal).", "Fos-sur-Mer", 16),
    TemplateColumn("Latitude", "lat", False, "Latitude du site en degrés décimaux (WGS84), si connue.", "", 10),
    TemplateColumn("Longitude", "lon", False, "Longitude du site en degrés décimaux (WGS84), si connue.", "", 10),
    TemplateColumn("Code NAF", "naf", False, "Code d'activité NAF / APE de l'entreprise (20.13B).", "20.13B", 10,
                   text=True),
    TemplateColumn("Code déchet", "ewc", False, "Code de la liste européenne des déchets, 6 chiffres "
                   "(15 01 03) ; « * » pour un déchet dangereux.", "", 12, text=True),
    TemplateColumn("Dangereux", "hazardous", False, "oui / non (oui si le code déchet porte « * »).", "non", 10,
                   YES_NO_FR),
    TemplateColumn("Température", "temperature_c", False, "Pour la chaleur, la vapeur et l'eau : °C.", "", 11),
    TemplateColumn("Concentration", "concentration_pct", False, "Pour les produits chimiques : % massique.",
                   33.0, 12),
    TemplateColumn("Coût unitaire", "cost_eur_per_unit", False, "Sortant : ce que l'entreprise paie aujourd'hui "
                   "pour s'en défaire, par unité (négatif si elle le vend) ; entrant : ce qu'elle paie pour "
                   "l'acheter, en €.", -15.0, 12),
    TemplateColumn("Mois disponibles", "months", False, "Mois où le flux existe : 1-12 (toute l'année, par "
                   "défaut), 5-9, 11,12,1,2.", "1-12", 14, text=True),
    TemplateColumn("Confidentiel", "confidential", False, "oui : l'entreprise n'est nommée aux autres "
                   "(portail) qu'avec son accord ; non par défaut.", "non", 12, YES_NO_FR),
    TemplateColumn("Libellé", "label", False, "Description libre, gardée telle quelle.",
                   "HCl 33 % excédentaire, livraison citerne", 30),
    TemplateColumn("Remarques", "notes", False, "Notes de visite, gardées telles quelles.",
                   "vendu aujourd'hui à un négociant hors zone", 30),
)


def write_template(target: Path | io.BytesIO) -> Path | io.BytesIO:
    """Write the template workbook to a path or an in-memory buffer and return it."""
    book = xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True,
    })
    head = book.add_format({"bold": True, "bg_color": "#14532d", "font_color": "#ffffff", "text_wrap": True,
                            "valign": "top", "border": 1})
    head_optional = book.add_format({"bold": True, "bg_color": "#d1fae5", "text_wrap": True, "valign": "top",
                                     "border": 1})
    as_text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    bold = book.add_format({"bold": True, "valign": "top"})

    sheet = book.add_worksheet("flux")
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 32)
    for col, c in enumerate(COLUMNS):
        sheet.set_column(col, col, c.width, as_text if c.text else None)
        sheet.write_string(0, col, c.header, head if c.required else head_optional)
        sheet.write_comment(0, col, c.meaning, {"x_scale": 2, "y_scale": 1.5})
        if c.choices:
            sheet.data_validation(1, col, ROWS, col, {
                "validate": "list", "source": list(c.choices), "ignore_blank": True,
                "input_title": c.header, "input_message": "Choisissez dans la liste."[:255],
                "error_title": "Valeur non reconnue",
                "error_message": f"Choisissez parmi : {', '.join(c.choices)}."[:255],
            })
        if isinstance(c.example, float):
            sheet.write_number(1, col, c.example)
        elif c.example != "":
            sheet.write_string(1, col, safe_text(c.example))
    sheet.autofilter(0, 0, 0, len(COLUMNS) - 1)

    notice = book.add_worksheet("notice")
    notice.set_column(0, 0, 22)
    notice.set_column(1, 1, 14)
    notice.set_column(2, 2, 90)
    lines = [
        "Modèle de diagnostic de flux symbiose — une ligne par flux d'une entreprise.",
        "Remplissez la feuille « flux » (la ligne 2 est un exemple : remplacez-la). Colonnes en vert foncé : "
        "obligatoires. Les listes déroulantes proposent les valeurs reconnues ; d'autres écritures courantes "
        "sont acceptées aussi. Enregistrez en XLSX (ou CSV) et importez le fichier depuis la page « Importer "
        "un diagnostic », ou avec « symbiose import FICHIER --territory CODE ».",
    ]
    notice.write_string(0, 0, lines[0], bold)
    notice.merge_range(1, 0, 1, 2, lines[1], wrap)
    notice.set_row(1, 48)
    for col, text in enumerate(("Colonne", "Obligatoire", "Ce qu'elle contient")):
        notice.write_string(3, col, text, head)
    for row, c in enumerate(COLUMNS, start=4):
        notice.write_string(row, 0, c.header, bold)
        notice.write_string(row, 1, "oui" if c.required else "non", wrap)
        notice.write_string(row, 2, c.meaning, wrap)
    book.close()
    return target


def template_bytes() -> bytes:
    """The template workbook as bytes (for a download)."""
    buffer = io.BytesIO()
    write_template(buffer)
    return buffer.getvalue()
