"""Storage of reconciliation: imported bank statements and their lines, reconciliation runs, the
matches they found (with what each joins), and the entries post-unmatched wrote for bank-only
lines.

Statement lines are facts from the bank: written once, never updated. A line is known by its
``dedupe_key`` within its bank account (the bank's transaction number, or when the bank gives
none, date + time + amount + balance + counterparty), so importing the same or an overlapping
statement again adds only the lines not seen before.

Matches are workflow records: an undecided match (``matched`` or ``candidate``) is replaced by
the next run of its period; a decided one (``confirmed`` or ``rejected``, with who and when)
is never removed, and every later run honours it.
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables these refer to by foreign key, so that any process that loads this module can
# resolve every key (issue #11 item 1: a process that never imported them crashed on insert).
import disburse.ledger.tables  # noqa: F401
import disburse.payouts.tables  # noqa: F401
from disburse.foundation.actors import USER_LENGTH_MAX
from disburse.foundation.orm import HASH_LENGTH, Base, BigId, utc_now

MATCH_ID_LENGTH = 17  # "M" + 16 hex digits (reconciliation.match_ids)
MATCH_STORED_STATUSES = ("matched", "candidate", "confirmed", "rejected")
PROFILE_NAME_LENGTH_MAX = 40
DEDUPE_KEY_LENGTH_MAX = 300
TXN_ID_LENGTH_MAX = 64
SUMMARY_LENGTH_MAX = 200
COUNTERPARTY_ACCOUNT_LENGTH_MAX = 64
COUNTERPARTY_NAME_LENGTH_MAX = 200
MEMO_LENGTH_MAX = 500
RULE_LENGTH_MAX = 32
PAYMENT_REFERENCE_LENGTH_MAX = 40


class StatementImportRow(Base):
    """One statement file imported into one bank account, known by the SHA-256 of its bytes:
    the profile used, how many lines it had, how many were new and how many already known."""

    __tablename__ = "statement_imports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    profile: Mapped[str] = mapped_column(String(PROFILE_NAME_LENGTH_MAX))
    encoding: Mapped[str | None] = mapped_column(String(40))
    line_count: Mapped[int] = mapped_column(Integer)
    added_count: Mapped[int] = mapped_column(Integer)
    known_count: Mapped[int] = mapped_column(Integer)
    warning_count: Mapped[int] = mapped_column(Integer)
    first_booked_on: Mapped[dt.date | None] = mapped_column(Date)
    last_booked_on: Mapped[dt.date | None] = mapped_column(Date)
    imported_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (UniqueConstraint("bank_account_id", "file_sha256"),)


class StatementLineRow(Base):
    """One line of a bank statement (+ money into our account, − money out). ``line_number`` is
    the line's place in its file once put in date order, which keeps the bank's order within a
    day (the running balance follows it)."""

    __tablename__ = "statement_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    import_id: Mapped[int] = mapped_column(ForeignKey("statement_imports.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    source_row: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[dt.date] = mapped_column(Date)
    booked_time: Mapped[str | None] = mapped_column(String(8))
    txn_id: Mapped[str | None] = mapped_column(String(TXN_ID_LENGTH_MAX))
    summary: Mapped[str | None] = mapped_column(String(SUMMARY_LENGTH_MAX))
    counterparty_account: Mapped[str | None] = mapped_column(String(COUNTERPARTY_ACCOUNT_LENGTH_MAX))
    counterparty_name: Mapped[str | None] = mapped_column(String(COUNTERPARTY_NAME_LENGTH_MAX))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    memo: Mapped[str | None] = mapped_column(String(MEMO_LENGTH_MAX))
    dedupe_key: Mapped[str] = mapped_column(String(DEDUPE_KEY_LENGTH_MAX))
    __table_args__ = (
        UniqueConstraint("bank_account_id", "dedupe_key"),
        Index("ix_statement_lines_bank_account_id_booked_on", "bank_account_id", "booked_on"),
    )


class ReconciliationRunRow(Base):
    """One run of ``disburse reconcile`` for one bank account and period: what it counted and
    the 银行存款余额调节表 figures at the period end (None when the statement gives no balance)."""

    __tablename__ = "reconciliation_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    period: Mapped[str] = mapped_column(String(7))
    run_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    run_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    statement_line_count: Mapped[int] = mapped_column(Integer)
    book_item_count: Mapped[int] = mapped_column(Integer)
    instruction_count: Mapped[int] = mapped_column(Integer)
    matched_count: Mapped[int] = mapped_column(Integer)
    candidate_count: Mapped[int] = mapped_column(Integer)
    confirmed_count: Mapped[int] = mapped_column(Integer)
    bank_only_count: Mapped[int] = mapped_column(Integer)
    book_only_count: Mapped[int] = mapped_column(Integer)
    mismatch_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    book_balance_fen: Mapped[int] = mapped_column(BigInteger)
    bank_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    adjusted_book_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    adjusted_bank_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    difference_fen: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_reconciliation_runs_bank_account_id_period", "bank_account_id", "period"),)


# Written out rather than as ``status IN (...)``: SQLite evaluates an IN list of more than two
# values through a temporary lookup table it builds again for every row inserted, which made a
# CHECK in that form cost 1.6 s of a million-match run; the comparisons cost nothing measurable.
MATCH_STATUS_CHECK = " OR ".join(f"status = '{status}'" for status in MATCH_STORED_STATUSES)
# The matches a person decided, the only ones every run looks up by status across periods.
MATCH_DECIDED_WHERE = "status = 'confirmed' OR status = 'rejected'"


class MatchRow(Base):
    """A match of one bank account's period: the rule that found it, its score, its status, the
    two sides' sums (bank − book = ``difference_fen``) and, once a person decides, who and when.

    What it joins: a match of one statement line and one book item (almost all of them) holds
    the line, the posting or payment instruction, and the payment reference it accounts for (if
    any) in its own row; any other match (several lines or items, or none on the book side)
    holds them in the link tables below, and its own four columns are empty. Readers take both.
    A one-to-one match thus costs one row and two index entries instead of three rows and seven
    index entries, which were most of the time of a first run of a million matches.

    Indexes: the match id (unique per account and period; ``decide`` looks a match up by its id
    in every period), the account and period (a run reads its period's matches, in the order
    they were stored, which is the order of the table), and the decided matches of an account
    (every run reads them, across periods; a partial index, so the million undecided rows of a
    run never enter it). Each index costs about half a second of a million-match run, the one
    on the match id more (its keys arrive in random order). The inline link columns have no
    index: nothing looks a match up by its line or posting, and statement lines, postings and
    payment instructions are never deleted, so no foreign-key check needs one."""

    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    match_id: Mapped[str] = mapped_column(String(MATCH_ID_LENGTH))
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    period: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"))
    rule: Mapped[str] = mapped_column(String(RULE_LENGTH_MAX))
    score: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    book_amount_fen: Mapped[int] = mapped_column(BigInteger)
    difference_fen: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    statement_line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"))
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("postings.id"))
    instruction_id: Mapped[int | None] = mapped_column(ForeignKey("payment_instructions.id"))
    payment_reference: Mapped[str | None] = mapped_column(String(PAYMENT_REFERENCE_LENGTH_MAX))
    __table_args__ = (
        CheckConstraint(MATCH_STATUS_CHECK, name="status"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score"),
        # Inline links are one line and exactly one book item (a posting or an instruction),
        # or nothing at all (the links are then in the link tables).
        CheckConstraint(
            "(statement_line_id IS NULL AND posting_id IS NULL AND instruction_id IS NULL "
            "AND payment_reference IS NULL) OR (statement_line_id IS NOT NULL "
            "AND (posting_id IS NULL) <> (instruction_id IS NULL))",
            name="inline_links",
        ),
        UniqueConstraint("match_id", "bank_account_id", "period"),
        Index("ix_matches_bank_account_id_period", "bank_account_id", "period"),
        Index(
            "ix_matches_bank_account_id_decided",
            "bank_account_id",
            sqlite_where=text(MATCH_DECIDED_WHERE),
            postgresql_where=text(MATCH_DECIDED_WHERE),
        ),
    )


class MatchStatementLineRow(Base):
    """A statement line joined by a match that does not hold its links itself (see MatchRow)."""

    __tablename__ = "match_statement_lines"
    match_row_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True)
    statement_line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), primary_key=True)
    __table_args__ = (Index("ix_match_statement_lines_statement_line_id", "statement_line_id"),)


class MatchPostingRow(Base):
    """A posting on the bank's 102.xx sub-account joined by a match that does not hold its links
    itself (see MatchRow)."""

    __tablename__ = "match_postings"
    match_row_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id"), primary_key=True)
    __table_args__ = (Index("ix_match_postings_posting_id", "posting_id"),)


class MatchInstructionRow(Base):
    """A successful payment instruction joined by a match. A bank return posts one total on the
    102.xx sub-account for all the payments it confirms; reconciliation takes that total apart
    into its payments (the bank shows them as one line per payee or one line per batch), so a
    match joins the payments, and through their return file the posting."""

    __tablename__ = "match_instructions"
    match_row_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("payment_instructions.id"), primary_key=True)
    __table_args__ = (Index("ix_match_instructions_instruction_id", "instruction_id"),)


class MatchPaymentReferenceRow(Base):
    """A payment instruction (by its reference) a match accounts for, for a match that does not
    hold its links itself (see MatchRow)."""

    __tablename__ = "match_payment_references"
    match_row_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True)
    payment_reference: Mapped[str] = mapped_column(String(PAYMENT_REFERENCE_LENGTH_MAX), primary_key=True)


class UnmatchedPostingRow(Base):
    """The entry post-unmatched wrote for a bank-only statement line (each line once), the
    posting of that entry on the bank's 102.xx sub-account, and the rule that decided it."""

    __tablename__ = "unmatched_postings"
    statement_line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id"), unique=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    rules_sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    posted_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
