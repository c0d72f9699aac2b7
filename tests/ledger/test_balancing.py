"""The one balancing function, without a database."""

import numpy as np
from ledger_builders import batch, draft

from disburse.ledger.model import EntryBatch, entries_check_balanced


def test_balanced_entries_pass() -> None:
    _, errors = entries_check_balanced(batch(draft(("102", 100000), ("501", -100000))))
    assert errors == []


def test_unbalanced_entry_shows_the_arithmetic() -> None:
    unbalanced = draft(("102", 100000), ("501", -99999), label="记-0003")
    _, errors = entries_check_balanced(batch(draft(("102", 5), ("501", -5)), unbalanced))
    assert len(errors) == 1
    assert str(errors[0]) == "entry 2 (记-0003): postings sum to 0.01, not 0: 1,000.00 + -999.99"
    assert errors[0].entry == 1


def test_one_posting_and_zero_postings_are_refused() -> None:
    _, errors = entries_check_balanced(batch(draft(("102", 0), ("501", 0)), draft(("102", 7))))
    messages = [error.message for error in errors]
    assert "postings are never zero" in messages[0]
    assert "has 1 posting(s)" in messages[1]


def test_many_entries_checked_at_once() -> None:
    count = 100_000
    amounts = np.tile(np.array([300, -100, -200], dtype=np.int64), count)
    amounts[-1] = -199  # only the last entry is off, by one fen
    columns = EntryBatch(
        entity_code=["COUNTY"] * count,
        period=["2026-10"] * count,
        entry_date=[None] * count,  # type: ignore[list-item]
        memo=[""] * count,
        source_kind=[""] * count,
        source_reference=[""] * count,
        reverses_entry_id=[None] * count,
        label=[""] * count,
        posting_entry_index=np.repeat(np.arange(count, dtype=np.int64), 3),
        account_code=["102", "211", "211"] * count,
        amount_fen=amounts,
        household_id=[None] * (3 * count),
        fund_source=[None] * (3 * count),
        payment_reference=[None] * (3 * count),
    )
    _, errors = entries_check_balanced(columns)
    assert [error.entry for error in errors] == [count - 1]
    assert "postings sum to 0.01, not 0: 3.00 + -1.00 + -1.99" in errors[0].message
