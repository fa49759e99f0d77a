"""Sector x size profiles (``taxonomy/data/profiles.yaml``), validated once.

A profile belongs to a NAF division (``"25"``) or group (``"25.6"``). The
flows of a NAF code are the common flows, replaced by the office overrides
when the division is office-type, then by the division's flows, then by the
group's (a later entry for the same resource and direction replaces an
earlier one). Every figure names a source of ``sources.yaml`` or
``sources_profiles.yaml``; every resource must exist in the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from symbiose.taxonomy import DATA_DIR, Taxonomy, get_taxonomy
from symbiose.taxonomy.model import TaxonomyError

SIZE_CLASSES = ("micro", "small", "medium", "large")
_CLASS_FLOOR = (0, 10, 50, 250)  # first headcount of each size class (INSEE's usual cuts)


class FlowEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    resource: str
    direction: Literal["in", "out"]
    probability: tuple[float, float, float, float]
    per_employee: tuple[float, float] | None = None
    per_firm: tuple[float, float] | None = None
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> FlowEntry:
        if (self.per_employee is None) == (self.per_firm is None):
            raise ValueError(f"{self.resource}: give exactly one of per_employee or per_firm")
        low, high = self.per_employee or self.per_firm  # type: ignore[misc]
        if not 0 <= low <= high:
            raise ValueError(f"{self.resource}: expected 0 <= low <= high, got [{low}, {high}]")
        if not all(0.0 <= p <= 1.0 for p in self.probability):
            raise ValueError(f"{self.resource}: probabilities must lie in [0, 1]")
        return self


class ProfileEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str
    office: bool = False
    flows: list[FlowEntry] = Field(default_factory=list)


class ProfilesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int
    coverage: float
    size_classes: list[str]
    size_bands: dict[str, tuple[int, int]]
    unknown_size: tuple[int, int]
    min_probability: float = 0.1
    fallback: list[str] = Field(default_factory=list)
    residual: list[str] = Field(default_factory=list)
    common: list[FlowEntry]
    profiles: dict[str, ProfileEntry]
    office_overrides: list[FlowEntry] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProfileFlow:
    """One expected flow of a sector: probability by size class, quantity bounds, source."""

    resource: str
    direction: str
    probability: tuple[float, float, float, float]
    low: float
    high: float
    per_employee: bool
    source: str
    note: str
    profile: str  # "common", "office" or the NAF key the entry comes from


@dataclass(frozen=True, slots=True)
class SectorProfile:
    """The flows expected for one NAF code; ``key`` is None when no profile matched."""

    key: str | None
    label: str | None
    flows: tuple[ProfileFlow, ...]


def size_class(employees: float) -> int:
    """Index in :data:`SIZE_CLASSES` of a headcount (0-9, 10-49, 50-249, 250+)."""
    return max(i for i, floor in enumerate(_CLASS_FLOOR) if employees >= floor)


def _flow(entry: FlowEntry, origin: str) -> ProfileFlow:
    low, high = entry.per_employee or entry.per_firm  # type: ignore[misc]
    return ProfileFlow(entry.resource, entry.direction, tuple(entry.probability), float(low), float(high),
                       entry.per_employee is not None, entry.source, entry.note, origin)


@dataclass(frozen=True)
class Profiles:
    """The validated profiles file and the lookups the pre-diagnostic needs."""

    data: ProfilesFile

    @property
    def coverage(self) -> float:
        return self.data.coverage

    def band(self, code: str) -> tuple[int, int] | None:
        return self.data.size_bands.get(code)

    def divisions(self) -> list[str]:
        return sorted(k for k in self.data.profiles if "." not in k)

    def common(self) -> SectorProfile:
        """The fallback of a NAF code with no profile: the flows shared by nearly all firms."""
        keep = set(self.data.fallback)
        return SectorProfile(None, None, tuple(_flow(e, "common") for e in self.data.common if e.resource in keep))

    def for_naf(self, naf: str | None) -> SectorProfile:
        """The merged profile of a NAF code (``20.13B``, ``2013B``, ``20``); the common one if none."""
        if not naf:
            return self.common()
        digits = naf.replace(".", "").strip().upper()
        division, group = digits[:2], (f"{digits[:2]}.{digits[2]}" if len(digits) >= 3 else None)
        div = self.data.profiles.get(division)
        if div is None:
            return self.common()
        merged: dict[tuple[str, str], ProfileFlow] = {}
        for e in self.data.common:
            merged[(e.resource, e.direction)] = _flow(e, "common")
        if div.office:
            for e in self.data.office_overrides:
                merged[(e.resource, e.direction)] = _flow(e, "office")
        for e in div.flows:
            merged[(e.resource, e.direction)] = _flow(e, division)
        key, label = division, div.label
        grp = self.data.profiles.get(group) if group else None
        if grp is not None:
            for e in grp.flows:
                merged[(e.resource, e.direction)] = _flow(e, group)  # type: ignore[arg-type]
            key, label = group, grp.label  # type: ignore[assignment]
        return SectorProfile(key, label, tuple(merged.values()))


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path.name}: {exc}") from exc


def load_profiles(directory: Path, taxonomy: Taxonomy) -> Profiles:
    """Read and check ``profiles.yaml``: schema, known resources, known sources."""
    try:
        data = ProfilesFile.model_validate(_read(directory / "profiles.yaml"))
    except ValidationError as exc:
        raise TaxonomyError(f"profiles.yaml: {exc}") from exc
    extra = _read(directory / "sources_profiles.yaml") if (directory / "sources_profiles.yaml").exists() else {}
    sources = set(taxonomy.sources) | set(extra or {})
    entries = [("common", e) for e in data.common] + [("office_overrides", e) for e in data.office_overrides]
    entries += [(k, e) for k, p in data.profiles.items() for e in p.flows]
    problems = []
    for where, e in entries:
        if e.resource not in taxonomy:
            problems.append(f"{where}: unknown resource {e.resource!r}")
        if e.source not in sources:
            problems.append(f"{where}/{e.resource}: unknown source {e.source!r}")
    if problems:
        raise TaxonomyError("profiles.yaml: " + "; ".join(problems))
    return Profiles(data)


@lru_cache(maxsize=2)
def get_profiles(path: str | None = None) -> Profiles:
    """The profiles shipped with the package (or from ``path``), loaded once."""
    return load_profiles(Path(path) if path else DATA_DIR, get_taxonomy())
