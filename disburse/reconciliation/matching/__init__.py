"""Statement matching: bank lines against book items and payment instructions.

``reconcile(statement, book, instructions, settings)`` is a pure function over frames (columns in
``reconciliation.model``). It first re-applies the matches a person confirmed earlier
(``confirmed``), then tries the strategies in order, each only on what is still unmatched and
each in a module of its own; every match is exclusive (no statement line and no book item is
used twice) and records its rule and a score 0–100:

1. ``reference`` (``by_reference``): a payment or batch reference the bank echoed;
2. ``amount_account`` (``by_amount_account``): equal amount and counterparty account;
3. ``batch_successful`` / ``batch_control_total`` / ``batch_refund`` (``by_batch``): one debit
   line for a whole batch, with refunds of its failures;
4. ``many_to_one`` (``many_to_one``): several lines summing to one book item;
5. ``fuzzy_name`` (``fuzzy``), then ``amount_date`` (``by_amount_date``): candidates only, for a
   person to confirm.

The strategies share one scratch state (``state.MatchState``: which lines and items are used,
the matches so far) and one result builder (``result``). Lines and items left over are
``bank_only`` (with a guessed category) and ``book_only``. Duplicates on either side are listed
(``duplicates``) but matched like any other item.
"""

from __future__ import annotations

import pandas as pd

from disburse.reconciliation.match_ids import match_hash, match_id_of
from disburse.reconciliation.matching.by_amount_account import match_amount_account
from disburse.reconciliation.matching.by_amount_date import match_amount_date
from disburse.reconciliation.matching.by_batch import batches_of, match_batches
from disburse.reconciliation.matching.by_reference import match_batch_references, match_payment_references
from disburse.reconciliation.matching.confirmed import apply_confirmed
from disburse.reconciliation.matching.fuzzy import match_fuzzy
from disburse.reconciliation.matching.many_to_one import match_many_to_one
from disburse.reconciliation.matching.result import result_of
from disburse.reconciliation.matching.state import BATCH_REFERENCE_PATTERN, PAYMENT_REFERENCE_PATTERN, MatchState
from disburse.reconciliation.model import (
    BOOK_COLUMNS,
    BOOK_ITEMS_MAX,
    INSTRUCTION_COLUMNS,
    INSTRUCTION_STATUSES,
    INSTRUCTIONS_MAX,
    STATEMENT_COLUMNS,
    STATEMENT_LINES_MAX,
    MatchSettings,
    ReconciliationResult,
)

# The strategies after the confirmations, in the order they run (each sees only what the
# earlier ones left free).
STRATEGIES = (
    match_payment_references,
    match_batch_references,
    match_amount_account,
    match_batches,
    match_many_to_one,
    match_fuzzy,
    match_amount_date,
)


def _frame_checked(frame: pd.DataFrame, columns: tuple[str, ...], name: str, rows_max: int) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks columns {missing}; it has {list(frame.columns)}")
    if len(frame) > rows_max:
        raise ValueError(f"{name} frame has {len(frame):,} rows, more than the limit {rows_max:,}")
    amounts = frame["amount_fen"]
    if not pd.api.types.is_integer_dtype(amounts.dtype) or amounts.isna().any():
        raise ValueError(f"{name}.amount_fen must be integer fen without blanks, not {amounts.dtype}")


def _sorted_checked(
    frame: pd.DataFrame, columns: tuple[str, ...], id_column: str, date_column: str, name: str, rows_max: int
) -> pd.DataFrame:
    _frame_checked(frame, columns, name, rows_max)
    if frame[date_column].isna().any():
        raise ValueError(f"{name}.{date_column} must be a date on every row")
    ids = frame[id_column]
    if ids.is_monotonic_increasing and not (ids.to_numpy()[1:] == ids.to_numpy()[:-1]).any():
        # Already in id order without repeats (the books as read): nothing to sort or hash.
        return frame.reset_index(drop=True)
    if not ids.is_unique:
        duplicated = frame.loc[ids.duplicated(), id_column].head(5).tolist()
        raise ValueError(f"{name}.{id_column} must be unique; repeated: {duplicated}")
    return frame.sort_values(id_column, kind="stable").reset_index(drop=True)


def reconcile(
    statement: pd.DataFrame, book: pd.DataFrame, instructions: pd.DataFrame, settings: MatchSettings | None = None
) -> ReconciliationResult:
    """Match one bank account's statement lines to its book items and our payment instructions.

    ``statement`` has ``STATEMENT_COLUMNS``, ``book`` has ``BOOK_COLUMNS`` and ``instructions``
    has ``INSTRUCTION_COLUMNS`` (``reconciliation.model``); amounts are signed int64 fen from our
    account's point of view (+ money in). Returns a ``ReconciliationResult``: every statement line
    is in exactly one of matches (matched, confirmed or candidate) and bank_only, every book item
    in exactly one of matches and book_only. The same inputs and settings always give the same
    matches with the same ids. Raises ValueError for frames that break the contract.
    """
    settings = settings or MatchSettings()
    statement = _sorted_checked(statement, STATEMENT_COLUMNS, "line_id", "booked_on", "statement", STATEMENT_LINES_MAX)
    book = _sorted_checked(book, BOOK_COLUMNS, "book_id", "entry_date", "book", BOOK_ITEMS_MAX)
    _frame_checked(instructions, INSTRUCTION_COLUMNS, "instructions", INSTRUCTIONS_MAX)
    if not instructions["payment_reference"].is_unique:
        raise ValueError("instructions.payment_reference must be unique")
    unknown = set(instructions["status"].unique().tolist()) - INSTRUCTION_STATUSES
    if unknown:
        raise ValueError(f"instructions.status has values {sorted(unknown)}; allowed: {sorted(INSTRUCTION_STATUSES)}")
    if (instructions["amount_fen"] <= 0).any():
        raise ValueError("instructions.amount_fen must be positive (money out)")

    state = MatchState(statement, book, instructions, settings)
    state.batches = batches_of(state)
    not_applied = apply_confirmed(state)
    for strategy in STRATEGIES:
        strategy(state)
    return result_of(state, not_applied)


__all__ = ["reconcile", "match_id_of", "match_hash", "PAYMENT_REFERENCE_PATTERN", "BATCH_REFERENCE_PATTERN"]
