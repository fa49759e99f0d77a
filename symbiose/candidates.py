"""Candidate exchanges: which output flow can feed which input flow.

An output (``out``) flow can feed an input (``in``) flow of another company
when, by a :class:`Link`, codes are matched by meaning rather than equality:

- the codes are the same, or the supply code is a descendant of the demand
  code (the supply is more specific than the need: ``descendant``), or an
  ancestor of it (the supply is more generic: ``generic``, from a code below
  a root only, ``generic_match_min_depth``), or a substitution rule of the
  taxonomy covers both codes, each side either under the rule's prefix or a
  generic code above it;
- both codes count in the same canonical unit, or the units convert by the
  taxonomy's unit masses and densities (:func:`symbiose.valuation.unit_ratio`;
  a rule's ratio is bounded the same way): otherwise no link;
- quality holds, each flow's stated value first, else the range of its code:
  the supply can be at least as hot as the need (rules with ``temperature``,
  resources with a temperature range), concentrations within the tolerance
  (the closest points of the two ranges); a hazardous supply goes only to a
  receiver that flags its input hazardous or whose resource is hazardous,
  unless ``hazardous_ok``;
- their months overlap; the quantity is the supply available in the shared
  months, capped by the need in those months;
- the great-circle distance is at most the link's ``max_distance_km``
  (rule, else supply resource, else the ``default_max_distance_km``
  parameter).

What the partners must verify before the exchange is said in French in the
candidate's ``checks``: the grade a generic code leaves open (the more
specific code's label), a temperature or a concentration only one side
states, food grade, and the quality points of the rule used
(``conditions.checks_fr`` of ``rules.yaml``).

A rule that covers a pair of codes also sets the quality conditions of a
same-code or descendant match of that pair (its tolerance and
``hazardous_ok``). When several links apply, the first that passes wins:
same code or descendant first, then generic, then rules (covering the codes
directly before through a generic code, the most specific first).

Spatial search: demand flows are grouped by code, one scipy ``cKDTree`` of
3-D unit vectors per group; each supply code queries the trees of the demand
codes it can reach with the chord of its radius, so the work grows with the
number of flows and of candidates found, never with all pairs. Where a
resource's reach covers much of a large territory, the candidates found grow
as n²; ``nearest=k`` then keeps, for each flow, its k nearest compatible
partners (ties kept), found by k-nearest queries on the same trees, from both
sides. :func:`naive_candidates` checks every pair with the same rules and
the same selection (benchmark and tests only).
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
    flow_location,
)
from symbiose.geo import chord_for_km, haversine_rad_km, km_for_chord, unit_vectors_rad
from symbiose.taxonomy import Resource, SubstitutionRule, Taxonomy
from symbiose.valuation import unit_ratio

_NAIVE_BLOCK = 2_000_000  # pair distances computed at once by the naive matcher
_TIE_KM = 1e-9  # distances this close count as a tie when keeping the nearest partners


_INF = float("inf")


@dataclass(frozen=True, slots=True)
class Link:
    """One way an output code may feed an input code, with its conditions."""

    kind: str  # "same", "descendant", "generic" or "rule"
    rule_id: str  # the rule id, or "same" / "descendant" / "generic"
    ratio: float
    max_distance_km: float
    temperature: bool
    concentration_tolerance_pct: float | None
    hazardous_ok: bool
    # the codes' ranges, used where a flow does not state its own value
    supply_temp_max: float = _INF
    supply_temp_min: float = -_INF
    demand_temp_min: float = -_INF
    supply_conc: tuple[float, float] = (-_INF, _INF)
    demand_conc: tuple[float, float] = (-_INF, _INF)
    checks: tuple[str, ...] = ()  # what the codes leave open (French), whatever the flows say
    generic: bool = False  # a side matched through a more generic code


# --------------------------------------------------------------------------
# Links between codes
# --------------------------------------------------------------------------


def max_distance_km(code: str, taxonomy: Taxonomy) -> float:
    """Largest exchange distance of a resource (its own, else the territory default)."""
    fig = taxonomy.get(code).max_distance_km
    return fig.value if fig is not None else taxonomy.param("default_max_distance_km")


def _specificity(rule: SubstitutionRule) -> tuple[int, int, str]:
    return (-(rule.supply.count(".") + rule.demand.count(".")), -len(rule.supply) - len(rule.demand), rule.id)


def generic_ok(code: str, taxonomy: Taxonomy) -> bool:
    """Whether a code is specific enough to stand for its descendants (not a root like ``organic``)."""
    params = taxonomy.parameters
    depth = int(params["generic_match_min_depth"].value) if "generic_match_min_depth" in params else 2
    return code.count(".") + 1 >= depth


def _covers(code: str, prefix: str, taxonomy: Taxonomy) -> int:
    """0: ``code`` is under ``prefix``; 1: ``code`` is a generic code above it; -1: neither."""
    if Taxonomy.is_under(code, prefix):
        return 0
    if Taxonomy.is_under(prefix, code) and generic_ok(code, taxonomy):
        return 1
    return -1


def covering_rules(supply_code: str, demand_code: str, taxonomy: Taxonomy) -> list[SubstitutionRule]:
    """Rules whose prefixes cover both codes (or that a generic code stands above),
    those covering both directly first, most specific first."""
    found = []
    for r in taxonomy.rules:
        s, d = _covers(supply_code, r.supply, taxonomy), _covers(demand_code, r.demand, taxonomy)
        if s >= 0 and d >= 0:
            found.append((s + d > 0, _specificity(r), r))
    return [r for *_, r in sorted(found, key=lambda x: (x[0], x[1]))]


def _grade(specific: Resource) -> str:
    """``vapeur haute pression (> 20 bar)``: the specific code's label, as said inside a sentence."""
    label = specific.label_fr
    return label[0].lower() + label[1:] if len(label) > 1 and not label[1].isupper() else label


