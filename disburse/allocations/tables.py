"""Storage of allocation runs: the exact rule text, the inputs' hash, every line, exclusion and
step, and the run's way through calculated → approved → posted (or cancelled, or superseded).

A run is a workflow record: its status moves on; its lines never change once calculated. A
posted run is corrected by reversing it (``reversed``: its entries reversed, its unpaid
payables withdrawn, its settlement rows freed) and calculating a corrected run that names it in
``supersedes_run_id``, or, for a dividend or subsidy, by a new run that posts the difference
(the old one becomes ``superseded``).
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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables these refer to by foreign key, so that any process that loads this module can
# resolve every key (issue #11 item 1: a process that never imported them crashed on insert).
import disburse.ledger.tables  # noqa: F401
import disburse.registry.tables  # noqa: F401
from disburse.foundation.orm import Base, BigId, utc_now

RUN_STATUSES = ("calculated", "approved", "posted", "cancelled", "superseded", "reversed")
REVIEW_ACTIONS = ("approved", "returned")


class AllocationRunRow(Base):
    """One computation of a rule for a period over given inputs."""

    __tablename__ = "allocation_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_kind: Mapped[str] = mapped_column(String(32))
    rule_name: Mapped[str] = mapped_column(String(200))
    rule_subject: Mapped[str] = mapped_column(String(64))  # station, cooperative or programme
    rule_text: Mapped[str] = mapped_column(Text)
    rule_sha256: Mapped[str] = mapped_column(String(64))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    inputs_description: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(7))
    paying_entity_code: Mapped[str] = mapped_column(String(32))
    fund_source: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    pool_fen: Mapped[int] = mapped_column(BigInteger)
    payable_fen: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    exclusion_count: Mapped[int] = mapped_column(Integer)
    summary_json: Mapped[str] = mapped_column(Text)
    supersedes_run_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_runs.id"))
    calculated_by: Mapped[str] = mapped_column(String(64))
    calculated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    posted_by: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    post_request_id: Mapped[int | None] = mapped_column(ForeignKey("post_requests.id"))
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Sentences about defaults the run took or inputs it left out (JSON list of text).
    notes_json: Mapped[str | None] = mapped_column(Text)
    reversed_by: Mapped[str | None] = mapped_column(String(64))
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    # What the reversal withdrew and freed (payables, their payment history, settlement rows), JSON.
    reversal_json: Mapped[str | None] = mapped_column(Text)
    reversal_post_request_id: Mapped[int | None] = mapped_column(ForeignKey("post_requests.id"))
    __table_args__ = (Index("ix_allocation_runs_subject_period", "rule_kind", "rule_subject", "period"),)


class AllocationLineRow(Base):
    """One line of a run: a payee, a component, the accounts, the amount and why."""

    __tablename__ = "allocation_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[str | None] = mapped_column(String(32))
    village_code: Mapped[str | None] = mapped_column(String(12))
    component: Mapped[str] = mapped_column(String(40))
    account_code: Mapped[str] = mapped_column(String(32))
    debit_account_code: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(Text)
    # Exact share as a fraction; text because a denominator may outgrow 64 bits.
    share_numerator: Mapped[str | None] = mapped_column(String(40))
    share_denominator: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    account_no: Mapped[str | None] = mapped_column(String(40))
    account_name: Mapped[str | None] = mapped_column(String(100))
    source_reference: Mapped[str | None] = mapped_column(String(64))  # e.g. the settlement it came from
    # The person a person-level benefit is for (享受人), whoever is paid; None for a household line.
    beneficiary_id: Mapped[str | None] = mapped_column(String(18))
    # Whose card the line is paid into (person_card 本人社保卡, household_card 户卡, collective
    # 集体账户; None for a line not paid through a bank), the beneficiary's name (the person's,
    # or the head's for a household) and the head of household's (0114).
    card_kind: Mapped[str | None] = mapped_column(String(16))
    beneficiary_name: Mapped[str | None] = mapped_column(String(100))
    head_name: Mapped[str | None] = mapped_column(String(100))
    # The figures `runs explain` retells (None where a line kind has no such step).
    share_pool_fen: Mapped[int | None] = mapped_column(BigInteger)  # the amount the share is of
    units_e4: Mapped[int | None] = mapped_column(BigInteger)
    principal_fen: Mapped[int | None] = mapped_column(BigInteger)
    active_days: Mapped[int | None] = mapped_column(Integer)
    floor_fen: Mapped[int | None] = mapped_column(BigInteger)
    pro_rata_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    owed_fen: Mapped[int | None] = mapped_column(BigInteger)
    unpaid_fen: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (
        UniqueConstraint("run_id", "line_number"),
        Index(
            "ix_allocation_lines_household_id",
            "household_id",
            sqlite_where=text("household_id IS NOT NULL"),
            postgresql_where=text("household_id IS NOT NULL"),
        ),
    )


class AllocationExclusionRow(Base):
    """A household or person a run left out, and why."""

    __tablename__ = "allocation_exclusions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"), index=True)
    household_id: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(18))
    reason: Mapped[str] = mapped_column(Text)


class AllocationStepRow(Base):
    """A pool-level step of a run, in order (for `runs explain`)."""

    __tablename__ = "allocation_steps"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    component: Mapped[str | None] = mapped_column(String(40))
    source_reference: Mapped[str | None] = mapped_column(String(64))  # the settlement row of a PV step


class SettlementAllocationRow(Base):
    """A PV settlement row taken by a posted run; the primary key makes that happen once."""

    __tablename__ = "settlement_allocations"
    settlement_id: Mapped[int] = mapped_column(ForeignKey("pv_settlements.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"))
    allocated_on: Mapped[dt.date] = mapped_column(Date)


class AllocationReviewRow(Base):
    """One level's action on a run in its review chain (allocations.review_chain): approved, or
    returned with a comment. Append-only. A level acts once per run and an account acts at one
    level of a run: both are unique keys, so two people approving at once cannot both pass."""

    __tablename__ = "allocation_reviews"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"), index=True)
    level_position: Mapped[int] = mapped_column(Integer)  # 1 for the chain's first level
    level: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(10))
    acted_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    # The run's payable total when the level acted: the figure its threshold was compared with.
    payable_fen: Mapped[int] = mapped_column(BigInteger)
    acted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        UniqueConstraint("run_id", "level_position"),
        UniqueConstraint("run_id", "acted_by"),
        CheckConstraint("action = 'approved' OR action = 'returned'", name="action"),
        CheckConstraint("action = 'approved' OR comment <> ''", name="returned_with_comment"),
        CheckConstraint("level_position >= 1", name="level_position"),
    )


# --- budget indicators (资金指标) --------------------------------------------------------------
FUND_LEVELS = ("中央", "省", "市", "县")
# draw: a posted run takes money from the indicator (negative for a difference run that posts
# less); undraw: a reversed run gives its draw back; freeze: a prepared batch holds its payables'
# amount; pay: the bank's success; release: a bank failure or a cancelled batch lets go of what was
# frozen (退款; the payable is owed again); return: money sent back upstream (退回).
FUND_MOVEMENT_KINDS = ("draw", "undraw", "freeze", "pay", "release", "return")
DOCUMENT_NUMBER_LENGTH_MAX = 64


class BudgetIndicatorRow(Base):
    """A budget indicator (资金指标) as issued: its document number (指标文号), what it is, how
    much was issued. Never changed: what happens to its money is in ``fund_movements``."""

    __tablename__ = "budget_indicators"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_number: Mapped[str] = mapped_column(String(DOCUMENT_NUMBER_LENGTH_MAX), unique=True)
    fund_name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(4))
    nature: Mapped[str] = mapped_column(String(100))
    budget_line: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    issued_fen: Mapped[int] = mapped_column(BigInteger)
    # The programmes it may pay (subsidy programme keys or rule names), as a JSON list.
    programmes_json: Mapped[str] = mapped_column(Text)
    source_file: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    source_row: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        CheckConstraint("issued_fen > 0", name="positive"),
        CheckConstraint("level = '中央' OR level = '省' OR level = '市' OR level = '县'", name="level"),
    )


class FundMovementRow(Base):
    """One movement of an indicator's money (kinds: FUND_MOVEMENT_KINDS), append-only. The
    batch and return file are the payouts stage's (no foreign key: this stage sits below it)."""

    __tablename__ = "fund_movements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("budget_indicators.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_runs.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    return_file_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        CheckConstraint(
            "kind = 'draw' OR kind = 'undraw' OR kind = 'freeze' OR kind = 'pay' OR kind = 'release' "
            "OR kind = 'return'",
            name="kind",
        ),
        CheckConstraint("amount_fen <> 0", name="nonzero"),
    )
