"""Confidential companies as ``portal`` keys see them (``http-api.md``).

A company flagged ``confidential`` in its diagnostic is shown to portal keys
under an anonymised label (``"Entreprise chimie — Fos-sur-Mer (13)"``: a short
sector word from its NAF code, its commune and département), an opaque alias
instead of its id (an HMAC, so it cannot be reversed by trying SIRETs), its
flows' ids aliased the same way and its coordinates rounded to about 1 km —
in every object shown, free text included — until every party of a synergy
has consented to be named (double opt-in); that synergy then names them.

:class:`Redactor` does the rewriting; :func:`load_redactor` builds it for one
territory from the store.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, FlowRow, ImportRow, InstanceSecretRow
from symbiose.text import fold

COORD_DECIMALS = 2  # 0.01° ≈ 1.1 km of latitude, 0.8 km of longitude at 45°N
_COORD_MATCH = 1e-5  # a float this close to a hidden coordinate is that coordinate (outputs round to 1e-6)
SECRET_NAME = "anonymisation-hmac"

# Structure of the NAF rév. 2 (INSEE, Licence Ouverte): each section and the
# two-digit divisions it holds.
NAF_SECTIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39), ("F", 41, 43),
    ("G", 45, 47), ("H", 49, 53), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68),
    ("M", 69, 75), ("N", 77, 82), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93),
    ("S", 94, 96), ("T", 97, 98), ("U", 99, 99),
)
# Short French sector words shown in anonymised labels: one per section, and
# one per division where the section is too broad to say anything (industry,
# energy and waste, transport, hospitality — the firms of business parks).
SECTION_WORDS: dict[str, str] = {
    "A": "agricole", "B": "extraction", "C": "industrie", "D": "énergie", "E": "environnement",
    "F": "BTP", "G": "commerce", "H": "transport", "I": "hôtellerie-restauration", "J": "numérique",
    "K": "finance", "L": "immobilier", "M": "ingénierie et conseil", "N": "services",
    "O": "administration", "P": "enseignement", "Q": "santé", "R": "loisirs", "S": "services",
    "T": "services", "U": "organisation internationale",
}
DIVISION_WORDS: dict[str, str] = {
    "10": "agroalimentaire", "11": "boissons", "12": "tabac", "13": "textile", "14": "habillement",
    "15": "cuir", "16": "bois", "17": "papier-carton", "18": "imprimerie", "19": "raffinage",
    "20": "chimie", "21": "pharmacie", "22": "plasturgie", "23": "matériaux minéraux",
    "24": "métallurgie", "25": "travail des métaux", "26": "électronique", "27": "équipements électriques",
    "28": "machines", "29": "automobile", "30": "matériel de transport", "31": "ameublement",
    "33": "maintenance industrielle", "36": "eau", "37": "assainissement", "38": "déchets",
    "39": "dépollution", "52": "logistique", "55": "hôtellerie", "56": "restauration",
}


def naf_division(naf: str | None) -> str | None:
    """The two-digit division of a NAF code (``"20.13B" -> "20"``), or None."""
    digits = (naf or "").strip()[:2]
    return digits if len(digits) == 2 and digits.isdigit() else None


def sector_word(naf: str | None) -> str | None:
    """A short French sector word for a NAF code (``"20.13B" -> "chimie"``)."""
    from symbiose.taxonomy import get_taxonomy

    division = naf_division(naf)
    if division is None or division not in get_taxonomy().naf_labels:
        return None
    if division in DIVISION_WORDS:
        return DIVISION_WORDS[division]
    number = int(division)
    for section, first, last in NAF_SECTIONS:
        if first <= number <= last:
            return SECTION_WORDS.get(section) or get_taxonomy().naf_labels.get(section, "").lower() or None
    return None


@lru_cache(maxsize=4096)
def place_label(postcode: str | None, city: str | None, lat: float | None, lon: float | None) -> str | None:
    """``"Fos-sur-Mer (13)"`` from a postcode (and city), else from coordinates, else the city."""
    from symbiose.geocode import GeocodeError, get_gazetteer

    gazetteer = get_gazetteer()
    if postcode:
        try:
            return gazetteer.locate(postcode, city).label
        except GeocodeError:
            pass
    if lat is not None and lon is not None:
        place = gazetteer.commune_at(lat, lon)
        if place is not None:
            return place.label
    return city or None


def anonymised_label(naf: str | None, postcode: str | None, city: str | None, lat: float | None, lon: float | None) -> str:
    """``"Entreprise chimie — Fos-sur-Mer (13)"``: sector and place, nothing that names the firm."""
    word = sector_word(naf)
    head = f"Entreprise {word}" if word else "Entreprise"
    place = place_label(postcode, city, lat, lon)
    return f"{head} — {place}" if place else head


_LEGAL_HEAD = re.compile(r"^(?:(?:soci[ée]t[ée]|st[ée]|ets|[ée]tablissements|groupe)\.?\s+)+", re.IGNORECASE)
_LEGAL_TAIL = re.compile(
    r"(?:[\s,]+(?:sas|sasu|sa|sarl|eurl|snc|scop|sca|sci|gie|selarl|scp|s\.a\.s|s\.a|s\.a\.r\.l|france|group)\.?)+$",
    re.IGNORECASE,
)


def name_variants(name: str) -> set[str]:
    """Ways a company's name is written in free text: as stored, without accents,
    without its legal form ("Chimie du Golfe SAS" → "Chimie du Golfe")."""
    base = " ".join(name.split())
    short = _LEGAL_TAIL.sub("", _LEGAL_HEAD.sub("", base)).strip(" ,.-")
    variants = {base, fold(base)}
    if len(short) >= 3:
        variants |= {short, fold(short)}
    return {v for v in variants if len(v) >= 2}


def round_coordinate(value: float | None) -> float | None:
    """A coordinate rounded to about 1 km."""
    return None if value is None else round(value, COORD_DECIMALS)


def make_alias(secret: bytes, territory: str, kind: str, value: str) -> str:
    """A stable opaque alias (``anon-3f2a…``): an HMAC-SHA256 that cannot be reversed without the key."""
    digest = hmac.new(secret, "\x1f".join((kind, territory, value)).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"anon-{digest[:16]}"


_secret_lock = threading.Lock()
_secrets: dict[str, bytes] = {}


def instance_secret(url: str) -> bytes:
    """The HMAC key of aliases: ``SYMBIOSE_ANONYMISATION_SECRET``, else a random key made once and stored."""
    from symbiose.settings import get_settings

    configured = get_settings().anonymisation_secret
    if configured:
        return configured.encode("utf-8")
    with _secret_lock:
        if url in _secrets:
            return _secrets[url]
        with UnitOfWork(url) as uow:
            row = uow.session.get(InstanceSecretRow, SECRET_NAME)
            if row is None:
                uow.session.add(InstanceSecretRow(name=SECRET_NAME, value=secrets.token_hex(32)))
                try:
                    uow.commit()
                except IntegrityError:  # another process made it first
                    uow.rollback()
                row = uow.session.get(InstanceSecretRow, SECRET_NAME)
            _secrets[url] = row.value.encode("utf-8")
        return _secrets[url]


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``terms`` as a whole word or phrase, case ignored."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HiddenCompany:
    """A confidential company and what portal keys see instead of it."""

    external_id: str
    name: str
    alias: str
    label: str
    naf_division: str | None
    city: str | None


class Redactor:
    """Rewrites API objects so that no hidden company is named, identified or exactly located.

    ``scrub`` walks any JSON-like value: a string equal to a hidden company's
    id or one of its flows' ids becomes its alias; names and ids inside text
    become labels and aliases; a number equal to one of their coordinates is
    rounded to about 1 km.
    """

    def __init__(
        self, hidden: Iterable[HiddenCompany], flow_aliases: dict[str, str], coordinates: Iterable[float],
        stamp: tuple[Any, ...] = (),
    ):
        self.stamp = stamp  # the state of the territory it was built from (a cache key)
        self.hidden = {h.external_id: h for h in hidden}
        self._by_alias = {h.alias: h.external_id for h in self.hidden.values()}
        self._exact = {**flow_aliases, **{h.external_id: h.alias for h in self.hidden.values()}}
        self._coords = sorted(set(coordinates))
        replacements: dict[str, str] = {}
        for h in self.hidden.values():
            for name in name_variants(h.name):
                replacements.setdefault(name.lower(), h.label)
            replacements[h.external_id.lower()] = h.alias
        for uid, alias in flow_aliases.items():
            replacements[uid.lower()] = alias
        self._replacements = replacements
        # A text is searched only for the terms whose most telling word it contains,
        # so that the usual text (no hidden company in it) costs one tokenisation.
        self._by_word: dict[str, list[str]] = {}
        for term in replacements:
            words = _WORD.findall(term)
            if words:
                self._by_word.setdefault(max(words, key=len), []).append(term)
        self._memo: dict[str, str] = {}

    @property
    def active(self) -> bool:
        """False when the territory has no confidential company (nothing to rewrite)."""
        return bool(self.hidden)

    def is_hidden(self, company_id: str) -> bool:
        return company_id in self.hidden

    def company_filter(self, given: str) -> str | None:
        """The company a portal filter names: an alias maps back to its company; a
        hidden company's real id matches nothing (it must not be an oracle)."""
        if given in self._by_alias:
            return self._by_alias[given]
        return None if given in self.hidden else given

    def display_name(self, company_id: str, name: str) -> str:
        h = self.hidden.get(company_id)
        return h.label if h else name

    def text(self, value: str) -> str:
        """A string with hidden companies' names, ids and flow ids replaced by labels and aliases."""
        if value in self._exact:
            return self._exact[value]
        done = self._memo.get(value)
        if done is not None:
            return done
        terms = {t for w in _WORD.findall(value.lower()) for t in self._by_word.get(w, ())}
        out = value
        if terms:
            out = _pattern(tuple(sorted(terms, key=len, reverse=True))).sub(
                lambda m: self._replacements.get(m.group(0).lower(), "Entreprise"), value)
        if len(self._memo) > 100_000:
            self._memo.clear()
        self._memo[value] = out
        return out

    def number(self, value: float) -> float:
        i = bisect.bisect_left(self._coords, value - _COORD_MATCH)
        if i < len(self._coords) and self._coords[i] <= value + _COORD_MATCH:
            return round(value, COORD_DECIMALS)
        return value

    def scrub(self, value: Any) -> Any:
        """A copy of ``value`` with every trace of hidden companies rewritten."""
        if not self.hidden:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool) or value is None or isinstance(value, int):
            return value
        if isinstance(value, float):
            return self.number(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(v) for v in value]
        return value

    def company(self, item: dict[str, Any]) -> dict[str, Any]:
        """A company object (``id``, ``name``, ``lat``, ``lon``, ``postcode``, ``naf`` …) as a portal sees it."""
        h = self.hidden.get(item.get("id"))
        if h is None:
            return self.scrub(item)
        out = dict(item)
        out.update(
            id=h.alias, name=h.label, lat=round_coordinate(item.get("lat")), lon=round_coordinate(item.get("lon")),
            postcode=None, naf=h.naf_division,
        )
        return self.scrub(out)

    def flow(self, item: dict[str, Any]) -> dict[str, Any]:
        """A flow object as a portal sees it: a hidden company's free text (as written,
        label, notes) and extra columns are dropped — only its resource code and figures remain."""
        if item.get("company_id") in self.hidden:
            item = {**item, "text": "", "label": "", "notes": "", "attributes": {}}
        return self.scrub(item)

    def synergy(self, item: dict[str, Any], named: bool) -> dict[str, Any]:
        """A synergy as a portal sees it: as is once every party consented (``named``), else scrubbed.

        The firms to approach of a lead ``à compléter`` (``details.prospects``) are no parties:
        their consent is never asked, so a confidential one is anonymised even when ``named``."""
        if not named:
            return self.scrub(item)
        details = item.get("details")
        if self.hidden and isinstance(details, dict) and details.get("prospects"):
            return {**item, "details": {**details, "prospects": self.scrub(details["prospects"])}}
        return item