def _code_checks(s: Resource, d: Resource, s_code_for: Resource, d_code_for: Resource) -> tuple[str, ...]:
    """What a generic code leaves open between a supply and a need (French).

    ``s_code_for`` / ``d_code_for`` are the codes each side must be (the rule's
    or the other side's) when it was matched through a more generic code."""
    out: list[str] = []
    if s_code_for.code != s.code and Taxonomy.is_under(s_code_for.code, s.code):
        out.append(f"qualité « {_grade(s_code_for)} »")
    if d_code_for.code != d.code and Taxonomy.is_under(d_code_for.code, d.code):
        out.append(f"besoin exact « {_grade(d_code_for)} »")
    if d.food_grade and not s.food_grade:
        out.append("qualité alimentaire")
    return tuple(out)


def _rule_checks(rule: SubstitutionRule | None) -> tuple[str, ...]:
    """The quality points a rule asks the two firms to check (``conditions.checks_fr``, when the data has them)."""
    return tuple(getattr(rule, "checks_fr", ()) or ()) if rule is not None else ()


def _ranges(s: Resource, d: Resource) -> dict[str, object]:
    s_t, d_t = s.temperature_range_c, d.temperature_range_c
    return {
        "supply_temp_max": s_t[1] if s_t else _INF,
        "supply_temp_min": s_t[0] if s_t else -_INF,
        "demand_temp_min": d_t[0] if d_t else -_INF,
        "supply_conc": tuple(s.concentration_range_pct) if s.concentration_range_pct else (-_INF, _INF),
        "demand_conc": tuple(d.concentration_range_pct) if d.concentration_range_pct else (-_INF, _INF),
    }


