"""Storage of payouts: what is owed to whom (payables), the batches and payment instructions
that pay it, the bank's files going out and coming back, and the cards that need fixing.

Payables, instructions and batches are workflow records: their status moves on; amounts,
payees and references never change once written. Postings are the ledger core's (this package
hands entries to ``post_entries``); these tables say which posting request did what.
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables these refer to by foreign key, so that any process that loads this module can
# resolve every key (issue #11 item 1: a process that never imported them crashed on insert).
import disburse.allocations.tables  # noqa: F401
import disburse.ledger.tables  # noqa: F401
from disburse.foundation.actors import USER_LENGTH_MAX
from disburse.foundation.orm import HASH_LENGTH, Base, BigId, utc_now

PAYABLE_STATUSES = ("open", "claimed", "paid")
BATCH_STATUSES = ("prepared", "approved", "exported", "closed", "cancelled")
INSTRUCTION_STATUSES = ("pending", "exported", "success", "failed", "cancelled")
RETURN_LINE_OUTCOMES = ("success", "failure", "unmatched", "already_settled", "mismatch", "duplicate")
FIX_STATUSES = ("open", "fixed", "forced")
# An account fix made by a clerk is proposed, then approved (or rejected) by a checker; one the
# register makes is approved when prepare notices it.
ACCOUNT_FIX_STATUSES = ("proposed", "approved", "rejected")
BATCH_NETTING = ("by_programme", "merged")

REFERENCE_LENGTH_MAX = 40  # the ledger's payment_reference dimension holds 40 characters
ACCOUNT_NO_LENGTH_MAX = 40
ACCOUNT_NAME_LENGTH_MAX = 200
PAYEE_ID_LENGTH_MAX = 64


class PayableRow(Base):
    """An amount owed to one payee by one entity, from one line of a posted allocation run.

    ``status`` is ``open`` (waiting for a batch), ``claimed`` (in an instruction of an open or
    exported batch) or ``paid`` (its instruction succeeded). A failed or cancelled instruction
    gives its payables back: they are ``open`` again.
    """

    __tablename__ = "payables"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_runs.id"))
    source_line: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[str | None] = mapped_column(String(32))
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(String(PAYEE_ID_LENGTH_MAX))
    programme: Mapped[str] = mapped_column(String(200))
    fund_source: Mapped[str | None] = mapped_column(String(200))
    account_code: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    account_no: Mapped[str | None] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # The three parties apart (0114): the beneficiary (享受人: a person, or None for the
    # household), their name, the head of household (户主) and whose card the payee's account is.
    beneficiary_id: Mapped[str | None] = mapped_column(String(18))
    beneficiary_name: Mapped[str | None] = mapped_column(String(100))
    head_name: Mapped[str | None] = mapped_column(String(100))
    card_kind: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (
        CheckConstraint(
            "payee_type = 'household' OR payee_type = 'person' OR payee_type = 'collective'", name="payee_type"
        ),
        CheckConstraint(
            "card_kind IS NULL OR card_kind = 'person_card' OR card_kind = 'household_card' OR "
            "card_kind = 'collective'",
            name="card_kind",
        ),
        # Comparisons, not IN: SQLite checks an IN list of more than two values slowly (0008).
        CheckConstraint("status = 'open' OR status = 'claimed' OR status = 'paid'", name="status"),
        CheckConstraint("amount_fen <> 0", name="nonzero"),
        # A run's line is owed once: recording a run twice would pay it twice.
        UniqueConstraint("run_id", "source_line"),
        # prepare reads an entity's open payables; the counter reads one household's.
        Index("ix_payables_entity_id_status", "entity_id", "status"),
        Index("ix_payables_household_id", "household_id"),
        Index("ix_payables_payee_id", "payee_id"),
    )


class PaymentBatchRow(Base):
    """A batch of payment instructions: prepared → approved (one or two approvers besides the
    preparer) → exported (the bank file written and Dr 211 / Cr 102.90 posted) → closed (every
    instruction has a result); or cancelled before export."""

    __tablename__ = "payment_batches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH_MAX), unique=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    status: Mapped[str] = mapped_column(String(16))
    programme_filter: Mapped[str | None] = mapped_column(String(200))
    period_filter: Mapped[str | None] = mapped_column(String(7))
    # by_programme: one payment per programme and period per payee account (the default);
    # merged: one payment per payee account (payouts/config.yaml merge_programmes).
    netting: Mapped[str] = mapped_column(String(16))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    instruction_count: Mapped[int] = mapped_column(Integer)
    payable_count: Mapped[int] = mapped_column(Integer)
    approvals_required: Mapped[int] = mapped_column(Integer)
    prepared_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    prepared_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    first_approved_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    first_approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    second_approved_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    second_approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    bank_profile: Mapped[str | None] = mapped_column(String(40))
    exported_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    export_post_request_id: Mapped[int | None] = mapped_column(ForeignKey("post_requests.id"))
    cancelled_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        CheckConstraint("status IN ('prepared','approved','exported','closed','cancelled')", name="status"),
        CheckConstraint("total_fen > 0", name="positive_total"),
        CheckConstraint("netting = 'by_programme' OR netting = 'merged'", name="netting"),
        # The separation of duties, once more in the database: nobody approves their own batch
        # or approves it twice.
        CheckConstraint("first_approved_by IS NULL OR first_approved_by <> prepared_by", name="first_not_preparer"),
        CheckConstraint(
            "second_approved_by IS NULL OR (second_approved_by <> prepared_by AND second_approved_by <> "
            "first_approved_by)",
            name="second_distinct",
        ),
        Index("ix_payment_batches_entity_id_status", "entity_id", "status"),
    )


class BatchFileRow(Base):
    """A file written for a batch (a large batch is split into numbered files), with its hash,
    size and row count, recorded in the transaction that exports the batch: the file is renamed
    into place only after that commit, so a file the bank may receive is always one recorded
    here (``size_bytes`` is None for files exported before 0060)."""

    __tablename__ = "payment_batch_files"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"))
    file_number: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(500))
    row_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("batch_id", "file_number"),)


class PaymentInstructionRow(Base):
    """One payment to one payee account: the net of one or more payables, under a reference
    (``PAY-202610-000123``) that goes into the bank file's memo and comes back in its return."""

    __tablename__ = "payment_instructions"
    # Assigned by prepare from max(id) under its lock, so links can be bulk-inserted with it.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    payment_reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH_MAX), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(String(PAYEE_ID_LENGTH_MAX))
    household_id: Mapped[str | None] = mapped_column(String(32))
    account_no: Mapped[str] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    programmes: Mapped[str] = mapped_column(String(500))
    # The one period the payment is for (None when a merged payment spans several).
    period: Mapped[str | None] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    return_file_id: Mapped[int | None] = mapped_column(ForeignKey("return_files.id"))
    # How many times the money of this payment went to the bank before and failed (0: its first
    # send; 1: resent once after a bank failure …): the most of any payable it pays (0113).
    send_number: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Whose card is paid and the head of the payee's household (None for a collective) (0114).
    card_kind: Mapped[str | None] = mapped_column(String(16))
    head_name: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (
        CheckConstraint(
            "status = 'pending' OR status = 'exported' OR status = 'success' OR status = 'failed' "
            "OR status = 'cancelled'",
            name="status",
        ),
        CheckConstraint("amount_fen > 0", name="positive"),
        Index("ix_payment_instructions_batch_id", "batch_id"),
        Index("ix_payment_instructions_household_id", "household_id"),
    )


