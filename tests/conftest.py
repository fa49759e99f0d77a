"""Shared test fixtures: small hand-made taxonomies and diagnostics.

``make_taxonomy(dir, ...)`` writes YAML files into ``dir`` and loads them with
the real loader, so tests do not depend on the shipped figures. The
``small_taxonomy`` fixture is one such taxonomy (session-wide). ``flow``,
``company`` and ``diagnostic`` build domain objects with short defaults.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from symbiose.domain import ALL_MONTHS, Company, Diagnostic, Direction, Flow
from symbiose.taxonomy import Taxonomy, load_taxonomy

SOURCE = "test-src"


def fig(value: float) -> dict[str, Any]:
    """A taxonomy figure with the test source."""
    return {"value": value, "source": SOURCE}


TEST_PARAMETERS: dict[str, float] = {
    "transport_eur_per_tkm": 0.1,
    "transport_co2_kg_per_tkm": 0.1,
    "truck_eur_per_km": 1.5,
    "handling_eur_per_t": 2.0,
    "pipe_cost_eur_per_m": 500.0,
    "pipe_annuity_years": 20.0,
    "discount_rate": 0.04,
    "default_max_distance_km": 30.0,
}

TEST_RESOURCES: list[dict[str, Any]] = [
    {"code": "wood", "label_fr": "Bois", "label_en": "Wood", "unit": "t",
     "max_distance_km": fig(50), "disposal_cost_eur": fig(60), "purchase_price_eur": fig(40),
     "co2_virgin_kg": fig(100), "co2_treatment_kg": fig(20)},
    {"code": "wood.pallet", "label_fr": "Palettes bois", "label_en": "Wooden pallets", "unit": "unit",
     "unit_mass_t": fig(0.025), "disposal_cost_eur": fig(2), "purchase_price_eur": fig(8),
     "co2_virgin_kg": fig(10), "co2_treatment_kg": fig(1), "ewc": ["150103"]},
    {"code": "wood.pallet.euro", "label_fr": "Palettes EUR", "label_en": "EUR pallets"},
    {"code": "energy", "label_fr": "Énergie", "label_en": "Energy", "unit": "MWh", "infrastructure": "pipe",
     "max_distance_km": fig(5), "purchase_price_eur": fig(50), "co2_virgin_kg": fig(200), "disposal_cost_eur": fig(0)},
    {"code": "energy.heat", "label_fr": "Chaleur", "label_en": "Heat", "temperature_range_c": [30, 120]},
    {"code": "energy.steam", "label_fr": "Vapeur", "label_en": "Steam", "temperature_range_c": [100, 300],
     "purchase_price_eur": fig(60)},
    {"code": "chemical", "label_fr": "Produits chimiques", "label_en": "Chemicals", "unit": "t",
     "max_distance_km": fig(100), "hazardous": True, "disposal_cost_eur": fig(150), "purchase_price_eur": fig(120),
     "co2_virgin_kg": fig(300)},
    {"code": "chemical.acid", "label_fr": "Acides", "label_en": "Acids"},
    {"code": "chemical.acid.hcl", "label_fr": "Acide chlorhydrique", "label_en": "Hydrochloric acid",
     "concentration_range_pct": [10, 37]},
    {"code": "oil", "label_fr": "Huiles", "label_en": "Oils", "unit": "t", "max_distance_km": fig(40),
     "disposal_cost_eur": fig(80), "purchase_price_eur": fig(500)},
    {"code": "oil.cooking_used", "label_fr": "Huiles alimentaires usagées", "label_en": "Used cooking oil"},
    {"code": "water", "label_fr": "Eau", "label_en": "Water", "unit": "m3", "infrastructure": "pipe",
     "density_t_per_m3": fig(1.0), "max_distance_km": fig(3), "purchase_price_eur": fig(3),
     "disposal_cost_eur": fig(1)},
    {"code": "water.demineralised", "label_fr": "Eau déminéralisée", "label_en": "Demineralised water",
     "purchase_price_eur": fig(6)},
    {"code": "paper", "label_fr": "Papiers", "label_en": "Paper", "unit": "t",
     "disposal_cost_eur": fig(90), "purchase_price_eur": fig(30)},
]

TEST_RULES: list[dict[str, Any]] = [
    {"id": "R-steam-heat", "supply": "energy.steam", "demand": "energy.heat", "ratio": 0.9,
     "conditions": {"temperature": True}, "label_fr": "Vapeur pour chauffage", "source": SOURCE},
    {"id": "R-hcl", "supply": "chemical.acid.hcl", "demand": "chemical.acid.hcl",
     "conditions": {"concentration_tolerance_pct": 2.0, "hazardous_ok": False},
     "label_fr": "Acide chlorhydrique de même qualité", "source": SOURCE},
    {"id": "R-oil-heat", "supply": "oil.cooking_used", "demand": "energy.heat", "ratio": 10.0,
     "max_distance_km": fig(40), "label_fr": "Huile usagée brûlée en chaudière", "source": SOURCE},
]


def make_taxonomy(
    directory: Path,
    *,
    resources: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    parameters: dict[str, float] | None = None,
) -> Taxonomy:
    """Write a small taxonomy into ``directory`` and load it with the real loader."""
    directory.mkdir(parents=True, exist_ok=True)
    params = TEST_PARAMETERS if parameters is None else parameters
    files = {
        "sources.yaml": {SOURCE: {"title": "Test figures", "publisher": "symbiose tests", "year": 2026}},
        "parameters.yaml": {"parameters": {k: fig(v) for k, v in params.items()}},
        "resources.yaml": {"resources": TEST_RESOURCES if resources is None else resources},
        "rules.yaml": {"rules": TEST_RULES if rules is None else rules},
        "pooling.yaml": {"families": []},
    }
    for name, data in files.items():
        (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_taxonomy(directory)


@pytest.fixture(scope="session")
def small_taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    """The hand-made test taxonomy (resources, rules and parameters above)."""
    return make_taxonomy(tmp_path_factory.mktemp("taxonomy"))


# Reference point (Fos-sur-Mer area) and small offsets in km
LAT0, LON0 = 43.44, 4.94
KM_PER_DEG_LAT = 111.195


def at_km(east_km: float = 0.0, north_km: float = 0.0) -> tuple[float, float]:
    """Coordinates ``east_km`` east and ``north_km`` north of the reference point."""
    import math

    lat = LAT0 + north_km / KM_PER_DEG_LAT
    lon = LON0 + east_km / (KM_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    return lat, lon


def company(cid: str, east_km: float = 0.0, north_km: float = 0.0, **kw: Any) -> Company:
    lat, lon = at_km(east_km, north_km)
    return Company(id=cid, name=kw.pop("name", f"Société {cid}"), lat=lat, lon=lon, **kw)


def flow(
    fid: str,
    company_id: str,
    direction: str,
    resource: str,
    quantity: float,
    *,
    unit: str = "t",
    at: tuple[float, float] | None = None,
    months: int = ALL_MONTHS,
    **kw: Any,
) -> Flow:
    """A flow; ``at`` is (east_km, north_km) from the reference point (default: its company's place is used)."""
    lat, lon = at_km(*at) if at is not None else (None, None)
    return Flow(
        id=fid,
        company_id=company_id,
        direction=Direction(direction),
        resource=resource,
        quantity=quantity,
        unit=unit,
        lat=lat,
        lon=lon,
        months=months,
        **kw,
    )


def diagnostic(companies: list[Company], flows: list[Flow], territory: str = "test") -> Diagnostic:
    """A diagnostic whose flows without coordinates take their company's."""
    by_id = {c.id: c for c in companies}
    placed = []
    for f in flows:
        if f.lat is None and f.company_id in by_id:
            c = by_id[f.company_id]
            f = replace(f, lat=c.lat, lon=c.lon)
        placed.append(f)
    return Diagnostic(territory=territory, companies=tuple(companies), flows=tuple(placed))
