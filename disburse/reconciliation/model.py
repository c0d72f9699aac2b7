"""The records reconciliation takes and returns, kept in one module (no import cycles).

Reconciliation is a pure function ``(statement, book, instructions, settings) ->
ReconciliationResult`` (``reconciliation.matching.reconcile``), followed by
``reconciliation.adjusted_balance.adjusted_balance`` for the 银行存款余额调节表. Nothing here opens
a database or a file; the command layer reads the frames and stores the result.

Column tuples below are the contract with the command layer: every result frame has exactly
these columns, in this order, even when it has no rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from disburse.foundation.i18n import tr

# Input frames ---------------------------------------------------------------------------------
STATEMENT_COLUMNS = (
    "line_id",
    "booked_on",
    "txn_id",
    "summary",
    "memo",
    "counterparty_account",
    "counterparty_name",
    "amount_fen",
    "balance_fen",
)
BOOK_COLUMNS = (
    "book_id",
    "entry_date",
    "amount_fen",
    "payment_reference",
    "batch_reference",
    "counterparty_account",
    "counterparty_name",
    "memo",
)
INSTRUCTION_COLUMNS = (
    "payment_reference",
    "batch_reference",
    "account_no",
    "account_name",
    "amount_fen",
    "status",
    "settled_on",
)
INSTRUCTION_STATUSES = frozenset({"success", "failure", "pending"})

# Result frames --------------------------------------------------------------------------------
MATCH_COLUMNS = (
    "match_id",
    "rule",
    "score",
    "status",
    "statement_line_ids",
    "book_ids",
    "instruction_references",
    "amount_fen",
    "book_amount_fen",
    "difference_fen",
)
BANK_ONLY_COLUMNS = (
    "line_id",
    "booked_on",
    "amount_fen",
    "summary",
    "memo",
    "counterparty_account",
    "counterparty_name",
    "category",
)
BOOK_ONLY_COLUMNS = (
    "book_id",
    "entry_date",
    "amount_fen",
    "payment_reference",
    "batch_reference",
    "counterparty_account",
    "counterparty_name",
    "memo",
)
AMOUNT_MISMATCH_COLUMNS = (
    "match_id",
    "reference",
    "statement_line_ids",
    "book_ids",
    "statement_amount_fen",
    "book_amount_fen",
    "difference_fen",
)
DUPLICATE_COLUMNS = ("side", "item_id", "duplicate_key", "reason", "item_date", "amount_fen")
# One row per statement line / book item: where it ended up. Used by the adjusted balance (which
# needs dates to decide what was outstanding at the period end) and by the conservation checks.
STATEMENT_DISPOSITION_COLUMNS = ("line_id", "booked_on", "amount_fen", "match_id", "status")
BOOK_DISPOSITION_COLUMNS = ("book_id", "entry_date", "amount_fen", "match_id", "status")

RULES = (
    "confirmed",
    "reference",
    "amount_account",
    "batch_successful",
    "batch_control_total",
    "batch_refund",
    "many_to_one",
    "fuzzy_name",
    "amount_date",
    "post_unmatched",
)
MATCH_STATUSES = frozenset({"matched", "candidate", "confirmed"})
BANK_ONLY_CATEGORIES = frozenset({"fee", "interest", "unknown"})
DUPLICATE_REASONS = frozenset({"txn_id", "payment_reference", "same_date_amount_counterparty"})

# Limits ---------------------------------------------------------------------------------------
# Far above one bank account's lines in one period (a county special account pays at most a few
# hundred thousand households a month); anything larger is the wrong file or a runaway join.
STATEMENT_LINES_MAX = 5_000_000
BOOK_ITEMS_MAX = 5_000_000
INSTRUCTIONS_MAX = 5_000_000
# A date window past a month stops being "the same movement"; a tolerance above 10% or 10,000
# yuan stops being "nearly the same amount".
DATE_WINDOW_DAYS_MAX = 31
AMOUNT_TOLERANCE_BPS_MAX = 1_000
AMOUNT_TOLERANCE_FEN_MAX = 1_000_000


@dataclass(frozen=True, slots=True)
class PriorMatch:
    """A match a person confirmed in an earlier run: the ids it joined and the rule that found it.

    On a re-run it is applied first, before any strategy, as long as every id is still present and
    unused; its ``match_id`` is the same as before because the id is derived from these ids.
    """

    statement_line_ids: tuple[int, ...]
    book_ids: tuple[int, ...]
    rule: str = "confirmed"
    instruction_references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """How far matching may reach.

    - ``date_window_days``: a bank line and a book item match only if their dates are at most
      this many days apart (strategies 2–5; a reference match ignores dates).
    - ``refund_window_days``: how long after a batch debit a refund of a failed payment may come.
    - ``amount_tolerance_fen`` / ``amount_tolerance_bps``: for fuzzy candidates only, the amounts
      may differ by the larger of the two (a few yuan, or a share of the book amount).
    - ``name_similarity_min_percent``: the smallest counterparty-name similarity (0–100, see
      ``reconciliation.names``) for a fuzzy candidate.
    - ``many_to_one_lines_max`` / ``many_to_one_candidates_max``: the bound of strategy 4: at
      most this many bank lines per book item, chosen among at most this many nearest lines.
    - ``confirmed``: matches confirmed by a person in earlier runs (kept on a re-run).
    - ``rejected_match_ids``: match ids a person rejected; they are never proposed again.
    """

    date_window_days: int = 3
    refund_window_days: int = 30
    amount_tolerance_fen: int = 500
    amount_tolerance_bps: int = 50
    name_similarity_min_percent: int = 50
    many_to_one_lines_max: int = 4
    many_to_one_candidates_max: int = 12
    confirmed: tuple[PriorMatch, ...] = ()
    rejected_match_ids: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 0 <= self.date_window_days <= DATE_WINDOW_DAYS_MAX:
            raise ValueError(
                tr(
                    "date window {days} days is outside 0..{days_max}",
                    days=self.date_window_days,
                    days_max=DATE_WINDOW_DAYS_MAX,
                )
            )
        if not 0 <= self.refund_window_days <= 4 * DATE_WINDOW_DAYS_MAX:
            raise ValueError(
                tr(
                    "refund window {days} days is outside 0..{days_max}",
                    days=self.refund_window_days,
                    days_max=4 * DATE_WINDOW_DAYS_MAX,
                )
            )
        if not 0 <= self.amount_tolerance_fen <= AMOUNT_TOLERANCE_FEN_MAX:
            raise ValueError(
                tr(
                    "amount tolerance {fen} fen is outside 0..{fen_max}",
                    fen=self.amount_tolerance_fen,
                    fen_max=AMOUNT_TOLERANCE_FEN_MAX,
                )
            )
        if not 0 <= self.amount_tolerance_bps <= AMOUNT_TOLERANCE_BPS_MAX:
            raise ValueError(
                tr(
                    "amount tolerance {bps} bps is outside 0..{bps_max}",
                    bps=self.amount_tolerance_bps,
                    bps_max=AMOUNT_TOLERANCE_BPS_MAX,
                )
            )
        if not 0 <= self.name_similarity_min_percent <= 100:
            raise ValueError(
                tr("name similarity {percent}% is outside 0..100", percent=self.name_similarity_min_percent)
            )
        # The search of strategy 4 tries every combination of up to ``many_to_one_lines_max``
        # lines among ``many_to_one_candidates_max``: C(16, 4) = 1820 sums per book item is the
        # most we allow, so one odd account cannot stall a run.
        if not 2 <= self.many_to_one_lines_max <= 4:
            raise ValueError(tr("many-to-one lines {lines} is outside 2..4", lines=self.many_to_one_lines_max))
        if not 2 <= self.many_to_one_candidates_max <= 16:
            raise ValueError(
                tr("many-to-one candidates {candidates} is outside 2..16", candidates=self.many_to_one_candidates_max)
            )


@dataclass(frozen=True, slots=True, eq=False)
class ReconciliationResult:
    """What matching found (see the column tuples above for each frame's columns).

    - ``matches``: one row per match; ``amount_fen`` is the bank side's sum, ``book_amount_fen``
      the book side's, ``difference_fen`` = bank − book.
    - ``bank_only``: statement lines in no match (银行已收/已付、企业未收/未付), with a guessed category.
    - ``book_only``: book items in no match (企业已收/已付、银行未收/未付).
    - ``amount_mismatches``: matches made on a reference whose two sides differ in amount.
    - ``duplicates``: items that look recorded twice, on either side (informational: they are
      still matched or left over like any other item).
    - ``statement_dispositions`` / ``book_dispositions``: every input item once, with the match it
      is in (or None) and its status (matched, confirmed, candidate, bank_only / book_only).
    - ``confirmations_not_applied``: confirmed matches from earlier runs whose ids are no longer
      all present (or were claimed by another confirmation), by match id.
    """

    matches: pd.DataFrame
    bank_only: pd.DataFrame
    book_only: pd.DataFrame
    amount_mismatches: pd.DataFrame
    duplicates: pd.DataFrame
    statement_dispositions: pd.DataFrame
    book_dispositions: pd.DataFrame
    confirmations_not_applied: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class AdjustedBalance:
    """The 银行存款余额调节表 for one bank account at one date.

    book side:  ``book_balance_fen`` + 银行已收、企业未收 − 银行已付、企业未付 = ``adjusted_book_balance_fen``
    bank side:  ``bank_balance_fen`` + 企业已收、银行未收 − 企业已付、银行未付 = ``adjusted_bank_balance_fen``

    The four ``*_fen`` totals are positive amounts; each has an item frame (columns
    ``ITEM_COLUMNS`` of ``reconciliation.adjusted_balance``) with positive ``amount_fen``.

    待确认: ``pending`` lists the lines and items of the ``pending_match_count`` candidate
    matches nobody has confirmed or rejected yet (columns ``PENDING_COLUMNS``, signed amounts);
    they are in none of the four columns (each half is already in its own side's balance), and
    ``pending_statement_fen`` / ``pending_book_fen`` are their signed sums.

    ``difference_fen`` = adjusted book − adjusted bank = ``explained_fen`` (settled matches
    joining different amounts) + ``pending_difference_fen`` (pending candidates joining
    different amounts: book − bank) + ``unexplained_fen`` (the rest); when it is not 0,
    ``causes`` names each part and any duplicates.
    """

    book_balance_fen: int
    bank_balance_fen: int
    bank_received_book_not_fen: int
    bank_paid_book_not_fen: int
    book_received_bank_not_fen: int
    book_paid_bank_not_fen: int
    adjusted_book_balance_fen: int
    adjusted_bank_balance_fen: int
    difference_fen: int
    explained_fen: int
    unexplained_fen: int
    bank_received_book_not: pd.DataFrame
    bank_paid_book_not: pd.DataFrame
    book_received_bank_not: pd.DataFrame
    book_paid_bank_not: pd.DataFrame
    causes: pd.DataFrame
    pending: pd.DataFrame
    pending_match_count: int
    pending_statement_fen: int
    pending_book_fen: int
    pending_difference_fen: int

    @property
    def agrees(self) -> bool:
        """True when the two adjusted balances are equal to the fen."""
        return self.difference_fen == 0
