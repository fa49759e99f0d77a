"""Firms to approach for a group below its critical mass ("à compléter").

From the territory's companies, those within the family's radius of the
group's centre that are not in a group of the same family class already,
ranked by how likely they are to need it:

1. the company declares a flow of the family that no group took (it is
   poolable, just not reached by the clustering);
2. its NAF code starts with one of the family's ``naf_hints`` (pooling.yaml)
   or of its member resources' ``naf_hints`` (resources.yaml);
3. it shares a NAF division (two digits) with a member.

then by distance to the centre and company id. A family that names no NAF
at all (a service any firm may use) lists the nearest companies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from symbiose.domain import Company
from symbiose.geo import chord_for_km, haversine_km, unit_vectors
from symbiose.pooling.groups import Group
from symbiose.taxonomy import PoolingFamily, Taxonomy

MAX_PROSPECTS = 10  # firms listed for one group at most
MIN_PROSPECTS = 3  # ... and at least this many when there are
DECLARED, HINTED, SAME_SECTOR, NEARBY = 3, 2, 1, 0  # why a firm is listed, best first
WHY_FR = {
    DECLARED: "déclare déjà ce besoin ou ce flux",
    HINTED: "secteur d'activité concerné",
    SAME_SECTOR: "même secteur qu'un membre du groupe",
    NEARBY: "entreprise voisine",
}


@dataclass(frozen=True, slots=True)
class Prospect:
    """A company to approach for a group, and why."""

    company_id: str
    name: str
    naf: str | None
    distance_km: float
    why: int  # DECLARED, HINTED, SAME_SECTOR or NEARBY

    def as_dict(self) -> dict:
        return {
            "company_id": self.company_id,
            "name": self.name,
            "naf": self.naf,
            "distance_km": round(self.distance_km, 3),
            "why": WHY_FR[self.why],
        }


def _naf_key(naf: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (naf or "").upper())


class Recruiter:
    """The territory's companies indexed once; :meth:`prospects` per incomplete group."""

    def __init__(self, companies: Iterable[Company], taxonomy: Taxonomy) -> None:
        self._companies = sorted((c for c in companies if c.lat is not None and c.lon is not None),
                                 key=lambda c: c.id)
        self._taxonomy = taxonomy
        self._tree = (cKDTree(unit_vectors(np.array([c.lat for c in self._companies]),
                                           np.array([c.lon for c in self._companies])))
                      if self._companies else None)
        self._hints: dict[str, tuple[str, ...]] = {}
        self._naf = [_naf_key(c.naf) for c in self._companies]  # normalised once per company

    def hints(self, family: PoolingFamily) -> tuple[str, ...]:
        """NAF prefixes (normalised) of the family and of its member resources."""
        if family.id not in self._hints:
            tax = self._taxonomy
            found = {_naf_key(h) for h in family.naf_hints}
            for code, resource in tax.resources.items():
                if resource.naf_hints and any(tax.is_under(code, m) for m in family.members):
                    found.update(_naf_key(h) for h in resource.naf_hints)
            self._hints[family.id] = tuple(sorted(h for h in found if h))
        return self._hints[family.id]

    def prospects(self, group: Group, taken: set[str], declared: Mapping[str, object], wanted: int) -> list[Prospect]:
        """Up to ``wanted`` companies to approach for ``group`` (at least :data:`MIN_PROSPECTS`,
        at most :data:`MAX_PROSPECTS`); ``taken``: company ids already in a group of its class;
        ``declared``: company ids with a flow of the family's class that no group took."""
        if self._tree is None:
            return []
        family = group.family
        lat, lon = group.centre
        centre = unit_vectors(np.array([lat]), np.array([lon]))[0]
        near = sorted(self._tree.query_ball_point(centre, chord_for_km(family.radius_km.value)))
        if not near:
            return []
        hints = self.hints(family)
        member_ids = {m.company_id for m in group.members}
        divisions = {self._naf[i][:2] for i in near if self._companies[i].id in member_ids and self._naf[i]}
        found = []
        cand = [i for i in near if self._companies[i].id not in taken and self._companies[i].id not in member_ids]
        if not cand:
            return []
        dist = haversine_km(lat, lon, np.array([self._companies[i].lat for i in cand]),
                            np.array([self._companies[i].lon for i in cand]))
        for i, d in zip(cand, dist):
            c, naf = self._companies[i], self._naf[i]
            if c.id in declared:
                why = DECLARED
            elif naf and any(naf.startswith(h) for h in hints):
                why = HINTED
            elif naf and naf[:2] in divisions:
                why = SAME_SECTOR
            elif not hints:
                why = NEARBY
            else:
                continue
            found.append(Prospect(c.id, c.name, c.naf, float(d), why))
        found.sort(key=lambda p: (-p.why, round(p.distance_km, 6), p.company_id))
        limit = min(MAX_PROSPECTS, max(MIN_PROSPECTS, wanted))
        return found[:limit]


def wanted_prospects(missing_companies: int) -> int:
    """Firms worth listing for a group that lacks ``missing_companies``: twice as many (not all say yes)."""
    return int(math.ceil(2 * max(1, missing_companies)))
