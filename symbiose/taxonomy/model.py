"""Schema of the taxonomy data files and their loading into frozen objects."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 7x faster
CanonicalUnit = Literal["t", "MWh", "m3", "unit"]
FamilyKind = Literal["collection", "purchase", "service"]
EwcLevel = Literal["entry", "sub_chapter", "chapter"]


class TaxonomyError(ValueError):
    """The taxonomy data files are inconsistent."""


# --------------------------------------------------------------------------
# File schema (pydantic): what a YAML entry may say
# --------------------------------------------------------------------------


class Figure(BaseModel):
    """A number with its public source (an id of ``sources.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    value: float
    source: str
    note: str | None = None


class SourceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str
    publisher: str
    year: int | None = None
    url: str | None = None


class ResourceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    label_fr: str
    label_en: str
    synonyms: list[str] = Field(default_factory=list)
    ewc: list[str] = Field(default_factory=list)
    naf_hints: list[str] = Field(default_factory=list)
    unit: CanonicalUnit | None = None
    unit_mass_t: Figure | None = None
    density_t_per_m3: Figure | None = None
    energy_mwh_per_t: Figure | None = None  # steam or fuel given in tonnes, counted in MWh (or back)
    hazardous: bool | None = None
    food_grade: bool | None = None
    max_distance_km: Figure | None = None
    disposal_cost_eur: Figure | None = None
    purchase_price_eur: Figure | None = None
    co2_virgin_kg: Figure | None = None
    co2_treatment_kg: Figure | None = None
    handling_eur: Figure | None = None
    infrastructure: Literal["pipe", "none"] | None = None
    temperature_range_c: tuple[float, float] | None = None
    concentration_range_pct: tuple[float, float] | None = None
    family: str | None = None

    @field_validator("code")
    @classmethod
    def _dotted_lower(cls, v: str) -> str:
        parts = v.split(".")
        if not all(p and p.replace("_", "").isalnum() and p == p.lower() for p in parts):
            raise ValueError(f"code {v!r} must be dotted lower-case words")
        return v

    @field_validator("ewc")
    @classmethod
    def _ewc_six_digits(cls, v: list[str]) -> list[str]:
        out = []
        for code in v:
            c = code.replace(" ", "").rstrip("*")
            if len(c) != 6 or not c.isdigit():
                raise ValueError(f"EWC code {code!r} must have six digits")
            out.append(c)
        return out


class RuleConditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    temperature: bool = False  # supply temperature must be >= the need's
    concentration_tolerance_pct: float | None = None  # |supply - need| allowed, in mass %
    hazardous_ok: bool = False  # a hazardous supply may go to a receiver that did not flag hazard
    checks_fr: list[str] = Field(default_factory=list)  # quality points the two firms must check (French)


class RuleEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    supply: str  # code prefix of the output
    demand: str  # code prefix of the input it can replace
    ratio: float = 1.0  # demand units replaced per supply unit
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    max_distance_km: Figure | None = None
    label_fr: str
    source: str


class FamilyEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    label_fr: str
    kind: FamilyKind
    members: list[str]  # code prefixes
    unit: CanonicalUnit = "t"
    critical_mass: Figure  # yearly quantity, in ``unit``, above which pooling pays
    radius_km: Figure  # pooling radius around the group's centre
    individual_cost_eur_per_unit: Figure  # yearly cost per unit without pooling
    pooled_cost_eur_per_unit: Figure | None = None  # per unit with pooling (treatment or price)
    vehicle_capacity: Figure | None = None  # per trip, in ``unit``
    cost_per_km_eur: Figure | None = None
    cost_per_stop_eur: Figure | None = None
    min_collections_per_year: int = 12
    individual_trip_km: Figure | None = None  # a lone company's collection trip (return)
    legal_fr: str | None = None
    recovery: bool = True  # collection: the pooled, sorted stream goes to recovery, not the usual treatment
    critical_participants: Figure | None = None  # companies from which pooling pays, whatever the quantity
    # a flow above this yearly quantity (family unit) stays out: a site that large has its own contract
    max_member_quantity: Figure | None = None
    unit_conversions: dict[str, Figure] = Field(default_factory=dict)  # written count noun -> family units
    naf_hints: list[str] = Field(default_factory=list)  # NAF prefixes of the firms likely to join


class ParametersFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    parameters: dict[str, Figure]


# --------------------------------------------------------------------------
# Resolved objects
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resource:
    """A resolved taxonomy code (inherited fields filled in)."""

    code: str
    label_fr: str
    label_en: str
    synonyms: tuple[str, ...]
    ewc: tuple[str, ...]
    naf_hints: tuple[str, ...]
    unit: str
    unit_mass_t: Figure | None
    density_t_per_m3: Figure | None
    energy_mwh_per_t: Figure | None
    hazardous: bool
    food_grade: bool
    max_distance_km: Figure | None
    disposal_cost_eur: Figure | None
    purchase_price_eur: Figure | None
    co2_virgin_kg: Figure | None
    co2_treatment_kg: Figure | None
    handling_eur: Figure | None
    infrastructure: str
    temperature_range_c: tuple[float, float] | None
    concentration_range_pct: tuple[float, float] | None
    family: str | None

    @property
    def parent(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    @property
    def root(self) -> str:
        return self.code.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class SubstitutionRule:
    id: str
    supply: str
    demand: str
    ratio: float
    temperature: bool
    concentration_tolerance_pct: float | None
    hazardous_ok: bool
    max_distance_km: Figure | None
    label_fr: str
    source: str
    checks_fr: tuple[str, ...] = ()  # quality conditions to check before the exchange, in French


@dataclass(frozen=True, slots=True)
class PoolingFamily:
    id: str
    label_fr: str
    kind: str
    members: tuple[str, ...]
    unit: str
    critical_mass: Figure
    radius_km: Figure
    individual_cost_eur_per_unit: Figure
    pooled_cost_eur_per_unit: Figure | None
    vehicle_capacity: Figure | None
    cost_per_km_eur: Figure | None
    cost_per_stop_eur: Figure | None
    min_collections_per_year: int
    individual_trip_km: Figure | None
    legal_fr: str | None
    recovery: bool = True
    critical_participants: Figure | None = None  # companies from which pooling pays (where that decides)
    max_member_quantity: Figure | None = None  # a flow above it keeps its own contract (wholesale buyers)
    unit_conversions: dict[str, Figure] = field(default_factory=dict, hash=False)  # count noun -> family units
    naf_hints: tuple[str, ...] = ()  # NAF prefixes of the companies likely to join a group


@dataclass(frozen=True, slots=True)
class EwcMapping:
    """The resource code a six-digit EWC entry maps to, and how specific that is.

    ``level`` is ``"entry"`` when ``ewc_resources.csv`` names the entry itself
    (an exact mapping), ``"sub_chapter"`` or ``"chapter"`` when the entry falls
    back to the default of its four- or two-digit heading.
    """

    ewc: str
    resource: str
    level: EwcLevel

    @property
    def exact(self) -> bool:
        return self.level == "entry"


def normalise_naf(text: str) -> str:
    """``"2013B"``, ``"20.13 b"`` -> ``"20.13B"``: the dotted NAF rév. 2 form."""
    code = str(text).replace(" ", "").strip().upper()
    if "." not in code and len(code) > 2 and code[:2].isdigit():
        code = code[:2] + "." + code[2:]
    return code


def normalise_ewc(text: str) -> str:
    """``"15 01 10*"`` -> ``"150110"``: spaces and the hazard star dropped."""
    return str(text).replace(" ", "").strip().rstrip("*")


@dataclass(frozen=True)
class Taxonomy:
    """Everything the engine knows about resources, loaded once and frozen."""

    resources: dict[str, Resource]
    rules: tuple[SubstitutionRule, ...]
    families: dict[str, PoolingFamily]
    parameters: dict[str, Figure]
    sources: dict[str, SourceEntry]
    ewc_labels: dict[str, tuple[str, bool]] = field(default_factory=dict)  # code -> (label_fr, hazardous)
    naf_labels: dict[str, str] = field(default_factory=dict)  # "20.13B" -> label
    # EWC prefix (2, 4 or 6 digits) -> (resource, resource of its hazardous entries or None)
    ewc_map: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @cached_property
    def rules_by_id(self) -> dict[str, SubstitutionRule]:
        """Substitution rules by id, built once."""
        return {r.id: r for r in self.rules}

    def __contains__(self, code: object) -> bool:
        return code in self.resources

    def get(self, code: str) -> Resource:
        try:
            return self.resources[code]
        except KeyError:
            raise KeyError(f"unknown resource code {code!r}") from None

    def param(self, name: str) -> float:
        """Value of a territory-wide parameter of ``parameters.yaml``."""
        try:
            return self.parameters[name].value
        except KeyError:
            raise KeyError(f"parameter {name!r} missing from parameters.yaml") from None

    @staticmethod
    def is_under(code: str, prefix: str) -> bool:
        """True when ``code`` is ``prefix`` or one of its descendants."""
        return code == prefix or code.startswith(prefix + ".")

    def ancestors(self, code: str) -> list[str]:
        """Codes from ``code`` itself up to its root, nearest first."""
        out = []
        parts = code.split(".")
        for i in range(len(parts), 0, -1):
            c = ".".join(parts[:i])
            if c in self.resources:
                out.append(c)
        return out

    def family_of(self, code: str) -> PoolingFamily | None:
        """The pooling family of a code: its own ``family`` field, else the longest member prefix."""
        res = self.resources.get(code)
        if res is not None and res.family and res.family in self.families:
            return self.families[res.family]
        best: tuple[int, PoolingFamily] | None = None
        for fam in self.families.values():
            for prefix in fam.members:
                if self.is_under(code, prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), fam)
        return best[1] if best else None

    def codes_for_ewc(self, ewc: str) -> list[str]:
        """Resource codes that list this six-digit EWC code."""
        ewc = normalise_ewc(ewc)
        return [r.code for r in self.resources.values() if ewc in r.ewc]

    def codes_for_naf(self, naf: str) -> list[str]:
        """Resource codes whose ``naf_hints`` cover this NAF code (a firm of that
        activity produces or uses them), the most specific hint first: "10.81Z"
        lists the sugar co-products before everything hinted by "10"."""
        code = normalise_naf(naf)
        if not code:
            return []
        scored = [
            (max(len(h) for h in r.naf_hints if code.startswith(h)), r.code)
            for r in self.resources.values()
            if any(code.startswith(h) for h in r.naf_hints)
        ]
        return [c for _, c in sorted(scored, key=lambda x: (-x[0], x[1]))]

    def ewc_mapping(self, ewc: str) -> EwcMapping | None:
        """The resource a six-digit EWC entry maps to: the entry's own row of
        ``ewc_resources.csv`` if any, else its sub-chapter's, else its chapter's
        default (the hazardous default for a starred entry). None for a code
        that is not an entry of the European List of Waste."""
        code = normalise_ewc(ewc)
        if len(code) != 6 or code not in self.ewc_labels:
            return None
        own = self.ewc_map.get(code)
        if own is not None and own[0]:
            return EwcMapping(code, own[0], "entry")
        hazardous = self.ewc_labels[code][1]
        for prefix, level in ((code[:4], "sub_chapter"), (code[:2], "chapter")):
            row = self.ewc_map.get(prefix)
            resource = None if row is None else (row[1] if hazardous else row[0])
            if resource:
                return EwcMapping(code, resource, level)  # type: ignore[arg-type]
        return None

    def resource_for_ewc(self, ewc: str) -> str | None:
        """The resource code a six-digit EWC entry maps to (see :meth:`ewc_mapping`)."""
        mapping = self.ewc_mapping(ewc)
        return mapping.resource if mapping else None

    def source_text(self, source_id: str) -> str:
        s = self.sources[source_id]
        year = f" ({s.year})" if s.year else ""
        return f"{s.publisher}{year}, {s.title}"


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

_INHERITED = [
    f.name
    for f in fields(Resource)
    if f.name not in ("code", "label_fr", "label_en", "synonyms", "ewc", "naf_hints")
]
_DEFAULTS = {"unit": "t", "hazardous": False, "food_grade": False, "infrastructure": "none"}


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path.name}: {exc}") from exc


