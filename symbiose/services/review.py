"""Reviewing classifications and learning from the animators' corrections.

- :func:`review_flows`: a territory's flows classified ``unknown`` or with a
  low confidence, each with the classifier's top guesses.
- :func:`correct`: an animator sets the code of a flow (or of a text);
  the correction is kept per territory with who and when, applied at once
  to every flow of the territory with the same (normalised) text, and
  re-applied by every later import of that text (:func:`corrections_reader`).
- :func:`accept`: the top guess of a flow, recorded as a correction.
- :func:`search_codes`: the taxonomy searched in French, for a code picker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from symbiose.classify import LOW_CONFIDENCE, get_classifier
from symbiose.domain import UNKNOWN_RESOURCE, flow_key
from symbiose.ingest import correction_key, correction_subject
from symbiose.ingest.resources import classify
from symbiose.services.queries import NotFound, Page, iso
from symbiose.services.territories import get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, CorrectionRow, FlowRow, TerritoryRow, utcnow
from symbiose.taxonomy import get_taxonomy
from symbiose.text import fold
from symbiose.units import UnitError, to_yearly

GUESSES = 3


class InvalidCorrection(ValueError):
    """A correction that cannot be made (an HTTP 422): ``field`` names the culprit, the message is French."""

    def __init__(self, field: str, value: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.value = value


@dataclass(frozen=True, slots=True)
class CorrectionResult:
    """A recorded correction and what it changed now."""

    correction: dict[str, Any]
    flows_updated: list[str]  # flow ids after the change
    flows_skipped: list[dict[str, str]]  # flows of the same text the code cannot count (their unit)
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.correction, "flows_updated": self.flows_updated, "flows_skipped": self.flows_skipped,
                "created": self.created}


def key_hash(text: str) -> str:
    """Identity of a correction within a territory: the SHA-1 of the normalised text."""
    return hashlib.sha1(correction_key(text).encode("utf-8")).hexdigest()


def _territory(uow: UnitOfWork, territory: str | TerritoryRow) -> TerritoryRow:
    return territory if isinstance(territory, TerritoryRow) else get_territory(uow, territory)


# --------------------------------------------------------------------------
# Reading corrections (imports)
# --------------------------------------------------------------------------


def territory_corrections(uow: UnitOfWork, territory: str) -> dict[str, str]:
    """``{correction key: code}`` of a territory (empty for a territory that does not exist yet)."""
    rows = uow.session.execute(
        select(CorrectionRow.text, CorrectionRow.code)
        .join(TerritoryRow, TerritoryRow.id == CorrectionRow.territory_id)
        .where(TerritoryRow.code == territory)
    ).all()
    return {correction_key(text): code for text, code in rows}


def corrections_reader(uow: UnitOfWork) -> Callable[[str], Mapping[str, str]]:
    """What an import reads corrections with: one query per territory named in the file."""
    cache: dict[str, dict[str, str]] = {}

    def read(territory: str) -> Mapping[str, str]:
        if territory not in cache:
            cache[territory] = territory_corrections(uow, territory)
        return cache[territory]

    return read


# --------------------------------------------------------------------------
# Review list
# --------------------------------------------------------------------------


def _guesses(flow: FlowRow, naf: str | None) -> list[dict[str, Any]]:
    """The classifier's top guesses for a stored flow, with the evidence it had at import."""
    clf = get_classifier()
    result = classify(clf, flow.text, ewc=flow.ewc, naf=naf, temperature_c=flow.temperature_c,
                      concentration_pct=flow.concentration_pct, unit=flow.raw_unit, direction=flow.direction,
                      description=flow.label or None)
    ranked = [(result.code, result.confidence), *result.alternatives]
    if flow.resource != UNKNOWN_RESOURCE and flow.resource not in [c for c, _ in ranked]:
        ranked.insert(0, (flow.resource, flow.confidence))
    out, seen = [], set()
    for code, confidence in ranked:
        if code == UNKNOWN_RESOURCE or code in seen or code not in clf.taxonomy.resources:
            continue
        seen.add(code)
        out.append({"code": code, "label": clf.label(code), "confidence": round(float(confidence), 3)})
    return out[:GUESSES]


def _needs_review():
    return or_(FlowRow.resource == UNKNOWN_RESOURCE, FlowRow.confidence < LOW_CONFIDENCE)


