"""Candidate exchanges: which output flow can feed which input flow.

An output (``out``) flow can feed an input (``in``) flow of another company
when, by a :class:`Link`:

- the codes are the same, or the supply code is a descendant of the demand
  code (the supply is more specific than the need), or a substitution rule of
  the taxonomy covers both codes (``rule.supply`` prefix covers the supply,
  ``rule.demand`` the demand);
- quality holds: supply temperature ≥ need temperature (rules with
  ``temperature``, and resources with a temperature range) and
  ``|supply − need| ≤ tolerance`` for concentrations, each only when both
  values are known; a hazardous supply goes only to a receiver that flags its
  input hazardous or whose resource is hazardous, unless ``hazardous_ok``;
- their months overlap; the quantity is the supply available in the shared
  months, capped by the need in those months;
- the great-circle distance is at most the link's ``max_distance_km``
  (rule, else supply resource, else the ``default_max_distance_km``
  parameter).

A rule that covers a pair of codes also sets the quality conditions of a
same-code or descendant match of that pair (its tolerance and
``hazardous_ok``). When several links apply, the first that passes wins:
same code or descendant first, then rules from the most specific.

Spatial search: demand flows are grouped by code, one scipy ``cKDTree`` of
3-D unit vectors per group; each supply code queries the trees of the demand
codes it can reach with the chord of its radius, so the work grows with the
number of flows and of candidates found, never with all pairs.
:func:`naive_candidates` checks every pair with the same rules (benchmark and
tests only).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from symbiose.domain import (
    UNKNOWN_RESOURCE,
    Candidate,
    Diagnostic,
    Direction,
    Flow,
    Issue,
)
from symbiose.taxonomy import SubstitutionRule, Taxonomy

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
_NAIVE_BLOCK = 2_000_000  # pair distances computed at once by the naive matcher


@dataclass(frozen=True, slots=True)
class Link:
    """One way an output code may feed an input code, with its conditions."""

    kind: str  # "same", "descendant" or "rule"
    rule_id: str  # the rule id, or "same" / "descendant"
    ratio: float
    max_distance_km: float
    temperature: bool
    concentration_tolerance_pct: float | None
    hazardous_ok: bool


# --------------------------------------------------------------------------
# Links between codes
# --------------------------------------------------------------------------


def max_distance_km(code: str, taxonomy: Taxonomy) -> float:
    """Largest exchange distance of a resource (its own, else the territory default)."""
    fig = taxonomy.get(code).max_distance_km
    return fig.value if fig is not None else taxonomy.param("default_max_distance_km")


def _specificity(rule: SubstitutionRule) -> tuple[int, int, str]:
    return (-(rule.supply.count(".") + rule.demand.count(".")), -len(rule.supply) - len(rule.demand), rule.id)


def covering_rules(supply_code: str, demand_code: str, taxonomy: Taxonomy) -> list[SubstitutionRule]:
    """Rules whose prefixes cover both codes, most specific first."""
    found = [
        r
        for r in taxonomy.rules
        if Taxonomy.is_under(supply_code, r.supply) and Taxonomy.is_under(demand_code, r.demand)
    ]
    return sorted(found, key=_specificity)


def links_between(supply_code: str, demand_code: str, taxonomy: Taxonomy) -> list[Link]:
    """Every link by which ``supply_code`` can feed ``demand_code``, in order of preference."""
    rules = covering_rules(supply_code, demand_code, taxonomy)
    demand_res = taxonomy.get(demand_code)
    supply_res = taxonomy.get(supply_code)
    thermal = demand_res.temperature_range_c is not None or supply_res.temperature_range_c is not None
    supply_reach = max_distance_km(supply_code, taxonomy)
    links: list[Link] = []
    if Taxonomy.is_under(supply_code, demand_code):
        cond = rules[0] if rules else None
        links.append(
            Link(
                kind="same" if supply_code == demand_code else "descendant",
                rule_id="same" if supply_code == demand_code else "descendant",
                ratio=1.0,
                max_distance_km=supply_reach,
                temperature=thermal or (cond is not None and cond.temperature),
                concentration_tolerance_pct=cond.concentration_tolerance_pct if cond else None,
                hazardous_ok=cond.hazardous_ok if cond else False,
            )
        )
    for rule in rules:
        links.append(
            Link(
                kind="rule",
                rule_id=rule.id,
                ratio=rule.ratio,
                max_distance_km=rule.max_distance_km.value if rule.max_distance_km else supply_reach,
                temperature=rule.temperature or thermal,
                concentration_tolerance_pct=rule.concentration_tolerance_pct,
                hazardous_ok=rule.hazardous_ok,
            )
        )
    return links


def _reach(
    supply_codes: Iterable[str], demand_codes: Iterable[str], taxonomy: Taxonomy
) -> dict[tuple[str, str], list[Link]]:
    """Links of every (supply code, demand code) pair present that has one."""
    demand_codes = sorted(set(demand_codes))
    out: dict[tuple[str, str], list[Link]] = {}
    for s in sorted(set(supply_codes)):
        targets = {d for d in taxonomy.ancestors(s) if d in demand_codes}
        for rule in taxonomy.rules:
            if Taxonomy.is_under(s, rule.supply):
                targets.update(d for d in demand_codes if Taxonomy.is_under(d, rule.demand))
        for d in sorted(targets):
            links = links_between(s, d, taxonomy)
            if links:
                out[(s, d)] = links
    return out


# --------------------------------------------------------------------------
# Flow tables
# --------------------------------------------------------------------------


@dataclass
class _Side:
    """The usable flows of one direction, as arrays."""

    flows: list[Flow]
    codes: np.ndarray  # object array of resource codes
    lat: np.ndarray  # radians
    lon: np.ndarray
    xyz: np.ndarray  # unit vectors
    company: np.ndarray  # company index
    months: np.ndarray  # int64 masks
    temp: np.ndarray  # NaN when unknown
    conc: np.ndarray
    hazard: np.ndarray  # supply: hazardous; demand: accepts hazardous
    quantity: np.ndarray
    by_code: dict[str, np.ndarray]


def _side(flows: list[Flow], coords: list[tuple[float, float]], company_index: dict[str, int], taxonomy: Taxonomy) -> _Side:
    lat = np.radians(np.array([c[0] for c in coords], dtype=float).reshape(-1))
    lon = np.radians(np.array([c[1] for c in coords], dtype=float).reshape(-1))
    xyz = np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))).reshape(-1, 3)
    codes = np.array([f.resource for f in flows], dtype=object)
    by_code: dict[str, list[int]] = {}
    for i, f in enumerate(flows):
        by_code.setdefault(f.resource, []).append(i)
    nan = float("nan")
    return _Side(
        flows=flows,
        codes=codes,
        lat=lat,
        lon=lon,
        xyz=xyz,
        company=np.array([company_index[f.company_id] for f in flows], dtype=np.int64),
        months=np.array([f.months for f in flows], dtype=np.int64),
        temp=np.array([nan if f.temperature_c is None else f.temperature_c for f in flows], dtype=float),
        conc=np.array([nan if f.concentration_pct is None else f.concentration_pct for f in flows], dtype=float),
        hazard=np.array([f.hazardous or taxonomy.get(f.resource).hazardous for f in flows], dtype=bool),
        quantity=np.array([f.quantity for f in flows], dtype=float),
        by_code={c: np.array(ix, dtype=np.int64) for c, ix in by_code.items()},
    )


def _usable(diagnostic: Diagnostic, taxonomy: Taxonomy) -> tuple[_Side, _Side, list[Issue]]:
    """Split flows into supplies and demands; skip (with a warning) what cannot be matched."""
    companies = diagnostic.companies_by_id
    company_index = {cid: i for i, cid in enumerate(sorted(companies))}
    issues: list[Issue] = []
    sides: dict[Direction, tuple[list[Flow], list[tuple[float, float]]]] = {
        Direction.OUT: ([], []),
        Direction.IN: ([], []),
    }
    for f in sorted(diagnostic.flows, key=lambda f: f.id):
        company = companies.get(f.company_id)
        lat, lon = f.lat, f.lon
        if (lat is None or lon is None) and company is not None:
            lat, lon = company.lat, company.lon
        problem = None
        if company is None:
            problem = f"company {f.company_id!r} is not in the diagnostic"
        elif f.resource == UNKNOWN_RESOURCE:
            problem = "resource not classified (unknown)"
        elif f.resource not in taxonomy:
            problem = f"resource code {f.resource!r} is not in the taxonomy"
        elif not (isinstance(f.quantity, (int, float)) and math.isfinite(f.quantity) and f.quantity > 0):
            problem = "quantity is zero or missing"
        elif lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            problem = "no location (coordinates or postcode)"
        elif f.months & 0xFFF == 0:
            problem = "no month of availability"
        if problem is not None:
            issues.append(Issue(None, "resource" if "resource" in problem else None, f.id, f"flow skipped for matching: {problem}"))
            continue
        flows, coords = sides[Direction(f.direction)]
        flows.append(f)
        coords.append((lat, lon))
    out = _side(*sides[Direction.OUT], company_index, taxonomy)
    inp = _side(*sides[Direction.IN], company_index, taxonomy)
    return out, inp, issues


def chord_for_km(distance_km: float) -> float:
    """Straight-line distance between two unit vectors that are ``distance_km`` apart on Earth."""
    angle = min(distance_km / EARTH_RADIUS_KM, math.pi)
    return 2.0 * math.sin(angle / 2.0)


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between points given in radians (broadcasts)."""
    a = np.sin((lat2 - lat1) / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# --------------------------------------------------------------------------
# Pair search: spatial index, or all pairs
# --------------------------------------------------------------------------


def _pairs_indexed(sup: _Side, dem: _Side, reach: dict[tuple[str, str], list[Link]]) -> tuple[np.ndarray, np.ndarray]:
    trees = {d: cKDTree(dem.xyz[ix]) for d, ix in dem.by_code.items()}
    si_parts, di_parts = [], []
    for (s, d), links in reach.items():
        s_ix, d_ix = sup.by_code[s], dem.by_code[d]
        radius = max(link.max_distance_km for link in links)
        chord = chord_for_km(radius) * (1 + 1e-9) + 1e-12
        hits = trees[d].query_ball_point(sup.xyz[s_ix], chord)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        total = int(counts.sum())
        if total == 0:
            continue
        si_parts.append(np.repeat(s_ix, counts))
        di_parts.append(d_ix[np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=total)])
    if not si_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(si_parts), np.concatenate(di_parts)


