"""SQLAlchemy 2 tables. Each territory is a tenant: every row below a
territory carries its ``territory_id``. The schema is created by Alembic
migrations (``store/migrations``), never by ``create_all``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class TerritoryRow(Base):
    __tablename__ = "territories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # bumped by every write to the territory's companies or flows (store.versioning): caches key on it
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CompanyRow(Base):
    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("territory_id", "external_id", name="uq_company_external"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    postcode: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(128))
    naf: Mapped[str | None] = mapped_column(String(8))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    size_band: Mapped[str | None] = mapped_column(String(4))  # INSEE tranche d'effectif (pre-diagnostic)
    employees: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(128))  # edited in the pages (0003_edits)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    visit_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    flows: Mapped[list[FlowRow]] = relationship(back_populates="company")


class EditRow(Base):
    """One change made in the pages to a company or a flow: who, when, and each field's old and new value."""

    __tablename__ = "edits"
    __table_args__ = (Index("ix_edits_entity", "territory_id", "entity", "entity_key", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(16))  # "company" or "flow"
    entity_key: Mapped[str] = mapped_column(String(128))  # the company's external id, the flow's uid
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # field -> [old, new]


class ImportRow(Base):
    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str | None] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


DECLARED, PROBABLE, SUPERSEDED = "declared", "probable", "superseded"  # FlowRow.status


class FlowRow(Base):
    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("territory_id", "uid", name="uq_flow_uid"),
        Index("ix_flows_territory_resource", "territory_id", "resource"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"))
    uid: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(3))
    resource: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(8))
    raw_quantity: Mapped[float | None] = mapped_column(Float)
    raw_unit: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(8), default="year")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    hazardous: Mapped[bool] = mapped_column(Boolean, default=False)
    ewc: Mapped[str | None] = mapped_column(String(6))
    temperature_c: Mapped[float | None] = mapped_column(Float)
    concentration_pct: Mapped[float | None] = mapped_column(Float)
    cost_eur_per_unit: Mapped[float | None] = mapped_column(Float)
    months: Mapped[int] = mapped_column(Integer, default=0xFFF)
    label: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pre-diagnostic: "declared" (from a diagnostic or a visit), "probable" (guessed from the
    # firm's sector and size) or "superseded" (a probable flow a declared one replaced)
    status: Mapped[str] = mapped_column(String(16), default="declared", server_default="declared")
    probability: Mapped[float | None] = mapped_column(Float)
    quantity_low: Mapped[float | None] = mapped_column(Float)
    quantity_high: Mapped[float | None] = mapped_column(Float)
    company: Mapped[CompanyRow] = relationship(back_populates="flows")


QUEUED_ONLY = "status = 'queued'"
class FlowVisitRow(Base):
    """Trace of a visit that turned a probable flow into a declared one."""

    __tablename__ = "flow_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id", ondelete="SET NULL"))
    flow_uid: Mapped[str] = mapped_column(String(32))
    company_external_id: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(3))
    probable: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the pre-diagnostic said
    declared: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the visit found
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class VisitRankingRow(Base):
    """The latest visit ranking of a territory (pre-diagnostic), as JSON."""

    __tablename__ = "visit_rankings"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class RunRow(Base):
    __tablename__ = "runs"
    # one queued run per territory: a request that finds one joins it (services.runs.queue_run)
    __table_args__ = (
        Index("uq_runs_one_queued", "territory_id", unique=True,
              sqlite_where=text(QUEUED_ONLY), postgresql_where=text(QUEUED_ONLY)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the synergy JSON minus synergies
    error: Mapped[str | None] = mapped_column(Text)
    region_run_id: Mapped[int | None] = mapped_column(ForeignKey("region_runs.id", ondelete="SET NULL"), index=True)


class RegionRow(Base):
    """A set of territories matched as one (a region, or all of France)."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    territories: Mapped[list[TerritoryRow]] = relationship(secondary="region_territories", order_by="TerritoryRow.code")


class RegionTerritoryRow(Base):
    __tablename__ = "region_territories"
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True)


class RegionRunRow(Base):
    """One matching of a region; it writes one run per territory (``RunRow.region_run_id``)."""

    __tablename__ = "region_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class SynergyRow(Base):
    __tablename__ = "synergies"
    __table_args__ = (
        UniqueConstraint("run_id", "public_id", name="uq_synergy_public"),
        Index("ix_synergies_territory_key", "territory_id", "key_hash"),
        Index("ix_synergies_run_rank", "run_id", "rank", "id"),  # a run's synergies by rank, paginated
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(16))
    resource: Mapped[str] = mapped_column(String(128))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    in_plan: Mapped[bool] = mapped_column(Boolean, default=True)
    quantity: Mapped[float] = mapped_column(Float)
    tonnes_diverted: Mapped[float] = mapped_column(Float, default=0.0)
    savings_eur: Mapped[float] = mapped_column(Float)
    co2_avoided_t: Mapped[float] = mapped_column(Float)
    company_ids: Mapped[list[Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class FollowUpRow(Base):
    """Follow-up of a synergy, keyed by its identity across runs (type, resource, participants)."""

    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("territory_id", "key_hash", name="uq_followup_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    events: Mapped[list[FollowUpEventRow]] = relationship(order_by="FollowUpEventRow.id", cascade="all, delete-orphan")


class FollowUpEventRow(Base):
    __tablename__ = "followup_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ConsentRow(Base):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("territory_id", "key_hash", "company_external_id", name="uq_consent"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(40))
    company_external_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSessionRow(Base):
    """A signed-in browser of the pages: the cookie names it; signing out revokes it here."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class InstanceSecretRow(Base):
    """Secrets made once per installation (e.g. the HMAC key of anonymised aliases)."""

    __tablename__ = "instance_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CorrectionRow(Base):
    """An animator's classification of a text, reused for that text in the territory's later imports."""

    __tablename__ = "corrections"
    __table_args__ = (UniqueConstraint("territory_id", "key_hash", name="uq_correction_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(40))  # SHA-1 of the normalised text
    text: Mapped[str] = mapped_column(Text)  # as the animator corrected it
    code: Mapped[str] = mapped_column(String(128))
    previous_code: Mapped[str | None] = mapped_column(String(128))  # what the classifier had said
    flow_uid: Mapped[str | None] = mapped_column(String(32))  # the flow it was made on, if any
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