def review_flows(uow: UnitOfWork, territory: str | TerritoryRow, *, page: int = 1, size: int = 50) -> Page:
    """Flows to review (``unknown`` first, then by rising confidence), each with its top guesses."""
    t = _territory(uow, territory)
    s = uow.session
    where = [FlowRow.territory_id == t.id, _needs_review()]
    total = s.scalar(select(func.count()).select_from(FlowRow).where(*where)) or 0
    rows = s.execute(
        select(FlowRow, CompanyRow.external_id, CompanyRow.name, CompanyRow.naf)
        .join(CompanyRow, CompanyRow.id == FlowRow.company_id)
        .where(*where)
        .order_by((FlowRow.resource != UNKNOWN_RESOURCE), FlowRow.confidence, FlowRow.id)
        .offset((page - 1) * size).limit(size)
    ).all()
    tax = get_taxonomy()
    items = []
    for flow, company_id, company_name, naf in rows:
        items.append({
            "flow_id": flow.uid,
            "company_id": company_id,
            "company_name": company_name,
            "direction": flow.direction,
            "text": flow.text,
            "label": flow.label,
            "ewc": flow.ewc,
            "resource": flow.resource,
            "resource_label": tax.resources[flow.resource].label_fr if flow.resource in tax.resources else "Ressource non reconnue",
            "confidence": round(flow.confidence, 3),
            "reason": "unknown" if flow.resource == UNKNOWN_RESOURCE else "low_confidence",
            "quantity": flow.raw_quantity,
            "unit": flow.raw_unit,
            "period": flow.period,
            "guesses": _guesses(flow, naf),
        })
    return Page(items, total, page, size)


# --------------------------------------------------------------------------
# Corrections
# --------------------------------------------------------------------------