class InstructionPayableRow(Base):
    """Which payables an instruction pays. ``active`` is true while the instruction may still
    pay them (pending, exported or succeeded); a failed or cancelled instruction's links stay
    for the record with ``active`` false. The partial unique index lets a payable have one
    active claim only: two batches can never both pay it, whatever the application does."""

    __tablename__ = "instruction_payables"
    instruction_id: Mapped[int] = mapped_column(ForeignKey("payment_instructions.id"), primary_key=True)
    payable_id: Mapped[int] = mapped_column(ForeignKey("payables.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (
        Index(
            "uq_instruction_payables_active_claim",
            "payable_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        # On SQLite the rows live in the primary key's B-tree (no separate rowid table): one
        # tree fewer to write for each of a batch's 300,000 links.
        {"sqlite_with_rowid": False},
    )


class ReturnFileRow(Base):
    """A bank return file (代发回盘) applied once, known by the SHA-256 of its bytes."""

    __tablename__ = "return_files"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    bank_profile: Mapped[str] = mapped_column(String(40))
    settled_on: Mapped[dt.date] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    reported_count: Mapped[int] = mapped_column(Integer)
    post_request_id: Mapped[int | None] = mapped_column(ForeignKey("post_requests.id"))
    applied_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class ReturnLineRow(Base):
    """One line of a return file and what became of it: applied (success, failure) or reported
    (unmatched, already settled, amount or account mismatch, a duplicate within the file)."""

    __tablename__ = "return_lines"
    return_file_id: Mapped[int] = mapped_column(ForeignKey("return_files.id"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    instruction_id: Mapped[int | None] = mapped_column(ForeignKey("payment_instructions.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    account_no: Mapped[str | None] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(200))
    # A failure's reason as one code of importers.failure_reasons (card_closed, name_mismatch,
    # limit_reached, frozen, no_account, other); ``reason`` keeps the bank's own text (0113).
    reason_code: Mapped[str | None] = mapped_column(String(16))
    memo: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('success','failure','unmatched','already_settled','mismatch','duplicate')", name="outcome"
        ),
        Index("ix_return_lines_instruction_id", "instruction_id"),
    )


class CardFixRow(Base):
    """The fix-the-card list: a payee whose payment failed, waiting for a new account. While an
    entry is open, prepare leaves the payee's payables out (unless forced)."""

    __tablename__ = "card_fixes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(String(PAYEE_ID_LENGTH_MAX))
    household_id: Mapped[str | None] = mapped_column(String(32))
    account_no: Mapped[str] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    instruction_id: Mapped[int] = mapped_column(ForeignKey("payment_instructions.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    failed_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    account_fix_id: Mapped[int | None] = mapped_column(ForeignKey("account_fixes.id"))
    resolved_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        CheckConstraint("status IN ('open','fixed','forced')", name="status"),
        UniqueConstraint("instruction_id"),
        Index("ix_card_fixes_payee_id_status", "payee_id", "status"),
        Index("ix_card_fixes_household_id", "household_id"),
        Index("ix_card_fixes_entity_id_status", "entity_id", "status"),
    )


class AccountFixRow(Base):
    """A payee's account changed for payouts, with the values before and after (number, name,
    bank), who made the change and who checked it.

    A clerk's fix (``source`` clerk, ``payout fix-account``) is ``proposed`` and takes effect
    only once another user approves it (``payout approve-fix``); a rejected one never does. A
    fix the register makes (prepare notices a new card in force) is approved when it is made.
    Prepare pays a payable addressed to any account an approved fix replaced, or to the fixed
    account itself, into the payee's newest approved account, with its name and bank.
    ``warnings`` keeps what the identifier checks found (a Luhn failure is a warning, not a
    refusal); ``shared_with_household`` names the other household whose card this is, when the
    clerk stated that the card is shared. Rows fixed before 0060 have no ``fix_reference``.
    """

    __tablename__ = "account_fixes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fix_reference: Mapped[str | None] = mapped_column(String(REFERENCE_LENGTH_MAX), unique=True)
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(String(PAYEE_ID_LENGTH_MAX))
    household_id: Mapped[str | None] = mapped_column(String(32))
    old_account_no: Mapped[str | None] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    old_account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    old_bank_name: Mapped[str | None] = mapped_column(String(100))
    new_account_no: Mapped[str] = mapped_column(String(ACCOUNT_NO_LENGTH_MAX))
    new_account_name: Mapped[str | None] = mapped_column(String(ACCOUNT_NAME_LENGTH_MAX))
    new_bank_name: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500))
    warnings: Mapped[str | None] = mapped_column(String(500))
    shared_with_household: Mapped[str | None] = mapped_column(String(32))
    fixed_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    fixed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    checked_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    check_note: Mapped[str | None] = mapped_column(String(500))
    __table_args__ = (
        CheckConstraint("source IN ('clerk','register')", name="source"),
        CheckConstraint("status = 'proposed' OR status = 'approved' OR status = 'rejected'", name="status"),
        # Four eyes, once more in the database: the maker of a fix never approves it, and a
        # clerk's fix made since 0060 (it has a reference) is approved only with a checker.
        CheckConstraint("status <> 'approved' OR checked_by IS NULL OR checked_by <> fixed_by", name="checker"),
        CheckConstraint(
            "status <> 'approved' OR source = 'register' OR fix_reference IS NULL OR checked_by IS NOT NULL",
            name="approved_by_checker",
        ),
        Index("ix_account_fixes_payee_id", "payee_id"),
        Index("ix_account_fixes_new_account_no", "new_account_no"),
    )


class PayoutCounterRow(Base):
    """The last number used for one kind of reference in one month (``payment`` 202610 → 123
    gives ``PAY-202610-000123``). Moved on inside the transaction that uses the numbers, so
    references are never reused and never random."""

    __tablename__ = "payout_counters"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[str] = mapped_column(String(6), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


NOTICE_DAYS_MIN = 1
NOTICE_DAYS_MAX = 60
OBJECTION_STATUSES = ("open", "dismissed")
REASON_LENGTH_MAX = 500


class NoticeRow(Base):
    """A run's roster publicly posted (公示) in one village from ``first_day`` to ``last_day``
    (both included). A batch is prepared from a run that needs notice only when every one of
    its notices has run its period (the last day is before the day of preparation) and none has
    an open objection. Written once by ``notice create``; a corrected run gets notices of its own."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"))
    village_code: Mapped[str] = mapped_column(String(12))
    village_name: Mapped[str | None] = mapped_column(String(100))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    household_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    hotline: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        UniqueConstraint("run_id", "village_code"),
        CheckConstraint("last_day >= first_day", name="period"),
        Index("ix_notices_run_id", "run_id"),
    )


class NoticeObjectionRow(Base):
    """An objection to one household's line of a notice (异议). While it is ``open`` the run's
    payables are not paid; a checker other than the notice's maker dismisses it with a reason,
    or the run is reversed and a corrected run is noticed again."""

    __tablename__ = "notice_objections"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    household_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH_MAX))
    status: Mapped[str] = mapped_column(String(10))
    raised_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    settled_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    settled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    settle_reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH_MAX))
    __table_args__ = (
        CheckConstraint("status = 'open' OR status = 'dismissed'", name="status"),
        CheckConstraint("status = 'open' OR settled_by IS NOT NULL", name="settled"),
        Index("ix_notice_objections_notice_id", "notice_id"),
    )


class PayableStopRow(Base):
    """A payable held back from every batch (停发) with a reason: prepare leaves it out while
    the stop is ``stopped``; only a checker other than the one who stopped it releases it."""

    __tablename__ = "payable_stops"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payable_id: Mapped[int] = mapped_column(ForeignKey("payables.id"))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH_MAX))
    status: Mapped[str] = mapped_column(String(10))
    stopped_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    stopped_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    released_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    release_reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH_MAX))
    __table_args__ = (
        CheckConstraint("status = 'stopped' OR status = 'released'", name="status"),
        # Four eyes in the database too: whoever stopped a line does not release it.
        CheckConstraint("released_by IS NULL OR released_by <> stopped_by", name="checker"),
        Index("ix_payable_stops_payable_id", "payable_id"),
    )


ELIGIBILITY_HOLD_KINDS = ("left_register", "death", "card_closed", "card_changed")
ELIGIBILITY_REASON_LENGTH_MAX = 1_000


class EligibilityHoldRow(Base):
    """A payable ``payout prepare`` left out because the register as of the day of preparation
    shows its recipient dead, gone from the register, or without the card the run gave it
    (issue #14 item 4). Its money was moved from the payable's account to 211.90 待决定款项 by
    the post of ``post_request_id`` to wait for a decision; the payable stays out of every
    batch. Written once, never changed."""

    __tablename__ = "eligibility_holds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payable_id: Mapped[int] = mapped_column(ForeignKey("payables.id"))
    kind: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(ELIGIBILITY_REASON_LENGTH_MAX))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    held_on: Mapped[dt.date] = mapped_column(Date)
    held_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    held_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    post_request_id: Mapped[int] = mapped_column(ForeignKey("post_requests.id"))
    __table_args__ = (
        CheckConstraint(
            "kind = 'left_register' OR kind = 'death' OR kind = 'card_closed' OR kind = 'card_changed'", name="kind"
        ),
        # A payable's money moves to 211.90 once.
        UniqueConstraint("payable_id"),
    )
