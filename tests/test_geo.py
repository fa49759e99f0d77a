"""Geometry on the sphere: distances, unit vectors, chords, centroid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symbiose.geo import (
    EARTH_RADIUS_KM,
    centroid,
    chord_for_km,
    distance_matrix_km,
    haversine_km,
    haversine_rad_km,
    km_for_chord,
    unit_vectors,
    unit_vectors_rad,
)


def test_one_degree_of_latitude():
    # one degree of latitude is about 111.2 km on the mean sphere
    assert haversine_km(43.0, 5.0, 44.0, 5.0) == pytest.approx(111.2, abs=0.1)
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_degrees_and_radians_agree_and_broadcast():
    lat = np.array([43.2965, 43.3, 48.8566])  # Marseille, near it, Paris
    lon = np.array([5.3698, 5.4, 2.3522])
    d = haversine_km(lat[0], lon[0], lat, lon)
    assert d.shape == (3,) and d[0] == 0.0
    assert np.allclose(d, haversine_rad_km(np.radians(lat[0]), np.radians(lon[0]), np.radians(lat), np.radians(lon)))
    assert np.allclose(unit_vectors(lat, lon), unit_vectors_rad(np.radians(lat), np.radians(lon)))
    # Marseille to Paris, about 660 km as the crow flies
    assert 640 < d[2] < 680


def test_matrix_chords_and_back():
    m = distance_matrix_km(np.array([43.0, 43.1, 43.2]), np.array([5.0, 5.1, 5.3]))
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 0.0)
    xyz = unit_vectors(np.array([43.0, 43.1]), np.array([5.0, 5.1]))
    chord = float(np.linalg.norm(xyz[0] - xyz[1]))
    assert chord == pytest.approx(chord_for_km(m[0, 1]), rel=1e-9)
    for km in (0.5, 10.0, 250.0, 5000.0):
        assert float(km_for_chord(chord_for_km(km))) == pytest.approx(km, rel=1e-9)
    assert chord_for_km(1e9) == pytest.approx(2.0)  # never beyond the antipode
    lat1, lon1 = math.radians(43.0), math.radians(5.0)
    for km in (0.5, 10.0, 250.0):  # along a meridian, the arc is the latitude difference
        assert haversine_rad_km(lat1, lon1, lat1 + km / EARTH_RADIUS_KM, lon1) == pytest.approx(km, rel=1e-9)


def test_centroid_of_symmetric_points():
    lat, lon = centroid([43.0, 43.0], [4.0, 6.0])
    assert lon == pytest.approx(5.0)
    assert lat > 43.0  # the great circle bulges towards the pole
    assert centroid([10.0], [20.0]) == pytest.approx((10.0, 20.0))
