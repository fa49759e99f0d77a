"""Editing companies and flows in the pages, with the import's own rules.

A company or a flow typed into a form is checked exactly as a diagnostic
row would be: the form becomes a one-row diagnostic (canonical column
names) read by :func:`symbiose.services.imports.read_file` — the same cell
parsers, geocoding, unit conversion and classification, and the same
errors. A company's contact (person, phone, e-mail), visit date and notes
are not diagnostic columns: they are checked here. Every change is kept in
``edits`` with who made it, when, and each field's old and new value.
Re-classifying a flow is a flow edit that sets its taxonomy code.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from symbiose.domain import Issue
from symbiose.explain.issues import issue_fr
from symbiose.services.imports import _assign, _company_values, _flow_values, read_file
from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, EditRow, FlowRow, TerritoryRow

# the columns of a company, and of a flow, as a diagnostic file names them
COMPANY_COLUMNS = ("company_name", "postcode", "city", "lat", "lon", "naf", "confidential")
FLOW_COLUMNS = ("direction", "resource", "quantity", "unit", "period", "ewc", "hazardous", "temperature_c",
                "concentration_pct", "cost_eur_per_unit", "months", "label", "notes")
CONTACT_FIELDS = ("contact_name", "phone", "email", "visit_date", "notes")
LABELS_FR = {
    "company_id": "Identifiant", "company_name": "Nom", "postcode": "Code postal", "city": "Commune",
    "lat": "Latitude", "lon": "Longitude", "naf": "Code NAF", "confidential": "Confidentielle",
    "direction": "Sens", "resource": "Ressource", "quantity": "Quantité", "unit": "Unité", "period": "Fréquence",
    "ewc": "Code déchet", "hazardous": "Dangereux", "temperature_c": "Température (°C)",
    "concentration_pct": "Concentration (%)", "cost_eur_per_unit": "Coût unitaire (€)",
    "months": "Mois disponibles", "label": "Libellé", "notes": "Remarques",
    "contact_name": "Personne à contacter", "phone": "Téléphone", "email": "E-mail", "visit_date": "Date de visite",
}
_PLACEHOLDER_FLOW = {"direction": "out", "resource": "wood.pallet", "quantity": "0", "unit": "t"}
_PHONE = re.compile(r"^\+?[0-9 .()\-]{6,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@dataclass
class EditResult:
    """What a save did: the errors of the form (field → French message), or the key of what was saved."""

    errors: dict[str, str] = field(default_factory=dict)
    key: str | None = None
    changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _csv(row: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(list(row))
    writer.writerow([row[k] for k in row])
    return out.getvalue().encode("utf-8")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _months_text(mask: int) -> str:
    """``4095`` → ``1-12``; ``0b110000`` → ``5,6`` (as the ``months`` column reads them)."""
    months = [m for m in range(1, 13) if mask & (1 << (m - 1))]
    return "1-12" if len(months) == 12 else ",".join(map(str, months))


def _errors(issues: tuple[Issue, ...] | list[Issue], columns: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for issue in issues:
        column = issue.column if issue.column in LABELS_FR else None
        if column is None or column in columns:
            out.setdefault(column or "form", issue_fr(issue))
    return out


def _record(uow: UnitOfWork, territory: TerritoryRow, entity: str, key: str, before: dict[str, Any],
            after: dict[str, Any], actor: str | None) -> bool:
    """Keep the fields that changed (old, new) in ``edits``; True when something changed."""
    def plain(v: Any) -> Any:
        return v.isoformat() if isinstance(v, date) else v

    changes = {k: [plain(before.get(k)), plain(v)] for k, v in after.items() if before.get(k) != v}
    if changes:
        uow.session.add(EditRow(territory_id=territory.id, entity=entity, entity_key=key, actor=actor,
                                changes=changes))
    return bool(changes)


def company_form(row: CompanyRow | None) -> dict[str, str]:
    """The fields of a company's form, as text."""
    if row is None:
        return {k: "" for k in ("company_id", *COMPANY_COLUMNS, *CONTACT_FIELDS)}
    values = {"company_id": row.external_id, "company_name": row.name, "postcode": row.postcode, "city": row.city,
              "lat": row.lat, "lon": row.lon, "naf": row.naf, "confidential": row.confidential,
              "contact_name": row.contact_name, "phone": row.phone, "email": row.email,
              "visit_date": row.visit_date.isoformat() if row.visit_date else "", "notes": row.notes}
    return {k: _text(v) for k, v in values.items()}


