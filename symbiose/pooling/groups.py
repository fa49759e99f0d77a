"""Pooling groups: leader clustering of a family class's members within the family's radius.

Companies are taken in decreasing order of the quantity within reach; each
one, still free, gathers the free companies within the radius around it, and
the gathering becomes a group when it has at least two companies and reaches
``critical_mass``. Each company is in at most one group per family and class;
a company alone far away is simply in none.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from symbiose.domain import Diagnostic, Issue
from symbiose.geo import centroid, chord_for_km, unit_vectors
from symbiose.pooling.members import Member, PoolClass, pooling_members
from symbiose.taxonomy import PoolingFamily, Taxonomy


@dataclass(frozen=True, slots=True)
class Group:
    """Members of one family class close enough, and big enough together, to pool."""

    family: PoolingFamily
    pool_class: PoolClass
    members: tuple[Member, ...]

    @property
    def quantity(self) -> float:
        return sum(m.quantity for m in self.members)

    @property
    def centre(self) -> tuple[float, float]:
        """Centroid of the members on the sphere (lat, lon)."""
        return centroid([m.lat for m in self.members], [m.lon for m in self.members])


def cluster(
    lat: Sequence[float],
    lon: Sequence[float],
    quantity: Sequence[float],
    keys: Sequence[str],
    radius_km: float,
    critical_mass: float,
) -> list[tuple[int, ...]]:
    """Leader clustering: index tuples of the groups formed (see the module doc).

    Deterministic: leaders by decreasing quantity within reach, then by number
    of neighbours, then by ``keys``.
    """
    n = len(keys)
    if n < 2:
        return []
    xyz = unit_vectors(np.asarray(lat), np.asarray(lon))
    q = np.asarray(quantity, dtype=float)
    neighbours = cKDTree(xyz).query_ball_point(xyz, chord_for_km(radius_km), return_sorted=True)
    counts = np.fromiter((len(nb) for nb in neighbours), np.int64, n)  # each point is its own neighbour
    flat = np.fromiter(itertools.chain.from_iterable(neighbours), np.int64, int(counts.sum()))
    reach = np.add.reduceat(q[flat], np.r_[0, np.cumsum(counts)[:-1]]).tolist()
    order = sorted(range(n), key=lambda i: (-reach[i], -len(neighbours[i]), keys[i]))
    taken = np.zeros(n, dtype=bool)
    groups = []
    for i in order:
        if taken[i] or reach[i] < critical_mass:
            continue
        free = [j for j in neighbours[i] if not taken[j]]
        if len(free) >= 2 and q[free].sum() >= critical_mass:
            taken[free] = True
            groups.append(tuple(free))
    return groups


def find_groups(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
) -> tuple[list[Group], list[Issue]]:
    """Groups that reach their family's critical mass, in a deterministic order."""
    members, issues = pooling_members(diagnostic, taxonomy, available)
    groups = []
    for cls in sorted(members, key=lambda c: (c.family, c.hazardous, c.food_grade)):
        family = taxonomy.families[cls.family]
        ms = members[cls]
        for idx in cluster(
            [m.lat for m in ms], [m.lon for m in ms], [m.quantity for m in ms],
            [m.company_id for m in ms], family.radius_km.value, family.critical_mass.value,
        ):
            groups.append(Group(family, cls, tuple(sorted((ms[i] for i in idx), key=lambda m: m.company_id))))
    return groups, issues