def links_between(supply_code: str, demand_code: str, taxonomy: Taxonomy) -> list[Link]:
    """Every link by which ``supply_code`` can feed ``demand_code``, in order of preference."""
    rules = covering_rules(supply_code, demand_code, taxonomy)
    demand_res = taxonomy.get(demand_code)
    supply_res = taxonomy.get(supply_code)
    thermal = demand_res.temperature_range_c is not None or supply_res.temperature_range_c is not None
    supply_reach = max_distance_km(supply_code, taxonomy)
    ranges = _ranges(supply_res, demand_res)
    links: list[Link] = []
    down = Taxonomy.is_under(supply_code, demand_code)
    up = not down and Taxonomy.is_under(demand_code, supply_code) and generic_ok(supply_code, taxonomy)
    same_ratio = unit_ratio(supply_res, demand_res) if (down or up) else None
    if same_ratio is not None:
        direct = [r for r in rules if _covers(supply_code, r.supply, taxonomy) == 0
                  and _covers(demand_code, r.demand, taxonomy) == 0]
        cond = direct[0] if direct else None
        tolerance = cond.concentration_tolerance_pct if cond else None
        if tolerance is None and demand_res.concentration_range_pct is not None:
            low, high = demand_res.concentration_range_pct  # a grade's commercial spread, e.g. HCl 30-37 %
            tolerance = (high - low) / 2.0
        kind = "same" if supply_code == demand_code else "descendant" if down else "generic"
        links.append(
            Link(
                kind=kind,
                rule_id=kind,
                ratio=same_ratio,
                max_distance_km=supply_reach,
                temperature=thermal or (cond is not None and cond.temperature),
                concentration_tolerance_pct=tolerance,
                hazardous_ok=cond.hazardous_ok if cond else False,
                checks=(
                    *_code_checks(supply_res, demand_res, demand_res if up else supply_res, demand_res),
                    *_rule_checks(cond),
                ),
                generic=up,
                **ranges,
            )
        )
    for rule in rules:
        r_sup, r_dem = taxonomy.get(rule.supply), taxonomy.get(rule.demand)
        ratio = unit_ratio(supply_res, demand_res, rule.ratio)
        if ratio is None:
            continue  # units that do not convert: refused rather than valued wrongly
        gen_s = _covers(supply_code, rule.supply, taxonomy) == 1
        gen_d = _covers(demand_code, rule.demand, taxonomy) == 1
        # a generic side is held to the rule's code: its range, its grade
        eff = _ranges(r_sup if gen_s else supply_res, r_dem if gen_d else demand_res)
        links.append(
            Link(
                kind="rule",
                rule_id=rule.id,
                ratio=ratio,
                max_distance_km=rule.max_distance_km.value if rule.max_distance_km else supply_reach,
                temperature=rule.temperature or thermal,
                concentration_tolerance_pct=rule.concentration_tolerance_pct,
                hazardous_ok=rule.hazardous_ok,
                checks=(
                    *_code_checks(supply_res, demand_res, r_sup if gen_s else supply_res, r_dem if gen_d else demand_res),
                    *_rule_checks(rule),
                ),
                generic=gen_s or gen_d,
                **eff,
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
        if generic_ok(s, taxonomy):
            targets.update(d for d in demand_codes if Taxonomy.is_under(d, s))
        for rule in taxonomy.rules:
            if _covers(s, rule.supply, taxonomy) >= 0:
                targets.update(d for d in demand_codes if _covers(d, rule.demand, taxonomy) >= 0)
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


def _side(
    flows: list[Flow], coords: list[tuple[float, float]], company_index: dict[str, int], taxonomy: Taxonomy
) -> _Side:
    lat = np.radians(np.array([c[0] for c in coords], dtype=float).reshape(-1))
    lon = np.radians(np.array([c[1] for c in coords], dtype=float).reshape(-1))
    xyz = unit_vectors_rad(lat, lon)
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
        lat, lon = flow_location(f, companies) or (None, None)
        problem = None
        if company is None:
            problem = f"company {f.company_id!r} is not in the diagnostic"
        elif f.resource == UNKNOWN_RESOURCE:
            problem = "resource not classified (unknown)"
        elif f.resource not in taxonomy:
            problem = f"resource code {f.resource!r} is not in the taxonomy"
        elif not (isinstance(f.quantity, (int, float)) and math.isfinite(f.quantity) and f.quantity > 0):
            problem = "quantity is zero or missing"
        elif f.unit != (canonical := taxonomy.get(f.resource).unit):
            problem = f"quantity in {f.unit}, expected the resource's canonical unit {canonical}"
        elif lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            problem = "no location (coordinates or postcode)"
        elif f.months & 0xFFF == 0:
            problem = "no month of availability"
        if problem is not None:
            column = "resource" if "resource" in problem else None
            issues.append(Issue(None, column, f.id, f"flow skipped for matching: {problem}"))
            continue
        flows, coords = sides[Direction(f.direction)]
        flows.append(f)
        coords.append((lat, lon))
    out = _side(*sides[Direction.OUT], company_index, taxonomy)
    inp = _side(*sides[Direction.IN], company_index, taxonomy)
    return out, inp, issues


# --------------------------------------------------------------------------
# Conditions of one pair of codes
# --------------------------------------------------------------------------


def _choose(sup: _Side, dem: _Side, links: list[Link], si: np.ndarray, di: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Index in ``links`` of the first link each pair satisfies, -1 when none (one pair of codes).

    A flow's stated temperature or concentration counts first; where it
    states none, the range of the code the link holds it to."""
    chosen = np.full(len(si), -1, dtype=np.int64)
    if len(si) == 0:
        return chosen
    ms, md = sup.months[si], dem.months[di]
    base = (sup.company[si] != dem.company[di]) & ((ms & md & 0xFFF) != 0)
    ts, td = sup.temp[si], dem.temp[di]
    t_s_nan, t_d_nan = np.isnan(ts), np.isnan(td)
    cs, cd = sup.conc[si], dem.conc[di]
    c_s_nan, c_d_nan = np.isnan(cs), np.isnan(cd)
    haz_ok = ~sup.hazard[si] | dem.hazard[di]
    for k, link in enumerate(links):
        ok = base & (chosen < 0) & (dist <= link.max_distance_km)
        if link.temperature:
            ok &= np.where(t_s_nan, link.supply_temp_max, ts) >= np.where(t_d_nan, link.demand_temp_min, td)
        if link.concentration_tolerance_pct is not None:
            s_lo = np.where(c_s_nan, link.supply_conc[0], cs)
            s_hi = np.where(c_s_nan, link.supply_conc[1], cs)
            d_lo = np.where(c_d_nan, link.demand_conc[0], cd)
            d_hi = np.where(c_d_nan, link.demand_conc[1], cd)
            with np.errstate(invalid="ignore"):
                gap = np.maximum(np.maximum(s_lo - d_hi, d_lo - s_hi), 0.0)
            ok &= ~(gap > link.concentration_tolerance_pct + 1e-9)
        if not link.hazardous_ok:
            ok &= haz_ok
        chosen[ok] = k
    return chosen


@dataclass
class _Pairs:
    """Compatible pairs found so far: flow indices, distance and the link chosen."""

    si: list[np.ndarray]
    di: list[np.ndarray]
    dist: list[np.ndarray]
    links: list[np.ndarray]  # index into the run's list of links

    @classmethod
    def empty(cls) -> _Pairs:
        return cls([], [], [], [])

    def add(self, si: np.ndarray, di: np.ndarray, dist: np.ndarray, links: np.ndarray) -> None:
        self.si.append(si)
        self.di.append(di)
        self.dist.append(dist)
        self.links.append(links)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.si:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0), e
        return (np.concatenate(self.si), np.concatenate(self.di), np.concatenate(self.dist), np.concatenate(self.links))


class _Run:
    """One generation: the usable flows, the links of each pair of codes, the pairs found."""

    def __init__(self, sup: _Side, dem: _Side, reach: dict[tuple[str, str], list[Link]]):
        self.sup, self.dem, self.reach = sup, dem, reach
        self.link_list: list[Link] = []
        self.link_base: dict[tuple[str, str], int] = {}
        for key, links in reach.items():
            self.link_base[key] = len(self.link_list)
            self.link_list.extend(links)

    def check(self, key: tuple[str, str], si: np.ndarray, di: np.ndarray) -> _Pairs:
        """The compatible pairs among ``si × di`` (same pair of codes), with their links."""
        dist = haversine_rad_km(self.sup.lat[si], self.sup.lon[si], self.dem.lat[di], self.dem.lon[di])
        chosen = _choose(self.sup, self.dem, self.reach[key], si, di, dist)
        ok = chosen >= 0
        out = _Pairs.empty()
        out.add(si[ok], di[ok], dist[ok], chosen[ok] + self.link_base[key])
        return out


# --------------------------------------------------------------------------
# Pair search: every pair within reach, or the nearest compatible partners
# --------------------------------------------------------------------------


def _chord(radius_km: float) -> float:
    return chord_for_km(radius_km) * (1 + 1e-9) + 1e-12


def _within_reach_indexed(run: _Run) -> _Pairs:
    sup, dem = run.sup, run.dem
    trees = {d: cKDTree(dem.xyz[ix]) for d, ix in dem.by_code.items()}
    found = _Pairs.empty()
    for key, links in run.reach.items():
        s_ix, d_ix = sup.by_code[key[0]], dem.by_code[key[1]]
        hits = trees[key[1]].query_ball_point(sup.xyz[s_ix], _chord(max(x.max_distance_km for x in links)))
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        total = int(counts.sum())
        if total:
            si = np.repeat(s_ix, counts)
            di = d_ix[np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=total)]
            _extend(found, run.check(key, si, di))
    return found


def _within_reach_all(run: _Run) -> _Pairs:
    """Every supply × demand pair: code compatibility by table look-up, distance computed for all."""
    sup, dem = run.sup, run.dem
    s_codes, d_codes = sorted(sup.by_code), sorted(dem.by_code)
    s_of = {c: i for i, c in enumerate(s_codes)}
    d_of = {c: i for i, c in enumerate(d_codes)}
    radius = np.full((len(s_codes), len(d_codes)), -1.0)
    for (s, d), links in run.reach.items():
        radius[s_of[s], d_of[d]] = max(link.max_distance_km for link in links)
    sc = np.array([s_of[c] for c in sup.codes], dtype=np.int64)
    dc = np.array([d_of[c] for c in dem.codes], dtype=np.int64)
    si_parts, di_parts = [], []
    step = max(1, _NAIVE_BLOCK // max(1, len(dem.flows)))
    for start in range(0, len(sup.flows), step):
        rows = np.arange(start, min(start + step, len(sup.flows)))
        dist = haversine_rad_km(sup.lat[rows, None], sup.lon[rows, None], dem.lat[None, :], dem.lon[None, :])
        r, c = np.nonzero(dist <= radius[sc[rows][:, None], dc[None, :]])
        si_parts.append(rows[r])
        di_parts.append(c.astype(np.int64))
    found = _Pairs.empty()
    if not si_parts:
        return found
    si, di = np.concatenate(si_parts), np.concatenate(di_parts)
    keys = sc[si] * len(d_codes) + dc[di]
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for k, a, b in zip(uniq.tolist(), starts.tolist(), ends.tolist(), strict=True):
        rows = order[a:b]
        _extend(found, run.check((s_codes[k // len(d_codes)], d_codes[k % len(d_codes)]), si[rows], di[rows]))
    return found


def _extend(acc: _Pairs, more: _Pairs) -> None:
    acc.si += more.si
    acc.di += more.di
    acc.dist += more.dist
    acc.links += more.links


def _nearest_threshold(owner: np.ndarray, dist: np.ndarray, n_owners: int, k: int) -> np.ndarray:
    """Per owner, the k-th smallest distance among its pairs (inf when it has fewer than k)."""
    thr = np.full(n_owners, np.inf)
    if len(owner) == 0:
        return thr
    order = np.lexsort((dist, owner))
    o, d = owner[order], dist[order]
    starts = np.searchsorted(o, np.arange(n_owners), side="left")
    counts = np.bincount(o, minlength=n_owners)
    has = counts >= k
    thr[has] = d[starts[has] + k - 1]
    return thr


def _keep_nearest(owner: np.ndarray, dist: np.ndarray, n_owners: int, k: int) -> np.ndarray:
    """Mask of the pairs among each owner's k nearest (ties at the k-th kept)."""
    return dist <= _nearest_threshold(owner, dist, n_owners, k)[owner] + _TIE_KM


def _nearest_indexed(run: _Run, k: int) -> _Pairs:
    """Each supply's and each demand's ``k`` nearest compatible partners (ties kept), by spatial index."""
    sup, dem = run.sup, run.dem
    d_trees = {d: cKDTree(dem.xyz[ix]) for d, ix in dem.by_code.items()}
    s_trees = {s: cKDTree(sup.xyz[ix]) for s, ix in sup.by_code.items()}
    from_sup, from_dem = _Pairs.empty(), _Pairs.empty()
    for key, links in run.reach.items():
        chord = _chord(max(x.max_distance_km for x in links))
        s_ix, d_ix = sup.by_code[key[0]], dem.by_code[key[1]]
        _extend(from_sup, _knn_group(run, key, d_trees[key[1]], sup.xyz, s_ix, d_ix, chord, k, query_is_supply=True))
        _extend(from_dem, _knn_group(run, key, s_trees[key[0]], dem.xyz, d_ix, s_ix, chord, k, query_is_supply=False))
    a_si, a_di, a_dist, a_link = from_sup.arrays()
    keep_a = _keep_nearest(a_si, a_dist, len(sup.flows), k)
    b_si, b_di, b_dist, b_link = from_dem.arrays()
    keep_b = _keep_nearest(b_di, b_dist, len(dem.flows), k)
    si = np.concatenate((a_si[keep_a], b_si[keep_b]))
    di = np.concatenate((a_di[keep_a], b_di[keep_b]))
    dist = np.concatenate((a_dist[keep_a], b_dist[keep_b]))
    link = np.concatenate((a_link[keep_a], b_link[keep_b]))
    _, first = np.unique(si * max(1, len(dem.flows)) + di, return_index=True)
    out = _Pairs.empty()
    out.add(si[first], di[first], dist[first], link[first])
    return out


def _knn_group(
    run: _Run,
    key: tuple[str, str],
    tree: cKDTree,
    query_xyz: np.ndarray,
    q_ix: np.ndarray,
    o_ix: np.ndarray,
    chord: float,
    k: int,
    *,
    query_is_supply: bool,
) -> _Pairs:
    """For each query flow of one pair of codes: its k nearest compatible partners (ties kept).

    Asks the tree for more neighbours (doubling) until k compatible ones are
    found and the next neighbour is farther than the k-th, or the radius is
    exhausted."""
    out = _Pairs.empty()
    pending = q_ix
    want = min(2 * k, len(o_ix))
    while len(pending):
        dd, ii = tree.query(query_xyz[pending], k=want, distance_upper_bound=chord)
        dd, ii = dd.reshape(len(pending), -1), ii.reshape(len(pending), -1)
        valid = ii < len(o_ix)
        rows, cols = np.nonzero(valid)
        qi = pending[rows]
        oi = o_ix[ii[rows, cols]]
        si, di = (qi, oi) if query_is_supply else (oi, qi)
        found = run.check(key, si, di)
        f_si, f_di, f_dist, f_link = found.arrays()
        f_q = f_si if query_is_supply else f_di
        local = np.searchsorted(pending, f_q)  # pending is sorted
        thr = _nearest_threshold(local, f_dist, len(pending), k)
        n_valid = valid.sum(axis=1)
        farthest = np.where(n_valid > 0, dd[np.arange(len(pending)), np.maximum(n_valid - 1, 0)], 0.0)
        farthest_km = km_for_chord(farthest)
        done = (n_valid < want) | (want >= len(o_ix)) | (farthest_km > thr + 1e-6)
        keep = done[local] & (f_dist <= thr[local] + _TIE_KM)
        out.add(f_si[keep], f_di[keep], f_dist[keep], f_link[keep])
        pending = pending[~done]
        want = min(2 * want, len(o_ix))
    return out


def _nearest_all(run: _Run, k: int) -> _Pairs:
    """The same selection as :func:`_nearest_indexed`, from every compatible pair."""
    si, di, dist, link = _within_reach_all(run).arrays()
    keep = _keep_nearest(si, dist, len(run.sup.flows), k) | _keep_nearest(di, dist, len(run.dem.flows), k)
    out = _Pairs.empty()
    out.add(si[keep], di[keep], dist[keep], link[keep])
    return out


# --------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------


def _build(run: _Run, pairs: _Pairs) -> list[Candidate]:
    si, di, dist, link_ix = pairs.arrays()
    sup, dem = run.sup, run.dem
    ms, md = sup.months[si], dem.months[di]
    shared = np.bitwise_count(ms & md & 0xFFF).tolist()
    s_months = np.bitwise_count(ms & 0xFFF).tolist()
    d_months = np.bitwise_count(md & 0xFFF).tolist()
    temp_known = (~np.isnan(sup.temp[si]) & ~np.isnan(dem.temp[di])).tolist()
    t_sup, t_dem = sup.temp[si].tolist(), dem.temp[di].tolist()
    conc_known = (~np.isnan(sup.conc[si]) & ~np.isnan(dem.conc[di])).tolist()
    haz = sup.hazard[si].tolist()
    out: list[Candidate] = []
    for k, (i, j, d, li) in enumerate(zip(si.tolist(), di.tolist(), dist.tolist(), link_ix.tolist(), strict=True)):
        link = run.link_list[li]
        s_flow, d_flow = sup.flows[i], dem.flows[j]
        n_shared = shared[k]
        reasons = [link.kind]
        if link.generic and link.kind == "rule":
            reasons.append("generic")  # a rule reached through a generic code
        if link.temperature and temp_known[k]:
            reasons.append("temperature")
        if link.concentration_tolerance_pct is not None and conc_known[k]:
            reasons.append("concentration")
        if haz[k]:
            reasons.append("hazardous")
        if n_shared < max(s_months[k], d_months[k]):
            reasons.append("months")
        checks = link.checks
        if link.kind != "same":  # the same code on both sides already says the grade
            if link.temperature and not temp_known[k]:
                # unsure only when the coldest the supply may be is below what the need asks
                lo = link.supply_temp_min if math.isnan(t_sup[k]) else t_sup[k]
                need = link.demand_temp_min if math.isnan(t_dem[k]) else t_dem[k]
                if lo < need:
                    checks = (*checks, "température")
            if link.concentration_tolerance_pct is not None and not conc_known[k]:
                checks = (*checks, "concentration / pureté")
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
                distance_km=round(d, 2),  # 10 m: the precision every output and sentence shows
                max_quantity=min(
                    s_flow.quantity * n_shared / s_months[k],
                    d_flow.quantity * n_shared / d_months[k] / link.ratio,
                ),
                unit=s_flow.unit,
                ratio=link.ratio,
                month_overlap=n_shared,
                reasons=tuple(reasons),
                checks=checks,
            )
        )
    out.sort(key=lambda c: c.id)
    return out


def _generate(
    diagnostic: Diagnostic, taxonomy: Taxonomy, nearest: int | None, *, indexed: bool
) -> tuple[list[Candidate], list[Issue]]:
    if nearest is not None and nearest < 1:
        raise ValueError("nearest must be a positive number of partners, or None")
    sup, dem, issues = _usable(diagnostic, taxonomy)
    run = _Run(sup, dem, _reach(sup.by_code, dem.by_code, taxonomy))
    if not run.reach:
        return [], issues
    if nearest is None:
        pairs = _within_reach_indexed(run) if indexed else _within_reach_all(run)
    else:
        pairs = _nearest_indexed(run, nearest) if indexed else _nearest_all(run, nearest)
    return _build(run, pairs), issues


def is_generic(c: Candidate) -> bool:
    """Whether a candidate rests on a generic code (its grade to be checked), directly or through a rule."""
    return "generic" in c.reasons


def generate_candidates(
    diagnostic: Diagnostic, taxonomy: Taxonomy, *, nearest: int | None = None
) -> tuple[list[Candidate], list[Issue]]:
    """Every possible exchange of the diagnostic, sorted by id, and the flows skipped (warnings).

    With ``nearest=k``, a pair is kept only when the demand is among the
    supply's ``k`` nearest compatible demands or the supply among the
    demand's ``k`` nearest compatible supplies (ties kept): the work and the
    number of candidates then grow linearly with the flows even where the
    reach of a resource covers the whole territory.
    """
    return _generate(diagnostic, taxonomy, nearest, indexed=True)


def naive_candidates(
    diagnostic: Diagnostic, taxonomy: Taxonomy, *, nearest: int | None = None
) -> tuple[list[Candidate], list[Issue]]:
    """The same as :func:`generate_candidates`, checking every supply × demand pair (benchmarks, tests)."""
    return _generate(diagnostic, taxonomy, nearest, indexed=False)
