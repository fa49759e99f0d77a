"""The offline map background shared by the web map and the HTML report:
the outlines of the French départements (``basemap/departements.geojson``,
Natural Earth, public domain; see ``tools/build_basemap.py``) and the main
towns around a territory (communes and legal populations of the shipped
``postcodes.csv``, Etalab, Licence Ouverte 2.0)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DEPARTEMENTS = Path(__file__).parent / "basemap" / "departements.geojson"
POSTCODES = Path(__file__).resolve().parents[1] / "taxonomy" / "data" / "postcodes.csv"
MIN_POPULATION = 5_000  # a town shown on the background
MAX_TOWNS = 25


@lru_cache(maxsize=1)
def departements() -> dict[str, Any]:
    """The départements' outlines as a GeoJSON ``FeatureCollection`` (MultiPolygons)."""
    return json.loads(DEPARTEMENTS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _towns() -> tuple[tuple[str, float, float, int], ...]:
    seen: dict[str, tuple[str, float, float, int]] = {}
    with POSTCODES.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            population = int(row["population"] or 0)
            if population >= MIN_POPULATION and row["lat"] and row["insee"] not in seen:
                seen[row["insee"]] = (row["commune"], float(row["lat"]), float(row["lon"]), population)
    return tuple(sorted(seen.values(), key=lambda t: -t[3]))


def towns_near(points: list[tuple[float, float]], *, margin_deg: float = 0.15, limit: int = MAX_TOWNS) -> list[dict[str, Any]]:
    """The most populated towns inside the box of ``points`` (lat, lon) widened by ``margin_deg``:
    ``[{"name", "lat", "lon", "population"}]``, largest first."""
    if not points:
        return []
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    south, north = min(lats) - margin_deg, max(lats) + margin_deg
    west, east = min(lons) - margin_deg, max(lons) + margin_deg
    found = [{"name": n, "lat": la, "lon": lo, "population": pop} for n, la, lo, pop in _towns()
             if south <= la <= north and west <= lo <= east]
    return found[:limit]


def outlines_in(points: list[tuple[float, float]], *, margin_deg: float = 0.3) -> list[list[list[float]]]:
    """The rings ``[[lon, lat], …]`` of the départements that reach the box of ``points`` (for a drawn figure)."""
    if not points:
        return []
    south, north = min(p[0] for p in points) - margin_deg, max(p[0] for p in points) + margin_deg
    west, east = min(p[1] for p in points) - margin_deg, max(p[1] for p in points) + margin_deg
    rings = []
    for feature in departements()["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                if any(west <= lon <= east and south <= lat <= north for lon, lat in ring):
                    rings.append(ring)
    return rings