def _as_dict(row: CorrectionRow) -> dict[str, Any]:
    tax = get_taxonomy()
    return {
        "id": row.id,
        "text": row.text,
        "code": row.code,
        "label": tax.resources[row.code].label_fr if row.code in tax.resources else row.code,
        "previous_code": row.previous_code,
        "flow_id": row.flow_uid,
        "actor": row.actor,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def list_corrections(uow: UnitOfWork, territory: str | TerritoryRow, *, page: int = 1, size: int = 50) -> Page:
    """A territory's corrections, the latest first."""
    t = _territory(uow, territory)
    s = uow.session
    total = s.scalar(select(func.count()).select_from(CorrectionRow).where(CorrectionRow.territory_id == t.id)) or 0
    rows = s.scalars(
        select(CorrectionRow).where(CorrectionRow.territory_id == t.id)
        .order_by(CorrectionRow.updated_at.desc(), CorrectionRow.id.desc())
        .offset((page - 1) * size).limit(size)
    ).all()
    return Page([_as_dict(r) for r in rows], total, page, size)


def check_code(code: str) -> str:
    """A taxonomy code a flow may be set to (``unknown`` is no correction)."""
    tax = get_taxonomy()
    clean = (code or "").strip().lower()
    if clean not in tax.resources:
        raise InvalidCorrection("code", code, f"« {code} » n'est pas un code de la taxonomie des ressources "
                                "(cherchez-le par son nom, par exemple « palettes » pour wood.pallet).")
    return clean


def recode_flow(flow: FlowRow, company_external_id: str, code: str) -> None:
    """Give a stored flow a new resource: its yearly quantity, unit, cost and id follow
    (as if it had been imported with that code). Raises :class:`UnitError` when the code
    cannot count the flow's unit."""
    tax = get_taxonomy()
    new = tax.resources[code]
    old = tax.resources.get(flow.resource)
    raw_q = flow.raw_quantity if flow.raw_quantity is not None else flow.quantity
    raw_unit = flow.raw_unit or flow.unit
    yearly = to_yearly(raw_q, raw_unit, flow.period, new)
    if flow.cost_eur_per_unit is not None:
        one_old = to_yearly(1.0, raw_unit, "once", old).quantity
        one_new = to_yearly(1.0, raw_unit, "once", new).quantity
        flow.cost_eur_per_unit = flow.cost_eur_per_unit * one_old / one_new if one_new > 0 else None
    flow.resource = code
    flow.confidence = 1.0
    flow.quantity, flow.unit = yearly.quantity, yearly.unit
    flow.hazardous = bool(flow.hazardous or new.hazardous)
    flow.uid = flow_key(company_external_id, flow.direction, code, flow.label or flow.text)


def _flows_of_subject(uow: UnitOfWork, territory_id: int, subject: str) -> list[tuple[FlowRow, str]]:
    """The territory's flows whose text (or EWC-only subject) reads as ``subject``."""
    key = correction_key(subject)
    rows = uow.session.execute(
        select(FlowRow, CompanyRow.external_id)
        .join(CompanyRow, CompanyRow.id == FlowRow.company_id)
        .where(FlowRow.territory_id == territory_id)
    ).all()
    return [(f, ext) for f, ext in rows if correction_key(correction_subject(f.text, f.ewc)) == key]


def correct(
    uow: UnitOfWork,
    territory: str | TerritoryRow,
    *,
    code: str,
    text: str | None = None,
    flow_id: str | None = None,
    actor: str | None = None,
) -> CorrectionResult:
    """Record that ``text`` (or the text of flow ``flow_id``) means ``code`` in this territory,
    apply it to every flow of that text, and commit.

    A flow whose unit the code cannot count is left as it was (listed in
    ``flows_skipped``); for the flow named by ``flow_id`` that is an error.
    Two animators correcting the same text at once: the later one wins."""
    code_of_territory = territory.code if isinstance(territory, TerritoryRow) else territory
    try:
        return _correct(uow, territory, code=code, text=text, flow_id=flow_id, actor=actor)
    except IntegrityError:  # the same text corrected meanwhile: update that correction instead
        uow.rollback()
        return _correct(uow, code_of_territory, code=code, text=text, flow_id=flow_id, actor=actor)


def _correct(
    uow: UnitOfWork, territory: str | TerritoryRow, *, code: str, text: str | None, flow_id: str | None,
    actor: str | None,
) -> CorrectionResult:
    t = _territory(uow, territory)
    code = check_code(code)
    if (text is None) == (flow_id is None):
        raise InvalidCorrection("text", None, "Donnez soit « text » (un libellé), soit « flow_id » (un flux), pas les deux.")
    s = uow.session
    target: FlowRow | None = None
    if flow_id is not None:
        target = s.scalar(select(FlowRow).where(FlowRow.territory_id == t.id, FlowRow.uid == flow_id))
        if target is None:
            raise NotFound(f"flux {flow_id}")
        subject = correction_subject(target.text, target.ewc)
    else:
        subject = (text or "").strip()
        if not correction_key(subject):
            raise InvalidCorrection("text", text, "Le libellé à corriger est vide.")
    updated, skipped = [], []
    previous = target.resource if target is not None else None
    flows = _flows_of_subject(uow, t.id, subject) if subject else []
    if target is not None and all(f is not target for f, _ in flows):
        ext = s.scalar(select(CompanyRow.external_id).where(CompanyRow.id == target.company_id))
        flows.append((target, ext))
    taken = set(s.scalars(select(FlowRow.uid).where(FlowRow.territory_id == t.id)).all())
    for flow, ext in flows:
        if flow.resource == code and flow.confidence >= 1.0:
            continue
        before = flow.uid
        previous = previous or flow.resource
        try:
            new_uid = flow_key(ext, flow.direction, code, flow.label or flow.text)
            if new_uid != before and new_uid in taken:
                raise InvalidCorrection("code", code, f"l'entreprise {ext} a déjà un flux {code} de ce libellé")
            recode_flow(flow, ext, code)
        except (UnitError, InvalidCorrection) as exc:
            reason = (f"{code} ne se compte pas en {flow.raw_unit or flow.unit}" if isinstance(exc, UnitError)
                      else str(exc))
            if flow is target:
                uow.rollback()
                raise InvalidCorrection("code", code, f"Correction refusée : {reason}.") from None
            skipped.append({"flow_id": before, "reason": reason})
            continue
        taken.discard(before)
        taken.add(flow.uid)
        updated.append(flow.uid)
    created = False
    if subject:
        row = s.scalar(select(CorrectionRow).where(CorrectionRow.territory_id == t.id,
                                                   CorrectionRow.key_hash == key_hash(subject)))
        now = utcnow()
        if row is None:
            row = CorrectionRow(territory_id=t.id, key_hash=key_hash(subject), text=subject, created_at=now,
                                previous_code=previous)
            s.add(row)
            created = True
        row.code, row.actor, row.updated_at = code, actor, now
        row.flow_uid = target.uid if target is not None else row.flow_uid
        s.flush()
        result = _as_dict(row)
    else:
        result = {"text": "", "code": code, "flow_id": target.uid if target else None, "actor": actor}
    uow.commit()
    return CorrectionResult(result, updated, skipped, created)


def accept(uow: UnitOfWork, territory: str | TerritoryRow, flow_id: str, *, actor: str | None = None) -> CorrectionResult:
    """Accept the classifier's top guess for a flow (recorded as a correction)."""
    t = _territory(uow, territory)
    row = uow.session.execute(
        select(FlowRow, CompanyRow.naf).join(CompanyRow, CompanyRow.id == FlowRow.company_id)
        .where(FlowRow.territory_id == t.id, FlowRow.uid == flow_id)
    ).first()
    if row is None:
        raise NotFound(f"flux {flow_id}")
    guesses = _guesses(row[0], row[1])
    if not guesses:
        raise InvalidCorrection("flow_id", flow_id, "Aucune proposition pour ce flux : choisissez un code.")
    return correct(uow, t, code=guesses[0]["code"], flow_id=flow_id, actor=actor)


# --------------------------------------------------------------------------
# Code picker
# --------------------------------------------------------------------------


def search_codes(query: str, *, limit: int = 20) -> list[dict[str, str]]:
    """Taxonomy codes for a French (or English) query: the classifier's reading first,
    then labels, synonyms and codes that contain every word of the query."""
    tax = get_taxonomy()
    words = [w for w in fold(query or "").replace(".", " ").split() if w]
    if not words:
        return []
    found: list[str] = []
    result = get_classifier().classify(query)
    for code, _ in [(result.code, result.confidence), *result.alternatives]:
        if code in tax.resources and code not in found:
            found.append(code)
    scored = []
    for code, res in tax.resources.items():
        label = fold(res.label_fr)
        haystack = " ".join([label, code.replace(".", " ").replace("_", " "), fold(res.label_en or ""),
                             *(fold(s) for s in res.synonyms)])
        if all(w in haystack for w in words):
            rank = 0 if label.startswith(words[0]) else 1 if all(w in label for w in words) else 2
            scored.append((rank, code.count("."), code))
    found += [c for _, _, c in sorted(scored) if c not in found]
    return [{"code": c, "label": tax.resources[c].label_fr} for c in found[:limit]]
