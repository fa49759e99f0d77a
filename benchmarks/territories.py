"""Seeded synthetic territories for the benchmarks: the even generator and the dense one.

``even``: companies in business parks of 30 scattered over a square region
whose area grows with the number of flows (constant density: 1 000 flows ≈
a département, 100 000 ≈ mainland France), 2 to 6 flows per company drawn
from the taxonomy's leaf codes with an uneven mix, yearly quantities
log-normal around a typical size per unit.

``dense``: the same companies and flows, but clustered around 18 French
industrial towns (weighted by size, spread growing slowly with n) and a
third of the flows piped (the leaf codes whose infrastructure is a pipe:
heat, steam, water, gases), so links with a fixed cost dominate the
optimiser. Coordinates of the towns are their town halls, rounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from symbiose.domain import ALL_MONTHS, Company, Diagnostic, Direction, Flow, months_mask
from symbiose.taxonomy import Taxonomy

FLOWS_PER_KM2 = 100_000 / 550_000  # 100 000 flows over mainland France's area
CENTRE = (46.5, 2.5)
PARK_COMPANIES = 30
PARK_RADIUS_KM = 1.5
TYPICAL = {"t": 80.0, "MWh": 2_000.0, "m3": 5_000.0, "unit": 2_000.0}  # median yearly quantity per unit
KM_LAT = 111.195
PIPED_SHARE = 1 / 3

# (town, lat, lon, weight): industrial towns of mainland France
TOWNS = (
    ("Fos-sur-Mer", 43.44, 4.94, 3.0), ("Le Havre", 49.49, 0.11, 3.0), ("Dunkerque", 51.03, 2.38, 3.0),
    ("Lyon", 45.76, 4.84, 2.5), ("Marseille", 43.30, 5.37, 2.0), ("Lille", 50.63, 3.06, 2.0),
    ("Rouen", 49.44, 1.10, 2.0), ("Strasbourg", 48.58, 7.75, 1.5), ("Saint-Nazaire", 47.27, -2.21, 1.5),
    ("Toulouse", 43.60, 1.44, 1.5), ("Bordeaux", 44.84, -0.58, 1.5), ("Grenoble", 45.19, 5.72, 1.0),
    ("Mulhouse", 47.75, 7.34, 1.0), ("Lacq", 43.41, -0.63, 1.0), ("Metz", 49.12, 6.18, 1.0),
    ("Clermont-Ferrand", 45.78, 3.08, 1.0), ("Montpellier", 43.61, 3.88, 1.0), ("Rennes", 48.11, -1.68, 1.0),
)


def _leaf_codes(taxonomy: Taxonomy) -> list[str]:
    codes = sorted(
        code
        for code in taxonomy.resources
        if not any(other.startswith(code + ".") for other in taxonomy.resources)
    )
    if not codes:
        raise SystemExit("the taxonomy has no resource codes")
    return codes


def _flow(rng: np.random.Generator, taxonomy: Taxonomy, code: str, fid: str, cid: str, lat: float, lon: float) -> Flow:
    res = taxonomy.get(code)
    direction = Direction.OUT if rng.random() < 0.5 else Direction.IN
    qty = float(rng.lognormal(math.log(TYPICAL.get(res.unit, 100.0)), 1.0))
    temp = conc = None
    if res.temperature_range_c:
        temp = float(round(rng.uniform(*res.temperature_range_c)))
    if res.concentration_range_pct:
        conc = float(round(rng.uniform(*res.concentration_range_pct), 1))
    months = ALL_MONTHS
    if rng.random() < 0.15:
        start = int(rng.integers(1, 13))
        months = months_mask([(start + m - 1) % 12 + 1 for m in range(int(rng.integers(3, 10)))])
    return Flow(id=fid, company_id=cid, direction=direction, resource=code, quantity=qty, unit=res.unit,
                lat=lat, lon=lon, months=months, temperature_c=temp, concentration_pct=conc, hazardous=res.hazardous)


def even_territory(n_flows: int, taxonomy: Taxonomy, seed: int = 7) -> Diagnostic:
    """A seeded territory of about ``n_flows`` flows spread evenly (see the module docstring)."""
    rng = np.random.default_rng(seed)
    codes = _leaf_codes(taxonomy)
    side_km = math.sqrt(n_flows / FLOWS_PER_KM2)
    km_lon = KM_LAT * math.cos(math.radians(CENTRE[0]))
    n_companies = max(2, n_flows // 4)
    n_parks = max(1, n_companies // PARK_COMPANIES)
    park_xy = rng.uniform(-side_km / 2, side_km / 2, size=(n_parks, 2))
    companies: list[Company] = []
    flows: list[Flow] = []
    weights = rng.dirichlet(np.full(len(codes), 0.7))  # a realistic, uneven mix of resources
    ci = 0
    while len(flows) < n_flows:
        park = park_xy[ci % n_parks]
        dx, dy = rng.normal(0.0, PARK_RADIUS_KM / 2, size=2)
        lat = CENTRE[0] + (park[1] + dy) / KM_LAT
        lon = CENTRE[1] + (park[0] + dx) / km_lon
        cid = f"C{ci:06d}"
        companies.append(Company(id=cid, name=f"Entreprise {ci}", lat=lat, lon=lon))
        for k in range(int(rng.integers(2, 7))):
            if len(flows) >= n_flows:
                break
            code = codes[int(rng.choice(len(codes), p=weights))]
            flows.append(_flow(rng, taxonomy, code, f"F-{ci:06d}-{k}", cid, lat, lon))
        ci += 1
    return Diagnostic(territory=f"even-{n_flows}", companies=tuple(companies), flows=tuple(flows))


def dense_territory(n_flows: int, taxonomy: Taxonomy, seed: int = 13) -> Diagnostic:
    """A seeded territory of about ``n_flows`` flows clustered around 18 towns, a third piped."""
    rng = np.random.default_rng(seed)
    codes = _leaf_codes(taxonomy)
    piped = [c for c in codes if taxonomy.get(c).infrastructure == "pipe"]
    other = [c for c in codes if c not in set(piped)]
    if not piped:
        raise SystemExit("the taxonomy has no piped resource")
    w_piped = rng.dirichlet(np.full(len(piped), 1.0))
    w_other = rng.dirichlet(np.full(len(other), 0.7))
    town_w = np.array([t[3] for t in TOWNS])
    town_w /= town_w.sum()
    # a town's industrial zone widens slowly as the territory grows (3 km at 5 000 flows)
    sigma_km = min(25.0, 3.0 * (max(n_flows, 1_000) / 5_000) ** 0.4)
    companies: list[Company] = []
    flows: list[Flow] = []
    ci = 0
    while len(flows) < n_flows:
        _, t_lat, t_lon, _ = TOWNS[int(rng.choice(len(TOWNS), p=town_w))]
        # companies sit in parks around the town: a park centre, then the company in it
        px, py = rng.normal(0.0, sigma_km, size=2)
        dx, dy = rng.normal(0.0, PARK_RADIUS_KM / 3, size=2)
        lat = t_lat + (py + dy) / KM_LAT
        lon = t_lon + (px + dx) / (KM_LAT * math.cos(math.radians(t_lat)))
        cid = f"C{ci:07d}"
        companies.append(Company(id=cid, name=f"Entreprise {ci}", lat=lat, lon=lon))
        for k in range(int(rng.integers(2, 7))):
            if len(flows) >= n_flows:
                break
            if rng.random() < PIPED_SHARE:
                code = piped[int(rng.choice(len(piped), p=w_piped))]
            else:
                code = other[int(rng.choice(len(other), p=w_other))]
            flows.append(_flow(rng, taxonomy, code, f"F-{ci:07d}-{k}", cid, lat, lon))
        ci += 1
    return Diagnostic(territory=f"dense-{n_flows}", companies=tuple(companies), flows=tuple(flows))


GENERATORS: dict[str, Callable[[int, Taxonomy], Diagnostic]] = {"even": even_territory, "dense": dense_territory}
