"""ORM tables of the registers: imports, household and person versions, events, assets, holdings
and PV settlements. Storage only; the records handed to callers live in ``registry/model.py``.

Versions are type-2 rows: ``valid_from_import`` and ``valid_to_import`` name the register
imports (snapshots) between which a version was in force; ``valid_to_import`` NULL means it is
still in force. Closing a version (setting ``valid_to_import``) is the only update these tables
ever see, so nothing a snapshot said is lost. Which snapshot is "in force" on a date is decided
by the snapshots' ``as_of`` dates, not their ids (see ``registry/queries.py``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables these refer to by foreign key, so that any process that loads this module can
# resolve every key (issue #11 item 1: a process that never imported them crashed on insert).
import disburse.ledger.tables  # noqa: F401
from disburse.foundation.orm import HASH_LENGTH, Base, BigId, utc_now

IMPORT_KINDS = ("register", "shares", "settlements", "assets")
ASSET_KINDS = ("station", "cooperative")
HOLDER_TYPES = ("household", "collective")
REVENUE_TYPES = ("base", "subsidy")


class RegisterImportRow(Base):
    """One imported file: a register snapshot, a share register, a settlement file or an assets
    configuration. The same file (by SHA-256) is imported once per kind."""

    __tablename__ = "register_imports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    as_of: Mapped[dt.date] = mapped_column(Date)
    row_count: Mapped[int] = mapped_column(BigInteger)
    warning_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # A corrected register file for the same date (``import registry --replace``) supersedes
    # the import it names here.
    replaces_import_id: Mapped[int | None] = mapped_column(ForeignKey("register_imports.id"))
    __table_args__ = (
        UniqueConstraint("kind", "file_sha256"),
        CheckConstraint("kind IN ('register','shares','settlements','assets')", name="kind"),
        Index("ix_register_imports_kind_as_of", "kind", "as_of"),
    )


class HouseholdVersionRow(Base):
    """What one snapshot (and the following ones, while unchanged) said about a household."""

    __tablename__ = "household_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32))
    valid_from_import: Mapped[int] = mapped_column(ForeignKey("register_imports.id"))
    valid_to_import: Mapped[int | None] = mapped_column(ForeignKey("register_imports.id"))
    village_code: Mapped[str] = mapped_column(String(12))
    county: Mapped[str] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    village_group: Mapped[str | None] = mapped_column(String(100))
    household_type: Mapped[str] = mapped_column(String(16))
    poverty_status: Mapped[str] = mapped_column(String(16))
    enrolled_on: Mapped[dt.date | None] = mapped_column(Date)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)
    head_id_number: Mapped[str | None] = mapped_column(String(18))
    head_name: Mapped[str | None] = mapped_column(String(100))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    account_no: Mapped[str | None] = mapped_column(String(40))
    member_count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        Index("ix_household_versions_household_id_valid", "household_id", "valid_from_import", "valid_to_import"),
    )


class PersonVersionRow(Base):
    """What one snapshot (and the following ones, while unchanged) said about a person."""

    __tablename__ = "person_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    household_id: Mapped[str] = mapped_column(String(32))
    valid_from_import: Mapped[int] = mapped_column(ForeignKey("register_imports.id"))
    valid_to_import: Mapped[int | None] = mapped_column(ForeignKey("register_imports.id"))
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(16))
    sex: Mapped[str | None] = mapped_column(String(2))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    school_stage: Mapped[str | None] = mapped_column(String(16))
    boarding: Mapped[bool] = mapped_column(Boolean)
    health: Mapped[str | None] = mapped_column(String(16))
    died_on: Mapped[dt.date | None] = mapped_column(Date)
    person_account_no: Mapped[str | None] = mapped_column(String(40))
    # The bank of the person's own card (个人开户银行), when the register gives it (0114).
    person_bank_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        Index("ix_person_versions_id_number_valid", "id_number", "valid_from_import", "valid_to_import"),
        Index("ix_person_versions_household_id", "household_id"),
        # The counter's search by name and by the last six characters of a resident ID (0051).
        Index("ix_person_versions_name", "name"),
        Index("ix_person_versions_id_suffix", func.substr(id_number, 13, 6)),
    )


class RegisterEventRow(Base):
    """A dated change a snapshot revealed (new household, exit, 返贫, death, move …)."""

    __tablename__ = "register_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18))
    effective_on: Mapped[dt.date] = mapped_column(Date, index=True)
    details: Mapped[str] = mapped_column(Text)


class AssetRow(Base):
    """A declared asset: a PV station (capacity in W) or a 拨改股 cooperative (shares in e4)."""

    __tablename__ = "assets"
    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    owner_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    capacity_w: Mapped[int | None] = mapped_column(BigInteger)
    share_count_e4: Mapped[int | None] = mapped_column(BigInteger)
    principal_fen: Mapped[int | None] = mapped_column(BigInteger)
    paying_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    village_codes: Mapped[str] = mapped_column(Text)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    commissioned_on: Mapped[dt.date | None] = mapped_column(Date)
    config_sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (CheckConstraint("kind IN ('station','cooperative')", name="kind"),)


class HoldingRow(Base):
    """One line of a share register import: a holder's units (and principal) in an asset."""

    __tablename__ = "holdings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.asset_id"))
    holder_type: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(32))
    units_e4: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (
        CheckConstraint("holder_type IN ('household','collective')", name="holder_type"),
        Index("ix_holdings_import_id_asset_id", "import_id", "asset_id"),
        Index("ix_holdings_holder_id", "holder_id"),
    )


class PvSettlementRow(Base):
    """One settled row of a grid settlement file and the receivable entry it was posted as."""

    __tablename__ = "pv_settlements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id"))
    station_id: Mapped[str] = mapped_column(ForeignKey("assets.asset_id"))
    service_period: Mapped[str] = mapped_column(String(7))
    kwh: Mapped[int] = mapped_column(BigInteger)
    revenue_type: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    receivable_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    __table_args__ = (
        CheckConstraint("revenue_type IN ('base','subsidy')", name="revenue_type"),
        Index("ix_pv_settlements_station_id_service_period", "station_id", "service_period", "revenue_type"),
    )
