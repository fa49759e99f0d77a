"""Geometry on the Earth's mean sphere: the one home of the radius and the
distance formulas every module uses (candidates, pooling, routing, geocoding).

Angles are degrees unless a name ends in ``_rad``. Distances are great-circle
kilometres. Spatial indexes (scipy ``cKDTree``) work on 3-D unit vectors,
where the straight-line *chord* between two points grows with their
great-circle distance: :func:`chord_for_km` and :func:`km_for_chord` convert
a radius from one to the other. Every function takes scalars or numpy
arrays (broadcasting) and returns numpy values.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def unit_vectors_rad(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """Points given in radians on the unit sphere (n × 3)."""
    la, lo = np.asarray(lat, dtype=float).reshape(-1), np.asarray(lon, dtype=float).reshape(-1)
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """Points given in degrees on the unit sphere (n × 3), for Euclidean spatial indexes."""
    return unit_vectors_rad(np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float)))


def chord_for_km(km: float) -> float:
    """Straight-line distance between unit-sphere points ``km`` apart on the ground."""
    return 2.0 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2.0)


def km_for_chord(chord: ArrayLike) -> np.ndarray:
    """Great-circle km between unit-sphere points ``chord`` apart (inverse of :func:`chord_for_km`)."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))


def haversine_rad_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points given in radians (broadcasts)."""
    lat1, lat2 = np.asarray(lat1, dtype=float), np.asarray(lat2, dtype=float)
    dl = np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float)
    a = np.sin((lat2 - lat1) / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (scalars or arrays, broadcasts)."""
    return haversine_rad_km(*(np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)))


def distance_matrix_km(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """All pairwise great-circle distances (n × n, km) of points given in degrees."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    return haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def centroid(lat: ArrayLike, lon: ArrayLike) -> tuple[float, float]:
    """Centre (lat, lon in degrees) of points on the sphere: the normalised mean of their unit vectors."""
    x, y, z = unit_vectors(lat, lon).mean(axis=0)
    norm = math.sqrt(x * x + y * y + z * z)
    return math.degrees(math.asin(z / norm)), math.degrees(math.atan2(y, x))