def _validated(model: type[BaseModel], data: object, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise TaxonomyError(f"{where}: {exc}") from exc


def _resolve_resources(entries: list[ResourceEntry]) -> dict[str, Resource]:
    by_code: dict[str, ResourceEntry] = {}
    for e in entries:
        if e.code in by_code:
            raise TaxonomyError(f"resources.yaml: code {e.code!r} is defined twice")
        by_code[e.code] = e
    resolved: dict[str, Resource] = {}
    for code in sorted(by_code, key=lambda c: c.count(".")):
        e = by_code[code]
        parent = code.rsplit(".", 1)[0] if "." in code else None
        if parent is not None and parent not in resolved:
            raise TaxonomyError(f"resources.yaml: {code!r} has no parent entry {parent!r}")
        inherited = {}
        for name in _INHERITED:
            own = getattr(e, name)
            if own is not None:
                inherited[name] = own
            elif parent is not None:
                inherited[name] = getattr(resolved[parent], name)
            else:
                inherited[name] = _DEFAULTS.get(name)
        resolved[code] = Resource(
            code=code,
            label_fr=e.label_fr,
            label_en=e.label_en,
            synonyms=tuple(e.synonyms),
            ewc=tuple(e.ewc),
            naf_hints=tuple(e.naf_hints),
            **inherited,
        )
    return resolved


def _check_sources(tax: Taxonomy) -> None:
    def check(fig: Figure | None, where: str) -> None:
        if fig is not None and fig.source not in tax.sources:
            raise TaxonomyError(f"{where}: source {fig.source!r} is not in sources.yaml")

    for name, fig in tax.parameters.items():
        check(fig, f"parameters.yaml {name}")
    for r in tax.resources.values():
        for f in fields(Resource):
            v = getattr(r, f.name)
            if isinstance(v, Figure):
                check(v, f"resources.yaml {r.code}.{f.name}")
    for rule in tax.rules:
        if rule.source not in tax.sources:
            raise TaxonomyError(f"rules.yaml {rule.id}: source {rule.source!r} is not in sources.yaml")
        check(rule.max_distance_km, f"rules.yaml {rule.id}.max_distance_km")
        for side in (rule.supply, rule.demand):
            if side not in tax.resources:
                raise TaxonomyError(f"rules.yaml {rule.id}: unknown code {side!r}")
    for fam in tax.families.values():
        for f in fields(PoolingFamily):
            v = getattr(fam, f.name)
            if isinstance(v, Figure):
                check(v, f"pooling.yaml {fam.id}.{f.name}")
        for noun, fig in fam.unit_conversions.items():
            check(fig, f"pooling.yaml {fam.id}.unit_conversions.{noun}")
        for m in fam.members:
            if m not in tax.resources:
                raise TaxonomyError(f"pooling.yaml {fam.id}: unknown member code {m!r}")
    for r in tax.resources.values():
        if r.family is not None and r.family not in tax.families:
            raise TaxonomyError(f"resources.yaml {r.code}: unknown family {r.family!r}")


def _read_ewc(path: Path) -> dict[str, tuple[str, bool]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            row["code"]: (row["label_fr"], row["hazardous"] in ("1", "true", "True"))
            for row in csv.DictReader(fh)
        }


def _read_ewc_map(path: Path) -> dict[str, tuple[str | None, str | None]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            row["ewc"]: (row["resource"] or None, row["hazardous_resource"] or None)
            for row in csv.DictReader(fh)
        }


def _check_ewc_map(tax: Taxonomy) -> None:
    for prefix, (resource, hazardous_resource) in tax.ewc_map.items():
        where = f"ewc_resources.csv {prefix}"
        if tax.ewc_labels and prefix not in tax.ewc_labels:
            raise TaxonomyError(f"{where}: not a chapter, sub-chapter or entry of ewc.csv")
        for code in (resource, hazardous_resource):
            if code is not None and code not in tax.resources:
                raise TaxonomyError(f"{where}: unknown resource code {code!r}")
        if len(prefix) == 6 and (resource is None or hazardous_resource is not None):
            raise TaxonomyError(f"{where}: an entry row names one resource, in the resource column")
        if hazardous_resource is not None and not tax.resources[hazardous_resource].hazardous:
            raise TaxonomyError(f"{where}: {hazardous_resource!r} is not a hazardous resource")


def _read_naf(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["label_fr"] for row in csv.DictReader(fh)}


def load_taxonomy(directory: Path) -> Taxonomy:
    """Read, validate and resolve the taxonomy data files of ``directory``."""
    sources_raw = _read_yaml(directory / "sources.yaml") or {}
    sources = {
        k: _validated(SourceEntry, v, f"sources.yaml {k}") for k, v in dict(sources_raw).items()
    }
    params = _validated(ParametersFile, _read_yaml(directory / "parameters.yaml"), "parameters.yaml")
    res_raw = (_read_yaml(directory / "resources.yaml") or {}).get("resources", [])
    entries = [_validated(ResourceEntry, e, f"resources.yaml entry {i + 1}") for i, e in enumerate(res_raw)]
    rules_raw = (_read_yaml(directory / "rules.yaml") or {}).get("rules", [])
    rules = []
    for i, raw in enumerate(rules_raw):
        e = _validated(RuleEntry, raw, f"rules.yaml entry {i + 1}")
        rules.append(
            SubstitutionRule(
                id=e.id,
                supply=e.supply,
                demand=e.demand,
                ratio=e.ratio,
                temperature=e.conditions.temperature,
                concentration_tolerance_pct=e.conditions.concentration_tolerance_pct,
                hazardous_ok=e.conditions.hazardous_ok,
                max_distance_km=e.max_distance_km,
                label_fr=e.label_fr,
                source=e.source,
                checks_fr=tuple(e.conditions.checks_fr),
            )
        )
    if len({r.id for r in rules}) != len(rules):
        raise TaxonomyError("rules.yaml: rule ids must be unique")
    fam_path = directory / "pooling.yaml"
    fam_raw = (_read_yaml(fam_path) or {}).get("families", []) if fam_path.exists() else []
    families = {}
    for i, raw in enumerate(fam_raw):
        e = _validated(FamilyEntry, raw, f"pooling.yaml entry {i + 1}")
        attrs = {name: getattr(e, name) for name in FamilyEntry.model_fields if name not in ("members", "naf_hints")}
        families[e.id] = PoolingFamily(members=tuple(e.members), naf_hints=tuple(e.naf_hints), **attrs)
    tax = Taxonomy(
        resources=_resolve_resources(entries),
        rules=tuple(rules),
        families=families,
        parameters=dict(params.parameters),
        sources=sources,
        ewc_labels=_read_ewc(directory / "ewc.csv"),
        naf_labels=_read_naf(directory / "naf.csv"),
        ewc_map=_read_ewc_map(directory / "ewc_resources.csv"),
    )
    _check_sources(tax)
    _check_ewc_map(tax)
    return tax


def with_resources(tax: Taxonomy, **changes: Resource) -> Taxonomy:
    """A copy of ``tax`` with some resources replaced (handy in tests)."""
    return replace(tax, resources={**tax.resources, **changes})