def flow_form(row: FlowRow | None) -> dict[str, str]:
    """The fields of a flow's form, as text: what the diagnostic said (quantity and unit as written)."""
    if row is None:
        return {k: "" for k in FLOW_COLUMNS} | {"direction": "out", "period": "year"}
    values = {"direction": row.direction, "resource": row.resource,
              "quantity": row.raw_quantity if row.raw_quantity is not None else row.quantity,
              "unit": row.raw_unit or row.unit, "period": row.period, "ewc": row.ewc or "",
              "hazardous": row.hazardous, "temperature_c": row.temperature_c,
              "concentration_pct": row.concentration_pct, "cost_eur_per_unit": row.cost_eur_per_unit,
              "months": _months_text(row.months), "label": row.label, "notes": row.notes}
    return {k: _text(v) for k, v in values.items()}


def _company_row_text(company: dict[str, str]) -> dict[str, str]:
    return {"company_id": company["company_id"], **{k: company.get(k, "") for k in COMPANY_COLUMNS}}


def _check_contact(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    name = " ".join(form.get("contact_name", "").split())
    if len(name) > 128:
        errors["contact_name"] = "128 caractères au plus"
    values["contact_name"] = name or None
    phone = form.get("phone", "").strip()
    if phone and not _PHONE.fullmatch(phone):
        errors["phone"] = f"« {phone} » trouvé, un numéro de téléphone attendu (ex. 04 42 00 00 00)"
    values["phone"] = phone or None
    email = form.get("email", "").strip()
    if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        errors["email"] = f"« {email} » trouvé, une adresse e-mail attendue (ex. nom@entreprise.fr)"
    values["email"] = email or None
    visit = form.get("visit_date", "").strip()
    try:
        values["visit_date"] = date.fromisoformat(visit) if visit else None
    except ValueError:
        errors["visit_date"] = f"« {visit} » trouvé, une date attendue (AAAA-MM-JJ)"
    notes = form.get("notes", "").strip()
    if len(notes) > 4000:
        errors["notes"] = "4 000 caractères au plus"
    values["notes"] = notes or None
    return values, errors


def save_company(uow: UnitOfWork, territory: TerritoryRow, form: dict[str, str], *, existing: str | None,
                 actor: str | None) -> EditResult:
    """Create (``existing=None``) or update a company from its form; nothing written on any error."""
    form = {k: str(v or "") for k, v in form.items()}
    key = existing if existing is not None else " ".join(form.get("company_id", "").split())
    row = uow.session.scalar(select(CompanyRow).where(CompanyRow.territory_id == territory.id,
                                                      CompanyRow.external_id == key)) if key else None
    if existing is None and not key:
        return EditResult({"company_id": "un identifiant attendu (son SIRET si vous le connaissez)"})
    if existing is None and row is not None:
        return EditResult({"company_id": f"« {key} » est déjà l'identifiant d'une entreprise de ce territoire"})
    if existing is not None and row is None:
        return EditResult({"form": "cette entreprise n'existe pas dans ce territoire"})
    parsed = read_file(_csv({**_company_row_text({**form, "company_id": key}), **_PLACEHOLDER_FLOW}),
                       territory=territory.code, filename="formulaire.csv")
    errors = _errors(parsed.errors, ("company_id", *COMPANY_COLUMNS))
    contact, contact_errors = _check_contact(form)
    errors.update(contact_errors)
    if errors:
        return EditResult(errors)
    values = {**_company_values(parsed.diagnostic.companies[0]), **contact}
    if row is None:
        row = CompanyRow(territory_id=territory.id, external_id=key, **values)
        uow.session.add(row)
        before: dict[str, Any] = {}
    else:
        before = {k: getattr(row, k) for k in values}
        _assign(row, values)
    changed = _record(uow, territory, "company", key, before, values, actor)
    uow.commit()
    return EditResult(key=key, changed=changed)


def save_flow(uow: UnitOfWork, territory: TerritoryRow, company_id: str, form: dict[str, str], *,
              existing: str | None, actor: str | None) -> EditResult:
    """Create (``existing=None``) or update a flow of ``company_id`` from its form, checked as an import row
    of that company; the flow keeps its identity (uid) across edits. Nothing written on any error."""
    company = uow.session.scalar(select(CompanyRow).where(CompanyRow.territory_id == territory.id,
                                                          CompanyRow.external_id == company_id))
    if company is None:
        return EditResult({"form": "cette entreprise n'existe pas dans ce territoire"})
    row = None
    if existing is not None:
        row = uow.session.scalar(select(FlowRow).where(FlowRow.territory_id == territory.id, FlowRow.uid == existing,
                                                       FlowRow.company_id == company.id))
        if row is None:
            return EditResult({"form": "ce flux n'existe pas pour cette entreprise"})
    flow_text = {k: str(form.get(k) or "") for k in FLOW_COLUMNS}
    parsed = read_file(_csv({**_company_row_text(company_form(company)), **flow_text}),
                       territory=territory.code, filename="formulaire.csv")
    errors = _errors(parsed.errors, FLOW_COLUMNS)
    if parsed.errors and not errors:  # the company's own stored fields no longer pass: say so
        errors["form"] = "; ".join(issue_fr(i) for i in parsed.errors)
    if errors:
        return EditResult(errors)
    flow = parsed.diagnostic.flows[0]
    values = _flow_values(flow)
    if row is not None and flow_text["resource"].strip() == values["resource"] and row.text:
        values["text"] = row.text  # a code chosen by hand: the diagnostic's words stay with the flow
    if row is None:
        taken = uow.session.scalar(select(FlowRow.id).where(FlowRow.territory_id == territory.id, FlowRow.uid == flow.id))
        if taken is not None:
            return EditResult({"form": "cette entreprise a déjà ce flux (même sens, ressource et libellé)"})
        row = FlowRow(territory_id=territory.id, company_id=company.id, uid=flow.id, **values)
        uow.session.add(row)
        before: dict[str, Any] = {}
    else:
        before = {k: getattr(row, k) for k in values}
        _assign(row, values)
    changed = _record(uow, territory, "flow", row.uid, before, values, actor)
    uow.commit()
    return EditResult(key=row.uid, changed=changed)


def reclassify_flow(uow: UnitOfWork, territory: TerritoryRow, uid: str, code: str, *, actor: str | None) -> EditResult:
    """Set a flow's taxonomy code (the animator's correction): the flow is checked again with that code
    (its unit must suit the resource) and keeps its text, quantity and identity."""
    row = uow.session.scalar(select(FlowRow).where(FlowRow.territory_id == territory.id, FlowRow.uid == uid))
    if row is None:
        return EditResult({"form": "ce flux n'existe pas dans ce territoire"})
    form = flow_form(row) | {"resource": code}
    company = uow.session.get(CompanyRow, row.company_id)
    return save_flow(uow, territory, company.external_id, form, existing=uid, actor=actor)


# how a stored field reads in the history (the quantity stored is the yearly one in the reference unit)
HISTORY_LABELS = {**LABELS_FR, "name": "Nom", "quantity": "Quantité par an (unité de référence)",
                  "unit": "Unité de référence", "raw_quantity": "Quantité déclarée", "raw_unit": "Unité déclarée",
                  "text": "Texte classé", "confidence": "Confiance du classement"}
_HIDDEN_IN_HISTORY = {"attributes"}


def _shown(field_name: str, value: Any) -> str | None:
    from symbiose.explain import format as fr
    from symbiose.report.data import DIRECTION_FR, PERIOD_FR

    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if field_name == "months" and isinstance(value, int):
        return _months_text(value)
    if field_name == "direction":
        return DIRECTION_FR.get(str(value), str(value))
    if field_name == "period":
        return PERIOD_FR.get(str(value), str(value))
    if field_name == "confidence" and isinstance(value, (int, float)):
        return f"{fr.number(100 * value)} %"
    if isinstance(value, float):
        return fr.smart_number(value)
    return str(value)


def history(uow: UnitOfWork, territory: TerritoryRow, entity: str, key: str) -> list[dict[str, Any]]:
    """The changes made in the pages to one company or flow, newest first: who, when, and each field's
    old and new value in French (``None`` for nothing)."""
    rows = uow.session.scalars(
        select(EditRow).where(EditRow.territory_id == territory.id, EditRow.entity == entity,
                              EditRow.entity_key == key).order_by(EditRow.id.desc())
    ).all()
    return [{"actor": r.actor, "at": r.created_at.isoformat(timespec="seconds") + "Z",
             "changes": {HISTORY_LABELS.get(k, k): [_shown(k, old), _shown(k, new)]
                         for k, (old, new) in r.changes.items() if k not in _HIDDEN_IN_HISTORY}}
            for r in rows]