def _pairs_all(sup: _Side, dem: _Side, reach: dict[tuple[str, str], list[Link]]) -> tuple[np.ndarray, np.ndarray]:
    """Every supply × demand pair: code compatibility by table look-up, distance computed for all."""
    s_codes = sorted(sup.by_code)
    d_codes = sorted(dem.by_code)
    s_of = {c: i for i, c in enumerate(s_codes)}
    d_of = {c: i for i, c in enumerate(d_codes)}
    radius = np.full((len(s_codes), len(d_codes)), -1.0)
    for (s, d), links in reach.items():
        radius[s_of[s], d_of[d]] = max(link.max_distance_km for link in links)
    sc = np.array([s_of[c] for c in sup.codes], dtype=np.int64)
    dc = np.array([d_of[c] for c in dem.codes], dtype=np.int64)
    si_parts, di_parts = [], []
    n_dem = len(dem.flows)
    step = max(1, _NAIVE_BLOCK // max(1, n_dem))
    for start in range(0, len(sup.flows), step):
        rows = np.arange(start, min(start + step, len(sup.flows)))
        dist = haversine_km(sup.lat[rows, None], sup.lon[rows, None], dem.lat[None, :], dem.lon[None, :])
        limit = radius[sc[rows][:, None], dc[None, :]]
        r, c = np.nonzero(dist <= limit)
        si_parts.append(rows[r])
        di_parts.append(c.astype(np.int64))
    if not si_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(si_parts), np.concatenate(di_parts)


# --------------------------------------------------------------------------
# Conditions and candidates
# --------------------------------------------------------------------------


def _evaluate(
    sup: _Side, dem: _Side, reach: dict[tuple[str, str], list[Link]], si: np.ndarray, di: np.ndarray
) -> list[Candidate]:
    """Apply the conditions of each link to the pairs found and build the candidates."""
    if len(si) == 0:
        return []
    dist = haversine_km(sup.lat[si], sup.lon[si], dem.lat[di], dem.lon[di])
    shared = np.bitwise_count(sup.months[si] & dem.months[di] & 0xFFF).astype(np.int64)
    s_months = np.bitwise_count(sup.months[si] & 0xFFF).astype(np.int64)
    d_months = np.bitwise_count(dem.months[di] & 0xFFF).astype(np.int64)
    base = (sup.company[si] != dem.company[di]) & (shared > 0)
    ts, td = sup.temp[si], dem.temp[di]
    cs, cd = sup.conc[si], dem.conc[di]
    temp_known = ~np.isnan(ts) & ~np.isnan(td)
    conc_known = ~np.isnan(cs) & ~np.isnan(cd)
    temp_ok = ~temp_known | (np.nan_to_num(ts) >= np.nan_to_num(td))
    conc_gap = np.abs(np.nan_to_num(cs) - np.nan_to_num(cd))
    haz_s = sup.hazard[si]
    haz_ok = ~haz_s | dem.hazard[di]

    # group the pairs by (supply code, demand code): one integer key per pair of codes
    s_code_ix = {c: i for i, c in enumerate(sorted(sup.by_code))}
    d_code_ix = {c: i for i, c in enumerate(sorted(dem.by_code))}
    width = len(d_code_ix)
    s_ix = np.fromiter((s_code_ix[c] for c in sup.codes), dtype=np.int64, count=len(sup.flows))
    d_ix = np.fromiter((d_code_ix[c] for c in dem.codes), dtype=np.int64, count=len(dem.flows))
    keys = s_ix[si] * width + d_ix[di]
    order = np.argsort(keys, kind="stable")
    group_keys, starts = np.unique(keys[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    links_by_key = {s_code_ix[s] * width + d_code_ix[d]: links for (s, d), links in reach.items()}

    chosen = np.full(len(si), -1, dtype=np.int64)
    link_of: list[Link] = []
    for key, start, end in zip(group_keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
        rows = order[start:end]
        rows = rows[base[rows]]
        for link in links_by_key.get(key, ()):
            ok = chosen[rows] < 0
            ok &= dist[rows] <= link.max_distance_km
            if link.temperature:
                ok &= temp_ok[rows]
            if link.concentration_tolerance_pct is not None:
                ok &= ~conc_known[rows] | (conc_gap[rows] <= link.concentration_tolerance_pct + 1e-9)
            if not link.hazardous_ok:
                ok &= haz_ok[rows]
            chosen[rows[ok]] = len(link_of)
            link_of.append(link)

    out: list[Candidate] = []
    for k in np.nonzero(chosen >= 0)[0]:
        link = link_of[chosen[k]]
        s_flow = sup.flows[si[k]]
        d_flow = dem.flows[di[k]]
        n_shared = int(shared[k])
        quantity = min(
            s_flow.quantity * n_shared / int(s_months[k]),
            d_flow.quantity * n_shared / int(d_months[k]) / link.ratio,
        )
        reasons = [link.kind]
        if link.temperature and temp_known[k]:
            reasons.append("temperature")
        if link.concentration_tolerance_pct is not None and conc_known[k]:
            reasons.append("concentration")
        if haz_s[k]:
            reasons.append("hazardous")
        if n_shared < max(int(s_months[k]), int(d_months[k])):
            reasons.append("months")
        out.append(
            Candidate(
                id=f"{s_flow.id}>{d_flow.id}",
                supply_flow_id=s_flow.id,
                demand_flow_id=d_flow.id,
                supplier_id=s_flow.company_id,
                receiver_id=d_flow.company_id,
                supply_resource=s_flow.resource,
                demand_resource=d_flow.resource,
                rule_id=link.rule_id,
                distance_km=float(dist[k]),
                max_quantity=float(quantity),
                unit=s_flow.unit,
                ratio=link.ratio,
                month_overlap=n_shared,
                reasons=tuple(reasons),
            )
        )
    out.sort(key=lambda c: c.id)
    return out


def _generate(diagnostic: Diagnostic, taxonomy: Taxonomy, *, indexed: bool) -> tuple[list[Candidate], list[Issue]]:
    sup, dem, issues = _usable(diagnostic, taxonomy)
    reach = _reach(sup.by_code, dem.by_code, taxonomy)
    if not reach:
        return [], issues
    si, di = (_pairs_indexed if indexed else _pairs_all)(sup, dem, reach)
    return _evaluate(sup, dem, reach, si, di), issues


def generate_candidates(diagnostic: Diagnostic, taxonomy: Taxonomy) -> tuple[list[Candidate], list[Issue]]:
    """Every possible exchange of the diagnostic (spatial index), sorted by id, and the flows skipped."""
    return _generate(diagnostic, taxonomy, indexed=True)


def naive_candidates(diagnostic: Diagnostic, taxonomy: Taxonomy) -> tuple[list[Candidate], list[Issue]]:
    """The same as :func:`generate_candidates`, checking every supply × demand pair (for benchmarks)."""
    return _generate(diagnostic, taxonomy, indexed=False)
