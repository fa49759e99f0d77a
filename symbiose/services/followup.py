"""Follow-up of synergies by the park animator, and companies' consent to be named.

Status moves forward along ``proposed → contacted → studied → implemented``;
steps may be skipped forward (an animator often learns of a meeting after
the study), never backward. ``rejected`` can be reached from any other status
and needs a note, the reason ("n'ont pas abouti"); it is final. Sending the
current status again only adds the note. Every change is kept as an event
with its date and actor. The follow-up belongs to the synergy's identity
(type, resource, participants), so it survives re-runs of the matching.

Consent is double opt-in: a synergy names its confidential companies to
portal keys only once every party has consented.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from symbiose.domain import FollowUpStatus
from symbiose.services.queries import find_synergy, get_synergy
from symbiose.services.territories import get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import ConsentRow, FollowUpEventRow, FollowUpRow, SynergyRow, utcnow

FORWARD = (FollowUpStatus.PROPOSED, FollowUpStatus.CONTACTED, FollowUpStatus.STUDIED, FollowUpStatus.IMPLEMENTED)


class TransitionRejected(ValueError):
    """A status change the follow-up does not allow (an HTTP 409)."""

    def __init__(self, current: str, requested: str, message: str):
        super().__init__(message)
        self.current = current
        self.requested = requested


class InvalidFollowUp(ValueError):
    """A follow-up or consent request that is wrong in itself (an HTTP 422); ``field`` names the culprit."""

    def __init__(self, field: str, value: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.value = value


def check_transition(current: str, requested: str) -> None:
    """Raise :class:`TransitionRejected` unless ``current → requested`` is allowed."""
    cur, req = FollowUpStatus(current), FollowUpStatus(requested)
    if cur == FollowUpStatus.REJECTED:
        raise TransitionRejected(cur, req, "la synergie a été écartée (rejected) : son suivi est clos")
    if req == FollowUpStatus.REJECTED:
        return
    if FORWARD.index(req) <= FORWARD.index(cur):
        raise TransitionRejected(
            cur, req, f"le suivi avance seulement : {cur.value} ne peut pas revenir à {req.value}"
        )


def _followup(uow: UnitOfWork, row: SynergyRow) -> FollowUpRow:
    follow = uow.session.scalar(
        select(FollowUpRow).where(FollowUpRow.territory_id == row.territory_id, FollowUpRow.key_hash == row.key_hash)
    )
    if follow is None:  # a run stores one per new key; this only guards older data
        follow = FollowUpRow(territory_id=row.territory_id, key_hash=row.key_hash, status=FollowUpStatus.PROPOSED.value)
        uow.session.add(follow)
        uow.session.flush()
    return follow


def update_followup(
    uow: UnitOfWork, territory: str, synergy_id: str, *, status: str | None = None, note: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Move the follow-up of a synergy of the latest run (and/or add a note); commits; returns the synergy."""
    t = get_territory(uow, territory)
    row = find_synergy(uow, t, synergy_id)
    follow = _followup(uow, row)
    note = note.strip() if note is not None else None
    new = follow.status if status is None else FollowUpStatus(status).value
    if new != follow.status:
        check_transition(follow.status, new)
    if new == FollowUpStatus.REJECTED.value and new != follow.status and not note:
        raise InvalidFollowUp("note", note, "une synergie écartée (rejected) demande une note : la raison")
    if new != follow.status or note:
        # compare-and-set: the row moves only if its status is still the one checked above, so two
        # requests racing cannot move it backwards; the loser is told (409) and writes nothing
        values: dict[str, Any] = {"status": new, "updated_at": utcnow()}
        if note:
            values["note"] = note
        moved = uow.session.execute(
            update(FollowUpRow).where(FollowUpRow.id == follow.id, FollowUpRow.status == follow.status)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            uow.rollback()
            raise TransitionRejected(FollowUpStatus(follow.status), FollowUpStatus(new), "le suivi vient d'être modifié par une autre requête : "
                                     "relisez la synergie puis recommencez")
        uow.session.add(FollowUpEventRow(followup_id=follow.id, status=new, note=note or None, actor=actor))
        uow.commit()
        uow.session.expire(follow)
    return get_synergy(uow, t, synergy_id)


def record_consent(
    uow: UnitOfWork, territory: str, synergy_id: str, company_id: str
) -> dict[str, Any]:
    """Record that ``company_id``, a party of the synergy, agrees to be named to the other parties; commits.

    Returns ``{"synergy_id", "company_id", "consents", "pending", "named"}``;
    ``named`` is true once every party has consented.
    """
    t = get_territory(uow, territory)
    row = find_synergy(uow, t, synergy_id)
    parties = set(row.company_ids or ())
    if company_id not in parties:
        raise InvalidFollowUp("company_id", company_id, "attendu : l'identifiant d'une entreprise partie à cette synergie")
    s = uow.session
    exists = s.scalar(select(ConsentRow.id).where(
        ConsentRow.territory_id == t.id, ConsentRow.key_hash == row.key_hash,
        ConsentRow.company_external_id == company_id,
    ))
    if exists is None:
        s.add(ConsentRow(territory_id=t.id, key_hash=row.key_hash, company_external_id=company_id))
        try:
            uow.commit()
        except IntegrityError:  # the same consent recorded at the same time by another request
            uow.rollback()
    given = set(s.scalars(select(ConsentRow.company_external_id).where(
        ConsentRow.territory_id == t.id, ConsentRow.key_hash == row.key_hash
    )))
    return {
        "synergy_id": synergy_id,
        "company_id": company_id,
        "consents": sorted(given & parties),
        "pending": sorted(parties - given),
        "named": parties <= given,
    }
