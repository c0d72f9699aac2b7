"""ORM tables of the ledger core. Domain records live in ``model.py``; these are storage only.

Money columns are BigInteger fen. Posted rows (journal_entries, postings) are never updated or
deleted: database triggers (created by the migrations) refuse it on SQLite and PostgreSQL.
Every other package declares its tables on the same ``Base`` so one Alembic tree covers them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from disburse.foundation.orm import HASH_LENGTH, Base, BigId

GENESIS_HASH = "0" * HASH_LENGTH


class AccountRow(Base):
    """A chart-of-accounts line (科目); sub-accounts carry their parent's code before a dot."""

    __tablename__ = "accounts"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    account_type: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("accounts.code"))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    __table_args__ = (
        CheckConstraint("account_type IN ('asset','liability','equity','cost','income','expense')", name="type"),
    )


class EntityRow(Base):
    """A set of books: the county special account, a village collective or a cooperative."""

    __tablename__ = "entities"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    __table_args__ = (CheckConstraint("kind IN ('county','village','cooperative')", name="kind"),)


class BankAccountRow(Base):
    """An entity's bank account and the 102 sub-account that holds its balance in the books."""

    __tablename__ = "bank_accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    bank_name: Mapped[str] = mapped_column(String(100))
    account_number: Mapped[str] = mapped_column(String(40), unique=True)
    account_name: Mapped[str | None] = mapped_column(String(200))
    ledger_account_code: Mapped[str] = mapped_column(ForeignKey("accounts.code"), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class PeriodRow(Base):
    """An accounting period (YYYY-MM) of one entity. A period without a row is open."""

    __tablename__ = "periods"
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    head_sequence: Mapped[int | None] = mapped_column(BigInteger)
    head_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    __table_args__ = (CheckConstraint("status IN ('open','closed')", name="status"),)


class ChainHeadRow(Base):
    """The newest entry of an entity's hash chain. Locked while posting, so numbering is gap-free."""

    __tablename__ = "chain_heads"
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), default=GENESIS_HASH)


class VoucherCounterRow(Base):
    """The last voucher number used in one entity's period (vouchers are 记-0001, 记-0002, …)."""

    __tablename__ = "voucher_counters"
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class PostRequestRow(Base):
    """One call of the bulk poster, keyed by the caller's idempotency key. Its entries have the
    consecutive ids first_entry_id..last_entry_id and share who posted them and when (kept here
    once rather than on each of a million entry rows, and covered by each entry's hash)."""

    __tablename__ = "post_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    input_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    entry_count: Mapped[int] = mapped_column(Integer)
    posting_count: Mapped[int] = mapped_column(BigInteger)
    first_entry_id: Mapped[int] = mapped_column(BigInteger)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class JournalEntryRow(Base):
    """A posted journal entry (记账凭证). Never updated or deleted."""

    __tablename__ = "journal_entries"
    # Assigned by the poster (not autoincrement) so postings can be bulk-inserted with it.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    period: Mapped[str] = mapped_column(String(7))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    voucher_number: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(500))
    source_kind: Mapped[str] = mapped_column(String(32))
    source_reference: Mapped[str] = mapped_column(String(200))
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    post_request_id: Mapped[int] = mapped_column(ForeignKey("post_requests.id"))
    posting_count: Mapped[int] = mapped_column(SmallInteger)
    # An entity's chain runs in id order (ids only grow, and posting is serialised). Neither
    # the previous entry's hash nor a sequence number is stored: each hash covers its
    # predecessor's, so verify recomputes the links and a removed or inserted entry breaks them.
    entry_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    __table_args__ = (
        UniqueConstraint("entity_id", "period", "voucher_number"),
        CheckConstraint("posting_count >= 2", name="two_postings"),
        # An entry can be reversed once; most entries reverse nothing, so only those that do
        # are indexed.
        Index(
            "uq_journal_entries_reverses_entry_id",
            "reverses_entry_id",
            unique=True,
            sqlite_where=text("reverses_entry_id IS NOT NULL"),
            postgresql_where=text("reverses_entry_id IS NOT NULL"),
        ),
    )


class PostingRow(Base):
    """One line of a journal entry: debit positive, credit negative, never zero."""

    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    line_number: Mapped[int] = mapped_column(SmallInteger)
    account_code: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    household_id: Mapped[str | None] = mapped_column(String(32))
    fund_source: Mapped[str | None] = mapped_column(String(64))
    payment_reference: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="nonzero"),
        UniqueConstraint("entry_id", "line_number"),
        Index(
            "ix_postings_household_id",
            "household_id",
            sqlite_where=text("household_id IS NOT NULL"),
            postgresql_where=text("household_id IS NOT NULL"),
        ),
        Index(
            "ix_postings_payment_reference",
            "payment_reference",
            sqlite_where=text("payment_reference IS NOT NULL"),
            postgresql_where=text("payment_reference IS NOT NULL"),
        ),
    )


class VoucherSubmissionRow(Base):
    """Manual vouchers (a 凭证 file) submitted for review: nothing is in the books until a second
    person approves them. The reviewed content is kept here, so what posts is exactly what was
    reviewed, whatever later happens to the file."""

    __tablename__ = "voucher_submissions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    voucher_count: Mapped[int] = mapped_column(Integer)
    posting_count: Mapped[int] = mapped_column(Integer)
    debit_total_fen: Mapped[int] = mapped_column(BigInteger)
    vouchers_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(String(500))
    post_request_id: Mapped[int | None] = mapped_column(ForeignKey("post_requests.id"))
    __table_args__ = (
        UniqueConstraint("entity_id", "file_sha256"),
        CheckConstraint("status = 'submitted' OR status = 'returned' OR status = 'posted'", name="status"),
    )


class SigningKeyRow(Base):
    """A public key that signs checkpoints (its private half is a file outside the database)."""

    __tablename__ = "signing_keys"
    fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    public_key_hex: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CheckpointRow(Base):
    """A signed checkpoint: the journal chain heads, the audit-log head and a digest of every
    money table at one moment, chained to the previous checkpoint and signed with Ed25519.
    ``checkpoint_hash`` covers every other column; the signature covers the hash."""

    __tablename__ = "checkpoints"
    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16))
    command: Mapped[str] = mapped_column(String(64))
    chain_heads: Mapped[str] = mapped_column(Text)  # canonical JSON {entity_id: [sequence, hash]}
    audit_log_head: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    money_digest: Mapped[str] = mapped_column(Text)  # canonical JSON, see schema/checkpoints.py
    previous_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    checkpoint_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    key_fingerprint: Mapped[str] = mapped_column(ForeignKey("signing_keys.fingerprint"))
    signature: Mapped[str] = mapped_column(String(128))
    __table_args__ = (
        CheckConstraint("trigger IN ('post','batch_export','card_fix','period_close','change')", name="trigger"),
    )
