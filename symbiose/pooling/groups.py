"""Pooling groups: leader clustering of a family class's members within the family's radius.

Companies are taken in decreasing order of the quantity within reach; each
one, still free, gathers the free companies within the radius around it, and
the gathering becomes a group when it has at least two companies and reaches
the family's critical mass: ``critical_participants`` companies when the family
gives that figure (a shared patrol, a group order: the number of firms decides),
else ``critical_mass`` of yearly quantity. Each company is in at most one group
per family and class; a company alone far away is simply in none.

The companies left free then gather the same way with no threshold: a group of
two or more that stays below the critical mass is kept as *incomplete*
(``complete=False``), the lead an animator brings to the next club meeting
("six entreprises veulent du gardiennage de nuit ; deux de plus et une ronde
commune est rentable"), never a saving counted in the plan.
"""

from __future__ import annotations

import itertools
import math
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
    """Members of one family class close enough to pool; ``complete``: they reach the critical mass."""

    family: PoolingFamily
    pool_class: PoolClass
    members: tuple[Member, ...]
    complete: bool = True

    @property
    def quantity(self) -> float:
        return sum(m.quantity for m in self.members)

    @property
    def centre(self) -> tuple[float, float]:
        """Centroid of the members on the sphere (lat, lon)."""
        return centroid([m.lat for m in self.members], [m.lon for m in self.members])

    def missing(self) -> tuple[int, float]:
        """What the group lacks to reach its critical mass: (companies, quantity in the family unit).

        By participants when the family counts them (the quantity then 0), else by
        quantity, with the companies that amount takes at the members' mean size."""
        family, n = self.family, len(self.members)
        if family.critical_participants is not None:
            return max(0, math.ceil(family.critical_participants.value) - n), 0.0
        lacking = max(0.0, family.critical_mass.value - self.quantity)
        mean = self.quantity / n if n else 0.0
        return (math.ceil(lacking / mean - 1e-9) if mean > 0 and lacking > 0 else 0), lacking


REACH_CHUNK = 4096  # points whose neighbour lists are held at once


def _reaches(count: int, quantity: float, critical_mass: float, critical_participants: float | None) -> bool:
    if count < 2:
        return False
    if critical_participants is not None:
        return count >= critical_participants
    return quantity >= critical_mass


def cluster(
    lat: Sequence[float],
    lon: Sequence[float],
    quantity: Sequence[float],
    keys: Sequence[str],
    radius_km: float,
    critical_mass: float,
    *,
    critical_participants: float | None = None,
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Leader clustering (see the module doc): index tuples of the groups that
    reach the critical mass, and of the incomplete groups of the companies left.

    Deterministic: leaders by decreasing quantity within reach (companies within
    reach when participants decide), then by number of neighbours, then by ``keys``.
    """
    n = len(keys)
    if n < 2:
        return [], []
    xyz = unit_vectors(np.asarray(lat), np.asarray(lon))
    q = np.asarray(quantity, dtype=float)
    tree = cKDTree(xyz)
    chord = chord_for_km(radius_km)
    reach, within = _reach(tree, xyz, q, chord)
    by_count = critical_participants is not None
    order = sorted(range(n), key=lambda i: (
        (-within[i], -reach[i]) if by_count else (-reach[i], -within[i]), keys[i]))
    taken = np.zeros(n, dtype=bool)

    def free_around(i: int) -> np.ndarray:  # neighbour lists are asked one leader at a time: memory stays O(n)
        near = np.asarray(tree.query_ball_point(xyz[i], chord), dtype=np.int64)
        return np.sort(near[~taken[near]])

    complete, incomplete = [], []
    for i in order:
        if taken[i] or not _reaches(within[i], reach[i], critical_mass, critical_participants):
            continue
        free = free_around(i)
        if _reaches(len(free), float(q[free].sum()), critical_mass, critical_participants):
            taken[free] = True
            complete.append(tuple(free.tolist()))
    for i in order:
        if taken[i]:
            continue
        free = free_around(i)
        if len(free) >= 2:
            taken[free] = True
            incomplete.append(tuple(free.tolist()))
    return complete, incomplete


def _reach(tree: cKDTree, xyz: np.ndarray, q: np.ndarray, chord: float) -> tuple[list[float], list[int]]:
    """Quantity and number of points within ``chord`` of each point (itself included),
    by chunks of :data:`REACH_CHUNK` points so that the neighbour lists never all sit in memory."""
    reach = np.empty(len(q))
    within = np.empty(len(q), dtype=np.int64)
    for start in range(0, len(q), REACH_CHUNK):
        neighbours = tree.query_ball_point(xyz[start:start + REACH_CHUNK], chord)
        counts = np.fromiter((len(nb) for nb in neighbours), np.int64, len(neighbours))
        flat = np.fromiter(itertools.chain.from_iterable(neighbours), np.int64, int(counts.sum()))
        reach[start:start + len(counts)] = np.add.reduceat(q[flat], np.r_[0, np.cumsum(counts)[:-1]])
        within[start:start + len(counts)] = counts
    return reach.tolist(), within.tolist()


def find_groups(
    diagnostic: Diagnostic,
    taxonomy: Taxonomy,
    available: Mapping[str, float] | None = None,
    *,
    incomplete: bool = False,
) -> tuple[list[Group], list[Issue]]:
    """Groups that reach their family's critical mass, in a deterministic order;
    ``incomplete``: the groups below it too (``complete=False``), after them."""
    members, issues = pooling_members(diagnostic, taxonomy, available)
    groups, below = [], []
    for cls in sorted(members, key=lambda c: (c.family, c.hazardous, c.food_grade)):
        family = taxonomy.families[cls.family]
        ms = members[cls]
        full, partial = cluster(
            [m.lat for m in ms], [m.lon for m in ms], [m.quantity for m in ms],
            [m.company_id for m in ms], family.radius_km.value, family.critical_mass.value,
            critical_participants=family.critical_participants.value if family.critical_participants else None,
        )
        for idx in full:
            groups.append(Group(family, cls, tuple(sorted((ms[i] for i in idx), key=lambda m: m.company_id))))
        if incomplete:
            for idx in partial:
                below.append(Group(family, cls, tuple(sorted((ms[i] for i in idx), key=lambda m: m.company_id)),
                                   complete=False))
    return groups + below, issues