_redactors: dict[tuple[str, int], tuple[tuple[Any, ...], Redactor]] = {}


def load_redactor(uow: UnitOfWork, territory_id: int, territory_code: str) -> Redactor:
    """The redactor of one territory: its confidential companies, their flows and coordinates.

    Kept in memory per territory and rebuilt when an import or a change of its
    confidential companies has happened since (one small query tells).
    """
    s = uow.session
    confidential = (CompanyRow.territory_id == territory_id, CompanyRow.confidential.is_(True))
    stamp = tuple(s.execute(select(
        select(func.count()).select_from(CompanyRow).where(*confidential).scalar_subquery(),
        select(func.max(CompanyRow.updated_at)).where(*confidential).scalar_subquery(),
        select(func.max(ImportRow.id)).where(ImportRow.territory_id == territory_id).scalar_subquery(),
    )).one())
    key = (uow.url, territory_id)
    cached = _redactors.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    redactor = _build_redactor(uow, territory_id, territory_code, stamp)
    _redactors[key] = (stamp, redactor)
    return redactor


def _build_redactor(uow: UnitOfWork, territory_id: int, territory_code: str, stamp: tuple[Any, ...]) -> Redactor:
    s = uow.session
    rows = s.execute(
        select(CompanyRow.id, CompanyRow.external_id, CompanyRow.name, CompanyRow.naf, CompanyRow.postcode,
               CompanyRow.city, CompanyRow.lat, CompanyRow.lon)
        .where(CompanyRow.territory_id == territory_id, CompanyRow.confidential.is_(True))
    ).all()
    if not rows:
        return Redactor((), {}, (), stamp)
    secret = instance_secret(uow.url)
    hidden, coords = [], []
    for r in rows:
        hidden.append(HiddenCompany(
            external_id=r.external_id, name=r.name, alias=make_alias(secret, territory_code, "company", r.external_id),
            label=anonymised_label(r.naf, r.postcode, r.city, r.lat, r.lon), naf_division=naf_division(r.naf),
            city=r.city,
        ))
        coords.extend(v for v in (r.lat, r.lon) if v is not None)
    flow_aliases = {}
    pks = [r.id for r in rows]
    for uid, lat, lon in s.execute(select(FlowRow.uid, FlowRow.lat, FlowRow.lon).where(FlowRow.company_id.in_(pks))):
        flow_aliases[uid] = make_alias(secret, territory_code, "flow", uid)
        coords.extend(v for v in (lat, lon) if v is not None)
    return Redactor(hidden, flow_aliases, coords, stamp)
