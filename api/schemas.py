"""Request and response bodies of the HTTP API (``http-api.md``), for
validation and the OpenAPI document. Response objects allow extra fields:
the contracts say fields may be added, never renamed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from symbiose.domain import FollowUpStatus
from symbiose.explain.validation import status_code
from symbiose.services.territories import CODE_PATTERN

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=4000)]
Name = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=256)]
Ident = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=128)]
TerritoryCode = Annotated[str, StringConstraints(pattern=CODE_PATTERN.pattern)]

T = TypeVar("T")


def _status_word(value: Any) -> Any:
    """A follow-up status given by its French word (``contacté``, ``à l'étude``, ``réalisée``) → its code."""
    return (status_code(value) or value) if isinstance(value, str) else value


Status = Annotated[FollowUpStatus, BeforeValidator(_status_word)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------


class TerritoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: TerritoryCode = Field(description="lower-case letters, digits, '-' or '_' (at most 64)", examples=["fos-piicto"])
    name: Name = Field(examples=["Plateforme PIICTO, Fos-sur-Mer"])


class ApiKeyCreate(BaseModel):
    """A new key (admin): territory, role (French words accepted), who holds it, until when."""

    model_config = ConfigDict(extra="forbid")
    territory: TerritoryCode = Field(examples=["fos-piicto"])
    role: Literal["admin", "animator", "portal", "administrateur", "animateur", "portail"] = Field(examples=["portal"])
    label: Annotated[str, StringConstraints(max_length=256, pattern=NO_NUL)] | None = Field(
        default=None, examples=["CCI Sud — portail régional"])
    expires_at: datetime | None = Field(default=None, description="end of validity (UTC); none: until revoked")


class ApiKeyOut(BaseModel):
    """A key as listed: never the key itself, only its first characters."""

    id: int
    prefix: str
    role: str
    territory: str | None
    label: str | None
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    active: bool


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key, shown this once only")


class FollowUpUpdate(BaseModel):
    """A follow-up change: a new status and/or a note (the reason, for ``rejected``)."""

    model_config = ConfigDict(extra="forbid")
    status: Status | None = Field(default=None, description="the new status; its French word is accepted too "
                                  "(proposée, contactée, à l'étude, réalisée, abandonnée)")
    note: Text | None = None


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Ident = Field(description="a company taking part in the synergy")


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=500)


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    version: str


class TerritoryOut(_Out):
    code: str
    name: str
    companies: int
    flows: int
    synergies: int


class IssueOut(BaseModel):
    row: int | None = None
    column: str | None = Field(default=None, description="the column as the file wrote its header")
    value: str | None = None
    message: str = Field(description="in French")
    code: str | None = Field(default=None, description="message code (symbiose/explain/issues.py), e.g. number.invalid")


class Counts(BaseModel):
    companies: int
    flows: int


class ImportReportOut(_Out):
    """The import report, as ``symbiose import --json`` prints it."""

    territory: str
    written: bool
    dry_run: bool
    companies: int
    flows: int
    created: Counts
    updated: Counts
    errors: list[IssueOut]
    warnings: list[IssueOut]
    classified: list[dict[str, Any]]
    ignored_columns: list[str]
    import_id: int | None = None


class CompanyOut(_Out):
    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    postcode: str | None = None
    city: str | None = None
    naf: str | None = None
    confidential: bool
    flows: int


class FlowOut(_Out):
    id: str
    company_id: str
    company_name: str
    direction: Literal["in", "out"]
    resource: str
    text: str
    label: str
    confidence: float
    quantity: float
    unit: str
    raw_quantity: float | None = None
    raw_unit: str | None = None
    period: str
    lat: float | None = None
    lon: float | None = None
    hazardous: bool
    ewc: str | None = None
    temperature_c: float | None = None
    concentration_pct: float | None = None
    cost_eur_per_unit: float | None = None
    months: list[int]
    notes: str
    attributes: dict[str, Any]
    status: Literal["declared", "probable"] = "declared"  # probable: guessed by the pre-diagnostic, to confirm
    probability: float | None = None
    quantity_low: float | None = None
    quantity_high: float | None = None


class RunCreated(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]


class RunOut(_Out):
    id: int
    territory: str
    status: Literal["queued", "running", "done", "failed"]
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    summary: dict[str, Any] | None = Field(default=None, description="the summary of synergy-output.md, when done")
    error: str | None = Field(default=None, description="why the run failed, when failed")


class Participant(_Out):
    company_id: str
    flow_id: str | None = None
    name: str | None = Field(default=None, description="the company's name; its anonymised label for a portal key "
                             "until every party has consented")


class FollowUpEvent(BaseModel):
    status: FollowUpStatus
    note: str | None = None
    actor: str | None = None
    at: str


class SynergyOut(_Out):
    """A synergy as in ``synergy-output.md``, plus its follow-up."""

    id: str
    type: Literal["substitution", "mutualisation"]
    resource: str
    suppliers: list[Participant]
    receivers: list[Participant]
    quantity: float
    unit: str
    distance_km: float
    savings_eur: float
    co2_avoided_t: float
    score: float
    rank: int
    explanation: str
    kind: Literal["synergy", "to_complete"] = Field(
        default="synergy", description="to_complete: a pooling group below its critical mass (« à compléter »), "
        "a lead out of the plan, with details.missing_companies, details.missing_quantity and details.prospects")
    status: FollowUpStatus
    note: str | None = None
    status_updated_at: str | None = None
    history: list[FollowUpEvent]
    consents: list[str] = Field(description="parties that agreed to be named (double opt-in)")


class ConsentOut(BaseModel):
    synergy_id: str
    company_id: str
    consents: list[str]
    pending: list[str]
    named: bool = Field(description="every party has consented: the synergy names them to portal keys")


class Figures(BaseModel):
    synergies: int
    tonnes_diverted: float
    savings_eur: float
    co2_avoided_t: float


class IndicatorsOut(_Out):
    territory: str
    run_id: int | None = None
    generated_at: str | None = None
    total: Figures
    by_status: dict[str, Figures]
    by_type: dict[str, Figures]


class Feature(_Out):
    type: Literal["Feature"]
    id: str | None = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any]


class FeatureCollection(_Out):
    type: Literal["FeatureCollection"]
    features: list[Feature]
